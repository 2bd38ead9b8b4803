/* test_request.c - what a handler reads of its request and the answers
 * shared by every handler: header fields and query arguments (first of a
 * name, names without case), the one integer query reader (digits only,
 * range, default, the 400 it sets) and the one translation from a
 * storage result to an HTTP answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/request.h"

/* The problem's code and detail in res (static copies). */
static const char *problem_member(const struct response *res, const char *key)
{
	static char out[160];
	json_t *j = json_loadb(res->body, res->body_len, 0, NULL);
	const char *v = j ? json_string_value(json_object_get(j, key)) : NULL;
	snprintf(out, sizeof out, "%s", v ? v : "");
	json_decref(j);
	return out;
}

static void test_int_parse(void **state)
{
	(void)state;
	int64_t v = -1;
	assert_true(request_int_parse("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(request_int_parse("005", 1, 10, &v));
	assert_int_equal(v, 5);
	assert_true(request_int_parse("9223372036854775807", 0, INT64_MAX, &v));
	assert_true(v == INT64_MAX);
	static const char *const bad[] = {
		"", "+5", "-1", " 5", "5 ", "5x", "0x5", "1e3", "5.0",
		"9223372036854775808", "99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 42;
		assert_false(request_int_parse(bad[i], 0, INT64_MAX, &v));
		assert_int_equal(v, 42);          /* untouched on refusal */
	}
	assert_false(request_int_parse(NULL, 0, 10, &v));
	assert_false(request_int_parse("0", 1, 10, &v));     /* below min */
	assert_false(request_int_parse("11", 1, 10, &v));    /* above max */
	assert_true(request_int_parse("10", 1, 10, &v));     /* max itself */
}

static void test_fields(void **state)
{
	(void)state;
	struct request req = {0};
	req.headers[0] = (struct request_field){"Content-Type", "application/json"};
	req.headers[1] = (struct request_field){"X-Twice", "first"};
	req.headers[2] = (struct request_field){"x-twice", "second"};
	req.n_headers = 3;
	req.query[0] = (struct request_field){"limit", "5"};
	req.query[1] = (struct request_field){"flag", NULL};
	req.n_query = 2;
	assert_string_equal(request_header(&req, "content-type"), "application/json");
	assert_string_equal(request_header(&req, "X-TWICE"), "first");
	assert_null(request_header(&req, "Authorization"));
	assert_string_equal(request_query(&req, "limit"), "5");
	assert_null(request_query(&req, "flag"));        /* no value */
	assert_null(request_query(&req, "wait"));
	/* fields past n_* are not read */
	req.headers[3] = (struct request_field){"Late", "x"};
	assert_null(request_header(&req, "Late"));
}

static void test_query_int(void **state)
{
	(void)state;
	struct request req = {0};
	struct response res = {0};
	int64_t v = 0;
	req.query[0] = (struct request_field){"limit", "7"};
	req.query[1] = (struct request_field){"flag", NULL};
	req.query[2] = (struct request_field){"wait", "31"};
	req.n_query = 3;
	assert_true(request_query_int(&req, &res, "limit", 1, 500, 100, &v));
	assert_int_equal(v, 7);
	assert_true(request_query_int(&req, &res, "absent", 1, 500, 100, &v));
	assert_int_equal(v, 100);
	assert_true(request_query_int(&req, &res, "flag", 0, 1, 1, &v));
	assert_int_equal(v, 1);
	assert_null(res.body);                      /* nothing set so far */
	assert_false(request_query_int(&req, &res, "wait", 0, 30, 0, &v));
	assert_int_equal(res.status, 400);
	assert_string_equal(res.content_type, "application/problem+json");
	assert_string_equal(problem_member(&res, "code"), "bad_request");
	assert_string_equal(problem_member(&res, "detail"),
			    "wait must be a whole number from 0 to 30");
	free(res.body);
}

static void test_store_error(void **state)
{
	(void)state;
	static const struct { int rc; int status; const char *code; } map[] = {
		{RG_ENOTFOUND, 404, "not_found"},
		{RG_ECONFLICT, 409, "bad_transition"},
		{RG_ETOOBIG, 413, "payload_too_large"},
		{RG_EIO, 503, "unavailable"},
		{RG_EFULL, 503, "unavailable"},
		{RG_ENOMEM, 503, "unavailable"},
		{RG_EINVAL, 503, "unavailable"},
		{RG_ECRYPTO, 503, "unavailable"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		struct response res = {0};
		response_store_error(&res, map[i].rc, i == 0 ? "no such case" : NULL);
		assert_int_equal(res.status, map[i].status);
		assert_string_equal(res.code, map[i].code);
		assert_string_equal(problem_member(&res, "code"), map[i].code);
		if (i == 0)
			assert_string_equal(problem_member(&res, "detail"), "no such case");
		free(res.body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int_parse),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_query_int),
		cmocka_unit_test(test_store_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
