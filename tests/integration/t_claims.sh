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
	"$(dbq "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM audit WHERE object = '$B' AND kind IN ('claim','claim_renew','release') ORDER BY seq)")"
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

finish
