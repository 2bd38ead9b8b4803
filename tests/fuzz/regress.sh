#!/bin/sh
# tests/fuzz/regress.sh - the fuzz regression test `make check` runs:
# builds every fuzz target WITHOUT libFuzzer, linked with regress_main.c,
# under -fsanitize=address,undefined (clang when present, else cc/gcc;
# FUZZ_CC overrides), and feeds it every file of tests/fuzz/seeds/<target>/
# and tests/fuzz/regressions/<target>/, each in a child process.
# Prints "FAIL ..." lines (stderr) for failures, then one line
# "N passed, N failed". Exit status 1 when anything failed.
set -eu
cd "$(dirname "$0")/../.."
. tests/fuzz/common.sh

OUT=build/fuzz-regress
CC_REG=$(fuzz_find_clang || command -v "${CC:-cc}" || echo gcc)
FLAGS="$FUZZ_BASE_CFLAGS -fsanitize=address,undefined"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

passed=0
failed=0
if ! objs=$(fuzz_objs "$CC_REG" "$OUT/obj" $FLAGS); then
	echo "FAIL build of the sources with $CC_REG" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
for t in $FUZZ_TARGETS; do
	bin="$OUT/regress_$t"
	# shellcheck disable=SC2086
	if ! $CC_REG $FLAGS -o "$bin" tests/fuzz/fuzz_$t.c \
	     tests/fuzz/regress_main.c $objs $FUZZ_PKG_CFLAGS $FUZZ_PKG_LIBS; then
		echo "FAIL build of fuzz_$t" >&2
		failed=$((failed + 1))
		continue
	fi
	files=$(find "tests/fuzz/seeds/$t" "tests/fuzz/regressions/$t" \
		-type f 2>/dev/null | sort)
	# shellcheck disable=SC2086
	res=$("$bin" "$t" $files) || true
	p=$(echo "$res" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$res" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "FAIL fuzz_$t did not finish" >&2
		p=0 f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
