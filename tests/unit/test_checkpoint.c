/*
 * test_checkpoint.c - proto/checkpoint.c: the signed-note signature
 * against the example of golang.org/x/mod/sumdb/note (key PeterNeumann,
 * key id c74f20a3), and checkpoints signed, verified and refused when
 * tampered with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../../proto/checkpoint.h"

/* sumdb/note's example: PRIVATE+KEY+PeterNeumann+c74f20a3+<0x01||seed> */
#define GO_SEED_B64 "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_TEXT "If you think cryptography is the answer to your problem,\n" \
		"then you don't know what your problem is.\n"
#define GO_SIG "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ" \
	       "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM="

static void go_key(uint8_t pk[32], uint8_t sk[64])
{
	uint8_t raw[33];
	size_t n = 0;
	assert_int_equal(sodium_base642bin(raw, sizeof raw, GO_SEED_B64,
					   strlen(GO_SEED_B64), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(n, 33);
	assert_int_equal(raw[0], 1);            /* Ed25519 */
	crypto_sign_seed_keypair(pk, sk, raw + 1);
}

static void test_go_note_vector(void **state)
{
	uint8_t pk[32], sk[64], sig[68], kid[4];
	char b64[sodium_base64_ENCODED_LEN(68, sodium_base64_VARIANT_ORIGINAL)];
	(void)state;
	go_key(pk, sk);
	checkpoint_key_id("PeterNeumann", pk, kid);
	assert_memory_equal(kid, "\xc7\x4f\x20\xa3", 4);
	checkpoint_note_sign("PeterNeumann", GO_TEXT, strlen(GO_TEXT), sk, sig);
	sodium_bin2base64(b64, sizeof b64, sig, sizeof sig,
			  sodium_base64_VARIANT_ORIGINAL);
	assert_string_equal(b64, GO_SIG);
}

static void test_roundtrip_and_tamper(void **state)
{
	uint8_t pk[32], sk[64], root[32], got[32], pk2[32], sk2[64];
	char note[CHECKPOINT_TEXT_MAX];
	uint64_t size = 0;
	(void)state;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	randombytes_buf(root, sizeof root);
	assert_int_equal(checkpoint_sign("gw.example/refgate", 64, root, sk, note,
					 sizeof note), RG_OK);
	assert_non_null(strstr(note, "gw.example/refgate\n64\n"));
	assert_non_null(strstr(note, "\n\n\xe2\x80\x94 gw.example/refgate "));
	assert_int_equal(checkpoint_verify(note, strlen(note), "gw.example/refgate",
					   pk, &size, got), RG_OK);
	assert_int_equal(size, 64);
	assert_memory_equal(got, root, 32);
	/* another key, another origin, a changed size, a flipped root byte */
	assert_int_equal(checkpoint_verify(note, strlen(note), "gw.example/refgate",
					   pk2, &size, got), RG_EBADSIG);
	assert_int_not_equal(checkpoint_verify(note, strlen(note), "other/refgate",
					       pk, &size, got), RG_OK);
	char *p = strstr(note, "\n64\n");
	p[2] = '5';
	assert_int_equal(checkpoint_verify(note, strlen(note), "gw.example/refgate",
					   pk, &size, got), RG_EBADSIG);
	p[2] = '4';
	p[4] = p[4] == 'A' ? 'B' : 'A';
	assert_int_not_equal(checkpoint_verify(note, strlen(note),
					       "gw.example/refgate", pk, &size, got), RG_OK);
}

static void test_refusals(void **state)
{
	uint8_t pk[32], sk[64], root[32] = {0};
	char small[40], note[CHECKPOINT_TEXT_MAX];
	uint64_t size = 0;
	(void)state;
	crypto_sign_keypair(pk, sk);
	assert_false(checkpoint_origin_valid(""));
	assert_false(checkpoint_origin_valid("a b"));
	assert_false(checkpoint_origin_valid("a+b"));
	assert_false(checkpoint_origin_valid("a\nb"));
	assert_true(checkpoint_origin_valid("localhost/refgate"));
	assert_int_equal(checkpoint_sign("a b", 1, root, sk, note, sizeof note),
			 RG_EINVAL);
	assert_int_equal(checkpoint_sign("o", 1, root, sk, small, sizeof small),
			 RG_ETOOBIG);
	assert_int_equal(checkpoint_sign("o", 1, root, sk, note, sizeof note), RG_OK);
	/* truncated, leading zero, no empty line */
	assert_int_equal(checkpoint_verify(note, strlen(note) - 1, "o", pk, &size,
					   root), RG_EINVAL);
	assert_int_equal(checkpoint_verify("o\n01\nAAAA\n\n", 11, "o", pk, &size,
					   root), RG_EINVAL);
	assert_int_equal(checkpoint_verify("o\n1\n", 4, "o", pk, &size, root),
			 RG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_note_vector),
		cmocka_unit_test(test_roundtrip_and_tamper),
		cmocka_unit_test(test_refusals),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
