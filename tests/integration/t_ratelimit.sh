#!/usr/bin/env bash
# t_ratelimit: per-principal request budgets (rate_limit_rps = 1,
# rate_limit_burst = 3): a principal over budget gets 429 rate_limited with
# Retry-After while another principal is served; the budget refills; a
# refused referral records nothing. Timing-sensitive requests go out in
# one curl process on one connection, so a loaded machine cannot refill a
# bucket between them.
. "$(dirname "$0")/lib.sh"
rg_setup_conf rate_limit_rps 1 rate_limit_burst 3
enrol p1 partner || finish
sleep 1.2         # the legal principal has a budget too
enrol p2 partner || finish
sleep 1.2
enrol ag1 agency || finish

# tls WHO: curl's TLS and address arguments for principal WHO.
tls() { echo --resolve "localhost:$PORT:127.0.0.1" --cacert "$T/p/$1/ca.pem" --cert "$T/p/$1/cert.pem" --key "$T/p/$1/key.pem"; }
# burst WHO PATH...: one GET per PATH, one curl process, one connection.
# Sets ST (statuses, space-separated); transfer i's body is $T/burst.i,
# its Retry-After is field i of RAS, its content type field i of CTS.
burst() {
	local who=$1 args=() i=0 p out; shift
	for p in "$@"; do i=$((i + 1)); args+=(-o "$T/burst.$i" "$U$p"); done
	# shellcheck disable=SC2046
	out=$(curl -s -w '%{http_code}|%header{retry-after}|%{content_type}\n' --max-time 30 $(tls "$who") "${args[@]}" 2>/dev/null)
	ST=$(echo "$out" | cut -d'|' -f1 | tr '\n' ' '); ST=${ST% }
	RAS=$(echo "$out" | cut -d'|' -f2 | sed 's/^$/-/' | tr '\n' ' ')
	CTS=$(echo "$out" | cut -d'|' -f3 | sed 's/;.*//' | tr '\n' ' ')
}
field() { echo "$2" | cut -d' ' -f"$1"; }

sleep 3.5         # every bucket full
burst p1 /v1/keys /v1/keys /v1/keys /v1/keys /v1/keys /v1/referrals/r_doesnotexist000000000000
req p2 GET /v1/keys; cp "$BODY" "$T/p2.body"; P2=$CODE
req ag1 GET /v1/changes; AG=$CODE
eq "the first 3 requests (burst 3) -> 200" "200 200 200" "$(field 1-3 "$ST")"
N429=$(echo "$ST" | tr ' ' '\n' | sed -n '4,$p' | grep -c '^429$')
if [ "$N429" -ge 2 ]; then ok "requests 4..6 at once: 429 ($ST)"; else notok "requests 4..6 at once: 429" "$ST"; fi
eq "over budget on another endpoint (a 404 one) -> 429, not 404" 429 "$(field 6 "$ST")"
eq "the 429 is problem+json with code rate_limited" "application/problem+json rate_limited 429" \
	"$(field 6 "$CTS") $(jget "$T/burst.6" .code) $(jget "$T/burst.6" .status)"
RA=$(field 6 "$RAS")
case $RA in ''|-|*[!0-9]*) notok "the 429 carries Retry-After in whole seconds" "'$RA'" ;; *)
	if [ "$RA" -ge 1 ] && [ "$RA" -le 5 ]; then ok "the 429 carries Retry-After: $RA (1..5 s at 1 rps)"; else notok "Retry-After within 1..5 s" "$RA"; fi ;; esac
eq "the 200s carry no Retry-After" "- - -" "$(field 1-3 "$RAS")"
eq "meanwhile another partner -> 200" 200 "$P2"
eq "meanwhile an agency -> 200" 200 "$AG"

# The budget refills at 1 request per second.
burst p1 /v1/keys /v1/keys /v1/keys /v1/keys /v1/keys /v1/keys
ne "draining p1 again: 429s" "" "$(echo "$ST" | grep 429)"
t0=$(date +%s%N)
sleep 1.1
burst p1 /v1/keys /v1/keys /v1/keys /v1/keys
t1=$(date +%s%N)
N200=$(echo "$ST" | tr ' ' '\n' | grep -c '^200$')
if [ "$(field 1 "$ST")" = 200 ] && [ "$N200" -ge 1 ] && [ "$N200" -le 2 ]; then
	ok "p1 about 1 s after draining: refilled by 1-2 tokens, not the whole burst ($ST)"
else notok "p1 about 1 s after draining: refilled by 1-2 tokens" "$ST after $(((t1 - t0) / 1000000)) ms"; fi

# p2 drains its own budget; p1's and ag1's are untouched.
sleep 3.5
burst p2 /v1/keys /v1/keys /v1/keys /v1/keys /v1/keys /v1/keys
eq "p2's burst of 6: 3 served, 3 refused" "200 200 200 429 429 429" "$ST"
req p1 GET /v1/keys; expect "p1 unaffected by p2's burst -> 200" 200
req ag1 GET /v1/keys; expect "ag1 unaffected by p2's burst -> 200" 200

# A referral over budget is refused and nothing is recorded.
mkpayload "$T/rl.json" ''
sign ag1 "$T/rl.json" >"$T/rl.jws"
sleep 3.5
# shellcheck disable=SC2046
out=$(curl -s -w '%{http_code} ' --max-time 30 $(tls ag1) -o /dev/null "$U/v1/keys" -o /dev/null "$U/v1/keys" -o /dev/null "$U/v1/keys" -o /dev/null "$U/v1/keys" \
	--next -s -w '%{http_code}' --max-time 30 $(tls ag1) -X POST -H 'Content-Type: application/jose' --data-binary @"$T/rl.jws" -o "$T/rl.body" "$U/v1/referrals" 2>/dev/null)
eq "referral over budget -> 429" 429 "$(echo "$out" | awk '{print $NF}')"
eq "... rate_limited" rate_limited "$(jget "$T/rl.body" .code)"
sleep 2.2
post_jws ag1 "$T/rl.jws"
expect "the same referral after the wait -> 201 (the refused one recorded nothing)" 201
finish
