/*
 * intake.c - a referral from verified bytes to a durable record and its
 * receipt (see intake.h): identifier indexing, sealing, the hand-over to
 * the writer and the receipt.
 */
#include "intake.h"

#include "../proto/jws.h"
#include "../proto/normalise.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A removal order must be acted on within this many seconds. */
#define REMOVAL_ORDER_DEADLINE 3600

struct intake {
	struct app *app;
	char principal[RG_NAME_MAX + 1];
	char jti[REFERRAL_JTI_MAX + 1];
	char partner_ref[REFERRAL_PARTNER_REF_MAX * 4 + 1];
	char jws_hex[65];            /* hex SHA-256 of the JWS bytes as sent */
	char reference[REFERRAL_REFERENCE_MAX * 4 + 1];
	char authority[REFERRAL_AUTHORITY_MAX * 4 + 1];
	struct store_order_in order;
	struct store_quota quota;
	struct store_subject subjects[REFERRAL_MAX_SUBJECTS];
	uint8_t *sealed;
	size_t sealed_len;
	struct store_referral_in in;
	int rc;
	struct store_referral_out out;
	void (*done)(void *ctx);
	void *done_ctx;
};

/* Seals the subjects, evidence and summary as one JSON document. */
static int seal_content(const struct app *app, const struct referral *r,
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
		const struct referral_removal_order *o = &r->removal_order;
		json_t *jo = json_pack("{s:s, s:s, s:s}", "reference",
				       o->reference, "issued_at", when,
				       "legal_basis", o->legal_basis);
		if (jo && o->issuing_authority[0])
			json_object_set_new(jo, "issuing_authority",
					    json_string(o->issuing_authority));
		if (jo && o->withhold_notice_until) {
			rg_time_format(o->withhold_notice_until, when);
			json_object_set_new(jo, "withhold_notice_until",
					    json_string(when));
		}
		json_object_set_new(doc, "removal_order", jo);
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

/* Adds one identifier (index hash + sealed value) to a store subject. */
static int add_ident(const struct app *app, struct store_subject *s, char kind,
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

/* Normalises every subject into index entries. RG_EBADURL with *items
 * naming each subject that names no account. */
static int index_subjects(struct intake *in, const struct referral *r,
                          struct problem_items *items)
{
	bool bad = false;
	for (size_t i = 0; i < r->n_subjects; i++) {
		struct subject_ids ids;
		const char *field = "url", *why = "names no account";
		if (norm_subject(&in->app->conf.hosts, &r->subjects[i], &ids,
				 &field, &why) != RG_OK) {
			problem_items_add(items, why, "/subjects/%zu/%s", i, field);
			bad = true;
			continue;
		}
		struct store_subject *s = &in->subjects[i];
		int rc = RG_OK;
		if (ids.account_id[0])
			rc = add_ident(in->app, s, 'i', ids.account_id);
		if (rc == RG_OK && ids.handle[0])
			rc = add_ident(in->app, s, 'h', ids.handle);
		if (rc != RG_OK)
			return rc;
	}
	return bad ? RG_EBADURL : RG_OK;
}

/* The receipt payload (what the gateway signs, and the transparency
 * log's leaf data): referral id, time, principal, JWS digest, the case
 * ids answered and, when the referral is in the log, its log_index.
 * malloc'd compact JSON in *payload. */
static int receipt_build(const char *principal, const char *jws_hex,
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
				     principal, "jws_sha256", jws_hex,
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
	const struct intake *in = ctx;
	if (log_index > (uint64_t)INT64_MAX)
		return RG_EINVAL;
	return receipt_build(in->principal, in->jws_hex, o, (int64_t)log_index,
			     payload, len);
}

static void jws_digest_hex(const uint8_t *jws, size_t len, char hex[65],
                           uint8_t digest[32])
{
	crypto_hash_sha256(digest, jws, len);
	sodium_bin2hex(hex, 65, digest, 32);
}

int intake_new(struct app *app, const char *principal,
               const struct referral *r, const uint8_t *jws, size_t jws_len,
               int64_t now, struct problem_items *items, struct intake **out)
{
	const struct conf *c = &app->conf;
	struct intake *in = calloc(1, sizeof *in);
	if (!in)
		return RG_ENOMEM;
	in->app = app;
	in->rc = RG_EIO;
	snprintf(in->principal, sizeof in->principal, "%s", principal);
	snprintf(in->jti, sizeof in->jti, "%s", r->jti);
	if (r->has_partner_ref)
		snprintf(in->partner_ref, sizeof in->partner_ref, "%s",
			 r->partner_ref);
	in->quota = (struct store_quota){
		.referrals = c->quota_referrals_per_day,
		.subjects = c->quota_subjects_per_day,
		.bytes = c->quota_bytes_per_day,
	};
	in->in = (struct store_referral_in){
		.principal = in->principal,
		.jti = in->jti,
		.received_at = now,
		.category = r->category,
		.urgency = r->urgency,
		.partner_ref = r->has_partner_ref ? in->partner_ref : NULL,
		.deadline_at = r->has_removal_order ? now + REMOVAL_ORDER_DEADLINE : 0,
		.n_subjects = r->n_subjects,
		.subjects = in->subjects,
		.quota = &in->quota,
		.receipt = receipt_for_log,
		.receipt_ctx = in,
	};
	if (r->has_removal_order) {
		const struct referral_removal_order *o = &r->removal_order;
		snprintf(in->reference, sizeof in->reference, "%s", o->reference);
		snprintf(in->authority, sizeof in->authority, "%s",
			 o->issuing_authority);
		in->order = (struct store_order_in){
			.reference = in->reference,
			.issuing_authority = in->authority[0] ? in->authority : NULL,
			.issued_at = o->issued_at,
			.withhold_notice_until = o->withhold_notice_until,
		};
		in->in.order = &in->order;
	}
	jws_digest_hex(jws, jws_len, in->jws_hex, in->in.jws_sha256);
	rg_id_new("r_", in->in.id);
	int rc = index_subjects(in, r, items);
	if (rc == RG_OK)
		rc = seal_content(app, r, in->in.id, &in->sealed, &in->sealed_len);
	if (rc != RG_OK) {
		intake_free(in);
		return rc;
	}
	in->in.sealed = in->sealed;
	in->in.sealed_len = in->sealed_len;
	*out = in;
	return RG_OK;
}

/* store_referral_submit_async's reply, in the writer thread. */
static void intake_committed(void *ctx, int rc, struct store_referral_out *out)
{
	struct intake *in = ctx;
	in->rc = rc;
	in->out = *out;              /* takes the receipt payload */
	in->done(in->done_ctx);
}

void intake_submit(struct intake *in, void (*done)(void *ctx), void *ctx)
{
	in->done = done;
	in->done_ctx = ctx;
	int rc = store_referral_submit_async(in->app->store, &in->in,
					     intake_committed, in);
	if (rc != RG_OK) {
		in->rc = rc == RG_EINVAL ? RG_EIO : rc;
		done(ctx);
	}
}

int intake_result(const struct intake *in,
                  const struct store_referral_out **out)
{
	*out = &in->out;
	return in->rc;
}

int intake_receipt(const struct app *app, const char *principal,
                   const uint8_t *jws, size_t jws_len,
                   const struct store_referral_out *out, char **receipt)
{
	char hex[65];
	uint8_t digest[32];
	char *legacy = NULL;
	size_t len = out->receipt_len;
	const char *payload = out->receipt;
	int rc = RG_OK;
	if (!payload) {
		jws_digest_hex(jws, jws_len, hex, digest);
		rc = receipt_build(principal, hex, out, -1, &legacy, &len);
		payload = legacy;
	}
	if (rc == RG_OK)
		rc = jws_sign((const uint8_t *)payload, len, app->keys.receipt_kid,
			      "refgate-receipt+json", app->keys.receipt_sk, receipt);
	free(legacy);
	return rc;
}

void intake_free(struct intake *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < REFERRAL_MAX_SUBJECTS; i++)
		for (size_t j = 0; j < in->subjects[i].n_idents; j++)
			free((void *)in->subjects[i].idents[j].sealed);
	free(in->sealed);
	store_referral_out_clear(&in->out);
	free(in);
}
