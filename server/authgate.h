/*
 * authgate.h - the peer certificate of a TLS session to an enrolled,
 * active principal. Runs before routing, for every request; fails closed.
 */
#ifndef RG_AUTHGATE_H
#define RG_AUTHGATE_H

#include "app.h"

/*
 * Verifies the GnuTLS session's peer certificate against the client CA
 * (chain, validity, clientAuth purpose) and finds the principal owning the
 * SHA-256 of its SubjectPublicKeyInfo. RG_OK with *out filled, or
 * RG_ENOTFOUND for anything else (no certificate, foreign CA, expired,
 * unknown, revoked).
 */
int authgate_peer(struct app *app, void *gnutls_session, int64_t now,
                  struct store_principal *out);

/* SHA-256 of the SubjectPublicKeyInfo of a DER certificate. */
int authgate_spki_sha256(const uint8_t *der, size_t len, uint8_t out[32]);

#endif
