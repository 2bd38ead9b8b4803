/*
 * checkpoint.c - signed checkpoints of the transparency log (see
 * checkpoint.h).
 */
#include "checkpoint.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define DASH "\xe2\x80\x94 "          /* U+2014 and a space */
#define SIG_B64_LEN 92                /* base64 of 4 + 64 bytes */

bool checkpoint_origin_valid(const char *origin)
{
	size_t n = origin ? strlen(origin) : 0;
	if (n < 1 || n > CHECKPOINT_ORIGIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (origin[i] <= ' ' || origin[i] > '~' || origin[i] == '+')
			return false;
	return true;
}

void checkpoint_key_id(const char *origin, const uint8_t pk[32],
                       uint8_t out[4])
{
	crypto_hash_sha256_state s;
	uint8_t digest[32];
	const uint8_t sep[2] = { 0x0a, 0x01 };    /* newline, Ed25519 */
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const uint8_t *)origin, strlen(origin));
	crypto_hash_sha256_update(&s, sep, sizeof sep);
	crypto_hash_sha256_update(&s, pk, 32);
	crypto_hash_sha256_final(&s, digest);
	memcpy(out, digest, 4);
}

void checkpoint_note_sign(const char *name, const void *body, size_t len,
                          const uint8_t sk[64], uint8_t out[68])
{
	/* pk is the second half of libsodium's secret key */
	checkpoint_key_id(name, sk + 32, out);
	crypto_sign_detached(out + 4, NULL, body, len, sk);
}

int checkpoint_sign(const char *origin, uint64_t size, const uint8_t root[32],
                    const uint8_t sk[64], char *out, size_t cap)
{
	char root64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	char sig64[sodium_base64_ENCODED_LEN(68, sodium_base64_VARIANT_ORIGINAL)];
	uint8_t sig[68];
	if (!checkpoint_origin_valid(origin) || !out)
		return RG_EINVAL;
	sodium_bin2base64(root64, sizeof root64, root, 32,
			  sodium_base64_VARIANT_ORIGINAL);
	int body = snprintf(out, cap, "%s\n%" PRIu64 "\n%s\n", origin, size,
			    root64);
	if (body < 0 || (size_t)body >= cap)
		return RG_ETOOBIG;
	checkpoint_note_sign(origin, out, (size_t)body, sk, sig);
	sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig,
			  sodium_base64_VARIANT_ORIGINAL);
	int all = snprintf(out + body, cap - (size_t)body, "\n" DASH "%s %s\n",
			   origin, sig64);
	if (all < 0 || (size_t)all >= cap - (size_t)body)
		return RG_ETOOBIG;
	return RG_OK;
}

/* The line at *p (up to, not including, '\n') in [*p, end): its start
 * and length; *p moves past the newline. false when there is none. */
static bool next_line(const char **p, const char *end, const char **line,
                      size_t *len)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return false;
	*line = *p;
	*len = (size_t)(nl - *p);
	*p = nl + 1;
	return true;
}

/* A decimal tree size without sign or leading zeros. */
static bool parse_size(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len < 1 || len > 19 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Canonical standard base64 of exactly want bytes (a signed note has one
 * encoding of its root and signature, no other). */
static bool parse_b64(const char *s, size_t len, uint8_t *out, size_t want)
{
	return rg_b64_decode_exact(s, len, out, want,
				   sodium_base64_VARIANT_ORIGINAL) == RG_OK;
}

/* Whether a line has the form of a signature line, any signer's:
 * "— NAME BASE64" with NAME printable ASCII without space or '+' and
 * BASE64 of standard base64 characters. */
static bool sig_line_shaped(const char *line, size_t len)
{
	size_t dlen = strlen(DASH), i = dlen, name = 0, b64 = 0;
	if (len <= dlen || memcmp(line, DASH, dlen) != 0)
		return false;
	for (; i < len && line[i] != ' '; i++, name++)
		if (line[i] < '!' || line[i] > '~' || line[i] == '+')
			return false;
	if (name == 0 || i >= len)
		return false;
	for (i++; i < len; i++, b64++)
		if (!((line[i] >= 'A' && line[i] <= 'Z') ||
		      (line[i] >= 'a' && line[i] <= 'z') ||
		      (line[i] >= '0' && line[i] <= '9') ||
		      line[i] == '+' || line[i] == '/' || line[i] == '='))
			return false;
	return b64 > 0;
}

/* Whether one signature line verifies the body for origin under pk. */
static bool sig_line_ok(const char *line, size_t len, const char *origin,
                        const uint8_t pk[32], const char *body,
                        size_t body_len)
{
	size_t olen = strlen(origin), dlen = strlen(DASH);
	uint8_t sig[68], kid[4];
	if (len != dlen + olen + 1 + SIG_B64_LEN ||
	    memcmp(line, DASH, dlen) != 0 ||
	    memcmp(line + dlen, origin, olen) != 0 || line[dlen + olen] != ' ' ||
	    !parse_b64(line + dlen + olen + 1, SIG_B64_LEN, sig, sizeof sig))
		return false;
	checkpoint_key_id(origin, pk, kid);
	return memcmp(sig, kid, 4) == 0 &&
	       crypto_sign_verify_detached(sig + 4, (const uint8_t *)body,
					   body_len, pk) == 0;
}

int checkpoint_verify(const char *text, size_t len, const char *origin,
                      const uint8_t pk[32], uint64_t *size, uint8_t root[32])
{
	const char *p = text, *end = text + len, *line;
	size_t n;
	uint64_t sz = 0;
	uint8_t rt[32];
	if (!text || len > CHECKPOINT_TEXT_MAX || !checkpoint_origin_valid(origin))
		return RG_EINVAL;
	/* text: no control character but the line ends */
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)text[i] < 0x20 && text[i] != '\n') ||
		    text[i] == 0x7f)
			return RG_EINVAL;
	if (!next_line(&p, end, &line, &n) || n != strlen(origin) ||
	    memcmp(line, origin, n) != 0)
		return RG_EINVAL;
	if (!next_line(&p, end, &line, &n) || !parse_size(line, n, &sz))
		return RG_EINVAL;
	if (!next_line(&p, end, &line, &n) || !parse_b64(line, n, rt, 32))
		return RG_EINVAL;
	size_t body_len = (size_t)(p - text);
	if (!next_line(&p, end, &line, &n) || n != 0)
		return RG_EINVAL;      /* this log writes no extension lines */
	bool ok = false;
	while (p < end) {
		if (!next_line(&p, end, &line, &n) || !sig_line_shaped(line, n))
			return RG_EINVAL;      /* a malformed note, whoever signed */
		ok = ok || sig_line_ok(line, n, origin, pk, text, body_len);
	}
	if (!ok)
		return RG_EBADSIG;
	*size = sz;
	memcpy(root, rt, 32);
	return RG_OK;
}
