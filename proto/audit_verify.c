/*
 * audit_verify.c - the audit log's check (see audit_verify.h): the rows
 * one after the other, the signed heads held in memory, sorted, and
 * checked as the walk passes their rows.
 */
#include "audit_verify.h"
#include "audit_record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Records the first problem; returns AUDIT_VERIFY_BAD to stop the walk. */
static int bad(struct audit_verify *v, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct audit_verify *v, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	v->failed = true;
	v->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof v->why, fmt, ap);
	va_end(ap);
	return AUDIT_VERIFY_BAD;
}

int audit_verify_add_head(struct audit_verify *v, const struct audit_head *h)
{
	if (v->n_heads == v->cap_heads) {
		size_t cap = v->cap_heads ? v->cap_heads * 2 : 64;
		void *p = reallocarray(v->heads, cap, sizeof *v->heads);
		if (!p)
			return RG_ENOMEM;
		v->heads = p;
		v->cap_heads = cap;
	}
	v->heads[v->n_heads++] = *h;
	return RG_OK;
}

static int head_cmp(const void *x, const void *y)
{
	const struct audit_head *a = x, *b = y;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

static bool head_signed(const struct audit_verify *v,
                        const struct audit_head *h)
{
	uint8_t msg[AUDIT_HEAD_MESSAGE_LEN];
	audit_head_message(h->seq, h->at, h->hash, msg);
	for (size_t i = 0; i < v->n_pk; i++)
		if (crypto_sign_verify_detached(h->sig, msg, sizeof msg,
		                                v->pk[i]) == 0)
			return true;
	return false;
}

/* Checks the signed heads at seq (the row just checked, with hash; seq 0
 * and 32 zero bytes for the empty log). */
static int heads_at(struct audit_verify *v, int64_t seq,
                    const uint8_t hash[32])
{
	char at[21];
	for (; v->next_head < v->n_heads &&
	       v->heads[v->next_head].seq <= seq; v->next_head++) {
		const struct audit_head *h = &v->heads[v->next_head];
		rg_time_format(h->at, at);
		if (h->seq < seq)            /* only seq < 0 gets here */
			return bad(v, 0, "a signed head (%s) names record "
			           "%lld, which cannot exist", at,
			           (long long)h->seq);
		if (!head_signed(v, h))
			return bad(v, seq, "the signed head of %s does not "
			           "verify with the gateway key (forged head)",
			           at);
		if (memcmp(h->hash, hash, 32) != 0)
			return bad(v, seq, "hash differs from the signed head "
			           "of %s: a record in %lld..%lld was changed, "
			           "removed or moved, and the chain recomputed",
			           at, (long long)v->good_head + 1,
			           (long long)seq);
		v->good_head = seq;
	}
	return 0;
}

int audit_verify_row(struct audit_verify *v, const struct audit_row *a)
{
	uint8_t h[32];
	int64_t want = v->last_seq + 1;

	if (a->seq > v->end && v->last_seq >= v->end)
		return AUDIT_VERIFY_END; /* appended after the walk began */
	if (a->seq != want && want == 1)
		return bad(v, want, "missing (the log starts at %lld)",
		           (long long)a->seq);
	if (a->seq != want)
		return bad(v, want, "missing (the log goes from %lld to %lld)",
		           (long long)v->last_seq, (long long)a->seq);
	if (memcmp(a->prev_hash, v->last_hash, 32) != 0)
		return want == 1 ? bad(v, want, "prev_hash is not 32 zero bytes")
		       : bad(v, want, "prev_hash differs from the hash of "
		             "record %lld (a record was removed, moved or "
		             "edited)", (long long)v->last_seq);
	if (audit_record_hash(a->seq, a->at, a->actor, a->kind, a->object,
	                     a->detail, v->last_hash, h) != RG_OK)
		return bad(v, want, "cannot be hashed (a field over 1 MiB)");
	if (memcmp(h, a->hash, 32) != 0)
		return bad(v, want, "hash does not match its contents (the "
		           "record was edited)");
	v->n_rows++;
	v->last_seq = a->seq;
	memcpy(v->last_hash, a->hash, 32);
	return heads_at(v, a->seq, a->hash);
}

/* After the last row: a head beyond it means rows removed from the end. */
static int heads_beyond(struct audit_verify *v)
{
	char at[21];
	if (v->next_head >= v->n_heads)
		return 0;
	const struct audit_head *h = &v->heads[v->next_head];
	rg_time_format(h->at, at);
	if (!head_signed(v, h))
		return bad(v, h->seq, "the signed head of %s does not verify "
		           "with the gateway key (forged head)", at);
	return bad(v, v->last_seq + 1, "missing: the signed head of %s "
	           "covers records up to %lld but the log ends at %lld "
	           "(records deleted)", at, (long long)h->seq,
	           (long long)v->last_seq);
}

int audit_verify_walk(struct audit_verify *v, int64_t end,
                      audit_page_fn page, void *src)
{
	int64_t since = 0, last = 0;
	v->end = end;
	if (v->n_heads > 1)
		qsort(v->heads, v->n_heads, sizeof *v->heads, head_cmp);
	if (heads_at(v, 0, v->last_hash) == AUDIT_VERIFY_BAD)
		return RG_OK;            /* heads of the empty log */
	for (;;) {
		int rc = page(src, since, v, &last);
		if (rc == AUDIT_VERIFY_BAD)
			return RG_OK;
		if (rc == AUDIT_VERIFY_END || (rc == RG_OK && last == since)) {
			heads_beyond(v);
			return RG_OK;
		}
		if (rc != RG_OK)
			return rc;
		since = last;
	}
}

void audit_verify_free(struct audit_verify *v)
{
	free(v->heads);
	v->heads = NULL;
	v->n_heads = v->cap_heads = v->next_head = 0;
	sodium_memzero(v->pk, sizeof v->pk);
}
