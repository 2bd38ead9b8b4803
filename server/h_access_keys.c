/*
 * h_access_keys.c - the legal team's access keys (/v1/admin/access-keys)
 * and audit log (/v1/admin/audit), and a partner's own statistics
 * (/v1/partners/me/stats).
 */
#include "authgate.h"
#include "http.h"
#include "cidr.h"
#include "cursor.h"
#include "routes.h"
#include "../proto/jws.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX 1000

/* Everything an issue request holds, freed in one place. */
struct issue {
	json_t *root;
	struct store_access_key key;
	const char *cases[ACCESS_KEY_MAX_CASES];
	char canonical[ACCESS_KEY_MAX_CASES][RG_ID_MAX + 1];
	char cidrs[CIDR_LIST_MAX * 50];
};

static bool printable_text(const char *s, size_t max_chars)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return false;   /* C1 controls */
		n += (*p & 0xc0) != 0x80;
	}
	return n >= 1 && n <= max_chars;
}

/* Whether the name is an active principal. */
struct find_principal {
	const char *name;
	bool active;
	enum rg_role role;
};

static int match_principal(void *ctx, const struct store_principal *p)
{
	struct find_principal *f = ctx;
	if (strcmp(p->name, f->name) == 0 && p->revoked_at == 0) {
		f->active = true;
		f->role = p->role;
	}
	return 0;
}

/* The scope member: "all_own" or 1-1000 existing case ids. */
static void parse_scope(struct request *req, struct issue *is, json_t *cases,
                        struct problem_items *items)
{
	if (json_is_string(cases) && strcmp(json_string_value(cases), "all_own") == 0) {
		is->key.all_own = true;
		return;
	}
	if (!json_is_array(cases) || json_array_size(cases) < 1 ||
	    json_array_size(cases) > ACCESS_KEY_MAX_CASES) {
		problem_items_add(items, "\"all_own\" or 1-1000 case ids", "/cases");
		return;
	}
	size_t i;
	json_t *v;
	json_array_foreach(cases, i, v) {
		struct store_case c;
		const char *id = json_string_value(v);
		if (!id || !rg_id_valid(id) ||
		    store_case_get(req->app->store, id, &c) != RG_OK) {
			problem_items_add(items, "no such case", "/cases/%zu", i);
			continue;
		}
		memcpy(is->canonical[is->key.n_cases], c.id, sizeof c.id);
		is->cases[is->key.n_cases] = is->canonical[is->key.n_cases];
		is->key.n_cases++;
	}
	is->key.cases = is->cases;
}

/* The optional cidrs member: an array of CIDR strings. */
static void parse_cidrs(struct issue *is, json_t *cidrs,
                        struct problem_items *items)
{
	size_t pos = 0, i;
	json_t *v;
	is->key.cidrs = is->cidrs;
	if (!cidrs)
		return;
	if (!json_is_array(cidrs) || json_array_size(cidrs) > CIDR_LIST_MAX) {
		problem_items_add(items, "at most 16 CIDRs", "/cidrs");
		return;
	}
	json_array_foreach(cidrs, i, v) {
		const char *c = json_string_value(v);
		int n = c ? snprintf(is->cidrs + pos, sizeof is->cidrs - pos, "%s%s",
				     pos ? "," : "", c) : -1;
		if (n < 0 || (size_t)n >= sizeof is->cidrs - pos || strchr(c, ',') ||
		    !cidr_list_valid(is->cidrs + pos + (pos ? 1 : 0))) {
			problem_items_add(items, "not a CIDR such as 192.0.2.0/24",
					  "/cidrs/%zu", i);
			is->cidrs[pos] = '\0';
			continue;
		}
		pos += (size_t)n;
	}
}

static int parse_issue(struct request *req, struct issue *is,
                       struct problem_items *items)
{
	static const char *const known[] = {"principal", "tier", "cases",
					    "legal_basis", "expires_at", "cidrs"};
	is->root = json_loadb((const char *)req->body, req->body_len,
			      JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(is->root)) {
		problem_items_add(items, "body is not a JSON object", "%s", "");
		return RG_EINVAL;
	}
	const char *k;
	json_t *v;
	json_object_foreach(is->root, k, v) {
		bool ok = false;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			ok = ok || strcmp(k, known[i]) == 0;
		if (!ok)
			problem_items_add(items, "unknown member", "/%.100s", k);
	}
	const char *principal = json_string_value(json_object_get(is->root, "principal"));
	struct find_principal f = {.name = principal};
	if (!rg_name_valid(principal) ||
	    store_principals_each(req->app->store, match_principal, &f) != RG_OK ||
	    !f.active)
		problem_items_add(items, "no such active principal", "/principal");
	else if (f.role != ROLE_AGENCY && f.role != ROLE_LEGAL)
		problem_items_add(items, "access keys are for agencies (and the legal team's own disclosure)",
				  "/principal");
	else
		snprintf(is->key.principal, sizeof is->key.principal, "%s", principal);
	const char *tier = json_string_value(json_object_get(is->root, "tier"));
	if (tier && strcmp(tier, "status") == 0)
		is->key.tier = TIER_STATUS;
	else if (tier && strcmp(tier, "disclosure") == 0)
		is->key.tier = TIER_DISCLOSURE;
	else
		problem_items_add(items, "must be status or disclosure", "/tier");
	parse_scope(req, is, json_object_get(is->root, "cases"), items);
	is->key.legal_basis = json_string_value(json_object_get(is->root, "legal_basis"));
	if (!is->key.legal_basis ||
	    !printable_text(is->key.legal_basis, ACCESS_KEY_BASIS_MAX))
		problem_items_add(items, "required, 1-1000 characters, no control characters",
				  "/legal_basis");
	const char *exp = json_string_value(json_object_get(is->root, "expires_at"));
	int64_t max = req->now + (int64_t)req->app->conf.access_key_max_days * 86400;
	if (!exp || rg_time_parse(exp, &is->key.expires_at) != RG_OK ||
	    is->key.expires_at <= req->now || is->key.expires_at > max)
		problem_items_add(items, "an RFC 3339 time in the future, within the configured maximum",
				  "/expires_at");
	parse_cidrs(is, json_object_get(is->root, "cidrs"), items);
	return items->n > 0 ? RG_EINVAL : RG_OK;
}

/* A fresh "k_" id and a fresh secret: "rgk_" + 256 random bits. */
static void new_key(char id[RG_ID_MAX + 1], char secret[ACCESS_KEY_SECRET_LEN + 1])
{
	uint8_t rnd[32];
	char b64[48];
	randombytes_buf(rnd, 16);
	sodium_bin2base64(b64, sizeof b64, rnd, 16,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(id, RG_ID_MAX + 1, "k_%.22s", b64);
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2base64(b64, sizeof b64, rnd, sizeof rnd,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(secret, ACCESS_KEY_SECRET_LEN + 1, ACCESS_KEY_PREFIX "%.43s", b64);
	sodium_memzero(rnd, sizeof rnd);
	sodium_memzero(b64, sizeof b64);
}

void h_access_key_issue(struct request *req, struct response *res)
{
	struct issue *is = calloc(1, sizeof *is);
	struct problem_items items = {0};
	char secret[ACCESS_KEY_SECRET_LEN + 1];
	uint8_t hash[32];
	if (!is) {
		response_problem(res, 500, "internal", NULL);
		return;
	}
	if (parse_issue(req, is, &items) != RG_OK) {
		response_problem_items(res, 400, "invalid_payload", &items);
		goto out;
	}
	new_key(is->key.id, secret);
	snprintf(is->key.issued_by, sizeof is->key.issued_by, "%s", req->principal.name);
	is->key.created_at = req->now;
	authgate_secret_hash(secret, hash);
	int rc = store_access_key_issue(req->app->store, req->principal.name,
					&is->key, hash);
	if (rc == RG_ENOTFOUND) {
		response_problem(res, 400, "invalid_payload",
				 "the principal or a case no longer exists");
		goto out;
	}
	if (rc != RG_OK) {
		response_store_error(res, rc, NULL);
		goto out;
	}
	char when[21];
	rg_time_format(is->key.expires_at, when);
	response_json(res, 201, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", is->key.id,
					  "secret", secret, "principal", is->key.principal,
					  "tier", is->key.tier == TIER_DISCLOSURE
						  ? "disclosure" : "status",
					  "expires_at", when));
	snprintf(res->location, sizeof res->location, "/v1/admin/access-keys/%s",
		 is->key.id);
out:
	sodium_memzero(secret, sizeof secret);
	json_decref(is->root);
	free(is);
}

static int add_key(void *ctx, const struct store_access_key *k)
{
	json_t *list = ctx, *scope;
	if (k->all_own) {
		scope = json_string("all_own");
	} else {
		scope = json_array();
		for (size_t i = 0; i < k->n_cases; i++)
			json_array_append_new(scope, json_string(k->cases[i]));
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I}", "id", k->id,
			      "principal", k->principal, "issued_by", k->issued_by,
			      "tier", k->tier == TIER_DISCLOSURE ? "disclosure" : "status",
			      "cases", scope, "legal_basis", k->legal_basis,
			      "use_count", (json_int_t)k->use_count);
	if (!o)
		return RG_ENOMEM;
	json_set_time(o, "created_at", k->created_at);
	json_set_time(o, "expires_at", k->expires_at);
	json_set_time(o, "revoked_at", k->revoked_at);
	json_set_time(o, "last_used_at", k->last_used_at);
	json_t *cidrs = json_array();
	for (const char *p = k->cidrs; p && *p;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(cidrs, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	json_object_set_new(o, "cidrs", cidrs);
	json_array_append_new(list, o);
	return 0;
}

void h_access_key_list(struct request *req, struct response *res)
{
	json_t *list = json_array();
	int rc = store_access_keys_each(req->app->store, add_key, list);
	if (rc != RG_OK) {
		json_decref(list);
		response_store_error(res, rc, NULL);
		return;
	}
	response_json(res, 200, json_pack("{s:o}", "access_keys", list));
}

/* When the key was revoked, or 0. */
struct key_revoked_lookup {
	const char *id;
	int64_t revoked_at;
};

static int match_key_revoked(void *ctx, const struct store_access_key *k)
{
	struct key_revoked_lookup *l = ctx;
	if (strcmp(k->id, l->id) == 0)
		l->revoked_at = k->revoked_at;
	return 0;
}

void h_access_key_revoke(struct request *req, struct response *res)
{
	struct key_revoked_lookup l = {req->params[0], 0};
	int rc = store_access_key_revoke(req->app->store, req->principal.name,
					 req->params[0], req->now);
	/* Polls parked with the key are answered now, not at their timeout. */
	if (rc == RG_OK)
		http_drop_polls(req->app->http, NULL, req->params[0]);
	if (rc == RG_ENOTFOUND)
		store_access_keys_each(req->app->store, match_key_revoked, &l);
	response_revoked(res, rc, "id", req->params[0], req->now, l.revoked_at);
}

static int add_audit(void *ctx, const struct store_audit *a)
{
	json_t *list = ctx;
	char when[21], prev[65], hash[65];
	rg_time_format(a->at, when);
	sodium_bin2hex(prev, sizeof prev, a->prev_hash, 32);
	sodium_bin2hex(hash, sizeof hash, a->hash, 32);
	json_t *detail = json_loads(a->detail, JSON_DECODE_ANY, NULL);
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "seq",
			      (json_int_t)a->seq, "at", when, "actor", a->actor,
			      "kind", a->kind, "object", a->object, "detail",
			      detail ? detail : json_null(), "prev_hash", prev,
			      "hash", hash);
	if (!o)
		return RG_ENOMEM;
	json_array_append_new(list, o);
	return 0;
}

static int keep_last_head(void *ctx, const struct store_audit_signature *h)
{
	*(struct store_audit_signature *)ctx = *h;
	return 0;
}

/* The newest signed head, for auditors to keep outside the gateway: with
 * it, a log cut short together with its later heads is still caught. */
static json_t *last_signed_head(struct store *st)
{
	struct store_audit_signature h = {0};
	char when[21], hash[65];
	if (store_audit_heads_each(st, keep_last_head, &h) != RG_OK || h.seq == 0)
		return json_null();
	char *sig = b64url_encode(h.sig, sizeof h.sig);
	rg_time_format(h.at, when);
	sodium_bin2hex(hash, sizeof hash, h.hash, sizeof h.hash);
	json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)h.seq,
			      "at", when, "hash", hash, "signature", sig ? sig : "");
	free(sig);
	return o ? o : json_null();
}

void h_audit_list(struct request *req, struct response *res)
{
	int64_t since = 0, last;
	const char *cs = request_query(req, "since");
	int64_t limit;
	if (!request_query_int(req, res, "limit", 1, AUDIT_PAGE_MAX,
			       AUDIT_PAGE_DEFAULT, &limit))
		return;
	if (cs && *cs && cursor_decode(&req->app->keys, cs, &since) != RG_OK) {
		response_problem(res, 400, "bad_request",
				 "since must be a cursor from this gateway");
		return;
	}
	json_t *list = json_array();
	int rc = store_audit_each(req->app->store, since, (size_t)limit,
				  add_audit, list, &last);
	if (rc != RG_OK) {
		json_decref(list);
		response_store_error(res, rc, NULL);
		return;
	}
	char *next = cursor_encode(&req->app->keys, last);
	response_json(res, 200, json_pack("{s:o, s:s, s:o}", "records", list, "next",
					  next ? next : "", "signed_head",
					  last_signed_head(req->app->store)));
	free(next);
}

void h_partner_stats(struct request *req, struct response *res)
{
	struct store_partner_stats s;
	int rc = store_partner_stats(req->app->store, req->principal.name, &s);
	if (rc != RG_OK) {
		response_store_error(res, rc, NULL);
		return;
	}
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "referrals", (json_int_t)s.referrals,
			      "distinct_accounts", (json_int_t)s.distinct_accounts,
			      "actioned", (json_int_t)s.actioned, "no_action",
			      (json_int_t)s.no_action, "pending", (json_int_t)s.pending);
	if (o)
		json_object_set_new(o, "median_time_to_decision_seconds",
				    s.median_decision_seconds >= 0
					    ? json_integer(s.median_decision_seconds)
					    : json_null());
	response_json(res, 200, o);
}
