/*
 * cursor.c - opaque cursors: base64url of the positions (8 bytes each,
 * big endian) sealed with XChaCha20-Poly1305 under the data key, with the
 * cursor's kind as associated data (an audit cursor is no feed cursor).
 * The nonce is a keyed hash of kind and positions (a synthetic IV), so
 * the same position always gives the same cursor: an unchanged feed keeps
 * its ETag.
 */
#include "cursor.h"
#include "../proto/jws.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_TEXT_MAX 128
#define CURSOR_VALUES_MAX 2

static const char audit_ad[] = "refgate-cursor-v1";
static const char feed_ad[] = "refgate-feed-cursor-v2";

static char *seal(const struct keys *k, const char *ad, const int64_t *v,
                  size_t n)
{
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	uint8_t pt[8 * CURSOR_VALUES_MAX];
	uint8_t ct[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
		   sizeof pt + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	unsigned long long clen = 0;
	crypto_generichash_state st;
	for (size_t j = 0; j < n; j++)
		for (int i = 0; i < 8; i++)
			pt[8 * j + (size_t)i] = (uint8_t)((uint64_t)v[j] >> (56 - 8 * i));
	crypto_generichash_init(&st, k->data_key, sizeof k->data_key, nb);
	crypto_generichash_update(&st, (const uint8_t *)ad, strlen(ad));
	crypto_generichash_update(&st, pt, 8 * n);
	crypto_generichash_final(&st, ct, nb);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct + nb, &clen, pt, 8 * n,
						   (const uint8_t *)ad, strlen(ad),
						   NULL, ct, k->data_key);
	return b64url_encode(ct, nb + (size_t)clen);
}

static int unseal(const struct keys *k, const char *ad, const char *cursor,
                  int64_t *v, size_t n)
{
	uint8_t *raw = NULL, *pt = NULL;
	size_t len = 0, pt_len = 0;
	int rc = RG_EINVAL;
	size_t clen = strlen(cursor);
	if (clen == 0 || clen > CURSOR_TEXT_MAX ||
	    b64url_decode(cursor, clen, &raw, &len) != RG_OK)
		return RG_EINVAL;
	if (keys_open(k, (const uint8_t *)ad, strlen(ad), raw, len, &pt,
		      &pt_len) == RG_OK && pt_len == 8 * n) {
		rc = RG_OK;
		for (size_t j = 0; j < n; j++) {
			uint64_t x = 0;
			for (int i = 0; i < 8; i++)
				x = x << 8 | pt[8 * j + (size_t)i];
			if (x > (uint64_t)INT64_MAX)
				rc = RG_EINVAL;
			v[j] = (int64_t)x;
		}
	}
	free(pt);
	free(raw);
	return rc;
}

char *cursor_encode(const struct keys *k, int64_t seq)
{
	return seal(k, audit_ad, &seq, 1);
}

int cursor_decode(const struct keys *k, const char *cursor, int64_t *seq)
{
	int64_t v;
	int rc = unseal(k, audit_ad, cursor, &v, 1);
	if (rc == RG_OK)
		*seq = v;
	return rc;
}

char *cursor_encode_feed(const struct keys *k, const struct feed_pos *pos)
{
	int64_t v[2] = { pos->own, pos->shared };
	return seal(k, feed_ad, v, 2);
}

int cursor_decode_feed(const struct keys *k, const char *cursor,
                       struct feed_pos *pos)
{
	int64_t v[2];
	int rc = unseal(k, feed_ad, cursor, v, 2);
	if (rc == RG_OK)
		*pos = (struct feed_pos){ .own = v[0], .shared = v[1] };
	return rc;
}
