/*
 * cursor.c - opaque cursors: base64url of "rgc1:<decimal seq>".
 */
#include "cursor.h"
#include "../proto/jws.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_PREFIX "rgc1:"
#define CURSOR_TEXT_MAX 64

char *cursor_encode(int64_t seq)
{
	char text[40];
	int n = snprintf(text, sizeof text, CURSOR_PREFIX "%" PRId64, seq);
	return b64url_encode((const uint8_t *)text, (size_t)n);
}

int cursor_decode(const char *cursor, int64_t *seq)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	int rc = RG_EINVAL;
	size_t clen = strlen(cursor);
	if (clen == 0 || clen > CURSOR_TEXT_MAX ||
	    b64url_decode(cursor, clen, &raw, &len) != RG_OK)
		return RG_EINVAL;
	const size_t plen = sizeof CURSOR_PREFIX - 1;
	if (len > plen && len <= plen + 18 && memcmp(raw, CURSOR_PREFIX, plen) == 0 &&
	    strlen((const char *)raw) == len) {
		int64_t v = 0;
		bool ok = true;
		for (size_t i = plen; i < len && ok; i++) {
			ok = raw[i] >= '0' && raw[i] <= '9';
			v = v * 10 + (raw[i] - '0');
		}
		if (ok && (len == plen + 1 || raw[plen] != '0')) {
			*seq = v;
			rc = RG_OK;
		}
	}
	free(raw);
	return rc;
}
