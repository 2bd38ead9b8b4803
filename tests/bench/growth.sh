#!/bin/sh
# tests/bench/growth.sh - `make bench`'s growth phase (BENCH_PHASES):
# does a bigger database make requests slower? One deployment is filled
# to each size in turn (BENCH_GROWTH_SIZES cases, default 1000 then
# 1000000) by build/benchfill (referrals through intake and the store,
# not HTTP: tests/bench/fill.c), round robin over four partners (benchp,
# which the load runs as, and fill1..fill3), so benchp holds a quarter of
# the cases. At each size the gateway restarts and these runs go
# (BENCH_CONNS connections, BENCH_SECONDS each):
#   case-rand      GET /v1/cases/{id}, an id drawn at random from benchp's
#                  cases each request (most miss the view cache when
#                  there are many)
#   case-hot       GET /v1/cases/{id} of one case (the view cache)
#   changes        GET /v1/changes without a cursor: the first page
#   changes-cursor GET /v1/changes?since= the first page's cursor: the
#                  second page
#   referrals      POST /v1/referrals, unique signed referrals (intake;
#                  last, since it adds cases)
# and the summary gives p99 at the smallest and the largest size and
# their ratio (goal: <= 1.5 for intake and status). Run from the
# project's root after `make all build/loadgen build/benchfill`.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${B:-build}
CONNS=${BENCH_CONNS:-8}
SECS=${BENCH_SECONDS:-10}
SIZES=${BENCH_GROWTH_SIZES:-1000 1000000}
FILL=$B/benchfill
PRINCIPALS=benchp,fill1,fill2,fill3

T=$(mktemp -d "${TMPDIR:-/tmp}/rggrowth.XXXXXX") || exit 2
. tests/bench/lib.sh
for x in "$GW" "$CTL" "$LG" "$FILL"; do
	[ -x "$x" ] || bench_fail "$x missing (make all $B/loadgen $B/benchfill)"
done
trap 'gw_stop; rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

bench_deploy
P=$T/benchp
ADDR=127.0.0.1:$PORT
: >"$T/growth.jsonl"
status=0
filled=0
echo "bench: growth: sizes $SIZES cases over $PRINCIPALS (benchp a quarter); $CONNS connections, $SECS s per run"

# grow_run SIZE LABEL MODE ARGS...: one loadgen run, its JSON line tagged
# with the size.
grow_run() {
	n=$1 l=$2 m=$3
	shift 3
	kill -0 "$GWPID" 2>/dev/null || bench_fail "refgate died before the $l run at $n" "$T/server.log"
	"$LG" -l "$l" "$@" "$m" "$ADDR" "$P" "$CONNS" "$SECS" >"$T/run.out" 2>"$T/run.err" || {
		status=1
		sed 's/^/bench:   /' "$T/run.err" | head -n 8 >&2
	}
	sed -n 1p "$T/run.out" | sed "s/^/bench: growth $n: /"
	grep '^{' "$T/run.out" | sed "s/^{/{\"size\":$n,/" >>"$T/growth.jsonl"
}

for n in $SIZES; do
	[ "$n" -ge "$filled" ] || bench_fail "BENCH_GROWTH_SIZES must grow ($n after $filled)"
	gw_stop
	t0=$(date +%s)
	"$FILL" -c "$D/refgate.conf" -n $((n - filled)) -P "$PRINCIPALS" -o "$T/ids.txt" \
		>"$T/fill.out" || bench_fail "benchfill failed"
	echo "bench: growth $n: $(cat "$T/fill.out") (filled in $(( $(date +%s) - t0 )) s)"
	filled=$n
	gw_start
	if [ ! -f "$P/cert.pem" ]; then
		"$CTL" -c "$D/refgate.conf" enroll benchp --role partner --out "$P" >"$T/enroll.log" 2>&1 \
			|| bench_fail "refgatectl enroll failed" "$T/enroll.log"
	fi
	one=$(head -n 1 "$T/ids.txt")
	next=$("$LG" -1 changes "$ADDR" "$P" 1 1 2>/dev/null | sed -n 's/.*"next":"\([A-Za-z0-9_-]*\)".*/\1/p')
	[ -n "$next" ] || bench_fail "no cursor in the first page of /v1/changes"
	grow_run "$n" case-rand case -I "$T/ids.txt"
	grow_run "$n" case-hot case -i "$one"
	grow_run "$n" changes changes
	grow_run "$n" changes-cursor changes -q "since=$next"
	grow_run "$n" referrals referrals
done
gw_stop
[ -n "${BENCH_OUT:-}" ] && cat "$T/growth.jsonl" >>"$BENCH_OUT"

awk '
function num(s, k,   m) {
	if (match(s, "\"" k "\":[-0-9.eE+]+")) { m = substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3); return m + 0 }
	return -1
}
function str(s, k) {
	if (match(s, "\"" k "\":\"[^\"]*\"")) return substr(s, RSTART + length(k) + 4, RLENGTH - length(k) - 5)
	return "?"
}
{
	n = num($0, "size"); l = str($0, "label")
	if (!(l in seen)) { seen[l] = 1; order[++nl] = l }
	if (!(l in lo) || n < lo[l]) { lo[l] = n; plo[l] = num($0, "p99_ms"); rlo[l] = num($0, "rps") }
	if (!(l in hi) || n > hi[l]) { hi[l] = n; phi[l] = num($0, "p99_ms"); rhi[l] = num($0, "rps") }
}
END {
	printf "bench: growth %-15s %10s %10s %10s %10s %8s\n", "run", "p99 small", "p99 large", "rps small", "rps large", "ratio"
	for (i = 1; i <= nl; i++) {
		l = order[i]
		goal = (l == "referrals" || l == "case-rand" || l == "case-hot") ? " goal <= 1.5" : ""
		printf "bench: growth %-15s %10.3f %10.3f %10.1f %10.1f %8s%s\n", l, plo[l], phi[l], rlo[l], rhi[l],
			(plo[l] > 0 ? sprintf("%.2f", phi[l] / plo[l]) : "-"), goal
	}
	printf "bench: growth: p99 in ms at %d and %d cases; ratio = p99(large) / p99(small)\n", lo[order[1]], hi[order[1]]
}' "$T/growth.jsonl"
exit $status
