/*
 * console_int.h - what the console's files share: form parsing, the
 * anti-CSRF token and origin check, the page frame, and the call into an
 * API handler. Only server/console*.c include it.
 */
#ifndef RG_CONSOLE_INT_H
#define RG_CONSOLE_INT_H

#include "console.h"
#include "console_html.h"
#include "keys.h"

#include <jansson.h>

/* ---- forms (console_form.c) ----------------------------------------- */

#define FORM_MAX_FIELDS 16

/* An application/x-www-form-urlencoded body, decoded. */
struct form {
	size_t n;
	char *name[FORM_MAX_FIELDS];
	char *value[FORM_MAX_FIELDS];
	char *mem;                   /* one allocation holding them all */
};

/* Parses body[0..len): name=value pairs joined by '&', '+' for space,
 * %XX escapes. RG_EINVAL for a malformed escape, a NUL, bytes that are
 * not UTF-8, a repeated or empty name, or more than FORM_MAX_FIELDS
 * fields; RG_ENOMEM. On success free with form_free. */
int form_parse(const uint8_t *body, size_t len, struct form *f);
/* The value of field name, or NULL when absent. */
const char *form_get(const struct form *f, const char *name);
/* The value, or NULL when absent or empty. */
const char *form_nonempty(const struct form *f, const char *name);
void form_free(struct form *f);

/* ---- cross-site request forgery (console_csrf.c) -------------------- */

#define CSRF_WINDOW 3600             /* a token is good for 1-2 windows */
#define CSRF_TOKEN_LEN 43            /* base64url of 32 bytes */

/* The console's token key, derived from the gateway's data key (so that
 * every node of a cluster accepts the others' tokens). */
void csrf_key(const struct keys *k, uint8_t out[32]);
/* The token for principal at time now: HMAC-SHA-256 over the principal
 * and the window now / CSRF_WINDOW. */
void csrf_token(const uint8_t key[32], const char *principal, int64_t now,
                char out[CSRF_TOKEN_LEN + 1]);
/* Whether token is principal's, of this window or the one before. */
bool csrf_valid(const uint8_t key[32], const char *principal, int64_t now,
                const char *token);
/* Whether a browser's Origin and Sec-Fetch-Site (either may be NULL)
 * say the request comes from the console's own origin, https://host. */
bool csrf_origin_ok(const char *origin, const char *fetch_site,
                    const char *host);

/* ---- pages (console.c) ---------------------------------------------- */

/* Opens a page: doctype, head, the role's navigation, <main>, <h1>. */
void page_begin(struct html *h, const struct request *req, const char *title);
/* Closes it and answers it with status (text/html). */
void page_send(struct request *req, struct response *res, struct html *h,
               int status);
/* An error page: title and detail (either may be NULL). */
void page_error(struct request *req, struct response *res, int status,
                const char *title, const char *detail);
/* 303 See Other to location (a console path). */
void page_redirect(struct response *res, const char *location);
/* <form method="post" action="action"> with the hidden token. */
void form_begin(struct html *h, const struct request *req,
                const char *action);

/* For a POST: the body parsed, its Origin and token checked. false:
 * *res is the refusal (403 page) and f holds nothing. */
bool console_post(struct request *req, struct response *res,
                  struct form *f);

/* Runs the API's handler h for this request's principal, with path
 * parameter p0 (may be NULL) and body (stolen; NULL: none): the same
 * checks, storage calls, policy and audit as the API. *out is its answer;
 * free out->body. */
void console_call(struct request *req, handler_fn h, const char *p0,
                  json_t *body, struct response *out);
/* The answer's JSON body (json_decref it), or NULL. */
json_t *console_json(const struct response *r);
/* An API refusal as an error page: its status, and the problem's detail
 * (or code). Frees r->body. */
void page_problem(struct request *req, struct response *res,
                  struct response *r, const char *title);

/* A time member of o ("2026-...Z") as Unix seconds, 0 when absent. */
int64_t json_time(json_t *o, const char *name);
/* A string member of o, or NULL. */
const char *json_str(json_t *o, const char *name);

#endif
