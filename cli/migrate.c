/*
 * migrate.c - `refgatectl migrate --to postgresql://...`: moves a stopped
 * deployment from its SQLite file (the database of -c CONF) into an empty
 * PostgreSQL database (store_migrate does the copy in one transaction).
 * Nothing else of the deployment changes: keys, certificates and policy
 * are files the configuration names, and stay where they are; the
 * operator then sets `database` to the URI and starts the gateway.
 */
#include "cli.h"
#include "../server/db.h"
#include "../server/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIGRATE_USAGE "migrate --to postgresql://..."

/* conf_pg_passfile, its reason printed. */
int cli_pg_passfile(const struct conf *c)
{
	char err[CONF_PATH_MAX + 64];
	if (conf_pg_passfile(c, err, sizeof err) != RG_OK)
		return cli_fail("%s", err);
	return CLI_OK;
}

int cmd_migrate(const struct cli_ctx *ctx, const struct cli_args *a)
{
	const struct conf *c = ctx->conf;
	const char *to = cli_opt(a, "to");
	char from[CONF_PATH_MAX];
	struct store_migrate_result r;
	struct stat sb;

	if (!to)
		return cli_usage(MIGRATE_USAGE, "migrate: --to is required");
	if (!db_is_pg(to))
		return cli_usage(MIGRATE_USAGE, "migrate: --to must be a "
		                 "postgresql:// or postgres:// URI");
	if (db_is_pg(c->database))
		return cli_fail("migrate: the configuration's database is "
		                "already PostgreSQL; migrate copies a SQLite "
		                "deployment");
	if (conf_path(c, c->database, from, sizeof from) != RG_OK)
		return cli_fail("database: path too long");
	if (stat(from, &sb) != 0)
		return cli_fail("migrate: %s: %s", from, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return cli_fail("migrate: %s: not a regular file", from);
	if (cli_pg_passfile(c) != CLI_OK)
		return CLI_FAIL;

	int rc = store_migrate(from, to, c->database_connect_timeout, &r);
	if (rc != RG_OK)
		return cli_fail("migrate: %s: %s; nothing was written to "
		                "PostgreSQL", from,
		                r.why[0] ? r.why : rg_strerror(rc));
	printf("migrate: %lld rows of %lld tables copied from %s into "
	       "PostgreSQL (schema version %lld)\n"
	       "migrate: now set \"database = <the URI>\" in %s and start "
	       "the gateway\n",
	       (long long)r.rows, (long long)r.tables, from,
	       (long long)r.version, ctx->conf_path);
	if (fflush(stdout) != 0)
		return cli_fail("stdout: write error");
	return CLI_OK;
}
