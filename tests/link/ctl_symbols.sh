#!/bin/sh
# ctl_symbols.sh B - refgatectl holds none of the daemon (`make
# ctl-link-check`; tests/run-all.sh runs it after the plain build).
# build/refgatectl links libproto.a and libstore.a only: it must define no
# global symbol that libserver.a (the daemon's HTTP, TLS, routes, handlers,
# auth gate, policy) defines, and need neither libmicrohttpd nor GnuTLS.
# Each check is first run on build/refgate, which must fail it: a check
# that finds nothing there would find nothing anywhere.
# Last line: "N passed, N failed".
set -u
B=${1:-build}
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); printf 'ok - %s\n' "$*"; }
not_ok() { FAILED=$((FAILED + 1)); printf 'not ok - %s\n' "$*"; }
finish() { printf '%s passed, %s failed\n' "$PASSED" "$FAILED"; [ "$FAILED" = 0 ]; exit; }

for f in "$B/refgatectl" "$B/refgate" "$B/libserver.a"; do
	if [ ! -f "$f" ]; then
		not_ok "$f missing (make B=$B all)"
		finish
	fi
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The daemon's global symbols: defined (text, data, bss, read-only) in
# libserver.a.
nm --defined-only "$B/libserver.a" 2>/dev/null |
	awk 'NF == 3 && $2 ~ /^[TDBRC]$/ { print $3 }' | sort -u >"$tmp/daemon"
n=$(wc -l <"$tmp/daemon")
if [ "$n" -ge 50 ]; then
	ok "libserver.a defines $n global symbols"
else
	not_ok "libserver.a defines only $n global symbols (expected the daemon's)"
fi

# defined BINARY: the daemon symbols BINARY defines.
defined() {
	nm --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' |
		sort -u | comm -12 - "$tmp/daemon"
}
# needed BINARY: its NEEDED libraries of the daemon's TLS and HTTP.
needed() {
	readelf -d "$1" 2>/dev/null |
		grep -E 'NEEDED.*\[lib(microhttpd|gnutls)[.-]' || true
}

n=$(defined "$B/refgate" | wc -l)
if [ "$n" -ge 50 ]; then
	ok "control: build/refgate defines $n of them"
else
	not_ok "control: build/refgate defines $n of them (the check cannot see the daemon)"
fi
defined "$B/refgatectl" >"$tmp/ctl"
if [ -s "$tmp/ctl" ]; then
	not_ok "refgatectl defines $(wc -l <"$tmp/ctl") daemon symbols: $(head -n 8 "$tmp/ctl" | tr '\n' ' ')"
else
	ok "refgatectl defines none of libserver.a's symbols"
fi

# By name too, statics included: the daemon's modules by their prefixes.
pat=' (http|longpoll|ops|listen|request|authgate|routes|response|policy|views|ratelimit|slots|metrics|cursor|ticker|logsign|audit_signer|h)_[A-Za-z0-9_]+$'
n=$(nm "$B/refgate" 2>/dev/null | grep -E -c "$pat")
if [ "$n" -ge 50 ]; then
	ok "control: build/refgate has $n symbols of daemon modules by name"
else
	not_ok "control: build/refgate has $n symbols of daemon modules by name"
fi
nm "$B/refgatectl" 2>/dev/null | grep -E "$pat" >"$tmp/named"
if [ -s "$tmp/named" ]; then
	not_ok "refgatectl has daemon-module symbols: $(awk '{ print $NF }' "$tmp/named" | head -n 8 | tr '\n' ' ')"
else
	ok "refgatectl has no http_/authgate_/routes_/... symbol"
fi

if [ -n "$(needed "$B/refgate")" ]; then
	ok "control: build/refgate needs libmicrohttpd and GnuTLS"
else
	not_ok "control: build/refgate needs neither libmicrohttpd nor GnuTLS (readelf sees nothing)"
fi
lib=$(needed "$B/refgatectl")
if [ -n "$lib" ]; then
	not_ok "refgatectl needs $(echo "$lib" | sed 's/.*\[//; s/\].*//' | tr '\n' ' ')"
else
	ok "refgatectl needs neither libmicrohttpd nor GnuTLS"
fi
finish
