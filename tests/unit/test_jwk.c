/*
 * test_jwk.c - proto/jwk.c: RFC 8037 known answers, strict parsing of
 * public and private Ed25519 JWKs, and round trips through the JSON text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/jwk.h"
#include "../../proto/jws.h"

/* RFC 8037 appendix A.1-A.4 */
#define RFC_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC_KID "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define RFC_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define RFC_SIG "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylG" \
		"jg5BhVsPt9g7sVvpAr_MuM0KAg"

/* x of another key (seed 32 x 0x01), for the d/x mismatch */
#define OTHER_X "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w"

#define JWK_TEST_BIG 8400

#define PUB(members) "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"" members "}"

static void decode32(const char *b64, uint8_t out[32])
{
	uint8_t *d = NULL;
	size_t n = 0;
	assert_int_equal(b64url_decode(b64, strlen(b64), &d, &n), RG_OK);
	assert_int_equal(n, 32);
	memcpy(out, d, 32);
	free(d);
}

static void test_thumbprint_rfc8037(void **state)
{
	uint8_t pk[32];
	char tp[44];
	(void)state;
	decode32(RFC_X, pk);
	jwk_thumbprint(pk, tp);
	assert_string_equal(tp, RFC_KID);
}

static void test_other_x_matches_seed(void **state)
{
	uint8_t pk[32], sk[64], seed[32];
	char *x;
	(void)state;
	memset(seed, 1, sizeof seed);
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
	x = b64url_encode(pk, 32);
	assert_string_equal(x, OTHER_X);
	free(x);
}

/* The RFC's private key parses, its thumbprint is the kid, and signing the
 * RFC's input with it gives the RFC's signature. */
static void test_private_rfc8037(void **state)
{
	static const char jwk[] = PUB(",\"d\":\"" RFC_D "\",\"x\":\"" RFC_X "\"");
	uint8_t sk[64], pk[32], sig[64];
	char kid[RG_KID_MAX + 1];
	const char *why = NULL;
	(void)state;
	assert_int_equal(jwk_parse_private(jwk, strlen(jwk), sk, kid, &why),
			 RG_OK);
	assert_string_equal(kid, RFC_KID);
	decode32(RFC_X, pk);
	assert_memory_equal(sk + 32, pk, 32);
	assert_int_equal(crypto_sign_detached(sig, NULL,
		(const unsigned char *)RFC_INPUT, strlen(RFC_INPUT), sk), 0);
	char *s = b64url_encode(sig, sizeof sig);
	assert_string_equal(s, RFC_SIG);
	free(s);
	assert_int_equal(crypto_sign_verify_detached(sig,
		(const unsigned char *)RFC_INPUT, strlen(RFC_INPUT), pk), 0);
	sodium_memzero(sk, sizeof sk);
}

static void test_public_valid(void **state)
{
	static const struct { const char *json, *kid; } ok[] = {
		{PUB(",\"x\":\"" RFC_X "\""), RFC_KID},
		{"{\"x\":\"" RFC_X "\",\"crv\":\"Ed25519\",\"kty\":\"OKP\"}", RFC_KID},
		{PUB(",\"x\":\"" RFC_X "\",\"kid\":\"pave-2026:01\""), "pave-2026:01"},
		{PUB(",\"x\":\"" RFC_X "\",\"alg\":\"EdDSA\",\"use\":\"sig\""), RFC_KID},
		{PUB(",\"x\":\"" RFC_X "\",\"alg\":\"Ed25519\""), RFC_KID},
		{PUB(",\"x\":\"" RFC_X "\",\"key_ops\":[\"verify\"],\"ext\":true"), RFC_KID},
		{" \n" PUB(",\"x\":\"" RFC_X "\"") "\n", RFC_KID},
	};
	uint8_t want[32];
	(void)state;
	decode32(RFC_X, want);
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		uint8_t pk[32] = {0};
		char kid[RG_KID_MAX + 1] = "";
		const char *why = NULL;
		int rc = jwk_parse_public(ok[i].json, strlen(ok[i].json), pk,
					  kid, &why);
		if (rc != RG_OK)
			fail_msg("case %zu: %s", i, why);
		assert_memory_equal(pk, want, 32);
		assert_string_equal(kid, ok[i].kid);
	}
}

/* Public JWKs that must be refused; outputs stay untouched. */
static void test_public_refused(void **state)
{
	char k129[300], big[JWK_TEST_BIG];
	snprintf(k129, sizeof k129, PUB(",\"x\":\"" RFC_X "\",\"kid\":\"%0129d\""), 0);
	int n = snprintf(big, sizeof big, PUB(",\"x\":\"" RFC_X "\",\"p\":\"%*s\""),
			 8200, "");
	assert_true(n > 8192 && (size_t)n < sizeof big);
	char deep[300] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC_X
			 "\",\"a\":";
	size_t dl = strlen(deep);
	for (int i = 0; i < 20; i++)
		deep[dl++] = '[';
	for (int i = 0; i < 20; i++)
		deep[dl++] = ']';
	deep[dl++] = '}';
	deep[dl] = '\0';
	const struct { const char *json; size_t len; } bad[] = {
#define C(s) {s, sizeof s - 1}
		C("{\"crv\":\"Ed25519\",\"x\":\"" RFC_X "\"}"),
		C("{\"kty\":\"OKP\",\"x\":\"" RFC_X "\"}"),
		C(PUB("")),
		C("{\"kty\":\"EC\",\"crv\":\"Ed25519\",\"x\":\"" RFC_X "\"}"),
		C("{\"kty\":\"oct\",\"crv\":\"Ed25519\",\"x\":\"" RFC_X "\"}"),
		C("{\"kty\":\"okp\",\"crv\":\"Ed25519\",\"x\":\"" RFC_X "\"}"),
		C("{\"kty\":1,\"crv\":\"Ed25519\",\"x\":\"" RFC_X "\"}"),
		C("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" RFC_X "\"}"),
		C("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" RFC_X "\"}"),
		C("{\"kty\":\"OKP\",\"crv\":\"ed25519\",\"x\":\"" RFC_X "\"}"),
		C("{\"kty\":\"OKP\",\"crv\":null,\"x\":\"" RFC_X "\"}"),
		C(PUB(",\"x\":1")),
		C(PUB(",\"x\":\"\"")),
		C(PUB(",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\"")),
		C(PUB(",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURoA\"")),
		C(PUB(",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURoAAA\"")),
		C(PUB(",\"x\":\"" RFC_X "=\"")),
		C(PUB(",\"x\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\"")),
		C(PUB(",\"x\":\"11qYAYKxCrfVS+7TyWQHOg7hcvPapiMlrwIaaPcHURo\"")),
		C(PUB(",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp\"")),
		C(PUB(",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR!\"")),
		/* the identity (small order), a non-point, y = p (non-canonical) */
		C(PUB(",\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"")),
		C(PUB(",\"x\":\"AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"")),
		C(PUB(",\"x\":\"7f_______________________________________38\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"d\":\"" RFC_D "\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"d\":null")),
		C(PUB(",\"x\":\"" RFC_X "\",\"x\":\"" RFC_X "\"")),
		C(PUB(",\"x\":\"" OTHER_X "\",\"x\":\"" RFC_X "\"")),
		C("{\"kty\":\"OKP\",\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC_X "\"}"),
		C(PUB(",\"x\":\"" RFC_X "\",\"kid\":\"\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"kid\":\"a b\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"kid\":\"k/1\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"kid\":7")),
		C(PUB(",\"x\":\"" RFC_X "\",\"kid\":\"k\\u0000\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"alg\":\"RS256\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"alg\":\"none\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"use\":\"enc\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"use\":1")),
		C("[\"OKP\",\"Ed25519\",\"" RFC_X "\"]"),
		C("\"" RFC_X "\""),
		C("null"),
		C(""),
		C("{"),
		C("{kty:OKP}"),
		C(PUB(",\"x\":\"" RFC_X "\"") "x"),
		C(PUB(",\"x\":\"" RFC_X "\"") PUB(",\"x\":\"" RFC_X "\"")),
		C("\xef\xbb\xbf" PUB(",\"x\":\"" RFC_X "\"")),
		C(PUB(",\"x\":\"" RFC_X "\",\"n\":\"\xff\"")),
		/* a NUL inside the text */
		C(PUB(",\"x\":\"" RFC_X "\"") "\0"),
#undef C
		{k129, strlen(k129)},
		{big, strlen(big)},
		{deep, strlen(deep)},
		{NULL, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		uint8_t pk[32];
		char kid[RG_KID_MAX + 1] = "untouched";
		const char *why = NULL;
		memset(pk, 0xaa, sizeof pk);
		int rc = jwk_parse_public(bad[i].json, bad[i].len, pk, kid, &why);
		if (rc != RG_EINVAL)
			fail_msg("case %zu (%.60s) accepted", i,
				 bad[i].json ? bad[i].json : "NULL");
		assert_non_null(why);
		assert_string_equal(kid, "untouched");
		for (size_t k = 0; k < 32; k++)
			assert_int_equal(pk[k], 0xaa);
	}
	/* positive control beside them, and why may be NULL */
	static const char good[] = PUB(",\"x\":\"" RFC_X "\"");
	uint8_t pk[32];
	char kid[RG_KID_MAX + 1];
	assert_int_equal(jwk_parse_public(good, strlen(good), pk, kid, NULL),
			 RG_OK);
	assert_int_equal(jwk_parse_public(good, strlen(good), NULL, kid, NULL),
			 RG_EINVAL);
	assert_int_equal(jwk_parse_public(good, strlen(good), pk, NULL, NULL),
			 RG_EINVAL);
}

static void test_private_refused(void **state)
{
	const char *bad[] = {
		PUB(",\"x\":\"" RFC_X "\""),
		PUB(",\"x\":\"" RFC_X "\",\"d\":null"),
		PUB(",\"x\":\"" RFC_X "\",\"d\":1"),
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"\""),
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2\""),
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"" RFC_D "AA\""),
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"" RFC_D "=\""),
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B\""),
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\""),
		/* d of the RFC key, x of another */
		PUB(",\"x\":\"" OTHER_X "\",\"d\":\"" RFC_D "\""),
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"" RFC_D "\",\"d\":\"" RFC_D "\""),
		PUB(",\"d\":\"" RFC_D "\""),
		"{\"kty\":\"EC\",\"crv\":\"Ed25519\",\"x\":\"" RFC_X "\",\"d\":\"" RFC_D "\"}",
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"" RFC_D "\",\"kid\":\"a b\""),
		"",
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		uint8_t sk[64];
		char kid[RG_KID_MAX + 1] = "untouched";
		const char *why = NULL;
		memset(sk, 0xaa, sizeof sk);
		int rc = jwk_parse_private(bad[i], strlen(bad[i]), sk, kid, &why);
		if (rc != RG_EINVAL)
			fail_msg("case %zu (%.70s) accepted", i, bad[i]);
		assert_non_null(why);
		assert_string_equal(kid, "untouched");
		for (size_t k = 0; k < 64; k++)
			assert_int_equal(sk[k], 0xaa);
	}
	/* positive control, with a kid */
	static const char good[] =
		PUB(",\"x\":\"" RFC_X "\",\"d\":\"" RFC_D "\",\"kid\":\"gw:1\"");
	uint8_t sk[64];
	char kid[RG_KID_MAX + 1];
	assert_int_equal(jwk_parse_private(good, strlen(good), sk, kid, NULL),
			 RG_OK);
	assert_string_equal(kid, "gw:1");
	assert_int_equal(jwk_parse_private(good, strlen(good), NULL, kid, NULL),
			 RG_EINVAL);
	sodium_memzero(sk, sizeof sk);
}

/* Member names of a JSON object text, in order, comma-separated. */
static void member_names(const char *text, char *out, size_t cap)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	const char *key;
	json_t *val;
	assert_non_null(j);
	out[0] = '\0';
	json_object_foreach(j, key, val) {
		assert_true(json_is_string(val));
		if (out[0])
			strncat(out, ",", cap - strlen(out) - 1);
		strncat(out, key, cap - strlen(out) - 1);
	}
	json_decref(j);
}

static void test_round_trip(void **state)
{
	uint8_t seed[32], pk[32], sk[64], pk2[32], sk2[64];
	char kid[RG_KID_MAX + 1], tp[44], names[128];
	(void)state;
	memset(seed, 0x42, sizeof seed);
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
	jwk_thumbprint(pk, tp);

	char *pub = jwk_public_json(pk, "gw-2026:a");
	assert_non_null(pub);
	member_names(pub, names, sizeof names);
	assert_string_equal(names, "kty,crv,x,kid,alg,use");
	assert_int_equal(jwk_parse_public(pub, strlen(pub), pk2, kid, NULL),
			 RG_OK);
	assert_memory_equal(pk2, pk, 32);
	assert_string_equal(kid, "gw-2026:a");
	free(pub);

	pub = jwk_public_json(pk, NULL);
	assert_non_null(pub);
	assert_int_equal(jwk_parse_public(pub, strlen(pub), pk2, kid, NULL),
			 RG_OK);
	assert_string_equal(kid, tp);
	free(pub);

	char *priv = jwk_private_json(sk, "gw-2026:a");
	assert_non_null(priv);
	member_names(priv, names, sizeof names);
	assert_string_equal(names, "kty,crv,x,d,kid,alg,use");
	assert_int_equal(jwk_parse_private(priv, strlen(priv), sk2, kid, NULL),
			 RG_OK);
	assert_memory_equal(sk2, sk, 64);
	assert_string_equal(kid, "gw-2026:a");
	/* a private JWK is no public one */
	assert_int_equal(jwk_parse_public(priv, strlen(priv), pk2, kid, NULL),
			 RG_EINVAL);
	sodium_memzero(priv, strlen(priv));
	free(priv);

	priv = jwk_private_json(sk, NULL);
	assert_non_null(priv);
	assert_int_equal(jwk_parse_private(priv, strlen(priv), sk2, kid, NULL),
			 RG_OK);
	assert_string_equal(kid, tp);
	sodium_memzero(priv, strlen(priv));
	free(priv);

	/* refusals, with the controls above */
	assert_null(jwk_public_json(pk, "a b"));
	assert_null(jwk_public_json(pk, ""));
	assert_null(jwk_public_json(NULL, "k"));
	assert_null(jwk_private_json(sk, "a/b"));
	assert_null(jwk_private_json(NULL, "k"));
	sk2[40] ^= 1;   /* halves disagree */
	assert_null(jwk_private_json(sk2, "k"));
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(sk2, sizeof sk2);
}

/* A 128-character kid, the longest, survives the round trip. */
static void test_kid_maximal(void **state)
{
	uint8_t pk[32];
	char k128[RG_KID_MAX + 1], kid[RG_KID_MAX + 1];
	(void)state;
	decode32(RFC_X, pk);
	memset(k128, 'Z', RG_KID_MAX);
	k128[RG_KID_MAX] = '\0';
	char *pub = jwk_public_json(pk, k128);
	assert_non_null(pub);
	assert_int_equal(jwk_parse_public(pub, strlen(pub), pk, kid, NULL),
			 RG_OK);
	assert_string_equal(kid, k128);
	free(pub);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thumbprint_rfc8037),
		cmocka_unit_test(test_other_x_matches_seed),
		cmocka_unit_test(test_private_rfc8037),
		cmocka_unit_test(test_public_valid),
		cmocka_unit_test(test_public_refused),
		cmocka_unit_test(test_private_refused),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_kid_maximal),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
