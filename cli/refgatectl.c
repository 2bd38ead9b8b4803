/*
 * refgatectl.c - the command table of refgatectl, its help, and main:
 * global options, the command's words split into positionals and
 * "--name value" options checked against the command's entry, the
 * configuration loaded for the commands that need it.
 * Exit status: 0 success, 1 failure (one line on stderr), 2 usage.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#define DEFAULT_CONF "./refgate.conf"

struct cli_cmd {
	const char *name;
	cli_handler fn;
	size_t min_pos, max_pos;        /* positional words */
	const char *const *opts;        /* long options, each takes a value */
	bool conf;                      /* loads -c CONF first */
	const char *usage;
	const char *help;
};

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct cli_cmd commands[] = {
	{
		.name = "init", .fn = cmd_init, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("listen", "hostname"),
		.usage = "init DIR [--listen HOST:PORT] [--hostname NAME]",
		.help = "Creates a deployment in DIR: refgate.conf, the client "
		        "CA, the server\ncertificate, the gateway's keys, the "
		        "database, a default disclosure\npolicy and the first "
		        "legal principal's credentials in DIR/principals/legal.\n"
		        "Defaults: --listen 127.0.0.1:8443 --hostname localhost.",
	},
	{
		.name = "enroll", .fn = cmd_enroll, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("role", "out", "csr", "jwk"), .conf = true,
		.usage = "enroll NAME --role ROLE [--out OUTDIR] [--csr FILE] "
		         "[--jwk FILE]",
		.help = "Issues a client certificate for NAME (from the CSR, or "
		        "for a new P-256 key)\nand, for a partner or agency, "
		        "takes the public JWK or makes a new Ed25519\nsigning "
		        "key; registers them through the running gateway with "
		        "the legal\ncredentials of the configuration. Writes "
		        "OUTDIR (default ./NAME): cert.pem,\nkey.pem, ca.pem and "
		        "signing.jwk. ROLE: partner, agency, reviewer, legal.",
	},
	{
		.name = "revoke", .fn = cmd_revoke, .min_pos = 1, .max_pos = 1,
		.conf = true, .usage = "revoke NAME",
		.help = "Revokes principal NAME with all its certificates and "
		        "signing keys;\neffective on its next request.",
	},
	{
		.name = "principals", .fn = cmd_principals, .conf = true,
		.usage = "principals",
		.help = "Lists the enrolled principals (JSON).",
	},
	{
		.name = "submit", .fn = cmd_submit, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("as"), .conf = true,
		.usage = "submit FILE [--as DIR]",
		.help = "Signs the referral payload in FILE (JSON; jti and iat "
		        "are filled in when\nmissing) with DIR/signing.jwk and "
		        "sends it with DIR's client certificate\n(DIR: default "
		        "the current folder). Prints the gateway's answer.",
	},
	{
		.name = "status", .fn = cmd_status, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("as"), .conf = true,
		.usage = "status ID [--as DIR]",
		.help = "Shows a referral (an ID starting with r_) or a case, as "
		        "the principal whose\ncredentials are in DIR (default: "
		        "the configuration's legal credentials).",
	},
	{
		.name = "changes", .fn = cmd_changes,
		.opts = OPTS("since", "wait", "limit", "as"), .conf = true,
		.usage = "changes [--since CURSOR] [--wait S] [--limit N] "
		         "[--as DIR]",
		.help = "Lists the status changes of the cases the principal may "
		        "see, oldest first;\n--wait holds the request up to S "
		        "seconds (at most 30) for a change.",
	},
	{
		.name = "decide", .fn = cmd_decide, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("status", "action", "ground", "explanation", "as"),
		.conf = true,
		.usage = "decide ID --status S [--action A] [--ground G] "
		         "[--explanation TEXT] [--as DIR]",
		.help = "Records a reviewer's decision on case ID. S: in_review, "
		        "actioned, no_action;\nA: account_suspended, "
		        "content_removed, content_restricted;\nG: "
		        "illegal_content, terms_of_service.",
	},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

const char *cli_opt(const struct cli_args *a, const char *name)
{
	for (size_t i = 0; i < a->n_opts; i++)
		if (strcmp(a->opt_name[i], name) == 0)
			return a->opt_val[i];
	return NULL;
}

static const struct cli_cmd *find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage_all(FILE *f)
{
	fputs("usage: refgatectl [-c CONF] COMMAND [ARGS]\n"
	      "       refgatectl help [COMMAND]\n\n"
	      "  -c CONF  the gateway's configuration (default "
	      DEFAULT_CONF ")\n\ncommands:\n", f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
}

static int cmd_help(int argc, char **argv)
{
	if (argc == 0) {
		usage_all(stdout);
		return CLI_OK;
	}
	const struct cli_cmd *cmd = find(argv[0]);
	if (!cmd || argc > 1)
		return cli_usage("help [COMMAND]", "no such command: %s",
		                 argv[0]);
	printf("usage: refgatectl %s\n\n%s\n", cmd->usage, cmd->help);
	return CLI_OK;
}

static bool opt_allowed(const struct cli_cmd *cmd, const char *name)
{
	for (const char *const *o = cmd->opts; o && *o; o++)
		if (strcmp(*o, name) == 0)
			return true;
	return false;
}

/* Adds "--name value" or "--name=value" at argv[*i] to a. */
static int parse_opt(const struct cli_cmd *cmd, int argc, char **argv,
                     int *i, struct cli_args *a)
{
	char *name = argv[*i] + 2, *eq = strchr(name, '='), *val;
	if (eq) {
		*eq = '\0';
		val = eq + 1;
	} else if (*i + 1 < argc) {
		val = argv[++*i];
	} else {
		return cli_usage(cmd->usage, "--%s needs a value", name);
	}
	if (!opt_allowed(cmd, name))
		return cli_usage(cmd->usage, "unknown option --%s", name);
	if (cli_opt(a, name))
		return cli_usage(cmd->usage, "--%s given twice", name);
	if (a->n_opts >= CLI_MAX_OPTS)
		return cli_usage(cmd->usage, "too many options");
	a->opt_name[a->n_opts] = name;
	a->opt_val[a->n_opts++] = val;
	return CLI_OK;
}

/* Splits the words after the command name. CLI_USAGE after a message. */
static int parse_args(const struct cli_cmd *cmd, int argc, char **argv,
                      struct cli_args *a)
{
	bool opts_done = false;
	for (int i = 0; i < argc; i++) {
		char *w = argv[i];
		if (!opts_done && strcmp(w, "--") == 0) {
			opts_done = true;
		} else if (!opts_done && strncmp(w, "--", 2) == 0) {
			int rc = parse_opt(cmd, argc, argv, &i, a);
			if (rc != CLI_OK)
				return rc;
		} else if (!opts_done && w[0] == '-' && w[1] != '\0') {
			return cli_usage(cmd->usage, "unknown option %s", w);
		} else if (a->n_pos >= cmd->max_pos) {
			return cli_usage(cmd->usage, "unexpected argument %s", w);
		} else {
			a->pos[a->n_pos++] = w;
		}
	}
	if (a->n_pos < cmd->min_pos)
		return cli_usage(cmd->usage, "missing argument");
	return CLI_OK;
}

static int run(const char *conf_path, int argc, char **argv)
{
	static struct conf conf;    /* large; one per process */
	struct cli_args args = {0};
	struct cli_ctx ctx = {.conf_path = conf_path};

	if (strcmp(argv[0], "help") == 0)
		return cmd_help(argc - 1, argv + 1);
	const struct cli_cmd *cmd = find(argv[0]);
	if (!cmd) {
		cli_fail("unknown command: %s", argv[0]);
		usage_all(stderr);
		return CLI_USAGE;
	}
	int rc = parse_args(cmd, argc - 1, argv + 1, &args);
	if (rc != CLI_OK)
		return rc;
	if (cmd->conf) {
		if (cli_conf_load(conf_path, &conf) != CLI_OK)
			return CLI_FAIL;
		ctx.conf = &conf;
	}
	return cmd->fn(&ctx, &args);
}

int main(int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONF;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0) {
			if (i + 1 >= argc) {
				cli_fail("-c needs a value");
				usage_all(stderr);
				return CLI_USAGE;
			}
			conf_path = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 ||
		           strcmp(argv[i], "--help") == 0) {
			usage_all(stdout);
			return CLI_OK;
		} else {
			cli_fail("unknown option %s", argv[i]);
			usage_all(stderr);
			return CLI_USAGE;
		}
	}
	if (i >= argc) {
		usage_all(stderr);
		return CLI_USAGE;
	}
	if (sodium_init() < 0)
		return cli_fail("libsodium failed to initialise");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cli_fail("libcurl failed to initialise");
	rc = run(conf_path, argc - i, argv + i);
	curl_global_cleanup();
	return rc;
}
