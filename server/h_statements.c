/*
 * h_statements.c - the legal team's statements of reasons:
 * GET /v1/admin/statements (released statements, oldest first) and
 * POST /v1/admin/statements/exported (marks those the DSA Transparency
 * Database acknowledged; what `refgatectl statements push` calls).
 */
#include "routes.h"
#include "cursor.h"
#include "statements.h"

#include <stdlib.h>
#include <string.h>

#define STATEMENTS_PAGE_DEFAULT 100
#define STATEMENTS_PAGE_MAX 1000

static int add_statement(void *ctx, const struct store_statement *s)
{
	json_t *list = ctx;
	json_t *o = json_loads(s->body, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return RG_EIO;
	}
	if (s->exported_at) {
		char when[21];
		rg_time_format(s->exported_at, when);
		json_object_set_new(o, "exported_at", json_string(when));
	} else {
		json_object_set_new(o, "exported_at", json_null());
	}
	json_array_append_new(list, o);
	return 0;
}

void h_statements_list(struct request *req, struct response *res)
{
	int64_t since = 0, last;
	const char *cs = request_query(req, "since");
	const char *ps = request_query(req, "pending");
	int64_t limit;
	if (!request_query_int(req, res, "limit", 1, STATEMENTS_PAGE_MAX,
			       STATEMENTS_PAGE_DEFAULT, &limit))
		return;
	if (cs && *cs && cursor_decode(&req->app->keys, cs, &since) != RG_OK) {
		response_problem(res, 400, "bad_request",
				 "since must be a cursor from this gateway");
		return;
	}
	if (ps && strcmp(ps, "true") && strcmp(ps, "false")) {
		response_problem(res, 400, "bad_request", "pending must be true or false");
		return;
	}
	bool pending = ps && strcmp(ps, "true") == 0;
	json_t *list = json_array();
	int rc = !list ? RG_ENOMEM
	       : store_statements_each(req->app->store, since, (size_t)limit,
				       pending, req->now, add_statement, list,
				       &last);
	if (rc != RG_OK) {
		json_decref(list);
		response_store_error(res, rc, NULL);
		return;
	}
	char *next = cursor_encode(&req->app->keys, last);
	if (!next) {
		json_decref(list);
		response_problem(res, 500, "internal", NULL);
		return;
	}
	response_json(res, 200, json_pack("{s:o, s:s}", "statements", list,
					  "next", next));
	free(next);
}

/* Reads {"puids": [1-100 puids]}; fills items on refusal. */
static int parse_mark(const struct request *req, json_t **root,
                      const char *puids[STATEMENTS_MARK_MAX], size_t *n,
                      struct problem_items *items)
{
	*root = json_loadb((const char *)req->body, req->body_len,
			   JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*root)) {
		problem_items_add(items, "body is not a JSON object", "%s", "");
		return RG_EINVAL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(*root, key, v)
		if (strcmp(key, "puids"))
			problem_items_add(items, "unknown member", "/%.100s", key);
	json_t *list = json_object_get(*root, "puids");
	size_t count = json_array_size(list);
	if (!json_is_array(list) || count < 1 || count > STATEMENTS_MARK_MAX) {
		problem_items_add(items, "1-100 puids", "/puids");
		return RG_EINVAL;
	}
	size_t i;
	json_array_foreach(list, i, v) {
		puids[i] = json_string_value(v);
		if (!statement_puid_valid(puids[i]))
			problem_items_add(items, "not a puid ([A-Za-z0-9_-], 1-500)",
					  "/puids/%zu", i);
	}
	*n = count;
	return items->n > 0 ? RG_EINVAL : RG_OK;
}

void h_statements_mark(struct request *req, struct response *res)
{
	struct problem_items items = {0};
	const char *puids[STATEMENTS_MARK_MAX];
	size_t n = 0, marked = 0;
	json_t *root = NULL;
	if (parse_mark(req, &root, puids, &n, &items) != RG_OK) {
		response_problem_items(res, 400, "invalid_payload", &items);
		goto out;
	}
	int rc = store_statements_mark(req->app->store, req->principal.name,
				       puids, n, req->now, &marked);
	if (rc != RG_OK) {
		response_store_error(res, rc, NULL);
		goto out;
	}
	response_json(res, 200, json_pack("{s:I}", "marked", (json_int_t)marked));
out:
	json_decref(root);
}
