/*
 * store_report.c - the counts behind the transparency report (contract
 * section 13), read in one snapshot. Only counts and durations leave
 * here: no ids, names or content. Suppressing small cells is the
 * caller's (h_report.c).
 */
#include "store_int.h"

#include <string.h>

#define WEEK (INT64_C(7) * 86400)

struct report_walk {
	int64_t from, to, base, now;
	struct store_report *r;
};

/* A query's integer parameters, ?1 to ?n. */
struct args {
	int n;
	int64_t v[3];
};
#define PERIOD(w) ((struct args){ 2, { (w)->from, (w)->to, 0 } })

static void bind_args(struct q *q, struct args a)
{
	for (int i = 0; i < a.n; i++)
		sq_i64(q, i + 1, a.v[i]);
}

/* Runs a query with its parameters and hands each row to fn. */
static int rows(struct conn *c, const char *sql, struct args a,
                struct store_report *r,
                int (*fn)(struct q *q, struct store_report *r))
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc != RG_OK)
		goto out;
	bind_args(&q, a);
	while ((rc = sq_step(&q)) == SQ_ROW)
		if ((rc = fn(&q, r)) != RG_OK)
			goto out;
	if (rc == SQ_DONE)
		rc = RG_OK;
out:
	sq_close(&q);
	return rc;
}

static bool in(int64_t v, int64_t n)
{
	return v >= 0 && v < n;
}

/* role, category, count */
static int row_referrals(struct q *q, struct store_report *r)
{
	int64_t role = sq_col_i64(q, 0), cat = sq_col_i64(q, 1);
	if ((role == ROLE_PARTNER || role == ROLE_AGENCY) &&
	    in(cat, STORE_N_CATEGORIES))
		r->referrals[role == ROLE_AGENCY][cat] += sq_col_i64(q, 2);
	return RG_OK;
}

/* week index, category, count */
static int row_week(struct q *q, struct store_report *r)
{
	int64_t wk = sq_col_i64(q, 0), cat = sq_col_i64(q, 1);
	if (!in(wk, (int64_t)r->n_weeks) || !in(cat, STORE_N_CATEGORIES))
		return RG_EIO;
	r->per_week[wk][cat] += sq_col_i64(q, 2);
	return RG_OK;
}

/* status, action, ground, count */
static int row_decisions(struct q *q, struct store_report *r)
{
	char ground[32];
	int64_t st = sq_col_i64(q, 0), act = sq_col_i64(q, 1);
	int rc = sq_col_str(q, 2, ground, sizeof ground);
	if (rc != RG_OK)
		return rc;
	int g = strcmp(ground, "illegal_content") == 0 ? 0
	      : strcmp(ground, "terms_of_service") == 0 ? 1 : -1;
	int o = st == CASE_NO_ACTION ? 3
	      : st == CASE_ACTIONED && act >= 1 && act <= 3 ? (int)act - 1
	      : -1;
	if (g >= 0 && o >= 0)
		r->decisions[o][g] += sq_col_i64(q, 3);
	return RG_OK;
}

/* urgency, count */
static int row_decided(struct q *q, struct store_report *r)
{
	int64_t u = sq_col_i64(q, 0);
	if (in(u, STORE_N_URGENCIES))
		r->decided[u] = sq_col_i64(q, 1);
	return RG_OK;
}

/* one removal-order referral: deadline, cases open, cases not actioned,
 * latest decision */
static int row_order(struct q *q, struct store_report *r)
{
	int64_t deadline = sq_col_i64(q, 0), open = sq_col_i64(q, 1);
	int64_t other = sq_col_i64(q, 2), last = sq_col_i64(q, 3);
	r->orders_received++;
	if (open > 0)
		r->orders_open++;
	else if (other > 0)
		r->orders_not_actioned++;
	else if (last <= deadline)
		r->orders_within++;
	else
		r->orders_after++;
	return RG_OK;
}

/* cannot_execute reason, count */
static int row_cannot_execute(struct q *q, struct store_report *r)
{
	static const char *const reasons[] = { "force_majeure",
	                                       "manifest_error",
	                                       "insufficient_information" };
	const char *reason = sq_col_text(q, 0);
	for (size_t i = 0; reason && i < 3; i++)
		if (strcmp(reason, reasons[i]) == 0)
			r->orders_cannot_execute[i] += sq_col_i64(q, 1);
	return RG_OK;
}

/* tier, count */
static int row_keys(struct q *q, struct store_report *r)
{
	int64_t tier = sq_col_i64(q, 0);
	if (tier == TIER_STATUS || tier == TIER_DISCLOSURE)
		r->keys_issued[tier - 1] += sq_col_i64(q, 1);
	return RG_OK;
}

/* One count: its only column, into *out. */
static int count(struct conn *c, const char *sql, struct args a,
                 int64_t *out)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc != RG_OK)
		goto out;
	bind_args(&q, a);
	rc = sq_step_i64(&q, out);
out:
	sq_close(&q);
	return rc;
}

/* The k-th smallest (0-based) time to decision of the period's decided
 * cases of urgency u. */
static int nth_duration(struct conn *c, const struct report_walk *w, int u,
                        int64_t k, int64_t *out)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c,
	                 "SELECT decided_at - opened_at FROM cases"
	                 " WHERE decided_at >= ?1 AND decided_at < ?2"
	                 " AND status IN (2, 3) AND urgency = ?3"
	                 " ORDER BY decided_at - opened_at LIMIT 1 OFFSET ?4");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, w->from);
	sq_i64(&q, 2, w->to);
	sq_i64(&q, 3, u);
	sq_i64(&q, 4, k);
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		*out = sq_col_i64(&q, 0);
		rc = RG_OK;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
out:
	sq_close(&q);
	return rc;
}

/* Median (the lower one) and 90th percentile (nearest rank) per urgency. */
static int durations(struct conn *c, const struct report_walk *w)
{
	struct store_report *r = w->r;
	for (int u = 0; u < STORE_N_URGENCIES; u++) {
		int64_t n = r->decided[u];
		r->median_seconds[u] = r->p90_seconds[u] = -1;
		if (n <= 0)
			continue;
		int rc = nth_duration(c, w, u, (n - 1) / 2, &r->median_seconds[u]);
		if (rc == RG_OK)
			rc = nth_duration(c, w, u, (9 * n + 9) / 10 - 1,
			                  &r->p90_seconds[u]);
		if (rc != RG_OK)
			return rc;
	}
	return RG_OK;
}

static int report_fn(struct conn *c, void *arg)
{
	const struct report_walk *w = arg;
	struct store_report *r = w->r;
	int rc = rows(c, "SELECT p.role, r.category, COUNT(*) FROM referrals r"
	                 " JOIN principals p ON p.name = r.principal"
	                 " WHERE r.received_at >= ?1 AND r.received_at < ?2"
	                 " GROUP BY p.role, r.category", PERIOD(w), r, row_referrals);
	if (rc == RG_OK)
		rc = rows(c, "SELECT (received_at - ?3) / 604800, category,"
		             " COUNT(*) FROM referrals"
		             " WHERE received_at >= ?1 AND received_at < ?2"
		             " GROUP BY 1, 2",
		          (struct args){ 3, { w->from, w->to, w->base } }, r,
		          row_week);
	if (rc == RG_OK)
		rc = count(c, "SELECT COUNT(*) FROM cases"
		              " WHERE opened_at >= ?1 AND opened_at < ?2",
		           PERIOD(w), &r->cases_opened);
	if (rc == RG_OK)
		rc = rows(c, "SELECT status, action, ground, COUNT(*)"
		             " FROM decisions WHERE at >= ?1 AND at < ?2"
		             " AND status IN (2, 3)"
		             " GROUP BY status, action, ground", PERIOD(w), r,
		          row_decisions);
	if (rc == RG_OK)
		rc = rows(c, "SELECT urgency, COUNT(*) FROM cases"
		             " WHERE decided_at >= ?1 AND decided_at < ?2"
		             " AND status IN (2, 3) GROUP BY urgency",
		          PERIOD(w), r, row_decided);
	if (rc == RG_OK)
		rc = durations(c, w);
	if (rc == RG_OK)
		rc = rows(c, "SELECT r.deadline_at,"
		             " SUM(CASE WHEN c.status IN (0, 1) THEN 1 ELSE 0 END),"
		             " SUM(CASE WHEN c.status IN (3, 4) THEN 1 ELSE 0 END),"
		             " MAX(c.decided_at)"
		             " FROM referrals r"
		             " JOIN referral_subjects s ON s.referral_id = r.id"
		             " JOIN cases c ON c.id = s.case_id"
		             " WHERE r.deadline_at > 0 AND r.received_at >= ?1"
		             " AND r.received_at < ?2"
		             " GROUP BY r.id, r.deadline_at", PERIOD(w), r,
		          row_order);
	if (rc == RG_OK)
		rc = rows(c, "SELECT ground, COUNT(*) FROM decisions"
		             " WHERE status = 4 AND at >= ?1 AND at < ?2"
		             " GROUP BY ground", PERIOD(w), r, row_cannot_execute);
	if (rc == RG_OK)
		rc = count(c, "SELECT COUNT(*) FROM cases WHERE preserved_until > 0"
		              " AND decided_at >= ?1 AND decided_at < ?2",
		           PERIOD(w), &r->holds_started);
	if (rc == RG_OK)
		rc = count(c, "SELECT COUNT(*) FROM cases"
		              " WHERE preserved_until > ?1",
		           (struct args){ 1, { w->now, 0, 0 } }, &r->holds_active);
	if (rc == RG_OK)
		rc = rows(c, "SELECT tier, COUNT(*) FROM access_keys"
		             " WHERE created_at >= ?1 AND created_at < ?2"
		             " GROUP BY tier", PERIOD(w), r, row_keys);
	if (rc == RG_OK)
		rc = count(c, "SELECT COUNT(*) FROM audit WHERE kind = 'disclosure'"
		              " AND at >= ?1 AND at < ?2", PERIOD(w),
		           &r->disclosures);
	return rc;
}

int store_report(struct store *st, int64_t from, int64_t to,
                 int64_t week_base, int64_t now, struct store_report *out)
{
	if (!st || !out || to <= from || week_base > from ||
	    (to - week_base + WEEK - 1) / WEEK > STORE_REPORT_WEEKS)
		return RG_EINVAL;
	struct store_report r;
	memset(&r, 0, sizeof r);
	r.n_weeks = (size_t)((to - week_base + WEEK - 1) / WEEK);
	struct report_walk w = { from, to, week_base, now, &r };
	int rc = st_in_snapshot(st, report_fn, &w);
	if (rc == RG_OK)
		*out = r;
	return rc;
}
