#!/usr/bin/env bash
# t_messages: a refusal says what is wrong (for the people who read them:
# partners' developers, reviewers, the legal team), within the stable codes
# of contract section 7: a 415 names the media type to send; an unsigned
# JSON body is told to sign; stale_iat gives the clock offset; a 409
# bad_transition names the case's current status; an enrolment names why a
# certificate is refused (expired, foreign CA, not for clients).
. "$(dirname "$0")/lib.sh"
rg_setup
enrol pave partner || finish
enrol rev reviewer || finish
detail() { jeval "$BODY" 'j.detail||""'; }

# ---- media type, unsigned JSON ------------------------------------------------------
sign pave "$T/r1.json" --make 'subjects:[{handle:"msg_acct_1"}]' >"$T/r1.jws"
req pave POST /v1/referrals -H 'Content-Type: application/json' --data-binary @"$T/r1.jws"
expect_problem "a JWS sent as application/json -> 415" 415 unsupported_media_type
eq "the 415 names the type to send" "send the signed referral (compact JWS) as Content-Type: application/jose" "$(detail)"
req rev POST "/v1/cases/c_none/decision" -H 'Content-Type: text/plain' --data-binary '{}'
expect_problem "a decision as text/plain -> 415" 415 unsupported_media_type
eq "that 415 names application/json" "send the body as Content-Type: application/json" "$(detail)"
node -e 'const fs=require("fs");process.stdout.write(JSON.stringify(JSON.parse(fs.readFileSync(process.argv[1]))))' -- "$T/r1.json" >"$T/plain.json"
post_jws pave "$T/plain.json"
expect_problem "the referral's JSON unsigned -> 400 invalid_jws" 400 invalid_jws
eq "it is told to sign" "the body is JSON, not a compact JWS: sign the referral (EdDSA, your signing key) and send the token" "$(detail)"
printf 'abc.def' >"$T/two.txt"; post_jws pave "$T/two.txt"
expect_problem "two parts -> 400 invalid_jws (control: not JSON)" 400 invalid_jws
eq "that one is told the JWS shape" "JWS does not have three parts" "$(detail)"

# ---- stale iat ---------------------------------------------------------------------------
SKEW=$(awk -F' *= *' '$1=="iat_skew"{print $2}' "$D/refgate.conf"); SKEW=${SKEW:-300}
refer pave old 'subjects:[{handle:"msg_acct_2"}], iat: now-1000'
expect_problem "iat 1000 s old -> 401 stale_iat" 401 stale_iat
D1=$(detail)
eq "the detail gives the offset (behind) and the allowed skew" true \
	"$(node -e 'const [d,s]=process.argv.slice(1);const m=/^iat is (\d+) s behind the gateway.s clock \(allowed: (\d+) s either way\)/.exec(d);console.log(!!m&&Math.abs(m[1]-1000)<=5&&m[2]===s)' -- "$D1" "$SKEW")"
refer pave ahead 'subjects:[{handle:"msg_acct_3"}], iat: now+1000'
expect_problem "iat 1000 s ahead -> 401 stale_iat" 401 stale_iat
eq "the detail says ahead" true "$(node -e 'console.log(/^iat is \d+ s ahead of the gateway.s clock/.test(process.argv[1]))' -- "$(detail)")"

# ---- 409 names the current status ------------------------------------------------------
refer pave c1 'subjects:[{handle:"msg_acct_4"}]'; expect "a referral -> 201" 201
C1=$(jget "$T/c1.answer" '.cases[0].case_id')
post_json rev "/v1/cases/$C1/decision" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"x"}'
expect_problem "received -> actioned -> 409" 409 bad_transition
eq "the 409 names the current status" "the case is received; received -> actioned is not allowed" "$(detail)"
post_json rev "/v1/cases/$C1/decision" '{"status":"in_review"}'; expect "received -> in_review -> 200" 200
post_json rev "/v1/cases/$C1/decision" '{"status":"in_review"}'
expect_problem "in_review -> in_review -> 409" 409 bad_transition
eq "the 409 says in_review" "the case is in_review; in_review -> in_review is not allowed" "$(detail)"

# ---- enrolment: why a certificate is refused --------------------------------------------
CAK=$(conf_path client_ca_key); CAC=$(conf_path client_ca)
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$T/leaf.ext"
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$T/server.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=m \
	-keyout "$T/m.key" -out "$T/m.csr" >>"$T/openssl.log" 2>&1
# mkcert NAME DAYS EXT [CA-CERT CA-KEY]
mkcert() {
	openssl x509 -req -in "$T/m.csr" -CA "${4:-$CAC}" -CAkey "${5:-$CAK}" -set_serial "0x$(rnd 16)" \
		-days "$2" -extfile "$T/$3" -out "$T/$1.pem" >>"$T/openssl.log" 2>&1
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=foreign -days 2 \
	-keyout "$T/fca.key" -out "$T/fca.pem" >>"$T/openssl.log" 2>&1
mkcert expired -1 leaf.ext; mkcert serveronly 30 server.ext; mkcert foreign 30 leaf.ext "$T/fca.pem" "$T/fca.key"
mkcert good 30 leaf.ext
for f in expired serveronly foreign good; do
	[ -s "$T/$f.pem" ] && ok "made the $f certificate" || notok "made the $f certificate" "$(tail -n 3 "$T/openssl.log")"
done
# enrol_with FILE: POST a reviewer enrolment with that certificate.
enrol_with() {
	post_json legal /v1/admin/principals "$(node -e 'const fs=require("fs");console.log(JSON.stringify({name:"m"+process.argv[2],role:"reviewer",certificates:[fs.readFileSync(process.argv[1],"utf8")]}))' -- "$T/$1.pem" "$(rnd 6)")"
}
# pointer_reason: the reason the problem gives for /certificates/0.
pointer_reason() { jeval "$BODY" '((j.errors||[]).find(e=>e.pointer==="/certificates/0")||{}).reason||JSON.stringify(j)'; }
enrol_with expired; expect_problem "enrol an expired certificate -> 400" 400 invalid_payload
eq "it says expired" "expired (notAfter in the past)" "$(pointer_reason)"
enrol_with foreign; expect_problem "enrol a foreign-CA certificate -> 400" 400 invalid_payload
eq "it says foreign CA" "not issued by the gateway's client CA" "$(pointer_reason)"
enrol_with serveronly; expect_problem "enrol a server-only certificate -> 400" 400 invalid_payload
eq "it says not a client certificate" "not a client certificate (extendedKeyUsage clientAuth)" "$(pointer_reason)"
enrol_with good; expect "enrol a good certificate -> 201 (control)" 201
SOON=$(jeval "$T/post.json" 'j.name')

# ---- refgatectl principals: certificate expiry, flagged 30 days ahead ---------------------
# $SOON's certificate expires in 30 days (less the seconds since it was
# made); legal's, made by init, in 397.
ctl principals; rc=$?
eq "refgatectl principals -> exit 0" 0 "$rc"
grep -Eq "^$SOON +reviewer +active +1 +0  [0-9]{4}-[0-9]{2}-[0-9]{2} \(in (29|30) days!\)\$" "$T/ctl.out" \
	&& ok "the 30-day certificate's row is flagged with '!'" || notok "the 30-day certificate's row is flagged with '!'" "$(cat "$T/ctl.out")"
grep -Eq "^legal +legal +active +1 +0  [0-9-]{10} \(in 39[67] days\)\$" "$T/ctl.out" \
	&& ok "legal's 397-day certificate is not flagged" || notok "legal's 397-day certificate is not flagged" "$(cat "$T/ctl.out")"
grep -Fq "warning: the certificate of 1 principal expires within 30 days ($SOON)" "$T/ctl.out" \
	&& ok "a warning names the principal whose certificate expires soon" || notok "a warning names the principal whose certificate expires soon" "$(cat "$T/ctl.out")"
# the daemon warns in its log (at start, then daily) and counts it in /metrics
PORT2=$(free_port)
conf_set metrics_listen "127.0.0.1:$PORT2"
rg_stop && rg_start
grep -F '"level":"warn"' "$D/server.log" | grep -qF "certificate of principal $SOON expires at" \
	&& ok "the daemon warns about $SOON's certificate at start" || notok "the daemon warns about $SOON's certificate at start" "$(grep -F certificate "$D/server.log" | tail -n 2)"
if grep -F '"level":"warn"' "$D/server.log" | grep -qF "certificate of principal legal"; then
	notok "... and not about legal's 397-day one"; else ok "... and not about legal's 397-day one"; fi
curl -s --max-time 10 "http://127.0.0.1:$PORT2/metrics" >"$T/m.txt"
eq "refgate_principal_certificates_expiring 1" 1 "$(awk '$1 == "refgate_principal_certificates_expiring" {print $2}' "$T/m.txt")"
ctl principals --json
eq "principals --json carries certificate_expires_at" "yes" \
	"$(sed -n '/^{/,$p' "$T/ctl.out" >"$T/pj.json"; jeval "$T/pj.json" '(j.principals.find(p=>p.name==="legal")||{}).certificate_expires_at ? "yes" : "no"')"
finish
