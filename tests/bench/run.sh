#!/bin/sh
# tests/bench/run.sh - `make bench`: a load benchmark (not a test) against a
# fresh deployment on a random loopback port. Run from the project's root
# after `make all build/loadgen` (the Makefile does both).
#
#   BENCH_CONNS=8 BENCH_SECONDS=10 make bench
#
# Environment:
#   BENCH_CONNS     keep-alive connections per run (default 8)
#   BENCH_SECONDS   seconds per run (default 10)
#   BENCH_MODES     runs, in order (default: keys handshake referrals case
#                   changes keys-end)
#   BENCH_POOL      referrals to pre-sign (default: loadgen's, 5000 per s)
#   BENCH_CHANGES_QUERY  query for GET /v1/changes (default none)
#   BENCH_OUT       also write the JSON lines to this file
#   PEERS           the peers' folder (start.sh WORKDIR, stop.sh WORKDIR:
#                   nginx and a Node https + jose server); the Makefile
#                   passes it. Unset, empty or missing: no peer runs, and
#                   the ratios say why
#   BENCH_ROUNDS    rounds of the three refgate/peer pairs (default 3)
#   BENCH_PAIR_CONNS  connections in the pairs (default 64)
#   BENCH_PHASES    phases on deployments of their own, after the pairs
#                   (default "growth rss"; empty: none): growth.sh (p99 at
#                   BENCH_GROWTH_SIZES cases, default "1000 1000000") and
#                   rss.sh (resident set with BENCH_RSS_CONNS idle mTLS
#                   connections, default 1000); each file says more
#   BENCH_ENGINES   the storage engine setups of tests/bench/engines.sh
#                   (default "sqlite pg1 pg2"; empty: none)
#
# What it does: refgatectl init into a mktemp dir, start refgate, enrol a
# partner, submit one referral (for a case id), then one loadgen run per
# mode, each on its own: `keys` (GET /v1/keys keep-alive: TLS + HTTP +
# authentication, no database work) is the baseline that every other figure
# is quoted against, ratio = rps(mode) / rps(keys); `keys-end` repeats it
# last, to show the drift over the session. `handshake` (a full TLS
# handshake per request) against `case` gives the per-request cost of not
# keeping connections alive. `referrals` runs before `case` and `changes`,
# so those two read a database holding the referrals' cases and `changes`
# pages through a full default page. The load generator and the gateway
# share this machine's cores: the figures are relative, not capacity.
#
# Then the pairs, each refgate run followed by its peer's, BENCH_ROUNDS
# rounds: keep-alive GET /v1/cases/{id} against nginx serving a static
# JSON file over mTLS; POST /v1/referrals (unique signed referrals,
# durable) against Node https + jose verifying a JWS and storing nothing;
# a new mTLS connection per GET /v1/cases/{id} against the same per
# connection to nginx. The last three lines are the median ratios.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${B:-build}
CONNS=${BENCH_CONNS:-8}
SECS=${BENCH_SECONDS:-10}
MODES=${BENCH_MODES-keys handshake referrals case changes changes-agency changes-key keys-end}
ROUNDS=${BENCH_ROUNDS:-3}
PCONNS=${BENCH_PAIR_CONNS:-64}
PEERW=
GW=$B/refgate; CTL=$B/refgatectl; LG=$B/loadgen

for x in "$GW" "$CTL" "$LG"; do
	[ -x "$x" ] || { echo "bench: $x missing (make all $B/loadgen)" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/rgbench.XXXXXX") || exit 2
PID=
cleanup() {
	[ -n "$PEERW" ] && [ -f "$PEERW/pids" ] && bash "$PEERS/stop.sh" "$PEERW" >/dev/null 2>&1
	[ -n "$PEERW" ] && rm -rf "$PEERW"
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$PID" 2>/dev/null || break; sleep 0.3; done
		kill -9 "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

fail() {
	echo "bench: $1" >&2
	[ -n "${2:-}" ] && [ -f "$2" ] && tail -n 15 "$2" | sed 's/^/bench:   /' >&2
	exit 1
}

listening() { ss -ltnH 2>/dev/null | awk '{print $4}' | grep -q "[:.]$1\$"; }

PORT=
for _ in $(seq 50); do
	p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
	listening "$p" || { PORT=$p; break; }
done
[ -n "$PORT" ] || fail "no free port"

D=$T/gw
"$CTL" init "$D" --listen "127.0.0.1:$PORT" --hostname localhost >"$T/init.log" 2>&1 \
	|| fail "refgatectl init failed" "$T/init.log"
# The bench measures the gateway, not its fair-share limits: no rate
# limit, daily quotas at their maxima (one partner sends every referral).
printf 'rate_limit_rps = 0\nquota_referrals_per_day = 1000000000\nquota_subjects_per_day = 1000000000\nquota_bytes_per_day = 1099511627776\n' >>"$D/refgate.conf"
"$GW" -c "$D/refgate.conf" >"$T/server.log" 2>&1 &
PID=$!
up=0
for _ in $(seq 100); do
	kill -0 "$PID" 2>/dev/null || fail "refgate exited" "$T/server.log"
	listening "$PORT" && { up=1; break; }
	sleep 0.1
done
[ $up = 1 ] || fail "refgate does not listen on 127.0.0.1:$PORT" "$T/server.log"

P=$T/benchp
"$CTL" -c "$D/refgate.conf" enroll benchp --role partner --out "$P" >"$T/enroll.log" 2>&1 \
	|| fail "refgatectl enroll failed" "$T/enroll.log"
for f in cert.pem key.pem ca.pem signing.jwk; do
	[ -s "$P/$f" ] || fail "enroll: $f missing in --out dir" "$T/enroll.log"
done

# An agency with a referral of its own and a status access key over all
# its cases, for /v1/changes polled with and without the key.
AG=$T/benchag
"$CTL" -c "$D/refgate.conf" enroll benchag --role agency --out "$AG" >>"$T/enroll.log" 2>&1 \
	|| fail "refgatectl enroll (agency) failed" "$T/enroll.log"

ADDR=127.0.0.1:$PORT
TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
gw_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat" 2>/dev/null || echo 0; }
"$LG" -1 referrals "$ADDR" "$P" 1 1 >"$T/first.json" 2>"$T/first.err" \
	|| { cat "$T/first.json" >>"$T/first.err"; fail "first referral refused" "$T/first.err"; }
CASE=$(sed -n 's/.*"case_id" *: *"\([A-Za-z0-9_-]*\)".*/\1/p' "$T/first.json" | head -n 1)
[ -n "$CASE" ] || fail "no case_id in the answer to the first referral" "$T/first.json"

"$LG" -1 referrals "$ADDR" "$AG" 1 1 >"$T/first-ag.json" 2>"$T/first-ag.err" \
	|| fail "the agency's first referral was refused" "$T/first-ag.err"
"$CTL" -c "$D/refgate.conf" key issue benchag --tier status --all-own \
	--legal-basis "benchmark" --expires 1 --out "$T/ag.key" >"$T/key.log" 2>&1 \
	|| fail "refgatectl key issue failed" "$T/key.log"
AGKEY=$(cat "$T/ag.key")
echo "bench: refgate on $ADDR, partner benchp, case $CASE; $CONNS connections, $SECS s per run; $(nproc 2>/dev/null || echo '?') cores shared by gateway and load generator"
: >"$T/results.jsonl"
status=0
for label in $MODES; do
	mode=${label%-*}
	who=$P
	set --
	case $label in
	changes-agency) who=$AG ;;
	changes-key) who=$AG; set -- -b "$AGKEY" ;;
	esac
	case $mode in
	case) set -- -i "$CASE" ;;
	changes) [ -n "${BENCH_CHANGES_QUERY:-}" ] && set -- "$@" -q "$BENCH_CHANGES_QUERY" ;;
	referrals) [ -n "${BENCH_POOL:-}" ] && set -- -p "$BENCH_POOL" ;;
	keys|handshake) ;;
	*) fail "unknown mode $label in BENCH_MODES" ;;
	esac
	kill -0 "$PID" 2>/dev/null || fail "refgate died before the $label run" "$T/server.log"
	load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
	c0=$(gw_ticks)
	"$LG" -l "$label" "$@" "$mode" "$ADDR" "$who" "$CONNS" "$SECS" >"$T/$label.out" 2>"$T/$label.err"
	rc=$?
	c1=$(gw_ticks)
	sed -n 1p "$T/$label.out" | sed "s/^/bench: /; s/\$/ (load $load)/"
	# The gateway's CPU time per successful request (user + system, from
	# /proc): steadier than requests/s when the machine is shared.
	ok=$(sed -n 's/^{.*"ok":\([0-9]*\).*/\1/p' "$T/$label.out")
	extra=$(awk -v a="$c0" -v b="$c1" -v t="$TCK" -v n="${ok:-0}" -v l="$load" 'BEGIN {
		printf ",\"gw_cpu_s\":%.2f,\"gw_cpu_us_per_req\":%.1f,\"loadavg\":%s", (b - a) / t, (n > 0 ? (b - a) / t * 1e6 / n : 0), l }')
	grep '^{' "$T/$label.out" | sed "s/}\$/$extra}/" >>"$T/results.jsonl"
	if [ $rc != 0 ]; then
		status=1
		sed 's/^/bench:   /' "$T/$label.err" | head -n 8 >&2
	fi
done

# Summary: ratio = rps(run) / rps(keys); handshake against case.
echo "bench: summary (ratio = rps / rps(keys)); JSON lines follow"
awk '
function num(s, k,   m) {
	if (match(s, "\"" k "\":[-0-9.eE+]+")) { m = substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3); return m + 0 }
	return -1
}
function str(s, k) {
	if (match(s, "\"" k "\":\"[^\"]*\"")) return substr(s, RSTART + length(k) + 4, RLENGTH - length(k) - 5)
	return "?"
}
{ n++; lab[n] = str($0, "label"); rps[n] = num($0, "rps"); p50[n] = num($0, "p50_ms")
  p90[n] = num($0, "p90_ms"); p99[n] = num($0, "p99_ms"); err[n] = num($0, "errors")
  cpu[n] = num($0, "gw_cpu_us_per_req")
  r[lab[n]] = rps[n]; q[lab[n]] = p50[n]; u[lab[n]] = cpu[n] }
END {
	base = ("keys" in r) ? r["keys"] : 0
	ubase = ("keys" in u) ? u["keys"] : 0
	printf "bench: %-10s %10s %8s %8s %8s %7s %7s %11s %9s\n", "run", "ok req/s", "p50 ms", "p90 ms", "p99 ms",
		"errors", "ratio", "gw cpu us", "cpu ratio"
	for (i = 1; i <= n; i++)
		printf "bench: %-10s %10.1f %8.3f %8.3f %8.3f %7d %7s %11.1f %9s\n", lab[i], rps[i], p50[i], p90[i], p99[i],
			err[i], (base > 0 ? sprintf("%.3f", rps[i] / base) : "-"), cpu[i],
			(ubase > 0 ? sprintf("%.2f", cpu[i] / ubase) : "-")
	print "bench: ratio = rps / rps(keys); gw cpu us = gateway CPU time per ok request; cpu ratio = that / keys"
	if (("handshake" in r) && ("case" in r) && r["case"] > 0 && q["case"] > 0 && u["case"] > 0)
		printf "bench: handshake vs case: %.3f x the requests/s, %.2f x the p50 latency, %.2f x the gateway CPU per request\n",
			r["handshake"] / r["case"], q["handshake"] / q["case"], u["handshake"] / u["case"]
	if (("keys-end" in r) && base > 0) {
		d = r["keys-end"] / base
		printf "bench: baseline drift: keys-end / keys = %.3f%s\n", d,
			(d < 0.85 || d > 1.15) ? " (over 15%: the machine is busy; trust the cpu ratios more than the rps ratios)" : ""
	}
}' "$T/results.jsonl"
cat "$T/results.jsonl"

# ---- the storage engines: SQLite, PostgreSQL with one and two nodes ----
# Fresh deployments of their own (tests/bench/engines.sh), intake and
# status, as ratios against SQLite.
if [ -n "${BENCH_ENGINES-sqlite pg1 pg2}" ]; then
	B=$B BENCH_CONNS=$CONNS BENCH_SECONDS=$SECS \
		BENCH_ENGINES="${BENCH_ENGINES:-sqlite pg1 pg2}" \
		bash tests/bench/engines.sh || status=1
fi

# ---- the pairs: refgate and its peers in the same run -----------------

# Why the peers cannot run here, or nothing.
peers_missing() {
	[ -n "${PEERS:-}" ] || { echo "PEERS is not set (the peers' folder: start.sh, stop.sh)"; return; }
	[ -f "$PEERS/start.sh" ] && [ -f "$PEERS/stop.sh" ] \
		|| { echo "no start.sh and stop.sh in PEERS=$PEERS"; return; }
	command -v nginx >/dev/null 2>&1 || { echo "nginx is not installed (apt-get install nginx-light)"; return; }
	command -v node >/dev/null 2>&1 || { echo "node is not installed (apt-get install nodejs npm)"; return; }
}

# pair_run LABEL MODE ADDR CREDDIR ARGS...: one loadgen run into pairs.jsonl.
pair_run() {
	l=$1 m=$2 a=$3 c=$4
	shift 4
	kill -0 "$PID" 2>/dev/null || fail "refgate died before the $l run" "$T/server.log"
	"$LG" -l "$l" "$@" "$m" "$a" "$c" "$PCONNS" "$SECS" >"$T/$l.out" 2>"$T/$l.err" || {
		status=1
		sed 's/^/bench:   /' "$T/$l.err" | head -n 8 >&2
	}
	sed -n 1p "$T/$l.out" | sed 's/^/bench: /'
	grep '^{' "$T/$l.out" >>"$T/pairs.jsonl"
}

: >"$T/pairs.jsonl"
why=$(peers_missing)
if [ "$ROUNDS" -gt 0 ] && [ -z "$why" ]; then
	# Its own folder, readable by nginx's unprivileged workers (the
	# deployment's folder is not).
	PEERW=$(mktemp -d "${TMPDIR:-/tmp}/rgpeers.XXXXXX") || fail "mktemp failed"
	chmod 755 "$PEERW"
	NGP= NDP=
	for _ in $(seq 50); do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
		listening "$p" || listening $((p + 1)) || listening $((p + 2)) || { NGP=$p; NDP=$((p + 2)); break; }
	done
	[ -n "$NGP" ] || fail "no free ports for the peers"
	if NGINX_PORT=$NGP NODE_PORT=$NDP bash "$PEERS/start.sh" "$PEERW" >"$T/peers.log" 2>&1; then
		PC=$PEERW/creds
		mkdir -p "$PC"
		cp "$PEERW/pki/client.crt" "$PC/cert.pem"
		cp "$PEERW/pki/client.key" "$PC/key.pem"
		cp "$PEERW/pki/ca.crt" "$PC/ca.pem"
		# Replays are fine there (the peer stores nothing): one set
		# of tokens serves every round.
		ntok=$((8000 * SECS))
		node "$PEERW/node-peer/make_tokens.mjs" "$ntok" "$PEERW/tokens.txt" >"$T/tokens.log" 2>&1 \
			|| { why="make_tokens.mjs failed: $(tail -n 1 "$T/tokens.log")"; }
	else
		why="start.sh failed: $(tail -n 2 "$T/peers.log" | tr '\n' ' ')"
	fi
	if [ -z "$why" ]; then
		echo "bench: pairs: $ROUNDS rounds, $PCONNS connections, $SECS s per run; peers from $PEERS (nginx 127.0.0.1:$NGP, node 127.0.0.1:$NDP)"
		for r in $(seq "$ROUNDS"); do
			pair_run "case.r$r" case "$ADDR" "$P" -i "$CASE"
			pair_run "nginx-ka.r$r" case "127.0.0.1:$NGP" "$PC" -P /status.json
			pair_run "referrals.r$r" referrals "$ADDR" "$P"
			pair_run "node-jws.r$r" referrals "127.0.0.1:$NDP" "$PC" -P /v1/docs -B "$PEERW/tokens.txt"
			pair_run "handshake.r$r" handshake "$ADDR" "$P" -i "$CASE"
			pair_run "nginx-hs.r$r" handshake "127.0.0.1:$NGP" "$PC" -P /status.json
		done
		cat "$T/pairs.jsonl"
	fi
	bash "$PEERS/stop.sh" "$PEERW" >/dev/null 2>&1
fi
[ "$ROUNDS" -gt 0 ] || why="BENCH_ROUNDS=0"

[ -n "${BENCH_OUT:-}" ] && cat "$T/results.jsonl" "$T/pairs.jsonl" >"$BENCH_OUT"

# ---- growth and memory, each on a deployment of its own ----------------
for phase in ${BENCH_PHASES-growth rss}; do
	case $phase in
	growth|rss) B=$B sh "tests/bench/$phase.sh" || status=1 ;;
	*) fail "unknown phase $phase in BENCH_PHASES" ;;
	esac
done
kill -0 "$PID" 2>/dev/null || { echo "bench: refgate is no longer running" >&2; tail -n 15 "$T/server.log" >&2; status=1; }

# The three ratios, last: the median over the rounds of rps(refgate) /
# rps(peer), each round's pair run back to back.
awk -v why="$why" '
function num(s, k,   m) {
	if (match(s, "\"" k "\":[-0-9.eE+]+")) { m = substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3); return m + 0 }
	return -1
}
function str(s, k) {
	if (match(s, "\"" k "\":\"[^\"]*\"")) return substr(s, RSTART + length(k) + 4, RLENGTH - length(k) - 5)
	return "?"
}
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ rps[str($0, "label")] = num($0, "rps") }
function line(name, a, b, goal, peer,   r, n, ra, va, vb, x, y) {
	n = 0
	for (r = 1; (a ".r" r) in rps; r++) {
		x = rps[a ".r" r]; y = ((b ".r" r) in rps) ? rps[b ".r" r] : 0
		if (y <= 0) continue
		n++; ra[n] = x / y; va[n] = x; vb[n] = y
	}
	if (n == 0) {
		printf "bench: ratio %-28s n/a (%s) goal >= %s\n", name, why != "" ? why : "no peer run", goal
		return
	}
	printf "bench: ratio %-28s %.3f  (median of %d rounds; refgate %.1f/s, %s %.1f/s) goal >= %s\n",
		name, median(ra, n), n, median(va, n), peer, median(vb, n), goal
}
END {
	line("GET /v1/cases/{id}", "case", "nginx-ka", "0.70", "nginx mTLS static")
	line("POST /v1/referrals", "referrals", "node-jws", "1.50", "node https+jose")
	line("new mTLS conn per request", "handshake", "nginx-hs", "0.90", "nginx")
}' "$T/pairs.jsonl"
exit $status
