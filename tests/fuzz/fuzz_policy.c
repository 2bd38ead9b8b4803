/*
 * fuzz_policy.c - libFuzzer target for server/policy.c: policy_parse of
 * the input and, for a policy that parses, policy_filter_case (and
 * policy_filter_referral) of fixed full views for every audience, with a
 * caller and without.
 * Oracles (deny by default, policy.h): after filtering, every member left
 * is granted; every granted member of the full view is still there; the
 * "referrals" of a case are kept whole when granted, else reduced to the
 * caller's own entries and own_referrals fields, else removed.
 */
#include "fuzz.h"

#include <string.h>

#include <jansson.h>

#include "../../server/policy.h"

#define CALLER "pave"

/* Every field a case view can carry; two of the three referrals are the
 * caller's. */
static const char full_case_json[] =
	"{\"case_id\":\"c_1\",\"status\":\"in_review\",\"action\":null,"
	"\"opened_at\":\"2026-11-28T14:03:11Z\","
	"\"updated_at\":\"2026-11-28T14:03:11Z\",\"decided_at\":null,"
	"\"deadline_at\":\"2026-11-28T15:03:11Z\",\"urgency\":\"urgent\","
	"\"reopen_count\":0,\"referral_count\":3,\"principal_count\":2,"
	"\"account_id\":\"123\",\"handle\":\"foo\","
	"\"identifiers\":[{\"handle\":\"foo\"},{\"account_id\":\"123\"}],"
	"\"referrals\":["
	 "{\"referral_id\":\"r_1\",\"partner_ref\":\"P-1\","
	  "\"received_at\":\"2026-11-28T14:03:11Z\",\"category\":\"hate_speech\","
	  "\"urgency\":\"urgent\",\"principal\":\"" CALLER "\","
	  "\"subjects\":[{\"handle\":\"@foo\"}],\"evidence\":[],"
	  "\"summary\":\"s\",\"cases\":[\"c_1\"]},"
	 "{\"referral_id\":\"r_2\",\"partner_ref\":\"P-2\","
	  "\"received_at\":\"2026-11-28T14:04:11Z\",\"category\":\"other_illegal\","
	  "\"urgency\":\"routine\",\"principal\":\"bka\","
	  "\"subjects\":[{\"account_id\":\"123\"}],\"evidence\":[],"
	  "\"summary\":\"t\",\"cases\":[\"c_1\"]},"
	 "{\"referral_id\":\"r_3\",\"principal\":\"" CALLER "\","
	  "\"received_at\":\"2026-11-28T14:05:11Z\"}"
	"],"
	"\"decisions\":[{\"status\":\"in_review\",\"at\":\"2026-11-28T14:10:00Z\"}],"
	"\"new_case\":true}";

static const char full_referral_json[] =
	"{\"referral_id\":\"r_1\",\"partner_ref\":\"P-1\","
	"\"received_at\":\"2026-11-28T14:03:11Z\",\"category\":\"hate_speech\","
	"\"urgency\":\"urgent\",\"principal\":\"" CALLER "\","
	"\"subjects\":[{\"handle\":\"@foo\"}],"
	"\"evidence\":[{\"url\":\"https://cdn.example/a.png\",\"sha256\":\"00\"}],"
	"\"summary\":\"s\",\"cases\":["
	 "{\"subject\":0,\"case_id\":\"c_1\",\"status\":\"received\","
	  "\"account_id\":\"123\",\"handle\":\"foo\",\"new_case\":true,"
	  "\"opened_at\":\"2026-11-28T14:03:11Z\",\"urgency\":\"urgent\"}]}";

static json_t *full_case, *full_referral;
static size_t caller_refs;       /* referrals of CALLER in full_case */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_error_t e;
	(void)argc;
	(void)argv;
	json_object_seed(1);     /* jansson's hash seed: deterministic runs */
	full_case = json_loads(full_case_json, 0, &e);
	full_referral = json_loads(full_referral_json, 0, &e);
	FUZZ_CHECK(full_case != NULL && full_referral != NULL);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(full_case, "referrals"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "principal")),
			   CALLER) == 0)
			caller_refs++;
	return 0;
}

/* Whether the audience has any own_referrals field. */
static bool has_own(const struct policy *p, enum audience aud)
{
	json_t *any = json_array_get(json_object_get(full_case, "referrals"), 0);
	const char *k;
	json_t *v;
	json_object_foreach(any, k, v)
		if (policy_grants(p, aud, "own_referrals", k))
			return true;
	return false;
}

static void check_case(const struct policy *p, enum audience aud,
		       const char *caller)
{
	json_t *view = json_deep_copy(full_case);
	FUZZ_CHECK(view != NULL);
	policy_filter_case(p, aud, caller, view);

	const char *k;
	json_t *v;
	/* nothing left that is not granted ... */
	json_object_foreach(view, k, v) {
		if (strcmp(k, "referrals") == 0)
			continue;
		FUZZ_CHECK(policy_grants(p, aud, "case", k));
		FUZZ_CHECK(json_equal(v, json_object_get(full_case, k)));
	}
	/* ... and nothing granted missing */
	json_object_foreach(full_case, k, v) {
		if (strcmp(k, "referrals") != 0 && policy_grants(p, aud, "case", k))
			FUZZ_CHECK(json_object_get(view, k) != NULL);
	}

	json_t *refs = json_object_get(view, "referrals");
	if (policy_grants(p, aud, "case", "referrals")) {
		FUZZ_CHECK(json_equal(refs, json_object_get(full_case, "referrals")));
	} else if (caller && has_own(p, aud)) {
		FUZZ_CHECK(json_is_array(refs));
		FUZZ_CHECK(json_array_size(refs) == caller_refs);
		size_t i;
		json_t *r;
		json_array_foreach(refs, i, r) {
			json_object_foreach(r, k, v)
				FUZZ_CHECK(policy_grants(p, aud, "own_referrals", k));
		}
	} else {
		FUZZ_CHECK(refs == NULL);
	}
	json_decref(view);
}

static void check_referral(const struct policy *p, enum audience aud,
			   const char *caller)
{
	json_t *view = json_deep_copy(full_referral);
	FUZZ_CHECK(view != NULL);
	policy_filter_referral(p, aud, caller, view);

	const char *k;
	json_t *v;
	json_object_foreach(view, k, v)
		FUZZ_CHECK(policy_grants(p, aud, "referral", k));
	json_object_foreach(full_referral, k, v)
		if (policy_grants(p, aud, "referral", k) &&
		    strcmp(k, "cases") != 0)
			FUZZ_CHECK(json_equal(json_object_get(view, k), v));
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(view, "cases"), i, c) {
		FUZZ_CHECK(json_object_get(c, "subject") != NULL);
		json_object_foreach(c, k, v)
			FUZZ_CHECK(strcmp(k, "subject") == 0 ||
				   policy_grants(p, aud, "case", k));
	}
	json_decref(view);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *err = malloc(200);
	FUZZ_CHECK(err != NULL);
	err[0] = '\0';
	struct policy *p = policy_parse((const char *)data, size, err, 200);
	if (!p) {
		FUZZ_CHECK(FUZZ_TERMINATED_N(err, 200) && err[0] != '\0');
		free(err);
		return 0;
	}
	for (int a = 0; a < AUD_COUNT; a++) {
		enum audience aud = (enum audience)a;
		FUZZ_CHECK(!policy_grants(p, aud, "nosuchkind", "case_id"));
		check_case(p, aud, CALLER);
		check_case(p, aud, NULL);
		check_referral(p, aud, CALLER);
	}
	FUZZ_CHECK(!policy_grants(p, AUD_COUNT, "case", "case_id"));
	FUZZ_CHECK(!policy_grants(NULL, AUD_REFERRER, "case", "case_id"));
	policy_free(p);
	free(err);
	return 0;
}
