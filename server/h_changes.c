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

struct change_walk {
	const struct policy *pol;
	enum audience aud;
	bool reviewer;          /* in_review is for reviewers only */
	json_t *list;
};

static int add_change(void *ctx, const struct store_change *c)
{
	struct change_walk *w = ctx;
	char when[21];
	enum case_status status = c->status;
	if (!w->reviewer && status == CASE_IN_REVIEW)
		status = CASE_RECEIVED;
	rg_time_format(c->at, when);
	json_t *o = json_pack("{s:s, s:s, s:s}", "case_id", c->case_id, "status",
			      rg_status_name(status), "updated_at", when);
	if (!o)
		return RG_ENOMEM;
	if (c->action != ACTION_NONE)
		json_object_set_new(o, "action", json_string(rg_action_name(c->action)));
	policy_filter_case(w->pol, w->aud, NULL, o);
	json_array_append_new(w->list, o);
	return 0;
}

/* Up to `limit` rows of one feed, copied. */
struct feed_page {
	size_t n;
	size_t limit;
	struct store_change *rows;
};

static int collect(void *ctx, const struct store_change *c)
{
	struct feed_page *p = ctx;
	if (p->n >= p->limit)
		return RG_EIO;
	p->rows[p->n++] = *c;
	return 0;
}

/*
 * With an access key: the caller's own feed and the key's cases (shared
 * feed), merged oldest first. Each feed is read up to `limit` from its
 * own position; what is handed out is a prefix of each, so each position
 * moves to the last row of it handed out (the shared one to the head
 * read when every row it had was handed out and there were fewer than
 * `limit`).
 */
static int changes_with_key(struct request *req, struct change_walk *w,
                            size_t limit, struct feed_pos *pos)
{
	struct feed_page own = { .limit = limit }, key = { .limit = limit };
	int64_t own_last = pos->own, key_last = pos->shared;
	int rc = RG_ENOMEM;
	own.rows = calloc(limit, sizeof *own.rows);
	key.rows = calloc(limit, sizeof *key.rows);
	if (!own.rows || !key.rows)
		goto out;
	rc = store_referrer_changes(req->app->store, req->principal.name,
				    pos->own, limit, collect, &own, &own_last);
	if (rc == RG_OK)
		rc = store_changes_for_key(req->app->store, req->key, pos->shared,
					   limit, collect, &key, &key_last);
	size_t i = 0, j = 0;
	struct change_walk own_w = *w;
	own_w.aud = AUD_REFERRER;   /* its own cases, as it sees them */
	while (rc == RG_OK && i + j < limit && (i < own.n || j < key.n)) {
		bool take_own = j >= key.n ||
				(i < own.n && own.rows[i].at <= key.rows[j].at);
		if (take_own) {
			pos->own = own.rows[i].seq;
			rc = add_change(&own_w, &own.rows[i++]);
		} else {
			pos->shared = key.rows[j].seq;
			rc = add_change(w, &key.rows[j++]);
		}
	}
	if (rc == RG_OK && j == key.n && key.n < limit)
		pos->shared = key_last;
out:
	free(own.rows);
	free(key.rows);
	return rc;
}

void h_changes(struct request *req, struct response *res)
{
	int64_t limit, wait;
	struct feed_pos pos = { 0, 0 };
	const char *cs = request_query(req, "since");
	if (!request_query_int(req, res, "limit", 1, CHANGES_MAX, CHANGES_DEFAULT,
			       &limit) ||
	    !request_query_int(req, res, "wait", 0, WAIT_MAX, 0, &wait))
		return;
	if (cs && *cs && cursor_decode_feed(&req->app->keys, cs, &pos) != RG_OK) {
		response_problem(res, 400, "bad_request", "malformed cursor");
		return;
	}
	enum rg_role role = req->principal.role;
	struct change_walk w = {.aud = views_audience(&req->principal),
				.reviewer = role == ROLE_REVIEWER,
				.list = json_array()};
	int rc = RG_OK;
	w.pol = policy_acquire(&req->app->policy);
	if (req->key) {
		/* with an access key: the key's scope, seen as its tier */
		w.aud = views_key_audience(req->key);
		rc = changes_with_key(req, &w, (size_t)limit, &pos);
	} else if (role == ROLE_REVIEWER) {
		rc = store_changes(req->app->store, NULL, pos.shared,
				   (size_t)limit, add_change, &w, &pos.shared);
	} else if (role == ROLE_PARTNER || role == ROLE_AGENCY) {
		rc = store_referrer_changes(req->app->store, req->principal.name,
					    pos.own, (size_t)limit, add_change,
					    &w, &pos.own);
	}
	policy_release(&req->app->policy);
	if (rc != RG_OK) {
		json_decref(w.list);
		response_store_error(res, rc, NULL);
		return;
	}
	int64_t deadline = req->wait_until ? req->wait_until
					   : req->now_ms + wait * 1000;
	if (json_array_size(w.list) == 0 && req->now_ms < deadline) {
		json_decref(w.list);
		res->wait_until = deadline;
		return;
	}
	char *next = cursor_encode_feed(&req->app->keys, &pos);
	response_json(res, 200, json_pack("{s:o, s:s}", "changes", w.list,
					  "next", next ? next : ""));
	free(next);
}
