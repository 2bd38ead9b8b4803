/*
 * keyfile.c - the text of the gateway's key files (see keyfile.h).
 */
#include "keyfile.h"

#include <string.h>

#include <sodium.h>

#define VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

_Static_assert(sodium_base64_ENCODED_LEN(32, VARIANT) == KEYFILE_LINE_LEN,
               "a 32-byte key, unpadded base64url, plus the newline");

int keyfile_parse(const char *text, size_t len, uint8_t out[32])
{
	size_t line = 0;
	while (line < len && text[line] != '\r' && text[line] != '\n' &&
	       text[line] != '\0')
		line++;
	return rg_b64_decode_exact(text, line, out, 32, VARIANT);
}

void keyfile_format(const uint8_t key[32], char out[KEYFILE_LINE_LEN + 1])
{
	/* sodium_bin2base64 writes the 43 characters and a NUL, which the
	 * newline then replaces. */
	sodium_bin2base64(out, KEYFILE_LINE_LEN, key, 32, VARIANT);
	out[KEYFILE_LINE_LEN - 1] = '\n';
	out[KEYFILE_LINE_LEN] = '\0';
}
