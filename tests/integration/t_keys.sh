#!/usr/bin/env bash
# t_keys: access keys (contract sections 4 and 6): issue, use only with the
# certificate of the principal they were issued to (misuse audited), scope,
# expiry, revocation, forgery, address allowlist, issue-time rules, the
# listing (never a secret; use counted), the admin API closed to others,
# disclosure keys (decrypted identifiers, one audit record per answer) and
# the change feed seen through a key. refgatectl key issue|list|revoke too.
. "$(dirname "$0")/lib.sh"
rg_setup
enrol ag1 agency || finish
enrol ag2 agency || finish
enrol p1 partner || finish
enrol rev reviewer || finish

KP=/v1/admin/access-keys
case_of() { jget "$T/$1.answer" '.cases[0].case_id'; }
exp_at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
# issue_json PRINCIPAL TIER CASES-JSON EXPIRES-IN-SECONDS [EXTRA-MEMBERS]: POST
issue_json() {
	post_json legal $KP "{\"principal\":\"$1\",\"tier\":\"$2\",\"cases\":$3,\"legal_basis\":\"DSA Art. 10 order $RANDOM\",\"expires_at\":\"$(exp_at "$4")\"${5:+,$5}}"
}
# kreq WHO SECRET METHOD PATH: a request with Authorization: Bearer SECRET.
kreq() { local w=$1 s=$2; shift 2; req "$w" "$@" -H "Authorization: Bearer $s"; }
# audit_all FILE: every audit record (legal), as one JSON array in FILE; a
# failed read is a failed check (the counts taken from FILE would be wrong).
audit_all() {
	local since="" out=$1 i
	echo '[]' >"$out"
	for i in $(seq 100); do
		req legal GET "/v1/admin/audit?limit=1000${since:+&since=$(urlenc "$since")}"
		[ "$CODE" = 200 ] || { notok "read the audit log into $(basename "$out")" "$(last)"; return 1; }
		node -e 'const fs=require("fs");const a=JSON.parse(fs.readFileSync(process.argv[1]));const b=JSON.parse(fs.readFileSync(process.argv[2]));fs.writeFileSync(process.argv[1],JSON.stringify(a.concat(b.records)))' -- "$out" "$BODY"
		[ "$(jeval "$BODY" 'j.records.length')" = 0 ] && return 0
		since=$(jget "$BODY" .next)
	done
	notok "read the audit log into $(basename "$out")" "more than 100 pages"; return 1
}

# ---- fixture ---------------------------------------------------------------------
refer p1 c1 'subjects:[{account_id:"000987654321", handle:"@Key_Acct_One"}]'; C1=$(case_of c1)
refer p1 c2 'subjects:[{url:"https://mobile.twitter.com/Key_Acct_Two/status/5?x=1"}]'; C2=$(case_of c2)
refer ag1 c3 'subjects:[{handle:"KEY_ACCT_THREE"}]'; C3=$(case_of c3)
expect "fixture referrals -> 201" 201
post_json rev "/v1/cases/$C2/decision" '{"status":"in_review"}'; expect "C2 in_review" 200

# ---- issue --------------------------------------------------------------------------
issue_json ag1 status "[\"$C1\"]" 86400
expect "issue a status key -> 201" 201
cp "$BODY" "$T/k1.json"
K1=$(jget "$BODY" .id); S1=$(jget "$BODY" .secret)
eq "answer: id, secret, principal, tier, expires_at" "ag1 status true true true" \
	"$(jeval "$BODY" '[j.principal, j.tier, !!j.id, /^rgk_/.test(j.secret||""), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(j.expires_at||"")].join(" ")')"
eq "answer has exactly those members" "expires_at,id,principal,secret,tier" "$(jeval "$BODY" 'Object.keys(j).sort().join(",")')"

# ---- use ----------------------------------------------------------------------------
kreq ag1 "$S1" GET "/v1/cases/$C1"
expect "key + its agency's certificate, covered case -> 200" 200
absent "status key: no account identifiers" account_id handle identifiers
ne "the answer carries an ETag" "" "$(hdr ETag)"
req ag1 GET "/v1/cases/$C1"
expect_problem "same agency without the key -> 404 (control: the key grants it)" 404 not_found
kreq ag1 "$S1" GET "/v1/cases/$C2"
expect_problem "key, case out of scope -> 404" 404 not_found
kreq ag1 "$S1" GET "/v1/cases/$C3"
expect "key, case out of scope but the agency's own referral -> 200 (as referrer)" 200

# ---- misuse: another principal's certificate -------------------------------------------
audit_all "$T/a0.json"
eq "no key_misuse record before (control)" 0 "$(jeval "$T/a0.json" 'j.filter(r=>r.kind==="key_misuse").length')"
kreq ag2 "$S1" GET "/v1/cases/$C1"
expect_problem "ag1's key with ag2's certificate -> 401" 401 unauthenticated
kreq p1 "$S1" GET "/v1/cases/$C1"
expect_problem "ag1's key with p1's certificate (p1 referred the case) -> 401" 401 unauthenticated
audit_all "$T/a1.json"
eq "key_misuse audited (actor ag2, object the key id)" "ag2 $K1" \
	"$(jeval "$T/a1.json" '(r=>r?r.actor+" "+r.object:"none")(j.find(r=>r.kind==="key_misuse"))')"
eq "two misuse records (ag2, p1)" "ag2,p1" "$(jeval "$T/a1.json" 'j.filter(r=>r.kind==="key_misuse").map(r=>r.actor).join(",")')"
kreq ag1 "$S1" GET "/v1/cases/$C1"
expect "the key still works for its owner after the misuse (control)" 200

# ---- forged ------------------------------------------------------------------------------
FORGED=rgk_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | head -c 43)
kreq ag1 "$FORGED" GET "/v1/cases/$C1"
expect_problem "forged rgk_ secret -> 401" 401 unauthenticated
kreq ag1 "${S1%?}x" GET "/v1/cases/$C1"
[ "${S1: -1}" = x ] && kreq ag1 "${S1%?}y" GET "/v1/cases/$C1"
expect_problem "the real secret with its last character changed -> 401" 401 unauthenticated
kreq ag1 "garbage" GET "/v1/cases/$C1"
expect_problem "malformed bearer -> 401" 401 unauthenticated
req ag1 GET "/v1/cases/$C1" -H "Authorization: Basic $(printf 'a:b' | base64)"
expect_problem "non-Bearer Authorization -> 401" 401 unauthenticated

# ---- expiry ------------------------------------------------------------------------------
issue_json ag1 status "[\"$C1\"]" 3
expect "issue a key expiring in 3 s -> 201" 201
S_EXP=$(jget "$BODY" .secret); T_EXP=$(date +%s)
kreq ag1 "$S_EXP" GET "/v1/cases/$C1"
expect "short-lived key before its expiry -> 200 (control)" 200
sleep $((T_EXP + 4 - $(date +%s)))
kreq ag1 "$S_EXP" GET "/v1/cases/$C1"
expect_problem "the same key after its expiry -> 401" 401 unauthenticated
post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"status\",\"cases\":[\"$C1\"],\"legal_basis\":\"x\",\"expires_at\":\"$(exp_at -60)\"}"
expect_problem "expires_at in the past -> 400" 400 invalid_payload

# ---- revocation ----------------------------------------------------------------------------
issue_json ag1 status "[\"$C1\"]" 86400
KR=$(jget "$BODY" .id); SR=$(jget "$BODY" .secret)
kreq ag1 "$SR" GET "/v1/cases/$C1"
expect "key before revocation -> 200 (control)" 200
req legal DELETE "$KP/$KR"
expect "DELETE the key -> 200" 200
kreq ag1 "$SR" GET "/v1/cases/$C1"
expect_problem "revoked key on the next request -> 401" 401 unauthenticated
req legal DELETE "$KP/$KR"
expect_problem "revoking it again -> 404" 404 not_found
eq "... saying when it was revoked" true "$(jeval "$BODY" '/^already revoked at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(j.detail||"")')"
req legal DELETE "$KP/k_doesnotexist0000000000"
expect_problem "revoking an unknown key -> 404" 404 not_found
eq "... saying there is no such key" "no access key of that id" "$(jget "$BODY" .detail)"
# On a connection that already used the key (keep-alive), too.
issue_json ag1 status "[\"$C1\"]" 86400
KR2=$(jget "$BODY" .id); SR2=$(jget "$BODY" .secret)
CA=$T/p/legal/ca.pem; [ -f "$CA" ] || CA=$T/legal-ca.pem
KA=$(node -e '
const https=require("https"),fs=require("fs");
const [port,dir,ldir,ca,secret,kid,path]=process.argv.slice(1);
const mk=(d)=>new https.Agent({keepAlive:true,maxSockets:1,maxCachedSessions:0,cert:fs.readFileSync(d+"/cert.pem"),key:fs.readFileSync(d+"/key.pem"),ca:fs.readFileSync(ca)});
const ag=mk(dir),lg=mk(ldir);
const r=(agent,method,p,h)=>new Promise((res)=>{const q=https.request({host:"127.0.0.1",port,servername:"localhost",method,path:p,headers:h||{},agent},(x)=>{x.resume();x.on("end",()=>res({s:x.statusCode,reused:q.reusedSocket}))});q.on("error",(e)=>res({s:0,reused:false}));q.end();});
(async()=>{const h={Authorization:"Bearer "+secret};
const a=await r(ag,"GET",path,h),b=await r(ag,"GET",path,h),d=await r(lg,"DELETE","/v1/admin/access-keys/"+kid),c=await r(ag,"GET",path,h);
console.log([a.s,b.s,b.reused,d.s,c.s,c.reused].join(" "));ag.destroy();lg.destroy();})();' -- \
	"$PORT" "$T/p/ag1" "$T/p/legal" "$CA" "$SR2" "$KR2" "/v1/cases/$C1" 2>&1)
eq "keep-alive: 200, 200 on the same connection, revoke, then 401 on that same connection" "200 200 true 200 401 true" "$KA"

# ---- address allowlist ------------------------------------------------------------------------
issue_json ag1 status "[\"$C1\"]" 86400 '"cidrs":["192.0.2.0/24"]'
expect "issue a key for 192.0.2.0/24 -> 201" 201
kreq ag1 "$(jget "$BODY" .secret)" GET "/v1/cases/$C1"
expect_problem "from 127.0.0.1, key allowed only from 192.0.2.0/24 -> 401" 401 unauthenticated
issue_json ag1 status "[\"$C1\"]" 86400 '"cidrs":["127.0.0.0/8"]'
expect "issue a key for 127.0.0.0/8 -> 201" 201
kreq ag1 "$(jget "$BODY" .secret)" GET "/v1/cases/$C1"
expect "from 127.0.0.1 with 127.0.0.0/8 allowed -> 200 (positive control)" 200
issue_json ag1 status "[\"$C1\"]" 86400 '"cidrs":["192.0.2.0/24","127.0.0.0/8"]'
expect "issue a key for 192.0.2.0/24 and 127.0.0.0/8 -> 201" 201
kreq ag1 "$(jget "$BODY" .secret)" GET "/v1/cases/$C1"
expect "from 127.0.0.1, allowlist 192.0.2.0/24 + 127.0.0.0/8 -> 200" 200
issue_json ag1 status "[\"$C1\"]" 86400 '"cidrs":["not-a-cidr"]'
expect_problem "cidrs with a malformed entry -> 400" 400 invalid_payload

# ---- one answer for every refused key (nothing confirms a key is live) -------------------
# The same request by ag1 (GET its own case C3, which it may read without a
# key) with: a never-issued secret, its revoked key, its expired key, a
# live key outside its allowlist, and with ag2 presenting ag1's live key.
# Status, body and header names must be identical; the reason is in the
# audit record and the log only.
issue_json ag1 status "[\"$C1\"]" 86400 '"cidrs":["192.0.2.0/24"]'; S_CIDR=$(jget "$BODY" .secret); K_CIDR=$(jget "$BODY" .id)
issue_json ag2 status "[\"$C3\"]" 86400; S_AG2=$(jget "$BODY" .secret); K_AG2=$(jget "$BODY" .id)
refer ag2 c4 'subjects:[{handle:"KEY_ACCT_FOUR"}]'; C4=$(case_of c4)
# answer_of WHO SECRET PATH: status, body and the sorted header names, the
# request id and date taken out.
answer_of() {
	kreq "$1" "$2" GET "$3"
	printf '%s|%s|%s' "$CODE" "$(cat "$BODY")" \
		"$(tr -d '\r' <"$HDR" | sed -n 's/^\([A-Za-z-]*\):.*/\1/p' | tr 'A-Z' 'a-z' | sort | tr '\n' ,)"
}
A_UNKNOWN=$(answer_of ag1 "$FORGED" "/v1/cases/$C3")
A_REVOKED=$(answer_of ag1 "$SR" "/v1/cases/$C3")
A_EXPIRED=$(answer_of ag1 "$S_EXP" "/v1/cases/$C3")
A_CIDR=$(answer_of ag1 "$S_CIDR" "/v1/cases/$C3")
A_OTHERS=$(answer_of ag1 "$S_AG2" "/v1/cases/$C3")
eq "another principal's live key -> 401" 401 "${A_OTHERS%%|*}"
eq "the 401 is unauthenticated and says nothing of the key" "unauthenticated access key not accepted" \
	"$(jeval "$BODY" 'j.code+" "+j.detail')"
eq "unknown key: the same answer as another principal's live key" "$A_OTHERS" "$A_UNKNOWN"
eq "revoked key: the same answer" "$A_OTHERS" "$A_REVOKED"
eq "expired key: the same answer" "$A_OTHERS" "$A_EXPIRED"
eq "key outside its allowlist: the same answer" "$A_OTHERS" "$A_CIDR"
kreq ag2 "$S_AG2" GET "/v1/cases/$C3"
expect "ag2's key works for ag2 (control: it is live)" 200
audit_all "$T/a_refused.json" || notok "audit read for the refusal reasons" "$(last)"
# reason_of KIND OBJECT: the reason of the last such record by ag1.
reason_of() {
	jeval "$T/a_refused.json" "(r=>r?(r.detail||{}).reason||JSON.stringify(r):'none')(j.filter(r=>r.kind==='$1'&&r.object==='$2'&&r.actor==='ag1').pop())"
}
eq "audit: the unknown key's reason" "unknown access key" "$(reason_of key_refused -)"
eq "audit: the revoked key's reason" "revoked" "$(reason_of key_refused "$KR")"
eq "audit: the expired key's reason" "expired" "$(reason_of key_refused "$(jeval "$T/a_refused.json" "(j.filter(r=>r.kind==='key_refused'&&r.actor==='ag1'&&(r.detail||{}).reason==='expired').pop()||{}).object")")"
eq "audit: the allowlist reason" "address outside the key's allowlist" "$(reason_of key_refused "$K_CIDR")"
eq "audit: another principal's key is key_misuse, with its owner" "issued to another principal ag2" \
	"$(jeval "$T/a_refused.json" "(r=>r?r.detail.reason+' '+r.detail.key_owner:'none')(j.filter(r=>r.kind==='key_misuse'&&r.object==='$K_AG2').pop())")"
grep -qF -- "access key $K_AG2 presented by principal ag1 refused: issued to another principal" "$D/server.log" \
	&& ok "the log names the key and the reason" || notok "the log names the key and the reason" "$(tail -n 5 "$D/server.log")"

# ---- issue-time rules ---------------------------------------------------------------------------
issue_json ag1 status "[\"$C1\"]" $((91 * 86400))
expect_problem "expires_at 91 days away (access_key_max_days 90) -> 400" 400 invalid_payload
eq "the problem points at /expires_at" true "$(jeval "$BODY" '(j.errors||[]).some(e=>e.pointer==="/expires_at")')"
issue_json ag1 status "[\"$C1\"]" $((89 * 86400))
expect "expires_at 89 days away -> 201 (control)" 201
post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"status\",\"cases\":[\"$C1\"],\"expires_at\":\"$(exp_at 3600)\"}"
expect_problem "no legal_basis -> 400" 400 invalid_payload
eq "the problem points at /legal_basis" true "$(jeval "$BODY" '(j.errors||[]).some(e=>e.pointer==="/legal_basis")')"
post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"status\",\"cases\":[\"$C1\"],\"legal_basis\":\"\",\"expires_at\":\"$(exp_at 3600)\"}"
expect_problem "empty legal_basis -> 400" 400 invalid_payload
post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"status\",\"cases\":[\"$C1\"],\"legal_basis\":\"ok\",\"expires_at\":\"$(exp_at 3600)\"}"
expect "the same body with a legal_basis -> 201 (control)" 201
issue_json nobody status "[\"$C1\"]" 3600
expect_problem "unknown principal -> 400" 400 invalid_payload
issue_json p1 status "[\"$C1\"]" 3600
expect_problem "a key for a partner -> 400 (keys are for agencies and legal)" 400 invalid_payload
issue_json rev disclosure "[\"$C1\"]" 3600
expect_problem "a key for a reviewer -> 400" 400 invalid_payload
issue_json ag1 secret "[\"$C1\"]" 3600
expect_problem "unknown tier -> 400" 400 invalid_payload
issue_json ag1 status '["c_doesnotexist00000000"]' 3600
expect_problem "unknown case -> 400" 400 invalid_payload
issue_json ag1 status '[]' 3600
expect_problem "empty case list -> 400" 400 invalid_payload
issue_json ag1 status "[\"$C1\"]" 3600 '"extra":1'
expect_problem "unknown member -> 400" 400 invalid_payload

# ---- the admin API is the legal team's ---------------------------------------------------------
for who in p1 ag1 rev; do
	req "$who" GET $KP
	expect_problem "$who on GET $KP -> 403" 403 forbidden
done
printf '{"principal":"ag1","tier":"disclosure","cases":"all_own","legal_basis":"x","expires_at":"%s"}' "$(exp_at 3600)" >"$T/self.json"
req p1 POST $KP -H 'Content-Type: application/json' --data-binary @"$T/self.json"
expect_problem "partner issuing a key -> 403" 403 forbidden
req ag1 POST $KP -H 'Content-Type: application/json' --data-binary @"$T/self.json"
expect_problem "agency issuing itself a key -> 403" 403 forbidden
kreq ag1 "$S1" GET $KP
expect_problem "agency with a valid key on the admin API -> 403" 403 forbidden
req p1 DELETE "$KP/$K1"
expect_problem "partner revoking a key -> 403" 403 forbidden
kreq ag1 "$S1" GET "/v1/cases/$C1"
expect "the key survived the refused revocation (control)" 200

# ---- listing --------------------------------------------------------------------------------------
req legal GET $KP
expect "legal lists the keys -> 200 (control)" 200
ne "the listing carries an ETag" "" "$(hdr ETag)"
cp "$BODY" "$T/list1.json"
if grep -q -- "$S1" "$T/list1.json" || grep -q 'rgk_' "$T/list1.json"; then notok "the listing never shows a secret" "found in the body"
else ok "the listing never shows a secret"; fi
eq "listing: K1 with principal, tier, scope, legal_basis, expires_at" "ag1 status $C1 true true" \
	"$(jeval "$BODY" '(k=>k?[k.principal,k.tier,(k.cases||[]).join(","),!!k.legal_basis,!!k.expires_at].join(" "):"none")(j.access_keys.find(k=>k.id==="'"$K1"'"))')"
eq "listing: the revoked key shows revoked_at" true "$(jeval "$BODY" '!!(j.access_keys.find(k=>k.id==="'"$KR"'")||{}).revoked_at')"
U1=$(jeval "$BODY" '(j.access_keys.find(k=>k.id==="'"$K1"'")||{}).use_count')
L1=$(jeval "$BODY" '(j.access_keys.find(k=>k.id==="'"$K1"'")||{}).last_used_at')
ne "K1 has been used: use_count > 0" 0 "${U1:-0}"
ne "K1 has a last_used_at" "" "$L1"
sleep 1.1
kreq ag1 "$S1" GET "/v1/cases/$C1"; kreq ag1 "$S1" GET "/v1/changes"
U2=; L2=
for _ in $(seq 30); do
	req legal GET $KP
	U2=$(jeval "$BODY" '(j.access_keys.find(k=>k.id==="'"$K1"'")||{}).use_count')
	L2=$(jeval "$BODY" '(j.access_keys.find(k=>k.id==="'"$K1"'")||{}).last_used_at')
	[ "${U2:-0}" -ge $((U1 + 2)) ] && break
	sleep 0.2
done
eq "use_count advanced by the two uses" $((U1 + 2)) "$U2"
if [[ "$L2" > "$L1" ]]; then ok "last_used_at advanced ($L1 -> $L2)"; else notok "last_used_at advanced" "$L1 -> $L2"; fi
kreq ag2 "$S1" GET "/v1/cases/$C1"
req legal GET $KP
eq "a misuse is not counted as a use" "$U2" "$(jeval "$BODY" '(j.access_keys.find(k=>k.id==="'"$K1"'")||{}).use_count')"

# ---- disclosure key ---------------------------------------------------------------------------------
BASIS="Court order 2026/77 (DSA Art. 10)"
post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"disclosure\",\"cases\":[\"$C1\",\"$C2\"],\"legal_basis\":\"$BASIS\",\"expires_at\":\"$(exp_at 86400)\"}"
expect "issue a disclosure key for C1, C2 -> 201" 201
KD=$(jget "$BODY" .id); SD=$(jget "$BODY" .secret)
audit_all "$T/b0.json"; N0=$(jeval "$T/b0.json" 'j.filter(r=>r.kind==="disclosure").length')
kreq ag1 "$SD" GET "/v1/cases/$C1"
expect "disclosure key, covered case -> 200" 200
eq "account_id and handle decrypted and normalised" "987654321 key_acct_one" "$(jeval "$BODY" 'j.account_id+" "+j.handle')"
kreq ag1 "$SD" GET "/v1/cases/$C2"
expect "disclosure key, second covered case -> 200" 200
eq "handle from a mobile.twitter.com status URL, normalised" "key_acct_two" "$(jget "$BODY" .handle)"
absent "no account_id where none was submitted" account_id
kreq ag1 "$SD" GET "/v1/cases/$C1"
kreq ag1 "$SD" GET "/v1/cases/$C3"
expect "disclosure key, the agency's own referral outside the key -> 200 as referrer" 200
absent "... without identifiers" account_id handle identifiers
kreq ag1 "$SD" GET "/v1/cases/$C1" -H 'If-None-Match: "x"'
audit_all "$T/b1.json"
eq "one disclosure audit record per disclosing answer (4)" $((N0 + 4)) "$(jeval "$T/b1.json" 'j.filter(r=>r.kind==="disclosure").length')"
jeval "$T/b1.json" 'j.filter(r=>r.kind==="disclosure").slice(-4)' >"$T/disc.json"
eq "disclosure records: key id, principal, case, fields, legal basis" \
	"$KD ag1 $C1 account_id,handle $BASIS|$KD ag1 $C2 handle $BASIS|$KD ag1 $C1 account_id,handle $BASIS|$KD ag1 $C1 account_id,handle $BASIS" \
	"$(jeval "$T/disc.json" 'j.map(r=>{const d=r.detail||{};return [d.key,r.actor,d.case_id||r.object,(d.fields||[]).filter(f=>f!=="identifiers").sort().join(","),d.legal_basis].join(" ")}).join("|")')"
eq "no audit record holds an identifier in clear" "" \
	"$(jeval "$T/b1.json" 'JSON.stringify(j).match(/987654321|key_acct_one|key_acct_two/i)||""')"
kreq ag1 "$S1" GET "/v1/cases/$C1"
audit_all "$T/b2.json"
eq "a status-key answer writes no disclosure record (control)" "$(jeval "$T/b1.json" 'j.filter(r=>r.kind==="disclosure").length')" \
	"$(jeval "$T/b2.json" 'j.filter(r=>r.kind==="disclosure").length')"

# all_own: the cases the key's principal referred into
post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"disclosure\",\"cases\":\"all_own\",\"legal_basis\":\"$BASIS\",\"expires_at\":\"$(exp_at 86400)\"}"
expect "issue an all_own disclosure key -> 201" 201
SA=$(jget "$BODY" .secret)
kreq ag1 "$SA" GET "/v1/cases/$C3"
expect "all_own key, a case ag1 referred -> 200" 200
eq "... with its handle" key_acct_three "$(jget "$BODY" .handle)"
kreq ag1 "$SA" GET "/v1/cases/$C1"
expect_problem "all_own key, a case ag1 did not refer -> 404" 404 not_found

# legal's own disclosure key
post_json legal $KP "{\"principal\":\"legal\",\"tier\":\"disclosure\",\"cases\":[\"$C1\"],\"legal_basis\":\"$BASIS\",\"expires_at\":\"$(exp_at 86400)\"}"
expect "issue legal its own disclosure key -> 201" 201
SL=$(jget "$BODY" .secret)
req legal GET "/v1/cases/$C1"
expect_problem "legal without a key -> 404" 404 not_found
kreq legal "$SL" GET "/v1/cases/$C1"
expect "legal with its own disclosure key -> 200" 200
eq "... with the identifiers" "987654321 key_acct_one" "$(jeval "$BODY" 'j.account_id+" "+j.handle')"

# ---- the change feed through a key ---------------------------------------------------------------------
req rev GET '/v1/changes?limit=500'
# With a key the caller may see the key's cases (their whole history, as
# partners and agencies see statuses: in_review shows as received) and,
# as always, its own feed (C3), merged oldest first.
jeval "$BODY" 'j.changes.filter(c=>["'"$C1"'","'"$C2"'"].includes(c.case_id)).map(c=>c.case_id+":"+(c.status==="in_review"?"received":c.status)).join("\n")' >"$T/want-key-feed"
echo >>"$T/want-key-feed"
req ag1 GET '/v1/changes?limit=500'
expect "ag1's own feed -> 200" 200
eq "changes without the key: ag1's own referral's case only (control)" "$C3" \
	"$(jeval "$BODY" '[...new Set(j.changes.map(c=>c.case_id))].join(" ")')"
jeval "$BODY" 'j.changes.map(c=>c.case_id+":"+c.status).join("\n")' >>"$T/want-key-feed"
kreq ag1 "$SD" GET '/v1/changes?limit=500'
expect "changes with the C1,C2 key -> 200" 200
eq "changes with a key: the key's cases' changes and its own" "$(sort "$T/want-key-feed" | tr '\n' ' ')" \
	"$(jeval "$BODY" 'j.changes.map(c=>c.case_id+":"+c.status).join("\n")' | sort | tr '\n' ' ')"
eq "changes with a key: oldest first" true \
	"$(jeval "$BODY" 'j.changes.every((c,i,a)=>i===0||a[i-1].updated_at<=c.updated_at)')"
eq "changes with a key: no in_review outside reviewers" false \
	"$(jeval "$BODY" 'j.changes.some(c=>c.status==="in_review")')"
kreq ag1 "$S1" GET '/v1/changes?limit=500'
eq "changes with the C1 status key: C1 and its own C3" "$(printf '%s\n' "$C1" "$C3" | sort | tr '\n' ' ')" \
	"$(jeval "$BODY" '[...new Set(j.changes.map(c=>c.case_id))].join("\n")' | sort | tr '\n' ' ')"
kreq ag2 "$SD" GET '/v1/changes'
expect_problem "changes with another principal's key -> 401" 401 unauthenticated

# ---- a disclosure key after its case grew: a join and a merge ---------------------------------------
# The key discloses the identifiers its case had when it was issued (the
# legal basis named those), never one a later referral added: not one a
# join brought, not one a merge brought in from another case.
refer p1 g1 'subjects:[{handle:"@Grow_Before"}]'; G1=$(case_of g1)
expect "growth: case by handle -> 201" 201
sleep 1
refer p1 g2 'subjects:[{handle:"@Grow_Other"}]'; G2=$(case_of g2)
expect "growth: another account's case -> 201" 201
ne "growth: two cases (control)" "$G1" "$G2"
post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"disclosure\",\"cases\":[\"$G1\"],\"legal_basis\":\"$BASIS\",\"expires_at\":\"$(exp_at 86400)\"}"
expect "growth: disclosure key for the first case -> 201" 201
SG=$(jget "$BODY" .secret)
kreq ag1 "$SG" GET "/v1/cases/$G1"
expect "growth: the key before the case grew -> 200" 200
eq "growth: before, the key discloses the one handle (control)" grow_before "$(jget "$BODY" .handle)"
# A join: ag2 refers the same account with its account_id.
refer ag2 g3 'subjects:[{account_id:"000555000222", handle:"grow_before"}]'
expect "growth: ag2 joins with the account_id -> 201" 201
req rev GET "/v1/cases/$(case_of g3)"
eq "growth: the join lands on the key's case" "200 $G1" "$CODE $(jget "$BODY" .case_id)"
# A merge: a subject linking that account_id to the other case's handle.
refer ag2 g4 'subjects:[{account_id:"000555000222", handle:"grow_other"}]'
expect "growth: a linking referral -> 201" 201
req rev GET "/v1/cases/$G1"
expect "growth: reviewer reads the grown case -> 200" 200
eq "growth: the case now holds the joined and the merged identifiers (control)" "account_id:555000222,handle:grow_before,handle:grow_other" \
	"$(jeval "$BODY" '(j.identifiers||[]).map(i=>i.kind+":"+i.value).sort().join(",")')"
req rev GET "/v1/cases/$G2"
eq "growth: the other case was merged into the key's case (control)" "$G1" "$(jget "$BODY" .case_id)"
kreq ag1 "$SG" GET "/v1/cases/$G1"
expect "growth: the key after the join and the merge -> 200" 200
absent "growth: no account_id added by the join is disclosed" account_id
eq "growth: the handle the case had at issue is still disclosed" grow_before "$(jget "$BODY" .handle)"
if grep -qE '555000222|grow_other' "$BODY"; then notok "growth: nothing added after issue anywhere in the answer" "$(head -c 300 "$BODY")"
else ok "growth: nothing added after issue anywhere in the answer"; fi
kreq ag1 "$SG" GET "/v1/cases/$G2"
if [ "$CODE" = 200 ]; then
	if grep -qE '555000222|grow_other' "$BODY"; then notok "growth: the merged-away id through the key discloses nothing added" "$(head -c 300 "$BODY")"
	else ok "growth: the merged-away id through the key discloses nothing added"; fi
else
	expect_problem "growth: the merged-away id is not the key's case -> 404" 404 not_found
fi

# ---- refgatectl key issue|list|revoke ---------------------------------------------------------------
if "$BIN/refgatectl" help 2>&1 | grep -q 'key issue'; then
	"$BIN/refgatectl" -c "$D/refgate.conf" key issue ag1 --tier status --cases "$C1" --legal-basis "CLI test" --expires 1 \
		>"$T/cli-issue.out" 2>"$T/cli-issue.log"
	eq "refgatectl key issue exits 0" 0 $?
	KC=$(jget "$T/cli-issue.out" .id); SC=$(jget "$T/cli-issue.out" .secret)
	kreq ag1 "$SC" GET "/v1/cases/$C1"
	expect "the CLI-issued key works -> 200" 200
	ctl key list; rc=$?
	eq "refgatectl key list exits 0" 0 $rc
	check "refgatectl key list shows the key" grep -qF -- "$KC" "$T/ctl.out"
	if grep -q 'rgk_' "$T/ctl.out"; then notok "refgatectl key list shows no secret"; else ok "refgatectl key list shows no secret"; fi
	ctl key revoke "$KC"; rc=$?
	eq "refgatectl key revoke exits 0" 0 $rc
	kreq ag1 "$SC" GET "/v1/cases/$C1"
	expect_problem "the CLI-revoked key -> 401" 401 unauthenticated
	"$BIN/refgatectl" -c "$D/refgate.conf" key issue ag1 --tier status --cases "$C1" --legal-basis "x" --expires 91 \
		>"$T/cli-bad.out" 2>&1
	ne "refgatectl key issue --expires 91 (max 90) fails" 0 $?
	"$BIN/refgatectl" -c "$D/refgate.conf" key issue ag1 --tier status --cases "$C1" --legal-basis "x" --expires 1 --out "$T/k.secret" \
		>"$T/cli-out.out" 2>&1
	eq "refgatectl key issue --out exits 0" 0 $?
	eq "--out writes the secret, mode 0600" "600 rgk_" "$(stat -c %a "$T/k.secret" 2>/dev/null) $(head -c 4 "$T/k.secret" 2>/dev/null)"
	if grep -q rgk_ "$T/cli-out.out"; then notok "--out: the secret is not printed"; else ok "--out: the secret is not printed"; fi
	KO=$(sed -n 's/.*secret of \(k_[A-Za-z0-9_-]*\) is in.*/\1/p' "$T/cli-out.out")
	# a key that expires in 2 s, to see the expired state
	"$BIN/refgatectl" -c "$D/refgate.conf" key issue ag1 --tier status --cases "$C1" --legal-basis "x" \
		--expires "$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)" >"$T/cli-exp.out" 2>"$T/cli-exp.log"
	eq "refgatectl key issue --expires in 2 s exits 0" 0 $?
	KX=$(jget "$T/cli-exp.out" .id)
	sleep 3
	# key_row ID: its row of the last `ctl key list`, as "PRINCIPAL TIER STATE"
	key_row() { awk -v id="$1" '$1 == id {print $2, $3, $4}' "$T/ctl.out"; }
	ctl key list --principal ag1
	eq "key list --principal ag1: the revoked key is 'revoked'" "ag1 status revoked" "$(key_row "$KC")"
	eq "... the key past its expiry is 'expired'" "ag1 status expired" "$(key_row "$KX")"
	eq "... the --out key is 'active'" "ag1 status active" "$(key_row "$KO")"
	eq "... and only ag1's keys are listed" "ag1" "$(awk 'NR > 1 {print $2}' "$T/ctl.out" | sort -u | tr '\n' ' ' | sed 's/ $//')"
	ctl key list --active --principal ag1
	eq "key list --active: the active key is listed" "ag1 status active" "$(key_row "$KO")"
	eq "... the revoked and the expired ones are not" "" "$(key_row "$KC")$(key_row "$KX")"
	ctl key list --active --principal nobody
	eq "key list for a principal without keys says so" "(no active access key of nobody)" "$(tail -n 1 "$T/ctl.out")"
	ctl key list --json --active --principal ag1
	sed -n '/^{/,$p' "$T/ctl.out" >"$T/kl.json"
	eq "key list --json --active --principal: the filtered listing, with each key's state" "ag1:active" \
		"$(jeval "$T/kl.json" '[...new Set(j.access_keys.map(k=>k.principal+":"+k.state))].join(" ")')"
	"$BIN/refgatectl" -c "$D/refgate.conf" status "$C1" --as "$T/p/ag1" --key-file "$T/k.secret" >"$T/cli-status.out" 2>&1
	eq "refgatectl status --key-file exits 0" 0 $?
	eq "... and shows the case" "$C1" "$(jget "$T/cli-status.out" .case_id)"
else
	notok "refgatectl key issue|list|revoke" "not in this refgatectl"
fi

finish
