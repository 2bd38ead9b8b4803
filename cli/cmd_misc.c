/*
 * cmd_misc.c - the commands that are one request each: status, changes
 * and decide (as the principal of --as DIR, or the configuration's legal
 * credentials; status and changes also with the access key of
 * --key-file FILE), revoke and principals (legal credentials). decide
 * and principals print for people (show.c) unless --json.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#define MISC_TIMEOUT 60L
#define CURSOR_MAX 256
#define EXPLANATION_MAX (4000 * 4)     /* 4000 characters of UTF-8 */

/* Parses a decimal integer in [lo, hi]. */
static bool parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* One request, its answer reported. */
static int exchange(const struct cli_ctx *ctx, const struct cli_cred *cred,
                    const char *method, const char *path, const char *body,
                    long timeout_s)
{
	struct cli_resp r = {0};
	int ret = cli_request(ctx->conf, cred, method, path,
	                      body ? "application/json" : NULL, body,
	                      body ? strlen(body) : 0, timeout_s, &r);
	if (ret == CLI_OK)
		ret = cli_report(&r);
	cli_resp_free(&r);
	return ret;
}

int cmd_status(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct cli_cred cred;
	struct cli_resp r = {0};
	char path[128];
	const char *id = a->pos[0];
	if (!rg_id_valid(id))
		return cli_usage("status ID [--as DIR] [--key-file FILE]",
		                 "ID: 1-40 of [A-Za-z0-9_-]");
	snprintf(path, sizeof path, "/v1/%s/%s",
	         strncmp(id, "r_", 2) == 0 ? "referrals" : "cases", id);
	int ret = cli_cred_pick(ctx, a, &cred);
	if (ret != CLI_OK)
		goto out;
	ret = cli_request(ctx->conf, &cred, "GET", path, NULL, NULL, 0,
	                  MISC_TIMEOUT, &r);
	/* Without --as the request went with the legal credentials, which
	 * the policy usually lets read no referral or case: the 404 then
	 * says whose view it was and what to give instead. */
	if (ret == CLI_OK && r.status == 404 && !cli_opt(a, "as") &&
	    !cli_opt(a, "key-file"))
		ret = cli_report_problem("status as the configuration's legal "
		                         "credentials (give --as DIR, the "
		                         "partner's or a reviewer's)", &r);
	else if (ret == CLI_OK)
		ret = cli_report(&r);
out:
	cli_resp_free(&r);
	cli_cred_wipe(&cred);
	return ret;
}

int cmd_changes(const struct cli_ctx *ctx, const struct cli_args *a)
{
	static const char usage[] = "changes [--since CURSOR] [--wait S] "
	                            "[--limit N] [--as DIR] [--key-file FILE]";
	const char *since = cli_opt(a, "since"), *wait = cli_opt(a, "wait");
	const char *limit = cli_opt(a, "limit");
	struct cli_cred cred;
	char path[CURSOR_MAX * 3 + 64], *esc = NULL;
	long w = 0, n = 0;
	int used;

	if (wait && !parse_int(wait, 0, 30, &w))
		return cli_usage(usage, "--wait: 0 to 30 seconds");
	if (limit && !parse_int(limit, 1, 500, &n))
		return cli_usage(usage, "--limit: 1 to 500");
	if (since && (!since[0] || strlen(since) > CURSOR_MAX))
		return cli_usage(usage, "--since: not a cursor");
	if (since && !(esc = curl_easy_escape(NULL, since, 0)))
		return cli_fail("out of memory");
	used = snprintf(path, sizeof path, "/v1/changes?");
	if (esc)
		used += snprintf(path + used, sizeof path - (size_t)used,
		                 "since=%s&", esc);
	if (wait)
		used += snprintf(path + used, sizeof path - (size_t)used,
		                 "wait=%ld&", w);
	if (limit)
		used += snprintf(path + used, sizeof path - (size_t)used,
		                 "limit=%ld&", n);
	path[used - 1] = '\0';          /* the last '&' or the '?' */
	curl_free(esc);
	int ret = cli_cred_pick(ctx, a, &cred);
	if (ret == CLI_OK)
		ret = exchange(ctx, &cred, "GET", path, NULL,
		               MISC_TIMEOUT + w);
	cli_cred_wipe(&cred);
	return ret;
}

/* The decision body; CLI_USAGE or CLI_FAIL after a message. */
static int decision_body(const struct cli_args *a, const char *usage,
                         char **out)
{
	const char *status = cli_opt(a, "status"), *action = cli_opt(a, "action");
	const char *ground = cli_opt(a, "ground");
	const char *expl = cli_opt(a, "explanation");
	const char *expl_file = cli_opt(a, "explanation-file");
	const char *legal = cli_opt(a, "legal-ground");
	const char *reason = cli_opt(a, "reason");
	char *expl_buf = NULL;
	size_t expl_len;
	enum case_status st;
	enum case_action act;
	int ret = CLI_FAIL;

	if (!status || rg_status_parse(status, &st) != RG_OK ||
	    st == CASE_RECEIVED)
		return cli_usage(usage, "--status: in_review, actioned, "
		                 "no_action or cannot_execute");
	if (action && rg_action_parse(action, &act) != RG_OK)
		return cli_usage(usage, "--action: account_suspended, "
		                 "content_removed or content_restricted");
	if (ground && strcmp(ground, "illegal_content") != 0 &&
	    strcmp(ground, "terms_of_service") != 0)
		return cli_usage(usage, "--ground: illegal_content or "
		                 "terms_of_service");
	/* the gateway checks the reason (Annex III) and when it applies */
	if (reason && strcmp(reason, "force_majeure") != 0 &&
	    strcmp(reason, "manifest_error") != 0 &&
	    strcmp(reason, "insufficient_information") != 0)
		return cli_usage(usage, "--reason: force_majeure, manifest_error "
		                 "or insufficient_information");
	if (expl && expl_file)
		return cli_usage(usage, "--explanation or --explanation-file, "
		                 "not both");
	if (expl && strlen(expl) > EXPLANATION_MAX)
		return cli_usage(usage, "--explanation: too long");
	if (expl_file) {
		int rc = cli_read_file(expl_file, EXPLANATION_MAX, &expl_buf,
		                       &expl_len);
		if (rc != RG_OK)
			return cli_fail("--explanation-file %s: %s", expl_file,
			                cli_read_why(rc));
		if (strlen(expl_buf) != expl_len) {
			free(expl_buf);
			return cli_usage(usage, "--explanation-file: holds a NUL "
			                 "byte");
		}
		/* one final newline is the file's, not the explanation's */
		if (expl_len && expl_buf[expl_len - 1] == '\n')
			expl_buf[--expl_len] = '\0';
		expl = expl_buf;
	}
	json_t *j = json_pack("{ss}", "status", status);
	if (!j) {
		free(expl_buf);
		return cli_fail("out of memory");
	}
	if ((action && json_object_set_new(j, "action", json_string(action))) ||
	    (ground && json_object_set_new(j, "ground", json_string(ground))) ||
	    (reason && json_object_set_new(j, "reason", json_string(reason)))) {
		cli_fail("out of memory");
		goto out;
	}
	/* the gateway checks its length and characters (1-500) */
	if (legal && json_object_set_new(j, "legal_ground", json_string(legal))) {
		ret = cli_usage(usage, "--legal-ground: not valid UTF-8");
		goto out;
	}
	if (expl && json_object_set_new(j, "explanation", json_string(expl))) {
		ret = cli_usage(usage, "%s: not valid UTF-8", expl_file ?
		                "--explanation-file" : "--explanation");
		goto out;
	}
	if (!(*out = json_dumps(j, JSON_COMPACT))) {
		cli_fail("out of memory");
		goto out;
	}
	ret = CLI_OK;
out:
	json_decref(j);
	free(expl_buf);
	return ret;
}

int cmd_decide(const struct cli_ctx *ctx, const struct cli_args *a)
{
	static const char usage[] = "decide ID --status S [--action A] "
	                            "[--ground G] [--reason R] "
	                            "[--legal-ground TEXT] "
	                            "[--explanation TEXT | --explanation-file "
	                            "FILE] [--as DIR] [--json]";
	struct cli_cred cred;
	struct cli_resp r = {0};
	json_t *view = NULL;
	char path[128], *body = NULL;
	const char *id = a->pos[0];

	if (!rg_id_valid(id))
		return cli_usage(usage, "ID: 1-40 of [A-Za-z0-9_-]");
	int ret = decision_body(a, usage, &body);
	if (ret != CLI_OK)
		return ret;
	snprintf(path, sizeof path, "/v1/cases/%s/decision", id);
	ret = cli_cred_pick(ctx, a, &cred);
	if (ret == CLI_OK)
		ret = cli_request(ctx->conf, &cred, "POST", path,
		                  "application/json", body, strlen(body),
		                  MISC_TIMEOUT, &r);
	if (ret == CLI_OK && cli_opt(a, "json"))
		ret = cli_report(&r);
	else if (ret == CLI_OK && (ret = cli_answer_json(&r, &view)) == CLI_OK)
		ret = show_decision(id, view);
	json_decref(view);
	cli_resp_free(&r);
	free(body);
	return ret;
}

int cmd_revoke(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct cli_cred cred;
	char path[RG_NAME_MAX + 32], question[RG_NAME_MAX + 128];
	const char *name = a->pos[0];
	if (!rg_name_valid(name))
		return cli_usage("revoke NAME [--yes]", "NAME: 1-64 of "
		                 "[a-z0-9_.-], starting with a letter or digit");
	snprintf(question, sizeof question, "Revoke principal %s, with all its "
	         "certificates and signing keys? It cannot be undone.", name);
	if (cli_confirm(a, question) != CLI_OK)
		return CLI_FAIL;
	snprintf(path, sizeof path, "/v1/admin/principals/%s", name);
	if (cli_cred_admin(ctx->conf, &cred) != CLI_OK)
		return CLI_FAIL;
	return exchange(ctx, &cred, "DELETE", path, NULL, MISC_TIMEOUT);
}

int cmd_principals(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct cli_cred cred;
	struct cli_resp r = {0};
	json_t *ans = NULL;
	if (cli_cred_admin(ctx->conf, &cred) != CLI_OK)
		return CLI_FAIL;
	if (cli_opt(a, "json"))
		return exchange(ctx, &cred, "GET", "/v1/admin/principals", NULL,
		                MISC_TIMEOUT);
	int ret = cli_request(ctx->conf, &cred, "GET", "/v1/admin/principals",
	                      NULL, NULL, 0, MISC_TIMEOUT, &r);
	if (ret == CLI_OK && (ret = cli_answer_json(&r, &ans)) == CLI_OK)
		ret = show_principals(ans, (int64_t)time(NULL));
	json_decref(ans);
	cli_resp_free(&r);
	return ret;
}
