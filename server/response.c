/*
 * response.c - building responses: problem details, JSON bodies, ETags.
 */
#include "request.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixed body for when even an error body cannot be allocated. */
static char *fallback_body(size_t *len)
{
	static const char text[] = "{\"code\":\"internal\",\"status\":500}";
	char *b = malloc(sizeof text);
	if (b)
		memcpy(b, text, sizeof text);
	*len = b ? sizeof text - 1 : 0;
	return b;
}

void response_problem_items(struct response *res, int status,
                            const char *code, const struct problem_items *items)
{
	free(res->body);
	res->status = status;
	res->code = code;
	res->content_type = "application/problem+json";
	res->body = problem_json(status, code, NULL, items);
	res->body_len = res->body ? strlen(res->body) : 0;
	if (!res->body) {
		res->status = 500;
		res->body = fallback_body(&res->body_len);
	}
}

void response_problem(struct response *res, int status, const char *code,
                      const char *detail)
{
	free(res->body);
	res->status = status;
	res->code = code;
	res->content_type = "application/problem+json";
	res->body = problem_json(status, code, detail, NULL);
	res->body_len = res->body ? strlen(res->body) : 0;
	if (!res->body) {
		res->status = 500;
		res->body = fallback_body(&res->body_len);
	}
}

void response_json(struct response *res, int status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text) {
		response_problem(res, 500, "internal", NULL);
		return;
	}
	free(res->body);
	res->status = status;
	res->code = NULL;
	res->content_type = "application/json";
	res->body = text;
	res->body_len = strlen(text);
}

void response_etag(struct response *res)
{
	uint8_t h[16];
	char hex[33];
	crypto_generichash(h, sizeof h, (const uint8_t *)res->body,
			   res->body_len, NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(res->etag, sizeof res->etag, "\"%s\"", hex);
}

bool response_etag_matches(const char *if_none_match, const char *etag)
{
	if (!if_none_match || !etag[0])
		return false;
	if (strcmp(if_none_match, "*") == 0)
		return true;
	size_t n = strlen(etag);
	for (const char *p = if_none_match; (p = strstr(p, etag)); p += n) {
		bool start = p == if_none_match || p[-1] == ',' || p[-1] == ' ' ||
			     (p - if_none_match >= 2 && p[-1] == '/' && p[-2] == 'W');
		char after = p[n];
		if (start && (after == '\0' || after == ',' || after == ' '))
			return true;
	}
	return false;
}

void json_set_time(json_t *o, const char *key, int64_t t)
{
	char buf[21];
	if (t <= 0)
		return;
	rg_time_format(t, buf);
	json_object_set_new(o, key, json_string(buf));
}

void response_store_error(struct response *res, int rc, const char *detail)
{
	switch (rc) {
	case RG_ENOTFOUND:
		response_problem(res, 404, "not_found", detail);
		break;
	case RG_ECONFLICT:
		response_problem(res, 409, "bad_transition", detail);
		break;
	case RG_ETOOBIG:
		response_problem(res, 413, "payload_too_large", detail);
		break;
	default:
		response_problem(res, 503, "unavailable", detail);
		break;
	}
}

void response_revoked(struct response *res, int rc, const char *member,
                      const char *id, int64_t now, int64_t revoked_at)
{
	if (rc != RG_OK) {
		char detail[96], when[21];
		if (revoked_at) {
			rg_time_format(revoked_at, when);
			snprintf(detail, sizeof detail, "already revoked at %s", when);
		}
		response_store_error(res, rc, rc != RG_ENOTFOUND ? NULL
				     : revoked_at ? detail
				     : strcmp(member, "name") == 0
				     ? "no principal of that name"
				     : "no access key of that id");
		return;
	}
	json_t *o = json_pack("{s:s}", member, id);
	if (o)
		json_set_time(o, "revoked_at", now);
	response_json(res, 200, o);
}
