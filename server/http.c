/*
 * http.c - libmicrohttpd glue (see http.h): connection and request life
 * cycle, the auth gate, routing, body limits, responses. Long polls park
 * in longpoll.c; the operations listener is ops.c.
 * The request path reads top to bottom in on_request: authenticate, route,
 * check role, size and type, read the body, handle, respond.
 */
#include "http.h"
#include "console.h"
#include "authgate.h"
#include "listen.h"
#include "log.h"
#include "longpoll.h"
#include "metrics.h"
#include "ops.h"
#include "routes.h"
#include "slots.h"

#include <stddef.h>
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
	struct ops *ops;               /* /healthz and /metrics, loopback */
	struct longpoll *polls;        /* parked long polls */
	pthread_mutex_t lock;          /* guards n_deferred */
	size_t n_deferred;             /* suspended for a handler's work
	                                  (response.start) until resumed */
	pthread_cond_t deferred_cond;  /* signalled when n_deferred drops */
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
	bool deferred;                  /* suspended for response.start */
	struct longpoll_waiter poll;    /* its long-poll parking */
	int status;
	const char *code;
	const char *why;                /* a refusal's reason, for the log */
	struct store_access_key key;
	struct store_key_holder *key_holder;
	struct response early;          /* a refusal decided before the body */
	bool has_early;
	size_t drained;                 /* body bytes read and dropped */
};

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

/* What reading the header fields and query arguments found. */
struct framing {
	struct request *req;            /* gets the fields */
	int content_length;
	int transfer_encoding;
	bool bad_value;
	bool control;
	bool too_many;                  /* past REQUEST_*_MAX */
};

/* Keeps one field in the request (see request_header, request_query). */
static void keep_field(struct framing *f, enum MHD_ValueKind kind,
                       const char *key, const char *value)
{
	struct request *req = f->req;
	struct request_field *list = kind == MHD_HEADER_KIND ? req->headers
							     : req->query;
	size_t *n = kind == MHD_HEADER_KIND ? &req->n_headers : &req->n_query;
	size_t max = kind == MHD_HEADER_KIND ? REQUEST_HEADERS_MAX
					     : REQUEST_QUERY_MAX;
	if (*n == max) {
		f->too_many = true;
		return;
	}
	list[*n].name = key;
	list[*n].value = value;
	(*n)++;
}

/* Keeps a header field or query argument in the request, counts the
 * framing headers and looks for control characters. */
static enum MHD_Result scan_field(void *cls, enum MHD_ValueKind kind,
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
	keep_field(f, kind, key, value);
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

/* Reads the header fields and query arguments into the request, and
 * says why the request is malformed, or NULL: ambiguous framing (the
 * stuff of request smuggling: Content-Length with Transfer-Encoding,
 * repeated or malformed Content-Length, any coding but plain "chunked"),
 * a control character in a header, the path or the query, or more fields
 * than REQUEST_HEADERS_MAX or REQUEST_QUERY_MAX. Such a request is
 * refused with 400 and its connection closed, so no byte of it is read
 * as another request. */
static const char *read_fields(struct rq *rq, const char *url)
{
	struct framing f = { .req = &rq->req };
	MHD_get_connection_values_n(rq->conn, MHD_HEADER_KIND, scan_field, &f);
	MHD_get_connection_values_n(rq->conn, MHD_GET_ARGUMENT_KIND, scan_field, &f);
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			f.control = true;
	if (f.control || f.bad_value || f.content_length > 1 ||
	    f.transfer_encoding > 1 || (f.transfer_encoding && f.content_length))
		return "ambiguous message framing or a control character";
	if (f.too_many)
		return "more header fields or query arguments than the gateway"
		       " reads";
	return NULL;
}

/* First callback of a request: everything that can be decided before the
 * body is read. Returns a queued answer's result, or MHD_YES to go on. */
static enum MHD_Result begin(struct rq *rq, const char *method, const char *url)
{
	struct app *app = rq->http->app;
	struct request *req = &rq->req;
	const char *malformed = read_fields(rq, url);
	if (malformed) {
		struct response res = {0};
		response_problem(&res, 400, "bad_request", malformed);
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

/* A request's state at its first callback. NULL when out of memory. */
static struct rq *rq_new(struct http *h, struct MHD_Connection *conn,
                         const char *method, const char *url)
{
	struct rq *rq = calloc(1, sizeof *rq);
	if (!rq)
		return NULL;
	rq->http = h;
	rq->conn = conn;
	rq->poll.conn = conn;
	rq->poll.req = &rq->req;
	clock_gettime(CLOCK_MONOTONIC, &rq->started);
	/* Random, not a counter: a shared counter would tell each client
	 * how many requests others made in between. */
	uint8_t rid[12];
	randombytes_buf(rid, sizeof rid);
	sodium_bin2hex(rq->req_id, sizeof rq->req_id, rid, sizeof rid);
	rq->req.app = h->app;
	rq->req.req_id = rq->req_id;
	rq->req.method = method;
	rq->req.path = url;
	rq->req.now_ms = now_ms();
	rq->req.now = rq->req.now_ms / 1000;
	return rq;
}

/* Runs the handler, parking the request while it waits for a change (a
 * long poll). True with the answer in res; false when nothing is to be
 * sent now (parked) or a refusal was queued, *ret then being the result
 * for MHD. */
static bool run_handler(struct rq *rq, struct response *res,
                        enum MHD_Result *ret)
{
	struct longpoll *polls = rq->http->polls;
	const char *detail = NULL;
	for (int attempt = 0;; attempt++) {
		uint64_t gen = longpoll_generation(polls);
		rq->route->handler(&rq->req, res);
		int64_t deadline = res->wait_until;
		if (deadline == 0)
			return true;
		free(res->body);
		memset(res, 0, sizeof *res);
		/* A commit between the handler's read and parking would be
		 * missed: park only if no wake-up came since; else look again
		 * (a few times, then answer as if the wait had run out). */
		enum park_result pr = attempt < 3
			? longpoll_park(polls, &rq->poll, deadline, gen)
			: PARK_FULL;
		if (pr == PARKED) {
			*ret = MHD_YES;
			return false;
		}
		if (pr == PARK_OVER) {
			/* Its other polls answer by their own wait at the
			 * latest: come back after as long as this one asked. */
			int64_t left = (deadline - rq->req.now_ms + 999) / 1000;
			metrics_inc(M_RATE_LIMITED);
			response_problem(res, 429, "rate_limited",
					 "this principal holds as many waiting long"
					 " polls as it may (long_poll_per_principal)");
			res->retry_after = left < 1 ? 1 : left > 60 ? 60 : (int)left;
			return true;
		}
		if (pr == PARK_FULL)
			rq->req.wait_until = rq->req.now_ms;
		/* The wake-up may have been a revocation of its principal or
		 * key: check them again before looking again. */
		if (pr == PARK_RETRY && recheck(rq, &detail) != RG_OK) {
			*ret = send_problem(rq, 401, "unauthenticated", detail);
			return false;
		}
	}
}

/* Sends the handler's answer: deferred when it waits on work elsewhere,
 * 304 when a GET's ETag is the one the client has. */
static enum MHD_Result answer(struct rq *rq, struct response *res)
{
	if (res->start)
		return defer(rq, res);
	if (strcmp(rq->req.method, "GET") == 0 && res->status == 200) {
		if (!res->etag[0])
			response_etag(res);
		if (response_etag_matches(request_header(&rq->req, "If-None-Match"),
					  res->etag)) {
			free(res->body);
			res->body = NULL;
			res->body_len = 0;
			res->status = 304;
		}
	}
	return send_response(rq, res);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct rq *rq = *con_cls;
	(void)version;
	if (!rq) {
		if (!(rq = rq_new(h, conn, method, url)))
			return MHD_NO;
		*con_cls = rq;
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
	if (rq->poll.wait_until > 0 && recheck(rq, &detail) != RG_OK)
		return send_problem(rq, 401, "unauthenticated", detail);
	rq->req.body = rq->body ? rq->body : (const uint8_t *)"";
	rq->req.body_len = rq->body_len;
	rq->req.wait_until = rq->poll.wait_until;
	rq->req.now_ms = now_ms();
	if (rq->poll.wait_until > 0 && longpoll_stopping(h->polls))
		rq->req.now_ms = rq->poll.wait_until;   /* answer parked polls now */
	rq->req.now = rq->req.now_ms / 1000;
	struct response res = {0};
	enum MHD_Result ret;
	if (!run_handler(rq, &res, &ret))
		return ret;
	return answer(rq, &res);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode why)
{
	struct rq *rq = *con_cls;
	(void)cls;
	(void)conn;
	if (!rq)
		return;
	longpoll_finish(rq->http->polls, &rq->poll);
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
static void http_gauges(void *ctx, uint64_t *conns, uint64_t *polls)
{
	struct http *h = ctx;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(
		h->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	*conns = di ? di->num_connections : 0;
	*polls = longpoll_waiting(h->polls);
}

void http_wake_polls(void *http)
{
	struct http *h = http;
	if (h)
		longpoll_wake(h->polls);
}

void http_drop_polls(void *http, const char *principal, const char *key_id)
{
	struct http *h = http;
	if (h)
		longpoll_drop(h->polls, principal, key_id);
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
	pthread_cond_init(&h->deferred_cond, NULL);
	if (!(h->slots = slots_new()) ||
	    !(h->polls = longpoll_start(h->slots, c->long_poll_per_principal,
					c->long_poll_max)))
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
		MHD_OPTION_EXTERNAL_LOGGER, listen_log_mhd, h,
		MHD_OPTION_END);
	if (!h->daemon) {
		log_msg(LOG_ERROR, "cannot listen on %s:%d: %s", c->listen_host,
			c->listen_port, listen_error(&sa, v6));
		goto fail;
	}
	if (ops_start(app, http_gauges, h, &h->ops) != RG_OK)
		goto fail;
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
	longpoll_stop(h->polls);
	ops_stop(h->ops);
	if (h->daemon) {
		MHD_quiesce_daemon(h->daemon);
		longpoll_wake_all(h->polls);
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
			longpoll_wake_all(h->polls);
			usleep(100000);
		}
		MHD_stop_daemon(h->daemon);
	}
	pthread_cond_destroy(&h->deferred_cond);
	pthread_mutex_destroy(&h->lock);
	longpoll_free(h->polls);
	slots_free(h->slots);
	free(h);
}
