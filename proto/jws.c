/*
 * jws.c - JWS compact serialization with EdDSA/Ed25519 only: strict
 * decoding under the refgate header rules (contract section 2), detached
 * verification and deterministic signing with libsodium, and canonical
 * unpadded base64url. Pure: no I/O, no globals; thread-safe.
 */
#include "jws.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define JWS_SIG_B64_LEN 86          /* 64 bytes, unpadded base64url */
#define JWS_HEADER_MAX 4096         /* decoded protected header, bytes */
#define JWS_HEADER_DEPTH 8          /* JSON nesting allowed in the header */

static const char typ_short[] = "refgate-referral+json";
static const char typ_long[] = "application/refgate-referral+json";

/* Header members refused whatever their value: keys are never taken from
 * the token, and no extension (crit, RFC 7797 b64) changes what is signed. */
static const char *const refused_members[] = {
	"crit", "jku", "jwk", "x5u", "x5c", "b64",
};

/* True for the 64 characters of the base64url alphabet. */
static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

char *b64url_encode(const uint8_t *bin, size_t len)
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	if (!bin && len > 0)
		return NULL;
	if (len > (SIZE_MAX - 4) / 4 * 3)
		return NULL;
	size_t cap = sodium_base64_ENCODED_LEN(len, v);
	char *s = malloc(cap);
	if (!s)
		return NULL;
	if (len == 0) {
		s[0] = '\0';
		return s;
	}
	sodium_bin2base64(s, cap, bin, len, v);
	return s;
}

int b64url_decode(const char *text, size_t len, uint8_t **out, size_t *out_len)
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	uint8_t *bin = NULL;
	char *again = NULL;
	size_t bin_len = 0;
	const char *end = NULL;
	int rc = RG_EINVAL;

	if (!out || !out_len || (!text && len > 0))
		return RG_EINVAL;
	/* one character short of a group never encodes whole bytes */
	if (len % 4 == 1)
		return RG_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!b64url_char(text[i]))
			return RG_EINVAL;

	size_t cap = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	bin = malloc(cap + 1);
	if (!bin)
		return RG_ENOMEM;
	if (len > 0) {
		if (sodium_base642bin(bin, cap, text, len, NULL, &bin_len,
				      &end, v) != 0 || end != text + len ||
		    bin_len != cap)
			goto out;
		/* canonical only: the unused trailing bits must be zero, which
		 * holds exactly when re-encoding gives back the same text */
		again = b64url_encode(bin, bin_len);
		if (!again) {
			rc = RG_ENOMEM;
			goto out;
		}
		if (strlen(again) != len || memcmp(again, text, len) != 0)
			goto out;
	}
	bin[bin_len] = '\0';
	*out = bin;
	*out_len = bin_len;
	bin = NULL;
	rc = RG_OK;
out:
	free(again);
	free(bin);
	return rc;
}

/* ASCII case-insensitive equality; no locale. */
static bool ascii_caseeq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* Applies the header rules to the decoded protected header; fills kid and
 * has_typ of *j. RG_OK or RG_EINVAL with *why set. */
static int header_check(const uint8_t *h, size_t hlen, struct jws *j,
			const char **why)
{
	json_t *root = NULL;
	json_error_t err;
	int rc = RG_EINVAL;

	if (hlen > JWS_HEADER_MAX) {
		*why = "protected header too large";
		goto out;
	}
	if (!rg_json_depth_ok(h, hlen, JWS_HEADER_DEPTH)) {
		*why = "protected header nested too deeply";
		goto out;
	}
	root = json_loadb((const char *)h, hlen, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		*why = "protected header is not JSON (or repeats a member)";
		goto out;
	}
	if (!json_is_object(root)) {
		*why = "protected header is not a JSON object";
		goto out;
	}
	for (size_t i = 0; i < sizeof refused_members / sizeof *refused_members;
	     i++) {
		if (json_object_get(root, refused_members[i])) {
			*why = "protected header has a refused member "
			       "(crit, jku, jwk, x5u, x5c or b64)";
			goto out;
		}
	}

	json_t *alg = json_object_get(root, "alg");
	if (!alg) {
		*why = "protected header has no alg";
		goto out;
	}
	if (!json_is_string(alg) || json_string_length(alg) != 5 ||
	    memcmp(json_string_value(alg), "EdDSA", 5) != 0) {
		*why = "alg is not EdDSA";
		goto out;
	}

	json_t *kid = json_object_get(root, "kid");
	if (!kid) {
		*why = "protected header has no kid";
		goto out;
	}
	/* jansson refuses \u0000 by default, so length == strlen here */
	if (!json_is_string(kid) || json_string_length(kid) > RG_KID_MAX ||
	    !rg_kid_valid(json_string_value(kid))) {
		*why = "kid is not a valid key id";
		goto out;
	}

	json_t *typ = json_object_get(root, "typ");
	if (typ) {
		const char *t = json_string_value(typ);
		size_t tlen = json_string_length(typ);
		if (!json_is_string(typ) ||
		    !(ascii_caseeq(t, tlen, typ_short) ||
		      ascii_caseeq(t, tlen, typ_long))) {
			*why = "typ is not refgate-referral+json";
			goto out;
		}
	}

	memcpy(j->kid, json_string_value(kid), json_string_length(kid) + 1);
	j->has_typ = typ != NULL;
	rc = RG_OK;
out:
	json_decref(root);
	return rc;
}

int jws_decode(const char *compact, size_t len, struct jws *out,
	       const char **why)
{
	struct jws j = {0};
	uint8_t *hdr = NULL, *sig = NULL;
	size_t hdr_len = 0, sig_len = 0;
	const char *reason = "malformed JWS";
	const char *dot[2] = {NULL, NULL};
	int rc = RG_EINVAL;

	if (!compact || !out)
		goto out;
	if (len > JWS_MAX_BYTES) {
		reason = "JWS larger than 64 KiB";
		rc = RG_ETOOBIG;
		goto out;
	}
	size_t ndots = 0;
	for (size_t i = 0; i < len; i++) {
		if (compact[i] != '.')
			continue;
		if (ndots == 2) {
			reason = "JWS has more than three parts";
			goto out;
		}
		dot[ndots++] = compact + i;
	}
	if (ndots != 2) {
		reason = "JWS does not have three parts";
		goto out;
	}

	const char *h = compact, *p = dot[0] + 1, *s = dot[1] + 1;
	size_t h_len = (size_t)(dot[0] - h);
	size_t p_len = (size_t)(dot[1] - p);
	size_t s_len = (size_t)(compact + len - s);

	if (s_len != JWS_SIG_B64_LEN) {
		reason = "signature is not 64 bytes";
		goto out;
	}
	if (h_len == 0) {
		reason = "protected header is empty";
		goto out;
	}
	rc = b64url_decode(h, h_len, &hdr, &hdr_len);
	if (rc != RG_OK) {
		reason = "protected header is not canonical base64url";
		goto out;
	}
	rc = b64url_decode(p, p_len, &j.payload, &j.payload_len);
	if (rc != RG_OK) {
		reason = "payload is not canonical base64url";
		goto out;
	}
	rc = b64url_decode(s, s_len, &sig, &sig_len);
	if (rc != RG_OK || sig_len != sizeof j.sig) {
		reason = "signature is not canonical base64url";
		rc = rc == RG_ENOMEM ? rc : RG_EINVAL;
		goto out;
	}
	rc = header_check(hdr, hdr_len, &j, &reason);
	if (rc != RG_OK)
		goto out;

	memcpy(j.sig, sig, sizeof j.sig);
	j.signing_input = compact;
	j.signing_input_len = (size_t)(dot[1] - compact);
	*out = j;
	j.payload = NULL;
	reason = NULL;
	rc = RG_OK;
out:
	if (rc == RG_ENOMEM)
		reason = "out of memory";
	if (why && rc != RG_OK)
		*why = reason;
	free(hdr);
	free(sig);
	jws_clear(&j);
	return rc;
}

int jws_verify(const struct jws *jws, const uint8_t pk[32])
{
	if (!jws || !pk || !jws->signing_input)
		return RG_EBADSIG;
	if (crypto_sign_verify_detached(jws->sig,
					(const unsigned char *)jws->signing_input,
					jws->signing_input_len, pk) != 0)
		return RG_EBADSIG;
	return RG_OK;
}

void jws_clear(struct jws *jws)
{
	if (!jws)
		return;
	free(jws->payload);
	memset(jws, 0, sizeof *jws);
}

/* The compact protected header {"alg":"EdDSA","kid":..[,"typ":..]} in that
 * member order, malloc'd, or NULL (bad kid or typ, no memory). */
static char *header_json(const char *kid, const char *typ)
{
	json_t *h = json_object();
	char *text = NULL;

	if (!h || json_object_set_new(h, "alg", json_string("EdDSA")) != 0 ||
	    json_object_set_new(h, "kid", json_string(kid)) != 0)
		goto out;
	if (typ && json_object_set_new(h, "typ", json_string(typ)) != 0)
		goto out;
	text = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(h);
	return text;
}

int jws_sign(const uint8_t *payload, size_t payload_len, const char *kid,
	     const char *typ, const uint8_t sk[64], char **out)
{
	char *hjson = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL, *jws = NULL;
	uint8_t sig[64];
	int rc = RG_EINVAL;

	if ((!payload && payload_len > 0) || !sk || !out || !rg_kid_valid(kid))
		return RG_EINVAL;
	/* json_string refuses text that is not UTF-8 */
	hjson = header_json(kid, typ);
	if (!hjson)
		goto out;
	rc = RG_ENOMEM;
	h64 = b64url_encode((const uint8_t *)hjson, strlen(hjson));
	p64 = b64url_encode(payload, payload_len);
	if (!h64 || !p64)
		goto out;
	size_t hl = strlen(h64), pl = strlen(p64);
	if (pl > SIZE_MAX - hl - JWS_SIG_B64_LEN - 3)
		goto out;
	jws = malloc(hl + 1 + pl + 1 + JWS_SIG_B64_LEN + 1);
	if (!jws)
		goto out;
	memcpy(jws, h64, hl);
	jws[hl] = '.';
	memcpy(jws + hl + 1, p64, pl);
	size_t input_len = hl + 1 + pl;

	if (crypto_sign_detached(sig, NULL, (const unsigned char *)jws,
				 input_len, sk) != 0) {
		rc = RG_ECRYPTO;
		goto out;
	}
	s64 = b64url_encode(sig, sizeof sig);
	if (!s64)
		goto out;
	jws[input_len] = '.';
	memcpy(jws + input_len + 1, s64, JWS_SIG_B64_LEN + 1);
	*out = jws;
	jws = NULL;
	rc = RG_OK;
out:
	free(jws);
	free(s64);
	free(p64);
	free(h64);
	free(hjson);
	return rc;
}
