/*
 * h_claims.c - POST and DELETE /v1/cases/{id}/claim: a reviewer claims a
 * case (or renews the claim) for claim_minutes, or releases it. Storage
 * enforces claims on decisions (store_case_decide); this file answers.
 */
#include "routes.h"

#include <stdio.h>

void h_claim_conflict(struct request *req, const char *id,
                      const struct store_claim *held, struct response *res)
{
	struct store_case c;
	char detail[200], until[21];
	const char *who = held ? held->reviewer : NULL;
	int64_t expires = held ? held->expires_at : 0;
	if (!held && store_case_get(req->app->store, id, &c) == RG_OK &&
	    c.claimed_by[0] && c.claim_expires_at > req->now) {
		who = c.claimed_by;
		expires = c.claim_expires_at;
	}
	if (who && who[0]) {
		rg_time_format(expires, until);
		snprintf(detail, sizeof detail,
			 "the case is claimed by %s until %s; ask them, or wait"
			 " until the claim expires", who, until);
	} else {
		snprintf(detail, sizeof detail,
			 "the case is claimed by another reviewer; try again");
	}
	response_problem(res, 409, "conflict", detail);
}

/* The claim as JSON: case_id, claimed_by, claimed_at, claim_expires_at. */
static json_t *claim_json(const char *case_id, const struct store_claim *k)
{
	json_t *o = json_pack("{s:s, s:s}", "case_id", case_id, "claimed_by",
			      k->reviewer);
	if (o) {
		json_set_time(o, "claimed_at", k->claimed_at);
		json_set_time(o, "claim_expires_at", k->expires_at);
	}
	return o;
}

/* 409 for a case that is no longer open. */
static void closed_case(struct request *req, struct response *res)
{
	struct store_case c;
	char detail[120];
	if (store_case_get(req->app->store, req->params[0], &c) == RG_OK)
		snprintf(detail, sizeof detail,
			 "the case is %s; only an open case can be claimed",
			 rg_status_name(c.status));
	else
		snprintf(detail, sizeof detail, "only an open case can be claimed");
	response_problem(res, 409, "bad_transition", detail);
}

void h_case_claim(struct request *req, struct response *res)
{
	struct store_claim held;
	struct store_case after;
	int64_t until = req->now + (int64_t)req->app->conf.claim_minutes * 60;
	int rc = store_case_claim(req->app->store, req->params[0],
				  req->principal.name, req->now, until, &held,
				  &after);
	if (rc == RG_OK)
		response_json(res, 200, claim_json(after.id, &held));
	else if (rc == RG_ECLAIMED)
		h_claim_conflict(req, req->params[0], &held, res);
	else if (rc == RG_ECONFLICT)
		closed_case(req, res);
	else
		response_store_error(res, rc, NULL);
}

void h_case_release(struct request *req, struct response *res)
{
	struct store_claim held;
	struct store_case after;
	int rc = store_case_release(req->app->store, req->params[0],
				    req->principal.name, req->now, &held, &after);
	if (rc == RG_OK) {
		json_t *o = json_pack("{s:s}", "case_id", after.id);
		if (o)
			json_set_time(o, "released_at", req->now);
		response_json(res, 200, o);
	} else if (rc == RG_ECLAIMED) {
		h_claim_conflict(req, req->params[0], &held, res);
	} else {
		response_store_error(res, rc, rc == RG_ENOTFOUND
				     ? "no such case, or you hold no claim on it"
				     : NULL);
	}
}
