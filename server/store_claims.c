/*
 * store_claims.c - review claims: a reviewer claims an open case before
 * working on it, so that two reviewers do not decide the same account.
 * A claim holds until its expiry, is renewed by its holder, released by
 * its holder, and ended by a decision (actioned, no_action). Every claim,
 * renewal and release is an audit record.
 */
#include "store_int.h"

#include <string.h>

int st_claim_get(struct conn *c, const char *case_id, struct store_claim *out)
{
	struct q q = { 0 };
	struct store_claim k = { 0 };
	int rc = sq_open(&q, c, "SELECT reviewer, claimed_at, expires_at"
	                        " FROM case_claims WHERE case_id = ?1");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, case_id);
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		k.claimed_at = sq_col_i64(&q, 1);
		k.expires_at = sq_col_i64(&q, 2);
		rc = sq_col_str(&q, 0, k.reviewer, sizeof k.reviewer);
	} else if (rc == SQ_DONE) {
		rc = RG_OK;
	}
out:
	sq_close(&q);
	if (rc == RG_OK)
		*out = k;
	return rc;
}

/* Whether k is a claim that holds at `at` for someone other than who. */
static bool held_by_other(const struct store_claim *k, const char *who,
                          int64_t at)
{
	return k->reviewer[0] && k->expires_at > at &&
	       strcmp(k->reviewer, who) != 0;
}

/* The audit record of a claim or a release. */
static int claim_audit(struct txn *t, const char *kind, const char *case_id,
                       const char *reviewer, int64_t at, int64_t expires_at)
{
	char when[21];
	rg_time_format(expires_at, when);
	t->views = true;             /* claimed_by is in the reviewer's view */
	return st_audit_add_json(t, at, reviewer, kind, case_id,
	                         expires_at ? json_pack("{s:s}", "expires_at",
	                                                when)
	                                    : json_object());
}

int st_claim_take(struct txn *t, const char *case_id, const char *reviewer,
                  int64_t at, int64_t expires_at)
{
	struct store_claim k;
	struct q q = { 0 };
	int rc = st_claim_get(t->c, case_id, &k);
	if (rc != RG_OK)
		return rc;
	if (held_by_other(&k, reviewer, at))
		return RG_ECLAIMED;
	/* A renewal keeps its first claimed_at; a lapsed or foreign row is
	 * replaced. */
	bool renew = k.reviewer[0] && k.expires_at > at &&
	             strcmp(k.reviewer, reviewer) == 0;
	rc = sq_open(&q, t->c,
	             "INSERT INTO case_claims (case_id, reviewer, claimed_at,"
	             " expires_at) VALUES (?1, ?2, ?3, ?4)"
	             " ON CONFLICT (case_id) DO UPDATE SET"
	             " reviewer = excluded.reviewer,"
	             " claimed_at = excluded.claimed_at,"
	             " expires_at = excluded.expires_at");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_text(&q, 2, reviewer);
		sq_i64(&q, 3, renew ? k.claimed_at : at);
		sq_i64(&q, 4, expires_at);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	if (rc == RG_OK)
		rc = claim_audit(t, renew ? "claim_renew" : "claim", case_id,
		                 reviewer, at, expires_at);
	return rc;
}

int st_claim_end(struct txn *t, const char *case_id)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "DELETE FROM case_claims WHERE case_id = ?1");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

static bool case_open(enum case_status s)
{
	return s == CASE_RECEIVED || s == CASE_IN_REVIEW;
}

struct claim_job {
	const char *case_id;
	const char *reviewer;
	int64_t at;
	int64_t expires_at;          /* 0: a release */
	struct store_claim held;     /* the claim as it is after, or the
	                                other reviewer's that refused it */
	struct store_case after;
};

static int claim_run(struct txn *t, void *arg)
{
	struct claim_job *j = arg;
	struct store_case c;
	int rc = st_case_load(t->c, j->case_id, &c);
	if (rc == RG_OK)
		rc = st_claim_get(t->c, c.id, &j->held);
	if (rc != RG_OK)
		return rc;
	if (held_by_other(&j->held, j->reviewer, j->at))
		return RG_ECLAIMED;
	if (j->expires_at == 0) {            /* release */
		if (!j->held.reviewer[0] || j->held.expires_at <= j->at)
			return RG_ENOTFOUND;
		rc = st_claim_end(t, c.id);
		if (rc == RG_OK)
			rc = claim_audit(t, "release", c.id, j->reviewer, j->at, 0);
		memset(&j->held, 0, sizeof j->held);
	} else {
		if (!case_open(c.status))
			return RG_ECONFLICT;
		rc = st_claim_take(t, c.id, j->reviewer, j->at, j->expires_at);
		if (rc == RG_OK)
			rc = st_claim_get(t->c, c.id, &j->held);
	}
	if (rc == RG_OK)
		rc = st_case_load(t->c, c.id, &j->after);
	return rc;
}

/* Runs a claim job; copies out what the caller asked for. */
static int claim_write(struct store *st, struct claim_job *j,
                       struct store_claim *held, struct store_case *after)
{
	if (!st || !j->reviewer || !rg_name_valid(j->reviewer))
		return RG_EINVAL;
	if (!rg_id_valid(j->case_id))
		return RG_ENOTFOUND;
	int rc = st_write(st, claim_run, j);
	if ((rc == RG_OK || rc == RG_ECLAIMED) && held)
		*held = j->held;
	if (rc == RG_OK && after)
		*after = j->after;
	return rc;
}

int store_case_claim(struct store *st, const char *case_id,
                     const char *reviewer, int64_t at, int64_t expires_at,
                     struct store_claim *held, struct store_case *after)
{
	struct claim_job j = { .case_id = case_id, .reviewer = reviewer,
	                       .at = at, .expires_at = expires_at };
	if (expires_at <= at)
		return RG_EINVAL;
	return claim_write(st, &j, held, after);
}

int store_case_release(struct store *st, const char *case_id,
                       const char *reviewer, int64_t at,
                       struct store_claim *held, struct store_case *after)
{
	struct claim_job j = { .case_id = case_id, .reviewer = reviewer,
	                       .at = at };
	return claim_write(st, &j, held, after);
}
