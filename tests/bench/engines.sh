#!/usr/bin/env bash
# tests/bench/engines.sh - the storage engines side by side (part of `make
# bench`; tests/bench/run.sh calls it, or run it alone after `make all
# build/loadgen`). Not a test: it measures, it does not judge.
#
# Three setups in the same run, each a fresh deployment with the same
# settings, on this machine:
#   sqlite  one node on its SQLite file (the reference)
#   pg1     one node on a throwaway PostgreSQL 15 (tests/integration/
#           helpers/pg.sh: initdb + pg_ctl, Unix socket in a temp folder)
#   pg2     two nodes on that PostgreSQL (a new, empty database), the load
#           split evenly between them
# For each: intake (POST /v1/referrals, unique signed referrals, each
# durable before its answer) and then status (GET /v1/cases/{id},
# keep-alive), loadgen with BENCH_CONNS connections in all (split between
# the nodes for pg2) for BENCH_SECONDS each. The last lines are the ratios
# rps(setup) / rps(sqlite). The load generator, the nodes and PostgreSQL
# share the machine's cores: the figures are relative, not capacity.
#
# Environment: B (build folder, default build), BENCH_CONNS (default 8),
# BENCH_SECONDS (default 10), BENCH_ENGINES (setups, default "sqlite pg1
# pg2"), BENCH_OUT_ENGINES (also write the JSON lines there), PG_BIN.
# Exit status: 0, or 1 when a setup could not run or a run had errors.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${B:-build}
CONNS=${BENCH_CONNS:-8}
SECS=${BENCH_SECONDS:-10}
SETUPS=${BENCH_ENGINES:-sqlite pg1 pg2}
GW=$B/refgate; CTL=$B/refgatectl; LG=$B/loadgen
. tests/integration/helpers/pg.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/rgbench-eng.XXXXXX") || exit 2
NODE_PIDS=""
status=0

eng_cleanup() {
	local p
	for p in $NODE_PIDS; do eng_kill "$p"; done
	pg_stop
	rm -rf "$T"
}
trap eng_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

say() { printf 'bench: engines: %s\n' "$*"; }
eng_fail() { say "$1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 8 "$2" | sed 's/^/bench:   /'; status=1; }
listening() { ss -ltnH 2>/dev/null | awk '{print $4}' | grep -q "[:.]$1\$"; }
eng_port() {
	local p
	for _ in $(seq 50); do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
		listening "$p" || { echo "$p"; return 0; }
	done
	return 1
}
eng_kill() {
	kill "$1" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# node_up DIR PORT: starts a node of the deployment in DIR, waits until it
# listens; its pid joins NODE_PIDS.
node_up() {
	"$GW" -c "$1/refgate.conf" >>"$1/server.log" 2>&1 &
	local pid=$!
	NODE_PIDS="$NODE_PIDS $pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		listening "$2" && return 0
		sleep 0.1
	done
	return 1
}

# deploy NAME DATABASE NODES: a fresh deployment in $T/NAME (nodes 2.. in
# copies with their own port), started, a partner enrolled, one referral
# made. Sets ADDRS (one HOST:PORT per node), CRED, CASE.
deploy() {
	local name=$1 db=$2 nodes=$3 d=$T/$1 port i dbopt=()
	port=$(eng_port) || { eng_fail "$name: no free port"; return 1; }
	[ -n "$db" ] && dbopt=(--database "$db")
	"$CTL" init "$d" --listen "127.0.0.1:$port" --hostname localhost "${dbopt[@]}" \
		>"$T/$name-init.log" 2>&1 || { eng_fail "$name: refgatectl init failed" "$T/$name-init.log"; return 1; }
	# As run.sh: the bench measures the gateway, not its fair-share limits.
	printf 'rate_limit_rps = 0\nquota_referrals_per_day = 1000000000\nquota_subjects_per_day = 1000000000\nquota_bytes_per_day = 1099511627776\n' >>"$d/refgate.conf"
	ADDRS="127.0.0.1:$port"
	node_up "$d" "$port" || { eng_fail "$name: refgate does not start" "$d/server.log"; return 1; }
	CRED=$T/$name-benchp
	"$CTL" -c "$d/refgate.conf" enroll benchp --role partner --out "$CRED" >"$T/$name-enroll.log" 2>&1 \
		|| { eng_fail "$name: refgatectl enroll failed" "$T/$name-enroll.log"; return 1; }
	for i in $(seq 2 "$nodes"); do
		port=$(eng_port) || { eng_fail "$name: no free port"; return 1; }
		cp -a "$d" "$d.$i" && rm -f "$d.$i/server.log"
		sed -i "s|^listen = .*|listen = 127.0.0.1:$port|" "$d.$i/refgate.conf"
		node_up "$d.$i" "$port" || { eng_fail "$name: node $i does not start" "$d.$i/server.log"; return 1; }
		ADDRS="$ADDRS 127.0.0.1:$port"
	done
	"$LG" -1 referrals "${ADDRS%% *}" "$CRED" 1 1 >"$T/$name-first.json" 2>"$T/$name-first.err" \
		|| { eng_fail "$name: first referral refused" "$T/$name-first.err"; return 1; }
	CASE=$(sed -n 's/.*"case_id" *: *"\([A-Za-z0-9_-]*\)".*/\1/p' "$T/$name-first.json" | head -n 1)
	[ -n "$CASE" ] || { eng_fail "$name: no case_id in the first answer" "$T/$name-first.json"; return 1; }
}

# measure NAME MODE [loadgen options]: one loadgen per node at once, CONNS
# split between them; appends the sum as one JSON line to engines.jsonl.
measure() {
	local name=$1 mode=$2 n a i=0 per rc=0 pids=""
	shift 2
	n=$(echo "$ADDRS" | wc -w)
	per=$(( CONNS / n )); [ "$per" -ge 1 ] || per=1
	for a in $ADDRS; do
		i=$((i + 1))
		"$LG" -l "$name-$mode.$i" "$@" "$mode" "$a" "$CRED" "$per" "$SECS" \
			>"$T/$name-$mode.$i.out" 2>"$T/$name-$mode.$i.err" &
		pids="$pids $!"
	done
	for a in $pids; do wait "$a" || rc=1; done
	[ "$rc" = 0 ] || eng_fail "$name $mode: loadgen reported errors" "$T/$name-$mode.1.err"
	cat "$T/$name-$mode".*.out | grep '^{' | awk -v l="$name-$mode" -v n="$n" '
	function num(s, k,   m) {
		if (match(s, "\"" k "\":[-0-9.eE+]+")) { m = substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3); return m + 0 }
		return 0
	}
	{ rps += num($0, "rps"); ok += num($0, "ok"); err += num($0, "errors"); p50 = (num($0, "p50_ms") > p50) ? num($0, "p50_ms") : p50 }
	END { printf "{\"label\":\"%s\",\"nodes\":%d,\"rps\":%.1f,\"ok\":%d,\"errors\":%d,\"p50_ms_max\":%.3f}\n", l, n, rps, ok, err, p50 }' \
		| tee -a "$T/engines.jsonl" | sed 's/^/bench: engines: /'
}

for x in "$GW" "$CTL" "$LG"; do
	[ -x "$x" ] || { say "$x missing (make all $B/loadgen)"; exit 2; }
done
: >"$T/engines.jsonl"
say "setups: $SETUPS; $CONNS connections in all, $SECS s per run; $(nproc 2>/dev/null || echo '?') cores shared by the nodes, PostgreSQL and the load generator"
why_pg=
case " $SETUPS " in
*" pg"*)
	pg_start >"$T/pg.log" 2>&1 || why_pg="no throwaway PostgreSQL 15: $(tail -n 1 "$T/pg.log")" ;;
esac
for s in $SETUPS; do
	db=; nodes=1
	case $s in
	sqlite) ;;
	pg1|pg2)
		[ -z "$why_pg" ] || { eng_fail "$s: $why_pg"; continue; }
		"$PG_BIN/createdb" -h "$PG_DIR" -U refgate "bench_$s" >"$T/$s-createdb.log" 2>&1 \
			|| { eng_fail "$s: createdb failed" "$T/$s-createdb.log"; continue; }
		db="postgresql:///bench_$s?host=$PG_DIR&user=refgate"
		nodes=${s#pg} ;;
	*) eng_fail "unknown setup $s in BENCH_ENGINES"; continue ;;
	esac
	deploy "$s" "$db" "$nodes" || continue
	measure "$s" referrals
	measure "$s" case -i "$CASE"
	for p in $NODE_PIDS; do eng_kill "$p"; done
	NODE_PIDS=""
done
[ -n "${BENCH_OUT_ENGINES:-}" ] && cp "$T/engines.jsonl" "$BENCH_OUT_ENGINES"

# The ratios against SQLite, last.
awk '
function num(s, k,   m) {
	if (match(s, "\"" k "\":[-0-9.eE+]+")) { m = substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3); return m + 0 }
	return -1
}
function str(s, k) {
	if (match(s, "\"" k "\":\"[^\"]*\"")) return substr(s, RSTART + length(k) + 4, RLENGTH - length(k) - 5)
	return "?"
}
{ rps[str($0, "label")] = num($0, "rps") }
function line(what, mode,   s, base) {
	base = (("sqlite-" mode) in rps) ? rps["sqlite-" mode] : 0
	printf "bench: engines: %-30s sqlite %9.1f/s", what, base
	split("pg1 pg2", s, " ")
	for (i = 1; i <= 2; i++) {
		if (!((s[i] "-" mode) in rps)) { printf "  %s n/a", s[i]; continue }
		printf "  %s %9.1f/s ratio %s", s[i], rps[s[i] "-" mode],
			(base > 0 ? sprintf("%.3f", rps[s[i] "-" mode] / base) : "n/a")
	}
	printf "\n"
}
END {
	line("intake POST /v1/referrals", "referrals")
	line("status GET /v1/cases/{id}", "case")
	print "bench: engines: ratio = rps(setup) / rps(sqlite); pg2 is two nodes on one PostgreSQL, the load split between them"
}' "$T/engines.jsonl"
exit $status
