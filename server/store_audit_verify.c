/*
 * store_audit_verify.c - the audit log of a store checked by the shared
 * verifier (proto/audit_verify.h): the signed heads first, then the end
 * of the log, then the rows up to that end, a page at a time. Used by
 * `refgatectl audit verify` (a read-only store) and the console's
 * verification page (the gateway's own).
 */
#include "store.h"
#include "../proto/audit_verify.h"

#include <string.h>

#define VERIFY_PAGE 1000

static int head_add(void *ctx, const struct store_audit_signature *s)
{
	struct audit_head h = { .seq = s->seq, .at = s->at };
	memcpy(h.hash, s->hash, sizeof h.hash);
	memcpy(h.sig, s->sig, sizeof h.sig);
	return audit_verify_add_head(ctx, &h);
}

static int row_check(void *ctx, const struct store_audit *a)
{
	const struct audit_row r = {
		.seq = a->seq, .at = a->at, .actor = a->actor, .kind = a->kind,
		.object = a->object, .detail = a->detail,
		.prev_hash = a->prev_hash, .hash = a->hash,
	};
	return audit_verify_row(ctx, &r);
}

static int page(void *src, int64_t since, struct audit_verify *v,
                int64_t *last)
{
	return store_audit_each(src, since, VERIFY_PAGE, row_check, v, last);
}

int store_audit_verify(struct store *st, struct audit_verify *v)
{
	int64_t end = 0;
	uint8_t end_hash[32];
	/* The heads first, then the end of the log: every head read names
	 * a row at or before that end, unless rows were deleted. */
	int rc = store_audit_heads_each(st, head_add, v);
	if (rc == RG_OK)
		rc = store_audit_head(st, &end, end_hash);
	if (rc == RG_OK)
		rc = audit_verify_walk(v, end, page, st);
	return rc;
}
