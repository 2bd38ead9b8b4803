#!/bin/sh
# run-all.sh - every test of refgate (called by `make check`, after
# `make deps`), from the repository root:
#   1. build into build/ (`make -j2 all units`), check that refgatectl
#      links none of the daemon (tests/link/ctl_symbols.sh), run every
#      build/tests/test_* unit binary (cmocka) and every
#      tests/integration/t_*.sh scenario;
#   2. on PostgreSQL, once (plain build only, to keep CI's time): the
#      store's unit tests and the scenarios in PG_SCENARIOS against a
#      throwaway PostgreSQL 15 each (tests/integration/helpers/pg.sh), and
#      the scenarios in ONCE (several nodes on one PostgreSQL: t_nodes;
#      moving a SQLite deployment to PostgreSQL: t_migrate; the statement
#      timeout: t_dbtimeout);
#   3. rebuild into build/asan with AddressSanitizer + UndefinedBehavior-
#      Sanitizer and run the units and scenarios again (on SQLite).
# Counts: a unit binary contributes cmocka's "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)" numbers (plus one failure when it exits non-zero
# without reporting a failed test: a crash or a sanitizer abort); a scenario
# contributes its last "N passed, N failed" line (plus one failure when it
# exits non-zero without one). A build failure counts as one failure.
# Last line: "N passed, N failed". Exit 1 when anything failed or when no
# test ran at all.
# Logs: build/test-logs/<phase>/ (RG_LOGDIR for the scenarios' kept logs).
# Environment: RG_TESTS="t_tls t_cli" runs only those scenarios;
# RG_NO_ASAN=1 skips the sanitizer phase; RG_NO_PG=1 the PostgreSQL one;
# RG_SCENARIO_TIMEOUT (s, default 900).
set -u
cd "$(dirname "$0")/.." || exit 1

PASSED=0
FAILED=0
TIMEOUT=${RG_SCENARIO_TIMEOUT:-900}
SAN_ENV='ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1'

add() { PASSED=$((PASSED + $1)); FAILED=$((FAILED + $2)); }
say() { printf '%s\n' "$*"; }

# Every tool, library and runtime first, each missing one named with its
# Debian package (make deps installs them).
if ! sh scripts/check-prereqs.sh; then
	say "not ok - prerequisites missing (see above; make deps installs them)"
	say "0 passed, 1 failed"
	exit 1
fi

# build PHASE MAKE-ARGS...: one failure when make fails.
build() {
	phase=$1; shift
	mkdir -p "build/test-logs/$phase"
	say "== $phase: make $*"
	if make "$@" >"build/test-logs/$phase/make.log" 2>&1; then
		return 0
	fi
	tail -n 30 "build/test-logs/$phase/make.log"
	say "not ok - $phase: build failed (build/test-logs/$phase/make.log)"
	add 0 1
	return 1
}

# units PHASE DIR: every DIR/tests/test_* binary.
units() {
	phase=$1; dir=$2; n=0
	for t in "$dir"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		n=$((n + 1))
		name=$(basename "$t")
		log=build/test-logs/$phase/$name.log
		timeout 300 "$t" >"$log" 2>&1
		rc=$?
		cat "$log"
		p=$(sed -n 's/.*\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		f=$(sed -n 's/.*\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			f=1
			say "not ok - $phase/$name exited with status $rc without a failed-test line (crash or sanitizer abort)"
		fi
		if [ "$p" = 0 ] && [ "$f" = 0 ]; then
			f=1
			say "not ok - $phase/$name ran no test"
		fi
		if grep -E -q 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$log" && [ "$f" = 0 ]; then
			f=1
			say "not ok - $phase/$name: sanitizer report"
		fi
		say "-- $phase/$name: $p passed, $f failed"
		add "$p" "$f"
	done
	[ "$n" -gt 0 ] || say "-- $phase: no unit test binaries in $dir/tests"
}

# The scenarios that run once, in the PostgreSQL phase (they start their
# own PostgreSQL), and the ones that run there on PostgreSQL as well.
ONCE="t_nodes t_migrate t_dbtimeout"
# (The change feed, its cursors and long poll: t_status.)
PG_SCENARIOS="t_referrals t_dedup t_status t_decisions t_keys t_audit t_crash"

# scenarios PHASE BIN [NAMES]: every tests/integration/t_*.sh but ONCE
# (or those NAMES) against BIN.
scenarios() {
	phase=$1; bin=$2; only=${3:-}
	for s in tests/integration/t_*.sh; do
		[ -f "$s" ] || continue
		name=$(basename "$s" .sh)
		if [ -n "$only" ]; then
			case " $only " in *" $name "*) ;; *) continue ;; esac
		else
			case " $ONCE " in *" $name "*) continue ;; esac
		fi
		if [ -n "${RG_TESTS:-}" ]; then
			case " $RG_TESTS " in *" $name "*) ;; *) continue ;; esac
		fi
		log=build/test-logs/$phase/$name.log
		say "== $phase: $name"
		BIN=$bin RG_LOGDIR=build/test-logs/$phase/kept timeout "$TIMEOUT" bash "$s" >"$log" 2>&1
		rc=$?
		cat "$log"
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
		if [ -n "$line" ]; then
			p=${line%% passed*}
			f=${line#*, }; f=${f%% failed}
		else
			p=0; f=0
		fi
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			f=1
			say "not ok - $phase/$name exited with status $rc without a failed assertion$([ "$rc" = 124 ] && echo ' (timeout)')"
		fi
		if [ "$p" = 0 ] && [ "$f" = 0 ]; then
			f=1
			say "not ok - $phase/$name: no assertion ran"
		fi
		say "-- $phase/$name: $p passed, $f failed"
		add "$p" "$f"
	done
}

# link PHASE B: refgatectl holds none of the daemon (make ctl-link-check).
link() {
	log=build/test-logs/$1/ctl_symbols.log
	say "== $1: ctl-link-check"
	sh tests/link/ctl_symbols.sh "$2" >"$log" 2>&1
	rc=$?
	cat "$log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	p=0; f=0
	if [ -n "$line" ]; then p=${line%% passed*}; f=${line#*, }; f=${f%% failed}; fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; say "not ok - $1/ctl_symbols exited $rc"; fi
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; say "not ok - $1/ctl_symbols ran nothing"; fi
	say "-- $1/ctl_symbols: $p passed, $f failed"
	add "$p" "$f"
}

# pg_units: the store's unit tests on a throwaway PostgreSQL.
pg_units() {
	mkdir -p build/test-logs/pg
	log=build/test-logs/pg/units.log
	bash tests/unit/pg-run.sh build >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/.*\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/.*\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		say "not ok - pg/units exited with status $rc without a failed-test line"
	fi
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; say "not ok - pg/units ran no test"; fi
	say "-- pg/units: $p passed, $f failed"
	add "$p" "$f"
}

# ---- plain build -------------------------------------------------------------
if build plain -j2 all units; then
	link plain build
	units plain build
	scenarios plain build
	# ---- PostgreSQL, once ----------------------------------------------------
	if [ -z "${RG_NO_PG:-}" ]; then
		pg_units
		export RG_DB=pg
		scenarios pg build "$PG_SCENARIOS"
		unset RG_DB
		scenarios pg build "$ONCE"
	fi
fi

# ---- AddressSanitizer + UndefinedBehaviorSanitizer ------------------------------
if [ -z "${RG_NO_ASAN:-}" ]; then
	if build asan -j2 B=build/asan \
		SANFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		CFLAGS='-O1 -g' all units; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		say "== asan: $SAN_ENV"
		units asan build/asan
		scenarios asan build/asan
		unset ASAN_OPTIONS UBSAN_OPTIONS
	fi
fi

# ---- fuzz regressions: every seed and saved crash input, ASan+UBSan ----------
mkdir -p build/test-logs/fuzz
say "== fuzz: regression replay"
sh tests/fuzz/regress.sh >build/test-logs/fuzz/regress.log 2>&1
rc=$?
cat build/test-logs/fuzz/regress.log
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' build/test-logs/fuzz/regress.log | tail -n 1)
p=0; f=0
if [ -n "$line" ]; then p=${line%% passed*}; f=${line#*, }; f=${f%% failed}; fi
if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; say "not ok - fuzz regressions exited $rc"; fi
if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; say "not ok - fuzz regressions ran nothing"; fi
say "-- fuzz/regress: $p passed, $f failed"
add "$p" "$f"

say "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
