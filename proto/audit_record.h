/*
 * audit_record.h - the audit log's record format, which the gateway writes
 * and `refgatectl audit verify` checks: the hash that chains one record to
 * the one before it, and the message the gateway signs over a head of the
 * chain. Pure: no I/O, no globals, thread-safe.
 */
#ifndef RG_AUDIT_RECORD_H
#define RG_AUDIT_RECORD_H

#include "rg.h"

/* Longest actor, kind, object or detail a record may hold, in bytes. */
#define AUDIT_RECORD_STR_MAX (1u << 20)

/*
 * The hash of one audit record, chained to the previous record's hash (32
 * zero bytes before the first). Exact byte layout, for verifiers:
 *   BLAKE2b-256 (libsodium crypto_generichash, no key, 32-byte output) of
 *     prev       32 bytes, the previous record's hash
 *     seq         8 bytes, big-endian two's complement
 *     at          8 bytes, big-endian two's complement (Unix seconds)
 *     actor, kind, object, detail, each as
 *       length    4 bytes, big-endian unsigned: its byte count
 *       bytes     that many bytes of UTF-8, no terminating NUL
 * concatenated in that order, nothing else. A NULL string counts as ""
 * (the gateway never writes one). RG_EINVAL when a string is over
 * AUDIT_RECORD_STR_MAX bytes; RG_ECRYPTO when libsodium fails.
 */
int audit_record_hash(int64_t seq, int64_t at, const char *actor,
                      const char *kind, const char *object,
                      const char *detail, const uint8_t prev[32],
                      uint8_t out[32]);

/* The bytes the gateway signs (Ed25519, its receipt key) for a head of
 * the chain: "refgate-audit-head:v1:" || seq (8 bytes big-endian) || at
 * (8 bytes big-endian, when it was signed) || hash (32, the hash of the
 * record at seq; 32 zero bytes for seq 0, the empty log). */
#define AUDIT_HEAD_MESSAGE_LEN (22 + 8 + 8 + 32)
void audit_head_message(int64_t seq, int64_t at, const uint8_t hash[32],
                        uint8_t out[AUDIT_HEAD_MESSAGE_LEN]);

#endif
