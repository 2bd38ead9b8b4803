#!/usr/bin/env bash
# t_audit_live: `refgatectl audit verify` beside a running gateway under
# write load. Two writers submit referrals without pause while verify runs
# again and again: every verify passes, and every referral is acknowledged.
# A verify held with the database open (its stdout a full pipe, so it
# cannot finish) holds the file O_RDONLY while the gateway acknowledges
# more referrals; and a verify works on a database file of mode 0400 that
# no write open can take (as root: with DAC override dropped, by setpriv),
# while the gateway goes on writing through the descriptor it holds.
# Outcomes only: nothing here depends on how long anything takes.
. "$(dirname "$0")/lib.sh"
rg_setup_conf audit_sign_interval 1
enrol p1 partner || finish
DB=$(conf_path database)
DBREAL=$(realpath "$DB")

# records: the count of the last verify's "audit: N records" line.
records() { sed -n 's/^audit: \([0-9][0-9]*\) records, .*chain intact$/\1/p' "$1" | tail -n 1; }
verify() { "$BIN/refgatectl" -c "$D/refgate.conf" audit verify >"$T/verify.out" 2>&1; }

for i in 1 2 3; do
	refer p1 "base$i"; expect "baseline referral $i -> 201" 201
done
verify; rc=$?
eq "verify with the gateway idle: exit 0" 0 $rc
BASE=$(records "$T/verify.out")
ne "it counts the records" "" "$BASE"

# ---- the load: two writers until $T/load.stop exists -------------------------------
# Each appends "W.I CODE" to $T/load.acks after every answer.
load() {
	local w=$1 i=0
	BODY=$T/load$w.body; HDR=$T/load$w.hdr
	while [ ! -e "$T/load.stop" ] && [ $i -lt 2000 ]; do
		i=$((i + 1))
		refer p1 "load${w}_$i" 2>/dev/null
		echo "$w.$i $CODE" >>"$T/load.acks"
	done
}
acks() { [ -f "$T/load.acks" ] && wc -l <"$T/load.acks" || echo 0; }
# wait_acks N: until N answers came back (bounded: a hang guard, never
# an assertion on speed). 0 when they did.
wait_acks() {
	local j
	for j in $(seq 1200); do
		[ "$(acks)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
load 1 & L1=$!; BGPIDS="$BGPIDS $L1"
load 2 & L2=$!; BGPIDS="$BGPIDS $L2"
wait_acks 2; eq "the load runs (2 referrals answered)" 0 $?

# ---- verify, again and again, while the writers write -----------------------------
PREV=$BASE; GREW=0
for r in 1 2 3 4 5; do
	A=$(acks)
	verify; rc=$?
	n=$(records "$T/verify.out")
	if [ $rc = 0 ] && [ -n "$n" ]; then
		ok "verify $r under load: exit 0, chain intact ($n records)"
	else
		notok "verify $r under load: exit 0, chain intact" "exit $rc: $(head -c 300 "$T/verify.out" | tr '\n' ' ')"
		n=$PREV
	fi
	[ "$n" -gt "$PREV" ] && GREW=$((GREW + 1))
	[ "$n" -ge "$PREV" ] || notok "verify $r sees no fewer records than the one before" "$n < $PREV"
	PREV=$n
	wait_acks $((A + 2)) || notok "the load goes on after verify $r" "$(acks) answers"
done
eq "the log grew between every two verifies (the writers wrote meanwhile)" 5 "$GREW"

# ---- a verify held with the database open ------------------------------------------
# Its stdout is a pipe filled to the brim first (non-blocking writes until
# the pipe refuses), and nobody reads it until $T/gate is written: verify
# reads the whole log, then blocks printing its report, before it closes
# the database.
mkfifo "$T/gate"
(
	dd if=/dev/zero of=/dev/stdout bs=4096 oflag=nonblock 2>/dev/null
	dd if=/dev/zero of=/dev/stdout bs=1 oflag=nonblock 2>/dev/null
	"$BIN/refgatectl" -c "$D/refgate.conf" audit verify 2>"$T/held.err" &
	echo $! >"$T/held.pid"
	wait $!
	echo $? >"$T/held.rc"
) | { read -r _ <"$T/gate"; cat >"$T/held.out"; } &
HELD_JOB=$!; BGPIDS="$BGPIDS $HELD_JOB"

# fd_mode PID: the access mode (0 O_RDONLY, 2 O_RDWR) of PID's descriptor
# on the database file, or nothing while it has none.
fd_mode() {
	local fd flags
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$DBREAL" ] || continue
		flags=$(sed -n 's/^flags:[[:space:]]*\([0-7][0-7]*\)$/\1/p' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null)
		[ -n "$flags" ] && echo $((8#$flags % 4))
		return 0
	done
}
HP=; M=
for j in $(seq 600); do
	[ -s "$T/held.pid" ] && HP=$(cat "$T/held.pid")
	[ -n "$HP" ] && M=$(fd_mode "$HP")
	[ -n "$M" ] && break
	sleep 0.1
done
eq "control: the gateway's descriptor on the database is O_RDWR" 2 "$(fd_mode "$PID")"
eq "the held verify has the database open, O_RDONLY" 0 "$M"
A=$(acks)
wait_acks $((A + 5)); eq "5 more referrals answered while the verify holds the database" 0 $?
if [ -n "$HP" ] && kill -0 "$HP" 2>/dev/null && [ "$(fd_mode "$HP")" = 0 ]; then
	ok "the verify still holds it after they were answered"
else
	notok "the verify still holds it after they were answered" "pid ${HP:-none} gone"
fi
echo go >"$T/gate"
wait "$HELD_JOB" 2>/dev/null
eq "the held verify, released: exit 0" 0 "$(cat "$T/held.rc" 2>/dev/null)"
check "the held verify: chain intact" grep -a -q 'chain intact' "$T/held.out"

# ---- a database file of mode 0400 ----------------------------------------------------
# Root opens any file for writing unless its DAC override is dropped:
# then, as for anyone else, mode 0400 refuses every write open.
WRAP=()
[ "$(id -u)" = 0 ] && WRAP=(setpriv --bounding-set -dac_override,-dac_read_search,-fowner)
chmod 0400 "$DB"
"${WRAP[@]}" sh -c 'head -c 16 "$1" >/dev/null' sh "$DB" 2>"$T/wrap.err"
eq "control: the 0400 database file opens for reading (as verify will run)" 0 $?
"${WRAP[@]}" sh -c 'true >>"$1"' sh "$DB" 2>/dev/null
ne "control: no write open of the 0400 database file (exit non-zero)" 0 $?
A=$(acks)
"${WRAP[@]}" "$BIN/refgatectl" -c "$D/refgate.conf" audit verify >"$T/ro.out" 2>&1; rc=$?
eq "verify on the 0400 database file: exit 0" 0 $rc
check "verify on the 0400 database file: chain intact" grep -q 'chain intact' "$T/ro.out"
wait_acks $((A + 2)); eq "the gateway goes on acknowledging with its file at 0400" 0 $?
chmod 0600 "$DB"

# ---- the end of the load ---------------------------------------------------------------
touch "$T/load.stop"
wait "$L1" "$L2" 2>/dev/null
N=$(acks)
BAD=$(awk '$2 != 201' "$T/load.acks" | head -n 5 | tr '\n' ' ')
eq "every referral of the load acknowledged 201 ($N)" "" "$BAD"
verify; rc=$?
eq "verify after the load: exit 0" 0 $rc
eq "it counts one record per referral of the load" "$((BASE + N))" "$(records "$T/verify.out")"
req legal GET '/v1/admin/audit?limit=1'
expect "the gateway still answers the legal team" 200
finish
