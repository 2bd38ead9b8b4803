/*
 * store_migrate.c - moving a deployment (refgatectl migrate): a stopped
 * gateway's SQLite database copied into an empty PostgreSQL database.
 * The schema is made there by the ladder every store open uses
 * (st_schema_steps), then the tables of `tables` are copied in that order
 * (each references only tables before it), every column the SQLite file
 * declares, each value as read (ids, hashes, sealed content and the audit
 * chain byte for byte; SQLite's implicit rowid into the `rowid` identity
 * column PostgreSQL keeps for it). Row counts are compared, the identity
 * sequences moved past the copied rows, and all of it is one PostgreSQL
 * transaction. The SQLite file is locked exclusively from the first read
 * to the end (db_params.exclusive) and never written.
 */
#include "store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MIG_COLS 32                  /* columns of one table, at most */
#define MIG_NAME 64                  /* a table or column name, at most */
#define MIG_SQL ((MIG_COLS + 1) * (MIG_NAME + 8) + 512)

/* Every table of the schema, each after the tables it references. */
static const char *const tables[] = {
	"principals", "certs", "signing_keys", "cases", "case_aliases",
	"case_idents", "referrals", "referral_subjects", "decisions",
	"changes", "audit", "access_keys", "access_key_cases", "audit_heads",
	"referral_idents", "access_key_idents", "referrer_cases",
	"referrer_idents", "referrer_feed", "quota_days", "log_leaves",
	"log_nodes", "log_checkpoints", "case_claims", "statements",
};
#define N_TABLES (sizeof tables / sizeof tables[0])

enum col_type { COL_INT, COL_TEXT, COL_BLOB };

struct mig {
	struct db *src;                  /* db_sqlite, exclusive */
	struct db *dst;                  /* db_pg */
	struct store_migrate_result *r;
};

static int fail(struct mig *m, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets r->why (the first failure's only) and returns rc. */
static int fail(struct mig *m, int rc, const char *fmt, ...)
{
	if (!m->r->why[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->r->why, sizeof m->r->why, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A name fit to be written into SQL and messages: [a-z0-9_], 1 to
 * MIG_NAME characters. */
static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n <= MIG_NAME &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static bool table_known(const char *name)
{
	for (size_t i = 0; i < N_TABLES; i++)
		if (strcmp(tables[i], name) == 0)
			return true;
	return false;
}

/* Runs sql on d (with t1 as its text parameter ?1 when not NULL) and
 * reads the first column of its one row. */
static int one_i64(const struct db_driver *drv, struct db *d,
                   const char *sql, const char *t1, int64_t *out)
{
	struct db_stmt *s = NULL;
	int rc = drv->prepare(d, sql, false, &s);
	if (rc == RG_OK && t1)
		rc = drv->bind_text(s, 1, t1);
	if (rc == RG_OK)
		rc = drv->step(s);
	if (rc == DB_ROW) {
		*out = drv->col_i64(s, 0);
		rc = RG_OK;
	} else if (rc == DB_DONE) {
		rc = RG_EIO;
	}
	drv->finalize(s);
	return rc;
}

/* Opens the SQLite file alone and checks its schema: this build's
 * version, and no table but those of `tables` (all of them). */
static int src_open(struct mig *m, const char *from)
{
	const struct db_params p = {
		.target = from, .exclusive = true, .busy_timeout_ms = 0,
	};
	int64_t v = 0, n = 0;
	int rc = db_sqlite.open(&p, &m->src);
	if (rc == RG_ECONFLICT)
		return fail(m, rc, "the SQLite database is in use (a gateway "
		            "runs on it): stop the gateway first");
	if (rc != RG_OK)
		return fail(m, rc, "cannot open the SQLite database");
	if ((rc = db_sqlite.begin(m->src, DB_TXN_READ)) != RG_OK ||
	    (rc = db_sqlite.version_get(m->src, &v)) != RG_OK)
		return fail(m, rc, "cannot read the SQLite database");
	if (v != st_schema_version())
		return fail(m, RG_EINVAL, "the SQLite database is at schema "
		            "version %lld, this build writes %lld: %s",
		            (long long)v, (long long)st_schema_version(),
		            v == 0 ? "not a refgate database"
		                   : "start this version's gateway on it once "
		                     "(it migrates the file), stop it, then "
		                     "migrate");
	struct db_stmt *s = NULL;
	rc = db_sqlite.prepare(m->src, "SELECT name FROM sqlite_schema"
	                       " WHERE type = 'table'"
	                       " AND name NOT LIKE 'sqlite!_%' ESCAPE '!'",
	                       false, &s);
	while (rc == RG_OK && (rc = db_sqlite.step(s)) == DB_ROW) {
		size_t len;
		const char *name = db_sqlite.col_text(s, 0, &len);
		rc = RG_OK;
		n++;
		if (!name || !table_known(name))
			rc = fail(m, RG_EINVAL, "the SQLite database holds a "
			          "table this build does not know (%s)",
			          name_ok(name) ? name : "unprintable name");
	}
	db_sqlite.finalize(s);
	if (rc == DB_DONE && n != (int64_t)N_TABLES)
		rc = fail(m, RG_EINVAL, "the SQLite database holds %lld of "
		          "the schema's %zu tables", (long long)n, N_TABLES);
	return rc == DB_DONE ? RG_OK
	                     : fail(m, rc, "cannot read the SQLite schema");
}

/* Connects to PostgreSQL, opens the one transaction and checks that the
 * current schema holds nothing: no table, sequence or view of anyone. */
static int dst_open(struct mig *m, const char *to, int connect_timeout_s)
{
	const struct db_params p = {
		.target = to, .writer = true,
		.connect_timeout_s = connect_timeout_s,
	};
	int64_t n = 0;
	int rc = db_pg.open(&p, &m->dst);
	if (rc != RG_OK)
		return fail(m, rc, "cannot connect to the PostgreSQL database");
	if ((rc = db_pg.begin(m->dst, DB_TXN_SCHEMA)) != RG_OK)
		return fail(m, rc, "cannot begin a transaction in PostgreSQL");
	rc = one_i64(&db_pg, m->dst, "SELECT count(*) FROM pg_catalog.pg_class c"
	             " JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace"
	             " WHERE s.nspname = current_schema()"
	             " AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')",
	             NULL, &n);
	if (rc != RG_OK)
		return fail(m, rc, "cannot list the PostgreSQL database's tables");
	if (n > 0)
		return fail(m, RG_EEXIST, "the PostgreSQL database is not empty "
		            "(%lld tables, sequences or views in its schema): "
		            "migrate only into a new, empty database",
		            (long long)n);
	rc = st_schema_steps(&db_pg, m->dst, 0);
	return rc == RG_OK ? RG_OK
	                   : fail(m, rc, "cannot create the schema in "
	                          "PostgreSQL");
}

/* One table's columns: as the SQLite file declares them (each must be a
 * column of the PostgreSQL table), and SQLite's rowid when PostgreSQL
 * has a `rowid` column for it. */
struct cols {
	size_t n;
	char name[MIG_COLS + 1][MIG_NAME + 1];
	enum col_type type[MIG_COLS + 1];
};

static int pg_has_column(struct mig *m, const char *table, const char *col,
                         bool *yes)
{
	char sql[256];
	int64_t n = 0;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM information_schema."
	         "columns WHERE table_schema = current_schema()"
	         " AND table_name = '%s' AND column_name = ?1", table);
	int rc = one_i64(&db_pg, m->dst, sql, col, &n);
	*yes = n == 1;
	return rc;
}

static int cols_read(struct mig *m, const char *table, struct cols *c)
{
	struct db_stmt *s = NULL;
	bool there = false;
	int rc = db_sqlite.prepare(m->src, "SELECT name, upper(type) FROM"
	                           " pragma_table_info(?1) ORDER BY cid",
	                           false, &s);
	if (rc == RG_OK)
		rc = db_sqlite.bind_text(s, 1, table);
	c->n = 0;
	while (rc == RG_OK && (rc = db_sqlite.step(s)) == DB_ROW) {
		size_t len;
		const char *name = db_sqlite.col_text(s, 0, &len);
		const char *type = db_sqlite.col_text(s, 1, &len);
		rc = RG_OK;
		if (c->n == MIG_COLS || !name_ok(name) || !type) {
			rc = fail(m, RG_EINVAL, "table %s: too many columns or "
			          "an unexpected column name", table);
			break;
		}
		snprintf(c->name[c->n], sizeof c->name[0], "%s", name);
		if (strcmp(type, "INTEGER") == 0)
			c->type[c->n] = COL_INT;
		else if (strcmp(type, "TEXT") == 0)
			c->type[c->n] = COL_TEXT;
		else if (strcmp(type, "BLOB") == 0)
			c->type[c->n] = COL_BLOB;
		else
			rc = fail(m, RG_EINVAL, "%s.%s: unexpected type", table,
			          name);
		if (rc == RG_OK && (rc = pg_has_column(m, table, name, &there))
		    == RG_OK && !there)
			rc = fail(m, RG_EINVAL, "%s.%s: no such column in the "
			          "schema made in PostgreSQL", table, name);
		c->n++;
	}
	db_sqlite.finalize(s);
	if (rc != DB_DONE)
		return fail(m, rc < 0 ? rc : RG_EIO, "table %s: cannot read its "
		            "columns", table);
	if (c->n == 0)
		return fail(m, RG_EINVAL, "table %s: no columns", table);
	if ((rc = pg_has_column(m, table, "rowid", &there)) != RG_OK)
		return fail(m, rc, "table %s: cannot read its columns", table);
	if (there) {
		snprintf(c->name[c->n], sizeof c->name[0], "rowid");
		c->type[c->n++] = COL_INT;
	}
	return RG_OK;
}

/* "SELECT a, b FROM t" and "INSERT INTO t (a, b) OVERRIDING SYSTEM VALUE
 * VALUES (?1, ?2)": the values of identity columns are the copied ones. */
static void sql_make(const char *table, const struct cols *c,
                     char sel[MIG_SQL], char ins[MIG_SQL])
{
	size_t a = (size_t)snprintf(sel, MIG_SQL, "SELECT ");
	size_t b = (size_t)snprintf(ins, MIG_SQL, "INSERT INTO %s (", table);
	for (size_t i = 0; i < c->n; i++) {
		a += (size_t)snprintf(sel + a, MIG_SQL - a, "%s%s",
		                      i ? ", " : "", c->name[i]);
		b += (size_t)snprintf(ins + b, MIG_SQL - b, "%s%s",
		                      i ? ", " : "", c->name[i]);
	}
	snprintf(sel + a, MIG_SQL - a, " FROM %s", table);
	b += (size_t)snprintf(ins + b, MIG_SQL - b,
	                      ") OVERRIDING SYSTEM VALUE VALUES (");
	for (size_t i = 0; i < c->n; i++)
		b += (size_t)snprintf(ins + b, MIG_SQL - b, "%s?%zu",
		                      i ? ", " : "", i + 1);
	snprintf(ins + b, MIG_SQL - b, ")");
}

/* Binds the current source row's columns to the insert. */
static int row_bind(struct db_stmt *from, struct db_stmt *to,
                    const struct cols *c)
{
	int rc = RG_OK;
	for (size_t i = 0; rc == RG_OK && i < c->n; i++) {
		int k = (int)i, idx = (int)i + 1;
		size_t len = 0;
		if (db_sqlite.col_null(from, k)) {
			rc = db_pg.bind_text(to, idx, NULL);
		} else if (c->type[i] == COL_INT) {
			rc = db_pg.bind_i64(to, idx, db_sqlite.col_i64(from, k));
		} else if (c->type[i] == COL_TEXT) {
			const char *t = db_sqlite.col_text(from, k, &len);
			rc = t ? db_pg.bind_text(to, idx, t) : RG_ENOMEM;
		} else {
			const void *p = db_sqlite.col_blob(from, k, &len);
			rc = db_pg.bind_blob(to, idx, p, len);
		}
	}
	return rc;
}

/* Copies one table and checks that PostgreSQL holds as many rows. */
static int table_copy(struct mig *m, const char *table)
{
	struct cols c;
	char sel[MIG_SQL], ins[MIG_SQL], cnt[128];
	struct db_stmt *from = NULL, *to = NULL;
	int64_t n = 0, there = -1;
	int rc = cols_read(m, table, &c);
	if (rc != RG_OK)
		return rc;
	sql_make(table, &c, sel, ins);
	if ((rc = db_sqlite.prepare(m->src, sel, false, &from)) == RG_OK)
		rc = db_pg.prepare(m->dst, ins, true, &to);
	while (rc == RG_OK && (rc = db_sqlite.step(from)) == DB_ROW) {
		db_pg.reset(to);
		if ((rc = row_bind(from, to, &c)) == RG_OK &&
		    (rc = db_pg.step(to)) == DB_DONE)
			rc = RG_OK;
		n++;
	}
	db_sqlite.finalize(from);
	db_pg.finalize(to);
	if (rc != DB_DONE)
		return fail(m, rc < 0 ? rc : RG_EIO, "table %s: copying row "
		            "%lld failed", table, (long long)n);
	snprintf(cnt, sizeof cnt, "SELECT count(*) FROM %s", table);
	if ((rc = one_i64(&db_pg, m->dst, cnt, NULL, &there)) != RG_OK)
		return fail(m, rc, "table %s: cannot count its rows", table);
	if (there != n)
		return fail(m, RG_EIO, "table %s: %lld rows read, %lld in "
		            "PostgreSQL", table, (long long)n, (long long)there);
	m->r->rows += n;
	m->r->tables++;
	return RG_OK;
}

/* Moves one identity sequence past the copied values and past SQLite's
 * AUTOINCREMENT high-water mark of the table (sqlite_sequence keeps the
 * largest value ever used, deleted rows' included). */
static int sequence_continue(struct mig *m, const char *table,
                             const char *col)
{
	char sql[512];
	struct db_stmt *s = NULL;
	int64_t floor = 0;
	int rc = one_i64(&db_sqlite, m->src, "SELECT coalesce(max(seq), 0)"
	                 " FROM sqlite_sequence WHERE name = ?1", table,
	                 &floor);
	if (rc != RG_OK)
		return rc;
	snprintf(sql, sizeof sql,
	         "SELECT setval(pg_get_serial_sequence('%s', '%s'),"
	         " GREATEST(coalesce(max(%s), 0), ?1, 1),"
	         " GREATEST(coalesce(max(%s), 0), ?1) > 0) FROM %s",
	         table, col, col, col, table);
	if ((rc = db_pg.prepare(m->dst, sql, false, &s)) == RG_OK &&
	    (rc = db_pg.bind_i64(s, 1, floor)) == RG_OK)
		rc = db_pg.step(s) == DB_ROW ? RG_OK : RG_EIO;
	db_pg.finalize(s);
	return rc;
}

/* Every identity column of the schema made in PostgreSQL. */
static int sequences_continue(struct mig *m)
{
	struct db_stmt *s = NULL;
	int rc = db_pg.prepare(m->dst, "SELECT table_name, column_name FROM"
	                       " information_schema.columns WHERE table_schema"
	                       " = current_schema() AND is_identity = 'YES'",
	                       false, &s);
	while (rc == RG_OK && (rc = db_pg.step(s)) == DB_ROW) {
		size_t len;
		char table[MIG_NAME + 1], col[MIG_NAME + 1];
		const char *t = db_pg.col_text(s, 0, &len);
		const char *c = db_pg.col_text(s, 1, &len);
		rc = RG_OK;
		if (!name_ok(t) || !name_ok(c) || !table_known(t)) {
			rc = RG_EIO;
			break;
		}
		snprintf(table, sizeof table, "%s", t);
		snprintf(col, sizeof col, "%s", c);
		rc = sequence_continue(m, table, col);
	}
	db_pg.finalize(s);
	return rc == DB_DONE ? RG_OK
	                     : fail(m, rc < 0 ? rc : RG_EIO, "cannot set the "
	                            "identity sequences in PostgreSQL");
}

int store_migrate(const char *from, const char *to, int connect_timeout_s,
                  struct store_migrate_result *r)
{
	struct mig m = { .r = r };
	memset(r, 0, sizeof *r);
	int rc = src_open(&m, from);
	if (rc == RG_OK)
		rc = dst_open(&m, to, connect_timeout_s);
	for (size_t i = 0; rc == RG_OK && i < N_TABLES; i++)
		rc = table_copy(&m, tables[i]);
	if (rc == RG_OK)
		rc = sequences_continue(&m);
	if (rc == RG_OK && (rc = db_pg.commit(m.dst)) != RG_OK)
		fail(&m, rc, "the PostgreSQL transaction did not commit");
	if (rc == RG_OK)
		r->version = st_schema_version();
	if (m.dst) {
		db_pg.rollback(m.dst);   /* after a failure: nothing stays */
		db_pg.close(m.dst);
	}
	if (m.src) {
		db_sqlite.rollback(m.src);
		db_sqlite.close(m.src);
	}
	return rc;
}
