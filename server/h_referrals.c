/*
 * h_referrals.c - POST /v1/referrals (verify, validate, normalise, record,
 * receipt) and GET /v1/referrals/{id}.
 */
#include "routes.h"
#include "metrics.h"
#include "views.h"
#include "../proto/jws.h"
#include "../proto/normalise.h"
#include "../proto/referral.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMOVAL_ORDER_DEADLINE 3600

/* Everything a submission allocates, freed in one place. */
struct submission {
	struct jws jws;
	struct referral *ref;
	struct store_subject subjects[REFERRAL_MAX_SUBJECTS];
	uint8_t *sealed;
	size_t sealed_len;
	struct store_referral_out out;
};

static void submission_clear(struct submission *s)
{
	jws_clear(&s->jws);
	referral_free(s->ref);
	for (size_t i = 0; i < REFERRAL_MAX_SUBJECTS; i++)
		for (size_t j = 0; j < s->subjects[i].n_idents; j++)
			free((void *)s->subjects[i].idents[j].sealed);
	free(s->sealed);
	store_referral_out_clear(&s->out);
}

/* A fresh id: prefix + 22 base64url chars of 16 random bytes. */
static void new_id(const char *prefix, char out[RG_ID_MAX + 1])
{
	uint8_t rnd[16];
	char b64[32];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2base64(b64, sizeof b64, rnd, sizeof rnd,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, RG_ID_MAX + 1, "%s%s", prefix, b64);
}

/* Seals the subjects, evidence and summary as one JSON document. */
static int seal_content(struct app *app, const struct referral *r,
                        const char *id, uint8_t **out, size_t *out_len)
{
	json_t *subjects = json_array(), *evidence = json_array();
	json_t *doc = json_pack("{s:o, s:o}", "subjects", subjects, "evidence",
				evidence);
	int rc = RG_ENOMEM;
	char *text = NULL;
	if (!doc)
		goto out;
	for (size_t i = 0; i < r->n_subjects; i++) {
		const struct referral_subject *s = &r->subjects[i];
		json_t *o = json_object();
		if (s->account_id[0])
			json_object_set_new(o, "account_id", json_string(s->account_id));
		if (s->handle[0])
			json_object_set_new(o, "handle", json_string(s->handle));
		if (s->url[0])
			json_object_set_new(o, "url", json_string(s->url));
		json_array_append_new(subjects, o);
	}
	for (size_t i = 0; i < r->n_evidence; i++) {
		const struct referral_evidence *e = &r->evidence[i];
		json_t *o = json_pack("{s:s}", "url", e->url);
		if (e->sha256[0])
			json_object_set_new(o, "sha256", json_string(e->sha256));
		if (e->media_type[0])
			json_object_set_new(o, "media_type", json_string(e->media_type));
		if (e->captured_at > 0) {
			char when[21];
			rg_time_format(e->captured_at, when);
			json_object_set_new(o, "captured_at", json_string(when));
		}
		json_array_append_new(evidence, o);
	}
	if (r->summary)
		json_object_set_new(doc, "summary", json_string(r->summary));
	if (r->has_removal_order) {
		char when[21];
		rg_time_format(r->removal_order.issued_at, when);
		json_object_set_new(doc, "removal_order", json_pack("{s:s, s:s, s:s}",
			"reference", r->removal_order.reference, "issued_at", when,
			"legal_basis", r->removal_order.legal_basis));
	}
	if (!(text = json_dumps(doc, JSON_COMPACT)))
		goto out;
	rc = keys_seal(&app->keys, (const uint8_t *)id, strlen(id),
		       (const uint8_t *)text, strlen(text), out, out_len);
out:
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	json_decref(doc);
	return rc;
}

/* Adds one identifier (hash + sealed value) to a store subject. */
static int add_ident(struct app *app, struct store_subject *s, char kind,
                     const char *value)
{
	struct store_ident *id = &s->idents[s->n_idents];
	uint8_t *sealed = NULL;
	size_t len = 0;
	id->kind = kind;
	keys_index_hash(&app->keys, kind, value, id->hash);
	int rc = keys_seal(&app->keys, id->hash, sizeof id->hash,
			   (const uint8_t *)value, strlen(value), &sealed, &len);
	if (rc != RG_OK)
		return rc;
	id->sealed = sealed;
	id->sealed_len = len;
	s->n_idents++;
	return RG_OK;
}

/* Normalises every subject into index entries; on a bad subject fills a
 * bad_url problem and returns RG_EBADURL. */
static int index_subjects(struct request *req, struct submission *sub,
                          struct response *res)
{
	struct problem_items items = {0};
	for (size_t i = 0; i < sub->ref->n_subjects; i++) {
		struct subject_ids ids;
		const char *field = "url", *why = "names no account";
		if (norm_subject(&req->app->conf.hosts, &sub->ref->subjects[i],
				 &ids, &field, &why) != RG_OK) {
			problem_items_add(&items, why, "/subjects/%zu/%s", i, field);
			continue;
		}
		struct store_subject *s = &sub->subjects[i];
		if ((ids.account_id[0] && add_ident(req->app, s, 'i', ids.account_id)) ||
		    (ids.handle[0] && add_ident(req->app, s, 'h', ids.handle))) {
			response_problem(res, 500, "internal", NULL);
			return RG_ENOMEM;
		}
	}
	if (items.n > 0) {
		response_problem_items(res, 400, "bad_url", &items);
		return RG_EBADURL;
	}
	return RG_OK;
}

/* What a receipt payload names besides the stored answer. */
struct receipt_ctx {
	const char *principal;
	char jws_hex[65];            /* hex SHA-256 of the JWS bytes as sent */
};

/* The receipt payload (what the gateway signs, and the transparency
 * log's leaf data): referral id, time, principal, JWS digest, the case
 * ids answered and, when the referral is in the log, its log_index.
 * malloc'd compact JSON in *payload. */
static int receipt_build(const struct receipt_ctx *rc,
                         const struct store_referral_out *o, int64_t log_index,
                         char **payload, size_t *len)
{
	char when[21];
	json_t *ids = json_array();
	rg_time_format(o->received_at, when);
	for (size_t i = 0; ids && i < o->n_cases; i++)
		if (json_array_append_new(ids, json_string(o->cases[i].case_id)))
			goto fail;
	json_t *rp = ids ? json_pack("{s:s, s:s, s:s, s:s, s:O}", "referral_id",
				     o->id, "received_at", when, "principal",
				     rc->principal, "jws_sha256", rc->jws_hex,
				     "cases", ids) : NULL;
	if (rp && log_index >= 0 &&
	    json_object_set_new(rp, "log_index", json_integer(log_index))) {
		json_decref(rp);
		rp = NULL;
	}
	char *text = rp ? json_dumps(rp, JSON_COMPACT) : NULL;
	json_decref(rp);
	json_decref(ids);
	if (!text)
		return RG_ENOMEM;
	*payload = text;
	*len = strlen(text);
	return RG_OK;
fail:
	json_decref(ids);
	return RG_ENOMEM;
}

/* store_referral_in.receipt: the payload, inside the store's transaction,
 * once the log index is known. */
static int receipt_for_log(void *ctx, const struct store_referral_out *o,
                           uint64_t log_index, char **payload, size_t *len)
{
	if (log_index > (uint64_t)INT64_MAX)
		return RG_EINVAL;
	return receipt_build(ctx, o, (int64_t)log_index, payload, len);
}

static void receipt_ctx_init(struct receipt_ctx *rc, const struct request *req)
{
	uint8_t digest[32];
	rc->principal = req->principal.name;
	crypto_hash_sha256(digest, (const uint8_t *)req->body, req->body_len);
	sodium_bin2hex(rc->jws_hex, sizeof rc->jws_hex, digest, sizeof digest);
}

/* The answer body: ids, statuses and the signed receipt, whose payload
 * is the log's leaf as stored (or, for a referral older than the log, the
 * same payload without log_index). */
static json_t *answer(struct request *req, const struct policy *pol,
                      const struct submission *sub)
{
	const struct store_referral_out *o = &sub->out;
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
	struct receipt_ctx rc;
	char *legacy = NULL, *receipt = NULL;
	size_t len = o->receipt_len;
	const char *payload = o->receipt;
	receipt_ctx_init(&rc, req);
	if (!payload && receipt_build(&rc, o, -1, &legacy, &len) == RG_OK)
		payload = legacy;
	if (!payload || jws_sign((const uint8_t *)payload, len,
				 req->app->keys.receipt_kid, "refgate-receipt+json",
				 req->app->keys.receipt_sk, &receipt) != RG_OK) {
		free(legacy);
		json_decref(cases);
		return NULL;
	}
	free(legacy);
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
static void respond(struct request *req, struct submission *sub, int rc,
                    struct response *res)
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
		enum store_quota_kind k = sub->out.over;
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
		for (size_t i = 0; i < sub->out.n_cases; i++)
			metrics_inc(sub->out.cases[i].new_case ? M_CASES_OPENED
							       : M_DEDUP_HITS);
	} else {
		metrics_inc(M_REFERRAL_REPLAYS);
	}
	const struct policy *pol = policy_acquire(&req->app->policy);
	json_t *body = answer(req, pol, sub);
	policy_release(&req->app->policy);
	response_json(res, rc == RG_OK ? 201 : 200, body);
	snprintf(res->location, sizeof res->location, "/v1/referrals/%s",
		 sub->out.id);
}

/* Records the referral and answers; maps storage results to statuses. */
static void record(struct request *req, struct submission *sub,
                   struct response *res)
{
	struct referral *r = sub->ref;
	const struct conf *c = &req->app->conf;
	const struct store_quota quota = {
		.referrals = c->quota_referrals_per_day,
		.subjects = c->quota_subjects_per_day,
		.bytes = c->quota_bytes_per_day,
	};
	struct receipt_ctx rc;
	receipt_ctx_init(&rc, req);
	struct store_referral_in in = {
		.principal = req->principal.name,
		.jti = r->jti,
		.received_at = req->now,
		.category = r->category,
		.urgency = r->urgency,
		.partner_ref = r->has_partner_ref ? r->partner_ref : NULL,
		.deadline_at = r->has_removal_order ? req->now + REMOVAL_ORDER_DEADLINE : 0,
		.n_subjects = r->n_subjects,
		.subjects = sub->subjects,
		.quota = &quota,
		.receipt = receipt_for_log,
		.receipt_ctx = &rc,
	};
	new_id("r_", in.id);
	crypto_hash_sha256(in.jws_sha256, req->body, req->body_len);
	if (seal_content(req->app, r, in.id, &sub->sealed, &sub->sealed_len) != RG_OK) {
		response_problem(res, 500, "internal", NULL);
		return;
	}
	in.sealed = sub->sealed;
	in.sealed_len = sub->sealed_len;
	respond(req, sub, store_referral_submit(req->app->store, &in, &sub->out),
		res);
}

void h_referral_submit(struct request *req, struct response *res)
{
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
		crypto_hash_sha256(in.jws_sha256, req->body, req->body_len);
		if (store_referral_seen(req->app->store, &in, &sub->out) == RG_EREPLAY)
			respond(req, sub, RG_EREPLAY, res);
		else
			stale_iat(req, sub->ref->iat, skew, res);
		goto out;
	}
	if (index_subjects(req, sub, res) != RG_OK)
		goto out;
	record(req, sub, res);
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
	if (!visible) {
		response_problem(res, err == RG_OK || err == RG_ENOTFOUND ? 404 : 503,
				 err == RG_OK || err == RG_ENOTFOUND ? "not_found"
								     : "unavailable", NULL);
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
