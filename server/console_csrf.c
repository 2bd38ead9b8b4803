/*
 * console_csrf.c - the console's defence against cross-site request
 * forgery. A browser sends the client certificate to the gateway with
 * any request, whoever's page made it, so every POST must prove it came
 * from a console page: a token bound to the principal and the hour
 * (HMAC-SHA-256 under a key derived from the data key), and, when the
 * browser says, the console's own origin.
 */
#include "console_int.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char key_context[] = "refgate console csrf v1";

void csrf_key(const struct keys *k, uint8_t out[32])
{
	crypto_generichash(out, 32, (const uint8_t *)key_context,
	                   sizeof key_context - 1, k->data_key,
	                   sizeof k->data_key);
}

static void token_at(const uint8_t key[32], const char *principal,
                     int64_t window, char out[CSRF_TOKEN_LEN + 1])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[32], w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (uint8_t)((uint64_t)window >> (56 - 8 * i));
	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)principal,
	                              strlen(principal) + 1);
	crypto_auth_hmacsha256_update(&st, w, sizeof w);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, CSRF_TOKEN_LEN + 1, mac, sizeof mac,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(&st, sizeof st);
}

void csrf_token(const uint8_t key[32], const char *principal, int64_t now,
                char out[CSRF_TOKEN_LEN + 1])
{
	token_at(key, principal, now / CSRF_WINDOW, out);
}

bool csrf_valid(const uint8_t key[32], const char *principal, int64_t now,
                const char *token)
{
	char want[CSRF_TOKEN_LEN + 1];
	if (!token || strlen(token) != CSRF_TOKEN_LEN)
		return false;
	for (int back = 0; back < 2; back++) {
		token_at(key, principal, now / CSRF_WINDOW - back, want);
		if (sodium_memcmp(want, token, CSRF_TOKEN_LEN) == 0)
			return true;
	}
	return false;
}

bool csrf_origin_ok(const char *origin, const char *fetch_site,
                    const char *host)
{
	if (fetch_site && strcasecmp(fetch_site, "same-origin") != 0)
		return false;
	if (!origin)
		return true;
	if (!host || strncasecmp(origin, "https://", 8) != 0)
		return false;
	return strcasecmp(origin + 8, host) == 0;
}
