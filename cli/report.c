/*
 * report.c - the legal team's retention and reporting commands (contract
 * section 13), through the gateway's admin API with the configuration's
 * legal credentials (never the database): `purge` runs the retention
 * purge now, `report` fetches the transparency report of a period and
 * prints its JSON or writes it as one self-contained HTML file.
 */
#include "cli.h"
#include "../proto/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define REPORT_TIMEOUT 120L
#define PURGE_TIMEOUT 600L
#define REPORT_BODY_MAX (4u << 20)

int cmd_purge(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct cli_cred cred;
	struct cli_resp r = {0};
	if (cli_cred_admin(ctx->conf, &cred) != CLI_OK)
		return CLI_FAIL;
	int ret = cli_request(ctx->conf, &cred, "POST", "/v1/admin/purge", NULL,
	                      NULL, 0, PURGE_TIMEOUT, &r);
	if (ret == CLI_OK)
		ret = cli_report(&r);
	cli_resp_free(&r);
	return ret;
}

/* Writes the report's HTML form to a new file. */
static int write_html(const char *path, const struct cli_resp *r)
{
	struct cli_made made = {0};
	char *html = NULL;
	size_t len = 0;
	json_t *rep = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
	int rc = rep ? report_html_render(rep, &html, &len) : RG_EINVAL;
	json_decref(rep);
	if (rc != RG_OK)
		return cli_fail("the gateway's report is not in the expected form");
	rc = cli_write_new(&made, path, html, len, 0644);
	free(html);
	if (rc == RG_EEXIST)
		return cli_fail("%s: exists (the report is written to a new file)",
		                path);
	if (rc != RG_OK)
		return cli_fail("%s: cannot write", path);
	fprintf(stderr, "refgatectl: report written to %s\n", path);
	return CLI_OK;
}

int cmd_report(const struct cli_ctx *ctx, const struct cli_args *a)
{
	static const char usage[] = "report --from YYYY-MM-DD --to YYYY-MM-DD "
	                            "[--html FILE]";
	const char *from = cli_opt(a, "from"), *to = cli_opt(a, "to");
	const char *html = cli_opt(a, "html"), *why = NULL;
	int64_t start, end;
	char path[96];
	struct cli_cred cred;
	struct cli_resp r = {0};
	if (report_period(from, to, &start, &end, &why) != RG_OK)
		return cli_usage(usage, "%s", why);
	snprintf(path, sizeof path, "/v1/admin/report?from=%s&to=%s", from, to);
	if (cli_cred_admin(ctx->conf, &cred) != CLI_OK)
		return CLI_FAIL;
	int ret = cli_request(ctx->conf, &cred, "GET", path, NULL, NULL, 0,
	                      REPORT_TIMEOUT, &r);
	if (ret == CLI_OK && html && r.status == 200 && r.len <= REPORT_BODY_MAX)
		ret = write_html(html, &r);
	else if (ret == CLI_OK && html && r.status == 200)
		ret = cli_fail("the gateway's report is larger than 4 MiB");
	else if (ret == CLI_OK)
		ret = cli_report(&r);
	cli_resp_free(&r);
	return ret;
}
