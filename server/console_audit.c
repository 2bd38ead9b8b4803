/*
 * console_audit.c - the legal team's audit pages: the log a page at a
 * time (GET /v1/admin/audit's handler), and a check of the whole chain
 * in the gateway: records numbered without gaps, each chained to the one
 * before and hashing to its stored hash, every signed head carrying the
 * hash of its record and a valid signature by the gateway key.
 */
#include "console_int.h"
#include "routes.h"
#include "../proto/audit_record.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT CONSOLE_PREFIX "/audit"
#define VERIFY_PAGE 1000

void h_console_audit(struct request *req, struct response *res)
{
	struct response r;
	json_t *rec;
	size_t i;
	console_call(req, h_audit_list, NULL, NULL, &r);
	json_t *ans = r.status == 200 ? console_json(&r) : NULL;
	json_t *list = json_object_get(ans, "records");
	if (!json_is_array(list)) {
		json_decref(ans);
		page_problem(req, res, &r, "Audit log");
		return;
	}
	free(r.body);
	struct html h = {0};
	page_begin(&h, req, "Audit log");
	HTML_RAW(&h, "<p><a href=\"" AUDIT "/verify\">Verify the chain and the"
	             " signed heads</a></p><table id=\"audit\"><thead><tr><th>#</th>"
	             "<th>At</th><th>Actor</th><th>Kind</th><th>Object</th>"
	             "<th>Detail</th></tr></thead><tbody>");
	json_array_foreach(list, i, rec) {
		char *detail = json_dumps(json_object_get(rec, "detail"),
		                          JSON_COMPACT | JSON_ENCODE_ANY);
		HTML_RAW(&h, "<tr><td>");
		html_int(&h, json_integer_value(json_object_get(rec, "seq")));
		HTML_RAW(&h, "</td>");
		static const char *const cols[] = {"at", "actor", "kind", "object"};
		for (size_t k = 0; k < 4; k++) {
			HTML_RAW(&h, "<td>");
			html_text(&h, json_str(rec, cols[k]));
			HTML_RAW(&h, "</td>");
		}
		HTML_RAW(&h, "<td><code>");
		html_text(&h, detail);
		HTML_RAW(&h, "</code></td></tr>");
		free(detail);
	}
	HTML_RAW(&h, "</tbody></table>");
	const char *next = json_str(ans, "next");
	if (json_array_size(list) > 0 && next && *next) {
		/* the cursor is the gateway's own base64url text */
		HTML_RAW(&h, "<p><a id=\"next\" href=\"" AUDIT "?since=");
		html_text(&h, next);
		HTML_RAW(&h, "\">Next page</a></p>");
	}
	json_decref(ans);
	page_send(req, res, &h, 200);
}

struct chain {
	int64_t n;                   /* records checked */
	uint8_t last[32];            /* the hash of record n */
	uint8_t (*hashes)[32];       /* every record's hash, for the heads */
	size_t cap;
	char bad[200];               /* the first fault, "" when none */
};

static int chain_row(void *ctx, const struct store_audit *a)
{
	struct chain *c = ctx;
	uint8_t h[32];
	if (a->seq != c->n + 1) {
		snprintf(c->bad, sizeof c->bad, "record %lld follows record %lld"
		         " (a gap)", (long long)a->seq, (long long)c->n);
		return 1;
	}
	if (memcmp(a->prev_hash, c->last, 32) != 0 ||
	    audit_record_hash(a->seq, a->at, a->actor, a->kind, a->object,
	                     a->detail, c->last, h) != RG_OK ||
	    memcmp(h, a->hash, 32) != 0) {
		snprintf(c->bad, sizeof c->bad, "record %lld does not chain to"
		         " the one before or does not hash to its stored hash"
		         " (altered)", (long long)a->seq);
		return 1;
	}
	if ((size_t)a->seq > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		void *nh = realloc(c->hashes, cap * 32);
		if (!nh)
			return RG_ENOMEM;
		c->hashes = nh;
		c->cap = cap;
	}
	memcpy(c->hashes[a->seq - 1], a->hash, 32);
	memcpy(c->last, a->hash, 32);
	c->n = a->seq;
	return 0;
}

struct heads {
	const struct chain *c;
	const uint8_t *pk;
	int64_t n;
	char *bad;
	size_t bad_cap;
};

static int head_check(void *ctx, const struct store_audit_signature *s)
{
	struct heads *hs = ctx;
	uint8_t msg[AUDIT_HEAD_MESSAGE_LEN];
	audit_head_message(s->seq, s->at, s->hash, msg);
	if (crypto_sign_verify_detached(s->sig, msg, sizeof msg, hs->pk) != 0) {
		snprintf(hs->bad, hs->bad_cap, "the signed head of record %lld"
		         " does not verify with the gateway key", (long long)s->seq);
		return 1;
	}
	if (s->seq > hs->c->n || (s->seq > 0 &&
	    memcmp(hs->c->hashes[s->seq - 1], s->hash, 32) != 0)) {
		snprintf(hs->bad, hs->bad_cap, "the signed head of record %lld"
		         " does not match the log (records removed or altered)",
		         (long long)s->seq);
		return 1;
	}
	hs->n++;
	return 0;
}

void h_console_audit_verify(struct request *req, struct response *res)
{
	struct chain c = {0};
	int64_t last = 0;
	int rc = RG_OK;
	do {
		int64_t before = c.n;
		rc = store_audit_each(req->app->store, c.n, VERIFY_PAGE, chain_row,
		                      &c, &last);
		if (rc != RG_OK || c.n == before)
			break;
	} while (!c.bad[0]);
	struct heads hs = {.c = &c, .pk = req->app->keys.receipt_pk,
	                   .bad = c.bad, .bad_cap = sizeof c.bad};
	if ((rc == RG_OK || rc == 1) && !c.bad[0])
		rc = store_audit_heads_each(req->app->store, head_check, &hs);
	free(c.hashes);
	if (rc != RG_OK && rc != 1 && !c.bad[0]) {
		page_error(req, res, 503, "Audit log", "The gateway cannot read"
		           " its audit log now; try again.");
		return;
	}
	struct html h = {0};
	page_begin(&h, req, "Audit log: verification");
	if (c.bad[0]) {
		HTML_RAW(&h, "<p class=\"bad\" id=\"verdict\">Broken: ");
		html_text(&h, c.bad);
		HTML_RAW(&h, "</p>");
	} else {
		HTML_RAW(&h, "<p class=\"ok\" id=\"verdict\">");
		html_textf(&h, "%lld records, %lld signed heads, chain intact.",
		           (long long)c.n, (long long)hs.n);
		HTML_RAW(&h, "</p>");
	}
	HTML_RAW(&h, "<p class=\"muted\">Checked inside the gateway, against its"
	             " own database. For a check that does not trust the gateway,"
	             " run <code>refgatectl audit verify</code> on a copy of the"
	             " database (docs/legal.md).</p><p><a href=\"" AUDIT
	             "\">Back to the log</a></p>");
	page_send(req, res, &h, 200);
}
