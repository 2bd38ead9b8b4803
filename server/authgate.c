/*
 * authgate.c - peer certificate to principal (see authgate.h). GnuTLS does
 * the X.509 work; nothing here parses certificates by hand.
 */
#include "authgate.h"
#include "cidr.h"
#include "log.h"
#include "metrics.h"

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int authgate_spki_sha256(const uint8_t *der, size_t len, uint8_t out[32])
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t in = {(unsigned char *)der, (unsigned)len};
	gnutls_datum_t spki = {NULL, 0};
	int rc = RG_EINVAL;
	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&pub) < 0)
		goto out;
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0)
		goto out;
	crypto_hash_sha256(out, spki.data, spki.size);
	rc = RG_OK;
out:
	gnutls_free(spki.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

/* Verifies the peer's chain and purpose and hashes its SPKI; *why says
 * what failed, for the operator's log. */
static int verify_peer(gnutls_session_t s, const gnutls_datum_t *cert,
                       uint8_t spki[32], const char **why)
{
	unsigned status = 0;
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (void *)GNUTLS_KP_TLS_WWW_CLIENT,
		.size = 0,
	};
	*why = "not an X.509 client certificate";
	if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509 ||
	    gnutls_certificate_verify_peers(s, &purpose, 1, &status) < 0)
		return RG_ENOTFOUND;
	if (status != 0) {
		*why = status & GNUTLS_CERT_EXPIRED ? "client certificate expired"
		     : status & GNUTLS_CERT_NOT_ACTIVATED ? "client certificate not yet valid"
		     : status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)
		     ? "client certificate not issued by the client CA"
		     : status & GNUTLS_CERT_PURPOSE_MISMATCH
		     ? "certificate not for client authentication"
		     : "client certificate does not verify";
		return RG_ENOTFOUND;
	}
	*why = "client certificate unreadable";
	return authgate_spki_sha256(cert->data, cert->size, spki) == RG_OK
		       ? RG_OK : RG_ENOTFOUND;
}

int authgate_peer(struct app *app, void *gnutls_session, int64_t now,
                  struct authgate_cache *cache, struct store_principal *out,
                  const char **why)
{
	gnutls_session_t s = gnutls_session;
	unsigned n = 0;
	uint8_t spki[32], cert_hash[32];
	*why = "no client certificate";
	if (!s)
		return RG_ENOTFOUND;
	const gnutls_datum_t *chain = gnutls_certificate_get_peers(s, &n);
	if (!chain || n == 0)
		return RG_ENOTFOUND;
	crypto_generichash(cert_hash, sizeof cert_hash, chain[0].data,
			   chain[0].size, NULL, 0);
	if (cache && cache->valid &&
	    sodium_memcmp(cache->cert_hash, cert_hash, sizeof cert_hash) == 0) {
		memcpy(spki, cache->spki_sha256, sizeof spki);
	} else {
		if (verify_peer(s, &chain[0], spki, why) != RG_OK)
			return RG_ENOTFOUND;
		if (cache) {
			memcpy(cache->cert_hash, cert_hash, sizeof cert_hash);
			memcpy(cache->spki_sha256, spki, sizeof spki);
			cache->valid = true;
		}
	}
	int rc = store_principal_by_spki(app->store, spki, now, out);
	*why = rc == RG_OK ? NULL : rc == RG_ENOTFOUND
	     ? "no active principal holds this certificate's key (not enrolled, or revoked)"
	     : "the principal could not be looked up (storage)";
	return rc;
}

void authgate_secret_hash(const char *secret, uint8_t out[32])
{
	crypto_generichash(out, 32, (const uint8_t *)secret, strlen(secret),
			   NULL, 0);
}

/*
 * Records why a presented access key was refused: a warn log line and an
 * audit record (kind "key_misuse" when the key belongs to another
 * principal, "key_refused" otherwise; object the key id, or "-" when no
 * key matched). The caller only ever learns AUTHGATE_KEY_REFUSED, so that
 * the answer confirms nothing about the key; every refusal takes this same
 * path, audit write included, so that its timing does not either. (A
 * header that holds no secret at all is only logged: its sender knows
 * it is malformed, and a malformed request changes no state.)
 */
static void refusal_record(struct app *app, const struct store_principal *p,
                           const struct store_access_key *k, bool misuse,
                           const char *reason, int64_t now)
{
	char detail[320];
	const char *id = k ? k->id : "-";
	if (misuse) {
		metrics_inc(M_KEY_MISUSE);
		snprintf(detail, sizeof detail,
			 "{\"key_owner\":\"%s\",\"reason\":\"%s\"}",
			 k->principal, reason);
	} else {
		snprintf(detail, sizeof detail, "{\"reason\":\"%s\"}", reason);
	}
	if (store_audit_append(app->store, p->name,
			       misuse ? "key_misuse" : "key_refused", id, detail,
			       now) != RG_OK)
		log_msg(LOG_ERROR, "could not audit a refused access key");
	log_msg(LOG_WARN, "access key %s presented by principal %s refused: %s",
		id, p->name, reason);
}

int authgate_access_key(struct app *app, const struct store_principal *p,
                        const char *authorization, const void *peer,
                        int64_t now, struct store_access_key *key,
                        struct store_key_holder **holder)
{
	uint8_t hash[32] = {0};
	const char *secret = authorization;
	const char *reason = "malformed Authorization header";
	bool malformed = true, found = false, misuse = false;
	*holder = NULL;
	if (strncasecmp(secret, "Bearer ", 7) != 0)
		goto refuse;
	secret += 7;
	while (*secret == ' ')
		secret++;
	if (strlen(secret) != ACCESS_KEY_SECRET_LEN ||
	    strncmp(secret, ACCESS_KEY_PREFIX, strlen(ACCESS_KEY_PREFIX)) != 0)
		goto refuse;
	authgate_secret_hash(secret, hash);
	malformed = false;
	reason = "unknown access key";
	if (store_access_key_find(app->store, hash, key, holder) != RG_OK)
		goto refuse;
	found = true;
	if (strcmp(key->principal, p->name) != 0) {
		misuse = true;
		reason = "issued to another principal";
	} else if (key->revoked_at != 0) {
		reason = "revoked";
	} else if (key->expires_at <= now) {
		reason = "expired";
	} else if (!cidr_list_match(key->cidrs, peer)) {
		reason = "address outside the key's allowlist";
	} else {
		store_access_key_touch(app->store, key->id, now);
		sodium_memzero(hash, sizeof hash);
		return RG_OK;
	}
refuse:
	sodium_memzero(hash, sizeof hash);
	if (malformed)
		log_msg(LOG_WARN, "access key presented by principal %s refused: %s",
			p->name, reason);
	else
		refusal_record(app, p, found ? key : NULL, misuse, reason, now);
	store_access_key_release(*holder);
	*holder = NULL;
	return RG_ENOTFOUND;
}
