#!/usr/bin/env bash
# t_console: the web console (docs/reviewers.md, docs/legal.md) end to end
# in headless Chromium (console.mjs: one browser, one context per
# principal, each with its client certificate), then checked through the
# API; its defences against cross-site request forgery with curl.
. "$(dirname "$0")/lib.sh"
rg_setup
rg_playwright_setup || finish
enrol pave partner || finish
enrol agent agency || finish
enrol rev reviewer || finish
# rev2 signs in to the browser with the PKCS#12 that enroll --p12 writes
P12_PASS="correct horse $(rnd 8)"
printf '%s\n' "$P12_PASS" >"$T/p12.pass"
enrol rev2 reviewer --p12 "$T/rev2.p12" --p12-pass-file "$T/p12.pass" || finish
eq "enroll --p12 writes the PKCS#12 0600" 600 "$(stat -c %a "$T/rev2.p12")"
openssl pkcs12 -in "$T/rev2.p12" -passin "file:$T/p12.pass" -nokeys -clcerts 2>/dev/null \
	| openssl x509 -noout -pubkey >"$T/p12.pub" 2>/dev/null
openssl x509 -in "$T/p/rev2/cert.pem" -noout -pubkey >"$T/cert.pub"
check "the PKCS#12 holds rev2's certificate and opens with the passphrase" cmp -s "$T/p12.pub" "$T/cert.pub"
printf 'short\n' >"$T/short.pass"
if ctl enroll rev3 --role reviewer --out "$T/p/rev3" --p12 "$T/rev3.p12" --p12-pass-file "$T/short.pass"; then
	notok "a passphrase under 8 characters is refused" "exit 0"
else
	eq "a passphrase under 8 characters is refused, nothing written or enrolled" "no no" \
		"$([ -e "$T/rev3.p12" ] && echo yes || echo no) $([ -e "$T/p/rev3" ] && echo yes || echo no)"
fi
ctl enroll rev4 --role reviewer --csr "$T/p12.pass" --p12 "$T/rev4.p12"
eq "--p12 with --csr -> usage (exit 2)" 2 "$?"
enrol victim partner || finish

# a certificate the client CA issued, for legal to enrol in the browser
CA_PEM=$(conf_path client_ca); CA_KEY=$(conf_path client_ca_key)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=newrev \
	-keyout "$T/newrev.key" -out "$T/newrev.csr" 2>"$T/openssl.log" &&
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$T/client.ext" &&
openssl x509 -req -in "$T/newrev.csr" -CA "$CA_PEM" -CAkey "$CA_KEY" -CAcreateserial -days 30 \
	-extfile "$T/client.ext" -out "$T/newrev.pem" 2>>"$T/openssl.log" \
	|| { notok "a client certificate from the CA" "$(cat "$T/openssl.log")"; finish; }

refer agent ca 'summary:"<script>alert(1)</script> & <b>bold</b>",subjects:[{handle:"@Console_Target"}],evidence:[{url:"https://x.com/someone/status/1",sha256:"ab".repeat(32),media_type:"image/png",captured_at:now}],removal_order:{reference:"RO-console-1",issued_at:now,legal_basis:"Regulation (EU) 2021/784, Art. 3"}'
A=$(jget "$T/ca.answer" '.cases[0].case_id')
refer pave cb
B=$(jget "$T/cb.answer" '.cases[0].case_id')
refer pave cc
C=$(jget "$T/cc.answer" '.cases[0].case_id')
# D: a removal order the reviewer answers cannot_execute in the browser
refer agent cd 'subjects:[{handle:"@Console_Order"}],removal_order:{reference:"RO-console-2",issued_at:now,legal_basis:"Regulation (EU) 2021/784, Art. 3"}'
ORD=$(jget "$T/cd.answer" '.cases[0].case_id')
refer pave ce
PLAIN=$(jget "$T/ce.answer" '.cases[0].case_id')
[ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] && [ -n "$ORD" ] && [ -n "$PLAIN" ] || { notok "five referrals" "$(last)"; finish; }

# ---- in the browser ---------------------------------------------------------------
# the legal ground the console's decision on A cites: quotes, ampersand
# and non-ASCII go through the form, the API and the statement unchanged
LEGAL_GROUND="Art. 5(1) Verordnung (EU) 2021/784 \"TCO\" & § 130 StGB"
RG_URL=$U RG_P=$T/p RG_CASE_A=$A RG_CASE_B=$B RG_CASE_ORDER=$ORD RG_CASE_PLAIN=$PLAIN RG_OUT=$T/browser.json RG_LEGAL_GROUND=$LEGAL_GROUND \
RG_P12_PASS=$P12_PASS RG_LEGAL=1 RG_REVOKE=victim RG_AGENCY=agent RG_NEWCERT=$(cat "$T/newrev.pem") \
RG_SHOTS=${RG_SHOTS:-$T} NODE_EXTRA_CA_CERTS=$T/p/rev/ca.pem \
	timeout 300 node "$ITDIR/console.mjs" >"$T/browser.log" 2>&1
echo "# browser: exit $?" >>"$T/browser.log"
n=0
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }"; n=$((n + 1)) ;;
	"not ok - "*) l=${line#not ok - }; notok "${l%%: *}" "${l#*: }"; n=$((n + 1)) ;;
	esac
done <"$T/browser.log"
# its last check runs after everything else: without it the scenario broke off
grep -q "^ok - every console answer" "$T/browser.log" && [ "$n" -ge 15 ] \
	&& ok "the browser scenario ran to its end ($n checks)" \
	|| notok "the browser scenario ran to its end" "$n checks: $(tail -n 5 "$T/browser.log" | tr '\n' ' ')"

# ---- what the browser did, seen through the API ------------------------------------------
req agent GET "/v1/cases/$A"
eq "the console's decision is visible to the agency through the API" "actioned content_removed" "$(jeval "$BODY" 'j.status+" "+j.action')"
req rev GET "/v1/cases/$A"
eq "the decision was recorded as rev's, with its statement of reasons" "rev illegal_content" \
	"$(jeval "$BODY" '(d=>d.reviewer+" "+d.ground)((j.decisions||[]).slice(-1)[0]||{})')"
eq "the decision record carries the legal ground given in the console" "$LEGAL_GROUND" \
	"$(jeval "$BODY" '((j.decisions||[]).slice(-1)[0]||{}).legal_ground||"absent"')"
req legal GET /v1/admin/statements
eq "... and so does the statement of reasons (illegal_content_legal_ground)" "$LEGAL_GROUND" \
	"$(jeval "$BODY" "((j.statements||[]).find(s=>s.puid.startsWith('$A-'))||{}).illegal_content_legal_ground||'absent'")"
req agent GET /v1/removal-orders/RO-console-2
eq "the console's cannot_execute is the order's feedback to the agency (Annex III)" "cannot_execute manifest_error" \
	"$(jeval "$BODY" 'j.status+" "+j.reason')"
req rev GET "/v1/cases/$B"
eq "case B: claimed by rev through the console, still received" "received rev" "$(jeval "$BODY" 'j.status+" "+j.claimed_by')"
eq "audit: the console's claim is an audit record by rev" 1 \
	"$(dbq "SELECT COUNT(*) FROM audit WHERE kind = 'claim' AND actor = 'rev' AND object = '$B'")"

req victim GET /v1/partners/me/stats
eq "the principal legal revoked in the browser is refused (401)" 401 "$CODE"
mkdir -p "$T/p/newrev" && cp "$T/newrev.pem" "$T/p/newrev/cert.pem" && cp "$T/newrev.key" "$T/p/newrev/key.pem"
req newrev GET /v1/review/queue
eq "the reviewer legal enrolled in the browser is served (200)" 200 "$CODE"
KEY_ID=$(jget "$T/browser.json" .key_id)
req legal GET /v1/admin/access-keys
eq "the key issued in the browser is revoked, for agent, status tier" "agent status yes" \
	"$(jeval "$BODY" "(k=>k?[k.principal,k.tier,k.revoked_at?\"yes\":\"no\"].join(\" \"):\"absent\")((j.access_keys||[]).find(k=>k.id===\"$KEY_ID\"))")"
eq "audit: the browser's enrolment, revocation and key are audited as legal's" "enrol revoke key_issue key_revoke" \
	"$(dbq "SELECT kind FROM audit WHERE actor = 'legal' AND ((kind = 'enrol' AND object = 'newrev') OR (kind = 'revoke' AND object = 'victim') OR (kind IN ('key_issue','key_revoke') AND object = '$KEY_ID')) ORDER BY seq" | paste -sd ' ')"

# ---- cross-site request forgery (curl) -------------------------------------------------
req rev GET "/console/cases/$C"
TOKEN=$(grep -o 'name="csrf" value="[^"]*"' "$BODY" | head -n 1 | sed 's/.*value="//; s/"$//')
[ ${#TOKEN} = 43 ] && ok "a console form carries a 43-character token" || notok "a console form carries a token" "got '$TOKEN'"
form() { req rev POST "/console/cases/$C/claim" -H 'Content-Type: application/x-www-form-urlencoded' "$@"; }
form --data "do=claim&next=case"
eq "POST without the token -> 403" 403 "$CODE"
form --data "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&do=claim"
eq "POST with a wrong token -> 403" 403 "$CODE"
form --data "csrf=$TOKEN&do=claim" -H 'Origin: https://evil.example'
eq "POST with the token from a foreign Origin -> 403" 403 "$CODE"
form --data "csrf=$TOKEN&do=claim" -H 'Sec-Fetch-Site: cross-site'
eq "POST with the token, Sec-Fetch-Site cross-site -> 403" 403 "$CODE"
ne "the refusals are console pages with the CSP" "" "$(hdr Content-Security-Policy)"
req rev GET "/v1/cases/$C"
eq "the refused POSTs claimed nothing" "" "$(jget "$BODY" .claimed_by)"
req rev2 POST "/console/cases/$C/claim" -H 'Content-Type: application/x-www-form-urlencoded' \
	-H "Origin: https://localhost:$PORT" --data "csrf=$TOKEN&do=claim"
eq "another principal's token -> 403" 403 "$CODE"
form --data "csrf=$TOKEN&do=claim&next=case" -H "Origin: https://localhost:$PORT" -H 'Sec-Fetch-Site: same-origin'
eq "POST with the token from the console's origin -> 303 (control)" 303 "$CODE"
eq "it redirects to the case page" "/console/cases/$C" "$(hdr Location)"
req rev GET "/v1/cases/$C"
eq "the accepted POST claimed the case" "rev" "$(jget "$BODY" .claimed_by)"
form --data "csrf=$TOKEN&do=claim&do=release"
eq "a repeated form field -> 400" 400 "$CODE"
req rev POST "/console/cases/$C/claim" -H 'Content-Type: application/json' --data '{}'
eq "a JSON body on a console form route -> 415" 415 "$CODE"
req rev GET /console/style.css
eq "the stylesheet is served (style-src 'self')" "200 text/css; charset=utf-8" "$CODE $(hdr Content-Type)"
req none GET /console/
eq "no client certificate -> 401" 401 "$CODE"
req legal GET /console/queue
eq "legal on the reviewers' queue page -> 403" 403 "$CODE"
req rev GET /console/queue
eq "console pages are not cached" "no-store" "$(hdr Cache-Control)"

# ---- the console's chain check and refgatectl's are one verifier ----------------
# (proto/audit_verify.c): an edited record is named the same way by both.
verdict() { grep -o 'id="verdict">[^<]*' "$BODY" | sed 's/^id="verdict">//'; }
req legal GET /console/audit/verify
case $(verdict) in *" records, "*" signed heads, chain intact.") ok "console: the intact log verifies ($(verdict))" ;;
*) notok "console: the intact log verifies" "$(last)" ;; esac
K=$(dbq "SELECT MIN(seq) FROM audit WHERE kind = 'enrol' AND object = 'rev'")
sqlite3 -cmd '.timeout 10000' "$(conf_path database)" "DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{\"role\":\"legal\"}' WHERE seq = $K;" >"$T/tamper.log" 2>&1
eq "record $K (rev's enrolment) edited in the live database" '{"role":"legal"}' "$(dbq "SELECT detail FROM audit WHERE seq = $K")"
req legal GET /console/audit/verify
eq "console: the edited record is named" "Broken: record $K: hash does not match its contents (the record was edited)" "$(verdict)"
"$BIN/refgatectl" -c "$D/refgate.conf" audit verify >"$T/verify.out" 2>&1
eq "refgatectl audit verify names it the same way (exit 1)" "1 audit: record $K: hash does not match its contents (the record was edited)" "$? $(cat "$T/verify.out")"

finish
