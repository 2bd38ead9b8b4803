/*
 * console.c - the console's frame: its security headers, the page
 * layout and navigation, the stylesheet, the POST checks (form, origin,
 * token) and the call into the API's handlers that every form uses, so
 * that a console action is an API request in all but its encoding.
 */
#include "console_int.h"
#include "routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const console_headers[][2] = {
	{"Content-Security-Policy",
	 "default-src 'none'; style-src 'self'; img-src 'self';"
	 " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "same-origin"},   /* "no-referrer" would make
	                                        the forms' Origin "null" */
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
};
const size_t console_n_headers = sizeof console_headers /
                                 sizeof console_headers[0];

bool console_path(const char *path)
{
	size_t n = strlen(CONSOLE_PREFIX);
	return path && strncmp(path, CONSOLE_PREFIX, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

static const char stylesheet[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;"
	"background:#f6f6f4}\n"
	"header{background:#22313f;color:#fff;padding:.6em 1.2em;display:flex;"
	"gap:1.5em;align-items:baseline}\n"
	"header a{color:#fff}header .who{margin-left:auto;opacity:.8}\n"
	"main{padding:1em 1.2em;max-width:80em}\n"
	"table{border-collapse:collapse;width:100%;background:#fff;margin:.5em 0 1em}\n"
	"th,td{border:1px solid #d5d5d0;padding:.3em .5em;text-align:left;"
	"vertical-align:top}\n"
	"th{background:#ecece8}\n"
	".due{color:#a40000;font-weight:600}.muted{color:#666}\n"
	".ok{color:#1f6f1f;font-weight:600}.bad{color:#a40000;font-weight:600}\n"
	".box{background:#fff;border:1px solid #d5d5d0;padding:.8em 1em;"
	"margin:.8em 0}\n"
	".secret{font-family:monospace;font-size:1.1em;background:#fff6d5;"
	"padding:.5em;border:1px solid #e0c060;word-break:break-all}\n"
	"pre{white-space:pre-wrap;word-break:break-word;margin:0}\n"
	"label{display:block;margin:.4em 0 .1em;font-weight:600}\n"
	"textarea{width:100%;min-height:6em}\n"
	"form.inline{display:inline}\n"
	"button{padding:.3em .9em}\n";

void h_console_css(struct request *req, struct response *res)
{
	(void)req;
	res->body = strdup(stylesheet);
	res->body_len = res->body ? strlen(res->body) : 0;
	res->status = res->body ? 200 : 503;
	res->content_type = "text/css; charset=utf-8";
}

void h_console_home(struct request *req, struct response *res)
{
	page_redirect(res, req->principal.role == ROLE_LEGAL
	                   ? CONSOLE_PREFIX "/principals"
	                   : CONSOLE_PREFIX "/queue");
}

void page_begin(struct html *h, const struct request *req, const char *title)
{
	HTML_RAW(h, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	            "<meta charset=\"utf-8\"><title>");
	html_text(h, title);
	HTML_RAW(h, " - refgate</title><link rel=\"stylesheet\" href=\""
	            CONSOLE_PREFIX "/style.css\"></head><body><header>"
	            "<strong>refgate</strong>");
	if (req->principal.role == ROLE_REVIEWER) {
		HTML_RAW(h, "<a href=\"" CONSOLE_PREFIX "/queue\">Queue</a>");
	} else if (req->principal.role == ROLE_LEGAL) {
		HTML_RAW(h, "<a href=\"" CONSOLE_PREFIX "/principals\">Principals</a>"
		            "<a href=\"" CONSOLE_PREFIX "/keys\">Access keys</a>"
		            "<a href=\"" CONSOLE_PREFIX "/audit\">Audit log</a>");
	}
	HTML_RAW(h, "<span class=\"who\">");
	html_text(h, req->principal.name);
	HTML_RAW(h, " (");
	html_text(h, rg_role_name(req->principal.role));
	HTML_RAW(h, ")</span></header><main><h1>");
	html_text(h, title);
	HTML_RAW(h, "</h1>");
}

void page_send(struct request *req, struct response *res, struct html *h,
               int status)
{
	(void)req;
	HTML_RAW(h, "</main></body></html>\n");
	char *body;
	size_t len;
	if (!html_take(h, &body, &len)) {
		html_free(h);
		response_problem(res, 503, "unavailable", "the page is too large");
		return;
	}
	res->status = status;
	res->body = body;
	res->body_len = len;
	res->content_type = "text/html; charset=utf-8";
}

void page_error(struct request *req, struct response *res, int status,
                const char *title, const char *detail)
{
	struct html h = {0};
	page_begin(&h, req, title ? title : "Refused");
	HTML_RAW(&h, "<p class=\"bad\">");
	html_text(&h, detail ? detail : "The gateway refused the request.");
	HTML_RAW(&h, "</p><p><a href=\"" CONSOLE_PREFIX "/\">Back</a></p>");
	page_send(req, res, &h, status);
}

void page_redirect(struct response *res, const char *location)
{
	res->status = 303;
	snprintf(res->location, sizeof res->location, "%s", location);
	res->content_type = "text/html; charset=utf-8";
}

void form_begin(struct html *h, const struct request *req, const char *action)
{
	uint8_t key[32];
	char token[CSRF_TOKEN_LEN + 1];
	csrf_key(&req->app->keys, key);
	csrf_token(key, req->principal.name, req->now, token);
	sodium_memzero(key, sizeof key);
	HTML_RAW(h, "<form method=\"post\" action=\"");
	html_text(h, action);
	HTML_RAW(h, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(h, token);
	HTML_RAW(h, "\">");
}

bool console_post(struct request *req, struct response *res, struct form *f)
{
	uint8_t key[32];
	if (!csrf_origin_ok(request_header(req, "Origin"),
	                    request_header(req, "Sec-Fetch-Site"),
	                    request_header(req, "Host"))) {
		page_error(req, res, 403, "Refused",
		           "This form was not sent from the console's own pages"
		           " (Origin or Sec-Fetch-Site is another site's).");
		return false;
	}
	if (form_parse(req->body, req->body_len, f) != RG_OK) {
		page_error(req, res, 400, "Refused", "The form is malformed.");
		return false;
	}
	csrf_key(&req->app->keys, key);
	bool ok = csrf_valid(key, req->principal.name, req->now,
	                     form_get(f, "csrf"));
	sodium_memzero(key, sizeof key);
	if (!ok) {
		form_free(f);
		page_error(req, res, 403, "Refused",
		           "The form's token is missing, expired or not yours:"
		           " reload the page and send it again.");
		return false;
	}
	return true;
}

void console_call(struct request *req, handler_fn h, const char *p0,
                  json_t *body, struct response *out)
{
	struct request sub = *req;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	memset(out, 0, sizeof *out);
	if (body && !text) {
		response_problem(out, 503, "unavailable", NULL);
		return;
	}
	sub.params[0] = p0;
	sub.params[1] = NULL;
	sub.body = (const uint8_t *)(text ? text : "");
	sub.body_len = text ? strlen(text) : 0;
	sub.key = NULL;                  /* the console uses no access key */
	h(&sub, out);
	free(text);
}

json_t *console_json(const struct response *r)
{
	return r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
}

void page_problem(struct request *req, struct response *res,
                  struct response *r, const char *title)
{
	json_t *p = console_json(r);
	const char *detail = json_str(p, "detail");
	char msg[600];
	if (!detail)
		detail = json_str(p, "title");
	snprintf(msg, sizeof msg, "%s (%d %s)", detail ? detail : "refused",
	         r->status, r->code ? r->code : "error");
	/* invalid_payload lists its reasons */
	json_t *errs = json_object_get(p, "errors"), *e;
	size_t i, used = strlen(msg);
	json_array_foreach(errs, i, e) {
		int n = snprintf(msg + used, sizeof msg - used, "; %s: %s",
		                 json_str(e, "pointer") ? json_str(e, "pointer") : "",
		                 json_str(e, "reason") ? json_str(e, "reason") : "");
		if (n < 0 || (size_t)n >= sizeof msg - used)
			break;
		used += (size_t)n;
	}
	page_error(req, res, r->status, title, msg);
	json_decref(p);
	free(r->body);
	r->body = NULL;
}

int64_t json_time(json_t *o, const char *name)
{
	int64_t t;
	const char *s = json_str(o, name);
	return s && rg_time_parse(s, &t) == RG_OK ? t : 0;
}

const char *json_str(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}
