/*
 * store_orders.c - removal orders (contract section 9, Regulation (EU)
 * 2021/784): the order row an agency's referral records or clarifies,
 * its answer (cannot_execute, or what its cases became), the
 * preservation hold and the notice hold, and the gauges /metrics shows.
 * The order's cases are the cases of the referrals linked to it
 * (removal_order_referrals; merges repoint referral_subjects).
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

/* The cases of order (?1 agency, ?2 reference), as a subquery. */
#define ORDER_CASES \
	"SELECT s.case_id FROM referral_subjects s" \
	" JOIN removal_order_referrals o ON o.referral_id = s.referral_id" \
	" WHERE o.agency = ?1 AND o.reference = ?2"

/* The orders that named case ?1, as a subquery of (agency, reference). */
#define CASE_ORDERS \
	"SELECT o.agency, o.reference FROM removal_order_referrals o" \
	" JOIN referral_subjects s ON s.referral_id = o.referral_id" \
	" WHERE s.case_id = ?1"

bool store_order_reason_valid(const char *s)
{
	return s && (strcmp(s, "force_majeure") == 0 ||
	             strcmp(s, "manifest_error") == 0 ||
	             strcmp(s, "insufficient_information") == 0);
}

/* ---- in the referral's transaction ---------------------------------- */

/* The order's row: new, or the same agency's order of that reference
 * joined. */
static int order_upsert(struct txn *t, const struct store_referral_in *in)
{
	const struct store_order_in *o = in->order;
	struct q q = { 0 };
	/* A clarification (the order stood at cannot_execute) restarts the
	 * clock; any other referral with the reference joins the order and
	 * leaves its clock. SET reads the row as it was. */
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO removal_orders (agency, reference,"
	                 " issuing_authority, issued_at, received_at,"
	                 " deadline_at, notice_withheld_until)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	                 " ON CONFLICT (agency, reference) DO UPDATE SET"
	                 " received_at = CASE WHEN removal_orders.status = 4"
	                 "  THEN excluded.received_at"
	                 "  ELSE removal_orders.received_at END,"
	                 " deadline_at = CASE WHEN removal_orders.status = 4"
	                 "  THEN excluded.deadline_at"
	                 "  ELSE removal_orders.deadline_at END,"
	                 " reason = CASE WHEN removal_orders.status = 4"
	                 "  THEN NULL ELSE removal_orders.reason END,"
	                 " status = 0,"
	                 " issuing_authority = COALESCE("
	                 "  removal_orders.issuing_authority,"
	                 "  excluded.issuing_authority),"
	                 " notice_withheld_until = CASE WHEN"
	                 "  removal_orders.notice_withheld_until = 0"
	                 "  THEN excluded.notice_withheld_until"
	                 "  ELSE removal_orders.notice_withheld_until END");
	if (rc == RG_OK) {
		sq_text(&q, 1, in->principal);
		sq_text(&q, 2, o->reference);
		sq_text(&q, 3, o->issuing_authority);
		sq_i64(&q, 4, o->issued_at);
		sq_i64(&q, 5, in->received_at);
		sq_i64(&q, 6, in->deadline_at);
		sq_i64(&q, 7, o->withhold_notice_until);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

int st_order_record(struct txn *t, const struct store_referral_in *in)
{
	struct q q = { 0 };
	if (!in->order)
		return RG_OK;
	int rc = order_upsert(t, in);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, t->c, "INSERT INTO removal_order_referrals"
	                       " (referral_id, agency, reference)"
	                       " VALUES (?1, ?2, ?3)");
	if (rc == RG_OK) {
		sq_text(&q, 1, in->id);
		sq_text(&q, 2, in->principal);
		sq_text(&q, 3, in->order->reference);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

int st_case_ordered(struct conn *c, const char *case_id, bool *ordered)
{
	int64_t n = 0;
	int rc = sq_one_i64(c, "SELECT COUNT(*) FROM referral_subjects s"
	                       " JOIN referrals r ON r.id = s.referral_id"
	                       " WHERE s.case_id = ?1 AND r.deadline_at > 0",
	                    case_id, &n);
	*ordered = n > 0;
	return rc;
}

int st_order_decided(struct txn *t, const char *case_id,
                     const struct store_decision *d)
{
	struct q q = { 0 };
	int rc = RG_OK;
	if (d->status == CASE_CANNOT_EXECUTE) {
		rc = sq_open(&q, t->c, "UPDATE removal_orders SET status = 4,"
		             " reason = ?2 WHERE (agency, reference) IN ("
		             CASE_ORDERS ")");
		if (rc == RG_OK) {
			sq_text(&q, 1, case_id);
			sq_text(&q, 2, d->ground);
			rc = sq_exec(&q);
		}
	} else if (d->status == CASE_ACTIONED) {
		/* Art. 6: held six months from the removal */
		rc = sq_open(&q, t->c, "UPDATE removal_orders"
		             " SET preserved_until = ?2"
		             " WHERE preserved_until < ?2"
		             " AND (agency, reference) IN (" CASE_ORDERS ")");
		if (rc == RG_OK) {
			sq_text(&q, 1, case_id);
			sq_i64(&q, 2, d->at + STORE_PRESERVE_SECONDS);
			rc = sq_exec(&q);
		}
	}
	sq_close(&q);
	return rc;
}

/* ---- reading an order ----------------------------------------------- */

static int order_row(struct conn *c, const char *agency, const char *ref,
                     struct store_order *out)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT reference, issuing_authority,"
	                        " issued_at, received_at, deadline_at, status,"
	                        " reason, preserved_until, notice_withheld_until,"
	                        " withhold_extended FROM removal_orders"
	                        " WHERE agency = ?1 AND reference = ?2");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, agency);
	sq_text(&q, 2, ref);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
		goto out;
	}
	if (rc != SQ_ROW)
		goto out;
	*out = (struct store_order){
		.issued_at = sq_col_i64(&q, 2),
		.received_at = sq_col_i64(&q, 3),
		.deadline_at = sq_col_i64(&q, 4),
		.status = sq_col_int(&q, 5) == CASE_CANNOT_EXECUTE
		          ? CASE_CANNOT_EXECUTE : CASE_RECEIVED,
		.preserved_until = sq_col_i64(&q, 7),
		.notice_withheld_until = sq_col_i64(&q, 8),
		.withhold_extended = sq_col_int(&q, 9) != 0,
	};
	rc = sq_col_str(&q, 0, out->reference, sizeof out->reference);
	if (rc == RG_OK && !sq_col_null(&q, 1))
		rc = sq_col_str(&q, 1, out->issuing_authority,
		                sizeof out->issuing_authority);
	if (rc == RG_OK && !sq_col_null(&q, 6))
		rc = sq_col_str(&q, 6, out->reason, sizeof out->reason);
out:
	sq_close(&q);
	return rc;
}

/* The order's status from its cases (unless cannot_execute). */
static int order_cases(struct conn *c, const char *agency, const char *ref,
                       struct store_order *out)
{
	struct q q = { 0 };
	bool open = false, actioned = false;
	int rc = sq_open(&q, c, "SELECT status, action, decided_at FROM cases"
	                        " WHERE id IN (" ORDER_CASES ")");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, agency);
	sq_text(&q, 2, ref);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		enum case_status s = (enum case_status)sq_col_int(&q, 0);
		int64_t at = sq_col_i64(&q, 2);
		out->n_cases++;
		if (s == CASE_RECEIVED || s == CASE_IN_REVIEW)
			open = true;
		if (s == CASE_ACTIONED) {
			actioned = true;
			if (at >= out->actioned_at) {
				out->actioned_at = at;
				out->action = (enum case_action)sq_col_int(&q, 1);
			}
		}
	}
	if (rc == SQ_DONE)
		rc = RG_OK;
	if (out->status != CASE_CANNOT_EXECUTE)
		out->status = open || out->n_cases == 0 ? CASE_RECEIVED
		              : actioned ? CASE_ACTIONED : CASE_NO_ACTION;
out:
	sq_close(&q);
	return rc;
}

static int order_load(struct conn *c, const char *agency, const char *ref,
                      struct store_order *out)
{
	int rc = order_row(c, agency, ref, out);
	if (rc == RG_OK)
		rc = order_cases(c, agency, ref, out);
	return rc;
}

static bool order_args_valid(const char *agency, const char *ref)
{
	return agency && rg_name_valid(agency) && ref && *ref &&
	       strlen(ref) <= REFERRAL_REFERENCE_MAX * 4;
}

int store_order_get(struct store *st, const char *agency,
                    const char *reference, struct store_order *out)
{
	struct conn *c;
	if (!st || !out)
		return RG_EINVAL;
	if (!order_args_valid(agency, reference))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	if ((rc = sq_read_begin(c)) != RG_OK)
		return rc;
	rc = order_load(c, agency, reference, out);
	int rc2 = sq_read_end(c);
	return rc == RG_OK ? rc2 : rc;
}

/* ---- holds ------------------------------------------------------------ */

struct hold_job {
	const char *agency, *ref, *reason;
	int64_t until, now;
	bool notice;                 /* the notice hold, else preservation */
	struct store_order out;
};

static int hold_audit(struct txn *t, const struct hold_job *h)
{
	char when[21];
	rg_time_format(h->until, when);
	return st_audit_add_json(t, h->now, h->agency,
	                         h->notice ? "notice_hold" : "preservation",
	                         h->ref, json_pack("{s:s}", "until", when));
}

static int preserve_run(struct txn *t, struct hold_job *h)
{
	struct q q = { 0 };
	if (h->until <= h->out.preserved_until)
		return RG_ECONFLICT;
	int rc = sq_open(&q, t->c, "UPDATE removal_orders SET"
	                 " preserved_until = ?3, preservation_reason = ?4"
	                 " WHERE agency = ?1 AND reference = ?2");
	if (rc == RG_OK) {
		sq_text(&q, 1, h->agency);
		sq_text(&q, 2, h->ref);
		sq_i64(&q, 3, h->until);
		sq_text(&q, 4, h->reason);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, t->c, "UPDATE cases SET preserved_until = ?3"
	             " WHERE preserved_until < ?3 AND id IN (" ORDER_CASES ")");
	if (rc == RG_OK) {
		sq_text(&q, 1, h->agency);
		sq_text(&q, 2, h->ref);
		sq_i64(&q, 3, h->until);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

static int withhold_run(struct txn *t, struct hold_job *h)
{
	struct q q = { 0 };
	int64_t cur = h->out.notice_withheld_until;
	if (h->out.withhold_extended || cur == 0 || h->until <= cur)
		return RG_ECONFLICT;
	if (h->until - cur > REFERRAL_WITHHOLD_MAX_SECONDS)
		return RG_ETOOBIG;
	int rc = sq_open(&q, t->c, "UPDATE removal_orders SET"
	                 " notice_withheld_until = ?3, withhold_extended = 1"
	                 " WHERE agency = ?1 AND reference = ?2");
	if (rc == RG_OK) {
		sq_text(&q, 1, h->agency);
		sq_text(&q, 2, h->ref);
		sq_i64(&q, 3, h->until);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

static int hold_run(struct txn *t, void *arg)
{
	struct hold_job *h = arg;
	int rc = order_load(t->c, h->agency, h->ref, &h->out);
	if (rc == RG_OK)
		rc = h->notice ? withhold_run(t, h) : preserve_run(t, h);
	if (rc == RG_OK)
		rc = hold_audit(t, h);
	if (rc == RG_OK)
		rc = order_load(t->c, h->agency, h->ref, &h->out);
	return rc;
}

static int hold(struct store *st, struct hold_job *h, struct store_order *out)
{
	if (!st || !out || h->until <= 0)
		return RG_EINVAL;
	if (!order_args_valid(h->agency, h->ref))
		return RG_ENOTFOUND;
	int rc = st_write(st, hold_run, h);
	if (rc != RG_ENOTFOUND && rc != RG_EIO && rc != RG_EFULL)
		*out = h->out;
	return rc;
}

int store_order_preserve(struct store *st, const char *agency,
                         const char *reference, int64_t until,
                         const char *reason, int64_t now,
                         struct store_order *out)
{
	struct hold_job h = { .agency = agency, .ref = reference,
	                      .reason = reason, .until = until, .now = now };
	if (!reason || !*reason)
		return RG_EINVAL;
	return hold(st, &h, out);
}

int store_order_withhold(struct store *st, const char *agency,
                         const char *reference, int64_t until, int64_t now,
                         struct store_order *out)
{
	struct hold_job h = { .agency = agency, .ref = reference,
	                      .until = until, .now = now, .notice = true };
	return hold(st, &h, out);
}

/* ---- reads for reviewers, statements and metrics --------------------- */

int store_case_notice_hold(struct store *st, const char *case_id, int64_t now,
                           int64_t *until)
{
	struct conn *c;
	struct q q = { 0 };
	*until = 0;
	if (!st || !case_id)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, "SELECT COALESCE(MAX(notice_withheld_until), 0)"
	                    " FROM removal_orders WHERE (agency, reference) IN ("
	                    CASE_ORDERS ")");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, case_id);
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		int64_t v = sq_col_i64(&q, 0);
		*until = v > now ? v : 0;
		rc = RG_OK;
	} else if (rc == SQ_DONE) {
		rc = RG_OK;
	}
out:
	sq_close(&q);
	return rc;
}

int store_order_gauges(struct store *st, int64_t now,
                       struct store_order_gauges *out)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !out)
		return RG_EINVAL;
	*out = (struct store_order_gauges){ 0 };
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	/* per order: any open case, the latest actioned case's decision */
	rc = sq_open(&q, c,
	             "SELECT ro.status, ro.deadline_at,"
	             " SUM(CASE WHEN c.status IN (0, 1) THEN 1 ELSE 0 END),"
	             " MAX(CASE WHEN c.status = 2 THEN c.decided_at ELSE 0 END)"
	             " FROM removal_orders ro"
	             " JOIN removal_order_referrals o ON o.agency = ro.agency"
	             "  AND o.reference = ro.reference"
	             " JOIN referral_subjects s ON s.referral_id = o.referral_id"
	             " JOIN cases c ON c.id = s.case_id"
	             " GROUP BY ro.agency, ro.reference, ro.status,"
	             " ro.deadline_at");
	if (rc != RG_OK)
		return rc;
	while ((rc = sq_step(&q)) == SQ_ROW) {
		int64_t deadline = sq_col_i64(&q, 1);
		int64_t actioned_at = sq_col_i64(&q, 3);
		if (sq_col_int(&q, 0) == CASE_CANNOT_EXECUTE)
			continue;
		if (sq_col_i64(&q, 2) > 0) {
			out->open++;
			if (now > deadline)
				out->overdue++;
		} else if (actioned_at > 0) {
			if (actioned_at <= deadline)
				out->within++;
			else
				out->after++;
		}
	}
	if (rc == SQ_DONE)
		rc = RG_OK;
	sq_close(&q);
	return rc;
}
