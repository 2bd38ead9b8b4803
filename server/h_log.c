/*
 * h_log.c - the transparency log (contract section 11): GET
 * /v1/log/checkpoint (the latest signed checkpoint, signed on demand when
 * the tree has grown past it: logsign.c), /v1/log/inclusion and /v1/log/consistency
 * (RFC 9162 proofs, bounded by the latest checkpoint). Hashes only: no
 * leaf is ever served.
 */
#include "routes.h"
#include "logsign.h"
#include "../proto/merkle.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void h_log_checkpoint(struct request *req, struct response *res)
{
	struct store_checkpoint *cp = calloc(1, sizeof *cp);
	char *body = NULL;
	if (!cp || logsign_current(req->app, req->now, cp) != RG_OK) {
		response_problem(res, 503, "unavailable", NULL);
		goto out;
	}
	size_t len = strlen(cp->note);
	if (!(body = malloc(len + 1))) {
		response_problem(res, 500, "internal", NULL);
		goto out;
	}
	memcpy(body, cp->note, len + 1);
	free(res->body);
	res->status = 200;
	res->code = NULL;
	res->content_type = "text/plain; charset=utf-8";
	res->body = body;
	res->body_len = len;
out:
	free(cp);
}

/* A tree size or index from the query: a whole number, at most
 * MERKLE_MAX_SIZE. */
static bool query_u64(const char *s, uint64_t *out)
{
	int64_t v;
	if (!request_int_parse(s, 0, (int64_t)MERKLE_MAX_SIZE, &v))
		return false;
	*out = (uint64_t)v;
	return true;
}

/* Both query values, and `size` within the latest checkpoint; fills a
 * 400 (or 503) and returns false otherwise. */
static bool proof_args(struct request *req, struct response *res,
                       const char *first, uint64_t *a, uint64_t *size)
{
	struct store_checkpoint *cp = NULL;
	bool ok = false;
	if (!query_u64(request_query(req, first), a) ||
	    !query_u64(request_query(req, "size"), size)) {
		response_problem(res, 400, "bad_request",
				 strcmp(first, "index") == 0
				 ? "index and size must be decimal integers"
				 : "from and size must be decimal integers");
		return false;
	}
	if (!(cp = calloc(1, sizeof *cp))) {
		response_problem(res, 500, "internal", NULL);
		return false;
	}
	int rc = store_log_checkpoint_latest(req->app->store, cp);
	if (rc != RG_OK && rc != RG_ENOTFOUND)
		response_problem(res, 503, "unavailable", NULL);
	else if (rc == RG_ENOTFOUND || *size > cp->size)
		response_problem(res, 400, "bad_request",
				 "size is beyond the latest checkpoint");
	else
		ok = true;
	free(cp);
	return ok;
}

/* {"<first>": a, "size": size, "hashes": [base64...]} */
static void proof_answer(struct response *res, const char *first, uint64_t a,
                         uint64_t size, uint8_t (*h)[32], size_t n)
{
	json_t *hashes = json_array();
	for (size_t i = 0; hashes && i < n; i++) {
		char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof b64, h[i], 32,
				  sodium_base64_VARIANT_ORIGINAL);
		if (json_array_append_new(hashes, json_string(b64))) {
			json_decref(hashes);
			hashes = NULL;
		}
	}
	response_json(res, 200, hashes ? json_pack("{s:I, s:I, s:o}", first,
						   (json_int_t)a, "size",
						   (json_int_t)size, "hashes",
						   hashes) : NULL);
}

/* Reads a proof with fetch (store_log_inclusion or store_log_consistency)
 * and answers it, {first: a, "size", "hashes"}, or 500/503. */
static void proof_fetch_answer(struct request *req, struct response *res,
                               const char *first, uint64_t a, uint64_t size,
                               int (*fetch)(struct store *, uint64_t, uint64_t,
                                            uint8_t[][32], size_t *))
{
	size_t n = 0;
	uint8_t (*h)[32] = calloc(MERKLE_MAX_PROOF, 32);
	int rc = h ? fetch(req->app->store, a, size, h, &n) : RG_ENOMEM;
	if (rc == RG_OK)
		proof_answer(res, first, a, size, h, n);
	else
		response_problem(res, rc == RG_ENOMEM ? 500 : 503,
				 rc == RG_ENOMEM ? "internal" : "unavailable", NULL);
	free(h);
}

void h_log_inclusion(struct request *req, struct response *res)
{
	uint64_t index = 0, size = 0;
	if (!proof_args(req, res, "index", &index, &size))
		return;
	if (index >= size) {
		response_problem(res, 400, "bad_request", "index must be below size");
		return;
	}
	proof_fetch_answer(req, res, "index", index, size, store_log_inclusion);
}

void h_log_consistency(struct request *req, struct response *res)
{
	uint64_t from = 0, size = 0;
	if (!proof_args(req, res, "from", &from, &size))
		return;
	if (from == 0 || from > size) {
		response_problem(res, 400, "bad_request",
				 "from must be at least 1 and at most size");
		return;
	}
	proof_fetch_answer(req, res, "from", from, size, store_log_consistency);
}
