/*
 * report.c - dates and periods of the transparency report (report.h).
 */
#include "report.h"
#include "rg.h"

#include <stdbool.h>
#include <string.h>

#define DAY 86400

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	                              30, 31 };
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; y >= 1970). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t n = 0;
	for (int64_t yy = 1970; yy < y; yy++)
		n += leap(yy) ? 366 : 365;
	for (int mm = 1; mm < m; mm++)
		n += month_days(y, mm);
	return n + d - 1;
}

static bool digits(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int report_date_parse(const char *s, int64_t *day_start)
{
	int64_t y, m, d;
	if (!s || strlen(s) != REPORT_DATE_LEN || s[4] != '-' || s[7] != '-' ||
	    !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
	    !digits(s + 8, 2, &d))
		return RG_EINVAL;
	if (y < 1970 || m < 1 || m > 12 || d < 1 ||
	    d > month_days(y, (int)m))
		return RG_EINVAL;
	*day_start = days_from_civil(y, (int)m, (int)d) * DAY;
	return RG_OK;
}

void report_date_format(int64_t t, char out[REPORT_DATE_LEN + 1])
{
	int64_t days = t / DAY, y = 1970;
	int m = 1;
	while (days >= (leap(y) ? 366 : 365))
		days -= leap(y++) ? 366 : 365;
	while (days >= month_days(y, m))
		days -= month_days(y, m++);
	int d = (int)days + 1, yy = (int)(y % 10000);
	out[0] = (char)('0' + yy / 1000);
	out[1] = (char)('0' + yy / 100 % 10);
	out[2] = (char)('0' + yy / 10 % 10);
	out[3] = (char)('0' + yy % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

int64_t report_week_start(int64_t t)
{
	/* 1970-01-05 was a Monday. */
	const int64_t monday = 4 * DAY, week = 7 * DAY;
	int64_t off = (t - monday) % week;
	if (off < 0)
		off += week;
	return t - off;
}

int report_period(const char *from, const char *to, int64_t *start,
                  int64_t *end, const char **why)
{
	int64_t a, b;
	if (!from || !to) {
		*why = "from and to are required (YYYY-MM-DD)";
		return RG_EINVAL;
	}
	if (report_date_parse(from, &a) != RG_OK) {
		*why = "from is not a date (YYYY-MM-DD, 1970-9999)";
		return RG_EINVAL;
	}
	if (report_date_parse(to, &b) != RG_OK) {
		*why = "to is not a date (YYYY-MM-DD, 1970-9999)";
		return RG_EINVAL;
	}
	if (b < a) {
		*why = "to is before from";
		return RG_EINVAL;
	}
	if ((b - a) / DAY + 1 > REPORT_MAX_DAYS) {
		*why = "a report covers at most 366 days";
		return RG_EINVAL;
	}
	*start = a;
	*end = b + DAY;
	return RG_OK;
}
