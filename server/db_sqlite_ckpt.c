/*
 * db_sqlite_ckpt.c - the SQLite writer's WAL checkpoints on a thread of
 * their own (see db_sqlite_ckpt.h).
 */
#include "db_sqlite_ckpt.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

/* Past this many times the threshold, the writer checkpoints itself. */
#define CKPT_WRITER_FACTOR 4

struct sqlite_ckpt {
	sqlite3 *writer;             /* whose hook this is */
	sqlite3 *h;                  /* the thread's own connection */
	int pages;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool due, stopping;          /* under mu */
	uint64_t runs;               /* under mu */
};

/* The writer's WAL hook, after each commit, in the writer's thread. */
static int ckpt_hook(void *arg, sqlite3 *writer, const char *db, int pages)
{
	struct sqlite_ckpt *c = arg;
	if (pages >= c->pages * CKPT_WRITER_FACTOR) {
		/* SQLITE_BUSY while the thread is at it: it is catching up */
		(void)sqlite3_wal_checkpoint_v2(writer, db,
		                                SQLITE_CHECKPOINT_PASSIVE, NULL,
		                                NULL);
		return SQLITE_OK;
	}
	if (pages >= c->pages) {
		pthread_mutex_lock(&c->mu);
		if (!c->due) {
			c->due = true;
			pthread_cond_signal(&c->cond);
		}
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
	struct sqlite_ckpt *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->due && !c->stopping)
			pthread_cond_wait(&c->cond, &c->mu);
		if (c->stopping)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->mu);
		int rc = sqlite3_wal_checkpoint_v2(c->h, "main",
		                                   SQLITE_CHECKPOINT_PASSIVE,
		                                   NULL, NULL);
		if ((rc & 0xff) != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY &&
		    (rc & 0xff) != SQLITE_LOCKED)
			log_msg(LOG_ERROR, "store: checkpoint: sqlite %d: %s", rc,
			        sqlite3_errmsg(c->h));
		pthread_mutex_lock(&c->mu);
		c->runs++;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* The thread's connection: read-write, and it has read the file once, so
 * that it knows the file is in WAL mode (before that, a checkpoint does
 * nothing and succeeds). */
static int ckpt_connect(struct sqlite_ckpt *c, const char *path,
                        int busy_timeout_ms)
{
	int rc = sqlite3_open_v2(path, &c->h,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	                         SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
	                         NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(c->h, busy_timeout_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->h, "SELECT count(*) FROM sqlite_schema",
		                  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		log_msg(LOG_ERROR, "store: checkpoint connection: sqlite %d: %s",
		        rc, c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
	return rc;
}

struct sqlite_ckpt *sqlite_ckpt_start(sqlite3 *writer, const char *path,
                                      int pages, int busy_timeout_ms)
{
	struct sqlite_ckpt *c = calloc(1, sizeof *c);
	if (!c || pages < 1)
		goto fail_alloc;
	c->pages = pages;
	c->writer = writer;
	if (ckpt_connect(c, path, busy_timeout_ms) != SQLITE_OK)
		goto fail_conn;
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		goto fail_conn;
	if (pthread_cond_init(&c->cond, NULL) != 0)
		goto fail_mu;
	if (sqlite3_wal_autocheckpoint(writer, 0) != SQLITE_OK)
		goto fail_cond;
	if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0)
		goto fail_auto;
	/* replaces the hook sqlite3_wal_autocheckpoint installs */
	sqlite3_wal_hook(writer, ckpt_hook, c);
	return c;
fail_auto:
	(void)sqlite3_wal_autocheckpoint(writer, pages);
fail_cond:
	pthread_cond_destroy(&c->cond);
fail_mu:
	pthread_mutex_destroy(&c->mu);
fail_conn:
	(void)sqlite3_close(c->h);
fail_alloc:
	free(c);
	return NULL;
}

void sqlite_ckpt_stop(struct sqlite_ckpt *c)
{
	if (!c)
		return;
	sqlite3_wal_hook(c->writer, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	(void)sqlite3_close(c->h);
	free(c);
}

uint64_t sqlite_ckpt_runs(struct sqlite_ckpt *c)
{
	pthread_mutex_lock(&c->mu);
	uint64_t n = c->runs;
	pthread_mutex_unlock(&c->mu);
	return n;
}
