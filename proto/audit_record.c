/*
 * audit_record.c - the audit record's chained hash and the signed head
 * message (see audit_record.h).
 */
#include "audit_record.h"

#include <string.h>

#include <sodium.h>

#define HEAD_PREFIX "refgate-audit-head:v1:"
_Static_assert(sizeof HEAD_PREFIX - 1 + 8 + 8 + 32 == AUDIT_HEAD_MESSAGE_LEN,
               "audit head message layout");

static void be64(uint8_t b[8], int64_t v)
{
	uint64_t u = (uint64_t)v;
	for (int i = 7; i >= 0; i--, u >>= 8)
		b[i] = (uint8_t)u;
}

/* Hashes a string as 4-byte big-endian length + bytes. */
static void hash_str(crypto_generichash_state *h, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
	                   (uint8_t)(n >> 8), (uint8_t)n };
	crypto_generichash_update(h, len, sizeof len);
	if (n)
		crypto_generichash_update(h, (const uint8_t *)s, n);
}

int audit_record_hash(int64_t seq, int64_t at, const char *actor,
                      const char *kind, const char *object,
                      const char *detail, const uint8_t prev[32],
                      uint8_t out[32])
{
	const char *strs[] = { actor, kind, object, detail };
	crypto_generichash_state h;
	uint8_t num[8];
	for (size_t i = 0; i < 4; i++)
		if (strs[i] && strlen(strs[i]) > AUDIT_RECORD_STR_MAX)
			return RG_EINVAL;
	if (crypto_generichash_init(&h, NULL, 0, 32) != 0)
		return RG_ECRYPTO;
	crypto_generichash_update(&h, prev, 32);
	be64(num, seq);
	crypto_generichash_update(&h, num, sizeof num);
	be64(num, at);
	crypto_generichash_update(&h, num, sizeof num);
	for (size_t i = 0; i < 4; i++)
		hash_str(&h, strs[i]);
	return crypto_generichash_final(&h, out, 32) == 0 ? RG_OK
	                                                  : RG_ECRYPTO;
}

void audit_head_message(int64_t seq, int64_t at, const uint8_t hash[32],
                        uint8_t out[AUDIT_HEAD_MESSAGE_LEN])
{
	size_t n = sizeof HEAD_PREFIX - 1;
	memcpy(out, HEAD_PREFIX, n);
	be64(out + n, seq);
	be64(out + n + 8, at);
	memcpy(out + n + 16, hash, 32);
}
