#!/usr/bin/env bash
# run.sh - the deliberate-breakage audit (`make mutants`): for each entry of
# tests/mutants/list, put that known bug into a scratch copy of the tree,
# build, run the tests the entry names, and require that at least one of
# them fails. A breakage no named test catches means a security test that
# cannot fail.
#
#   tests/mutants/run.sh [ID...]     every entry, or only the IDs given
#
#   MUTANTS_DIR   scratch folder (default build/mutants in this checkout,
#                 which git ignores: each checkout its own, none shared in
#                 /tmp); its tree/ is a copy of the repository's tracked
#                 files (as they are in the work tree), kept between runs
#                 so that builds are incremental
#   MUTANTS_JOBS  make -j (default 2)
#   MUTANTS_TIMEOUT seconds one named test may take (default 900)
#   MUTANTS_FULL  1: run each scenario to its end; by default a scenario is
#                 stopped at its first "not ok" line (the breakage is
#                 caught; the rest would only take time)
#
# Per entry: reset the copy (git checkout -- .), apply the sed expression
# to the file (the run FAILS when it changes nothing), build (make all and
# the named unit binaries, B=build in the copy), run the named tests, and
# record "caught" when one of them reports a failure (a scenario's
# "N passed, M failed" with M > 0, or a non-zero exit; a unit binary's
# non-zero exit), "SURVIVED" otherwise. Exit status 0 only when every
# entry applied, built and was caught. Results in $MUTANTS_DIR/results.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIST=$ROOT/tests/mutants/list
MD=${MUTANTS_DIR:-$ROOT/build/mutants}
case $MD in /*) ;; *) MD=$PWD/$MD ;; esac
S=$MD/tree
JOBS=${MUTANTS_JOBS:-2}
TMO=${MUTANTS_TIMEOUT:-900}
FULL=${MUTANTS_FULL:-0}
mkdir -p "$MD/logs" || exit 2
START=$(date +%s)

# The scratch copy: the tracked files of the work tree, committed in a git
# repository of its own so that `git checkout -- .` restores them.
sync_tree() {
	mkdir -p "$S"
	(cd "$ROOT" && git ls-files) | sort >"$MD/tracked"
	# Only files that differ are copied, and with a new mtime: a file put
	# back with an old mtime over an object built from its broken version
	# would leave that object in place (make would think it current).
	local f
	while IFS= read -r f; do
		[ -f "$ROOT/$f" ] || continue
		cmp -s "$ROOT/$f" "$S/$f" && continue
		mkdir -p "$S/$(dirname "$f")" && cp "$ROOT/$f" "$S/$f" || return 1
		[ -x "$ROOT/$f" ] && chmod +x "$S/$f"
	done <"$MD/tracked"
	cd "$S" || return 1
	[ -d .git ] || git init -q . || return 1
	# files no longer tracked upstream go
	git ls-files -z | tr '\0' '\n' | sort | comm -23 - "$MD/tracked" | while IFS= read -r f; do git rm -q -f -- "$f"; done
	git add -A . >/dev/null 2>&1
	git -c user.name=mutants -c user.email=mutants@localhost commit -q -m snapshot >/dev/null 2>&1
	git diff --quiet HEAD || return 1
	cd "$ROOT"
}
sync_tree || { echo "mutants: could not prepare the scratch copy in $S"; exit 2; }

# entries: "ID FILE TESTS SED-EXPRESSION" (the expression is the rest of
# the line); '#' comments and blank lines skipped.
mapfile -t ENTRIES < <(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$LIST")
if [ $# -gt 0 ]; then
	want=" $* "
	sel=()
	for e in "${ENTRIES[@]}"; do read -r id _ <<<"$e"; [[ $want == *" $id "* ]] && sel+=("$e"); done
	ENTRIES=("${sel[@]}")
fi
[ ${#ENTRIES[@]} -gt 0 ] || { echo "mutants: no entries"; exit 2; }

: >"$MD/results"
n_caught=0; n_bad=0
for e in "${ENTRIES[@]}"; do
	read -r id file tests expr <<<"$e"
	t0=$(date +%s)
	log=$MD/logs/$id.log
	: >"$log"
	(cd "$S" && git checkout -q -- . && git clean -q -f -d -e build -- . )
	result= detail=
	if [ ! -f "$S/$file" ]; then
		result="NOT-APPLIED"; detail="no file $file"
	elif ! sed -i -e "$expr" "$S/$file" 2>>"$log"; then
		result="NOT-APPLIED"; detail="sed failed"
	elif (cd "$S" && git diff --quiet -- "$file"); then
		result="NOT-APPLIED"; detail="sed changed nothing"
	fi
	if [ -z "$result" ]; then
		(cd "$S" && git diff -- "$file") >>"$log"
		units=()
		IFS=, read -r -a tl <<<"$tests"
		for t in "${tl[@]}"; do case $t in test_*) units+=("build/tests/$t") ;; esac; done
		if ! make -C "$S" -j"$JOBS" B=build all "${units[@]}" >>"$log" 2>&1; then
			result="NOT-APPLIED"; detail="does not build"
		fi
	fi
	if [ -z "$result" ]; then
		caught_by=
		for t in "${tl[@]}"; do
			case $t in
			test_*) (cd "$S" && timeout "$TMO" "build/tests/$t") >"$MD/logs/$id.$t.log" 2>&1; rc=$?
				[ $rc != 0 ] && caught_by="$caught_by $t(exit $rc)" ;;
			t_*) tlog=$MD/logs/$id.$t.log
				(cd "$S" && BIN=build RG_LOGDIR="$MD/logs/$id.tlogs" exec timeout "$TMO" bash "tests/integration/$t.sh") \
					>"$tlog" 2>&1 &
				tpid=$! stopped=
				while kill -0 "$tpid" 2>/dev/null; do
					if [ "$FULL" != 1 ] && grep -q '^not ok' "$tlog"; then
						stopped=1; kill -TERM "$tpid" 2>/dev/null; break
					fi
					sleep 1
				done
				wait "$tpid"; rc=$?
				first=$(grep -m 1 '^not ok' "$tlog" | cut -c 1-100)
				sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tlog" | tail -n 1)
				nf=$(echo "$sum" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p')
				if [ -n "$stopped" ]; then caught_by="$caught_by $t(stopped at: $first)"
				elif [ "${nf:-0}" -gt 0 ]; then caught_by="$caught_by $t($nf failed: $first)"
				elif [ $rc != 0 ]; then caught_by="$caught_by $t(exit $rc${sum:+, $sum})"; fi ;;
			*) echo "unknown test '$t'" >>"$log"; result="NOT-APPLIED"; detail="unknown test $t" ;;
			esac
			[ -n "$caught_by" ] && break     # one catch is enough
		done
		if [ -z "$result" ]; then
			if [ -n "$caught_by" ]; then result=caught; detail=${caught_by# }
			else result=SURVIVED; detail="$tests all passed"; fi
		fi
	fi
	t1=$(date +%s)
	case $result in caught) n_caught=$((n_caught + 1)) ;; *) n_bad=$((n_bad + 1)) ;; esac
	line=$(printf '%-11s %-34s %4ss  %s' "$result" "$id" "$((t1 - t0))" "$detail")
	echo "$line" | tee -a "$MD/results"
done
(cd "$S" && git checkout -q -- .)
END=$(date +%s)
echo "mutants: ${#ENTRIES[@]} breakages, $n_caught caught, $n_bad survived or did not apply; $((END - START)) s in all"
[ "$n_bad" = 0 ]
