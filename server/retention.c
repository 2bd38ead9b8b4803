/*
 * retention.c - the retention duty's schedule and its one entry point
 * (see retention.h); what is erased is store_purge's.
 */
#include "retention.h"
#include "log.h"
#include "ticker.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct retention {
	struct app *app;
	struct ticker *ticker;
	atomic_bool stopping;        /* ticker_stop's last call does nothing */
};

int retention_purge(struct app *app, const char *actor, int64_t now,
                    struct store_purge_result *out)
{
	int days = app->conf.retention_days;
	int rc = store_purge(app->store, actor, now,
	                     now - (int64_t)days * 86400, days, out);
	if (rc != RG_OK) {
		log_msg(LOG_ERROR, "retention: purge failed: %s", rg_strerror(rc));
		return rc;
	}
	if (out->cases > 0 || !out->compacted)
		log_msg(out->compacted ? LOG_INFO : LOG_WARN,
		        "retention: %lld cases and %lld referrals erased, %lld held;"
		        " database file %s",
		        (long long)out->cases, (long long)out->referrals,
		        (long long)out->held,
		        out->compacted ? "compacted"
		                       : "not compacted (busy; next run)");
	return RG_OK;
}

static void purge_tick(void *arg)
{
	struct retention *r = arg;
	struct store_purge_result res;
	if (!atomic_load(&r->stopping))
		(void)retention_purge(r->app, RETENTION_ACTOR,
		                      (int64_t)time(NULL), &res);
}

struct retention *retention_start(struct app *app)
{
	struct retention *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->app = app;
	atomic_init(&r->stopping, false);
	r->ticker = ticker_start(app->conf.retention_interval, purge_tick, r);
	if (!r->ticker) {
		free(r);
		return NULL;
	}
	return r;
}

void retention_stop(struct retention *r)
{
	if (!r)
		return;
	atomic_store(&r->stopping, true);
	ticker_stop(r->ticker);
	free(r);
}
