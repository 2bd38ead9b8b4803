/*
 * jwk.h - Ed25519 keys as JSON Web Keys (RFC 8037, "kty":"OKP") and their
 * RFC 7638 thumbprints. Pure: no I/O; thread-safe.
 */
#ifndef RG_JWK_H
#define RG_JWK_H

#include "rg.h"

/* RFC 7638 thumbprint of an Ed25519 public key: base64url(SHA-256 of
 * {"crv":"Ed25519","kty":"OKP","x":"..."}), 43 chars + NUL. */
void jwk_thumbprint(const uint8_t pk[32], char out[44]);

/*
 * Parses a public Ed25519 JWK (json text, len bytes). Requires kty "OKP",
 * crv "Ed25519", x of 32 bytes; refuses a "d" member (a private key sent
 * where a public one belongs) and duplicate members. kid, if present, must
 * be a valid kid and is copied to kid_out; otherwise kid_out gets the
 * thumbprint. RG_EINVAL with a static reason in *why on failure.
 */
int jwk_parse_public(const char *json, size_t len, uint8_t pk[32],
                     char kid_out[RG_KID_MAX + 1], const char **why);

/* Parses a private Ed25519 JWK (with "d"): fills sk (64-byte libsodium
 * form, seed||pk) and kid_out (kid member or thumbprint). Checks that d and
 * x agree. The caller wipes sk. */
int jwk_parse_private(const char *json, size_t len, uint8_t sk[64],
                      char kid_out[RG_KID_MAX + 1], const char **why);

/* malloc'd JSON text of the public JWK {"kty","crv","x","kid","alg","use"}. */
char *jwk_public_json(const uint8_t pk[32], const char *kid);
/* malloc'd JSON text of the private JWK (adds "d"). The caller wipes it
 * (sodium_memzero over strlen) and frees it. */
char *jwk_private_json(const uint8_t sk[64], const char *kid);

#endif
