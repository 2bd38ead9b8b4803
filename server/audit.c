/*
 * audit.c - periodic signatures over the audit chain's head (see audit.h).
 */
#include "audit.h"
#include "log.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <time.h>

struct audit_signer {
	struct app *app;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	int64_t last_signed;
};

int audit_sign_head(struct app *app, int64_t *last_signed)
{
	int64_t seq;
	uint8_t hash[32], msg[AUDIT_HEAD_MESSAGE_LEN], sig[64];
	int rc = store_audit_head(app->store, &seq, hash);
	if (rc != RG_OK || seq <= *last_signed)
		return rc;
	int64_t now = (int64_t)time(NULL);
	store_audit_head_message(seq, now, hash, msg);
	crypto_sign_detached(sig, NULL, msg, sizeof msg, app->keys.receipt_sk);
	rc = store_audit_head_sign(app->store, seq, hash, now, sig);
	if (rc == RG_OK)
		*last_signed = seq;
	else
		log_msg(LOG_WARN, "could not record a signed audit head: %s",
			rg_strerror(rc));
	return rc;
}

static void *signer_main(void *arg)
{
	struct audit_signer *s = arg;
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += s->app->conf.audit_sign_interval;
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
		pthread_mutex_unlock(&s->lock);
		audit_sign_head(s->app, &s->last_signed);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct audit_signer *audit_signer_start(struct app *app)
{
	struct audit_signer *s = calloc(1, sizeof *s);
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

void audit_signer_stop(struct audit_signer *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	audit_sign_head(s->app, &s->last_signed);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
