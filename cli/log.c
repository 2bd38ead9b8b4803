/*
 * log.c - refgatectl log verify|watch: a principal's own checks of the
 * transparency log (contract section 11). verify: a receipt's leaf is in
 * the latest checkpoint. watch: the latest checkpoint is consistent with
 * the one kept in a state file, which is then replaced. Both check every
 * signature with the gateway's key from GET /v1/keys and every proof with
 * proto/merkle.c; a failure says what did not verify, exits 1, and
 * changes nothing.
 */
#include "cli.h"
#include "../proto/checkpoint.h"
#include "../proto/jwk.h"
#include "../proto/jws.h"
#include "../proto/merkle.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#define LOG_TIMEOUT 30
#define LOG_MAX_KEYS 8
#define RECEIPT_MAX (16 * 1024)

/* The gateway's Ed25519 keys, from GET /v1/keys. */
struct gw_keys {
	size_t n;
	char kid[LOG_MAX_KEYS][RG_KID_MAX + 1];
	uint8_t pk[LOG_MAX_KEYS][32];
};

/* GET path into *r; a non-2xx answer is reported as a failure. */
static int get(const struct cli_ctx *ctx, const struct cli_cred *cred,
               const char *path, struct cli_resp *r)
{
	int ret = cli_request(ctx->conf, cred, "GET", path, NULL, NULL, 0,
	                      LOG_TIMEOUT, r);
	if (ret == CLI_OK && (r->status < 200 || r->status > 299))
		ret = cli_report_problem(path, r);
	return ret;
}

static int keys_fetch(const struct cli_ctx *ctx, const struct cli_cred *cred,
                      struct gw_keys *k)
{
	struct cli_resp r = {0};
	json_t *j = NULL, *e;
	size_t i;
	int ret = get(ctx, cred, "/v1/keys", &r);
	if (ret != CLI_OK)
		goto out;
	j = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL);
	k->n = 0;
	json_array_foreach(json_object_get(j, "keys"), i, e) {
		char *text = json_dumps(e, JSON_COMPACT);
		if (text && k->n < LOG_MAX_KEYS &&
		    jwk_parse_public(text, strlen(text), k->pk[k->n],
		                     k->kid[k->n], NULL) == RG_OK)
			k->n++;
		free(text);
	}
	if (k->n == 0)
		ret = cli_fail("GET /v1/keys: no Ed25519 key in the answer");
out:
	json_decref(j);
	cli_resp_free(&r);
	return ret;
}

/* The latest checkpoint: text (malloc'd) verified under one of the keys
 * for the configured origin; its size and root. */
static int checkpoint_fetch(const struct cli_ctx *ctx,
                            const struct cli_cred *cred,
                            const struct gw_keys *k, const char *origin,
                            char **text, uint64_t *size, uint8_t root[32])
{
	struct cli_resp r = {0};
	int ret = get(ctx, cred, "/v1/log/checkpoint", &r);
	if (ret != CLI_OK)
		goto out;
	ret = CLI_FAIL;
	for (size_t i = 0; i < k->n && ret != CLI_OK; i++) {
		if (checkpoint_verify(r.body, r.len, origin, k->pk[i], size,
		                      root) == RG_OK) {
			*text = r.body;
			r.body = NULL;
			ret = CLI_OK;
		}
	}
	if (ret != CLI_OK)
		cli_fail("CHECKPOINT DOES NOT VERIFY: the gateway's latest "
		         "checkpoint is not signed by its key for origin %s",
		         origin);
out:
	cli_resp_free(&r);
	return ret;
}

/* The "hashes" of a proof answer, base64, into h; checks the echoed
 * members. */
static int proof_fetch(const struct cli_ctx *ctx, const struct cli_cred *cred,
                       const char *first, uint64_t a, uint64_t size,
                       uint8_t h[][32], size_t *n)
{
	struct cli_resp r = {0};
	char path[128];
	json_t *j = NULL, *e;
	size_t i;
	bool answered = false;
	snprintf(path, sizeof path, "/v1/log/%s?%s=%" PRIu64 "&size=%" PRIu64,
	         strcmp(first, "index") == 0 ? "inclusion" : "consistency",
	         first, a, size);
	int ret = get(ctx, cred, path, &r);
	if (ret != CLI_OK)
		goto out;
	answered = true;
	j = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL);
	json_t *hashes = json_object_get(j, "hashes");
	ret = CLI_FAIL;
	if (!json_is_array(hashes) || json_array_size(hashes) > MERKLE_MAX_PROOF ||
	    json_integer_value(json_object_get(j, first)) != (json_int_t)a ||
	    json_integer_value(json_object_get(j, "size")) != (json_int_t)size)
		goto out;
	json_array_foreach(hashes, i, e) {
		const char *s = json_string_value(e);
		if (!s || rg_b64_decode_exact(s, strlen(s), h[i], 32,
		                              sodium_base64_VARIANT_ORIGINAL) != RG_OK)
			goto out;
	}
	*n = json_array_size(hashes);
	ret = CLI_OK;
out:
	if (ret != CLI_OK && answered)
		cli_fail("%s: malformed proof", path);
	json_decref(j);
	cli_resp_free(&r);
	return ret;
}

/* The receipt in a file: a compact JWS, or the JSON answer of POST
 * /v1/referrals holding one in "receipt". malloc'd, whitespace trimmed. */
static int receipt_read(const char *path, char **out)
{
	char *text = NULL;
	size_t len = 0;
	int rc = cli_read_file(path, RECEIPT_MAX, &text, &len);
	if (rc != RG_OK)
		return cli_fail("%s: %s", path, cli_read_why(rc));
	json_t *j = len && text[0] == '{' ? json_loadb(text, len, 0, NULL) : NULL;
	const char *r = j ? json_string_value(json_object_get(j, "receipt")) : text;
	char *copy = r ? strdup(r + strspn(r, " \t\r\n")) : NULL;
	json_decref(j);
	free(text);
	if (!copy)
		return cli_fail("%s: no receipt in it", path);
	size_t n = strlen(copy);
	while (n > 0 && strchr(" \t\r\n", copy[n - 1]))
		copy[--n] = '\0';
	*out = copy;
	return CLI_OK;
}

/* Checks the receipt's EdDSA signature under one of the gateway keys (its
 * kid) and returns its payload, the leaf data (malloc'd), and log_index. */
static int receipt_open(const char *jws, const struct gw_keys *k,
                        uint8_t **payload, size_t *len, uint64_t *index)
{
	const char *dot1 = strchr(jws, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	uint8_t *hdr = NULL, *pl = NULL, *sig = NULL;
	size_t hlen = 0, plen = 0, slen = 0;
	json_t *h = NULL, *p = NULL;
	bool signed_ok = false;
	int ret = CLI_FAIL;
	if (!dot2 || b64url_decode(jws, (size_t)(dot1 - jws), &hdr, &hlen) ||
	    b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &pl, &plen) ||
	    b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &slen) || slen != 64)
		goto out;
	h = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES, NULL);
	const char *alg = json_string_value(json_object_get(h, "alg"));
	const char *kid = json_string_value(json_object_get(h, "kid"));
	if (!alg || strcmp(alg, "EdDSA") != 0 || !kid)
		goto out;
	bool ok = false;
	for (size_t i = 0; i < k->n && !ok; i++)
		ok = strcmp(k->kid[i], kid) == 0 &&
		     crypto_sign_verify_detached(sig, (const uint8_t *)jws,
		                                 (size_t)(dot2 - jws), k->pk[i]) == 0;
	if (!ok)
		goto out;
	signed_ok = true;
	p = json_loadb((const char *)pl, plen, JSON_REJECT_DUPLICATES, NULL);
	json_t *li = json_object_get(p, "log_index");
	if (!json_is_integer(li) || json_integer_value(li) < 0) {
		cli_fail("the receipt has no log_index (a referral recorded "
		         "before the log existed)");
		goto out;
	}
	*index = (uint64_t)json_integer_value(li);
	*payload = pl;
	*len = plen;
	pl = NULL;
	ret = CLI_OK;
out:
	if (!signed_ok)
		cli_fail("RECEIPT DOES NOT VERIFY: not a receipt signed by the "
		         "gateway");
	json_decref(h);
	json_decref(p);
	free(hdr);
	free(pl);
	free(sig);
	return ret;
}

static int origin_of(const struct cli_ctx *ctx, char *origin, size_t cap)
{
	if (conf_log_origin(ctx->conf, origin, cap) != RG_OK)
		return cli_fail("no valid log_origin in the configuration");
	return CLI_OK;
}

int cmd_log_verify(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct cli_cred cred = {0};
	struct gw_keys *k = calloc(1, sizeof *k);
	char origin[CHECKPOINT_ORIGIN_MAX + 1], *receipt = NULL, *note = NULL;
	char hex[17];
	uint8_t *leaf = NULL, root[32], lh[32], (*h)[32] = calloc(MERKLE_MAX_PROOF, 32);
	size_t leaf_len = 0, n = 0;
	uint64_t index = 0, size = 0;
	int ret = k && h ? CLI_OK : cli_fail("out of memory");
	if (ret == CLI_OK)
		ret = origin_of(ctx, origin, sizeof origin);
	if (ret == CLI_OK)
		ret = receipt_read(a->pos[0], &receipt);
	if (ret == CLI_OK)
		ret = cli_cred_pick(ctx, a, &cred);
	if (ret == CLI_OK)
		ret = keys_fetch(ctx, &cred, k);
	if (ret == CLI_OK)
		ret = receipt_open(receipt, k, &leaf, &leaf_len, &index);
	if (ret == CLI_OK)
		ret = checkpoint_fetch(ctx, &cred, k, origin, &note, &size, root);
	if (ret == CLI_OK && index >= size)
		ret = cli_fail("NOT IN THE LOG: log_index %" PRIu64 " is beyond the "
		               "latest checkpoint (size %" PRIu64 ")", index, size);
	if (ret == CLI_OK)
		ret = proof_fetch(ctx, &cred, "index", index, size, h, &n);
	if (ret == CLI_OK) {
		merkle_leaf_hash(leaf, leaf_len, lh);
		if (merkle_verify_inclusion(index, size, lh, (const uint8_t (*)[32])h,
		                            n, root) != RG_OK)
			ret = cli_fail("INCLUSION PROOF DOES NOT VERIFY: the receipt's "
			               "leaf %" PRIu64 " is not in the signed tree of "
			               "size %" PRIu64, index, size);
	}
	if (ret == CLI_OK) {
		sodium_bin2hex(hex, sizeof hex, root, 8);
		printf("log: receipt is leaf %" PRIu64 " of the checkpoint of size "
		       "%" PRIu64 " (root %s...), signed for %s\n", index, size,
		       hex, origin);
	}
	cli_cred_wipe(&cred);
	free(k);
	free(h);
	free(receipt);
	free(note);
	free(leaf);
	return ret;
}

/* Replaces path with text: a new file beside it, fsynced, renamed over
 * it, so that the state is the old or the new checkpoint, never half. */
static int state_write(const char *path, const char *text)
{
	char tmp[CONF_PATH_MAX + 8];
	size_t len = strlen(text);
	if (snprintf(tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp)
		return cli_fail("%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	              0644);
	if (fd < 0)
		return cli_fail("%s: %s", tmp, strerror(errno));
	bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		int err = errno;
		unlink(tmp);
		return cli_fail("%s: %s", path, strerror(err));
	}
	return CLI_OK;
}

/* Checks the kept checkpoint `old` against the new (size, root). */
static int consistent(const struct cli_ctx *ctx, const struct cli_cred *cred,
                      const struct gw_keys *k, const char *origin,
                      const char *old, uint64_t size, const uint8_t root[32])
{
	uint64_t osize = 0;
	uint8_t oroot[32], (*h)[32] = NULL;
	size_t n = 0;
	bool ok = false;
	for (size_t i = 0; i < k->n && !ok; i++)
		ok = checkpoint_verify(old, strlen(old), origin, k->pk[i], &osize,
		                       oroot) == RG_OK;
	if (!ok)
		return cli_fail("the kept checkpoint does not verify under the "
		                "gateway's key for %s (another key or origin?)",
		                origin);
	if (size < osize)
		return cli_fail("LOG INCONSISTENT: the latest checkpoint (size %"
		                PRIu64 ") is smaller than the kept one (size %"
		                PRIu64 ")", size, osize);
	if (osize == 0)
		return CLI_OK;          /* everything extends the empty log */
	if (size == osize)
		return sodium_memcmp(root, oroot, 32) == 0 ? CLI_OK
		       : cli_fail("LOG INCONSISTENT: two different roots signed "
		                  "for size %" PRIu64, size);
	if (!(h = calloc(MERKLE_MAX_PROOF, 32)))
		return cli_fail("out of memory");
	int ret = proof_fetch(ctx, cred, "from", osize, size, h, &n);
	if (ret == CLI_OK &&
	    merkle_verify_consistency(osize, size, (const uint8_t (*)[32])h, n,
	                              oroot, root) != RG_OK)
		ret = cli_fail("LOG INCONSISTENT: the checkpoint of size %" PRIu64
		               " does not extend the kept one of size %" PRIu64
		               " (the history was rewritten)", size, osize);
	free(h);
	return ret;
}

int cmd_log_watch(const struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *state = cli_opt(a, "state");
	struct cli_cred cred = {0};
	struct gw_keys *k = calloc(1, sizeof *k);
	char origin[CHECKPOINT_ORIGIN_MAX + 1], *note = NULL, *old = NULL;
	uint8_t root[32];
	uint64_t size = 0;
	size_t old_len = 0;
	bool first = false;
	if (!state) {
		free(k);
		return cli_usage("log watch --state FILE [--as DIR]",
		                 "--state is required");
	}
	int ret = k ? origin_of(ctx, origin, sizeof origin) : cli_fail("out of memory");
	if (ret == CLI_OK) {
		int rc = cli_read_file(state, CHECKPOINT_TEXT_MAX, &old, &old_len);
		first = rc == RG_EIO && errno == ENOENT;
		if (rc != RG_OK && !first)
			ret = cli_fail("%s: %s", state, cli_read_why(rc));
	}
	if (ret == CLI_OK)
		ret = cli_cred_pick(ctx, a, &cred);
	if (ret == CLI_OK)
		ret = keys_fetch(ctx, &cred, k);
	if (ret == CLI_OK)
		ret = checkpoint_fetch(ctx, &cred, k, origin, &note, &size, root);
	if (ret == CLI_OK && !first)
		ret = consistent(ctx, &cred, k, origin, old, size, root);
	if (ret == CLI_OK)
		ret = state_write(state, note);
	if (ret == CLI_OK)
		printf(first ? "log: first checkpoint kept (size %" PRIu64 ")\n"
		             : "log: checkpoint of size %" PRIu64 " is consistent "
		               "with the kept one; kept it\n", size);
	cli_cred_wipe(&cred);
	free(k);
	free(note);
	free(old);
	return ret;
}
