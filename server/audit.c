/*
 * audit.c - periodic signatures over the audit chain's head (see audit.h).
 */
#include "audit.h"
#include "log.h"
#include "ticker.h"
#include "../proto/audit_record.h"

#include <sodium.h>
#include <stdlib.h>
#include <time.h>

struct audit_signer {
	struct app *app;
	struct ticker *ticker;
	int64_t last_signed;         /* the ticker thread's, then the stopper's */
};

int audit_sign_head(struct app *app, int64_t *last_signed)
{
	int64_t seq;
	uint8_t hash[32], msg[AUDIT_HEAD_MESSAGE_LEN], sig[64];
	int rc = store_audit_head(app->store, &seq, hash);
	if (rc != RG_OK || seq <= *last_signed)
		return rc;
	int64_t now = (int64_t)time(NULL);
	audit_head_message(seq, now, hash, msg);
	crypto_sign_detached(sig, NULL, msg, sizeof msg, app->keys.receipt_sk);
	rc = store_audit_head_sign(app->store, seq, hash, now, sig);
	if (rc == RG_OK)
		*last_signed = seq;
	else
		log_msg(LOG_WARN, "could not record a signed audit head: %s",
			rg_strerror(rc));
	return rc;
}

static void sign_tick(void *arg)
{
	struct audit_signer *s = arg;
	audit_sign_head(s->app, &s->last_signed);
}

struct audit_signer *audit_signer_start(struct app *app)
{
	struct audit_signer *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->app = app;
	s->ticker = ticker_start(app->conf.audit_sign_interval, sign_tick, s);
	if (!s->ticker) {
		free(s);
		return NULL;
	}
	return s;
}

void audit_signer_stop(struct audit_signer *s)
{
	if (!s)
		return;
	ticker_stop(s->ticker);     /* signs the head once more at stop */
	free(s);
}
