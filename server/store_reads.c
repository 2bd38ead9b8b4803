/*
 * store_reads.c - what the store answers about cases: a case with its
 * referrals, identifiers and decisions, a referral's cases, the review
 * queue, and the counts behind partner statistics. Reads only, on this
 * thread's reader connection (store.c); st_case_live and st_case_load
 * also serve the writer. The writes are in store_cases.c.
 */
#include "store_int.h"

int st_in_snapshot(struct store *st, int (*fn)(struct conn *c, void *arg),
                   void *arg)
{
	struct conn *c;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_read_begin(c);
	if (rc != RG_OK)
		return rc;
	rc = fn(c, arg);
	int end = sq_read_end(c);
	return rc != RG_OK ? rc : end;
}

#define CASE_COLS \
	"c.id, c.status, c.action, c.opened_at, c.updated_at, c.decided_at," \
	" c.deadline_at, c.urgency, c.reopen_count," \
	" (SELECT COUNT(DISTINCT s.referral_id) FROM referral_subjects s" \
	"  WHERE s.case_id = c.id)," \
	" (SELECT COUNT(DISTINCT r.principal) FROM referral_subjects s" \
	"  JOIN referrals r ON r.id = s.referral_id" \
	"  WHERE s.case_id = c.id) AS n_principals," \
	" (SELECT k.reviewer FROM case_claims k WHERE k.case_id = c.id)," \
	" (SELECT k.expires_at FROM case_claims k WHERE k.case_id = c.id)"

static int case_read(struct q *q, struct store_case *out)
{
	out->status = (enum case_status)sq_col_int(q, 1);
	out->action = (enum case_action)sq_col_int(q, 2);
	out->opened_at = sq_col_i64(q, 3);
	out->updated_at = sq_col_i64(q, 4);
	out->decided_at = sq_col_i64(q, 5);
	out->deadline_at = sq_col_i64(q, 6);
	out->urgency = (enum referral_urgency)sq_col_int(q, 7);
	out->reopen_count = sq_col_int(q, 8);
	out->n_referrals = sq_col_int(q, 9);
	out->n_principals = sq_col_int(q, 10);
	out->claim_expires_at = sq_col_i64(q, 12);
	int rc = sq_col_str(q, 11, out->claimed_by, sizeof out->claimed_by);
	return rc == RG_OK ? sq_col_str(q, 0, out->id, sizeof out->id) : rc;
}

int st_case_load(struct conn *c, const char *id, struct store_case *out)
{
	struct q q = { 0 };
	struct store_case cs = { 0 };
	int rc = sq_open(&q, c, "SELECT " CASE_COLS " FROM cases c"
	                        " WHERE c.id = COALESCE((SELECT case_id"
	                        " FROM case_aliases WHERE alias = ?1), ?1)");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, id);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;
	else if (rc == SQ_ROW)
		rc = case_read(&q, &cs);
out:
	sq_close(&q);
	if (rc == RG_OK)
		*out = cs;
	return rc;
}

int st_case_live(struct conn *c, const char *id, char out[RG_ID_MAX + 1])
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT id FROM cases WHERE id = COALESCE("
	                        "(SELECT case_id FROM case_aliases"
	                        " WHERE alias = ?1), ?1)");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, id);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;
	else if (rc == SQ_ROW)
		rc = sq_col_str(&q, 0, out, RG_ID_MAX + 1);
out:
	sq_close(&q);
	return rc;
}

int store_case_get(struct store *st, const char *id, struct store_case *out)
{
	struct conn *c;
	if (!st || !out)
		return RG_EINVAL;
	if (!rg_id_valid(id))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	return rc == RG_OK ? st_case_load(c, id, out) : rc;
}

int store_case_referred_by(struct store *st, const char *case_id,
                           const char *principal)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !principal)
		return RG_EINVAL;
	if (!rg_id_valid(case_id))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, "SELECT 1 FROM referral_subjects s"
	                    " JOIN referrals r ON r.id = s.referral_id"
	                    " WHERE s.case_id = COALESCE((SELECT case_id"
	                    " FROM case_aliases WHERE alias = ?1), ?1)"
	                    " AND r.principal = ?2 LIMIT 1");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_text(&q, 2, principal);
		rc = sq_step(&q);
		rc = rc == SQ_ROW ? RG_OK : rc == SQ_DONE ? RG_ENOTFOUND : rc;
	}
	sq_close(&q);
	return rc;
}

#define REFERRAL_COLS \
	"r.id, r.principal, r.partner_ref, r.received_at, r.category," \
	" r.urgency, r.deadline_at, r.n_subjects"

/* Reads a referral row; with sealed, column 8 is its sealed blob (valid
 * until the statement moves). */
static int referral_read(struct q *q, struct store_referral *r, bool sealed)
{
	int rc;
	*r = (struct store_referral){
		.has_partner_ref = !sq_col_null(q, 2),
		.received_at = sq_col_i64(q, 3),
		.category = (enum referral_category)sq_col_int(q, 4),
		.urgency = (enum referral_urgency)sq_col_int(q, 5),
		.deadline_at = sq_col_i64(q, 6),
		.n_subjects = (size_t)sq_col_i64(q, 7),
	};
	if ((rc = sq_col_str(q, 0, r->id, sizeof r->id)) != RG_OK ||
	    (rc = sq_col_str(q, 1, r->principal, sizeof r->principal)) != RG_OK ||
	    (rc = sq_col_str(q, 2, r->partner_ref, sizeof r->partner_ref)) !=
	    RG_OK)
		return rc;
	if (sealed) {
		/* Empty once retention erased it (store_purge): sealed NULL. */
		r->sealed = sq_col_blob(q, 8, &r->sealed_len);
		if (r->sealed_len == 0)
			r->sealed = NULL;
	}
	return RG_OK;
}

int store_referral_get(struct store *st, const char *id,
                       struct store_referral *out)
{
	struct conn *c;
	struct q q = { 0 };
	struct store_referral r;
	if (!st || !out)
		return RG_EINVAL;
	if (!rg_id_valid(id))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, "SELECT " REFERRAL_COLS " FROM referrals r"
	                    " WHERE r.id = ?1");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, id);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;
	else if (rc == SQ_ROW)
		rc = referral_read(&q, &r, false);
out:
	sq_close(&q);
	if (rc == RG_OK)
		*out = r;
	return rc;
}

/* A walk over what belongs to one referral or case. */
struct walk {
	const char *id;
	void *ctx;
	union {
		int (*subject)(void *, size_t, const struct store_case *);
		int (*referral)(void *, const struct store_referral *);
		int (*ident)(void *, const struct store_ident *);
		int (*decision)(void *, const struct store_decision *);
	} cb;
};

static int referral_cases_fn(struct conn *c, void *arg)
{
	const struct walk *wk = arg;
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT idx, case_id FROM referral_subjects"
	                        " WHERE referral_id = ?1 ORDER BY idx");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, wk->id);
	bool any = false;
	while ((rc = sq_step(&q)) == SQ_ROW) {
		char id[RG_ID_MAX + 1];
		struct store_case cs;
		any = true;
		if ((rc = sq_col_str(&q, 1, id, sizeof id)) != RG_OK ||
		    (rc = st_case_load(c, id, &cs)) != RG_OK)
			goto out;
		if ((rc = wk->cb.subject(wk->ctx,
		                         (size_t)sq_col_i64(&q, 0),
		                         &cs)) != 0)
			goto out;
	}
	if (rc == SQ_DONE && !any)
		rc = RG_ENOTFOUND;     /* every referral has a subject */
out:
	sq_close(&q);
	return rc;
}

int store_referral_cases_each(struct store *st, const char *referral_id,
                              int (*cb)(void *ctx, size_t subject,
                                        const struct store_case *c),
                              void *ctx)
{
	struct walk wk = { .id = referral_id, .ctx = ctx, .cb.subject = cb };
	if (!st || !cb)
		return RG_EINVAL;
	if (!rg_id_valid(referral_id))
		return RG_ENOTFOUND;
	return st_in_snapshot(st, referral_cases_fn, &wk);
}

static int case_referrals_fn(struct conn *c, void *arg)
{
	const struct walk *wk = arg;
	char id[RG_ID_MAX + 1];
	struct q q = { 0 };
	int rc = st_case_live(c, wk->id, id);
	if (rc != RG_OK)
		goto out;
	rc = sq_open(&q, c, "SELECT " REFERRAL_COLS ", r.sealed FROM referrals r"
	                    " WHERE r.id IN (SELECT referral_id"
	                    " FROM referral_subjects WHERE case_id = ?1)"
	                    " ORDER BY r.received_at, r.rowid");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, id);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_referral r;
		if ((rc = referral_read(&q, &r, true)) != RG_OK ||
		    (rc = wk->cb.referral(wk->ctx, &r)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}

int store_case_referrals_each(struct store *st, const char *case_id,
                              int (*cb)(void *ctx,
                                        const struct store_referral *r),
                              void *ctx)
{
	struct walk wk = { .id = case_id, .ctx = ctx, .cb.referral = cb };
	if (!st || !cb)
		return RG_EINVAL;
	if (!rg_id_valid(case_id))
		return RG_ENOTFOUND;
	return st_in_snapshot(st, case_referrals_fn, &wk);
}

struct alias_walk {
	const char *principal;
	const char *alias;
	int (*cb)(void *ctx, const struct store_referral *r);
	void *ctx;
};

static int alias_referrals_fn(struct conn *c, void *arg)
{
	const struct alias_walk *wk = arg;
	struct q q = { 0 };
	/* Driven by the alias's subjects (referral_subjects_first), then each
	 * referral by id: CROSS JOIN keeps SQLite's planner from walking every
	 * referral of the principal instead (its index on principal looked
	 * cheaper without statistics: a status read cost O(the principal's
	 * referrals)). PostgreSQL reads it as an inner join. */
	int rc = sq_open(&q, c, "SELECT " REFERRAL_COLS ", r.sealed FROM"
	                        " (SELECT DISTINCT referral_id FROM referral_subjects"
	                        "  WHERE first_case_id = ?2) f"
	                        " CROSS JOIN referrals r"
	                        " WHERE r.id = f.referral_id AND r.principal = ?1"
	                        " ORDER BY r.received_at, r.rowid");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, wk->principal);
	sq_text(&q, 2, wk->alias);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_referral r;
		if ((rc = referral_read(&q, &r, true)) != RG_OK ||
		    (rc = wk->cb(wk->ctx, &r)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}

int store_referrer_referrals_each(struct store *st, const char *principal,
                                  const char *alias,
                                  int (*cb)(void *ctx,
                                            const struct store_referral *r),
                                  void *ctx)
{
	struct alias_walk wk = { principal, alias, cb, ctx };
	if (!st || !principal || !cb)
		return RG_EINVAL;
	if (!rg_id_valid(alias))
		return RG_ENOTFOUND;
	return st_in_snapshot(st, alias_referrals_fn, &wk);
}

static int case_idents_fn(struct conn *c, void *arg)
{
	const struct walk *wk = arg;
	char id[RG_ID_MAX + 1];
	struct q q = { 0 };
	int rc = st_case_live(c, wk->id, id);
	if (rc != RG_OK)
		goto out;
	rc = sq_open(&q, c, "SELECT kind, hash, sealed FROM case_idents"
	                    " WHERE case_id = ?1 ORDER BY rowid");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, id);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		const char *kind = sq_col_text(&q, 0);
		struct store_ident ident = {
			.kind = kind ? kind[0] : '\0',
		};
		ident.sealed = sq_col_blob(&q, 2, &ident.sealed_len);
		if (!ident.kind || !ident.sealed ||
		    (rc = sq_col_32(&q, 1, ident.hash)) != RG_OK) {
			rc = RG_EIO;
			goto out;
		}
		if ((rc = wk->cb.ident(wk->ctx, &ident)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}

int store_case_idents_each(struct store *st, const char *case_id,
                           int (*cb)(void *ctx,
                                     const struct store_ident *ident),
                           void *ctx)
{
	struct walk wk = { .id = case_id, .ctx = ctx, .cb.ident = cb };
	if (!st || !cb)
		return RG_EINVAL;
	if (!rg_id_valid(case_id))
		return RG_ENOTFOUND;
	return st_in_snapshot(st, case_idents_fn, &wk);
}

static int case_decisions_fn(struct conn *c, void *arg)
{
	const struct walk *wk = arg;
	char id[RG_ID_MAX + 1];
	struct q q = { 0 };
	int rc = st_case_live(c, wk->id, id);
	if (rc != RG_OK)
		goto out;
	rc = sq_open(&q, c, "SELECT status, action, ground, explanation,"
	                    " reviewer, at, automated, legal_ground FROM decisions"
	                    " WHERE case_id = ?1 ORDER BY id");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, id);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_decision d = {
			.status = (enum case_status)sq_col_int(&q, 0),
			.action = (enum case_action)sq_col_int(&q, 1),
			.ground = sq_col_text(&q, 2),
			.explanation = sq_col_text(&q, 3),
			.reviewer = sq_col_text(&q, 4),
			.at = sq_col_i64(&q, 5),
			.automated = sq_col_int(&q, 6) != 0,
			.legal_ground = sq_col_text(&q, 7),
		};
		if (!d.reviewer) {
			rc = RG_EIO;
			goto out;
		}
		if ((rc = wk->cb.decision(wk->ctx, &d)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}

int store_case_decisions_each(struct store *st, const char *case_id,
                              int (*cb)(void *ctx,
                                        const struct store_decision *d),
                              void *ctx)
{
	struct walk wk = { .id = case_id, .ctx = ctx, .cb.decision = cb };
	if (!st || !cb)
		return RG_EINVAL;
	if (!rg_id_valid(case_id))
		return RG_ENOTFOUND;
	return st_in_snapshot(st, case_decisions_fn, &wk);
}

int store_review_queue(struct store *st, size_t limit,
                       int (*cb)(void *ctx, const struct store_case *c),
                       void *ctx)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !cb)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	/* The contract's order: a removal-order deadline, imminent_harm,
	 * distinct principals, age. Within ties of the first three, cases
	 * take turns by the principal that opened them (round robin: each
	 * principal's oldest, then each one's second oldest, ...), so one
	 * principal's flood cannot push another's case off the first page. */
	rc = sq_open(&q, c, "WITH o (id, status, action, opened_at, updated_at,"
	                    " decided_at, deadline_at, urgency, reopen_count,"
	                    " n_referrals, n_principals, claimed_by,"
	                    " claim_expires_at, seq_opened, owner) AS"
	                    " (SELECT " CASE_COLS ", c.seq_opened,"
	                    "  (SELECT r.principal FROM referral_subjects s"
	                    "   JOIN referrals r ON r.id = s.referral_id"
	                    "   WHERE s.case_id = c.id"
	                    "   ORDER BY r.received_at, r.rowid LIMIT 1)"
	                    "  FROM cases c WHERE c.status IN (0, 1)),"
	                    " f AS (SELECT o.*, ROW_NUMBER() OVER (PARTITION BY"
	                    "  owner, deadline_at = 0, urgency = 2, n_principals"
	                    "  ORDER BY opened_at, seq_opened) AS turn FROM o)"
	                    " SELECT * FROM f"
	                    " ORDER BY deadline_at = 0, deadline_at,"
	                    " urgency = 2 DESC, n_principals DESC, turn,"
	                    " opened_at, seq_opened LIMIT ?1");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_case cs;
		if ((rc = case_read(&q, &cs)) != RG_OK ||
		    (rc = cb(ctx, &cs)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}

/* ---- statistics ----------------------------------------------------- */

/* A principal's statistics count its own views of the cases it referred
 * into (store_referrer.c): one per id it was given, with the status and
 * times it sees, so that no other principal's referral, merge or
 * reopening changes them (contract section 4). */

struct stats_walk {
	const char *principal;
	struct store_partner_stats out;
};

/* The median of opened_at -> decided_at over the n decided cases: the
 * middle value, or for an even n the mean of the two middle ones rounded
 * down. Only the one or two values needed are read (ORDER BY + OFFSET). */
static int stats_median(struct conn *c, struct stats_walk *sw, int64_t n)
{
	struct q q = { 0 };
	int64_t v[2] = { 0, 0 };
	int got = 0, want = n % 2 ? 1 : 2;
	sw->out.median_decision_seconds = -1;
	if (n <= 0)
		return RG_OK;
	int rc = sq_open(&q, c, "SELECT v.decided_at - v.opened_at AS d"
	                        " FROM referrer_cases v WHERE v.principal = ?1"
	                        " AND v.status IN (2, 3)"
	                        " ORDER BY d LIMIT ?3 OFFSET ?2");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, sw->principal);
	sq_i64(&q, 2, (n - 1) / 2);
	sq_i64(&q, 3, want);
	while (got < want && (rc = sq_step(&q)) == SQ_ROW)
		v[got++] = sq_col_i64(&q, 0);
	if (rc < 0)
		goto out;
	if (got != want) {
		rc = RG_EIO;      /* the snapshot counted otherwise */
		goto out;
	}
	rc = RG_OK;
	sw->out.median_decision_seconds = got == 1 ? v[0]
	                                           : v[0] + (v[1] - v[0]) / 2;
out:
	sq_close(&q);
	return rc;
}

static int stats_fn(struct conn *c, void *arg)
{
	struct stats_walk *sw = arg;
	struct q q = { 0 };
	int rc = sq_one_i64(c, "SELECT COUNT(*) FROM referrals"
	                       " WHERE principal = ?1", sw->principal,
	                    &sw->out.referrals);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, "SELECT v.status, COUNT(*) FROM referrer_cases v"
	                    " WHERE v.principal = ?1 GROUP BY v.status");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, sw->principal);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		int64_t n = sq_col_i64(&q, 1);
		sw->out.distinct_accounts += n;
		switch (sq_col_int(&q, 0)) {
		case CASE_ACTIONED: sw->out.actioned += n; break;
		case CASE_NO_ACTION: sw->out.no_action += n; break;
		default: sw->out.pending += n; break;
		}
	}
	if (rc != SQ_DONE)
		goto out;
	sq_close(&q);
	rc = stats_median(c, sw, sw->out.actioned + sw->out.no_action);
out:
	sq_close(&q);
	return rc;
}

int store_partner_stats(struct store *st, const char *principal,
                        struct store_partner_stats *out)
{
	struct stats_walk sw = { .principal = principal };
	if (!st || !out || !rg_name_valid(principal))
		return RG_EINVAL;
	int rc = st_in_snapshot(st, stats_fn, &sw);
	if (rc == RG_OK)
		*out = sw.out;
	return rc;
}

int store_queue_gauges(struct store *st, int64_t now,
                       struct store_queue_gauges *out)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !out)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c,
	             "SELECT COUNT(*), COALESCE(MIN(opened_at), 0),"
	             " COALESCE(SUM(CASE WHEN deadline_at > 0 AND deadline_at < ?1"
	             " THEN 1 ELSE 0 END), 0)"
	             " FROM cases WHERE status IN (0, 1)");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, now);
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		out->open = sq_col_i64(&q, 0);
		out->oldest_opened_at = sq_col_i64(&q, 1);
		out->overdue = sq_col_i64(&q, 2);
		rc = RG_OK;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
out:
	sq_close(&q);
	return rc;
}

int store_cases_count(struct store *st, int64_t *out)
{
	struct conn *c;
	int64_t n = 0;
	if (!st || !out)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc == RG_OK)
		rc = sq_one_i64(c, "SELECT COUNT(*) FROM cases", NULL, &n);
	if (rc == RG_OK)
		*out = n;
	return rc;
}
