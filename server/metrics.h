/*
 * metrics.h - process-wide counters for the operators' /metrics page
 * (Prometheus text format): requests by route and status, a latency
 * histogram, and domain counters. Lock-free (atomics); thread-safe.
 */
#ifndef RG_METRICS_H
#define RG_METRICS_H

#include <stdbool.h>
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

/* Certificate expiry, as the expiry watch (expiry.c) last saw it: the
 * server certificate's notAfter, the earliest notAfter among active
 * principals' certificates (0: none), and how many principals' latest
 * certificates expire within the warning window. */
void metrics_cert_expiry(int64_t server_not_after, int64_t principal_next,
                         uint64_t principals_expiring);

/* The gauges read at each scrape. cases, queue_open, oldest_open_age and
 * overdue are -1 when the database could not be read. */
struct metrics_gauges {
	uint64_t open_connections;
	uint64_t waiting_polls;
	int64_t cases;
	int64_t queue_open;
	int64_t oldest_open_age;     /* seconds, 0 when the queue is empty */
	int64_t overdue;             /* open cases past a removal order's hour */
	/* removal orders (contract section 9): open, open past their hour,
	 * actioned within and after it; -1 when unread */
	int64_t orders_open;
	int64_t orders_overdue;
	int64_t orders_within;
	int64_t orders_after;
};

/* Renders every metric. Returns a malloc'd text. */
char *metrics_render(const struct metrics_gauges *g);

#endif
