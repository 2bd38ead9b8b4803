#!/usr/bin/env bash
# t_migrate: moving a deployment from SQLite to PostgreSQL (`refgatectl
# migrate --to`, docs/operators.md "Moving a deployment to PostgreSQL").
# A SQLite deployment gets referrals, decisions, an access key and audit
# records through the real daemon. While the daemon runs, migrate refuses
# and writes nothing; a source that PostgreSQL cannot take whole (a row
# breaking a reference) leaves the target empty; after the daemon is
# killed (-9: its last commits still in the WAL), migrate copies every
# table row for row (the audit chain and key hashes byte for byte) and
# leaves the file and its WAL as they were, `refgatectl audit verify`
# passes on PostgreSQL, and the daemon started on PostgreSQL with the
# same configuration otherwise
# answers the same case, referral, feed and keys, takes the access key
# issued before, and continues the change feed and the audit chain. A
# second migrate into the now non-empty database refuses. Runs once, in
# the PostgreSQL phase of tests/run-all.sh, with a PostgreSQL of its own.
. "$(dirname "$0")/lib.sh"
. "$ITDIR/helpers/pg.sh"
# lib.sh's cleanup stops a PostgreSQL only for RG_DB=pg.
trap 'pg_stop; cleanup' EXIT
rg_setup
enrol pave partner || finish
enrol ag1 agency || finish
enrol rev reviewer || finish

decide() { post_json rev "/v1/cases/$1/decision" "$2"; }
kreq() { local w=$1 s=$2; shift 2; req "$w" "$@" -H "Authorization: Bearer $s"; }
exp_at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
ACT='{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"Removal of terrorist content."}'
SQLDB=$(conf_path database)
# counts DB: "table count" lines of every table of the SQLite file, read
# from the SQLite file (DB=sqlite) or from PostgreSQL (DB=pg).
tables() { sqlite3 -readonly "$SQLDB" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"; }
counts() {
	local t
	for t in $(tables); do
		if [ "$1" = pg ]; then echo "$t $(pg_psql "SELECT count(*) FROM $t")"
		else echo "$t $(sqlite3 -readonly "$SQLDB" "SELECT count(*) FROM $t")"; fi
	done
}
pg_tables() { pg_psql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S')"; }

# ---- a SQLite deployment with history -------------------------------------------------
refer pave c1 'subjects:[{account_id:"000123456789", handle:"@Mig_Acct_One"}]'
expect "referral 1 -> 201" 201
C1=$(jget "$T/c1.answer" '.cases[0].case_id'); R1=$(jget "$T/c1.answer" .referral_id)
refer ag1 c2 'subjects:[{handle:"@Mig_Acct_Two"}]'
expect "referral 2 -> 201" 201
C2=$(jget "$T/c2.answer" '.cases[0].case_id')
refer pave c3 'subjects:[{handle:"@mig_acct_one"}]'
expect "referral 3, same account (dedup) -> 201" 201
eq "dedup: referral 3 joins case 1" "$C1" "$(jget "$T/c3.answer" '.cases[0].case_id')"
decide "$C1" '{"status":"in_review"}'; expect "C1 in_review" 200
decide "$C1" "$ACT"; expect "C1 actioned" 200
decide "$C2" '{"status":"in_review"}'; expect "C2 in_review" 200
post_json legal /v1/admin/access-keys "{\"principal\":\"ag1\",\"tier\":\"status\",\"cases\":[\"$C2\"],\"legal_basis\":\"DSA Art. 10 order 7\",\"expires_at\":\"$(exp_at 86400)\"}"
expect "issue an access key -> 201" 201
S1=$(jget "$BODY" .secret)
kreq ag1 "$S1" GET "/v1/cases/$C2"; expect "the key works on SQLite" 200
cp "$BODY" "$T/k1.before"

req rev GET "/v1/cases/$C1"; expect "C1 as reviewer" 200; cp "$BODY" "$T/c1.before"
req pave GET "/v1/referrals/$R1"; expect "R1 as its partner" 200; cp "$BODY" "$T/r1.before"
req pave GET /v1/changes; expect "pave's change feed" 200; cp "$BODY" "$T/feed.before"
FEED_NEXT=$(jget "$BODY" .next)
req pave GET /v1/keys; expect "GET /v1/keys" 200; cp "$BODY" "$T/keys.before"
ctl audit verify; eq "audit verify on SQLite" 0 $?
AUDIT_SQLITE=$(grep -o '^audit: [0-9]* records' "$T/ctl.out")
ne "the SQLite deployment has audit records" "" "$AUDIT_SQLITE"

pg_start || { notok "throwaway PostgreSQL starts"; finish; }
cp "$D/refgate.conf" "$D/sqlite.conf"

# ---- usage -------------------------------------------------------------------------------
ctl migrate; eq "migrate without --to -> exit 2 (usage)" 2 $?
ctl migrate --to "$SQLDB.copy"; eq "migrate --to a file -> exit 2 (usage)" 2 $?
check "  ... says it must be a postgresql:// URI" grep -q "postgresql://" "$T/ctl.out"

# ---- refused while the gateway runs on the file -----------------------------------------
ctl migrate --to "$RG_PG_URI"; rc=$?
eq "migrate while the gateway runs -> exit 1" 1 $rc
check "  ... says the file is in use" grep -q "in use" "$T/ctl.out"
eq "  ... and writes nothing to PostgreSQL" 0 "$(pg_tables)"
req rev GET "/v1/cases/$C1"; expect "  ... and the gateway still answers" 200
# A kill -9 rather than a clean stop: the last commits are still in the
# WAL, which migrate must read (and leave as it is).
rg_kill9
check "  (fixture: the crash left a WAL with frames)" test -s "$SQLDB-wal"

# ---- refused as a whole: a row PostgreSQL cannot take --------------------------------------
"$PG_BIN/createdb" -h "$PG_DIR" -U refgate refgate_bad >"$T/createdb.log" 2>&1
cp -a "$D" "$T/bad"
BADDB=$T/bad/${SQLDB#"$D"/}
sqlite3 "$BADDB" "INSERT INTO case_aliases (alias, case_id) VALUES ('c_orphan', 'c_nosuchcase')" 2>"$T/bad.log"
eq "  (fixture: the dangling row is in the copy)" 1 "$(sqlite3 -readonly "$BADDB" "SELECT count(*) FROM case_aliases WHERE alias = 'c_orphan'")"
"$BIN/refgatectl" -c "$T/bad/refgate.conf" migrate --to "postgresql:///refgate_bad?host=$PG_DIR&user=refgate" >"$T/bad.out" 2>&1; rc=$?; cat "$T/bad.out"
eq "migrate of a file with a dangling reference -> exit 1" 1 $rc
check "  ... names the table" grep -q "case_aliases" "$T/bad.out"
eq "  ... and leaves the target empty (one transaction)" 0 \
	"$("$PG_BIN/psql" -X -q -At -h "$PG_DIR" -U refgate -d refgate_bad -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'")"

# ---- the move -----------------------------------------------------------------------------
counts sqlite >"$T/counts.sqlite"
sum_before=$(cat "$SQLDB"* | sha256sum)
ctl migrate --to "$RG_PG_URI"; rc=$?
eq "migrate of the stopped deployment -> exit 0" 0 $rc
check "  ... reports the rows and tables" grep -q "rows of [0-9]* tables copied" "$T/ctl.out"
eq "  ... and leaves the SQLite file (and any WAL) as it was" "$sum_before" "$(cat "$SQLDB"* | sha256sum)"
if grep -q "$RG_PG_URI" "$T/ctl.out"; then notok "  ... never prints the URI"; else ok "  ... never prints the URI"; fi
counts pg >"$T/counts.pg"
check "every table has as many rows on PostgreSQL" cmp -s "$T/counts.sqlite" "$T/counts.pg"
gt0=$(awk '$2 > 0' "$T/counts.sqlite" | wc -l)
check "  ... (control: $gt0 tables hold rows)" test "$gt0" -ge 12
eq "the audit chain byte for byte" \
	"$(sqlite3 -readonly "$SQLDB" "SELECT seq || ' ' || lower(hex(prev_hash)) || ' ' || lower(hex(hash)) || ' ' || actor || ' ' || kind FROM audit ORDER BY seq")" \
	"$(pg_psql "SELECT seq || ' ' || encode(prev_hash, 'hex') || ' ' || encode(hash, 'hex') || ' ' || actor || ' ' || kind FROM audit ORDER BY seq")"
eq "access key hashes byte for byte" \
	"$(sqlite3 -readonly "$SQLDB" "SELECT id || ' ' || lower(hex(secret_hash)) FROM access_keys ORDER BY id")" \
	"$(pg_psql "SELECT id || ' ' || encode(secret_hash, 'hex') FROM access_keys ORDER BY id")"
eq "sealed referral content byte for byte" \
	"$(sqlite3 -readonly "$SQLDB" "SELECT id || ' ' || lower(hex(sealed)) FROM referrals ORDER BY rowid")" \
	"$(pg_psql "SELECT id || ' ' || encode(sealed, 'hex') FROM referrals ORDER BY rowid")"
eq "the schema version on PostgreSQL is the file's" \
	"$(sqlite3 -readonly "$SQLDB" "PRAGMA user_version")" "$(pg_psql "SELECT version FROM refgate_schema")"

# conf_set's sed would take the URI's '&' for the matched text.
grep -v '^[[:space:]]*database[[:space:]]*=' "$D/sqlite.conf" >"$D/refgate.conf"
printf 'database = %s\n' "$RG_PG_URI" >>"$D/refgate.conf"
ctl audit verify; eq "audit verify on PostgreSQL" 0 $?
eq "  ... over the same records" "$AUDIT_SQLITE" "$(grep -o '^audit: [0-9]* records' "$T/ctl.out")"

ctl migrate --to "$RG_PG_URI"; eq "migrate with a configuration already on PostgreSQL -> exit 1" 1 $?
check "  ... says so" grep -q "already PostgreSQL" "$T/ctl.out"

# ---- a second migrate: the target is no longer empty ---------------------------------------
"$BIN/refgatectl" -c "$D/sqlite.conf" migrate --to "$RG_PG_URI" >"$T/again.out" 2>&1; rc=$?; cat "$T/again.out"
eq "migrate into the non-empty database -> exit 1" 1 $rc
check "  ... says it is not empty" grep -q "not empty" "$T/again.out"
counts pg >"$T/counts.pg2"
check "  ... and changes nothing there" cmp -s "$T/counts.pg" "$T/counts.pg2"

# ---- the gateway on PostgreSQL ---------------------------------------------------------------
rg_start || finish
req rev GET "/v1/cases/$C1"; expect "C1 on PostgreSQL" 200
check "  ... the same case as on SQLite" cmp -s "$T/c1.before" "$BODY"
req pave GET "/v1/referrals/$R1"; expect "R1 on PostgreSQL" 200
check "  ... the same referral as on SQLite" cmp -s "$T/r1.before" "$BODY"
req pave GET /v1/changes; expect "pave's feed on PostgreSQL" 200
check "  ... the same feed as on SQLite" cmp -s "$T/feed.before" "$BODY"
req pave GET /v1/keys; check "the same gateway keys" cmp -s "$T/keys.before" "$BODY"
kreq ag1 "$S1" GET "/v1/cases/$C2"; expect "the access key issued on SQLite works on PostgreSQL" 200
check "  ... and answers as on SQLite" cmp -s "$T/k1.before" "$BODY"
decide "$C2" '{"status":"no_action","ground":"terms_of_service","explanation":"x"}'
expect "a decision on PostgreSQL" 200
refer ag1 c4 'subjects:[{handle:"@Mig_Acct_Four"}]'; expect "a referral on PostgreSQL" 201
refer pave c5 'subjects:[{handle:"@MIG_ACCT_ONE"}]'; expect "a referral of a migrated account" 201
eq "  ... joins the migrated case (the identifier index came along)" "$C1" "$(jget "$T/c5.answer" '.cases[0].case_id')"
req pave GET "/v1/changes?since=$(urlenc "$FEED_NEXT")"; expect "pave's feed from the cursor given on SQLite" 200
eq "  ... continues with what happened since" "$C1" "$(jeval "$BODY" 'j.changes.map(c=>c.case_id).join(" ")')"
ctl audit verify; eq "audit verify on PostgreSQL after new writes" 0 $?
n_before=${AUDIT_SQLITE//[^0-9]/}
n_after=$(grep -o '^audit: [0-9]*' "$T/ctl.out" | tr -dc 0-9)
check "  ... the chain grew on from the migrated records ($n_before -> $n_after)" test "${n_after:-0}" -gt "$n_before"
finish
