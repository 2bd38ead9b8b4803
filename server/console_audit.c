/*
 * console_audit.c - the legal team's audit pages: the log a page at a
 * time (GET /v1/admin/audit's handler), and a check of the whole chain
 * in the gateway with the verifier `refgatectl audit verify` uses
 * (proto/audit_verify.h): records numbered without gaps, each chained to
 * the one before and hashing to its stored hash, every signed head
 * carrying the hash of its record and a valid signature by the gateway
 * key.
 */
#include "console_int.h"
#include "routes.h"
#include "../proto/audit_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT CONSOLE_PREFIX "/audit"

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

void h_console_audit_verify(struct request *req, struct response *res)
{
	struct audit_verify v = {0};
	memcpy(v.pk[0], req->app->keys.receipt_pk, sizeof v.pk[0]);
	v.n_pk = 1;
	int rc = store_audit_verify(req->app->store, &v);
	if (rc != RG_OK) {
		audit_verify_free(&v);
		page_error(req, res, 503, "Audit log", "The gateway cannot read"
		           " its audit log now; try again.");
		return;
	}
	struct html h = {0};
	page_begin(&h, req, "Audit log: verification");
	if (v.failed) {
		HTML_RAW(&h, "<p class=\"bad\" id=\"verdict\">Broken: ");
		html_textf(&h, "record %lld: %s", (long long)v.bad_seq, v.why);
		HTML_RAW(&h, "</p>");
	} else {
		HTML_RAW(&h, "<p class=\"ok\" id=\"verdict\">");
		html_textf(&h, "%lld records, %zu signed heads, chain intact.",
		           (long long)v.n_rows, v.n_heads);
		HTML_RAW(&h, "</p>");
	}
	HTML_RAW(&h, "<p class=\"muted\">Checked inside the gateway, against its"
	             " own database. For a check that does not trust the gateway,"
	             " run <code>refgatectl audit verify</code> on a copy of the"
	             " database (docs/legal.md).</p><p><a href=\"" AUDIT
	             "\">Back to the log</a></p>");
	audit_verify_free(&v);
	page_send(req, res, &h, 200);
}
