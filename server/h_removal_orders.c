/*
 * h_removal_orders.c - an agency's removal orders (contract section 9):
 * GET /v1/removal-orders/{reference} (the Annex II feedback, signed),
 * POST .../preservation (moves the Art. 6 hold later) and POST
 * .../withhold (extends the Art. 11(3) notice hold, once). Only the
 * issuing agency finds its orders; anyone else gets 404, as for a
 * reference that does not exist.
 */
#include "routes.h"

#include "../proto/jws.h"

#include <string.h>

/* Art. 6(2): a preservation hold reaches at most this far past the
 * request that moves it. */
#define PRESERVE_MAX_SECONDS (INT64_C(365) * 86400)

/* A time member: RFC 3339 text, or null when 0. */
static json_t *time_or_null(int64_t t)
{
	char when[21];
	if (t <= 0)
		return json_null();
	rg_time_format(t, when);
	return json_string(when);
}

/* The feedback's members, in a fixed order: what the JWS signs. */
static json_t *feedback_members(const struct store_order *o, int64_t now)
{
	bool actioned = o->status == CASE_ACTIONED;
	json_t *j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "reference", json_string(o->reference));
	json_object_set_new(j, "received_at", time_or_null(o->received_at));
	json_object_set_new(j, "deadline_at", time_or_null(o->deadline_at));
	json_object_set_new(j, "status", json_string(rg_status_name(o->status)));
	const char *action = actioned ? rg_action_name(o->action) : NULL;
	json_object_set_new(j, "action", action ? json_string(action)
						: json_null());
	json_object_set_new(j, "actioned_at",
			    time_or_null(actioned ? o->actioned_at : 0));
	json_object_set_new(j, "within_deadline",
			    actioned ? json_boolean(o->actioned_at <=
						    o->deadline_at)
				     : json_null());
	json_object_set_new(j, "reason", o->status == CASE_CANNOT_EXECUTE &&
			    o->reason[0] ? json_string(o->reason) : json_null());
	json_object_set_new(j, "preserved_until",
			    time_or_null(o->preserved_until));
	json_object_set_new(j, "notice_withheld_until",
			    time_or_null(o->notice_withheld_until));
	json_object_set_new(j, "generated_at", time_or_null(now));
	return j;
}

/* 200 with the feedback and its JWS (the receipt key, typ
 * refgate-feedback+json) over the other members. */
static void send_feedback(struct request *req, struct response *res,
                          const struct store_order *o)
{
	const struct keys *k = &req->app->keys;
	json_t *j = feedback_members(o, req->now);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)
		       : NULL;
	char *jws = NULL;
	if (!text || jws_sign((const uint8_t *)text, strlen(text),
			      k->receipt_kid, "refgate-feedback+json",
			      k->receipt_sk, &jws) != RG_OK ||
	    json_object_set_new(j, "feedback", json_string(jws)) != 0) {
		json_decref(j);
		response_problem(res, 503, "unavailable", NULL);
		goto out;
	}
	response_json(res, 200, j);
out:
	free(text);
	free(jws);
}

/* The caller's own order named by the path, or 404. */
static bool own_order(struct request *req, struct response *res,
                      struct store_order *o)
{
	int rc = RG_ENOTFOUND;
	if (req->principal.role == ROLE_AGENCY)
		rc = store_order_get(req->app->store, req->principal.name,
				     req->params[0], o);
	if (rc != RG_OK)
		response_store_error(res, rc, NULL);
	return rc == RG_OK;
}

void h_order_get(struct request *req, struct response *res)
{
	struct store_order o;
	if (own_order(req, res, &o))
		send_feedback(req, res, &o);
}

/* Characters (code points) of valid UTF-8 without control characters;
 * (size_t)-1 when it holds one. */
static size_t text_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (size_t)-1;
		n += ((unsigned char)*s & 0xC0) != 0x80;
	}
	return n;
}

/* A JSON object body with only the members named in `allowed`; fills
 * items for anything else. NULL when the body is no object. */
static json_t *body_object(const struct request *req, const char *const *allowed,
                           size_t n, struct problem_items *items)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)req->body, req->body_len,
				  JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		problem_items_add(items, "body is not a JSON object", "%s", "");
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		bool ok = false;
		for (size_t i = 0; i < n; i++)
			ok = ok || strcmp(key, allowed[i]) == 0;
		if (!ok)
			problem_items_add(items, "unknown member", "/%.100s", key);
	}
	return root;
}

/* "until": RFC 3339 text or Unix seconds, after now. */
static bool parse_until(json_t *root, int64_t now, int64_t *until,
                        struct problem_items *items)
{
	json_t *v = json_object_get(root, "until");
	if (json_is_integer(v))
		*until = json_integer_value(v);
	else if (!json_is_string(v) ||
		 rg_time_parse(json_string_value(v), until) != RG_OK) {
		problem_items_add(items, "required: an RFC 3339 time or Unix "
				  "seconds", "/until");
		return false;
	}
	if (*until <= now) {
		problem_items_add(items, "must be in the future", "/until");
		return false;
	}
	return true;
}

/* One refused "until": 400 invalid_payload naming it, the rule `why`
 * and the time it is measured from. */
static void until_refused(struct response *res, const char *rule, int64_t t)
{
	struct problem_items items = {0};
	char when[21], why[160];
	rg_time_format(t, when);
	snprintf(why, sizeof why, "%s (%s)", rule, when);
	problem_items_add(&items, why, "/until");
	response_problem_items(res, 400, "invalid_payload", &items);
}

void h_order_preserve(struct request *req, struct response *res)
{
	static const char *const members[] = { "until", "reason" };
	struct problem_items items = {0};
	struct store_order o;
	int64_t until = 0;
	if (!own_order(req, res, &o))
		return;
	json_t *root = body_object(req, members, 2, &items);
	const char *reason = root ? json_string_value(json_object_get(root,
						     "reason")) : NULL;
	size_t rlen = reason ? text_chars(reason) : 0;
	if (root && parse_until(root, req->now, &until, &items) &&
	    until > req->now + PRESERVE_MAX_SECONDS)
		problem_items_add(&items, "at most 365 days after the request",
				  "/until");
	if (root && (rlen == 0 || rlen > STORE_ORDER_REASON_MAX))
		problem_items_add(&items, "required, 1-500 characters, no "
				  "control characters", "/reason");
	if (items.n > 0) {
		response_problem_items(res, 400, "invalid_payload", &items);
		goto out;
	}
	int rc = store_order_preserve(req->app->store, req->principal.name,
				      req->params[0], until, reason, req->now,
				      &o);
	if (rc == RG_OK)
		send_feedback(req, res, &o);
	else if (rc == RG_ECONFLICT)
		until_refused(res, "must be later than the hold now",
			      o.preserved_until);
	else
		response_store_error(res, rc, NULL);
out:
	json_decref(root);
}

void h_order_withhold(struct request *req, struct response *res)
{
	static const char *const members[] = { "until" };
	struct problem_items items = {0};
	struct store_order o;
	int64_t until = 0;
	if (!own_order(req, res, &o))
		return;
	json_t *root = body_object(req, members, 1, &items);
	if (root)
		parse_until(root, req->now, &until, &items);
	if (items.n > 0) {
		response_problem_items(res, 400, "invalid_payload", &items);
		goto out;
	}
	int rc = store_order_withhold(req->app->store, req->principal.name,
				      req->params[0], until, req->now, &o);
	if (rc == RG_OK)
		send_feedback(req, res, &o);
	else if (rc == RG_ETOOBIG)
		until_refused(res, "at most 6 weeks after the hold now",
			      o.notice_withheld_until);
	else if (rc == RG_ECONFLICT && o.withhold_extended)
		response_problem(res, 409, "bad_transition",
				 "the notice hold was extended before; it may "
				 "be extended once");
	else if (rc == RG_ECONFLICT && o.notice_withheld_until == 0)
		response_problem(res, 409, "bad_transition",
				 "the order has no notice hold to extend");
	else if (rc == RG_ECONFLICT)
		until_refused(res, "must be later than the hold now",
			      o.notice_withheld_until);
	else
		response_store_error(res, rc, NULL);
out:
	json_decref(root);
}
