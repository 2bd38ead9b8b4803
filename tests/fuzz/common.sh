# tests/fuzz/common.sh - sourced by run.sh and regress.sh (from the repo
# root): the targets, the sources they link, and a compile helper.

FUZZ_ALL="jws referral normalise conf policy checkpoint"
FUZZ_TARGETS=${FUZZ_TARGETS:-$FUZZ_ALL}
# Everything in proto/ plus the one server file the policy target needs.
FUZZ_SRC="$(ls proto/*.c) server/policy.c"
FUZZ_PKG_CFLAGS=$(pkg-config --cflags libsodium jansson)
FUZZ_PKG_LIBS="$(pkg-config --libs libsodium jansson) -lpthread"
FUZZ_BASE_CFLAGS="-std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
-fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter"

# fuzz_find_clang: prints the clang to use (FUZZ_CC, clang, clang-NN).
fuzz_find_clang() {
	if [ -n "${FUZZ_CC:-}" ]; then
		echo "$FUZZ_CC"
		return 0
	fi
	for c in clang clang-18 clang-17 clang-16 clang-15 clang-14; do
		if command -v "$c" >/dev/null 2>&1; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

# fuzz_objs CC OBJDIR FLAGS...: compiles FUZZ_SRC into OBJDIR (only what
# changed) and prints the object paths.
fuzz_objs() {
	_cc=$1 _dir=$2
	shift 2
	for _s in $FUZZ_SRC; do
		_o="$_dir/$(echo "$_s" | tr / _).o"
		if [ ! -f "$_o" ] || [ -n "$(find "$_s" proto server/policy.h \
		     -newer "$_o" -name '*.[ch]' 2>/dev/null | head -1)" ] ||
		   [ "$(cat "$_dir/.flags" 2>/dev/null)" != "$_cc $*" ]; then
			mkdir -p "$_dir"
			$_cc "$@" $FUZZ_PKG_CFLAGS -c -o "$_o" "$_s" >&2 || return 1
		fi
		echo "$_o"
	done
	echo "$_cc $*" > "$_dir/.flags"
}
