/*
 * store_int.h - what the store files share, and nothing else may include:
 * store_schema.c (connections, pragmas, schema, the statement cache and
 * result-code mapping), store.c (lifecycle, readers, the writer thread,
 * change feed), store_admin.c (principals, audit chain, signed heads),
 * store_cases.c (referrals, deduplication, merges, decisions),
 * store_reads.c (case reads, review queue, statistics), store_keys.c
 * (access keys), store_log.c (the transparency log), store_retention.c
 * (preservation holds and the retention purge), store_report.c (the
 * transparency report's counts) and store_migrate.c (copying a SQLite
 * database into PostgreSQL).
 */
#ifndef RG_STORE_INT_H
#define RG_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <jansson.h>

#include "db.h"
#include "store.h"

/* Prepared statements kept per connection (open addressing on the SQL
 * text's address: every statement is a string literal or a static table
 * entry, so its address names it). */
#define CONN_SLOTS 128

struct stmt_slot {
	const char *sql;
	struct db_stmt *stmt;
	bool busy;                   /* handed out; a nested use prepares anew */
};

/* One database connection, used by one thread at a time. */
struct conn {
	struct store *st;
	const struct db_driver *drv;
	struct db *db;
	int depth;                   /* read transaction nesting */
	struct conn *prev, *next;    /* the store's registry of readers */
	struct stmt_slot slot[CONN_SLOTS];
};

/*
 * A write for the writer thread. A waited-for job lives on its caller's
 * stack (st_write); an async one is malloc'd by its maker, with the job as
 * the first member of the allocation, and the writer frees it (free(j))
 * after its transaction, whatever the outcome (st_write_async).
 */
struct txn;
struct job {
	int (*run)(struct txn *t, void *arg);
	void *arg;
	int rc;
	bool done;
	bool async;
	/* async only, may be NULL: folds `later` (a job with the same merge
	 * function, queued after `into` in the same batch) into `into` and
	 * returns true, or returns false to leave both as they are. */
	bool (*merge)(struct job *into, const struct job *later);
	/* async with a reply only (st_write_reply): called by the writer
	 * once the job's transaction is durable or failed (rc set), outside
	 * the queue's lock; it owns the job from then on (frees it). */
	void (*complete)(struct job *j);
	pthread_cond_t cond;         /* waited-for jobs only */
	struct job *next;
};

struct store {
	struct store_opts opts;
	char *path;                  /* a file, or a postgresql:// URI */
	const struct db_driver *drv;
	struct conn *w;              /* the writer thread's connection */
	pthread_t writer;
	bool writer_started;

	pthread_mutex_t q_mu;        /* guards everything down to hook_ctx */
	pthread_cond_t q_cond;
	struct job *q_head, *q_tail;
	struct job **batch;          /* opts.batch_max slots, writer only */
	bool stopping;
	struct store_stats stats;
	uint64_t async_queued;       /* async jobs among the queued */
	void (*hook)(void *ctx);
	void *hook_ctx;
	int hook_busy;               /* threads in the hook (the writer, the
	                              * listener) */
	pthread_cond_t hook_cond;    /* signalled when it leaves it */

	pthread_key_t key;           /* this thread's reader connection */
	bool key_made;
	pthread_mutex_t reg_mu;      /* guards readers */
	struct conn *readers;

	_Atomic int64_t head;        /* highest committed change seq */
	_Atomic uint64_t case_gen;   /* commits that changed a case */
	bool mu_made;

	/* Several nodes (PostgreSQL): a thread listening for the other
	 * nodes' commits, which reloads head and calls the hook. */
	pthread_t listener;
	bool listener_started;
	char node_tag[17];           /* this process's NOTIFY payload */
	_Atomic bool listener_stop;
};

/* The writer's transaction, as a job sees it. */
struct txn {
	struct store *st;
	struct conn *c;
	int64_t max_seq;             /* highest change seq this job appended */
	bool fed;                    /* it appended to a referrer's own feed */
	bool views;                  /* it changed what a case view shows
	                                without moving the change feed (a
	                                claim, a purge): cached views drop */
};

/* A statement in use: from sq_open to sq_close. The bind helpers keep
 * the first failure in rc, which sq_step then returns. */
struct q {
	struct conn *c;
	struct db_stmt *s;
	int slot;                    /* -1: a temporary statement */
	int rc;
};

enum { SQ_DONE = DB_DONE, SQ_ROW = DB_ROW };

/* ---- store_schema.c ---- */

/* Opens a connection on the store's engine. The writer's (writer=true)
 * creates the database (a SQLite file 0600) and the schema, or migrates
 * it; readers only read. */
int st_conn_open(struct store *st, bool writer, struct conn **out);
/* Finalizes every cached statement and closes. NULL is a no-op. */
void st_conn_close(struct conn *c);
/* The schema version this build writes. */
int64_t st_schema_version(void);
/* Inside an open DB_TXN_SCHEMA transaction on db: brings a database at
 * schema version `from` (0: empty) to st_schema_version() with the
 * ladder's steps of d's engine, and records the version. RG_EIO for a
 * version it does not know (a newer one). */
int st_schema_steps(const struct db_driver *d, struct db *db, int64_t from);
/* One line on stderr about a fault of the store's own (no values). */
void st_log(const char *func, const char *what);

int sq_open(struct q *q, struct conn *c, const char *sql);
void sq_close(struct q *q);
void sq_text(struct q *q, int idx, const char *s);       /* NULL binds NULL */
void sq_i64(struct q *q, int idx, int64_t v);
void sq_blob(struct q *q, int idx, const void *p, size_t n);
/* SQ_ROW, SQ_DONE, or a negative rg_err. */
int sq_step(struct q *q);
/* Steps a statement that returns no row: RG_OK or a negative rg_err. */
int sq_exec(struct q *q);
/* Runs a statement without parameters (SAVEPOINT, RELEASE, ...). */
int sq_run(struct conn *c, const char *sql);
/* Rows changed by the INSERT/UPDATE/DELETE q just ran. */
int64_t sq_changes(struct q *q);
/* Copies a TEXT column into buf; NULL reads as "". RG_EIO when it does not
 * fit (the database is not what this code wrote). */
int sq_col_str(struct q *q, int col, char *buf, size_t cap);
/* Copies a 32-byte BLOB column. RG_EIO when it has another size. */
int sq_col_32(struct q *q, int col, uint8_t out[32]);
/* An integer column (NULL reads as 0; a comparison as 0 or 1). */
int64_t sq_col_i64(struct q *q, int col);
int sq_col_int(struct q *q, int col);
bool sq_col_null(struct q *q, int col);
/* A TEXT column in place (NULL for NULL), valid until the next step. */
const char *sq_col_text(struct q *q, int col);
/* A BLOB column in place and its size (NULL, 0 for NULL or empty),
 * valid until the next step. */
const void *sq_col_blob(struct q *q, int col, size_t *n);
/* Steps an opened, bound statement once: its first column into *out;
 * RG_EIO when it yields no row. */
int sq_step_i64(struct q *q, int64_t *out);
/* Runs one statement that yields one integer (COUNT, MAX, ...) with no
 * parameters or ?1 = p1 (p1 NULL: none). RG_EIO when it yields no row. */
int sq_one_i64(struct conn *c, const char *sql, const char *p1,
               int64_t *out);
/* The rows the statement's last step inserted, updated or deleted. */
int64_t sq_changes(struct q *q);

/* Copies every frame of the WAL into the database file and truncates the
 * WAL to zero bytes (SQLITE_CHECKPOINT_TRUNCATE, on a connection of its
 * own), waiting up to the busy timeout for readers and the writer. *done
 * is false when they held on longer (RG_OK: the next run tries again).
 * With the writer's secure_delete, content deleted before the call is
 * then in neither file. On PostgreSQL it does nothing (*done true): see
 * docs/operators.md section 7a. */
int st_wal_truncate(struct store *st, bool *done);

/* Read transactions on a reader connection; they nest (a callback may
 * call back into the store on the same thread). */
int sq_read_begin(struct conn *c);
int sq_read_end(struct conn *c);

/* ---- store.c ---- */

/* This thread's reader connection, made on first use. */
int st_reader(struct store *st, struct conn **out);
/* Runs run(txn, arg) in the writer thread inside the next group commit
 * and waits until it is durable (or failed). Returns run's result, or
 * RG_EFULL/RG_EIO when the commit failed (everything of the job undone). */
int st_write(struct store *st, int (*run)(struct txn *t, void *arg),
             void *arg);
/* Queues an async job (see struct job) without waiting. It is dropped
 * (freed at once) when the store is stopping or ST_ASYNC_MAX async jobs
 * already wait: an async write is one whose loss is acceptable. */
#define ST_ASYNC_MAX 8192
void st_write_async(struct store *st, struct job *j);
/* Queues a job whose maker hears of its outcome through j->complete
 * (required) instead of waiting: nothing waits for the disk, and one
 * commit carries whatever arrived meanwhile. Never dropped: RG_OK, or
 * RG_EIO when the store is stopping (then the job is the caller's
 * again and complete is not called). */
int st_write_reply(struct store *st, struct job *j);
/* Appends a change-feed row (writer only) and notes its seq in t. */
int st_change_add(struct txn *t, const char *case_id,
                  enum case_status status, enum case_action action,
                  int64_t at);

/* ---- store_referrer.c (writer only) ---- */

/* The alias under which `principal` sees the live case `case_id` that a
 * subject of its referral landed in: the one it named one of the
 * subject's identifiers under before, else a new view (the case's own id
 * when the subject opened it, a fresh alias otherwise). Remembers the
 * subject's identifiers under it. */
int st_referrer_alias(struct txn *t, const char *principal,
                      const struct store_subject *s, const char *case_id,
                      bool opened, int64_t at, char alias[RG_ID_MAX + 1]);
/* The principal's own referral reached its view `alias` of the live case
 * `live` (as it is after the referral): the view shows received, or
 * actioned when the case is, and gets one feed entry. *status is what
 * the view now shows. deadline_at: its removal order's, or 0. */
int st_referrer_referred(struct txn *t, const char *principal,
                         const char *alias, const struct store_case *live,
                         int64_t at, int64_t deadline_at,
                         enum case_status *status);
/* A decision (actioned or no_action) on a live case: every view of it
 * shows it, and each gets one feed entry. */
int st_referrer_decided(struct txn *t, const char *case_id,
                        enum case_status status, enum case_action action,
                        int64_t at);

/* ---- store_admin.c ---- */

/* Appends an audit row (writer only). detail is JSON text. */
int st_audit_add(struct txn *t, int64_t at, const char *actor,
                 const char *kind, const char *object, const char *detail);
/* st_audit_add with a jansson detail, which it consumes; NULL (a failed
 * json_pack, say) is RG_ENOMEM. */
int st_audit_add_json(struct txn *t, int64_t at, const char *actor,
                      const char *kind, const char *object, json_t *detail);

/* ---- store_statements.c ---- */

/* Records the statement of reasons of the actioned decision d just
 * inserted on case_id (writer only). */
int st_statement_record(struct txn *t, const char *case_id,
                        const struct store_decision *d);

/* ---- store_log.c ---- */

/* The number of leaves in the log, on any connection. */
int st_log_size(struct conn *c, uint64_t *size);
/* Appends the leaf for referral_id with data payload[0..len) at index
 * (which must be st_log_size, read in this transaction) and the perfect
 * subtree hashes it completes (writer only). */
int st_log_append(struct txn *t, const char *referral_id, uint64_t index,
                  const void *payload, size_t len);
/* A referral's leaf: its index and a malloc'd copy of its data.
 * RG_ENOTFOUND for a referral recorded before the log existed. */
int st_log_leaf(struct conn *c, const char *referral_id, int64_t *index,
                char **payload, size_t *len);

/* ---- store_orders.c ---- */

/* In the referral's transaction: records its removal order (in->order,
 * none: nothing) or links the referral to the agency's order of that
 * reference, restarting the clock of one that stood at cannot_execute
 * (its clarification). */
int st_order_record(struct txn *t, const struct store_referral_in *in);

/* Whether a referral that carried a removal order named case_id (the
 * cases cannot_execute may answer). */
int st_case_ordered(struct conn *c, const char *case_id, bool *ordered);

/* In a decision's transaction, for the orders that named case_id:
 * cannot_execute marks them so with the reason (d->ground); actioned
 * holds them (preserved_until) until d->at + 183 days. */
int st_order_decided(struct txn *t, const char *case_id,
                     const struct store_decision *d);

/* ---- store_retention.c (writer only) ---- */

/* The preservation hold of a case just actioned (at): when one of its
 * referrals carried a removal order, it is held until at + 183 days (a
 * later hold already set stays). */
int st_hold_actioned(struct txn *t, const char *case_id, int64_t at);

/* ---- store_reads.c ---- */

/* Runs fn on this thread's reader inside one read transaction, so that
 * what it reads from several tables is one snapshot. */
int st_in_snapshot(struct store *st, int (*fn)(struct conn *c, void *arg),
                   void *arg);
/* The live id of a case, by its id or the id of a case merged into it.
 * RG_ENOTFOUND. Any connection (the writer's too). */
int st_case_live(struct conn *c, const char *id, char out[RG_ID_MAX + 1]);
/* A case by its id or an alias, with its counts. RG_ENOTFOUND. */
int st_case_load(struct conn *c, const char *id, struct store_case *out);

/* ---- store_claims.c ---- */

/* The claim row of case_id (canonical), live or not; *out zeroed
 * (reviewer "") when there is none. Any connection. */
int st_claim_get(struct conn *c, const char *case_id,
                 struct store_claim *out);
/* Claims case_id (canonical, open) for reviewer until expires_at, inside
 * the writer's transaction, with its audit record (writer only).
 * RG_ECLAIMED when another reviewer's claim is live at `at`. */
int st_claim_take(struct txn *t, const char *case_id, const char *reviewer,
                  int64_t at, int64_t expires_at);
/* Ends any claim on case_id (writer only): a decision closed it. */
int st_claim_end(struct txn *t, const char *case_id);

#endif
