#!/usr/bin/env bash
# t_claims: review claims (docs/reviewers.md): a reviewer claims a case,
# the queue shows who holds it and until when, another reviewer cannot
# decide it or claim it while the claim holds, the holder renews and
# releases it, taking a case claims it, a decision ends the claim, and
# every claim and release is in the audit log. A single reviewer who
# never claims decides exactly as contract section 5 says.
. "$(dirname "$0")/lib.sh"
rg_setup_conf claim_minutes 45
enrol pave partner || finish
enrol rev reviewer || finish
enrol rev2 reviewer || finish

decide() { post_json "${3:-rev}" "/v1/cases/$1/decision" "$2"; }
newcase() { refer pave "$1"; CASE=$(jget "$T/$1.answer" '.cases[0].case_id'); }
ACT='{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"Terrorist content."}'
NOA='{"status":"no_action","ground":"terms_of_service","explanation":"Not illegal."}'
queue_item() { req "${2:-rev}" GET /v1/review/queue; jeval "$BODY" "(c=>c?[c.claimed_by||\"-\",c.claim_expires_at?\"t\":\"-\"].join(\" \"):\"absent\")((j.cases||[]).find(c=>c.case_id===\"$1\"))"; }

# ---- one reviewer, never claiming: the contract's own flow ------------------------
newcase c1; A=$CASE
eq "a new case is unclaimed in the queue" "- -" "$(queue_item "$A")"
decide "$A" '{"status":"in_review"}'
expect "received -> in_review without a claim -> 200" 200
eq "taking the case claims it for the reviewer" "rev" "$(jget "$BODY" .claimed_by)"
eq "the queue shows the claim and its expiry" "rev t" "$(queue_item "$A")"
eq "the claim holds claim_minutes (45 min) from its taking" 2700 \
	"$(dbq "SELECT expires_at - claimed_at FROM case_claims WHERE case_id = '$A'")"
decide "$A" "$ACT"
expect "the same reviewer decides -> 200" 200
eq "a decision ends the claim" "" "$(jget "$BODY" .claimed_by)"
eq "audit: the taking was recorded as a claim by rev" 1 \
	"$(dbq "SELECT COUNT(*) FROM audit WHERE kind = 'claim' AND actor = 'rev' AND object = '$A'")"

# ---- claims hold against another reviewer ------------------------------------------
newcase c2; B=$CASE
req rev POST "/v1/cases/$B/claim"
expect "POST claim on an open case -> 200" 200
eq "the answer names the claimant" "$B rev" "$(jeval "$BODY" 'j.case_id+" "+j.claimed_by')"
first=$(jget "$BODY" .claimed_at)
eq "the queue shows the claim" "rev t" "$(queue_item "$B" rev2)"
decide "$B" '{"status":"in_review"}' rev2
expect_problem "another reviewer takes the claimed case -> 409 conflict" 409 conflict
eq "the conflict names the claimant and the expiry" yes \
	"$(jeval "$BODY" '/claimed by rev until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.test(j.detail)?"yes":"no"')"
req rev2 POST "/v1/cases/$B/claim"
expect_problem "another reviewer claims it -> 409 conflict" 409 conflict
req rev2 DELETE "/v1/cases/$B/claim"
expect_problem "another reviewer releases it -> 409 conflict" 409 conflict
req rev GET "/v1/cases/$B"
eq "the refusals changed nothing (received, claimed by rev)" "received rev" "$(jeval "$BODY" 'j.status+" "+j.claimed_by')"
decide "$B" '{"status":"in_review"}'
expect "the claimant takes it -> 200 (control)" 200
decide "$B" "$ACT" rev2
expect_problem "another reviewer decides it -> 409 conflict" 409 conflict
req rev POST "/v1/cases/$B/claim"
expect "the claimant renews -> 200" 200
eq "a renewal keeps the first claimed_at" "$first" "$(jget "$BODY" .claimed_at)"
req rev DELETE "/v1/cases/$B/claim"
expect "the claimant releases -> 200" 200
eq "the release answers released_at" yes "$(jeval "$BODY" '/Z$/.test(j.released_at||"")?"yes":"no"')"
eq "released: the queue shows no claim" "- -" "$(queue_item "$B" rev2)"
req rev DELETE "/v1/cases/$B/claim"
expect_problem "releasing again -> 404 not_found" 404 not_found
decide "$B" "$NOA" rev2
expect "after the release the other reviewer decides -> 200" 200
# the claimant's taking renewed its claim, then it renewed once more
eq "audit: claim, renewals and release recorded" "claim claim_renew claim_renew release" \
	"$(dbq "SELECT kind FROM audit WHERE object = '$B' AND kind IN ('claim','claim_renew','release') ORDER BY seq" | paste -sd ' ')"
req rev POST "/v1/cases/$B/claim"
expect_problem "claiming a decided case -> 409 bad_transition" 409 bad_transition
eq "the refusal names the status" yes "$(jeval "$BODY" '/no_action/.test(j.detail)?"yes":"no"')"

# ---- roles and ids ------------------------------------------------------------------
newcase c3; C=$CASE
req pave POST "/v1/cases/$C/claim"
expect_problem "a partner claims -> 403 forbidden" 403 forbidden
req legal POST "/v1/cases/$C/claim"
expect_problem "legal claims -> 403 forbidden" 403 forbidden
req rev POST "/v1/cases/c_doesnotexist0000000/claim"
expect_problem "claiming an unknown case -> 404 not_found" 404 not_found
req rev PUT "/v1/cases/$C/claim"
expect_problem "PUT claim -> 405" 405 method_not_allowed
req pave GET "/v1/cases/$C"
eq "a partner's view never shows claims" "" "$(jeval "$BODY" '["claimed_by","claim_expires_at"].filter(k=>k in j).join(",")')"
req rev POST "/v1/cases/$C/claim"
expect "the reviewer claims it -> 200 (control)" 200
req pave GET "/v1/cases/$C"
eq "a partner's view of a claimed case shows no claim either" "" "$(jeval "$BODY" '["claimed_by","claim_expires_at"].filter(k=>k in j).join(",")')"

# ---- refgatectl queue and claim -----------------------------------------------------
newcase c5; F=$CASE
newcase c4; E=$CASE
if ctl claim "$E" --as "$T/p/rev"; then
	eq "refgatectl claim prints one line naming the claimant" yes \
		"$(grep -cE "^$E: claimed by rev until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" "$T/ctl.out" | sed 's/^1$/yes/')"
else notok "refgatectl claim" "$(cat "$T/ctl.out")"; fi
if ctl claim "$E" --as "$T/p/rev2"; then notok "refgatectl claim of another's claim fails" "exit 0"
else eq "refgatectl claim of another's claim fails naming the claimant" yes \
	"$(grep -q "claimed by rev until" "$T/ctl.out" && echo yes)"; fi
if ctl queue --as "$T/p/rev2"; then
	eq "refgatectl queue: a header and the claimed case's row" "CASE STATUS DUE REFS AGE CLAIMED BY|received routine 1 rev" \
		"$(awk -v id="$E" 'NR==1{h=$0; gsub(/ +/," ",h)} $1==id{r=$2" "$3" "$4" "$6} END{print h"|"r}' "$T/ctl.out")"
	eq "refgatectl queue: the claim's time left" yes "$(grep "^$E " "$T/ctl.out" | grep -qE 'rev \([0-9]+m left\)' && echo yes)"
	eq "refgatectl queue: an unclaimed case shows -" "-" "$(awk -v id="$F" '$1==id{print $NF}' "$T/ctl.out")"
else notok "refgatectl queue" "$(cat "$T/ctl.out")"; fi
if ctl queue --json --limit 2 --as "$T/p/rev"; then
	eq "refgatectl queue --json --limit 2: the gateway's JSON, 2 cases" 2 "$(jeval "$T/ctl.out" 'j.cases.length')"
else notok "refgatectl queue --json" "$(cat "$T/ctl.out")"; fi
ctl queue --limit 0 --as "$T/p/rev"; eq "refgatectl queue --limit 0 -> usage (exit 2)" 2 "$?"
if ctl claim "$E" --release --as "$T/p/rev"; then
	eq "refgatectl claim --release prints one line" "$E: released" "$(cat "$T/ctl.out")"
else notok "refgatectl claim --release" "$(cat "$T/ctl.out")"; fi
ctl claim "$E" --as "$T/p/rev2"
eq "after the release the other reviewer claims (exit 0)" 0 "$?"

finish
