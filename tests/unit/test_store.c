/* test_store.c - the store against a real SQLite file in a fresh folder
 * under /tmp: principals, referrals and deduplication (joins, links,
 * merges, reopening), replays, decisions, the change feed, the review
 * queue, the audit chain, group commit under concurrent writers, and a
 * full disk. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include "dbfix.h"

#include "../../server/store.h"
#include "../../proto/audit_record.h"
#include "../../proto/merkle.h"

#define T0 1800000000         /* a fixed "now" */

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

struct sub {
	const char *who;
	const char *jti;
	const char *content;          /* NULL: the jti (same JWS) */
	int64_t at;
	enum referral_urgency urgency;
	int64_t deadline;
	const char *subjects[8];      /* NULL-terminated specs */
	const uint8_t *sealed;        /* NULL: a small blob */
	size_t sealed_len;
};

static atomic_int ref_counter;

/* store_referral_in.receipt for these tests: "<referral id>@<index>". */
static int test_receipt(void *ctx, const struct store_referral_out *o,
                        uint64_t index, char **payload, size_t *len)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%s@%llu", o->id,
	                 (unsigned long long)index);
	(void)ctx;
	if (n < 0 || !(*payload = strdup(buf)))
		return RG_ENOMEM;
	*len = (size_t)n;
	return RG_OK;
}

/* Builds and submits a referral under a daily quota (NULL: none),
 * carrying a removal order (NULL: none); its id in id_out when given. */
static int submit_full(struct store *st, const struct sub *s,
                       const struct store_quota *quota,
                       const struct store_order_in *order,
                       struct store_referral_out *out, char *id_out)
{
	struct store_subject subj[8];
	size_t n = 0;
	for (; n < 8 && s->subjects[n]; n++)
		subject_make(&subj[n], s->subjects[n]);
	struct store_referral_in in = {
		.principal = s->who,
		.jti = s->jti,
		.received_at = s->at ? s->at : T0,
		.category = CAT_TERRORIST_CONTENT,
		.urgency = s->urgency,
		.partner_ref = "P-1",
		.deadline_at = s->deadline,
		.sealed = s->sealed ? s->sealed : sealed_dummy,
		.sealed_len = s->sealed ? s->sealed_len : sizeof sealed_dummy,
		.n_subjects = n,
		.subjects = subj,
		.quota = quota,
		.receipt = test_receipt,
		.order = order,
	};
	const char *content = s->content ? s->content : s->jti;
	crypto_generichash(in.jws_sha256, 32, (const uint8_t *)content,
	                   strlen(content), NULL, 0);
	snprintf(in.id, sizeof in.id, "r_%d", atomic_fetch_add(&ref_counter, 1));
	if (id_out)
		strcpy(id_out, in.id);
	int rc = store_referral_submit(st, &in, out);
	if (rc == RG_OK || rc == RG_EREPLAY)
		store_referral_out_clear(out);
	return rc;
}

static int submit_quota(struct store *st, const struct sub *s,
                        const struct store_quota *quota,
                        struct store_referral_out *out, char *id_out)
{
	return submit_full(st, s, quota, NULL, out, id_out);
}

static int submit(struct store *st, const struct sub *s,
                  struct store_referral_out *out, char *id_out)
{
	return submit_quota(st, s, NULL, out, id_out);
}

/* The answer's case ids resolved in place to the live cases: an answer
 * names the submitter's own id for a case, an alias of it when the
 * referral joined a case someone else opened (store_referrer.c). */
static void resolve_cases(struct store *st, struct store_referral_out *out)
{
	for (size_t i = 0; i < out->n_cases; i++) {
		struct store_case c;
		assert_int_equal(store_case_get(st, out->cases[i].case_id, &c),
		                 RG_OK);
		strcpy(out->cases[i].case_id, c.id);
	}
}

/* Submits and expects success; returns subject 0's live case id (all of
 * out's ids resolved to live cases). */
static const char *submit_ok(struct store *st, const struct sub *s,
                             struct store_referral_out *out)
{
	assert_int_equal(submit(st, s, out, NULL), RG_OK);
	resolve_cases(st, out);
	return out->cases[0].case_id;
}

static void enrol(struct store *st, const char *name, enum rg_role role)
{
	struct store_cert_in cert = { .pem = "PEM", .not_after = T0 + 86400 };
	struct store_key_in key = { { 0 }, { 0 } };
	char label[80];
	snprintf(label, sizeof label, "spki:%s", name);
	label_hash(label, cert.spki_sha256);
	snprintf(key.kid, sizeof key.kid, "kid-%s", name);
	label_hash(key.kid, key.pk);
	assert_int_equal(store_principal_enrol(st, "legal1", name, role, &cert,
	                                       1, &key, 1, T0 - 1000), RG_OK);
}

static int fx_open(struct fx *f, const struct store_opts *o)
{
	return store_open(f->path, o, &f->st);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/rg_store_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_true(dbfix_target(f->dir, f->path, sizeof f->path));
	assert_int_equal(fx_open(f, NULL), RG_OK);
	enrol(f->st, "pave", ROLE_PARTNER);
	enrol(f->st, "isd", ROLE_PARTNER);
	enrol(f->st, "nca", ROLE_AGENCY);
	enrol(f->st, "rev", ROLE_REVIEWER);
	*state = f;
	return 0;
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

/* Empties and removes the test's folder (also what a failed test left). */
static int rm_dir(const char *dir)
{
	char p[64 + 1 + 256];
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%.64s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	closedir(d);
	return rmdir(dir);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_free(f->st);
	/* a clean test leaves nothing but its database behind */
	rm_db(f->path);
	int left = rmdir(f->dir);
	int gone = left == 0 ? 0 : rm_dir(f->dir);
	free(f);
	assert_int_equal(gone, 0);
	return left;
}

static int decide(struct store *st, const char *id, enum case_status s,
                  enum case_action a, int64_t at, struct store_case *after)
{
	struct store_decision d = {
		.status = s, .action = a, .reviewer = "rev", .at = at,
		.ground = s == CASE_IN_REVIEW ? NULL : "illegal_content",
		.explanation = s == CASE_IN_REVIEW ? NULL : "facts",
	};
	struct store_case tmp;
	return store_case_decide(st, id, &d, after ? after : &tmp);
}

static void close_no_action(struct store *st, const char *id, int64_t at)
{
	assert_int_equal(decide(st, id, CASE_IN_REVIEW, ACTION_NONE, at, NULL),
	                 RG_OK);
	assert_int_equal(decide(st, id, CASE_NO_ACTION, ACTION_NONE, at + 1,
	                        NULL), RG_OK);
}

static void close_actioned(struct store *st, const char *id, int64_t at)
{
	assert_int_equal(decide(st, id, CASE_IN_REVIEW, ACTION_NONE, at, NULL),
	                 RG_OK);
	assert_int_equal(decide(st, id, CASE_ACTIONED, ACTION_ACCOUNT_SUSPENDED,
	                        at + 1, NULL), RG_OK);
}

static struct store_case case_of(struct store *st, const char *id)
{
	struct store_case c;
	assert_int_equal(store_case_get(st, id, &c), RG_OK);
	return c;
}

static int count_cb(void *ctx, const void *unused)
{
	(void)unused;
	(*(int *)ctx)++;
	return 0;
}

static int count_change(void *ctx, const struct store_change *c)
{
	return count_cb(ctx, c);
}

static int count_case(void *ctx, const struct store_case *c)
{
	return count_cb(ctx, c);
}

static int count_audit(void *ctx, const struct store_audit *a)
{
	return count_cb(ctx, a);
}

static int n_changes(struct store *st, const char *who)
{
	int n = 0;
	int64_t last;
	assert_int_equal(store_changes(st, who, 0, 100000, count_change, &n,
	                               &last), RG_OK);
	return n;
}

static int n_audit(struct store *st)
{
	int n = 0;
	int64_t last;
	assert_int_equal(store_audit_each(st, 0, 100000, count_audit, &n, &last),
	                 RG_OK);
	return n;
}

static int n_queue(struct store *st)
{
	int n = 0;
	assert_int_equal(store_review_queue(st, 100000, count_case, &n), RG_OK);
	return n;
}

/* Rows in a table matching a condition, read with a separate read-only
 * connection. */
static int count_where(const char *path, const char *table, const char *cond)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE %s", table, cond);
	return (int)dbfix_int(path, sql);
}

static int count_rows(const char *path, const char *table)
{
	return count_where(path, table, "1 = 1");
}

/* ---- open, close, reopen -------------------------------------------- */

static void test_open_reopen(void **state)
{
	struct fx *f = *state;
	struct store_referral_out out;
	struct store_principal p;
	struct stat sb;
	uint8_t spki[32];
	char cid[RG_ID_MAX + 1];
	struct sub s = { "pave", "jti-open-0001", NULL, T0, URG_ROUTINE, 0,
	                 { "h:open" }, NULL, 0 };
	strcpy(cid, submit_ok(f->st, &s, &out));
	int64_t head = store_changes_head(f->st);
	assert_true(head > 0);
	store_free(f->st);
	f->st = NULL;

	if (!dbfix_pg()) {           /* the file is the SQLite engine's */
		assert_int_equal(stat(f->path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	assert_int_equal(fx_open(f, NULL), RG_OK);
	label_hash("spki:pave", spki);
	assert_int_equal(store_principal_by_spki(f->st, spki, T0, &p), RG_OK);
	assert_string_equal(p.name, "pave");
	assert_int_equal(case_of(f->st, cid).n_referrals, 1);
	assert_int_equal(store_changes_head(f->st), head);
	/* the same jti after a restart is still a replay */
	assert_int_equal(submit(f->st, &s, &out, NULL), RG_EREPLAY);
	assert_string_equal(out.cases[0].case_id, cid);

	/* refusals: no folder, no path */
	struct store *st = NULL;
	assert_int_equal(store_open("/tmp/rg-no-such-dir/x/refgate.db", NULL,
	                            &st), RG_EIO);
	assert_null(st);
	/* a PostgreSQL server that is not there */
	assert_int_equal(store_open("postgresql:///x?host=/tmp/rg-no-such-dir",
	                            NULL, &st), RG_EIO);
	assert_null(st);
	assert_int_equal(store_open(NULL, NULL, &st), RG_EINVAL);
	assert_int_equal(store_open("", NULL, &st), RG_EINVAL);
	store_free(NULL);
}

static void test_open_too_small(void **state)
{
	struct fx *f = *state;
	char path[160];
	struct store *st = NULL;
	struct store_opts o = { .max_page_count = 3 };
	snprintf(path, sizeof path, "%s/tiny.db", f->dir);
	/* the schema alone does not fit in 3 pages */
	assert_int_equal(store_open(path, &o, &st), RG_EFULL);
	assert_null(st);
	rm_db(path);
}

/* ---- principals ----------------------------------------------------- */

struct plist {
	int n;
	struct store_principal p[8];
};

static int plist_cb(void *ctx, const struct store_principal *p)
{
	struct plist *l = ctx;
	if (l->n < 8)
		l->p[l->n] = *p;
	l->n++;
	return 0;
}

static void test_principals(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_principal p;
	struct store_cert_in c1 = { .pem = "PEM1", .not_after = T0 + 100 };
	struct store_cert_in c2 = { .pem = "PEM2", .not_after = T0 + 100 };
	struct store_cert_in old = { .pem = "PEM3", .not_after = T0 - 1 };
	struct store_key_in k1 = { "kid-new-1", { 0 } };
	struct store_key_in kdup = { "kid-pave", { 0 } };
	char owner[RG_NAME_MAX + 1];
	uint8_t pk[32], want[32], spki[32];
	label_hash("c1", c1.spki_sha256);
	label_hash("c2", c2.spki_sha256);
	label_hash("old", old.spki_sha256);
	memset(k1.pk, 7, 32);

	/* a new principal, looked up by certificate and by key */
	assert_int_equal(store_principal_enrol(st, "legal1", "gnet",
	                 ROLE_PARTNER, &c1, 1, &k1, 1, T0), RG_OK);
	assert_int_equal(store_principal_by_spki(st, c1.spki_sha256, T0, &p),
	                 RG_OK);
	assert_string_equal(p.name, "gnet");
	assert_int_equal(p.role, ROLE_PARTNER);
	assert_int_equal(p.created_at, T0);
	assert_int_equal(p.revoked_at, 0);
	assert_int_equal(store_signing_key_get(st, "kid-new-1", owner, pk),
	                 RG_OK);
	assert_string_equal(owner, "gnet");
	assert_memory_equal(pk, k1.pk, 32);
	label_hash("kid-pave", want);
	assert_int_equal(store_signing_key_get(st, "kid-pave", owner, pk), RG_OK);
	assert_memory_equal(pk, want, 32);

	/* a second certificate for the same principal and role */
	assert_int_equal(store_principal_enrol(st, "legal1", "gnet",
	                 ROLE_PARTNER, &c2, 1, NULL, 0, T0), RG_OK);
	assert_int_equal(store_principal_by_spki(st, c2.spki_sha256, T0, &p),
	                 RG_OK);
	/* another role: conflict; the same certificate or kid again: exists,
	 * and nothing of the refused call stays */
	assert_int_equal(store_principal_enrol(st, "legal1", "gnet",
	                 ROLE_AGENCY, NULL, 0, NULL, 0, T0), RG_ECONFLICT);
	assert_int_equal(store_principal_enrol(st, "legal1", "gnet",
	                 ROLE_PARTNER, &c1, 1, NULL, 0, T0), RG_EEXIST);
	assert_int_equal(store_principal_enrol(st, "legal1", "newp",
	                 ROLE_PARTNER, &old, 1, &kdup, 1, T0), RG_EEXIST);
	assert_int_equal(store_principal_by_spki(st, old.spki_sha256, T0 - 10,
	                                         &p), RG_ENOTFOUND);
	/* an expired certificate */
	assert_int_equal(store_principal_enrol(st, "legal1", "gnet",
	                 ROLE_PARTNER, &old, 1, NULL, 0, T0), RG_OK);
	assert_int_equal(store_principal_by_spki(st, old.spki_sha256, T0, &p),
	                 RG_ENOTFOUND);
	assert_int_equal(store_principal_by_spki(st, old.spki_sha256, T0 - 2,
	                                         &p), RG_OK);
	assert_int_equal(store_principal_by_spki(st, c1.spki_sha256, T0 + 100,
	                                         &p), RG_ENOTFOUND);
	/* unknown */
	label_hash("nobody", spki);
	assert_int_equal(store_principal_by_spki(st, spki, T0, &p),
	                 RG_ENOTFOUND);
	assert_int_equal(store_signing_key_get(st, "kid-none", owner, pk),
	                 RG_ENOTFOUND);
	assert_int_equal(store_signing_key_get(st, "bad kid!", owner, pk),
	                 RG_ENOTFOUND);
	/* malformed */
	assert_int_equal(store_principal_enrol(st, "legal1", "Bad Name",
	                 ROLE_PARTNER, NULL, 0, NULL, 0, T0), RG_EINVAL);
	assert_int_equal(store_principal_enrol(st, "legal1", "x", ROLE_NONE,
	                 NULL, 0, NULL, 0, T0), RG_EINVAL);
	assert_int_equal(store_principal_enrol(st, "", "x", ROLE_LEGAL,
	                 NULL, 0, NULL, 0, T0), RG_EINVAL);

	/* the listing, by name, with active counts */
	struct plist l = { 0 };
	assert_int_equal(store_principals_each(st, plist_cb, &l), RG_OK);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.p[0].name, "gnet");
	assert_int_equal(l.p[0].n_certs, 3);
	assert_int_equal(l.p[0].n_keys, 1);
	assert_string_equal(l.p[1].name, "isd");
	assert_string_equal(l.p[4].name, "rev");

	/* revocation: everything of the principal, once */
	assert_int_equal(store_principal_revoke(st, "legal1", "gnet", T0 + 5),
	                 RG_OK);
	assert_int_equal(store_principal_by_spki(st, c1.spki_sha256, T0, &p),
	                 RG_ENOTFOUND);
	assert_int_equal(store_principal_by_spki(st, c2.spki_sha256, T0, &p),
	                 RG_ENOTFOUND);
	assert_int_equal(store_signing_key_get(st, "kid-new-1", owner, pk),
	                 RG_ENOTFOUND);
	assert_int_equal(store_principal_revoke(st, "legal1", "gnet", T0 + 6),
	                 RG_ENOTFOUND);
	assert_int_equal(store_principal_revoke(st, "legal1", "ghost", T0),
	                 RG_ENOTFOUND);
	assert_int_equal(store_principal_enrol(st, "legal1", "gnet",
	                 ROLE_PARTNER, NULL, 0, NULL, 0, T0), RG_ECONFLICT);
	l.n = 0;
	assert_int_equal(store_principals_each(st, plist_cb, &l), RG_OK);
	assert_int_equal(l.p[0].revoked_at, T0 + 5);
	assert_int_equal(l.p[0].n_certs, 0);
	assert_int_equal(l.p[0].n_keys, 0);
	/* others untouched */
	label_hash("spki:pave", spki);
	assert_int_equal(store_principal_by_spki(st, spki, T0, &p), RG_OK);
}

/* ---- referrals ------------------------------------------------------ */

struct seen_refs {
	int n;
	char ids[8][RG_ID_MAX + 1];
	size_t sealed_len;
};

static int refs_cb(void *ctx, const struct store_referral *r)
{
	struct seen_refs *s = ctx;
	if (s->n < 8)
		strcpy(s->ids[s->n], r->id);
	s->n++;
	s->sealed_len = r->sealed_len;
	return 0;
}

static int idents_cb(void *ctx, const struct store_ident *id)
{
	int *n = ctx;
	assert_true(id->kind == 'i' || id->kind == 'h');
	assert_non_null(id->sealed);
	(*n)++;
	return 0;
}

struct subj_cases {
	int n;
	char ids[8][RG_ID_MAX + 1];
};

static int subj_cb(void *ctx, size_t subject, const struct store_case *c)
{
	struct subj_cases *s = ctx;
	assert_int_equal(subject, (size_t)s->n);
	strcpy(s->ids[s->n++], c->id);
	return 0;
}

static void test_submit_new_case(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out out;
	struct store_referral r;
	char rid[RG_ID_MAX + 1];
	struct sub s = { "pave", "jti-new-00000001", NULL, T0 + 10, URG_URGENT, 0,
	                 { "h:alice,i:100", "h:bob" }, NULL, 0 };
	int64_t head0 = store_changes_head(st);
	int audit0 = n_audit(st);
	assert_int_equal(submit(st, &s, &out, rid), RG_OK);
	assert_string_equal(out.id, rid);
	assert_int_equal(out.received_at, T0 + 10);
	assert_int_equal(out.n_cases, 2);
	for (int i = 0; i < 2; i++) {
		assert_true(out.cases[i].new_case);
		assert_int_equal(out.cases[i].status, CASE_RECEIVED);
		assert_int_equal(strlen(out.cases[i].case_id),
		                 2 + RG_ID_CLUSTER_CHARS + 22);
		assert_memory_equal(out.cases[i].case_id, "c_", 2);
		assert_true(rg_id_valid(out.cases[i].case_id));
	}
	assert_string_not_equal(out.cases[0].case_id, out.cases[1].case_id);

	struct store_case c = case_of(st, out.cases[0].case_id);
	assert_int_equal(c.status, CASE_RECEIVED);
	assert_int_equal(c.action, ACTION_NONE);
	assert_int_equal(c.opened_at, T0 + 10);
	assert_int_equal(c.updated_at, T0 + 10);
	assert_int_equal(c.decided_at, 0);
	assert_int_equal(c.urgency, URG_URGENT);
	assert_int_equal(c.n_referrals, 1);
	assert_int_equal(c.n_principals, 1);
	assert_int_equal(c.reopen_count, 0);

	assert_int_equal(store_referral_get(st, rid, &r), RG_OK);
	assert_string_equal(r.principal, "pave");
	assert_true(r.has_partner_ref);
	assert_string_equal(r.partner_ref, "P-1");
	assert_int_equal(r.n_subjects, 2);
	assert_int_equal(r.urgency, URG_URGENT);
	assert_null(r.sealed);
	assert_int_equal(store_referral_get(st, "r_none", &r), RG_ENOTFOUND);
	assert_int_equal(store_referral_get(st, "bad id!", &r), RG_ENOTFOUND);

	struct subj_cases sc = { 0 };
	assert_int_equal(store_referral_cases_each(st, rid, subj_cb, &sc), RG_OK);
	assert_int_equal(sc.n, 2);
	assert_string_equal(sc.ids[1], out.cases[1].case_id);
	assert_int_equal(store_referral_cases_each(st, "r_none", subj_cb, &sc),
	                 RG_ENOTFOUND);

	struct seen_refs sr = { 0 };
	assert_int_equal(store_case_referrals_each(st, out.cases[0].case_id,
	                                           refs_cb, &sr), RG_OK);
	assert_int_equal(sr.n, 1);
	assert_string_equal(sr.ids[0], rid);
	assert_int_equal(sr.sealed_len, sizeof sealed_dummy);
	int ni = 0;
	assert_int_equal(store_case_idents_each(st, out.cases[0].case_id,
	                                        idents_cb, &ni), RG_OK);
	assert_int_equal(ni, 2);
	ni = 0;
	assert_int_equal(store_case_idents_each(st, out.cases[1].case_id,
	                                        idents_cb, &ni), RG_OK);
	assert_int_equal(ni, 1);
	assert_int_equal(store_case_idents_each(st, "c_none", idents_cb, &ni),
	                 RG_ENOTFOUND);
	assert_int_equal(store_case_referred_by(st, out.cases[0].case_id,
	                                        "pave"), RG_OK);
	assert_int_equal(store_case_referred_by(st, out.cases[0].case_id,
	                                        "isd"), RG_ENOTFOUND);
	/* two cases opened: two changes, one audit row */
	assert_int_equal(store_changes_head(st), head0 + 2);
	assert_int_equal(n_audit(st), audit0 + 1);
}

static void test_submit_invalid(void **state)
{
	struct fx *f = *state;
	struct store_referral_out out;
	struct store_subject subj;
	subject_make(&subj, "h:x");
	struct store_referral_in good = {
		.id = "r_inv", .principal = "pave", .jti = "jti-invalid-0001",
		.received_at = T0, .sealed = sealed_dummy, .sealed_len = 4,
		.n_subjects = 1, .subjects = &subj, .receipt = test_receipt,
	};
	struct store_referral_in in;
	struct store_subject bad_subj = subj;

	in = good; in.n_subjects = 0;
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	in = good; in.n_subjects = REFERRAL_MAX_SUBJECTS + 1;
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	in = good; in.jti = "";
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	in = good; strcpy(in.id, "r bad");
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	in = good; in.principal = "Not Valid";
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	in = good; in.sealed = NULL;
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	in = good; in.urgency = (enum referral_urgency)7;
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	in = good; in.receipt = NULL;      /* no leaf, no referral */
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	bad_subj.idents[0].kind = 'u';
	in = good; in.subjects = &bad_subj;
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	bad_subj = subj; bad_subj.n_idents = 0;
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	bad_subj.n_idents = 3;
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EINVAL);
	assert_int_equal(store_referral_submit(f->st, NULL, &out), RG_EINVAL);
	assert_int_equal(store_referral_submit(f->st, &good, NULL), RG_EINVAL);
	/* an unknown principal is a database fault, not a case */
	in = good; in.principal = "stranger";
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_EIO);
	assert_int_equal(n_queue(f->st), 0);
	/* the good one still goes through afterwards */
	assert_int_equal(store_referral_submit(f->st, &good, &out), RG_OK);
	assert_int_equal(n_queue(f->st), 1);
	/* the failures appended nothing to the log either */
	assert_int_equal(out.log_index, 0);
	assert_string_equal(out.receipt, "r_inv@0");
	store_referral_out_clear(&out);
}

static void test_max_subjects(void **state)
{
	struct fx *f = *state;
	static struct store_subject subj[REFERRAL_MAX_SUBJECTS];
	static struct store_referral_out out;
	char spec[32];
	for (int i = 0; i < REFERRAL_MAX_SUBJECTS; i++) {
		/* two subjects in a row share an identifier: 50 cases */
		snprintf(spec, sizeof spec, "h:m%d,i:%d", i / 2, i);
		subject_make(&subj[i], spec);
	}
	struct store_referral_in in = {
		.id = "r_max", .principal = "nca", .jti = "jti-max-00000001",
		.received_at = T0, .sealed = sealed_dummy, .sealed_len = 4,
		.n_subjects = REFERRAL_MAX_SUBJECTS, .subjects = subj,
		.urgency = URG_IMMINENT_HARM, .deadline_at = T0 + 3600,
		.receipt = test_receipt,
	};
	crypto_generichash(in.jws_sha256, 32, (const uint8_t *)"max", 3, NULL, 0);
	assert_int_equal(store_referral_submit(f->st, &in, &out), RG_OK);
	assert_int_equal(out.n_cases, REFERRAL_MAX_SUBJECTS);
	for (int i = 0; i < REFERRAL_MAX_SUBJECTS; i += 2) {
		assert_string_equal(out.cases[i].case_id, out.cases[i + 1].case_id);
		assert_true(out.cases[i].new_case && out.cases[i + 1].new_case);
	}
	assert_int_equal(n_queue(f->st), REFERRAL_MAX_SUBJECTS / 2);
	assert_int_equal(n_changes(f->st, "nca"), REFERRAL_MAX_SUBJECTS / 2);
	struct store_case c = case_of(f->st, out.cases[0].case_id);
	assert_int_equal(c.deadline_at, T0 + 3600);
	assert_int_equal(c.n_referrals, 1);
	/* the replay returns all 100 */
	static struct store_referral_out again;
	assert_int_equal(store_referral_submit(f->st, &in, &again),
	                 RG_EREPLAY);
	assert_memory_equal(&again.cases, &out.cases, sizeof out.cases);
	assert_int_equal(again.log_index, out.log_index);
	assert_string_equal(again.receipt, out.receipt);
	store_referral_out_clear(&out);
	store_referral_out_clear(&again);
}

static void test_join_second_identifier(void **state)
{
	struct fx *f = *state;
	struct store_referral_out o1, o2, o3;
	struct sub s1 = { "pave", "jti-join-000001", NULL, T0, 0, 0,
	                  { "h:carol,i:300" }, NULL, 0 };
	struct sub s2 = { "isd", "jti-join-000002", NULL, T0 + 5, URG_IMMINENT_HARM,
	                  0, { "i:300" }, NULL, 0 };
	struct sub s3 = { "pave", "jti-join-000003", NULL, T0 + 9, 0, 0,
	                  { "h:carol" }, NULL, 0 };
	char a[RG_ID_MAX + 1];
	strcpy(a, submit_ok(f->st, &s1, &o1));
	int64_t head = store_changes_head(f->st);
	assert_string_equal(submit_ok(f->st, &s2, &o2), a);
	assert_false(o2.cases[0].new_case);
	assert_int_equal(o2.cases[0].status, CASE_RECEIVED);
	assert_string_equal(submit_ok(f->st, &s3, &o3), a);
	struct store_case c = case_of(f->st, a);
	assert_int_equal(c.n_referrals, 3);
	assert_int_equal(c.n_principals, 2);
	assert_int_equal(c.urgency, URG_IMMINENT_HARM);
	assert_int_equal(c.updated_at, T0 + 9);
	assert_int_equal(c.opened_at, T0);
	/* joining an open case is no status change */
	assert_int_equal(store_changes_head(f->st), head);
	assert_int_equal(store_case_referred_by(f->st, a, "isd"), RG_OK);
	assert_int_equal(n_queue(f->st), 1);
}

static void test_link_in_one_subject(void **state)
{
	struct fx *f = *state;
	struct store_referral_out o;
	struct sub s1 = { "pave", "jti-link-000001", NULL, T0, 0, 0,
	                  { "h:dave" }, NULL, 0 };
	struct sub s2 = { "pave", "jti-link-000002", NULL, T0 + 1, 0, 0,
	                  { "h:dave,i:400" }, NULL, 0 };
	struct sub s3 = { "isd", "jti-link-000003", NULL, T0 + 2, 0, 0,
	                  { "i:400" }, NULL, 0 };
	char a[RG_ID_MAX + 1];
	strcpy(a, submit_ok(f->st, &s1, &o));
	assert_string_equal(submit_ok(f->st, &s2, &o), a);
	int n = 0;
	assert_int_equal(store_case_idents_each(f->st, a, idents_cb, &n), RG_OK);
	assert_int_equal(n, 2);
	/* the identifier learnt from s2 now finds the case */
	assert_string_equal(submit_ok(f->st, &s3, &o), a);
	assert_false(o.cases[0].new_case);
	assert_int_equal(n_queue(f->st), 1);
}

struct id_check {
	const char *absent;
	const char *present;
	int n;
	bool bad;
};

/* Every change names `present`, none `absent`. */
static int id_check_cb(void *ctx, const struct store_change *c)
{
	struct id_check *k = ctx;
	k->n++;
	if (strcmp(c->case_id, k->absent) == 0 ||
	    strcmp(c->case_id, k->present) != 0)
		k->bad = true;
	return 0;
}

static void test_merge(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1], r2[RG_ID_MAX + 1];
	struct sub s1 = { "pave", "jti-merge-00001", NULL, T0, 0, 0,
	                  { "h:erin" }, NULL, 0 };
	struct sub s2 = { "isd", "jti-merge-00002", NULL, T0 + 100,
	                  URG_IMMINENT_HARM, T0 + 5000, { "i:500" }, NULL, 0 };
	struct sub s3 = { "nca", "jti-merge-00003", NULL, T0 + 200, 0, 0,
	                  { "i:500,h:erin" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s1, &o));
	assert_int_equal(submit(st, &s2, &o, r2), RG_OK);
	strcpy(b, o.cases[0].case_id);
	assert_string_not_equal(a, b);
	assert_int_equal(decide(st, b, CASE_IN_REVIEW, ACTION_NONE, T0 + 150,
	                        NULL), RG_OK);
	int64_t head = store_changes_head(st);

	/* one subject names both: the oldest (a) survives */
	assert_string_equal(submit_ok(st, &s3, &o), a);
	assert_false(o.cases[0].new_case);
	/* the submitter sees received: in_review is for reviewers */
	assert_int_equal(o.cases[0].status, CASE_RECEIVED);
	assert_int_equal(case_of(st, a).status, CASE_IN_REVIEW);
	struct store_case c = case_of(st, a);
	assert_int_equal(c.n_referrals, 3);
	assert_int_equal(c.n_principals, 3);
	assert_int_equal(c.urgency, URG_IMMINENT_HARM);
	assert_int_equal(c.deadline_at, T0 + 5000);
	/* either side open, either in review: in review */
	assert_int_equal(c.status, CASE_IN_REVIEW);
	assert_int_equal(c.opened_at, T0);
	/* the absorbed id resolves to the survivor */
	struct store_case cb = case_of(st, b);
	assert_string_equal(cb.id, a);
	assert_int_equal(store_case_referred_by(st, b, "isd"), RG_OK);
	/* its referral now belongs to the survivor */
	struct subj_cases sc = { 0 };
	assert_int_equal(store_referral_cases_each(st, r2, subj_cb, &sc), RG_OK);
	assert_string_equal(sc.ids[0], a);
	struct seen_refs sr = { 0 };
	assert_int_equal(store_case_referrals_each(st, b, refs_cb, &sr), RG_OK);
	assert_int_equal(sr.n, 3);
	int ni = 0;
	assert_int_equal(store_case_idents_each(st, a, idents_cb, &ni), RG_OK);
	assert_int_equal(ni, 2);
	/* its changes moved: no change row names b any more; the merge
	 * itself is one change of a */
	assert_int_equal(store_changes_head(st), head + 1);
	struct id_check k = { .absent = b, .present = a };
	int64_t last;
	assert_int_equal(store_changes(st, NULL, 0, 100, id_check_cb, &k, &last),
	                 RG_OK);
	assert_int_equal(k.n, 4);
	assert_false(k.bad);
	/* each sees the merged case's changes from its first referral into
	 * either side on: isd not a's opening, nca only the merge */
	assert_int_equal(n_changes(st, "isd"), 3);
	assert_int_equal(n_changes(st, "pave"), 4);
	assert_int_equal(n_changes(st, "nca"), 1);
	/* one case in the queue */
	assert_int_equal(n_queue(st), 1);
	/* b's decision moved too */
	assert_int_equal(count_rows(f->path, "decisions"), 1);
	assert_int_equal(count_rows(f->path, "cases"), 1);
	/* b's alias, and nca's own id for the case (its referral joined
	 * cases others opened: it gets an id of its own, store_referrer.c) */
	assert_int_equal(count_rows(f->path, "case_aliases"), 2);
	/* deciding by the old id decides the survivor */
	struct store_case after;
	assert_int_equal(decide(st, b, CASE_ACTIONED, ACTION_CONTENT_REMOVED,
	                        T0 + 300, &after), RG_OK);
	assert_string_equal(after.id, a);
}

static void test_merge_rules(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1], c[RG_ID_MAX + 1];
	char d[RG_ID_MAX + 1];
	struct sub sa = { "pave", "jti-rules-00001", NULL, T0, 0, 0,
	                  { "h:fay" }, NULL, 0 };
	struct sub sb = { "isd", "jti-rules-00002", NULL, T0 + 10, 0, 0,
	                  { "h:gus" }, NULL, 0 };
	struct sub sab = { "nca", "jti-rules-00003", NULL, T0 + 20, 0, 0,
	                   { "h:gus,h:fay" }, NULL, 0 };
	/* an absorbed actioned case does not close an open survivor: the
	 * merged account is open, undecided, in the queue */
	strcpy(a, submit_ok(st, &sa, &o));
	strcpy(b, submit_ok(st, &sb, &o));
	close_actioned(st, b, T0 + 12);
	assert_string_equal(submit_ok(st, &sab, &o), a);
	assert_int_equal(o.cases[0].status, CASE_RECEIVED);
	struct store_case m = case_of(st, a);
	assert_int_equal(m.status, CASE_RECEIVED);
	assert_int_equal(m.action, ACTION_NONE);
	assert_int_equal(m.decided_at, 0);
	assert_int_equal(n_queue(st), 1);
	close_actioned(st, a, T0 + 22);

	/* a no_action survivor with an open absorbed one: kept, then the
	 * joining referral reopens it; reopen counts take the maximum */
	struct sub sc = { "pave", "jti-rules-00004", NULL, T0 + 30, 0, 0,
	                  { "h:hal" }, NULL, 0 };
	struct sub sd = { "isd", "jti-rules-00005", NULL, T0 + 40, 0, 0,
	                  { "h:ida" }, NULL, 0 };
	struct sub sc2 = { "isd", "jti-rules-00006", NULL, T0 + 50, 0, 0,
	                   { "h:hal" }, NULL, 0 };
	struct sub scd = { "nca", "jti-rules-00007", NULL, T0 + 60, 0, 0,
	                   { "h:ida,h:hal" }, NULL, 0 };
	strcpy(c, submit_ok(st, &sc, &o));
	strcpy(d, submit_ok(st, &sd, &o));
	close_no_action(st, c, T0 + 31);
	assert_string_equal(submit_ok(st, &sc2, &o), c);   /* reopens c */
	close_no_action(st, c, T0 + 51);
	close_no_action(st, d, T0 + 52);
	assert_string_equal(submit_ok(st, &scd, &o), c);
	struct store_case k = case_of(st, c);
	assert_int_equal(k.status, CASE_RECEIVED);
	assert_int_equal(k.reopen_count, 2);
	assert_int_equal(k.decided_at, 0);
	assert_string_equal(case_of(st, d).id, c);
}

static void test_reopen_no_action(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	char a[RG_ID_MAX + 1];
	struct sub s1 = { "pave", "jti-reopen-0001", NULL, T0, 0, T0 + 3600,
	                  { "h:jan" }, NULL, 0 };
	struct sub s2 = { "isd", "jti-reopen-0002", NULL, T0 + 500, 0, 0,
	                  { "h:jan" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s1, &o));
	close_no_action(st, a, T0 + 100);
	struct store_case closed = case_of(st, a);
	assert_int_equal(closed.status, CASE_NO_ACTION);
	assert_int_equal(closed.decided_at, T0 + 101);
	assert_int_equal(n_queue(st), 0);
	int64_t head = store_changes_head(st);

	assert_string_equal(submit_ok(st, &s2, &o), a);
	assert_false(o.cases[0].new_case);
	assert_int_equal(o.cases[0].status, CASE_RECEIVED);
	struct store_case c = case_of(st, a);
	assert_int_equal(c.status, CASE_RECEIVED);
	assert_int_equal(c.action, ACTION_NONE);
	assert_int_equal(c.reopen_count, 1);
	assert_int_equal(c.decided_at, 0);
	assert_int_equal(c.deadline_at, 0);     /* the closed round's */
	assert_int_equal(c.updated_at, T0 + 500);
	assert_int_equal(store_changes_head(st), head + 1);
	assert_int_equal(n_queue(st), 1);
	/* and it can be decided again */
	close_actioned(st, a, T0 + 600);
}

static void test_actioned_unchanged(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	char a[RG_ID_MAX + 1];
	struct sub s1 = { "pave", "jti-action-0001", NULL, T0, 0, 0,
	                  { "h:kim" }, NULL, 0 };
	struct sub s2 = { "isd", "jti-action-0002", NULL, T0 + 500,
	                  URG_IMMINENT_HARM, T0 + 900, { "h:kim,i:77" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s1, &o));
	close_actioned(st, a, T0 + 100);
	struct store_case before = case_of(st, a);
	int64_t head = store_changes_head(st);

	assert_string_equal(submit_ok(st, &s2, &o), a);
	assert_int_equal(o.cases[0].status, CASE_ACTIONED);
	assert_false(o.cases[0].new_case);
	struct store_case c = case_of(st, a);
	assert_int_equal(c.status, CASE_ACTIONED);
	assert_int_equal(c.action, ACTION_ACCOUNT_SUSPENDED);
	assert_int_equal(c.updated_at, before.updated_at);
	assert_int_equal(c.decided_at, before.decided_at);
	assert_int_equal(c.urgency, before.urgency);
	assert_int_equal(c.deadline_at, 0);
	assert_int_equal(c.n_referrals, 2);          /* recorded on it */
	assert_int_equal(store_changes_head(st), head);
	assert_int_equal(store_case_referred_by(st, a, "isd"), RG_OK);
	int n = 0;
	assert_int_equal(store_case_idents_each(st, a, idents_cb, &n), RG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(n_queue(st), 0);
}

static void test_replay(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out first, again;
	struct sub s = { "pave", "jti-replay-0001", NULL, T0, 0, 0,
	                 { "h:lee", "h:lee2" }, NULL, 0 };
	assert_int_equal(submit(st, &s, &first, NULL), RG_OK);
	int64_t head = store_changes_head(st);
	int audit = n_audit(st);
	memset(&again, 0xa5, sizeof again);
	assert_int_equal(submit(st, &s, &again, NULL), RG_EREPLAY);
	assert_string_equal(again.id, first.id);
	assert_int_equal(again.received_at, first.received_at);
	assert_int_equal(again.n_cases, 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(again.cases[i].case_id, first.cases[i].case_id);
		assert_int_equal(again.cases[i].status, CASE_RECEIVED);
		assert_true(again.cases[i].new_case);
	}
	/* nothing written by a replay */
	assert_int_equal(store_changes_head(st), head);
	assert_int_equal(n_audit(st), audit);
	assert_int_equal(case_of(st, first.cases[0].case_id).n_referrals, 1);

	/* still the first answer after the case moved on, even at a later
	 * time */
	close_actioned(st, first.cases[0].case_id, T0 + 10);
	s.at = T0 + 999;
	assert_int_equal(submit(st, &s, &again, NULL), RG_EREPLAY);
	assert_int_equal(again.received_at, T0);
	assert_int_equal(again.cases[0].status, CASE_RECEIVED);
	assert_true(again.cases[0].new_case);
}

static void test_jti_conflict(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o, o2;
	struct sub s = { "pave", "jti-conflict-01", NULL, T0, 0, 0,
	                 { "h:max" }, NULL, 0 };
	assert_int_equal(submit(st, &s, &o, NULL), RG_OK);
	int audit = n_audit(st);
	s.content = "other bytes";
	memset(&o2, 0, sizeof o2);
	assert_int_equal(submit(st, &s, &o2, NULL), RG_ECONFLICT);
	assert_int_equal(o2.n_cases, 0);
	assert_int_equal(n_audit(st), audit);
	/* the same jti from another principal is its own referral */
	s.who = "isd";
	assert_int_equal(submit(st, &s, &o2, NULL), RG_OK);
	/* one case, each principal under its own id for it */
	assert_string_not_equal(o2.cases[0].case_id, o.cases[0].case_id);
	assert_string_equal(case_of(st, o2.cases[0].case_id).id,
	                    case_of(st, o.cases[0].case_id).id);
	assert_string_not_equal(o2.id, o.id);
}

/* ---- decisions ------------------------------------------------------ */

struct dlist {
	int n;
	struct {
		enum case_status status;
		enum case_action action;
		char ground[32];
		char reviewer[16];
		int64_t at;
		bool has_expl;
		bool automated;
	} d[8];
};

static int dlist_cb(void *ctx, const struct store_decision *d)
{
	struct dlist *l = ctx;
	if (l->n >= 8)
		return 0;
	l->d[l->n].status = d->status;
	l->d[l->n].action = d->action;
	snprintf(l->d[l->n].ground, 32, "%s", d->ground ? d->ground : "");
	snprintf(l->d[l->n].reviewer, 16, "%s", d->reviewer);
	l->d[l->n].at = d->at;
	l->d[l->n].has_expl = d->explanation != NULL;
	l->d[l->n].automated = d->automated;
	l->n++;
	return 0;
}

static void test_decisions(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	struct store_case after;
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1];
	struct sub s1 = { "pave", "jti-decide-0001", NULL, T0, 0, 0,
	                  { "h:ned" }, NULL, 0 };
	struct sub s2 = { "pave", "jti-decide-0002", NULL, T0, 0, 0,
	                  { "h:ola" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s1, &o));
	strcpy(b, submit_ok(st, &s2, &o));
	int audit = n_audit(st);

	/* refused from received */
	assert_int_equal(decide(st, a, CASE_ACTIONED, ACTION_CONTENT_REMOVED,
	                        T0 + 1, &after), RG_ECONFLICT);
	assert_int_equal(decide(st, a, CASE_NO_ACTION, ACTION_NONE, T0 + 1,
	                        &after), RG_ECONFLICT);
	assert_int_equal(decide(st, a, CASE_RECEIVED, ACTION_NONE, T0 + 1,
	                        &after), RG_ECONFLICT);
	/* malformed: actions that do not fit the status */
	assert_int_equal(decide(st, a, CASE_ACTIONED, ACTION_NONE, T0 + 1,
	                        &after), RG_EINVAL);
	assert_int_equal(decide(st, a, CASE_NO_ACTION, ACTION_CONTENT_REMOVED,
	                        T0 + 1, &after), RG_EINVAL);
	assert_int_equal(decide(st, a, CASE_IN_REVIEW, ACTION_CONTENT_REMOVED,
	                        T0 + 1, &after), RG_EINVAL);
	assert_int_equal(decide(st, a, (enum case_status)9, ACTION_NONE,
	                        T0 + 1, &after), RG_EINVAL);
	struct store_decision noground = { .status = CASE_ACTIONED,
		.action = ACTION_CONTENT_REMOVED, .reviewer = "rev", .at = T0 };
	assert_int_equal(store_case_decide(st, a, &noground, &after), RG_EINVAL);
	struct store_decision noreviewer = { .status = CASE_IN_REVIEW, .at = T0 };
	assert_int_equal(store_case_decide(st, a, &noreviewer, &after),
	                 RG_EINVAL);
	/* unknown cases */
	assert_int_equal(decide(st, "c_nope", CASE_IN_REVIEW, ACTION_NONE, T0,
	                        &after), RG_ENOTFOUND);
	assert_int_equal(decide(st, "bad id!", CASE_IN_REVIEW, ACTION_NONE, T0,
	                        &after), RG_ENOTFOUND);
	assert_int_equal(n_audit(st), audit);

	/* received -> in_review */
	assert_int_equal(decide(st, a, CASE_IN_REVIEW, ACTION_NONE, T0 + 10,
	                        &after), RG_OK);
	assert_string_equal(after.id, a);
	assert_int_equal(after.status, CASE_IN_REVIEW);
	assert_int_equal(after.updated_at, T0 + 10);
	assert_int_equal(after.decided_at, 0);
	assert_int_equal(n_queue(st), 2);
	/* in_review -> in_review, -> received: refused */
	assert_int_equal(decide(st, a, CASE_IN_REVIEW, ACTION_NONE, T0 + 11,
	                        &after), RG_ECONFLICT);
	assert_int_equal(decide(st, a, CASE_RECEIVED, ACTION_NONE, T0 + 11,
	                        &after), RG_ECONFLICT);
	/* in_review -> actioned */
	assert_int_equal(decide(st, a, CASE_ACTIONED, ACTION_CONTENT_RESTRICTED,
	                        T0 + 20, &after), RG_OK);
	assert_int_equal(after.status, CASE_ACTIONED);
	assert_int_equal(after.action, ACTION_CONTENT_RESTRICTED);
	assert_int_equal(after.decided_at, T0 + 20);
	/* actioned is final */
	assert_int_equal(decide(st, a, CASE_IN_REVIEW, ACTION_NONE, T0 + 30,
	                        &after), RG_ECONFLICT);
	assert_int_equal(decide(st, a, CASE_NO_ACTION, ACTION_NONE, T0 + 30,
	                        &after), RG_ECONFLICT);
	assert_int_equal(decide(st, a, CASE_ACTIONED, ACTION_CONTENT_REMOVED,
	                        T0 + 30, &after), RG_ECONFLICT);
	/* in_review -> no_action, which is final too */
	assert_int_equal(decide(st, b, CASE_IN_REVIEW, ACTION_NONE, T0 + 40,
	                        &after), RG_OK);
	assert_int_equal(decide(st, b, CASE_NO_ACTION, ACTION_NONE, T0 + 41,
	                        &after), RG_OK);
	assert_int_equal(after.status, CASE_NO_ACTION);
	assert_int_equal(after.decided_at, T0 + 41);
	assert_int_equal(decide(st, b, CASE_IN_REVIEW, ACTION_NONE, T0 + 42,
	                        &after), RG_ECONFLICT);
	assert_int_equal(decide(st, b, CASE_ACTIONED, ACTION_CONTENT_REMOVED,
	                        T0 + 42, &after), RG_ECONFLICT);
	assert_int_equal(n_queue(st), 0);

	/* the record: oldest first, statement-of-reasons fields */
	struct dlist l = { 0 };
	assert_int_equal(store_case_decisions_each(st, a, dlist_cb, &l), RG_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.d[0].status, CASE_IN_REVIEW);
	assert_string_equal(l.d[0].ground, "");
	assert_false(l.d[0].has_expl);
	assert_int_equal(l.d[1].status, CASE_ACTIONED);
	assert_int_equal(l.d[1].action, ACTION_CONTENT_RESTRICTED);
	assert_string_equal(l.d[1].ground, "illegal_content");
	assert_string_equal(l.d[1].reviewer, "rev");
	assert_true(l.d[1].has_expl);
	assert_false(l.d[1].automated);
	assert_int_equal(l.d[1].at, T0 + 20);
	assert_int_equal(store_case_decisions_each(st, "c_nope", dlist_cb, &l),
	                 RG_ENOTFOUND);
	/* four successful moves: four audit rows */
	assert_int_equal(n_audit(st), audit + 4);
}

/* ---- change feed ---------------------------------------------------- */

struct clist {
	int n;
	struct store_change c[16];
};

/* Review claims: a claim holds against another reviewer until it runs
 * out (times given, so no clock is involved), renews and releases only
 * for its holder, is taken by a move to in_review and ended by a
 * decision, and moves with a merge. */
static void test_claims(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	struct store_claim k;
	struct store_case c;
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1];
	struct sub s1 = { "pave", "jti-claim-00001", NULL, T0, 0, 0,
	                  { "h:claimed" }, NULL, 0 };
	struct sub s2 = { "isd", "jti-claim-00002", NULL, T0 + 10, 0, 0,
	                  { "i:777" }, NULL, 0 };
	struct sub s3 = { "nca", "jti-claim-00003", NULL, T0 + 20, 0, 0,
	                  { "i:777,h:claimed" }, NULL, 0 };
	enrol(st, "rev2", ROLE_REVIEWER);
	strcpy(a, submit_ok(st, &s1, &o));
	int audit0 = n_audit(st);

	assert_int_equal(store_case_claim(st, a, "rev", T0 + 100, T0 + 100,
	                                  &k, &c), RG_EINVAL);
	assert_int_equal(store_case_claim(st, "c_nope", "rev", T0 + 100,
	                                  T0 + 200, &k, &c), RG_ENOTFOUND);
	assert_int_equal(store_case_claim(st, a, "rev", T0 + 100, T0 + 1900,
	                                  &k, &c), RG_OK);
	assert_string_equal(k.reviewer, "rev");
	assert_int_equal(k.expires_at, T0 + 1900);
	assert_string_equal(case_of(st, a).claimed_by, "rev");
	assert_int_equal(case_of(st, a).claim_expires_at, T0 + 1900);

	/* another reviewer: refused while it holds, with the holder named */
	memset(&k, 0, sizeof k);
	assert_int_equal(store_case_claim(st, a, "rev2", T0 + 200, T0 + 2000,
	                                  &k, &c), RG_ECLAIMED);
	assert_string_equal(k.reviewer, "rev");
	assert_int_equal(store_case_release(st, a, "rev2", T0 + 200, &k, &c),
	                 RG_ECLAIMED);
	struct store_decision take = { .status = CASE_IN_REVIEW,
	                               .reviewer = "rev2", .at = T0 + 300,
	                               .claim_until = T0 + 2100 };
	assert_int_equal(store_case_decide(st, a, &take, &c), RG_ECLAIMED);
	assert_int_equal(case_of(st, a).status, CASE_RECEIVED);

	/* the holder renews: same claimed_at, later expiry */
	assert_int_equal(store_case_claim(st, a, "rev", T0 + 400, T0 + 2200,
	                                  &k, &c), RG_OK);
	assert_int_equal(k.claimed_at, T0 + 100);
	assert_int_equal(k.expires_at, T0 + 2200);

	/* once it has run out, the other reviewer takes the case, which
	 * claims it for them */
	take.at = T0 + 2200;
	take.claim_until = T0 + 4000;
	assert_int_equal(store_case_decide(st, a, &take, &c), RG_OK);
	assert_string_equal(c.claimed_by, "rev2");
	assert_int_equal(c.claim_expires_at, T0 + 4000);
	assert_int_equal(store_case_release(st, a, "rev", T0 + 2300, &k, &c),
	                 RG_ECLAIMED);

	/* a merge: b, claimed by rev, merges into a; a's
	 * claim (rev2's) stays */
	strcpy(b, submit_ok(st, &s2, &o));
	assert_int_equal(store_case_claim(st, b, "rev", T0 + 2300, T0 + 5000,
	                                  &k, &c), RG_OK);
	assert_string_equal(submit_ok(st, &s3, &o), a);
	assert_string_equal(case_of(st, a).claimed_by, "rev2");
	assert_int_equal(count_where(f->path, "case_claims", "1=1"), 1);

	/* a decision ends the claim; a closed case cannot be claimed */
	struct store_decision fin = { .status = CASE_NO_ACTION,
	                              .reviewer = "rev2", .at = T0 + 2400,
	                              .ground = "terms_of_service",
	                              .explanation = "facts" };
	assert_int_equal(store_case_decide(st, a, &fin, &c), RG_OK);
	assert_string_equal(c.claimed_by, "");
	assert_int_equal(store_case_claim(st, a, "rev", T0 + 2500, T0 + 3000,
	                                  &k, &c), RG_ECONFLICT);
	assert_int_equal(store_case_release(st, a, "rev2", T0 + 2500, &k, &c),
	                 RG_ENOTFOUND);
	assert_int_equal(count_where(f->path, "case_claims", "1=1"), 0);
	/* claim, renewal, the taking's claim, the claim of b: four claim
	 * records besides the decisions and the referrals */
	assert_int_equal(count_where(f->path, "audit",
	                             "kind IN ('claim', 'claim_renew')"), 4);
	assert_true(n_audit(st) > audit0 + 4);
}

static int clist_cb(void *ctx, const struct store_change *c)
{
	struct clist *l = ctx;
	if (l->n < 16)
		l->c[l->n] = *c;
	l->n++;
	return 0;
}

static int stop_cb(void *ctx, const struct store_change *c)
{
	(void)c;
	(*(int *)ctx)++;
	return 42;
}

static void test_changes(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	struct clist l = { 0 };
	int64_t last = -1;
	char x[RG_ID_MAX + 1], y[RG_ID_MAX + 1];
	struct sub s1 = { "pave", "jti-feed-000001", NULL, T0, 0, 0,
	                  { "h:pam" }, NULL, 0 };
	struct sub s2 = { "isd", "jti-feed-000002", NULL, T0 + 1, 0, 0,
	                  { "h:quin" }, NULL, 0 };
	struct sub s3 = { "isd", "jti-feed-000003", NULL, T0 + 3, 0, 0,
	                  { "h:pam" }, NULL, 0 };

	assert_int_equal(store_changes_head(st), 0);
	assert_int_equal(store_changes(st, NULL, 0, 10, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(last, 0);

	strcpy(x, submit_ok(st, &s1, &o));
	strcpy(y, submit_ok(st, &s2, &o));
	assert_int_equal(decide(st, x, CASE_IN_REVIEW, ACTION_NONE, T0 + 2,
	                        NULL), RG_OK);
	assert_string_equal(submit_ok(st, &s3, &o), x);
	assert_int_equal(decide(st, x, CASE_ACTIONED, ACTION_CONTENT_REMOVED,
	                        T0 + 4, NULL), RG_OK);

	/* global, oldest first, strictly increasing */
	assert_int_equal(store_changes(st, NULL, 0, 100, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 4);
	for (int i = 1; i < 4; i++)
		assert_true(l.c[i].seq > l.c[i - 1].seq);
	assert_int_equal(last, l.c[3].seq);
	assert_int_equal(store_changes_head(st), l.c[3].seq);
	assert_string_equal(l.c[0].case_id, x);
	assert_int_equal(l.c[0].status, CASE_RECEIVED);
	assert_int_equal(l.c[0].at, T0);
	assert_string_equal(l.c[1].case_id, y);
	assert_int_equal(l.c[2].status, CASE_IN_REVIEW);
	assert_int_equal(l.c[3].status, CASE_ACTIONED);
	assert_int_equal(l.c[3].action, ACTION_CONTENT_REMOVED);
	assert_int_equal(l.c[3].at, T0 + 4);
	struct clist all = l;

	/* paging with since/limit/last */
	l.n = 0;
	assert_int_equal(store_changes(st, NULL, 0, 2, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(last, all.c[1].seq);
	l.n = 0;
	assert_int_equal(store_changes(st, NULL, last, 2, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.c[0].seq, all.c[2].seq);
	assert_int_equal(last, all.c[3].seq);
	l.n = 0;
	assert_int_equal(store_changes(st, NULL, last, 2, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(last, all.c[3].seq);
	assert_int_equal(store_changes(st, NULL, 0, 0, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(last, 0);

	/* per principal: pave sees x only; isd sees y, and x from when it
	 * referred into it (the actioning, not pave's opening nor the
	 * review before it joined); nobody else anything */
	l.n = 0;
	assert_int_equal(store_changes(st, "pave", 0, 100, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(l.c[i].case_id, x);
	assert_int_equal(last, all.c[3].seq);
	l.n = 0;
	assert_int_equal(store_changes(st, "pave", all.c[0].seq, 1, clist_cb,
	                               &l, &last), RG_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(last, all.c[2].seq);
	l.n = 0;
	assert_int_equal(store_changes(st, "isd", 0, 100, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.c[0].seq, all.c[1].seq);
	assert_int_equal(l.c[1].seq, all.c[3].seq);
	assert_int_equal(n_changes(st, "nca"), 0);
	assert_int_equal(n_changes(st, "ghost"), 0);

	/* a callback's non-zero stops the walk and is returned */
	int calls = 0;
	assert_int_equal(store_changes(st, NULL, 0, 100, stop_cb, &calls,
	                               &last), 42);
	assert_int_equal(calls, 1);
	assert_int_equal(last, all.c[0].seq);
}

/* Security review: a merge must never close an open case. If either side
 * is open the survivor is open (in_review when either side is, otherwise
 * received), undecided, back in the queue, with a change row saying so;
 * only when both are closed does actioned win over no_action. */
static void test_merge_open_wins(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	struct clist l = { 0 };
	int64_t last;
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1];

	/* 1. open (received) survivor, actioned absorbed one (with a
	 *    removal-order deadline from its closed round) */
	struct sub s1 = { "pave", "jti-openw-00001", NULL, T0, 0, 0,
	                  { "h:ow1" }, NULL, 0 };
	struct sub s2 = { "isd", "jti-openw-00002", NULL, T0 + 10, 0,
	                  T0 + 3600, { "h:ow2" }, NULL, 0 };
	struct sub s12 = { "nca", "jti-openw-00003", NULL, T0 + 20, 0, 0,
	                   { "h:ow1,h:ow2" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s1, &o));
	strcpy(b, submit_ok(st, &s2, &o));
	close_actioned(st, b, T0 + 12);
	assert_int_equal(n_queue(st), 1);
	int64_t head = store_changes_head(st);
	assert_string_equal(submit_ok(st, &s12, &o), a);
	assert_int_equal(o.cases[0].status, CASE_RECEIVED);
	struct store_case m = case_of(st, a);
	assert_int_equal(m.status, CASE_RECEIVED);
	assert_int_equal(m.action, ACTION_NONE);
	assert_int_equal(m.decided_at, 0);
	assert_int_equal(m.deadline_at, 0);    /* the closed round's, dropped */
	assert_int_equal(n_queue(st), 1);      /* still to be reviewed */
	/* one change row: the merged case as it is now */
	assert_int_equal(store_changes(st, NULL, head, 100, clist_cb, &l,
	                               &last), RG_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.c[0].case_id, a);
	assert_int_equal(l.c[0].status, CASE_RECEIVED);
	assert_int_equal(l.c[0].action, ACTION_NONE);
	/* a reviewer decides the merged account */
	close_actioned(st, a, T0 + 30);
	assert_int_equal(n_queue(st), 0);

	/* 2. actioned survivor, absorbed one in review: in_review */
	struct sub s3 = { "pave", "jti-openw-00004", NULL, T0 + 40, 0, 0,
	                  { "h:ow3" }, NULL, 0 };
	struct sub s4 = { "isd", "jti-openw-00005", NULL, T0 + 50, 0,
	                  T0 + 7200, { "h:ow4" }, NULL, 0 };
	struct sub s34 = { "nca", "jti-openw-00006", NULL, T0 + 60, 0, 0,
	                   { "h:ow4,h:ow3" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s3, &o));
	strcpy(b, submit_ok(st, &s4, &o));
	close_actioned(st, a, T0 + 41);
	assert_int_equal(decide(st, b, CASE_IN_REVIEW, ACTION_NONE, T0 + 51,
	                        NULL), RG_OK);
	head = store_changes_head(st);
	assert_string_equal(submit_ok(st, &s34, &o), a);
	assert_int_equal(o.cases[0].status, CASE_RECEIVED); /* as nca sees it */
	m = case_of(st, b);
	assert_string_equal(m.id, a);
	assert_int_equal(m.status, CASE_IN_REVIEW);
	assert_int_equal(m.action, ACTION_NONE);
	assert_int_equal(m.decided_at, 0);
	assert_int_equal(m.deadline_at, T0 + 7200);  /* the open side's */
	assert_int_equal(n_queue(st), 1);
	l.n = 0;
	assert_int_equal(store_changes(st, NULL, head, 100, clist_cb, &l,
	                               &last), RG_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.c[0].status, CASE_IN_REVIEW);
	/* in review, so it can be decided straight away */
	assert_int_equal(decide(st, a, CASE_NO_ACTION, ACTION_NONE, T0 + 70,
	                        NULL), RG_OK);

	/* 3. both closed: actioned wins over no_action, whichever side;
	 *    the joining referral changes nothing on an actioned case */
	struct sub s5 = { "pave", "jti-openw-00007", NULL, T0 + 80, 0, 0,
	                  { "h:ow5" }, NULL, 0 };
	struct sub s6 = { "isd", "jti-openw-00008", NULL, T0 + 90, 0, 0,
	                  { "h:ow6" }, NULL, 0 };
	struct sub s56 = { "nca", "jti-openw-00009", NULL, T0 + 100, 0, 0,
	                   { "h:ow5,h:ow6" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s5, &o));
	strcpy(b, submit_ok(st, &s6, &o));
	close_no_action(st, a, T0 + 81);
	close_actioned(st, b, T0 + 91);
	struct store_case before_b = case_of(st, b);
	assert_string_equal(submit_ok(st, &s56, &o), a);
	assert_int_equal(o.cases[0].status, CASE_ACTIONED);
	m = case_of(st, a);
	assert_int_equal(m.status, CASE_ACTIONED);
	assert_int_equal(m.action, ACTION_ACCOUNT_SUSPENDED);
	assert_int_equal(m.decided_at, before_b.decided_at);

	struct sub s7 = { "pave", "jti-openw-00010", NULL, T0 + 110, 0, 0,
	                  { "h:ow7" }, NULL, 0 };
	struct sub s8 = { "isd", "jti-openw-00011", NULL, T0 + 120, 0, 0,
	                  { "h:ow8" }, NULL, 0 };
	struct sub s78 = { "nca", "jti-openw-00012", NULL, T0 + 130, 0, 0,
	                   { "h:ow8,h:ow7" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s7, &o));
	strcpy(b, submit_ok(st, &s8, &o));
	close_actioned(st, a, T0 + 111);
	close_no_action(st, b, T0 + 121);
	struct store_case before_a = case_of(st, a);
	assert_string_equal(submit_ok(st, &s78, &o), a);
	m = case_of(st, a);
	assert_int_equal(m.status, CASE_ACTIONED);
	assert_int_equal(m.decided_at, before_a.decided_at);
	assert_int_equal(n_queue(st), 0);
}

/* Security review: a principal's feed starts where it joined a case; it
 * never shows what other reporters (or reviewers) did before. */
static void test_changes_since_join(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	struct clist l = { 0 };
	int64_t last;
	char x[RG_ID_MAX + 1], y[RG_ID_MAX + 1];
	struct sub s1 = { "isd", "jti-join-000001", NULL, T0, 0, 0,
	                  { "h:jx" }, NULL, 0 };
	struct sub s2 = { "pave", "jti-join-000002", NULL, T0 + 10, 0, 0,
	                  { "h:jx" }, NULL, 0 };
	struct sub s3 = { "pave", "jti-join-000003", NULL, T0 + 30, 0, 0,
	                  { "h:jx" }, NULL, 0 };
	struct sub s4 = { "isd", "jti-join-000004", NULL, T0 + 40, 0, 0,
	                  { "h:jy" }, NULL, 0 };
	struct sub s5 = { "pave", "jti-join-000005", NULL, T0 + 50, 0, 0,
	                  { "h:jy" }, NULL, 0 };

	/* isd opens x, a reviewer takes it: two rows pave must not see */
	strcpy(x, submit_ok(st, &s1, &o));
	assert_int_equal(decide(st, x, CASE_IN_REVIEW, ACTION_NONE, T0 + 1,
	                        NULL), RG_OK);
	int64_t before = store_changes_head(st);
	/* pave joins the open case (no change row of its own) */
	assert_string_equal(submit_ok(st, &s2, &o), x);
	assert_int_equal(store_changes_head(st), before);
	assert_int_equal(n_changes(st, "pave"), 0);
	assert_int_equal(n_changes(st, "isd"), 2);
	/* what happens after it joined, it sees */
	assert_int_equal(decide(st, x, CASE_ACTIONED, ACTION_CONTENT_REMOVED,
	                        T0 + 20, NULL), RG_OK);
	assert_int_equal(store_changes(st, "pave", 0, 100, clist_cb, &l,
	                               &last), RG_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.c[0].status, CASE_ACTIONED);
	assert_true(l.c[0].seq > before);
	/* a second referral of its into the case moves nothing: the first
	 * one counts */
	assert_string_equal(submit_ok(st, &s3, &o), x);
	assert_int_equal(n_changes(st, "pave"), 1);
	assert_int_equal(n_changes(st, "isd"), 3);

	/* a referral that reopens a no_action case sees its own reopening */
	strcpy(y, submit_ok(st, &s4, &o));
	close_no_action(st, y, T0 + 41);
	before = store_changes_head(st);
	assert_string_equal(submit_ok(st, &s5, &o), y);
	assert_int_equal(o.cases[0].status, CASE_RECEIVED);
	l.n = 0;
	assert_int_equal(store_changes(st, "pave", before, 100, clist_cb, &l,
	                               &last), RG_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.c[0].case_id, y);
	assert_int_equal(l.c[0].status, CASE_RECEIVED);
	assert_int_equal(n_changes(st, "pave"), 2);
	assert_int_equal(n_changes(st, "isd"), 7);
}

/* Security review: the cursor moves past rows the caller may not see,
 * so a poll never rescans them; paging still stops at the last row
 * handed out. */
static void test_changes_cursor(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	struct clist l = { 0 };
	int64_t last = -1;
	struct sub s1 = { "isd", "jti-curs-000001", NULL, T0, 0, 0,
	                  { "h:cu1", "h:cu2", "h:cu3" }, NULL, 0 };
	struct sub s2 = { "pave", "jti-curs-000002", NULL, T0 + 1, 0, 0,
	                  { "h:cu4" }, NULL, 0 };
	struct sub s3 = { "isd", "jti-curs-000003", NULL, T0 + 2, 0, 0,
	                  { "h:cu5" }, NULL, 0 };
	submit_ok(st, &s1, &o);
	submit_ok(st, &s2, &o);
	submit_ok(st, &s3, &o);
	int64_t head = store_changes_head(st);
	assert_int_equal(head, 5);

	/* nothing visible: the cursor goes to the head */
	assert_int_equal(store_changes(st, "nca", 0, 100, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(last, head);
	assert_int_equal(store_changes(st, "ghost", 2, 100, clist_cb, &l,
	                               &last), RG_OK);
	assert_int_equal(last, head);
	/* fewer rows than the limit: past the invisible ones after them */
	assert_int_equal(store_changes(st, "pave", 0, 100, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.c[0].seq, 4);
	assert_int_equal(last, head);
	/* a full page stops at its last row (more may follow) */
	l.n = 0;
	assert_int_equal(store_changes(st, "isd", 0, 2, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(last, 2);
	l.n = 0;
	assert_int_equal(store_changes(st, "isd", last, 2, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.c[0].seq, 3);
	assert_int_equal(l.c[1].seq, 5);
	assert_int_equal(last, 5);
	/* a cursor past the head stays where it is; limit 0 moves nothing */
	assert_int_equal(store_changes(st, "pave", 99, 10, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(last, 99);
	assert_int_equal(store_changes(st, "pave", 1, 0, clist_cb, &l, &last),
	                 RG_OK);
	assert_int_equal(last, 1);
	/* the global feed too */
	assert_int_equal(store_changes(st, NULL, 1, 100, count_change, &l.n,
	                               &last), RG_OK);
	assert_int_equal(last, head);
}

/* A referral of `n` subjects h:<tag><i>; one commit, n change rows. */
static void submit_many(struct store *st, const char *who, const char *jti,
                        const char *tag, size_t n)
{
	struct store_subject subj[REFERRAL_MAX_SUBJECTS];
	struct store_referral_out out;
	char spec[32];
	assert_true(n <= REFERRAL_MAX_SUBJECTS);
	for (size_t i = 0; i < n; i++) {
		snprintf(spec, sizeof spec, "h:%s%zu", tag, i);
		subject_make(&subj[i], spec);
	}
	struct store_referral_in in = {
		.principal = who, .jti = jti, .received_at = T0,
		.category = CAT_OTHER_ILLEGAL, .sealed = sealed_dummy,
		.sealed_len = sizeof sealed_dummy, .n_subjects = n,
		.subjects = subj, .receipt = test_receipt,
	};
	crypto_generichash(in.jws_sha256, 32, (const uint8_t *)jti,
	                   strlen(jti), NULL, 0);
	snprintf(in.id, sizeof in.id, "r_m%d", atomic_fetch_add(&ref_counter, 1));
	assert_int_equal(store_referral_submit(st, &in, &out), RG_OK);
	store_referral_out_clear(&out);
}

struct seqs {
	size_t n;
	int64_t seq[2048];
};

static int seqs_cb(void *ctx, const struct store_change *c)
{
	struct seqs *s = ctx;
	assert_true(s->n < 2048);
	assert_true(s->n == 0 || c->seq > s->seq[s->n - 1]);
	s->seq[s->n++] = c->seq;
	return 0;
}

/* Pages through a principal's whole feed from `since`. */
static void feed_all(struct store *st, const char *who, int64_t since,
                     size_t limit, struct seqs *out)
{
	int64_t last = since;
	out->n = 0;
	for (;;) {
		size_t before = out->n;
		assert_int_equal(store_changes(st, who, last, limit, seqs_cb, out,
		                               &last), RG_OK);
		if (out->n - before < limit)
			break;
	}
	assert_int_equal(last, store_changes_head(st));
}

/* A long backlog and a short one take different query plans; they must
 * agree, row for row. */
static void test_changes_paths_agree(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	char jti[32];
	/* interleaved: pave's and isd's cases, 1400 rows in all */
	for (int i = 0; i < 14; i++) {
		char tag[16];
		snprintf(jti, sizeof jti, "jti-paths-%05d", i);
		snprintf(tag, sizeof tag, "p%d-", i);
		submit_many(st, i % 3 ? "isd" : "pave", jti, tag, 100);
	}
	int64_t head = store_changes_head(st);
	assert_int_equal(head, 1400);
	struct seqs *full = calloc(1, sizeof *full);
	struct seqs *part = calloc(1, sizeof *part);
	assert_non_null(full);
	assert_non_null(part);
	for (int w = 0; w < 2; w++) {
		const char *who = w ? "isd" : "pave";
		feed_all(st, who, 0, 37, full);
		assert_int_equal(full->n, w ? 900 : 500);
		for (int64_t since = 0; since <= head; since += 233) {
			feed_all(st, who, since, 500, part);
			size_t k = 0;
			while (k < full->n && full->seq[k] <= since)
				k++;
			assert_int_equal(part->n, full->n - k);
			assert_memory_equal(part->seq, full->seq + k,
			                    part->n * sizeof part->seq[0]);
		}
	}
	free(full);
	free(part);
}

/* ---- review queue --------------------------------------------------- */

struct qlist {
	int n;
	char ids[16][RG_ID_MAX + 1];
};

static int qlist_cb(void *ctx, const struct store_case *c)
{
	struct qlist *l = ctx;
	if (l->n < 16)
		strcpy(l->ids[l->n], c->id);
	l->n++;
	return 0;
}

static void test_review_queue(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	char id[9][RG_ID_MAX + 1];
	const struct sub subs[] = {
		/* 0: routine, one principal */
		{ "pave", "jti-queue-00001", NULL, T0 + 100, 0, 0, { "h:q1" },
		  NULL, 0 },
		/* 1: routine, two principals (second below) */
		{ "pave", "jti-queue-00002", NULL, T0 + 200, 0, 0, { "h:q2" },
		  NULL, 0 },
		/* 2: imminent harm */
		{ "pave", "jti-queue-00003", NULL, T0 + 300, URG_IMMINENT_HARM,
		  0, { "h:q3" }, NULL, 0 },
		/* 3, 4: removal-order deadlines, the later one first */
		{ "nca", "jti-queue-00004", NULL, T0 + 400, 0, T0 + 9000,
		  { "h:q4" }, NULL, 0 },
		{ "nca", "jti-queue-00005", NULL, T0 + 500, 0, T0 + 8000,
		  { "h:q5" }, NULL, 0 },
		/* 5: the oldest, but closed */
		{ "pave", "jti-queue-00006", NULL, T0 + 50, 0, 0, { "h:q6" },
		  NULL, 0 },
		/* 6: in review: still open */
		{ "pave", "jti-queue-00007", NULL, T0 + 600, 0, 0, { "h:q7" },
		  NULL, 0 },
		/* 7: urgent is not imminent harm: by principals and age */
		{ "pave", "jti-queue-00008", NULL, T0 + 700, URG_URGENT, 0,
		  { "h:q8" }, NULL, 0 },
		/* 8: the second principal of case 1 */
		{ "isd", "jti-queue-00009", NULL, T0 + 800, 0, 0, { "h:q2" },
		  NULL, 0 },
	};
	for (int i = 0; i < 9; i++)
		strcpy(id[i], submit_ok(st, &subs[i], &o));
	close_no_action(st, id[5], T0 + 60);
	assert_int_equal(decide(st, id[6], CASE_IN_REVIEW, ACTION_NONE,
	                        T0 + 610, NULL), RG_OK);

	const int want[] = { 4, 3, 2, 1, 0, 6, 7 };
	struct qlist l = { 0 };
	assert_int_equal(store_review_queue(st, 100, qlist_cb, &l), RG_OK);
	assert_int_equal(l.n, 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(l.ids[i], id[want[i]]);
	l.n = 0;
	assert_int_equal(store_review_queue(st, 2, qlist_cb, &l), RG_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ids[1], id[3]);
	l.n = 0;
	assert_int_equal(store_review_queue(st, 0, qlist_cb, &l), RG_OK);
	assert_int_equal(l.n, 0);
}

/* Within ties of deadline, imminent_harm and principals, the queue takes
 * turns by the principal that opened each case: a flood of one
 * principal's cases does not push another's off the first page. */
static void test_review_queue_fair(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	char flood[6][RG_ID_MAX + 1], other[RG_ID_MAX + 1], late[RG_ID_MAX + 1];
	char jti[32], h[32];
	for (int i = 0; i < 6; i++) {
		snprintf(jti, sizeof jti, "jti-fair-flood-%02d", i);
		snprintf(h, sizeof h, "h:flood%d", i);
		struct sub s = { "pave", jti, NULL, T0 + i, URG_IMMINENT_HARM, 0,
		                 { h }, NULL, 0 };
		strcpy(flood[i], submit_ok(st, &s, &o));
	}
	struct sub s2 = { "isd", "jti-fair-other-01", NULL, T0 + 100,
	                  URG_IMMINENT_HARM, 0, { "h:other" }, NULL, 0 };
	strcpy(other, submit_ok(st, &s2, &o));
	/* a routine case stays behind every imminent_harm one, however old */
	struct sub s3 = { "nca", "jti-fair-late-001", NULL, T0 - 100, 0, 0,
	                  { "h:late" }, NULL, 0 };
	strcpy(late, submit_ok(st, &s3, &o));
	struct qlist l = { 0 };
	assert_int_equal(store_review_queue(st, 3, qlist_cb, &l), RG_OK);
	assert_int_equal(l.n, 3);
	/* pave's oldest, isd's only one, then pave's second */
	assert_string_equal(l.ids[0], flood[0]);
	assert_string_equal(l.ids[1], other);
	assert_string_equal(l.ids[2], flood[1]);
	l.n = 0;
	assert_int_equal(store_review_queue(st, 100, qlist_cb, &l), RG_OK);
	assert_int_equal(l.n, 8);
	for (int i = 2; i < 6; i++)
		assert_string_equal(l.ids[i + 1], flood[i]);
	assert_string_equal(l.ids[7], late);
}

/* Many subjects of one principal naming one account, in one referral or
 * several: one case, one queue entry. */
static void test_same_account_one_case(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	struct sub s = { "pave", "jti-same-acct-01", NULL, T0, 0, 0,
	                 { "h:same", "h:same", "h:same,i:77", "i:77", "h:same",
	                   "i:77,h:same", "h:same", "i:77" }, NULL, 0 };
	assert_int_equal(submit(st, &s, &o, NULL), RG_OK);
	assert_int_equal(o.n_cases, 8);
	resolve_cases(st, &o);
	for (size_t i = 1; i < 8; i++)
		assert_string_equal(o.cases[i].case_id, o.cases[0].case_id);
	/* the case is new to this referral, whichever subject opened it */
	for (size_t i = 0; i < 8; i++)
		assert_true(o.cases[i].new_case);
	struct sub s2 = { "pave", "jti-same-acct-02", NULL, T0 + 1, 0, 0,
	                  { "i:77", "h:same" }, NULL, 0 };
	struct store_referral_out o2;
	assert_int_equal(submit(st, &s2, &o2, NULL), RG_OK);
	resolve_cases(st, &o2);
	assert_string_equal(o2.cases[0].case_id, o.cases[0].case_id);
	assert_string_equal(o2.cases[1].case_id, o.cases[0].case_id);
	assert_false(o2.cases[0].new_case);
	assert_false(o2.cases[1].new_case);
	assert_int_equal(n_queue(st), 1);
	assert_int_equal(count_rows(f->path, "cases"), 1);
	assert_int_equal(case_of(st, o.cases[0].case_id).n_principals, 1);
}

/* Daily quotas: counted per principal and UTC day in the referral's own
 * transaction; a refused referral writes nothing; a replay is answered
 * and not counted; a new day starts afresh. */
static void test_quota(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	const struct store_quota q = { .referrals = 3, .subjects = 5,
	                               .bytes = 1 << 20 };
	struct sub a = { "pave", "jti-quota-pave-1", NULL, T0, 0, 0,
	                 { "h:qa1", "h:qa2" }, NULL, 0 };
	struct sub b = { "pave", "jti-quota-pave-2", NULL, T0 + 1, 0, 0,
	                 { "h:qb1", "h:qb2", "h:qb3" }, NULL, 0 };
	struct sub c = { "pave", "jti-quota-pave-3", NULL, T0 + 2, 0, 0,
	                 { "h:qc1" }, NULL, 0 };
	assert_int_equal(submit_quota(st, &a, &q, &o, NULL), RG_OK);
	assert_int_equal(submit_quota(st, &b, &q, &o, NULL), RG_OK);
	int refs = count_rows(f->path, "referrals");
	int cases = count_rows(f->path, "cases");
	int64_t head = store_changes_head(st);
	int audit = n_audit(st);
	o.over = QUOTA_NONE;
	assert_int_equal(submit_quota(st, &c, &q, &o, NULL), RG_EQUOTA);
	assert_int_equal(o.over, QUOTA_SUBJECTS);
	/* nothing of it written */
	assert_int_equal(count_rows(f->path, "referrals"), refs);
	assert_int_equal(count_rows(f->path, "cases"), cases);
	assert_int_equal(store_changes_head(st), head);
	assert_int_equal(n_audit(st), audit);
	assert_int_equal(count_where(f->path, "quota_days",
	                             "principal = 'pave' AND referrals = 2"
	                             " AND subjects = 5"), 1);
	/* a replay is answered, and counts nothing */
	assert_int_equal(submit_quota(st, &a, &q, &o, NULL), RG_EREPLAY);
	/* another principal has its own quota */
	struct sub d = { "isd", "jti-quota-isd-001", NULL, T0, 0, 0,
	                 { "h:qd1" }, NULL, 0 };
	assert_int_equal(submit_quota(st, &d, &q, &o, NULL), RG_OK);
	d.jti = "jti-quota-isd-002";
	assert_int_equal(submit_quota(st, &d, &q, &o, NULL), RG_OK);
	d.jti = "jti-quota-isd-003";
	assert_int_equal(submit_quota(st, &d, &q, &o, NULL), RG_OK);
	d.jti = "jti-quota-isd-004";
	assert_int_equal(submit_quota(st, &d, &q, &o, NULL), RG_EQUOTA);
	assert_int_equal(o.over, QUOTA_REFERRALS);
	/* the next UTC day starts afresh, and the old day's row goes */
	int64_t next = (T0 / 86400 + 1) * 86400;
	c.at = next;
	assert_int_equal(submit_quota(st, &c, &q, &o, NULL), RG_OK);
	assert_int_equal(count_where(f->path, "quota_days",
	                             "principal = 'pave'"), 1);
	assert_int_equal(count_where(f->path, "quota_days",
	                             "principal = 'pave' AND referrals = 1"
	                             " AND subjects = 1"), 1);
	/* bytes: a quota one referral and a half large */
	struct store_subject subj;
	subject_make(&subj, "h:qe1");
	struct store_referral_in in = {
		.sealed = sealed_dummy, .sealed_len = sizeof sealed_dummy,
		.n_subjects = 1, .subjects = &subj,
	};
	int64_t one = store_referral_bytes(&in);
	assert_true(one == (int64_t)sizeof sealed_dummy * 2 + 32);
	const struct store_quota qb = { .referrals = 100, .subjects = 100,
	                                .bytes = one + one / 2 };
	struct sub e = { "nca", "jti-quota-nca-001", NULL, T0, 0, 0,
	                 { "h:qe1" }, NULL, 0 };
	assert_int_equal(submit_quota(st, &e, &qb, &o, NULL), RG_OK);
	e.jti = "jti-quota-nca-002";
	assert_int_equal(submit_quota(st, &e, &qb, &o, NULL), RG_EQUOTA);
	assert_int_equal(o.over, QUOTA_BYTES);
	/* a quota of 0 is not "unlimited": refused as invalid */
	const struct store_quota q0 = { 0, 5, 5 };
	assert_int_equal(submit_quota(st, &e, &q0, &o, NULL), RG_EINVAL);
}

/* ---- audit chain ---------------------------------------------------- */

struct chain {
	int n;
	int64_t next_seq;
	uint8_t prev[32];
	char kinds[64][16];
	bool broken;
};

static int chain_cb(void *ctx, const struct store_audit *a)
{
	struct chain *c = ctx;
	uint8_t h[32];
	if (a->seq != c->next_seq || memcmp(a->prev_hash, c->prev, 32) != 0 ||
	    audit_record_hash(a->seq, a->at, a->actor, a->kind, a->object,
	                     a->detail, c->prev, h) != RG_OK ||
	    memcmp(h, a->hash, 32) != 0)
		c->broken = true;
	memcpy(c->prev, a->hash, 32);
	c->next_seq = a->seq + 1;
	if (c->n < 64)
		snprintf(c->kinds[c->n], 16, "%s", a->kind);
	c->n++;
	/* no account identifiers in the details */
	assert_null(strstr(a->detail, "rita"));
	assert_null(strstr(a->detail, "facts"));
	return 0;
}

static void test_audit_chain(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_referral_out o;
	char a[RG_ID_MAX + 1];
	struct sub s1 = { "pave", "jti-audit-00001", NULL, T0, 0, 0,
	                  { "h:rita" }, NULL, 0 };
	strcpy(a, submit_ok(st, &s1, &o));
	close_actioned(st, a, T0 + 1);
	assert_int_equal(store_principal_revoke(st, "legal1", "isd", T0 + 5),
	                 RG_OK);
	assert_int_equal(store_audit_append(st, "legal1", "disclosure", a,
	                 "{\"key\":\"k_1\",\"basis\":\"court order\"}", T0 + 6),
	                 RG_OK);
	assert_int_equal(store_audit_append(st, "legal1", "disclosure", a,
	                                    "not json", T0), RG_EINVAL);
	assert_int_equal(store_audit_append(st, "legal1", "disclosure", a,
	                                    "[1]", T0), RG_EINVAL);

	struct chain c = { .next_seq = 1 };
	int64_t last;
	assert_int_equal(store_audit_each(st, 0, 1000, chain_cb, &c, &last),
	                 RG_OK);
	assert_false(c.broken);
	static const char *const want[] = {
		"enrol", "enrol", "enrol", "enrol", "referral", "decision",
		"decision", "revoke", "disclosure",
	};
	assert_int_equal(c.n, 9);
	for (int i = 0; i < 9; i++)
		assert_string_equal(c.kinds[i], want[i]);
	assert_int_equal(last, 9);

	/* paging continues the chain */
	struct chain c2 = { .next_seq = 1 };
	assert_int_equal(store_audit_each(st, 0, 4, chain_cb, &c2, &last),
	                 RG_OK);
	assert_int_equal(last, 4);
	assert_int_equal(store_audit_each(st, last, 100, chain_cb, &c2, &last),
	                 RG_OK);
	assert_false(c2.broken);
	assert_int_equal(c2.n, 9);

	/* the layout: a known answer for the first link */
	uint8_t zero[32] = { 0 }, h1[32], h2[32];
	assert_int_equal(audit_record_hash(1, 2, "a", "b", "c", "{}", zero, h1),
	                 RG_OK);
	uint8_t buf[32 + 8 + 8 + 4 * 4 + 5] = { 0 };
	size_t n = 32;
	buf[n + 7] = 1;
	n += 8;
	buf[n + 7] = 2;
	n += 8;
	const char *strs[] = { "a", "b", "c", "{}" };
	for (int i = 0; i < 4; i++) {
		size_t len = strlen(strs[i]);
		buf[n + 3] = (uint8_t)len;
		n += 4;
		memcpy(buf + n, strs[i], len);
		n += len;
	}
	assert_int_equal(n, sizeof buf);
	crypto_generichash(h2, 32, buf, n, NULL, 0);
	assert_memory_equal(h1, h2, 32);
	/* fields are length-prefixed: moving a byte across changes it */
	assert_int_equal(audit_record_hash(1, 2, "ab", "", "c", "{}", zero, h2),
	                 RG_OK);
	assert_memory_not_equal(h1, h2, 32);

	/* the table refuses edits */
	assert_true(dbfix_exec(f->path, "SELECT COUNT(*) FROM audit"));
	assert_false(dbfix_exec(f->path, "UPDATE audit SET actor = 'x'"));
	assert_false(dbfix_exec(f->path, "DELETE FROM audit"));
	assert_int_equal(n_audit(st), 9);
}

/* ---- callbacks that read again -------------------------------------- */

struct nest {
	struct store *st;
	int depth;
	int seen;
};

static int nest_cb(void *ctx, const struct store_referral *r)
{
	struct nest *n = ctx;
	struct store_referral r2;
	struct store_case c;
	n->seen++;
	assert_int_equal(store_referral_get(n->st, r->id, &r2), RG_OK);
	assert_string_equal(r2.id, r->id);
	struct subj_cases sc = { 0 };
	assert_int_equal(store_referral_cases_each(n->st, r->id, subj_cb, &sc),
	                 RG_OK);
	assert_int_equal(store_case_get(n->st, sc.ids[0], &c), RG_OK);
	if (n->depth++ == 0) {
		/* the same walk, nested: another statement, same snapshot */
		assert_int_equal(store_case_referrals_each(n->st, sc.ids[0],
		                                           nest_cb, n), RG_OK);
	}
	return 0;
}

static void test_nested_reads(void **state)
{
	struct fx *f = *state;
	struct store_referral_out o;
	char a[RG_ID_MAX + 1];
	struct sub s1 = { "pave", "jti-nest-000001", NULL, T0, 0, 0,
	                  { "h:sam" }, NULL, 0 };
	struct sub s2 = { "isd", "jti-nest-000002", NULL, T0 + 1, 0, 0,
	                  { "h:sam" }, NULL, 0 };
	strcpy(a, submit_ok(f->st, &s1, &o));
	submit_ok(f->st, &s2, &o);
	struct nest n = { f->st, 0, 0 };
	assert_int_equal(store_case_referrals_each(f->st, a, nest_cb, &n), RG_OK);
	assert_int_equal(n.seen, 4);
}

/* ---- dedup and merge scenarios -------------------------------------- */

/* Each step submits one referral; each subject must land in the case
 * named by a letter: a letter's first use must open a case, later uses
 * must find the case the letter names now (after merges). `merge`, when
 * set, says the letter that must resolve into the step's first case. */
struct step {
	const char *who;
	int64_t at;
	const char *subjects[4];
	const char *cases;            /* one letter per subject */
	const char *new_case;         /* '1'/'0' per subject */
	const char *merged;           /* letters now resolving to cases[0] */
};

static const struct step scenario[] = {
	{ "pave", 1, { "h:a" }, "A", "1", "" },
	{ "isd", 2, { "i:1" }, "B", "1", "" },
	{ "pave", 3, { "h:a" }, "A", "0", "" },
	{ "nca", 4, { "h:a,i:1" }, "A", "0", "B" },        /* B into A */
	{ "isd", 5, { "i:1" }, "A", "0", "" },
	{ "pave", 6, { "h:b", "h:b" }, "CC", "11", "" },    /* same twice */
	{ "pave", 7, { "h:c,i:2", "h:d,i:2" }, "DD", "11", "" },
	{ "isd", 8, { "h:d" }, "D", "0", "" },
	{ "nca", 9, { "h:b,h:d" }, "C", "0", "D" },         /* D into C */
	/* opened and merged away inside one referral: E is new, F too,
	 * then the third subject links them; all end in E, opened here */
	{ "pave", 10, { "h:e", "h:f", "h:e,h:f" }, "EEE", "111", "F" },
	/* an old case G and a new one linked in one referral: new_case
	 * false once the new one is merged into G */
	{ "isd", 11, { "h:g" }, "G", "1", "" },
	{ "pave", 12, { "h:h", "h:g,h:h" }, "GG", "00", "H" },
	/* a later referral linking G (with H) and the older C */
	{ "nca", 13, { "h:h,h:c" }, "C", "0", "GH" },        /* G into C */
	{ "pave", 14, { "i:2" }, "C", "0", "" },
};

static void test_dedup_scenarios(void **state)
{
	struct fx *f = *state;
	char ids[26][RG_ID_MAX + 1] = { { 0 } };
	struct store_referral_out o;
	for (size_t k = 0; k < sizeof scenario / sizeof scenario[0]; k++) {
		const struct step *sp = &scenario[k];
		char jti[32];
		snprintf(jti, sizeof jti, "jti-scenario-%03zu", k);
		struct sub s = { sp->who, jti, NULL, T0 + sp->at, 0, 0,
		                 { sp->subjects[0], sp->subjects[1],
		                   sp->subjects[2], sp->subjects[3] }, NULL, 0 };
		assert_int_equal(submit(f->st, &s, &o, NULL), RG_OK);
		size_t n = strlen(sp->cases);
		assert_int_equal(o.n_cases, n);
		/* letters opened by this step: bind them to the answer */
		for (size_t i = 0; i < n; i++) {
			int L = sp->cases[i] - 'A';
			bool fresh = sp->new_case[i] == '1';
			assert_int_equal(o.cases[i].new_case, fresh);
			if (!ids[L][0])
				strcpy(ids[L], o.cases[i].case_id);
		}
		/* letters merged into the first case, also when they were
		 * opened and absorbed within this step */
		for (const char *m = sp->merged; *m; m++) {
			int L = *m - 'A';
			if (!ids[L][0])
				continue;   /* never seen: opened and absorbed */
			assert_string_equal(case_of(f->st, ids[L]).id,
			                    case_of(f->st, o.cases[0].case_id).id);
		}
		for (size_t i = 0; i < n; i++) {
			int L = sp->cases[i] - 'A';
			assert_string_equal(case_of(f->st, ids[L]).id,
			                    case_of(f->st, o.cases[i].case_id).id);
		}
	}
	/* in the end: A (with B), C (with D, G, H), E (with F) */
	assert_int_equal(n_queue(f->st), 3);
	assert_string_equal(case_of(f->st, ids['B' - 'A']).id, ids[0]);
	assert_string_equal(case_of(f->st, ids['D' - 'A']).id, ids['C' - 'A']);
	assert_string_equal(case_of(f->st, ids['G' - 'A']).id, ids['C' - 'A']);
	struct store_case c = case_of(f->st, ids['C' - 'A']);
	assert_int_equal(c.n_principals, 3);
	assert_int_equal(c.n_referrals, 8);
	assert_int_equal(count_rows(f->path, "cases"), 3);
	/* each of the ten identifiers once, in a live case */
	assert_int_equal(count_rows(f->path, "case_idents"), 10);
	/* aliases: B, D, F, G, H, with D's and H's repointed; and each
	 * principal's own id for every case it joined that another opened */
	assert_int_equal(count_rows(f->path, "case_aliases"),
	                 5 + count_rows(f->path, "referrer_cases") -
	                 count_where(f->path, "referrer_cases",
	                             "alias IN (SELECT first_case_id FROM"
	                             " referral_subjects WHERE new_case = 1)"));
}

/* ---- concurrency and group commit ----------------------------------- */

struct gate {
	struct store *st;
	atomic_int armed;
	atomic_int entered;          /* the hook is holding the writer */
	uint64_t want;               /* jobs taken + queued to wait for */
};

/* The first commit's hook holds the writer until every writer thread
 * has queued its job, so the next batch must take them all at once. */
static void gate_hook(void *ctx)
{
	struct gate *g = ctx;
	struct store_stats s;
	if (!atomic_exchange(&g->armed, 0))
		return;
	atomic_store(&g->entered, 1);
	for (int i = 0; i < 60000; i++) {   /* a minute, then let go */
		store_stats_get(g->st, &s);
		if (s.jobs + s.queued >= g->want)
			return;
		usleep(1000);
	}
}

struct worker {
	struct store *st;
	int k;
	int rc;
	struct store_referral_out out;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char jti[32], mine[16];
	struct store_case c;
	snprintf(jti, sizeof jti, "jti-thread-%04d", w->k);
	snprintf(mine, sizeof mine, "i:%d", 9000 + w->k);
	struct sub s = { w->k % 2 ? "pave" : "isd", jti, NULL, T0 + w->k, 0, 0,
	                 { "h:shared", mine }, NULL, 0 };
	w->rc = submit(w->st, &s, &w->out, NULL);
	/* reads on this thread's own connection, closed at thread exit */
	if (w->rc == RG_OK &&
	    store_case_get(w->st, w->out.cases[1].case_id, &c) != RG_OK)
		w->rc = RG_EIO;
	return NULL;
}

static void test_concurrent_submits(void **state)
{
	struct fx *f = *state;
	enum { N = 8 };
	struct worker w[N];
	pthread_t th[N];
	struct store_stats before, after;
	store_stats_get(f->st, &before);
	struct gate g = { .st = f->st, .want = before.jobs + N };
	atomic_init(&g.armed, 1);
	atomic_init(&g.entered, 0);
	store_set_commit_hook(f->st, gate_hook, &g);
	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){ .st = f->st, .k = i };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]),
		                 0);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	store_set_commit_hook(f->st, NULL, NULL);
	store_stats_get(f->st, &after);

	/* all succeeded; exactly one opened the shared case */
	int opened = 0;
	for (int i = 0; i < N; i++) {
		assert_int_equal(w[i].rc, RG_OK);
		assert_string_equal(case_of(f->st, w[i].out.cases[0].case_id).id,
		                    case_of(f->st, w[0].out.cases[0].case_id).id);
		assert_true(w[i].out.cases[1].new_case);
		opened += w[i].out.cases[0].new_case;
	}
	assert_int_equal(opened, 1);
	assert_int_equal(case_of(f->st, w[0].out.cases[0].case_id).n_referrals,
	                 N);
	assert_int_equal(n_queue(f->st), N + 1);
	/* group commit: eight jobs in at most two commits */
	assert_int_equal(after.jobs - before.jobs, N);
	assert_true(after.commits - before.commits <= 2);
	assert_true(after.max_batch >= N / 2);
	assert_int_equal(after.queued, 0);
	assert_int_equal(after.failed_commits, before.failed_commits);
}

/* Many writers and readers at once, for the thread sanitizer. */
static void *hammer_main(void *arg)
{
	struct worker *w = arg;
	char jti[32], who[16];
	struct store_referral_out o;
	struct store_case c;
	int64_t last;
	int n;
	for (int i = 0; i < 10 && w->rc == RG_OK; i++) {
		snprintf(jti, sizeof jti, "jti-hammer-%02d-%02d", w->k, i);
		snprintf(who, sizeof who, "h:hm%d", (w->k + i) % 5);
		struct sub s = { w->k % 2 ? "pave" : "isd", jti, NULL, T0 + i, 0, 0,
		                 { who }, NULL, 0 };
		w->rc = submit(w->st, &s, &o, NULL);
		if (w->rc == RG_OK)
			w->rc = store_case_get(w->st, o.cases[0].case_id, &c);
		n = 0;
		if (w->rc == RG_OK)
			w->rc = store_changes(w->st, NULL, 0, 50, count_change, &n,
			                      &last);
		if (w->rc == RG_OK && i % 3 == 0) {
			/* someone else may have moved it already */
			int d = decide(w->st, o.cases[0].case_id, CASE_IN_REVIEW,
			               ACTION_NONE, T0 + i, NULL);
			if (d != RG_OK && d != RG_ECONFLICT)
				w->rc = d;
		}
	}
	return NULL;
}

static atomic_int hook_calls;

static void count_hook(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&hook_calls, 1);
}

static void test_hammer(void **state)
{
	struct fx *f = *state;
	enum { N = 6 };
	struct worker w[N];
	pthread_t th[N];
	atomic_store(&hook_calls, 0);
	store_set_commit_hook(f->st, count_hook, NULL);
	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){ .st = f->st, .k = i };
		assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &w[i]),
		                 0);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].rc, RG_OK);
	}
	store_set_commit_hook(f->st, NULL, NULL);
	assert_true(atomic_load(&hook_calls) > 0);
	/* five accounts, whatever the interleaving */
	assert_int_equal(count_rows(f->path, "cases"), 5);
	assert_int_equal(count_rows(f->path, "referrals"), N * 10);
	struct chain c = { .next_seq = 1 };
	int64_t last;
	assert_int_equal(store_audit_each(f->st, 0, 100000, chain_cb, &c, &last),
	                 RG_OK);
	assert_false(c.broken);
}

/* ---- storage full --------------------------------------------------- */

static void test_storage_full(void **state)
{
	struct fx *f = *state;
	char path[160];
	struct fx full = { 0 };
	struct store_opts o = { .max_page_count = 80 };
	static uint8_t big[3000];
	struct store_referral_out out;
	char jti[32], who[16], rid[RG_ID_MAX + 1];
	int i, rc = RG_OK;
	memset(big, 0x5a, sizeof big);
	snprintf(path, sizeof path, "%s/full.db", f->dir);
	strcpy(full.path, path);
	assert_int_equal(fx_open(&full, &o), RG_OK);
	enrol(full.st, "pave", ROLE_PARTNER);

	/* small referrals of many subjects: the disk fills in the middle of
	 * one (after its first rows), not at its first insert */
	static const char *const tables[] = {
		"referrals", "referral_subjects", "cases", "case_idents",
		"changes", "audit",
	};
	int counts[6] = { 0 };
	int64_t head = 0;
	int audit = 0, queue = 0;
	for (i = 0; i < 2000; i++) {
		head = store_changes_head(full.st);
		audit = n_audit(full.st);
		queue = n_queue(full.st);
		for (int t = 0; t < 6; t++)
			counts[t] = count_rows(path, tables[t]);
		snprintf(jti, sizeof jti, "jti-full-%05d", i);
		char sj[6][32];
		for (int k = 0; k < 6; k++)
			snprintf(sj[k], sizeof sj[k], "h:full%d-%d", i, k);
		struct sub s = { "pave", jti, NULL, T0 + i, 0, 0,
		                 { sj[0], sj[1], sj[2], sj[3], sj[4], sj[5] },
		                 big, 200 };
		rc = submit(full.st, &s, &out, rid);
		if (rc != RG_OK)
			break;
	}
	assert_int_equal(rc, RG_EFULL);
	assert_true(i > 0);
	/* nothing of the refused referral was written */
	assert_int_equal(store_changes_head(full.st), head);
	assert_int_equal(n_audit(full.st), audit);
	assert_int_equal(n_queue(full.st), queue);
	for (int t = 0; t < 6; t++)
		assert_int_equal(count_rows(path, tables[t]), counts[t]);
	int refs = counts[0];
	snprintf(who, sizeof who, "h:again");
	struct store_referral r;
	assert_int_equal(store_referral_get(full.st, rid, &r), RG_ENOTFOUND);
	/* the store still answers: reads, and a retry is full again, not a
	 * replay (its blob is over the whole cap, so that it cannot fit in
	 * whatever room the refused referral left, however the pages fall) */
	static uint8_t huge[400 * 1024];
	memset(huge, 0x5b, sizeof huge);
	struct sub again = { "pave", jti, NULL, T0, 0, 0, { who }, huge,
	                     sizeof huge };
	assert_int_equal(submit(full.st, &again, &out, NULL), RG_EFULL);
	struct chain c = { .next_seq = 1 };
	int64_t last;
	assert_int_equal(store_audit_each(full.st, 0, 100000, chain_cb, &c,
	                                  &last), RG_OK);
	assert_false(c.broken);
	store_free(full.st);

	/* with room (no cap), the same file takes it, nothing lost */
	assert_int_equal(fx_open(&full, NULL), RG_OK);
	assert_int_equal(count_rows(path, "referrals"), refs);
	assert_int_equal(submit(full.st, &again, &out, NULL), RG_OK);
	assert_int_equal(count_rows(path, "referrals"), refs + 1);
	store_free(full.st);
	rm_db(path);

	/* and a fresh store works */
	snprintf(path, sizeof path, "%s/fresh.db", f->dir);
	strcpy(full.path, path);
	assert_int_equal(fx_open(&full, NULL), RG_OK);
	enrol(full.st, "pave", ROLE_PARTNER);
	assert_int_equal(submit(full.st, &again, &out, NULL), RG_OK);
	store_free(full.st);
	rm_db(path);
}

/* One referral too big for the disk, in one batch with small ones: it
 * alone fails; the others commit. */
struct sized {
	struct store *st;
	int k;
	size_t len;
	const uint8_t *blob;
	int rc;
};

static void *sized_main(void *arg)
{
	struct sized *z = arg;
	char jti[32], who[16];
	struct store_referral_out o;
	snprintf(jti, sizeof jti, "jti-sized-%04d", z->k);
	snprintf(who, sizeof who, "h:sized%d", z->k);
	struct sub s = { "pave", jti, NULL, T0 + z->k, 0, 0, { who }, z->blob,
	                 z->len };
	z->rc = submit(z->st, &s, &o, NULL);
	return NULL;
}

/* Waits until `n` jobs in all have reached the writer (taken or
 * queued); fails after a minute rather than hang. */
static void wait_enqueued(struct store *st, uint64_t n)
{
	struct store_stats s;
	for (int i = 0; i < 60000; i++) {
		store_stats_get(st, &s);
		if (s.jobs + s.queued >= n)
			return;
		usleep(1000);
	}
	fail_msg("the writer never saw %llu jobs", (unsigned long long)n);
}

static void test_full_batch_isolated(void **state)
{
	struct fx *f = *state;
	enum { N = 5 };
	struct fx small = { 0 };
	struct store_opts o = { .max_page_count = 100 };
	static uint8_t huge[1 << 20];
	struct sized z[N];
	pthread_t th[N];
	struct store_stats before, after;
	snprintf(small.path, sizeof small.path, "%s/small.db", f->dir);
	assert_int_equal(fx_open(&small, &o), RG_OK);
	enrol(small.st, "pave", ROLE_PARTNER);

	/* job 0's commit holds the writer (in the hook) while jobs 1-4
	 * queue in order, the second of them too big */
	store_stats_get(small.st, &before);
	struct gate g = { .st = small.st, .want = before.jobs + N };
	atomic_init(&g.armed, 1);
	atomic_init(&g.entered, 0);
	store_set_commit_hook(small.st, gate_hook, &g);
	for (int i = 0; i < N; i++) {
		z[i] = (struct sized){ small.st, i, 4, sealed_dummy, -1 };
		if (i == 2) {
			z[i].blob = huge;
			z[i].len = sizeof huge;
		}
		assert_int_equal(pthread_create(&th[i], NULL, sized_main, &z[i]),
		                 0);
		for (int k = 0; i == 0 && !atomic_load(&g.entered); k++) {
			assert_true(k < 60000);
			usleep(1000);
		}
		/* in order: job i queued before job i + 1 is sent */
		wait_enqueued(small.st, before.jobs + 1 + (uint64_t)i);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	store_set_commit_hook(small.st, NULL, NULL);
	store_stats_get(small.st, &after);
	assert_int_equal(after.max_batch, N - 1);
	for (int i = 0; i < N; i++)
		assert_int_equal(z[i].rc, i == 2 ? RG_EFULL : RG_OK);
	assert_int_equal(count_rows(small.path, "referrals"), N - 1);
	assert_int_equal(n_queue(small.st), N - 1);
	assert_true(after.failed_commits > before.failed_commits);
	store_free(small.st);
	rm_db(small.path);
}

/* The transparency log: one leaf per recorded referral (none for a
 * refused or replayed one), proofs that verify against the signed
 * root, and a checkpoint signed once per size. */
static int test_sign(void *ctx, uint64_t size, const uint8_t root[32],
                     char *note, size_t cap)
{
	int *calls = ctx;
	(*calls)++;
	snprintf(note, cap, "size %llu\n", (unsigned long long)size);
	(void)root;
	return RG_OK;
}

static void test_log(void **state)
{
	struct fx *f = *state;
	struct store_referral_out out;
	struct store_checkpoint cp, cp2;
	char ids[6][RG_ID_MAX + 1], leaf[64];
	uint8_t p[MERKLE_MAX_PROOF][32], lh[32];
	size_t n = 0;
	uint64_t size = 9;
	int calls = 0;
	assert_int_equal(store_log_size(f->st, &size), RG_OK);
	assert_int_equal(size, 0);
	assert_int_equal(store_log_checkpoint_latest(f->st, &cp), RG_ENOTFOUND);
	for (int i = 0; i < 5; i++) {
		char jti[32];
		snprintf(jti, sizeof jti, "jti-log-%08d", i);
		struct sub s = { "pave", jti, NULL, T0, 0, 0, { "h:logged" }, NULL, 0 };
		assert_int_equal(submit(f->st, &s, &out, ids[i]), RG_OK);
		assert_int_equal(out.log_index, i);
		/* a replay appends nothing and answers the same index */
		assert_int_equal(submit(f->st, &s, &out, ids[5]), RG_EREPLAY);
		assert_int_equal(out.log_index, i);
	}
	assert_int_equal(store_log_size(f->st, &size), RG_OK);
	assert_int_equal(size, 5);
	assert_int_equal(store_log_checkpoint_sign(f->st, T0, test_sign, &calls,
	                                           &cp), RG_OK);
	assert_int_equal(calls, 1);
	assert_int_equal(cp.size, 5);
	assert_string_equal(cp.note, "size 5\n");
	for (uint64_t i = 0; i < 5; i++) {
		snprintf(leaf, sizeof leaf, "%s@%llu", ids[i], (unsigned long long)i);
		merkle_leaf_hash(leaf, strlen(leaf), lh);
		assert_int_equal(store_log_inclusion(f->st, i, 5, p, &n), RG_OK);
		assert_int_equal(merkle_verify_inclusion(i, 5, lh, p, n, cp.root),
		                 RG_OK);
	}
	/* nothing new: no second signature */
	assert_int_equal(store_log_checkpoint_sign(f->st, T0, test_sign, &calls,
	                                           &cp2), RG_OK);
	assert_int_equal(calls, 1);
	assert_int_equal(cp2.size, 5);
	struct sub s6 = { "isd", "jti-log-99999999", NULL, T0, 0, 0, { "h:other" },
	                  NULL, 0 };
	assert_int_equal(submit(f->st, &s6, &out, ids[5]), RG_OK);
	assert_int_equal(store_log_checkpoint_sign(f->st, T0 + 1, test_sign,
	                                           &calls, &cp2), RG_OK);
	assert_int_equal(cp2.size, 6);
	assert_int_equal(store_log_consistency(f->st, 5, 6, p, &n), RG_OK);
	assert_int_equal(merkle_verify_consistency(5, 6, p, n, cp.root, cp2.root),
	                 RG_OK);
	assert_int_equal(store_log_checkpoint_latest(f->st, &cp), RG_OK);
	assert_int_equal(cp.size, 6);
	/* bounds */
	assert_int_equal(store_log_inclusion(f->st, 6, 6, p, &n), RG_EINVAL);
	assert_int_equal(store_log_inclusion(f->st, 0, 7, p, &n), RG_EINVAL);
	assert_int_equal(store_log_consistency(f->st, 0, 6, p, &n), RG_EINVAL);
	assert_int_equal(store_log_consistency(f->st, 6, 5, p, &n), RG_EINVAL);
}

/* ---- removal orders (store_orders.c) --------------------------------- */

static int count_statement(void *ctx, const struct store_statement *st)
{
	(void)st;
	(*(int *)ctx)++;
	return 0;
}

static int statements_listed(struct store *st, bool pending, int64_t now)
{
	int n = 0;
	int64_t last;
	assert_int_equal(store_statements_each(st, 0, 100, pending, now,
	                                       count_statement, &n, &last),
	                 RG_OK);
	return n;
}

/* An order recorded with its referral, answered cannot_execute,
 * clarified (the clock restarts), actioned after its hour, its holds
 * extended within their limits; the gauges and the notice hold follow. */
static void test_removal_order(void **state)
{
	struct fx *f = *state;
	struct store_referral_out out;
	struct store_order o;
	struct store_case after;
	struct store_order_gauges g;
	const int64_t hold = T0 + 86400, weeks6 = 42 * 86400;
	struct store_order_in oi = { .reference = "TCO/2026/1",
	                             .issuing_authority = "BKA",
	                             .issued_at = T0 - 60,
	                             .withhold_notice_until = hold };
	struct sub s = { "nca", "ro-1", NULL, T0, 0, T0 + 3600, { "h:ro1" },
	                 NULL, 0 };
	char id[RG_ID_MAX + 1], plain[RG_ID_MAX + 1];
	assert_int_equal(submit_full(f->st, &s, NULL, &oi, &out, NULL), RG_OK);
	resolve_cases(f->st, &out);
	strcpy(id, out.cases[0].case_id);
	struct sub p = { "pave", "ro-p", NULL, T0, 0, 0, { "h:plain" }, NULL,
	                 0 };
	strcpy(plain, submit_ok(f->st, &p, &out));

	assert_int_equal(store_order_get(f->st, "nca", "TCO/2026/1", &o), RG_OK);
	assert_int_equal(o.status, CASE_RECEIVED);
	assert_int_equal(o.received_at, T0);
	assert_int_equal(o.deadline_at, T0 + 3600);
	assert_int_equal(o.notice_withheld_until, hold);
	assert_string_equal(o.issuing_authority, "BKA");
	assert_int_equal(o.n_cases, 1);
	assert_int_equal(store_order_get(f->st, "pave", "TCO/2026/1", &o),
	                 RG_ENOTFOUND);
	assert_int_equal(store_order_get(f->st, "nca", "TCO/2026/2", &o),
	                 RG_ENOTFOUND);
	assert_int_equal(store_order_gauges(f->st, T0 + 3601, &g), RG_OK);
	assert_int_equal(g.open, 1);
	assert_int_equal(g.overdue, 1);

	/* cannot_execute: only on an order's case, only with an Annex III
	 * reason; it stops the clock */
	struct store_decision ce = { .status = CASE_CANNOT_EXECUTE,
	                             .reviewer = "rev", .at = T0 + 10,
	                             .ground = "manifest_error",
	                             .explanation = "wrong" };
	assert_int_equal(store_case_decide(f->st, plain, &ce, &after),
	                 RG_ECONFLICT);
	ce.ground = "busy";
	assert_int_equal(store_case_decide(f->st, id, &ce, &after), RG_EINVAL);
	ce.ground = "manifest_error";
	assert_int_equal(store_case_decide(f->st, id, &ce, &after), RG_OK);
	assert_int_equal(after.status, CASE_CANNOT_EXECUTE);
	assert_int_equal(after.deadline_at, 0);
	assert_int_equal(store_order_get(f->st, "nca", "TCO/2026/1", &o), RG_OK);
	assert_int_equal(o.status, CASE_CANNOT_EXECUTE);
	assert_string_equal(o.reason, "manifest_error");
	assert_int_equal(store_order_gauges(f->st, T0 + 7200, &g), RG_OK);
	assert_int_equal(g.open + g.overdue + g.within + g.after, 0);
	assert_int_equal(decide(f->st, id, CASE_IN_REVIEW, ACTION_NONE,
	                        T0 + 20, NULL), RG_ECONFLICT);

	/* the clarification: the same agency and reference */
	struct sub s2 = { "nca", "ro-2", NULL, T0 + 100, 0, T0 + 3700,
	                  { "h:ro1" }, NULL, 0 };
	assert_int_equal(submit_full(f->st, &s2, NULL, &oi, &out, NULL), RG_OK);
	resolve_cases(f->st, &out);
	assert_string_equal(out.cases[0].case_id, id);
	struct store_case c = case_of(f->st, id);
	assert_int_equal(c.status, CASE_RECEIVED);
	assert_int_equal(c.deadline_at, T0 + 3700);
	assert_int_equal(store_order_get(f->st, "nca", "TCO/2026/1", &o), RG_OK);
	assert_int_equal(o.status, CASE_RECEIVED);
	assert_int_equal(o.received_at, T0 + 100);
	assert_int_equal(o.deadline_at, T0 + 3700);
	assert_string_equal(o.reason, "");

	/* actioned after the hour: held 183 days, counted after */
	close_actioned(f->st, id, T0 + 4000);
	assert_int_equal(store_order_get(f->st, "nca", "TCO/2026/1", &o), RG_OK);
	assert_int_equal(o.status, CASE_ACTIONED);
	assert_int_equal(o.action, ACTION_ACCOUNT_SUSPENDED);
	assert_int_equal(o.actioned_at, T0 + 4001);
	assert_int_equal(o.preserved_until, T0 + 4001 + STORE_PRESERVE_SECONDS);
	assert_int_equal(store_order_gauges(f->st, T0 + 5000, &g), RG_OK);
	assert_int_equal(g.open, 0);
	assert_int_equal(g.within, 0);
	assert_int_equal(g.after, 1);

	/* preservation: later only, the issuing agency only */
	int64_t later = T0 + 300 * 86400;
	assert_int_equal(store_order_preserve(f->st, "nca", "TCO/2026/1",
	                                      o.preserved_until, "again",
	                                      T0 + 5000, &o), RG_ECONFLICT);
	assert_int_equal(store_order_preserve(f->st, "pave", "TCO/2026/1",
	                                      later, "x", T0 + 5000, &o),
	                 RG_ENOTFOUND);
	assert_int_equal(store_order_preserve(f->st, "nca", "TCO/2026/1",
	                                      later, "investigation",
	                                      T0 + 5000, &o), RG_OK);
	assert_int_equal(o.preserved_until, later);

	/* the notice hold: its statement waits; one extension of at most
	 * 6 weeks */
	assert_int_equal(statements_listed(f->st, true, T0 + 5000), 0);
	assert_int_equal(statements_listed(f->st, false, T0 + 5000), 0);
	assert_int_equal(statements_listed(f->st, true, hold), 1);
	int64_t until = 0;
	assert_int_equal(store_case_notice_hold(f->st, id, T0, &until), RG_OK);
	assert_int_equal(until, hold);
	assert_int_equal(store_order_withhold(f->st, "nca", "TCO/2026/1",
	                                      hold + weeks6 + 1, T0 + 5000,
	                                      &o), RG_ETOOBIG);
	assert_int_equal(store_order_withhold(f->st, "nca", "TCO/2026/1",
	                                      hold + weeks6, T0 + 5000, &o),
	                 RG_OK);
	assert_true(o.withhold_extended);
	/* a second extension, later and within 6 weeks of the hold now */
	assert_int_equal(store_order_withhold(f->st, "nca", "TCO/2026/1",
	                                      hold + weeks6 + 86400, T0 + 5000,
	                                      &o), RG_ECONFLICT);
	assert_int_equal(o.notice_withheld_until, hold + weeks6);
	assert_int_equal(statements_listed(f->st, true, hold), 0);
	assert_int_equal(store_case_notice_hold(f->st, id, hold + weeks6,
	                                        &until), RG_OK);
	assert_int_equal(until, 0);
	assert_int_equal(statements_listed(f->st, false, hold + weeks6), 1);
}

/* ---- a referrer with many cases -------------------------------------- */

#define MANY 250

struct feed_rec {
	int n;
	int64_t seq[MANY + 8];
	char alias[MANY + 8][RG_ID_MAX + 1];
	enum case_status status[MANY + 8];
};

static int feed_rec_cb(void *ctx, const struct store_change *c)
{
	struct feed_rec *r = ctx;
	assert_true(r->n < MANY + 8);
	r->seq[r->n] = c->seq;
	strcpy(r->alias[r->n], c->case_id);
	r->status[r->n++] = c->status;
	return 0;
}

static int ref_ids_cb(void *ctx, const struct store_referral *r)
{
	struct feed_rec *rec = ctx;
	assert_true(rec->n < MANY + 8);
	strcpy(rec->alias[rec->n++], r->id);
	return 0;
}

/*
 * A partner's own feed and case reads over many cases: the feed read
 * without a cursor is its first page (entries 1, 2, 3... in the order
 * its cases opened), paging on with each page's cursor hands out every
 * entry once, in order, and only its own (another partner joining one of
 * its cases adds nothing; a decision adds an entry at the end); the
 * referrals shown under one of its case ids are its own into that case,
 * oldest first, never another's.
 */
static void test_referrer_many_cases(void **state)
{
	struct fx *f = *state;
	struct store_referral_out out;
	static char alias[MANY][RG_ID_MAX + 1];
	static struct feed_rec page, all, refs;
	char jti[40], spec[40], rid[RG_ID_MAX + 1], first_ref[RG_ID_MAX + 1];
	int64_t last;

	for (int i = 0; i < MANY; i++) {
		snprintf(jti, sizeof jti, "many-jti-%04d-xxxxxxxx", i);
		snprintf(spec, sizeof spec, "h:many%d", i);
		struct sub s = { "pave", jti, .at = T0 + i, .subjects = { spec } };
		assert_int_equal(submit(f->st, &s, &out, i == 7 ? first_ref : NULL),
		                 RG_OK);
		strcpy(alias[i], out.cases[0].case_id);
	}
	/* another partner joins case 7 and opens one of its own */
	struct sub other = { "isd", "many-isd-join-xxxxxxxx", .at = T0 + 1000,
	                     .subjects = { "h:many7" } };
	struct sub other2 = { "isd", "many-isd-own-xxxxxxxxx", .at = T0 + 1001,
	                      .subjects = { "h:elsewhere" } };
	assert_int_equal(submit(f->st, &other, &out, NULL), RG_OK);
	assert_int_equal(submit(f->st, &other2, &out, NULL), RG_OK);
	/* a decision on case 3 */
	close_actioned(f->st, alias[3], T0 + 2000);

	/* no cursor: the first page, 1..100 */
	assert_int_equal(store_referrer_changes(f->st, "pave", 0, 100,
	                                        feed_rec_cb, &page, &last), RG_OK);
	assert_int_equal(page.n, 100);
	assert_int_equal(last, 100);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(page.seq[i], i + 1);
		assert_string_equal(page.alias[i], alias[i]);
		assert_int_equal(page.status[i], CASE_RECEIVED);
	}
	/* paging on from each cursor: every entry once, in order */
	int64_t since = 0;
	for (int pages = 0; pages < 10; pages++) {
		int before = all.n;
		assert_int_equal(store_referrer_changes(f->st, "pave", since, 100,
		                                        feed_rec_cb, &all, &last),
		                 RG_OK);
		if (all.n == before) {
			assert_int_equal(last, since);    /* an empty page stays */
			break;
		}
		assert_int_equal(last, all.seq[all.n - 1]);
		since = last;
	}
	/* its cases opened, then the decision's two moves as it sees them
	 * (in_review is shown to referrers as received, but is an entry) */
	assert_true(all.n >= MANY + 1);
	for (int i = 0; i < all.n; i++)
		assert_int_equal(all.seq[i], i + 1);
	for (int i = 0; i < MANY; i++)
		assert_string_equal(all.alias[i], alias[i]);
	for (int i = MANY; i < all.n; i++)
		assert_string_equal(all.alias[i], alias[3]);
	assert_int_equal(all.status[all.n - 1], CASE_ACTIONED);

	/* the referrals under its id for case 7: its own only */
	assert_int_equal(store_referrer_referrals_each(f->st, "pave", alias[7],
	                                               ref_ids_cb, &refs), RG_OK);
	assert_int_equal(refs.n, 1);
	assert_string_equal(refs.alias[0], first_ref);
	/* a second referral of its own into case 7: both, oldest first */
	struct sub again = { "pave", "many-again-xxxxxxxxxxxx", .at = T0 + 3000,
	                     .subjects = { "h:many7" } };
	assert_int_equal(submit(f->st, &again, &out, rid), RG_OK);
	assert_string_equal(out.cases[0].case_id, alias[7]);
	refs.n = 0;
	assert_int_equal(store_referrer_referrals_each(f->st, "pave", alias[7],
	                                               ref_ids_cb, &refs), RG_OK);
	assert_int_equal(refs.n, 2);
	assert_string_equal(refs.alias[0], first_ref);
	assert_string_equal(refs.alias[1], rid);
	/* another principal's id for its own case shows pave nothing */
	refs.n = 0;
	assert_int_equal(store_referrer_referrals_each(f->st, "isd", alias[7],
	                                               ref_ids_cb, &refs), RG_OK);
	assert_int_equal(refs.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_open_reopen),
		T(test_principals),
		T(test_submit_new_case),
		T(test_submit_invalid),
		T(test_log),
		T(test_max_subjects),
		T(test_join_second_identifier),
		T(test_link_in_one_subject),
		T(test_merge),
		T(test_merge_rules),
		T(test_reopen_no_action),
		T(test_actioned_unchanged),
		T(test_replay),
		T(test_jti_conflict),
		T(test_decisions),
		T(test_claims),
		T(test_changes),
		T(test_merge_open_wins),
		T(test_changes_since_join),
		T(test_changes_cursor),
		T(test_changes_paths_agree),
		T(test_review_queue),
		T(test_review_queue_fair),
		T(test_same_account_one_case),
		T(test_quota),
		T(test_audit_chain),
		T(test_nested_reads),
		T(test_dedup_scenarios),
		T(test_concurrent_submits),
		T(test_hammer),
		T(test_removal_order),
		T(test_referrer_many_cases),
	};
	/* A SQLite file's own limits (max_page_count): PostgreSQL has no
	 * per-database size cap to test the same way. */
	const struct CMUnitTest sqlite_tests[] = {
		T(test_open_too_small),
		T(test_storage_full),
		T(test_full_batch_isolated),
#undef T
	};
	if (sodium_init() < 0)
		return 1;
	int failed = cmocka_run_group_tests_name(
		dbfix_pg() ? "store on postgresql" : "store on sqlite", tests,
		NULL, NULL);
	if (!dbfix_pg())
		failed += cmocka_run_group_tests_name("store, sqlite only",
		                                      sqlite_tests, NULL, NULL);
	return failed;
}
