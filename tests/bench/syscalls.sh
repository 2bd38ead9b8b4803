#!/bin/sh
# tests/bench/syscalls.sh - what one referral costs the gateway in system
# calls and database pages (a measurement, not a test). Run from the
# project's root after `make all build/loadgen`:
#
#   sh tests/bench/syscalls.sh [N] [CONNS]     (default 2000 referrals, 64)
#
# A fresh deployment on a random loopback port, one partner, one warm-up
# referral; then strace -c -f follows every thread of the gateway while
# loadgen sends N unique signed referrals over CONNS keep-alive
# connections, and a second strace pass counts the 4096-byte pwrite64 and
# pread64 calls (database and WAL pages). Prints the totals and per
# referral. Needs strace.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${B:-build}
N=${1:-2000}
CONNS=${2:-64}
GW=$B/refgate; CTL=$B/refgatectl; LG=$B/loadgen
command -v strace >/dev/null 2>&1 || { echo "syscalls: strace is not installed (apt-get install strace)" >&2; exit 2; }
for x in "$GW" "$CTL" "$LG"; do
	[ -x "$x" ] || { echo "syscalls: $x missing (make all $B/loadgen)" >&2; exit 2; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/rgsys.XXXXXX") || exit 2
PID= SP=
cleanup() {
	[ -n "$SP" ] && kill "$SP" 2>/dev/null
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
fail() { echo "syscalls: $1" >&2; [ -n "${2:-}" ] && tail -n 15 "$2" >&2; exit 1; }
listening() { ss -ltnH 2>/dev/null | awk '{print $4}' | grep -q "[:.]$1\$"; }
PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
D=$T/gw
"$CTL" init "$D" --listen "127.0.0.1:$PORT" --hostname localhost >"$T/init.log" 2>&1 || fail "init failed" "$T/init.log"
printf 'rate_limit_rps = 0\nquota_referrals_per_day = 1000000000\nquota_subjects_per_day = 1000000000\nquota_bytes_per_day = 1099511627776\n' >>"$D/refgate.conf"
"$GW" -c "$D/refgate.conf" >"$T/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do listening "$PORT" && break; sleep 0.1; done
listening "$PORT" || fail "refgate does not listen" "$T/server.log"
"$CTL" -c "$D/refgate.conf" enroll sysp --role partner --out "$T/p" >"$T/enroll.log" 2>&1 || fail "enroll failed" "$T/enroll.log"
"$LG" -1 referrals "127.0.0.1:$PORT" "$T/p" 1 1 >/dev/null 2>&1 || fail "warm-up referral refused"

# pass: strace ARGS into OUT while N referrals go in; prints loadgen's line.
pass() {
	out=$1
	shift
	tids=$(ls "/proc/$PID/task" | tr '\n' ',' | sed 's/,$//')
	strace -f "$@" -o "$out" -p "$tids" 2>"$T/strace.err" &
	SP=$!
	sleep 1
	"$LG" -p "$N" referrals "127.0.0.1:$PORT" "$T/p" "$CONNS" 200 2>"$T/lg.err" | sed -n 1p
	sleep 0.5
	kill -INT "$SP" 2>/dev/null
	wait "$SP" 2>/dev/null
	SP=
}
pass "$T/count.txt" -c
pass "$T/trace.txt" -e trace=pwrite64,pread64
echo "syscalls: $N referrals, $CONNS connections; strace -c -f over every thread of the gateway:"
awk -v n="$N" '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" { c = $4; name = $NF; tot += c; printf "syscalls: %-16s %9d  %8.2f per referral\n", name, c, c / n }
	END { printf "syscalls: %-16s %9d  %8.2f per referral\n", "total", tot, tot / n }' "$T/count.txt"
awk -v n="$N" '/pwrite64\(.*, 4096, [0-9]+\) = 4096/ { w++ } /pread64\(.*, 4096, [0-9]+\) = 4096/ { r++ }
	END { printf "syscalls: pages written %d (%.2f per referral), pages read %d (%.2f per referral)\n", w, w / n, r, r / n }' "$T/trace.txt"
