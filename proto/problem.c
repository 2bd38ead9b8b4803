/*
 * problem.c - problem details bodies (RFC 9457) with refgate's stable codes.
 */
#include "problem.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct { const char *code, *title; } titles[] = {
	{"bad_request", "Bad request"},
	{"invalid_jws", "Invalid JWS"},
	{"invalid_payload", "Invalid payload"},
	{"bad_url", "URL names no account on the platform"},
	{"unauthenticated", "Unauthenticated"},
	{"unknown_key", "Unknown signing key"},
	{"key_not_owned", "Signing key belongs to another principal"},
	{"bad_signature", "Bad signature"},
	{"stale_iat", "Issued-at outside the allowed clock skew"},
	{"forbidden", "Forbidden"},
	{"not_found", "Not found"},
	{"method_not_allowed", "Method not allowed"},
	{"jti_reuse", "jti already used with other content"},
	{"bad_transition", "Status transition not allowed"},
	{"conflict", "Conflicts with an existing principal, certificate or key"},
	{"payload_too_large", "Payload too large"},
	{"unsupported_media_type", "Unsupported media type"},
	{"not_acceptable", "Not acceptable"},
	{"rate_limited", "Rate limited"},
	{"unavailable", "Service unavailable"},
	{"internal", "Internal error"},
};

const char *problem_title(const char *code)
{
	for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
		if (strcmp(titles[i].code, code) == 0)
			return titles[i].title;
	return "Error";
}

void problem_items_add(struct problem_items *items, const char *reason,
                       const char *pointer_fmt, ...)
{
	if (items->n >= PROBLEM_MAX_ITEMS) {
		items->truncated = true;
		return;
	}
	struct problem_item *it = &items->item[items->n++];
	va_list ap;
	va_start(ap, pointer_fmt);
	vsnprintf(it->pointer, sizeof it->pointer, pointer_fmt, ap);
	va_end(ap);
	snprintf(it->reason, sizeof it->reason, "%s", reason);
}

char *problem_json(int status, const char *code, const char *detail,
                   const struct problem_items *items)
{
	char type[96];
	char *text = NULL;
	snprintf(type, sizeof type, "urn:refgate:problem:%s", code);
	json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title",
			      problem_title(code), "status", status, "code", code);
	if (!o)
		return NULL;
	if (detail && json_object_set_new(o, "detail", json_string(detail)))
		goto out;
	if (items && items->n > 0) {
		json_t *errs = json_array();
		if (!errs || json_object_set_new(o, "errors", errs))
			goto out;
		for (size_t i = 0; i < items->n; i++) {
			json_t *e = json_pack("{s:s, s:s}", "pointer",
					      items->item[i].pointer, "reason",
					      items->item[i].reason);
			if (!e || json_array_append_new(errs, e))
				goto out;
		}
		if (items->truncated &&
		    json_object_set_new(o, "errors_truncated", json_true()))
			goto out;
	}
	text = json_dumps(o, JSON_COMPACT);
out:
	json_decref(o);
	return text;
}
