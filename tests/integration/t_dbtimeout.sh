#!/usr/bin/env bash
# t_dbtimeout: the PostgreSQL connection settings of refgate.conf
# (docs/operators.md section 3 and 4b). With database_statement_timeout,
# a statement stuck behind a lock held elsewhere (here a psql session
# holding the cases table) fails instead of hanging: the read and the
# referral that need it answer 503 `unavailable`, the referral is not
# half-written (the same JWS is accepted afresh once the lock is gone),
# and the node answers normally again without a restart. Out-of-range
# values of the database_* settings stop the daemon at start with a
# message naming the key. Runs once (PostgreSQL phase of run-all.sh).
RG_DB=pg
. "$(dirname "$0")/lib.sh"
rg_setup_conf database_statement_timeout 1
enrol pave partner || finish
enrol rev reviewer || finish

refer pave c1 'subjects:[{handle:"@Timeout_Acct_One"}]'
expect "a referral before the lock" 201
C1=$(jget "$T/c1.answer" '.cases[0].case_id')

# ---- a lock held elsewhere ---------------------------------------------------------
locks() { pg_psql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'cases' AND l.mode = 'AccessExclusiveLock' AND l.granted"; }
"$PG_BIN/psql" -X -q -h "$PG_DIR" -U refgate -d refgate \
	-c "BEGIN; LOCK TABLE cases IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300); COMMIT" \
	>"$T/locker.log" 2>&1 &
LOCKER=$!
BGPIDS="$BGPIDS $LOCKER"
for i in $(seq 300); do [ "$(locks)" = 1 ] && break; sleep 0.1; done
eq "psql holds the cases table" 1 "$(locks)"

req rev GET "/v1/cases/$C1"
expect_problem "a case read behind the lock -> 503 unavailable" 503 unavailable
sign pave "$T/c2.json" --make 'subjects:[{handle:"@Timeout_Acct_Two"}]' >"$T/c2.jws"
post_jws pave "$T/c2.jws"
expect_problem "a referral behind the lock -> 503 unavailable" 503 unavailable
alive "the node is still running"

pg_psql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(300)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$LOCKER" 2>/dev/null
eq "the lock is gone" 0 "$(locks)"

# ---- back without a restart ------------------------------------------------------------
req rev GET "/v1/cases/$C1"
expect "the same read after the lock -> 200" 200
eq "  ... the case" "$C1" "$(jget "$BODY" .case_id)"
post_jws pave "$T/c2.jws"
expect "the same JWS after the lock -> 201 (nothing of it was recorded)" 201
eq "  ... recorded once" 1 "$(pg_psql "SELECT count(*) FROM referrals WHERE jti = '$(jget "$T/c2.json" .jti)'")"

# ---- limits, checked at start ----------------------------------------------------------
rg_stop
# refused KEY VALUE: the daemon does not start and names KEY.
refused() {
	conf_set "$1" "$2"
	timeout 30 "$BIN/refgate" -c "$D/refgate.conf" >"$T/refused.log" 2>&1
	local rc=$?
	# 124: still running after 30 s, so it started
	check "$1 = $2: the daemon refuses to start (exit $rc)" test "$rc" != 0 -a "$rc" != 124
	check "  ... naming the key" grep -q "$1" "$T/refused.log"
}
refused database_statement_timeout 0
refused database_statement_timeout 601
refused database_statement_timeout 5s
conf_set database_statement_timeout 30
refused database_connect_timeout 0
refused database_connect_timeout 61
conf_set database_connect_timeout 5
rg_start || finish
req rev GET "/v1/cases/$C1"
expect "the values in range: the daemon starts and answers (control)" 200
finish
