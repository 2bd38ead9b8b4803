/*
 * audit.c - `refgatectl audit verify`: checks the audit log in the
 * database of the configuration, which it opens read-only (so it may run
 * beside the gateway, which goes on writing), with the verifier the
 * console shares (proto/audit_verify.h, through store_audit_verify): rows
 * numbered without gaps, each chained to the one before and hashing to
 * its stored hash, every signed head carrying the hash of its row and a
 * signature by the gateway key (from its receipt key, or the keys of a
 * JWKS given with --jwks). The first bad record is named.
 */
#include "cli.h"
#include "../proto/audit_verify.h"
#include "../proto/jwk.h"
#include "../proto/keyfile.h"
#include "../server/db.h"
#include "../server/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#define JWKS_MAX (64 * 1024)

/* The gateway's public key from its receipt key (the seed), a key file
 * (proto/keyfile.h) that group and others may not read. */
static int key_from_seed(const struct conf *c, struct audit_verify *v)
{
	char path[CONF_PATH_MAX], *text = NULL;
	uint8_t seed[32], sk[64];
	size_t len = 0;
	if (conf_path(c, c->receipt_key, path, sizeof path) != RG_OK)
		return cli_fail("receipt_key: path too long");
	int rc = cli_read_private(path, KEYFILE_MAX, &text, &len);
	if (rc != RG_OK)
		return cli_fail("%s: %s (or pass the gateway's JWKS, GET "
		                "/v1/keys, with --jwks FILE)", path,
		                cli_read_why(rc));
	rc = keyfile_parse(text, len, seed);
	sodium_memzero(text, len);
	free(text);
	if (rc != RG_OK)
		return cli_fail("%s: not a key file (or pass the gateway's "
		                "JWKS, GET /v1/keys, with --jwks FILE)", path);
	rc = crypto_sign_seed_keypair(v->pk[0], sk, seed);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
	if (rc != 0)
		return cli_fail("%s: not an Ed25519 seed", path);
	v->n_pk = 1;
	return CLI_OK;
}

/* The Ed25519 keys of a JWKS file ({"keys": [JWK...]}, others skipped). */
static int keys_from_jwks(const char *file, struct audit_verify *v)
{
	char *text = NULL, kid[RG_KID_MAX + 1];
	size_t len = 0, i;
	json_t *j = NULL, *k;
	int ret = CLI_FAIL;

	int rc = cli_read_file(file, JWKS_MAX, &text, &len);
	if (rc != RG_OK)
		return cli_fail("%s: %s", file, cli_read_why(rc));
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(json_object_get(j, "keys"))) {
		cli_fail("%s: not a JWKS ({\"keys\": [...]})", file);
		goto out;
	}
	json_array_foreach(json_object_get(j, "keys"), i, k) {
		const char *why = NULL;
		if (!json_is_object(k) || !json_is_string(json_object_get(k, "kty")) ||
		    strcmp(json_string_value(json_object_get(k, "kty")), "OKP"))
			continue;
		char *one = json_dumps(k, JSON_COMPACT);
		if (!one) {
			cli_fail("out of memory");
			goto out;
		}
		if (v->n_pk >= AUDIT_VERIFY_KEYS_MAX) {
			free(one);
			cli_fail("%s: more than %d keys", file, AUDIT_VERIFY_KEYS_MAX);
			goto out;
		}
		rc = jwk_parse_public(one, strlen(one), v->pk[v->n_pk], kid, &why);
		free(one);
		if (rc != RG_OK) {
			cli_fail("%s: key %zu: %s", file, i, why ? why :
			         "not an Ed25519 public key");
			goto out;
		}
		v->n_pk++;
	}
	if (v->n_pk == 0) {
		cli_fail("%s: no Ed25519 key", file);
		goto out;
	}
	ret = CLI_OK;
out:
	json_decref(j);
	free(text);
	return ret;
}

/* The database file of the configuration, which must exist. */
static int db_path(const struct conf *c, char *path, size_t len)
{
	struct stat sb;
	if (db_is_pg(c->database)) {      /* PostgreSQL: as written */
		if (cli_pg_passfile(c) != CLI_OK)
			return CLI_FAIL;
		if ((size_t)snprintf(path, len, "%s", c->database) >= len)
			return cli_fail("database: too long");
		return CLI_OK;
	}
	if (conf_path(c, c->database, path, len) != RG_OK)
		return cli_fail("database: path too long");
	if (stat(path, &sb) != 0)
		return cli_fail("%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return cli_fail("%s: not a regular file", path);
	return CLI_OK;
}

static void report(const struct audit_verify *v)
{
	if (v->failed) {
		printf("audit: record %lld: %s\n", (long long)v->bad_seq, v->why);
		return;
	}
	printf("audit: %lld records, %zu signed heads, chain intact\n",
	       (long long)v->n_rows, v->n_heads);
	if (v->n_heads == 0 && v->n_rows > 0)
		cli_fail("warning: no signed heads: a log rewritten with its "
		         "hashes recomputed would pass");
	else if (v->good_head < v->last_seq)
		cli_fail("note: records %lld..%lld are not yet covered by a "
		         "signed head", (long long)v->good_head + 1,
		         (long long)v->last_seq);
}

int cmd_audit_verify(const struct cli_ctx *ctx, const struct cli_args *a)
{
	static struct audit_verify v;    /* one per process */
	const struct store_opts ro = { .read_only = true };
	const char *jwks = cli_opt(a, "jwks");
	char path[CONF_PATH_MAX];
	struct store *st = NULL;
	int ret = CLI_FAIL, rc;

	if (db_path(ctx->conf, path, sizeof path) != CLI_OK)
		goto out;
	if ((jwks ? keys_from_jwks(jwks, &v)
	          : key_from_seed(ctx->conf, &v)) != CLI_OK)
		goto out;
	if ((rc = store_open(path, &ro, &st)) != RG_OK) {
		cli_fail("%s: %s (opened read-only)", path, rg_strerror(rc));
		goto out;
	}
	if ((rc = store_audit_verify(st, &v)) != RG_OK) {
		cli_fail("%s: reading the audit log: %s", path, rg_strerror(rc));
		goto out;
	}
	report(&v);
	if (fflush(stdout) != 0) {
		cli_fail("stdout: write error");
		goto out;
	}
	ret = v.failed ? CLI_FAIL : CLI_OK;
out:
	store_free(st);
	audit_verify_free(&v);
	return ret;
}
