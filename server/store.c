/*
 * store.c - the store's lifecycle and write path: per-thread reader
 * connections, the one writer thread with its group commit (and the
 * async writes nobody waits for), and the change feed. Principals and the
 * audit chain are in store_admin.c, referrals and cases in store_cases.c
 * and store_reads.c, access keys in store_keys.c, connections and the
 * schema in store_schema.c.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define BATCH_DEFAULT 64
#define BATCH_LIMIT 4096
#define BUSY_DEFAULT_MS 5000

/* ---- reader connections --------------------------------------------- */

/* Thread-exit destructor of a reader connection. */
static void reader_release(void *p)
{
	struct conn *c = p;
	struct store *st = c->st;
	pthread_mutex_lock(&st->reg_mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		st->readers = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&st->reg_mu);
	st_conn_close(c);
}

int st_reader(struct store *st, struct conn **out)
{
	struct conn *c = pthread_getspecific(st->key);
	if (c) {
		*out = c;
		return RG_OK;
	}
	int rc = st_conn_open(st, false, &c);
	if (rc != RG_OK)
		return rc;
	pthread_mutex_lock(&st->reg_mu);
	c->next = st->readers;
	if (st->readers)
		st->readers->prev = c;
	st->readers = c;
	pthread_mutex_unlock(&st->reg_mu);
	if (pthread_setspecific(st->key, c) != 0) {
		reader_release(c);
		return RG_ENOMEM;
	}
	*out = c;
	return RG_OK;
}

/* ---- the writer ----------------------------------------------------- */

/* Rolls back whatever transaction the writer still has open. */
static void txn_abort(struct conn *w)
{
	w->drv->rollback(w->db);
}

/* What a job learns when its transaction failed as a whole. */
static int lost_rc(int rc)
{
	return rc == RG_EFULL ? RG_EFULL : RG_EIO;
}

static void jobs_fail(struct job **jobs, size_t n, int rc)
{
	for (size_t i = 0; i < n; i++)
		jobs[i]->rc = lost_rc(rc);
}

/*
 * Runs jobs[0..n) in one transaction, each inside its own savepoint so a
 * failing job is undone alone, and commits. Returns how many jobs it
 * settled (their rc set), which are then jobs[0..settled). That is fewer
 * than n only when the engine rolled the whole transaction back under a
 * job (SQLite may on SQLITE_FULL, IOERR, NOMEM): that job alone is settled (moved
 * to the front) and the others are for a new transaction. On commit, the
 * highest change seq goes to *seq, and *fed is set when a job appended to
 * a referrer's own feed (long polls wake on either), *views when a job
 * changed what a case view shows without moving the feed (txn.views).
 */
static size_t writer_txn(struct store *st, struct job **jobs, size_t n,
                         int64_t *seq, bool *fed, bool *views)
{
	struct conn *w = st->w;
	struct txn t = { .st = st, .c = w };
	int64_t max_seq = 0;
	bool any_fed = false, any_views = false;
	int rc = w->drv->begin(w->db, DB_TXN_WRITE);
	if (rc != RG_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct job *j = jobs[i];
		rc = sq_run(w, "SAVEPOINT job");
		if (rc != RG_OK)
			goto fail;
		t.max_seq = 0;
		t.fed = false;
		t.views = false;
		j->rc = j->run(&t, j->arg);
		if (j->rc == RG_OK || j->rc == RG_EREPLAY) {
			rc = sq_run(w, "RELEASE job");
			if (rc != RG_OK)
				goto fail;
			if (t.max_seq > max_seq)
				max_seq = t.max_seq;
			any_fed = any_fed || t.fed;
			any_views = any_views || t.views;
			continue;
		}
		if (!w->drv->in_txn(w->db)) {
			memmove(jobs + 1, jobs, i * sizeof *jobs);
			jobs[0] = j;
			pthread_mutex_lock(&st->q_mu);
			st->stats.failed_commits++;
			pthread_mutex_unlock(&st->q_mu);
			return 1;
		}
		rc = sq_run(w, "ROLLBACK TO job");
		if (rc == RG_OK)
			rc = sq_run(w, "RELEASE job");
		if (rc != RG_OK)
			goto fail;
	}
	/* Other nodes' long polls wake, and their cached views are
	 * dropped, at this commit. */
	if ((max_seq > 0 || any_fed || any_views) && w->drv->notify &&
	    (rc = w->drv->notify(w->db, st->node_tag)) != RG_OK)
		goto fail;
	rc = w->drv->commit(w->db);
	if (rc != RG_OK)
		goto fail;
	if (max_seq > *seq)
		*seq = max_seq;
	*fed = *fed || any_fed;
	*views = *views || any_views;
	pthread_mutex_lock(&st->q_mu);
	st->stats.commits++;
	pthread_mutex_unlock(&st->q_mu);
	return n;
fail:
	txn_abort(w);
	jobs_fail(jobs, n, rc);
	pthread_mutex_lock(&st->q_mu);
	st->stats.failed_commits++;
	pthread_mutex_unlock(&st->q_mu);
	return n;
}

/*
 * Folds the async jobs of a batch that merge into an earlier one (a burst
 * of uses of one access key becomes one UPDATE), frees the folded ones and
 * returns the batch's new length; the order of the rest is kept. At worst
 * quadratic in the batch, which batch_max bounds.
 */
static size_t batch_fold(struct job **b, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		struct job *j = b[i];
		bool folded = false;
		for (size_t k = 0; j->async && j->merge && !folded && k < kept;
		     k++)
			folded = b[k]->async && b[k]->merge == j->merge &&
			         j->merge(b[k], j);
		if (folded)
			free(j);
		else
			b[kept++] = j;
	}
	return kept;
}

/* The writer thread: takes every queued job (up to batch_max), commits
 * them together, hands each reply job to its completion, wakes the
 * waiting callers (frees the other async ones), then calls the commit
 * hook when a case changed. Drains the queue before it stops. */
static void *writer_main(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->q_mu);
	for (;;) {
		while (!st->q_head && !st->stopping)
			pthread_cond_wait(&st->q_cond, &st->q_mu);
		if (!st->q_head)
			break;
		size_t n = 0;
		while (st->q_head && n < (size_t)st->opts.batch_max) {
			if (st->q_head->async && !st->q_head->complete)
				st->async_queued--;
			st->batch[n++] = st->q_head;
			st->q_head = st->q_head->next;
		}
		if (!st->q_head)
			st->q_tail = NULL;
		st->stats.queued -= n;
		st->stats.jobs += n;
		if (n > st->stats.max_batch)
			st->stats.max_batch = n;
		pthread_mutex_unlock(&st->q_mu);

		n = batch_fold(st->batch, n);
		int64_t seq = 0;
		bool fed = false, views = false;
		for (size_t done = 0; done < n;)
			done += writer_txn(st, st->batch + done, n - done, &seq,
			                   &fed, &views);
		if (seq > atomic_load(&st->head))
			atomic_store(&st->head, seq);
		/* Before anyone hears of the commit: a view read from now on
		 * is of the new generation. */
		if (seq > 0 || fed || views)
			atomic_fetch_add(&st->case_gen, 1);

		/* Replies first, outside the lock (they resume connections);
		 * each job is its maker's again from its call on. */
		for (size_t i = 0; i < n; i++) {
			struct job *j = st->batch[i];
			if (j->async && j->complete) {
				st->batch[i] = NULL;
				j->complete(j);
			}
		}
		pthread_mutex_lock(&st->q_mu);
		for (size_t i = 0; i < n; i++) {
			struct job *j = st->batch[i];
			if (!j)
				continue;
			if (j->async) {
				free(j);        /* its maker let go of it */
				continue;
			}
			/* The caller may return (and its job vanish) as soon
			 * as we unlock: nothing touches the job after this. */
			j->done = true;
			pthread_cond_signal(&j->cond);
		}
		void (*hook)(void *) = st->hook;
		void *hook_ctx = st->hook_ctx;
		if ((seq > 0 || fed) && hook) {
			st->hook_busy++;
			pthread_mutex_unlock(&st->q_mu);
			hook(hook_ctx);
			pthread_mutex_lock(&st->q_mu);
			st->hook_busy--;
			pthread_cond_broadcast(&st->hook_cond);
		}
	}
	pthread_mutex_unlock(&st->q_mu);
	return NULL;
}

int st_write(struct store *st, int (*run)(struct txn *t, void *arg),
             void *arg)
{
	struct job j = { .run = run, .arg = arg, .rc = RG_EIO };
	if (st->opts.read_only)
		return RG_EINVAL;
	if (st->writer_started && pthread_equal(pthread_self(), st->writer)) {
		/* From the commit hook: it would wait for itself. */
		st_log(__func__, "write from the writer");
		return RG_EINVAL;
	}
	if (pthread_cond_init(&j.cond, NULL) != 0)
		return RG_ENOMEM;
	pthread_mutex_lock(&st->q_mu);
	if (st->stopping) {
		pthread_mutex_unlock(&st->q_mu);
		pthread_cond_destroy(&j.cond);
		return RG_EIO;
	}
	if (st->q_tail)
		st->q_tail->next = &j;
	else
		st->q_head = &j;
	st->q_tail = &j;
	st->stats.queued++;
	pthread_cond_signal(&st->q_cond);
	while (!j.done)
		pthread_cond_wait(&j.cond, &st->q_mu);
	pthread_mutex_unlock(&st->q_mu);
	pthread_cond_destroy(&j.cond);
	return j.rc;
}

void st_write_async(struct store *st, struct job *j)
{
	j->complete = NULL;
	j->async = true;
	j->done = false;
	j->next = NULL;
	pthread_mutex_lock(&st->q_mu);
	if (st->opts.read_only || st->stopping ||
	    st->async_queued >= ST_ASYNC_MAX) {
		pthread_mutex_unlock(&st->q_mu);
		free(j);
		return;
	}
	if (st->q_tail)
		st->q_tail->next = j;
	else
		st->q_head = j;
	st->q_tail = j;
	st->stats.queued++;
	st->async_queued++;
	pthread_cond_signal(&st->q_cond);
	pthread_mutex_unlock(&st->q_mu);
}

int st_write_reply(struct store *st, struct job *j)
{
	if (!j->complete)
		return RG_EINVAL;
	j->async = true;
	j->merge = NULL;
	j->done = false;
	j->next = NULL;
	j->rc = RG_EIO;
	pthread_mutex_lock(&st->q_mu);
	if (st->stopping) {
		pthread_mutex_unlock(&st->q_mu);
		return RG_EIO;
	}
	if (st->q_tail)
		st->q_tail->next = j;
	else
		st->q_head = j;
	st->q_tail = j;
	st->stats.queued++;
	pthread_cond_signal(&st->q_cond);
	pthread_mutex_unlock(&st->q_mu);
	return RG_OK;
}

/* ---- lifecycle ------------------------------------------------------ */

static const char head_sql[] = "SELECT COALESCE(MAX(seq), 0) FROM changes";

/* The highest change seq in the database, for store_changes_head. */
static int head_load(struct store *st, struct conn *c)
{
	int64_t v = 0;
	int rc = sq_one_i64(c, head_sql, NULL, &v);
	if (rc == RG_OK && v > atomic_load(&st->head))
		atomic_store(&st->head, v);
	return rc;
}

/* ---- other nodes' commits (PostgreSQL) ------------------------------ */

/* Calls the commit hook as the writer does, for a commit of another node
 * (or one that may have come while the listening connection was lost). */
static void hook_call(struct store *st)
{
	pthread_mutex_lock(&st->q_mu);
	void (*hook)(void *) = st->hook;
	void *ctx = st->hook_ctx;
	if (hook)
		st->hook_busy++;
	pthread_mutex_unlock(&st->q_mu);
	if (!hook)
		return;
	hook(ctx);
	pthread_mutex_lock(&st->q_mu);
	st->hook_busy--;
	pthread_cond_broadcast(&st->hook_cond);
	pthread_mutex_unlock(&st->q_mu);
}

/* The listener thread: on each notification (and after each reconnect,
 * since notifications sent meanwhile are lost) reloads the head from the
 * database and wakes this node's long polls. It wakes at least every
 * LISTEN_TICK_MS to see whether the store is stopping. */
#define LISTEN_TICK_MS 500
static void *listener_main(void *arg)
{
	struct store *st = arg;
	struct conn *c = NULL;
	int relisten = 0;
	const struct timespec tick = { 0, LISTEN_TICK_MS * 1000000L };
	while (!atomic_load(&st->listener_stop)) {
		if (!c && st_conn_open(st, false, &c) != RG_OK) {
			c = NULL;
			nanosleep(&tick, NULL);
			continue;
		}
		if (c->drv->listen(c->db) != RG_OK) {
			nanosleep(&tick, NULL);
			continue;
		}
		/* After a reconnect: look once (what came meanwhile is lost). */
		int got = relisten;
		relisten = 1;
		while (got >= 0 && !atomic_load(&st->listener_stop)) {
			if (got > 0) {
				/* another node committed: no cached view of
				 * before it may be served any more */
				atomic_fetch_add(&st->case_gen, 1);
				if (head_load(st, c) == RG_OK)
					hook_call(st);
			}
			got = c->drv->wait(c->db, LISTEN_TICK_MS, st->node_tag);
		}
	}
	st_conn_close(c);
	return NULL;
}

/* The store's locks and conditions; on a failure those already made
 * are destroyed again, in reverse (store_free destroys them once
 * mu_made). */
static int sync_init(struct store *st)
{
	if (pthread_mutex_init(&st->q_mu, NULL) != 0)
		goto fail;
	if (pthread_mutex_init(&st->reg_mu, NULL) != 0)
		goto fail_q_mu;
	if (pthread_cond_init(&st->q_cond, NULL) != 0)
		goto fail_reg_mu;
	if (pthread_cond_init(&st->hook_cond, NULL) != 0)
		goto fail_q_cond;
	st->mu_made = true;
	return RG_OK;
fail_q_cond:
	pthread_cond_destroy(&st->q_cond);
fail_reg_mu:
	pthread_mutex_destroy(&st->reg_mu);
fail_q_mu:
	pthread_mutex_destroy(&st->q_mu);
fail:
	return RG_ENOMEM;
}

int store_open(const char *path, const struct store_opts *opts,
               struct store **out)
{
	struct store *st = NULL;
	int rc = RG_ENOMEM;
	if (!path || !*path || !out)
		return RG_EINVAL;
	if (sodium_init() < 0)
		return RG_ECRYPTO;
	st = calloc(1, sizeof *st);
	if (!st)
		return RG_ENOMEM;
	if (opts)
		st->opts = *opts;
	if (st->opts.busy_timeout_ms <= 0)
		st->opts.busy_timeout_ms = BUSY_DEFAULT_MS;
	if (st->opts.batch_max <= 0)
		st->opts.batch_max = BATCH_DEFAULT;
	if (st->opts.batch_max > BATCH_LIMIT)
		st->opts.batch_max = BATCH_LIMIT;
	if (st->opts.max_page_count < 0)
		st->opts.max_page_count = 0;
	atomic_init(&st->head, 0);
	st->drv = db_driver_for(path);
	atomic_init(&st->case_gen, 1);
	st->path = strdup(path);
	st->batch = calloc((size_t)st->opts.batch_max, sizeof *st->batch);
	if (!st->path || !st->batch)
		goto out;
	if (sync_init(st) != RG_OK)
		goto out;
	if (pthread_key_create(&st->key, reader_release) != 0)
		goto out;
	st->key_made = true;
	if (st->opts.read_only) {    /* this thread's reader, no writer */
		struct conn *c;
		rc = st_reader(st, &c);
		if (rc == RG_OK)
			rc = head_load(st, c);
		if (rc != RG_OK)
			goto out;
		goto opened;
	}
	rc = st_conn_open(st, true, &st->w);
	if (rc == RG_OK)
		rc = head_load(st, st->w);
	if (rc != RG_OK)
		goto out;
	if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
		rc = RG_ENOMEM;
		goto out;
	}
	st->writer_started = true;
	if (st->drv->listen) {
		uint8_t r[8];
		randombytes_buf(r, sizeof r);
		sodium_bin2hex(st->node_tag, sizeof st->node_tag, r, sizeof r);
		atomic_init(&st->listener_stop, false);
		if (pthread_create(&st->listener, NULL, listener_main, st) != 0) {
			rc = RG_ENOMEM;
			goto out;
		}
		st->listener_started = true;
	}
opened:
	*out = st;
	return RG_OK;
out:
	store_free(st);
	return rc;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	if (st->listener_started) {
		atomic_store(&st->listener_stop, true);
		pthread_join(st->listener, NULL);
	}
	if (st->writer_started) {
		pthread_mutex_lock(&st->q_mu);
		st->stopping = true;
		pthread_cond_broadcast(&st->q_cond);
		pthread_mutex_unlock(&st->q_mu);
		pthread_join(st->writer, NULL);
	}
	if (st->key_made)
		pthread_key_delete(st->key);
	/* Threads still alive keep a stale pointer under the deleted key;
	 * it is never read again. */
	struct conn *c = NULL;
	if (st->mu_made) {
		pthread_mutex_lock(&st->reg_mu);
		c = st->readers;
		st->readers = NULL;
		pthread_mutex_unlock(&st->reg_mu);
	}
	while (c) {
		struct conn *next = c->next;
		st_conn_close(c);
		c = next;
	}
	st_conn_close(st->w);
	if (st->mu_made) {
		pthread_cond_destroy(&st->hook_cond);
		pthread_cond_destroy(&st->q_cond);
		pthread_mutex_destroy(&st->reg_mu);
		pthread_mutex_destroy(&st->q_mu);
	}
	free(st->batch);
	free(st->path);
	free(st);
}

/* Also waits for a running call of the previous hook to return, so that
 * its context may be freed afterwards (except from inside the hook). */
void store_set_commit_hook(struct store *st, void (*hook)(void *ctx),
                           void *ctx)
{
	bool inside = st->writer_started &&
	              pthread_equal(pthread_self(), st->writer);
	pthread_mutex_lock(&st->q_mu);
	st->hook = hook;
	st->hook_ctx = ctx;
	while (st->hook_busy && !inside)
		pthread_cond_wait(&st->hook_cond, &st->q_mu);
	pthread_mutex_unlock(&st->q_mu);
}

void store_stats_get(struct store *st, struct store_stats *out)
{
	pthread_mutex_lock(&st->q_mu);
	*out = st->stats;
	pthread_mutex_unlock(&st->q_mu);
}

/* ---- change feed ---------------------------------------------------- */

int st_change_add(struct txn *t, const char *case_id, enum case_status status,
                  enum case_action action, int64_t at)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO changes (case_id, status, action, at)"
	                 " VALUES (?1, ?2, ?3, ?4) RETURNING seq");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_i64(&q, 2, status);
		sq_i64(&q, 3, action);
		sq_i64(&q, 4, at);
		rc = sq_step(&q);
	}
	if (rc == SQ_ROW) {
		int64_t seq = sq_col_i64(&q, 0);
		if (seq > t->max_seq)
			t->max_seq = seq;
		rc = sq_step(&q) == SQ_DONE ? RG_OK : RG_EIO;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
	sq_close(&q);
	return rc;
}

/*
 * The change queries: ?1 since, ?2 limit, ?3 the principal, ?4 an access
 * key id (NULL: none). A principal sees a change of a case it referred
 * into from the first change after its first referral into it on
 * (referrals.seq_at; cases merged away moved their changes and subjects
 * to the survivor, so the check sees them); a listed key adds its cases'
 * whole history (access_keys.seq_at is 0; merges moved the listing as
 * they moved the changes). Each row once, by seq.
 */
static const char changes_all_sql[] =
	"SELECT seq, case_id, status, action, at FROM changes"
	" WHERE seq > ?1 ORDER BY seq LIMIT ?2";

/* Driven by the principal's (and the key's) cases, each read from the
 * changes_case index from where its view starts: for a long backlog,
 * whatever the feed's size. */
static const char changes_by_case_sql[] =
	"WITH vis(case_id, from_seq) AS ("
	"  SELECT s.case_id, r.seq_at FROM referrals r"
	"  JOIN referral_subjects s ON s.referral_id = r.id"
	"  WHERE r.principal = ?3"
	"  UNION ALL"
	"  SELECT a.case_id, k.seq_at FROM access_keys k"
	"  JOIN access_key_cases a ON a.key_id = k.id"
	"  WHERE k.id = ?4 AND k.all_own = 0),"
	" mine(case_id, from_seq) AS (SELECT case_id, MIN(from_seq)"
	"  FROM vis GROUP BY case_id)"
	" SELECT ch.seq, ch.case_id, ch.status, ch.action, ch.at"
	" FROM mine JOIN changes ch ON ch.case_id = mine.case_id"
	" AND ch.seq > ?1 AND ch.seq >= mine.from_seq"
	" ORDER BY ch.seq LIMIT ?2";

/* Driven by the feed from since, each row checked against the principal's
 * referrals into its case (and the key's listing): for a short backlog,
 * whatever the number of the principal's cases (a long poll's wake-ups). */
static const char changes_by_seq_sql[] =
	"SELECT ch.seq, ch.case_id, ch.status, ch.action, ch.at FROM changes ch"
	" WHERE ch.seq > ?1 AND (EXISTS (SELECT 1 FROM referral_subjects s"
	"  JOIN referrals r ON r.id = s.referral_id"
	"  WHERE s.case_id = ch.case_id AND r.principal = ?3"
	"  AND r.seq_at <= ch.seq)"
	" OR EXISTS (SELECT 1 FROM access_key_cases a"
	"  JOIN access_keys k ON k.id = a.key_id"
	"  WHERE a.key_id = ?4 AND a.case_id = ch.case_id AND k.all_own = 0"
	"  AND k.seq_at <= ch.seq))"
	" ORDER BY ch.seq LIMIT ?2";

/* Backlogs (head - since) up to this many rows take changes_by_seq_sql. */
#define CHANGES_SCAN_WINDOW 1024

struct changes_walk {
	const char *principal;       /* NULL: none (with key_id) */
	const char *key_id;          /* NULL: none; both NULL: every change */
	int64_t since;
	size_t limit;
	int (*cb)(void *ctx, const struct store_change *c);
	void *ctx;
	int64_t last;
};

/* Runs one of the change queries above inside a read snapshot and hands
 * each row to cb. The cursor: the last row handed out when the page is
 * full (or cb stopped the walk); otherwise every row up to the head of
 * this snapshot was scanned, and the cursor moves there, past the rows
 * the caller may not see. */
static int changes_fn(struct conn *c, void *arg)
{
	struct changes_walk *w = arg;
	struct q q = { 0 };
	int64_t head = 0;
	size_t n = 0;
	int rc = sq_one_i64(c, head_sql, NULL, &head);
	if (rc != RG_OK)
		return rc;
	bool scoped = w->principal || w->key_id;
	const char *sql = !scoped ? changes_all_sql
	                : w->since >= head - CHANGES_SCAN_WINDOW
	                ? changes_by_seq_sql : changes_by_case_sql;
	rc = sq_open(&q, c, sql);
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, w->since);
	sq_i64(&q, 2, w->limit > INT64_MAX ? INT64_MAX : (int64_t)w->limit);
	if (scoped) {
		sq_text(&q, 3, w->principal);      /* NULL matches no row */
		sq_text(&q, 4, w->key_id);
	}
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_change ch = {
			.seq = sq_col_i64(&q, 0),
			.status = (enum case_status)sq_col_int(&q, 2),
			.action = (enum case_action)sq_col_int(&q, 3),
			.at = sq_col_i64(&q, 4),
		};
		rc = sq_col_str(&q, 1, ch.case_id, sizeof ch.case_id);
		if (rc != RG_OK)
			goto out;
		w->last = ch.seq;
		n++;
		if ((rc = w->cb(w->ctx, &ch)) != 0)
			goto out;
	}
	if (rc == SQ_DONE) {
		rc = RG_OK;
		if (n < w->limit && head > w->last)
			w->last = head;
	}
out:
	sq_close(&q);
	return rc;
}

static int changes_walk(struct store *st, const char *principal,
                        const char *key_id, int64_t since, size_t limit,
                        int (*cb)(void *ctx, const struct store_change *c),
                        void *ctx, int64_t *last)
{
	struct changes_walk w = { principal, key_id, since, limit, cb, ctx,
	                          since };
	int rc = st && cb ? st_in_snapshot(st, changes_fn, &w) : RG_EINVAL;
	if (last)
		*last = w.last;
	return rc;
}

int store_changes(struct store *st, const char *principal, int64_t since,
                  size_t limit,
                  int (*cb)(void *ctx, const struct store_change *c),
                  void *ctx, int64_t *last)
{
	return changes_walk(st, principal, NULL, since, limit, cb, ctx, last);
}

/* A listed key's cases (read from the store by key id, not from
 * k->cases, so that a merge since the key was found is followed). An
 * all_own key adds nothing to its principal's own feed. */
int store_changes_for_key(struct store *st, const struct store_access_key *k,
                          int64_t since, size_t limit,
                          int (*cb)(void *ctx, const struct store_change *c),
                          void *ctx, int64_t *last)
{
	if (!k || k->all_own) {
		if (last)
			*last = since;
		return k ? RG_OK : RG_EINVAL;
	}
	return changes_walk(st, NULL, k->id, since, limit, cb, ctx, last);
}

uint64_t store_case_generation(struct store *st)
{
	return atomic_load(&st->case_gen);
}

int64_t store_changes_head(struct store *st)
{
	return atomic_load(&st->head);
}

