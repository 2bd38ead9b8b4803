#!/usr/bin/env bash
# t_removal_orders: contract section 9, removal orders (Regulation (EU)
# 2021/784). The order's members and their refusals; the one-hour clock
# first in the queue; cannot_execute (Annex III) and the clarification
# that restarts the clock; the Annex II feedback at GET
# /v1/removal-orders/{reference}, its `feedback` JWS verified with the npm
# jose package against GET /v1/keys; the preservation hold, its
# extension, and a held case the retention purge leaves alone; the notice
# hold, its one extension, what reviewers see of it and the statements
# of reasons it holds back; the metrics. Time is driven without sleeping:
# with the gateway stopped, the order's clock (or a decision, or a notice
# hold) is moved back in the database, as if that much time had passed.
. "$(dirname "$0")/lib.sh"
MPORT=$(free_port) || { notok "free port"; finish; }
rg_setup_conf metrics_listen "127.0.0.1:$MPORT"
enrol pave partner || finish
enrol agent agency || finish
enrol other agency || finish
enrol rev reviewer || finish

DAY=86400
TAG=$(rnd 6)
H() { echo "Ro_$1_$TAG"; }
# dbw SQL: writes the deployment's database (the gateway stopped).
dbw() {
	if [ "$RG_DB" = pg ]; then pg_psql "$1" >/dev/null; return; fi
	sqlite3 -cmd '.timeout 10000' "$(conf_path database)" "$1"
}
# path of an order's resources: /v1/removal-orders/<percent-encoded ref>
opath() { echo "/v1/removal-orders/$(urlenc "$1")${2:+/$2}"; }
decide() { post_json rev "/v1/cases/$1/decision" "$2"; }
take() { decide "$1" '{"status":"in_review"}'; }
action() {
	take "$1"
	decide "$1" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"Terrorist content removed on a removal order."}'
	[ "$CODE" = 200 ] || notok "actioned $1" "$(last)"
}
# order NAME WHO REF HANDLE [MEMBERS]: a referral carrying removal order
# REF; sets CASE
order() {
	refer "$2" "$1" "subjects:[{handle:\"$4\"}], removal_order:{reference:\"$3\", issued_at:now, legal_basis:\"Regulation (EU) 2021/784, Art. 3\"${5:+, $5}}"
	CASE=$(jget "$T/$1.answer" '.cases[0].case_id')
}

# ---- the order's members -----------------------------------------------------
R1="TCO/2026/$TAG-1"     # a reference with slashes, sent percent-encoded
order o1 agent "$R1" "$(H one)" 'issuing_authority:"Bundeskriminalamt", withhold_notice_until:now+7*86400'
expect "an agency's referral with a removal order, an issuing authority and a notice hold: 201" 201
C1=$CASE
RECV1=$(jget "$T/o1.answer" .received_at)

refer pave bad1 'removal_order:{reference:"P-1", issued_at:now, legal_basis:"x"}'
expect_problem "a partner's removal order is refused: 400" 400 invalid_payload
eq "... naming /removal_order" /removal_order "$(jget "$BODY" '.errors[0].pointer')"
refer pave bad1b 'removal_order:{reference:"P-2", issued_at:now, legal_basis:"x", withhold_notice_until:now+86400}'
expect_problem "a notice hold on a partner's referral is refused: 400" 400 invalid_payload
refer agent bad2 'removal_order:{reference:"A-2", issued_at:now, legal_basis:"x", withhold_notice_until:now+43*86400}'
expect_problem "withhold_notice_until past 6 weeks after issued_at: 400" 400 invalid_payload
eq "... naming its JSON pointer" /removal_order/withhold_notice_until "$(jget "$BODY" '.errors[0].pointer')"
refer agent bad3 'removal_order:{reference:"A-3", issued_at:now, legal_basis:"x", withhold_notice_until:"tomorrow"}'
expect_problem "a withhold_notice_until that is no date: 400" 400 invalid_payload
eq "... naming its JSON pointer" /removal_order/withhold_notice_until "$(jget "$BODY" '.errors[0].pointer')"
refer agent bad4 'removal_order:{reference:"A-4", issued_at:now, legal_basis:"x", issuing_authority:"'"$(printf 'a%.0s' $(seq 201))"'"}'
expect_problem "an issuing_authority of 201 characters: 400" 400 invalid_payload
eq "... naming its JSON pointer" /removal_order/issuing_authority "$(jget "$BODY" '.errors[0].pointer')"
refer agent bad5 'removal_order:{reference:"A-5", issued_at:now, legal_basis:"x", issuing_authority:""}'
expect_problem "an empty issuing_authority: 400" 400 invalid_payload

# ---- the feedback -----------------------------------------------------------------
req agent GET /v1/keys; cp "$BODY" "$T/jwks.json"
req agent GET "$(opath "$R1")"
expect "the issuing agency reads its order's feedback: 200" 200
present "... with the Annex II members and the signed feedback" reference received_at deadline_at status action \
	actioned_at within_deadline reason preserved_until notice_withheld_until feedback
eq "... reference, received_at, status" "$R1 $RECV1 received" "$(jeval "$BODY" '[j.reference,j.received_at,j.status].join(" ")')"
eq "... the deadline is received_at + 3600 s" 3600 \
	"$(jeval "$BODY" '(Date.parse(j.deadline_at)-Date.parse(j.received_at))/1000')"
eq "... the notice hold as sent" true \
	"$(jeval "$BODY" 'Math.abs(Date.parse(j.notice_withheld_until)/1000 - (Date.parse(j.received_at)/1000 + 7*86400)) < 30')"
cp "$BODY" "$T/fb1.json"
if node "$ITDIR/verify_feedback.mjs" "$T/jwks.json" "$T/fb1.json" 2>"$T/vf.err"; then
	ok "the feedback JWS verifies with jose against GET /v1/keys, typ refgate-feedback+json, over the other members"
else notok "the feedback JWS verifies with jose" "$(head -c 400 "$T/vf.err")"; fi
# control: a changed member no longer matches what was signed
jeval "$T/fb1.json" 'JSON.stringify({...j, status:"actioned"})' >"$T/fb1x.json"
if node "$ITDIR/verify_feedback.mjs" "$T/jwks.json" "$T/fb1x.json" 2>/dev/null; then
	notok "a feedback answer with a changed member fails the check (control)"
else ok "a feedback answer with a changed member fails the check (control)"; fi

req other GET "$(opath "$R1")"
expect_problem "another agency asks for the order: 404" 404 not_found
req pave GET "$(opath "$R1")"
expect_problem "a partner asks for it: 404" 404 not_found
req agent GET "$(opath "NOPE-$TAG")"
expect_problem "an unknown reference: 404" 404 not_found
req agent GET "/v1/removal-orders/%FF%FE"
expect_problem "a reference that is no UTF-8: 404" 404 not_found
req agent GET "/v1/removal-orders/$(printf 'x%.0s' $(seq 129))"
expect_problem "a reference of 129 characters: 404" 404 not_found

req agent GET "/v1/cases/$C1"
eq "the agency's case view has the one-hour deadline" "$(jget "$T/fb1.json" .deadline_at)" "$(jget "$BODY" .deadline_at)"

# ---- the queue --------------------------------------------------------------------
refer pave urgent "subjects:[{handle:\"$(H urgent)\"}], urgency:\"imminent_harm\""
req rev GET /v1/review/queue
eq "the removal order's case comes first in the queue, before imminent_harm" "$C1" "$(jget "$BODY" '.cases[0].case_id')"
eq "... and shows its notice hold to reviewers" true \
	"$(jeval "$BODY" 'typeof j.cases[0].notice_withheld_until==="string"')"
req rev GET "/v1/cases/$C1"
eq "the reviewer's case view shows the notice hold" "$(jget "$T/fb1.json" .notice_withheld_until)" "$(jget "$BODY" .notice_withheld_until)"
req agent GET "/v1/cases/$C1"
absent "the agency's own case view does not carry notice_withheld_until" notice_withheld_until

# ---- cannot_execute and the clarification ------------------------------------------------
PC=$(jget "$T/urgent.answer" '.cases[0].case_id')
take "$PC"
decide "$PC" '{"status":"cannot_execute","reason":"manifest_error","explanation":"No order."}'
expect_problem "cannot_execute on a case no removal order named: 409 bad_transition" 409 bad_transition
decide "$C1" '{"status":"cannot_execute","reason":"too_busy","explanation":"x"}'
expect_problem "cannot_execute with a reason outside Annex III: 400" 400 invalid_payload
eq "... naming /reason" /reason "$(jget "$BODY" '.errors[0].pointer')"
decide "$C1" '{"status":"cannot_execute","reason":"manifest_error","explanation":"x","action":"content_removed"}'
expect_problem "cannot_execute with an action: 400" 400 invalid_payload
decide "$C1" '{"status":"cannot_execute","reason":"manifest_error"}'
expect_problem "cannot_execute without an explanation: 400" 400 invalid_payload
decide "$C1" '{"status":"cannot_execute","reason":"insufficient_information","explanation":"The order names no content we can find."}'
expect "cannot_execute on the removal order's case: 200" 200
eq "... the case is cannot_execute for the reviewer" cannot_execute "$(jget "$BODY" .status)"
req rev GET /v1/review/queue
eq "... it left the queue (the clock stopped)" no "$(jeval "$BODY" 'j.cases.some(c=>c.case_id==="'"$C1"'")?"yes":"no"')"
req agent GET "$(opath "$R1")"
eq "the feedback says cannot_execute with its reason" "cannot_execute insufficient_information" \
	"$(jeval "$BODY" 'j.status+" "+j.reason')"
req agent GET "/v1/cases/$C1"
eq "the agency's case view still shows received (cannot_execute is read in the feedback)" received "$(jget "$BODY" .status)"
decide "$C1" '{"status":"in_review"}'
expect_problem "a cannot_execute case cannot be taken again by a reviewer: 409" 409 bad_transition

sleep 1   # the clarification's receipt is a later second than the order's
order o1b agent "$R1" "$(H one)"
expect "the same agency sends the same reference again (the clarification): 201" 201
eq "... it joins the same case" "$C1" "$CASE"
RECV1B=$(jget "$T/o1b.answer" .received_at)
req agent GET "$(opath "$R1")"
eq "the clarification restarts the clock: received, received_at is the clarification's, reason cleared" \
	"received $RECV1B null" "$(jeval "$BODY" 'j.status+" "+j.received_at+" "+j.reason')"
eq "... with a new hour" 3600 "$(jeval "$BODY" '(Date.parse(j.deadline_at)-Date.parse(j.received_at))/1000')"
req rev GET "/v1/cases/$C1"
eq "the case is received again with the new deadline" "received $(jget "$BODY" .deadline_at)" \
	"$(jeval "$BODY" 'j.status') $(jget "$BODY" .deadline_at)"
req rev GET /v1/review/queue
eq "... and first in the queue again" "$C1" "$(jget "$BODY" '.cases[0].case_id')"

# another agency's order under the same reference is its own
order o1c other "$R1" "$(H other)"
expect "another agency may use the same reference for its own order: 201" 201
req other GET "$(opath "$R1")"
eq "... and reads its own order under it" "200 received $(jget "$T/o1c.answer" .received_at)" \
	"$CODE $(jeval "$BODY" 'j.status+" "+j.received_at')"

# ---- within the hour, and after it ---------------------------------------------------------
R2="RO-$TAG-2"
order o2 agent "$R2" "$(H two)"; C2=$CASE
action "$C2"
req agent GET "$(opath "$R2")"
eq "actioned within the hour: actioned, content_removed, within_deadline true" "actioned content_removed true" \
	"$(jeval "$BODY" 'j.status+" "+j.action+" "+j.within_deadline')"
eq "... preserved for 183 days from the decision" 15811200 \
	"$(jeval "$BODY" '(Date.parse(j.preserved_until)-Date.parse(j.actioned_at))/1000')"
P2=$(jget "$BODY" .preserved_until)

R3="RO-$TAG-3"
order o3 agent "$R3" "$(H three)"; C3=$CASE
rg_stop
dbw "UPDATE removal_orders SET received_at = received_at - 7200, deadline_at = deadline_at - 7200 WHERE reference IN ('$R1', '$R3') AND agency = 'agent';
UPDATE cases SET deadline_at = deadline_at - 7200 WHERE id IN ('$C1', '$C3');" || notok "moving the clocks of orders 1 and 3 back two hours"
rg_start || finish
# metric NAME: its value on /metrics
metric() { curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
eq "metrics: 3 removal orders open (1, 3, the other agency's)" 3 "$(metric refgate_removal_orders_open)"
eq "metrics: 2 orders overdue" 2 "$(metric refgate_removal_orders_open_overdue)"
eq "metrics: 1 actioned within the hour" 1 "$(metric refgate_removal_orders_actioned_within_hour)"
action "$C3"
req agent GET "$(opath "$R3")"
eq "actioned after the hour: within_deadline false" "actioned false" "$(jeval "$BODY" 'j.status+" "+j.within_deadline')"
eq "metrics: 1 actioned after the hour, 1 order overdue left" "1 1" \
	"$(metric refgate_removal_orders_actioned_after_hour) $(metric refgate_removal_orders_open_overdue)"

# refgatectl decide answers cannot_execute too
R4="RO-$TAG-4"
order o4 agent "$R4" "$(H four)"; C4=$CASE
ctl decide "$C4" --status cannot_execute --reason bogus --explanation "x" --as "$T/p/rev"
ne "refgatectl decide --reason outside Annex III is refused" 0 "$?"
if ctl decide "$C4" --status cannot_execute --reason force_majeure --explanation "Data centre outage." --as "$T/p/rev"; then
	ok "refgatectl decide --status cannot_execute --reason force_majeure"
else notok "refgatectl decide --status cannot_execute" "$(cat "$T/ctl.out")"; fi
req agent GET "$(opath "$R4")"
eq "... the feedback says so" "cannot_execute force_majeure" "$(jeval "$BODY" 'j.status+" "+j.reason')"
req rev GET "/v1/cases/$C4"
eq "... the reviewer sees the decision with its reason, no ground" "cannot_execute force_majeure none" \
	"$(jeval "$BODY" '(d=>d.status+" "+d.reason+" "+(d.ground||"none"))(j.decisions.slice(-1)[0])')"
eq "metrics: a cannot_execute order is neither open nor overdue (2 open, 1 overdue as before)" "2 1" \
	"$(metric refgate_removal_orders_open) $(metric refgate_removal_orders_open_overdue)"

# ---- preservation ------------------------------------------------------------------
post_json agent "$(opath "$R2" preservation)" '{"until":"2020-01-01T00:00:00Z","reason":"Investigation"}'
expect_problem "a preservation hold in the past: 400" 400 invalid_payload
eq "... naming /until" /until "$(jget "$BODY" '.errors[0].pointer')"
EARLY=$(node -e 'console.log(new Date(Date.parse(process.argv[1]) - 86400e3).toISOString().replace(/\.000Z$/,"Z"))' "$P2")
post_json agent "$(opath "$R2" preservation)" "{\"until\":\"$EARLY\",\"reason\":\"Investigation\"}"
expect_problem "a preservation hold earlier than the hold now: 400" 400 invalid_payload
eq "... naming /until" /until "$(jget "$BODY" '.errors[0].pointer')"
FAR=$(node -e 'console.log(new Date(Date.now() + 366*86400e3).toISOString().replace(/\.\d+Z$/,"Z"))')
post_json agent "$(opath "$R2" preservation)" "{\"until\":\"$FAR\",\"reason\":\"Investigation\"}"
expect_problem "a preservation hold more than 365 days after the request: 400" 400 invalid_payload
post_json agent "$(opath "$R2" preservation)" "{\"until\":\"$(node -e 'console.log(new Date(Date.now() + 300*86400e3).toISOString().replace(/\.\d+Z$/,"Z"))')\"}"
expect_problem "a preservation hold without a reason: 400" 400 invalid_payload
eq "... naming /reason" /reason "$(jget "$BODY" '.errors[0].pointer')"
LATER=$(node -e 'console.log(new Date(Date.now() + 300*86400e3).toISOString().replace(/\.\d+Z$/,"Z"))')
post_json other "$(opath "$R2" preservation)" "{\"until\":\"$LATER\",\"reason\":\"Investigation\"}"
expect_problem "another agency extends the hold of this reference: 404" 404 not_found
post_json pave "$(opath "$R2" preservation)" "{\"until\":\"$LATER\",\"reason\":\"Investigation\"}"
expect_problem "a partner extends it: 404" 404 not_found
post_json agent "$(opath "$R2" preservation)" "{\"until\":\"$LATER\",\"reason\":\"Investigation\"}"
expect "the issuing agency moves the hold 300 days out: 200" 200
eq "... the feedback shows the new hold" "$LATER" "$(jget "$BODY" .preserved_until)"
eq "... and the case is held until then" "$(node -e 'console.log(Date.parse(process.argv[1])/1000)' "$LATER")" \
	"$(dbq "SELECT preserved_until FROM cases WHERE id = '$C2';")"

# the held case is never purged: closed 400 days ago, retention 365 days
REF2=$(jget "$T/o2.answer" .referral_id)
rg_stop
dbw "UPDATE cases SET decided_at = decided_at - 400*$DAY, opened_at = opened_at - 400*$DAY WHERE id = '$C2';" || notok "moving C2's decision back"
rg_start || finish
if ctl purge; then ok "refgatectl purge"; else notok "refgatectl purge" "$(cat "$T/ctl.out")"; fi
eq "the purge found the case due and held it: nothing erased, 1 held" "0 1" "$(jeval "$T/ctl.out" 'j.cases+" "+j.held')"
eq "the purge left the held case alone" "0" "$(dbq "SELECT purged_at FROM cases WHERE id = '$C2';")"
eq "... its referral keeps its content" "0 yes" "$(dbq "SELECT purged_at || ' ' || CASE WHEN length(sealed) > 0 THEN 'yes' ELSE 'no' END FROM referrals WHERE id = '$REF2';")"

# ---- the notice hold -----------------------------------------------------------------------
W1=$(jget "$T/fb1.json" .notice_withheld_until)
PAST6=$(node -e 'console.log(new Date(Date.parse(process.argv[1]) + 43*86400e3).toISOString().replace(/\.000Z$/,"Z"))' "$W1")
post_json agent "$(opath "$R1" withhold)" "{\"until\":\"$PAST6\"}"
expect_problem "a notice hold extended by more than 6 weeks: 400" 400 invalid_payload
eq "... naming /until" /until "$(jget "$BODY" '.errors[0].pointer')"
post_json agent "$(opath "$R1" withhold)" '{"until":"soon"}'
expect_problem "a notice hold extension that is no date: 400" 400 invalid_payload
post_json other "$(opath "$R1" withhold)" "{\"until\":\"$W1\"}"
expect_problem "another agency's hold on this reference... is its own order's, which has none: 409" 409 bad_transition
post_json pave "$(opath "$R1" withhold)" "{\"until\":\"$W1\"}"
expect_problem "a partner asks for a notice hold: 404" 404 not_found
post_json agent "$(opath "$R2" withhold)" "{\"until\":\"$W1\"}"
expect_problem "an order without a notice hold cannot extend one: 409" 409 bad_transition
PLUS6=$(node -e 'console.log(new Date(Date.parse(process.argv[1]) + 42*86400e3).toISOString().replace(/\.000Z$/,"Z"))' "$W1")
post_json agent "$(opath "$R1" withhold)" "{\"until\":\"$PLUS6\"}"
expect "the issuing agency extends the notice hold by 6 weeks: 200" 200
eq "... the feedback shows it" "$PLUS6" "$(jget "$BODY" .notice_withheld_until)"
req rev GET "/v1/cases/$C1"
eq "... and so does the reviewer's case view" "$PLUS6" "$(jget "$BODY" .notice_withheld_until)"
PLUS7=$(node -e 'console.log(new Date(Date.parse(process.argv[1]) + 86400e3).toISOString().replace(/\.000Z$/,"Z"))' "$PLUS6")
post_json agent "$(opath "$R1" withhold)" "{\"until\":\"$PLUS7\"}"
expect_problem "a second extension (one day more) is refused: 409" 409 bad_transition
req agent GET "$(opath "$R1")"
eq "... the hold stays as first extended" "$PLUS6" "$(jget "$BODY" .notice_withheld_until)"

# the statement of reasons of a case under a notice hold waits
action "$C1"
PUID1=$(dbq "SELECT puid FROM statements WHERE case_id = '$C1';")
ne "the actioned case under a notice hold has its statement recorded" "" "$PUID1"
PUID2=$(dbq "SELECT puid FROM statements WHERE case_id = '$C2';")
req legal GET '/v1/admin/statements?pending=true&limit=1000'
eq "the pending statements leave out the held one and list the others" "no yes" \
	"$(jeval "$BODY" '["'"$PUID1"'","'"$PUID2"'"].map(p=>j.statements.some(s=>s.puid===p)?"yes":"no").join(" ")')"
req legal GET '/v1/admin/statements?limit=1000'
eq "the whole list does not release the held one either" no \
	"$(jeval "$BODY" 'j.statements.some(s=>s.puid==="'"$PUID1"'")?"yes":"no"')"
# the push to (a stand-in of) the DSA Transparency Database leaves it
printf 'tok-%s|%s\n' "$(rnd 4)" "$(rnd 40)" >"$T/dsa.token"; chmod 600 "$T/dsa.token"
node "$ITDIR/helpers/dsa-standin.mjs" --token-file "$T/dsa.token" --port-file "$T/dsa.port" >>"$T/standin.log" 2>&1 &
BGPIDS="$BGPIDS $!"
for i in $(seq 100); do [ -s "$T/dsa.port" ] && break; sleep 0.1; done
[ -s "$T/dsa.port" ] || { notok "the DSA stand-in starts" "$(tail -n 3 "$T/standin.log")"; finish; }
SU=http://127.0.0.1:$(cat "$T/dsa.port")/api/v1
push() { "$BIN/refgatectl" -c "$D/refgate.conf" statements push --endpoint "$SU" --token-file "$T/dsa.token" >"$T/push.out" 2>&1; }
stored() { curl -sS "http://127.0.0.1:$(cat "$T/dsa.port")/_state" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(["'"$PUID1"'","'"$PUID2"'"].map(p=>p in j.stored?"yes":"no").join(" "))})'; }
push; eq "statements push exits 0" 0 "$?"
eq "the push sent the released statement and not the held one" "no yes" "$(stored)"
rg_stop
dbw "UPDATE removal_orders SET notice_withheld_until = 1000 WHERE agency = 'agent' AND reference = '$R1';" || notok "ending the notice hold"
rg_start || finish
req legal GET '/v1/admin/statements?pending=true&limit=1000'
eq "once the notice hold has passed, the statement is released" yes \
	"$(jeval "$BODY" 'j.statements.some(s=>s.puid==="'"$PUID1"'")?"yes":"no"')"
push; eq "statements push exits 0 again" 0 "$?"
eq "... and now sends it" "yes yes" "$(stored)"
req rev GET "/v1/cases/$C1"
absent "... and the reviewer's view no longer shows a notice hold" notice_withheld_until

# ---- the transparency report -------------------------------------------------------------------
TODAY=$(date -u +%F)
req legal GET "/v1/admin/report?from=$TODAY&to=$TODAY"
eq "the report counts the cannot_execute answers by reason (order 1 before its clarification, order 4)" \
	"1 0 1" "$(jeval "$BODY" '(c=>[c.force_majeure,c.manifest_error,c.insufficient_information].join(" "))(j.removal_orders.cannot_execute)')"
eq "... and order 4 as not actioned" true "$(jeval "$BODY" 'j.removal_orders.not_actioned>=1')"

# ---- the audit log ---------------------------------------------------------------------------
req legal GET '/v1/admin/audit?limit=1000'
eq "the hold changes are audited by the agency" "notice_hold:agent preservation:agent" \
	"$(jeval "$BODY" 'j.records.filter(r=>r.kind==="preservation"||r.kind==="notice_hold").map(r=>r.kind+":"+r.actor).sort().join(" ")')"

finish
