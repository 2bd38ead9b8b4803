/*
 * store_statements.c - statements of reasons in the store: recorded in
 * the transaction of the actioned decision they state (the mapping is
 * statements.c's), listed oldest first, and marked once the DSA
 * Transparency Database acknowledged them.
 */
#include "store_int.h"
#include "statements.h"

#include <stdlib.h>
#include <string.h>

/* The notice a statement answers: the case's earliest referral (its
 * category, receipt time, and its sender's role and trusted-flagger mark). */
struct first_notice {
	enum referral_category category;
	int64_t received_at;
	enum statement_source source;
};

static int first_notice(struct conn *c, const char *case_id,
                        struct first_notice *out)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c,
	                 "SELECT r.category, r.received_at, p.role,"
	                 " p.trusted_flagger FROM referral_subjects s"
	                 " JOIN referrals r ON r.id = s.referral_id"
	                 " JOIN principals p ON p.name = r.principal"
	                 " WHERE s.case_id = ?1"
	                 " ORDER BY r.received_at, r.id LIMIT 1");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, case_id);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_EIO;             /* a case without a referral */
		goto out;
	}
	if (rc != SQ_ROW)
		goto out;
	out->category = (enum referral_category)sq_col_i64(&q, 0);
	out->received_at = sq_col_i64(&q, 1);
	if (sq_col_i64(&q, 2) == ROLE_AGENCY)
		out->source = SOURCE_OTHER_NOTIFICATION;
	else if (sq_col_i64(&q, 3) != 0)
		out->source = SOURCE_TRUSTED_FLAGGER;
	else
		out->source = SOURCE_ARTICLE_16;
	rc = RG_OK;
out:
	sq_close(&q);
	return rc;
}

int st_statement_record(struct txn *t, const char *case_id,
                        const struct store_decision *d)
{
	struct first_notice fn;
	int64_t decision_id = 0, seq = 0;
	char puid[RG_ID_MAX + 24];
	char *text = NULL;
	json_t *o = NULL;
	struct q q = { 0 };
	int rc = sq_one_i64(t->c, "SELECT COALESCE(MAX(id), 0) FROM decisions"
	                    " WHERE case_id = ?1", case_id, &decision_id);
	if (rc == RG_OK)
		rc = first_notice(t->c, case_id, &fn);
	if (rc == RG_OK)
		rc = sq_one_i64(t->c, "SELECT COALESCE(MAX(seq), 0) + 1"
		                " FROM statements", NULL, &seq);
	if (rc != RG_OK)
		return rc;
	snprintf(puid, sizeof puid, "%s-%lld", case_id, (long long)decision_id);
	struct statement_in in = {
		.puid = puid, .action = d->action, .ground = d->ground,
		.legal_ground = d->legal_ground,
		.explanation = d->explanation ? d->explanation : "",
		.automated = d->automated, .category = fn.category,
		.source = fn.source, .first_referral_at = fn.received_at,
		.decided_at = d->at,
		.defaults = d->statement_defaults ? d->statement_defaults
		                                  : &statement_defaults_builtin,
	};
	if (d->evidence)
		in.evidence = *d->evidence;
	o = statement_build(&in);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!text) {
		rc = o ? RG_ENOMEM : RG_EINVAL;
		goto out;
	}
	rc = sq_open(&q, t->c, "INSERT INTO statements (seq, puid, case_id,"
	             " decision_id, created_at, body)"
	             " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (rc == RG_OK) {
		sq_i64(&q, 1, seq);
		sq_text(&q, 2, puid);
		sq_text(&q, 3, case_id);
		sq_i64(&q, 4, decision_id);
		sq_i64(&q, 5, d->at);
		sq_text(&q, 6, text);
		rc = sq_exec(&q);
	}
out:
	sq_close(&q);
	free(text);
	json_decref(o);
	return rc;
}

/* Statement x's case (merges followed) is under a notice hold at ?3. */
#define HELD(x) \
	"EXISTS (SELECT 1 FROM removal_orders ro" \
	" JOIN removal_order_referrals o ON o.agency = ro.agency" \
	"  AND o.reference = ro.reference" \
	" JOIN referral_subjects s ON s.referral_id = o.referral_id" \
	" WHERE ro.notice_withheld_until > ?3 AND s.case_id = COALESCE(" \
	"  (SELECT a.case_id FROM case_aliases a WHERE a.alias = " x \
	"   .case_id), " x ".case_id))"

int store_statements_each(struct store *st, int64_t since, size_t limit,
                          bool pending, int64_t now,
                          int (*cb)(void *ctx, const struct store_statement *s),
                          void *ctx, int64_t *last)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !cb || !last || since < 0 || limit == 0)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	if ((rc = sq_read_begin(c)) != RG_OK)
		return rc;
	*last = since;
	/* Held statements wait: the pending list skips them (they stay
	 * pending); the whole list stops before the first one, so that its
	 * cursor never passes a statement not yet released. */
	rc = sq_open(&q, c, pending
	             ? "SELECT seq, puid, body, created_at, exported_at"
	               " FROM statements st WHERE exported_at = 0 AND seq > ?1"
	               " AND NOT " HELD("st") " ORDER BY seq LIMIT ?2"
	             : "SELECT seq, puid, body, created_at, exported_at"
	               " FROM statements WHERE seq > ?1 AND seq < COALESCE("
	               " (SELECT MIN(st.seq) FROM statements st WHERE"
	               "  st.seq > ?1 AND " HELD("st") "),"
	               " 9223372036854775807) ORDER BY seq LIMIT ?2");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, since);
	sq_i64(&q, 2, (int64_t)limit);
	sq_i64(&q, 3, now);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_statement s = {
			.seq = sq_col_i64(&q, 0),
			.puid = sq_col_text(&q, 1),
			.body = sq_col_text(&q, 2),
			.created_at = sq_col_i64(&q, 3),
			.exported_at = sq_col_i64(&q, 4),
		};
		if (!s.puid || !s.body) {
			rc = RG_EIO;
			goto out;
		}
		if ((rc = cb(ctx, &s)) != 0)
			goto out;
		*last = s.seq;
	}
out:
	sq_close(&q);
	int rc2 = sq_read_end(c);
	if (rc == SQ_DONE)
		rc = rc2;
	return rc;
}

struct mark_job {
	const char *actor;
	const char *const *puids;
	size_t n;
	int64_t now;
	size_t marked;
};

static int mark_run(struct txn *t, void *arg)
{
	struct mark_job *m = arg;
	json_t *list = json_array();
	int rc = list ? RG_OK : RG_ENOMEM;
	m->marked = 0;
	for (size_t i = 0; rc == RG_OK && i < m->n; i++) {
		struct q q = { 0 };
		int64_t changed = 0;
		rc = sq_open(&q, t->c, "UPDATE statements SET exported_at = ?2"
		             " WHERE puid = ?1 AND exported_at = 0");
		if (rc == RG_OK) {
			sq_text(&q, 1, m->puids[i]);
			sq_i64(&q, 2, m->now);
			rc = sq_exec(&q);
			changed = sq_changes(&q);
		}
		sq_close(&q);
		if (rc == RG_OK && changed == 1) {
			m->marked++;
			if (json_array_append_new(list, json_string(m->puids[i])))
				rc = RG_ENOMEM;
		}
	}
	if (rc == RG_OK && m->marked > 0) {
		rc = st_audit_add_json(t, m->now, m->actor, "statements_exported",
		                       "-", json_pack("{s:O}", "puids", list));
	}
	json_decref(list);
	return rc;
}

int store_statements_mark(struct store *st, const char *actor,
                          const char *const *puids, size_t n, int64_t now,
                          size_t *marked)
{
	struct mark_job m = { actor, puids, n, now, 0 };
	if (!st || !actor || !*actor || !puids || !marked || n == 0 ||
	    n > STATEMENTS_MARK_MAX)
		return RG_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!statement_puid_valid(puids[i]))
			return RG_EINVAL;
	int rc = st_write(st, mark_run, &m);
	if (rc == RG_OK)
		*marked = m.marked;
	return rc;
}
