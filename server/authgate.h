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
 * SHA-256 of its SubjectPublicKeyInfo. RG_OK with *out filled, or
 * RG_ENOTFOUND for anything else (no certificate, foreign CA, expired,
 * unknown, revoked). The chain is verified once per connection (cache,
 * may be NULL); the principal is looked up on every request, so a
 * revocation takes effect on the next one.
 */
int authgate_peer(struct app *app, void *gnutls_session, int64_t now,
                  struct authgate_cache *cache, struct store_principal *out);

/* SHA-256 of the SubjectPublicKeyInfo of a DER certificate. */
int authgate_spki_sha256(const uint8_t *der, size_t len, uint8_t out[32]);

#endif
