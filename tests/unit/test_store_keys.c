/* test_store_keys.c - the store's access keys (issue, find, scope across
 * merges, revocation, use counts, listing, the change feed of a key),
 * their audit rows, the signed audit heads, partner statistics, the case
 * count and the schema migration from version 1, against a real SQLite
 * file in a fresh folder under /tmp. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "dbfix.h"

#include "../../server/store.h"
#include "../../proto/audit_record.h"

#define T0 1800000000         /* a fixed "now" */
#define DAY 86400

struct fx {
	char dir[64];
	char path[160];
	struct store *st;
};

/* ---- helpers -------------------------------------------------------- */

static void label_hash(const char *label, uint8_t out[32])
{
	crypto_generichash(out, 32, (const uint8_t *)label, strlen(label),
	                   NULL, 0);
}

static const uint8_t sealed_dummy[] = "sealed-bytes";

/* Fills a subject from "h:alice,i:42" (kind, then the label hashed). */
static void subject_make(struct store_subject *s, const char *spec)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", spec);
	memset(s, 0, sizeof *s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		assert_true(s->n_idents < 2);
		struct store_ident *id = &s->idents[s->n_idents++];
		id->kind = tok[0];
		label_hash(tok, id->hash);
		id->sealed = sealed_dummy;
		id->sealed_len = sizeof sealed_dummy;
	}
}

static atomic_int ref_counter;

/* store_referral_in.receipt: the referral id as its leaf data. */
static int receipt_stub(void *ctx, const struct store_referral_out *o,
                        uint64_t index, char **payload, size_t *len)
{
	(void)ctx;
	(void)index;
	if (!(*payload = strdup(o->id)))
		return RG_ENOMEM;
	*len = strlen(o->id);
	return RG_OK;
}

/* Submits a referral of `who` at `at` with the given subjects (NULL-
 * terminated specs); returns subject 0's case id in cid (if given). */
static void refer(struct store *st, const char *who, int64_t at,
                  const char *const *subjects, char *cid)
{
	struct store_subject subj[8];
	struct store_referral_out out;
	size_t n = 0;
	for (; n < 8 && subjects[n]; n++)
		subject_make(&subj[n], subjects[n]);
	int k = atomic_fetch_add(&ref_counter, 1);
	char jti[32];
	snprintf(jti, sizeof jti, "jti-keys-%06d", k);
	struct store_referral_in in = {
		.principal = who, .jti = jti, .received_at = at,
		.category = CAT_TERRORIST_CONTENT, .urgency = URG_ROUTINE,
		.sealed = sealed_dummy, .sealed_len = sizeof sealed_dummy,
		.n_subjects = n, .subjects = subj, .receipt = receipt_stub,
	};
	crypto_generichash(in.jws_sha256, 32, (const uint8_t *)jti,
	                   strlen(jti), NULL, 0);
	snprintf(in.id, sizeof in.id, "r_k%d", k);
	assert_int_equal(store_referral_submit(st, &in, &out), RG_OK);
	store_referral_out_clear(&out);
	if (cid)
		strcpy(cid, out.cases[0].case_id);
}

/* One subject, one identifier. */
static void refer1(struct store *st, const char *who, int64_t at,
                   const char *spec, char *cid)
{
	const char *subjects[] = { spec, NULL };
	refer(st, who, at, subjects, cid);
}

static void enrol(struct store *st, const char *name, enum rg_role role)
{
	struct store_cert_in cert = { .pem = "PEM", .not_after = T0 + 365 * DAY };
	struct store_key_in key = { { 0 }, { 0 } };
	char label[80];
	snprintf(label, sizeof label, "spki:%s", name);
	label_hash(label, cert.spki_sha256);
	snprintf(key.kid, sizeof key.kid, "kid-%s", name);
	label_hash(key.kid, key.pk);
	assert_int_equal(store_principal_enrol(st, "legal1", name, role, &cert,
	                                       1, &key, 1, T0 - 1000), RG_OK);
}

static int decide(struct store *st, const char *id, enum case_status s,
                  int64_t at)
{
	struct store_decision d = {
		.status = s, .reviewer = "rev", .at = at,
		.action = s == CASE_ACTIONED ? ACTION_ACCOUNT_SUSPENDED
		                             : ACTION_NONE,
		.ground = s == CASE_IN_REVIEW ? NULL : "illegal_content",
	};
	struct store_case after;
	return store_case_decide(st, id, &d, &after);
}

/* received -> in_review -> `final` at `at`. */
static void close_case(struct store *st, const char *id,
                       enum case_status final, int64_t at)
{
	assert_int_equal(decide(st, id, CASE_IN_REVIEW, at - 1), RG_OK);
	assert_int_equal(decide(st, id, final, at), RG_OK);
}

static void rm_db(const char *path)
{
	char p[256];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/rg_keys_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_true(dbfix_target(f->dir, f->path, sizeof f->path));
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	enrol(f->st, "pave", ROLE_PARTNER);
	enrol(f->st, "isd", ROLE_PARTNER);
	enrol(f->st, "nca", ROLE_AGENCY);
	enrol(f->st, "rev", ROLE_REVIEWER);
	*state = f;
	return 0;
}

/* Removes the folder with whatever a failed test left in it. */
static int teardown(void **state)
{
	struct fx *f = *state;
	char p[64 + 1 + 256];
	store_free(f->st);
	rm_db(f->path);
	DIR *d = opendir(f->dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%.64s/%s", f->dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	int rc = rmdir(f->dir);
	free(f);
	return rc;
}

/* A key as the admin handler would fill it. */
static struct store_access_key key_make(const char *id, const char *who,
                                        enum key_tier tier, bool all_own,
                                        const char *const *cases, size_t n)
{
	struct store_access_key k = {
		.tier = tier, .all_own = all_own, .n_cases = n, .cases = cases,
		.legal_basis = "Order 2026/17 of the court of Utopia",
		.cidrs = "192.0.2.0/24,2001:db8::/32",
		.created_at = T0, .expires_at = T0 + 30 * DAY,
	};
	snprintf(k.id, sizeof k.id, "%s", id);
	snprintf(k.principal, sizeof k.principal, "%s", who);
	return k;
}

static int issue(struct store *st, const struct store_access_key *k,
                 const char *secret)
{
	uint8_t h[32];
	label_hash(secret, h);
	return store_access_key_issue(st, "legal1", k, h);
}

/* Finds by the secret's hash; the caller releases *h. */
static int find(struct store *st, const char *secret,
                struct store_access_key *k, struct store_key_holder **h)
{
	uint8_t hash[32];
	label_hash(secret, hash);
	return store_access_key_find(st, hash, k, h);
}

/* Rows in a table, read with a separate read-only connection. */
static int count_rows(const char *path, const char *table)
{
	char sql[320];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
	return (int)dbfix_int(path, sql);
}

/* Runs a script on the file with a plain connection. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int64_t user_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The schema version, read the engine's way. */
static int64_t schema_version(const char *path)
{
	return dbfix_int(path, dbfix_pg() ? "SELECT version FROM refgate_schema"
	                                  : "PRAGMA user_version");
}

/* Either engine: a new database is at version 6 (one numbering for
 * both); a database of a newer version is refused, not touched. */
static void test_schema_version(void **state)
{
	struct fx *f = *state;
	char sql[96];
	store_free(f->st);
	f->st = NULL;
	int64_t v = schema_version(f->path);
	assert_true(v >= 7);
	snprintf(sql, sizeof sql, dbfix_pg() ? "UPDATE refgate_schema SET version = %lld"
	                                     : "PRAGMA user_version = %lld", (long long)v + 1);
	assert_true(dbfix_exec(f->path, sql));
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_EIO);
	assert_null(f->st);
	assert_int_equal(schema_version(f->path), v + 1);
	snprintf(sql, sizeof sql, dbfix_pg() ? "UPDATE refgate_schema SET version = %lld"
	                                     : "PRAGMA user_version = %lld", (long long)v);
	assert_true(dbfix_exec(f->path, sql));
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	assert_int_equal(count_rows(f->path, "principals"), 4);
}

/* The audit rows, collected. */
struct rows {
	int n;
	struct {
		int64_t seq;
		char kind[24];
		char object[48];
		char detail[2048];
	} r[64];
	uint8_t prev[32];
	bool broken;
};

static int rows_cb(void *ctx, const struct store_audit *a)
{
	struct rows *w = ctx;
	uint8_t h[32];
	if (memcmp(a->prev_hash, w->prev, 32) != 0 ||
	    audit_record_hash(a->seq, a->at, a->actor, a->kind, a->object,
	                     a->detail, w->prev, h) != RG_OK ||
	    memcmp(h, a->hash, 32) != 0)
		w->broken = true;
	memcpy(w->prev, a->hash, 32);
	if (w->n < 64) {
		w->r[w->n].seq = a->seq;
		snprintf(w->r[w->n].kind, sizeof w->r[0].kind, "%s", a->kind);
		snprintf(w->r[w->n].object, sizeof w->r[0].object, "%s",
		         a->object);
		snprintf(w->r[w->n].detail, sizeof w->r[0].detail, "%s",
		         a->detail);
	}
	w->n++;
	return 0;
}

static void audit_rows(struct store *st, struct rows *w)
{
	int64_t last;
	memset(w, 0, sizeof *w);
	assert_int_equal(store_audit_each(st, 0, 100000, rows_cb, w, &last),
	                 RG_OK);
	assert_false(w->broken);
}

/* ---- schema --------------------------------------------------------- */


/* Back to what version 2 had: no identifier provenance, no seq_at, no
 * referrer views (version 4), no daily quota counts (version 5). */
/* The newest schema version (store_schema.c's SCHEMA_VERSION). */
#define SCHEMA_LATEST 10

/* Back to version 6: no removal orders (10; the rebuilt cases table
 * stays, its data must survive the rebuild again), no statements of
 * reasons (9), no claims (8), no retention columns (7). */
static const char to_v6_sql[] =
	"DROP TABLE removal_order_referrals; DROP TABLE removal_orders;"
	" DROP INDEX statements_pending; DROP TABLE statements;"
	" ALTER TABLE principals DROP COLUMN trusted_flagger;"
	" ALTER TABLE decisions DROP COLUMN legal_ground;"
	" DROP TABLE case_claims;"
	" DROP INDEX cases_retention;"
	" ALTER TABLE cases DROP COLUMN preserved_until;"
	" ALTER TABLE cases DROP COLUMN purged_at;"
	" ALTER TABLE referrals DROP COLUMN purged_at;"
	" PRAGMA user_version = 6;";
static const char to_v2_sql[] =
	"DROP TABLE log_checkpoints; DROP TABLE log_nodes; DROP TABLE log_leaves;"
	" DROP TABLE quota_days;"
	" DROP TABLE referrer_cases; DROP TABLE referrer_idents;"
	" DROP TABLE referrer_feed; DROP INDEX referral_subjects_first;"
	" DROP TABLE access_key_idents; DROP TABLE referral_idents;"
	" ALTER TABLE referrals DROP COLUMN seq_at;"
	" ALTER TABLE access_keys DROP COLUMN seq_at;"
	" PRAGMA user_version = 2;";

static int feed_count_cb(void *ctx, const struct store_change *c)
{
	(void)c;
	(*(int *)ctx)++;
	return 0;
}

static void test_schema_migration(void **state)
{
	struct fx *f = *state;
	char cid[RG_ID_MAX + 1];
	uint8_t hm[32];
	int64_t last;
	int n = 0;
	struct store_access_key k;
	struct store_key_holder *h;
	refer1(f->st, "pave", T0, "h:mig", cid);
	const char *cases[] = { cid };
	struct store_access_key in = key_make("k_old", "nca", TIER_DISCLOSURE,
	                                      false, cases, 1);
	assert_int_equal(issue(f->st, &in, "s-old"), RG_OK);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(user_version(f->path), SCHEMA_LATEST);

	raw_exec(f->path, to_v6_sql);

	/* version 2 to 3: existing rows kept, seq_at 0 (their feed whole),
	 * no provenance (a key issued before discloses no identifier: its
	 * issue-time ones were never recorded) */
	raw_exec(f->path, to_v2_sql);
	assert_int_equal(user_version(f->path), 2);
	assert_int_equal(count_rows(f->path, "referral_idents"), -1);
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	assert_int_equal(user_version(f->path), SCHEMA_LATEST);
	assert_int_equal(count_rows(f->path, "referral_idents"), 0);
	assert_int_equal(count_rows(f->path, "access_key_idents"), 0);
	assert_int_equal(store_changes(f->st, "pave", 0, 100, feed_count_cb, &n,
	                               &last), RG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(count_rows(f->path, "quota_days"), 0);
	assert_int_equal(count_rows(f->path, "log_leaves"), 0);
	assert_int_equal(count_rows(f->path, "statements"), 0);
	/* version 4: pave's own view of its case, under the id it was
	 * answered with, status as a referrer sees it; its feed starts empty */
	struct store_case v;
	assert_int_equal(store_referrer_case_get(f->st, "pave", cid, &v), RG_OK);
	assert_string_equal(v.id, cid);
	assert_int_equal(v.status, CASE_RECEIVED);
	assert_int_equal(v.opened_at, T0);
	assert_int_equal(count_rows(f->path, "referrer_cases"), 1);
	assert_int_equal(store_referrer_case_get(f->st, "nca", cid, &v),
	                 RG_ENOTFOUND);
	assert_int_equal(find(f->st, "s-old", &k, &h), RG_OK);
	assert_int_equal(store_access_key_covers(f->st, &k, cid), RG_OK);
	label_hash("h:mig", hm);
	assert_int_equal(store_access_key_ident_allowed(f->st, &k, hm),
	                 RG_ENOTFOUND);
	store_access_key_release(h);
	/* new referrals and keys record theirs */
	refer1(f->st, "pave", T0 + 1, "h:mig", NULL);
	assert_int_equal(count_rows(f->path, "referral_idents"), 1);
	in = key_make("k_new", "nca", TIER_DISCLOSURE, false, cases, 1);
	assert_int_equal(issue(f->st, &in, "s-new"), RG_OK);
	assert_int_equal(find(f->st, "s-new", &k, &h), RG_OK);
	assert_int_equal(store_access_key_ident_allowed(f->st, &k, hm), RG_OK);
	store_access_key_release(h);
	store_free(f->st);
	f->st = NULL;

	/* version 1 to 3: the tables of 2 and 3 made, nothing lost */
	raw_exec(f->path, to_v6_sql);
	raw_exec(f->path, to_v2_sql);
	raw_exec(f->path, "DROP TABLE access_key_cases; DROP TABLE access_keys;"
	                  " DROP TABLE audit_heads; PRAGMA user_version = 1;");
	assert_int_equal(user_version(f->path), 1);
	assert_int_equal(count_rows(f->path, "access_keys"), -1);
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	assert_int_equal(user_version(f->path), SCHEMA_LATEST);
	struct store_case c;
	assert_int_equal(store_case_get(f->st, cid, &c), RG_OK);
	assert_int_equal(c.n_referrals, 2);
	in = key_make("k_mig", "nca", TIER_STATUS, false, cases, 1);
	assert_int_equal(issue(f->st, &in, "s-mig"), RG_OK);
	assert_int_equal(count_rows(f->path, "access_keys"), 1);
	assert_int_equal(count_rows(f->path, "access_key_idents"), 1);
	refer1(f->st, "isd", T0 + 2, "h:mig", NULL);
	assert_int_equal(count_rows(f->path, "referral_idents"), 1);
	store_free(f->st);
	f->st = NULL;

	/* a version from the future is refused */
	char future[48];
	snprintf(future, sizeof future, "PRAGMA user_version = %d;",
	         SCHEMA_LATEST + 1);
	raw_exec(f->path, future);
	struct store *st = NULL;
	assert_int_equal(store_open(f->path, NULL, &st), RG_EIO);
	assert_null(st);
	snprintf(future, sizeof future, "PRAGMA user_version = %d;",
	         SCHEMA_LATEST);
	raw_exec(f->path, future);
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
}

/* Version 6 to 7: an actioned case a removal order named (a referral
 * with a deadline) is held from its decision; the others are not. */
static void test_schema_v7_holds(void **state)
{
	struct fx *f = *state;
	char held[RG_ID_MAX + 1], free_case[RG_ID_MAX + 1], sql[256];
	refer1(f->st, "nca", T0 + 5, "h:held", held);
	refer1(f->st, "pave", T0 + 6, "h:free", free_case);
	close_case(f->st, held, CASE_ACTIONED, T0 + 20);
	close_case(f->st, free_case, CASE_ACTIONED, T0 + 21);
	store_free(f->st);
	f->st = NULL;
	raw_exec(f->path, to_v6_sql);
	snprintf(sql, sizeof sql, "UPDATE referrals SET deadline_at = %lld"
	         " WHERE id IN (SELECT referral_id FROM referral_subjects"
	         " WHERE case_id = '%s');", (long long)(T0 + 3605), held);
	raw_exec(f->path, sql);
	assert_int_equal(user_version(f->path), 6);
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	assert_int_equal(user_version(f->path), SCHEMA_LATEST);
	snprintf(sql, sizeof sql, "cases WHERE id = '%s' AND preserved_until"
	         " = %lld", held, (long long)(T0 + 20 + STORE_PRESERVE_SECONDS));
	assert_int_equal(count_rows(f->path, sql), 1);
	snprintf(sql, sizeof sql, "cases WHERE id = '%s' AND preserved_until"
	         " = 0", free_case);
	assert_int_equal(count_rows(f->path, sql), 1);
}

/* ---- issue and find ------------------------------------------------- */

static void test_key_issue_find(void **state)
{
	struct fx *f = *state;
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1];
	struct store_access_key k;
	struct store_key_holder *h = NULL;
	refer1(f->st, "pave", T0, "h:issue-a", a);
	refer1(f->st, "isd", T0 + 1, "h:issue-b", b);
	const char *cases[] = { b, a, b };        /* a repeat counts once */
	struct store_access_key in = key_make("k_find", "nca", TIER_DISCLOSURE,
	                                      false, cases, 3);
	assert_int_equal(issue(f->st, &in, "secret-find"), RG_OK);

	assert_int_equal(find(f->st, "secret-find", &k, &h), RG_OK);
	assert_non_null(h);
	assert_string_equal(k.id, "k_find");
	assert_string_equal(k.principal, "nca");
	assert_string_equal(k.issued_by, "legal1");
	assert_int_equal(k.tier, TIER_DISCLOSURE);
	assert_false(k.all_own);
	assert_int_equal(k.n_cases, 2);
	/* sorted, canonical */
	const char *lo = strcmp(a, b) < 0 ? a : b, *hi = lo == a ? b : a;
	assert_string_equal(k.cases[0], lo);
	assert_string_equal(k.cases[1], hi);
	assert_string_equal(k.legal_basis, in.legal_basis);
	assert_string_equal(k.cidrs, in.cidrs);
	assert_int_equal(k.created_at, T0);
	assert_int_equal(k.expires_at, T0 + 30 * DAY);
	assert_int_equal(k.revoked_at, 0);
	assert_int_equal(k.last_used_at, 0);
	assert_int_equal(k.use_count, 0);
	store_access_key_release(h);
	store_access_key_release(NULL);

	/* another secret, or none stored */
	h = NULL;
	assert_int_equal(find(f->st, "secret-fine", &k, &h), RG_ENOTFOUND);
	assert_null(h);

	/* an all_own key with no CIDRs (NULL reads back as "") */
	in = key_make("k_own", "nca", TIER_STATUS, true, NULL, 0);
	in.cidrs = NULL;
	assert_int_equal(issue(f->st, &in, "secret-own"), RG_OK);
	assert_int_equal(find(f->st, "secret-own", &k, &h), RG_OK);
	assert_true(k.all_own);
	assert_int_equal(k.n_cases, 0);
	assert_string_equal(k.cidrs, "");
	assert_int_equal(k.tier, TIER_STATUS);
	store_access_key_release(h);

	/* the same id or secret again */
	in = key_make("k_find", "nca", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &in, "secret-other"), RG_EEXIST);
	in = key_make("k_other", "nca", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &in, "secret-find"), RG_EEXIST);
	assert_int_equal(count_rows(f->path, "access_keys"), 2);
}

static void test_key_issue_refused(void **state)
{
	struct fx *f = *state;
	char a[RG_ID_MAX + 1];
	uint8_t hash[32];
	refer1(f->st, "pave", T0, "h:refused", a);
	const char *one[] = { a };
	const char *unknown[] = { a, "c_nosuchcase" };
	const char *bad[] = { "not an id!" };
	const char *null_case[] = { NULL };
	struct store_access_key k;
	label_hash("s", hash);
	int audit_before = count_rows(f->path, "audit");

	/* not active, unknown: RG_ENOTFOUND, nothing written */
	assert_int_equal(store_principal_revoke(f->st, "legal1", "isd", T0),
	                 RG_OK);
	audit_before++;
	k = key_make("k_r1", "isd", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &k, "s1"), RG_ENOTFOUND);
	k = key_make("k_r2", "nobody", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &k, "s2"), RG_ENOTFOUND);
	k = key_make("k_r3", "nca", TIER_STATUS, false, unknown, 2);
	assert_int_equal(issue(f->st, &k, "s3"), RG_ENOTFOUND);
	k = key_make("k_r4", "nca", TIER_STATUS, false, bad, 1);
	assert_int_equal(issue(f->st, &k, "s4"), RG_ENOTFOUND);
	assert_int_equal(count_rows(f->path, "access_keys"), 0);
	assert_int_equal(count_rows(f->path, "access_key_cases"), 0);
	assert_int_equal(count_rows(f->path, "audit"), audit_before);

	/* malformed: RG_EINVAL */
	k = key_make("k_x", "nca", 0, true, NULL, 0);
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k_x", "nca", 3, true, NULL, 0);
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k_x", "nca", TIER_STATUS, true, one, 1);
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k_x", "nca", TIER_STATUS, false, NULL, 0);
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k_x", "nca", TIER_STATUS, false, null_case, 1);
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k x", "nca", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k_x", "Not-A-Name", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k_x", "nca", TIER_STATUS, true, NULL, 0);
	k.expires_at = k.created_at;
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k_x", "nca", TIER_STATUS, true, NULL, 0);
	k.legal_basis = "";
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k.legal_basis = NULL;
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k.legal_basis = "caf\xc3";                  /* truncated UTF-8 */
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k.legal_basis = "\xed\xa0\x80";             /* a surrogate */
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	k = key_make("k_x", "nca", TIER_STATUS, true, NULL, 0);
	k.cidrs = "192.0.2.0/24;rm -rf";
	assert_int_equal(issue(f->st, &k, "x"), RG_EINVAL);
	assert_int_equal(store_access_key_issue(f->st, "", &k, hash), RG_EINVAL);
	assert_int_equal(store_access_key_issue(f->st, "legal1", NULL, hash),
	                 RG_EINVAL);
	assert_int_equal(store_access_key_issue(f->st, "legal1", &k, NULL),
	                 RG_EINVAL);
	assert_int_equal(store_access_key_issue(NULL, "legal1", &k, hash),
	                 RG_EINVAL);

	/* the limits: ACCESS_KEY_BASIS_MAX characters (multi-byte ones
	 * count once), ACCESS_KEY_MAX_CIDRS CIDRs, ACCESS_KEY_MAX_CASES cases */
	char *basis = malloc(ACCESS_KEY_BASIS_MAX * 2 + 2);
	assert_non_null(basis);
	for (int i = 0; i < ACCESS_KEY_BASIS_MAX; i++)
		memcpy(basis + 2 * i, "\xc3\xa9", 2);    /* é */
	basis[2 * ACCESS_KEY_BASIS_MAX] = '\0';
	char cidrs[ACCESS_KEY_MAX_CIDRS * 50 + 16] = "";
	for (int i = 0; i < ACCESS_KEY_MAX_CIDRS; i++)     /* the longest */
		snprintf(cidrs + strlen(cidrs), sizeof cidrs - strlen(cidrs),
		         "%sffff:ffff:ffff:ffff:ffff:%04x:255.255.255.255/128",
		         i ? "," : "", i);
	k = key_make("k_max", "nca", TIER_STATUS, true, NULL, 0);
	k.legal_basis = basis;
	k.cidrs = cidrs;
	assert_int_equal(issue(f->st, &k, "s-max"), RG_OK);
	strcat(basis, "e");
	k = key_make("k_max2", "nca", TIER_STATUS, true, NULL, 0);
	k.legal_basis = basis;
	assert_int_equal(issue(f->st, &k, "s-max2"), RG_EINVAL);
	k = key_make("k_max3", "nca", TIER_STATUS, true, NULL, 0);
	strcat(cidrs, ",10.99.0.0/16");
	k.cidrs = cidrs;
	assert_int_equal(issue(f->st, &k, "s-max3"), RG_EINVAL);
	free(basis);

	const char **many = calloc(ACCESS_KEY_MAX_CASES + 1, sizeof *many);
	assert_non_null(many);
	for (int i = 0; i <= ACCESS_KEY_MAX_CASES; i++)
		many[i] = a;
	k = key_make("k_many", "nca", TIER_STATUS, false, many,
	             ACCESS_KEY_MAX_CASES + 1);
	assert_int_equal(issue(f->st, &k, "s-many"), RG_EINVAL);
	k.n_cases = ACCESS_KEY_MAX_CASES;
	assert_int_equal(issue(f->st, &k, "s-many"), RG_OK);
	free(many);
	assert_int_equal(count_rows(f->path, "access_keys"), 2);
}

/* ---- scope ---------------------------------------------------------- */

static void test_key_covers(void **state)
{
	struct fx *f = *state;
	char x[RG_ID_MAX + 1], y[RG_ID_MAX + 1], z[RG_ID_MAX + 1];
	char other[RG_ID_MAX + 1];
	struct store_access_key listed, own, both;
	struct store_key_holder *h1, *h2, *h3;
	refer1(f->st, "pave", T0, "h:cov-x", x);          /* older */
	refer1(f->st, "pave", T0 + 10, "h:cov-y", y);
	refer1(f->st, "nca", T0 + 20, "h:cov-z", z);      /* nca's own */
	refer1(f->st, "isd", T0 + 30, "h:cov-o", other);

	const char *ly[] = { y };
	const char *lxy[] = { x, y };
	struct store_access_key in = key_make("k_list", "nca", TIER_STATUS,
	                                      false, ly, 1);
	assert_int_equal(issue(f->st, &in, "s-list"), RG_OK);
	in = key_make("k_own", "nca", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &in, "s-own"), RG_OK);
	in = key_make("k_both", "nca", TIER_STATUS, false, lxy, 2);
	assert_int_equal(issue(f->st, &in, "s-both"), RG_OK);
	assert_int_equal(find(f->st, "s-list", &listed, &h1), RG_OK);
	assert_int_equal(find(f->st, "s-own", &own, &h2), RG_OK);
	assert_int_equal(find(f->st, "s-both", &both, &h3), RG_OK);

	assert_int_equal(store_access_key_covers(f->st, &listed, y), RG_OK);
	assert_int_equal(store_access_key_covers(f->st, &listed, x),
	                 RG_ENOTFOUND);
	assert_int_equal(store_access_key_covers(f->st, &listed, z),
	                 RG_ENOTFOUND);
	assert_int_equal(store_access_key_covers(f->st, &own, z), RG_OK);
	assert_int_equal(store_access_key_covers(f->st, &own, y), RG_ENOTFOUND);
	assert_int_equal(store_access_key_covers(f->st, &own, other),
	                 RG_ENOTFOUND);
	assert_int_equal(store_access_key_covers(f->st, &listed, "c_none"),
	                 RG_ENOTFOUND);
	assert_int_equal(store_access_key_covers(f->st, &listed, "bad id"),
	                 RG_ENOTFOUND);
	assert_int_equal(store_access_key_covers(f->st, &listed, NULL),
	                 RG_ENOTFOUND);
	assert_int_equal(count_rows(f->path, "access_key_cases"), 3);

	/* a referral naming both merges y into x (the older): the listed key
	 * follows, by the survivor's id and by the absorbed one's */
	const char *link[] = { "h:cov-x,h:cov-y", NULL };
	refer(f->st, "isd", T0 + 40, link, NULL);
	struct store_case c;
	assert_int_equal(store_case_get(f->st, y, &c), RG_OK);
	assert_string_equal(c.id, x);
	assert_int_equal(store_access_key_covers(f->st, &listed, x), RG_OK);
	assert_int_equal(store_access_key_covers(f->st, &listed, y), RG_OK);
	assert_int_equal(store_access_key_covers(f->st, &both, x), RG_OK);
	/* the key listing both keeps one row */
	assert_int_equal(count_rows(f->path, "access_key_cases"), 2);
	store_access_key_release(h1);
	store_access_key_release(h3);
	assert_int_equal(find(f->st, "s-list", &listed, &h1), RG_OK);
	assert_int_equal(listed.n_cases, 1);
	assert_string_equal(listed.cases[0], x);
	assert_int_equal(find(f->st, "s-both", &both, &h3), RG_OK);
	assert_int_equal(both.n_cases, 1);
	assert_string_equal(both.cases[0], x);

	/* a key issued later under the absorbed id lists the survivor */
	struct store_access_key late;
	struct store_key_holder *h4;
	in = key_make("k_late", "nca", TIER_STATUS, false, ly, 1);
	assert_int_equal(issue(f->st, &in, "s-late"), RG_OK);
	assert_int_equal(find(f->st, "s-late", &late, &h4), RG_OK);
	assert_int_equal(late.n_cases, 1);
	assert_string_equal(late.cases[0], x);
	store_access_key_release(h4);

	/* all_own follows merges too: nca's case absorbs another */
	const char *link2[] = { "h:cov-z,h:cov-o", NULL };
	refer(f->st, "pave", T0 + 50, link2, NULL);
	assert_int_equal(store_access_key_covers(f->st, &own, other), RG_OK);
	assert_int_equal(store_access_key_covers(f->st, &own, z), RG_OK);

	/* coverage is the key's scope, not its state: expiry and revocation
	 * are the caller's checks */
	assert_int_equal(store_access_key_revoke(f->st, "legal1", "k_list",
	                                         T0 + 60), RG_OK);
	assert_int_equal(store_access_key_covers(f->st, &listed, x), RG_OK);
	store_access_key_release(h1);
	store_access_key_release(h2);
	store_access_key_release(h3);
}

/* ---- identifiers a key may disclose ---------------------------------- */

static void hash_of(const char *spec, uint8_t out[32])
{
	label_hash(spec, out);
}

static int allowed(struct store *st, const struct store_access_key *k,
                   const char *spec)
{
	uint8_t h[32];
	hash_of(spec, h);
	return store_access_key_ident_allowed(st, k, h);
}

/* Security review: a merge after issue must not widen what a key
 * discloses. Coverage of the case follows the merge; the identifiers a
 * listed key may reveal are those its cases had at issue, and an all_own
 * key's are those its principal itself submitted. */
static void test_key_idents_scope(void **state)
{
	struct fx *f = *state;
	char x[RG_ID_MAX + 1], y[RG_ID_MAX + 1], z[RG_ID_MAX + 1];
	struct store_access_key listed, own;
	struct store_key_holder *h1, *h2;
	const char *x2[] = { "h:sc-x,i:sc-x", NULL };
	refer(f->st, "pave", T0, x2, x);               /* two identifiers */
	refer1(f->st, "isd", T0 + 10, "h:sc-y", y);
	refer1(f->st, "nca", T0 + 20, "h:sc-z", z);    /* nca's own */
	const char *lx[] = { x };
	struct store_access_key in = key_make("k_scl", "nca", TIER_DISCLOSURE,
	                                      false, lx, 1);
	assert_int_equal(issue(f->st, &in, "s-scl"), RG_OK);
	in = key_make("k_sco", "nca", TIER_DISCLOSURE, true, NULL, 0);
	assert_int_equal(issue(f->st, &in, "s-sco"), RG_OK);
	assert_int_equal(find(f->st, "s-scl", &listed, &h1), RG_OK);
	assert_int_equal(find(f->st, "s-sco", &own, &h2), RG_OK);
	assert_int_equal(count_rows(f->path, "access_key_idents"), 2);

	assert_int_equal(allowed(f->st, &listed, "h:sc-x"), RG_OK);
	assert_int_equal(allowed(f->st, &listed, "i:sc-x"), RG_OK);
	assert_int_equal(allowed(f->st, &listed, "h:sc-y"), RG_ENOTFOUND);
	assert_int_equal(allowed(f->st, &listed, "h:sc-z"), RG_ENOTFOUND);
	assert_int_equal(allowed(f->st, &own, "h:sc-z"), RG_OK);
	assert_int_equal(allowed(f->st, &own, "h:sc-x"), RG_ENOTFOUND);

	/* a partner's referral links y to x: the key still covers x, whose
	 * identifiers now include y's, which it must not reveal */
	const char *link[] = { "h:sc-x,h:sc-y", NULL };
	refer(f->st, "isd", T0 + 30, link, NULL);
	struct store_case c;
	assert_int_equal(store_case_get(f->st, y, &c), RG_OK);
	assert_string_equal(c.id, x);
	assert_int_equal(store_access_key_covers(f->st, &listed, x), RG_OK);
	assert_int_equal(allowed(f->st, &listed, "h:sc-x"), RG_OK);
	assert_int_equal(allowed(f->st, &listed, "i:sc-x"), RG_OK);
	assert_int_equal(allowed(f->st, &listed, "h:sc-y"), RG_ENOTFOUND);
	/* nor one added later by a plain join */
	const char *more[] = { "h:sc-x,h:sc-new", NULL };
	refer(f->st, "pave", T0 + 40, more, NULL);
	assert_int_equal(allowed(f->st, &listed, "h:sc-new"), RG_ENOTFOUND);

	/* all_own: isd links nca's case to another account; nca's key
	 * covers the merged case but reveals only what nca itself named */
	refer1(f->st, "isd", T0 + 50, "i:sc-w", NULL);
	const char *link2[] = { "h:sc-z,i:sc-w", NULL };
	refer(f->st, "isd", T0 + 60, link2, NULL);
	assert_int_equal(store_access_key_covers(f->st, &own, z), RG_OK);
	assert_int_equal(allowed(f->st, &own, "h:sc-z"), RG_OK);
	assert_int_equal(allowed(f->st, &own, "i:sc-w"), RG_ENOTFOUND);
	/* until nca names it in a referral of its own */
	refer1(f->st, "nca", T0 + 70, "i:sc-w", NULL);
	assert_int_equal(allowed(f->st, &own, "i:sc-w"), RG_OK);
	/* provenance: every identifier of every subject, per referral */
	assert_int_equal(count_rows(f->path, "referral_idents"), 12);

	/* unknown key, bad arguments */
	struct store_access_key ghost = listed;
	snprintf(ghost.id, sizeof ghost.id, "k_ghost");
	assert_int_equal(allowed(f->st, &ghost, "h:sc-x"), RG_ENOTFOUND);
	snprintf(ghost.id, sizeof ghost.id, "bad id");
	assert_int_equal(allowed(f->st, &ghost, "h:sc-x"), RG_ENOTFOUND);
	uint8_t hh[32];
	hash_of("h:sc-x", hh);
	assert_int_equal(store_access_key_ident_allowed(f->st, NULL, hh),
	                 RG_EINVAL);
	assert_int_equal(store_access_key_ident_allowed(f->st, &listed, NULL),
	                 RG_EINVAL);
	assert_int_equal(store_access_key_ident_allowed(NULL, &listed, hh),
	                 RG_EINVAL);
	store_access_key_release(h1);
	store_access_key_release(h2);
}

/* ---- revoke, expiry ------------------------------------------------- */

static void test_key_revoke_expiry(void **state)
{
	struct fx *f = *state;
	struct store_access_key k;
	struct store_key_holder *h;
	struct store_access_key in = key_make("k_rev", "nca", TIER_STATUS, true,
	                                      NULL, 0);
	in.expires_at = T0 + 10;
	assert_int_equal(issue(f->st, &in, "s-rev"), RG_OK);

	/* long expired and still found: the expiry is the caller's check */
	assert_int_equal(find(f->st, "s-rev", &k, &h), RG_OK);
	assert_int_equal(k.expires_at, T0 + 10);
	assert_int_equal(k.revoked_at, 0);
	store_access_key_release(h);

	assert_int_equal(store_access_key_revoke(f->st, "legal1", "k_rev",
	                                         T0 + 5), RG_OK);
	assert_int_equal(store_access_key_revoke(f->st, "legal1", "k_rev",
	                                         T0 + 6), RG_ENOTFOUND);
	assert_int_equal(store_access_key_revoke(f->st, "legal1", "k_none",
	                                         T0 + 6), RG_ENOTFOUND);
	assert_int_equal(store_access_key_revoke(f->st, "legal1", "bad id",
	                                         T0 + 6), RG_ENOTFOUND);
	assert_int_equal(store_access_key_revoke(f->st, "", "k_rev", T0 + 6),
	                 RG_EINVAL);
	assert_int_equal(store_access_key_revoke(f->st, "legal1", "k_rev", 0),
	                 RG_EINVAL);
	/* found, revoked: the caller refuses it */
	assert_int_equal(find(f->st, "s-rev", &k, &h), RG_OK);
	assert_int_equal(k.revoked_at, T0 + 5);
	store_access_key_release(h);
}

/* ---- audit ---------------------------------------------------------- */

static void test_key_audit(void **state)
{
	struct fx *f = *state;
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1], hex[65];
	uint8_t hash[32];
	struct rows w;
	refer1(f->st, "pave", T0, "h:aud-a", a);
	refer1(f->st, "pave", T0, "h:aud-b", b);
	const char *cases[] = { a, b };
	struct store_access_key in = key_make("k_aud", "nca", TIER_DISCLOSURE,
	                                      false, cases, 2);
	assert_int_equal(issue(f->st, &in, "s-aud"), RG_OK);
	in = key_make("k_aud2", "nca", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &in, "s-aud2"), RG_OK);
	assert_int_equal(store_access_key_revoke(f->st, "legal2", "k_aud",
	                                         T0 + 100), RG_OK);
	audit_rows(f->st, &w);
	assert_true(w.n >= 3 && w.n <= 64);

	json_t *d = json_loads(w.r[w.n - 3].detail, 0, NULL);
	assert_string_equal(w.r[w.n - 3].kind, "key_issue");
	assert_string_equal(w.r[w.n - 3].object, "k_aud");
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "id")), "k_aud");
	assert_string_equal(json_string_value(json_object_get(d, "principal")),
	                    "nca");
	assert_string_equal(json_string_value(json_object_get(d, "tier")),
	                    "disclosure");
	assert_true(json_is_false(json_object_get(d, "all_own")));
	assert_int_equal(json_integer_value(json_object_get(d, "cases")), 2);
	char expires[21];
	rg_time_format(T0 + 30 * DAY, expires);   /* RFC 3339, not Unix */
	assert_string_equal(json_string_value(json_object_get(d, "expires_at")),
	                    expires);
	assert_string_equal(json_string_value(json_object_get(d, "legal_basis")),
	                    in.legal_basis);
	json_decref(d);

	d = json_loads(w.r[w.n - 2].detail, 0, NULL);
	assert_non_null(d);
	assert_true(json_is_true(json_object_get(d, "all_own")));
	assert_int_equal(json_integer_value(json_object_get(d, "cases")), 0);
	json_decref(d);

	assert_string_equal(w.r[w.n - 1].kind, "key_revoke");
	assert_string_equal(w.r[w.n - 1].object, "k_aud");
	d = json_loads(w.r[w.n - 1].detail, 0, NULL);
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "id")), "k_aud");
	assert_string_equal(json_string_value(json_object_get(d, "principal")),
	                    "nca");
	json_decref(d);

	/* neither the secret nor its hash, in any form, anywhere */
	label_hash("s-aud", hash);
	sodium_bin2hex(hex, sizeof hex, hash, 32);
	char b64[64];
	sodium_bin2base64(b64, sizeof b64, hash, 32,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	for (int i = 0; i < w.n; i++) {
		assert_null(strstr(w.r[i].detail, "s-aud"));
		assert_null(strstr(w.r[i].detail, hex));
		assert_null(strstr(w.r[i].detail, b64));
	}
	/* a failed revoke is not audited */
	int n = w.n;
	assert_int_equal(store_access_key_revoke(f->st, "legal2", "k_aud",
	                                         T0 + 101), RG_ENOTFOUND);
	audit_rows(f->st, &w);
	assert_int_equal(w.n, n);
}

/* ---- uses ----------------------------------------------------------- */

struct hold {
	atomic_int armed;
	atomic_int entered;
	atomic_int release;
};

/* Holds the writer in the commit hook until released (a minute at most),
 * so that what is queued meanwhile goes into one batch. */
static void hold_hook(void *ctx)
{
	struct hold *g = ctx;
	if (!atomic_exchange(&g->armed, 0))
		return;
	atomic_store(&g->entered, 1);
	for (int i = 0; i < 60000 && !atomic_load(&g->release); i++)
		usleep(1000);
}

struct toucher {
	struct store *st;
	const char *id;
	int n;
	int64_t base;
};

static void *touch_main(void *arg)
{
	struct toucher *t = arg;
	for (int i = 0; i < t->n; i++)
		store_access_key_touch(t->st, t->id, t->base + i);
	return NULL;
}

static void test_key_touch(void **state)
{
	struct fx *f = *state;
	struct store_access_key k;
	struct store_key_holder *h;
	struct store_access_key in = key_make("k_use", "nca", TIER_STATUS, true,
	                                      NULL, 0);
	assert_int_equal(issue(f->st, &in, "s-use"), RG_OK);
	in = key_make("k_use2", "nca", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &in, "s-use2"), RG_OK);

	/* from several threads, two keys, and some no key has */
	enum { N = 4, PER = 50 };
	struct toucher t[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		t[i] = (struct toucher){ f->st, i % 2 ? "k_use2" : "k_use", PER,
		                         T0 + 1000 * i };
		assert_int_equal(pthread_create(&th[i], NULL, touch_main, &t[i]),
		                 0);
	}
	store_access_key_touch(f->st, "k_nosuch", T0);
	store_access_key_touch(f->st, "bad id", T0);
	store_access_key_touch(f->st, NULL, T0);
	store_access_key_touch(NULL, "k_use", T0);
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);

	/* not waited for; store_free drains them, and they were durable */
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	assert_int_equal(find(f->st, "s-use", &k, &h), RG_OK);
	assert_int_equal(k.use_count, 2 * PER);
	assert_int_equal(k.last_used_at, T0 + 2000 + PER - 1);
	store_access_key_release(h);
	assert_int_equal(find(f->st, "s-use2", &k, &h), RG_OK);
	assert_int_equal(k.use_count, 2 * PER);
	assert_int_equal(k.last_used_at, T0 + 3000 + PER - 1);
	store_access_key_release(h);
}

/* Uses queued while the writer is busy fold into one batch; past the
 * queue's cap they are dropped, not piled up. */
static void test_key_touch_folded(void **state)
{
	struct fx *f = *state;
	struct store_access_key k;
	struct store_key_holder *h;
	struct store_stats before, s;
	struct hold g = { 0 };
	struct store_access_key in = key_make("k_fold", "nca", TIER_STATUS, true,
	                                      NULL, 0);
	assert_int_equal(issue(f->st, &in, "s-fold"), RG_OK);

	store_set_commit_hook(f->st, hold_hook, &g);
	atomic_store(&g.armed, 1);
	refer1(f->st, "pave", T0, "h:fold", NULL);
	for (int i = 0; i < 60000 && !atomic_load(&g.entered); i++)
		usleep(1000);
	assert_true(atomic_load(&g.entered));
	store_stats_get(f->st, &before);
	enum { MANY = 9000 };        /* over the queue's cap */
	for (int i = 0; i < MANY; i++)
		store_access_key_touch(f->st, i % 3 ? "k_fold" : "k_none",
		                       T0 + i);
	store_stats_get(f->st, &s);
	assert_true(s.queued > 0 && s.queued < MANY);
	uint64_t kept = s.queued;
	atomic_store(&g.release, 1);
	store_set_commit_hook(f->st, NULL, NULL);
	store_free(f->st);
	f->st = NULL;

	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	assert_int_equal(find(f->st, "s-fold", &k, &h), RG_OK);
	/* the first `kept` uses were queued: two in three are this key's */
	int64_t want = 0, last = 0;
	for (uint64_t i = 0; i < kept; i++)
		if (i % 3) {
			want++;
			last = T0 + (int64_t)i;
		}
	assert_int_equal(k.use_count, want);
	assert_int_equal(k.last_used_at, last);
	store_access_key_release(h);
}

/* ---- listing -------------------------------------------------------- */

struct listing {
	int n;
	char ids[8][RG_ID_MAX + 1];
	size_t n_cases[8];
	char first_case[8][RG_ID_MAX + 1];
	int stop_at;
};

static int list_cb(void *ctx, const struct store_access_key *k)
{
	struct listing *l = ctx;
	assert_true(l->n < 8);
	strcpy(l->ids[l->n], k->id);
	l->n_cases[l->n] = k->n_cases;
	if (k->n_cases)
		strcpy(l->first_case[l->n], k->cases[0]);
	assert_non_null(k->legal_basis);
	assert_non_null(k->cidrs);
	l->n++;
	return l->n == l->stop_at ? 42 : 0;
}

static void test_keys_each(void **state)
{
	struct fx *f = *state;
	struct listing l = { 0 };
	char a[RG_ID_MAX + 1];
	assert_int_equal(store_access_keys_each(f->st, list_cb, &l), RG_OK);
	assert_int_equal(l.n, 0);

	refer1(f->st, "pave", T0, "h:list", a);
	const char *cases[] = { a };
	struct store_access_key in = key_make("k_l1", "nca", TIER_STATUS, true,
	                                      NULL, 0);
	assert_int_equal(issue(f->st, &in, "s-l1"), RG_OK);
	in = key_make("k_l2", "nca", TIER_DISCLOSURE, false, cases, 1);
	in.created_at = T0 + 5;
	assert_int_equal(issue(f->st, &in, "s-l2"), RG_OK);
	in = key_make("k_l3", "rev", TIER_STATUS, true, NULL, 0);
	in.created_at = T0 + 5;                 /* same second: later first */
	assert_int_equal(issue(f->st, &in, "s-l3"), RG_OK);
	assert_int_equal(store_access_key_revoke(f->st, "legal1", "k_l1",
	                                         T0 + 9), RG_OK);

	assert_int_equal(store_access_keys_each(f->st, list_cb, &l), RG_OK);
	assert_int_equal(l.n, 3);                /* revoked ones listed too */
	assert_string_equal(l.ids[0], "k_l3");
	assert_string_equal(l.ids[1], "k_l2");
	assert_string_equal(l.ids[2], "k_l1");
	assert_int_equal(l.n_cases[1], 1);
	assert_string_equal(l.first_case[1], a);

	memset(&l, 0, sizeof l);
	l.stop_at = 2;
	assert_int_equal(store_access_keys_each(f->st, list_cb, &l), 42);
	assert_int_equal(l.n, 2);
	assert_int_equal(store_access_keys_each(f->st, NULL, &l), RG_EINVAL);
}

/* ---- the change feed of a key --------------------------------------- */

struct feed {
	int n;
	int64_t seq[32];
	char ids[32][RG_ID_MAX + 1];
};

static int feed_cb(void *ctx, const struct store_change *c)
{
	struct feed *fd = ctx;
	assert_true(fd->n < 32);
	fd->seq[fd->n] = c->seq;
	strcpy(fd->ids[fd->n++], c->case_id);
	return 0;
}

/* A key's feed (the shared one) is its listed cases' changes, from their
 * whole history on, merges followed; an all_own key lists none (its
 * holder's own feed is store_referrer_changes, numbered per principal
 * and untouched by the others). Ordered by seq, each row once. */
static void test_changes_for_key(void **state)
{
	struct fx *f = *state;
	char x[RG_ID_MAX + 1], y[RG_ID_MAX + 1], z[RG_ID_MAX + 1];
	struct store_access_key listed, own;
	struct store_key_holder *h1, *h2;
	struct feed fd = { 0 };
	int64_t last;
	refer1(f->st, "pave", T0, "h:feed-x", x);         /* change 1 */
	refer1(f->st, "pave", T0 + 10, "h:feed-y", y);    /* change 2 */
	refer1(f->st, "nca", T0 + 20, "h:feed-z", z);     /* change 3 */
	const char *ly[] = { y };
	struct store_access_key in = key_make("k_feed", "nca", TIER_STATUS,
	                                      false, ly, 1);
	assert_int_equal(issue(f->st, &in, "s-feed"), RG_OK);
	in = key_make("k_feedown", "nca", TIER_STATUS, true, NULL, 0);
	assert_int_equal(issue(f->st, &in, "s-feedown"), RG_OK);
	assert_int_equal(find(f->st, "s-feed", &listed, &h1), RG_OK);
	assert_int_equal(find(f->st, "s-feedown", &own, &h2), RG_OK);

	/* a listed key covers its case's whole history (y's opening came
	 * before the key); the cursor moves to the head it read */
	assert_int_equal(store_changes_for_key(f->st, &listed, 0, 100, feed_cb,
	                                       &fd, &last), RG_OK);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.ids[0], y);
	assert_int_equal(fd.seq[0], 2);
	assert_int_equal(last, 3);
	memset(&fd, 0, sizeof fd);
	assert_int_equal(store_changes_for_key(f->st, &own, 0, 100, feed_cb,
	                                       &fd, &last), RG_OK);
	assert_int_equal(fd.n, 0);
	assert_int_equal(last, 0);

	/* y in review (4); then y merges into x (5): the key follows y to
	 * x, with x's whole history */
	assert_int_equal(decide(f->st, y, CASE_IN_REVIEW, T0 + 30), RG_OK);
	const char *link[] = { "h:feed-x,h:feed-y", NULL };
	refer(f->st, "isd", T0 + 40, link, NULL);
	/* nca joins x too (no shared row: x is open), then x is decided (6) */
	refer1(f->st, "nca", T0 + 50, "h:feed-x", NULL);
	assert_int_equal(decide(f->st, x, CASE_ACTIONED, T0 + 60), RG_OK);
	memset(&fd, 0, sizeof fd);
	assert_int_equal(store_changes_for_key(f->st, &listed, 0, 100, feed_cb,
	                                       &fd, &last), RG_OK);
	assert_int_equal(fd.n, 5);
	const int64_t want[] = { 1, 2, 4, 5, 6 };
	for (int i = 0; i < fd.n; i++) {
		assert_int_equal(fd.seq[i], want[i]);
		assert_string_equal(fd.ids[i], x);
	}
	assert_int_equal(last, 6);
	/* since and limit */
	memset(&fd, 0, sizeof fd);
	assert_int_equal(store_changes_for_key(f->st, &listed, 3, 1, feed_cb,
	                                       &fd, &last), RG_OK);
	assert_int_equal(fd.n, 1);
	assert_int_equal(fd.seq[0], 4);
	assert_int_equal(last, 4);
	memset(&fd, 0, sizeof fd);
	int64_t head = store_changes_head(f->st);
	assert_int_equal(store_changes_for_key(f->st, &listed, head, 100,
	                                       feed_cb, &fd, &last), RG_OK);
	assert_int_equal(fd.n, 0);
	assert_int_equal(last, head);

	/* nca's own feed: z opened, x joined (under nca's own id for it),
	 * x decided; numbered 1, 2, 3 whatever the others did */
	struct feed mine = { 0 };
	assert_int_equal(store_referrer_changes(f->st, "nca", 0, 100, feed_cb,
	                                        &mine, &last), RG_OK);
	assert_int_equal(mine.n, 3);
	assert_int_equal(last, 3);
	assert_string_equal(mine.ids[0], z);
	assert_string_not_equal(mine.ids[1], x);
	assert_string_equal(mine.ids[2], mine.ids[1]);
	for (int i = 0; i < mine.n; i++)
		assert_int_equal(mine.seq[i], i + 1);
	assert_int_equal(store_changes_for_key(f->st, NULL, 7, 100, feed_cb,
	                                       &fd, &last), RG_EINVAL);
	assert_int_equal(last, 7);
	store_access_key_release(h1);
	store_access_key_release(h2);
}

/* ---- signed audit heads --------------------------------------------- */

struct heads {
	int n;
	struct store_audit_signature h[8];
};

static int heads_cb(void *ctx, const struct store_audit_signature *h)
{
	struct heads *hs = ctx;
	assert_true(hs->n < 8);
	hs->h[hs->n++] = *h;
	return 0;
}

static void test_audit_heads(void **state)
{
	struct fx *f = *state;
	uint8_t pk[32], sk[64], hash[32], zero[32] = { 0 }, sig[64];
	uint8_t msg[AUDIT_HEAD_MESSAGE_LEN];
	int64_t seq = -1;
	struct heads hs = { 0 };
	struct rows w;
	crypto_sign_keypair(pk, sk);

	/* an empty log: seq 0, zero hash */
	char path[160];
	struct store *empty = NULL;
	snprintf(path, sizeof path, "%s/empty.db", f->dir);
	assert_int_equal(store_open(path, NULL, &empty), RG_OK);
	assert_int_equal(store_audit_head(empty, &seq, hash), RG_OK);
	assert_int_equal(seq, 0);
	assert_memory_equal(hash, zero, 32);
	assert_int_equal(store_audit_heads_each(empty, heads_cb, &hs), RG_OK);
	assert_int_equal(hs.n, 0);
	store_free(empty);
	rm_db(path);

	/* the head is the newest row */
	audit_rows(f->st, &w);
	assert_int_equal(store_audit_head(f->st, &seq, hash), RG_OK);
	assert_int_equal(seq, w.r[w.n - 1].seq);
	assert_memory_equal(hash, w.prev, 32);

	audit_head_message(seq, T0, hash, msg);
	crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
	assert_int_equal(store_audit_head_sign(f->st, seq, hash, T0, sig), RG_OK);
	/* signed again (a signer restarting): the first signature stays */
	uint8_t other[64];
	memset(other, 0x77, sizeof other);
	assert_int_equal(store_audit_head_sign(f->st, seq, hash, T0 + 1, other),
	                 RG_OK);
	/* only a head that is: the row, with its hash */
	assert_int_equal(store_audit_head_sign(f->st, seq + 1, hash, T0, sig),
	                 RG_ENOTFOUND);
	assert_int_equal(store_audit_head_sign(f->st, seq - 1, hash, T0, sig),
	                 RG_ECONFLICT);
	assert_int_equal(store_audit_head_sign(f->st, 0, hash, T0, sig),
	                 RG_EINVAL);
	assert_int_equal(store_audit_head_sign(f->st, seq, NULL, T0, sig),
	                 RG_EINVAL);

	/* another row, another head */
	refer1(f->st, "pave", T0 + 5, "h:head", NULL);
	int64_t seq2;
	uint8_t hash2[32], sig2[64];
	assert_int_equal(store_audit_head(f->st, &seq2, hash2), RG_OK);
	assert_true(seq2 > seq);
	audit_head_message(seq2, T0 + 60, hash2, msg);
	crypto_sign_detached(sig2, NULL, msg, sizeof msg, sk);
	assert_int_equal(store_audit_head_sign(f->st, seq2, hash2, T0 + 60,
	                                       sig2), RG_OK);

	/* listed oldest first after a restart, and each one verifies */
	store_free(f->st);
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	assert_int_equal(store_audit_heads_each(f->st, heads_cb, &hs), RG_OK);
	assert_int_equal(hs.n, 2);
	assert_int_equal(hs.h[0].seq, seq);
	assert_int_equal(hs.h[0].at, T0);
	assert_memory_equal(hs.h[0].hash, hash, 32);
	assert_memory_equal(hs.h[0].sig, sig, 64);
	assert_int_equal(hs.h[1].seq, seq2);
	for (int i = 0; i < hs.n; i++) {
		audit_head_message(hs.h[i].seq, hs.h[i].at, hs.h[i].hash,
		                         msg);
		assert_int_equal(crypto_sign_verify_detached(hs.h[i].sig, msg,
		                                             sizeof msg, pk), 0);
	}
	/* signing does not write to the log itself */
	int64_t seq3;
	assert_int_equal(store_audit_head(f->st, &seq3, hash), RG_OK);
	assert_int_equal(seq3, seq2);
	assert_int_equal(store_audit_heads_each(f->st, NULL, NULL), RG_EINVAL);
}

/* The signed bytes, known answers. */
static void test_audit_head_message(void **state)
{
	(void)state;
	uint8_t hash[32], msg[AUDIT_HEAD_MESSAGE_LEN];
	char hex[2 * AUDIT_HEAD_MESSAGE_LEN + 1];
	assert_int_equal(AUDIT_HEAD_MESSAGE_LEN, 70);
	for (int i = 0; i < 32; i++)
		hash[i] = (uint8_t)i;
	audit_head_message(0x0102030405060708, -2, hash, msg);
	sodium_bin2hex(hex, sizeof hex, msg, sizeof msg);
	assert_string_equal(hex,
	        /* "refgate-audit-head:v1:" */
	        "726566676174652d61756469742d686561643a76313a"
	        /* seq, then at (-2), big-endian */
	        "0102030405060708" "fffffffffffffffe"
	        /* the hash */
	        "000102030405060708090a0b0c0d0e0f"
	        "101112131415161718191a1b1c1d1e1f");
	memset(hash, 0xab, sizeof hash);
	audit_head_message(1, 1800000000, hash, msg);
	assert_memory_equal(msg, "refgate-audit-head:v1:", 22);
	static const uint8_t nums[16] = { 0, 0, 0, 0, 0, 0, 0, 1,
	                                  0, 0, 0, 0, 0x6b, 0x49, 0xd2, 0x00 };
	assert_memory_equal(msg + 22, nums, 16);
	assert_memory_equal(msg + 38, hash, 32);
}

/* ---- partner statistics --------------------------------------------- */

static void test_partner_stats(void **state)
{
	struct fx *f = *state;
	struct store_partner_stats s;
	char c[8][RG_ID_MAX + 1];

	/* nothing yet */
	assert_int_equal(store_partner_stats(f->st, "pave", &s), RG_OK);
	assert_int_equal(s.referrals, 0);
	assert_int_equal(s.distinct_accounts, 0);
	assert_int_equal(s.median_decision_seconds, -1);
	assert_int_equal(store_partner_stats(f->st, "nobody", &s), RG_OK);
	assert_int_equal(s.referrals, 0);
	assert_int_equal(store_partner_stats(f->st, "Bad Name", &s), RG_EINVAL);
	assert_int_equal(store_partner_stats(f->st, NULL, &s), RG_EINVAL);

	/* pave: five cases, one of them referred twice, one referral with
	 * two subjects; isd refers into one of them and one of its own */
	refer1(f->st, "pave", T0, "h:ps0", c[0]);
	refer1(f->st, "pave", T0, "h:ps1", c[1]);
	refer1(f->st, "pave", T0, "h:ps2", c[2]);
	const char *two[] = { "h:ps3", "h:ps4", NULL };
	refer(f->st, "pave", T0, two, c[3]);
	refer1(f->st, "pave", T0 + 5, "h:ps4", c[4]);
	refer1(f->st, "pave", T0 + 6, "h:ps0", NULL);
	refer1(f->st, "isd", T0 + 7, "h:ps1", NULL);
	refer1(f->st, "isd", T0 + 8, "h:isd-own", c[5]);
	assert_int_equal(store_partner_stats(f->st, "pave", &s), RG_OK);
	assert_int_equal(s.referrals, 6);
	assert_int_equal(s.distinct_accounts, 5);
	assert_int_equal(s.pending, 5);
	assert_int_equal(s.actioned + s.no_action, 0);
	assert_int_equal(s.median_decision_seconds, -1);

	/* decided: 100, 300, 50 seconds (odd: the middle one) */
	close_case(f->st, c[0], CASE_ACTIONED, T0 + 100);
	close_case(f->st, c[1], CASE_NO_ACTION, T0 + 300);
	close_case(f->st, c[2], CASE_ACTIONED, T0 + 50);
	assert_int_equal(decide(f->st, c[3], CASE_IN_REVIEW, T0 + 7), RG_OK);
	close_case(f->st, c[5], CASE_ACTIONED, T0 + 9999);    /* isd's */
	assert_int_equal(store_partner_stats(f->st, "pave", &s), RG_OK);
	assert_int_equal(s.referrals, 6);
	assert_int_equal(s.distinct_accounts, 5);
	assert_int_equal(s.actioned, 2);
	assert_int_equal(s.no_action, 1);
	assert_int_equal(s.pending, 2);          /* received, in_review */
	assert_int_equal(s.median_decision_seconds, 100);

	/* and 1001 seconds (even: the mean of 100 and 300) */
	assert_int_equal(decide(f->st, c[3], CASE_NO_ACTION, T0 + 1001), RG_OK);
	assert_int_equal(store_partner_stats(f->st, "pave", &s), RG_OK);
	assert_int_equal(s.no_action, 2);
	assert_int_equal(s.pending, 1);
	assert_int_equal(s.median_decision_seconds, 200);
	/* a referral reopens c1: pending again, out of the median */
	refer1(f->st, "pave", T0 + 2000, "h:ps1", NULL);
	assert_int_equal(store_partner_stats(f->st, "pave", &s), RG_OK);
	assert_int_equal(s.referrals, 7);
	assert_int_equal(s.pending, 2);
	assert_int_equal(s.median_decision_seconds, 100);    /* 50 100 1001 */
	close_case(f->st, c[1], CASE_NO_ACTION, T0 + 2001 + 200);
	assert_int_equal(store_partner_stats(f->st, "pave", &s), RG_OK);
	/* 50, 100, 1001, 2201: (100 + 1001) / 2 = 550.5, rounded down */
	assert_int_equal(s.median_decision_seconds, 550);

	/* isd: two referrals into two cases, one of them decided; its
	 * time to decision runs from its own first referral (T0 + 7 into
	 * c1), not from pave's (contract section 4) */
	assert_int_equal(store_partner_stats(f->st, "isd", &s), RG_OK);
	assert_int_equal(s.referrals, 2);
	assert_int_equal(s.distinct_accounts, 2);
	assert_int_equal(s.actioned, 1);
	assert_int_equal(s.no_action, 1);
	assert_int_equal(s.median_decision_seconds,
	                 ((2201 - 7) + (9999 - 8)) / 2);

	/* a merge by another principal changes nothing pave sees: it keeps
	 * its five ids (the count is of its own views) */
	const char *link[] = { "h:ps2,h:ps4", NULL };
	refer(f->st, "isd", T0 + 3000, link, NULL);
	assert_int_equal(store_partner_stats(f->st, "pave", &s), RG_OK);
	assert_int_equal(s.distinct_accounts, 5);
	assert_int_equal(s.median_decision_seconds, 550);
}

static void test_cases_count(void **state)
{
	struct fx *f = *state;
	int64_t n = -1;
	assert_int_equal(store_cases_count(f->st, &n), RG_OK);
	assert_int_equal(n, 0);
	refer1(f->st, "pave", T0, "h:cnt-a", NULL);
	refer1(f->st, "pave", T0 + 1, "h:cnt-b", NULL);
	refer1(f->st, "isd", T0 + 2, "h:cnt-c", NULL);
	refer1(f->st, "isd", T0 + 3, "h:cnt-a", NULL);       /* joins */
	assert_int_equal(store_cases_count(f->st, &n), RG_OK);
	assert_int_equal(n, 3);
	const char *link[] = { "h:cnt-a,h:cnt-b", NULL };
	refer(f->st, "isd", T0 + 4, link, NULL);
	assert_int_equal(store_cases_count(f->st, &n), RG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_cases_count(f->st, NULL), RG_EINVAL);
	assert_int_equal(store_cases_count(NULL, &n), RG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_version, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_key_issue_find, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_key_issue_refused, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_key_covers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_idents_scope, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_key_revoke_expiry, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_key_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_touch_folded, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_keys_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_for_key, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_audit_heads, setup,
		                                teardown),
		cmocka_unit_test(test_audit_head_message),
		cmocka_unit_test_setup_teardown(test_partner_stats, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_cases_count, setup,
		                                teardown),
	};
	/* Migrating version 1 and 2 files: PostgreSQL support began at
	 * version 6, so there is no older PostgreSQL database to migrate. */
	const struct CMUnitTest sqlite_tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_migration, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_schema_v7_holds, setup,
		                                teardown),
	};
	if (sodium_init() < 0)
		return 1;
	int failed = cmocka_run_group_tests_name(
		dbfix_pg() ? "keys on postgresql" : "keys on sqlite", tests,
		NULL, NULL);
	if (!dbfix_pg())
		failed += cmocka_run_group_tests_name("keys, sqlite only",
		                                      sqlite_tests, NULL, NULL);
	return failed;
}
