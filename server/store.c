/*
 * store.c - the store's lifecycle and write path: per-thread reader
 * connections, the one writer thread with its group commit, and the
 * principals, audit chain and change feed. Referrals and cases are in
 * store_cases.c, connections and the schema in store_schema.c.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#define BATCH_DEFAULT 64
#define BATCH_LIMIT 4096
#define BUSY_DEFAULT_MS 5000
#define AUDIT_STR_MAX (1u << 20)

/* A write waiting for the writer, on its caller's stack. */
struct job {
	int (*run)(struct txn *t, void *arg);
	void *arg;
	int rc;
	int64_t seq;                 /* highest change seq it appended */
	bool done;
	pthread_cond_t cond;
	struct job *next;
};

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
	if (!sqlite3_get_autocommit(w->db) && sq_run(w, "ROLLBACK") != RG_OK)
		st_log(__func__, w, SQLITE_ERROR, "ROLLBACK");
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
 * than n only when SQLite rolled the whole transaction back under a job
 * (it may on SQLITE_FULL, IOERR, NOMEM): that job alone is settled (moved
 * to the front) and the others are for a new transaction. On commit, the
 * highest change seq goes to *seq.
 */
static size_t writer_txn(struct store *st, struct job **jobs, size_t n,
                         int64_t *seq)
{
	struct conn *w = st->w;
	struct txn t = { .st = st, .c = w };
	int64_t max_seq = 0;
	int rc = sq_run(w, "BEGIN IMMEDIATE");
	if (rc != RG_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct job *j = jobs[i];
		rc = sq_run(w, "SAVEPOINT job");
		if (rc != RG_OK)
			goto fail;
		t.max_seq = 0;
		j->rc = j->run(&t, j->arg);
		if (j->rc == RG_OK || j->rc == RG_EREPLAY) {
			rc = sq_run(w, "RELEASE job");
			if (rc != RG_OK)
				goto fail;
			if (t.max_seq > max_seq)
				max_seq = t.max_seq;
			continue;
		}
		if (sqlite3_get_autocommit(w->db)) {
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
	rc = sq_run(w, "COMMIT");
	if (rc != RG_OK)
		goto fail;
	if (max_seq > *seq)
		*seq = max_seq;
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

/* The writer thread: takes every queued job (up to batch_max), commits
 * them together, wakes their callers, then calls the commit hook when a
 * case changed. Drains the queue before it stops. */
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

		int64_t seq = 0;
		for (size_t done = 0; done < n;)
			done += writer_txn(st, st->batch + done, n - done, &seq);
		if (seq > atomic_load(&st->head))
			atomic_store(&st->head, seq);

		pthread_mutex_lock(&st->q_mu);
		for (size_t i = 0; i < n; i++) {
			/* The caller may return (and its job vanish) as soon
			 * as we unlock: nothing touches the job after this. */
			st->batch[i]->done = true;
			pthread_cond_signal(&st->batch[i]->cond);
		}
		void (*hook)(void *) = st->hook;
		void *hook_ctx = st->hook_ctx;
		if (seq > 0 && hook) {
			st->hook_busy = true;
			pthread_mutex_unlock(&st->q_mu);
			hook(hook_ctx);
			pthread_mutex_lock(&st->q_mu);
			st->hook_busy = false;
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
	if (st->writer_started && pthread_equal(pthread_self(), st->writer)) {
		/* From the commit hook: it would wait for itself. */
		st_log(__func__, NULL, SQLITE_MISUSE, "write from the writer");
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

/* ---- lifecycle ------------------------------------------------------ */

/* The highest change seq on disk, for store_changes_head. */
static int head_load(struct store *st)
{
	struct q q = { 0 };
	int rc = sq_open(&q, st->w, "SELECT COALESCE(MAX(seq), 0) FROM changes");
	if (rc != RG_OK)
		goto out;
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		atomic_store(&st->head, sqlite3_column_int64(q.s, 0));
		rc = RG_OK;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
out:
	sq_close(&q);
	return rc;
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
	st->path = strdup(path);
	st->batch = calloc((size_t)st->opts.batch_max, sizeof *st->batch);
	if (!st->path || !st->batch)
		goto out;
	if (pthread_mutex_init(&st->q_mu, NULL) != 0)
		goto out;
	if (pthread_mutex_init(&st->reg_mu, NULL) != 0) {
		pthread_mutex_destroy(&st->q_mu);
		goto out;
	}
	if (pthread_cond_init(&st->q_cond, NULL) != 0) {
		pthread_mutex_destroy(&st->reg_mu);
		pthread_mutex_destroy(&st->q_mu);
		goto out;
	}
	if (pthread_cond_init(&st->hook_cond, NULL) != 0) {
		pthread_cond_destroy(&st->hook_cond);
		pthread_cond_destroy(&st->q_cond);
		pthread_mutex_destroy(&st->reg_mu);
		pthread_mutex_destroy(&st->q_mu);
		goto out;
	}
	st->mu_made = true;
	if (pthread_key_create(&st->key, reader_release) != 0)
		goto out;
	st->key_made = true;
	rc = st_conn_open(st, true, &st->w);
	if (rc == RG_OK)
		rc = head_load(st);
	if (rc != RG_OK)
		goto out;
	if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
		rc = RG_ENOMEM;
		goto out;
	}
	st->writer_started = true;
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

/* ---- audit ---------------------------------------------------------- */

static void be64(uint8_t b[8], int64_t v)
{
	uint64_t u = (uint64_t)v;
	for (int i = 7; i >= 0; i--, u >>= 8)
		b[i] = (uint8_t)u;
}

/* Hashes a string as 4-byte big-endian length + bytes. */
static void hash_str(crypto_generichash_state *h, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
	                   (uint8_t)(n >> 8), (uint8_t)n };
	crypto_generichash_update(h, len, sizeof len);
	if (n)
		crypto_generichash_update(h, (const uint8_t *)s, n);
}

/* The chain's one hash function; the byte layout is documented in
 * store.h beside the declaration. */
int store_audit_hash(int64_t seq, int64_t at, const char *actor,
                     const char *kind, const char *object,
                     const char *detail, const uint8_t prev[32],
                     uint8_t out[32])
{
	const char *strs[] = { actor, kind, object, detail };
	crypto_generichash_state h;
	uint8_t num[8];
	for (size_t i = 0; i < 4; i++)
		if (strs[i] && strlen(strs[i]) > AUDIT_STR_MAX)
			return RG_EINVAL;
	if (crypto_generichash_init(&h, NULL, 0, 32) != 0)
		return RG_ECRYPTO;
	crypto_generichash_update(&h, prev, 32);
	be64(num, seq);
	crypto_generichash_update(&h, num, sizeof num);
	be64(num, at);
	crypto_generichash_update(&h, num, sizeof num);
	for (size_t i = 0; i < 4; i++)
		hash_str(&h, strs[i]);
	return crypto_generichash_final(&h, out, 32) == 0 ? RG_OK
	                                                  : RG_ECRYPTO;
}

int st_audit_add(struct txn *t, int64_t at, const char *actor,
                 const char *kind, const char *object, const char *detail)
{
	uint8_t prev[32] = { 0 }, hash[32];
	int64_t seq = 1;
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
	if (rc != RG_OK)
		goto out;
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		seq = sqlite3_column_int64(q.s, 0) + 1;
		rc = sq_col_32(&q, 1, prev);
	}
	sq_close(&q);
	if (rc < 0)
		return rc;
	rc = store_audit_hash(seq, at, actor, kind, object, detail, prev, hash);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, t->c,
	             "INSERT INTO audit (seq, at, actor, kind, object, detail,"
	             " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, seq);
	sq_i64(&q, 2, at);
	sq_text(&q, 3, actor);
	sq_text(&q, 4, kind);
	sq_text(&q, 5, object);
	sq_text(&q, 6, detail);
	sq_blob(&q, 7, prev, 32);
	sq_blob(&q, 8, hash, 32);
	rc = sq_exec(&q);
out:
	sq_close(&q);
	return rc;
}

/* st_audit_add with a jansson detail, which it consumes (NULL: ENOMEM). */
static int audit_add_json(struct txn *t, int64_t at, const char *actor,
                          const char *kind, const char *object, json_t *d)
{
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER)
	               : NULL;
	int rc = text ? st_audit_add(t, at, actor, kind, object, text)
	              : RG_ENOMEM;
	free(text);
	json_decref(d);
	return rc;
}

struct audit_job {
	const char *actor, *kind, *object, *detail;
	int64_t now;
};

static int audit_job_run(struct txn *t, void *arg)
{
	struct audit_job *a = arg;
	return st_audit_add(t, a->now, a->actor, a->kind, a->object,
	                    a->detail);
}

int store_audit_append(struct store *st, const char *actor, const char *kind,
                       const char *object, const char *detail, int64_t now)
{
	struct audit_job a = { actor, kind, object, detail, now };
	if (!st || !actor || !*actor || !kind || !*kind || !object || !detail ||
	    strlen(detail) > AUDIT_STR_MAX)
		return RG_EINVAL;
	json_t *j = json_loads(detail, JSON_REJECT_DUPLICATES, NULL);
	bool ok = j && json_is_object(j);
	json_decref(j);
	if (!ok)
		return RG_EINVAL;
	return st_write(st, audit_job_run, &a);
}

int store_audit_each(struct store *st, int64_t since, size_t limit,
                     int (*cb)(void *ctx, const struct store_audit *a),
                     void *ctx, int64_t *last)
{
	struct conn *c;
	struct q q = { 0 };
	int64_t seen = since;
	if (!st || !cb)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c,
	             "SELECT seq, at, actor, kind, object, detail, prev_hash,"
	             " hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, since);
	sq_i64(&q, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_audit a = {
			.seq = sqlite3_column_int64(q.s, 0),
			.at = sqlite3_column_int64(q.s, 1),
			.actor = (const char *)sqlite3_column_text(q.s, 2),
			.kind = (const char *)sqlite3_column_text(q.s, 3),
			.object = (const char *)sqlite3_column_text(q.s, 4),
			.detail = (const char *)sqlite3_column_text(q.s, 5),
		};
		if (!a.actor || !a.kind || !a.object || !a.detail ||
		    sq_col_32(&q, 6, a.prev_hash) != RG_OK ||
		    sq_col_32(&q, 7, a.hash) != RG_OK) {
			rc = RG_EIO;
			goto out;
		}
		seen = a.seq;
		if ((rc = cb(ctx, &a)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	if (rc == SQ_DONE)
		rc = RG_OK;
	if (last)
		*last = seen;
	return rc;
}

/* ---- change feed ---------------------------------------------------- */

int st_change_add(struct txn *t, const char *case_id, enum case_status status,
                  enum case_action action, int64_t at)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO changes (case_id, status, action, at)"
	                 " VALUES (?1, ?2, ?3, ?4)");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_i64(&q, 2, status);
		sq_i64(&q, 3, action);
		sq_i64(&q, 4, at);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	if (rc == RG_OK) {
		int64_t seq = sqlite3_last_insert_rowid(t->c->db);
		if (seq > t->max_seq)
			t->max_seq = seq;
	}
	return rc;
}

static const char changes_all_sql[] =
	"SELECT seq, case_id, status, action, at FROM changes"
	" WHERE seq > ?1 ORDER BY seq LIMIT ?2";

/* A change is a principal's when it has a referral in the case; cases
 * merged away moved their changes and subjects to the survivor, so the
 * check sees them. */
static const char changes_of_sql[] =
	"SELECT seq, case_id, status, action, at FROM changes ch"
	" WHERE seq > ?1 AND EXISTS (SELECT 1 FROM referral_subjects s"
	"  JOIN referrals r ON r.id = s.referral_id"
	"  WHERE s.case_id = ch.case_id AND r.principal = ?3)"
	" ORDER BY seq LIMIT ?2";

int store_changes(struct store *st, const char *principal, int64_t since,
                  size_t limit,
                  int (*cb)(void *ctx, const struct store_change *c),
                  void *ctx, int64_t *last)
{
	struct conn *c;
	struct q q = { 0 };
	int64_t seen = since;
	int rc = st && cb ? st_reader(st, &c) : RG_EINVAL;
	if (rc != RG_OK)
		goto out;
	rc = sq_open(&q, c, principal ? changes_of_sql : changes_all_sql);
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, since);
	sq_i64(&q, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	if (principal)
		sq_text(&q, 3, principal);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_change ch = {
			.seq = sqlite3_column_int64(q.s, 0),
			.status = (enum case_status)sqlite3_column_int(q.s, 2),
			.action = (enum case_action)sqlite3_column_int(q.s, 3),
			.at = sqlite3_column_int64(q.s, 4),
		};
		rc = sq_col_str(&q, 1, ch.case_id, sizeof ch.case_id);
		if (rc != RG_OK)
			goto out;
		seen = ch.seq;
		if ((rc = cb(ctx, &ch)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	if (rc == SQ_DONE)
		rc = RG_OK;
	if (last)
		*last = seen;
	return rc;
}

int64_t store_changes_head(struct store *st)
{
	return atomic_load(&st->head);
}

/* ---- principals ----------------------------------------------------- */

static const char principal_by_spki_sql[] =
	"SELECT p.name, p.role, p.created_at, p.revoked_at"
	" FROM certs c JOIN principals p ON p.name = c.principal"
	" WHERE c.spki = ?1 AND c.revoked_at = 0 AND c.not_after > ?2"
	" AND p.revoked_at = 0";

int store_principal_by_spki(struct store *st, const uint8_t spki_sha256[32],
                            int64_t now, struct store_principal *out)
{
	struct conn *c;
	struct q q = { 0 };
	struct store_principal p = { 0 };
	if (!st || !spki_sha256 || !out)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, principal_by_spki_sql);
	if (rc != RG_OK)
		goto out;
	sq_blob(&q, 1, spki_sha256, 32);
	sq_i64(&q, 2, now);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
	} else if (rc == SQ_ROW) {
		p.role = (enum rg_role)sqlite3_column_int(q.s, 1);
		p.created_at = sqlite3_column_int64(q.s, 2);
		p.revoked_at = sqlite3_column_int64(q.s, 3);
		rc = sq_col_str(&q, 0, p.name, sizeof p.name);
	}
out:
	sq_close(&q);
	if (rc == RG_OK)
		*out = p;
	return rc;
}

static const char key_get_sql[] =
	"SELECT k.principal, k.pk FROM signing_keys k"
	" JOIN principals p ON p.name = k.principal"
	" WHERE k.kid = ?1 AND k.revoked_at = 0 AND p.revoked_at = 0";

int store_signing_key_get(struct store *st, const char *kid,
                          char owner[RG_NAME_MAX + 1], uint8_t pk[32])
{
	struct conn *c;
	struct q q = { 0 };
	char name[RG_NAME_MAX + 1];
	uint8_t key[32];
	if (!st || !owner || !pk)
		return RG_EINVAL;
	if (!rg_kid_valid(kid))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, key_get_sql);
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, kid);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;
	else if (rc == SQ_ROW && (rc = sq_col_str(&q, 0, name, sizeof name)) ==
	         RG_OK)
		rc = sq_col_32(&q, 1, key);
out:
	sq_close(&q);
	if (rc == RG_OK) {
		memcpy(owner, name, sizeof name);
		memcpy(pk, key, sizeof key);
	}
	return rc;
}

struct enrol_job {
	const char *actor, *name;
	enum rg_role role;
	const struct store_cert_in *certs;
	size_t n_certs;
	const struct store_key_in *keys;
	size_t n_keys;
	int64_t now;
};

/* RG_OK when the row the statement selects exists, RG_ENOTFOUND if not. */
static int exists_1(struct conn *c, const char *sql, const void *key,
                    size_t key_len, bool blob)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc == RG_OK) {
		if (blob)
			sq_blob(&q, 1, key, key_len);
		else
			sq_text(&q, 1, key);
		rc = sq_step(&q);
		rc = rc == SQ_ROW ? RG_OK : rc == SQ_DONE ? RG_ENOTFOUND : rc;
	}
	sq_close(&q);
	return rc;
}

/* The principal row: creates it, or checks the existing one may take
 * more credentials (active, same role). */
static int enrol_principal(struct txn *t, const struct enrol_job *e)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "SELECT role, revoked_at FROM principals"
	                           " WHERE name = ?1");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, e->name);
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		bool same = sqlite3_column_int(q.s, 0) == (int)e->role &&
		            sqlite3_column_int64(q.s, 1) == 0;
		rc = same ? RG_OK : RG_ECONFLICT;
		goto out;
	}
	if (rc != SQ_DONE)
		goto out;
	sq_close(&q);
	rc = sq_open(&q, t->c, "INSERT INTO principals (name, role, created_at)"
	                       " VALUES (?1, ?2, ?3)");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, e->name);
	sq_i64(&q, 2, e->role);
	sq_i64(&q, 3, e->now);
	rc = sq_exec(&q);
out:
	sq_close(&q);
	return rc;
}

static int enrol_cert(struct txn *t, const struct enrol_job *e,
                      const struct store_cert_in *ci)
{
	struct q q = { 0 };
	int rc = exists_1(t->c, "SELECT 1 FROM certs WHERE spki = ?1",
	                  ci->spki_sha256, 32, true);
	if (rc != RG_ENOTFOUND)
		return rc == RG_OK ? RG_EEXIST : rc;
	rc = sq_open(&q, t->c, "INSERT INTO certs (spki, principal, pem,"
	                       " not_after, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (rc == RG_OK) {
		sq_blob(&q, 1, ci->spki_sha256, 32);
		sq_text(&q, 2, e->name);
		sq_text(&q, 3, ci->pem);
		sq_i64(&q, 4, ci->not_after);
		sq_i64(&q, 5, e->now);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

static int enrol_key(struct txn *t, const struct enrol_job *e,
                     const struct store_key_in *ki)
{
	struct q q = { 0 };
	int rc = exists_1(t->c, "SELECT 1 FROM signing_keys WHERE kid = ?1",
	                  ki->kid, 0, false);
	if (rc != RG_ENOTFOUND)
		return rc == RG_OK ? RG_EEXIST : rc;
	rc = sq_open(&q, t->c, "INSERT INTO signing_keys (kid, principal, pk,"
	                       " created_at) VALUES (?1, ?2, ?3, ?4)");
	if (rc == RG_OK) {
		sq_text(&q, 1, ki->kid);
		sq_text(&q, 2, e->name);
		sq_blob(&q, 3, ki->pk, 32);
		sq_i64(&q, 4, e->now);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* Audit detail of an enrolment: role, certificate hashes (hex) and kids. */
static json_t *enrol_detail(const struct enrol_job *e)
{
	json_t *d = json_object(), *certs = json_array(), *keys = json_array();
	char hex[65];
	bool ok = d && certs && keys &&
	          json_object_set_new(d, "role",
	                              json_string(rg_role_name(e->role))) == 0;
	for (size_t i = 0; ok && i < e->n_certs; i++) {
		sodium_bin2hex(hex, sizeof hex, e->certs[i].spki_sha256, 32);
		ok = json_array_append_new(certs, json_string(hex)) == 0;
	}
	for (size_t i = 0; ok && i < e->n_keys; i++)
		ok = json_array_append_new(keys,
		                           json_string(e->keys[i].kid)) == 0;
	if (ok && json_object_set(d, "certs", certs) == 0 &&
	    json_object_set(d, "keys", keys) == 0) {
		json_decref(certs);
		json_decref(keys);
		return d;
	}
	json_decref(certs);
	json_decref(keys);
	json_decref(d);
	return NULL;
}

static int enrol_run(struct txn *t, void *arg)
{
	const struct enrol_job *e = arg;
	int rc = enrol_principal(t, e);
	for (size_t i = 0; rc == RG_OK && i < e->n_certs; i++)
		rc = enrol_cert(t, e, &e->certs[i]);
	for (size_t i = 0; rc == RG_OK && i < e->n_keys; i++)
		rc = enrol_key(t, e, &e->keys[i]);
	if (rc == RG_OK)
		rc = audit_add_json(t, e->now, e->actor, "enrol", e->name,
		                    enrol_detail(e));
	return rc;
}

int store_principal_enrol(struct store *st, const char *actor,
                          const char *name, enum rg_role role,
                          const struct store_cert_in *certs, size_t n_certs,
                          const struct store_key_in *keys, size_t n_keys,
                          int64_t now)
{
	struct enrol_job e = { actor, name, role, certs, n_certs, keys,
	                       n_keys, now };
	if (!st || !actor || !*actor || !rg_name_valid(name) ||
	    !rg_role_name(role) || (n_certs && !certs) || (n_keys && !keys))
		return RG_EINVAL;
	for (size_t i = 0; i < n_certs; i++)
		if (!certs[i].pem)
			return RG_EINVAL;
	for (size_t i = 0; i < n_keys; i++)
		if (!rg_kid_valid(keys[i].kid))
			return RG_EINVAL;
	return st_write(st, enrol_run, &e);
}

struct revoke_job {
	const char *actor, *name;
	int64_t now;
};

static const char *const revoke_sql[] = {
	"UPDATE certs SET revoked_at = ?2 WHERE principal = ?1"
	" AND revoked_at = 0",
	"UPDATE signing_keys SET revoked_at = ?2 WHERE principal = ?1"
	" AND revoked_at = 0",
	"UPDATE principals SET revoked_at = ?2 WHERE name = ?1"
	" AND revoked_at = 0",
};

static int revoke_run(struct txn *t, void *arg)
{
	const struct revoke_job *r = arg;
	int counts[3] = { 0 };
	int rc = RG_OK;
	for (size_t i = 0; rc == RG_OK && i < 3; i++) {
		struct q q = { 0 };
		rc = sq_open(&q, t->c, revoke_sql[i]);
		if (rc == RG_OK) {
			sq_text(&q, 1, r->name);
			sq_i64(&q, 2, r->now);
			rc = sq_exec(&q);
		}
		sq_close(&q);
		counts[i] = sqlite3_changes(t->c->db);
	}
	if (rc != RG_OK)
		return rc;
	if (counts[2] != 1)
		return RG_ENOTFOUND;    /* unknown or already revoked */
	return audit_add_json(t, r->now, r->actor, "revoke", r->name,
	                      json_pack("{s:i, s:i}", "certs", counts[0],
	                                "keys", counts[1]));
}

int store_principal_revoke(struct store *st, const char *actor,
                           const char *name, int64_t now)
{
	struct revoke_job r = { actor, name, now };
	if (!st || !actor || !*actor || !name)
		return RG_EINVAL;
	if (!rg_name_valid(name))
		return RG_ENOTFOUND;
	return st_write(st, revoke_run, &r);
}

int store_principals_each(struct store *st,
                          int (*cb)(void *ctx, const struct store_principal *p),
                          void *ctx)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !cb)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c,
	             "SELECT p.name, p.role, p.created_at, p.revoked_at,"
	             " (SELECT COUNT(*) FROM certs c WHERE c.principal = p.name"
	             "  AND c.revoked_at = 0),"
	             " (SELECT COUNT(*) FROM signing_keys k"
	             "  WHERE k.principal = p.name AND k.revoked_at = 0)"
	             " FROM principals p ORDER BY p.name");
	if (rc != RG_OK)
		goto out;
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_principal p = {
			.role = (enum rg_role)sqlite3_column_int(q.s, 1),
			.created_at = sqlite3_column_int64(q.s, 2),
			.revoked_at = sqlite3_column_int64(q.s, 3),
			.n_certs = (size_t)sqlite3_column_int64(q.s, 4),
			.n_keys = (size_t)sqlite3_column_int64(q.s, 5),
		};
		if ((rc = sq_col_str(&q, 0, p.name, sizeof p.name)) != RG_OK)
			goto out;
		if ((rc = cb(ctx, &p)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}
