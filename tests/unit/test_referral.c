/*
 * test_referral.c - unit tests for proto/referral.c: every payload rule of
 * contract section 2 with its empty, maximal, one-over and wrong-type case
 * next to a valid full payload, plus malformed JSON and error pointers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/referral.h"

static const char full_payload[] =
	"{"
	"\"jti\":\"0123456789abcdef_-XY\","
	"\"iat\":1795874591,"
	"\"partner_ref\":\"PAVE-2026/0042 \xc3\xa9\","
	"\"category\":\"terrorist_content\","
	"\"urgency\":\"imminent_harm\","
	"\"subjects\":["
	  "{\"account_id\":\"00123\",\"handle\":\"@Foo_1\","
	   "\"url\":\"https://x.com/Foo_1/status/99\"},"
	  "{\"handle\":\"bar\"},"
	  "{\"url\":\"https://twitter.com/i/user/42\"}"
	"],"
	"\"evidence\":["
	  "{\"url\":\"https://cdn.example/a.png\","
	   "\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
	   "\"media_type\":\"image/png\",\"captured_at\":\"2026-11-28T14:03:11Z\"},"
	  "{\"url\":\"http://example.org/\","
	   "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
	   "\"captured_at\":1700000000}"
	"],"
	"\"summary\":\"line one\\nline\\ttwo\","
	"\"removal_order\":{\"reference\":\"BKA-2026-1\","
	  "\"issued_at\":\"2026-11-28T14:00:00+01:00\","
	  "\"legal_basis\":\"Regulation (EU) 2021/784 Art. 3\"}"
	"}";

/* --- helpers --- */

/* Parses text as JSON (any value); fails the test when it does not. */
static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	assert_non_null(v);
	return v;
}

/* A JSON string holding s. */
static json_t *S(const char *s)
{
	json_t *v = json_string(s);
	assert_non_null(v);
	return v;
}

/* A JSON string of n copies of unit, with prefix in front. */
static json_t *REP(const char *prefix, const char *unit, size_t n)
{
	size_t pl = strlen(prefix), ul = strlen(unit);
	char *buf = malloc(pl + ul * n + 1);
	assert_non_null(buf);
	memcpy(buf, prefix, pl);
	for (size_t i = 0; i < n; i++)
		memcpy(buf + pl + i * ul, unit, ul);
	buf[pl + ul * n] = '\0';
	json_t *v = S(buf);
	free(buf);
	return v;
}

/*
 * Replaces (or deletes, value NULL) the member at ptr ("/a/0/b", no
 * escapes) of root; an array index equal to the size appends. Steals
 * value.
 */
static void mutate(json_t *root, const char *ptr, json_t *value)
{
	char path[256];
	snprintf(path, sizeof path, "%s", ptr);
	json_t *cur = root;
	char *seg = path + 1;
	for (;;) {
		char *slash = strchr(seg, '/');
		if (slash)
			*slash = '\0';
		if (json_is_array(cur)) {
			size_t i = strtoul(seg, NULL, 10);
			if (!slash) {
				if (!value)
					assert_int_equal(json_array_remove(cur, i), 0);
				else if (i == json_array_size(cur))
					assert_int_equal(json_array_append_new(cur, value), 0);
				else
					assert_int_equal(json_array_set_new(cur, i, value), 0);
				return;
			}
			cur = json_array_get(cur, i);
		} else {
			assert_true(json_is_object(cur));
			if (!slash) {
				if (!value)
					json_object_del(cur, seg);
				else
					assert_int_equal(json_object_set_new(cur, seg, value), 0);
				return;
			}
			cur = json_object_get(cur, seg);
		}
		assert_non_null(cur);
		seg = slash + 1;
	}
}

static struct problem_items errs;

/* Parses the bytes; returns the result code, *out on success. */
static int parse_bytes(const char *bytes, size_t len, enum rg_role role,
		       struct referral **out)
{
	memset(&errs, 0, sizeof errs);
	*out = NULL;
	return referral_parse((const uint8_t *)bytes, len, role, out, &errs);
}

/* Serialises root and parses it; frees root. */
static int parse_json(json_t *root, enum rg_role role, struct referral **out)
{
	char *text = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(text);
	json_decref(root);
	int rc = parse_bytes(text, strlen(text), role, out);
	free(text);
	return rc;
}

/* Asserts that the last parse failed with exactly this one error. */
static void assert_one_error(int rc, struct referral *r, const char *ptr,
			     const char *reason)
{
	if (rc != RG_EINVAL || errs.n != 1 || strcmp(errs.item[0].pointer, ptr) ||
	    strcmp(errs.item[0].reason, reason)) {
		print_error("want 1 error %s: %s; got rc %d, %zu errors\n", ptr,
			    reason, rc, errs.n);
		for (size_t i = 0; i < errs.n; i++)
			print_error("  %s: %s\n", errs.item[i].pointer,
				    errs.item[i].reason);
	}
	assert_int_equal(rc, RG_EINVAL);
	assert_null(r);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.item[0].pointer, ptr);
	assert_string_equal(errs.item[0].reason, reason);
}

/* True when the last parse reported ptr with reason. */
static bool has_error(const char *ptr, const char *reason)
{
	for (size_t i = 0; i < errs.n; i++)
		if (!strcmp(errs.item[i].pointer, ptr) &&
		    !strcmp(errs.item[i].reason, reason))
			return true;
	return false;
}

/*
 * The full payload with the member at ptr replaced by value (deleted
 * when NULL), parsed as role. reason NULL: must parse; else exactly one
 * error, at err_ptr with reason.
 */
static void check(const char *ptr, json_t *value, enum rg_role role,
		  const char *err_ptr, const char *reason)
{
	struct referral *r;
	json_t *root = J(full_payload);
	mutate(root, ptr, value);
	int rc = parse_json(root, role, &r);
	if (!reason) {
		for (size_t i = 0; i < errs.n; i++)
			print_error("unexpected %s: %s\n", errs.item[i].pointer,
				    errs.item[i].reason);
		assert_int_equal(rc, RG_OK);
		assert_non_null(r);
		assert_int_equal(errs.n, 0);
		referral_free(r);
		return;
	}
	assert_one_error(rc, r, err_ptr, reason);
}

#define GOOD(ptr, value) check(ptr, value, ROLE_AGENCY, NULL, NULL)
#define BAD(ptr, value, reason) check(ptr, value, ROLE_AGENCY, ptr, reason)

/* --- the valid payload --- */

static void test_full_payload(void **state)
{
	struct referral *r;
	int rc = parse_bytes(full_payload, strlen(full_payload), ROLE_AGENCY, &r);
	assert_int_equal(rc, RG_OK);
	assert_int_equal(errs.n, 0);
	assert_string_equal(r->jti, "0123456789abcdef_-XY");
	assert_int_equal(r->iat, 1795874591);
	assert_true(r->has_partner_ref);
	assert_string_equal(r->partner_ref, "PAVE-2026/0042 \xc3\xa9");
	assert_int_equal(r->category, CAT_TERRORIST_CONTENT);
	assert_int_equal(r->urgency, URG_IMMINENT_HARM);
	assert_int_equal(r->n_subjects, 3);
	assert_string_equal(r->subjects[0].account_id, "00123");
	assert_string_equal(r->subjects[0].handle, "@Foo_1");
	assert_string_equal(r->subjects[0].url, "https://x.com/Foo_1/status/99");
	assert_string_equal(r->subjects[1].account_id, "");
	assert_string_equal(r->subjects[1].handle, "bar");
	assert_string_equal(r->subjects[1].url, "");
	assert_string_equal(r->subjects[2].url, "https://twitter.com/i/user/42");
	assert_int_equal(r->n_evidence, 2);
	assert_string_equal(r->evidence[0].media_type, "image/png");
	assert_int_equal(r->evidence[0].captured_at, 1795874591);
	assert_string_equal(r->evidence[1].url, "http://example.org/");
	assert_string_equal(r->evidence[1].media_type, "");
	assert_int_equal(r->evidence[1].captured_at, 1700000000);
	assert_string_equal(r->summary, "line one\nline\ttwo");
	assert_true(r->has_removal_order);
	assert_string_equal(r->removal_order.reference, "BKA-2026-1");
	assert_int_equal(r->removal_order.issued_at, 1795870800);
	assert_string_equal(r->removal_order.legal_basis,
			    "Regulation (EU) 2021/784 Art. 3");
	referral_free(r);
}

static void test_minimal_payload(void **state)
{
	struct referral *r;
	const char *p = "{\"jti\":\"aaaaaaaaaaaaaaaa\",\"iat\":0,"
			"\"category\":\"other_illegal\",\"subjects\":[{\"handle\":\"x\"}]}";
	assert_int_equal(parse_bytes(p, strlen(p), ROLE_PARTNER, &r), RG_OK);
	assert_false(r->has_partner_ref);
	assert_int_equal(r->urgency, URG_ROUTINE);
	assert_int_equal(r->n_evidence, 0);
	assert_null(r->summary);
	assert_false(r->has_removal_order);
	assert_int_equal(r->category, CAT_OTHER_ILLEGAL);
	referral_free(r);
	referral_free(NULL);
}

static void test_names(void **state)
{
	assert_string_equal(referral_category_name(CAT_HATE_SPEECH), "hate_speech");
	assert_string_equal(referral_category_name(CAT_INCITEMENT_TO_VIOLENCE),
			    "incitement_to_violence");
	assert_string_equal(referral_urgency_name(URG_URGENT), "urgent");
	assert_string_equal(referral_urgency_name(URG_ROUTINE), "routine");
}

/* --- top-level members --- */

/* Ids: valid, the prefix, the window's shared characters, 22 random
 * ones. Ids of one window of RG_ID_CLUSTER_MS share their cluster
 * characters and nothing else; ids of different windows do not share
 * them (64 windows in a row give at least 60 distinct clusters: equal
 * ones by chance have odds of about 1 in 8,000 for one pair among them). */
static void test_ids(void **state)
{
	char a[RG_ID_MAX + 1], b[RG_ID_MAX + 1], clusters[64][RG_ID_CLUSTER_CHARS];
	const uint64_t t0 = (uint64_t)1796000000000 / RG_ID_CLUSTER_MS *
	                    RG_ID_CLUSTER_MS;
	rg_id_at("c_", t0, a);
	rg_id_at("c_", t0 + RG_ID_CLUSTER_MS - 1, b);
	assert_true(rg_id_valid(a) && rg_id_valid(b));
	assert_int_equal(strlen(a), 2 + RG_ID_CLUSTER_CHARS + 22);
	assert_memory_equal(a, "c_", 2);
	assert_memory_equal(a + 2, b + 2, RG_ID_CLUSTER_CHARS);
	assert_string_not_equal(a + 2 + RG_ID_CLUSTER_CHARS,
	                        b + 2 + RG_ID_CLUSTER_CHARS);
	size_t distinct = 0;
	for (int w = 0; w < 64; w++) {
		rg_id_at("r_", t0 + (uint64_t)w * RG_ID_CLUSTER_MS, a);
		memcpy(clusters[w], a + 2, RG_ID_CLUSTER_CHARS);
		bool seen = false;
		for (int k = 0; k < w && !seen; k++)
			seen = memcmp(clusters[k], clusters[w],
			              RG_ID_CLUSTER_CHARS) == 0;
		distinct += !seen;
	}
	assert_true(distinct >= 60);
	/* now: the same shape; a prefix longer than 8 characters is cut */
	rg_id_new("r_", a);
	assert_true(rg_id_valid(a));
	assert_int_equal(strlen(a), 2 + RG_ID_CLUSTER_CHARS + 22);
	rg_id_new("0123456789abcdef", b);
	assert_int_equal(strlen(b), 8 + RG_ID_CLUSTER_CHARS + 22);
	assert_memory_equal(b, "01234567", 8);
}

static void test_jti(void **state)
{
	BAD("/jti", S(""), "must be 16-64 characters");
	BAD("/jti", REP("", "a", 15), "must be 16-64 characters");
	GOOD("/jti", REP("", "a", 16));
	GOOD("/jti", REP("", "Z", 64));
	GOOD("/jti", S("AZaz09_-AZaz09_-"));
	BAD("/jti", REP("", "a", 65), "must be 16-64 characters");
	BAD("/jti", J("1234567890123456"), "must be a string");
	BAD("/jti", J("null"), "must be a string");
	BAD("/jti", S("aaaaaaaaaaaaaaa.a"),
	    "must contain only letters, digits, _ and -");
	BAD("/jti", S("aaaaaaaaaaaaaaa\xc3\xa9"),
	    "must contain only letters, digits, _ and -");
	BAD("/jti", NULL, "is required");
}

static void test_iat(void **state)
{
	GOOD("/iat", J("0"));
	GOOD("/iat", J("9223372036854775807"));
	BAD("/iat", J("-1"), "must not be negative");
	BAD("/iat", J("1.0"), "must be an integer");
	BAD("/iat", J("1e3"), "must be an integer");
	BAD("/iat", S("1795874591"), "must be an integer");
	BAD("/iat", J("true"), "must be an integer");
	BAD("/iat", NULL, "is required");
}

static void test_iat_overflow(void **state)
{
	struct referral *r;
	int rc;
	const char *p = "{\"jti\":\"aaaaaaaaaaaaaaaa\",\"iat\":9223372036854775808,"
			"\"category\":\"other_illegal\",\"subjects\":[{\"handle\":\"x\"}]}";
	rc = parse_bytes(p, strlen(p), ROLE_PARTNER, &r);
	assert_one_error(rc, r, "",
			 "number out of range");
}

static void test_partner_ref(void **state)
{
	BAD("/partner_ref", S(""), "must be 1-128 characters");
	GOOD("/partner_ref", S("x"));
	/* 128 characters of 4 bytes each */
	GOOD("/partner_ref", REP("", "\xf0\x9f\x98\x80", 128));
	BAD("/partner_ref", REP("", "\xf0\x9f\x98\x80", 129),
	    "must be 1-128 characters");
	BAD("/partner_ref", REP("", "a", 129), "must be 1-128 characters");
	BAD("/partner_ref", J("42"), "must be a string");
	BAD("/partner_ref", S("a\tb"), "must not contain control characters");
	BAD("/partner_ref", S("a\x7f"), "must not contain control characters");
	BAD("/partner_ref", S("a\xc2\x9f"), "must not contain control characters");
	GOOD("/partner_ref", S("a\xc2\xa0"));
	GOOD("/partner_ref", NULL);

	struct referral *r;
	json_t *root = J(full_payload);
	mutate(root, "/partner_ref", REP("", "\xf0\x9f\x98\x80", 128));
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_OK);
	assert_int_equal(strlen(r->partner_ref), 512);
	referral_free(r);
}

static void test_category(void **state)
{
	static const char *const names[] = {
		"terrorist_content", "violent_extremism",
		"incitement_to_violence", "hate_speech", "other_illegal",
	};
	const char *reason = "must be one of terrorist_content, "
			     "violent_extremism, incitement_to_violence, "
			     "hate_speech, other_illegal";
	for (size_t i = 0; i < 5; i++) {
		struct referral *r;
		json_t *root = J(full_payload);
		mutate(root, "/category", S(names[i]));
		assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_OK);
		assert_int_equal(r->category, (int)i);
		assert_string_equal(referral_category_name(r->category), names[i]);
		referral_free(r);
	}
	BAD("/category", S(""), reason);
	BAD("/category", S("Terrorist_content"), reason);
	BAD("/category", S("terrorist_content "), reason);
	BAD("/category", J("0"), "must be a string");
	BAD("/category", J("[\"hate_speech\"]"), "must be a string");
	BAD("/category", NULL, "is required");
}

static void test_urgency(void **state)
{
	const char *reason = "must be one of routine, urgent, imminent_harm";
	GOOD("/urgency", S("routine"));
	GOOD("/urgency", S("urgent"));
	GOOD("/urgency", S("imminent_harm"));
	GOOD("/urgency", NULL);
	BAD("/urgency", S(""), reason);
	BAD("/urgency", S("URGENT"), reason);
	BAD("/urgency", J("2"), "must be a string");
}

static void test_summary(void **state)
{
	GOOD("/summary", S(""));
	GOOD("/summary", NULL);
	GOOD("/summary", REP("", "\xc3\xa9", 4000));
	GOOD("/summary", REP("", "a", 4000));
	BAD("/summary", REP("", "\xc3\xa9", 4001), "must be at most 4000 characters");
	BAD("/summary", REP("", "a", 4001), "must be at most 4000 characters");
	BAD("/summary", J("{}"), "must be a string");
	GOOD("/summary", S("a\nb\tc"));
	GOOD("/summary", S("[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{"));
	BAD("/summary", S("a\rb"), "must not contain control characters");
	BAD("/summary", S("a\x1b[31m"), "must not contain control characters");
	BAD("/summary", S("\x7f"), "must not contain control characters");
	BAD("/summary", S("\xc2\x80"), "must not contain control characters");
	BAD("/summary", S("\xc2\x85"), "must not contain control characters");
	GOOD("/summary", S("\xc2\xa0\xe2\x80\xa8"));
}

/* --- subjects --- */

static void test_subjects_array(void **state)
{
	BAD("/subjects", J("[]"), "must have 1-100 items");
	BAD("/subjects", J("{}"), "must be an array");
	BAD("/subjects", S("x"), "must be an array");
	BAD("/subjects", NULL, "is required");
	GOOD("/subjects", J("[{\"handle\":\"a\"}]"));

	json_t *many = json_array();
	for (int i = 0; i < 100; i++)
		json_array_append_new(many, J("{\"account_id\":\"1\"}"));
	struct referral *r;
	json_t *root = J(full_payload);
	mutate(root, "/subjects", json_deep_copy(many));
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_OK);
	assert_int_equal(r->n_subjects, 100);
	assert_string_equal(r->subjects[99].account_id, "1");
	referral_free(r);

	json_array_append_new(many, J("{\"account_id\":\"1\"}"));
	BAD("/subjects", many, "must have 1-100 items");

	/* one over, and a broken item beyond the cap is still reported */
	many = json_array();
	for (int i = 0; i < 101; i++)
		json_array_append_new(many, J("{\"account_id\":\"1\"}"));
	json_array_append_new(many, J("{\"account_id\":1}"));
	root = J(full_payload);
	mutate(root, "/subjects", many);
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_EINVAL);
	assert_int_equal(errs.n, 2);
	assert_true(has_error("/subjects", "must have 1-100 items"));
	assert_true(has_error("/subjects/101/account_id", "must be a string"));
}

static void test_subject_item(void **state)
{
	BAD("/subjects/1", J("{}"), "needs an account_id, a handle or a url");
	BAD("/subjects/1", S("foo"), "must be an object");
	BAD("/subjects/1", J("null"), "must be an object");
	BAD("/subjects/1/name", S("x"), "unknown member");
	GOOD("/subjects/1", J("{\"account_id\":\"1\",\"handle\":\"a\","
			      "\"url\":\"http://x.com/a\"}"));
	/* an unknown member does not count as naming the account */
	struct referral *r;
	json_t *root = J(full_payload);
	mutate(root, "/subjects/1", J("{\"nick\":\"a\"}"));
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_EINVAL);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.item[0].pointer, "/subjects/1/nick");
	assert_string_equal(errs.item[0].reason, "unknown member");
	assert_string_equal(errs.item[1].pointer, "/subjects/1");
	assert_string_equal(errs.item[1].reason,
			    "needs an account_id, a handle or a url");
}

static void test_subject_account_id(void **state)
{
	const char *reason = "must be 1-20 decimal digits";
	BAD("/subjects/0/account_id", S(""), reason);
	GOOD("/subjects/0/account_id", S("0"));
	GOOD("/subjects/0/account_id", S("12345678901234567890"));
	BAD("/subjects/0/account_id", S("123456789012345678901"), reason);
	BAD("/subjects/0/account_id", J("123"), "must be a string");
	BAD("/subjects/0/account_id", S("12a"), reason);
	BAD("/subjects/0/account_id", S("-1"), reason);
	BAD("/subjects/0/account_id", S(" 1"), reason);
	BAD("/subjects/0/account_id", S("\xd9\xa1"), reason);   /* Arabic 1 */
}

static void test_subject_handle(void **state)
{
	const char *reason = "must be 1-50 letters, digits or _, "
			     "optionally after one @";
	BAD("/subjects/1/handle", S(""), reason);
	BAD("/subjects/1/handle", S("@"), reason);
	GOOD("/subjects/1/handle", S("a"));
	GOOD("/subjects/1/handle", S("@a"));
	GOOD("/subjects/1/handle", REP("", "a", 50));
	GOOD("/subjects/1/handle", REP("@", "_", 50));
	BAD("/subjects/1/handle", REP("", "a", 51), reason);
	BAD("/subjects/1/handle", REP("@", "a", 51), reason);
	BAD("/subjects/1/handle", J("7"), "must be a string");
	BAD("/subjects/1/handle", S("@@a"), reason);
	BAD("/subjects/1/handle", S("a-b"), reason);
	BAD("/subjects/1/handle", S("a@"), reason);
	BAD("/subjects/1/handle", S("\xc3\xa9t\xc3\xa9"), reason);
}

static void test_subject_url(void **state)
{
	const char *p = "/subjects/2/url";
	BAD(p, S(""), "must be an http or https URL");
	BAD(p, S("https://"), "must be an http or https URL");
	BAD(p, S("https:///foo"), "must be an http or https URL");
	GOOD(p, S("http://x"));
	GOOD(p, S("HTTPS://X.COM/foo"));
	GOOD(p, REP("https://x.com/", "a", 2048 - 14));
	BAD(p, REP("https://x.com/", "a", 2048 - 13), "must be at most 2048 bytes");
	BAD(p, J("[]"), "must be a string");
	BAD(p, S("ftp://x.com/foo"), "must be an http or https URL");
	BAD(p, S("x.com/foo"), "must be an http or https URL");
	BAD(p, S("javascript:alert(1)"), "must be an http or https URL");
	BAD(p, S("https://x.com/a b"), "must not contain spaces or control characters");
	BAD(p, S("https://x.com/a\n"), "must not contain spaces or control characters");
}

/* --- evidence --- */

static void test_evidence_array(void **state)
{
	GOOD("/evidence", J("[]"));
	GOOD("/evidence", NULL);
	BAD("/evidence", J("{}"), "must be an array");
	BAD("/evidence", J("null"), "must be an array");

	const char *item = "{\"url\":\"https://e.example/x\",\"sha256\":"
			   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
	json_t *many = json_array();
	for (int i = 0; i < 20; i++)
		json_array_append_new(many, J(item));
	GOOD("/evidence", json_deep_copy(many));
	json_array_append_new(many, J(item));
	BAD("/evidence", many, "must have at most 20 items");
	BAD("/evidence/1", S("x"), "must be an object");
	BAD("/evidence/1/note", S("x"), "unknown member");
}

static void test_evidence_members(void **state)
{
	BAD("/evidence/0/url", NULL, "is required");
	BAD("/evidence/0/url", S(""), "must be an http or https URL");
	BAD("/evidence/0/url", S("file:///etc/passwd"), "must be an http or https URL");
	GOOD("/evidence/0/url", REP("https://e.example/", "b", 2048 - 18));
	BAD("/evidence/0/url", REP("https://e.example/", "b", 2048 - 17),
	    "must be at most 2048 bytes");
	BAD("/evidence/0/url", J("1"), "must be a string");

	const char *hex = "must be 64 lowercase hex digits";
	BAD("/evidence/0/sha256", NULL, "is required");
	BAD("/evidence/0/sha256", S(""), hex);
	BAD("/evidence/0/sha256", REP("", "a", 63), hex);
	GOOD("/evidence/0/sha256", REP("", "f", 64));
	BAD("/evidence/0/sha256", REP("", "a", 65), hex);
	BAD("/evidence/0/sha256", REP("", "A", 64), hex);
	BAD("/evidence/0/sha256", REP("", "g", 64), hex);
	BAD("/evidence/0/sha256", J("0"), "must be a string");

	const char *mt = "must be a media type (type/subtype)";
	GOOD("/evidence/0/media_type", NULL);
	BAD("/evidence/0/media_type", S(""), mt);
	BAD("/evidence/0/media_type", S("image"), mt);
	BAD("/evidence/0/media_type", S("image/"), mt);
	BAD("/evidence/0/media_type", S("/png"), mt);
	BAD("/evidence/0/media_type", S("image/png/x"), mt);
	BAD("/evidence/0/media_type", S("text/html; charset=utf-8"), mt);
	GOOD("/evidence/0/media_type", S("application/vnd.api+json"));
	GOOD("/evidence/0/media_type", REP("a/", "b", 125));
	BAD("/evidence/0/media_type", REP("a/", "b", 126), "must be at most 127 bytes");
	BAD("/evidence/0/media_type", J("true"), "must be a string");

	GOOD("/evidence/0/captured_at", NULL);
	GOOD("/evidence/0/captured_at", J("0"));
	GOOD("/evidence/0/captured_at", S("1970-01-01T00:00:00Z"));
	GOOD("/evidence/0/captured_at", S("2026-11-28T14:03:11.123-05:00"));
	BAD("/evidence/0/captured_at", J("-1"), "must not be negative");
	BAD("/evidence/0/captured_at", S(""), "must be an RFC 3339 timestamp");
	BAD("/evidence/0/captured_at", S("2026-11-28"), "must be an RFC 3339 timestamp");
	BAD("/evidence/0/captured_at", S("2026-02-30T00:00:00Z"),
	    "must be an RFC 3339 timestamp");
	BAD("/evidence/0/captured_at", S("1970-01-01T00:00:00+01:00"),
	    "must not be before 1970");
	BAD("/evidence/0/captured_at", J("1.5"),
	    "must be an integer or an RFC 3339 string");
	BAD("/evidence/0/captured_at", J("false"),
	    "must be an integer or an RFC 3339 string");
}

/* --- removal orders --- */

static void test_removal_order_role(void **state)
{
	const char *reason = "only agencies may send removal orders";
	check("/urgency", S("urgent"), ROLE_PARTNER, "/removal_order", reason);
	check("/urgency", S("urgent"), ROLE_REVIEWER, "/removal_order", reason);
	check("/urgency", S("urgent"), ROLE_NONE, "/removal_order", reason);
	/* the role rule comes first, whatever the value */
	check("/removal_order", J("7"), ROLE_PARTNER, "/removal_order", reason);
	check("/removal_order", NULL, ROLE_PARTNER, NULL, NULL);
	check("/removal_order", NULL, ROLE_AGENCY, NULL, NULL);
}

static void test_removal_order_members(void **state)
{
	BAD("/removal_order", J("[]"), "must be an object");
	BAD("/removal_order", J("null"), "must be an object");
	BAD("/removal_order/deadline", J("1"), "unknown member");
	BAD("/removal_order/reference", NULL, "is required");
	BAD("/removal_order/issued_at", NULL, "is required");
	BAD("/removal_order/legal_basis", NULL, "is required");

	const char *len128 = "must be 1-128 characters";
	BAD("/removal_order/reference", S(""), len128);
	GOOD("/removal_order/reference", REP("", "\xe2\x82\xac", 128));
	BAD("/removal_order/reference", REP("", "x", 129), len128);
	BAD("/removal_order/reference", J("5"), "must be a string");
	BAD("/removal_order/reference", S("a\nb"),
	    "must not contain control characters");

	const char *len500 = "must be 1-500 characters";
	BAD("/removal_order/legal_basis", S(""), len500);
	GOOD("/removal_order/legal_basis", REP("", "\xf0\x9f\x98\x80", 500));
	BAD("/removal_order/legal_basis", REP("", "x", 501), len500);
	BAD("/removal_order/legal_basis", J("{}"), "must be a string");
	BAD("/removal_order/legal_basis", S("\xc2\x9b"),
	    "must not contain control characters");

	GOOD("/removal_order/issued_at", J("1795874400"));
	GOOD("/removal_order/issued_at", J("0"));
	BAD("/removal_order/issued_at", J("-5"), "must not be negative");
	BAD("/removal_order/issued_at", S("yesterday"), "must be an RFC 3339 timestamp");
	BAD("/removal_order/issued_at", J("[]"),
	    "must be an integer or an RFC 3339 string");

	/* issuing_authority: optional, 1-200 characters */
	const char *len200 = "must be 1-200 characters";
	GOOD("/removal_order/issuing_authority", S("Bundeskriminalamt"));
	GOOD("/removal_order/issuing_authority", REP("", "\xe2\x82\xac", 200));
	BAD("/removal_order/issuing_authority", S(""), len200);
	BAD("/removal_order/issuing_authority", REP("", "x", 201), len200);

	/* withhold_notice_until: after issued_at (13:00Z, 1795870800), at
	 * most 6 weeks (3628800 s) after it */
	const char *weeks6 = "must be after issued_at and at most 6 weeks after it";
	GOOD("/removal_order/withhold_notice_until", S("2026-12-20T00:00:00Z"));
	GOOD("/removal_order/withhold_notice_until", J("1799499600"));
	BAD("/removal_order/withhold_notice_until", J("1799499601"), weeks6);
	BAD("/removal_order/withhold_notice_until", J("1795870800"), weeks6);
	BAD("/removal_order/withhold_notice_until", S("tomorrow"),
	    "must be an RFC 3339 timestamp");

	struct referral *r;
	json_t *root = J(full_payload);
	mutate(root, "/removal_order", J("{}"));
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_EINVAL);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.item[0].pointer, "/removal_order/reference");
	assert_string_equal(errs.item[1].pointer, "/removal_order/issued_at");
	assert_string_equal(errs.item[2].pointer, "/removal_order/legal_basis");

	/* a maximal legal_basis arrives whole */
	root = J(full_payload);
	mutate(root, "/removal_order/legal_basis", REP("", "\xf0\x9f\x98\x80", 500));
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_OK);
	assert_int_equal(strlen(r->removal_order.legal_basis), 2000);
	referral_free(r);
}

/* --- unknown members, pointers, many errors --- */

static void test_unknown_members(void **state)
{
	BAD("/extra", J("1"), "unknown member");
	BAD("/Jti", S("aaaaaaaaaaaaaaaa"), "unknown member");
	check("/a~b", J("1"), ROLE_AGENCY, "/a~0b", "unknown member");
	check("/subjects/0/x~y", J("1"), ROLE_AGENCY, "/subjects/0/x~0y",
	      "unknown member");

	/* "/" inside a name: set directly, mutate() splits on it */
	struct referral *r;
	json_t *root = J(full_payload);
	json_object_set_new(root, "a/b", J("1"));
	json_object_set_new(root, "", J("1"));
	json_object_set_new(json_array_get(json_object_get(root, "evidence"), 1),
			    "~/", J("1"));
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_EINVAL);
	assert_int_equal(errs.n, 3);
	assert_true(has_error("/a~1b", "unknown member"));
	assert_true(has_error("/", "unknown member"));
	assert_true(has_error("/evidence/1/~0~1", "unknown member"));

	/* a name too long for a pointer points at its object */
	root = J(full_payload);
	mutate(root, "/subjects/0", J("{\"handle\":\"a\"}"));
	json_t *long_name = REP("", "~", 100);
	json_object_set_new(json_array_get(json_object_get(root, "subjects"), 0),
			    json_string_value(long_name), J("1"));
	json_decref(long_name);
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.item[0].pointer, "/subjects/0");
	assert_string_equal(errs.item[0].reason,
			    "has an unknown member with an overlong name");
}

static void test_all_errors_collected(void **state)
{
	struct referral *r;
	const char *p =
		"{\"jti\":\"short\",\"iat\":\"now\",\"category\":\"spam\","
		"\"subjects\":[{},{\"account_id\":5,\"handle\":\"a b\"}],"
		"\"evidence\":[{\"url\":\"gopher://x\"}],\"summary\":\"\\u0007\","
		"\"removal_order\":{},\"colour\":\"red\"}";
	assert_int_equal(parse_bytes(p, strlen(p), ROLE_PARTNER, &r), RG_EINVAL);
	assert_null(r);
	static const char *const want[][2] = {
		{"/jti", "must be 16-64 characters"},
		{"/iat", "must be an integer"},
		{"/category", "must be one of terrorist_content, violent_extremism, "
			      "incitement_to_violence, hate_speech, other_illegal"},
		{"/subjects/0", "needs an account_id, a handle or a url"},
		{"/subjects/1/account_id", "must be a string"},
		{"/subjects/1/handle", "must be 1-50 letters, digits or _, "
				       "optionally after one @"},
		{"/evidence/0/url", "must be an http or https URL"},
		{"/evidence/0/sha256", "is required"},
		{"/summary", "must not contain control characters"},
		{"/removal_order", "only agencies may send removal orders"},
		{"/colour", "unknown member"},
	};
	size_t n = sizeof want / sizeof want[0];
	assert_int_equal(errs.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(errs.item[i].pointer, want[i][0]);
		assert_string_equal(errs.item[i].reason, want[i][1]);
	}

	/* missing members are listed after the document's own errors */
	p = "{\"x\":1}";
	assert_int_equal(parse_bytes(p, strlen(p), ROLE_AGENCY, &r), RG_EINVAL);
	assert_int_equal(errs.n, 5);
	assert_string_equal(errs.item[0].pointer, "/x");
	assert_string_equal(errs.item[1].pointer, "/jti");
	assert_string_equal(errs.item[2].pointer, "/iat");
	assert_string_equal(errs.item[3].pointer, "/category");
	assert_string_equal(errs.item[4].pointer, "/subjects");
	assert_string_equal(errs.item[4].reason, "is required");
}

static void test_error_cap(void **state)
{
	struct referral *r;
	json_t *subjects = json_array();
	for (int i = 0; i < 40; i++)
		json_array_append_new(subjects, J("{}"));
	json_t *root = J(full_payload);
	mutate(root, "/subjects", subjects);
	assert_int_equal(parse_json(root, ROLE_AGENCY, &r), RG_EINVAL);
	assert_int_equal(errs.n, PROBLEM_MAX_ITEMS);
	assert_true(errs.truncated);
}

static void test_errors_appended_or_absent(void **state)
{
	struct referral *r = NULL;
	const char *bad = "{\"jti\":1}";
	/* no error list: still refused */
	assert_int_equal(referral_parse((const uint8_t *)bad, strlen(bad),
					ROLE_AGENCY, &r, NULL), RG_EINVAL);
	assert_null(r);
	assert_int_equal(referral_parse((const uint8_t *)full_payload,
					strlen(full_payload), ROLE_AGENCY, &r,
					NULL), RG_OK);
	referral_free(r);
	r = NULL;
	/* items already in the list are kept */
	memset(&errs, 0, sizeof errs);
	problem_items_add(&errs, "earlier", "%s", "/x");
	assert_int_equal(referral_parse((const uint8_t *)bad, strlen(bad),
					ROLE_AGENCY, &r, &errs), RG_EINVAL);
	assert_string_equal(errs.item[0].reason, "earlier");
	assert_string_equal(errs.item[1].pointer, "/jti");
	/* ... and do not make a valid payload fail */
	assert_int_equal(referral_parse((const uint8_t *)full_payload,
					strlen(full_payload), ROLE_AGENCY, &r,
					&errs), RG_OK);
	referral_free(r);
}

/* --- malformed input --- */

/* A byte string and its length, NULs included. */
#define B(s) {s, sizeof(s) - 1}

static void test_not_json(void **state)
{
	static const struct { const char *bytes; size_t len; } cases[] = {
		B(""),
		B("not json"),
		B("{"),
		B("{\"jti\":}"),
		B("{}garbage"),
		B("{} {}"),
		B("{\"a\":1,}"),
		B("{'a':1}"),
		B("\xff"),
		B("\xef\xbb\xbf{}"),                      /* BOM */
		B("{\"summary\":\"\xc3\x28\"}"),         /* bad UTF-8 */
		B("{\"summary\":\"\xc0\xaf\"}"),         /* overlong */
		B("{\"summary\":\"\xed\xa0\x80\"}"),     /* surrogate */
		B("{\"summary\":\"\\ud800\"}"),          /* lone escape */
		B("{\"summary\":\"a\\u0000b\"}"),        /* NUL */
		B("{\"a\":1}\0"),                         /* NUL after */
		B("{\"summary\":\"\x01\"}"),             /* raw control */
		B("{\"iat\":NaN}"),
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct referral *r;
		int rc = parse_bytes(cases[i].bytes, cases[i].len, ROLE_AGENCY, &r);
		assert_one_error(rc, r, "", "payload is not valid JSON");
	}
	struct referral *r = (struct referral *)&r;
	memset(&errs, 0, sizeof errs);
	assert_int_equal(referral_parse(NULL, 0, ROLE_AGENCY, &r, &errs),
			 RG_EINVAL);
	assert_int_equal(errs.n, 1);
}

static void test_not_an_object(void **state)
{
	static const char *const cases[] = {
		"[]", "[{\"jti\":\"aaaaaaaaaaaaaaaa\"}]", "\"x\"", "1", "null",
		"true", " 1 ",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct referral *r;
		int rc = parse_bytes(cases[i], strlen(cases[i]), ROLE_AGENCY, &r);
		assert_one_error(rc, r, "", "payload must be a JSON object");
	}
}

static void test_duplicates(void **state)
{
	static const char *const cases[] = {
		"{\"jti\":\"aaaaaaaaaaaaaaaa\",\"jti\":\"bbbbbbbbbbbbbbbb\"}",
		"{\"subjects\":[{\"handle\":\"a\",\"handle\":\"a\"}]}",
		"{\"removal_order\":{\"reference\":\"a\",\"reference\":\"b\"}}",
		"{\"x\":1,\"x\":1}",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct referral *r;
		int rc = parse_bytes(cases[i], strlen(cases[i]), ROLE_AGENCY, &r);
		assert_one_error(rc, r, "", "duplicate member name");
	}
	/* escapes that spell the same name are the same name */
	const char *esc = "{\"jti\":\"aaaaaaaaaaaaaaaa\",\"j\\u0074i\":\"a\"}";
	struct referral *r;
	int rc = parse_bytes(esc, strlen(esc), ROLE_AGENCY, &r);
	assert_one_error(rc, r, "",
			 "duplicate member name");
}

static void test_depth(void **state)
{
	struct referral *r;
	int rc;
	/* 8 levels: parsed, then refused member by member */
	char buf[sizeof full_payload + 64];
	snprintf(buf, sizeof buf, "{\"x\":[[[[[[[1]]]]]]],%s", full_payload + 1);
	rc = parse_bytes(buf, strlen(buf), ROLE_AGENCY, &r);
	assert_one_error(rc, r, "/x", "unknown member");
	snprintf(buf, sizeof buf, "{\"x\":[[[[[[[[1]]]]]]]],%s", full_payload + 1);
	rc = parse_bytes(buf, strlen(buf), ROLE_AGENCY, &r);
	assert_one_error(rc, r, "", "payload is nested too deeply");
	const char *open9 = "{{{{{{{{{";
	rc = parse_bytes(open9, strlen(open9), ROLE_AGENCY, &r);
	assert_one_error(rc, r, "", "payload is nested too deeply");
	/* brackets inside strings do not count, nor do escaped quotes */
	snprintf(buf, sizeof buf, "{\"x\":\"\\\"[[[[[[[[[[[[[[[[\",%s",
		 full_payload + 1);
	rc = parse_bytes(buf, strlen(buf), ROLE_AGENCY, &r);
	assert_one_error(rc, r, "/x", "unknown member");

	/* a hostile depth never reaches the parser */
	size_t n = 100000;
	char *big = malloc(2 * n);
	assert_non_null(big);
	memset(big, '[', n);
	memset(big + n, ']', n);
	rc = parse_bytes(big, 2 * n, ROLE_AGENCY, &r);
	assert_one_error(rc, r, "",
			 "payload is nested too deeply");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_payload),
		cmocka_unit_test(test_minimal_payload),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_jti),
		cmocka_unit_test(test_iat),
		cmocka_unit_test(test_iat_overflow),
		cmocka_unit_test(test_partner_ref),
		cmocka_unit_test(test_category),
		cmocka_unit_test(test_urgency),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_subjects_array),
		cmocka_unit_test(test_subject_item),
		cmocka_unit_test(test_subject_account_id),
		cmocka_unit_test(test_subject_handle),
		cmocka_unit_test(test_subject_url),
		cmocka_unit_test(test_evidence_array),
		cmocka_unit_test(test_evidence_members),
		cmocka_unit_test(test_removal_order_role),
		cmocka_unit_test(test_removal_order_members),
		cmocka_unit_test(test_unknown_members),
		cmocka_unit_test(test_all_errors_collected),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_errors_appended_or_absent),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
