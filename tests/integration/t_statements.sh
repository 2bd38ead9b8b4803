#!/usr/bin/env bash
# t_statements: contract section 10: statements of reasons. One per
# actioned decision with the field mapping (decision, ground with the
# reviewer's legal_ground or the configured default, category, content
# type from the evidence, source from the enrolment's trusted_flagger,
# dates, territorial scope), no personal data, GET /v1/admin/statements,
# and `refgatectl statements push` against a stand-in of the DSA
# Transparency Database (helpers/dsa-standin.mjs): killed in the middle
# of a push and run again, every statement arrives exactly once; a bad
# token gets 401 and exports nothing.
. "$(dirname "$0")/lib.sh"
TERMS="Community Guidelines, section 4 (violent organisations)"
rg_setup_conf statement_terms_ground "$TERMS"
enrol pave_ngo partner || finish
enrol flagger_tf partner --trusted-flagger || finish
enrol agency_bka agency || finish
enrol reviewer_ann reviewer || finish
PRINCIPALS="pave_ngo flagger_tf agency_bka reviewer_ann legal"

decide() { post_json reviewer_ann "/v1/cases/$1/decision" "$2"; }
# actioned CASE ACTION GROUND [EXTRA-MEMBERS]: in_review, then actioned.
actioned() {
	decide "$1" '{"status":"in_review"}'
	decide "$1" "{\"status\":\"actioned\",\"action\":\"$2\",\"ground\":\"$3\",\"explanation\":\"Reviewed the posts named in the referral.\"${4:+,$4}}"
}
newcase() {   # WHO NAME MEMBERS: sets CASE
	refer "$1" "$2" "$3"
	CASE=$(jget "$T/$2.answer" '.cases[0].case_id')
	[ -n "$CASE" ] || notok "referral $2 recorded" "$(last)"
}
SHA=$(printf 'b%.0s' $(seq 64))

# ---- enrolment: trusted_flagger ------------------------------------------------------
req legal GET /v1/admin/principals
eq "principals listing: flagger_tf is a trusted flagger, pave_ngo is not" "true false" \
	"$(jeval "$BODY" '["flagger_tf","pave_ngo"].map(n=>(j.principals.find(p=>p.name===n)||{}).trusted_flagger).join(" ")')"
ctl enroll rev2 --role reviewer --out "$T/p/rev2" --trusted-flagger; rc=$?
eq "enroll --trusted-flagger for a reviewer -> usage error (exit 2)" 2 "$rc"
post_json legal /v1/admin/principals '{"name":"x1","role":"agency","certificates":["x"],"trusted_flagger":true}'
expect_problem "enrol an agency as trusted flagger -> 400 invalid_payload" 400 invalid_payload
eq "... the problem names trusted_flagger" true "$(jeval "$BODY" 'JSON.stringify(j).includes("/trusted_flagger")')"

# ---- decisions and their statements --------------------------------------------------------
newcase pave_ngo ra 'category:"terrorist_content", subjects:[{handle:"@Alpha_Acct", account_id:"0004242"}], evidence:[{url:"https://evidence.example/alpha-1.png", sha256:"'"$SHA"'", media_type:"image/png", captured_at:"2026-01-10T08:00:00Z"}, {url:"https://evidence.example/alpha-2.mp4", sha256:"'"$SHA"'", media_type:"video/mp4", captured_at:"2025-12-01T09:30:00Z"}]'
A=$CASE
newcase flagger_tf rb 'category:"hate_speech", subjects:[{account_id:"777123456"}]'
B=$CASE
newcase agency_bka rc 'category:"incitement_to_violence", subjects:[{url:"https://x.com/Gamma_Acct/status/123456789"}], evidence:[{url:"https://evidence.example/gamma.txt", sha256:"'"$SHA"'", media_type:"text/plain"}]'
C=$CASE
newcase pave_ngo rd 'category:"other_illegal", subjects:[{handle:"delta_acct"}]'
Dc=$CASE
for n in e f g; do newcase pave_ngo "r$n" "category:\"violent_extremism\", subjects:[{handle:\"${n}_extra_acct\"}]"; eval "C_$n=\$CASE"; done

# Refusals of legal_ground (case A is in_review after the first call).
decide "$A" '{"status":"in_review","legal_ground":"Section 130 StGB"}'
expect_problem "legal_ground on in_review -> 400 invalid_payload" 400 invalid_payload
LONG=$(printf 'x%.0s' $(seq 501))
decide "$A" '{"status":"in_review"}'
decide "$A" "{\"status\":\"actioned\",\"action\":\"content_removed\",\"ground\":\"illegal_content\",\"explanation\":\"x\",\"legal_ground\":\"$LONG\"}"
expect_problem "legal_ground of 501 characters -> 400 invalid_payload" 400 invalid_payload
decide "$A" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"Reviewed the posts named in the referral.","legal_ground":""}'
expect_problem "empty legal_ground -> 400 invalid_payload" 400 invalid_payload
decide "$A" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"Reviewed the posts named in the referral.","legal_ground":"Section 130 StGB (incitement of the people)"}'
expect "actioned with legal_ground -> 200 (control for the refusals)" 200
eq "the reviewer's view shows the decision's legal_ground" "Section 130 StGB (incitement of the people)" \
	"$(jeval "$BODY" '(j.decisions||[]).slice(-1)[0].legal_ground')"
actioned "$B" account_suspended terms_of_service
expect "B actioned (terms_of_service, no legal_ground) -> 200" 200
actioned "$C" content_restricted illegal_content
expect "C actioned (illegal_content, no legal_ground) -> 200" 200
decide "$Dc" '{"status":"in_review"}'
decide "$Dc" '{"status":"no_action","ground":"terms_of_service","explanation":"Not illegal."}'
expect "D no_action -> 200" 200
for n in e f g; do eval "X=\$C_$n"; actioned "$X" content_removed illegal_content; done
expect "E, F, G actioned -> 200" 200

req legal GET /v1/admin/statements
expect "GET /v1/admin/statements as legal -> 200" 200
cp "$BODY" "$T/list.json"
eq "six statements (one per actioned decision, none for no_action), oldest first" "$A $B $C $C_e $C_f $C_g" \
	"$(jeval "$T/list.json" 'j.statements.map(s=>s.puid.replace(/-\d+$/,"")).join(" ")')"
eq "every puid is <case_id>-<decision id> and matches ^[A-Za-z0-9_-]+\$" true \
	"$(jeval "$T/list.json" 'j.statements.every(s=>/^c_[A-Za-z0-9_-]+-\d+$/.test(s.puid))')"
eq "none exported yet (exported_at null)" true "$(jeval "$T/list.json" 'j.statements.every(s=>s.exported_at===null)')"
eq "next is a cursor" true "$(jeval "$T/list.json" 'typeof j.next==="string" && j.next.length>0')"
eq "statements in the database = actioned decisions (recorded with them)" "6 6" \
	"$(dbq 'SELECT (SELECT COUNT(*) FROM statements), (SELECT COUNT(*) FROM decisions WHERE status = 2)' | tr '|' ' ')"

stmt() { jeval "$T/list.json" "(s=>($2))(j.statements.find(s=>s.puid.startsWith('$1-')))"; }
eq "A: content removed -> DECISION_VISIBILITY_CONTENT_REMOVED, no decision_account" '["DECISION_VISIBILITY_CONTENT_REMOVED"] none' \
	"$(stmt "$A" 'JSON.stringify(s.decision_visibility)+" "+(s.decision_account||"none")')"
eq "A: illegal content with the reviewer's legal ground and the explanation" \
	"DECISION_GROUND_ILLEGAL_CONTENT|Section 130 StGB (incitement of the people)|Reviewed the posts named in the referral.|none" \
	"$(stmt "$A" '[s.decision_ground,s.illegal_content_legal_ground,s.illegal_content_explanation,s.incompatible_content_ground||"none"].join("|")')"
eq "A: terrorist_content -> RISK_FOR_PUBLIC_SECURITY + KEYWORD_TERRORIST_CONTENT" "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY KEYWORD_TERRORIST_CONTENT" \
	"$(stmt "$A" 's.category+" "+s.category_specification.join(",")')"
eq "A: content types from the evidence (image, video), no content_type_other" "CONTENT_TYPE_IMAGE,CONTENT_TYPE_VIDEO none" \
	"$(stmt "$A" 's.content_type.join(",")+" "+(s.content_type_other||"none")')"
eq "A: content_date = earliest captured_at, application_date = today" "2025-12-01 $(date -u +%F)" \
	"$(stmt "$A" 's.content_date+" "+s.application_date')"
eq "A: a partner's notice -> SOURCE_ARTICLE_16, no source_identity" "SOURCE_ARTICLE_16 none" \
	"$(stmt "$A" 's.source_type+" "+(s.source_identity||"none")')"
eq "A: decision_facts, not automated" "Reviewed the posts named in the referral.|No|AUTOMATED_DECISION_NOT_AUTOMATED" \
	"$(stmt "$A" '[s.decision_facts,s.automated_detection,s.automated_decision].join("|")')"
eq "A: territorial scope: the EEA's 30 countries (default)" "30 AT,BE,BG,CY,CZ,DE,DK,EE,ES,FI,FR,GR,HR,HU,IE,IS,IT,LI,LT,LU,LV,MT,NL,NO,PL,PT,RO,SE,SI,SK" \
	"$(stmt "$A" 's.territorial_scope.length+" "+s.territorial_scope.join(",")')"
eq "B: account suspended -> DECISION_ACCOUNT_SUSPENDED, no decision_visibility" "DECISION_ACCOUNT_SUSPENDED none" \
	"$(stmt "$B" 's.decision_account+" "+(s.decision_visibility?"present":"none")')"
eq "B: terms_of_service -> INCOMPATIBLE_CONTENT with the configured ground" \
	"DECISION_GROUND_INCOMPATIBLE_CONTENT|$TERMS|Reviewed the posts named in the referral.|none" \
	"$(stmt "$B" '[s.decision_ground,s.incompatible_content_ground,s.incompatible_content_explanation,s.illegal_content_legal_ground||"none"].join("|")')"
eq "B: hate_speech -> ILLEGAL_OR_HARMFUL_SPEECH + KEYWORD_HATE_SPEECH" "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH KEYWORD_HATE_SPEECH" \
	"$(stmt "$B" 's.category+" "+s.category_specification.join(",")')"
eq "B: no evidence -> CONTENT_TYPE_OTHER, content_type_other account" "CONTENT_TYPE_OTHER account" \
	"$(stmt "$B" 's.content_type.join(",")+" "+s.content_type_other')"
eq "B: content_date without evidence = the referral's day" "$(date -u +%F)" "$(stmt "$B" 's.content_date')"
eq "B: a trusted flagger's notice -> SOURCE_TRUSTED_FLAGGER" SOURCE_TRUSTED_FLAGGER "$(stmt "$B" 's.source_type')"
eq "C: content restricted -> DECISION_VISIBILITY_CONTENT_DISABLED" '["DECISION_VISIBILITY_CONTENT_DISABLED"]' \
	"$(stmt "$C" 'JSON.stringify(s.decision_visibility)')"
eq "C: illegal_content without legal_ground -> the default legal ground" true \
	"$(stmt "$C" 's.illegal_content_legal_ground.startsWith("Illegal content under Union law")')"
eq "C: incitement -> VIOLENCE + KEYWORD_INCITEMENT_VIOLENCE_HATRED, text evidence" "STATEMENT_CATEGORY_VIOLENCE KEYWORD_INCITEMENT_VIOLENCE_HATRED CONTENT_TYPE_TEXT" \
	"$(stmt "$C" 's.category+" "+s.category_specification.join(",")+" "+s.content_type.join(",")')"
eq "C: an agency's notice -> SOURCE_TYPE_OTHER_NOTIFICATION" SOURCE_TYPE_OTHER_NOTIFICATION "$(stmt "$C" 's.source_type')"
eq "E: violent_extremism -> RISK_FOR_PUBLIC_SECURITY + KEYWORD_ILLEGAL_ORGANIZATIONS" "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY KEYWORD_ILLEGAL_ORGANIZATIONS" \
	"$(stmt "$C_e" 's.category+" "+s.category_specification.join(",")')"

# ---- no personal data ------------------------------------------------------------------------
# Every identifier, principal name and URL the scenario used, searched
# (case-insensitively, as whole words: the principal "legal" is not the
# "illegal" of DECISION_GROUND_ILLEGAL_CONTENT) in every statement, as
# listed and as stored.
NEEDLES="$PRINCIPALS Alpha_Acct 4242 0004242 777123456 Gamma_Acct 123456789 delta_acct e_extra_acct f_extra_acct g_extra_acct x.com evidence.example https:// alpha-1.png gamma.txt"
dbq 'SELECT body FROM statements' >"$T/bodies.txt"
found=""
for n in $NEEDLES; do
	grep -qiwF -- "$n" "$T/list.json" && found="$found list:$n"
	grep -qiwF -- "$n" "$T/bodies.txt" && found="$found db:$n"
done
eq "no identifier, principal name or URL in any statement" "" "$found"
eq "... the search looks at the statements (control: a puid, a ground are found)" true \
	"$(grep -qiwF -- "$A" "$T/bodies.txt" && grep -qiwF -- "$A" "$T/list.json" && grep -qiwF -- "StGB" "$T/list.json" && echo true)"

# ---- the listing's rules ---------------------------------------------------------------------------
req pave_ngo GET /v1/admin/statements
expect_problem "a partner lists statements -> 403 forbidden" 403 forbidden
req reviewer_ann GET /v1/admin/statements
expect_problem "a reviewer lists statements -> 403 forbidden" 403 forbidden
req legal GET '/v1/admin/statements?limit=2'
eq "limit=2: the first two" "2 $A $B" "$(jeval "$BODY" 'j.statements.length+" "+j.statements.map(s=>s.puid.replace(/-\d+$/,"")).join(" ")')"
NEXT=$(jget "$BODY" .next)
req legal GET "/v1/admin/statements?limit=2&since=$(urlenc "$NEXT")"
eq "since=next: the two after them" "$C $C_e" "$(jeval "$BODY" 'j.statements.map(s=>s.puid.replace(/-\d+$/,"")).join(" ")')"
req legal GET '/v1/admin/statements?limit=0'
expect_problem "limit=0 -> 400 bad_request" 400 bad_request
req legal GET '/v1/admin/statements?since=garbage'
expect_problem "a forged cursor -> 400 bad_request" 400 bad_request
post_json legal /v1/admin/statements/exported '{"puids":["bad puid!"]}'
expect_problem "marking a malformed puid -> 400 invalid_payload" 400 invalid_payload
post_json reviewer_ann /v1/admin/statements/exported '{"puids":["c_x-1"]}'
expect_problem "a reviewer marks statements -> 403 forbidden" 403 forbidden
req legal GET /v1/admin/statements
eq "the refusals marked nothing" true "$(jeval "$BODY" 'j.statements.every(s=>s.exported_at===null)')"

# ---- the stand-in validates as the database does ---------------------------------------------
printf 'tok-%s|%s\n' "$(rnd 4)" "$(rnd 40)" >"$T/dsa.token"; chmod 600 "$T/dsa.token"
printf 'wrong-%s\n' "$(rnd 40)" >"$T/bad.token"; chmod 600 "$T/bad.token"
start_standin() {   # [--hold-post N --hold-marker F]
	rm -f "$T/dsa.port"
	node "$ITDIR/helpers/dsa-standin.mjs" --token-file "$T/dsa.token" --port-file "$T/dsa.port" "$@" >>"$T/standin.log" 2>&1 &
	SPID=$!; BGPIDS="$BGPIDS $SPID"
	local i
	for i in $(seq 100); do [ -s "$T/dsa.port" ] && break; sleep 0.1; done
	[ -s "$T/dsa.port" ] || { notok "stand-in starts" "$(tail -n 3 "$T/standin.log")"; finish; }
	SU=http://127.0.0.1:$(cat "$T/dsa.port")/api/v1
}
dsa() {   # TOKEN-FILE JSON-FILE: POST to the stand-in; CODE, BODY
	CODE=$(curl -sS -o "$BODY" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $(cat "$1")" \
		-H 'Content-Type: application/json' --data-binary @"$2" "$SU/statements")
}
start_standin
GOOD=$(jeval "$T/list.json" '({...j.statements.find(s=>s.decision_ground==="DECISION_GROUND_ILLEGAL_CONTENT"), exported_at: undefined, puid: "standin-control-1"})')
printf '{"statements":[%s]}' "$GOOD" >"$T/good.json"
jeval "$T/good.json" '({statements: j.statements.map(s=>({...s, puid:"standin-control-2", illegal_content_legal_ground: undefined}))})' >"$T/nolegal.json"
dsa "$T/dsa.token" "$T/nolegal.json"
eq "stand-in: illegal content without illegal_content_legal_ground -> 422 naming it" "422 true" \
	"$CODE $(jeval "$BODY" '!!(j.errors.statement_0||{}).illegal_content_legal_ground')"
jeval "$T/good.json" '({statements: Array.from({length:101}, (_, i)=>({...j.statements[0], puid:"standin-many-"+i}))})' >"$T/many.json"
dsa "$T/dsa.token" "$T/many.json"
eq "stand-in: a batch of 101 -> 422" 422 "$CODE"
jeval "$T/good.json" '({statements: j.statements.map(s=>({...s, content_date:"2025-13-01"}))})' >"$T/baddate.json"
dsa "$T/dsa.token" "$T/baddate.json"
eq "stand-in: content_date 2025-13-01 -> 422 naming it" "422 true" "$CODE $(jeval "$BODY" '!!(j.errors.statement_0||{}).content_date')"
dsa "$T/bad.token" "$T/good.json"
eq "stand-in: a wrong token -> 401" 401 "$CODE"
dsa "$T/dsa.token" "$T/good.json"
eq "stand-in: the gateway's statement as it is -> 201 (control for the refusals)" 201 "$CODE"
dsa "$T/dsa.token" "$T/good.json"
eq "stand-in: the same puid again -> 422 with existing_puids" '422 ["standin-control-1"]' \
	"$CODE $(jeval "$BODY" 'j.errors.existing_puids')"
kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null

# ---- push: killed in the middle, run again ------------------------------------------------------
pending() { dbq 'SELECT COUNT(*) FROM statements WHERE exported_at = 0'; }
start_standin --hold-post 2 --hold-marker "$T/held"
echo "+ refgatectl statements push (to be killed)" >>"$T/ctl.log"
"$BIN/refgatectl" -c "$D/refgate.conf" statements push --endpoint "$SU" --token-file "$T/dsa.token" --batch 2 >"$T/push1.out" 2>&1 &
CPID=$!
for i in $(seq 300); do [ -s "$T/held" ] && break; kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
if [ -s "$T/held" ] && kill -0 "$CPID" 2>/dev/null; then
	ok "push sent the second batch and waits for its answer"
	kill -9 "$CPID"; wait "$CPID" 2>/dev/null
else
	notok "push sent the second batch and waits for its answer" "$(cat "$T/push1.out")"
	kill -9 "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null
fi
eq "after the kill: the first batch marked, the second (stored, unanswered) and the rest pending" 4 "$(pending)"

"$BIN/refgatectl" -c "$D/refgate.conf" statements push --endpoint "$SU" --token-file "$T/bad.token" >"$T/push2.out" 2>&1; rc=$?
eq "push with a wrong token -> exit 1" 1 "$rc"
eq "... says the token was refused (the stand-in's 401)" true "$(grep -q 'HTTP 401: the token was refused' "$T/push2.out" && echo true)"
eq "... and exports nothing" 4 "$(pending)"
chmod 644 "$T/dsa.token"
"$BIN/refgatectl" -c "$D/refgate.conf" statements push --endpoint "$SU" --token-file "$T/dsa.token" >"$T/push3.out" 2>&1; rc=$?
eq "push with a token file readable by others -> exit 1 before sending" "1 true" \
	"$rc $(grep -q 'readable or writable by others' "$T/push3.out" && echo true)"
chmod 600 "$T/dsa.token"
"$BIN/refgatectl" -c "$D/refgate.conf" statements push --endpoint "$SU" --token "$(cat "$T/dsa.token")" >"$T/push4.out" 2>&1; rc=$?
eq "the token on the command line is refused (usage, exit 2)" 2 "$rc"

"$BIN/refgatectl" -c "$D/refgate.conf" statements push --endpoint "$SU" --token-file "$T/dsa.token" --batch 2 >"$T/push5.out" 2>&1; rc=$?
eq "push again -> exit 0" 0 "$rc"
eq "... the held batch was already present, the rest acknowledged" "statements: 4 sent, 2 acknowledged, 2 already present, 0 left" "$(tail -n 1 "$T/push5.out")"
eq "nothing pending on the gateway" 0 "$(pending)"
curl -sS -o "$T/state.json" "http://127.0.0.1:$(cat "$T/dsa.port")/_state"
GW=$(jeval "$T/list.json" 'j.statements.map(s=>s.puid).sort().join(" ")')
eq "the stand-in holds exactly the gateway's statements" "$GW" "$(jeval "$T/state.json" 'Object.keys(j.stored).sort().join(" ")')"
eq "every statement arrived exactly once (accepted in one 201 batch each)" "$GW" \
	"$(jeval "$T/state.json" '(c=>{j.posts.filter(p=>p.status===201).forEach(p=>p.puids.forEach(x=>c[x]=(c[x]||0)+1));return Object.keys(c).filter(k=>c[k]===1).sort().join(" ")})({})')"
eq "no puid was sent again after its 201 reached refgatectl" "[]" "$(jeval "$T/state.json" 'j.resent_after_ack')"
eq "the statements carried only fields the database knows (no exported_at)" "[]" "$(jeval "$T/state.json" 'j.unknown_fields')"
eq "every batch held at most 2 (--batch 2)" true "$(jeval "$T/state.json" 'j.posts.every(p=>p.puids.length<=2)')"
req legal GET /v1/admin/statements
eq "every statement shows exported_at" true \
	"$(jeval "$BODY" 'j.statements.length===6 && j.statements.every(s=>/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(s.exported_at))')"
req legal GET '/v1/admin/statements?pending=true'
eq "pending=true lists none" 0 "$(jeval "$BODY" 'j.statements.length')"
req legal GET /v1/admin/audit
eq "the marking is in the audit log (statements_exported)" true \
	"$(jeval "$BODY" 'j.records.some(r=>r.kind==="statements_exported")')"
NPOSTS=$(jeval "$T/state.json" 'j.posts.length')
"$BIN/refgatectl" -c "$D/refgate.conf" statements push --endpoint "$SU" --token-file "$T/dsa.token" >"$T/push6.out" 2>&1; rc=$?
curl -sS -o "$T/state2.json" "http://127.0.0.1:$(cat "$T/dsa.port")/_state"
eq "a run with nothing pending sends nothing" "0 statements: 0 sent, 0 acknowledged, 0 already present, 0 left $NPOSTS" \
	"$rc $(tail -n 1 "$T/push6.out") $(jeval "$T/state2.json" 'j.posts.length')"

finish
