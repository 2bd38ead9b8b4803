#!/bin/sh
# tests/bench/threads.sh - where a referral's CPU goes, thread by thread
# (a measurement, not a test). Run from the project's root after
# `make all build/loadgen`:
#
#   sh tests/bench/threads.sh [N] [CONNS]     (default 6000 referrals, 64)
#
# A fresh deployment on a random loopback port, one partner, 500 warm-up
# referrals; then loadgen sends N unique signed referrals over CONNS
# keep-alive connections, and each gateway thread's counters from /proc
# (CPU time; bytes and calls of read and write, which count the database
# and log files and not the sockets' send and recv; time spent runnable,
# waiting for a core) are read before and after. Prints them per referral:
# CPU microseconds per referral are steadier than requests/s on a shared
# machine. Set PERF=1 to record `perf record -g` of the gateway over the
# run as well (the file's path is printed; it is kept).
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${B:-build}
N=${1:-6000}
CONNS=${2:-64}
GW=$B/refgate; CTL=$B/refgatectl; LG=$B/loadgen
for x in "$GW" "$CTL" "$LG"; do
	[ -x "$x" ] || { echo "threads: $x missing (make all $B/loadgen)" >&2; exit 2; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/rgthr.XXXXXX") || exit 2
PID= PP=
cleanup() {
	[ -n "$PP" ] && kill -INT "$PP" 2>/dev/null
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
fail() { echo "threads: $1" >&2; [ -n "${2:-}" ] && tail -n 15 "$2" >&2; exit 1; }
listening() { ss -ltnH 2>/dev/null | awk '{print $4}' | grep -q "[:.]$1\$"; }
PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
D=$T/gw
"$CTL" init "$D" --listen "127.0.0.1:$PORT" --hostname localhost >"$T/init.log" 2>&1 || fail "init failed" "$T/init.log"
printf 'rate_limit_rps = 0\nquota_referrals_per_day = 1000000000\nquota_subjects_per_day = 1000000000\nquota_bytes_per_day = 1099511627776\n' >>"$D/refgate.conf"
"$GW" -c "$D/refgate.conf" >"$T/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do listening "$PORT" && break; sleep 0.1; done
listening "$PORT" || fail "refgate does not listen" "$T/server.log"
"$CTL" -c "$D/refgate.conf" enroll thrp --role partner --out "$T/p" >"$T/enroll.log" 2>&1 || fail "enroll failed" "$T/enroll.log"
"$LG" -p 500 referrals "127.0.0.1:$PORT" "$T/p" "$CONNS" 60 >/dev/null 2>&1 || fail "warm-up referrals refused"

# One line per thread: tid name ticks rchar wchar syscr syscw run_ns wait_ns.
snap() {
	for t in /proc/"$PID"/task/*; do
		printf '%s %s %s %s %s\n' "${t##*/}" "$(tr ' ' '_' <"$t/comm")" \
			"$(awk '{ print $14 + $15 }' "$t/stat")" \
			"$(awk '{ printf "%s ", $2 }' "$t/io" | cut -d' ' -f1-4)" \
			"$(cut -d' ' -f1-2 "$t/schedstat")"
	done | sort
}
snap >"$T/before"
if [ "${PERF:-}" = 1 ]; then
	command -v perf >/dev/null 2>&1 || fail "PERF=1 but perf is not installed"
	PD=$(mktemp "${TMPDIR:-/tmp}/rgthr-perf.XXXXXX") || fail "mktemp failed"
	perf record -q -F 999 -g -p "$PID" -o "$PD" >"$T/perf.log" 2>&1 &
	PP=$!
	sleep 0.5
fi
"$LG" -p "$N" referrals "127.0.0.1:$PORT" "$T/p" "$CONNS" 200 >"$T/lg.out" 2>"$T/lg.err" || fail "loadgen failed" "$T/lg.err"
if [ -n "$PP" ]; then
	kill -INT "$PP" 2>/dev/null
	wait "$PP" 2>/dev/null
	PP=
fi
snap >"$T/after"
sed -n 1p "$T/lg.out" | sed 's/^/threads: /'
ok=$(sed -n 's/^{.*"ok":\([0-9]*\).*/\1/p' "$T/lg.out")
[ "${ok:-0}" -gt 0 ] || fail "no referral was accepted" "$T/lg.out"
echo "threads: per referral ($ok accepted), threads that ran:"
join "$T/before" "$T/after" | awk -v n="$ok" -v hz="$(getconf CLK_TCK)" '
	{ cpu = ($11 - $3) / hz
	  if (cpu <= 0) next
	  tot += cpu
	  printf "threads: %-8s %-12s cpu %7.1f us  file read %6.0f B in %4.1f calls  write %6.0f B in %4.1f calls  runnable, waiting for a core: %.2f s\n",
		$1, $2, cpu * 1e6 / n, ($12 - $4) / n, ($14 - $6) / n, ($13 - $5) / n, ($15 - $7) / n, ($17 - $9) / 1e9 }
	END { printf "threads: all threads cpu %.1f us per referral\n", tot * 1e6 / n }'
[ -n "${PD:-}" ] && echo "threads: perf data in $PD (perf report -i $PD --no-children -s pid,dso)"
exit 0
