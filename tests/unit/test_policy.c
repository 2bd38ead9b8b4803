/* test_policy.c - the disclosure policy: parsing and its refusals, and the
 * filter (deny by default, "*", own referrals, referral views). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../server/policy.h"

static const char default_policy[] =
	"{\"version\":1,\"audiences\":{"
	"\"referrer\":{\"case\":[\"case_id\",\"status\",\"action\",\"opened_at\","
	"\"updated_at\",\"decided_at\",\"deadline_at\"],"
	"\"referral\":[\"referral_id\",\"partner_ref\",\"received_at\",\"cases\"],"
	"\"own_referrals\":[\"referral_id\",\"partner_ref\"]},"
	"\"status_key\":{\"case\":[\"case_id\",\"status\"]},"
	"\"reviewer\":{\"case\":[\"*\"],\"referral\":[\"*\"]},"
	"\"legal\":{\"case\":[],\"referral\":[]}}}";

static const char full_case[] =
	"{\"case_id\":\"c_1\",\"status\":\"received\",\"opened_at\":\"t\","
	"\"updated_at\":\"t\",\"urgency\":\"urgent\",\"referral_count\":2,"
	"\"account_id\":\"42\",\"handle\":\"h\",\"identifiers\":[],"
	"\"referrals\":[{\"referral_id\":\"r_a\",\"principal\":\"pave\","
	"\"partner_ref\":\"P1\",\"summary\":\"s\"},{\"referral_id\":\"r_b\","
	"\"principal\":\"isd\",\"summary\":\"s2\"}],\"decisions\":[]}";

static struct policy *parse(const char *text, char *err)
{
	return policy_parse(text, strlen(text), err, 256);
}

static void test_parse_default(void **state)
{
	char err[256];
	(void)state;
	struct policy *p = parse(default_policy, err);
	assert_non_null(p);
	assert_true(policy_grants(p, AUD_REFERRER, "case", "status"));
	assert_false(policy_grants(p, AUD_REFERRER, "case", "handle"));
	assert_false(policy_grants(p, AUD_REFERRER, "case", "new_case"));
	assert_true(policy_grants(p, AUD_REVIEWER, "case", "handle"));
	assert_false(policy_grants(p, AUD_LEGAL, "case", "status"));
	assert_false(policy_grants(p, AUD_DISCLOSURE_KEY, "case", "case_id"));
	assert_false(policy_grants(p, AUD_REFERRER, "nokind", "status"));
	policy_free(p);
}

static void test_parse_refusals(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"version\":2,\"audiences\":{}}",
		"{\"version\":1}",
		"{\"version\":1,\"audiences\":{},\"x\":1}",
		"{\"version\":1,\"audiences\":{\"nobody\":{}}}",
		"{\"version\":1,\"audiences\":{\"legal\":{\"cases\":[]}}}",
		"{\"version\":1,\"audiences\":{\"legal\":{\"case\":\"status\"}}}",
		"{\"version\":1,\"audiences\":{\"legal\":{\"case\":[1]}}}",
		"{\"version\":1,\"audiences\":{\"legal\":{\"case\":[\"sttus\"]}}}",
		"{\"version\":1,\"audiences\":{\"legal\":{\"case\":[],\"case\":[]}}}",
		"{\"version\":1,\"audiences\":{\"legal\":[]}}",
	};
	char err[256];
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_null(parse(bad[i], err));
		assert_true(strlen(err) > 0);
	}
	assert_null(parse("{\"version\":1,\"audiences\":{\"legal\":{\"case\":[\"sttus\"]}}}", err));
	assert_non_null(strstr(err, "/audiences/legal/case/0"));
}

/* The contract's ceiling: no file can grant these to partners/agencies. */
static void test_ceiling(void **state)
{
	static const char *const bad[] = {
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"referrals\"]}}}",
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"decisions\"]}}}",
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"principal_count\"]}}}",
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"*\"]}}}",
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"handle\"]}}}",
		"{\"version\":1,\"audiences\":{\"status_key\":{\"case\":[\"account_id\"]}}}",
		"{\"version\":1,\"audiences\":{\"status_key\":{\"case\":[\"referrals\"]}}}",
		"{\"version\":1,\"audiences\":{\"disclosure_key\":{\"case\":[\"decisions\"]}}}",
		/* what would tell a referrer that others referred (section 4) */
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"referral_count\"]}}}",
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"reopen_count\"]}}}",
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"urgency\"]}}}",
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"new_case\"]}}}",
		"{\"version\":1,\"audiences\":{\"status_key\":{\"case\":[\"referral_count\"]}}}",
	};
	static const char *const good[] = {
		"{\"version\":1,\"audiences\":{\"referrer\":{\"case\":[\"case_id\",\"status\"],\"own_referrals\":[\"*\"]}}}",
		"{\"version\":1,\"audiences\":{\"disclosure_key\":{\"case\":[\"handle\",\"identifiers\"]}}}",
		"{\"version\":1,\"audiences\":{\"reviewer\":{\"case\":[\"*\"]},\"legal\":{\"case\":[\"decisions\"]}}}",
	};
	char err[256];
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_null(parse(bad[i], err));
		assert_non_null(strstr(err, "/case/0"));
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct policy *p = parse(good[i], err);
		assert_non_null(p);
		policy_free(p);
	}
}

static void test_filter_case(void **state)
{
	char err[256];
	(void)state;
	struct policy *p = parse(default_policy, err);
	json_t *v = json_loads(full_case, 0, NULL);
	policy_filter_case(p, AUD_REFERRER, "pave", v);
	assert_non_null(json_object_get(v, "status"));
	assert_null(json_object_get(v, "handle"));
	assert_null(json_object_get(v, "account_id"));
	assert_null(json_object_get(v, "urgency"));
	assert_null(json_object_get(v, "referral_count"));
	assert_null(json_object_get(v, "decisions"));
	json_t *refs = json_object_get(v, "referrals");
	assert_int_equal(json_array_size(refs), 1);
	json_t *r = json_array_get(refs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "referral_id")), "r_a");
	assert_string_equal(json_string_value(json_object_get(r, "partner_ref")), "P1");
	assert_int_equal(json_object_size(r), 2);
	json_decref(v);

	v = json_loads(full_case, 0, NULL);
	policy_filter_case(p, AUD_REVIEWER, "rev", v);
	assert_int_equal(json_array_size(json_object_get(v, "referrals")), 2);
	assert_non_null(json_object_get(v, "handle"));
	json_decref(v);

	v = json_loads(full_case, 0, NULL);
	policy_filter_case(p, AUD_LEGAL, "legal", v);
	assert_int_equal(json_object_size(v), 0);
	json_decref(v);

	/* an audience the file does not name sees nothing */
	v = json_loads(full_case, 0, NULL);
	policy_filter_case(p, AUD_DISCLOSURE_KEY, "x", v);
	assert_int_equal(json_object_size(v), 0);
	json_decref(v);
	policy_free(p);
}

static void test_filter_referral(void **state)
{
	char err[256];
	(void)state;
	struct policy *p = parse(default_policy, err);
	json_t *v = json_loads("{\"referral_id\":\"r\",\"principal\":\"pave\","
			       "\"category\":\"hate_speech\",\"cases\":[{\"subject\":0,"
			       "\"case_id\":\"c\",\"status\":\"received\",\"urgency\":\"x\"}]}",
			       0, NULL);
	policy_filter_referral(p, AUD_REFERRER, "pave", v);
	assert_null(json_object_get(v, "principal"));
	assert_null(json_object_get(v, "category"));
	json_t *c = json_array_get(json_object_get(v, "cases"), 0);
	assert_non_null(json_object_get(c, "subject"));
	assert_non_null(json_object_get(c, "status"));
	assert_null(json_object_get(c, "urgency"));
	json_decref(v);
	policy_free(p);
}

static void test_holder_swap(void **state)
{
	char err[256];
	struct policy_holder h;
	(void)state;
	assert_int_equal(policy_holder_init(&h, parse(default_policy, err)), 0);
	const struct policy *cur = policy_acquire(&h);
	assert_true(policy_grants(cur, AUD_REFERRER, "case", "status"));
	policy_release(&h);
	policy_swap(&h, parse("{\"version\":1,\"audiences\":{}}", err));
	cur = policy_acquire(&h);
	assert_false(policy_grants(cur, AUD_REFERRER, "case", "status"));
	policy_release(&h);
	policy_holder_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_default),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_ceiling),
		cmocka_unit_test(test_filter_case),
		cmocka_unit_test(test_filter_referral),
		cmocka_unit_test(test_holder_swap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
