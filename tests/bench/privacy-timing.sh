#!/usr/bin/env bash
# tests/bench/privacy-timing.sh - a measurement (not a test): how long a
# partner waits for the answer to a referral of an account no one referred
# before ("fresh") against one of an account another partner referred
# first ("joined", the path that adds a subject to an existing case and
# gives the caller its own id). Contract section 4 promises the two answers
# are the same; this reports whether their timing tells them apart.
#
#   BENCH_ROUNDS=100 bash tests/bench/privacy-timing.sh   (after make)
#
# Each round: partner `other` refers account late_i; then `fresh` refers
# fresh_i and `stale` refers late_i, in a random order. Times are curl's
# time_total for the POST (a new TLS connection each, as a poller without
# keep-alive sees them). Prints the median, p10 and p90 of each path and the
# ratio of the medians. The machine's noise is the limit of what it shows.
set -u
export BIN=${B:-build}
. "$(dirname "$0")/../integration/lib.sh"
ROUNDS=${BENCH_ROUNDS:-60}
rg_setup
for p in fresh stale other; do enrol "$p" partner || finish; done
TAG=$(rnd 8)
F=(); J=()
for i in $(seq "$ROUNDS"); do
	refer other "o$i" "subjects:[{handle:\"late_${TAG}_$i\"}]"
	if [ $((RANDOM % 2)) = 0 ]; then
		refer fresh "f$i" "subjects:[{handle:\"fresh_${TAG}_$i\"}]"; [ "$CODE" = 201 ] && F+=("$SECS")
		refer stale "s$i" "subjects:[{handle:\"late_${TAG}_$i\"}]"; [ "$CODE" = 201 ] && J+=("$SECS")
	else
		refer stale "s$i" "subjects:[{handle:\"late_${TAG}_$i\"}]"; [ "$CODE" = 201 ] && J+=("$SECS")
		refer fresh "f$i" "subjects:[{handle:\"fresh_${TAG}_$i\"}]"; [ "$CODE" = 201 ] && F+=("$SECS")
	fi
done
rg_stop
node -e '
const q=(a,p)=>{a=a.map(Number).sort((x,y)=>x-y);return a[Math.min(a.length-1,Math.floor(p*a.length))]};
const f=process.argv[1].split(" ").filter(Boolean),j=process.argv[2].split(" ").filter(Boolean);
const ms=x=>(x*1000).toFixed(2)+" ms";
for (const [n,a] of [["fresh",f],["joined",j]])
  console.log(`${n.padEnd(7)} n=${a.length} median ${ms(q(a,.5))} p10 ${ms(q(a,.1))} p90 ${ms(q(a,.9))}`);
console.log("ratio of medians joined/fresh: "+(q(j,.5)/q(f,.5)).toFixed(3));' -- "${F[*]}" "${J[*]}"
