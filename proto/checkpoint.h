/*
 * checkpoint.h - the transparency log's checkpoints: C2SP tlog-checkpoint
 * bodies in C2SP signed notes, Ed25519 ("origin\nsize\nbase64 root\n",
 * an empty line, then "— <origin> <base64(key id || signature)>\n", key
 * id = the first 4 bytes of SHA-256(origin || 0x0A || 0x01 || public
 * key)). Pure: no I/O, thread-safe.
 */
#ifndef RG_CHECKPOINT_H
#define RG_CHECKPOINT_H

#include "rg.h"

#define CHECKPOINT_ORIGIN_MAX 200
#define CHECKPOINT_TEXT_MAX 1024     /* a note this code writes or reads */

/* An origin is 1-200 printable ASCII characters, no space and no '+'
 * (the signed-note key name rules). */
bool checkpoint_origin_valid(const char *origin);

/* The note's key id for (origin, Ed25519 public key). */
void checkpoint_key_id(const char *origin, const uint8_t pk[32],
                       uint8_t out[4]);

/* A signed note's signature by key `name` over body[0..len): key id (4
 * bytes) || Ed25519 signature (64), what a signature line carries in
 * base64. sk is libsodium's 64-byte secret key (seed || pk). */
void checkpoint_note_sign(const char *name, const void *body, size_t len,
                          const uint8_t sk[64], uint8_t out[68]);

/* Writes the signed note for (origin, size, root) into out (cap bytes,
 * NUL-terminated). sk is libsodium's 64-byte secret key (seed || pk).
 * RG_EINVAL for a bad origin, RG_ETOOBIG when it does not fit. */
int checkpoint_sign(const char *origin, uint64_t size, const uint8_t root[32],
                    const uint8_t sk[64], char *out, size_t cap);

/* Parses the note text[0..len) and verifies the signature line for
 * `origin` (the note's own first line must be that origin) under pk.
 * RG_OK with *size and root set; RG_EINVAL when malformed (a control
 * character other than a line end, a non-canonical base64, a line after
 * the blank one that is not "— NAME BASE64"); RG_EBADSIG when no line for
 * this origin and key verifies. */
int checkpoint_verify(const char *text, size_t len, const char *origin,
                      const uint8_t pk[32], uint64_t *size, uint8_t root[32])
	__attribute__((warn_unused_result));

#endif
