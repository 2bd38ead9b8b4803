/*
 * jwk.c - Ed25519 keys as JSON Web Keys (RFC 8037, "kty":"OKP"): strict
 * parsing of public and private JWKs, their JSON text, and RFC 7638
 * thumbprints. Pure: no I/O, no globals; thread-safe.
 */
#include "jwk.h"
#include "jws.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWK_MAX_BYTES 8192          /* JSON text of one JWK */
#define JWK_DEPTH 8                 /* JSON nesting allowed in a JWK */
#define JWK_B64_32 43               /* 32 bytes, unpadded base64url */

/* Writes the unpadded base64url of 32 bytes (43 chars + NUL) into out. */
static void b64url_32(const uint8_t in[32], char out[JWK_B64_32 + 1])
{
	sodium_bin2base64(out, JWK_B64_32 + 1, in, 32,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void jwk_thumbprint(const uint8_t pk[32], char out[44])
{
	char x[JWK_B64_32 + 1];
	char canon[80];
	uint8_t h[crypto_hash_sha256_BYTES];

	/* RFC 7638: required members only, sorted, no whitespace */
	b64url_32(pk, x);
	int n = snprintf(canon, sizeof canon,
			 "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	crypto_hash_sha256(h, (const unsigned char *)canon, (size_t)n);
	b64url_32(h, out);
}

/* Decodes the string member `name` of obj as exactly 32 bytes of canonical
 * base64url into out. RG_OK, RG_ENOTFOUND when absent, RG_EINVAL. */
static int member_32(const json_t *obj, const char *name, uint8_t out[32])
{
	json_t *m = json_object_get(obj, name);
	uint8_t *bin = NULL;
	size_t len = 0;
	int rc;

	if (!m)
		return RG_ENOTFOUND;
	if (!json_is_string(m) || json_string_length(m) != JWK_B64_32)
		return RG_EINVAL;
	rc = b64url_decode(json_string_value(m), JWK_B64_32, &bin, &len);
	if (rc != RG_OK)
		return rc;
	if (len == 32)
		memcpy(out, bin, 32);
	else
		rc = RG_EINVAL;
	sodium_memzero(bin, len);
	free(bin);
	return rc;
}

/* Whether string member `name` of obj is absent or equal to one of the
 * NULL-terminated `allowed` values. */
static bool member_absent_or(const json_t *obj, const char *name,
			     const char *const *allowed)
{
	json_t *m = json_object_get(obj, name);
	if (!m)
		return true;
	if (!json_is_string(m))
		return false;
	for (; *allowed; allowed++)
		if (strcmp(json_string_value(m), *allowed) == 0)
			return true;
	return false;
}

/* Loads the JWK text and applies the rules shared by public and private
 * keys: an object, kty OKP, crv Ed25519, alg and use (if present) fit
 * Ed25519 signing, x a valid public key, kid (if present) valid. Fills pk
 * and kid_out (kid or thumbprint). Returns the root (caller decrefs) or
 * NULL with *why set. */
static json_t *jwk_load(const char *json, size_t len, uint8_t pk[32],
			char kid_out[RG_KID_MAX + 1], const char **why)
{
	static const char *const algs[] = {"EdDSA", "Ed25519", NULL};
	static const char *const uses[] = {"sig", NULL};
	json_t *root = NULL;
	json_error_t err;

	if (!json) {
		*why = "no JWK";
		goto fail;
	}
	if (len > JWK_MAX_BYTES) {
		*why = "JWK too large";
		goto fail;
	}
	if (!rg_json_depth_ok(json, len, JWK_DEPTH)) {
		*why = "JWK nested too deeply";
		goto fail;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		*why = "JWK is not JSON (or repeats a member)";
		goto fail;
	}
	if (!json_is_object(root)) {
		*why = "JWK is not a JSON object";
		goto fail;
	}
	json_t *kty = json_object_get(root, "kty");
	if (!json_is_string(kty) || strcmp(json_string_value(kty), "OKP") != 0) {
		*why = "JWK kty is not OKP";
		goto fail;
	}
	json_t *crv = json_object_get(root, "crv");
	if (!json_is_string(crv) ||
	    strcmp(json_string_value(crv), "Ed25519") != 0) {
		*why = "JWK crv is not Ed25519";
		goto fail;
	}
	if (!member_absent_or(root, "alg", algs)) {
		*why = "JWK alg is not EdDSA";
		goto fail;
	}
	if (!member_absent_or(root, "use", uses)) {
		*why = "JWK use is not sig";
		goto fail;
	}
	if (member_32(root, "x", pk) != RG_OK) {
		*why = "JWK x is not 32 bytes of canonical base64url";
		goto fail;
	}
	/* every honest Ed25519 key is a point of the main subgroup; refuse the
	 * small-order and off-curve ones here rather than at first use */
	if (!crypto_core_ed25519_is_valid_point(pk)) {
		*why = "JWK x is not a valid Ed25519 public key";
		goto fail;
	}
	json_t *kid = json_object_get(root, "kid");
	if (kid) {
		if (!json_is_string(kid) ||
		    json_string_length(kid) > RG_KID_MAX ||
		    !rg_kid_valid(json_string_value(kid))) {
			*why = "JWK kid is not a valid key id";
			goto fail;
		}
		memcpy(kid_out, json_string_value(kid),
		       json_string_length(kid) + 1);
	} else {
		jwk_thumbprint(pk, kid_out);
	}
	return root;
fail:
	json_decref(root);
	return NULL;
}

int jwk_parse_public(const char *json, size_t len, uint8_t pk[32],
		     char kid_out[RG_KID_MAX + 1], const char **why)
{
	uint8_t k[32];
	char kid[RG_KID_MAX + 1];
	const char *reason = NULL;
	json_t *root;
	int rc = RG_EINVAL;

	if (!pk || !kid_out) {
		reason = "no output";
		goto out;
	}
	root = jwk_load(json, len, k, kid, &reason);
	if (!root)
		goto out;
	if (json_object_get(root, "d")) {
		reason = "JWK has a private part (d) where a public key belongs";
	} else {
		memcpy(pk, k, sizeof k);
		memcpy(kid_out, kid, strlen(kid) + 1);
		rc = RG_OK;
	}
	json_decref(root);
out:
	if (why && rc != RG_OK)
		*why = reason;
	return rc;
}

int jwk_parse_private(const char *json, size_t len, uint8_t sk[64],
		      char kid_out[RG_KID_MAX + 1], const char **why)
{
	uint8_t pk[32], pk2[32], seed[32], k[64];
	char kid[RG_KID_MAX + 1];
	const char *reason = NULL;
	json_t *root = NULL, *d = NULL;
	int rc = RG_EINVAL;

	if (!sk || !kid_out) {
		reason = "no output";
		goto out;
	}
	root = jwk_load(json, len, pk, kid, &reason);
	if (!root)
		goto out;
	d = json_object_get(root, "d");
	if (!d) {
		reason = "JWK has no private part (d)";
		goto out;
	}
	if (member_32(root, "d", seed) != RG_OK) {
		reason = "JWK d is not 32 bytes of canonical base64url";
		goto out;
	}
	if (crypto_sign_seed_keypair(pk2, k, seed) != 0) {
		reason = "JWK d is not usable";
		goto out;
	}
	if (sodium_memcmp(pk, pk2, sizeof pk) != 0) {
		reason = "JWK d and x are not the same key";
		goto out;
	}
	memcpy(sk, k, sizeof k);
	memcpy(kid_out, kid, strlen(kid) + 1);
	rc = RG_OK;
out:
	/* the parser's copy of d is the only other clear copy we can reach */
	if (json_is_string(d))
		sodium_memzero((char *)json_string_value(d),
			       json_string_length(d));
	json_decref(root);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(k, sizeof k);
	if (why && rc != RG_OK)
		*why = reason;
	return rc;
}

/* The JWK text with d (32-byte seed) or without it (d NULL), members in
 * the order kty, crv, x, [d,] kid, alg, use; malloc'd or NULL. Built with
 * snprintf rather than jansson so that no copy of d is left in freed heap;
 * every value is base64url or kid alphabet and needs no escaping. */
static char *jwk_text(const uint8_t pk[32], const uint8_t *d, const char *kid)
{
	char x[JWK_B64_32 + 1], dd[JWK_B64_32 + 1] = "", tp[44];
	char *s = NULL;
	size_t cap;
	int n;

	if (!kid) {
		jwk_thumbprint(pk, tp);
		kid = tp;
	}
	if (!rg_kid_valid(kid))
		return NULL;
	b64url_32(pk, x);
	if (d)
		b64url_32(d, dd);
	cap = 128 + 2 * JWK_B64_32 + strlen(kid);
	s = malloc(cap);
	if (!s)
		goto out;
	n = snprintf(s, cap,
		     "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s%s%s"
		     ",\"kid\":\"%s\",\"alg\":\"EdDSA\",\"use\":\"sig\"}",
		     x, d ? ",\"d\":\"" : "", dd, d ? "\"" : "", kid);
	if (n < 0 || (size_t)n >= cap) {
		sodium_memzero(s, cap);
		free(s);
		s = NULL;
	}
out:
	sodium_memzero(dd, sizeof dd);
	return s;
}

char *jwk_public_json(const uint8_t pk[32], const char *kid)
{
	if (!pk)
		return NULL;
	return jwk_text(pk, NULL, kid);
}

char *jwk_private_json(const uint8_t sk[64], const char *kid)
{
	uint8_t pk[32], k[64];
	char *s = NULL;

	if (!sk)
		return NULL;
	/* refuse a libsodium secret key whose two halves disagree */
	if (crypto_sign_seed_keypair(pk, k, sk) == 0 &&
	    sodium_memcmp(pk, sk + 32, sizeof pk) == 0)
		s = jwk_text(pk, sk, kid);
	sodium_memzero(k, sizeof k);
	return s;
}
