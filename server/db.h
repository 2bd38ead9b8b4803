/*
 * db.h - the database driver interface under the store. The store's rules
 * (store*.c) know SQL and call only this; a driver knows its engine:
 * db_sqlite.c (the embedded default, one file) and db_pg.c (PostgreSQL 15
 * through libpq). The split follows PowerDNS's generic SQL backends and
 * FreeRADIUS's rlm_sql drivers.
 *
 * The SQL the store writes is the common part of both dialects: numbered
 * placeholders ?1..?N (the PostgreSQL driver turns them into $1..$N once
 * per statement), ON CONFLICT DO NOTHING, RETURNING, CASE instead of
 * two-argument MIN/MAX. A comparison read as an integer column is 0 or 1
 * on both engines. Only the DDL (store_schema.c) has a text per engine.
 *
 * A connection is used by one thread at a time; statements belong to it.
 */
#ifndef RG_DB_H
#define RG_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;          /* one connection, the driver's */
struct db_stmt;     /* one prepared statement of a connection */

/* What db_driver.step returns besides a negative rg_err. */
enum { DB_DONE = 0, DB_ROW = 1 };

enum db_engine { DB_SQLITE, DB_PG };

/* Connection settings (refgate.conf). */
struct db_params {
	const char *target;          /* a file path, or postgresql://... */
	bool writer;                 /* SQLite: creates the file; readers
	                              * are query_only */
	int busy_timeout_ms;         /* SQLite: waiting for a lock */
	int64_t max_page_count;      /* SQLite: 0 no cap */
	int connect_timeout_s;       /* PostgreSQL: 0 libpq's default */
	int statement_timeout_s;     /* PostgreSQL: the session's
	                              * statement_timeout (lock waits
	                              * included); 0 none */
	bool read_only;              /* a read-only store (refgatectl audit
	                              * verify): SQLite opens the file
	                              * O_RDONLY (it can take no write lock);
	                              * PostgreSQL sessions are read-only */
	bool exclusive;              /* SQLite only (refgatectl migrate): the
	                              * file for this connection alone, locked
	                              * at open until close (locking_mode
	                              * EXCLUSIVE); open answers RG_ECONFLICT
	                              * at once while another connection, the
	                              * gateway's, has it open */
};

/* The kind of transaction begin opens. */
enum db_txn {
	DB_TXN_WRITE,   /* SQLite: BEGIN IMMEDIATE. PostgreSQL: READ COMMITTED
	                 * after the cluster-wide writer lock, so that writes
	                 * of every node are serial as on one SQLite file */
	DB_TXN_READ,    /* one snapshot: SQLite BEGIN (WAL), PostgreSQL
	                 * REPEATABLE READ READ ONLY */
	DB_TXN_SCHEMA,  /* creating or migrating the schema: DB_TXN_WRITE,
	                 * which on PostgreSQL also keeps two nodes starting at
	                 * once from both creating it */
};

struct db_driver {
	enum db_engine engine;
	const char *name;
	/* Opens a connection. RG_EIO (logged), RG_ENOMEM. */
	int (*open)(const struct db_params *p, struct db **out);
	/* Closes it; every statement must be finalized first. NULL: no-op. */
	void (*close)(struct db *d);

	/* Prepares sql (a string that outlives the statement). keep: it will
	 * be reused many times (cached by the caller). */
	int (*prepare)(struct db *d, const char *sql, bool keep,
	               struct db_stmt **out);
	/* Back to before the first step, bindings cleared. */
	void (*reset)(struct db_stmt *s);
	void (*finalize)(struct db_stmt *s);     /* NULL: no-op */
	const char *(*sql)(const struct db_stmt *s);

	/* Binds parameter idx (1-based); text NULL binds NULL. RG_OK or a
	 * negative rg_err. */
	int (*bind_text)(struct db_stmt *s, int idx, const char *v);
	int (*bind_i64)(struct db_stmt *s, int idx, int64_t v);
	int (*bind_blob)(struct db_stmt *s, int idx, const void *p, size_t n);

	/* DB_ROW, DB_DONE, or a negative rg_err (logged). */
	int (*step)(struct db_stmt *s);
	/* The current row's columns (0-based). Text and blobs live until the
	 * next step or reset; NULL reads as 0, NULL (text) or NULL (blob). */
	bool (*col_null)(struct db_stmt *s, int col);
	int64_t (*col_i64)(struct db_stmt *s, int col);
	const char *(*col_text)(struct db_stmt *s, int col, size_t *n);
	const void *(*col_blob)(struct db_stmt *s, int col, size_t *n);
	/* Rows the last INSERT/UPDATE/DELETE stepped to DB_DONE changed. */
	int64_t (*changes)(struct db_stmt *s);

	/* Transactions. rollback is a no-op outside one. in_txn: one is open
	 * (false as well after the engine aborted it as a whole, or lost the
	 * connection). */
	int (*begin)(struct db *d, enum db_txn kind);
	int (*commit)(struct db *d);
	void (*rollback)(struct db *d);
	bool (*in_txn)(struct db *d);

	/* Runs a script without parameters (DDL); rows are discarded. */
	int (*script)(struct db *d, const char *sql);
	/* The schema version (0: empty database) and setting it, inside the
	 * DB_TXN_SCHEMA transaction. */
	int (*version_get)(struct db *d, int64_t *out);
	int (*version_set)(struct db *d, int64_t v);

	/* The engine's last message on this connection (never NULL). */
	const char *(*errmsg)(struct db *d);

	/* Several nodes (NULL on SQLite, which has one process): notify,
	 * inside a write transaction, tells every listening node at commit
	 * that the change feed moved, signed with the sender's node tag (a
	 * short [0-9a-f] string); listen makes d a listening connection
	 * (again after each reconnect); wait returns 1 when a notification
	 * from another tag than self came, or d was reconnected (so one may
	 * have been missed), 0 after timeout_ms without, RG_EIO while the
	 * database is unreachable. */
	int (*notify)(struct db *d, const char *tag);
	int (*listen)(struct db *d);
	int (*wait)(struct db *d, int timeout_ms, const char *self);
};

extern const struct db_driver db_sqlite;
extern const struct db_driver db_pg;

/* The driver for a database setting: db_pg for postgresql:// and
 * postgres:// URIs, db_sqlite otherwise (a file path). */
const struct db_driver *db_driver_for(const char *target);
/* SQLite only: checkpoints the WAL of the file at path into it and
 * truncates the WAL to zero bytes, on a connection of its own (see
 * st_wal_truncate). *done: every frame was copied. */
int db_sqlite_wal_truncate(const char *path, int busy_timeout_ms,
                           bool *done);

/* True when target names a PostgreSQL database. */
bool db_is_pg(const char *target);

#endif
