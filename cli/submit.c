/*
 * submit.c - `refgatectl submit FILE`: signs a referral payload as a
 * partner or agency (the private JWK in DIR/signing.jwk) and sends it
 * with that principal's client certificate; jti and iat are filled in
 * when the payload lacks them.
 */
#include "cli.h"
#include "../proto/jwk.h"
#include "../proto/jws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#define SUBMIT_TYP "refgate-referral+json"
#define SUBMIT_TIMEOUT 60L
#define JWK_FILE_MAX (16 * 1024)
#define JTI_BYTES 18                 /* 24 base64url characters */

/*
 * The payload to sign: the file's bytes as they are when they hold jti
 * and iat, else the JSON with a random jti and/or the current iat added.
 * *out is malloc'd.
 */
static int payload_prepare(const char *file, char **out, size_t *out_len)
{
	char *text = NULL, jti[sodium_base64_ENCODED_LEN(
	                            JTI_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	uint8_t rnd[JTI_BYTES];
	size_t len = 0;
	json_error_t jerr;
	json_t *j = NULL;
	int ret = CLI_FAIL;

	int rc = cli_read_file(file, JWS_MAX_BYTES, &text, &len);
	if (rc != RG_OK)
		return cli_fail("%s: %s", file, cli_read_why(rc));
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(j)) {
		cli_fail("%s: line %d: %s", file, j ? 1 : jerr.line,
		         j ? "not a JSON object" : jerr.text);
		goto out;
	}
	if (json_object_get(j, "jti") && json_object_get(j, "iat")) {
		*out = text;
		*out_len = len;
		text = NULL;
		ret = CLI_OK;
		goto out;
	}
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2base64(jti, sizeof jti, rnd, sizeof rnd,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((!json_object_get(j, "jti") &&
	     json_object_set_new(j, "jti", json_string(jti))) ||
	    (!json_object_get(j, "iat") &&
	     json_object_set_new(j, "iat", json_integer(time(NULL)))) ||
	    !(*out = json_dumps(j, JSON_COMPACT))) {
		cli_fail("out of memory");
		goto out;
	}
	*out_len = strlen(*out);
	ret = CLI_OK;
out:
	json_decref(j);
	free(text);
	return ret;
}

/* Reads the private JWK in dir/signing.jwk (mode 0600 or stricter). */
static int signing_key_load(const char *dir, uint8_t sk[64],
                            char kid[RG_KID_MAX + 1])
{
	char path[CONF_PATH_MAX], *text = NULL;
	size_t len = 0;
	const char *why = "invalid JWK";
	struct stat st;

	if (cli_path(path, sizeof path, dir, "signing.jwk") != RG_OK)
		return cli_fail("%s: path too long", dir);
	if (stat(path, &st) != 0 && errno == ENOENT)
		return cli_fail("%s holds no signing.jwk: only partners and "
		                "agencies sign referrals (a reviewer or the legal "
		                "team cannot submit); give --as the folder that "
		                "'enroll --out' wrote for a partner or agency", dir);
	if (stat(path, &st) != 0)
		return cli_fail("%s: %s", path, strerror(errno));
	if (st.st_mode & 077)
		return cli_fail("%s: readable by group or others (chmod 600 it)",
		                path);
	int rc = cli_read_file(path, JWK_FILE_MAX, &text, &len);
	if (rc != RG_OK)
		return cli_fail("%s: %s", path, cli_read_why(rc));
	rc = jwk_parse_private(text, len, sk, kid, &why);
	sodium_memzero(text, len);
	free(text);
	if (rc != RG_OK)
		return cli_fail("%s: %s", path, why);
	return CLI_OK;
}

int cmd_submit(const struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *dir = cli_opt(a, "as");
	struct cli_cred cred;
	struct cli_resp r = {0};
	uint8_t sk[64];
	char kid[RG_KID_MAX + 1], *payload = NULL, *jws = NULL;
	size_t len = 0;
	int ret = CLI_FAIL;

	if (!dir)
		dir = ".";
	if (cli_cred_dir(dir, &cred) != CLI_OK ||
	    payload_prepare(a->pos[0], &payload, &len) != CLI_OK)
		goto out;
	if (signing_key_load(dir, sk, kid) != CLI_OK)
		goto out;
	int rc = jws_sign((const uint8_t *)payload, len, kid, SUBMIT_TYP, sk,
	                  &jws);
	sodium_memzero(sk, sizeof sk);
	if (rc != RG_OK) {
		cli_fail("signing: %s", rg_strerror(rc));
		goto out;
	}
	if (strlen(jws) > JWS_MAX_BYTES) {
		cli_fail("%s: the signed referral is larger than %d bytes",
		         a->pos[0], JWS_MAX_BYTES);
		goto out;
	}
	if (cli_request(ctx->conf, &cred, "POST", "/v1/referrals",
	                "application/jose", jws, strlen(jws), SUBMIT_TIMEOUT,
	                &r) != CLI_OK)
		goto out;
	ret = cli_report(&r);
out:
	sodium_memzero(sk, sizeof sk);
	cli_resp_free(&r);
	free(jws);
	free(payload);
	return ret;
}
