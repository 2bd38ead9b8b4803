/*
 * store_schema.c - SQLite plumbing under the store: opening a connection
 * with refgate's pragmas, the schema (version 6, migrated from 1 to 5), the
 * per-connection cache of prepared statements with checked binds, and
 * SQLite result codes mapped to rg_err.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define SCHEMA_VERSION 6
#define XSTR(x) STR(x)
#define STR(x) #x
#define SQLITE_MIN_VERSION 3037000   /* STRICT tables */

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

int st_rc(int sqlite_rc)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_OK: return RG_OK;
	case SQLITE_FULL: return RG_EFULL;
	case SQLITE_NOMEM: return RG_ENOMEM;
	default: return RG_EIO;
	}
}

void st_log(const char *func, struct conn *c, int sqlite_rc, const char *sql)
{
	const char *msg = c && c->db ? sqlite3_errmsg(c->db)
	                             : sqlite3_errstr(sqlite_rc);
	log_msg(LOG_ERROR, "store: %s: sqlite %d: %s%s%.200s", func, sqlite_rc,
	        msg ? msg : "", sql ? ": " : "", sql ? sql : "");
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

/* Hands out the cached statement for sql (preparing it persistently the
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
	int rc = sqlite3_prepare_v3(c->db, sql, -1,
	                            keep ? SQLITE_PREPARE_PERSISTENT : 0,
	                            &q->s, NULL);
	if (rc != SQLITE_OK || !q->s) {
		st_log(__func__, c, rc, sql);
		sqlite3_finalize(q->s);
		q->s = NULL;
		return q->rc = rc != SQLITE_OK ? st_rc(rc) : RG_EIO;
	}
	if (keep) {
		c->slot[k] = (struct stmt_slot){ .sql = sql, .stmt = q->s,
		                                 .busy = true };
		q->slot = k;
	}
	return RG_OK;
}

/* Resets a cached statement and clears its bindings, or finalizes a
 * temporary one. The reset's result only repeats the last step's, which
 * sq_step already reported. */
void sq_close(struct q *q)
{
	if (!q->s)
		return;
	if (q->slot >= 0) {
		(void)sqlite3_reset(q->s);
		(void)sqlite3_clear_bindings(q->s);
		q->c->slot[q->slot].busy = false;
	} else {
		(void)sqlite3_finalize(q->s);
	}
	q->s = NULL;
}

/* Keeps the first bind failure. */
static void bind_check(struct q *q, int rc)
{
	if (rc != SQLITE_OK && q->rc == RG_OK) {
		st_log("sq_bind", q->c, rc, q->s ? sqlite3_sql(q->s) : NULL);
		q->rc = st_rc(rc);
	}
}

void sq_text(struct q *q, int idx, const char *s)
{
	if (q->rc != RG_OK)
		return;
	bind_check(q, s ? sqlite3_bind_text(q->s, idx, s, -1, SQLITE_TRANSIENT)
	                : sqlite3_bind_null(q->s, idx));
}

void sq_i64(struct q *q, int idx, int64_t v)
{
	if (q->rc != RG_OK)
		return;
	bind_check(q, sqlite3_bind_int64(q->s, idx, v));
}

void sq_blob(struct q *q, int idx, const void *p, size_t n)
{
	if (q->rc != RG_OK)
		return;
	if (n == 0)
		bind_check(q, sqlite3_bind_zeroblob(q->s, idx, 0));
	else
		bind_check(q, sqlite3_bind_blob64(q->s, idx, p, n,
		                                  SQLITE_TRANSIENT));
}

int sq_step(struct q *q)
{
	if (q->rc != RG_OK)
		return q->rc;
	int rc = sqlite3_step(q->s);
	if (rc == SQLITE_ROW)
		return SQ_ROW;
	if (rc == SQLITE_DONE)
		return SQ_DONE;
	st_log(__func__, q->c, rc, sqlite3_sql(q->s));
	return q->rc = st_rc(rc);
}

int sq_exec(struct q *q)
{
	int rc = sq_step(q);
	if (rc == SQ_DONE)
		return RG_OK;
	if (rc == SQ_ROW) {
		st_log(__func__, q->c, SQLITE_MISUSE, sqlite3_sql(q->s));
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

int sq_col_str(struct q *q, int col, char *buf, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(q->s, col);
	int n = sqlite3_column_bytes(q->s, col);
	if (!t) {
		if (sqlite3_column_type(q->s, col) != SQLITE_NULL)
			return RG_ENOMEM;
		n = 0;
	}
	if (n < 0 || (size_t)n >= cap)
		return RG_EIO;
	if (n)
		memcpy(buf, t, (size_t)n);
	buf[n] = '\0';
	return RG_OK;
}

int sq_col_32(struct q *q, int col, uint8_t out[32])
{
	const void *p = sqlite3_column_blob(q->s, col);
	if (!p || sqlite3_column_bytes(q->s, col) != 32)
		return RG_EIO;
	memcpy(out, p, 32);
	return RG_OK;
}

int sq_read_begin(struct conn *c)
{
	if (c->depth++ > 0)
		return RG_OK;
	int rc = sq_run(c, "BEGIN");
	if (rc != RG_OK)
		c->depth = 0;
	return rc;
}

int sq_read_end(struct conn *c)
{
	if (c->depth <= 0 || --c->depth > 0)
		return RG_OK;
	int rc = sq_run(c, "COMMIT");
	if (rc != RG_OK && !sqlite3_get_autocommit(c->db))
		(void)sq_run(c, "ROLLBACK");
	return rc;
}

/* Runs a script (pragmas, DDL); rows are discarded. */
static int db_exec(struct conn *c, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &err);
	sqlite3_free(err);
	if (rc != SQLITE_OK) {
		st_log(__func__, c, rc, NULL);
		return st_rc(rc);
	}
	return RG_OK;
}

/* Reads an integer pragma (user_version, ...). */
static int db_pragma_int(struct conn *c, const char *sql, int64_t *out)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc != RG_OK)
		goto out;
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		*out = sqlite3_column_int64(q.s, 0);
		rc = RG_OK;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
out:
	sq_close(&q);
	return rc;
}

/* Switches the file to WAL (a persistent setting) and checks it took. */
static int db_wal(struct conn *c)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "PRAGMA journal_mode=WAL");
	if (rc != RG_OK)
		goto out;
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		const unsigned char *mode = sqlite3_column_text(q.s, 0);
		rc = mode && strcmp((const char *)mode, "wal") == 0 ? RG_OK
		                                                    : RG_EIO;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
	if (rc != RG_OK)
		st_log(__func__, c, SQLITE_ERROR, "PRAGMA journal_mode=WAL");
out:
	sq_close(&q);
	return rc;
}

/* Creates the schema when the file is new, migrates a version 1 to 5
 * file to 6 (in one transaction); refuses a newer version. */
static int db_schema(struct conn *c)
{
	int64_t version = 0;
	int rc = sq_run(c, "BEGIN IMMEDIATE");
	if (rc != RG_OK)
		return rc;
	rc = db_pragma_int(c, "PRAGMA user_version", &version);
	if (rc != RG_OK)
		goto out;
	if (version == 0) {
		rc = db_exec(c, schema_sql);
	} else if (version < 1 || version > SCHEMA_VERSION) {
		st_log(__func__, c, SQLITE_ERROR, "unknown schema version");
		rc = RG_EIO;
	}
	if (rc == RG_OK && version < 2)
		rc = db_exec(c, schema_v2_sql);
	if (rc == RG_OK && version < 3)
		rc = db_exec(c, schema_v3_sql);
	if (rc == RG_OK && version < 4)
		rc = db_exec(c, schema_v4_sql);
	if (rc == RG_OK && version < 5)
		rc = db_exec(c, schema_v5_sql);
	if (rc == RG_OK && version < 6)
		rc = db_exec(c, schema_v6_sql);
	if (rc == RG_OK && version < SCHEMA_VERSION)
		rc = db_exec(c, "PRAGMA user_version = "
		                XSTR(SCHEMA_VERSION));
	if (rc == RG_OK)
		rc = sq_run(c, "COMMIT");
out:
	if (rc != RG_OK && !sqlite3_get_autocommit(c->db))
		(void)sq_run(c, "ROLLBACK");
	return rc;
}

/* Connection settings every connection gets. */
static int db_configure(struct conn *c, const struct store_opts *o,
                        bool writer)
{
	char sql[64];
	int rc = sqlite3_extended_result_codes(c->db, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(c->db, o->busy_timeout_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
		                       NULL);
	if (rc != SQLITE_OK) {
		st_log(__func__, c, rc, NULL);
		return st_rc(rc);
	}
	/* temp_store: statement journals (a savepoint per referral) and
	 * sorts stay in memory, no temporary file made and unlinked per job. */
	rc = db_exec(c, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
	                " PRAGMA temp_store = MEMORY;");
	if (rc == RG_OK && o->max_page_count > 0) {
		snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld",
		         (long long)o->max_page_count);
		rc = db_exec(c, sql);
	}
	if (rc == RG_OK && writer)
		rc = db_wal(c);
	if (rc == RG_OK && !writer)
		rc = db_exec(c, "PRAGMA query_only = ON");
	return rc;
}

/* Creates the database file 0600 when it does not exist (SQLite would
 * use 0644; its -wal and -shm files copy the database file's mode). */
static int file_create(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_msg(LOG_ERROR, "store: %s: %s", __func__, strerror(errno));
		return RG_EIO;
	}
	close(fd);
	return RG_OK;
}

int st_conn_open(struct store *st, bool writer, struct conn **out)
{
	struct conn *c = NULL;
	int rc;
	if (sqlite3_libversion_number() < SQLITE_MIN_VERSION) {
		st_log(__func__, NULL, SQLITE_ERROR, "SQLite too old");
		return RG_EIO;
	}
	if (writer && (rc = file_create(st->path)) != RG_OK)
		return rc;
	c = calloc(1, sizeof *c);
	if (!c)
		return RG_ENOMEM;
	c->st = st;
	rc = sqlite3_open_v2(st->path, &c->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	                     SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
	                     NULL);
	if (rc != SQLITE_OK) {
		st_log(__func__, c, rc, NULL);
		rc = st_rc(rc);
		goto out;
	}
	rc = db_configure(c, &st->opts, writer);
	if (rc == RG_OK && writer)
		rc = db_schema(c);
out:
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
		(void)sqlite3_finalize(c->slot[i].stmt);
	/* Every statement is finalized, so close cannot be refused as busy;
	 * a failure here has nothing left to undo. */
	int rc = sqlite3_close(c->db);
	if (rc != SQLITE_OK)
		st_log(__func__, NULL, rc, NULL);
	free(c);
}
