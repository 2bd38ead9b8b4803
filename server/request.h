/*
 * request.h - what a handler sees of a request and gives back: no
 * libmicrohttpd types (http.c translates). One struct request per request,
 * owned by http.c; a handler fills struct response and returns.
 */
#ifndef RG_REQUEST_H
#define RG_REQUEST_H

#include "app.h"

#include "../proto/problem.h"

#include <jansson.h>

/* Limits on what one request may carry: more header fields or query
 * arguments than this are refused with 400 bad_request (http.c). */
#define REQUEST_HEADERS_MAX 64
#define REQUEST_QUERY_MAX 16

/* One header field or query argument, as received (names and values
 * live as long as the request; a query argument without "=" has value
 * NULL). */
struct request_field {
	const char *name;
	const char *value;
};

struct request {
	struct app *app;
	const char *req_id;
	const char *method;
	const char *path;
	const char *params[2];           /* path parameters, validated */
	struct store_principal principal;   /* authenticated caller */
	const uint8_t *body;             /* NUL-terminated, may hold NULs */
	size_t body_len;
	int64_t now;                     /* Unix seconds at arrival */
	int64_t now_ms;                  /* the same in milliseconds */
	int64_t wait_until;              /* a woken long poll: its deadline
	                                    (Unix ms); 0 on the first call */
	struct request_field headers[REQUEST_HEADERS_MAX];
	size_t n_headers;
	struct request_field query[REQUEST_QUERY_MAX];
	size_t n_query;
	const struct store_access_key *key;  /* a valid Bearer access key of
	                                        this principal, or NULL */
	/* A handler's work in flight while its connection is suspended (see
	 * response.start): NULL on the first call; on the call after
	 * request_resume, what the handler left. later_free(later) runs
	 * when the request ends. */
	void *later;
	void (*later_free)(void *later);
};

struct response;

/* A whole number in [min, max] (min >= 0) from s: decimal digits only,
 * no sign, no spaces (leading zeros allowed). False when s is NULL or
 * is not such a number. */
bool request_int_parse(const char *s, int64_t min, int64_t max, int64_t *out);

/* The one reading of an integer query argument (limit, wait, index...):
 * *out = def when `name` is absent (or has no value); its value when it
 * is a whole number in [min, max] (request_int_parse); otherwise false,
 * with res set to 400 bad_request saying what `name` must be. */
bool request_query_int(const struct request *req, struct response *res,
                       const char *name, int64_t min, int64_t max,
                       int64_t def, int64_t *out);

/* Ends the suspension that response.start began: the handler is called
 * again (req->later still set) and its answer sent. Once per start, from
 * any thread; it must be the last use of req by that thread. */
void request_resume(struct request *req);

/* A request header's value (case-insensitive name, the first of that
 * name) or NULL. */
const char *request_header(const struct request *req, const char *name);
/* A query argument's value (case-insensitive name, the first of that
 * name) or NULL when absent or without a value. */
const char *request_query(const struct request *req, const char *name);

struct response {
	int status;
	char *body;                      /* malloc'd, owned by the response */
	size_t body_len;
	const char *content_type;        /* static string */
	const char *code;                /* problem code, for the log */
	char etag[72];                   /* "" when none */
	char location[96];
	int retry_after;                 /* seconds, 0: none */
	int64_t wait_until;              /* >0: park the request until this
	                                    Unix ms time or a commit */
	bool close;                      /* close the connection after it */
	/* Set by a handler whose answer waits on work elsewhere (a commit):
	 * nothing is sent now; http.c suspends the connection, so no thread
	 * waits, then calls start(req), which hands the work on and makes
	 * sure request_resume(req) is called once, when it is done. */
	void (*start)(struct request *req);
};

/* Sets a problem+json response: status, code, detail (may be NULL). */
void response_problem(struct response *res, int status, const char *code,
                      const char *detail);
/* Same with a list of payload errors (invalid_payload). */
void response_problem_items(struct response *res, int status,
                            const char *code,
                            const struct problem_items *items);
/* Serialises j (stolen) as an application/json body with status. */
void response_json(struct response *res, int status, json_t *j);
/* Sets a strong ETag over the body. */
void response_etag(struct response *res);

/* Whether an If-None-Match value names etag (or is "*"); weak
 * comparison, as RFC 9110 asks for If-None-Match. */
bool response_etag_matches(const char *if_none_match, const char *etag);

/* Sets o[key] to the RFC 3339 form of t, unless t is 0 (absent). */
void json_set_time(json_t *o, const char *key, int64_t t);

/* The one translation from a failed storage call's result (rg.h) to an
 * HTTP answer, so that one failure is answered alike everywhere:
 *   RG_ENOTFOUND  404 not_found (also what the caller may not see)
 *   RG_ECONFLICT  409 bad_transition
 *   RG_ETOOBIG    413 payload_too_large
 *   anything else 503 unavailable (nothing was written)
 * detail (may be NULL) goes into the problem. A handler whose resource
 * gives a code another meaning (a claim held by another reviewer, a
 * reused jti, a daily quota, a payload the store refused) answers that
 * code itself first and hands the rest here. */
void response_store_error(struct response *res, int rc, const char *detail);

/* The answer to a revocation that storage returned rc for: 200
 * {member: id, "revoked_at"}, 404 not_found, or 503 unavailable.
 * revoked_at: when the thing was revoked before (a 404 that says "already
 * revoked at ..."), or 0 (a 404 that says there is no such thing). */
void response_revoked(struct response *res, int rc, const char *member,
                      const char *id, int64_t now, int64_t revoked_at);

typedef void (*handler_fn)(struct request *req, struct response *res);

#endif
