#!/usr/bin/env bash
# t_errors: contract section 7: every error is application/problem+json
# with a stable code; unknown paths, wrong methods, forbidden roles, bad
# ids and traversal attempts.
. "$(dirname "$0")/lib.sh"
rg_setup
enrol pave partner || finish
enrol rev reviewer || finish

# problem shape: type urn:refgate:problem:<code>, title, status = HTTP status.
shape_ok() {
	[ "$(jeval "$BODY" "j.type==='urn:refgate:problem:'+j.code && typeof j.title==='string' && j.status===$CODE")" = true ]
}
xp() {   # NAME STATUS CODE: expect_problem plus the RFC 9457 shape
	expect_problem "$1" "$2" "$3"
	[ "$CODE" = "$2" ] && { shape_ok && ok "$1: problem shape (type, title, status)" || notok "$1: problem shape" "$(head -c 200 "$BODY")"; }
}

refer pave r1 ''
expect "a referral -> 201 (for the ids below)" 201
R1=$(jget "$T/r1.answer" .referral_id); C1=$(jget "$T/r1.answer" '.cases[0].case_id')

# ---- unknown paths --------------------------------------------------------------
req pave GET /v1/keys; expect "GET /v1/keys -> 200 (control)" 200
for p in /v1/nope / /v1 /v1/ /v2/keys /v1/keys/extra /v1/referralsX /v1/cases /v1/cases/ /V1/KEYS /v1//keys; do
	req pave GET "$p" --path-as-is
	xp "GET $p -> 404 not_found" 404 not_found
done

# ---- wrong methods --------------------------------------------------------------
req pave PUT /v1/referrals -H 'Content-Type: application/jose' --data-binary 'x'
xp "PUT /v1/referrals -> 405 method_not_allowed" 405 method_not_allowed
ne "405 carries an Allow header" "" "$(hdr Allow)"
req pave DELETE /v1/keys
xp "DELETE /v1/keys -> 405 method_not_allowed" 405 method_not_allowed
req pave GET /v1/referrals
xp "GET /v1/referrals (collection) -> 405 method_not_allowed" 405 method_not_allowed
req pave POST /v1/keys -H 'Content-Type: application/json' --data-binary '{}'
xp "POST /v1/keys -> 405 method_not_allowed" 405 method_not_allowed
req rev PATCH "/v1/cases/$C1" -H 'Content-Type: application/json' --data-binary '{}'
xp "PATCH /v1/cases/{id} -> 405 method_not_allowed" 405 method_not_allowed
req rev GET "/v1/cases/$C1/decision"
xp "GET /v1/cases/{id}/decision -> 405 method_not_allowed" 405 method_not_allowed

# ---- roles ----------------------------------------------------------------------
req legal GET /v1/admin/principals
expect "legal GET /v1/admin/principals -> 200 (control)" 200
req pave GET /v1/admin/principals
xp "partner GET /v1/admin/principals -> 403 forbidden" 403 forbidden
req rev GET /v1/admin/principals
xp "reviewer GET /v1/admin/principals -> 403 forbidden" 403 forbidden
req pave DELETE /v1/admin/principals/rev
xp "partner DELETE /v1/admin/principals/rev -> 403 forbidden" 403 forbidden
req rev GET /v1/review/queue
expect "reviewer still enrolled after the refused DELETE -> 200" 200
req pave GET /v1/admin/audit
xp "partner GET /v1/admin/audit -> 403 forbidden" 403 forbidden
req pave GET /v1/admin/nonexistent
case $CODE in 403|404) problem_ok "$CODE" "$([ "$CODE" = 403 ] && echo forbidden || echo not_found)" \
	&& ok "partner on an unknown admin path -> 403 or 404 problem" || notok "partner on an unknown admin path" "$(last)" ;;
	*) notok "partner on an unknown admin path -> 403 or 404" "$(last)" ;; esac

# ---- ids ------------------------------------------------------------------------
req pave GET "/v1/cases/$C1"; expect "own case by its id -> 200 (control)" 200
req pave GET "/v1/referrals/$R1"; expect "own referral by its id -> 200 (control)" 200
ID40=$(printf 'c_%038d' 0); ID41=$(printf 'c_%039d' 0)
for id in "$ID40" "$ID41" "c_a.b" "c_a%20b" "c_%00" "c_a%2Fb" "c_%C3%A9" "c_a'b" "c_a*" "$(printf 'x%.0s' $(seq 300))"; do
	req pave GET "/v1/cases/$id" --path-as-is
	xp "GET /v1/cases/${id:0:44} -> 404 not_found" 404 not_found
	req pave GET "/v1/referrals/$id" --path-as-is
	xp "GET /v1/referrals/${id:0:44} -> 404 not_found" 404 not_found
done
req pave GET "/v1/cases/${C1}x" ; xp "own case id with one more char -> 404" 404 not_found
req pave GET "/v1/cases/$R1" ; xp "a referral id as a case id -> 404" 404 not_found

# ---- traversal ------------------------------------------------------------------
for p in "/v1/cases/..%2F..%2Fv1%2Fkeys" "/v1/cases/%2e%2e%2fkeys" "/v1/cases/%2E%2E/%2E%2E/v1/keys" \
	"/v1/referrals/..%2fadmin%2fprincipals" "/v1/referrals/%252e%252e%252fkeys" "/v1/cases/$C1/..%2F..%2Fkeys" \
	"/v1/cases/../keys" "/v1/./keys"; do
	req pave GET "$p" --path-as-is
	case $CODE in 404) xp "traversal $p -> 404 not_found" 404 not_found ;;
	*) notok "traversal $p -> 404 not_found" "$(last)" ;; esac
done
req legal GET "/v1/admin/../keys" --path-as-is
xp "legal: /v1/admin/../keys -> 404 not_found" 404 not_found
req legal GET "/v1/keys/..%2Fadmin%2Fprincipals" --path-as-is
xp "legal: /v1/keys/..%2Fadmin%2Fprincipals -> 404, not the admin list" 404 not_found

# ---- query strings and headers --------------------------------------------------
req pave GET '/v1/keys?x=1'
case $CODE in 200|400) ok "unknown query parameter on /v1/keys -> 200 or 400 ($CODE)" ;; *) notok "unknown query parameter on /v1/keys" "$(last)" ;; esac
req pave GET '/v1/changes?limit=1&limit=2'
case $CODE in 200|400) ok "repeated query parameter -> 200 or 400 ($CODE)" ;; *) notok "repeated query parameter" "$(last)" ;; esac

# every non-2xx/3xx answer so far came as problem+json with a code: one more
# broad check on a fresh set of bad requests.
for spec in "POST /v1/referrals text/plain" "POST /v1/cases/$C1/decision application/json" "GET /v1/changes?limit=0 -"; do
	set -- $spec
	if [ "$3" = - ]; then req pave "$1" "$2"; else req pave "$1" "$2" -H "Content-Type: $3" --data-binary 'garbage'; fi
	if [ "${CODE:0:1}" = 4 ] && grep -qi '^content-type: *application/problem+json' "$HDR" && [ -n "$(jget "$BODY" .code)" ]; then
		ok "$1 $2 ($3) -> $CODE problem+json with code $(jget "$BODY" .code)"
	else notok "$1 $2 ($3) -> 4xx problem+json with code" "$(last)"; fi
done

# ---- rate limit (429 rate_limited with Retry-After) -------------------------
# One principal fires 300 requests over one kept-alive connection, far above
# any sensible per-principal rate; another principal stays served.
enrol burst partner || finish
: >"$T/burst.K"
for _ in $(seq 300); do printf 'url = "%s/v1/keys"\noutput = "/dev/null"\n' "$U" >>"$T/burst.K"; done
curl -s -w '%{http_code}\n' -D "$T/burst.hdr" --max-time 120 --resolve "localhost:$PORT:127.0.0.1" \
	--cacert "$T/p/burst/ca.pem" --cert "$T/p/burst/cert.pem" --key "$T/p/burst/key.pem" -K "$T/burst.K" >"$T/burst.codes" 2>/dev/null
n200=$(grep -c '^200$' "$T/burst.codes"); n429=$(grep -c '^429$' "$T/burst.codes")
eq "burst of 300: only 200 and 429 answers" 300 "$((n200 + n429))"
if [ "$n200" -gt 0 ]; then ok "burst: the first requests are served ($n200)"; else notok "burst: the first requests are served"; fi
if [ "$n429" -gt 0 ]; then ok "burst: the excess is refused with 429 ($n429)"; else notok "burst: the excess is refused with 429" "$n200 answered 200"; fi
if [ "$n429" -gt 0 ]; then
	grep -qi '^retry-after: *[0-9]' "$T/burst.hdr" && ok "429 carries Retry-After" || notok "429 carries Retry-After"
	grep -qi '^content-type: *application/problem+json' "$T/burst.hdr" && ok "429 is problem+json" || notok "429 is problem+json"
	# The body of a 429: a second, shorter burst with each answer kept (a
	# single request might find a token refilled meanwhile; 60 at once
	# cannot all do so at 50 per second).
	: >"$T/burst2.K"
	for i in $(seq 60); do printf 'url = "%s/v1/keys"\noutput = "%s/b2.%d"\n' "$U" "$T" "$i" >>"$T/burst2.K"; done
	curl -s -w '%{http_code} %{filename_effective}\n' --max-time 60 --resolve "localhost:$PORT:127.0.0.1" \
		--cacert "$T/p/burst/ca.pem" --cert "$T/p/burst/cert.pem" --key "$T/p/burst/key.pem" -K "$T/burst2.K" >"$T/burst2.codes" 2>/dev/null
	b429=$(awk '$1 == 429 {print $2; exit}' "$T/burst2.codes")
	if [ -n "$b429" ] && [ -f "$b429" ]; then
		eq "the limited principal right after the burst -> 429 problem rate_limited" "rate_limited 429" \
			"$(jeval "$b429" 'j.code+" "+j.status')"
	else
		notok "the limited principal right after the burst -> 429" "no 429 among 60 more: $(sort "$T/burst2.codes" | awk '{print $1}' | uniq -c | tr '\n' ' ')"
	fi
	req pave GET /v1/keys
	expect "another principal during the limit -> 200 (control)" 200
	ra=$(grep -i '^retry-after:' "$T/burst.hdr" | tail -n 1 | tr -dc 0-9)
	[ -n "$ra" ] && [ "$ra" -le 10 ] && sleep "$ra"
	sleep 1
	req burst GET /v1/keys
	expect "the limited principal after Retry-After -> 200" 200
fi

# ---- the body limit is the HTTP layer's (max_body), not only the JWS parser's ----------
# With max_body = 4096 a body of 8 KiB is refused 413 before any handler
# reads it, sent with a Content-Length or chunked (no length announced: the
# stream itself must be cut). The JWS parser's own limit is 64 KiB, so a
# 400 here would mean the HTTP layer let the body through.
rg_stop
conf_set max_body 4096
rg_start || finish
mkpayload "$T/small.json" ''
sign pave "$T/small.json" >"$T/small.jws"
post_jws pave "$T/small.jws"
expect "max_body 4096: a referral of $(wc -c <"$T/small.jws") bytes -> 201 (control)" 201
head -c 8192 /dev/zero | tr '\0' 'A' >"$T/b8k"
post_jws pave "$T/b8k"
expect_problem "max_body 4096: 8 KiB with Content-Length -> 413" 413 payload_too_large
post_jws pave "$T/b8k" -H 'Transfer-Encoding: chunked'
expect_problem "max_body 4096: 8 KiB chunked (no Content-Length) -> 413" 413 payload_too_large
check "the chunked request was sent chunked" grep -qi '^transfer-encoding: *chunked' <(curl -s -v -o /dev/null --max-time 20 \
	--resolve "localhost:$PORT:127.0.0.1" --cacert "$T/p/pave/ca.pem" --cert "$T/p/pave/cert.pem" --key "$T/p/pave/key.pem" \
	-H 'Content-Type: application/jose' -H 'Transfer-Encoding: chunked' --data-binary @"$T/b8k" "$U/v1/referrals" 2>&1 | sed -n 's/^> //p')

finish
