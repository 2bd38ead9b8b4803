#!/usr/bin/env bash
# pg-run.sh BUILD-DIR: the store's unit tests (test_store, test_store_keys)
# against a throwaway PostgreSQL 15 (tests/integration/helpers/pg.sh),
# each test on an emptied database (tests/unit/dbfix.h). Exit status: 0
# when every binary passed.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${1:-build}
. tests/integration/helpers/pg.sh
pg_trap
pg_start || { echo "pg-run: no PostgreSQL"; exit 1; }
rc=0
for t in test_store test_store_keys; do
	echo "== $t on postgresql"
	RG_TEST_DATABASE=$RG_PG_URI timeout 600 "$B/tests/$t" || rc=1
done
exit $rc
