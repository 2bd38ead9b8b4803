#!/usr/bin/env bash
# t_decisions: contract section 5: reviewer decisions (the status machine,
# required members, roles) and the review queue order.
. "$(dirname "$0")/lib.sh"
rg_setup
enrol pave partner || finish
enrol agent agency || finish
enrol rev reviewer || finish

decide() { post_json "${3:-rev}" "/v1/cases/$1/decision" "$2"; }
newcase() {   # NAME [MEMBERS] [WHO]: a referral; echoes nothing, sets $CASE
	refer "${3:-pave}" "$1" "${2:-}"
	CASE=$(jget "$T/$1.answer" '.cases[0].case_id')
}
ACT='{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"Removal of terrorist content."}'

# ---- the status machine ----------------------------------------------------------
newcase d1; A=$CASE
decide "$A" "$ACT"
expect_problem "received -> actioned -> 409 bad_transition" 409 bad_transition
decide "$A" '{"status":"no_action","ground":"terms_of_service","explanation":"x"}'
expect_problem "received -> no_action -> 409 bad_transition" 409 bad_transition
decide "$A" '{"status":"received"}'
if problem_ok 409 bad_transition || problem_ok 400 invalid_payload; then ok "status received as a target -> 409 bad_transition or 400 invalid_payload ($CODE)"
else notok "status received as a target -> 409 bad_transition or 400 invalid_payload" "$(last)"; fi
decide "$A" '{"status":"in_review"}'
expect "received -> in_review -> 200" 200
eq "answer is the case view, in_review" "$A in_review" "$(jeval "$BODY" 'j.case_id+" "+j.status')"
decide "$A" '{"status":"in_review"}'
expect_problem "in_review -> in_review -> 409 bad_transition" 409 bad_transition
decide "$A" "$ACT"
expect "in_review -> actioned -> 200 (control for the refused received -> actioned)" 200
eq "actioned with action and decided_at" "actioned content_removed yes" \
	"$(jeval "$BODY" 'j.status+" "+j.action+" "+(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(j.decided_at)?"yes":"no")')"
eq "statement of reasons recorded (ground, explanation, reviewer, automated false)" \
	"illegal_content Removal of terrorist content. rev false" \
	"$(jeval "$BODY" '(d=>[d.ground,d.explanation,d.reviewer,d.automated].join(" "))((j.decisions||[]).slice(-1)[0]||{})')"
decide "$A" '{"status":"in_review"}'
expect_problem "actioned -> in_review -> 409 bad_transition" 409 bad_transition
decide "$A" '{"status":"no_action","ground":"terms_of_service","explanation":"x"}'
expect_problem "actioned -> no_action -> 409 bad_transition" 409 bad_transition
req pave GET "/v1/cases/$A"
eq "partner sees actioned and the action" "actioned content_removed" "$(jeval "$BODY" 'j.status+" "+j.action')"
eq "partner does not see the reviewer or the explanation" false "$(jeval "$BODY" '"decisions" in j || JSON.stringify(j).includes("Removal of terrorist")')"

newcase d2; B=$CASE
decide "$B" '{"status":"in_review"}'
decide "$B" '{"status":"no_action","ground":"terms_of_service","explanation":"Not illegal."}'
expect "in_review -> no_action -> 200" 200
eq "no_action has no action member" "no_action " "$(jeval "$BODY" 'j.status+" "+(j.action||"")')"

# ---- roles -------------------------------------------------------------------------
newcase d3; C=$CASE
decide "$C" '{"status":"in_review"}' pave
expect_problem "partner POSTs a decision -> 403 forbidden" 403 forbidden
decide "$C" '{"status":"in_review"}' agent
expect_problem "agency POSTs a decision -> 403 forbidden" 403 forbidden
decide "$C" '{"status":"in_review"}' legal
expect_problem "legal POSTs a decision -> 403 forbidden" 403 forbidden
req pave GET "/v1/cases/$C"
eq "the refused decisions changed nothing" received "$(jget "$BODY" .status)"
decide "$C" '{"status":"in_review"}'
expect "the same decision from the reviewer -> 200 (control)" 200

# ---- request rules (case C is in_review: actioned would be accepted) -------------------
decide "$C" '{"status":"actioned","action":"content_removed","explanation":"x"}'
expect "missing ground -> 400" 400
problem_ok 400 invalid_payload || problem_ok 400 bad_request && ok "missing ground: problem+json invalid_payload or bad_request" || notok "missing ground: problem+json" "$(last)"
decide "$C" '{"status":"actioned","action":"content_removed","ground":"illegal_content"}'
expect "missing explanation -> 400" 400
decide "$C" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":""}'
expect "empty explanation -> 400" 400
decide "$C" '{"status":"actioned","ground":"illegal_content","explanation":"x"}'
expect "actioned without action -> 400" 400
decide "$C" '{"status":"actioned","action":"banned_forever","ground":"illegal_content","explanation":"x"}'
expect "unknown action -> 400" 400
decide "$C" '{"status":"actioned","action":"content_removed","ground":"vibes","explanation":"x"}'
expect "unknown ground -> 400" 400
decide "$C" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"x","colour":"red"}'
expect_problem "unknown member -> 400 invalid_payload" 400 invalid_payload
decide "$C" '{"status":"closed"}'
expect "unknown status -> 400" 400
decide "$C" 'not json'
expect "body not JSON -> 400" 400
req rev POST "/v1/cases/$C/decision" -H 'Content-Type: text/plain' --data-binary '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"x"}'
expect_problem "decision as text/plain -> 415 unsupported_media_type" 415 unsupported_media_type
req rev GET "/v1/cases/$C"
eq "the refused requests changed nothing" in_review "$(jget "$BODY" .status)"
decide "$C" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"x"}'
expect "the complete decision -> 200 (control for the refusals above)" 200
decide "c_nosuchcase00000000000000" '{"status":"in_review"}'
expect_problem "decision on a missing case -> 404 not_found" 404 not_found

# ---- review queue --------------------------------------------------------------------
# Fresh open cases: routine first, then imminent_harm, then an agency's
# removal order; the queue must list them in the reverse order.
newcase q1 'urgency:"routine"'; QR=$CASE
sleep 1
newcase q2 'urgency:"imminent_harm"'; QI=$CASE
sleep 1
newcase q3 'urgency:"routine", removal_order:{reference:"RO-9", issued_at:new Date().toISOString().replace(/\.\d+Z$/,"Z"), legal_basis:"Regulation (EU) 2021/784"}' agent; QO=$CASE
expect "agency removal order (RFC 3339 issued_at) -> 201" 201
req rev GET /v1/review/queue
expect "GET /v1/review/queue -> 200" 200
order=$(jeval "$BODY" "(j.cases||[]).map(c=>c.case_id).filter(id=>['$QR','$QI','$QO'].includes(id)).join(' ')")
eq "queue: removal-order deadline, then imminent_harm, then routine" "$QO $QI $QR" "$order"
eq "queue lists open cases only (no actioned/no_action)" "" \
	"$(jeval "$BODY" "(j.cases||[]).filter(c=>!['received','in_review'].includes(c.status)).map(c=>c.case_id).join(' ')")"
eq "actioned case $A is not in the queue" false "$(jeval "$BODY" "(j.cases||[]).some(c=>c.case_id==='$A')")"
eq "queue carries urgency and deadline_at" "imminent_harm yes" \
	"$(jeval "$BODY" "(j.cases.find(c=>c.case_id==='$QI')||{}).urgency+' '+((j.cases.find(c=>c.case_id==='$QO')||{}).deadline_at?'yes':'no')")"
# Two distinct principals outrank one (same urgency, no deadline).
newcase q4 'urgency:"urgent"'; Q1P=$CASE
sleep 1
newcase q5 'urgency:"urgent", subjects:[{handle:"two_reporters"}]'; Q2P=$CASE
refer agent q5b 'urgency:"urgent", subjects:[{handle:"Two_Reporters"}]'
req rev GET /v1/review/queue
eq "queue: two principals before one (same urgency, newer)" "$Q2P $Q1P" \
	"$(jeval "$BODY" "(j.cases||[]).map(c=>c.case_id).filter(id=>['$Q1P','$Q2P'].includes(id)).join(' ')")"
req pave GET /v1/review/queue
expect_problem "partner on the review queue -> 403 forbidden" 403 forbidden
req legal GET /v1/review/queue
expect_problem "legal on the review queue -> 403 forbidden" 403 forbidden

finish
