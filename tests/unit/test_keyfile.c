/*
 * test_keyfile.c - the key file text (proto/keyfile.c): what init writes
 * reads back; the empty, the truncated, the over-long, the non-canonical
 * and the malformed are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../proto/keyfile.h"

static const uint8_t zero[32];

static void test_round_trip(void **state)
{
	(void)state;
	uint8_t key[32], back[32];
	char text[KEYFILE_LINE_LEN + 1];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0xff - 7 * i);
	keyfile_format(key, text);
	assert_int_equal(strlen(text), KEYFILE_LINE_LEN);
	assert_int_equal(text[KEYFILE_LINE_LEN - 1], '\n');
	assert_null(strpbrk(text, "+/="));          /* base64url, unpadded */
	assert_int_equal(keyfile_parse(text, strlen(text), back), RG_OK);
	assert_memory_equal(key, back, 32);
	/* without the newline, with CRLF, and with more lines after it */
	assert_int_equal(keyfile_parse(text, KEYFILE_LINE_LEN - 1, back), RG_OK);
	assert_memory_equal(key, back, 32);
	char crlf[64];
	memcpy(crlf, text, KEYFILE_LINE_LEN - 1);
	memcpy(crlf + KEYFILE_LINE_LEN - 1, "\r\nmore\n", 7);
	assert_int_equal(keyfile_parse(crlf, KEYFILE_LINE_LEN + 6, back), RG_OK);
	assert_memory_equal(key, back, 32);
}

/* A known answer: 32 zero bytes are 43 'A's. */
static void test_known_answer(void **state)
{
	(void)state;
	char text[KEYFILE_LINE_LEN + 1];
	keyfile_format(zero, text);
	assert_string_equal(text, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
}

static void test_refused(void **state)
{
	(void)state;
	uint8_t out[32];
	const char good[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	const char *bad[] = {
		"",                                          /* empty */
		"\n",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* truncated */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* too long */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* padded */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",  /* unused bits */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",  /* not url-safe */
		" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* leading space */
	};
	assert_int_equal(keyfile_parse(good, strlen(good), out), RG_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(out, 0x55, sizeof out);
		assert_int_equal(keyfile_parse(bad[i], strlen(bad[i]), out),
		                 RG_EINVAL);
		assert_memory_equal(out, zero, 32);
	}
	/* a NUL inside the line ends it: what is before is too short */
	char nul[sizeof good];
	memcpy(nul, good, sizeof good);
	nul[20] = '\0';
	assert_int_equal(keyfile_parse(nul, sizeof good - 1, out), RG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
