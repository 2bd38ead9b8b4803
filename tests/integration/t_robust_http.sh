#!/usr/bin/env bash
# t_robust_http: HTTP abuse on an authenticated TLS connection, raw bytes
# sent with helpers/raw.mjs: request smuggling (Content-Length with
# Transfer-Encoding in both orders, duplicate Content-Length with different
# values, transfer codings other than chunked, a malformed Content-Length),
# invalid UTF-8 and control characters in the path and in headers the
# gateway reads, percent-encoded traversal in ids, methods and paths that do
# not exist. Each must get a clean 4xx (problem+json where the gateway
# answers; libmicrohttpd's own HTML 400 for malformed HTTP is accepted and
# recorded as such), no second answer for a smuggled request, and no state
# change (referrals, cases and audit rows counted before and after). Each
# smuggling attempt carries a valid signed referral as its hidden request;
# the same referral sent alone afterwards is the positive control (201).
. "$(dirname "$0")/lib.sh"
rg_setup_conf rate_limit_rps 0
enrol good partner || finish
P=$T/p/good
H='Host: localhost\r\n'

# raw NAME [IDLE-MS]: sends $T/NAME.in as partner good; sets R1 (first
# status, 000 for none), RN (number of status lines), RREP (yes when the
# first header block announced a body but was followed at once by another
# status line: libmicrohttpd 0.9.75 repeats its header block on some of
# its own error answers), RCT (first content type), RCLOSED (yes/no), RBY
# (who answered: the gateway, with problem+json, or libmicrohttpd).
raw() {
	node "$ITDIR/helpers/raw.mjs" --port "$PORT" --ca "$P/ca.pem" --cert "$P/cert.pem" --key "$P/key.pem" \
		--in "$T/$1.in" --idle "${2:-1500}" >"$T/$1.out" 2>"$T/$1.err"
	# (no ^: an answer pipelined after a body without a final newline)
	R1=$(grep -a -o 'HTTP/1\.[01] [0-9][0-9][0-9] ' "$T/$1.out" | head -n 1 | awk '{print $2}')
	R1=${R1:-000}
	RN=$(grep -a -o 'HTTP/1\.[01] [0-9][0-9][0-9] ' "$T/$1.out" | wc -l)
	RREP=$(node -e 'const b=require("fs").readFileSync(process.argv[1],"latin1");
const p=b.split(/(?=HTTP\/1\.[01] \d\d\d )/);
process.stdout.write(p.length>1&&p[0].endsWith("\r\n\r\n")&&/content-length: *[1-9]/i.test(p[0])?"yes":"no")' -- "$T/$1.out")
	RCT=$(grep -a -i -m 1 '^content-type:' "$T/$1.out" | sed 's/^[^:]*: *//' | tr -d '\r')
	grep -q closed-by-server "$T/$1.err" && RCLOSED=yes || RCLOSED=no
	case $RCT in application/problem+json*) RBY="gateway, problem+json code $(sed -n 's/.*"code":"\([a-z_]*\)".*/\1/p' "$T/$1.out" | head -n 1)" ;;
	application/json*) RBY="gateway, application/json" ;;
	*) RBY="libmicrohttpd, ${RCT:-no content type}" ;; esac
}
# put NAME FORMAT: the request bytes, from a printf format.
put() { printf "$2" >"$T/$1.in"; }
state() { dbq 'BEGIN; SELECT (SELECT count(*) FROM referrals) || "/" || (SELECT count(*) FROM cases) || "/" || (SELECT count(*) FROM audit); COMMIT;'; }
# inner NAME: a fresh signed referral; $T/NAME.jws, its jti in JTI, a
# complete POST request for it in INNER (printf-safe: no % in base64url).
inner() {
	sign good "$T/$1.json" --make "" >"$T/$1.jws"
	JTI=$(jget "$T/$1.json" .jti)
	INNER="POST /v1/referrals HTTP/1.1\r\n${H}Content-Type: application/jose\r\nContent-Length: $(wc -c <"$T/$1.jws")\r\n\r\n$(cat "$T/$1.jws")"
}
stored() { dbq "SELECT count(*) FROM referrals WHERE jti = '$1';"; }
# clean4xx NAME FILE [STATUS-REGEX]: the first answer of FILE is a 4xx
# (or matches STATUS-REGEX) and the only one; records who answered. A
# header block libmicrohttpd repeated on a closed connection counts as one
# answer (noted).
clean4xx() {
	local want=${3:-4[0-9][0-9]}
	if ! echo "$R1" | grep -Eqx "$want"; then
		notok "$1: a ${3:-4xx}" "first answer $R1 ($RBY), connection closed: $RCLOSED"
	elif [ "$RN" = 1 ]; then
		ok "$1: $R1 ($RBY)"
	elif [ "$RN" = 2 ] && [ "$RREP" = yes ] && [ "$RCLOSED" = yes ]; then
		ok "$1: $R1 ($RBY; note: it repeated its header block before the body)"
	else
		notok "$1: one answer only" "$RN answers: $(grep -a -o 'HTTP/1\.[01] [0-9][0-9][0-9] ' "$T/$2.out" | tr '\n' ' ')"
	fi
}

# ---- controls ---------------------------------------------------------------------
put ctl "GET /v1/keys HTTP/1.1\r\n${H}\r\n"
raw ctl
eq "raw GET /v1/keys -> 200 (control)" 200 "$R1"
inner ctlref
put ctlref "$INNER"
raw ctlref
eq "raw POST of a signed referral -> 201 (control)" 201 "$R1"
RID=$(sed -n 's/.*"referral_id":"\([^"]*\)".*/\1/p' "$T/ctlref.out" | head -n 1)
put pipe "GET /v1/keys HTTP/1.1\r\n${H}\r\nGET /v1/keys HTTP/1.1\r\n${H}\r\n"
raw pipe
eq "two pipelined GETs -> two answers (control: a second request on the connection is seen)" "200 2" "$R1 $RN"
S0=$(state)

# ---- request smuggling ------------------------------------------------------------
# smuggle NAME HEADERS BODY-PREFIX: a POST /v1/referrals whose framing is
# ambiguous, with a hidden referral after BODY-PREFIX.
smuggle() {
	local n=$1 hdrs=$2 pre=$3
	inner "$n-inner"
	local before; before=$(state)
	put "$n" "POST /v1/referrals HTTP/1.1\r\n${H}Content-Type: application/jose\r\n${hdrs}\r\n${pre}${INNER}"
	raw "$n" "${4:-1500}"
	clean4xx "$n: refused" "$n"
	eq "$n: the hidden referral was not recorded" 0 "$(stored "$JTI")"
	eq "$n: no state change (referrals/cases/audit)" "$before" "$(state)"
	[ "$RN" -gt 1 ] && echo "# $n: answers on the connection: $(grep -a -o 'HTTP/1\.[01] [0-9][0-9][0-9] ' "$T/$n.out" | tr '\n' ' ')"
	[ "$(stored "$JTI")" = 0 ] && SMUGGLED="$SMUGGLED $n-inner"
}
SMUGGLED=""
smuggle cl-te 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n' '0\r\n\r\n'
smuggle te-cl 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n' '0\r\n\r\n'
smuggle te-cl-big 'Transfer-Encoding: chunked\r\nContent-Length: 300\r\n' '0\r\n\r\n'
smuggle cl-dup 'Content-Length: 0\r\nContent-Length: 11\r\n' ''
smuggle cl-list 'Content-Length: 0, 11\r\n' ''
smuggle cl-plus 'Content-Length: +0\r\n' ''
smuggle te-xchunked 'Transfer-Encoding: xchunked\r\n' '0\r\n\r\n' 5000
smuggle te-chunked-identity 'Transfer-Encoding: chunked, identity\r\n' '0\r\n\r\n' 5000
smuggle te-space 'Transfer-Encoding : chunked\r\nContent-Length: 5\r\n' '0\r\n\r\n'
# A duplicate Content-Length whose first value covers a whole referral:
# accepting it means taking one of two conflicting lengths.
inner dupfirst
L=$(wc -c <"$T/dupfirst.jws")
before=$(state)
put dupfirst "POST /v1/referrals HTTP/1.1\r\n${H}Content-Type: application/jose\r\nContent-Length: $L\r\nContent-Length: 10\r\n\r\n$(cat "$T/dupfirst.jws")"
raw dupfirst
clean4xx "Content-Length: $L and Content-Length: 10 on a referral: refused" dupfirst
eq "duplicate Content-Length: the referral was not recorded" 0 "$(stored "$JTI")"
eq "duplicate Content-Length: no state change" "$before" "$(state)"
[ "$(stored "$JTI")" = 0 ] && SMUGGLED="$SMUGGLED dupfirst"
# Positive controls: each hidden referral the attempts did not record,
# sent on its own, is new (201): it was valid, so its refusal was real.
bad=0; nctl=0
for n in $SMUGGLED; do
	nctl=$((nctl + 1))
	post_jws good "$T/$n.jws"
	case $CODE in 201) ;; *) bad=$((bad + 1)); echo "# $n alone: $(last)" ;; esac
done
eq "the $nctl hidden referrals not recorded, each sent alone afterwards -> 201 (control)" 0 "$bad"
S1=$(state)

# ---- invalid UTF-8 and control characters --------------------------------------------
# bad4xx NAME FORMAT: a request that must get a 4xx and change nothing.
bad4xx() {
	local before; before=$(state)
	put "$1" "$2"
	raw "$1" 1500
	clean4xx "$1" "$1" "${3:-}"
	[ "$(state)" = "$before" ] || notok "$1: no state change" "$before -> $(state)"
}
bad4xx path-raw-utf8 "GET /v1/referrals/\xff\xfe\xc0\xaf HTTP/1.1\r\n${H}\r\n"
bad4xx path-pct-utf8 "GET /v1/referrals/%%ff%%fe%%c0%%af HTTP/1.1\r\n${H}\r\n"
bad4xx path-raw-ctl "GET /v1/referrals/r_\x01\x7f HTTP/1.1\r\n${H}\r\n"
bad4xx path-pct-nul "GET /v1/referrals/r_a%%00b HTTP/1.1\r\n${H}\r\n"
bad4xx path-pct-crlf "GET /v1/referrals/r_x%%0d%%0aX-Injected:%%201 HTTP/1.1\r\n${H}\r\n"
if grep -a -qi '^X-Injected' "$T/path-pct-crlf.out"; then notok "%0d%0a in an id does not inject a header" "$(head -c 300 "$T/path-pct-crlf.out")"
else ok "%0d%0a in an id does not inject a header"; fi
bad4xx case-pct-utf8 "GET /v1/cases/c_%%e2%%80%%ae%%ff HTTP/1.1\r\n${H}\r\n"
inner ctype
bad4xx ctype-ctl "POST /v1/referrals HTTP/1.1\r\n${H}Content-Type: application/jose\x01\r\nContent-Length: $(wc -c <"$T/ctype.jws")\r\n\r\n$(cat "$T/ctype.jws")"
bad4xx ctype-utf8 "POST /v1/referrals HTTP/1.1\r\n${H}Content-Type: application/jose\xff\xfe\r\nContent-Length: $(wc -c <"$T/ctype.jws")\r\n\r\n$(cat "$T/ctype.jws")"
eq "the referral with a bad Content-Type was not recorded" 0 "$(stored "$JTI")"
bad4xx bearer-ctl "GET /v1/keys HTTP/1.1\r\n${H}Authorization: Bearer \x01\xff\xfe\r\n\r\n"
bad4xx bearer-nul "GET /v1/keys HTTP/1.1\r\n${H}Authorization: Bearer rgk_\x00abc\r\n\r\n"
bad4xx query-utf8 "GET /v1/changes?since=\xff\xfe&wait=0 HTTP/1.1\r\n${H}\r\n"
bad4xx query-ctl "GET /v1/changes?limit=1%%00&wait=0 HTTP/1.1\r\n${H}\r\n"
# Headers the gateway does not read: recorded, not judged (RFC 9110
# allows obs-text in field values; CTLs may be rejected or replaced).
for c in 'X-Foo: a\x01b' 'X-Foo: \xff\xfe' 'X-Foo: a\x00b' 'X Foo: 1' 'X-Foo : 1' 'X-Foo: a\r\n b'; do
	put hdr "GET /v1/keys HTTP/1.1\r\n${H}${c}\r\n\r\n"
	raw hdr
	echo "# recorded: GET /v1/keys with '$c' -> $R1 ($RBY)"
done
# ---- limits on header fields and query arguments (64 and 16) ----------------------------
hdrs=(); for i in $(seq 80); do hdrs+=(-H "X-F$i: $i"); done
req good GET /v1/keys "${hdrs[@]}"
expect_problem "80 header fields -> 400 bad_request" 400 bad_request
hdrs=(); for i in $(seq 40); do hdrs+=(-H "X-F$i: $i"); done
req good GET /v1/keys "${hdrs[@]}"
expect "40 header fields -> 200 (control)" 200
q=$(for i in $(seq 20); do printf 'x%d=1&' "$i"; done)
req good GET "/v1/changes?${q}wait=0"
expect_problem "21 query arguments -> 400 bad_request" 400 bad_request
q=$(for i in $(seq 10); do printf 'x%d=1&' "$i"; done)
req good GET "/v1/changes?${q}wait=0"
expect "11 query arguments -> 200 (control)" 200

put nohost "GET /v1/keys HTTP/1.1\r\n\r\n"
raw nohost
echo "# recorded: HTTP/1.1 request without Host -> $R1 ($RBY)"

# ---- traversal in ids --------------------------------------------------------------------
req good GET "/v1/referrals/$RID"
expect "own referral by id -> 200 (control)" 200
for p in "/v1/referrals/%2e%2e%2f%2e%2e%2fadmin%2fprincipals" "/v1/referrals/..%2f..%2fv1%2fkeys" \
	"/v1/cases/%2e%2e" "/v1/cases/%2E%2E%2F%2E%2E%2Fadmin%2Fprincipals" "/v1/referrals/$RID%2f..%2f$RID" \
	"/v1/referrals/%252e%252e%252f" "/v1/referrals/..%5c..%5cadmin" "/v1/referrals/$RID/../../keys"; do
	n=trav-$(echo "$p" | md5sum | head -c 6)
	put "$n" "GET $p HTTP/1.1\r\n${H}\r\n"
	raw "$n"
	if [ "$R1" = 404 ] && [ "$RN" = 1 ] && grep -aq '"code":"not_found"' "$T/$n.out"; then ok "GET $p -> 404 not_found"
	else notok "GET $p -> 404 not_found" "$R1 ($RBY), $RN answers"; fi
done
# The legal principal, who may read /v1/admin/principals: traversal from
# an id to it is not followed either.
put travlegal "GET /v1/cases/..%%2f..%%2fadmin%%2fprincipals HTTP/1.1\r\n${H}\r\n"
node "$ITDIR/helpers/raw.mjs" --port "$PORT" --ca "$P/ca.pem" --cert "$T/p/legal/cert.pem" --key "$T/p/legal/key.pem" \
	--in "$T/travlegal.in" >"$T/travlegal.out" 2>"$T/travlegal.err"
eq "legal: /v1/cases/..%2f..%2fadmin%2fprincipals -> 404" 404 "$(grep -a -o 'HTTP/1\.[01] [0-9][0-9][0-9] ' "$T/travlegal.out" | head -n 1 | awk '{print $2}')"
req legal GET /v1/admin/principals
expect "legal: /v1/admin/principals itself -> 200 (control)" 200

# ---- methods and paths that do not exist ---------------------------------------------------------
# gw4xx NAME STATUS CODE FORMAT: the gateway answers STATUS problem+json CODE.
gw4xx() {
	local before; before=$(state)
	put "$1" "$4"
	raw "$1"
	if [ "$R1" = "$2" ] && [ "$RN" = 1 ] && grep -aq "\"code\":\"$3\"" "$T/$1.out" && [ "${RCT%%;*}" = application/problem+json ]; then ok "$1 -> $2 $3"
	else notok "$1 -> $2 $3 (problem+json)" "$R1 ($RBY), $RN answers"; fi
	[ "$(state)" = "$before" ] || notok "$1: no state change" "$before -> $(state)"
}
gw4xx method-brew 405 method_not_allowed "BREW /v1/keys HTTP/1.1\r\n${H}\r\n"
gw4xx method-delete-keys 405 method_not_allowed "DELETE /v1/keys HTTP/1.1\r\n${H}\r\n"
gw4xx method-put-referrals 405 method_not_allowed "PUT /v1/referrals HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n"
gw4xx method-trace 405 method_not_allowed "TRACE /v1/keys HTTP/1.1\r\n${H}\r\n"
gw4xx method-lowercase 405 method_not_allowed "get /v1/keys HTTP/1.1\r\n${H}\r\n"
gw4xx method-delete-referral 405 method_not_allowed "DELETE /v1/referrals/$RID HTTP/1.1\r\n${H}\r\n"
gw4xx path-nope 404 not_found "GET /v1/nope HTTP/1.1\r\n${H}\r\n"
gw4xx path-root 404 not_found "GET / HTTP/1.1\r\n${H}\r\n"
gw4xx path-v2 404 not_found "GET /v2/referrals HTTP/1.1\r\n${H}\r\n"
gw4xx path-trailing-slash 404 not_found "GET /v1/keys/ HTTP/1.1\r\n${H}\r\n"
gw4xx path-double-slash 404 not_found "GET //v1/keys HTTP/1.1\r\n${H}\r\n"
grep -qi '^Allow: *GET' "$T/method-delete-keys.out" && ok "405 names the allowed methods (Allow: GET)" \
	|| notok "405 carries Allow" "$(grep -ai '^allow' "$T/method-delete-keys.out" | tr -d '\r')"
if grep -aq 'BREW\|TRACE /v1' "$T/method-trace.out"; then notok "TRACE does not echo the request" "$(head -c 300 "$T/method-trace.out")"
else ok "TRACE does not echo the request"; fi
bad4xx method-connect "CONNECT localhost:443 HTTP/1.1\r\n${H}\r\n"
bad4xx options-star "OPTIONS * HTTP/1.1\r\n${H}\r\n"
# An HTTP version the server does not speak: 505 is the right answer.
bad4xx http2-preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" '4[0-9][0-9]|505'
bad4xx http09 "GET /v1/keys\r\n"
bad4xx version-2 "GET /v1/keys HTTP/2.0\r\n${H}\r\n" '4[0-9][0-9]|505'
bad4xx version-junk "GET /v1/keys HTTP/9.Z\r\n${H}\r\n"

# ---- nothing changed, the daemon is fine --------------------------------------------------------
eq "no state change across the malformed requests (referrals/cases/audit)" "$S1" "$(state)"
raw ctl
eq "raw GET /v1/keys still -> 200" 200 "$R1"
alive "daemon alive after the abuse"
finish
