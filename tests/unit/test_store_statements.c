/* test_store_statements.c - statements of reasons in the store
 * (server/store_statements.c): made with an actioned decision in its
 * transaction (a statement that cannot be made leaves no decision
 * either), none for other moves, the source from the first referral's
 * sender, the listing (cursor, pending) and the marking (once, audited,
 * refusals). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../../server/statements.h"
#include "../../server/store.h"

#define T0 1800000000

struct fx {
	char dir[64];
	char path[160];
	struct store *st;
};

static const uint8_t sealed_dummy[] = "sealed-bytes";

static void enrol(struct store *st, const char *name, enum rg_role role,
                  bool flagger)
{
	struct store_cert_in cert = { .pem = "PEM", .not_after = T0 + 86400 };
	struct store_key_in key = { { 0 }, { 0 } };
	char label[80];
	snprintf(label, sizeof label, "spki:%s", name);
	crypto_generichash(cert.spki_sha256, 32, (const uint8_t *)label,
	                   strlen(label), NULL, 0);
	snprintf(key.kid, sizeof key.kid, "kid-%s", name);
	size_t n_keys = role == ROLE_PARTNER || role == ROLE_AGENCY;
	assert_int_equal(store_principal_enrol_flagged(st, "legal1", name, role,
	                 flagger, &cert, 1, &key, n_keys, T0 - 1000), RG_OK);
}

static int receipt(void *ctx, const struct store_referral_out *o,
                   uint64_t index, char **payload, size_t *len)
{
	(void)ctx;
	(void)index;
	*payload = strdup(o->id);
	*len = strlen(o->id);
	return *payload ? RG_OK : RG_ENOMEM;
}

/* A referral of one account (handle `handle`) by `who`; the case id. */
static void refer(struct store *st, const char *who, const char *handle,
                  enum referral_category cat, int64_t at, char *case_id)
{
	static int n;
	struct store_subject s = { .n_idents = 1 };
	s.idents[0].kind = 'h';
	crypto_generichash(s.idents[0].hash, 32, (const uint8_t *)handle,
	                   strlen(handle), NULL, 0);
	s.idents[0].sealed = sealed_dummy;
	s.idents[0].sealed_len = sizeof sealed_dummy;
	char jti[40];
	snprintf(jti, sizeof jti, "jti-statement-%04d", ++n);
	struct store_referral_in in = {
		.principal = who, .jti = jti, .received_at = at, .category = cat,
		.sealed = sealed_dummy, .sealed_len = sizeof sealed_dummy,
		.n_subjects = 1, .subjects = &s, .receipt = receipt,
	};
	crypto_generichash(in.jws_sha256, 32, (const uint8_t *)jti,
	                   strlen(jti), NULL, 0);
	snprintf(in.id, sizeof in.id, "r_st%d", n);
	struct store_referral_out out;
	assert_int_equal(store_referral_submit(st, &in, &out), RG_OK);
	struct store_case c;
	assert_int_equal(store_case_get(st, out.cases[0].case_id, &c), RG_OK);
	strcpy(case_id, c.id);
	store_referral_out_clear(&out);
}

static int decide(struct store *st, const char *id, enum case_status s,
                  enum case_action a, const struct statement_defaults *def)
{
	struct store_decision d = {
		.status = s, .action = a, .reviewer = "rev", .at = T0 + 100,
		.ground = s == CASE_IN_REVIEW ? NULL : "illegal_content",
		.explanation = s == CASE_IN_REVIEW ? NULL : "facts",
		.statement_defaults = def,
	};
	struct store_case after;
	return store_case_decide(st, id, &d, &after);
}

struct list {
	size_t n;
	char puid[8][64];
	char body[8][2048];
	int64_t exported_at[8];
};

static int list_cb(void *ctx, const struct store_statement *s)
{
	struct list *l = ctx;
	if (l->n < 8) {
		snprintf(l->puid[l->n], 64, "%s", s->puid);
		snprintf(l->body[l->n], 2048, "%s", s->body);
		l->exported_at[l->n] = s->exported_at;
	}
	l->n++;
	return 0;
}

static struct list listing(struct store *st, int64_t since, size_t limit,
                           bool pending, int64_t *last)
{
	struct list l = {0};
	int64_t tmp;
	assert_int_equal(store_statements_each(st, since, limit, pending, 0,
	                                       list_cb, &l, last ? last : &tmp),
	                 RG_OK);
	return l;
}

static int count_d(void *ctx, const struct store_decision *d)
{
	(void)d;
	(*(int *)ctx)++;
	return 0;
}

static int n_decisions(struct store *st, const char *id)
{
	int n = 0;
	assert_int_equal(store_case_decisions_each(st, id, count_d, &n), RG_OK);
	return n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/rg_stmt_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/refgate.db", f->dir);
	assert_int_equal(store_open(f->path, NULL, &f->st), RG_OK);
	enrol(f->st, "pave", ROLE_PARTNER, false);
	enrol(f->st, "tf", ROLE_PARTNER, true);
	enrol(f->st, "nca", ROLE_AGENCY, false);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[200];
	store_free(f->st);
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	int rc = rmdir(f->dir);
	free(f);
	return rc;
}

static void test_flagger_enrolment(void **state)
{
	struct fx *f = *state;
	struct store_cert_in cert = { .pem = "PEM", .not_after = T0 + 86400 };
	crypto_generichash(cert.spki_sha256, 32, (const uint8_t *)"x", 1, NULL, 0);
	assert_int_equal(store_principal_enrol_flagged(f->st, "legal1", "revx",
	                 ROLE_REVIEWER, true, &cert, 1, NULL, 0, T0), RG_EINVAL);
	assert_int_equal(store_principal_enrol_flagged(f->st, "legal1", "agx",
	                 ROLE_AGENCY, true, &cert, 1, NULL, 0, T0), RG_EINVAL);
}

static void test_made_with_decision(void **state)
{
	struct fx *f = *state;
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1], c[RG_ID_MAX + 1];
	refer(f->st, "pave", "h:one", CAT_HATE_SPEECH, T0, a);
	refer(f->st, "tf", "h:two", CAT_TERRORIST_CONTENT, T0 + 1, b);
	refer(f->st, "nca", "h:three", CAT_OTHER_ILLEGAL, T0 + 2, c);
	/* a later referral of another sender does not change the source */
	char a2[RG_ID_MAX + 1];
	refer(f->st, "tf", "h:one", CAT_TERRORIST_CONTENT, T0 + 3, a2);
	assert_string_equal(a, a2);

	assert_int_equal(decide(f->st, a, CASE_IN_REVIEW, ACTION_NONE, NULL), RG_OK);
	assert_int_equal(listing(f->st, 0, 10, false, NULL).n, 0);

	/* a statement that cannot be made: no decision either */
	struct statement_defaults broken = statement_defaults_builtin;
	broken.n_scope = 0;
	assert_int_equal(decide(f->st, a, CASE_ACTIONED, ACTION_CONTENT_REMOVED,
	                        &broken), RG_EINVAL);
	struct store_case now;
	assert_int_equal(store_case_get(f->st, a, &now), RG_OK);
	assert_int_equal(now.status, CASE_IN_REVIEW);
	assert_int_equal(n_decisions(f->st, a), 1);
	assert_int_equal(listing(f->st, 0, 10, false, NULL).n, 0);

	/* the same decision with a statement that can be made */
	assert_int_equal(decide(f->st, a, CASE_ACTIONED, ACTION_CONTENT_REMOVED,
	                        NULL), RG_OK);
	assert_int_equal(n_decisions(f->st, a), 2);
	struct list l = listing(f->st, 0, 10, false, NULL);
	assert_int_equal(l.n, 1);
	assert_int_equal(strncmp(l.puid[0], a, strlen(a)), 0);
	assert_int_equal(l.puid[0][strlen(a)], '-');
	assert_non_null(strstr(l.body[0], "\"source_type\":\"SOURCE_ARTICLE_16\""));
	assert_non_null(strstr(l.body[0], "KEYWORD_HATE_SPEECH"));
	assert_null(strstr(l.body[0], "pave"));
	assert_int_equal(l.exported_at[0], 0);

	/* no_action: none */
	assert_int_equal(decide(f->st, c, CASE_IN_REVIEW, ACTION_NONE, NULL), RG_OK);
	assert_int_equal(decide(f->st, c, CASE_NO_ACTION, ACTION_NONE, NULL), RG_OK);
	assert_int_equal(listing(f->st, 0, 10, false, NULL).n, 1);

	assert_int_equal(decide(f->st, b, CASE_IN_REVIEW, ACTION_NONE, NULL), RG_OK);
	assert_int_equal(decide(f->st, b, CASE_ACTIONED, ACTION_ACCOUNT_SUSPENDED,
	                        NULL), RG_OK);
	l = listing(f->st, 0, 10, false, NULL);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(l.body[1], "\"source_type\":\"SOURCE_TRUSTED_FLAGGER\""));
	assert_non_null(strstr(l.body[1], "DECISION_ACCOUNT_SUSPENDED"));

	/* cursor and pending */
	int64_t last;
	l = listing(f->st, 0, 1, false, &last);
	assert_int_equal(l.n, 1);
	assert_int_equal(last, 1);
	l = listing(f->st, last, 10, false, &last);
	assert_int_equal(l.n, 1);
	assert_int_equal(last, 2);
	l = listing(f->st, last, 10, false, &last);
	assert_int_equal(l.n, 0);
	assert_int_equal(last, 2);

	/* marking: once, unknown puids skipped, audited */
	char pa[64], pb[64];
	l = listing(f->st, 0, 10, false, NULL);
	strcpy(pa, l.puid[0]);
	strcpy(pb, l.puid[1]);
	const char *one[] = { pa, "c_unknown-1" };
	size_t marked = 99;
	assert_int_equal(store_statements_mark(f->st, "legal1", one, 2, T0 + 200,
	                                       &marked), RG_OK);
	assert_int_equal(marked, 1);
	assert_int_equal(store_statements_mark(f->st, "legal1", one, 1, T0 + 300,
	                                       &marked), RG_OK);
	assert_int_equal(marked, 0);
	l = listing(f->st, 0, 10, true, NULL);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.puid[0], pb);
	l = listing(f->st, 0, 10, false, NULL);
	assert_int_equal(l.exported_at[0], T0 + 200);   /* the first marking */

	/* refusals */
	const char *bad[] = { "bad puid" };
	assert_int_equal(store_statements_mark(f->st, "legal1", bad, 1, T0,
	                                       &marked), RG_EINVAL);
	assert_int_equal(store_statements_mark(f->st, "legal1", one, 0, T0,
	                                       &marked), RG_EINVAL);
	assert_int_equal(store_statements_mark(f->st, "legal1", one,
	                                       STATEMENTS_MARK_MAX + 1, T0,
	                                       &marked), RG_EINVAL);
	assert_int_equal(store_statements_mark(f->st, "", one, 1, T0, &marked),
	                 RG_EINVAL);
	struct list dummy;
	int64_t tmp;
	assert_int_equal(store_statements_each(f->st, -1, 10, false, 0, list_cb,
	                                       &dummy, &tmp), RG_EINVAL);
	assert_int_equal(store_statements_each(f->st, 0, 0, false, 0, list_cb,
	                                       &dummy, &tmp), RG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flagger_enrolment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_made_with_decision, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
