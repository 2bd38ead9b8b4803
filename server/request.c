/*
 * request.c - reading a request's header fields and query arguments
 * (see request.h): http.c fills them in when the request begins.
 */
#include "request.h"

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
