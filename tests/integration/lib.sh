# lib.sh - shared helpers of refgate's integration scenarios (bash).
# A scenario sources this file, calls rg_setup (fresh deployment, daemon
# started), drives it, and ends with `finish`, which prints
# "N passed, N failed" (tests/run-all.sh parses that line).
#
#   BIN       folder holding refgate and refgatectl (default: build),
#             relative to the repository root or absolute
#   RG_NM     node_modules folder with jose@5 (default /tmp/rg-test-node/
#             node_modules, installed on first use)
#   RG_LOGDIR where to copy the scenario's logs when something failed
#             (default: $BIN/test-logs)
#   RG_DB     sqlite (default) or pg: the deployment's database is then a
#             throwaway PostgreSQL 15 of the scenario's own
#             (helpers/pg.sh), made by `refgatectl init --database`
#
# Everything listens on 127.0.0.1 only, on a random free port; every loop
# is bounded; the EXIT trap stops the daemon and removes the temp folder.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ITDIR=$ROOT/tests/integration
BIN=${BIN:-build}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
RG_NODE_CACHE=${RG_NODE_CACHE:-/tmp/rg-test-node}
export RG_NM=${RG_NM:-$RG_NODE_CACHE/node_modules}
# Debian 12's Node.js is 18: it resolves localhost to ::1 first and, unlike
# Node 20, does not fall back to 127.0.0.1, where the gateway listens.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--dns-result-order=ipv4first"
# playwright-core 1.62 and later refuse Node 18; 1.61 drives Debian's
# chromium and presents client certificates.
RG_PLAYWRIGHT=playwright-core@1.61.1
SCENARIO=$(basename "$0" .sh)
RG_LOGDIR=${RG_LOGDIR:-$BIN/test-logs}
RG_DB=${RG_DB:-sqlite}
case $RG_DB in
sqlite) ;;
pg) . "$ITDIR/helpers/pg.sh" ;;
*) echo "lib.sh: RG_DB must be sqlite or pg" >&2; exit 2 ;;
esac

T=$(mktemp -d "/tmp/rgit-$SCENARIO.XXXXXX")
PASS=0
FAIL=0
PID=            # the daemon
PORT=
D=              # the deployment folder
U=              # https://localhost:PORT
CODE=           # status of the last req (000: no HTTP answer)
CURLRC=         # curl's exit status of the last req
BODY=$T/body    # body of the last req
HDR=$T/hdr      # headers of the last req
BGPIDS=""       # background jobs to reap on exit
DAEMON_STARTS=0

# ---- assertions ---------------------------------------------------------

ok()    { PASS=$((PASS + 1)); echo "ok - $1"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok - $1${2:+: $2}"; }
# check NAME COMMAND...: ok when the command succeeds.
check() { local n=$1; shift; if "$@"; then ok "$n"; else notok "$n" "failed: $*"; fi; }
# eq NAME EXPECTED ACTUAL
eq() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "expected '$2', got '$3'"; fi; }
ne() { if [ "$2" != "$3" ]; then ok "$1"; else notok "$1" "expected something other than '$2'"; fi; }
# what the last answer was, for failure details
last() { printf 'HTTP %s %s' "$CODE" "$(head -c 300 "$BODY" 2>/dev/null | tr '\n' ' ')"; }

# expect NAME STATUS: the last req answered STATUS.
expect() { if [ "$CODE" = "$2" ]; then ok "$1"; else notok "$1" "expected $2, got $(last)"; fi; }

# problem_ok STATUS CODE: the last answer is STATUS, problem+json, with code.
problem_ok() {
	[ "$CODE" = "$1" ] || return 1
	grep -qi '^content-type: *application/problem+json' "$HDR" || return 1
	[ "$(jget "$BODY" .code)" = "$2" ]
}
# expect_problem NAME STATUS CODE
expect_problem() {
	if problem_ok "$2" "$3"; then ok "$1"
	else notok "$1" "expected $2 $3 (problem+json), got $(last) [$(grep -i '^content-type' "$HDR" 2>/dev/null | tr -d '\r')]"; fi
}
# expect_refused NAME: the last request was refused by the server: either a
# 401 problem+json unauthenticated, or no HTTP answer because the server
# ended the handshake with a TLS alert (curl 35 or 56 and its error names
# the alert) or closed the connection without answering (curl 52; curl
# 55 "getpeername() failed with errno 107" when the reset came before curl
# asked for the peer's address, right after connecting). A local
# client error (curl could not read a certificate or key, could not
# connect, ...) is not a refusal and fails.
expect_refused() {
	case $CODE in
	000)
		if [ "$CURLRC" = 52 ]; then ok "$1"   # the server closed the connection without an answer
		elif [ "$CURLRC" = 55 ] && grep -q 'getpeername() failed with errno 107' "$T/curl.err"; then
			ok "$1"   # the server ended the handshake and reset the connection before curl looked at it (seen under ASan)
		elif [ "$CURLRC" = 35 ] || [ "$CURLRC" = 56 ]; then
			if grep -qiE 'alert' "$T/curl.err"; then ok "$1"
			else notok "$1" "no TLS alert from the server (curl $CURLRC: $(tr '\n' ' ' <"$T/curl.err" | head -c 200))"; fi
		else
			notok "$1" "no HTTP answer and no TLS alert: curl exit $CURLRC: $(tr '\n' ' ' <"$T/curl.err" | head -c 200)"
		fi ;;
	401) if problem_ok 401 unauthenticated; then ok "$1"; else notok "$1" "401 without problem+json unauthenticated: $(last)"; fi ;;
	*) notok "$1" "expected a failed handshake or 401, got $(last)" ;;
	esac
}
# absent NAME FIELD...: the last answer is a 200 with a JSON object that has
# none of the FIELDs (a 404 problem body has none of them either, so the
# status comes first).
absent() {
	local n=$1; shift
	if [ "$CODE" != 200 ]; then notok "$n" "expected 200 before looking for absent fields, got $(last)"; return; fi
	local list got
	list=$(printf '"%s",' "$@"); list="[${list%,}]"
	got=$(jeval "$BODY" "(j&&typeof j===\"object\"&&!Array.isArray(j))?$list.filter(k=>k in j).join(\",\"):\"(not a JSON object)\"")
	if [ -z "$got" ] && [ -s "$BODY" ]; then ok "$n"; else notok "$n" "present: ${got:-(empty body)}"; fi
}
# present NAME FIELD...: the last answer is a 200 JSON object with every FIELD.
present() {
	local n=$1; shift
	if [ "$CODE" != 200 ]; then notok "$n" "expected 200, got $(last)"; return; fi
	local list got
	list=$(printf '"%s",' "$@"); list="[${list%,}]"
	got=$(jeval "$BODY" "(j&&typeof j===\"object\"&&!Array.isArray(j))?$list.filter(k=>!(k in j)).join(\",\"):\"(not a JSON object)\"")
	if [ -z "$got" ] && [ -s "$BODY" ]; then ok "$n"; else notok "$n" "missing: ${got:-(empty body)}"; fi
}

finish() {
	rg_stop
	rg_scan_logs
	if [ "$FAIL" -gt 0 ] && [ -d "$T" ]; then
		local dst=$RG_LOGDIR/$SCENARIO
		mkdir -p "$dst" 2>/dev/null && {
			find "$T" -maxdepth 3 -name '*.log' -type f | while read -r f; do
				cp "$f" "$dst/$(echo "${f#"$T"/}" | tr '/' '_')" 2>/dev/null
			done
			echo "# logs kept in $dst"
		}
	fi
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
	exit $?
}

# Sanitizer reports in any log of the scenario (daemon stderr, refgatectl
# output) fail the scenario.
rg_scan_logs() {
	local f hits
	[ -d "$T" ] || return 0
	while IFS= read -r f; do
		hits=$(grep -E -m 3 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR: UndefinedBehaviorSanitizer' "$f" 2>/dev/null)
		[ -n "$hits" ] && notok "no sanitizer report in ${f#"$T"/}" "$(echo "$hits" | head -n 3 | tr '\n' ' ')"
	done < <(find "$T" -name '*.log' -type f)
	return 0
}

cleanup() {
	local p
	for p in $BGPIDS; do kill "$p" 2>/dev/null; done
	if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
	[ "$RG_DB" = pg ] && pg_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- node and jose --------------------------------------------------------

rg_node_setup() {
	command -v node >/dev/null 2>&1 || { notok "node available"; return 1; }
	[ -f "$RG_NM/jose/package.json" ] && return 0
	mkdir -p "$RG_NODE_CACHE" || return 1
	# Only one scenario installs at a time.
	(
		if command -v flock >/dev/null 2>&1; then flock -w 300 9 || exit 1; fi
		[ -f "$RG_NM/jose/package.json" ] && exit 0
		cd "$RG_NODE_CACHE" && { [ -f package.json ] || npm init -y >/dev/null 2>&1; } \
			&& timeout 300 npm install --silent --no-audit --no-fund jose@5 >"$T/npm.txt" 2>&1
	) 9>"$RG_NODE_CACHE.lock"
	[ -f "$RG_NM/jose/package.json" ] || { notok "npm install jose@5" "$(tail -n 3 "$T/npm.txt" 2>/dev/null | tr '\n' ' ')"; return 1; }
}

# rg_playwright_setup: playwright-core (drives Debian's chromium, which
# check-prereqs.sh requires) in the same node_modules as jose, installed
# the same way on first use.
rg_playwright_ok() {
	grep -q "\"version\": \"${RG_PLAYWRIGHT#*@}\"" "$RG_NM/playwright-core/package.json" 2>/dev/null
}
rg_playwright_setup() {
	[ -x /usr/bin/chromium ] || { notok "chromium available" "no /usr/bin/chromium (apt-get install chromium)"; return 1; }
	rg_playwright_ok && return 0
	mkdir -p "$RG_NODE_CACHE" || return 1
	(
		if command -v flock >/dev/null 2>&1; then flock -w 300 9 || exit 1; fi
		rg_playwright_ok && exit 0
		cd "$RG_NODE_CACHE" && { [ -f package.json ] || npm init -y >/dev/null 2>&1; } \
			&& timeout 300 npm install --silent --no-audit --no-fund "$RG_PLAYWRIGHT" >"$T/npm.txt" 2>&1
	) 9>"$RG_NODE_CACHE.lock"
	rg_playwright_ok || { notok "npm install $RG_PLAYWRIGHT" "$(tail -n 3 "$T/npm.txt" 2>/dev/null | tr '\n' ' ')"; return 1; }
}

# jget FILE EXPR: the JS expression j<EXPR> of the JSON in FILE, strings
# raw, other values as JSON, nothing when undefined or unparsable.
jget() {
	node -e 'const fs=require("fs");let j;try{j=JSON.parse(fs.readFileSync(process.argv[1],"utf8"))}catch(e){process.exit(0)}
let v;try{v=eval("j"+process.argv[2])}catch(e){process.exit(0)}
if(v!==undefined)process.stdout.write(typeof v==="string"?v:JSON.stringify(v))' -- "$1" "$2" 2>/dev/null
}
# jeval FILE JS: evaluates JS with j bound to the JSON of FILE, prints the
# result like jget. For predicates and several fields at once.
jeval() {
	node -e 'const fs=require("fs");let j;try{j=JSON.parse(fs.readFileSync(process.argv[1],"utf8"))}catch(e){process.exit(0)}
let v;try{v=(new Function("j","return ("+process.argv[2]+")"))(j)}catch(e){process.exit(0)}
if(v!==undefined)process.stdout.write(typeof v==="string"?v:JSON.stringify(v))' -- "$1" "$2" 2>/dev/null
}
# hdr NAME: a header of the last answer (value, CR stripped).
hdr() { grep -i "^$1:" "$HDR" 2>/dev/null | tail -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'; }

# ---- deployment -----------------------------------------------------------

free_port() {
	local p i
	for i in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		ss -Htan "sport = :$p" 2>/dev/null | grep -q . && continue
		echo "$p"; return 0
	done
	return 1
}

# rg_init: a fresh deployment in $D on a free port.
rg_init() {
	PORT=$(free_port) || { notok "free port"; return 1; }
	U=https://localhost:$PORT
	D=$T/gw
	local dbopt=
	if [ "$RG_DB" = pg ]; then
		[ -n "$PG_DIR" ] || pg_start || { notok "throwaway PostgreSQL starts"; return 1; }
		dbopt="--database $RG_PG_URI"
	fi
	# shellcheck disable=SC2086
	if ! "$BIN/refgatectl" init "$D" --listen "127.0.0.1:$PORT" --hostname localhost $dbopt >"$T/init.log" 2>&1; then
		notok "refgatectl init" "$(tail -n 3 "$T/init.log" | tr '\n' ' ')"; return 1
	fi
	[ -f "$D/refgate.conf" ] || { notok "refgatectl init" "no $D/refgate.conf"; return 1; }
	mkdir -p "$T/p"
	# The legal principal's credentials, as the other principals'.
	ln -s "$D/principals/legal" "$T/p/legal"
	if [ ! -f "$T/p/legal/ca.pem" ]; then
		local ca; ca=$(conf_path admin_ca)
		[ -n "$ca" ] && [ -f "$ca" ] && cp "$ca" "$T/legal-ca.pem"
	fi
	return 0
}

# conf_path KEY: a path from refgate.conf, resolved against its folder.
conf_path() {
	local v
	v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$D/refgate.conf" | tail -n 1 | sed 's/[[:space:]]*$//')
	[ -z "$v" ] && return 0
	case $v in /*) echo "$v" ;; *) echo "$D/$v" ;; esac
}

# rg_start: starts the daemon and waits (bounded) until it accepts.
rg_start() {
	DAEMON_STARTS=$((DAEMON_STARTS + 1))
	"$BIN/refgate" -c "$D/refgate.conf" 2>>"$D/server.log" >>"$D/server.log" &
	PID=$!
	local i
	for i in $(seq 300); do
		if ! kill -0 "$PID" 2>/dev/null; then
			wait "$PID" 2>/dev/null; local rc=$?; PID=
			notok "daemon starts" "exited with $rc: $(tail -n 3 "$D/server.log" | tr '\n' ' ')"; return 1
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	notok "daemon starts" "not accepting on 127.0.0.1:$PORT after 30 s"
	return 1
}

# rg_stop: SIGTERM, wait up to 15 s, then SIGKILL. A non-zero exit after
# SIGTERM, or a daemon that died on its own before, is a failure.
rg_stop() {
	[ -n "$PID" ] || return 0
	local i rc
	if ! kill -0 "$PID" 2>/dev/null; then
		wait "$PID" 2>/dev/null; rc=$?; PID=
		notok "daemon still running at the end" "it exited by itself with $rc: $(tail -n 3 "$D/server.log" | tr '\n' ' ')"
		return 1
	fi
	kill -TERM "$PID" 2>/dev/null
	for i in $(seq 150); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$PID" 2>/dev/null; then
		kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=
		notok "daemon exits on SIGTERM" "still running after 15 s; killed"
		return 1
	fi
	wait "$PID" 2>/dev/null; rc=$?; PID=
	[ "$rc" = 0 ] || { notok "daemon exits cleanly on SIGTERM" "exit status $rc: $(tail -n 3 "$D/server.log" | tr '\n' ' ')"; return 1; }
	return 0
}

# rg_kill9: the crash.
rg_kill9() {
	[ -n "$PID" ] || return 0
	kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=
}

# rg_setup: node + jose, deployment, daemon. Ends the scenario when any
# step fails (everything after would fail for the same reason).
rg_setup() {
	rg_node_setup || finish
	[ -x "$BIN/refgate" ] && [ -x "$BIN/refgatectl" ] || { notok "binaries present" "no $BIN/refgate or $BIN/refgatectl"; finish; }
	rg_init || finish
	rg_start || finish
}

# ctl ARGS...: refgatectl against the deployment; output in $T/ctl.log
# (appended) and $T/ctl.out (this call).
ctl() {
	echo "+ refgatectl $*" >>"$T/ctl.log"
	"$BIN/refgatectl" -c "$D/refgate.conf" "$@" >"$T/ctl.out" 2>&1
	local rc=$?
	cat "$T/ctl.out" >>"$T/ctl.log"
	return $rc
}

# enrol NAME ROLE [extra enroll args]: credentials in $T/p/NAME.
enrol() {
	local n=$1 r=$2; shift 2
	if ! ctl enroll "$n" --role "$r" --out "$T/p/$n" "$@"; then
		notok "enroll $n as $r" "$(tail -n 3 "$T/ctl.out" | tr '\n' ' ')"; return 1
	fi
	local f
	for f in cert.pem key.pem ca.pem; do
		[ -s "$T/p/$n/$f" ] || { notok "enroll $n as $r" "$f missing"; return 1; }
	done
	case $r in partner|agency) [ -s "$T/p/$n/signing.jwk" ] || { notok "enroll $n as $r" "signing.jwk missing"; return 1; } ;; esac
	return 0
}

# ---- HTTP -----------------------------------------------------------------

# req WHO METHOD PATH [curl args...]: one HTTPS request as principal WHO
# (a folder name under $T/p, or an absolute folder holding cert.pem and
# key.pem, or "none" for no client certificate). Sets CODE, BODY, HDR,
# and SECS (curl's total time, for reports; never asserted).
req() {
	local who=$1 method=$2 path=$3; shift 3
	local dir ca
	case $who in /*) dir=$who ;; *) dir=$T/p/$who ;; esac
	ca=$T/p/legal/ca.pem
	[ -f "$ca" ] || ca=$T/legal-ca.pem
	local auth=()
	[ "$who" = none ] || auth=(--cert "$dir/cert.pem" --key "$dir/key.pem")
	[ -f "$dir/ca.pem" ] && ca=$dir/ca.pem
	: >"$BODY"; : >"$HDR"
	local out
	out=$(curl -sS -o "$BODY" -D "$HDR" -w '%{http_code} %{time_total}' --max-time 45 \
		--resolve "localhost:$PORT:127.0.0.1" --cacert "$ca" "${auth[@]}" \
		-X "$method" "$@" "$U$path" 2>"$T/curl.err")
	CURLRC=$?
	CODE=${out%% *}
	SECS=${out#* }
	[ -n "$CODE" ] || CODE=000
}

# post_jws WHO FILE [extra curl args]: POST /v1/referrals.
post_jws() {
	local who=$1 f=$2; shift 2
	req "$who" POST /v1/referrals -H 'Content-Type: application/jose' --data-binary @"$f" "$@"
}
# post_json WHO PATH JSON: a JSON POST.
post_json() {
	local who=$1 path=$2 json=$3
	printf '%s' "$json" >"$T/post.json"
	req "$who" POST "$path" -H 'Content-Type: application/json' --data-binary @"$T/post.json"
}

# ---- referrals ------------------------------------------------------------

# mkpayload OUT [JS-MEMBERS] [ROLE-free]: a valid referral payload, fresh
# jti and current iat, a random handle, overridden by the members given as
# a JS object literal body ('category:"hate_speech", subjects:[...]');
# a member set to undefined is removed.
mkpayload() {
	node -e 'const crypto=require("crypto");
const p={jti:crypto.randomBytes(18).toString("base64url"),iat:Math.floor(Date.now()/1000),
 category:"terrorist_content",subjects:[{handle:"@Acct_"+crypto.randomBytes(5).toString("hex")}]};
const o=(new Function("now","rnd","return ({"+(process.argv[2]||"")+"})"))(Math.floor(Date.now()/1000),
 (n)=>crypto.randomBytes(n||6).toString("hex"));
for(const k of Object.keys(o)){ if(o[k]===undefined) delete p[k]; else p[k]=o[k]; }
require("fs").writeFileSync(process.argv[1],JSON.stringify(p));' -- "$1" "${2:-}"
}

# sign WHO PAYLOAD [sign.mjs options]: the JWS on stdout.
sign() {
	local who=$1 p=$2; shift 2
	node "$ITDIR/sign.mjs" --jwk "$T/p/$who/signing.jwk" --payload "$p" "$@" 2>>"$T/sign.log"
}

# refer WHO NAME [JS-MEMBERS] [-- sign options]: builds, signs and posts a
# referral; files $T/NAME.json, $T/NAME.jws, $T/NAME.answer. Sets CODE.
refer() {
	local who=$1 name=$2 members=${3:-}
	shift 2; [ $# -gt 0 ] && shift
	[ "${1:-}" = -- ] && shift
	sign "$who" "$T/$name.json" --make "$members" "$@" >"$T/$name.jws"
	post_jws "$who" "$T/$name.jws"
	cp "$BODY" "$T/$name.answer"
	cp "$HDR" "$T/$name.hdr"
}

# random alnum string of N chars
rnd() { head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c "${1:-8}"; }
# urlenc S: S percent-encoded for a query string.
urlenc() { node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' -- "$1"; }

# ---- robustness helpers (t_robust_*) -----------------------------------------

# skip NAME WHY: a check that could not run. Counted neither as passed nor
# as failed; the line says so.
skip() { echo "SKIP - $1${2:+: $2} (not counted)"; }

# conf_set KEY VALUE: sets KEY in refgate.conf (every line setting it is
# replaced; appended when absent). Takes effect at the next rg_start.
conf_set() {
	local f=$D/refgate.conf
	if grep -q "^[[:space:]]*$1[[:space:]]*=" "$f"; then
		sed -i "s|^[[:space:]]*$1[[:space:]]*=.*|$1 = $2|" "$f"
	else
		printf '%s = %s\n' "$1" "$2" >>"$f"
	fi
}

# dbq SQL: the deployment's database, read-only, through sqlite3 (one
# call: the statements share one connection; wrap them in BEGIN/COMMIT
# for one snapshot).
dbq() {
	if [ "$RG_DB" = pg ]; then pg_psql "$1" 2>&1; return; fi
	local db; db=$(conf_path database)
	sqlite3 -readonly -cmd '.timeout 10000' "$db" "$1" 2>&1
}

# proc_kb FIELD: a field of /proc/$PID/status in kB (VmHWM, VmRSS), or
# nothing when the daemon is gone.
proc_kb() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$PID/status" 2>/dev/null; }

# alive NAME: ok when the daemon process is still running.
alive() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then ok "$1"
	else notok "$1" "daemon gone: $(tail -n 3 "$D/server.log" 2>/dev/null | tr '\n' ' ')"; fi
}

# rg_setup_conf KEY VALUE [KEY VALUE ...]: rg_setup with these settings
# written to refgate.conf before the daemon starts.
rg_setup_conf() {
	rg_node_setup || finish
	[ -x "$BIN/refgate" ] && [ -x "$BIN/refgatectl" ] || { notok "binaries present" "no $BIN/refgate or $BIN/refgatectl"; finish; }
	rg_init || finish
	while [ $# -ge 2 ]; do conf_set "$1" "$2"; shift 2; done
	rg_start || finish
}
