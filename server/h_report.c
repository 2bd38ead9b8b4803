/*
 * h_report.c - GET /v1/admin/report?from=YYYY-MM-DD&to=YYYY-MM-DD (legal):
 * the transparency report of a period (contract section 13) as JSON,
 * the form refgatectl's HTML is made from. Every per-category cell below
 * report_min_count is sent as the string "<N".
 */
#include "routes.h"
#include "../proto/report.h"

#include <stdio.h>

static const char *const outcome_names[STORE_N_OUTCOMES] = {
	"account_suspended", "content_removed", "content_restricted",
	"no_action",
};
static const char *const ground_names[STORE_N_GROUNDS] = {
	"illegal_content", "terms_of_service",
};

/* A per-category cell: the count, or "<min" below it. */
static json_t *cell(int64_t n, int min)
{
	return n < min ? json_sprintf("<%d", min) : json_integer(n);
}

static json_t *referrals_json(const struct store_report *r, int min)
{
	json_t *by_cat = json_object();
	int64_t role[2] = { 0, 0 };
	for (int c = 0; by_cat && c < STORE_N_CATEGORIES; c++) {
		role[0] += r->referrals[0][c];
		role[1] += r->referrals[1][c];
		json_object_set_new(by_cat,
			referral_category_name((enum referral_category)c),
			json_pack("{s:o, s:o}", "partner", cell(r->referrals[0][c], min),
				  "agency", cell(r->referrals[1][c], min)));
	}
	return json_pack("{s:{s:I, s:I}, s:o}", "by_role",
			 "partner", (json_int_t)role[0], "agency", (json_int_t)role[1],
			 "by_category", by_cat);
}

static json_t *weeks_json(const struct store_report *r, int64_t base, int min)
{
	json_t *list = json_array();
	for (size_t w = 0; list && w < r->n_weeks; w++) {
		char day[REPORT_DATE_LEN + 1];
		json_t *counts = json_object();
		report_date_format(base + (int64_t)w * 7 * 86400, day);
		for (int c = 0; counts && c < STORE_N_CATEGORIES; c++)
			json_object_set_new(counts,
				referral_category_name((enum referral_category)c),
				cell(r->per_week[w][c], min));
		json_array_append_new(list, json_pack("{s:s, s:o}", "week", day,
						      "counts", counts));
	}
	return list;
}

static json_t *decisions_json(const struct store_report *r)
{
	json_t *o = json_object();
	for (int i = 0; o && i < STORE_N_OUTCOMES; i++)
		json_object_set_new(o, outcome_names[i],
			json_pack("{s:I, s:I}",
				  ground_names[0], (json_int_t)r->decisions[i][0],
				  ground_names[1], (json_int_t)r->decisions[i][1]));
	return o;
}

static json_t *seconds(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *durations_json(const struct store_report *r)
{
	json_t *o = json_object();
	for (int u = 0; o && u < STORE_N_URGENCIES; u++)
		json_object_set_new(o, referral_urgency_name((enum referral_urgency)u),
			json_pack("{s:I, s:o, s:o}", "decided", (json_int_t)r->decided[u],
				  "median_seconds", seconds(r->median_seconds[u]),
				  "p90_seconds", seconds(r->p90_seconds[u])));
	return o;
}

void h_report(struct request *req, struct response *res)
{
	const char *from = request_query(req, "from"), *to = request_query(req, "to");
	const char *why = NULL;
	int64_t start, end;
	if (report_period(from, to, &start, &end, &why) != RG_OK) {
		response_problem(res, 400, "bad_request", why);
		return;
	}
	int64_t base = report_week_start(start);
	int min = req->app->conf.report_min_count;
	struct store_report r;
	int rc = store_report(req->app->store, start, end, base, req->now, &r);
	if (rc != RG_OK) {
		response_store_error(res, rc, NULL);
		return;
	}
	json_t *o = json_pack(
		"{s:s, s:s, s:i, s:o, s:o, s:I, s:o, s:o,"
		" s:{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}}, s:{s:I, s:I},"
		" s:{s:{s:I, s:I}, s:I}}",
		"from", from, "to", to, "min_count", min,
		"referrals", referrals_json(&r, min),
		"referrals_per_week", weeks_json(&r, base, min),
		"cases_opened", (json_int_t)r.cases_opened,
		"decisions", decisions_json(&r),
		"time_to_decision", durations_json(&r),
		"removal_orders",
		"received", (json_int_t)r.orders_received,
		"actioned_within_hour", (json_int_t)r.orders_within,
		"actioned_after_hour", (json_int_t)r.orders_after,
		"not_actioned", (json_int_t)r.orders_not_actioned,
		"open", (json_int_t)r.orders_open,
		"cannot_execute",
		"force_majeure", (json_int_t)r.orders_cannot_execute[0],
		"manifest_error", (json_int_t)r.orders_cannot_execute[1],
		"insufficient_information",
		(json_int_t)r.orders_cannot_execute[2],
		"preservation_holds",
		"started", (json_int_t)r.holds_started,
		"active", (json_int_t)r.holds_active,
		"access_keys", "issued",
		"status", (json_int_t)r.keys_issued[0],
		"disclosure", (json_int_t)r.keys_issued[1],
		"disclosures", (json_int_t)r.disclosures);
	if (o)
		json_set_time(o, "generated_at", req->now);
	response_json(res, 200, o);
}
