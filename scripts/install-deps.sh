#!/bin/sh
# Installs the Debian packages refgate builds and tests with, when missing.
# Idempotent; needs root (or sudo) only when something is missing.
# Every package here is checked for what the build, make check, make fuzz
# and make run invoke (scripts/check-prereqs.sh names each one when it is
# missing): clang's sanitizer and libFuzzer runtime is libclang-rt-dev,
# which --no-install-recommends does not bring with clang. chromium renders
# the transparency report's HTML headless in t_report.sh. postgresql-15
# gives the tests their throwaway server (initdb, pg_ctl; the packaged
# cluster Debian creates is not used).
set -eu
PKGS="build-essential pkg-config libmicrohttpd-dev libgnutls28-dev libssl-dev
libsodium-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev libcmocka-dev
sqlite3 curl openssl ca-certificates clang libclang-rt-dev iproute2 procps
testssl.sh python3 util-linux python3-jwcrypto python3-requests
groff-base man-db systemd chromium libpq-dev postgresql-15"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
		|| missing="$missing $p"
done
# Node.js may come from elsewhere than Debian (with its own npm): only
# install Debian's when there is none.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
