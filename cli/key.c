/*
 * key.c - `refgatectl key issue|list|revoke`: the legal team's access
 * keys (contract section 6), through the running gateway with the legal
 * credentials of the configuration. The secret of a new key is shown
 * once: on stdout, or written to a new file of mode 0600 (--out).
 */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#define KEY_TIMEOUT 60L
#define DAY_SECONDS INT64_C(86400)
#define KEY_PATH "/v1/admin/access-keys"

static const char issue_usage[] =
	"key issue PRINCIPAL --tier status|disclosure\n"
	"      (--cases ID[,ID...] | --all-own) --legal-basis TEXT\n"
	"      --expires DAYS|RFC3339 [--cidr CIDR[,CIDR...]] [--out FILE]";

static bool id_ok(const char *s)
{
	return rg_id_valid(s);
}

/* ADDR/LEN with an IPv4 (LEN 0-32) or IPv6 (LEN 0-128) address. */
static bool cidr_ok(const char *s)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof addr)
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	const char *len = slash + 1;
	size_t nd = strspn(len, "0123456789");
	if (nd == 0 || nd > 3 || len[nd] != '\0' || (nd > 1 && len[0] == '0'))
		return false;
	int bits = atoi(len);
	if (inet_pton(AF_INET, addr, bin) == 1)
		return bits <= 32;
	return inet_pton(AF_INET6, addr, bin) == 1 && bits <= 128;
}

/*
 * The words of a comma-separated list, each checked by ok(), as a JSON
 * array of strings (at most max). CLI_USAGE after a message naming opt.
 */
static int list_json(const char *opt, const char *v, size_t max,
                     bool (*ok)(const char *), const char *what,
                     json_t **out)
{
	char *copy = strdup(v), *p = copy;
	json_t *arr = json_array();
	int ret = CLI_FAIL;
	if (!copy || !arr) {
		cli_fail("out of memory");
		goto out;
	}
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (!ok(p)) {
			ret = cli_usage(issue_usage, "--%s: not %s: \"%s\"", opt,
			                what, p);
			goto out;
		}
		if (json_array_size(arr) >= max) {
			ret = cli_usage(issue_usage, "--%s: at most %zu", opt,
			                max);
			goto out;
		}
		if (json_array_append_new(arr, json_string(p)) != 0) {
			cli_fail("out of memory");
			goto out;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = arr;
	arr = NULL;
	ret = CLI_OK;
out:
	json_decref(arr);
	free(copy);
	return ret;
}

/* --expires: DAYS from now, or an RFC 3339 time; in the future and at
 * most max_days away. */
static int expires_parse(const char *v, int max_days, int64_t now,
                         int64_t *out)
{
	int64_t t;
	size_t nd = strspn(v, "0123456789");
	if (nd > 0 && v[nd] == '\0') {
		if (nd > 5 || atol(v) < 1 || atol(v) > max_days)
			return cli_usage(issue_usage, "--expires: 1 to %d days "
			                 "(access_key_max_days)", max_days);
		*out = now + atol(v) * DAY_SECONDS;
		return CLI_OK;
	}
	if (rg_time_parse(v, &t) != RG_OK)
		return cli_usage(issue_usage, "--expires: a number of days or "
		                 "an RFC 3339 time (2026-12-31T23:59:59Z)");
	if (t <= now)
		return cli_usage(issue_usage, "--expires: %s is in the past", v);
	if (t - now > (int64_t)max_days * DAY_SECONDS)
		return cli_usage(issue_usage, "--expires: more than %d days "
		                 "from now (access_key_max_days)", max_days);
	*out = t;
	return CLI_OK;
}

/* --legal-basis: 1 to ACCESS_KEY_BASIS_MAX characters, no control
 * characters (C0, DEL, C1; so one line), as the gateway requires. */
static int basis_check(const char *v)
{
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return cli_usage(issue_usage, "--legal-basis: control "
			                 "characters (newlines too) are not "
			                 "allowed");
		chars += (*p & 0xc0) != 0x80;
	}
	if (chars == 0 || chars > ACCESS_KEY_BASIS_MAX)
		return cli_usage(issue_usage, "--legal-basis: 1 to %d "
		                 "characters", ACCESS_KEY_BASIS_MAX);
	return CLI_OK;
}

/* The request body of key issue. */
static int issue_body(const struct cli_ctx *ctx, const struct cli_args *a,
                      char **out)
{
	const char *tier = cli_opt(a, "tier"), *cases = cli_opt(a, "cases");
	const char *basis = cli_opt(a, "legal-basis");
	const char *expires = cli_opt(a, "expires"), *cidr = cli_opt(a, "cidr");
	bool all_own = cli_opt(a, "all-own") != NULL;
	json_t *j = NULL, *scope = NULL, *cidrs = NULL, *jbasis = NULL;
	char when[21];
	int64_t exp = 0;
	int ret;

	if (!rg_name_valid(a->pos[0]))
		return cli_usage(issue_usage, "PRINCIPAL: 1-64 of [a-z0-9_.-], "
		                 "starting with a letter or digit");
	if (!tier || (strcmp(tier, "status") && strcmp(tier, "disclosure")))
		return cli_usage(issue_usage, "--tier: status or disclosure");
	if (!cases == !all_own)
		return cli_usage(issue_usage, "give either --cases or "
		                 "--all-own");
	if (!basis)
		return cli_usage(issue_usage, "--legal-basis is required");
	if (!expires)
		return cli_usage(issue_usage, "--expires is required");
	if ((ret = basis_check(basis)) != CLI_OK ||
	    (ret = expires_parse(expires, ctx->conf->access_key_max_days,
	                         (int64_t)time(NULL), &exp)) != CLI_OK)
		return ret;
	if (!(jbasis = json_string(basis)))
		return cli_usage(issue_usage, "--legal-basis: not valid UTF-8");
	if ((cases && (ret = list_json("cases", cases, ACCESS_KEY_MAX_CASES,
	                               id_ok, "a case id", &scope))) ||
	    (cidr && (ret = list_json("cidr", cidr, ACCESS_KEY_MAX_CIDRS,
	                              cidr_ok, "a CIDR (ADDR/LEN)", &cidrs))))
		goto out;
	ret = CLI_FAIL;
	rg_time_format(exp, when);
	if (!scope && !(scope = json_string("all_own")))
		goto oom;
	j = json_pack("{sssssOsOss}", "principal", a->pos[0], "tier", tier,
	              "cases", scope, "legal_basis", jbasis,
	              "expires_at", when);
	if (!j || (cidrs && json_object_set(j, "cidrs", cidrs) != 0) ||
	    !(*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		goto oom;
	ret = CLI_OK;
	goto out;
oom:
	cli_fail("out of memory");
out:
	json_decref(j);
	json_decref(scope);
	json_decref(cidrs);
	json_decref(jbasis);
	return ret;
}

/* Revokes a key that was issued but whose secret could not be kept. */
static void issue_undo(const struct cli_ctx *ctx,
                       const struct cli_cred *cred, const char *id)
{
	char path[sizeof KEY_PATH + RG_ID_MAX + 2];
	struct cli_resp r = {0};
	snprintf(path, sizeof path, "%s/%s", KEY_PATH, id);
	if (cli_request(ctx->conf, cred, "DELETE", path, NULL, NULL, 0,
	                KEY_TIMEOUT, &r) == CLI_OK && r.status >= 200 &&
	    r.status <= 299)
		cli_fail("access key %s revoked again: its secret was not "
		         "kept", id);
	else
		cli_fail("access key %s is active but its secret is lost: "
		         "revoke it (refgatectl key revoke %s)", id, id);
	cli_resp_free(&r);
}

/* Writes "secret\n" to the open fd and makes it durable. */
static int write_secret(int fd, const char *secret)
{
	size_t n = strlen(secret);
	char line[CLI_BEARER_MAX + 2];
	const char *p = line;
	int ret = RG_EIO;
	memcpy(line, secret, n);
	line[n++] = '\n';
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) == 0)
		ret = RG_OK;
out:
	sodium_memzero(line, sizeof line);
	return ret;
}

/* Prints the answer (without the secret when it went to a file); the
 * secret, if any, is wiped in the object. */
static int issue_print(json_t *ans, json_t *secret, bool keep_secret)
{
	char *sv = (char *)json_string_value(secret);
	char *txt = NULL;
	if (!keep_secret) {
		sodium_memzero(sv, strlen(sv));
		json_object_del(ans, "secret");
	}
	txt = json_dumps(ans, JSON_INDENT(2) | JSON_ENSURE_ASCII |
	                      JSON_PRESERVE_ORDER);
	if (keep_secret)
		sodium_memzero(sv, strlen(sv));
	if (!txt)
		return cli_fail("out of memory");
	puts(txt);
	sodium_memzero(txt, strlen(txt));
	free(txt);
	return fflush(stdout) == 0 ? CLI_OK : cli_fail("stdout: write error");
}

/* Handles a 201: keeps the secret in the file open at *fd (closed here)
 * or on stdout when *fd < 0. A key whose secret cannot be kept is
 * revoked again. */
static int issue_answer(const struct cli_ctx *ctx, const struct cli_cred *cred,
                        const struct cli_resp *r, int *fd, const char *file)
{
	json_t *ans = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
	json_t *secret = json_object_get(ans, "secret");
	const char *id = json_string_value(json_object_get(ans, "id"));
	const char *sv = json_string_value(secret);
	char idc[RG_ID_MAX + 1] = "";
	bool to_file = *fd >= 0;
	int ret = CLI_FAIL;

	if (!id || !rg_id_valid(id) || !sv || strlen(sv) > CLI_BEARER_MAX ||
	    !cli_b64token(sv)) {
		cli_fail("the gateway's answer holds no usable id and secret");
		if (id && rg_id_valid(id))
			issue_undo(ctx, cred, id);
		goto out;
	}
	snprintf(idc, sizeof idc, "%s", id);
	if (to_file) {
		int rc = write_secret(*fd, sv);
		if (close(*fd) != 0)
			rc = RG_EIO;
		*fd = -1;
		if (rc != RG_OK) {
			cli_fail("%s: %s", file, strerror(errno));
			goto undo;
		}
	}
	if (issue_print(ans, secret, !to_file) != CLI_OK)
		goto undo;
	if (to_file)
		cli_fail("the secret of %s is in %s (mode 0600) and shown "
		         "nowhere else; the gateway keeps only its hash", idc,
		         file);
	else
		cli_fail("warning: the secret above is shown this once (the "
		         "gateway keeps only its hash); hand it over as a file "
		         "of mode 0600 for --key-file");
	ret = CLI_OK;
	goto out;
undo:
	issue_undo(ctx, cred, idc);
out:
	if ((sv = json_string_value(json_object_get(ans, "secret"))))
		sodium_memzero((char *)sv, strlen(sv));
	json_decref(ans);
	return ret;
}

int cmd_key_issue(const struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *file = cli_opt(a, "out");
	struct cli_cred cred;
	struct cli_resp r = {0};
	char *body = NULL;
	bool made = false;               /* file created by this call */
	int fd = -1, ret;

	ret = issue_body(ctx, a, &body);
	if (ret != CLI_OK)
		return ret;
	ret = CLI_FAIL;
	if (cli_cred_admin(ctx->conf, &cred) != CLI_OK)
		goto out;
	/* The file first: a key is issued only when its secret has a place. */
	if (file) {
		fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		          O_CLOEXEC, 0600);
		made = fd >= 0;
		if (fd < 0 || fchmod(fd, 0600) != 0) {
			cli_fail("%s: %s", file, errno == EEXIST ?
			         "already exists" : strerror(errno));
			goto out;
		}
	}
	if (cli_request(ctx->conf, &cred, "POST", KEY_PATH, "application/json",
	                body, strlen(body), KEY_TIMEOUT, &r) != CLI_OK)
		goto out;
	if (r.status < 200 || r.status > 299) {
		cli_report_problem("key issue", &r);
		goto out;
	}
	ret = issue_answer(ctx, &cred, &r, &fd, file);
out:
	if (fd >= 0)
		close(fd);
	if (file && ret != CLI_OK && made)
		(void)unlink(file);
	if (r.body)
		sodium_memzero(r.body, r.len);
	cli_resp_free(&r);
	free(body);
	return ret;
}

/* The listing as JSON, with only the keys the filters let through, each
 * with its "state" now. */
static int keys_json(json_t *ans, int64_t now, bool active_only,
                     const char *principal)
{
	json_t *list = json_object_get(ans, "access_keys"), *k;
	json_t *kept = json_array();
	size_t i;
	if (!kept || !json_is_array(list)) {
		json_decref(kept);
		return cli_fail("key list: the gateway's answer has no list");
	}
	json_array_foreach(list, i, k) {
		if (!show_key_wanted(k, now, active_only, principal))
			continue;
		json_object_set_new(k, "state",
		                    json_string(show_key_state(k, now)));
		json_array_append(kept, k);
	}
	json_t *out = json_pack("{s:o}", "access_keys", kept);
	char *txt = out ? json_dumps(out, JSON_INDENT(2) | JSON_ENSURE_ASCII)
	                : NULL;
	json_decref(out);
	if (!txt)
		return cli_fail("out of memory");
	puts(txt);
	free(txt);
	return fflush(stdout) == 0 ? CLI_OK : cli_fail("stdout: write error");
}

int cmd_key_list(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct cli_cred cred;
	struct cli_resp r = {0};
	json_t *ans = NULL;
	const char *who = cli_opt(a, "principal");
	if (who && !rg_name_valid(who))
		return cli_usage("key list [--active] [--principal NAME] [--json]",
		                 "--principal: 1-64 of [a-z0-9_.-]");
	if (cli_cred_admin(ctx->conf, &cred) != CLI_OK)
		return CLI_FAIL;
	int ret = cli_request(ctx->conf, &cred, "GET", KEY_PATH, NULL, NULL, 0,
	                      KEY_TIMEOUT, &r);
	if (ret == CLI_OK && (ret = cli_answer_json(&r, &ans)) == CLI_OK)
		ret = cli_opt(a, "json") ? keys_json(ans, (int64_t)time(NULL),
		                                     cli_opt(a, "active") != NULL, who)
		                         : show_keys(ans, (int64_t)time(NULL),
		                                     cli_opt(a, "active") != NULL, who);
	json_decref(ans);
	cli_resp_free(&r);
	return ret;
}

int cmd_key_revoke(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct cli_cred cred;
	struct cli_resp r = {0};
	char path[sizeof KEY_PATH + RG_ID_MAX + 2];
	if (!rg_id_valid(a->pos[0]))
		return cli_usage("key revoke ID [--yes]", "ID: 1-40 of [A-Za-z0-9_-]");
	snprintf(path, sizeof path, "%s/%s", KEY_PATH, a->pos[0]);
	char question[RG_ID_MAX + 96];
	snprintf(question, sizeof question, "Revoke access key %s? Its next "
	         "use is refused; it cannot be undone.", a->pos[0]);
	if (cli_confirm(a, question) != CLI_OK)
		return CLI_FAIL;
	if (cli_cred_admin(ctx->conf, &cred) != CLI_OK)
		return CLI_FAIL;
	int ret = cli_request(ctx->conf, &cred, "DELETE", path, NULL, NULL, 0,
	                      KEY_TIMEOUT, &r);
	if (ret == CLI_OK)
		ret = cli_report(&r);
	cli_resp_free(&r);
	return ret;
}
