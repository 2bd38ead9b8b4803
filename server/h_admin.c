/*
 * h_admin.c - the legal team's principal administration
 * (/v1/admin/principals) and the gateway's JWKS (/v1/keys).
 */
#include "routes.h"
#include "authgate.h"
#include "http.h"
#include "../proto/jwk.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define ENROL_MAX_CERTS 8
#define ENROL_MAX_KEYS 8

void h_keys(struct request *req, struct response *res)
{
	const char *jwks = req->app->jwks_json;
	res->status = 200;
	res->content_type = "application/json";
	res->body = strdup(jwks);
	res->body_len = res->body ? strlen(res->body) : 0;
	if (!res->body)
		response_problem(res, 500, "internal", NULL);
}

/* Checks a PEM certificate: signed by the client CA, for client auth;
 * fills the store entry. The PEM stays owned by the JSON document. */
/* Checks one enrolled certificate; *why names the first check it fails. */
static int check_cert(struct app *app, const char *pem, struct store_cert_in *out,
                      const char **why)
{
	int rc = RG_EINVAL;
	BIO *b = BIO_new_mem_buf(pem, -1), *cb = BIO_new_mem_buf(app->client_ca_pem, -1);
	X509 *crt = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	X509 *ca = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *ca_key = ca ? X509_get0_pubkey(ca) : NULL;
	unsigned char *der = NULL;
	int der_len;
	*why = "not a PEM certificate";
	if (!crt || !ca_key)
		goto out;
	*why = "not issued by the gateway's client CA";
	if (X509_verify(crt, ca_key) != 1 || X509_check_issued(ca, crt) != X509_V_OK)
		goto out;
	*why = "not a client certificate (extendedKeyUsage clientAuth)";
	if (X509_check_purpose(crt, X509_PURPOSE_SSL_CLIENT, 0) != 1)
		goto out;
	*why = "expired (notAfter in the past)";
	if (X509_cmp_current_time(X509_get0_notAfter(crt)) <= 0)
		goto out;
	*why = "unreadable";
	if ((der_len = i2d_X509(crt, &der)) <= 0 ||
	    authgate_spki_sha256(der, (size_t)der_len, out->spki_sha256) != RG_OK)
		goto out;
	const ASN1_TIME *na = X509_get0_notAfter(crt);
	struct tm tm;
	if (ASN1_TIME_to_tm(na, &tm) != 1)
		goto out;
	out->not_after = (int64_t)timegm(&tm);
	out->pem = pem;
	rc = RG_OK;
out:
	OPENSSL_free(der);
	X509_free(crt);
	X509_free(ca);
	BIO_free(b);
	BIO_free(cb);
	return rc;
}

struct enrolment {
	json_t *root;
	const char *name;
	enum rg_role role;
	struct store_cert_in certs[ENROL_MAX_CERTS];
	size_t n_certs;
	struct store_key_in keys[ENROL_MAX_KEYS];
	size_t n_keys;
	bool trusted_flagger;        /* DSA Art. 22: its notices' source */
};

/* Parses and checks an enrolment body; fills items on refusal. */
static int parse_enrolment(struct request *req, struct enrolment *e,
                           struct problem_items *items)
{
	e->root = json_loadb((const char *)req->body, req->body_len,
			     JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(e->root)) {
		problem_items_add(items, "body is not a JSON object", "%s", "");
		return RG_EINVAL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(e->root, key, v)
		if (strcmp(key, "name") && strcmp(key, "role") &&
		    strcmp(key, "certificates") && strcmp(key, "signing_keys") &&
		    strcmp(key, "trusted_flagger"))
			problem_items_add(items, "unknown member", "/%.100s", key);
	e->name = json_string_value(json_object_get(e->root, "name"));
	if (!rg_name_valid(e->name))
		problem_items_add(items, "1-64 of [a-z0-9_.-], starting with a letter or digit", "/name");
	e->role = rg_role_parse(json_string_value(json_object_get(e->root, "role")));
	if (e->role == ROLE_NONE)
		problem_items_add(items, "must be partner, agency, reviewer or legal", "/role");
	json_t *tf = json_object_get(e->root, "trusted_flagger");
	e->trusted_flagger = json_is_true(tf);
	if (tf && !json_is_boolean(tf))
		problem_items_add(items, "must be true or false", "/trusted_flagger");
	else if (e->trusted_flagger && e->role != ROLE_PARTNER && e->role != ROLE_NONE)
		problem_items_add(items, "only a partner is a trusted flagger",
				  "/trusted_flagger");
	json_t *certs = json_object_get(e->root, "certificates");
	if (!json_is_array(certs) || json_array_size(certs) < 1 ||
	    json_array_size(certs) > ENROL_MAX_CERTS)
		problem_items_add(items, "1-8 PEM certificates", "/certificates");
	json_array_foreach(certs, e->n_certs, v) {
		if (e->n_certs >= ENROL_MAX_CERTS)
			break;
		const char *pem = json_string_value(v), *why = "must be a PEM string";
		if (!pem || check_cert(req->app, pem, &e->certs[e->n_certs], &why) != RG_OK)
			problem_items_add(items, why, "/certificates/%zu", e->n_certs);
	}
	json_t *keys = json_object_get(e->root, "signing_keys");
	bool signs = e->role == ROLE_PARTNER || e->role == ROLE_AGENCY;
	if (keys && !json_is_array(keys))
		problem_items_add(items, "must be an array of public JWKs", "/signing_keys");
	else if (signs && (json_array_size(keys) < 1 || json_array_size(keys) > ENROL_MAX_KEYS))
		problem_items_add(items, "partners and agencies need 1-8 signing keys", "/signing_keys");
	else if (!signs && json_array_size(keys) > 0)
		problem_items_add(items, "only partners and agencies sign referrals", "/signing_keys");
	json_array_foreach(keys, e->n_keys, v) {
		if (e->n_keys >= ENROL_MAX_KEYS || !signs)
			break;
		char *text = json_dumps(v, JSON_COMPACT);
		const char *why = "not an Ed25519 public JWK";
		struct store_key_in *k = &e->keys[e->n_keys];
		if (!text || jwk_parse_public(text, strlen(text), k->pk, k->kid, &why) != RG_OK)
			problem_items_add(items, why, "/signing_keys/%zu", e->n_keys);
		free(text);
	}
	return items->n > 0 ? RG_EINVAL : RG_OK;
}

void h_principal_enrol(struct request *req, struct response *res)
{
	struct enrolment *e = calloc(1, sizeof *e);
	struct problem_items items = {0};
	if (!e) {
		response_problem(res, 500, "internal", NULL);
		return;
	}
	if (parse_enrolment(req, e, &items) != RG_OK) {
		response_problem_items(res, 400, "invalid_payload", &items);
		goto out;
	}
	int rc = store_principal_enrol_flagged(req->app->store, req->principal.name,
					       e->name, e->role, e->trusted_flagger,
					       e->certs, e->n_certs, e->keys,
					       e->n_keys, req->now);
	if (rc == RG_ECONFLICT || rc == RG_EEXIST) {
		response_problem(res, 409, "conflict", rc == RG_EEXIST
				 ? "a certificate or key is already registered"
				 : "the name is revoked or has another role");
		goto out;
	}
	if (rc != RG_OK) {
		response_store_error(res, rc, NULL);
		goto out;
	}
	char when[21], hex[65];
	rg_time_format(req->now, when);
	json_t *certs = json_array(), *keys = json_array();
	for (size_t i = 0; i < e->n_certs; i++) {
		sodium_bin2hex(hex, sizeof hex, e->certs[i].spki_sha256, 32);
		json_array_append_new(certs, json_pack("{s:s}", "spki_sha256", hex));
	}
	for (size_t i = 0; i < e->n_keys; i++)
		json_array_append_new(keys, json_pack("{s:s}", "kid", e->keys[i].kid));
	response_json(res, 201, json_pack("{s:s, s:s, s:s, s:o, s:o, s:b}", "name",
					  e->name, "role", rg_role_name(e->role),
					  "created_at", when, "certificates", certs,
					  "signing_keys", keys, "trusted_flagger",
					  e->trusted_flagger));
	snprintf(res->location, sizeof res->location, "/v1/admin/principals/%s", e->name);
out:
	json_decref(e->root);
	free(e);
}

/* When the named principal was revoked, or 0. */
struct revoked_lookup {
	const char *name;
	int64_t revoked_at;
};

static int match_revoked(void *ctx, const struct store_principal *p)
{
	struct revoked_lookup *l = ctx;
	if (strcmp(p->name, l->name) == 0)
		l->revoked_at = p->revoked_at;
	return 0;
}

void h_principal_revoke(struct request *req, struct response *res)
{
	struct revoked_lookup l = {req->params[0], 0};
	int rc = store_principal_revoke(req->app->store, req->principal.name,
					req->params[0], req->now);
	/* Its parked long polls are answered now, not at their timeout. */
	if (rc == RG_OK)
		http_drop_polls(req->app->http, req->params[0], NULL);
	if (rc == RG_ENOTFOUND)
		store_principals_each(req->app->store, match_revoked, &l);
	response_revoked(res, rc, "name", req->params[0], req->now, l.revoked_at);
}

static int add_principal(void *ctx, const struct store_principal *p)
{
	json_t *list = ctx;
	char when[21];
	rg_time_format(p->created_at, when);
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:b}", "name", p->name,
			      "role", rg_role_name(p->role), "created_at", when,
			      "certificates", (json_int_t)p->n_certs,
			      "signing_keys", (json_int_t)p->n_keys,
			      "trusted_flagger", p->trusted_flagger);
	if (!o)
		return RG_ENOMEM;
	if (p->revoked_at) {
		rg_time_format(p->revoked_at, when);
		json_object_set_new(o, "revoked_at", json_string(when));
	}
	if (p->cert_expires_at) {
		rg_time_format(p->cert_expires_at, when);
		json_object_set_new(o, "certificate_expires_at", json_string(when));
	}
	json_array_append_new(list, o);
	return 0;
}

void h_principal_list(struct request *req, struct response *res)
{
	json_t *list = json_array();
	int rc = store_principals_each(req->app->store, add_principal, list);
	if (rc != RG_OK) {
		json_decref(list);
		response_store_error(res, rc, NULL);
		return;
	}
	response_json(res, 200, json_pack("{s:o}", "principals", list));
}
