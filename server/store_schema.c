/*
 * store_schema.c - what the store's rules stand on: the schema of both
 * engines (version 10, migrated from 1 to 9) with its migration ladder,
 * opening a connection through the engine's driver (db.h), and the
 * per-connection cache of prepared statements with checked binds.
 */
#include "store_int.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define SCHEMA_VERSION 10

/*
 * Version 1. Times are Unix seconds, 0 meaning "never/none". Statuses,
 * actions, urgencies, categories and roles are the C enums' values.
 * Cases merged into another disappear from `cases` and leave an alias;
 * every other table is kept pointing at the surviving case, except
 * referral_subjects.first_case_id and .first_status, which keep the answer
 * given to the submitter (replays return it). The audit table is
 * append-only (triggers refuse UPDATE and DELETE).
 */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS principals ("
	" name TEXT PRIMARY KEY NOT NULL,"
	" role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 4),"
	" created_at INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE TABLE IF NOT EXISTS certs ("
	" spki BLOB PRIMARY KEY NOT NULL CHECK (length(spki) = 32),"
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" pem TEXT NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS certs_principal ON certs(principal);"
	"CREATE TABLE IF NOT EXISTS signing_keys ("
	" kid TEXT PRIMARY KEY NOT NULL,"
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" pk BLOB NOT NULL CHECK (length(pk) = 32),"
	" created_at INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS signing_keys_principal"
	" ON signing_keys(principal);"
	"CREATE TABLE IF NOT EXISTS cases ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 3),"
	" action INTEGER NOT NULL CHECK (action BETWEEN 0 AND 3),"
	" opened_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" decided_at INTEGER NOT NULL DEFAULT 0,"
	" deadline_at INTEGER NOT NULL DEFAULT 0,"
	" urgency INTEGER NOT NULL CHECK (urgency BETWEEN 0 AND 2),"
	" reopen_count INTEGER NOT NULL DEFAULT 0,"
	" seq_opened INTEGER NOT NULL UNIQUE"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS cases_open ON cases(status, deadline_at);"
	"CREATE TABLE IF NOT EXISTS case_aliases ("
	" alias TEXT PRIMARY KEY NOT NULL,"
	" case_id TEXT NOT NULL REFERENCES cases(id)"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS case_aliases_case ON case_aliases(case_id);"
	"CREATE TABLE IF NOT EXISTS case_idents ("
	" hash BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32),"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" kind TEXT NOT NULL CHECK (kind IN ('i', 'h')),"
	" sealed BLOB NOT NULL"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS case_idents_case ON case_idents(case_id);"
	"CREATE TABLE IF NOT EXISTS referrals ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" jti TEXT NOT NULL,"
	" jws_sha256 BLOB NOT NULL CHECK (length(jws_sha256) = 32),"
	" received_at INTEGER NOT NULL,"
	" category INTEGER NOT NULL,"
	" urgency INTEGER NOT NULL,"
	" partner_ref TEXT,"
	" deadline_at INTEGER NOT NULL DEFAULT 0,"
	" n_subjects INTEGER NOT NULL,"
	" sealed BLOB NOT NULL,"
	" UNIQUE (principal, jti)"        /* also the by-principal index */
	") STRICT;"
	"CREATE TABLE IF NOT EXISTS referral_subjects ("
	" referral_id TEXT NOT NULL REFERENCES referrals(id),"
	" idx INTEGER NOT NULL,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" first_case_id TEXT NOT NULL,"
	" first_status INTEGER NOT NULL,"
	" new_case INTEGER NOT NULL,"
	" PRIMARY KEY (referral_id, idx)"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS referral_subjects_case"
	" ON referral_subjects(case_id, referral_id);"
	"CREATE TABLE IF NOT EXISTS decisions ("
	" id INTEGER PRIMARY KEY,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" status INTEGER NOT NULL,"
	" action INTEGER NOT NULL,"
	" ground TEXT,"
	" explanation TEXT,"
	" reviewer TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" automated INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS decisions_case ON decisions(case_id, id);"
	"CREATE TABLE IF NOT EXISTS changes ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" status INTEGER NOT NULL,"
	" action INTEGER NOT NULL,"
	" at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS changes_case ON changes(case_id, seq);"
	"CREATE TABLE IF NOT EXISTS audit ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),"
	" hash BLOB NOT NULL CHECK (length(hash) = 32)"
	") STRICT;"
	"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;";

/*
 * Version 2 adds access keys and signed audit heads; nothing of version 1
 * changes, so migrating is creating these. An access key stores only the
 * BLAKE2b-256 of its secret. access_key_cases lists a key's cases by their
 * live ids (merges repoint it, as they repoint everything else).
 * audit_heads holds the gateway's Ed25519 signatures over audit heads.
 */
static const char schema_v2_sql[] =
	"CREATE TABLE IF NOT EXISTS access_keys ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" issued_by TEXT NOT NULL,"
	" tier INTEGER NOT NULL CHECK (tier IN (1, 2)),"
	" all_own INTEGER NOT NULL CHECK (all_own IN (0, 1)),"
	" legal_basis TEXT NOT NULL,"
	" cidrs TEXT NOT NULL DEFAULT '',"
	" secret_hash BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL DEFAULT 0,"
	" last_used_at INTEGER NOT NULL DEFAULT 0,"
	" use_count INTEGER NOT NULL DEFAULT 0"
	") STRICT;"                       /* UNIQUE: the by-secret index */
	"CREATE INDEX IF NOT EXISTS access_keys_principal"
	" ON access_keys(principal);"
	"CREATE TABLE IF NOT EXISTS access_key_cases ("
	" key_id TEXT NOT NULL REFERENCES access_keys(id),"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" PRIMARY KEY (key_id, case_id)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS access_key_cases_case"
	" ON access_key_cases(case_id);"
	"CREATE TABLE IF NOT EXISTS audit_heads ("
	" seq INTEGER PRIMARY KEY REFERENCES audit(seq),"
	" at INTEGER NOT NULL,"
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" sig BLOB NOT NULL CHECK (length(sig) = 64)"
	") STRICT;";

/*
 * Version 3 closes two ways a merge could widen what a principal sees.
 * referrals.seq_at and access_keys.seq_at hold the first change-feed seq
 * after the referral or key was recorded (the feed head then, plus one):
 * a principal sees a case's changes from its first referral into it on,
 * a listed key from its issue on. referral_idents records which
 * identifier hashes each referral named (its provenance, never repointed
 * by merges); access_key_idents the hashes a listed key's cases had at
 * issue: what a key may disclose, however its cases merge later.
 * Migrating leaves existing rows seq_at 0 (their whole feed, as before)
 * and records no provenance for them: identifiers of referrals and keys
 * from before are disclosed to no access key (a legal team reissues the
 * key), since which of them came in through a merge is not known.
 */
static const char schema_v3_sql[] =
	"ALTER TABLE referrals ADD COLUMN seq_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE access_keys ADD COLUMN seq_at INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE IF NOT EXISTS referral_idents ("
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" referral_id TEXT NOT NULL REFERENCES referrals(id),"
	" PRIMARY KEY (hash, referral_id)"     /* the by-hash index */
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS access_key_idents ("
	" key_id TEXT NOT NULL REFERENCES access_keys(id),"
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" PRIMARY KEY (key_id, hash)"
	") STRICT, WITHOUT ROWID;";

/*
 * Version 4: what each partner or agency sees of the cases it referred
 * into, apart from the cases themselves (store_referrer.c; contract
 * section 4, "Referrers learn nothing of each other"). referral_subjects.
 * first_case_id now holds the submitter's own id for the case (an alias
 * of it when it joined another's case). Migrating gives every principal
 * one view per id it was answered with (first_case_id), showing the
 * case's status as a referrer sees it (received until decided), and the
 * identifiers it named under that id; the per-principal feeds start
 * empty (cursors of version 3 are refused, so pollers start again).
 */
static const char schema_v4_sql[] =
	"CREATE TABLE IF NOT EXISTS referrer_cases ("
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" alias TEXT NOT NULL,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 3),"
	" action INTEGER NOT NULL CHECK (action BETWEEN 0 AND 3),"
	" opened_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" decided_at INTEGER NOT NULL DEFAULT 0,"
	" deadline_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (principal, alias)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS referrer_cases_case"
	" ON referrer_cases(case_id);"
	"CREATE TABLE IF NOT EXISTS referrer_idents ("
	" principal TEXT NOT NULL,"
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" alias TEXT NOT NULL,"
	" PRIMARY KEY (principal, hash)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS referrer_feed ("
	" principal TEXT NOT NULL,"
	" n INTEGER NOT NULL,"
	" alias TEXT NOT NULL,"
	" status INTEGER NOT NULL,"
	" action INTEGER NOT NULL,"
	" at INTEGER NOT NULL,"
	" PRIMARY KEY (principal, n)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS referral_subjects_first"
	" ON referral_subjects(first_case_id);"
	"INSERT OR IGNORE INTO referrer_cases (principal, alias, case_id,"
	" status, action, opened_at, updated_at, decided_at, deadline_at)"
	" SELECT r.principal, s.first_case_id, s.case_id,"
	"  CASE WHEN c.status IN (2, 3) THEN c.status ELSE 0 END,"
	"  CASE WHEN c.status IN (2, 3) THEN c.action ELSE 0 END,"
	"  MIN(r.received_at), MAX(MAX(r.received_at), c.decided_at),"
	"  CASE WHEN c.status IN (2, 3) THEN c.decided_at ELSE 0 END,"
	"  MAX(r.deadline_at)"
	" FROM referral_subjects s JOIN referrals r ON r.id = s.referral_id"
	" JOIN cases c ON c.id = s.case_id"
	" GROUP BY r.principal, s.first_case_id;"
	"INSERT OR IGNORE INTO referrer_idents (principal, hash, alias)"
	" SELECT r.principal, ri.hash, s.first_case_id FROM referral_idents ri"
	" JOIN referrals r ON r.id = ri.referral_id"
	" JOIN case_idents ci ON ci.hash = ri.hash"
	" JOIN referral_subjects s ON s.referral_id = r.id"
	" AND s.case_id = ci.case_id"
	" ORDER BY r.received_at, r.rowid, s.idx;";

/*
 * Version 5: daily quotas (store_referral_submit). One row per principal
 * and UTC day (Unix day number) counting what it recorded that day; a
 * principal's rows of earlier days are deleted when its first referral of
 * a new day is counted. Migrating creates the table: counts start at 0.
 */
static const char schema_v5_sql[] =
	"CREATE TABLE IF NOT EXISTS quota_days ("
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" day INTEGER NOT NULL,"
	" referrals INTEGER NOT NULL,"
	" subjects INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL,"
	" PRIMARY KEY (principal, day)"
	") STRICT, WITHOUT ROWID;";

/*
 * Version 6: the transparency log (store_log.c). log_leaves holds each
 * accepted referral's receipt payload, the leaf data, by log index (a
 * replay answers the same receipt); log_nodes every perfect subtree's
 * hash, keyed (level, index): the node (l, i) covers leaves
 * [i << l, (i + 1) << l), so a proof costs O(log n) look-ups;
 * log_checkpoints every signed checkpoint. All three are append-only.
 * Referrals recorded before version 6 have no leaf (the log starts
 * empty); their replays answer the receipt without a log_index.
 */
static const char schema_v6_sql[] =
	"CREATE TABLE IF NOT EXISTS log_leaves ("
	" idx INTEGER PRIMARY KEY CHECK (idx >= 0),"
	" referral_id TEXT NOT NULL UNIQUE REFERENCES referrals(id),"
	" payload BLOB NOT NULL"
	") STRICT;"
	"CREATE TABLE IF NOT EXISTS log_nodes ("
	" level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 62),"
	" idx INTEGER NOT NULL CHECK (idx >= 0),"
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" PRIMARY KEY (level, idx)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS log_checkpoints ("
	" size INTEGER PRIMARY KEY CHECK (size >= 0),"
	" root BLOB NOT NULL CHECK (length(root) = 32),"
	" at INTEGER NOT NULL,"
	" note TEXT NOT NULL"
	") STRICT;"
	"CREATE TRIGGER IF NOT EXISTS log_leaves_no_update BEFORE UPDATE"
	" ON log_leaves BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS log_leaves_no_delete BEFORE DELETE"
	" ON log_leaves BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS log_nodes_no_update BEFORE UPDATE"
	" ON log_nodes BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS log_nodes_no_delete BEFORE DELETE"
	" ON log_nodes BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS log_checkpoints_no_update BEFORE UPDATE"
	" ON log_checkpoints BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS log_checkpoints_no_delete BEFORE DELETE"
	" ON log_checkpoints BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;";

/*
 * Version 7: retention and preservation (store_retention.c).
 * cases.preserved_until: a preservation hold (Art. 6 of Regulation (EU)
 * 2021/784): an actioned case that a removal order named is held until
 * its decision time + 183 days; a held case is never purged (0: no
 * hold). cases.purged_at and referrals.purged_at: when retention erased
 * the case's identifier index entries and the referral's sealed content
 * (0: not erased; an erased referral's sealed is empty). Migrating holds
 * every actioned case a removal order named, from its decision time.
 */
static const char schema_v7_sql[] =
	"ALTER TABLE cases ADD COLUMN preserved_until INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN purged_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE referrals ADD COLUMN purged_at INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX IF NOT EXISTS cases_retention ON cases(purged_at, decided_at);"
	"UPDATE cases SET preserved_until = decided_at + 15811200"
	" WHERE status = 2 AND EXISTS (SELECT 1 FROM referral_subjects s"
	"  JOIN referrals r ON r.id = s.referral_id"
	"  WHERE s.case_id = cases.id AND r.deadline_at > 0);";

/*
 * Version 8: review claims (store_claims.c). One row per claimed open
 * case: the reviewer and until when the claim holds; a row past its
 * expires_at is no claim. A decision (actioned, no_action) deletes it; a
 * merge keeps the survivor's claim, else takes the absorbed case's. The
 * migration only creates the table, so it applies after any version.
 */
static const char schema_v8_sql[] =
	"CREATE TABLE IF NOT EXISTS case_claims ("
	" case_id TEXT PRIMARY KEY NOT NULL REFERENCES cases(id),"
	" reviewer TEXT NOT NULL REFERENCES principals(name),"
	" claimed_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL"
	") STRICT;";

/*
 * Version 9: statements of reasons (store_statements.c). One row per
 * actioned decision, made in the decision's transaction: the statement's
 * JSON as the DSA Transparency Database takes it (no personal data), its
 * puid, and when it was acknowledged by the database (exported_at, 0:
 * not yet). seq orders them (the listing's cursor). Principals gain
 * trusted_flagger (their notices' source_type), decisions the
 * reviewer's legal_ground. Migrating adds the columns (0 / NULL) and the
 * table: decisions taken before have no statement.
 */
static const char schema_v9_sql[] =
	"ALTER TABLE principals ADD COLUMN trusted_flagger INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE decisions ADD COLUMN legal_ground TEXT;"
	"CREATE TABLE IF NOT EXISTS statements ("
	" seq INTEGER PRIMARY KEY CHECK (seq > 0),"
	" puid TEXT NOT NULL UNIQUE,"
	" case_id TEXT NOT NULL,"
	" decision_id INTEGER NOT NULL UNIQUE REFERENCES decisions(id),"
	" created_at INTEGER NOT NULL,"
	" exported_at INTEGER NOT NULL DEFAULT 0,"
	" body TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS statements_pending"
	" ON statements(exported_at, seq);";

/*
 * Version 10: removal orders (Regulation (EU) 2021/784, contract section
 * 9; store_orders.c). One row per order, keyed by the issuing agency and
 * its reference: the clock (received_at of its first or clarifying
 * referral, deadline_at), its answer (status: the case statuses,
 * 4 cannot_execute with reason), the preservation hold and the notice
 * hold (notice_withheld_until, extended at most once). Each referral
 * that carried the order is linked to it (removal_order_referrals); the
 * order's cases are those referrals' cases. cases.status gains 4,
 * cannot_execute: SQLite cannot change a CHECK in place, so the table is
 * rebuilt: copied aside, dropped, made again and refilled, with the
 * foreign keys deferred to the commit (foreign_keys cannot be turned off
 * inside the migration's transaction; the other tables' references to
 * cases name it, so they hold again once it is refilled). Migrating links no earlier referral: an order
 * received before version 10 has only its cases' deadlines.
 */
static const char schema_v10_sql[] =
	"PRAGMA defer_foreign_keys = ON;"
	"CREATE TABLE cases_v9 AS SELECT * FROM cases;"
	"DROP TABLE cases;"
	"CREATE TABLE cases ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),"
	" action INTEGER NOT NULL CHECK (action BETWEEN 0 AND 3),"
	" opened_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" decided_at INTEGER NOT NULL DEFAULT 0,"
	" deadline_at INTEGER NOT NULL DEFAULT 0,"
	" urgency INTEGER NOT NULL CHECK (urgency BETWEEN 0 AND 2),"
	" reopen_count INTEGER NOT NULL DEFAULT 0,"
	" seq_opened INTEGER NOT NULL UNIQUE,"
	" preserved_until INTEGER NOT NULL DEFAULT 0,"
	" purged_at INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"INSERT INTO cases (id, status, action, opened_at, updated_at,"
	" decided_at, deadline_at, urgency, reopen_count, seq_opened,"
	" preserved_until, purged_at)"
	" SELECT id, status, action, opened_at, updated_at, decided_at,"
	" deadline_at, urgency, reopen_count, seq_opened, preserved_until,"
	" purged_at FROM cases_v9;"
	"DROP TABLE cases_v9;"
	"CREATE INDEX IF NOT EXISTS cases_open ON cases(status, deadline_at);"
	"CREATE INDEX IF NOT EXISTS cases_retention ON cases(purged_at, decided_at);"
	"CREATE TABLE IF NOT EXISTS removal_orders ("
	" agency TEXT NOT NULL REFERENCES principals(name),"
	" reference TEXT NOT NULL,"
	" issuing_authority TEXT,"
	" issued_at INTEGER NOT NULL,"
	" received_at INTEGER NOT NULL,"
	" deadline_at INTEGER NOT NULL,"
	" status INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 4),"
	" reason TEXT,"
	" preserved_until INTEGER NOT NULL DEFAULT 0,"
	" preservation_reason TEXT,"
	" notice_withheld_until INTEGER NOT NULL DEFAULT 0,"
	" withhold_extended INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (agency, reference)"
	") STRICT;"
	"CREATE TABLE IF NOT EXISTS removal_order_referrals ("
	" referral_id TEXT PRIMARY KEY NOT NULL REFERENCES referrals(id),"
	" agency TEXT NOT NULL,"
	" reference TEXT NOT NULL,"
	" FOREIGN KEY (agency, reference)"
	"  REFERENCES removal_orders(agency, reference)"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS removal_order_referrals_order"
	" ON removal_order_referrals(agency, reference);";

/*
 * The same versions for PostgreSQL: the same tables, columns and
 * constraints in its types (BIGINT for INTEGER, BYTEA for BLOB, identity
 * columns for SQLite's implicit and AUTOINCREMENT rowids; a `rowid`
 * column where the store orders by insertion). Append-only tables refuse
 * UPDATE and DELETE through one trigger function. PostgreSQL support
 * began at version 6, so version 4's data migration has nothing to move
 * there and only its tables are created.
 */
static const char pg_v1_sql[] =
	"CREATE TABLE IF NOT EXISTS principals ("
	" name TEXT PRIMARY KEY NOT NULL,"
	" role BIGINT NOT NULL CHECK (role BETWEEN 1 AND 4),"
	" created_at BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS certs ("
	" spki BYTEA PRIMARY KEY NOT NULL CHECK (octet_length(spki) = 32),"
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" pem TEXT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS certs_principal ON certs(principal);"
	"CREATE TABLE IF NOT EXISTS signing_keys ("
	" kid TEXT PRIMARY KEY NOT NULL,"
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" pk BYTEA NOT NULL CHECK (octet_length(pk) = 32),"
	" created_at BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS signing_keys_principal"
	" ON signing_keys(principal);"
	"CREATE TABLE IF NOT EXISTS cases ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" status BIGINT NOT NULL CHECK (status BETWEEN 0 AND 3),"
	" action BIGINT NOT NULL CHECK (action BETWEEN 0 AND 3),"
	" opened_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" decided_at BIGINT NOT NULL DEFAULT 0,"
	" deadline_at BIGINT NOT NULL DEFAULT 0,"
	" urgency BIGINT NOT NULL CHECK (urgency BETWEEN 0 AND 2),"
	" reopen_count BIGINT NOT NULL DEFAULT 0,"
	" seq_opened BIGINT NOT NULL UNIQUE);"
	"CREATE INDEX IF NOT EXISTS cases_open ON cases(status, deadline_at);"
	"CREATE TABLE IF NOT EXISTS case_aliases ("
	" alias TEXT PRIMARY KEY NOT NULL,"
	" case_id TEXT NOT NULL REFERENCES cases(id));"
	"CREATE INDEX IF NOT EXISTS case_aliases_case ON case_aliases(case_id);"
	"CREATE TABLE IF NOT EXISTS case_idents ("
	" hash BYTEA PRIMARY KEY NOT NULL CHECK (octet_length(hash) = 32),"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" kind TEXT NOT NULL CHECK (kind IN ('i', 'h')),"
	" sealed BYTEA NOT NULL,"
	" rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE);"
	"CREATE INDEX IF NOT EXISTS case_idents_case ON case_idents(case_id);"
	"CREATE TABLE IF NOT EXISTS referrals ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" jti TEXT NOT NULL,"
	" jws_sha256 BYTEA NOT NULL CHECK (octet_length(jws_sha256) = 32),"
	" received_at BIGINT NOT NULL,"
	" category BIGINT NOT NULL,"
	" urgency BIGINT NOT NULL,"
	" partner_ref TEXT,"
	" deadline_at BIGINT NOT NULL DEFAULT 0,"
	" n_subjects BIGINT NOT NULL,"
	" sealed BYTEA NOT NULL,"
	" rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,"
	" UNIQUE (principal, jti));"
	"CREATE TABLE IF NOT EXISTS referral_subjects ("
	" referral_id TEXT NOT NULL REFERENCES referrals(id),"
	" idx BIGINT NOT NULL,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" first_case_id TEXT NOT NULL,"
	" first_status BIGINT NOT NULL,"
	" new_case BIGINT NOT NULL,"
	" PRIMARY KEY (referral_id, idx));"
	"CREATE INDEX IF NOT EXISTS referral_subjects_case"
	" ON referral_subjects(case_id, referral_id);"
	"CREATE TABLE IF NOT EXISTS decisions ("
	" id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" status BIGINT NOT NULL,"
	" action BIGINT NOT NULL,"
	" ground TEXT,"
	" explanation TEXT,"
	" reviewer TEXT NOT NULL,"
	" at BIGINT NOT NULL,"
	" automated BIGINT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS decisions_case ON decisions(case_id, id);"
	"CREATE TABLE IF NOT EXISTS changes ("
	" seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" status BIGINT NOT NULL,"
	" action BIGINT NOT NULL,"
	" at BIGINT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS changes_case ON changes(case_id, seq);"
	"CREATE TABLE IF NOT EXISTS audit ("
	" seq BIGINT PRIMARY KEY NOT NULL,"
	" at BIGINT NOT NULL,"
	" actor TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" prev_hash BYTEA NOT NULL CHECK (octet_length(prev_hash) = 32),"
	" hash BYTEA NOT NULL CHECK (octet_length(hash) = 32));"
	"CREATE OR REPLACE FUNCTION refgate_append_only() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;"
	"CREATE OR REPLACE TRIGGER audit_append_only"
	" BEFORE UPDATE OR DELETE ON audit"
	" FOR EACH ROW EXECUTE FUNCTION refgate_append_only();";

static const char pg_v2_sql[] =
	"CREATE TABLE IF NOT EXISTS access_keys ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" issued_by TEXT NOT NULL,"
	" tier BIGINT NOT NULL CHECK (tier IN (1, 2)),"
	" all_own BIGINT NOT NULL CHECK (all_own IN (0, 1)),"
	" legal_basis TEXT NOT NULL,"
	" cidrs TEXT NOT NULL DEFAULT '',"
	" secret_hash BYTEA NOT NULL UNIQUE"
	"  CHECK (octet_length(secret_hash) = 32),"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL DEFAULT 0,"
	" last_used_at BIGINT NOT NULL DEFAULT 0,"
	" use_count BIGINT NOT NULL DEFAULT 0,"
	" rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE);"
	"CREATE INDEX IF NOT EXISTS access_keys_principal"
	" ON access_keys(principal);"
	"CREATE TABLE IF NOT EXISTS access_key_cases ("
	" key_id TEXT NOT NULL REFERENCES access_keys(id),"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" PRIMARY KEY (key_id, case_id));"
	"CREATE INDEX IF NOT EXISTS access_key_cases_case"
	" ON access_key_cases(case_id);"
	"CREATE TABLE IF NOT EXISTS audit_heads ("
	" seq BIGINT PRIMARY KEY REFERENCES audit(seq),"
	" at BIGINT NOT NULL,"
	" hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),"
	" sig BYTEA NOT NULL CHECK (octet_length(sig) = 64));";

static const char pg_v3_sql[] =
	"ALTER TABLE referrals ADD COLUMN IF NOT EXISTS"
	" seq_at BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE access_keys ADD COLUMN IF NOT EXISTS"
	" seq_at BIGINT NOT NULL DEFAULT 0;"
	"CREATE TABLE IF NOT EXISTS referral_idents ("
	" hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),"
	" referral_id TEXT NOT NULL REFERENCES referrals(id),"
	" PRIMARY KEY (hash, referral_id));"
	"CREATE TABLE IF NOT EXISTS access_key_idents ("
	" key_id TEXT NOT NULL REFERENCES access_keys(id),"
	" hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),"
	" PRIMARY KEY (key_id, hash));";

static const char pg_v4_sql[] =
	"CREATE TABLE IF NOT EXISTS referrer_cases ("
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" alias TEXT NOT NULL,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" status BIGINT NOT NULL CHECK (status BETWEEN 0 AND 3),"
	" action BIGINT NOT NULL CHECK (action BETWEEN 0 AND 3),"
	" opened_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" decided_at BIGINT NOT NULL DEFAULT 0,"
	" deadline_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (principal, alias));"
	"CREATE INDEX IF NOT EXISTS referrer_cases_case"
	" ON referrer_cases(case_id);"
	"CREATE TABLE IF NOT EXISTS referrer_idents ("
	" principal TEXT NOT NULL,"
	" hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),"
	" alias TEXT NOT NULL,"
	" PRIMARY KEY (principal, hash));"
	"CREATE TABLE IF NOT EXISTS referrer_feed ("
	" principal TEXT NOT NULL,"
	" n BIGINT NOT NULL,"
	" alias TEXT NOT NULL,"
	" status BIGINT NOT NULL,"
	" action BIGINT NOT NULL,"
	" at BIGINT NOT NULL,"
	" PRIMARY KEY (principal, n));"
	"CREATE INDEX IF NOT EXISTS referral_subjects_first"
	" ON referral_subjects(first_case_id);";

static const char pg_v5_sql[] =
	"CREATE TABLE IF NOT EXISTS quota_days ("
	" principal TEXT NOT NULL REFERENCES principals(name),"
	" day BIGINT NOT NULL,"
	" referrals BIGINT NOT NULL,"
	" subjects BIGINT NOT NULL,"
	" bytes BIGINT NOT NULL,"
	" PRIMARY KEY (principal, day));";

static const char pg_v6_sql[] =
	"CREATE TABLE IF NOT EXISTS log_leaves ("
	" idx BIGINT PRIMARY KEY CHECK (idx >= 0),"
	" referral_id TEXT NOT NULL UNIQUE REFERENCES referrals(id),"
	" payload BYTEA NOT NULL);"
	"CREATE TABLE IF NOT EXISTS log_nodes ("
	" level BIGINT NOT NULL CHECK (level BETWEEN 0 AND 62),"
	" idx BIGINT NOT NULL CHECK (idx >= 0),"
	" hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),"
	" PRIMARY KEY (level, idx));"
	"CREATE TABLE IF NOT EXISTS log_checkpoints ("
	" size BIGINT PRIMARY KEY CHECK (size >= 0),"
	" root BYTEA NOT NULL CHECK (octet_length(root) = 32),"
	" at BIGINT NOT NULL,"
	" note TEXT NOT NULL);"
	"CREATE OR REPLACE TRIGGER log_leaves_append_only"
	" BEFORE UPDATE OR DELETE ON log_leaves"
	" FOR EACH ROW EXECUTE FUNCTION refgate_append_only();"
	"CREATE OR REPLACE TRIGGER log_nodes_append_only"
	" BEFORE UPDATE OR DELETE ON log_nodes"
	" FOR EACH ROW EXECUTE FUNCTION refgate_append_only();"
	"CREATE OR REPLACE TRIGGER log_checkpoints_append_only"
	" BEFORE UPDATE OR DELETE ON log_checkpoints"
	" FOR EACH ROW EXECUTE FUNCTION refgate_append_only();";

/* Version 7 on PostgreSQL: schema_v7_sql's columns, index and holds. */
static const char pg_v7_sql[] =
	"ALTER TABLE cases ADD COLUMN IF NOT EXISTS preserved_until BIGINT"
	" NOT NULL DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN IF NOT EXISTS purged_at BIGINT"
	" NOT NULL DEFAULT 0;"
	"ALTER TABLE referrals ADD COLUMN IF NOT EXISTS purged_at BIGINT"
	" NOT NULL DEFAULT 0;"
	"CREATE INDEX IF NOT EXISTS cases_retention ON cases(purged_at, decided_at);"
	"UPDATE cases SET preserved_until = decided_at + 15811200"
	" WHERE status = 2 AND EXISTS (SELECT 1 FROM referral_subjects s"
	"  JOIN referrals r ON r.id = s.referral_id"
	"  WHERE s.case_id = cases.id AND r.deadline_at > 0);";

/* Version 8 on PostgreSQL: schema_v8_sql's table. */
static const char pg_v8_sql[] =
	"CREATE TABLE IF NOT EXISTS case_claims ("
	" case_id TEXT PRIMARY KEY NOT NULL REFERENCES cases(id),"
	" reviewer TEXT NOT NULL REFERENCES principals(name),"
	" claimed_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL);";

/* Version 9 on PostgreSQL: schema_v9_sql's columns and table. */
static const char pg_v9_sql[] =
	"ALTER TABLE principals ADD COLUMN IF NOT EXISTS trusted_flagger BIGINT"
	" NOT NULL DEFAULT 0;"
	"ALTER TABLE decisions ADD COLUMN IF NOT EXISTS legal_ground TEXT;"
	"CREATE TABLE IF NOT EXISTS statements ("
	" seq BIGINT PRIMARY KEY CHECK (seq > 0),"
	" puid TEXT NOT NULL UNIQUE,"
	" case_id TEXT NOT NULL,"
	" decision_id BIGINT NOT NULL UNIQUE REFERENCES decisions(id),"
	" created_at BIGINT NOT NULL,"
	" exported_at BIGINT NOT NULL DEFAULT 0,"
	" body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS statements_pending"
	" ON statements(exported_at, seq);";

/* Version 10 on PostgreSQL: schema_v10_sql's tables; the cases status
 * check widened in place. */
static const char pg_v10_sql[] =
	"ALTER TABLE cases DROP CONSTRAINT IF EXISTS cases_status_check;"
	"ALTER TABLE cases ADD CONSTRAINT cases_status_check"
	" CHECK (status BETWEEN 0 AND 4);"
	"CREATE TABLE IF NOT EXISTS removal_orders ("
	" agency TEXT NOT NULL REFERENCES principals(name),"
	" reference TEXT NOT NULL,"
	" issuing_authority TEXT,"
	" issued_at BIGINT NOT NULL,"
	" received_at BIGINT NOT NULL,"
	" deadline_at BIGINT NOT NULL,"
	" status BIGINT NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 4),"
	" reason TEXT,"
	" preserved_until BIGINT NOT NULL DEFAULT 0,"
	" preservation_reason TEXT,"
	" notice_withheld_until BIGINT NOT NULL DEFAULT 0,"
	" withhold_extended BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (agency, reference));"
	"CREATE TABLE IF NOT EXISTS removal_order_referrals ("
	" referral_id TEXT PRIMARY KEY NOT NULL REFERENCES referrals(id),"
	" agency TEXT NOT NULL,"
	" reference TEXT NOT NULL,"
	" FOREIGN KEY (agency, reference)"
	"  REFERENCES removal_orders(agency, reference));"
	"CREATE INDEX IF NOT EXISTS removal_order_referrals_order"
	" ON removal_order_referrals(agency, reference);";

/*
 * The migration ladder: version v's step brings a database at v - 1 to
 * v, one text per engine (db.h's enum db_engine), run inside one
 * transaction with the version update. Adding version 10: write its SQLite
 * text (STRICT tables, INTEGER, BLOB) and its PostgreSQL text (BIGINT,
 * BYTEA, octet_length, an identity column where SQLite has an implicit
 * rowid the store orders by, refgate_append_only() triggers), add the row
 * { 10, { [DB_SQLITE] = ..., [DB_PG] = ... } }, raise SCHEMA_VERSION, and
 * name a new table in store_migrate.c's `tables` (after those it
 * references; refgatectl migrate refuses a file with a table it does not
 * know, and t_migrate fails); the store's own SQL must be the common
 * dialect (server/db.h). The static
 * assertion below keeps the ladder and the version in step.
 */
static const struct schema_step {
	int version;
	const char *sql[2];
} ladder[] = {
	{ 1, { [DB_SQLITE] = schema_sql, [DB_PG] = pg_v1_sql } },
	{ 2, { [DB_SQLITE] = schema_v2_sql, [DB_PG] = pg_v2_sql } },
	{ 3, { [DB_SQLITE] = schema_v3_sql, [DB_PG] = pg_v3_sql } },
	{ 4, { [DB_SQLITE] = schema_v4_sql, [DB_PG] = pg_v4_sql } },
	{ 5, { [DB_SQLITE] = schema_v5_sql, [DB_PG] = pg_v5_sql } },
	{ 6, { [DB_SQLITE] = schema_v6_sql, [DB_PG] = pg_v6_sql } },
	{ 7, { [DB_SQLITE] = schema_v7_sql, [DB_PG] = pg_v7_sql } },
	{ 8, { [DB_SQLITE] = schema_v8_sql, [DB_PG] = pg_v8_sql } },
	{ 9, { [DB_SQLITE] = schema_v9_sql, [DB_PG] = pg_v9_sql } },
	{ 10, { [DB_SQLITE] = schema_v10_sql, [DB_PG] = pg_v10_sql } },
};

_Static_assert(sizeof ladder / sizeof ladder[0] == SCHEMA_VERSION,
               "one ladder step per schema version");

void st_log(const char *func, const char *what)
{
	log_msg(LOG_ERROR, "store: %s: %s", func, what);
}

/* The slot of this SQL text in c's cache: where it is, or the empty slot
 * where it belongs, or -1 when the cache is full. */
static int slot_find(struct conn *c, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % CONN_SLOTS;
	for (size_t i = 0; i < CONN_SLOTS; i++) {
		size_t k = (h + i) % CONN_SLOTS;
		if (c->slot[k].sql == sql || c->slot[k].sql == NULL)
			return (int)k;
	}
	return -1;
}

/* Hands out the cached statement for sql (preparing it to be kept the
 * first time), or a temporary one when it is already in use higher up on
 * this thread or the cache is full. */
int sq_open(struct q *q, struct conn *c, const char *sql)
{
	*q = (struct q){ .c = c, .slot = -1 };
	int k = slot_find(c, sql);
	if (k >= 0 && c->slot[k].sql == sql && !c->slot[k].busy) {
		c->slot[k].busy = true;
		q->s = c->slot[k].stmt;
		q->slot = k;
		return RG_OK;
	}
	bool keep = k >= 0 && c->slot[k].sql == NULL;
	int rc = c->drv->prepare(c->db, sql, keep, &q->s);
	if (rc != RG_OK) {
		q->s = NULL;
		return q->rc = rc;
	}
	if (keep) {
		c->slot[k] = (struct stmt_slot){ .sql = sql, .stmt = q->s,
		                                 .busy = true };
		q->slot = k;
	}
	return RG_OK;
}

/* Resets a cached statement and clears its bindings, or finalizes a
 * temporary one. */
void sq_close(struct q *q)
{
	if (!q->s)
		return;
	if (q->slot >= 0) {
		q->c->drv->reset(q->s);
		q->c->slot[q->slot].busy = false;
	} else {
		q->c->drv->finalize(q->s);
	}
	q->s = NULL;
}

/* Keeps the first bind failure. */
void sq_text(struct q *q, int idx, const char *s)
{
	if (q->rc == RG_OK)
		q->rc = q->c->drv->bind_text(q->s, idx, s);
}

void sq_i64(struct q *q, int idx, int64_t v)
{
	if (q->rc == RG_OK)
		q->rc = q->c->drv->bind_i64(q->s, idx, v);
}

void sq_blob(struct q *q, int idx, const void *p, size_t n)
{
	if (q->rc == RG_OK)
		q->rc = q->c->drv->bind_blob(q->s, idx, p, n);
}

int sq_step(struct q *q)
{
	if (q->rc != RG_OK)
		return q->rc;
	int rc = q->c->drv->step(q->s);
	if (rc < 0)
		q->rc = rc;
	return rc;
}

int sq_exec(struct q *q)
{
	int rc = sq_step(q);
	if (rc == SQ_DONE)
		return RG_OK;
	if (rc == SQ_ROW) {
		st_log(__func__, "a statement returned a row");
		return q->rc = RG_EIO;
	}
	return rc;
}

int sq_run(struct conn *c, const char *sql)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc == RG_OK)
		rc = sq_exec(&q);
	sq_close(&q);
	return rc;
}

int64_t sq_changes(struct q *q)
{
	return q->s ? q->c->drv->changes(q->s) : 0;
}

int sq_col_str(struct q *q, int col, char *buf, size_t cap)
{
	size_t n = 0;
	const char *t = q->c->drv->col_text(q->s, col, &n);
	if (!t) {
		if (!q->c->drv->col_null(q->s, col))
			return RG_ENOMEM;
		n = 0;
	}
	if (n >= cap)
		return RG_EIO;
	if (n)
		memcpy(buf, t, n);
	buf[n] = '\0';
	return RG_OK;
}

int sq_col_32(struct q *q, int col, uint8_t out[32])
{
	size_t n = 0;
	const void *p = q->c->drv->col_blob(q->s, col, &n);
	if (!p || n != 32)
		return RG_EIO;
	memcpy(out, p, 32);
	return RG_OK;
}

int64_t sq_col_i64(struct q *q, int col)
{
	return q->c->drv->col_i64(q->s, col);
}

int sq_col_int(struct q *q, int col)
{
	int64_t v = q->c->drv->col_i64(q->s, col);
	return v < INT_MIN ? INT_MIN : v > INT_MAX ? INT_MAX : (int)v;
}

bool sq_col_null(struct q *q, int col)
{
	return q->c->drv->col_null(q->s, col);
}

const char *sq_col_text(struct q *q, int col)
{
	size_t n;
	return q->c->drv->col_text(q->s, col, &n);
}

const void *sq_col_blob(struct q *q, int col, size_t *n)
{
	return q->c->drv->col_blob(q->s, col, n);
}

int sq_step_i64(struct q *q, int64_t *out)
{
	int rc = sq_step(q);
	if (rc == SQ_ROW) {
		*out = sq_col_i64(q, 0);
		rc = RG_OK;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
	return rc;
}

int sq_one_i64(struct conn *c, const char *sql, const char *p1,
               int64_t *out)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc == RG_OK) {
		if (p1)
			sq_text(&q, 1, p1);
		rc = sq_step_i64(&q, out);
	}
	sq_close(&q);
	return rc;
}

int sq_read_begin(struct conn *c)
{
	if (c->depth++ > 0)
		return RG_OK;
	int rc = c->drv->begin(c->db, DB_TXN_READ);
	if (rc != RG_OK)
		c->depth = 0;
	return rc;
}

int sq_read_end(struct conn *c)
{
	if (c->depth <= 0 || --c->depth > 0)
		return RG_OK;
	int rc = c->drv->commit(c->db);
	if (rc != RG_OK)
		c->drv->rollback(c->db);
	return rc;
}

int64_t st_schema_version(void)
{
	return SCHEMA_VERSION;
}

int st_schema_steps(const struct db_driver *d, struct db *db, int64_t from)
{
	int rc = RG_OK;
	if (from < 0 || from > SCHEMA_VERSION) {
		st_log(__func__, "unknown schema version");
		return RG_EIO;
	}
	for (size_t i = 0; rc == RG_OK && i < sizeof ladder / sizeof *ladder;
	     i++)
		if (ladder[i].version > from)
			rc = d->script(db, ladder[i].sql[d->engine]);
	if (rc == RG_OK && from < SCHEMA_VERSION)
		rc = d->version_set(db, SCHEMA_VERSION);
	return rc;
}

/* Creates the schema in an empty database, or migrates an older version
 * step by step (in one transaction); refuses a newer version. */
static int db_schema(struct conn *c)
{
	const struct db_driver *d = c->drv;
	int64_t version = 0;
	int rc = d->begin(c->db, DB_TXN_SCHEMA);
	if (rc != RG_OK)
		return rc;
	rc = d->version_get(c->db, &version);
	if (rc == RG_OK)
		rc = st_schema_steps(d, c->db, version);
	if (rc == RG_OK)
		rc = d->commit(c->db);
	if (rc != RG_OK)
		d->rollback(c->db);
	return rc;
}

/* For a read-only store: the schema must be the one this build writes
 * (it migrates nothing, and would misread an older or newer one). */
static int db_schema_current(struct conn *c)
{
	int64_t version = 0;
	int rc = c->drv->begin(c->db, DB_TXN_READ);
	if (rc == RG_OK) {
		rc = c->drv->version_get(c->db, &version);
		c->drv->rollback(c->db);
	}
	if (rc == RG_OK && version != SCHEMA_VERSION) {
		st_log(__func__, version == 0 ? "no refgate schema"
		                              : "another schema version");
		rc = RG_EIO;
	}
	return rc;
}

int st_conn_open(struct store *st, bool writer, struct conn **out)
{
	struct db_params p = {
		.target = st->path,
		.writer = writer,
		.busy_timeout_ms = st->opts.busy_timeout_ms,
		.max_page_count = st->opts.max_page_count,
		.connect_timeout_s = st->opts.connect_timeout_s,
		.statement_timeout_s = st->opts.statement_timeout_s,
		.read_only = st->opts.read_only,
	};
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return RG_ENOMEM;
	c->st = st;
	c->drv = st->drv;
	int rc = c->drv->open(&p, &c->db);
	if (rc == RG_OK && writer)
		rc = db_schema(c);
	else if (rc == RG_OK && st->opts.read_only)
		rc = db_schema_current(c);
	if (rc != RG_OK) {
		st_conn_close(c);
		return rc;
	}
	*out = c;
	return RG_OK;
}

void st_conn_close(struct conn *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CONN_SLOTS; i++)
		c->drv->finalize(c->slot[i].stmt);
	if (c->db)
		c->drv->close(c->db);
	free(c);
}

int st_wal_truncate(struct store *st, bool *done)
{
	if (st->drv->engine != DB_SQLITE) {
		*done = true;        /* PostgreSQL: nothing of the kind to do */
		return RG_OK;
	}
	return db_sqlite_wal_truncate(st->path, st->opts.busy_timeout_ms, done);
}
