/*
 * report.h - the transparency report's period (contract section 13):
 * dates as YYYY-MM-DD (UTC days), a period of whole days from `from` to
 * `to` inclusive, and the weeks (Monday 00:00 UTC) its charts count by.
 * Pure functions, shared by the daemon and refgatectl.
 */
#ifndef RG_REPORT_H
#define RG_REPORT_H

#include <stdint.h>

#define REPORT_MAX_DAYS 366          /* a leap year */
#define REPORT_DATE_LEN 10           /* "YYYY-MM-DD" */

/* Parses exactly "YYYY-MM-DD", a real calendar date in 1970-9999, into
 * the Unix time of its 00:00 UTC. RG_EINVAL otherwise. */
int report_date_parse(const char *s, int64_t *day_start);

/* Formats the UTC date of t (t >= 0) as "YYYY-MM-DD". */
void report_date_format(int64_t t, char out[REPORT_DATE_LEN + 1]);

/* The Monday 00:00 UTC on or before t (t >= 0). */
int64_t report_week_start(int64_t t);

/*
 * The period [*start, *end) from the dates `from` and `to` (both
 * included). RG_EINVAL with *why (a static sentence) when either is
 * missing or no date, `to` is before `from`, or it spans more than
 * REPORT_MAX_DAYS days.
 */
int report_period(const char *from, const char *to, int64_t *start,
                  int64_t *end, const char **why);

#endif
