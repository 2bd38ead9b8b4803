/*
 * http.c - libmicrohttpd glue (see http.h): connection and request life
 * cycle, the auth gate, routing, body limits, responses, long-poll parking.
 * The request path reads top to bottom in on_request: authenticate, route,
 * check role, size and type, read the body, handle, respond.
 */
#include "http.h"
#include "console.h"
#include "authgate.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "slots.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Mozilla "intermediate": TLS 1.2 and 1.3, ECDHE, AEAD suites only. */
static const char tls_priorities[] =
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"
	"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:"
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SAFE_RENEGOTIATION";

/* Seconds a client is told to wait when its principal holds all the
 * connections it may: one of them frees when its request ends or it idles
 * out. */
#define CONN_RETRY_AFTER 5

struct rq;

static void log_mhd(void *cls, const char *fmt, va_list ap);

/* One TLS connection's own state (MHD's socket context): what its peer
 * has proven, and the principal whose connection cap it counts against
 * (from its first authenticated request on). */
struct conn_ctx {
	struct authgate_cache auth;
	char principal[RG_NAME_MAX + 1];
	bool counted;
};

struct http {
	struct app *app;
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *ops;        /* /healthz and /metrics, loopback */
	pthread_mutex_t lock;          /* guards the waiters list */
	struct rq *waiters;
	size_t n_waiting;
	bool stopping;
	uint64_t wake_gen;             /* bumped by every commit's wake-up */
	size_t n_deferred;             /* suspended for a handler's work
	                                  (response.start) until resumed */
	pthread_cond_t deferred_cond;  /* signalled when n_deferred drops */
	pthread_t timer;
	pthread_cond_t timer_cond;
	bool timer_started;
	struct slots *slots;           /* per-principal connections, polls */
};

/* One request's state, from its first callback to its completion. */
struct rq {
	struct http *http;
	struct MHD_Connection *conn;
	struct request req;
	const struct route *route;
	struct route_params params;
	char req_id[32];
	struct timespec started;
	uint8_t *body;
	size_t body_len, body_cap;
	bool too_large;
	bool parked;                    /* in the waiters list, suspended */
	bool deferred;                  /* suspended for response.start */
	bool poll_slot;                 /* holds one of its principal's long-
	                                   poll slots (until completed) */
	char slot_owner[RG_NAME_MAX + 1];
	int64_t wait_until;
	struct rq *prev, *next;
	int status;
	const char *code;
	const char *why;                /* a refusal's reason, for the log */
	struct store_access_key key;
	struct store_key_holder *key_holder;
	struct response early;          /* a refusal decided before the body */
	bool has_early;
	size_t drained;                 /* body bytes read and dropped */
};

const char *request_header(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *request_query(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

void request_resume(struct request *req)
{
	struct rq *rq = (struct rq *)((char *)req - offsetof(struct rq, req));
	struct http *h = rq->http;
	pthread_mutex_lock(&h->lock);
	rq->deferred = false;
	MHD_resume_connection(rq->conn);
	h->n_deferred--;
	pthread_cond_broadcast(&h->deferred_cond);
	pthread_mutex_unlock(&h->lock);
}

/* Suspends the connection for the handler's own work (response.start)
 * and starts it; the handler answers when request_resume calls it
 * again. */
static enum MHD_Result defer(struct rq *rq, struct response *res)
{
	void (*start)(struct request *req) = res->start;
	struct http *h = rq->http;
	free(res->body);
	res->body = NULL;
	pthread_mutex_lock(&h->lock);
	rq->deferred = true;
	h->n_deferred++;
	MHD_suspend_connection(rq->conn);
	pthread_mutex_unlock(&h->lock);
	start(&rq->req);
	return MHD_YES;
}

/* Queues res on the connection; takes ownership of res->body. */
static enum MHD_Result send_response(struct rq *rq, struct response *res)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		res->body_len, res->body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(res->body);
		res->body = NULL;
		return MHD_NO;
	}
	res->body = NULL;
	MHD_add_response_header(r, "Content-Type", res->content_type
			? res->content_type : "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Request-Id", rq->req_id);
	if (res->etag[0])
		MHD_add_response_header(r, "ETag", res->etag);
	if (res->location[0])
		MHD_add_response_header(r, "Location", res->location);
	if (res->close)
		MHD_add_response_header(r, "Connection", "close");
	if (res->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", res->retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	if (console_path(rq->req.path))
		for (size_t i = 0; i < console_n_headers; i++)
			MHD_add_response_header(r, console_headers[i][0],
						console_headers[i][1]);
	if (res->status == 405) {
		char allow[64];
		routes_allow(rq->req.path, allow, sizeof allow);
		MHD_add_response_header(r, "Allow", allow);
	}
	rq->status = res->status;
	rq->code = res->code;
	enum MHD_Result ok = MHD_queue_response(rq->conn, (unsigned)res->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result send_problem(struct rq *rq, int status,
                                    const char *code, const char *detail)
{
	struct response res = {0};
	response_problem(&res, status, code, detail);
	return send_response(rq, &res);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bodies up to this size are read and dropped before a refusal decided
 * from the headers alone is sent: answering while the client is still
 * sending makes MHD close the connection, and the client may then see a
 * reset instead of the answer. Larger ones are refused at once. */
#define DISCARD_MAX (1024 * 1024)

/* Whether the client will send a body we should drain first. */
static bool drain_first(struct rq *rq)
{
	const char *expect = request_header(&rq->req, "Expect");
	const char *cl = request_header(&rq->req, "Content-Length");
	const char *te = request_header(&rq->req, "Transfer-Encoding");
	if (expect && strncasecmp(expect, "100-continue", 12) == 0)
		return false;   /* MHD has not asked for the body: answer now */
	if (!rq->req.principal.name[0])
		return false;   /* nothing is read for an unauthenticated peer */
	if (te)
		return true;
	if (!cl)
		return false;
	unsigned long long n = strtoull(cl, NULL, 10);
	return n > 0 && n <= DISCARD_MAX;
}

/* Sends a refusal decided from the headers, now or once the body has
 * been drained (see DISCARD_MAX). */
static enum MHD_Result refuse(struct rq *rq, struct response *res)
{
	if (!drain_first(rq))
		return send_response(rq, res);
	rq->early = *res;
	rq->has_early = true;
	res->body = NULL;
	return MHD_YES;
}

static enum MHD_Result refuse_problem(struct rq *rq, int status,
                                      const char *code, const char *detail)
{
	struct response res = {0};
	response_problem(&res, status, code, detail);
	return refuse(rq, &res);
}

enum park_result {
	PARKED,         /* suspended until a commit or its deadline */
	PARK_RETRY,     /* a wake-up came since gen: look again */
	PARK_FULL,      /* stopping, or long_poll_max polls wait: answer now */
	PARK_OVER,      /* its principal holds long_poll_per_principal polls */
};

/* Parks a long poll until a commit or its deadline, unless its principal
 * already holds as many long polls as it may, a wake-up came after
 * generation gen was read, the daemon is stopping or long_poll_max polls
 * already wait. A poll takes its principal's slot at its first parking
 * and keeps it until it completes (so a woken poll parks again). */
static enum park_result park(struct rq *rq, int64_t deadline, uint64_t gen)
{
	struct http *h = rq->http;
	enum park_result r = PARK_FULL;
	if (!rq->poll_slot) {
		const char *name = rq->req.principal.name;
		if (!slots_take(h->slots, SLOT_POLL, name,
				h->app->conf.long_poll_per_principal))
			return PARK_OVER;
		snprintf(rq->slot_owner, sizeof rq->slot_owner, "%s", name);
		rq->poll_slot = true;
	}
	pthread_mutex_lock(&h->lock);
	if (h->wake_gen != gen && !h->stopping) {
		r = PARK_RETRY;
	} else if (!h->stopping &&
		   h->n_waiting < (size_t)h->app->conf.long_poll_max) {
		rq->wait_until = deadline;
		rq->parked = true;
		rq->prev = NULL;
		rq->next = h->waiters;
		if (h->waiters)
			h->waiters->prev = rq;
		h->waiters = rq;
		h->n_waiting++;
		MHD_suspend_connection(rq->conn);
		pthread_cond_signal(&h->timer_cond);
		r = PARKED;
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}

static uint64_t wake_generation(struct http *h)
{
	pthread_mutex_lock(&h->lock);
	uint64_t gen = h->wake_gen;
	pthread_mutex_unlock(&h->lock);
	return gen;
}

static bool is_stopping(struct http *h)
{
	pthread_mutex_lock(&h->lock);
	bool stopping = h->stopping;
	pthread_mutex_unlock(&h->lock);
	return stopping;
}

/* Removes rq from the waiters list; the caller holds h->lock. */
static void unpark_locked(struct http *h, struct rq *rq)
{
	if (rq->prev)
		rq->prev->next = rq->next;
	else
		h->waiters = rq->next;
	if (rq->next)
		rq->next->prev = rq->prev;
	rq->prev = rq->next = NULL;
	rq->parked = false;
	h->n_waiting--;
}

/* Resumes every parked request (all, or only those past their deadline). */
static void resume_waiters(struct http *h, bool only_expired, int64_t now)
{
	pthread_mutex_lock(&h->lock);
	struct rq *rq = h->waiters;
	while (rq) {
		struct rq *next = rq->next;
		if (!only_expired || rq->wait_until <= now || h->stopping) {
			unpark_locked(h, rq);
			MHD_resume_connection(rq->conn);
		}
		rq = next;
	}
	pthread_mutex_unlock(&h->lock);
}

void http_wake_polls(void *http)
{
	struct http *h = http;
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->wake_gen++;
	pthread_mutex_unlock(&h->lock);
	resume_waiters(h, false, 0);
}

void http_drop_polls(void *http, const char *principal, const char *key_id)
{
	struct http *h = http;
	if (!h || (!principal && !key_id))
		return;
	pthread_mutex_lock(&h->lock);
	/* A poll between its handler and parking sees this and looks again,
	 * checking its credentials first (on_request). */
	h->wake_gen++;
	struct rq *rq = h->waiters;
	while (rq) {
		struct rq *next = rq->next;
		bool hit = (principal &&
			    strcmp(rq->req.principal.name, principal) == 0) ||
			   (key_id && rq->req.key &&
			    strcmp(rq->req.key->id, key_id) == 0);
		if (hit) {
			unpark_locked(h, rq);
			MHD_resume_connection(rq->conn);
		}
		rq = next;
	}
	pthread_mutex_unlock(&h->lock);
}

/* Resumes long polls whose wait has run out, ten times a second. */
static void *timer_main(void *arg)
{
	struct http *h = arg;
	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&h->timer_cond, &h->lock, &ts);
		if (h->stopping || !h->waiters)
			continue;
		pthread_mutex_unlock(&h->lock);
		resume_waiters(h, true, now_ms());
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Appends an upload chunk, keeping at most max_body bytes. */
static void take_body(struct rq *rq, const char *data, size_t n, size_t max)
{
	if (rq->too_large || n > max - rq->body_len) {
		rq->too_large = true;
		return;
	}
	if (rq->body_len + n + 1 > rq->body_cap) {
		size_t cap = rq->body_cap ? rq->body_cap : 4096;
		while (cap < rq->body_len + n + 1)
			cap *= 2;
		uint8_t *nb = realloc(rq->body, cap);
		if (!nb) {
			rq->too_large = true;
			return;
		}
		rq->body = nb;
		rq->body_cap = cap;
	}
	memcpy(rq->body + rq->body_len, data, n);
	rq->body_len += n;
	rq->body[rq->body_len] = '\0';
}

/* Whether the request's Content-Type is `want` (parameters ignored). */
static bool type_is(const struct request *req, const char *want)
{
	const char *ct = request_header(req, "Content-Type");
	if (!ct)
		return false;
	size_t n = strcspn(ct, "; \t");
	return n == strlen(want) && strncasecmp(ct, want, n) == 0;
}

/* The connection's own state (see struct conn_ctx), or NULL. */
static struct conn_ctx *conn_ctx_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *sc = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return sc ? sc->socket_context : NULL;
}

static struct authgate_cache *auth_cache_of(struct MHD_Connection *conn)
{
	struct conn_ctx *cc = conn_ctx_of(conn);
	return cc ? &cc->auth : NULL;
}

/* Counts the connection against its principal's cap from its first
 * authenticated request on. False when the principal already holds
 * connections_per_principal other connections. */
static bool conn_admit(struct http *h, struct conn_ctx *cc, const char *name)
{
	if (!cc)
		return true;
	if (cc->counted && strcmp(cc->principal, name) == 0)
		return true;
	if (cc->counted) {          /* another certificate on this connection */
		slots_give(h->slots, SLOT_CONN, cc->principal);
		cc->counted = false;
	}
	if (!slots_take(h->slots, SLOT_CONN, name,
			h->app->conf.connections_per_principal))
		return false;
	snprintf(cc->principal, sizeof cc->principal, "%s", name);
	cc->counted = true;
	return true;
}

/* A woken long poll is checked again: its principal (and access key)
 * may have been revoked, or the key may have expired, while it waited.
 * *detail: what a new request would be told with its 401, or NULL. */
static int recheck(struct rq *rq, const char **detail)
{
	struct app *app = rq->http->app;
	struct request *req = &rq->req;
	int64_t now = now_ms() / 1000;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		rq->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const char *why;
	*detail = NULL;
	if (authgate_peer(app, ci ? ci->tls_session : NULL, now,
			  auth_cache_of(rq->conn), &req->principal,
			  &why) != RG_OK) {
		rq->why = why;
		return RG_ENOTFOUND;
	}
	if (!req->key)
		return RG_OK;
	const union MHD_ConnectionInfo *ai = MHD_get_connection_info(
		rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	store_access_key_release(rq->key_holder);
	rq->key_holder = NULL;
	req->key = NULL;
	if (authgate_access_key(app, &req->principal,
				request_header(req, "Authorization"),
				ai ? ai->client_addr : NULL, now, &rq->key,
				&rq->key_holder) != RG_OK) {
		*detail = AUTHGATE_KEY_REFUSED;
		return RG_ENOTFOUND;
	}
	req->key = &rq->key;
	return RG_OK;
}

struct framing {
	int content_length;
	int transfer_encoding;
	bool bad_value;
	bool control;
};

/* Counts the framing headers and looks for control characters. */
static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind,
                                    const char *key, size_t key_size,
                                    const char *value, size_t value_size)
{
	struct framing *f = cls;
	/* a NUL (say an unescaped %00) would cut the value short: refuse */
	if ((value && strlen(value) != value_size) || strlen(key) != key_size)
		f->control = true;
	for (const unsigned char *p = (const unsigned char *)value; p && *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			f->control = true;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			f->control = true;   /* "Transfer-Encoding : chunked" */
	if (kind != MHD_HEADER_KIND)
		return MHD_YES;
	if (strcasecmp(key, "Content-Length") == 0) {
		f->content_length++;
		if (!value || !*value || strspn(value, "0123456789") != strlen(value))
			f->bad_value = true;
	} else if (strcasecmp(key, "Transfer-Encoding") == 0) {
		f->transfer_encoding++;
		if (!value || strcasecmp(value, "chunked") != 0)
			f->bad_value = true;
	}
	return MHD_YES;
}

/* Whether the request's framing is ambiguous (the stuff of request
 * smuggling: Content-Length with Transfer-Encoding, repeated or
 * malformed Content-Length, any coding but plain "chunked") or a header,
 * path or query carries a control character. Such a request is refused
 * with 400 and its connection closed, so no byte of it is read as
 * another request. */
static bool request_malformed(struct rq *rq, const char *url)
{
	struct framing f = {0};
	MHD_get_connection_values_n(rq->conn, MHD_HEADER_KIND, count_header, &f);
	MHD_get_connection_values_n(rq->conn, MHD_GET_ARGUMENT_KIND, count_header, &f);
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			f.control = true;
	return f.control || f.bad_value || f.content_length > 1 ||
	       f.transfer_encoding > 1 ||
	       (f.transfer_encoding && f.content_length);
}

/* First callback of a request: everything that can be decided before the
 * body is read. Returns a queued answer's result, or MHD_YES to go on. */
static enum MHD_Result begin(struct rq *rq, const char *method, const char *url)
{
	struct app *app = rq->http->app;
	struct request *req = &rq->req;
	if (request_malformed(rq, url)) {
		struct response res = {0};
		response_problem(&res, 400, "bad_request",
				 "ambiguous message framing or a control character");
		res.close = true;
		return send_response(rq, &res);
	}
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		rq->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	int arc = authgate_peer(app, ci ? ci->tls_session : NULL, req->now,
				auth_cache_of(rq->conn), &req->principal,
				&rq->why);
	if (arc == RG_ENOTFOUND)
		return refuse_problem(rq, 401, "unauthenticated", NULL);
	if (arc != RG_OK)
		return refuse_problem(rq, 503, "unavailable",
				      "the gateway cannot reach its storage; try again");
	if (!conn_admit(rq->http, conn_ctx_of(rq->conn), req->principal.name)) {
		/* Answered, then closed: the connection never counts. */
		struct response res = {0};
		metrics_inc(M_RATE_LIMITED);
		response_problem(&res, 429, "rate_limited",
				 "this principal holds as many open connections"
				 " as it may (connections_per_principal)");
		res.retry_after = CONN_RETRY_AFTER;
		res.close = true;
		return refuse(rq, &res);
	}
	int retry_after = 0;
	if (!ratelimit_take(app->ratelimit, req->principal.name, req->now_ms,
			    &retry_after)) {
		struct response res = {0};
		metrics_inc(M_RATE_LIMITED);
		response_problem(&res, 429, "rate_limited", "request budget exceeded");
		res.retry_after = retry_after;
		return refuse(rq, &res);
	}
	const char *authz = request_header(req, "Authorization");
	if (authz) {
		const union MHD_ConnectionInfo *ai = MHD_get_connection_info(
			rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (authgate_access_key(app, &req->principal, authz,
					ai ? ai->client_addr : NULL, req->now,
					&rq->key, &rq->key_holder) != RG_OK)
			return refuse_problem(rq, 401, "unauthenticated",
					      AUTHGATE_KEY_REFUSED);
		req->key = &rq->key;
	}
	if (strncmp(url, ROUTES_ADMIN_PREFIX, strlen(ROUTES_ADMIN_PREFIX)) == 0 &&
	    req->principal.role != ROLE_LEGAL)
		return refuse_problem(rq, 403, "forbidden",
				    "the administration API is for the legal team");
	int status;
	rq->route = routes_match(method, url, &rq->params, req->params, &status);
	if (!rq->route)
		return refuse_problem(rq, status, status == 405
				    ? "method_not_allowed" : "not_found", NULL);
	if (!(rq->route->roles & ROLE_BIT(req->principal.role)))
		return refuse_problem(rq, 403, "forbidden",
				    "this role may not use this endpoint");
	const char *cl = request_header(req, "Content-Length");
	if (cl && strtoull(cl, NULL, 10) > (unsigned long long)app->conf.max_body)
		return refuse_problem(rq, 413, "payload_too_large", NULL);
	if (rq->route->content_type && !type_is(req, rq->route->content_type))
		return refuse_problem(rq, 415, "unsupported_media_type",
				    strcmp(rq->route->content_type, "application/jose") == 0
				    ? "send the signed referral (compact JWS) as Content-Type: application/jose"
				    : strcmp(rq->route->content_type, "application/json") == 0
				    ? "send the body as Content-Type: application/json"
				    : "send the form as Content-Type: application/x-www-form-urlencoded");
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct rq *rq = *con_cls;
	if (!rq) {
		if (!(rq = calloc(1, sizeof *rq)))
			return MHD_NO;
		*con_cls = rq;
		rq->http = h;
		rq->conn = conn;
		clock_gettime(CLOCK_MONOTONIC, &rq->started);
		/* Random, not a counter: a shared counter would tell each
		 * client how many requests others made in between. */
		uint8_t rid[12];
		randombytes_buf(rid, sizeof rid);
		sodium_bin2hex(rq->req_id, sizeof rq->req_id, rid, sizeof rid);
		rq->req.app = h->app;
		rq->req.req_id = rq->req_id;
		rq->req.method = method;
		rq->req.path = url;
		rq->req.conn = conn;
		rq->req.now_ms = now_ms();
		rq->req.now = rq->req.now_ms / 1000;
		return begin(rq, method, url);
	}
	if (*upload_size > 0 && (rq->has_early || rq->too_large)) {
		/* drained, never stored; past DISCARD_MAX the connection goes */
		rq->drained += *upload_size;
		*upload_size = 0;
		return rq->drained > DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (rq->has_early)
		return send_response(rq, &rq->early);
	if (*upload_size > 0) {
		take_body(rq, upload, *upload_size, (size_t)h->app->conf.max_body);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_large)
		return send_problem(rq, 413, "payload_too_large", NULL);
	const char *detail = NULL;
	if (rq->wait_until > 0 && recheck(rq, &detail) != RG_OK)
		return send_problem(rq, 401, "unauthenticated", detail);
	struct response res = {0};
	rq->req.body = rq->body ? rq->body : (const uint8_t *)"";
	rq->req.body_len = rq->body_len;
	rq->req.wait_until = rq->wait_until;
	rq->req.now_ms = now_ms();
	if (rq->wait_until > 0 && is_stopping(h))
		rq->req.now_ms = rq->wait_until;   /* answer parked polls now */
	rq->req.now = rq->req.now_ms / 1000;
	for (int attempt = 0;; attempt++) {
		uint64_t gen = wake_generation(h);
		rq->route->handler(&rq->req, &res);
		int64_t deadline = res.wait_until;
		if (deadline == 0)
			break;
		free(res.body);
		memset(&res, 0, sizeof res);
		/* A commit between the handler's read and parking would be
		 * missed: park only if no wake-up came since; else look again
		 * (a few times, then answer as if the wait had run out). */
		enum park_result pr = attempt < 3 ? park(rq, deadline, gen)
						  : PARK_FULL;
		if (pr == PARKED)
			return MHD_YES;
		if (pr == PARK_OVER) {
			/* Its other polls answer by their own wait at the
			 * latest: come back after as long as this one asked. */
			int64_t left = (deadline - rq->req.now_ms + 999) / 1000;
			metrics_inc(M_RATE_LIMITED);
			response_problem(&res, 429, "rate_limited",
					 "this principal holds as many waiting long"
					 " polls as it may (long_poll_per_principal)");
			res.retry_after = left < 1 ? 1 : left > 60 ? 60 : (int)left;
			break;
		}
		if (pr == PARK_FULL)
			rq->req.wait_until = rq->req.now_ms;
		/* The wake-up may have been a revocation of its principal or
		 * key: check them again before looking again. */
		if (pr == PARK_RETRY && recheck(rq, &detail) != RG_OK)
			return send_problem(rq, 401, "unauthenticated", detail);
	}
	(void)version;
	if (res.start)
		return defer(rq, &res);
	if (strcmp(method, "GET") == 0 && res.status == 200) {
		if (!res.etag[0])
			response_etag(&res);
		if (response_etag_matches(request_header(&rq->req, "If-None-Match"),
					  res.etag)) {
			free(res.body);
			res.body = NULL;
			res.body_len = 0;
			res.status = 304;
		}
	}
	return send_response(rq, &res);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode why)
{
	struct rq *rq = *con_cls;
	(void)cls;
	(void)conn;
	if (!rq)
		return;
	pthread_mutex_lock(&rq->http->lock);
	if (rq->parked)
		unpark_locked(rq->http, rq);
	pthread_mutex_unlock(&rq->http->lock);
	if (rq->poll_slot)
		slots_give(rq->http->slots, SLOT_POLL, rq->slot_owner);
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	double ms = (double)(end.tv_sec - rq->started.tv_sec) * 1e3 +
		    (double)(end.tv_nsec - rq->started.tv_nsec) / 1e6;
	metrics_request(routes_index(rq->route), rq->status ? rq->status : 499,
			ms / 1e3);
	log_request(rq->req_id, rq->req.principal.name[0] ? rq->req.principal.name
			: NULL, rq->req.method ? rq->req.method : "-",
		    rq->route ? rq->route->pattern : "-",
		    rq->status ? rq->status : (why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 499),
		    rq->code, rq->why, ms);
	if (rq->req.later && rq->req.later_free)
		rq->req.later_free(rq->req.later);
	store_access_key_release(rq->key_holder);
	free(rq->early.body);
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

/* Counts of open connections and parked long polls, for /metrics. */
static void http_gauges(struct http *h, uint64_t *conns, uint64_t *polls)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(
		h->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	*conns = di ? di->num_connections : 0;
	pthread_mutex_lock(&h->lock);
	*polls = h->n_waiting;
	pthread_mutex_unlock(&h->lock);
}

static int count_one(void *ctx, const struct store_change *c)
{
	(void)ctx;
	(void)c;
	return 0;
}

/* The operations listener: plain HTTP on loopback, GET /healthz and
 * GET /metrics only, no request body. */
static enum MHD_Result on_ops(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	char *body = NULL;
	const char *type = "application/problem+json";
	unsigned status = 200;
	(void)version;
	(void)upload;
	if (*upload_size > 0)
		return MHD_NO;
	if (!*con_cls) {              /* headers first; answer on the next call */
		*con_cls = h;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0) {
		status = 405;
		body = problem_json(405, "method_not_allowed", NULL, NULL);
	} else if (strcmp(url, "/healthz") == 0) {
		int64_t last;
		bool ok = store_changes(h->app->store, NULL, INT64_MAX, 1, count_one,
					NULL, &last) == RG_OK;
		status = ok ? 200 : 503;
		type = "application/json";
		body = strdup(ok ? "{\"status\":\"ok\"}" : "{\"status\":\"unavailable\"}");
	} else if (strcmp(url, "/metrics") == 0) {
		struct metrics_gauges g = { .cases = -1, .queue_open = -1,
					    .oldest_open_age = -1, .overdue = -1,
					    .orders_open = -1, .orders_overdue = -1,
					    .orders_within = -1, .orders_after = -1 };
		struct store_order_gauges og;
		struct store_queue_gauges qg;
		int64_t now = (int64_t)time(NULL);
		http_gauges(h, &g.open_connections, &g.waiting_polls);
		type = "text/plain; version=0.0.4";
		if (store_cases_count(h->app->store, &g.cases) != RG_OK)
			g.cases = -1;
		if (store_queue_gauges(h->app->store, now, &qg) == RG_OK) {
			g.queue_open = qg.open;
			g.oldest_open_age = qg.oldest_opened_at ?
				now - qg.oldest_opened_at : 0;
			g.overdue = qg.overdue;
		}
		if (store_order_gauges(h->app->store, now, &og) == RG_OK) {
			g.orders_open = og.open;
			g.orders_overdue = og.overdue;
			g.orders_within = og.within;
			g.orders_after = og.after;
		}
		body = metrics_render(&g);
	} else {
		status = 404;
		body = problem_json(404, "not_found", NULL, NULL);
	}
	if (!body)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* A listening address from "host" (IPv4 or IPv6 literal) and port.
 * *v6 tells which; *loopback whether it is 127.0.0.0/8 or ::1. */
static int listen_addr(const char *host, int port, struct sockaddr_storage *ss,
                       bool *v6, bool *loopback)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*v6 = false;
		*loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		return RG_OK;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*v6 = true;
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return RG_OK;
	}
	return RG_EINVAL;
}

/* Why the address sa cannot be listened on, as the kernel says it (e.g.
 * "Address already in use"), found by binding it once more: MHD's own
 * failure does not say. */
static const char *listen_error(const struct sockaddr_storage *sa, bool v6)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return strerror(errno);
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int rc = bind(fd, (const struct sockaddr *)sa, len);
	int err = errno;
	close(fd);
	return rc == 0 ? "the TLS set-up failed (see the lines before)" : strerror(err);
}

/* Starts the operations listener when configured; only on loopback. */
static int ops_start(struct http *h)
{
	const struct conf *c = &h->app->conf;
	struct sockaddr_storage sa;
	bool v6, loopback;
	if (c->metrics_listen_port == 0)
		return RG_OK;
	if (listen_addr(c->metrics_listen_host, c->metrics_listen_port, &sa, &v6,
			&loopback) != RG_OK || !loopback) {
		log_msg(LOG_ERROR, "metrics_listen: %s is not a loopback address",
			c->metrics_listen_host);
		return RG_EINVAL;
	}
	h->ops = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		(v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
		on_ops, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_LIMIT, 64u,
		MHD_OPTION_CONNECTION_TIMEOUT, 10u,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, h,
		MHD_OPTION_END);
	if (!h->ops) {
		log_msg(LOG_ERROR, "cannot listen on http://%s:%d: %s",
			c->metrics_listen_host, c->metrics_listen_port,
			listen_error(&sa, v6));
		return RG_EIO;
	}
	log_msg(LOG_INFO, "operations listener on http://%s:%d (/healthz, /metrics)",
		c->metrics_listen_host, c->metrics_listen_port);
	return RG_OK;
}

/* Gives each connection its own state (an auth cache, so a keep-alive
 * connection verifies its certificate chain once, and the principal it
 * counts against); gives the principal's slot back when it closes. */
static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct http *h = cls;
	(void)conn;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct conn_ctx));
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct conn_ctx *cc = *socket_context;
		if (cc && cc->counted)
			slots_give(h->slots, SLOT_CONN, cc->principal);
		free(cc);
		*socket_context = NULL;
	}
}

/* Reads a whole (small) file into a malloc'd NUL-terminated buffer. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(65537);
	size_t n = buf ? fread(buf, 1, 65536, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg(LOG_DEBUG, "mhd: %s", msg);
}

struct http *http_start(struct app *app)
{
	struct conf *c = &app->conf;
	char path[CONF_PATH_MAX];
	char *cert = NULL, *key = NULL;
	struct http *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->app = app;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->timer_cond, NULL);
	pthread_cond_init(&h->deferred_cond, NULL);
	if (!(h->slots = slots_new()))
		goto fail;
	if (conf_path(c, c->tls_cert, path, sizeof path) || !(cert = slurp(path)) ||
	    conf_path(c, c->tls_key, path, sizeof path) || !(key = slurp(path))) {
		log_msg(LOG_ERROR, "cannot read the server certificate or key");
		goto fail;
	}
	struct sockaddr_storage sa;
	bool v6, loopback;
	if (listen_addr(c->listen_host, c->listen_port, &sa, &v6, &loopback) != RG_OK) {
		log_msg(LOG_ERROR, "listen: %s is not an IP address", c->listen_host);
		goto fail;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = c->threads > 0 ? (unsigned)c->threads
					  : (unsigned)(cores > 0 ? cores : 2);
	h->daemon = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TLS |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
		(v6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_HTTPS_MEM_CERT, cert,
		MHD_OPTION_HTTPS_MEM_KEY, key,
		MHD_OPTION_HTTPS_MEM_TRUST, app->client_ca_pem,
		MHD_OPTION_HTTPS_PRIORITIES, tls_priorities,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->connection_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, h,
		MHD_OPTION_END);
	if (!h->daemon) {
		log_msg(LOG_ERROR, "cannot listen on %s:%d: %s", c->listen_host,
			c->listen_port, listen_error(&sa, v6));
		goto fail;
	}
	if (ops_start(h) != RG_OK ||
	    pthread_create(&h->timer, NULL, timer_main, h) != 0)
		goto fail;
	h->timer_started = true;
	explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	log_msg(LOG_INFO, "listening on https://%s:%d with %u threads",
		c->listen_host, c->listen_port, threads);
	return h;
fail:
	if (key)
		explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	http_stop(h, 0);
	return NULL;
}

void http_stop(struct http *h, int grace_seconds)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	pthread_cond_signal(&h->timer_cond);
	pthread_mutex_unlock(&h->lock);
	if (h->timer_started)
		pthread_join(h->timer, NULL);
	if (h->ops)
		MHD_stop_daemon(h->ops);
	if (h->daemon) {
		MHD_quiesce_daemon(h->daemon);
		resume_waiters(h, false, 0);
		/* Work handed on (a commit) resumes its connection when it
		 * ends, and the store finishes what it took: wait for it, as
		 * MHD may not stop with a connection suspended. */
		pthread_mutex_lock(&h->lock);
		while (h->n_deferred > 0)
			pthread_cond_wait(&h->deferred_cond, &h->lock);
		pthread_mutex_unlock(&h->lock);
		for (int i = 0; i < grace_seconds * 10; i++) {
			const union MHD_DaemonInfo *di = MHD_get_daemon_info(
				h->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
			if (!di || di->num_connections == 0)
				break;
			resume_waiters(h, false, 0);
			usleep(100000);
		}
		MHD_stop_daemon(h->daemon);
	}
	pthread_cond_destroy(&h->timer_cond);
	pthread_cond_destroy(&h->deferred_cond);
	pthread_mutex_destroy(&h->lock);
	slots_free(h->slots);
	free(h);
}
