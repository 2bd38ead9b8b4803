/*
 * metrics.h - process-wide counters for the operators' /metrics page
 * (Prometheus text format): requests by route and status, a latency
 * histogram, and domain counters. Lock-free (atomics); thread-safe.
 */
#ifndef RG_METRICS_H
#define RG_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric_counter {
	M_REFERRALS,          /* referrals recorded (201) */
	M_REFERRAL_REPLAYS,   /* byte-identical resubmissions (200) */
	M_CASES_OPENED,       /* subjects that opened a new case */
	M_DEDUP_HITS,         /* subjects that joined an existing case */
	M_DISCLOSURES,        /* answers that disclosed account identifiers */
	M_RATE_LIMITED,       /* requests answered 429 */
	M_KEY_MISUSE,         /* access keys presented by another principal */
	M_VIEWS_FROM_MEMORY,  /* case views answered from the view cache */
	M_COUNT
};

void metrics_inc(enum metric_counter c);

/* Records a finished request: route index (routes_count() for "none"),
 * HTTP status and duration. */
void metrics_request(size_t route, int status, double seconds);

/* Renders every metric; gauges are passed in. Returns a malloc'd text. */
char *metrics_render(uint64_t open_connections, uint64_t waiting_polls,
                     int64_t cases_total);

#endif
