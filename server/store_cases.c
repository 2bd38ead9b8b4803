/*
 * store_cases.c - the writes on referrals and cases: recording a referral
 * (replay and jti checks, deduplication of its subjects into cases,
 * merges, reopening) and reviewers' decisions. Runs in the writer of
 * store.c; the reads are in store_reads.c.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A case row as the writer works on it. */
struct case_row {
	char id[RG_ID_MAX + 1];
	enum case_status status;
	enum case_action action;
	int64_t opened_at;
	int64_t updated_at;
	int64_t decided_at;
	int64_t deadline_at;
	enum referral_urgency urgency;
	int64_t reopen_count;
	int64_t seq_opened;
};

/* A small set of case ids, in insertion order. */
struct idset {
	size_t n;
	char id[REFERRAL_MAX_SUBJECTS][RG_ID_MAX + 1];
};

/* What recording one referral did, for its answer, feed and audit. Every
 * subject opens, reopens or merges at most one case, so REFERRAL_MAX_SUBJECTS
 * bounds each set. */
struct submit_work {
	char target[REFERRAL_MAX_SUBJECTS][RG_ID_MAX + 1]; /* per subject */
	struct idset opened, reopened, touched, finals;
	size_t n_merged;
	struct {
		char from[RG_ID_MAX + 1];
		char into[RG_ID_MAX + 1];
	} merged[REFERRAL_MAX_SUBJECTS];
};

static bool idset_has(const struct idset *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->id[i], id) == 0)
			return true;
	return false;
}

/* Adds id unless present. RG_EIO when full (a broken bound above). */
static int idset_add(struct idset *s, const char *id)
{
	if (idset_has(s, id))
		return RG_OK;
	if (s->n >= REFERRAL_MAX_SUBJECTS)
		return RG_EIO;
	snprintf(s->id[s->n++], RG_ID_MAX + 1, "%s", id);
	return RG_OK;
}

/* The earliest of two deadlines, 0 meaning none. */
static int64_t deadline_min(int64_t a, int64_t b)
{
	if (!a || !b)
		return a ? a : b;
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* ---- case rows (writer) --------------------------------------------- */

#define CASE_ROW_COLS \
	"id, status, action, opened_at, updated_at, decided_at, deadline_at," \
	" urgency, reopen_count, seq_opened"

static const char case_row_sql[] =
	"SELECT " CASE_ROW_COLS " FROM cases WHERE id = ?1";
/* The same through a merged-away id to its survivor. */
static const char case_row_live_sql[] =
	"SELECT " CASE_ROW_COLS " FROM cases WHERE id = COALESCE("
	"(SELECT case_id FROM case_aliases WHERE alias = ?1), ?1)";

/* Loads a case row by sql (case_row_sql or case_row_live_sql): its own
 * columns only, none of the counts st_case_load adds. RG_ENOTFOUND. */
static int case_row_query(struct conn *c, const char *sql, const char *id,
                          struct case_row *r)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, id);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
	} else if (rc == SQ_ROW) {
		r->status = (enum case_status)sq_col_int(&q, 1);
		r->action = (enum case_action)sq_col_int(&q, 2);
		r->opened_at = sq_col_i64(&q, 3);
		r->updated_at = sq_col_i64(&q, 4);
		r->decided_at = sq_col_i64(&q, 5);
		r->deadline_at = sq_col_i64(&q, 6);
		r->urgency = (enum referral_urgency)sq_col_int(&q, 7);
		r->reopen_count = sq_col_i64(&q, 8);
		r->seq_opened = sq_col_i64(&q, 9);
		rc = sq_col_str(&q, 0, r->id, sizeof r->id);
	}
out:
	sq_close(&q);
	return rc;
}

/* Loads the row of a live case (no alias resolution). RG_ENOTFOUND. */
static int case_row_load(struct conn *c, const char *id, struct case_row *r)
{
	return case_row_query(c, case_row_sql, id, r);
}

/* The case a row shows, without the counts and claim (what the writer
 * needs of a case: its id and decision). */
static void case_of_row(const struct case_row *r, struct store_case *out)
{
	*out = (struct store_case){
		.status = r->status, .action = r->action,
		.opened_at = r->opened_at, .updated_at = r->updated_at,
		.decided_at = r->decided_at, .deadline_at = r->deadline_at,
		.urgency = r->urgency, .reopen_count = (int)r->reopen_count,
	};
	memcpy(out->id, r->id, sizeof out->id);
}

/* Writes back every mutable field of a case row. */
static int case_row_save(struct txn *t, const struct case_row *r)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "UPDATE cases SET status = ?2, action = ?3,"
	                 " updated_at = ?4, decided_at = ?5, deadline_at = ?6,"
	                 " urgency = ?7, reopen_count = ?8 WHERE id = ?1");
	if (rc == RG_OK) {
		sq_text(&q, 1, r->id);
		sq_i64(&q, 2, r->status);
		sq_i64(&q, 3, r->action);
		sq_i64(&q, 4, r->updated_at);
		sq_i64(&q, 5, r->decided_at);
		sq_i64(&q, 6, r->deadline_at);
		sq_i64(&q, 7, r->urgency);
		sq_i64(&q, 8, r->reopen_count);
		rc = sq_exec(&q);
	}
	if (rc == RG_OK && sq_changes(&q) != 1)
		rc = RG_EIO;
	sq_close(&q);
	return rc;
}

/* The id a case goes by now: the survivor's when id was merged away, id
 * itself otherwise (whether or not such a case exists). */
static int case_resolve(struct conn *c, const char *id,
                        char out[RG_ID_MAX + 1])
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT case_id FROM case_aliases"
	                        " WHERE alias = ?1");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, id);
	rc = sq_step(&q);
	if (rc == SQ_ROW)
		rc = sq_col_str(&q, 0, out, RG_ID_MAX + 1);
	else if (rc == SQ_DONE)
		rc = snprintf(out, RG_ID_MAX + 1, "%s", id) > RG_ID_MAX ? RG_EIO
		                                                      : RG_OK;
out:
	sq_close(&q);
	return rc;
}

/* Opens a case for a referral: a fresh id (rg_id_new), status received. */
static int case_open(struct txn *t, const struct store_referral_in *in,
                     struct case_row *r)
{
	struct q q = { 0 };
	*r = (struct case_row){
		.status = CASE_RECEIVED, .action = ACTION_NONE,
		.opened_at = in->received_at, .updated_at = in->received_at,
		.deadline_at = in->deadline_at, .urgency = in->urgency,
	};
	rg_id_new("c_", r->id);
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO cases (id, status, action, opened_at,"
	                 " updated_at, deadline_at, urgency, seq_opened)"
	                 " VALUES (?1, 0, 0, ?2, ?2, ?3, ?4,"
	                 " (SELECT COALESCE(MAX(seq_opened), 0) + 1 FROM cases))"
	                 " RETURNING seq_opened");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, r->id);
	sq_i64(&q, 2, in->received_at);
	sq_i64(&q, 3, in->deadline_at);
	sq_i64(&q, 4, in->urgency);
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		r->seq_opened = sq_col_i64(&q, 0);
		rc = sq_exec(&q);
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
out:
	sq_close(&q);
	return rc;
}

/* Everything that points at a case, moved to the survivor, and an alias
 * so the absorbed id keeps resolving (also for aliases of the absorbed). */
static const char *const merge_sql[] = {
	"UPDATE case_idents SET case_id = ?2 WHERE case_id = ?1",
	"UPDATE referral_subjects SET case_id = ?2 WHERE case_id = ?1",
	"UPDATE changes SET case_id = ?2 WHERE case_id = ?1",
	"UPDATE decisions SET case_id = ?2 WHERE case_id = ?1",
	"UPDATE case_aliases SET case_id = ?2 WHERE case_id = ?1",
	"UPDATE referrer_cases SET case_id = ?2 WHERE case_id = ?1",
	"INSERT INTO case_aliases (alias, case_id) VALUES (?1, ?2)",
	/* an access key listing both keeps one row */
	"INSERT INTO access_key_cases (key_id, case_id)"
	" SELECT key_id, ?2 FROM access_key_cases WHERE case_id = ?1"
	" ON CONFLICT DO NOTHING",
	"DELETE FROM access_key_cases WHERE case_id = ?1",
	/* the later preservation hold of the two */
	"UPDATE cases SET preserved_until = (SELECT preserved_until"
	" FROM cases WHERE id = ?1) WHERE id = ?2 AND preserved_until <"
	" (SELECT preserved_until FROM cases WHERE id = ?1)",
	/* the survivor's claim stays; else the absorbed case's moves */
	"INSERT INTO case_claims (case_id, reviewer, claimed_at, expires_at)"
	" SELECT ?2, reviewer, claimed_at, expires_at FROM case_claims"
	" WHERE case_id = ?1 ON CONFLICT (case_id) DO NOTHING",
	"DELETE FROM case_claims WHERE case_id = ?1",
	"DELETE FROM cases WHERE id = ?1",
};

static bool case_is_open(enum case_status s)
{
	return s == CASE_RECEIVED || s == CASE_IN_REVIEW;
}

/*
 * Merges case `from` into `into` (the older): moves its identifiers,
 * referrals, changes, decisions and access-key listings, leaves an alias,
 * deletes it. The survivor takes the higher urgency and the higher reopen
 * count. Its status: when either side is open, the merged account is
 * open and undecided (in_review when either side was, else received;
 * no action, no decision time, only the open sides' deadlines), so that
 * a reviewer decides it: a merge never closes an open case. When both
 * are closed, actioned wins over no_action (the actioned side's action
 * and decision time kept), with the earlier deadline. The caller appends
 * the change row (submit_changes: every merged case is touched).
 */
static int case_merge(struct txn *t, struct case_row *into,
                      const struct case_row *from, int64_t now)
{
	int rc = RG_OK;
	bool into_open = case_is_open(into->status);
	bool from_open = case_is_open(from->status);
	if (from->urgency > into->urgency)
		into->urgency = from->urgency;
	into->reopen_count = max64(into->reopen_count, from->reopen_count);
	if (into_open || from_open) {
		into->deadline_at = deadline_min(into_open ? into->deadline_at : 0,
		                                 from_open ? from->deadline_at : 0);
		into->status = into->status == CASE_IN_REVIEW ||
		               from->status == CASE_IN_REVIEW ? CASE_IN_REVIEW
		                                              : CASE_RECEIVED;
		into->action = ACTION_NONE;
		into->decided_at = 0;
	} else {
		into->deadline_at = deadline_min(into->deadline_at,
		                                 from->deadline_at);
		if (from->status == CASE_ACTIONED &&
		    into->status != CASE_ACTIONED) {
			into->status = CASE_ACTIONED;
			into->action = from->action;
			into->decided_at = from->decided_at;
		}
	}
	into->updated_at = max64(max64(into->updated_at, from->updated_at),
	                         now);
	rc = case_row_save(t, into);
	for (size_t i = 0; rc == RG_OK && i < sizeof merge_sql /
	                                      sizeof merge_sql[0]; i++) {
		struct q q = { 0 };
		rc = sq_open(&q, t->c, merge_sql[i]);
		if (rc == RG_OK) {
			sq_text(&q, 1, from->id);
			if (strstr(merge_sql[i], "?2"))
				sq_text(&q, 2, into->id);
			rc = sq_exec(&q);
		}
		sq_close(&q);
	}
	return rc;
}

/* A referral joins an existing case: a no_action or cannot_execute case
 * reopens (its deadline, from the closed round, cleared; a removal
 * order's clarification brings its own); an actioned one is left as it
 * is; an open one takes the referral's urgency and deadline if they are
 * more pressing. *reopened says whether it reopened. */
static int case_join(struct txn *t, const struct store_referral_in *in,
                     struct case_row *r, bool *reopened)
{
	*reopened = false;
	if (r->status == CASE_ACTIONED)
		return RG_OK;
	if (r->status == CASE_NO_ACTION || r->status == CASE_CANNOT_EXECUTE) {
		r->status = CASE_RECEIVED;
		r->action = ACTION_NONE;
		r->decided_at = 0;
		r->deadline_at = 0;
		r->reopen_count++;
		*reopened = true;
	}
	if (in->urgency > r->urgency)
		r->urgency = in->urgency;
	r->deadline_at = deadline_min(r->deadline_at, in->deadline_at);
	r->updated_at = max64(r->updated_at, in->received_at);
	return case_row_save(t, r);
}

/* ---- recording a referral ------------------------------------------- */

struct submit_job {
	const struct store_referral_in *in;
	struct store_referral_out out;   /* staged; copied out on commit */
};

/* The first answer to a referral, from its subjects' first_* columns. */
static int first_answer(struct conn *c, struct store_referral_out *out)
{
	struct q q = { 0 };
	size_t n = 0;
	int rc = sq_open(&q, c, "SELECT idx, first_case_id, first_status,"
	                        " new_case FROM referral_subjects"
	                        " WHERE referral_id = ?1 ORDER BY idx");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, out->id);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		if (n >= REFERRAL_MAX_SUBJECTS ||
		    sq_col_i64(&q, 0) != (int64_t)n) {
			rc = RG_EIO;
			goto out;
		}
		struct store_case_ref *cr = &out->cases[n++];
		cr->status = (enum case_status)sq_col_int(&q, 2);
		cr->new_case = sq_col_int(&q, 3) != 0;
		rc = sq_col_str(&q, 1, cr->case_id, sizeof cr->case_id);
		if (rc != RG_OK)
			goto out;
	}
	out->n_cases = n;
out:
	sq_close(&q);
	return rc;
}

void store_referral_out_clear(struct store_referral_out *out)
{
	if (!out)
		return;
	free(out->receipt);
	out->receipt = NULL;
	out->receipt_len = 0;
}

/* A replayed referral's receipt payload, the same leaf bytes as first
 * answered (none for a referral older than the log): RG_EREPLAY. */
static int replay_receipt(struct conn *c, struct store_referral_out *out)
{
	store_referral_out_clear(out);
	out->log_index = -1;
	int rc = st_log_leaf(c, out->id, &out->log_index, &out->receipt,
	                     &out->receipt_len);
	return rc == RG_OK || rc == RG_ENOTFOUND ? RG_EREPLAY : rc;
}

/* RG_ENOTFOUND for a jti this principal has not used; RG_EREPLAY with
 * *out the first answer when it sent the same JWS before; RG_ECONFLICT
 * when it sent other content under the jti. */
static int referral_seen(struct conn *c, const struct store_referral_in *in,
                         struct store_referral_out *out)
{
	struct q q = { 0 };
	uint8_t sha[32];
	int rc = sq_open(&q, c, "SELECT id, jws_sha256, received_at"
	                        " FROM referrals WHERE principal = ?1 AND jti = ?2");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, in->principal);
	sq_text(&q, 2, in->jti);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
	} else if (rc == SQ_ROW) {
		out->received_at = sq_col_i64(&q, 2);
		if ((rc = sq_col_32(&q, 1, sha)) == RG_OK &&
		    (rc = sq_col_str(&q, 0, out->id, sizeof out->id)) == RG_OK)
			rc = memcmp(sha, in->jws_sha256, 32) ? RG_ECONFLICT
			                                     : RG_EREPLAY;
	}
out:
	sq_close(&q);
	if (rc == RG_EREPLAY && (rc = first_answer(c, out)) == RG_OK)
		rc = replay_receipt(c, out);
	return rc;
}

struct seen_job {
	const struct store_referral_in *in;
	struct store_referral_out *out;
};

static int seen_fn(struct conn *c, void *arg)
{
	struct seen_job *j = arg;
	return referral_seen(c, j->in, j->out);
}

int store_referral_seen(struct store *st, const struct store_referral_in *in,
                        struct store_referral_out *out)
{
	struct store_referral_out tmp;
	struct seen_job j = { .in = in, .out = &tmp };
	if (!st || !in || !out || !in->principal || !in->jti)
		return RG_EINVAL;
	memset(&tmp, 0, sizeof tmp);
	int rc = st_in_snapshot(st, seen_fn, &j);
	if (rc == RG_EREPLAY)
		*out = tmp;
	else
		store_referral_out_clear(&tmp);
	return rc;
}

/* The referral row; its seq_at is the first change seq after it (the
 * feed head in this transaction, plus one): the principal's view of the
 * cases it joins starts there. */
static int referral_insert(struct txn *t, const struct store_referral_in *in)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO referrals (id, principal, jti, jws_sha256,"
	                 " received_at, category, urgency, partner_ref,"
	                 " deadline_at, n_subjects, sealed, seq_at) VALUES (?1,"
	                 " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	                 " (SELECT COALESCE(MAX(seq), 0) + 1 FROM changes))");
	if (rc == RG_OK) {
		sq_text(&q, 1, in->id);
		sq_text(&q, 2, in->principal);
		sq_text(&q, 3, in->jti);
		sq_blob(&q, 4, in->jws_sha256, 32);
		sq_i64(&q, 5, in->received_at);
		sq_i64(&q, 6, in->category);
		sq_i64(&q, 7, in->urgency);
		sq_text(&q, 8, in->partner_ref);
		sq_i64(&q, 9, in->deadline_at);
		sq_i64(&q, 10, (int64_t)in->n_subjects);
		sq_blob(&q, 11, in->sealed, in->sealed_len);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* The provenance of a referral's identifiers: every hash of every
 * subject, once (what an all_own access key may disclose). */
static int referral_idents_insert(struct txn *t,
                                  const struct store_referral_in *in)
{
	int rc = RG_OK;
	for (size_t i = 0; rc == RG_OK && i < in->n_subjects; i++) {
		const struct store_subject *s = &in->subjects[i];
		for (size_t k = 0; rc == RG_OK && k < s->n_idents; k++) {
			struct q q = { 0 };
			rc = sq_open(&q, t->c, "INSERT INTO"
			                       " referral_idents (hash, referral_id)"
			                       " VALUES (?1, ?2)"
			                       " ON CONFLICT DO NOTHING");
			if (rc == RG_OK) {
				sq_blob(&q, 1, s->idents[k].hash, 32);
				sq_text(&q, 2, in->id);
				rc = sq_exec(&q);
			}
			sq_close(&q);
		}
	}
	return rc;
}

/* The case holding an identifier hash (case_idents always names the live
 * case), in id. RG_ENOTFOUND. */
static int ident_case(struct conn *c, const uint8_t hash[32],
                      char id[RG_ID_MAX + 1])
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT case_id FROM case_idents"
	                        " WHERE hash = ?1");
	if (rc != RG_OK)
		goto out;
	sq_blob(&q, 1, hash, 32);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;
	else if (rc == SQ_ROW)
		rc = sq_col_str(&q, 0, id, RG_ID_MAX + 1);
out:
	sq_close(&q);
	return rc;
}

static int ident_insert(struct txn *t, const char *case_id,
                        const struct store_ident *id)
{
	struct q q = { 0 };
	char kind[2] = { id->kind, '\0' };
	int rc = sq_open(&q, t->c, "INSERT INTO case_idents (hash, case_id,"
	                           " kind, sealed) VALUES (?1, ?2, ?3, ?4)");
	if (rc == RG_OK) {
		sq_blob(&q, 1, id->hash, 32);
		sq_text(&q, 2, case_id);
		sq_text(&q, 3, kind);
		sq_blob(&q, 4, id->sealed, id->sealed_len);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* Finds the cases owning the subject's identifiers: found[] (distinct,
 * at most one per identifier) and, per identifier, whether it is known. */
static int subject_find(struct conn *c, const struct store_subject *s,
                        struct case_row found[2], size_t *n_found,
                        bool known[2])
{
	char id[RG_ID_MAX + 1];
	*n_found = 0;
	for (size_t i = 0; i < s->n_idents; i++) {
		known[i] = false;
		if (i == 1 && memcmp(s->idents[0].hash, s->idents[1].hash,
		                     32) == 0) {
			known[i] = true;         /* the same identifier twice */
			continue;
		}
		int rc = ident_case(c, s->idents[i].hash, id);
		if (rc == RG_ENOTFOUND)
			continue;
		if (rc != RG_OK)
			return rc;
		known[i] = true;
		if (*n_found && strcmp(found[0].id, id) == 0)
			continue;
		rc = case_row_load(c, id, &found[*n_found]);
		if (rc != RG_OK)
			return rc == RG_ENOTFOUND ? RG_EIO : rc;
		(*n_found)++;
	}
	return RG_OK;
}

/* The index of the oldest case: earliest opened, then first opened. */
static size_t oldest(const struct case_row *c, size_t n)
{
	size_t o = 0;
	for (size_t i = 1; i < n; i++)
		if (c[i].opened_at < c[o].opened_at ||
		    (c[i].opened_at == c[o].opened_at &&
		     c[i].seq_opened < c[o].seq_opened))
			o = i;
	return o;
}

/* Places subject i of a referral in its case: opens one, joins one, or
 * merges the ones its identifiers link; then records its new identifiers
 * on that case. */
static int subject_apply(struct txn *t, const struct store_referral_in *in,
                         size_t i, struct submit_work *w)
{
	const struct store_subject *s = &in->subjects[i];
	struct case_row found[2], target;
	size_t n_found = 0;
	bool known[2], reopened = false;
	int rc = subject_find(t->c, s, found, &n_found, known);
	if (rc != RG_OK)
		return rc;
	if (n_found == 0) {
		rc = case_open(t, in, &target);
		if (rc == RG_OK)
			rc = idset_add(&w->opened, target.id);
	} else {
		size_t o = oldest(found, n_found);
		target = found[o];
		for (size_t k = 0; rc == RG_OK && k < n_found; k++) {
			if (k == o)
				continue;
			if (w->n_merged >= REFERRAL_MAX_SUBJECTS)
				return RG_EIO;
			rc = case_merge(t, &target, &found[k], in->received_at);
			memcpy(w->merged[w->n_merged].from, found[k].id,
			       sizeof found[k].id);
			memcpy(w->merged[w->n_merged++].into, target.id,
			       sizeof target.id);
		}
		if (rc == RG_OK && n_found > 1)
			rc = idset_add(&w->touched, target.id);
		if (rc == RG_OK)
			rc = case_join(t, in, &target, &reopened);
		if (rc == RG_OK && reopened)
			rc = idset_add(&w->reopened, target.id);
	}
	if (rc == RG_OK && (n_found == 0 || reopened))
		rc = idset_add(&w->touched, target.id);
	for (size_t k = 0; rc == RG_OK && k < s->n_idents; k++)
		if (!known[k])
			rc = ident_insert(t, target.id, &s->idents[k]);
	if (rc == RG_OK)
		snprintf(w->target[i], RG_ID_MAX + 1, "%s", target.id);
	return rc;
}

/* A subject's row: the live case it belongs to (merges repoint it) and
 * the answer given (the submitter's own id for the case and the status
 * its view showed), which replays return. */
static int subject_record(struct txn *t, const char *referral_id, size_t i,
                          const char *case_id, const struct store_case_ref *cr)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO referral_subjects (referral_id, idx,"
	                 " case_id, first_case_id, first_status, new_case)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (rc == RG_OK) {
		sq_text(&q, 1, referral_id);
		sq_i64(&q, 2, (int64_t)i);
		sq_text(&q, 3, case_id);
		sq_text(&q, 4, cr->case_id);
		sq_i64(&q, 5, cr->status);
		sq_i64(&q, 6, cr->new_case);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* The referral's answer and the referrer's views. Each subject's case
 * as it is after the whole referral (a later subject may have merged an
 * earlier one's case away), seen under the principal's own id for it
 * (store_referrer.c): the answer and referral_subjects (kept for
 * replays) name that id and the status the principal's view shows. */
static int submit_answer(struct txn *t, const struct store_referral_in *in,
                         struct submit_work *w, struct store_referral_out *out)
{
	struct idset *views = calloc(1, sizeof *views);
	int rc = views ? RG_OK : RG_ENOMEM;
	snprintf(out->id, sizeof out->id, "%s", in->id);
	out->received_at = in->received_at;
	out->n_cases = in->n_subjects;
	for (size_t i = 0; rc == RG_OK && i < in->n_subjects; i++) {
		struct store_case_ref *cr = &out->cases[i];
		struct case_row row;
		rc = case_row_query(t->c, case_row_live_sql, w->target[i], &row);
		if (rc != RG_OK) {
			rc = rc == RG_ENOTFOUND ? RG_EIO : rc;
			break;
		}
		struct store_case live;
		case_of_row(&row, &live);
		cr->new_case = idset_has(&w->opened, live.id);
		rc = idset_add(&w->finals, live.id);
		if (rc == RG_OK)
			rc = st_referrer_alias(t, in->principal, &in->subjects[i],
			                       live.id, cr->new_case,
			                       in->received_at, cr->case_id);
		/* one view update and feed entry per case of the referral */
		if (rc == RG_OK && !idset_has(views, cr->case_id)) {
			rc = idset_add(views, cr->case_id);
			if (rc == RG_OK)
				rc = st_referrer_referred(t, in->principal,
				                          cr->case_id, &live,
				                          in->received_at,
				                          in->deadline_at, &cr->status);
		} else if (rc == RG_OK) {
			for (size_t k = 0; k < i; k++)
				if (strcmp(out->cases[k].case_id, cr->case_id) == 0)
					cr->status = out->cases[k].status;
		}
		if (rc == RG_OK)
			rc = subject_record(t, in->id, i, live.id, cr);
	}
	free(views);
	return rc;
}

/* One change-feed row per case the referral opened, reopened or merged
 * (under the id it ends with, once): the reviewers' feed and that of
 * access keys listing the case. */
static int submit_changes(struct txn *t, const struct store_referral_in *in,
                          struct submit_work *w)
{
	struct idset *done = calloc(1, sizeof *done);
	int rc = done ? RG_OK : RG_ENOMEM;
	for (size_t i = 0; rc == RG_OK && i < w->touched.n; i++) {
		struct case_row r;
		rc = case_row_query(t->c, case_row_live_sql, w->touched.id[i],
		                    &r);
		if (rc != RG_OK || idset_has(done, r.id))
			continue;
		rc = idset_add(done, r.id);
		if (rc == RG_OK)
			rc = st_change_add(t, r.id, r.status, r.action,
			                   in->received_at);
	}
	free(done);
	return rc;
}

static json_t *ids_json(const struct idset *s)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < s->n; i++) {
		if (json_array_append_new(a, json_string(s->id[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Audit detail: case ids only (never identifiers or content). */
static int submit_audit(struct txn *t, const struct store_referral_in *in,
                        const struct submit_work *w)
{
	json_t *merged = json_array(), *d = NULL;
	for (size_t i = 0; merged && i < w->n_merged; i++) {
		if (json_array_append_new(merged, json_pack("{s:s, s:s}",
		                          "from", w->merged[i].from,
		                          "into", w->merged[i].into)) != 0) {
			json_decref(merged);
			merged = NULL;
		}
	}
	json_t *cases = ids_json(&w->finals), *opened = ids_json(&w->opened);
	json_t *reopened = ids_json(&w->reopened);
	if (merged && cases && opened && reopened)
		d = json_pack("{s:O, s:O, s:O, s:O}", "cases", cases,
		              "opened", opened, "reopened", reopened,
		              "merged", merged);
	json_decref(merged);
	json_decref(cases);
	json_decref(opened);
	json_decref(reopened);
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER)
	               : NULL;
	json_decref(d);
	int rc = text ? st_audit_add(t, in->received_at, in->principal,
	                             "referral", in->id, text)
	              : RG_ENOMEM;
	free(text);
	return rc;
}

/* ---- daily quotas ---------------------------------------------------- */

int64_t store_referral_bytes(const struct store_referral_in *in)
{
	int64_t n = (int64_t)in->sealed_len;
	for (size_t i = 0; i < in->n_subjects; i++)
		for (size_t k = 0; k < in->subjects[i].n_idents; k++)
			n += (int64_t)in->subjects[i].idents[k].sealed_len + 32;
	return n;
}

/* Adds add[] to the principal's counts of a day (a new row when it
 * recorded nothing that day yet) and reads back the sums in counts[]. */
static int quota_add(struct txn *t, const char *principal, int64_t day,
                     const int64_t add[3], int64_t counts[3])
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "INSERT INTO quota_days (principal, day,"
	                           " referrals, subjects, bytes)"
	                           " VALUES (?1, ?2, ?3, ?4, ?5)"
	                           " ON CONFLICT (principal, day) DO UPDATE SET"
	                           " referrals = quota_days.referrals"
	                           " + excluded.referrals,"
	                           " subjects = quota_days.subjects"
	                           " + excluded.subjects,"
	                           " bytes = quota_days.bytes + excluded.bytes"
	                           " RETURNING referrals, subjects, bytes");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, principal);
	sq_i64(&q, 2, day);
	for (int i = 0; i < 3; i++)
		sq_i64(&q, 3 + i, add[i]);
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		for (int i = 0; i < 3; i++)
			counts[i] = sq_col_i64(&q, i);
		rc = sq_step(&q) == SQ_DONE ? RG_OK : RG_EIO;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
out:
	sq_close(&q);
	return rc;
}

/* A principal's first referral of a day deletes its rows of earlier days
 * (nothing reads them). */
static int quota_forget(struct txn *t, const char *principal, int64_t day)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "DELETE FROM quota_days"
	                           " WHERE principal = ?1 AND day < ?2");
	if (rc == RG_OK) {
		sq_text(&q, 1, principal);
		sq_i64(&q, 2, day);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* Counts the referral against its principal's quotas for the UTC day it
 * was received, in the referral's own savepoint: one statement adds it
 * and reads the sums back, and a refusal (RG_EQUOTA with *over set when
 * a sum passes its cap), like any later failure, is rolled back with the
 * savepoint, leaving the counts as they were. */
static int quota_charge(struct txn *t, const struct store_referral_in *in,
                        enum store_quota_kind *over)
{
	const struct store_quota *qu = in->quota;
	int64_t day = in->received_at / 86400;
	int64_t counts[3] = { 0, 0, 0 };
	if (!qu)
		return RG_OK;
	const int64_t add[3] = { 1, (int64_t)in->n_subjects,
	                         store_referral_bytes(in) };
	const int64_t cap[3] = { qu->referrals, qu->subjects, qu->bytes };
	static const enum store_quota_kind kind[3] = {
		QUOTA_REFERRALS, QUOTA_SUBJECTS, QUOTA_BYTES,
	};
	int rc = quota_add(t, in->principal, day, add, counts);
	if (rc != RG_OK)
		return rc;
	for (int i = 0; i < 3; i++) {
		if (counts[i] > cap[i]) {
			*over = kind[i];
			return RG_EQUOTA;
		}
	}
	/* the day's row is new: its first referral */
	return counts[0] == add[0] ? quota_forget(t, in->principal, day) : RG_OK;
}

/* The referral's leaf: its receipt payload, made by the caller now that
 * the answer and the log index are known, appended in this transaction. */
static int submit_leaf(struct txn *t, const struct store_referral_in *in,
                       struct store_referral_out *out)
{
	uint64_t index = 0;
	char *payload = NULL;
	size_t len = 0;
	int rc = st_log_size(t->c, &index);
	if (rc != RG_OK)
		return rc;
	out->log_index = (int64_t)index;
	rc = in->receipt(in->receipt_ctx, out, index, &payload, &len);
	if (rc != RG_OK || !payload || !len) {
		free(payload);
		return rc != RG_OK ? rc : RG_EINVAL;
	}
	out->receipt = payload;
	out->receipt_len = len;
	return st_log_append(t, in->id, index, payload, len);
}

static int submit_run(struct txn *t, void *arg)
{
	struct submit_job *sj = arg;
	const struct store_referral_in *in = sj->in;
	struct submit_work *w = NULL;
	/* a job re-run in a new transaction starts from nothing */
	store_referral_out_clear(&sj->out);
	memset(&sj->out, 0, sizeof sj->out);
	int rc = referral_seen(t->c, in, &sj->out);
	if (rc != RG_ENOTFOUND)
		return rc;
	rc = quota_charge(t, in, &sj->out.over);
	if (rc != RG_OK)
		return rc;
	w = calloc(1, sizeof *w);
	if (!w)
		return RG_ENOMEM;
	rc = referral_insert(t, in);
	if (rc == RG_OK)
		rc = referral_idents_insert(t, in);
	if (rc == RG_OK)
		rc = st_order_record(t, in);
	for (size_t i = 0; rc == RG_OK && i < in->n_subjects; i++)
		rc = subject_apply(t, in, i, w);
	if (rc == RG_OK)
		rc = submit_answer(t, in, w, &sj->out);
	if (rc == RG_OK)
		rc = submit_changes(t, in, w);
	if (rc == RG_OK)
		rc = submit_audit(t, in, w);
	if (rc == RG_OK)
		rc = submit_leaf(t, in, &sj->out);
	free(w);
	return rc;
}

/* The arguments' own shape, checked before the writer sees them. */
static bool submit_valid(const struct store_referral_in *in)
{
	if (!in || !rg_id_valid(in->id) || !rg_name_valid(in->principal) ||
	    !in->jti || !*in->jti || strlen(in->jti) > REFERRAL_JTI_MAX ||
	    (unsigned)in->category > CAT_OTHER_ILLEGAL ||
	    (unsigned)in->urgency > URG_IMMINENT_HARM ||
	    in->deadline_at < 0 || !in->sealed || !in->sealed_len ||
	    in->n_subjects < 1 || in->n_subjects > REFERRAL_MAX_SUBJECTS ||
	    !in->subjects || !in->receipt)
		return false;
	if (in->partner_ref &&
	    strlen(in->partner_ref) > REFERRAL_PARTNER_REF_MAX * 4)
		return false;
	if (in->order && (!in->order->reference || !*in->order->reference ||
	                  strlen(in->order->reference) >
	                  REFERRAL_REFERENCE_MAX * 4 || in->deadline_at <= 0 ||
	                  (in->order->issuing_authority &&
	                   strlen(in->order->issuing_authority) >
	                   REFERRAL_AUTHORITY_MAX * 4)))
		return false;
	if (in->quota && (in->quota->referrals < 1 || in->quota->subjects < 1 ||
	                  in->quota->bytes < 1 || in->received_at < 0))
		return false;
	for (size_t i = 0; i < in->n_subjects; i++) {
		const struct store_subject *s = &in->subjects[i];
		if (s->n_idents < 1 || s->n_idents > 2)
			return false;
		for (size_t k = 0; k < s->n_idents; k++) {
			const struct store_ident *id = &s->idents[k];
			if ((id->kind != 'i' && id->kind != 'h') || !id->sealed ||
			    !id->sealed_len)
				return false;
		}
	}
	return true;
}

int store_referral_submit(struct store *st, const struct store_referral_in *in,
                          struct store_referral_out *out)
{
	struct submit_job sj = { .in = in };
	if (!st || !out || !submit_valid(in))
		return RG_EINVAL;
	int rc = st_write(st, submit_run, &sj);
	if (rc == RG_OK || rc == RG_EREPLAY)
		*out = sj.out;
	else if (rc == RG_EQUOTA)
		out->over = sj.out.over;
	if (rc != RG_OK && rc != RG_EREPLAY)
		store_referral_out_clear(&sj.out);
	return rc;
}

/* A referral on its way without a waiting caller. */
struct submit_async {
	struct job j;                    /* first: the writer holds &j */
	struct submit_job sj;
	void (*done)(void *ctx, int rc, struct store_referral_out *out);
	void *ctx;
};

/* The writer's reply: what store_referral_submit would return. */
static void submit_complete(struct job *j)
{
	struct submit_async *a = (struct submit_async *)j;
	int rc = j->rc;
	if (rc != RG_OK && rc != RG_EREPLAY) {
		enum store_quota_kind over = a->sj.out.over;
		store_referral_out_clear(&a->sj.out);
		memset(&a->sj.out, 0, sizeof a->sj.out);
		if (rc == RG_EQUOTA)
			a->sj.out.over = over;
	}
	a->done(a->ctx, rc, &a->sj.out);
	free(a);
}

int store_referral_submit_async(struct store *st,
                                const struct store_referral_in *in,
                                void (*done)(void *ctx, int rc,
                                             struct store_referral_out *out),
                                void *ctx)
{
	if (!st || !done || !submit_valid(in))
		return RG_EINVAL;
	struct submit_async *a = calloc(1, sizeof *a);
	if (!a)
		return RG_ENOMEM;
	a->sj.in = in;
	a->done = done;
	a->ctx = ctx;
	a->j.run = submit_run;
	a->j.arg = &a->sj;
	a->j.complete = submit_complete;
	int rc = st_write_reply(st, &a->j);
	if (rc != RG_OK)
		free(a);
	return rc;
}

/* ---- decisions ------------------------------------------------------ */

struct decide_job {
	const char *case_id;
	const struct store_decision *d;
	struct store_case after;         /* staged; copied out on commit */
};

/* received -> in_review -> actioned | no_action; a removal order's case
 * (ordered) also received | in_review -> cannot_execute; nothing else. */
static bool move_allowed(enum case_status from, enum case_status to,
                         bool ordered)
{
	return (from == CASE_RECEIVED && to == CASE_IN_REVIEW) ||
	       (from == CASE_IN_REVIEW &&
	        (to == CASE_ACTIONED || to == CASE_NO_ACTION)) ||
	       (ordered && to == CASE_CANNOT_EXECUTE &&
	        (from == CASE_RECEIVED || from == CASE_IN_REVIEW));
}

static int decision_insert(struct txn *t, const char *case_id,
                           const struct store_decision *d)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO decisions (case_id, status, action,"
	                 " ground, explanation, reviewer, at, automated,"
	                 " legal_ground)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	if (rc == RG_OK) {
		sq_text(&q, 1, case_id);
		sq_i64(&q, 2, d->status);
		sq_i64(&q, 3, d->action);
		sq_text(&q, 4, d->ground);
		sq_text(&q, 5, d->explanation);
		sq_text(&q, 6, d->reviewer);
		sq_i64(&q, 7, d->at);
		sq_i64(&q, 8, d->automated);
		sq_text(&q, 9, d->legal_ground);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* Audit detail: the move only (the explanation stays in decisions). */
static int decision_audit(struct txn *t, const char *case_id,
                          const struct store_decision *d)
{
	json_t *o = json_pack("{s:s, s:s?, s:s?}",
	                      "status", rg_status_name(d->status),
	                      "action", rg_action_name(d->action),
	                      "ground", d->ground);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)
	               : NULL;
	json_decref(o);
	int rc = text ? st_audit_add(t, d->at, d->reviewer, "decision",
	                             case_id, text)
	              : RG_ENOMEM;
	free(text);
	return rc;
}

static int decide_run(struct txn *t, void *arg)
{
	struct decide_job *dj = arg;
	const struct store_decision *d = dj->d;
	struct case_row r;
	char id[RG_ID_MAX + 1];
	int rc = case_resolve(t->c, dj->case_id, id);
	if (rc == RG_OK)
		rc = case_row_load(t->c, id, &r);
	bool ordered = false;
	if (rc == RG_OK && d->status == CASE_CANNOT_EXECUTE)
		rc = st_case_ordered(t->c, id, &ordered);
	if (rc != RG_OK)
		return rc;
	if (!move_allowed(r.status, d->status, ordered))
		return RG_ECONFLICT;
	struct store_claim k;
	rc = st_claim_get(t->c, id, &k);
	if (rc != RG_OK)
		return rc;
	if (k.reviewer[0] && k.expires_at > d->at &&
	    strcmp(k.reviewer, d->reviewer) != 0)
		return RG_ECLAIMED;
	bool closing = d->status == CASE_ACTIONED ||
	               d->status == CASE_NO_ACTION ||
	               d->status == CASE_CANNOT_EXECUTE;
	r.status = d->status;
	r.action = d->action;
	r.updated_at = max64(r.updated_at, d->at);
	if (closing)
		r.decided_at = d->at;
	if (d->status == CASE_CANNOT_EXECUTE)
		r.deadline_at = 0;       /* the clock stops */
	rc = case_row_save(t, &r);
	if (rc == RG_OK && d->status == CASE_ACTIONED)
		rc = st_hold_actioned(t, id, d->at);
	if (rc == RG_OK)
		rc = st_order_decided(t, id, d);
	if (rc == RG_OK)
		rc = decision_insert(t, id, d);
	if (rc == RG_OK && d->status == CASE_ACTIONED)
		rc = st_statement_record(t, id, d);
	if (rc == RG_OK)
		rc = st_change_add(t, id, r.status, r.action, d->at);
	if (rc == RG_OK && (d->status == CASE_ACTIONED ||
	                    d->status == CASE_NO_ACTION))
		rc = st_referrer_decided(t, id, r.status, r.action, d->at);
	if (rc == RG_OK)
		rc = decision_audit(t, id, d);
	if (rc == RG_OK && closing)
		rc = st_claim_end(t, id);
	else if (rc == RG_OK && d->claim_until > d->at)
		rc = st_claim_take(t, id, d->reviewer, d->at, d->claim_until);
	if (rc == RG_OK)
		rc = st_case_load(t->c, id, &dj->after);
	return rc;
}

/* The decision's own shape: an actioned case needs an action and a
 * ground, no_action a ground and no action, in_review no action. */
static int decision_valid(const struct store_decision *d)
{
	if (!d || !d->reviewer || !*d->reviewer ||
	    (unsigned)d->status > CASE_CANNOT_EXECUTE ||
	    (unsigned)d->action > ACTION_CONTENT_RESTRICTED)
		return RG_EINVAL;
	switch (d->status) {
	case CASE_ACTIONED:
		return d->action != ACTION_NONE && d->ground ? RG_OK : RG_EINVAL;
	case CASE_NO_ACTION:
		return d->action == ACTION_NONE && d->ground ? RG_OK : RG_EINVAL;
	case CASE_CANNOT_EXECUTE:
		return d->action == ACTION_NONE && d->ground &&
		       store_order_reason_valid(d->ground) ? RG_OK : RG_EINVAL;
	default:
		return d->action == ACTION_NONE ? RG_OK : RG_EINVAL;
	}
}

int store_case_decide(struct store *st, const char *case_id,
                      const struct store_decision *d,
                      struct store_case *after)
{
	struct decide_job dj = { .case_id = case_id, .d = d };
	if (!st || !after || decision_valid(d) != RG_OK)
		return RG_EINVAL;
	if (!rg_id_valid(case_id))
		return RG_ENOTFOUND;
	int rc = st_write(st, decide_run, &dj);
	if (rc == RG_OK)
		*after = dj.after;
	return rc;
}
