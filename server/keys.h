/*
 * keys.h - the gateway's key store: the Ed25519 receipt key, the data key
 * (XChaCha20-Poly1305 for data at rest) and the index key (keyed BLAKE2b
 * for identifiers). Key files hold one line of unpadded base64url of the
 * raw key (the 32-byte seed for Ed25519), mode 0600.
 * Loaded once at start; read-only afterwards, so thread-safe.
 */
#ifndef RG_KEYS_H
#define RG_KEYS_H

#include "../proto/rg.h"

struct keys {
	uint8_t receipt_sk[64];     /* libsodium form: seed || pk */
	uint8_t receipt_pk[32];
	char receipt_kid[44];       /* RFC 7638 thumbprint */
	uint8_t data_key[32];
	uint8_t index_key[32];
};

/* Reads a 32-byte key file (proto/keyfile.h); refuses one readable by
 * group or others. The caller wipes out. (`refgatectl init` writes them.) */
int keys_read_file(const char *path, uint8_t out[32]);

/* Loads the three keys. RG_EIO/RG_EINVAL with nothing left in k. */
int keys_load(struct keys *k, const char *receipt_path,
              const char *data_path, const char *index_path);
/* Zeroes every key. */
void keys_wipe(struct keys *k);

/* Keyed BLAKE2b-256 of "<kind>:<value>" under the index key. */
void keys_index_hash(const struct keys *k, char kind, const char *value,
                     uint8_t out[32]);

/* Seals pt under the data key with additional data ad: out is a malloc'd
 * nonce(24) || ciphertext || tag(16). */
int keys_seal(const struct keys *k, const uint8_t *ad, size_t ad_len,
              const uint8_t *pt, size_t pt_len, uint8_t **out,
              size_t *out_len);
/* Opens what keys_seal made: out is a malloc'd plaintext + NUL (the
 * caller wipes and frees it). RG_ECRYPTO when it does not authenticate. */
int keys_open(const struct keys *k, const uint8_t *ad, size_t ad_len,
              const uint8_t *ct, size_t ct_len, uint8_t **out,
              size_t *out_len);

#endif
