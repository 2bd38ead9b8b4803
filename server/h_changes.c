/*
 * h_changes.c - GET /v1/changes: the status changes of the cases the
 * caller may see, oldest first, with an opaque cursor that survives
 * restarts (it names a position in the durable change feed) and a long
 * poll that parks the request without holding a worker thread.
 */
#include "routes.h"
#include "views.h"
#include "cursor.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANGES_DEFAULT 100
#define CHANGES_MAX 500
#define WAIT_MAX 30

/* Parses a decimal query value in [lo, hi]; false when malformed. */
static bool query_long(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	long v = strtol(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

struct change_walk {
	const struct policy *pol;
	enum audience aud;
	json_t *list;
};

static int add_change(void *ctx, const struct store_change *c)
{
	struct change_walk *w = ctx;
	char when[21];
	rg_time_format(c->at, when);
	json_t *o = json_pack("{s:s, s:s, s:s}", "case_id", c->case_id, "status",
			      rg_status_name(c->status), "updated_at", when);
	if (!o)
		return RG_ENOMEM;
	if (c->action != ACTION_NONE)
		json_object_set_new(o, "action", json_string(rg_action_name(c->action)));
	policy_filter_case(w->pol, w->aud, NULL, o);
	json_array_append_new(w->list, o);
	return 0;
}

void h_changes(struct request *req, struct response *res)
{
	long limit = CHANGES_DEFAULT, wait = 0;
	int64_t since = 0;
	const char *ls = request_query(req, "limit");
	const char *ws = request_query(req, "wait");
	const char *cs = request_query(req, "since");
	if ((ls && !query_long(ls, 1, CHANGES_MAX, &limit)) ||
	    (ws && !query_long(ws, 0, WAIT_MAX, &wait))) {
		response_problem(res, 400, "bad_request",
				 "limit must be 1-500 and wait 0-30");
		return;
	}
	if (cs && *cs && cursor_decode(&req->app->keys, cs, &since) != RG_OK) {
		response_problem(res, 400, "bad_request", "malformed cursor");
		return;
	}
	const char *who = req->principal.role == ROLE_REVIEWER ? NULL
							       : req->principal.name;
	struct change_walk w = {.aud = views_audience(&req->principal),
				.list = json_array()};
	int64_t last = since;
	int rc = RG_OK;
	w.pol = policy_acquire(&req->app->policy);
	if (req->key) {
		/* with an access key: the key's scope, seen as its tier */
		w.aud = views_key_audience(req->key);
		rc = store_changes_for_key(req->app->store, req->key, since,
					   (size_t)limit, add_change, &w, &last);
	} else if (req->principal.role != ROLE_LEGAL) {
		rc = store_changes(req->app->store, who, since, (size_t)limit,
				   add_change, &w, &last);
	}
	policy_release(&req->app->policy);
	if (rc != RG_OK) {
		json_decref(w.list);
		response_problem(res, 503, "unavailable", NULL);
		return;
	}
	int64_t deadline = req->wait_until ? req->wait_until
					   : req->now_ms + wait * 1000;
	if (json_array_size(w.list) == 0 && req->now_ms < deadline) {
		json_decref(w.list);
		res->wait_until = deadline;
		return;
	}
	char *next = cursor_encode(&req->app->keys, last);
	response_json(res, 200, json_pack("{s:o, s:s}", "changes", w.list,
					  "next", next ? next : ""));
	free(next);
}
