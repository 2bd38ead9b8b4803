/* test_ratelimit.c - token buckets: burst, refill, Retry-After, isolation
 * between principals, growth of the table, and "off". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "../../server/ratelimit.h"

static void test_burst_then_refused(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(2.0, 5.0);
	int ra = 0;
	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_take(rl, "pave", 1000, &ra));
	assert_false(ratelimit_take(rl, "pave", 1000, &ra));
	assert_int_equal(ra, 1);
	/* another principal has its own bucket */
	assert_true(ratelimit_take(rl, "isd", 1000, &ra));
	/* half a second at 2/s refills one token */
	assert_true(ratelimit_take(rl, "pave", 1500, &ra));
	assert_false(ratelimit_take(rl, "pave", 1500, &ra));
	/* never more than the burst */
	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_take(rl, "pave", 100000, &ra));
	assert_false(ratelimit_take(rl, "pave", 100000, &ra));
	ratelimit_free(rl);
}

static void test_retry_after_slow_rate(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(0.1, 1.0);
	int ra = 0;
	assert_true(ratelimit_take(rl, "a", 0, &ra));
	assert_false(ratelimit_take(rl, "a", 0, &ra));
	assert_int_equal(ra, 10);
	assert_false(ratelimit_take(rl, "a", 5000, &ra));
	assert_int_equal(ra, 5);
	assert_true(ratelimit_take(rl, "a", 10000, &ra));
	ratelimit_free(rl);
}

static void test_many_principals(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(1.0, 1.0);
	char name[32];
	int ra;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "p%d", i);
		assert_true(ratelimit_take(rl, name, 0, &ra));
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "p%d", i);
		assert_false(ratelimit_take(rl, name, 0, &ra));
	}
	ratelimit_free(rl);
}

static void test_off(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(0, 0);
	int ra;
	for (int i = 0; i < 1000; i++)
		assert_true(ratelimit_take(rl, "x", 0, &ra));
	ratelimit_free(rl);
	assert_true(ratelimit_take(NULL, "x", 0, &ra));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refused),
		cmocka_unit_test(test_retry_after_slow_rate),
		cmocka_unit_test(test_many_principals),
		cmocka_unit_test(test_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
