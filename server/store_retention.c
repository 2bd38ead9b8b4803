/*
 * store_retention.c - preservation holds and the retention purge
 * (contract section 13): what erasing a closed case's identifiers and
 * its referrals' sealed content means in the tables, one transaction per
 * batch of cases, each erasure audited, then the WAL emptied into the
 * file so that the erased bytes do not linger on disk.
 */
#include "store_int.h"

#include <string.h>

#define PURGE_BATCH 100

/* ---- preservation holds ------------------------------------------- */

int st_hold_actioned(struct txn *t, const char *case_id, int64_t at)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "UPDATE cases SET preserved_until = ?2"
	                 " WHERE id = ?1 AND preserved_until < ?2"
	                 " AND EXISTS (SELECT 1 FROM referral_subjects s"
	                 "  JOIN referrals r ON r.id = s.referral_id"
	                 "  WHERE s.case_id = ?1 AND r.deadline_at > 0)");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_i64(&q, 2, at + STORE_PRESERVE_SECONDS);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* ---- the purge ------------------------------------------------------ */

struct purge_job {
	const char *actor;
	int64_t now, cutoff;
	int retention_days;
	int64_t cases, referrals, identifiers;   /* this transaction's */
};

/* Every copy of the case's identifier hashes other than case_idents
 * (ordered before the DELETE of case_idents, which they read): the
 * referrals' provenance, the referrers' own index, what listed keys may
 * disclose. Each uses its table's primary key. */
static const char *const erase_copies_sql[] = {
	"DELETE FROM referral_idents WHERE hash IN"
	" (SELECT hash FROM case_idents WHERE case_id = ?1)",
	"DELETE FROM referrer_idents WHERE principal IN"
	" (SELECT principal FROM referrer_cases WHERE case_id = ?1)"
	" AND hash IN (SELECT hash FROM case_idents WHERE case_id = ?1)",
	"DELETE FROM access_key_idents WHERE key_id IN"
	" (SELECT key_id FROM access_key_cases WHERE case_id = ?1)"
	" AND hash IN (SELECT hash FROM case_idents WHERE case_id = ?1)",
};

static int run_case_sql(struct txn *t, const char *sql, const char *case_id,
                        int64_t *changed)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, sql);
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		rc = sq_exec(&q);
	}
	if (rc == RG_OK && changed)
		*changed = sq_changes(&q);
	sq_close(&q);
	return rc;
}

/* Erases one case's identifiers, marks it purged, erases the content of
 * its referrals that name no case left unpurged, and audits it. */
static int purge_case(struct txn *t, struct purge_job *pj,
                      const char *case_id, int64_t closed_at)
{
	int64_t idents = 0, refs = 0, marked = 0;
	/* Marked first: a case another run (another node) erased meanwhile
	 * is skipped, so that no case is erased or audited twice. */
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "UPDATE cases SET purged_at = ?2"
	                           " WHERE id = ?1 AND purged_at = 0");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_i64(&q, 2, pj->now);
		rc = sq_exec(&q);
	}
	if (rc == RG_OK)
		marked = sq_changes(&q);
	sq_close(&q);
	if (rc != RG_OK || marked == 0)
		return rc;
	for (size_t i = 0; rc == RG_OK && i < sizeof erase_copies_sql /
	                                      sizeof erase_copies_sql[0]; i++)
		rc = run_case_sql(t, erase_copies_sql[i], case_id, NULL);
	if (rc == RG_OK)
		rc = run_case_sql(t, "DELETE FROM case_idents WHERE case_id = ?1",
		                  case_id, &idents);
	if (rc != RG_OK)
		return rc;
	/* A referral naming several accounts keeps its content while any
	 * of its cases is not erased (held, open, or not yet due). */
	rc = sq_open(&q, t->c,
	             "UPDATE referrals SET sealed = ?2, purged_at = ?3"
	             " WHERE purged_at = 0 AND id IN (SELECT referral_id"
	             "  FROM referral_subjects WHERE case_id = ?1)"
	             " AND NOT EXISTS (SELECT 1 FROM referral_subjects s"
	             "  JOIN cases c ON c.id = s.case_id"
	             "  WHERE s.referral_id = referrals.id AND c.purged_at = 0)");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_blob(&q, 2, NULL, 0);
		sq_i64(&q, 3, pj->now);
		rc = sq_exec(&q);
	}
	if (rc == RG_OK)
		refs = sq_changes(&q);
	sq_close(&q);
	if (rc != RG_OK)
		return rc;
	rc = st_audit_add_json(t, pj->now, pj->actor, "purge", case_id,
	                       json_pack("{s:I, s:i, s:I, s:I}",
	                                 "closed_at", (json_int_t)closed_at,
	                                 "retention_days", pj->retention_days,
	                                 "identifiers", (json_int_t)idents,
	                                 "referrals", (json_int_t)refs));
	if (rc == RG_OK) {
		pj->cases++;
		pj->identifiers += idents;
		pj->referrals += refs;
	}
	return rc;
}

struct due_case {
	char id[RG_ID_MAX + 1];
	int64_t closed_at;
};

/* One transaction: up to PURGE_BATCH due cases, oldest decision first. */
static int purge_run(struct txn *t, void *arg)
{
	struct purge_job *pj = arg;
	struct due_case due[PURGE_BATCH];
	size_t n = 0;
	struct q q = { 0 };
	pj->cases = pj->referrals = pj->identifiers = 0;
	int rc = sq_open(&q, t->c,
	                 "SELECT id, decided_at FROM cases"
	                 " WHERE purged_at = 0 AND decided_at > 0"
	                 " AND decided_at <= ?1 AND status IN (2, 3)"
	                 " AND preserved_until <= ?2"
	                 " ORDER BY decided_at, id LIMIT ?3");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, pj->cutoff);
	sq_i64(&q, 2, pj->now);
	sq_i64(&q, 3, PURGE_BATCH);
	while ((rc = sq_step(&q)) == SQ_ROW && n < PURGE_BATCH) {
		due[n].closed_at = sq_col_i64(&q, 1);
		if ((rc = sq_col_str(&q, 0, due[n].id, sizeof due[n].id)) != RG_OK)
			goto out;
		n++;
	}
	if (rc == SQ_ROW || rc == SQ_DONE)
		rc = RG_OK;
out:
	sq_close(&q);
	for (size_t i = 0; rc == RG_OK && i < n; i++)
		rc = purge_case(t, pj, due[i].id, due[i].closed_at);
	return rc;
}

/* Closed before the cutoff and still held: what a purge left alone. */
static int held_fn(struct conn *c, void *arg)
{
	int64_t *v = arg;
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT COUNT(*) FROM cases"
	                        " WHERE purged_at = 0 AND decided_at > 0"
	                        " AND decided_at <= ?1 AND status IN (2, 3)"
	                        " AND preserved_until > ?2");
	if (rc == RG_OK) {
		sq_i64(&q, 1, v[0]);
		sq_i64(&q, 2, v[1]);
		rc = sq_step(&q);
		if (rc == SQ_ROW) {
			v[2] = sq_col_i64(&q, 0);
			rc = RG_OK;
		} else if (rc == SQ_DONE) {
			rc = RG_EIO;
		}
	}
	sq_close(&q);
	return rc;
}

int store_purge(struct store *st, const char *actor, int64_t now,
                int64_t cutoff, int retention_days,
                struct store_purge_result *out)
{
	struct purge_job pj = { .actor = actor, .now = now, .cutoff = cutoff,
	                        .retention_days = retention_days };
	struct store_purge_result r = { 0 };
	int rc;
	if (!st || !actor || !*actor || !out)
		return RG_EINVAL;
	do {
		rc = st_write(st, purge_run, &pj);
		if (rc != RG_OK)
			return rc;
		r.cases += pj.cases;
		r.referrals += pj.referrals;
		r.identifiers += pj.identifiers;
	} while (pj.cases == PURGE_BATCH);
	int64_t held[3] = { cutoff, now, 0 };
	rc = st_in_snapshot(st, held_fn, held);
	if (rc != RG_OK)
		return rc;
	r.held = held[2];
	rc = st_wal_truncate(st, &r.compacted);
	if (rc != RG_OK)
		return rc;
	*out = r;
	return RG_OK;
}
