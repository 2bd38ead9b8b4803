/*
 * request.c - reading a request's header fields and query arguments
 * (see request.h): http.c fills them in when the request begins.
 */
#include "request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *field_value(const struct request_field *f, size_t n,
                               const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(f[i].name, name) == 0)
			return f[i].value;
	return NULL;
}

const char *request_header(const struct request *req, const char *name)
{
	return field_value(req->headers, req->n_headers, name);
}

const char *request_query(const struct request *req, const char *name)
{
	return field_value(req->query, req->n_query, name);
}

bool request_int_parse(const char *s, int64_t min, int64_t max, int64_t *out)
{
	size_t n = s ? strlen(s) : 0;
	int64_t v = 0;
	if (n < 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		int d = s[i] - '0';
		if (v > (INT64_MAX - d) / 10)
			return false;          /* past any max */
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool request_query_int(const struct request *req, struct response *res,
                       const char *name, int64_t min, int64_t max,
                       int64_t def, int64_t *out)
{
	const char *s = request_query(req, name);
	if (!s) {
		*out = def;
		return true;
	}
	if (request_int_parse(s, min, max, out))
		return true;
	char detail[96];
	snprintf(detail, sizeof detail, "%s must be a whole number from %lld to %lld",
		 name, (long long)min, (long long)max);
	response_problem(res, 400, "bad_request", detail);
	return false;
}
