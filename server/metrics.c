/*
 * metrics.c - counters and their Prometheus rendering (see metrics.h).
 */
#include "metrics.h"
#include "routes.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTES 64

static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
			       409, 413, 415, 429, 500, 503};
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

static atomic_uint_fast64_t counters[M_COUNT];
/* [route][status index]; the last status column is "other". */
static atomic_uint_fast64_t requests[MAX_ROUTES + 1][N_STATUSES + 1];
static atomic_uint_fast64_t latency_bucket[N_BUCKETS + 1];
static atomic_uint_fast64_t latency_sum_us;

static const char *const counter_names[M_COUNT][2] = {
	[M_REFERRALS] = {"refgate_referrals_total", "Referrals recorded"},
	[M_REFERRAL_REPLAYS] = {"refgate_referral_replays_total",
				"Byte-identical resubmissions answered again"},
	[M_CASES_OPENED] = {"refgate_cases_opened_total", "Subjects that opened a case"},
	[M_DEDUP_HITS] = {"refgate_dedup_hits_total",
			  "Subjects that joined an existing case"},
	[M_DISCLOSURES] = {"refgate_disclosures_total",
			   "Answers that disclosed account identifiers"},
	[M_RATE_LIMITED] = {"refgate_rate_limited_total", "Requests answered 429"},
	[M_KEY_MISUSE] = {"refgate_access_key_misuse_total",
			  "Access keys presented with another principal's certificate"},
	[M_VIEWS_FROM_MEMORY] = {"refgate_case_views_from_memory_total",
				 "Case views answered from memory (no database read)"},
};

void metrics_inc(enum metric_counter c)
{
	if (c < M_COUNT)
		atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
}

void metrics_request(size_t route, int status, double seconds)
{
	size_t r = route < routes_count() && route < MAX_ROUTES ? route : MAX_ROUTES;
	size_t s = N_STATUSES;
	for (size_t i = 0; i < N_STATUSES; i++)
		if (statuses[i] == status)
			s = i;
	atomic_fetch_add_explicit(&requests[r][s], 1, memory_order_relaxed);
	size_t b = N_BUCKETS;
	for (size_t i = 0; i < N_BUCKETS; i++) {
		if (seconds <= buckets[i]) {
			b = i;
			break;
		}
	}
	atomic_fetch_add_explicit(&latency_bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_sum_us, (uint64_t)(seconds * 1e6),
				  memory_order_relaxed);
}

struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (int attempt = 0; attempt < 2 && !t->failed; attempt++) {
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap + (size_t)n + 1) * 2;
		char *nb = realloc(t->buf, cap);
		if (!nb) {
			t->failed = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

static uint64_t get(atomic_uint_fast64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

static void render_requests(struct text *t)
{
	put(t, "# HELP refgate_requests_total Requests by route and status\n"
	       "# TYPE refgate_requests_total counter\n");
	size_t n_routes = routes_count();
	for (size_t r = 0; r <= MAX_ROUTES; r++) {
		if (r >= n_routes && r != MAX_ROUTES)
			continue;
		const char *name = r < n_routes ? routes_name(r) : "none";
		for (size_t s = 0; s <= N_STATUSES; s++) {
			uint64_t v = get(&requests[r][s]);
			if (v == 0)
				continue;
			if (s < N_STATUSES)
				put(t, "refgate_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
				    name, statuses[s], (unsigned long long)v);
			else
				put(t, "refgate_requests_total{route=\"%s\",status=\"other\"} %llu\n",
				    name, (unsigned long long)v);
		}
	}
}

static void render_latency(struct text *t)
{
	uint64_t cum = 0;
	put(t, "# HELP refgate_request_duration_seconds Request latency\n"
	       "# TYPE refgate_request_duration_seconds histogram\n");
	for (size_t i = 0; i < N_BUCKETS; i++) {
		cum += get(&latency_bucket[i]);
		put(t, "refgate_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    buckets[i], (unsigned long long)cum);
	}
	cum += get(&latency_bucket[N_BUCKETS]);
	put(t, "refgate_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	       "refgate_request_duration_seconds_sum %.6f\n"
	       "refgate_request_duration_seconds_count %llu\n",
	    (unsigned long long)cum, (double)get(&latency_sum_us) / 1e6,
	    (unsigned long long)cum);
}

static _Atomic int64_t server_cert_not_after, principal_cert_next;
static atomic_uint_fast64_t principals_cert_expiring;

void metrics_cert_expiry(int64_t server_not_after, int64_t principal_next,
                         uint64_t principals_expiring)
{
	atomic_store(&server_cert_not_after, server_not_after);
	atomic_store(&principal_cert_next, principal_next);
	atomic_store(&principals_cert_expiring, principals_expiring);
}

/* One gauge, unless its value is negative (unknown). */
static void gauge(struct text *t, const char *name, const char *help,
                  int64_t v)
{
	if (v >= 0)
		put(t, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help,
		    name, name, (long long)v);
}

char *metrics_render(const struct metrics_gauges *g)
{
	struct text t = {0};
	render_requests(&t);
	render_latency(&t);
	for (int c = 0; c < M_COUNT; c++)
		put(&t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
		    counter_names[c][0], counter_names[c][1], counter_names[c][0],
		    counter_names[c][0], (unsigned long long)get(&counters[c]));
	gauge(&t, "refgate_open_connections", "Open client connections",
	      (int64_t)g->open_connections);
	gauge(&t, "refgate_waiting_long_polls", "Long polls parked",
	      (int64_t)g->waiting_polls);
	gauge(&t, "refgate_cases", "Cases stored", g->cases);
	gauge(&t, "refgate_review_queue_open",
	      "Open cases (received or in_review)", g->queue_open);
	gauge(&t, "refgate_review_oldest_open_seconds",
	      "Age of the oldest open case since it was opened (0: none open)",
	      g->oldest_open_age);
	gauge(&t, "refgate_removal_orders_overdue",
	      "Open cases whose removal-order hour has passed", g->overdue);
	gauge(&t, "refgate_removal_orders_open",
	      "Removal orders with a case still to decide", g->orders_open);
	gauge(&t, "refgate_removal_orders_open_overdue",
	      "Removal orders still open after their hour", g->orders_overdue);
	gauge(&t, "refgate_removal_orders_actioned_within_hour",
	      "Removal orders actioned within their hour", g->orders_within);
	gauge(&t, "refgate_removal_orders_actioned_after_hour",
	      "Removal orders actioned after their hour", g->orders_after);
	int64_t server_na = atomic_load(&server_cert_not_after);
	int64_t next_na = atomic_load(&principal_cert_next);
	if (server_na > 0)
		gauge(&t, "refgate_server_certificate_expiry_timestamp_seconds",
		      "notAfter of the server certificate (Unix time)", server_na);
	if (next_na > 0)
		gauge(&t, "refgate_principal_certificate_next_expiry_timestamp_seconds",
		      "The earliest notAfter among active principals' latest "
		      "certificates (Unix time)", next_na);
	gauge(&t, "refgate_principal_certificates_expiring",
	      "Active principals whose latest certificate expires within 30 days",
	      (int64_t)atomic_load(&principals_cert_expiring));
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}
