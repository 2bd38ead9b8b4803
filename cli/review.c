/*
 * review.c - the reviewer's commands beside decide: `queue` (the review
 * queue as a table, or --json) and `claim` (claim, renew or release a
 * case), as the principal of --as DIR.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#define REVIEW_TIMEOUT 60L

int cmd_queue(const struct cli_ctx *ctx, const struct cli_args *a)
{
	static const char usage[] = "queue [--limit N] [--as DIR] [--json]";
	struct cli_cred cred;
	struct cli_resp r = {0};
	json_t *ans = NULL;
	char path[64] = "/v1/review/queue";
	const char *ls = cli_opt(a, "limit");
	if (ls) {
		char *end;
		errno = 0;
		long n = strtol(ls, &end, 10);
		if (errno || end == ls || *end || n < 1 || n > 500)
			return cli_usage(usage, "--limit: 1-500");
		snprintf(path, sizeof path, "/v1/review/queue?limit=%ld", n);
	}
	int ret = cli_cred_pick(ctx, a, &cred);
	if (ret == CLI_OK)
		ret = cli_request(ctx->conf, &cred, "GET", path, NULL, NULL, 0,
		                  REVIEW_TIMEOUT, &r);
	if (ret == CLI_OK && cli_opt(a, "json"))
		ret = cli_report(&r);
	else if (ret == CLI_OK && (ret = cli_answer_json(&r, &ans)) == CLI_OK)
		ret = show_queue(ans, (int64_t)time(NULL));
	json_decref(ans);
	cli_resp_free(&r);
	cli_cred_wipe(&cred);
	return ret;
}

int cmd_claim(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct cli_cred cred;
	struct cli_resp r = {0};
	json_t *ans = NULL;
	char path[128];
	const char *id = a->pos[0];
	bool release = cli_opt(a, "release") != NULL;
	if (!rg_id_valid(id))
		return cli_usage("claim ID [--release] [--as DIR]",
		                 "ID: 1-40 of [A-Za-z0-9_-]");
	snprintf(path, sizeof path, "/v1/cases/%s/claim", id);
	int ret = cli_cred_pick(ctx, a, &cred);
	if (ret == CLI_OK)
		ret = cli_request(ctx->conf, &cred, release ? "DELETE" : "POST",
		                  path, NULL, NULL, 0, REVIEW_TIMEOUT, &r);
	if (ret == CLI_OK && (ret = cli_answer_json(&r, &ans)) == CLI_OK)
		ret = show_claim(id, ans, release);
	json_decref(ans);
	cli_resp_free(&r);
	cli_cred_wipe(&cred);
	return ret;
}
