/* test_report.c - the transparency report's dates and periods
 * (proto/report.c): valid and invalid dates, the calendar (leap years),
 * formatting back, Monday week starts, and the period's limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../proto/report.h"
#include "../../proto/rg.h"

static void test_dates(void **state)
{
	int64_t t = -1;
	char out[REPORT_DATE_LEN + 1];
	(void)state;
	assert_int_equal(report_date_parse("1970-01-01", &t), RG_OK);
	assert_true(t == 0);
	assert_int_equal(report_date_parse("2026-12-03", &t), RG_OK);
	assert_true(t == INT64_C(1796256000));
	assert_int_equal(report_date_parse("2024-02-29", &t), RG_OK);
	assert_true(t == INT64_C(1709164800));
	assert_int_equal(report_date_parse("2000-02-29", &t), RG_OK);
	assert_int_equal(report_date_parse("9999-12-31", &t), RG_OK);
	report_date_format(t, out);
	assert_string_equal(out, "9999-12-31");
	report_date_format(INT64_C(1709164800) + 86399, out);
	assert_string_equal(out, "2024-02-29");
	report_date_format(0, out);
	assert_string_equal(out, "1970-01-01");
	static const char *const bad[] = {
		"", "2026-1-01", "2026-01-1", "2026/01/01", "2026-00-10",
		"2026-13-01", "2026-01-00", "2026-01-32", "2026-02-29",
		"1900-02-29", "2100-02-29", "1969-12-31", "2026-01-01T00",
		" 2026-01-01", "2026-01-01 ", "+026-01-01", "2026-0a-01",
		"20260-01-01",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t = 42;
		assert_int_equal(report_date_parse(bad[i], &t), RG_EINVAL);
		assert_true(t == 42);          /* untouched on failure */
	}
	assert_int_equal(report_date_parse(NULL, &t), RG_EINVAL);
}

static void test_weeks(void **state)
{
	int64_t t;
	char out[REPORT_DATE_LEN + 1];
	(void)state;
	/* 2026-12-03 is a Thursday; its week starts on Monday 2026-11-30 */
	assert_int_equal(report_date_parse("2026-12-03", &t), RG_OK);
	report_date_format(report_week_start(t + 3600), out);
	assert_string_equal(out, "2026-11-30");
	assert_int_equal(report_date_parse("2026-11-30", &t), RG_OK);
	assert_true(report_week_start(t) == t);         /* a Monday is its own */
	assert_true(report_week_start(t - 1) == t - 7 * 86400);
	assert_int_equal(report_date_parse("2026-12-06", &t), RG_OK); /* Sunday */
	report_date_format(report_week_start(t + 86399), out);
	assert_string_equal(out, "2026-11-30");
}

static void test_period(void **state)
{
	int64_t a = 0, b = 0;
	const char *why = NULL;
	(void)state;
	assert_int_equal(report_period("2026-12-01", "2026-12-01", &a, &b, &why), RG_OK);
	assert_true(b - a == 86400);                   /* one day, included */
	assert_int_equal(report_period("2024-01-01", "2024-12-31", &a, &b, &why), RG_OK);
	assert_true(b - a == 366 * INT64_C(86400));
	assert_int_equal(report_period("2024-01-01", "2025-01-01", &a, &b, &why), RG_EINVAL);
	assert_non_null(strstr(why, "366"));
	assert_int_equal(report_period("2026-12-02", "2026-12-01", &a, &b, &why), RG_EINVAL);
	assert_string_equal(why, "to is before from");
	assert_int_equal(report_period(NULL, "2026-12-01", &a, &b, &why), RG_EINVAL);
	assert_int_equal(report_period("2026-12-01", NULL, &a, &b, &why), RG_EINVAL);
	assert_int_equal(report_period("2026-02-30", "2026-03-01", &a, &b, &why), RG_EINVAL);
	assert_non_null(strstr(why, "from"));
	assert_int_equal(report_period("2026-03-01", "2026-02-30", &a, &b, &why), RG_EINVAL);
	assert_non_null(strstr(why, "to is not"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_weeks),
		cmocka_unit_test(test_period),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
