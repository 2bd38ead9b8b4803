/*
 * fuzz_jws.c - libFuzzer target for proto/jws.c.
 *
 * Every input is fed, as is, to jws_decode (and, when it decodes, to
 * jws_verify under the fixed test key of proto/vectors), to b64url_decode,
 * and through a b64url_encode/b64url_decode round trip.
 *
 * An input holding a NUL byte is also read as "<header JSON>\0<payload>":
 * the target builds the compact JWS itself and signs it with the test key,
 * so the fuzzer reaches the header rules and a verifying signature without
 * having to find base64url or Ed25519 by chance. Oracles: a token signed
 * with the key that decodes must verify and give back its payload; its
 * payload re-signed with jws_sign must decode and verify too.
 */
#include "fuzz.h"

#include <sodium.h>
#include <string.h>

#include <jansson.h>

#include "../../proto/jws.h"

/* refgate-test-a from proto/vectors (a published test key). */
static const uint8_t test_pk[32] = {
	0x0f, 0x8b, 0x7c, 0xec, 0x07, 0xbb, 0xe8, 0x24, 0x02, 0xf7, 0x12,
	0x4a, 0x55, 0x96, 0x8f, 0x58, 0x01, 0x59, 0x6a, 0x0f, 0xbc, 0xcb,
	0x30, 0x4d, 0x90, 0x58, 0x90, 0xff, 0xca, 0x30, 0xb8, 0x84,
};
static const uint8_t test_seed[32] = {
	0x48, 0xee, 0x1a, 0xb0, 0x59, 0x0b, 0xb2, 0x5a, 0x4d, 0x03, 0xbe,
	0x1a, 0xea, 0x46, 0xd1, 0xc8, 0x7b, 0xa4, 0x0e, 0x3c, 0x6d, 0x06,
	0xf1, 0x00, 0x53, 0x4e, 0xb1, 0x04, 0x97, 0x3c, 0x5b, 0xc4,
};
static uint8_t test_sk[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t pk[32];
	(void)argc;
	(void)argv;
	json_object_seed(1);     /* jansson's hash seed: deterministic runs */
	FUZZ_CHECK(sodium_init() >= 0);
	FUZZ_CHECK(crypto_sign_seed_keypair(pk, test_sk, test_seed) == 0);
	FUZZ_CHECK(memcmp(pk, test_pk, sizeof pk) == 0);
	return 0;
}

/* Decodes `len` bytes; checks what jws_decode promises. On RG_OK leaves
 * the result in *j (the caller clears it). */
static int decode_checked(const char *compact, size_t len, struct jws *j)
{
	const char *why = NULL;
	int rc = jws_decode(compact, len, j, &why);
	if (rc != RG_OK) {
		FUZZ_CHECK(rc == RG_EINVAL || rc == RG_ETOOBIG ||
			   rc == RG_ENOMEM);
		FUZZ_CHECK(why != NULL);
		return rc;
	}
	FUZZ_CHECK(len <= JWS_MAX_BYTES);
	FUZZ_CHECK(j->signing_input == compact);
	FUZZ_CHECK(j->signing_input_len < len);
	FUZZ_CHECK(FUZZ_TERMINATED(j->kid) && rg_kid_valid(j->kid));
	FUZZ_CHECK(j->payload != NULL && j->payload[j->payload_len] == '\0');

	/* the payload part is the canonical encoding of the payload */
	const char *p = memchr(compact, '.', len);
	FUZZ_CHECK(p != NULL);
	p++;
	size_t plen = j->signing_input_len - (size_t)(p - compact);
	char *again = b64url_encode(j->payload, j->payload_len);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(strlen(again) == plen && memcmp(again, p, plen) == 0);
	free(again);
	return rc;
}

/* b64url_decode on raw text; a decoded text must re-encode to itself. */
static void fuzz_b64(const uint8_t *data, size_t size)
{
	uint8_t *bin = NULL;
	size_t bin_len = 0;
	int rc = b64url_decode((const char *)data, size, &bin, &bin_len);
	if (rc == RG_OK) {
		FUZZ_CHECK(bin != NULL && bin[bin_len] == '\0');
		char *again = b64url_encode(bin, bin_len);
		FUZZ_CHECK(again != NULL);
		FUZZ_CHECK(strlen(again) == size &&
			   memcmp(again, data, size) == 0);
		free(again);
		free(bin);
	} else {
		FUZZ_CHECK(rc == RG_EINVAL || rc == RG_ENOMEM);
	}

	/* and the other way: any bytes survive encode + decode */
	char *text = b64url_encode(data, size);
	FUZZ_CHECK(text != NULL);
	rc = b64url_decode(text, strlen(text), &bin, &bin_len);
	FUZZ_CHECK(rc == RG_OK);
	FUZZ_CHECK(bin_len == size && memcmp(bin, data, size) == 0);
	free(bin);
	free(text);
}

/* Builds "<b64 header>.<b64 payload>.<b64 sig>" signed with the test key;
 * malloc'd, length in *len. */
static char *build_signed(const uint8_t *hdr, size_t hlen,
			  const uint8_t *payload, size_t plen, size_t *len)
{
	uint8_t sig[64];
	char *h64 = b64url_encode(hdr, hlen);
	char *p64 = b64url_encode(payload, plen);
	FUZZ_CHECK(h64 != NULL && p64 != NULL);
	size_t hl = strlen(h64), pl = strlen(p64);
	char *out = malloc(hl + pl + 2 + 86 + 1);
	FUZZ_CHECK(out != NULL);
	memcpy(out, h64, hl);
	out[hl] = '.';
	memcpy(out + hl + 1, p64, pl);
	size_t in_len = hl + 1 + pl;
	FUZZ_CHECK(crypto_sign_detached(sig, NULL, (const uint8_t *)out,
					in_len, test_sk) == 0);
	char *s64 = b64url_encode(sig, sizeof sig);
	FUZZ_CHECK(s64 != NULL && strlen(s64) == 86);
	out[in_len] = '.';
	memcpy(out + in_len + 1, s64, 87);
	*len = in_len + 1 + 86;
	free(s64);
	free(p64);
	free(h64);
	return out;
}

/* "<header JSON>\0<payload>": a token signed by the test key. */
static void fuzz_signed(const uint8_t *data, size_t size, const uint8_t *nul)
{
	const uint8_t *payload = nul + 1;
	size_t hlen = (size_t)(nul - data);
	size_t plen = size - hlen - 1;
	size_t len;
	char *compact = build_signed(data, hlen, payload, plen, &len);
	struct jws j = {0};
	if (decode_checked(compact, len, &j) == RG_OK) {
		FUZZ_CHECK(jws_verify(&j, test_pk) == RG_OK);
		FUZZ_CHECK(j.payload_len == plen &&
			   memcmp(j.payload, payload, plen) == 0);

		/* what decodes can be signed again, and that decodes too */
		char *again = NULL;
		int rc = jws_sign(j.payload, j.payload_len, j.kid,
				  j.has_typ ? "refgate-referral+json" : NULL,
				  test_sk, &again);
		FUZZ_CHECK(rc == RG_OK && again != NULL);
		struct jws k = {0};
		FUZZ_CHECK(decode_checked(again, strlen(again), &k) == RG_OK);
		FUZZ_CHECK(jws_verify(&k, test_pk) == RG_OK);
		FUZZ_CHECK(strcmp(k.kid, j.kid) == 0 &&
			   k.has_typ == j.has_typ);
		FUZZ_CHECK(k.payload_len == plen &&
			   memcmp(k.payload, payload, plen) == 0);
		jws_clear(&k);
		free(again);
	}
	jws_clear(&j);
	free(compact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jws j = {0};
	if (decode_checked((const char *)data, size, &j) == RG_OK) {
		int rc = jws_verify(&j, test_pk);
		FUZZ_CHECK(rc == RG_OK || rc == RG_EBADSIG);
	}
	jws_clear(&j);
	jws_clear(&j);           /* documented safe on a zeroed struct */

	fuzz_b64(data, size);

	const uint8_t *nul = memchr(data, '\0', size);
	if (nul)
		fuzz_signed(data, size, nul);
	return 0;
}
