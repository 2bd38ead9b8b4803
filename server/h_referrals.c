/*
 * h_referrals.c - POST /v1/referrals (verify, validate, normalise, record,
 * receipt) and GET /v1/referrals/{id}.
 */
#include "routes.h"
#include "metrics.h"
#include "intake.h"
#include "views.h"
#include "../proto/jws.h"
#include "../proto/referral.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything a submission's parsing allocates, freed in one place. */
struct submission {
	struct jws jws;
	struct referral *ref;
};

static void submission_clear(struct submission *s)
{
	jws_clear(&s->jws);
	referral_free(s->ref);
}

/* The answer body: ids, statuses and the signed receipt. */
static json_t *answer(struct request *req, const struct policy *pol,
                      const struct store_referral_out *o)
{
	char when[21];
	rg_time_format(o->received_at, when);
	enum audience aud = views_audience(&req->principal);
	json_t *cases = json_array();
	for (size_t i = 0; i < o->n_cases; i++) {
		json_t *c = json_pack("{s:i, s:s, s:s, s:b}", "subject", (json_int_t)i,
				      "case_id", o->cases[i].case_id, "status",
				      rg_status_name(o->cases[i].status), "new_case",
				      o->cases[i].new_case);
		if (c)
			policy_filter_case_entry(pol, aud, c);
		json_array_append_new(cases, c);
	}
	char *receipt = NULL;
	if (intake_receipt(req->app, req->principal.name, req->body,
			   req->body_len, o, &receipt) != RG_OK) {
		json_decref(cases);
		return NULL;
	}
	json_t *body = json_pack("{s:s, s:s, s:o, s:s}", "referral_id", o->id,
				 "received_at", when, "cases", cases, "receipt", receipt);
	free(receipt);
	return body;
}

/* 401 stale_iat saying by how much iat misses the gateway's clock. */
static void stale_iat(struct request *req, int64_t iat, int64_t skew,
                      struct response *res)
{
	char detail[200];
	int64_t off = iat - req->now;
	snprintf(detail, sizeof detail,
		 "iat is %lld s %s the gateway's clock (allowed: %lld s either "
		 "way); check the sender's clock (NTP) and sign afresh",
		 (long long)(off < 0 ? -off : off), off < 0 ? "behind" : "ahead of",
		 (long long)skew);
	response_problem(res, 401, "stale_iat", detail);
}

/* Checks the JWS and its signer; fills res and returns non-zero on refusal. */
static int verify_jws(struct request *req, struct submission *sub,
                      struct response *res)
{
	const char *why = "malformed";
	char owner[RG_NAME_MAX + 1];
	uint8_t pk[32];
	/* A trailing newline from a file-based client is not part of the
	 * token; jws_sha256 still covers the bytes exactly as sent. */
	size_t len = req->body_len;
	while (len > 0 && (req->body[len - 1] == '\n' || req->body[len - 1] == '\r'))
		len--;
	int rc = jws_decode((const char *)req->body, len, &sub->jws, &why);
	if (rc == RG_ETOOBIG) {
		response_problem(res, 413, "payload_too_large", NULL);
		return rc;
	}
	if (rc != RG_OK) {
		size_t sp = 0;
		while (sp < len && (req->body[sp] == ' ' || req->body[sp] == '\t' ||
				    req->body[sp] == '\n' || req->body[sp] == '\r'))
			sp++;
		if (sp < len && req->body[sp] == '{')
			why = "the body is JSON, not a compact JWS: sign the referral "
			      "(EdDSA, your signing key) and send the token";
		response_problem(res, 400, "invalid_jws", why);
		return rc;
	}
	if (store_signing_key_get(req->app->store, sub->jws.kid, owner, pk) != RG_OK) {
		response_problem(res, 401, "unknown_key", NULL);
		return RG_ENOTFOUND;
	}
	if (strcmp(owner, req->principal.name) != 0) {
		response_problem(res, 401, "key_not_owned", NULL);
		return RG_ENOTFOUND;
	}
	if (jws_verify(&sub->jws, pk) != RG_OK) {
		response_problem(res, 401, "bad_signature", NULL);
		return RG_EBADSIG;
	}
	return RG_OK;
}

/* Answers a recorded (RG_OK, 201) or replayed (RG_EREPLAY, 200)
 * referral from sub->out, or the refusal that rc stands for. */
static void respond(struct request *req, const struct store_referral_out *out,
                    int rc, struct response *res)
{
	if (rc == RG_ECONFLICT) {
		response_problem(res, 409, "jti_reuse", NULL);
		return;
	}
	if (rc == RG_EQUOTA) {
		static const char *const which[] = {
			[QUOTA_REFERRALS] = "daily quota of referrals"
					    " (quota_referrals_per_day) reached;"
					    " nothing was recorded",
			[QUOTA_SUBJECTS] = "daily quota of subjects"
					   " (quota_subjects_per_day) reached;"
					   " nothing was recorded",
			[QUOTA_BYTES] = "daily quota of stored bytes"
					" (quota_bytes_per_day) reached;"
					" nothing was recorded",
		};
		enum store_quota_kind k = out->over;
		metrics_inc(M_RATE_LIMITED);
		response_problem(res, 429, "rate_limited",
				 k > QUOTA_NONE && k <= QUOTA_BYTES ? which[k]
				 : "daily quota reached; nothing was recorded");
		/* The counts are per UTC day: they start again at midnight. */
		res->retry_after = (int)(86400 - req->now % 86400);
		return;
	}
	if (rc != RG_OK && rc != RG_EREPLAY) {
		response_problem(res, 503, "unavailable", "storage unavailable; nothing was recorded");
		res->retry_after = 5;
		return;
	}
	if (rc == RG_OK) {
		metrics_inc(M_REFERRALS);
		for (size_t i = 0; i < out->n_cases; i++)
			metrics_inc(out->cases[i].new_case ? M_CASES_OPENED
							   : M_DEDUP_HITS);
	} else {
		metrics_inc(M_REFERRAL_REPLAYS);
	}
	const struct policy *pol = policy_acquire(&req->app->policy);
	json_t *body = answer(req, pol, out);
	policy_release(&req->app->policy);
	if (!body) {
		response_problem(res, 500, "internal", NULL);
		return;
	}
	response_json(res, rc == RG_OK ? 201 : 200, body);
	snprintf(res->location, sizeof res->location, "/v1/referrals/%s",
		 out->id);
}

static void intake_free_later(void *later)
{
	intake_free(later);
}

/* intake_submit's done: the commit is durable (or failed). */
static void intake_done(void *req)
{
	request_resume(req);
}

/* response.start: the connection is suspended; hand the referral on.
 * req is not touched after intake_submit (intake_done may already have
 * resumed it). */
static void intake_start(struct request *req)
{
	intake_submit(req->later, intake_done, req);
}

/* Verifies, parses and validates; hands a good referral to intake (the
 * connection waits, suspended, for its commit) and answers when called
 * again after it. */
void h_referral_submit(struct request *req, struct response *res)
{
	if (req->later) {
		const struct store_referral_out *out;
		int rc = intake_result(req->later, &out);
		respond(req, out, rc, res);
		return;
	}
	struct submission *sub = calloc(1, sizeof *sub);
	struct problem_items items = {0};
	if (!sub) {
		response_problem(res, 500, "internal", NULL);
		return;
	}
	if (verify_jws(req, sub, res) != RG_OK)
		goto out;
	int rc = referral_parse(sub->jws.payload, sub->jws.payload_len,
				req->principal.role, &sub->ref, &items);
	if (rc == RG_EINVAL) {
		response_problem_items(res, 400, "invalid_payload", &items);
		goto out;
	}
	if (rc != RG_OK) {
		response_problem(res, 500, "internal", NULL);
		goto out;
	}
	int64_t skew = req->app->conf.iat_skew;
	if (sub->ref->iat < req->now - skew || sub->ref->iat > req->now + skew) {
		/* A byte-identical resubmission is still answered with its
		 * first answer, however late; anything else is stale. */
		struct store_referral_in in = {.principal = req->principal.name,
					       .jti = sub->ref->jti};
		struct store_referral_out first = {0};
		crypto_hash_sha256(in.jws_sha256, req->body, req->body_len);
		if (store_referral_seen(req->app->store, &in, &first) == RG_EREPLAY)
			respond(req, &first, RG_EREPLAY, res);
		else
			stale_iat(req, sub->ref->iat, skew, res);
		store_referral_out_clear(&first);
		goto out;
	}
	struct intake *in = NULL;
	rc = intake_new(req->app, req->principal.name, sub->ref, req->body,
			req->body_len, req->now, &items, &in);
	if (rc == RG_EBADURL) {
		response_problem_items(res, 400, "bad_url", &items);
		goto out;
	}
	if (rc != RG_OK) {
		response_problem(res, 500, "internal", NULL);
		goto out;
	}
	req->later = in;
	req->later_free = intake_free_later;
	res->start = intake_start;
out:
	submission_clear(sub);
	free(sub);
}

void h_referral_get(struct request *req, struct response *res)
{
	struct store_referral r;
	int err = store_referral_get(req->app->store, req->params[0], &r);
	bool visible = err == RG_OK &&
		       (req->principal.role == ROLE_REVIEWER ||
			strcmp(r.principal, req->principal.name) == 0);
	if (!visible) {     /* another referrer's: as if there were none */
		response_store_error(res, err == RG_OK ? RG_ENOTFOUND : err, NULL);
		return;
	}
	const struct policy *pol = policy_acquire(&req->app->policy);
	json_t *view = views_referral(req->app, pol, views_audience(&req->principal),
				      req->principal.name, &r, &err);
	policy_release(&req->app->policy);
	if (!view) {
		response_problem(res, 503, "unavailable", NULL);
		return;
	}
	response_json(res, 200, view);
}
