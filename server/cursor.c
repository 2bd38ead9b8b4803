/*
 * cursor.c - opaque cursors: base64url of the position (8 bytes, big
 * endian) sealed with XChaCha20-Poly1305 under the data key. The nonce is
 * a keyed hash of the position (a synthetic IV), so the same position
 * always gives the same cursor: an unchanged feed keeps its ETag.
 */
#include "cursor.h"
#include "../proto/jws.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_TEXT_MAX 128
static const char cursor_ad[] = "refgate-cursor-v1";

char *cursor_encode(const struct keys *k, int64_t seq)
{
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	uint8_t pt[8], ct[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 8 +
			  crypto_aead_xchacha20poly1305_ietf_ABYTES];
	unsigned long long clen = 0;
	crypto_generichash_state st;
	for (int i = 0; i < 8; i++)
		pt[i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
	crypto_generichash_init(&st, k->data_key, sizeof k->data_key, nb);
	crypto_generichash_update(&st, (const uint8_t *)cursor_ad, sizeof cursor_ad - 1);
	crypto_generichash_update(&st, pt, sizeof pt);
	crypto_generichash_final(&st, ct, nb);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct + nb, &clen, pt, sizeof pt,
						   (const uint8_t *)cursor_ad,
						   sizeof cursor_ad - 1, NULL, ct,
						   k->data_key);
	return b64url_encode(ct, nb + (size_t)clen);
}

int cursor_decode(const struct keys *k, const char *cursor, int64_t *seq)
{
	uint8_t *raw = NULL, *pt = NULL;
	size_t len = 0, pt_len = 0;
	int rc = RG_EINVAL;
	size_t clen = strlen(cursor);
	if (clen == 0 || clen > CURSOR_TEXT_MAX ||
	    b64url_decode(cursor, clen, &raw, &len) != RG_OK)
		return RG_EINVAL;
	if (keys_open(k, (const uint8_t *)cursor_ad, sizeof cursor_ad - 1, raw,
		      len, &pt, &pt_len) == RG_OK && pt_len == 8) {
		uint64_t v = 0;
		for (int i = 0; i < 8; i++)
			v = v << 8 | pt[i];
		if (v <= (uint64_t)INT64_MAX) {
			*seq = (int64_t)v;
			rc = RG_OK;
		}
	}
	free(pt);
	free(raw);
	return rc;
}
