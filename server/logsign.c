/*
 * logsign.c - signing the transparency log's checkpoints (see logsign.h).
 */
#include "logsign.h"
#include "log.h"
#include "ticker.h"
#include "../proto/checkpoint.h"

#include <stdlib.h>
#include <time.h>

struct logsign {
	struct app *app;
	struct ticker *ticker;
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

static void sign_tick(void *arg)
{
	struct logsign *s = arg;
	sign_once(s->app);
}

struct logsign *logsign_start(struct app *app)
{
	struct logsign *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->app = app;
	s->ticker = ticker_start(LOGSIGN_INTERVAL, sign_tick, s);
	if (!s->ticker) {
		free(s);
		return NULL;
	}
	return s;
}

void logsign_stop(struct logsign *s)
{
	if (!s)
		return;
	ticker_stop(s->ticker);     /* signs once more if the tree grew */
	free(s);
}
