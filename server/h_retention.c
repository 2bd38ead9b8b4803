/*
 * h_retention.c - POST /v1/admin/purge (legal): runs the retention purge
 * now (contract section 13), as the hourly duty does, audited under the
 * caller's name.
 */
#include "routes.h"
#include "retention.h"

void h_purge(struct request *req, struct response *res)
{
	struct store_purge_result r;
	int days = req->app->conf.retention_days;
	int rc = retention_purge(req->app, req->principal.name, req->now, &r);
	if (rc != RG_OK) {
		response_store_error(res, rc, NULL);
		return;
	}
	json_t *o = json_pack("{s:i, s:I, s:I, s:I, s:I, s:b}",
			      "retention_days", days,
			      "cases", (json_int_t)r.cases,
			      "referrals", (json_int_t)r.referrals,
			      "identifiers", (json_int_t)r.identifiers,
			      "held", (json_int_t)r.held,
			      "compacted", r.compacted);
	if (o)
		json_set_time(o, "closed_before", req->now - (int64_t)days * 86400);
	response_json(res, 200, o);
}
