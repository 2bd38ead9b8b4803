#!/bin/sh
# tests/bench/rss.sh - `make bench`'s memory phase (BENCH_PHASES): the
# gateway's resident set (VmRSS, /proc) with BENCH_RSS_CONNS (default
# 1000) idle mTLS keep-alive connections, goal <= 64 MiB. A fresh
# deployment (max_connections at its default, 1000; connections_per_principal
# raised to the count, since one partner holds them all), one partner;
# `loadgen idle` opens every connection, sends one GET /v1/keys on each
# (so each is an authenticated keep-alive connection) and then holds
# them, sending nothing, for BENCH_RSS_SECONDS (default 15, under the
# 30 s connection_timeout). The resident set is read before, then every
# second while they are held; the largest is reported, and the run fails
# when the gateway closed any of them. Run from the project's root after
# `make all build/loadgen`.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${B:-build}
N=${BENCH_RSS_CONNS:-1000}
HOLD=${BENCH_RSS_SECONDS:-15}
GOAL_KIB=$((64 * 1024))

T=$(mktemp -d "${TMPDIR:-/tmp}/rgrss.XXXXXX") || exit 2
. tests/bench/lib.sh
for x in "$GW" "$CTL" "$LG"; do
	[ -x "$x" ] || bench_fail "$x missing (make all $B/loadgen)"
done
LGPID=
trap '[ -n "$LGPID" ] && kill "$LGPID" 2>/dev/null; gw_stop; rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

bench_deploy
printf 'connections_per_principal = %d\n' "$N" >>"$D/refgate.conf"
gw_start
P=$T/benchp
"$CTL" -c "$D/refgate.conf" enroll benchp --role partner --out "$P" >"$T/enroll.log" 2>&1 \
	|| bench_fail "refgatectl enroll failed" "$T/enroll.log"
"$LG" -1 keys "127.0.0.1:$PORT" "$P" 1 1 >/dev/null 2>"$T/probe.err" \
	|| bench_fail "GET /v1/keys refused" "$T/probe.err"
before=$(rss_kib "$GWPID")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$GWPID/status")

"$LG" -l idle idle "127.0.0.1:$PORT" "$P" "$N" "$HOLD" >"$T/idle.out" 2>"$T/idle.err" &
LGPID=$!
up=
for _ in $(seq 600); do
	up=$(sed -n 's/^loadgen: idle: \([0-9]*\) of .*/\1/p' "$T/idle.out")
	[ -n "$up" ] && break
	kill -0 "$LGPID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$up" ] || bench_fail "loadgen idle did not bring its connections up" "$T/idle.err"
max=0
while kill -0 "$LGPID" 2>/dev/null; do
	r=$(rss_kib "$GWPID")
	[ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
	sleep 1
done
wait "$LGPID"
rc=$?
LGPID=
lost=$(sed -n 's/^{.*"transport_errors":\([0-9]*\).*/\1/p' "$T/idle.out")
kill -0 "$GWPID" 2>/dev/null || bench_fail "refgate died holding the connections" "$T/server.log"

verdict=met
[ "$max" -le "$GOAL_KIB" ] || verdict="NOT met"
echo "bench: rss: $up of $N idle mTLS connections up, held ${HOLD} s, ${lost:-?} lost; gateway VmRSS $before KiB before, $max KiB at most while held ($(awk -v a="$max" 'BEGIN { printf "%.1f", a / 1024 }') MiB; $(awk -v a="$max" -v b="$before" -v n="$up" 'BEGIN { printf "%.1f", (n > 0 ? (a - b) / n : 0) }') KiB per connection); $threads threads; goal <= 64 MiB: $verdict"
printf '{"label":"rss","conns":%s,"up":%s,"lost":%s,"rss_before_kib":%s,"rss_max_kib":%s,"threads":%s}\n' \
	"$N" "$up" "${lost:-0}" "$before" "$max" "$threads" >"$T/rss.json"
cat "$T/rss.json"
[ -n "${BENCH_OUT:-}" ] && cat "$T/rss.json" >>"$BENCH_OUT"
[ "$rc" = 0 ] && [ "$up" = "$N" ] && [ "${lost:-1}" = 0 ] || exit 1
[ "$verdict" = met ]
