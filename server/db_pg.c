/*
 * db_pg.c - the PostgreSQL driver (db.h) over libpq. Each statement's
 * ?N placeholders become $N once; a statement the store keeps is prepared
 * on the server once per connection (again after a reconnect). Integers
 * travel as text, blobs as binary bytea; results come as text (bytea in
 * hex, decoded here). A lost connection is reconnected on the next use
 * outside a transaction, at most once a second; meanwhile every call
 * fails with RG_EIO, which the gateway answers 503 `unavailable`.
 *
 * Writers of every node serialise on one transaction-scoped advisory lock
 * taken first in each write transaction, so that deduplication, merges
 * and the audit chain see the state the previous writer committed, as
 * they do on one SQLite file.
 */
#include "db.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "../proto/rg.h"
#include "log.h"

/* pg_type OIDs (server/catalog/pg_type.h, stable since 8.x). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

#define MAX_PARAMS 64
/* The cluster-wide writer lock: an arbitrary constant ("refgate" in
 * ASCII), the same on every node. */
#define WRITER_LOCK "8241988512330741"
#define CHANNEL "refgate_changes"

struct db {
	PGconn *h;
	char *conninfo;
	unsigned gen;                /* bumped at each connect */
	unsigned names;              /* prepared statement names handed out */
	bool txn;                    /* begin succeeded, commit/rollback not
	                              * yet called */
	bool listening;              /* LISTEN wanted (re-issued on reconnect) */
	bool reader;                 /* default_transaction_read_only */
	int statement_timeout_s;     /* 0: none */
	struct timespec last_try;    /* last reconnect attempt */
};

struct db_stmt {
	struct db *d;
	const char *sql;
	char *text;                  /* with $N */
	int n;                       /* parameters */
	bool keep;
	char name[24];
	unsigned gen;                /* connection generation prepared in */
	Oid type[MAX_PARAMS];
	char *val[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	char num[MAX_PARAMS][24];    /* integer values' text */
	PGresult *res;
	int row, rows;
	int64_t changes;
	unsigned char **blob;        /* decoded bytea per column, this row */
	size_t *blen;
	int ncols;
};

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* A result's failure to rg_err, logged with the statement's text (never
 * a parameter). Out of disk -> RG_EFULL, out of memory -> RG_ENOMEM,
 * anything else (a lost server included) RG_EIO. */
static int fault(const char *func, struct db *d, const PGresult *r,
                 const char *sql)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	/* The primary message only: the DETAIL of a constraint violation
	 * quotes the row's values. */
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
	                    : NULL;
	if (!msg || !*msg)
		msg = d && d->h ? PQerrorMessage(d->h) : "no connection";
	log_msg(LOG_ERROR, "store: %s: postgresql %s: %.200s%s%.200s", func,
	        state ? state : "-", msg, sql ? ": " : "", sql ? sql : "");
	if (state && strcmp(state, "53100") == 0)
		return RG_EFULL;
	if (state && strcmp(state, "53200") == 0)
		return RG_ENOMEM;
	return RG_EIO;
}

/* Runs a statement without parameters; its rows are discarded. */
static int exec_simple(struct db *d, const char *sql)
{
	PGresult *r = PQexec(d->h, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
	         ? RG_OK : fault(__func__, d, r, sql);
	PQclear(r);
	return rc;
}

/* Session settings of every (re)made connection. */
static int session(struct db *d)
{
	PQsetNoticeProcessor(d->h, quiet, NULL);
	int rc = exec_simple(d, "SET client_min_messages = warning;"
	                        " SET TIME ZONE 'UTC'");
	if (rc == RG_OK && d->reader)
		rc = exec_simple(d, "SET default_transaction_read_only = on");
	if (rc == RG_OK && d->statement_timeout_s > 0) {
		char sql[64];
		snprintf(sql, sizeof sql, "SET statement_timeout = %d",
		         d->statement_timeout_s * 1000);
		rc = exec_simple(d, sql);
	}
	if (rc == RG_OK && d->listening)
		rc = exec_simple(d, "LISTEN " CHANNEL);
	return rc;
}

/* Makes the connection usable: reconnects a lost one, when outside a
 * transaction and not tried in the last second (unless fresh: the loss
 * was just found, so trying at once costs nothing). */
static int reconnect(struct db *d, bool fresh)
{
	if (d->h && PQstatus(d->h) == CONNECTION_OK)
		return RG_OK;
	if (d->txn)
		return RG_EIO;       /* the transaction is lost with it */
	if (!fresh && d->gen > 0 && ms_since(&d->last_try) < 1000)
		return RG_EIO;
	clock_gettime(CLOCK_MONOTONIC, &d->last_try);
	if (d->h)
		PQfinish(d->h);
	d->h = PQconnectdb(d->conninfo);
	if (!d->h)
		return RG_ENOMEM;
	d->gen++;                    /* statements prepared before are gone */
	if (PQstatus(d->h) != CONNECTION_OK) {
		log_msg(LOG_ERROR, "store: postgresql: cannot connect: %.200s",
		        PQerrorMessage(d->h));
		return RG_EIO;
	}
	int rc = session(d);
	if (rc != RG_OK) {
		PQfinish(d->h);
		d->h = NULL;
	}
	return rc;
}

static int ensure(struct db *d)
{
	return reconnect(d, false);
}

/* After a failure: true when it was the connection that was lost (an idle
 * connection learns that the server restarted only when it is used)
 * outside a transaction, and a new one is made, so the caller may try
 * once more. */
static bool lost_and_remade(struct db *d)
{
	if (!d->h || PQstatus(d->h) != CONNECTION_BAD || d->txn)
		return false;
	return reconnect(d, true) == RG_OK;
}

static void pg_close(struct db *d)
{
	if (!d)
		return;
	if (d->h)
		PQfinish(d->h);
	free(d->conninfo);
	free(d);
}

/* The connection string: the URI with connect_timeout appended when
 * set (a URI takes parameters after '?'). */
static char *conninfo_make(const struct db_params *p)
{
	size_t n = strlen(p->target) + 48;
	char *s = malloc(n);
	if (!s)
		return NULL;
	if (p->connect_timeout_s > 0)
		snprintf(s, n, "%s%cconnect_timeout=%d", p->target,
		         strchr(p->target, '?') ? '&' : '?',
		         p->connect_timeout_s);
	else
		snprintf(s, n, "%s", p->target);
	return s;
}

static int pg_open(const struct db_params *p, struct db **out)
{
	struct db *d = calloc(1, sizeof *d);
	if (!d)
		return RG_ENOMEM;
	d->reader = !p->writer;
	d->statement_timeout_s = p->statement_timeout_s;
	d->conninfo = conninfo_make(p);
	int rc = d->conninfo ? ensure(d) : RG_ENOMEM;
	if (rc != RG_OK) {
		pg_close(d);
		return rc;
	}
	*out = d;
	return RG_OK;
}

/* ?N -> $N (a bare ? takes the next number) outside quoted strings and
 * identifiers; *n is the highest parameter number. NULL when out of
 * memory or a number is over MAX_PARAMS (then *n is that number). */
static char *placeholders(const char *sql, int *n)
{
	size_t len = strlen(sql), marks = 0;
	for (const char *p = sql; *p; p++)
		marks += *p == '?';
	/* A bare '?' grows to at most "$64". */
	char *out = malloc(len + 2 * marks + 1);
	char quote = 0;
	int next = 1, max = 0;
	if (!out)
		return NULL;
	size_t o = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '?') {
			int k = 0;
			while (p[1] >= '0' && p[1] <= '9' && k < 1000)
				k = k * 10 + (*++p - '0');
			if (k == 0)
				k = next;
			if (k > MAX_PARAMS) {
				free(out);
				*n = k;
				return NULL;
			}
			next = k + 1;
			if (k > max)
				max = k;
			o += (size_t)sprintf(out + o, "$%d", k);
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	*n = max;
	return out;
}

static int pg_prepare(struct db *d, const char *sql, bool keep,
                      struct db_stmt **out)
{
	struct db_stmt *s = calloc(1, sizeof *s);
	if (!s)
		return RG_ENOMEM;
	s->d = d;
	s->sql = sql;
	s->keep = keep;
	int n = 0;
	s->text = placeholders(sql, &n);
	if (!s->text || n > MAX_PARAMS) {
		free(s->text);
		free(s);
		if (n > MAX_PARAMS)
			log_msg(LOG_ERROR, "store: %s: too many parameters: %.200s",
			        __func__, sql);
		return n > MAX_PARAMS ? RG_EIO : RG_ENOMEM;
	}
	s->n = n;
	snprintf(s->name, sizeof s->name, "rg%u", ++d->names);
	*out = s;
	return RG_OK;
}

static void blobs_free(struct db_stmt *s)
{
	for (int i = 0; s->blob && i < s->ncols; i++) {
		PQfreemem(s->blob[i]);
		s->blob[i] = NULL;
	}
}

static void result_drop(struct db_stmt *s)
{
	blobs_free(s);
	free(s->blob);
	free(s->blen);
	s->blob = NULL;
	s->blen = NULL;
	s->ncols = 0;
	PQclear(s->res);
	s->res = NULL;
	s->row = s->rows = 0;
}

static void pg_reset(struct db_stmt *s)
{
	result_drop(s);
	for (int i = 0; i < s->n; i++) {
		if (s->val[i] && s->val[i] != s->num[i])
			free(s->val[i]);
		s->val[i] = NULL;
		s->len[i] = 0;
		s->fmt[i] = 0;
		s->type[i] = 0;
	}
	s->changes = 0;
}

static void pg_finalize(struct db_stmt *s)
{
	if (!s)
		return;
	pg_reset(s);
	/* A prepared statement on the server dies with its connection;
	 * deallocating it would cost a round trip for nothing. */
	free(s->text);
	free(s);
}

static const char *pg_sql(const struct db_stmt *s)
{
	return s->sql;
}

static int param(struct db_stmt *s, int idx)
{
	if (idx < 1 || idx > s->n) {
		log_msg(LOG_ERROR, "store: db_bind: no parameter %d: %.200s",
		        idx, s->sql);
		return -1;
	}
	int i = idx - 1;
	if (s->val[i] && s->val[i] != s->num[i])
		free(s->val[i]);
	s->val[i] = NULL;
	return i;
}

static int pg_bind_text(struct db_stmt *s, int idx, const char *v)
{
	int i = param(s, idx);
	if (i < 0)
		return RG_EIO;
	s->type[i] = v ? OID_TEXT : 0;
	s->fmt[i] = 0;
	if (v && !(s->val[i] = strdup(v)))
		return RG_ENOMEM;
	return RG_OK;
}

static int pg_bind_i64(struct db_stmt *s, int idx, int64_t v)
{
	int i = param(s, idx);
	if (i < 0)
		return RG_EIO;
	snprintf(s->num[i], sizeof s->num[i], "%" PRId64, v);
	s->val[i] = s->num[i];
	s->type[i] = OID_INT8;
	s->fmt[i] = 0;
	return RG_OK;
}

static int pg_bind_blob(struct db_stmt *s, int idx, const void *p, size_t n)
{
	int i = param(s, idx);
	if (i < 0)
		return RG_EIO;
	if (n > INT32_MAX)
		return RG_ETOOBIG;
	s->val[i] = malloc(n ? n : 1);
	if (!s->val[i])
		return RG_ENOMEM;
	if (n)
		memcpy(s->val[i], p, n);
	s->len[i] = (int)n;
	s->fmt[i] = 1;
	s->type[i] = OID_BYTEA;
	return RG_OK;
}

static int execute_once(struct db_stmt *s);

/* Sends the statement with its parameters and keeps the result; once
 * more on a new connection when the old one turned out to be lost
 * (outside a transaction, where nothing else depended on it). */
static int execute(struct db_stmt *s)
{
	int rc = execute_once(s);
	if (rc == RG_EIO && lost_and_remade(s->d))
		rc = execute_once(s);
	return rc;
}

static int execute_once(struct db_stmt *s)
{
	struct db *d = s->d;
	int rc = ensure(d);
	if (rc != RG_OK)
		return rc;
	const char *const *vals = (const char *const *)s->val;
	PGresult *r;
	if (!s->keep) {
		r = PQexecParams(d->h, s->text, s->n, s->type, vals, s->len,
		                 s->fmt, 0);
	} else {
		if (s->gen != d->gen) {
			r = PQprepare(d->h, s->name, s->text, s->n, s->type);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				rc = fault(__func__, d, r, s->sql);
				PQclear(r);
				return rc;
			}
			PQclear(r);
			s->gen = d->gen;
		}
		r = PQexecPrepared(d->h, s->name, s->n, vals, s->len, s->fmt,
		                   0);
	}
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK) {
		s->res = r;
		s->rows = PQntuples(r);
		s->ncols = PQnfields(r);
		size_t k = (size_t)(s->ncols ? s->ncols : 1);
		s->blob = calloc(k, sizeof *s->blob);
		s->blen = calloc(k, sizeof *s->blen);
		s->row = -1;
		return s->blob && s->blen ? RG_OK : RG_ENOMEM;
	}
	if (st == PGRES_COMMAND_OK) {
		const char *t = PQcmdTuples(r);
		s->changes = t && *t ? strtoll(t, NULL, 10) : 0;
		PQclear(r);
		return RG_OK;
	}
	rc = fault(__func__, d, r, s->sql);
	PQclear(r);
	return rc;
}

static int pg_step(struct db_stmt *s)
{
	if (!s->res) {
		if (s->rows < 0)
			return DB_DONE;      /* a command already run */
		int rc = execute(s);
		if (rc != RG_OK)
			return rc;
		if (!s->res) {
			s->rows = -1;
			return DB_DONE;
		}
	}
	blobs_free(s);
	if (++s->row >= s->rows)
		return DB_DONE;
	return DB_ROW;
}

static bool pg_col_null(struct db_stmt *s, int col)
{
	return !s->res || col >= s->ncols ||
	       PQgetisnull(s->res, s->row, col);
}

static int64_t pg_col_i64(struct db_stmt *s, int col)
{
	if (pg_col_null(s, col))
		return 0;
	const char *v = PQgetvalue(s->res, s->row, col);
	if (PQftype(s->res, col) == OID_BOOL)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct db_stmt *s, int col, size_t *n)
{
	*n = 0;
	if (pg_col_null(s, col))
		return NULL;
	*n = (size_t)PQgetlength(s->res, s->row, col);
	return PQgetvalue(s->res, s->row, col);
}

static const void *pg_col_blob(struct db_stmt *s, int col, size_t *n)
{
	*n = 0;
	if (pg_col_null(s, col))
		return NULL;
	if (PQftype(s->res, col) != OID_BYTEA)
		return pg_col_text(s, col, n);
	if (!s->blob[col]) {
		size_t len = 0;
		s->blob[col] = PQunescapeBytea(
			(const unsigned char *)PQgetvalue(s->res, s->row, col),
			&len);
		if (!s->blob[col])
			return NULL;
		s->blen[col] = len;
	}
	*n = s->blen[col];
	return s->blob[col];
}

static int64_t pg_changes(struct db_stmt *s)
{
	return s->changes;
}

static int pg_begin(struct db *d, enum db_txn kind)
{
	int rc = ensure(d);
	if (rc != RG_OK)
		return rc;
	const char *sql = kind == DB_TXN_READ
	                  ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	                  : "BEGIN ISOLATION LEVEL READ COMMITTED;"
	                    " SELECT pg_advisory_xact_lock(" WRITER_LOCK ")";
	rc = exec_simple(d, sql);
	if (rc == RG_EIO && lost_and_remade(d))
		rc = exec_simple(d, sql);
	if (rc == RG_OK)
		d->txn = true;
	else if (PQtransactionStatus(d->h) != PQTRANS_IDLE &&
	         PQstatus(d->h) == CONNECTION_OK)
		(void)exec_simple(d, "ROLLBACK");
	return rc;
}

static bool pg_in_txn(struct db *d)
{
	if (!d->h || PQstatus(d->h) != CONNECTION_OK)
		return false;
	PGTransactionStatusType t = PQtransactionStatus(d->h);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

static int pg_commit(struct db *d)
{
	int rc = d->h ? exec_simple(d, "COMMIT") : RG_EIO;
	/* A COMMIT of a transaction in error answers ROLLBACK, no error. */
	if (rc == RG_OK && pg_in_txn(d))
		rc = RG_EIO;
	d->txn = pg_in_txn(d);
	return rc;
}

static void pg_rollback(struct db *d)
{
	if (pg_in_txn(d))
		(void)exec_simple(d, "ROLLBACK");
	d->txn = false;
}

static int pg_script(struct db *d, const char *sql)
{
	int rc = ensure(d);
	return rc == RG_OK ? exec_simple(d, sql) : rc;
}

/* The version lives in a one-row table refgate_schema; none yet is 0. */
static int pg_version_get(struct db *d, int64_t *out)
{
	PGresult *r = PQexec(d->h, "SELECT to_regclass('refgate_schema')"
	                           " IS NOT NULL");
	int rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
	         ? RG_OK : fault(__func__, d, r, "to_regclass");
	bool exists = rc == RG_OK && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	*out = 0;
	if (rc != RG_OK || !exists)
		return rc;
	r = PQexec(d->h, "SELECT max(version) FROM refgate_schema");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		rc = fault(__func__, d, r, "refgate_schema");
	else if (!PQgetisnull(r, 0, 0))
		*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

static int pg_version_set(struct db *d, int64_t v)
{
	char sql[160];
	snprintf(sql, sizeof sql,
	         "CREATE TABLE IF NOT EXISTS refgate_schema"
	         " (version BIGINT NOT NULL);"
	         " DELETE FROM refgate_schema;"
	         " INSERT INTO refgate_schema VALUES (%lld)", (long long)v);
	return exec_simple(d, sql);
}

static const char *pg_errmsg(struct db *d)
{
	const char *m = d && d->h ? PQerrorMessage(d->h) : NULL;
	return m ? m : "";
}

static int pg_notify(struct db *d, const char *tag)
{
	char sql[96];
	if (strspn(tag, "0123456789abcdef") != strlen(tag) || strlen(tag) > 32)
		return RG_EINVAL;
	snprintf(sql, sizeof sql, "NOTIFY " CHANNEL ", '%s'", tag);
	return exec_simple(d, sql);
}

/* Listens from now on, and again after every reconnect. */
static int pg_listen(struct db *d)
{
	d->listening = true;
	int rc = ensure(d);
	return rc == RG_OK ? exec_simple(d, "LISTEN " CHANNEL) : rc;
}

/* 1 when a notification came (all pending ones are consumed), or the
 * connection was just remade (whatever was sent meanwhile is lost, so the
 * caller must look again); 0 after timeout_ms without; RG_EIO when the
 * connection is lost (the next call tries again). */
static int pg_wait(struct db *d, int timeout_ms, const char *self)
{
	unsigned gen = d->gen;
	if (ensure(d) != RG_OK) {
		struct timespec ts = { timeout_ms / 1000,
		                       (timeout_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		return RG_EIO;
	}
	if (gen != d->gen)
		return 1;
	struct pollfd pfd = { .fd = PQsocket(d->h), .events = POLLIN };
	int n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : RG_EIO;
	if (n > 0 && !PQconsumeInput(d->h))
		return RG_EIO;
	int got = 0;
	PGnotify *nt;
	while ((nt = PQnotifies(d->h)) != NULL) {
		if (!nt->extra || strcmp(nt->extra, self) != 0)
			got = 1;
		PQfreemem(nt);
	}
	return PQstatus(d->h) == CONNECTION_OK ? got : RG_EIO;
}

const struct db_driver db_pg = {
	.engine = DB_PG,
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.prepare = pg_prepare,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.sql = pg_sql,
	.bind_text = pg_bind_text,
	.bind_i64 = pg_bind_i64,
	.bind_blob = pg_bind_blob,
	.step = pg_step,
	.col_null = pg_col_null,
	.col_i64 = pg_col_i64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.changes = pg_changes,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_txn = pg_in_txn,
	.script = pg_script,
	.version_get = pg_version_get,
	.version_set = pg_version_set,
	.errmsg = pg_errmsg,
	.notify = pg_notify,
	.listen = pg_listen,
	.wait = pg_wait,
};

bool db_is_pg(const char *target)
{
	return target && (strncmp(target, "postgresql://", 13) == 0 ||
	                  strncmp(target, "postgres://", 11) == 0);
}

const struct db_driver *db_driver_for(const char *target)
{
	return db_is_pg(target) ? &db_pg : &db_sqlite;
}
