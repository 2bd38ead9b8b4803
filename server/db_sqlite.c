/*
 * db_sqlite.c - the SQLite driver (db.h): one file in WAL mode,
 * synchronous=FULL, foreign keys on, defensive; readers query_only. The
 * file is created 0600. The schema version is PRAGMA user_version.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../proto/rg.h"
#include "log.h"
#include "db_sqlite_ckpt.h"

#define SQLITE_MIN_VERSION 3037000   /* STRICT tables */

/* The WAL is checkpointed into the database file once it holds this
 * many pages (SQLite's default: 1000), by a thread of its own
 * (db_sqlite_ckpt.c) rather than in a commit that referrals wait on; the
 * WAL starts over by the time it holds four times as many (128 MiB).
 * The tails of the append-only tables are rewritten by every commit: a
 * longer WAL copies each such page back once per checkpoint instead of
 * once per 1000 pages (docs/operators.md section 9b). */
#define WAL_AUTOCHECKPOINT_PAGES 8192

/* The writer's page cache, KiB (SQLite's default: 2000). A referral
 * descends about a dozen B-trees keyed by random ids and hashes; with
 * the default, once the file outgrew it, most descents read their leaf
 * back from the file (a pread each). 32 MiB holds the whole file up to
 * roughly 15,000 referrals and the hot upper levels of every index well
 * past that; it is memory the daemon keeps once a busy store filled it. */
#define WRITER_CACHE_KIB 32768

struct db {
	sqlite3 *h;
	struct sqlite_ckpt *ckpt;    /* the writer's checkpoint thread */
};

struct db_stmt {
	struct db *d;
	sqlite3_stmt *s;
};

/* SQLite result code to rg_err: SQLITE_FULL -> RG_EFULL, SQLITE_NOMEM ->
 * RG_ENOMEM, anything else RG_EIO. */
static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: return RG_OK;
	case SQLITE_FULL: return RG_EFULL;
	case SQLITE_NOMEM: return RG_ENOMEM;
	default: return RG_EIO;
	}
}

/* One line about a fault: the statement text and SQLite's message, never
 * a parameter. */
static int fault(const char *func, struct db *d, int rc, const char *sql)
{
	const char *msg = d && d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc);
	log_msg(LOG_ERROR, "store: %s: sqlite %d: %s%s%.200s", func, rc,
	        msg ? msg : "", sql ? ": " : "", sql ? sql : "");
	return map_rc(rc);
}

static int sl_script(struct db *d, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(d->h, sql, NULL, NULL, &err);
	sqlite3_free(err);
	return rc == SQLITE_OK ? RG_OK : fault(__func__, d, rc, NULL);
}

/* Reads one integer (a pragma). */
static int one_int(struct db *d, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(d->h, sql, -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_ERROR;
	}
	int ret = rc == SQLITE_OK ? RG_OK : fault(__func__, d, rc, sql);
	sqlite3_finalize(s);
	return ret;
}

/* Switches the file to WAL (a persistent setting) and checks it took. */
static int wal_on(struct db *d)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(d->h, "PRAGMA journal_mode=WAL", -1, &s,
	                            NULL);
	bool ok = rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW;
	const unsigned char *mode = ok ? sqlite3_column_text(s, 0) : NULL;
	ok = mode && strcmp((const char *)mode, "wal") == 0;
	sqlite3_finalize(s);
	if (!ok) {
		fault(__func__, d, SQLITE_ERROR, "PRAGMA journal_mode=WAL");
		return RG_EIO;
	}
	return RG_OK;
}

static int configure(struct db *d, const struct db_params *p)
{
	char sql[96];
	int rc = sqlite3_extended_result_codes(d->h, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(d->h, p->busy_timeout_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(d->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(d->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
		                       NULL);
	if (rc != SQLITE_OK)
		return fault(__func__, d, rc, NULL);
	/* temp_store: statement journals (a savepoint per referral) and
	 * sorts stay in memory, no temporary file made and unlinked per job. */
	int ret = sl_script(d, "PRAGMA foreign_keys = ON;"
	                       " PRAGMA synchronous = FULL;"
	                       " PRAGMA temp_store = MEMORY;");
	if (ret == RG_OK && p->max_page_count > 0) {
		snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld",
		         (long long)p->max_page_count);
		ret = sl_script(d, sql);
	}
	/* Deleted and overwritten content is zeroed in its page (and freed
	 * pages wholly), so that what retention erases leaves the file at
	 * the next checkpoint (st_wal_truncate). */
	if (ret == RG_OK && p->writer)
		ret = sl_script(d, "PRAGMA secure_delete = ON;");
	if (ret == RG_OK && p->writer)
		ret = wal_on(d);
	if (ret == RG_OK && p->writer) {
		snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint = %d;"
		         " PRAGMA cache_size = -%d", WAL_AUTOCHECKPOINT_PAGES,
		         WRITER_CACHE_KIB);
		ret = sl_script(d, sql);
	}
	if (ret == RG_OK && !p->writer)
		ret = sl_script(d, "PRAGMA query_only = ON");
	return ret;
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

/* Locks the file for this connection until it closes: locking_mode
 * EXCLUSIVE, set before the first read, makes a WAL connection take the
 * database file's exclusive lock at that read and keep it. Every other WAL
 * connection holds a shared lock on the file for as long as it is open,
 * so the lock is refused (at once: no busy wait) while a gateway has the
 * file open, and a gateway started meanwhile cannot open it. No checkpoint
 * at close either: the connection (refgatectl migrate's) leaves the file
 * and its WAL as it found them. */
static int exclusive_take(struct db *d)
{
	int rc = sqlite3_busy_timeout(d->h, 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(d->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
		                       NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(d->h, "PRAGMA locking_mode = EXCLUSIVE;"
		                  " SELECT count(*) FROM sqlite_schema",
		                  NULL, NULL, NULL);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return RG_ECONFLICT;
	return rc == SQLITE_OK ? RG_OK : fault(__func__, d, rc, NULL);
}

static void sl_close(struct db *d)
{
	if (!d)
		return;
	sqlite_ckpt_stop(d->ckpt);
	/* Every statement is finalized, so close cannot be refused as busy;
	 * a failure here has nothing left to undo. */
	int rc = sqlite3_close(d->h);
	if (rc != SQLITE_OK)
		fault(__func__, NULL, rc, NULL);
	free(d);
}

/* Before SQLite's first use in the process: no memory statistics, so
 * that each of SQLite's allocations does not take its global memory
 * mutex (the writer allocates on every statement). Refused (and
 * harmless) when the library was already initialised. */
static void sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static int sl_open(const struct db_params *p, struct db **out)
{
	int rc;
	pthread_once(&sqlite_setup_once, sqlite_setup);
	if (sqlite3_libversion_number() < SQLITE_MIN_VERSION) {
		fault(__func__, NULL, SQLITE_ERROR, "SQLite too old");
		return RG_EIO;
	}
	if (p->writer && (rc = file_create(p->target)) != RG_OK)
		return rc;
	struct db *d = calloc(1, sizeof *d);
	if (!d)
		return RG_ENOMEM;
	/* A read-only store's file is opened O_RDONLY: it can take no
	 * write lock on the database, whoever else writes it. */
	rc = sqlite3_open_v2(p->target, &d->h,
	                     (p->read_only ? SQLITE_OPEN_READONLY
	                                   : SQLITE_OPEN_READWRITE) |
	                     SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
	                     SQLITE_OPEN_EXRESCODE, NULL);
	rc = rc == SQLITE_OK ? RG_OK : fault(__func__, d, rc, NULL);
	if (rc == RG_OK && p->exclusive)
		rc = exclusive_take(d);
	if (rc == RG_OK)
		rc = configure(d, p);
	if (rc != RG_OK) {
		sl_close(d);
		return rc;
	}
	/* Without the thread, SQLite's auto-checkpoint (configure) stays. */
	if (p->writer && !p->exclusive &&
	    !(d->ckpt = sqlite_ckpt_start(d->h, p->target,
	                                  WAL_AUTOCHECKPOINT_PAGES,
	                                  p->busy_timeout_ms)))
		log_msg(LOG_WARN, "store: no checkpoint thread: the writer"
		        " checkpoints in its commits");
	*out = d;
	return RG_OK;
}

static int sl_prepare(struct db *d, const char *sql, bool keep,
                      struct db_stmt **out)
{
	struct db_stmt *s = calloc(1, sizeof *s);
	if (!s)
		return RG_ENOMEM;
	s->d = d;
	int rc = sqlite3_prepare_v3(d->h, sql, -1,
	                            keep ? SQLITE_PREPARE_PERSISTENT : 0,
	                            &s->s, NULL);
	if (rc != SQLITE_OK || !s->s) {
		int ret = rc != SQLITE_OK ? fault(__func__, d, rc, sql) : RG_EIO;
		sqlite3_finalize(s->s);
		free(s);
		return ret;
	}
	*out = s;
	return RG_OK;
}

/* The reset's result only repeats the last step's, already reported. */
static void sl_reset(struct db_stmt *s)
{
	(void)sqlite3_reset(s->s);
	(void)sqlite3_clear_bindings(s->s);
}

static void sl_finalize(struct db_stmt *s)
{
	if (!s)
		return;
	(void)sqlite3_finalize(s->s);
	free(s);
}

static const char *sl_sql(const struct db_stmt *s)
{
	return sqlite3_sql(s->s);
}

static int bound(struct db_stmt *s, int rc)
{
	return rc == SQLITE_OK ? RG_OK : fault("db_bind", s->d, rc,
	                                       sqlite3_sql(s->s));
}

static int sl_bind_text(struct db_stmt *s, int idx, const char *v)
{
	return bound(s, v ? sqlite3_bind_text(s->s, idx, v, -1,
	                                      SQLITE_TRANSIENT)
	                  : sqlite3_bind_null(s->s, idx));
}

static int sl_bind_i64(struct db_stmt *s, int idx, int64_t v)
{
	return bound(s, sqlite3_bind_int64(s->s, idx, v));
}

static int sl_bind_blob(struct db_stmt *s, int idx, const void *p, size_t n)
{
	return bound(s, n == 0 ? sqlite3_bind_zeroblob(s->s, idx, 0)
	                       : sqlite3_bind_blob64(s->s, idx, p, n,
	                                             SQLITE_TRANSIENT));
}

static int sl_step(struct db_stmt *s)
{
	int rc = sqlite3_step(s->s);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return fault(__func__, s->d, rc, sqlite3_sql(s->s));
}

static bool sl_col_null(struct db_stmt *s, int col)
{
	return sqlite3_column_type(s->s, col) == SQLITE_NULL;
}

static int64_t sl_col_i64(struct db_stmt *s, int col)
{
	return sqlite3_column_int64(s->s, col);
}

static const char *sl_col_text(struct db_stmt *s, int col, size_t *n)
{
	const char *t = (const char *)sqlite3_column_text(s->s, col);
	*n = t ? (size_t)sqlite3_column_bytes(s->s, col) : 0;
	return t;
}

static const void *sl_col_blob(struct db_stmt *s, int col, size_t *n)
{
	const void *p = sqlite3_column_blob(s->s, col);
	*n = p ? (size_t)sqlite3_column_bytes(s->s, col) : 0;
	return p;
}

static int64_t sl_changes(struct db_stmt *s)
{
	return sqlite3_changes64(s->d->h);
}

static int run(struct db *d, const char *sql)
{
	return sl_script(d, sql);
}

static int sl_begin(struct db *d, enum db_txn kind)
{
	return run(d, kind == DB_TXN_READ ? "BEGIN" : "BEGIN IMMEDIATE");
}

static int sl_commit(struct db *d)
{
	return run(d, "COMMIT");
}

static bool sl_in_txn(struct db *d)
{
	return !sqlite3_get_autocommit(d->h);
}

static void sl_rollback(struct db *d)
{
	if (sl_in_txn(d))
		(void)run(d, "ROLLBACK");
}

static int sl_version_get(struct db *d, int64_t *out)
{
	return one_int(d, "PRAGMA user_version", out);
}

static int sl_version_set(struct db *d, int64_t v)
{
	char sql[48];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %lld", (long long)v);
	return sl_script(d, sql);
}

static const char *sl_errmsg(struct db *d)
{
	const char *m = d && d->h ? sqlite3_errmsg(d->h) : NULL;
	return m ? m : "";
}

const struct db_driver db_sqlite = {
	.engine = DB_SQLITE,
	.name = "sqlite",
	.open = sl_open,
	.close = sl_close,
	.prepare = sl_prepare,
	.reset = sl_reset,
	.finalize = sl_finalize,
	.sql = sl_sql,
	.bind_text = sl_bind_text,
	.bind_i64 = sl_bind_i64,
	.bind_blob = sl_bind_blob,
	.step = sl_step,
	.col_null = sl_col_null,
	.col_i64 = sl_col_i64,
	.col_text = sl_col_text,
	.col_blob = sl_col_blob,
	.changes = sl_changes,
	.begin = sl_begin,
	.commit = sl_commit,
	.rollback = sl_rollback,
	.in_txn = sl_in_txn,
	.script = sl_script,
	.version_get = sl_version_get,
	.version_set = sl_version_set,
	.errmsg = sl_errmsg,
};

int db_sqlite_wal_truncate(const char *path, int busy_timeout_ms, bool *done)
{
	sqlite3 *db = NULL;
	int log_frames = -1, copied = -1;
	*done = false;
	int rc = sqlite3_open_v2(path, &db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	                         SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
	                         NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, busy_timeout_ms);
	/* A connection learns that the file is in WAL mode only when it
	 * first reads it; before that, a checkpoint does nothing and
	 * succeeds. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "SELECT COUNT(*) FROM sqlite_schema", NULL,
		                  NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_wal_checkpoint_v2(db, "main",
		                               SQLITE_CHECKPOINT_TRUNCATE,
		                               &log_frames, &copied);
	if ((rc & 0xff) == SQLITE_BUSY) {
		/* A reader or the writer held on past the busy timeout: the
		 * next run tries again. */
		rc = SQLITE_OK;
	} else if (rc == SQLITE_OK) {
		*done = log_frames == copied;
	} else {
		fault(__func__, NULL, rc, "wal_checkpoint(TRUNCATE)");
	}
	/* Not the last connection (the writer's stays open), so closing
	 * leaves the WAL file as the checkpoint left it: empty. */
	(void)sqlite3_close(db);
	return map_rc(rc);
}
