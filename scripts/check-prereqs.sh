#!/bin/sh
# check-prereqs.sh - fails loudly, naming the Debian package, when a tool,
# library or runtime that the build and the tests use is missing, instead
# of a link error or a "command not found" deep in the run.
#   sh scripts/check-prereqs.sh          everything make check needs
#   sh scripts/check-prereqs.sh fuzz     only what make fuzz needs
# scripts/install-deps.sh installs all of these; this script only checks.
# Exit status: 0 when everything is there, 1 otherwise.
set -u
WHAT=${1:-check}
missing=""
T=$(mktemp -d /tmp/rg-prereq.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

need() { # need PACKAGE WHAT: record a missing package
	echo "check-prereqs: missing $2 (Debian package: $1)" >&2
	case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac
}
cmd() { # cmd COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || need "$2" "command '$1'"
}
lib() { # lib PKG-CONFIG-NAME PACKAGE
	pkg-config --exists "$1" 2>/dev/null || need "$2" "library '$1' (pkg-config)"
}
# links CC PACKAGE FLAGS...: a trivial program builds and runs with FLAGS.
links() {
	_cc=$1 _pkg=$2; shift 2
	command -v "$_cc" >/dev/null 2>&1 || return 0 # reported by cmd
	printf 'int main(void) { return 0; }\n' >"$T/p.c"
	if ! "$_cc" "$@" -o "$T/p" "$T/p.c" >"$T/err" 2>&1 || ! "$T/p" >/dev/null 2>&1; then
		need "$_pkg" "the runtime for '$_cc $*' ($(head -c 200 "$T/err" | tr '\n' ' '))"
	fi
}
# fuzzer_links: libFuzzer needs its own entry point, so a target instead.
fuzzer_links() {
	command -v clang >/dev/null 2>&1 || return 0
	printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$T/f.c"
	clang -fsanitize=fuzzer,address,undefined -o "$T/f" "$T/f.c" >"$T/err" 2>&1 \
		|| need libclang-rt-dev "clang's fuzzer and sanitizer runtime ($(head -c 200 "$T/err" | tr '\n' ' '))"
}

cmd clang clang
fuzzer_links
if [ "$WHAT" != fuzz ]; then
	cmd cc build-essential
	cmd make make
	cmd pkg-config pkg-config
	for p in "libmicrohttpd libmicrohttpd-dev" "gnutls libgnutls28-dev" \
	    "openssl libssl-dev" "libsodium libsodium-dev" "jansson libjansson-dev" \
	    "sqlite3 libsqlite3-dev" "libpq libpq-dev" \
	    "libcurl libcurl4-openssl-dev" "cmocka libcmocka-dev"; do
		# shellcheck disable=SC2086
		lib $p
	done
	links cc build-essential -fsanitize=address,undefined
	links clang libclang-rt-dev -fsanitize=address,undefined
	cmd node nodejs
	cmd npm npm
	cmd curl curl
	cmd openssl openssl
	cmd sqlite3 sqlite3
	[ -x /usr/lib/postgresql/15/bin/initdb ] && [ -x /usr/lib/postgresql/15/bin/pg_ctl ] \
		|| need postgresql-15 "initdb and pg_ctl of PostgreSQL 15 (the tests' throwaway server)"
	cmd psql postgresql-client-15
	cmd python3 python3
	# the Python partner example runs on Debian's own interpreter
	/usr/bin/python3 -c 'import jwcrypto' 2>/dev/null || need python3-jwcrypto "Python module jwcrypto"
	/usr/bin/python3 -c 'import requests' 2>/dev/null || need python3-requests "Python module requests"
	cmd ss iproute2
	cmd ps procps
	cmd testssl testssl.sh
	cmd flock util-linux
	cmd groff groff-base
	cmd man man-db
	cmd systemd-analyze systemd
	# the web console's browser test (t_console) drives Debian's chromium
	[ -x /usr/bin/chromium ] || need chromium "/usr/bin/chromium"
	cmd timeout coreutils
	[ -f /etc/ssl/certs/ca-certificates.crt ] || need ca-certificates "the CA bundle"
fi

if [ -n "$missing" ]; then
	echo "check-prereqs: install with: apt-get install$missing (or run: make deps)" >&2
	exit 1
fi
exit 0
