/*
 * test_jws.c - proto/jws.c: every signed vector in proto/vectors (directory
 * from RG_VECTORS_DIR), plus signing, determinism and base64url edge cases.
 * Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/jwk.h"
#include "../../proto/jws.h"

#define MAX_VECTORS 512

struct vector {
	char name[128];
	json_t *root;
};

/* Loaded by main before the groups run; read-only afterwards. */
static struct vector vectors[MAX_VECTORS];
static size_t n_vectors;

/* A fixed test key pair. */
static void test_key(uint8_t pk[32], uint8_t sk[64], uint8_t fill)
{
	uint8_t seed[32];
	memset(seed, fill, sizeof seed);
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

/* ---------- vectors ---------- */

static int cmp_vec(const void *a, const void *b)
{
	return strcmp(((const struct vector *)a)->name,
		      ((const struct vector *)b)->name);
}

/* Loads every *.json in dir; returns how many (0 when none or on error). */
static size_t load_vectors(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	size_t n = 0;

	if (!d) {
		fprintf(stderr, "test_jws: cannot open %s\n", dir);
		return 0;
	}
	while ((e = readdir(d)) && n < MAX_VECTORS) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 ||
		    len - 5 >= sizeof vectors[n].name)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		json_error_t err;
		json_t *root = json_load_file(path, JSON_ALLOW_NUL, &err);
		if (!root) {
			fprintf(stderr, "test_jws: %s: %s\n", path, err.text);
			continue;
		}
		memcpy(vectors[n].name, e->d_name, len - 5);
		vectors[n].name[len - 5] = '\0';
		vectors[n].root = root;
		n++;
	}
	closedir(d);
	qsort(vectors, n, sizeof *vectors, cmp_vec);
	return n;
}

static const char *vstr(const json_t *v, const char *key)
{
	return json_string_value(json_object_get(v, key));
}

/* The protected header of a compact JWS as JSON, or NULL. */
static json_t *header_of(const char *jws, size_t len)
{
	const char *dot = memchr(jws, '.', len);
	uint8_t *h = NULL;
	size_t hl = 0;
	json_t *j = NULL;

	if (dot && b64url_decode(jws, (size_t)(dot - jws), &h, &hl) == RG_OK)
		j = json_loadb((const char *)h, hl, 0, NULL);
	free(h);
	return j;
}

/* Runs one vector (the state) and checks its "expect". */
static void run_vector(void **state)
{
	const struct vector *v = *state;
	const json_t *root = v->root;
	const char *expect = vstr(root, "expect");
	json_t *jv = json_object_get(root, "jws");
	const char *jws = json_string_value(jv);
	size_t jws_len = json_string_length(jv);
	uint8_t pk[32];
	char kid[RG_KID_MAX + 1];
	const char *why = NULL;
	struct jws j, sentinel;
	int rc;

	assert_non_null(expect);
	assert_non_null(jws);
	assert_string_equal(vstr(root, "name"), v->name);

	char *jwk = json_dumps(json_object_get(root, "public_jwk"), JSON_COMPACT);
	assert_non_null(jwk);
	rc = jwk_parse_public(jwk, strlen(jwk), pk, kid, &why);
	free(jwk);
	assert_int_equal(rc, RG_OK);

	memset(&j, 0xa5, sizeof j);
	memcpy(&sentinel, &j, sizeof j);
	why = NULL;
	rc = jws_decode(jws, jws_len, &j, &why);

	if (strcmp(expect, "invalid_jws") == 0) {
		if (rc == RG_OK)
			fail_msg("%s: decoded, expected invalid_jws", v->name);
		assert_true(rc == RG_EINVAL || rc == RG_ETOOBIG);
		if (strcmp(v->name, "too-big") == 0)
			assert_int_equal(rc, RG_ETOOBIG);
		assert_non_null(why);
		assert_memory_equal(&j, &sentinel, sizeof j);
		return;
	}
	if (rc != RG_OK)
		fail_msg("%s: decode refused: %s", v->name, why);

	if (strcmp(expect, "bad_signature") == 0) {
		assert_int_equal(jws_verify(&j, pk), RG_EBADSIG);
		jws_clear(&j);
		return;
	}

	assert_string_equal(expect, "ok");
	assert_int_equal(jws_verify(&j, pk), RG_OK);
	assert_ptr_equal(j.signing_input, jws);
	assert_int_equal(j.signing_input_len, strrchr(jws, '.') - jws);

	uint8_t *want = NULL;
	size_t want_len = 0;
	const char *pb = vstr(root, "payload_b64");
	assert_non_null(pb);
	assert_int_equal(b64url_decode(pb, strlen(pb), &want, &want_len), RG_OK);
	assert_int_equal(j.payload_len, want_len);
	assert_memory_equal(j.payload, want, want_len);
	assert_int_equal(j.payload[j.payload_len], '\0');

	json_t *h = header_of(jws, jws_len);
	assert_non_null(h);
	assert_string_equal(j.kid, vstr(h, "kid"));
	assert_int_equal(j.has_typ, json_object_get(h, "typ") != NULL);

	/* where the header is ours to produce, jws_sign must match jose */
	json_t *priv = json_object_get(root, "private_jwk");
	if (priv) {
		uint8_t sk[64];
		char pkid[RG_KID_MAX + 1], *mine = NULL;
		char *text = json_dumps(priv, JSON_COMPACT);
		assert_non_null(text);
		assert_int_equal(jwk_parse_private(text, strlen(text), sk, pkid,
						   NULL), RG_OK);
		free(text);
		assert_int_equal(jws_sign(want, want_len, vstr(h, "kid"),
					  vstr(h, "typ"), sk, &mine), RG_OK);
		sodium_memzero(sk, sizeof sk);
		assert_string_equal(mine, jws);
		free(mine);
	}
	json_decref(h);
	free(want);
	jws_clear(&j);
	assert_null(j.payload);
}

/* The vector set is there and covers each outcome. */
static void test_vectors_loaded(void **state)
{
	size_t ok = 0, inv = 0, bad = 0, signable = 0;
	(void)state;
	for (size_t i = 0; i < n_vectors; i++) {
		const char *e = vstr(vectors[i].root, "expect");
		ok += e && strcmp(e, "ok") == 0;
		inv += e && strcmp(e, "invalid_jws") == 0;
		bad += e && strcmp(e, "bad_signature") == 0;
		signable += json_object_get(vectors[i].root, "private_jwk") != NULL;
	}
	assert_true(n_vectors >= 80);
	assert_int_equal(ok + inv + bad, n_vectors);
	assert_true(ok >= 5 && inv >= 50 && bad >= 5 && signable >= 3);
}

/* ---------- base64url ---------- */

static void test_b64url_rfc4648(void **state)
{
	static const char *const plain[] = {
		"", "f", "fo", "foo", "foob", "fooba", "foobar",
	};
	static const char *const enc[] = {
		"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy",
	};
	(void)state;
	for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
		char *e = b64url_encode((const uint8_t *)plain[i],
					strlen(plain[i]));
		assert_non_null(e);
		assert_string_equal(e, enc[i]);
		free(e);
		uint8_t *d = NULL;
		size_t dl = 99;
		assert_int_equal(b64url_decode(enc[i], strlen(enc[i]), &d, &dl),
				 RG_OK);
		assert_int_equal(dl, strlen(plain[i]));
		assert_memory_equal(d, plain[i], dl);
		assert_int_equal(d[dl], '\0');
		free(d);
	}
	/* the URL-safe alphabet: 0xfb 0xff is "+/8" in standard base64 */
	static const uint8_t fbff[] = {0xfb, 0xff};
	char *e = b64url_encode(fbff, 2);
	assert_string_equal(e, "-_8");
	free(e);
}

static void test_b64url_empty(void **state)
{
	uint8_t *d = NULL;
	size_t dl = 99;
	(void)state;
	char *e = b64url_encode(NULL, 0);
	assert_non_null(e);
	assert_string_equal(e, "");
	free(e);
	assert_int_equal(b64url_decode("", 0, &d, &dl), RG_OK);
	assert_int_equal(dl, 0);
	assert_int_equal(d[0], '\0');
	free(d);
	d = NULL;
	assert_int_equal(b64url_decode(NULL, 0, &d, &dl), RG_OK);
	assert_int_equal(dl, 0);
	free(d);
}

static void test_b64url_maximal(void **state)
{
	const size_t n = JWS_MAX_BYTES + 1;
	uint8_t *bin = malloc(n), *d = NULL;
	size_t dl = 0;
	(void)state;
	assert_non_null(bin);
	for (size_t i = 0; i < n; i++)
		bin[i] = (uint8_t)(i * 131 + (i >> 8));
	for (size_t len = n - 3; len <= n; len++) {
		char *e = b64url_encode(bin, len);
		assert_non_null(e);
		assert_int_equal(strlen(e), (len * 4 + 2) / 3);
		assert_int_equal(b64url_decode(e, strlen(e), &d, &dl), RG_OK);
		assert_int_equal(dl, len);
		assert_memory_equal(d, bin, len);
		free(d);
		free(e);
	}
	free(bin);
}

static void test_b64url_truncated(void **state)
{
	static const struct { const char *text; bool ok; } cases[] = {
		{"Zm9vYmFy", true},
		{"Zm9vYmF", false},     /* 'F' leaves bits 01 */
		{"Zm9vYg", true},
		{"Zm9vYm", false},      /* 'm' leaves bits 0110 */
		{"Zm9vY", false},       /* 4k+1 characters */
		{"Zm9v", true},
		{"Zm9", false},         /* '9' leaves bits 01 */
		{"Zm", false},          /* 'm' leaves bits 0110 */
		{"Z", false},
		{"Zg", true},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		uint8_t *d = NULL;
		size_t dl = 0;
		int rc = b64url_decode(cases[i].text, strlen(cases[i].text),
				       &d, &dl);
		if ((rc == RG_OK) != cases[i].ok)
			fail_msg("\"%s\": rc %d", cases[i].text, rc);
		free(d);
	}
	/* only len bytes are read */
	uint8_t *d = NULL;
	size_t dl = 0;
	assert_int_equal(b64url_decode("Zm9vYmFy", 4, &d, &dl), RG_OK);
	assert_int_equal(dl, 3);
	assert_memory_equal(d, "foo", 3);
	free(d);
}

static void test_b64url_malformed(void **state)
{
	static const struct { const char *text; size_t len; } bad[] = {
		{"Zg==", 4}, {"Zg=", 3}, {"Zm8=", 4}, {"Zm9v\n", 5},
		{"Zm 9v", 5}, {" Zm9v", 5}, {"Zm+v", 4}, {"Zm/v", 4},
		{"Zm9v!", 5}, {"Zh", 2}, {"Zm9", 3}, {"A", 1}, {"AAAAA", 5},
		{"Zm\0v", 4}, {"Zm\xc3\xa9", 4}, {"Zm9v.", 5}, {"====", 4},
		{"Zm9vYmF=", 8}, {"Zm9vYmFy\0", 9},
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		uint8_t *d = (uint8_t *)"untouched";
		size_t dl = 77;
		if (b64url_decode(bad[i].text, bad[i].len, &d, &dl) != RG_EINVAL)
			fail_msg("case %zu accepted", i);
		assert_string_equal((char *)d, "untouched");
		assert_int_equal(dl, 77);
	}
	/* positive control beside them */
	uint8_t *d = NULL;
	size_t dl = 0;
	assert_int_equal(b64url_decode("Zm9v", 4, &d, &dl), RG_OK);
	free(d);
	assert_int_equal(b64url_decode(NULL, 4, &d, &dl), RG_EINVAL);
	assert_int_equal(b64url_decode("Zm9v", 4, NULL, &dl), RG_EINVAL);
	assert_int_equal(b64url_decode("Zm9v", 4, &d, NULL), RG_EINVAL);
	assert_null(b64url_encode(NULL, 1));
}

/* ---------- signing ---------- */

static const char payload[] =
	"{\"jti\":\"unit000000000000001\",\"category\":\"other_illegal\"}";

static void test_sign_round_trip(void **state)
{
	uint8_t pk[32], sk[64];
	const char *typs[] = {"refgate-referral+json", NULL,
			      "application/refgate-referral+json"};
	(void)state;
	test_key(pk, sk, 7);
	for (size_t i = 0; i < 3; i++) {
		char *out = NULL;
		struct jws j = {0};
		const char *why = NULL;
		assert_int_equal(jws_sign((const uint8_t *)payload,
					  strlen(payload), "unit-key:1",
					  typs[i], sk, &out), RG_OK);
		assert_int_equal(jws_decode(out, strlen(out), &j, &why), RG_OK);
		assert_string_equal(j.kid, "unit-key:1");
		assert_int_equal(j.has_typ, typs[i] != NULL);
		assert_int_equal(j.payload_len, strlen(payload));
		assert_string_equal((char *)j.payload, payload);
		assert_int_equal(jws_verify(&j, pk), RG_OK);
		jws_clear(&j);
		free(out);
	}
	/* empty payload, and NULL with length 0 */
	char *out = NULL;
	struct jws j = {0};
	assert_int_equal(jws_sign(NULL, 0, "k", NULL, sk, &out), RG_OK);
	assert_int_equal(jws_decode(out, strlen(out), &j, NULL), RG_OK);
	assert_int_equal(j.payload_len, 0);
	assert_int_equal(jws_verify(&j, pk), RG_OK);
	jws_clear(&j);
	free(out);
	sodium_memzero(sk, sizeof sk);
}

static void test_sign_deterministic(void **state)
{
	uint8_t pk[32], sk[64];
	char *a = NULL, *b = NULL;
	uint8_t *h = NULL;
	size_t hl = 0;
	(void)state;
	test_key(pk, sk, 9);
	assert_int_equal(jws_sign((const uint8_t *)payload, strlen(payload),
				  "k1", "refgate-referral+json", sk, &a), RG_OK);
	assert_int_equal(jws_sign((const uint8_t *)payload, strlen(payload),
				  "k1", "refgate-referral+json", sk, &b), RG_OK);
	assert_string_equal(a, b);
	assert_int_equal(b64url_decode(a, (size_t)(strchr(a, '.') - a), &h, &hl),
			 RG_OK);
	assert_string_equal((char *)h,
		"{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":\"refgate-referral+json\"}");
	free(h);
	free(a);
	free(b);
	assert_int_equal(jws_sign((const uint8_t *)payload, strlen(payload),
				  "k1", NULL, sk, &a), RG_OK);
	assert_int_equal(b64url_decode(a, (size_t)(strchr(a, '.') - a), &h, &hl),
			 RG_OK);
	assert_string_equal((char *)h, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}");
	free(h);
	free(a);
	/* a typ needing escapes is escaped, and the result still decodes
	 * (to a refusal, since the typ is not ours) */
	assert_int_equal(jws_sign((const uint8_t *)payload, strlen(payload),
				  "k1", "a\"b/c", sk, &a), RG_OK);
	assert_int_equal(b64url_decode(a, (size_t)(strchr(a, '.') - a), &h, &hl),
			 RG_OK);
	assert_string_equal((char *)h,
		"{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":\"a\\\"b/c\"}");
	assert_int_equal(jws_decode(a, strlen(a), &(struct jws){0}, NULL),
			 RG_EINVAL);
	free(h);
	free(a);
	sodium_memzero(sk, sizeof sk);
}

static void test_sign_refusals(void **state)
{
	uint8_t pk[32], sk[64];
	char k129[130], k128[129];
	char *out = (char *)"untouched";
	(void)state;
	test_key(pk, sk, 3);
	memset(k129, 'k', 129);
	k129[129] = '\0';
	memcpy(k128, k129, 128);
	k128[128] = '\0';
	const char *bad_kids[] = {NULL, "", "a b", "k/1", "k\xc3\xa9", k129};
	for (size_t i = 0; i < sizeof bad_kids / sizeof *bad_kids; i++)
		assert_int_equal(jws_sign((const uint8_t *)"x", 1, bad_kids[i],
					  NULL, sk, &out), RG_EINVAL);
	assert_int_equal(jws_sign(NULL, 1, "k", NULL, sk, &out), RG_EINVAL);
	assert_int_equal(jws_sign((const uint8_t *)"x", 1, "k", NULL, NULL,
				  &out), RG_EINVAL);
	assert_int_equal(jws_sign((const uint8_t *)"x", 1, "k", NULL, sk, NULL),
			 RG_EINVAL);
	assert_int_equal(jws_sign((const uint8_t *)"x", 1, "k", "\xff", sk,
				  &out), RG_EINVAL);
	assert_string_equal(out, "untouched");
	/* positive control: the longest kid */
	assert_int_equal(jws_sign((const uint8_t *)"x", 1, k128, NULL, sk, &out),
			 RG_OK);
	struct jws j = {0};
	assert_int_equal(jws_decode(out, strlen(out), &j, NULL), RG_OK);
	assert_string_equal(j.kid, k128);
	jws_clear(&j);
	free(out);
	sodium_memzero(sk, sizeof sk);
}

/* The largest payload that fits and the smallest that does not. */
static void test_sign_size_limit(void **state)
{
	uint8_t pk[32], sk[64];
	size_t n = 49000;
	uint8_t *big = malloc(n + 1024);
	char *out = NULL;
	struct jws j = {0};
	(void)state;
	assert_non_null(big);
	memset(big, 'p', n + 1024);
	test_key(pk, sk, 5);
	/* grow until the JWS passes the limit */
	for (;; n++) {
		assert_int_equal(jws_sign(big, n, "k", NULL, sk, &out), RG_OK);
		if (strlen(out) > JWS_MAX_BYTES)
			break;
		free(out);
	}
	assert_int_equal(jws_decode(out, strlen(out), &j, NULL), RG_ETOOBIG);
	free(out);
	assert_int_equal(jws_sign(big, n - 1, "k", NULL, sk, &out), RG_OK);
	assert_true(strlen(out) <= JWS_MAX_BYTES);
	assert_int_equal(jws_decode(out, strlen(out), &j, NULL), RG_OK);
	assert_int_equal(jws_verify(&j, pk), RG_OK);
	jws_clear(&j);
	free(out);
	free(big);
	sodium_memzero(sk, sizeof sk);
}

/* ---------- decoding and verifying ---------- */

static void test_decode_args(void **state)
{
	uint8_t pk[32], sk[64];
	char *s = NULL;
	struct jws j = {0};
	const char *why = NULL;
	(void)state;
	test_key(pk, sk, 1);
	assert_int_equal(jws_sign((const uint8_t *)payload, strlen(payload),
				  "k", NULL, sk, &s), RG_OK);
	assert_int_equal(jws_decode(NULL, 10, &j, &why), RG_EINVAL);
	assert_non_null(why);
	assert_int_equal(jws_decode(s, strlen(s), NULL, &why), RG_EINVAL);
	assert_int_equal(jws_decode(s, 0, &j, NULL), RG_EINVAL);
	/* the terminating NUL is not part of the JWS */
	assert_int_equal(jws_decode(s, strlen(s) + 1, &j, NULL), RG_EINVAL);
	/* bytes after len are not read */
	size_t n = strlen(s);
	char *longer = malloc(n + 8);
	assert_non_null(longer);
	memcpy(longer, s, n);
	memcpy(longer + n, ".junk!!", 8);
	why = "unchanged";
	assert_int_equal(jws_decode(longer, n, &j, &why), RG_OK);
	assert_string_equal(why, "unchanged");
	assert_int_equal(jws_verify(&j, pk), RG_OK);
	jws_clear(&j);
	free(longer);
	/* verify refuses what it cannot check */
	assert_int_equal(jws_verify(NULL, pk), RG_EBADSIG);
	assert_int_equal(jws_decode(s, strlen(s), &j, NULL), RG_OK);
	assert_int_equal(jws_verify(&j, NULL), RG_EBADSIG);
	jws_clear(&j);
	struct jws zero = {0};
	assert_int_equal(jws_verify(&zero, pk), RG_EBADSIG);
	free(s);
	sodium_memzero(sk, sizeof sk);
}

/* No prefix of a valid JWS decodes and verifies. */
static void test_decode_every_prefix(void **state)
{
	uint8_t pk[32], sk[64];
	char *s = NULL;
	(void)state;
	test_key(pk, sk, 2);
	assert_int_equal(jws_sign((const uint8_t *)payload, strlen(payload),
				  "k", "refgate-referral+json", sk, &s), RG_OK);
	size_t n = strlen(s);
	for (size_t len = 0; len < n; len++) {
		struct jws j = {0};
		if (jws_decode(s, len, &j, NULL) == RG_OK) {
			assert_int_equal(jws_verify(&j, pk), RG_EBADSIG);
			jws_clear(&j);
		}
	}
	struct jws j = {0};
	assert_int_equal(jws_decode(s, n, &j, NULL), RG_OK);
	assert_int_equal(jws_verify(&j, pk), RG_OK);
	jws_clear(&j);
	free(s);
	sodium_memzero(sk, sizeof sk);
}

/* Changing any one character makes the JWS fail to decode or to verify. */
static void test_decode_every_character(void **state)
{
	uint8_t pk[32], sk[64];
	char *s = NULL;
	static const char subst[] = "A_-.0z=+/ ";
	(void)state;
	test_key(pk, sk, 4);
	assert_int_equal(jws_sign((const uint8_t *)payload, strlen(payload),
				  "k", "refgate-referral+json", sk, &s), RG_OK);
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		char orig = s[i];
		for (const char *c = subst; *c; c++) {
			if (*c == orig)
				continue;
			s[i] = *c;
			struct jws j = {0};
			if (jws_decode(s, n, &j, NULL) == RG_OK) {
				if (jws_verify(&j, pk) != RG_EBADSIG)
					fail_msg("s[%zu] = '%c' verifies", i, *c);
				jws_clear(&j);
			}
		}
		s[i] = orig;
	}
	free(s);
	sodium_memzero(sk, sizeof sk);
}

static void test_verify_wrong_key(void **state)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64];
	char *s = NULL;
	struct jws j = {0};
	(void)state;
	test_key(pk, sk, 6);
	test_key(pk2, sk2, 8);
	assert_int_equal(jws_sign((const uint8_t *)payload, strlen(payload),
				  "k", NULL, sk, &s), RG_OK);
	assert_int_equal(jws_decode(s, strlen(s), &j, NULL), RG_OK);
	assert_int_equal(jws_verify(&j, pk2), RG_EBADSIG);
	assert_int_equal(jws_verify(&j, pk), RG_OK);
	jws_clear(&j);
	free(s);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(sk2, sizeof sk2);
}

static void test_clear(void **state)
{
	struct jws j = {0};
	(void)state;
	jws_clear(NULL);
	jws_clear(&j);
	jws_clear(&j);
	assert_null(j.payload);
}

int main(void)
{
	const char *dir = getenv("RG_VECTORS_DIR");
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_loaded),
		cmocka_unit_test(test_b64url_rfc4648),
		cmocka_unit_test(test_b64url_empty),
		cmocka_unit_test(test_b64url_maximal),
		cmocka_unit_test(test_b64url_truncated),
		cmocka_unit_test(test_b64url_malformed),
		cmocka_unit_test(test_sign_round_trip),
		cmocka_unit_test(test_sign_deterministic),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_sign_size_limit),
		cmocka_unit_test(test_decode_args),
		cmocka_unit_test(test_decode_every_prefix),
		cmocka_unit_test(test_decode_every_character),
		cmocka_unit_test(test_verify_wrong_key),
		cmocka_unit_test(test_clear),
	};
	static struct CMUnitTest vtests[MAX_VECTORS];
	int failed;

	if (sodium_init() < 0)
		return 1;
	n_vectors = load_vectors(dir && *dir ? dir : "proto/vectors");
	for (size_t i = 0; i < n_vectors; i++) {
		vtests[i].name = vectors[i].name;
		vtests[i].test_func = run_vector;
		vtests[i].initial_state = &vectors[i];
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (n_vectors > 0)
		failed += _cmocka_run_group_tests("jws_vectors", vtests,
						  n_vectors, NULL, NULL);
	for (size_t i = 0; i < n_vectors; i++)
		json_decref(vectors[i].root);
	return failed;
}
