/*
 * audit.c - `refgatectl audit verify`: checks the audit log in the
 * database of the configuration, which it opens read-only (so it may run
 * beside the gateway, which goes on writing). The rows must be numbered
 * 1, 2, 3, ... without gaps, each chained to the previous row's hash (32
 * zero bytes before the first) and hashing to its stored hash
 * (audit_record_hash, proto/audit_record.h); every signed head must carry
 * the hash of the row at its seq and an Ed25519 signature by the gateway
 * key. A head beyond the last row means rows were deleted from the end.
 * The first bad record is named; the rows are read in pages, up to the
 * last row there was once the heads were read (rows the gateway appends
 * meanwhile are for the next run), the heads held in memory.
 */
#include "cli.h"
#include "../proto/audit_record.h"
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

#define AUDIT_PAGE 1000
#define AUDIT_MAX_KEYS 16
#define JWKS_MAX (64 * 1024)
#define BAD 1                        /* a callback found a bad record */
#define END 2                        /* a row beyond the log's end seen */

struct verify {
	uint8_t pk[AUDIT_MAX_KEYS][32];  /* keys a head may be signed with */
	size_t n_pk;
	struct store_audit_signature *heads;   /* sorted by seq */
	size_t n_heads, cap_heads, next_head;
	int64_t end;                     /* the last row when the walk began */
	int64_t n_rows, last_seq;        /* rows checked; seq of the last */
	uint8_t last_hash[32];           /* its hash (zeros before row 1) */
	int64_t good_head;               /* seq of the last head that held */
	bool failed;
	int64_t bad_seq;                 /* the first bad record */
	char why[320];
};

/* Records the first problem; returns BAD to stop the walk. */
static int bad(struct verify *v, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct verify *v, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	v->failed = true;
	v->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof v->why, fmt, ap);
	va_end(ap);
	return BAD;
}

static int head_add(void *ctx, const struct store_audit_signature *h)
{
	struct verify *v = ctx;
	if (v->n_heads == v->cap_heads) {
		size_t cap = v->cap_heads ? v->cap_heads * 2 : 64;
		void *p = reallocarray(v->heads, cap, sizeof *v->heads);
		if (!p)
			return RG_ENOMEM;
		v->heads = p;
		v->cap_heads = cap;
	}
	v->heads[v->n_heads++] = *h;
	return 0;
}

static int head_cmp(const void *x, const void *y)
{
	const struct store_audit_signature *a = x, *b = y;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

static bool head_signed(const struct verify *v,
                        const struct store_audit_signature *h)
{
	uint8_t msg[AUDIT_HEAD_MESSAGE_LEN];
	audit_head_message(h->seq, h->at, h->hash, msg);
	for (size_t i = 0; i < v->n_pk; i++)
		if (crypto_sign_verify_detached(h->sig, msg, sizeof msg,
		                                v->pk[i]) == 0)
			return true;
	return false;
}

/* Checks the signed heads at seq (the row just checked, with hash; seq 0
 * and 32 zero bytes for the empty log). */
static int heads_at(struct verify *v, int64_t seq, const uint8_t hash[32])
{
	char at[21];
	for (; v->next_head < v->n_heads &&
	       v->heads[v->next_head].seq <= seq; v->next_head++) {
		const struct store_audit_signature *h = &v->heads[v->next_head];
		rg_time_format(h->at, at);
		if (h->seq < seq)            /* only seq < 0 gets here */
			return bad(v, 0, "a signed head (%s) names record "
			           "%lld, which cannot exist", at,
			           (long long)h->seq);
		if (!head_signed(v, h))
			return bad(v, seq, "the signed head of %s does not "
			           "verify with the gateway key (forged head)",
			           at);
		if (memcmp(h->hash, hash, 32) != 0)
			return bad(v, seq, "hash differs from the signed head "
			           "of %s: a record in %lld..%lld was changed, "
			           "removed or moved, and the chain recomputed",
			           at, (long long)v->good_head + 1,
			           (long long)seq);
		v->good_head = seq;
	}
	return 0;
}

static int row_check(void *ctx, const struct store_audit *a)
{
	struct verify *v = ctx;
	uint8_t h[32];
	int64_t want = v->last_seq + 1;

	if (a->seq > v->end && v->last_seq >= v->end)
		return END;              /* appended after the walk began */
	if (a->seq != want && want == 1)
		return bad(v, want, "missing (the log starts at %lld)",
		           (long long)a->seq);
	if (a->seq != want)
		return bad(v, want, "missing (the log goes from %lld to %lld)",
		           (long long)v->last_seq, (long long)a->seq);
	if (memcmp(a->prev_hash, v->last_hash, 32) != 0)
		return want == 1 ? bad(v, want, "prev_hash is not 32 zero bytes")
		       : bad(v, want, "prev_hash differs from the hash of "
		             "record %lld (a record was removed, moved or "
		             "edited)", (long long)v->last_seq);
	if (audit_record_hash(a->seq, a->at, a->actor, a->kind, a->object,
	                     a->detail, v->last_hash, h) != RG_OK)
		return bad(v, want, "cannot be hashed (a field over 1 MiB)");
	if (memcmp(h, a->hash, 32) != 0)
		return bad(v, want, "hash does not match its contents (the "
		           "record was edited)");
	v->n_rows++;
	v->last_seq = a->seq;
	memcpy(v->last_hash, a->hash, 32);
	return heads_at(v, a->seq, a->hash);
}

/* After the last row: a head beyond it means rows removed from the end. */
static int heads_beyond(struct verify *v)
{
	char at[21];
	if (v->next_head >= v->n_heads)
		return 0;
	const struct store_audit_signature *h = &v->heads[v->next_head];
	rg_time_format(h->at, at);
	if (!head_signed(v, h))
		return bad(v, h->seq, "the signed head of %s does not verify "
		           "with the gateway key (forged head)", at);
	return bad(v, v->last_seq + 1, "missing: the signed head of %s "
	           "covers records up to %lld but the log ends at %lld "
	           "(records deleted)", at, (long long)h->seq,
	           (long long)v->last_seq);
}

/* The gateway's public key from its receipt key (the seed), a key file
 * (proto/keyfile.h) that group and others may not read. */
static int key_from_seed(const struct conf *c, struct verify *v)
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
static int keys_from_jwks(const char *file, struct verify *v)
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
		if (v->n_pk >= AUDIT_MAX_KEYS) {
			free(one);
			cli_fail("%s: more than %d keys", file, AUDIT_MAX_KEYS);
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

/* Walks the rows up to v->end (and none the gateway appends meanwhile),
 * a page at a time. RG_* codes, or BAD. */
static int walk(struct store *st, struct verify *v)
{
	int64_t since = 0, last = 0;
	if (heads_at(v, 0, v->last_hash) == BAD)   /* heads of the empty log */
		return BAD;
	for (;;) {
		int rc = store_audit_each(st, since, AUDIT_PAGE, row_check, v,
		                          &last);
		if (rc == END || (rc == RG_OK && last == since))
			return heads_beyond(v);
		if (rc != RG_OK)
			return rc;
		since = last;
	}
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

static void report(const struct verify *v)
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
	static struct verify v;          /* one per process */
	const struct store_opts ro = { .read_only = true };
	const char *jwks = cli_opt(a, "jwks");
	char path[CONF_PATH_MAX];
	uint8_t end_hash[32];
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
	/* The heads first, then the end of the log: every head read names
	 * a row at or before that end, unless rows were deleted. */
	if ((rc = store_audit_heads_each(st, head_add, &v)) != RG_OK) {
		cli_fail("%s: reading the signed heads: %s", path,
		         rg_strerror(rc));
		goto out;
	}
	if ((rc = store_audit_head(st, &v.end, end_hash)) != RG_OK) {
		cli_fail("%s: reading the end of the audit log: %s", path,
		         rg_strerror(rc));
		goto out;
	}
	if (v.n_heads > 1)
		qsort(v.heads, v.n_heads, sizeof *v.heads, head_cmp);
	rc = walk(st, &v);
	if (rc != RG_OK && rc != BAD) {
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
	free(v.heads);
	sodium_memzero(v.pk, sizeof v.pk);
	return ret;
}
