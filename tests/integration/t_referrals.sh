#!/usr/bin/env bash
# t_referrals: POST /v1/referrals (contract section 2, errors of section 7):
# the happy path with a receipt verified by jose against GET /v1/keys, the
# idempotent replay, jti reuse, and every refusal, each beside a positive
# control that differs only in the refused aspect.
. "$(dirname "$0")/lib.sh"
rg_setup
enrol pave partner || finish
enrol lodi partner || finish
enrol rev reviewer || finish
enrol agent agency || finish

# ---- happy path -----------------------------------------------------------
refer pave happy 'partner_ref:"PAVE-1", urgency:"urgent"'
expect "valid EdDSA referral -> 201" 201
REF=$(jget "$BODY" .referral_id)
CASE=$(jget "$BODY" '.cases[0].case_id')
eq "Location: /v1/referrals/{referral_id}" "/v1/referrals/$REF" "$(hdr Location)"
eq "answer shape: referral_id, received_at, cases[0] {subject 0, case_id, status received}, receipt" true \
	"$(jeval "$BODY" '/^[A-Za-z0-9_-]{1,40}$/.test(j.referral_id) && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(j.received_at)
	 && Array.isArray(j.cases) && j.cases.length===1 && j.cases[0].subject===0 && /^[A-Za-z0-9_-]{1,40}$/.test(j.cases[0].case_id)
	 && j.cases[0].status==="received" && typeof j.receipt==="string" && j.receipt.split(".").length===3')"
eq "answer is application/json" application/json "$(hdr Content-Type | cut -d';' -f1)"

req pave GET /v1/keys
expect "GET /v1/keys -> 200" 200
cp "$BODY" "$T/jwks.json"
jget "$T/happy.answer" .receipt >"$T/receipt"
node --input-type=module -e '
import { createRequire } from "node:module"; import { readFileSync } from "node:fs"; import { createHash } from "node:crypto";
const jose = createRequire(process.env.RG_NM + "/")("jose");
const [jwks, receipt, jws, answer] = process.argv.slice(1);
const set = jose.createLocalJWKSet(JSON.parse(readFileSync(jwks, "utf8")));
const { payload, protectedHeader } = await jose.compactVerify(readFileSync(receipt, "utf8").trim(), set, { algorithms: ["EdDSA"] });
const p = JSON.parse(Buffer.from(payload).toString()); const a = JSON.parse(readFileSync(answer, "utf8"));
const h = createHash("sha256").update(readFileSync(jws)).digest("hex");
const bad = [];
if (protectedHeader.alg !== "EdDSA") bad.push("alg " + protectedHeader.alg);
if (p.jws_sha256 !== h) bad.push("jws_sha256 " + p.jws_sha256 + " != " + h);
if (p.referral_id !== a.referral_id) bad.push("referral_id");
if (p.received_at !== a.received_at) bad.push("received_at");
if (!JSON.stringify(p.cases || p).includes(a.cases[0].case_id)) bad.push("case id missing");
if (bad.length) { console.error(bad.join("; ")); process.exit(1); }
' -- "$T/jwks.json" "$T/receipt" "$T/happy.jws" "$T/happy.answer" 2>"$T/rv.err" \
	&& ok "receipt verifies with jose against GET /v1/keys, jws_sha256 = SHA-256 of the JWS" \
	|| notok "receipt verifies with jose against GET /v1/keys" "$(head -c 300 "$T/rv.err")"
# Control for the receipt check: a receipt with a changed payload must not verify.
node --input-type=module -e '
import { createRequire } from "node:module"; import { readFileSync } from "node:fs";
const jose = createRequire(process.env.RG_NM + "/")("jose");
const set = jose.createLocalJWKSet(JSON.parse(readFileSync(process.argv[1], "utf8")));
const [h, p, s] = readFileSync(process.argv[2], "utf8").trim().split(".");
const q = JSON.parse(Buffer.from(p, "base64url")); q.referral_id = "r_forged";
try { await jose.compactVerify([h, Buffer.from(JSON.stringify(q)).toString("base64url"), s].join("."), set); process.exit(1); } catch (e) { process.exit(0); }
' -- "$T/jwks.json" "$T/receipt" && ok "a tampered receipt does not verify (control)" || notok "a tampered receipt does not verify (control)"

req pave GET "/v1/referrals/$REF"
expect "GET /v1/referrals/{id} of the new referral -> 200" 200
eq "referral view: id, partner_ref, case" "$REF PAVE-1 $CASE" \
	"$(jeval "$BODY" '[j.referral_id, j.partner_ref, j.cases && j.cases[0] && j.cases[0].case_id].join(" ")')"

# ---- replay and jti reuse -------------------------------------------------
post_jws pave "$T/happy.jws"
expect "byte-identical resubmission -> 200" 200
if cmp -s "$BODY" "$T/happy.answer"; then ok "resubmission answer is byte-identical to the first"
else notok "resubmission answer is byte-identical to the first" "$(head -c 200 "$BODY")"; fi
JTI=$(jget "$T/happy.json" .jti)
refer pave reuse "jti:\"$JTI\", category:\"hate_speech\""
expect_problem "same jti, other content -> 409 jti_reuse" 409 jti_reuse
refer lodi otherjti "jti:\"$JTI\", category:\"hate_speech\""
expect "same jti from another principal -> 201 (jti is per principal; control)" 201

# ---- header rules ---------------------------------------------------------
# pair NAME STATUS CODE WHY HEADER MEMBERS SIGN-OPTS...: the forged token of a
# payload is refused, then the same payload properly signed is accepted
# (which also shows that a refused token did not burn its jti). The forged
# token must exist, have three parts and a protected header for which the
# JS predicate HEADER (t: its text, h: its parsed value or undefined) holds;
# the refusal must carry a problem detail matching the regex WHY (empty:
# not checked), so the rule under test, not an earlier one, refused it.
# Header cases are signed with --ed-sig: a real 64-byte Ed25519 signature,
# so that only the header rule stands between the token and a 201.
pair() {
	local n=$1 st=$2 code=$3 why=$4 hp=$5 m=$6; shift 6
	sign pave "$T/pl.json" --make "$m" "$@" >"$T/bad.jws"
	local got
	got=$(node -e 'const t=require("fs").readFileSync(process.argv[1],"utf8").trim().split(".");
if(t.length!==3){process.stdout.write("parts "+t.length);process.exit(0)}
const txt=Buffer.from(t[0],"base64url").toString("utf8");let h;try{h=JSON.parse(txt)}catch(e){}
const ok=(new Function("t","h","return ("+process.argv[2]+")"))(txt,h);
process.stdout.write(ok?"ok sig="+Buffer.from(t[2],"base64url").length:"header "+txt)' -- "$T/bad.jws" "$hp" 2>&1)
	case $got in
	"ok sig="*) ok "$n: the forged token carries the header under test (${got#ok })" ;;
	*) notok "$n: the forged token carries the header under test" "${got:-no token}" ;;
	esac
	post_jws pave "$T/bad.jws"
	expect_problem "$n -> $st $code" "$st" "$code"
	if [ -n "$why" ]; then
		if jget "$BODY" .detail | grep -Eq -- "$why"; then ok "$n: refused by the rule ($why)"
		else notok "$n: refused by the rule ($why)" "detail: $(jget "$BODY" .detail)"; fi
	fi
	sign pave "$T/pl.json" >"$T/good.jws"
	post_jws pave "$T/good.jws"
	expect "$n: control, same payload properly signed -> 201" 201
}
RM='refused member'
pair "alg none" 400 invalid_jws 'alg is not EdDSA' 'h.alg==="none"' '' --alg none --ed-sig
pair "alg HS256" 400 invalid_jws 'alg is not EdDSA' 'h.alg==="HS256"' '' --alg HS256 --ed-sig
pair "alg ES256" 400 invalid_jws 'alg is not EdDSA' 'h.alg==="ES256"' '' --alg ES256 --ed-sig
pair "alg eddsa (case)" 400 invalid_jws 'alg is not EdDSA' 'h.alg==="eddsa"' '' --alg eddsa --ed-sig
pair "no alg" 400 invalid_jws 'no alg' '!("alg" in h)' '' --header '{"alg":null}' --ed-sig
pair "typ JWT" 400 invalid_jws 'typ is not' 'h.typ==="JWT"' '' --typ JWT --ed-sig
pair "crit member" 400 invalid_jws "$RM" 'Array.isArray(h.crit)' '' --header '{"crit":["exp"],"exp":1}' --ed-sig
pair "jku member" 400 invalid_jws "$RM" '"jku" in h' '' --header '{"jku":"https://evil.example/jwks.json"}' --ed-sig
pair "jwk member (own key)" 400 invalid_jws "$RM" '!!h.jwk && !!h.jwk.x' '' --jwk-header --ed-sig
pair "x5u member" 400 invalid_jws "$RM" '"x5u" in h' '' --header '{"x5u":"https://evil.example/cert.pem"}' --ed-sig
pair "x5c member" 400 invalid_jws "$RM" '"x5c" in h' '' --header '{"x5c":["MIIBszCCAVmgAwIBAgIUJ"]}' --ed-sig
pair "b64 member" 400 invalid_jws "$RM" 'h.b64===false' '' --header '{"b64":false}' --ed-sig
pair "header not JSON" 400 invalid_jws 'not JSON' 'h===undefined' '' --raw-header 'not json at all' --ed-sig
pair "kid not a key id" 400 invalid_jws 'kid is not' 'h.kid==="../x"' '' --kid '../x' --ed-sig
pair "unknown kid" 401 unknown_key '' 'h.kid==="nosuchkid0123456789"' '' --kid nosuchkid0123456789
pair "bad signature" 401 bad_signature '' 'h.alg==="EdDSA"' '' --bad-sig

mkpayload "$T/pl.json" ''
sign pave "$T/pl.json" --no-typ >"$T/notyp.jws"
post_jws pave "$T/notyp.jws"
expect "no typ member (optional) -> 201" 201

# kid of another principal: lodi's key and kid, sent with pave's certificate.
mkpayload "$T/pl.json" ''
sign lodi "$T/pl.json" >"$T/lodi.jws"
post_jws pave "$T/lodi.jws"
expect_problem "kid of another principal -> 401 key_not_owned" 401 key_not_owned
post_jws lodi "$T/lodi.jws"
expect "the same JWS from its owner -> 201 (control)" 201

# ---- transport-level refusals ---------------------------------------------
mkpayload "$T/pl.json" ''
sign pave "$T/pl.json" >"$T/ct.jws"
req pave POST /v1/referrals -H 'Content-Type: application/json' --data-binary @"$T/ct.jws"
expect_problem "Content-Type application/json -> 415 unsupported_media_type" 415 unsupported_media_type
req pave POST /v1/referrals -H 'Content-Type: text/plain' --data-binary @"$T/ct.jws"
expect_problem "Content-Type text/plain -> 415 unsupported_media_type" 415 unsupported_media_type
post_jws pave "$T/ct.jws"
expect "the same JWS as application/jose -> 201 (control)" 201

head -c 65537 /dev/zero | tr '\0' 'A' >"$T/big"
post_jws pave "$T/big" -H 'Expect: 100-continue'
expect_problem "body of 64 KiB + 1 -> 413 payload_too_large" 413 payload_too_large
head -c 65536 /dev/zero | tr '\0' 'A' >"$T/edge"
post_jws pave "$T/edge"
expect_problem "body of exactly 64 KiB that is no JWS -> 400 invalid_jws (control: the limit is not lower)" 400 invalid_jws
head -c 300000 /dev/zero | tr '\0' 'A' >"$T/huge"
post_jws pave "$T/huge" -H 'Expect: 100-continue'
expect_problem "body of 300 KB with Expect: 100-continue -> 413 payload_too_large (not 100)" 413 payload_too_large
# Sent at once (no Expect), as most clients do: the 413 must still reach the
# client, so the gateway has to read or drain the body (lingering close)
# rather than close a connection with unread data (TCP reset).
got=""
for _ in $(seq 10); do post_jws pave "$T/huge" -H 'Expect:'; got="$got $CODE"; done
eq "300 KB bodies sent at once (no Expect), 10 tries: the 413 reaches the client every time" \
	"$(printf ' 413%.0s' $(seq 10))" "$got"
# A large valid referral (~60 KiB JWS): 20 evidence URLs of 2 KB and a long summary.
refer pave large 'evidence: Array.from({length:20},(_,i)=>({url:"https://evidence.example/"+i+"/"+"a".repeat(2000), sha256:"0".repeat(63)+"1"})), summary:"x".repeat(3900)'
sz=$(wc -c <"$T/large.jws")
if [ "$sz" -gt 50000 ] && [ "$sz" -le 65536 ]; then expect "large valid referral ($sz bytes) -> 201" 201
else notok "large valid referral between 50000 and 65536 bytes" "made $sz bytes"; fi

for bad in 'hello' 'a.b' 'a.b.c.d' '..' 'eyJhbGciOiJFZERTQSJ9.e30.' "$(head -c 40 /dev/urandom | base64 | tr -d '\n=')"; do
	printf '%s' "$bad" >"$T/notjws"
	post_jws pave "$T/notjws"
	expect_problem "not a JWS ('${bad:0:24}') -> 400 invalid_jws" 400 invalid_jws
done

# ---- iat ------------------------------------------------------------------
refer pave old 'iat: now-1000'
expect_problem "iat 1000 s old -> 401 stale_iat" 401 stale_iat
refer pave oldok 'iat: now-200'
expect "iat 200 s old (within skew) -> 201 (control)" 201
refer pave future 'iat: now+1000'
expect_problem "iat 1000 s ahead -> 401 stale_iat" 401 stale_iat
refer pave futureok 'iat: now+200'
expect "iat 200 s ahead (within skew) -> 201 (control)" 201

# ---- payload rules --------------------------------------------------------
# has_pointer PTR: the last problem lists PTR in errors[].pointer.
has_pointer() { [ "$(jeval "$BODY" "Array.isArray(j.errors) && j.errors.some(e => e.pointer === '$1' && typeof e.reason === 'string')")" = true ]; }
bad_payload() {   # NAME MEMBERS POINTER...
	local n=$1 m=$2; shift 2
	refer pave bp "$m"
	expect_problem "$n -> 400 invalid_payload" 400 invalid_payload
	local p
	for p in "$@"; do check "$n: errors[] has pointer $p" has_pointer "$p"; done
}
bad_payload "handle with a space" 'subjects:[{handle:"bad handle!"}]' /subjects/0/handle
bad_payload "jti too short" 'jti:"short"' /jti
bad_payload "unknown category" 'category:"nope"' /category
bad_payload "three broken rules" 'jti:"short", category:"nope", subjects:[{handle:"@ok_1"},{handle:"bad handle!"}]' /jti /category /subjects/1/handle
bad_payload "second subject's account_id not digits" 'subjects:[{handle:"fine"},{account_id:"12a"}]' /subjects/1/account_id
bad_payload "no subjects" 'subjects:[]' /subjects
bad_payload "101 subjects" 'subjects:Array.from({length:101},(_,i)=>({handle:"h"+i}))'
bad_payload "empty subject" 'subjects:[{}]'
bad_payload "iat a string" 'iat:String(now)' /iat
bad_payload "iat a float" 'iat: now + 0.5' /iat
bad_payload "unknown member" 'colour:"red"'
bad_payload "missing category" 'category:undefined'
bad_payload "sha256 upper case" 'evidence:[{url:"https://e.example/1", sha256:"A".repeat(64)}]' /evidence/0/sha256
bad_payload "summary with a control character" 'summary:"a\u0001b"' /summary
bad_payload "urgency unknown" 'urgency:"asap"' /urgency
bad_payload "removal_order from a partner" 'removal_order:{reference:"RO-1", issued_at:now, legal_basis:"TCO Art. 3"}'
refer pave okpl 'subjects:Array.from({length:100},(_,i)=>({handle:"hundred_"+i})), summary:"line one\n\tline two"'
expect "100 subjects, summary with newline and tab -> 201 (control)" 201
eq "100 subjects -> 100 cases in the answer" 100 "$(jeval "$BODY" 'j.cases && j.cases.length')"

# Duplicate member names: the same payload without the duplicate is accepted.
J2=$(rnd 20)
printf '{"jti":"%s","iat":%s,"category":"hate_speech","category":"terrorist_content","subjects":[{"handle":"dup_1"}]}' "$J2" "$(date +%s)" >"$T/dup.json"
sign pave "$T/dup.json" >"$T/dup.jws"; post_jws pave "$T/dup.jws"
expect_problem "duplicate member name -> 400 invalid_payload" 400 invalid_payload
printf '{"jti":"%s","iat":%s,"category":"terrorist_content","subjects":[{"handle":"dup_1"}]}' "$J2" "$(date +%s)" >"$T/nodup.json"
sign pave "$T/nodup.json" >"$T/nodup.jws"; post_jws pave "$T/nodup.jws"
expect "the same payload without the duplicate -> 201 (control)" 201
printf 'not json {' >"$T/nj.json"
sign pave "$T/nj.json" >"$T/nj.jws"; post_jws pave "$T/nj.jws"
expect_problem "payload not JSON -> 400 invalid_payload" 400 invalid_payload

# ---- URLs -----------------------------------------------------------------
for u in https://example.com/foo https://twitter.com.evil.example/foo https://twitter.com/home \
	https://twitter.com/search?q=x https://user@twitter.com/foo https://twitter.com:8443/foo; do
	refer pave url "subjects:[{url:\"$u\"}]"
	expect_problem "url $u -> 400 bad_url" 400 bad_url
done
# Not an http(s) URL at all: the schema's type rule (invalid_payload with the
# pointer) or bad_url are both the contract's 400.
refer pave url 'subjects:[{url:"ftp://twitter.com/foo"}]'
if problem_ok 400 bad_url || { problem_ok 400 invalid_payload && has_pointer /subjects/0/url; }; then
	ok "url ftp://twitter.com/foo -> 400 bad_url or invalid_payload at /subjects/0/url"
else notok "url ftp://twitter.com/foo -> 400 bad_url or invalid_payload at /subjects/0/url" "$(last)"; fi
for u in https://x.com/url_ok_1 https://mobile.twitter.com/url_ok_2/status/1234 HTTPS://WWW.X.COM/url_ok_3?s=20 https://twitter.com/i/user/98765; do
	refer pave url "subjects:[{url:\"$u\"}]"
	expect "url $u -> 201 (control)" 201
done
refer pave mism 'subjects:[{handle:"one_acct", url:"https://x.com/other_acct"}]'
expect_problem "handle and url naming different accounts -> 400 bad_url" 400 bad_url

# ---- roles ----------------------------------------------------------------
mkpayload "$T/pl.json" ''
sign pave "$T/pl.json" >"$T/role.jws"
post_jws rev "$T/role.jws"
expect_problem "reviewer POSTing a referral -> 403 forbidden" 403 forbidden
post_jws legal "$T/role.jws"
expect_problem "legal POSTing a referral -> 403 forbidden" 403 forbidden
post_jws pave "$T/role.jws"
expect "the same JWS from the partner -> 201 (control)" 201

refer agent order 'removal_order:{reference:"RO-2026-1", issued_at:now, legal_basis:"Regulation (EU) 2021/784, Art. 3"}, category:"terrorist_content"'
expect "agency with a removal_order -> 201" 201
RCV=$(jget "$BODY" .received_at); OCASE=$(jget "$BODY" '.cases[0].case_id')
req agent GET "/v1/cases/$OCASE"
expect "agency reads its removal-order case -> 200" 200
DL=$(jget "$BODY" .deadline_at)
ne "removal-order case has deadline_at" "" "$DL"
if [ -n "$DL" ] && [ -n "$RCV" ]; then
	delta=$(( $(date -d "$DL" +%s) - $(date -d "$RCV" +%s) ))
	if [ "$delta" -ge 3540 ] && [ "$delta" -le 3660 ]; then ok "deadline_at is one hour after receipt ($delta s)"
	else notok "deadline_at is one hour after receipt" "$DL - $RCV = $delta s"; fi
fi
refer agent noorder ''
expect "agency referral without removal_order -> 201 (control)" 201
req agent GET "/v1/cases/$(jget "$BODY" '.cases[0].case_id')"
absent "case without a removal order has no deadline_at" deadline_at

finish
