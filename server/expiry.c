/*
 * expiry.c - the certificate expiry watch (see expiry.h). A principal's
 * certificates are the ones the legal team enrolled; the watch looks at
 * the latest of each active principal's, since enrolling a new one before
 * the old one runs out is the remedy it asks for.
 */
#include "expiry.h"
#include "log.h"
#include "metrics.h"
#include "ticker.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#define EXPIRY_INTERVAL 3600
#define DAY 86400

struct expiry_watch {
	struct app *app;
	struct ticker *ticker;
	int64_t server_not_after;
	int64_t warned_day;          /* UTC day of the last warnings */
};

int64_t expiry_cert_not_after(const char *path)
{
	FILE *f = fopen(path, "rb");
	X509 *crt = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	struct tm tm;
	int64_t at = 0;
	if (crt && ASN1_TIME_to_tm(X509_get0_notAfter(crt), &tm) == 1)
		at = (int64_t)timegm(&tm);
	X509_free(crt);
	if (f)
		fclose(f);
	return at;
}

/* "in 12 days" or "3 days ago", for the log. */
static void days_text(char *buf, size_t cap, int64_t at, int64_t now)
{
	if (at > now)
		snprintf(buf, cap, "in %lld days", (long long)((at - now) / DAY));
	else
		snprintf(buf, cap, "%lld days ago", (long long)((now - at) / DAY));
}

struct principal_walk {
	int64_t now;
	bool warn;
	int64_t next;                /* earliest latest-expiry seen */
	int expiring;
};

static int principal_seen(void *ctx, const struct store_principal *p)
{
	struct principal_walk *w = ctx;
	if (p->revoked_at || !p->cert_expires_at)
		return 0;
	if (!w->next || p->cert_expires_at < w->next)
		w->next = p->cert_expires_at;
	if (p->cert_expires_at - w->now >= (int64_t)EXPIRY_WARN_DAYS * DAY)
		return 0;
	w->expiring++;
	if (w->warn) {
		char when[21], rel[32];
		rg_time_format(p->cert_expires_at, when);
		days_text(rel, sizeof rel, p->cert_expires_at, w->now);
		log_msg(LOG_WARN, "certificate of principal %s expires at %s (%s): "
			"enrol a new one (refgatectl enroll %s --csr ...)",
			p->name, when, rel, p->name);
	}
	return 0;
}

int expiry_check(struct app *app, int64_t server_not_after, int64_t now,
                 bool warn)
{
	struct principal_walk w = { .now = now, .warn = warn };
	if (store_principals_each(app->store, principal_seen, &w) != RG_OK) {
		log_msg(LOG_WARN, "certificate expiry watch: could not read the "
			"principals; the next round tries again");
		return -1;
	}
	metrics_cert_expiry(server_not_after, w.next, (uint64_t)w.expiring);
	if (warn && server_not_after &&
	    server_not_after - now < (int64_t)EXPIRY_WARN_DAYS * DAY) {
		char when[21], rel[32];
		rg_time_format(server_not_after, when);
		days_text(rel, sizeof rel, server_not_after, now);
		log_msg(LOG_WARN, "the server certificate %s expires at %s (%s): "
			"renew it (docs/operators.md, TLS) and restart",
			app->conf.tls_cert, when, rel);
	}
	return w.expiring;
}

/* Every hour: the metrics; the warnings once per UTC day. */
static void watch_tick(void *arg)
{
	struct expiry_watch *w = arg;
	int64_t now = (int64_t)time(NULL);
	bool warn = now / DAY != w->warned_day;
	if (expiry_check(w->app, w->server_not_after, now, warn) >= 0 && warn)
		w->warned_day = now / DAY;
}

struct expiry_watch *expiry_watch_start(struct app *app)
{
	struct expiry_watch *w = calloc(1, sizeof *w);
	if (!w)
		goto fail;
	w->app = app;
	w->warned_day = -1;
	char path[CONF_PATH_MAX];
	if (conf_path(&app->conf, app->conf.tls_cert, path, sizeof path) == 0)
		w->server_not_after = expiry_cert_not_after(path);
	watch_tick(w);
	if (!(w->ticker = ticker_start(EXPIRY_INTERVAL, watch_tick, w)))
		goto fail;
	return w;
fail:
	free(w);
	log_msg(LOG_WARN, "certificate expiry watch not started");
	return NULL;
}

void expiry_watch_stop(struct expiry_watch *w)
{
	if (!w)
		return;
	ticker_stop(w->ticker);      /* one more round, harmless */
	free(w);
}
