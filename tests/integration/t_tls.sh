#!/usr/bin/env bash
# t_tls: the transport rules of contract section 1, driven with openssl
# s_client and curl: client certificates (none, foreign CA, revoked), TLS
# versions and cipher suites, each refusal beside a call that must work.
. "$(dirname "$0")/lib.sh"
rg_setup
enrol pave partner || finish
enrol rev reviewer || finish
P=$T/p/pave

# sc NAME [s_client options...]: one GET /v1/keys over openssl s_client;
# the transcript in $T/sc.NAME.log. Sets SC to the HTTP status line's code
# (000 when there was none).
sc() {
	local n=$1; shift
	printf 'GET /v1/keys HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
		timeout 15 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
			-CAfile "$P/ca.pem" -verify_return_error -quiet "$@" >"$T/sc.$n.log" 2>&1
	SC=$(grep -a -o 'HTTP/1\.[01] [0-9][0-9][0-9] ' "$T/sc.$n.log" | head -n 1 | awk '{print $2}')
	[ -n "$SC" ] || SC=000
}
sc_detail() { tail -n 4 "$T/sc.$1.log" | tr '\n' ' ' | head -c 300; }
accepted() { if [ "$SC" = 200 ]; then ok "$1"; else notok "$1" "expected HTTP 200, got $SC: $(sc_detail "$2")"; fi; }
# refused NAME LOG: a 401, or no HTTP answer because the server ended the
# handshake: with a TLS alert (OpenSSL prints "... alert ...") or by closing
# the connection after the client's hello (GnuTLS under libmicrohttpd hangs
# up on a version or suite it will not take; OpenSSL prints "unexpected eof
# while reading"). A client that gave up by itself (no cipher or protocol it
# would offer, a file it could not read) was not refused by the server, and
# fails.
refused() {
	case $SC in
	401) ok "$1" ;;
	000)
		if grep -aqE 'alert|certificate required|unexpected eof while reading' "$T/sc.$2.log"; then ok "$1"
		else notok "$1" "no HTTP answer, and the server did not end the handshake: $(sc_detail "$2")"; fi ;;
	*) notok "$1" "expected a failed handshake or 401, got $SC: $(sc_detail "$2")" ;;
	esac
}
CERT=(-cert "$P/cert.pem" -key "$P/key.pem")
# verified CA CERT: CERT exists and chains to CA.
verified() { [ -s "$2" ] && openssl verify -CAfile "$1" "$2" >/dev/null 2>&1; }

# ---- client certificates --------------------------------------------------
sc nocert
refused "s_client without a client certificate: refused" nocert
sc withcert "${CERT[@]}"
accepted "s_client with the partner's certificate: HTTP 200 (control)" withcert
req none GET /v1/keys
expect_refused "curl without a client certificate: refused"
req pave GET /v1/keys
expect "curl with the partner's certificate -> 200 (control)" 200

# A foreign CA and a client certificate from it, named like a real principal.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=foreign-ca \
	-keyout "$T/fca.key" -out "$T/fca.pem" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign >"$T/openssl.log" 2>&1
mkdir -p "$T/p/foreign"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=pave \
	-keyout "$T/p/foreign/key.pem" -out "$T/foreign.csr" >>"$T/openssl.log" 2>&1
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$T/leaf.ext"
openssl x509 -req -in "$T/foreign.csr" -CA "$T/fca.pem" -CAkey "$T/fca.key" -CAcreateserial -days 1 \
	-extfile "$T/leaf.ext" -out "$T/p/foreign/cert.pem" >>"$T/openssl.log" 2>&1
cp "$P/ca.pem" "$T/p/foreign/ca.pem"
if [ -s "$T/p/foreign/cert.pem" ] && [ -s "$T/p/foreign/key.pem" ]; then
	req foreign GET /v1/keys
	expect_refused "curl with a certificate from a foreign CA: refused"
	sc foreign -cert "$T/p/foreign/cert.pem" -key "$T/p/foreign/key.pem"
	refused "s_client with a certificate from a foreign CA: refused" foreign
	# The partner's own key in a foreign-CA certificate: the SPKI is enrolled
	# but the chain is not the gateway's.
	openssl req -new -key "$P/key.pem" -subj /CN=pave -out "$T/own.csr" >>"$T/openssl.log" 2>&1
	mkdir -p "$T/p/foreign2"; cp "$P/key.pem" "$P/ca.pem" "$T/p/foreign2/"
	openssl x509 -req -in "$T/own.csr" -CA "$T/fca.pem" -CAkey "$T/fca.key" -CAcreateserial -days 1 \
		-extfile "$T/leaf.ext" -out "$T/p/foreign2/cert.pem" >>"$T/openssl.log" 2>&1
	check "the foreign-CA certificate for the enrolled key was made" \
		verified "$T/fca.pem" "$T/p/foreign2/cert.pem"
	req foreign2 GET /v1/keys
	expect_refused "enrolled key in a foreign-CA certificate: refused"
	req pave GET /v1/keys
	expect "the same key in the gateway-issued certificate -> 200 (control)" 200
else
	notok "make a foreign-CA client certificate" "$(tail -n 3 "$T/openssl.log" | tr '\n' ' ')"
fi

# A certificate issued by the gateway's own client CA (its key is in the
# deployment) for a key that was never enrolled: the chain is right, the
# SPKI is unknown.
CAK=$(conf_path client_ca_key); CAC=$(conf_path client_ca)
if [ -n "$CAK" ] && [ -f "$CAK" ] && [ -f "$CAC" ]; then
	mkdir -p "$T/p/stranger"; cp "$P/ca.pem" "$T/p/stranger/"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=stranger \
		-keyout "$T/p/stranger/key.pem" -out "$T/stranger.csr" >>"$T/openssl.log" 2>&1
	openssl x509 -req -in "$T/stranger.csr" -CA "$CAC" -CAkey "$CAK" -set_serial "0x$(rnd 16)" -days 1 \
		-extfile "$T/leaf.ext" -out "$T/p/stranger/cert.pem" >>"$T/openssl.log" 2>&1
	check "the stranger's certificate was made by the gateway's CA" \
		verified "$CAC" "$T/p/stranger/cert.pem"
	req stranger GET /v1/keys
	expect_refused "certificate from the gateway's CA for a key never enrolled: refused"
else
	notok "client_ca and client_ca_key found in refgate.conf" "client_ca='$CAC' client_ca_key='$CAK'"
fi

# ---- TLS versions -----------------------------------------------------------
sc tls11 "${CERT[@]}" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
refused "TLS 1.1 (SECLEVEL=0 on the client): refused" tls11
sc tls12low "${CERT[@]}" -tls1_2 -cipher 'DEFAULT:@SECLEVEL=0'
accepted "TLS 1.2 with the same client settings: HTTP 200 (control)" tls12low
sc tls10 "${CERT[@]}" -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
refused "TLS 1.0 (SECLEVEL=0 on the client): refused" tls10
sc tls13 "${CERT[@]}" -tls1_3
accepted "TLS 1.3: HTTP 200" tls13

# ---- cipher suites (TLS 1.2) ------------------------------------------------
# The server key type decides the suite family.
SRV=$(conf_path tls_cert)
KT=ECDSA
[ -n "$SRV" ] && openssl x509 -in "$SRV" -noout -text 2>/dev/null | grep -q 'rsaEncryption' && KT=RSA
sc cbc "${CERT[@]}" -tls1_2 -cipher "ECDHE-$KT-AES128-SHA"
refused "TLS 1.2 CBC suite ECDHE-$KT-AES128-SHA: refused" cbc
sc cbc256 "${CERT[@]}" -tls1_2 -cipher "ECDHE-$KT-AES256-SHA384:@SECLEVEL=0"
refused "TLS 1.2 CBC suite ECDHE-$KT-AES256-SHA384: refused" cbc256
sc gcm "${CERT[@]}" -tls1_2 -cipher "ECDHE-$KT-AES128-GCM-SHA256"
accepted "TLS 1.2 AEAD suite ECDHE-$KT-AES128-GCM-SHA256: HTTP 200 (control)" gcm
sc chacha "${CERT[@]}" -tls1_2 -cipher "ECDHE-$KT-CHACHA20-POLY1305"
accepted "TLS 1.2 AEAD suite ECDHE-$KT-CHACHA20-POLY1305: HTTP 200" chacha
# Static-RSA key exchange can only be offered with an RSA server
# certificate: see the RSA deployment at the end.

# ---- revocation takes effect on the next request, no restart ----------------
enrol revme partner || finish
req revme GET /v1/keys
expect "freshly enrolled principal -> 200" 200
# keepalive WHO NAME BETWEEN: two GET /v1/keys on one kept-alive TLS
# connection of WHO, running the command BETWEEN after the first answer.
# Sets KA1 and KA2 to the two status codes (KA2 "closed" when the
# connection ended without a second answer).
keepalive() {
	local who=$1 n=$2 between=$3 _
	rm -f "$T/$n.in"; mkfifo "$T/$n.in"
	timeout 30 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -CAfile "$P/ca.pem" -quiet \
		-cert "$T/p/$who/cert.pem" -key "$T/p/$who/key.pem" <"$T/$n.in" >"$T/$n.out" 2>"$T/$n.err" &
	local ka=$!; BGPIDS="$BGPIDS $ka"
	exec 7>"$T/$n.in"
	printf 'GET /v1/keys HTTP/1.1\r\nHost: localhost\r\n\r\n' >&7
	for _ in $(seq 100); do grep -aq 'HTTP/1\.1 [0-9][0-9][0-9] ' "$T/$n.out" 2>/dev/null && break; sleep 0.1; done
	KA1=$(grep -a -o 'HTTP/1\.1 [0-9][0-9][0-9] ' "$T/$n.out" | sed -n 1p | awk '{print $2}')
	$between
	printf 'GET /v1/keys HTTP/1.1\r\nHost: localhost\r\n\r\n' >&7 2>/dev/null
	for _ in $(seq 100); do
		[ "$(grep -a -o 'HTTP/1\.1 [0-9][0-9][0-9] ' "$T/$n.out" 2>/dev/null | wc -l)" -ge 2 ] && break
		kill -0 "$ka" 2>/dev/null || break
		sleep 0.1
	done
	exec 7>&-
	KA2=$(grep -a -o 'HTTP/1\.1 [0-9][0-9][0-9] ' "$T/$n.out" | sed -n 2p | awk '{print $2}')
	KA2=${KA2:-closed}
	kill "$ka" 2>/dev/null; wait "$ka" 2>/dev/null
}
keepalive pave kactl true
eq "keep-alive connection serves two requests (control)" "200 200" "$KA1 $KA2"
do_revoke() {
	if ctl revoke revme; then ok "refgatectl revoke revme"; else notok "refgatectl revoke revme" "$(tail -n 2 "$T/ctl.out" | tr '\n' ' ')"; fi
	req revme GET /v1/keys
	expect_refused "revoked principal, new connection: refused without a restart"
	req pave GET /v1/keys
	expect "another principal still served -> 200 (control)" 200
}
keepalive revme karev do_revoke
eq "keep-alive connection opened before the revocation: first request -> 200" 200 "$KA1"
case $KA2 in
401|closed) ok "revoked principal, connection opened before the revocation: next request refused ($KA2)" ;;
*) notok "revoked principal on an open connection: next request refused" "got $KA2" ;;
esac

# Revocation through the HTTP admin API too.
enrol revme2 reviewer || finish
req revme2 GET /v1/review/queue
expect "reviewer before revocation -> 200" 200
req legal DELETE /v1/admin/principals/revme2
expect "DELETE /v1/admin/principals/revme2 -> 200" 200
req revme2 GET /v1/review/queue
expect_refused "reviewer after revocation: refused"
req rev GET /v1/review/queue
expect "other reviewer still served -> 200 (control)" 200

# ---- an RSA server certificate: the RSA suite family -------------------------
# refgatectl init makes an ECDSA server certificate, with which no
# static-RSA suite can ever be negotiated, so that refusal would prove
# nothing. Here the daemon restarts with an RSA certificate for the same
# name, issued by the deployment's CA, and the RSA family is tried.
rg_stop
mkdir -p "$T/rsa"
openssl req -new -newkey rsa:2048 -nodes -subj /CN=localhost \
	-keyout "$T/rsa/key.pem" -out "$T/rsa/req.csr" >>"$T/openssl.log" 2>&1
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/rsa/ext"
openssl x509 -req -in "$T/rsa/req.csr" -CA "$CAC" -CAkey "$CAK" -set_serial "0x$(rnd 16)" -days 1 \
	-extfile "$T/rsa/ext" -out "$T/rsa/cert.pem" >>"$T/openssl.log" 2>&1
chmod 600 "$T/rsa/key.pem"
if openssl x509 -in "$T/rsa/cert.pem" -noout -text 2>/dev/null | grep -q rsaEncryption &&
	verified "$CAC" "$T/rsa/cert.pem"; then
	ok "an RSA server certificate from the deployment's CA was made"
	conf_set tls_cert "$T/rsa/cert.pem"
	conf_set tls_key "$T/rsa/key.pem"
	rg_start || finish
	sc rsagcm "${CERT[@]}" -tls1_2 -cipher 'ECDHE-RSA-AES128-GCM-SHA256'
	accepted "RSA certificate: ECDHE-RSA-AES128-GCM-SHA256 (needs the RSA certificate) -> HTTP 200 (control)" rsagcm
	sc rsakx "${CERT[@]}" -tls1_2 -cipher 'AES128-GCM-SHA256'
	refused "RSA certificate: static-RSA key exchange AES128-GCM-SHA256 refused" rsakx
	sc rsakx256 "${CERT[@]}" -tls1_2 -cipher 'AES256-GCM-SHA384'
	refused "RSA certificate: static-RSA key exchange AES256-GCM-SHA384 refused" rsakx256
	sc rsacbc "${CERT[@]}" -tls1_2 -cipher 'ECDHE-RSA-AES128-SHA'
	refused "RSA certificate: CBC suite ECDHE-RSA-AES128-SHA refused" rsacbc
	sc rsa13 "${CERT[@]}" -tls1_3
	accepted "RSA certificate: TLS 1.3 -> HTTP 200 (control)" rsa13
else
	notok "an RSA server certificate from the deployment's CA was made" "$(tail -n 3 "$T/openssl.log" | tr '\n' ' ')"
fi

finish
