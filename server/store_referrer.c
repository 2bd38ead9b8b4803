/*
 * store_referrer.c - what a partner or agency sees of the cases it
 * referred into (contract section 4, "Referrers learn nothing of each
 * other"): its own view of each case, kept apart from the case itself.
 *
 * referrer_cases holds one row per (principal, alias): the id the
 * principal was first given for a case (the case's own id when its
 * referral opened it, a fresh alias when it joined someone else's), the
 * live case it resolves to (merges repoint it), and the view the
 * principal is shown: status (received until a decision), action, its
 * own opened_at (first referral), updated_at (the later of its own last
 * referral and the decision), decided_at and the deadline of its own
 * removal order. Only the principal's own referrals and decisions change
 * a row; another principal's referral, a merge it causes, a reopening or
 * a reviewer taking the case into review change none.
 *
 * referrer_idents remembers which identifiers each principal named under
 * which alias, so that a later subject of the same principal lands on the
 * alias it named the account under before, and a subject naming only an
 * identifier the principal never named gets a fresh alias, as it would
 * in a world where no one else had referred the account.
 *
 * referrer_feed is each principal's own change feed, numbered 1, 2, 3...
 * per principal: other principals' activity never moves it.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The alias under which `principal` named one of the subject's
 * identifiers before, on the live case `case_id`. RG_ENOTFOUND. */
static int alias_by_idents(struct conn *c, const char *principal,
                           const struct store_subject *s, const char *case_id,
                           char alias[RG_ID_MAX + 1])
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT i.alias FROM referrer_idents i"
	                        " JOIN referrer_cases v ON v.principal = i.principal"
	                        " AND v.alias = i.alias"
	                        " WHERE i.principal = ?1 AND i.hash IN (?2, ?3)"
	                        " AND v.case_id = ?4"
	                        " ORDER BY v.opened_at, v.alias LIMIT 1");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, principal);
	sq_blob(&q, 2, s->idents[0].hash, 32);
	sq_blob(&q, 3, s->idents[s->n_idents > 1 ? 1 : 0].hash, 32);
	sq_text(&q, 4, case_id);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;
	else if (rc == SQ_ROW)
		rc = sq_col_str(&q, 0, alias, RG_ID_MAX + 1);
out:
	sq_close(&q);
	return rc;
}

/* A new view row for a case the principal's referral reaches under a new
 * alias; the alias resolves to the case for everyone (case_aliases)
 * unless it is the case's own id. The view of a case the referral opened
 * may exist already: two of its subjects opened cases that a third
 * merged, and both are seen under the survivor's id. */
static int view_insert(struct txn *t, const char *principal,
                       const char *alias, const char *case_id, int64_t at)
{
	struct q q = { 0 };
	int rc = RG_OK;
	if (strcmp(alias, case_id) != 0) {
		rc = sq_open(&q, t->c, "INSERT INTO case_aliases (alias, case_id)"
		                       " VALUES (?1, ?2)");
		if (rc == RG_OK) {
			sq_text(&q, 1, alias);
			sq_text(&q, 2, case_id);
			rc = sq_exec(&q);
		}
		sq_close(&q);
	}
	if (rc == RG_OK)
		rc = sq_open(&q, t->c, "INSERT INTO referrer_cases (principal,"
		                       " alias, case_id, status, action, opened_at,"
		                       " updated_at) VALUES (?1, ?2, ?3, 0, 0, ?4, ?4)"
		                       " ON CONFLICT DO NOTHING");
	if (rc == RG_OK) {
		sq_text(&q, 1, principal);
		sq_text(&q, 2, alias);
		sq_text(&q, 3, case_id);
		sq_i64(&q, 4, at);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* Remembers that the principal named the subject's identifiers under
 * alias (the first alias an identifier was named under keeps it). */
static int idents_claim(struct txn *t, const char *principal,
                        const struct store_subject *s, const char *alias)
{
	int rc = RG_OK;
	for (size_t k = 0; rc == RG_OK && k < s->n_idents; k++) {
		struct q q = { 0 };
		rc = sq_open(&q, t->c, "INSERT INTO referrer_idents"
		                       " (principal, hash, alias) VALUES (?1, ?2, ?3)"
		                       " ON CONFLICT DO NOTHING");
		if (rc == RG_OK) {
			sq_text(&q, 1, principal);
			sq_blob(&q, 2, s->idents[k].hash, 32);
			sq_text(&q, 3, alias);
			rc = sq_exec(&q);
		}
		sq_close(&q);
	}
	return rc;
}

int st_referrer_alias(struct txn *t, const char *principal,
                      const struct store_subject *s, const char *case_id,
                      bool opened, int64_t at, char alias[RG_ID_MAX + 1])
{
	int rc = alias_by_idents(t->c, principal, s, case_id, alias);
	if (rc == RG_ENOTFOUND) {
		if (opened)
			snprintf(alias, RG_ID_MAX + 1, "%s", case_id);
		else
			rg_id_new("c_", alias);
		rc = view_insert(t, principal, alias, case_id, at);
	}
	if (rc == RG_OK)
		rc = idents_claim(t, principal, s, alias);
	return rc;
}

/* Appends an entry to a principal's own feed. */
static int feed_add(struct txn *t, const char *principal, const char *alias,
                    enum case_status status, enum case_action action,
                    int64_t at)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO referrer_feed (principal, n, alias, status,"
	                 " action, at) VALUES (?1, (SELECT COALESCE(MAX(n), 0) + 1"
	                 " FROM referrer_feed WHERE principal = ?1), ?2, ?3, ?4, ?5)");
	if (rc == RG_OK) {
		sq_text(&q, 1, principal);
		sq_text(&q, 2, alias);
		sq_i64(&q, 3, status);
		sq_i64(&q, 4, action);
		sq_i64(&q, 5, at);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	if (rc == RG_OK)
		t->fed = true;
	return rc;
}

int st_referrer_referred(struct txn *t, const char *principal,
                         const char *alias, const struct store_case *live,
                         int64_t at, int64_t deadline_at,
                         enum case_status *status)
{
	/* An actioned case stays actioned (the decision is shared); any
	 * other is received for the referrer: its own referral made it so,
	 * or would have in a world where no one else referred it. */
	bool actioned = live->status == CASE_ACTIONED;
	struct q q = { 0 };
	*status = actioned ? CASE_ACTIONED : CASE_RECEIVED;
	int rc = sq_open(&q, t->c,
	                 "UPDATE referrer_cases SET status = ?3, action = ?4,"
	                 " decided_at = ?5, updated_at = CASE WHEN"
	                 " updated_at > ?6 THEN updated_at ELSE ?6 END,"
	                 " deadline_at = CASE WHEN ?7 > 0 THEN ?7"
	                 " ELSE deadline_at END"
	                 " WHERE principal = ?1 AND alias = ?2");
	if (rc == RG_OK) {
		sq_text(&q, 1, principal);
		sq_text(&q, 2, alias);
		sq_i64(&q, 3, *status);
		sq_i64(&q, 4, actioned ? live->action : ACTION_NONE);
		sq_i64(&q, 5, actioned ? live->decided_at : 0);
		sq_i64(&q, 6, at);
		sq_i64(&q, 7, deadline_at);
		rc = sq_exec(&q);
	}
	if (rc == RG_OK && sq_changes(&q) != 1)
		rc = RG_EIO;
	sq_close(&q);
	if (rc == RG_OK)
		rc = feed_add(t, principal, alias, *status,
		              actioned ? live->action : ACTION_NONE, at);
	return rc;
}

/* One (principal, alias) of a decided case. */
struct view_key {
	char principal[RG_NAME_MAX + 1];
	char alias[RG_ID_MAX + 1];
};

/* The views of a live case, in a malloc'd array (*n of them). */
static int views_of_case(struct conn *c, const char *case_id,
                         struct view_key **out, size_t *n)
{
	struct q q = { 0 };
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc = sq_open(&q, c, "SELECT principal, alias FROM referrer_cases"
	                        " WHERE case_id = ?1 ORDER BY principal, alias");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, case_id);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct view_key *grown = realloc(*out, ncap * sizeof **out);
			if (!grown) {
				rc = RG_ENOMEM;
				goto out;
			}
			*out = grown;
			cap = ncap;
		}
		struct view_key *v = &(*out)[*n];
		if ((rc = sq_col_str(&q, 0, v->principal, sizeof v->principal)) !=
		    RG_OK ||
		    (rc = sq_col_str(&q, 1, v->alias, sizeof v->alias)) != RG_OK)
			goto out;
		(*n)++;
	}
	rc = rc == SQ_DONE ? RG_OK : rc;
out:
	sq_close(&q);
	if (rc != RG_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int st_referrer_decided(struct txn *t, const char *case_id,
                        enum case_status status, enum case_action action,
                        int64_t at)
{
	struct view_key *v = NULL;
	size_t n = 0;
	struct q q = { 0 };
	int rc = views_of_case(t->c, case_id, &v, &n);
	if (rc == RG_OK)
		rc = sq_open(&q, t->c,
		             "UPDATE referrer_cases SET status = ?2, action = ?3,"
		             " decided_at = ?4, updated_at = CASE WHEN"
		             " updated_at > ?4 THEN updated_at ELSE ?4 END"
		             " WHERE case_id = ?1");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_i64(&q, 2, status);
		sq_i64(&q, 3, action);
		sq_i64(&q, 4, at);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	for (size_t i = 0; rc == RG_OK && i < n; i++)
		rc = feed_add(t, v[i].principal, v[i].alias, status, action, at);
	free(v);
	return rc;
}

/* ---- reads ---------------------------------------------------------- */

#define VIEW_COLS \
	"v.alias, v.status, v.action, v.opened_at, v.updated_at," \
	" v.decided_at, v.deadline_at"

static int view_read(struct q *q, struct store_case *out)
{
	*out = (struct store_case){
		.status = (enum case_status)sq_col_int(q, 1),
		.action = (enum case_action)sq_col_int(q, 2),
		.opened_at = sq_col_i64(q, 3),
		.updated_at = sq_col_i64(q, 4),
		.decided_at = sq_col_i64(q, 5),
		.deadline_at = sq_col_i64(q, 6),
	};
	return sq_col_str(q, 0, out->id, sizeof out->id);
}

static int view_load(struct conn *c, const char *principal, const char *alias,
                     struct store_case *out)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT " VIEW_COLS " FROM referrer_cases v"
	                        " WHERE v.principal = ?1 AND v.alias = ?2");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, principal);
	sq_text(&q, 2, alias);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;
	else if (rc == SQ_ROW)
		rc = view_read(&q, out);
out:
	sq_close(&q);
	return rc;
}

int store_referrer_case_get(struct store *st, const char *principal,
                            const char *alias, struct store_case *out)
{
	struct conn *c;
	if (!st || !principal || !out)
		return RG_EINVAL;
	if (!rg_id_valid(alias))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	return rc == RG_OK ? view_load(c, principal, alias, out) : rc;
}

struct subjects_walk {
	const char *referral_id;
	const char *principal;
	int (*cb)(void *ctx, size_t subject, const struct store_case *view);
	void *ctx;
};

static int subjects_fn(struct conn *c, void *arg)
{
	const struct subjects_walk *w = arg;
	struct q q = { 0 };
	bool any = false;
	int rc = sq_open(&q, c, "SELECT idx, first_case_id FROM referral_subjects"
	                        " WHERE referral_id = ?1 ORDER BY idx");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, w->referral_id);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		char alias[RG_ID_MAX + 1];
		struct store_case v;
		any = true;
		if ((rc = sq_col_str(&q, 1, alias, sizeof alias)) != RG_OK)
			goto out;
		rc = view_load(c, w->principal, alias, &v);
		if (rc != RG_OK) {
			rc = rc == RG_ENOTFOUND ? RG_EIO : rc;
			goto out;
		}
		if ((rc = w->cb(w->ctx, (size_t)sq_col_i64(&q, 0),
		                &v)) != 0)
			goto out;
	}
	if (rc == SQ_DONE)
		rc = any ? RG_OK : RG_ENOTFOUND;
out:
	sq_close(&q);
	return rc;
}

int store_referrer_subjects_each(struct store *st, const char *principal,
                                 const char *referral_id,
                                 int (*cb)(void *ctx, size_t subject,
                                           const struct store_case *view),
                                 void *ctx)
{
	struct subjects_walk w = { referral_id, principal, cb, ctx };
	if (!st || !principal || !cb)
		return RG_EINVAL;
	if (!rg_id_valid(referral_id))
		return RG_ENOTFOUND;
	return st_in_snapshot(st, subjects_fn, &w);
}

int store_referrer_changes(struct store *st, const char *principal,
                           int64_t since, size_t limit,
                           int (*cb)(void *ctx, const struct store_change *c),
                           void *ctx, int64_t *last)
{
	struct conn *c;
	struct q q = { 0 };
	if (last)
		*last = since;
	if (!st || !principal || !cb)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, "SELECT n, alias, status, action, at"
	                    " FROM referrer_feed WHERE principal = ?1 AND n > ?2"
	                    " ORDER BY n LIMIT ?3");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, principal);
	sq_i64(&q, 2, since);
	sq_i64(&q, 3, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_change ch = {
			.seq = sq_col_i64(&q, 0),
			.status = (enum case_status)sq_col_int(&q, 2),
			.action = (enum case_action)sq_col_int(&q, 3),
			.at = sq_col_i64(&q, 4),
		};
		if ((rc = sq_col_str(&q, 1, ch.case_id, sizeof ch.case_id)) !=
		    RG_OK)
			goto out;
		if (last)
			*last = ch.seq;
		if ((rc = cb(ctx, &ch)) != 0)
			goto out;
	}
	rc = rc == SQ_DONE ? RG_OK : rc;
out:
	sq_close(&q);
	return rc;
}
