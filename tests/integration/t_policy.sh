#!/usr/bin/env bash
# t_policy: the disclosure policy (contract section 4) as a property: for
# every endpoint that answers case or referral data and every audience,
# the members of the answer are exactly what the policy FILE grants (read
# from the file, never listed here) intersected with the full view (the
# reviewer's view under a "*" policy), and what may not be seen is 404.
# Run under the deployment's default policy and three others installed
# with SIGHUP. Then SIGHUP itself: a valid policy takes effect without a
# restart, an invalid one is refused (the old one stays, the log says
# why), and the daemon refuses to start with an invalid policy, naming
# where. The checks themselves are in helpers/disclosure-check.mjs.
. "$(dirname "$0")/lib.sh"
rg_setup_conf rate_limit_rps 1000 rate_limit_burst 5000
enrol pa partner || finish     # refers C1, C2, C4
enrol pb partner || finish     # refers only C5
enrol aga agency || finish     # refers C1 (with pa) and C3 (removal order)
enrol agn agency || finish     # refers nothing, no key
enrol agk agency || finish     # refers nothing, holds a status and a disclosure key
enrol rev reviewer || finish

HELPER=$ITDIR/helpers/disclosure-check.mjs
PLAN=$T/plan; mkdir -p "$PLAN" "$T/pol"
POLFILE=$(conf_path policy)
cp "$POLFILE" "$T/pol/default.json"
for n in pa pb aga agn agk rev legal; do
	case $n in pa|pb) r=partner ;; aga|agn|agk) r=agency ;; rev) r=reviewer ;; legal) r=legal ;; esac
	echo "$n $r $T/p/$n" >>"$PLAN/principals"
done
export RG_PORT=$PORT RG_CA=$T/p/legal/ca.pem
[ -f "$RG_CA" ] || RG_CA=$T/legal-ca.pem

# helper ARGS...: runs the node helper; its ok / not ok lines count here.
helper() {
	node "$HELPER" "$@" >"$T/helper.out" 2>"$T/helper.err"
	local rc=$?
	cat "$T/helper.out"
	PASS=$((PASS + $(grep -c '^ok - ' "$T/helper.out")))
	FAIL=$((FAIL + $(grep -c '^not ok - ' "$T/helper.out")))
	if [ $rc != 0 ] || ! grep -q '^# helper:' "$T/helper.out"; then
		notok "disclosure-check.mjs $1 ran" "exit $rc: $(tail -n 3 "$T/helper.err" | tr '\n' ' ')"
	fi
}

# record NAME WHO: the referral of $T/NAME.answer into the plan.
record() {
	local rid cases
	rid=$(jget "$T/$1.answer" .referral_id)
	cases=$(jeval "$T/$1.answer" 'j.cases.map(c=>c.case_id).join(",")')
	if [ -n "$rid" ] && [ -n "$cases" ]; then echo "$rid $2 $cases" >>"$PLAN/refs"
	else notok "referral $1 by $2 recorded" "$(head -c 200 "$T/$1.answer")"; fi
}
case_of() { jget "$T/$1.answer" '.cases[0].case_id'; }
decide() { post_json rev "/v1/cases/$1/decision" "$2"; }

# ---- fixture: five cases in every state ------------------------------------------
refer pa c1a 'partner_ref:"PA-1", urgency:"urgent", subjects:[{account_id:"0001234567", handle:"@Disc_One"}], summary:"first report", evidence:[{url:"https://example.org/e1", sha256:"'"$(printf 'a%.0s' $(seq 64))"'", media_type:"image/png", captured_at:now}]'
expect "C1 referred by pa -> 201" 201; record c1a pa
refer aga c1b 'partner_ref:"AG-1", subjects:[{handle:"disc_one"}]'
expect "C1 joined by aga -> 201" 201; record c1b aga
refer pa c2 'partner_ref:"PA-2", subjects:[{handle:"@Disc_Two"}]'
expect "C2 referred by pa -> 201" 201; record c2 pa
refer aga c3 'urgency:"imminent_harm", subjects:[{handle:"Disc_Three"}], removal_order:{reference:"RO-1", issued_at:now, legal_basis:"Regulation (EU) 2021/784, Art. 3"}'
expect "C3 referred by aga with a removal order -> 201" 201; record c3 aga
refer pa c4 'subjects:[{url:"https://x.com/disc_four/status/99"}]'
expect "C4 referred by pa -> 201" 201; record c4 pa
refer pb c5 'subjects:[{handle:"disc_five"}]'
expect "C5 referred by pb -> 201" 201; record c5 pb
C1=$(case_of c1a); C2=$(case_of c2); C3=$(case_of c3); C4=$(case_of c4); C5=$(case_of c5)
req rev GET "/v1/cases/$(case_of c1b)"
eq "aga's referral joined C1 (under aga's own id for it)" "$C1" "$(jget "$BODY" .case_id)"
decide "$C2" '{"status":"in_review"}'; expect "C2 in_review" 200
decide "$C2" '{"status":"actioned","action":"account_suspended","ground":"illegal_content","explanation":"Propaganda."}'
expect "C2 actioned" 200
decide "$C3" '{"status":"in_review"}'; expect "C3 in_review" 200
decide "$C4" '{"status":"in_review"}'; expect "C4 in_review" 200
decide "$C4" '{"status":"no_action","ground":"terms_of_service","explanation":"Not illegal."}'
expect "C4 no_action" 200

# ---- access keys -------------------------------------------------------------------
exp_at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
# issue FILE PRINCIPAL TIER CASES-JSON: an access key, its secret in FILE.
issue() {
	post_json legal /v1/admin/access-keys "{\"principal\":\"$2\",\"tier\":\"$3\",\"cases\":$4,\"legal_basis\":\"Test order $RANDOM\",\"expires_at\":\"$(exp_at 86400)\"}"
	expect "issue a $3 key to $2 -> 201" 201
	jget "$BODY" .secret >"$1"
	local scope; scope=$(node -e 'const v=JSON.parse(process.argv[1]);process.stdout.write(Array.isArray(v)?v.join(","):v)' -- "$4")
	echo "$1 $3 $scope $2" >>"$PLAN/keys"
}
issue "$T/k-status" agk status "[\"$C1\",\"$C2\"]"
issue "$T/k-disc" agk disclosure "[\"$C2\",\"$C3\"]"
issue "$T/k-legal" legal disclosure "[\"$C1\"]"

cat >"$PLAN/audiences" <<EOF
partner-referrer pa -
partner-not-referrer pb -
agency-referrer aga -
agency-without-key agn -
agency-status-key agk $T/k-status
agency-disclosure-key agk $T/k-disc
agency-keyholder-no-bearer agk -
reviewer rev -
legal-without-key legal -
legal-own-disclosure-key legal $T/k-legal
EOF

# ---- the policies (the default one is the deployment's) -----------------------------
cat >"$T/pol/star.json" <<'EOF'
{"version": 1, "audiences": {"reviewer": {"case": ["*"], "referral": ["*"]}}}
EOF
cat >"$T/pol/broad.json" <<'EOF'
{"version": 1, "audiences": {
  "referrer": {"case": ["case_id", "status", "action", "opened_at", "updated_at", "decided_at", "deadline_at"],
               "referral": ["referral_id", "partner_ref", "received_at", "category", "urgency", "cases"],
               "own_referrals": ["referral_id", "partner_ref", "received_at", "category", "summary"]},
  "status_key": {"case": ["case_id", "status", "opened_at", "updated_at"]},
  "disclosure_key": {"case": ["case_id", "status", "account_id", "handle", "identifiers", "decided_at"]},
  "reviewer": {"case": ["*"], "referral": ["*"]},
  "legal": {"case": [], "referral": []}}}
EOF
cat >"$T/pol/narrow.json" <<'EOF'
{"version": 1, "audiences": {
  "referrer": {"case": ["case_id", "status"], "referral": ["referral_id", "cases"]},
  "status_key": {"case": ["case_id", "status"]},
  "disclosure_key": {"case": ["case_id", "status", "account_id"]},
  "reviewer": {"case": ["case_id", "status", "action", "urgency", "deadline_at", "principal_count", "handle", "decisions"],
               "referral": ["referral_id", "principal", "cases"]}}}
EOF
cat >"$T/pol/odd.json" <<'EOF'
{"version": 1, "audiences": {
  "referrer": {"case": ["case_id", "status", "updated_at", "decided_at"], "referral": ["received_at", "category", "cases"],
               "own_referrals": ["received_at", "category"]},
  "status_key": {"case": ["case_id", "updated_at", "status", "action", "deadline_at"]},
  "disclosure_key": {"case": ["case_id", "handle", "status", "identifiers"]},
  "reviewer": {"case": ["*"], "referral": ["*"]},
  "legal": {"case": ["*"], "referral": ["*"]}}}
EOF

# hup: SIGHUP and wait (bounded) for the daemon to log the reload or its
# refusal. Sets HUP_RESULT to reloaded / refused / timeout.
hup() {
	local before after i
	before=$(grep -cE 'policy reload(ed| refused)' "$D/server.log")
	kill -HUP "$PID" 2>/dev/null
	HUP_RESULT=timeout
	for i in $(seq 100); do
		after=$(grep -cE 'policy reload(ed| refused)' "$D/server.log")
		if [ "$after" -gt "$before" ]; then
			if grep -E 'policy reload(ed| refused)' "$D/server.log" | tail -n 1 | grep -q refused; then HUP_RESULT=refused; else HUP_RESULT=reloaded; fi
			return 0
		fi
		sleep 0.05
	done
}
# install NAME: the policy $T/pol/NAME.json in effect (SIGHUP).
install_policy() {
	cp "$T/pol/$1.json" "$POLFILE"
	hup
	[ "$HUP_RESULT" = reloaded ] || notok "policy $1 installed with SIGHUP" "$HUP_RESULT: $(tail -n 2 "$D/server.log" | tr '\n' ' ')"
}

# activity NAME: under the policy in effect, new referrals (answers kept)
# and decisions (answers kept), for the checks of this policy.
activity() {
	local n=$1 h="pol_${1}_$(rnd 6)" c
	refer pa "new-$n" "subjects:[{handle:\"$h\"}]"
	expect "[$n] pa opens a case -> 201" 201; record "new-$n" pa
	c=$(case_of "new-$n")
	echo "referral $T/new-$n.answer pa $c=true" >>"$PLAN/answers"
	refer aga "join-$n" "subjects:[{url:\"https://twitter.com/${h^^}\"}]"
	expect "[$n] aga joins it -> 201" 201; record "join-$n" aga
	echo "referral $T/join-$n.answer aga $c=false" >>"$PLAN/answers"
	refer aga "ro-$n" 'removal_order:{reference:"RO-'"$n"'", issued_at:now, legal_basis:"TCO Art. 3"}'
	expect "[$n] aga opens a case with a removal order -> 201" 201; record "ro-$n" aga
	echo "referral $T/ro-$n.answer aga $(case_of "ro-$n")=true" >>"$PLAN/answers"
	refer pa "d1-$n" ''; record "d1-$n" pa
	refer pa "d2-$n" ''; record "d2-$n" pa
	decide "$(case_of "d1-$n")" '{"status":"in_review"}'
	expect "[$n] decision in_review -> 200" 200
	cp "$BODY" "$T/dec1-$n.json"; echo "decision $T/dec1-$n.json $(case_of "d1-$n")" >>"$PLAN/answers"
	decide "$(case_of "d2-$n")" '{"status":"in_review"}'
	decide "$(case_of "d2-$n")" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"Removed."}'
	expect "[$n] decision actioned -> 200" 200
	cp "$BODY" "$T/dec2-$n.json"; echo "decision $T/dec2-$n.json $(case_of "d2-$n")" >>"$PLAN/answers"
}

# ---- the property, policy by policy ----------------------------------------------------
MATRIX=$T/matrix.jsonl; : >"$MATRIX"
for POL in default broad narrow odd; do
	: >"$PLAN/answers"
	install_policy "$POL"
	activity "$POL"
	install_policy star
	helper full "$PLAN" "$T/full-$POL.json"
	install_policy "$POL"
	helper check "$PLAN" "$T/pol/$POL.json" "$T/full-$POL.json" "$POL" "$MATRIX"
done

# ---- reviewer: "everything, decrypted" (contract section 4) ---------------------------
install_policy default
req rev GET "/v1/referrals/$(jget "$T/c1a.answer" .referral_id)"
eq "reviewer's referral view carries the decrypted summary and evidence" "first report 1" \
	"$(jeval "$BODY" '[j.summary, (j.evidence||[]).length].join(" ")')"
req rev GET /v1/review/queue
eq "reviewer's queue elements carry the account identifiers (wire-shapes: case view without referrals/decisions)" "disc_three" \
	"$(jeval "$BODY" '(j.cases.find(c=>c.case_id==="'"$C3"'")||{}).handle')"

# ---- the contract's hard limits: "never sent to a partner or agency" ----------------------
# One leaky policy per forbidden (audience, field): the default policy with
# that one field added to the audience's case grant. The gateway must
# refuse it at reload, naming the field (contract section 4), or, if it
# took it, still never send the field. One policy per field, so that each
# entry of the ceiling is tried on its own and not hidden behind the first
# one refused.
# leak_view AUD: the view of a case through audience AUD (BODY, CODE).
leak_view() {
	case $1 in
	referrer) req pa GET "/v1/cases/$C1" ;;
	status_key) req agk GET "/v1/cases/$C2" -H "Authorization: Bearer $(cat "$T/k-status")" ;;
	disclosure_key) req agk GET "/v1/cases/$C2" -H "Authorization: Bearer $(cat "$T/k-disc")" ;;
	esac
}
NEVER=(referrals decisions principal_count referral_count reopen_count urgency new_case '*')
IDENTS=(account_id handle identifiers)
for aud in referrer status_key disclosure_key; do
	fields=("${NEVER[@]}")
	[ "$aud" = disclosure_key ] || fields+=("${IDENTS[@]}")
	for f in "${fields[@]}"; do
		node -e 'const fs=require("fs");const p=JSON.parse(fs.readFileSync(process.argv[1]));
const [aud,f]=process.argv.slice(3);p.audiences[aud]=p.audiences[aud]||{};
const c=(p.audiences[aud].case||["case_id","status"]).filter(x=>x!==f);c.push(f);p.audiences[aud].case=c;
fs.writeFileSync(process.argv[2],JSON.stringify(p,null,1))' -- "$T/pol/default.json" "$T/pol/leak.json" "$aud" "$f"
		check "leaky policy written: $aud granted '$f'" grep -qF -- "\"$f\"" "$T/pol/leak.json"
		LOGN=$(wc -l <"$D/server.log")
		cp "$T/pol/leak.json" "$POLFILE"; hup
		if [ "$HUP_RESULT" = refused ]; then
			if tail -n +"$((LOGN + 1))" "$D/server.log" | grep -F -- "/audiences/$aud/case/" | grep -qF -- "$f"; then
				ok "leaky policy granting $aud '$f': refused at reload, the log names it"
			else
				notok "leaky policy granting $aud '$f': the refusal names the field" "$(tail -n +"$((LOGN + 1))" "$D/server.log" | head -c 300 | tr '\n' ' ')"
			fi
		else
			leak_view "$aud"
			if [ "$f" = "*" ]; then absent "leaky policy ($HUP_RESULT) granting $aud '*': still nothing forbidden sent" referrals decisions principal_count referral_count reopen_count new_case
			else absent "leaky policy ($HUP_RESULT) granting $aud '$f': the field is still never sent" "$f"; fi
		fi
	done
done
install_policy default

# ---- SIGHUP: a valid policy takes effect without restart -------------------------------
FIELD=$(node -e 'const d=require(process.argv[1]),n=require(process.argv[2]);
process.stdout.write(d.audiences.referrer.case.find(f=>!n.audiences.referrer.case.includes(f)&&f!=="action"&&f!=="decided_at"&&f!=="deadline_at")||"")' -- \
	"$T/pol/default.json" "$T/pol/narrow.json")
ne "a field the default policy grants the referrer and the narrow one does not" "" "$FIELD"
PID0=$PID
req pa GET "/v1/cases/$C1"
present "default policy: pa sees $FIELD of C1" "$FIELD"
install_policy narrow
req pa GET "/v1/cases/$C1"
absent "after SIGHUP with the narrow policy: $FIELD gone" "$FIELD"
eq "same daemon process (no restart)" "$PID0" "$PID"
alive "daemon alive after SIGHUP"

# ---- SIGHUP: an invalid policy is refused, the old one stays ---------------------------
cp "$T/pol/narrow.json" "$T/pol/bad-field.json"
sed -i 's/"referrer": {"case": \["case_id", "status"\]/"referrer": {"case": ["case_id", "status", "secret_sauce"]/' "$T/pol/bad-field.json"
grep -q secret_sauce "$T/pol/bad-field.json" || notok "bad-field policy written"
printf '{"version": 1,\n "audiences": {\n  "referrer": {"case": ["case_id",, "status"]}\n }}\n' >"$T/pol/bad-syntax.json"
printf '{"version": 1, "audiences": {"partners": {"case": ["*"]}}}\n' >"$T/pol/bad-audience.json"
install_policy default
for bad in bad-field bad-syntax bad-audience; do
	cp "$T/pol/$bad.json" "$POLFILE"
	hup
	eq "SIGHUP with $bad policy: reload refused" refused "$HUP_RESULT"
	req pa GET "/v1/cases/$C1"
	expect "after the refused reload ($bad): pa still served" 200
	present "after the refused reload ($bad): the old (default) policy still applies ($FIELD present)" "$FIELD"
done
check "the log says why (unknown field, with its pointer /audiences/referrer/case/2)" \
	grep -q '/audiences/referrer/case/2.*secret_sauce' "$D/server.log"
check "the log says why (JSON syntax, with its line)" grep -qE 'policy.*line 3' "$D/server.log"
check "the log says why (unknown audience, with its pointer)" grep -q '/audiences/partners' "$D/server.log"
alive "daemon alive after the refused reloads"
install_policy narrow
req pa GET "/v1/cases/$C1"
absent "a valid policy after refused ones is taken (positive control)" "$FIELD"

# ---- the daemon refuses to start with an invalid policy -------------------------------------
rg_stop
for bad in bad-field bad-syntax; do
	cp "$T/pol/$bad.json" "$POLFILE"
	timeout 20 "$BIN/refgate" -c "$D/refgate.conf" >"$T/start-$bad.log" 2>&1
	rc=$?
	if [ $rc != 0 ] && [ $rc != 124 ]; then ok "refgate refuses to start with the $bad policy (exit $rc)"
	else notok "refgate refuses to start with the $bad policy" "exit $rc"; fi
done
check "start refusal names the pointer of the bad field on stderr" grep -q '/audiences/referrer/case/2' "$T/start-bad-field.log"
check "start refusal names the line of the syntax error on stderr" grep -qE 'line 3' "$T/start-bad-syntax.log"
cp "$T/pol/default.json" "$POLFILE"
rg_start && ok "refgate starts again with a valid policy (positive control)"
req pa GET "/v1/cases/$C1"
expect "served again after the restart" 200

node "$HELPER" matrix "$MATRIX"
finish
