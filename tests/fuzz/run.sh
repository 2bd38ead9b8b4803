#!/bin/sh
# tests/fuzz/run.sh - builds the libFuzzer targets (clang,
# -fsanitize=fuzzer,address,undefined) and runs each for FUZZ_SECONDS
# (default 60), one after the other.
#   FUZZ_SECONDS=300 sh tests/fuzz/run.sh
#   FUZZ_TARGETS="jws policy" sh tests/fuzz/run.sh
#   FUZZ_ARGS="-jobs=2" ...   extra libFuzzer flags
# Corpus: tests/fuzz/corpus-work/<target>/ (gitignored, grows between runs)
# plus the committed tests/fuzz/seeds/<target>/ and regressions/<target>/
# (read only). A crashing input is kept in
# tests/fuzz/corpus-work/crashes/<target>/ and its path printed; copy it to
# tests/fuzz/regressions/<target>/ so regress.sh (make check) replays it.
# Exit status: 0 when no target crashed, 1 otherwise (2: build failed).
set -eu
cd "$(dirname "$0")/../.."
. tests/fuzz/common.sh

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
OUT=build/fuzz
WORK=tests/fuzz/corpus-work
CC_FUZZ=$(fuzz_find_clang) || {
	echo "fuzz: clang not found (set FUZZ_CC)" >&2
	exit 2
}
FLAGS="$FUZZ_BASE_CFLAGS -fsanitize=address,undefined"
[ -n "${FUZZ_CC:-}" ] || sh scripts/check-prereqs.sh fuzz || exit 2

echo "fuzz: building with $CC_FUZZ"
objs=$(fuzz_objs "$CC_FUZZ" "$OUT/obj" $FLAGS -fsanitize=fuzzer-no-link) || {
	echo "fuzz: build failed" >&2
	exit 2
}
for t in $FUZZ_TARGETS; do
	# shellcheck disable=SC2086
	$CC_FUZZ $FLAGS -fsanitize=fuzzer -o "$OUT/fuzz_$t" \
		tests/fuzz/fuzz_$t.c $objs $FUZZ_PKG_CFLAGS $FUZZ_PKG_LIBS || {
		echo "fuzz: build of fuzz_$t failed" >&2
		exit 2
	}
done

max_len() {
	case $1 in
	jws|referral|conf) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

failed=""
summary=""
for t in $FUZZ_TARGETS; do
	mkdir -p "$WORK/$t" "$WORK/crashes/$t"
	log="$OUT/fuzz_$t.log"
	dirs="$WORK/$t tests/fuzz/seeds/$t"
	[ -d "tests/fuzz/regressions/$t" ] && dirs="$dirs tests/fuzz/regressions/$t"
	dict=""
	[ -f "tests/fuzz/dict/$t.dict" ] && dict="-dict=tests/fuzz/dict/$t.dict"
	echo "fuzz: fuzz_$t for ${FUZZ_SECONDS}s (log $log)"
	set +e
	# shellcheck disable=SC2086
	"$OUT/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
		-max_len="$(max_len "$t")" -timeout=10 $dict \
		-artifact_prefix="$WORK/crashes/$t/" ${FUZZ_ARGS:-} \
		$dirs >"$log" 2>&1
	rc=$?
	set -e
	# libFuzzer's last status line and its final stats
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	grep -E '^stat::' "$log" | sed "s/^/  $t /"
	[ -n "$last" ] && echo "  $t $last"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	line="$t: ${execs:-?} execs, ${rate:-?}/s, cov ${cov:-?}, ft ${ft:-?}"
	if [ "$rc" -ne 0 ]; then
		failed="$failed $t"
		line="$line, CRASHED (exit $rc)"
		grep -E '^==[0-9]+==ERROR|runtime error|FUZZ_CHECK failed|^SUMMARY' \
			"$log" | head -5 | sed "s/^/  $t: /"
		for f in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
			echo "  $t: crash input kept: $f"
			line="$line, input $f"
		done
	fi
	summary="$summary$line
"
done

echo "fuzz: summary"
printf '%s' "$summary" | sed 's/^/  /'
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (logs in $OUT/)"
	exit 1
fi
echo "fuzz: no crash"
