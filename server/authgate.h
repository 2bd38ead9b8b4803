/*
 * authgate.h - the peer certificate of a TLS session to an enrolled,
 * active principal. Runs before routing, for every request; fails closed.
 */
#ifndef RG_AUTHGATE_H
#define RG_AUTHGATE_H

#include "app.h"

/* What one TLS connection has already proven: the chain of its peer
 * certificate was verified and its SPKI hashed. Keyed by a hash of the
 * certificate's DER, so a renegotiated certificate is verified afresh. */
struct authgate_cache {
	bool valid;
	uint8_t cert_hash[32];
	uint8_t spki_sha256[32];
};

/*
 * Verifies the GnuTLS session's peer certificate against the client CA
 * (chain, validity, clientAuth purpose) and finds the principal owning the
 * SHA-256 of its SubjectPublicKeyInfo. RG_OK with *out filled;
 * RG_ENOTFOUND for no certificate, foreign CA, expired, unknown or
 * revoked; another rg_err when the store could not answer (the caller
 * answers 503, never 401, for a principal it could not look up). *why is
 * a static reason for the operator's log, never for the client. The chain is verified once per connection (cache,
 * may be NULL); the principal is looked up on every request, so a
 * revocation takes effect on the next one.
 */
int authgate_peer(struct app *app, void *gnutls_session, int64_t now,
                  struct authgate_cache *cache, struct store_principal *out,
                  const char **why);

#define ACCESS_KEY_PREFIX "rgk_"
#define ACCESS_KEY_SECRET_LEN (4 + 43)   /* prefix + 256 bits base64url */

/* The one detail every refused access key is answered with (401
 * unauthenticated): unknown, revoked, expired, outside its allowlist,
 * malformed or another principal's key all read the same. */
#define AUTHGATE_KEY_REFUSED "access key not accepted"

/*
 * Checks an Authorization header value ("Bearer <secret>") for the
 * authenticated principal p, from address peer at time now. RG_OK: *key
 * is the access key (valid until store_access_key_release(*holder)) and
 * its use is counted. RG_ENOTFOUND: unknown, revoked, expired, outside
 * its address allowlist, malformed, or issued to another principal; the
 * reason goes to the log and, for a well-formed secret, to an audit record
 * ("key_misuse" for another principal's key, "key_refused" for the rest),
 * never to the caller, who is answered AUTHGATE_KEY_REFUSED.
 */
int authgate_access_key(struct app *app, const struct store_principal *p,
                        const char *authorization, const void *peer,
                        int64_t now, struct store_access_key *key,
                        struct store_key_holder **holder);

/* The storage hash of an access key secret: BLAKE2b-256. */
void authgate_secret_hash(const char *secret, uint8_t out[32]);

/* SHA-256 of the SubjectPublicKeyInfo of a DER certificate. */
int authgate_spki_sha256(const uint8_t *der, size_t len, uint8_t out[32]);

#endif
