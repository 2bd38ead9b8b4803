/*
 * statement_evidence.c - a case's evidence media types and earliest
 * capture, for its statement of reasons (see statement_evidence.h).
 */
#include "statement_evidence.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct fold {
	struct app *app;
	struct statement_evidence ev;
	int err;
};

static void fold_item(struct fold *f, json_t *item)
{
	const char *type = json_string_value(json_object_get(item, "media_type"));
	const char *when = json_string_value(json_object_get(item, "captured_at"));
	int64_t t = 0;
	f->ev.content_types |= statement_content_type(type);
	if (when && rg_time_parse(when, &t) == RG_OK && t > 0 &&
	    (f->ev.earliest_captured_at == 0 || t < f->ev.earliest_captured_at))
		f->ev.earliest_captured_at = t;
}

static int fold_referral(void *ctx, const struct store_referral *r)
{
	struct fold *f = ctx;
	uint8_t *pt = NULL;
	size_t len = 0;
	if (!r->sealed)
		return 0;
	if (keys_open(&f->app->keys, (const uint8_t *)r->id, strlen(r->id),
	              r->sealed, r->sealed_len, &pt, &len) != RG_OK) {
		f->err = RG_ECRYPTO;
		return RG_ECRYPTO;
	}
	json_t *doc = json_loadb((const char *)pt, len, 0, NULL);
	sodium_memzero(pt, len);
	free(pt);
	json_t *evidence = json_object_get(doc, "evidence");
	size_t i;
	json_t *item;
	json_array_foreach(evidence, i, item)
		fold_item(f, item);
	json_decref(doc);       /* holds URLs: freed here, never kept */
	return 0;
}

int statement_evidence_of_case(struct app *app, const char *case_id,
                               struct statement_evidence *out)
{
	struct fold f = { .app = app };
	int rc = store_case_referrals_each(app->store, case_id, fold_referral, &f);
	if (rc == RG_OK && f.err != RG_OK)
		rc = f.err;
	if (rc == RG_OK)
		*out = f.ev;
	return rc;
}
