/*
 * logsign.c - signing the transparency log's checkpoints (see logsign.h).
 */
#include "logsign.h"
#include "log.h"
#include "../proto/checkpoint.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct logsign {
	struct app *app;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

/* store_log_checkpoint_sign's signer: the note, with the receipt key. */
static int sign_note(void *ctx, uint64_t size, const uint8_t root[32],
                     char *note, size_t cap)
{
	const struct app *app = ctx;
	return checkpoint_sign(app->log_origin, size, root, app->keys.receipt_sk,
			       note, cap);
}

int logsign_current(struct app *app, int64_t now, struct store_checkpoint *cp)
{
	uint64_t size = 0;
	int rc = store_log_checkpoint_latest(app->store, cp);
	if (rc != RG_OK && rc != RG_ENOTFOUND)
		return rc;
	int grc = store_log_size(app->store, &size);
	if (grc != RG_OK)
		return grc;
	if (rc == RG_OK && cp->size >= size)
		return RG_OK;
	return store_log_checkpoint_sign(app->store, now, sign_note, app, cp);
}

/* One round: sign if the tree grew; a failure is logged, the next round
 * tries again. */
static void sign_once(struct app *app)
{
	struct store_checkpoint *cp = malloc(sizeof *cp);
	int rc = cp ? logsign_current(app, (int64_t)time(NULL), cp) : RG_ENOMEM;
	if (rc != RG_OK)
		log_msg(LOG_WARN, "could not sign a log checkpoint: %s",
			rg_strerror(rc));
	free(cp);
}

static void *signer_main(void *arg)
{
	struct logsign *s = arg;
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += LOGSIGN_INTERVAL;
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		sign_once(s->app);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct logsign *logsign_start(struct app *app)
{
	struct logsign *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->app = app;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pthread_create(&s->thread, NULL, signer_main, s) != 0) {
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

void logsign_stop(struct logsign *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	sign_once(s->app);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
