#!/usr/bin/env bash
# t_install: `make install DESTDIR=... PREFIX=/usr` yields the tree a Debian
# administrator expects (binaries in sbin, man pages refgate(8),
# refgatectl(8), refgate.conf(5), a sandboxed systemd unit and a sysusers
# entry, docs), the man pages render without a warning and cover every
# configuration key and command, the unit verifies and rates "OK" in
# `systemd-analyze security`, the installed programs run a gateway, and
# `make uninstall` removes everything it installed.
. "$(dirname "$0")/lib.sh"
R=$T/root
P=$R/usr
if ! make -s -C "$ROOT" install B="$BIN" DESTDIR="$R" PREFIX=/usr >"$T/install.log" 2>&1; then
	notok "make install DESTDIR PREFIX=/usr" "$(tail -n 5 "$T/install.log" | tr '\n' ' ')"; finish
fi
ok "make install DESTDIR PREFIX=/usr"

# ---- the tree --------------------------------------------------------------------
for f in sbin/refgate:755 sbin/refgatectl:755 share/man/man8/refgate.8:644 \
	share/man/man8/refgatectl.8:644 share/man/man5/refgate.conf.5:644 \
	lib/systemd/system/refgate.service:644 lib/sysusers.d/refgate.conf:644 \
	share/doc/refgate/README.md:644 share/doc/refgate/SECURITY.md:644 \
	share/doc/refgate/operators.md:644; do
	eq "installed ${f%%:*} mode ${f##*:}" "${f##*:}" "$(stat -c %a "$P/${f%%:*}" 2>/dev/null)"
done
eq "nothing outside /usr" "usr" "$(ls "$R")"
VERSION=$(sed -n 's/^#define RG_VERSION "\(.*\)"/\1/p' "$ROOT/proto/rg.h")
eq "installed refgate --version" "refgate $VERSION" "$("$P/sbin/refgate" --version 2>&1)"
eq "installed refgatectl --version" "refgatectl $VERSION" "$("$P/sbin/refgatectl" --version 2>&1)"

# ---- man pages ---------------------------------------------------------------------
for m in man8/refgate.8 man8/refgatectl.8 man5/refgate.conf.5; do
	groff -man -Tutf8 -ww -z "$P/share/man/$m" >"$T/groff.err" 2>&1
	eq "$m renders without a groff warning" "" "$(head -c 300 "$T/groff.err")"
	grep -q '@[A-Z]*@' "$P/share/man/$m" && notok "$m has no unfilled @PLACEHOLDER@" "$(grep -o '@[A-Z]*@' "$P/share/man/$m" | head -1)" \
		|| ok "$m has no unfilled @PLACEHOLDER@"
	grep -q "refgate $VERSION" "$P/share/man/$m" && ok "$m names version $VERSION" || notok "$m names version $VERSION"
done
MANWIDTH=80 man -l "$P/share/man/man5/refgate.conf.5" >"$T/conf.txt" 2>/dev/null
# every key proto/conf.c accepts is documented in refgate.conf(5)
# (the keys: strcmp(k, "name") and STR_KEY(name) in proto/conf.c)
conf_keys() {
	{ grep -o 'strcmp(k, "[a-z_]*")' "$ROOT/proto/conf.c" | sed 's/.*"\(.*\)".*/\1/'
	  grep -o 'STR_KEY([a-z_]*)' "$ROOT/proto/conf.c" | grep -v 'STR_KEY(f)' | sed 's/STR_KEY(\(.*\))/\1/'; } | sort -u
}
missing=""
for k in $(conf_keys); do
	grep -q "^       $k (default" "$T/conf.txt" || missing="$missing $k"
done
n=$(conf_keys | wc -l)
[ "$n" -gt 30 ] && ok "read $n configuration keys from proto/conf.c" || notok "read the configuration keys from proto/conf.c" "only $n"
eq "refgate.conf(5) documents every configuration key" "" "$missing"
# every command `refgatectl help` lists is in refgatectl(8)
MANWIDTH=200 man -l "$P/share/man/man8/refgatectl.8" >"$T/ctl.txt" 2>/dev/null
missing=""; n=0
while read -r cmd; do
	n=$((n + 1))
	grep -q "^       $cmd\b" "$T/ctl.txt" || missing="$missing [$cmd]"
done < <("$P/sbin/refgatectl" help 2>&1 | sed -n '/^commands/,$p' | sed -n 's/^  \([a-z][a-z]*\( [a-z][a-z]*\)\?\)\( [][A-Z-].*\|\)$/\1/p')
[ "$n" -ge 10 ] && ok "read $n commands from refgatectl help" || notok "read the commands from refgatectl help" "only $n"
eq "refgatectl(8) describes every command" "" "$missing"
"$P/sbin/refgatectl" help >"$T/help.txt" 2>&1
eq "refgatectl help: a one-line description under every command" \
	"$(grep -c '^  [a-z]' "$T/help.txt")" "$(grep -c '^      [a-z]' "$T/help.txt")"

# ---- the systemd unit ------------------------------------------------------------------
U_FILE=$P/lib/systemd/system/refgate.service
grep -q '^ExecStart=/usr/sbin/refgate -c ' "$U_FILE" && ok "the unit runs the installed binary" \
	|| notok "the unit runs the installed binary" "$(grep ExecStart "$U_FILE")"
# verify it with ExecStart pointing into DESTDIR (the binary must exist)
mkdir -p "$T/unit"
sed "s|^ExecStart=/usr/|ExecStart=$P/|" "$U_FILE" >"$T/unit/refgate.service"
if systemd-analyze verify --man=no "$T/unit/refgate.service" >"$T/verify.log" 2>&1; then
	ok "systemd-analyze verify accepts the unit"
else
	notok "systemd-analyze verify accepts the unit" "$(head -c 300 "$T/verify.log")"
fi
systemd-analyze security --offline=true --no-pager "$T/unit/refgate.service" >"$T/security.log" 2>&1
score=$(sed -n 's/.*Overall exposure level for refgate.service: \([0-9.]*\) .*/\1/p' "$T/security.log")
echo "# systemd-analyze security: exposure $score"
case $score in 0.*|1.*) ok "systemd-analyze security rates the unit below 2.0 ($score)" ;;
	*) notok "systemd-analyze security rates the unit below 2.0" "'$score': $(tail -n 2 "$T/security.log")" ;; esac
eq "sysusers entry makes the refgate user" "u refgate" "$(grep -v '^#' "$P/lib/sysusers.d/refgate.conf" | awk '{print $1, $2}')"

# ---- the installed programs run a gateway ------------------------------------------------
BIN=$P/sbin
if rg_node_setup && rg_init && rg_start; then
	ok "installed refgatectl init and refgate start a gateway"
	enrol pave partner && refer pave r1 && expect "a referral through the installed gateway -> 201" 201
	rg_stop && ok "the installed gateway stops cleanly"
fi

# ---- uninstall -------------------------------------------------------------------------
if make -s -C "$ROOT" uninstall B="$BIN" DESTDIR="$R" PREFIX=/usr >"$T/uninstall.log" 2>&1; then
	eq "make uninstall leaves no file" "" "$(find "$R" -type f | head -3)"
else
	notok "make uninstall" "$(tail -n 3 "$T/uninstall.log" | tr '\n' ' ')"
fi
finish
