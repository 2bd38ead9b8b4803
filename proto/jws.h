/*
 * jws.h - JWS compact serialization (RFC 7515) with EdDSA/Ed25519
 * (RFC 8037) only: decoding with the refgate header rules, verification
 * and signing with libsodium. Pure: no I/O, no globals; thread-safe.
 */
#ifndef RG_JWS_H
#define RG_JWS_H

#include "rg.h"

#define JWS_MAX_BYTES (64 * 1024)   /* a submitted JWS, whole */

struct jws {
	char kid[RG_KID_MAX + 1];
	bool has_typ;                  /* typ was present (and valid) */
	const char *signing_input;     /* points into the caller's buffer: */
	size_t signing_input_len;      /*   "<header b64>.<payload b64>" */
	uint8_t sig[64];
	uint8_t *payload;              /* decoded payload, owned, NUL-terminated */
	size_t payload_len;            /* without the NUL */
};

/*
 * Decodes a compact JWS of `len` bytes (no NUL needed). Applies the header
 * rules of the contract: alg exactly "EdDSA"; kid a valid kid; typ, if
 * present, "refgate-referral+json" (or "application/refgate-referral+json",
 * case-insensitive); no crit, jku, jwk, x5u or x5c; no duplicate members.
 * base64url must be unpadded and canonical. On success fills *out (free
 * with jws_clear; out->signing_input borrows `compact`) and returns RG_OK.
 * On failure returns RG_EINVAL (or RG_ETOOBIG, RG_ENOMEM) and, if `why` is
 * not NULL, a static English reason.
 */
int jws_decode(const char *compact, size_t len, struct jws *out,
               const char **why);

/* RG_OK when the signature verifies under the Ed25519 public key pk,
 * RG_EBADSIG otherwise. */
__attribute__((warn_unused_result))
int jws_verify(const struct jws *jws, const uint8_t pk[32]);

/* Frees what jws_decode allocated; safe on a zeroed struct. */
void jws_clear(struct jws *jws);

/*
 * Signs `payload` with the Ed25519 secret key sk (libsodium's 64-byte form)
 * under the protected header {"alg":"EdDSA","kid":kid[,"typ":typ]}.
 * typ may be NULL. On success *out is a malloc'd NUL-terminated compact JWS.
 */
int jws_sign(const uint8_t *payload, size_t payload_len, const char *kid,
             const char *typ, const uint8_t sk[64], char **out);

/* base64url without padding. b64url_encode returns a malloc'd string or
 * NULL; b64url_decode returns RG_OK and a malloc'd buffer (NUL-terminated
 * for convenience) or RG_EINVAL for anything not canonical base64url. */
char *b64url_encode(const uint8_t *bin, size_t len);
int b64url_decode(const char *text, size_t len, uint8_t **out, size_t *out_len);

#endif
