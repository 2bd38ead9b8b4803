/* test_slots.c - per-principal slot counts: the cap holds per principal
 * and per kind, slots given back can be taken again, many principals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "../../server/slots.h"

static void test_cap(void **state)
{
	(void)state;
	struct slots *s = slots_new();
	assert_non_null(s);
	for (int i = 0; i < 3; i++)
		assert_true(slots_take(s, SLOT_POLL, "flood", 3));
	assert_false(slots_take(s, SLOT_POLL, "flood", 3));
	assert_int_equal(slots_held(s, SLOT_POLL, "flood"), 3);
	/* another principal, and another kind, are untouched */
	assert_true(slots_take(s, SLOT_POLL, "other", 3));
	assert_true(slots_take(s, SLOT_CONN, "flood", 3));
	assert_int_equal(slots_held(s, SLOT_CONN, "flood"), 1);
	slots_give(s, SLOT_POLL, "flood");
	assert_true(slots_take(s, SLOT_POLL, "flood", 3));
	assert_false(slots_take(s, SLOT_POLL, "flood", 3));
	/* giving back more than held, or for a stranger, changes nothing */
	slots_give(s, SLOT_CONN, "flood");
	slots_give(s, SLOT_CONN, "flood");
	slots_give(s, SLOT_CONN, "nobody");
	assert_int_equal(slots_held(s, SLOT_CONN, "flood"), 0);
	assert_int_equal(slots_held(s, SLOT_CONN, "nobody"), 0);
	/* an empty name or a zero cap takes nothing */
	assert_false(slots_take(s, SLOT_CONN, "", 3));
	assert_false(slots_take(s, SLOT_CONN, "x", 0));
	slots_free(s);
	slots_free(NULL);
}

static void test_many(void **state)
{
	(void)state;
	struct slots *s = slots_new();
	char name[32];
	assert_non_null(s);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "p%d", i);
		assert_true(slots_take(s, SLOT_CONN, name, 2));
		assert_true(slots_take(s, SLOT_CONN, name, 2));
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "p%d", i);
		assert_false(slots_take(s, SLOT_CONN, name, 2));
		assert_int_equal(slots_held(s, SLOT_CONN, name), 2);
	}
	slots_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
