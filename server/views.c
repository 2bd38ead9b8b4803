/*
 * views.c - building case and referral views (see views.h).
 */
#include "views.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum audience views_audience(const struct store_principal *p)
{
	switch (p->role) {
	case ROLE_REVIEWER: return AUD_REVIEWER;
	case ROLE_LEGAL: return AUD_LEGAL;
	default: return AUD_REFERRER;
	}
}

enum audience views_key_audience(const struct store_access_key *key)
{
	return key->tier == TIER_DISCLOSURE ? AUD_DISCLOSURE_KEY : AUD_STATUS_KEY;
}

json_t *views_case_fields(const struct store_case *c)
{
	json_t *o = json_pack("{s:s, s:s}", "case_id", c->id, "status",
			      rg_status_name(c->status));
	if (!o)
		return NULL;
	if (c->action != ACTION_NONE)
		json_object_set_new(o, "action", json_string(rg_action_name(c->action)));
	json_set_time(o, "opened_at", c->opened_at);
	json_set_time(o, "updated_at", c->updated_at);
	json_set_time(o, "decided_at", c->decided_at);
	json_set_time(o, "deadline_at", c->deadline_at);
	json_object_set_new(o, "urgency", json_string(referral_urgency_name(c->urgency)));
	json_object_set_new(o, "reopen_count", json_integer(c->reopen_count));
	json_object_set_new(o, "referral_count", json_integer(c->n_referrals));
	json_object_set_new(o, "principal_count", json_integer(c->n_principals));
	/* a claim shows while it holds; a lapsed one is no claim */
	if (c->claimed_by[0] && c->claim_expires_at > (int64_t)time(NULL)) {
		json_object_set_new(o, "claimed_by", json_string(c->claimed_by));
		json_set_time(o, "claim_expires_at", c->claim_expires_at);
	}
	return o;
}

struct build {
	struct app *app;
	json_t *view;
	json_t *list;
	const char *caller;
	const struct store_access_key *key;  /* seen through this key */
	bool decrypt_all;       /* every referral's sealed content */
	bool decrypt_own;       /* only the caller's own referrals' */
	int err;
};

/* Whether the audience may see any of a referral's sealed members. */
static bool grants_content(const struct policy *pol, enum audience aud,
                           const char *kind)
{
	return policy_grants(pol, aud, kind, "subjects") ||
	       policy_grants(pol, aud, kind, "evidence") ||
	       policy_grants(pol, aud, kind, "summary");
}

/* Decrypts a sealed blob and parses it as JSON; NULL when it fails. */
static json_t *open_json(struct app *app, const uint8_t *ad, size_t ad_len,
                         const uint8_t *ct, size_t ct_len)
{
	uint8_t *pt = NULL;
	size_t len = 0;
	if (keys_open(&app->keys, ad, ad_len, ct, ct_len, &pt, &len) != RG_OK)
		return NULL;
	json_t *j = json_loadb((const char *)pt, len, 0, NULL);
	sodium_memzero(pt, len);
	free(pt);
	return j;
}

static int add_ident(void *ctx, const struct store_ident *id)
{
	struct build *b = ctx;
	uint8_t *pt = NULL;
	size_t len = 0;
	/* Through a key, only the identifiers the key was issued for (or
	 * its holder submitted): a later merge must not widen it. */
	if (b->key && store_access_key_ident_allowed(b->app->store, b->key,
						     id->hash) != RG_OK)
		return 0;
	if (keys_open(&b->app->keys, id->hash, sizeof id->hash, id->sealed,
		      id->sealed_len, &pt, &len) != RG_OK) {
		b->err = RG_ECRYPTO;
		return 0;
	}
	const char *kind = id->kind == 'i' ? "account_id" : "handle";
	json_t *v = json_stringn((const char *)pt, len);
	if (v && !json_object_get(b->view, kind))
		json_object_set(b->view, kind, v);
	json_array_append_new(b->list, json_pack("{s:s, s:o}", "kind", kind,
						 "value", v));
	sodium_memzero(pt, len);
	free(pt);
	return 0;
}

static int add_referral(void *ctx, const struct store_referral *r)
{
	struct build *b = ctx;
	char when[21];
	rg_time_format(r->received_at, when);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "referral_id", r->id,
			      "principal", r->principal, "received_at", when,
			      "category", referral_category_name(r->category),
			      "urgency", referral_urgency_name(r->urgency));
	if (!o)
		return RG_ENOMEM;
	if (r->has_partner_ref)
		json_object_set_new(o, "partner_ref", json_string(r->partner_ref));
	bool mine = b->caller && strcmp(r->principal, b->caller) == 0;
	if ((b->decrypt_all || (b->decrypt_own && mine)) && r->sealed) {
		json_t *content = open_json(b->app, (const uint8_t *)r->id,
					    strlen(r->id), r->sealed, r->sealed_len);
		if (content)
			json_object_update(o, content);
		else
			b->err = RG_ECRYPTO;
		json_decref(content);
	}
	json_array_append_new(b->list, o);
	return 0;
}

static int add_decision(void *ctx, const struct store_decision *d)
{
	struct build *b = ctx;
	json_t *o = json_pack("{s:s, s:s, s:b}", "status", rg_status_name(d->status),
			      "reviewer", d->reviewer, "automated", d->automated);
	if (!o)
		return RG_ENOMEM;
	if (d->action != ACTION_NONE)
		json_object_set_new(o, "action", json_string(rg_action_name(d->action)));
	/* a cannot_execute decision's ground is its Annex III reason */
	if (d->ground)
		json_object_set_new(o, d->status == CASE_CANNOT_EXECUTE ? "reason"
				    : "ground", json_string(d->ground));
	if (d->explanation)
		json_object_set_new(o, "explanation", json_string(d->explanation));
	if (d->legal_ground)
		json_object_set_new(o, "legal_ground", json_string(d->legal_ground));
	json_set_time(o, "decided_at", d->at);
	json_array_append_new(b->list, o);
	return 0;
}

/* Adds the decrypted identifiers to view when the audience may see them. */
static void add_identifiers(struct build *b, const struct policy *pol,
                            enum audience aud, const char *case_id)
{
	if (!policy_grants(pol, aud, "case", "account_id") &&
	    !policy_grants(pol, aud, "case", "handle") &&
	    !policy_grants(pol, aud, "case", "identifiers"))
		return;
	b->list = json_array();
	store_case_idents_each(b->app->store, case_id, add_ident, b);
	json_object_set_new(b->view, "identifiers", b->list);
}

/* For reviewers: the notice hold (Art. 11(3) of Regulation (EU)
 * 2021/784) of the removal orders that named the case, while it holds:
 * the account holder may not be told before then. */
static int add_notice_hold(struct app *app, json_t *view, const char *case_id)
{
	int64_t until = 0;
	int rc = store_case_notice_hold(app->store, case_id, (int64_t)time(NULL),
					&until);
	if (rc == RG_OK && until > 0)
		json_set_time(view, "notice_withheld_until", until);
	return rc;
}

json_t *views_case_brief(struct app *app, const struct policy *pol,
                         enum audience aud, const struct store_case *c,
                         int *err)
{
	json_t *view = views_case_fields(c);
	struct build b = {.app = app, .view = view};
	*err = RG_ENOMEM;
	if (!view)
		return NULL;
	add_identifiers(&b, pol, aud, c->id);
	if (b.err == RG_OK && aud == AUD_REVIEWER)
		b.err = add_notice_hold(app, view, c->id);
	if (b.err != RG_OK) {
		*err = b.err;
		json_decref(view);
		return NULL;
	}
	policy_filter_case(pol, aud, NULL, view);
	*err = RG_OK;
	return view;
}

/* The fields a partner's or agency's own view of a case has (contract
 * section 4): no counts, no urgency, nothing another principal did. */
static json_t *referrer_fields(const struct store_case *v)
{
	json_t *o = json_pack("{s:s, s:s}", "case_id", v->id, "status",
			      rg_status_name(v->status));
	if (!o)
		return NULL;
	if (v->action != ACTION_NONE)
		json_object_set_new(o, "action", json_string(rg_action_name(v->action)));
	json_set_time(o, "opened_at", v->opened_at);
	json_set_time(o, "updated_at", v->updated_at);
	json_set_time(o, "decided_at", v->decided_at);
	json_set_time(o, "deadline_at", v->deadline_at);
	return o;
}

/*
 * The base of a case view: a partner's or agency's own view when it has a
 * case under this id (also through an access key: its own times and
 * status), else the case itself; outside reviewers in_review shows as
 * received (contract section 4). c gets the live case.
 */
static json_t *case_base(struct app *app, enum audience aud,
                         const char *caller, const char *id,
                         struct store_case *c, bool *own, int *err)
{
	struct store_case v;
	*own = aud != AUD_REVIEWER && caller &&
	       store_referrer_case_get(app->store, caller, id, &v) == RG_OK;
	*err = store_case_get(app->store, id, c);
	if (*err != RG_OK)
		return NULL;
	if (*own)
		return referrer_fields(&v);
	if (aud != AUD_REVIEWER) {
		struct store_case seen = *c;
		/* cannot_execute is the issuing agency's to read (its order's
		 * feedback), not a decision others share */
		if (seen.status == CASE_IN_REVIEW ||
		    seen.status == CASE_CANNOT_EXECUTE)
			seen.status = CASE_RECEIVED;
		return views_case_fields(&seen);
	}
	return views_case_fields(c);
}

json_t *views_case(struct app *app, const struct policy *pol,
                   enum audience aud, const char *caller,
                   const struct store_access_key *key, const char *id,
                   int *err)
{
	struct store_case c;
	bool own;
	json_t *view = case_base(app, aud, caller, id, &c, &own, err);
	struct build b = {.app = app, .view = view, .caller = caller, .key = key};
	if (!view)
		goto fail;
	add_identifiers(&b, pol, aud, c.id);
	if (aud == AUD_REVIEWER && (*err = add_notice_hold(app, view, c.id)) != RG_OK)
		goto fail;
	bool all_refs = policy_grants(pol, aud, "case", "referrals");
	if (all_refs || policy_grants_any(pol, aud, "own_referrals")) {
		b.list = json_array();
		b.decrypt_all = all_refs;
		b.decrypt_own = !all_refs && grants_content(pol, aud, "own_referrals");
		/* a referrer's own referrals: those it was answered this id for */
		*err = own && !all_refs
			? store_referrer_referrals_each(app->store, caller, id,
							add_referral, &b)
			: store_case_referrals_each(app->store, c.id, add_referral, &b);
		json_object_set_new(view, "referrals", b.list);
		if (*err != RG_OK)
			goto fail;
	}
	if (policy_grants(pol, aud, "case", "decisions")) {
		b.list = json_array();
		store_case_decisions_each(app->store, c.id, add_decision, &b);
		json_object_set_new(view, "decisions", b.list);
	}
	if (b.err != RG_OK) {
		*err = b.err;
		goto fail;
	}
	policy_filter_case(pol, aud, caller, view);
	return view;
fail:
	json_decref(view);
	if (*err == RG_OK)
		*err = RG_ENOMEM;
	return NULL;
}

struct ref_cases {
	json_t *list;
	bool own;               /* the submitter's own views of its cases */
};

static int add_ref_case(void *ctx, size_t subject, const struct store_case *c)
{
	struct ref_cases *rc = ctx;
	json_t *o = rc->own ? referrer_fields(c) : views_case_fields(c);
	if (!o)
		return RG_ENOMEM;
	json_object_set_new(o, "subject", json_integer((json_int_t)subject));
	json_array_append_new(rc->list, o);
	return 0;
}

struct ref_content {
	struct app *app;
	const char *id;
	json_t *view;
	int err;
};

/* Merges the decrypted content of referral rc->id into rc->view. */
static int add_ref_content(void *ctx, const struct store_referral *r)
{
	struct ref_content *rc = ctx;
	if (strcmp(r->id, rc->id) != 0 || !r->sealed)
		return 0;
	json_t *content = open_json(rc->app, (const uint8_t *)r->id, strlen(r->id),
				    r->sealed, r->sealed_len);
	if (!content) {
		rc->err = RG_ECRYPTO;
		return 0;
	}
	json_object_update(rc->view, content);
	json_decref(content);
	return 0;
}

json_t *views_referral(struct app *app, const struct policy *pol,
                       enum audience aud, const char *caller,
                       const struct store_referral *r, int *err)
{
	char when[21];
	rg_time_format(r->received_at, when);
	json_t *view = json_pack("{s:s, s:s, s:s, s:s, s:s}", "referral_id", r->id,
				 "received_at", when, "principal", r->principal,
				 "category", referral_category_name(r->category),
				 "urgency", referral_urgency_name(r->urgency));
	struct ref_cases rc = {.list = json_array(), .own = aud != AUD_REVIEWER};
	if (!view || !rc.list) {
		json_decref(view);
		json_decref(rc.list);
		*err = RG_ENOMEM;
		return NULL;
	}
	if (r->has_partner_ref)
		json_object_set_new(view, "partner_ref", json_string(r->partner_ref));
	*err = rc.own ? store_referrer_subjects_each(app->store, r->principal,
						     r->id, add_ref_case, &rc)
		      : store_referral_cases_each(app->store, r->id, add_ref_case,
						  &rc);
	json_object_set_new(view, "cases", rc.list);
	/* The sealed subjects, evidence and summary, when the audience may
	 * see them: read through the referral's first case. */
	const char *first = json_string_value(
		json_object_get(json_array_get(rc.list, 0), "case_id"));
	if (*err == RG_OK && first && grants_content(pol, aud, "referral")) {
		struct ref_content content = {.app = app, .id = r->id, .view = view};
		*err = rc.own ? store_referrer_referrals_each(app->store,
							      r->principal, first,
							      add_ref_content,
							      &content)
			      : store_case_referrals_each(app->store, first,
							  add_ref_content,
							  &content);
		if (*err == RG_OK)
			*err = content.err;
	}
	if (*err != RG_OK) {
		json_decref(view);
		return NULL;
	}
	policy_filter_referral(pol, aud, caller, view);
	return view;
}
