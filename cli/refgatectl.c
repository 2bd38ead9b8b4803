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
	const char *sub;                /* second word ("key issue"), or NULL */
	cli_handler fn;
	size_t min_pos, max_pos;        /* positional words */
	const char *const *opts;        /* long options, each takes a value */
	const char *const *flags;       /* long options without a value */
	bool conf;                      /* loads -c CONF first */
	const char *usage;
	const char *summary;            /* one line, for the command list */
	const char *help;
};

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct cli_cmd commands[] = {
	{
		.name = "init", .fn = cmd_init, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("listen", "hostname", "database"),
		.summary = "create a deployment: keys, CA, database, legal credentials",
		.usage = "init DIR [--listen HOST:PORT] [--hostname NAME] "
		         "[--database postgresql://...]",
		.help = "Creates a deployment in DIR: refgate.conf, the client "
		        "CA, the server\ncertificate, the gateway's keys, the "
		        "database, a default disclosure\npolicy and the first "
		        "legal principal's credentials in DIR/principals/legal.\n"
		        "Defaults: --listen 127.0.0.1:8443 --hostname localhost.",
	},
	{
		.name = "enroll", .fn = cmd_enroll, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("role", "out", "csr", "jwk", "p12", "p12-pass-file"),
		.flags = OPTS("trusted-flagger"), .conf = true,
		.summary = "enrol a principal and write its credentials",
		.usage = "enroll NAME --role ROLE [--out OUTDIR] [--csr FILE] "
		         "[--jwk FILE]\n      [--trusted-flagger] "
		         "[--p12 FILE [--p12-pass-file FILE]]",
		.help = "Issues a client certificate for NAME (from the CSR, or "
		        "for a new P-256 key)\nand, for a partner or agency, "
		        "takes the public JWK or makes a new Ed25519\nsigning "
		        "key; registers them through the running gateway with "
		        "the legal\ncredentials of the configuration. Writes "
		        "OUTDIR (default ./NAME): cert.pem,\nkey.pem, ca.pem and "
		        "signing.jwk. ROLE: partner, agency, reviewer, legal.\n"
		        "--p12 FILE also writes the certificate and key as a "
		        "PKCS#12 file (0600) for a\nbrowser to import (the web "
		        "console); its passphrase, 8 or more characters, is\n"
		        "the line of --p12-pass-file FILE or asked on the "
		        "terminal, never an argument.\n"
		        "--trusted-flagger marks a partner as a trusted flagger "
		        "(DSA Art. 22): its\nnotices' statements of reasons say "
		        "SOURCE_TRUSTED_FLAGGER.",
	},
	{
		.name = "revoke", .fn = cmd_revoke, .min_pos = 1, .max_pos = 1,
		.flags = OPTS("yes"), .conf = true,
		.summary = "revoke a principal (asks first on a terminal)",
		.usage = "revoke NAME [--yes]",
		.help = "Revokes principal NAME with all its certificates and "
		        "signing keys;\neffective on its next request. On a "
		        "terminal it asks first, unless --yes.\nAn unknown NAME "
		        "and one already revoked are told apart.",
	},
	{
		.name = "principals", .fn = cmd_principals, .conf = true,
		.flags = OPTS("json"),
		.summary = "list principals, with certificate expiry",
		.usage = "principals [--json]",
		.help = "Lists the enrolled principals as a table: role, state, "
		        "active certificates\nand signing keys, and when the "
		        "latest certificate expires; a certificate\nthat "
		        "expires within 30 days is marked with \"!\" and named "
		        "in a warning on\nstderr. --json: the gateway's answer "
		        "as it is.",
	},
	{
		.name = "submit", .fn = cmd_submit, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("as"), .conf = true,
		.summary = "sign a referral payload and send it",
		.usage = "submit FILE [--as DIR]",
		.help = "Signs the referral payload in FILE (JSON; jti and iat "
		        "are filled in when\nmissing) with DIR/signing.jwk and "
		        "sends it with DIR's client certificate\n(DIR: default "
		        "the current folder). Prints the gateway's answer.",
	},
	{
		.name = "status", .fn = cmd_status, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("as", "key-file"), .conf = true,
		.summary = "show a referral or a case",
		.usage = "status ID [--as DIR] [--key-file FILE]",
		.help = "Shows a referral (an ID starting with r_) or a case, as "
		        "the principal whose\ncredentials are in DIR (default: "
		        "the configuration's legal credentials, to\nwhom the "
		        "usual policy shows no referral or case: a 404 then "
		        "says so).\n"
		        "--key-file sends the access key secret in FILE (one "
		        "line, mode 0600) as\n\"Authorization: Bearer\"; it "
		        "works only with the certificate of the principal\n"
		        "the key was issued to. Secrets are never taken on the "
		        "command line.",
	},
	{
		.name = "changes", .fn = cmd_changes,
		.opts = OPTS("since", "wait", "limit", "as", "key-file"),
		.conf = true,
		.summary = "list status changes (the change feed)",
		.usage = "changes [--since CURSOR] [--wait S] [--limit N] "
		         "[--as DIR] [--key-file FILE]",
		.help = "Lists the status changes of the cases the principal may "
		        "see, oldest first;\n--wait holds the request up to S "
		        "seconds (at most 30) for a change.\n--key-file: the "
		        "changes of the cases the access key in FILE covers (see "
		        "status).",
	},
	{
		.name = "decide", .fn = cmd_decide, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("status", "action", "ground", "reason",
		             "legal-ground", "explanation", "explanation-file",
		             "as"),
		.flags = OPTS("json"),
		.conf = true,
		.summary = "record a reviewer's decision on a case",
		.usage = "decide ID --status S [--action A] [--ground G] "
		         "[--reason R] [--legal-ground TEXT]\n"
		         "      [--explanation TEXT | --explanation-file FILE] "
		         "[--as DIR] [--json]",
		.help = "Records a reviewer's decision on case ID. S: in_review, "
		        "actioned, no_action,\ncannot_execute (a removal order's "
		        "case, with --reason R: force_majeure,\nmanifest_error, "
		        "insufficient_information);\nA: account_suspended, "
		        "content_removed, content_restricted;\nG: "
		        "illegal_content, terms_of_service.\n"
		        "--explanation-file: the explanation (the facts and "
		        "circumstances) from a\nUTF-8 text file, its final "
		        "newline dropped. Prints \"ID: status (action)\";\n"
		        "--json: the case as the gateway answered.\n"
		        "--legal-ground: the law (or terms clause) the decision "
		        "relies on, 1-500\ncharacters, for its statement of "
		        "reasons; without it, refgate.conf's default.",
	},
	{
		.name = "queue", .fn = cmd_queue, .opts = OPTS("limit", "as"),
		.flags = OPTS("json"), .conf = true,
		.summary = "the review queue as a table, with deadlines and claims",
		.usage = "queue [--limit N] [--as DIR] [--json]",
		.help = "Lists the open cases, most urgent first, as the reviewer "
		        "whose credentials\nare in DIR: case, status, the time "
		        "left to a removal order's deadline\n(\"!in 42m\", "
		        "\"!OVERDUE 5m\") or else the urgency, the number of "
		        "principals\nthat referred, the case's age, and who "
		        "claimed it for how much longer.\n--limit: 1-500 "
		        "(default 100). --json: the gateway's answer as it is.",
	},
	{
		.name = "claim", .fn = cmd_claim, .min_pos = 1, .max_pos = 1,
		.opts = OPTS("as"), .flags = OPTS("release"), .conf = true,
		.summary = "claim a case before working on it (or --release it)",
		.usage = "claim ID [--release] [--as DIR]",
		.help = "Claims case ID for the reviewer whose credentials are in "
		        "DIR, or renews\nthe claim: for claim_minutes of the "
		        "gateway (default 30), no other reviewer\nmay decide "
		        "the case. --release ends your claim. Prints \"ID: "
		        "claimed by NAME\nuntil TIME\" or \"ID: released\"; a "
		        "claim held by someone else fails with\ntheir name and "
		        "its expiry.",
	},
	{
		.name = "key", .sub = "issue", .fn = cmd_key_issue,
		.min_pos = 1, .max_pos = 1,
		.opts = OPTS("tier", "cases", "legal-basis", "expires", "cidr",
		             "out"),
		.flags = OPTS("all-own"), .conf = true,
		.summary = "issue a scoped access key to an agency",
		.usage = "key issue PRINCIPAL --tier status|disclosure\n"
		         "      (--cases ID[,ID...] | --all-own) --legal-basis "
		         "TEXT\n      --expires DAYS|RFC3339 "
		         "[--cidr CIDR[,CIDR...]] [--out FILE]",
		.help = "Issues an access key to PRINCIPAL, an agency, with the "
		        "legal credentials of\nthe configuration. Tier status: "
		        "the case fields a referrer sees; disclosure:\nalso the "
		        "account identifiers, each answer audited with the key "
		        "and its legal\nbasis. Scope: the cases listed, or "
		        "--all-own: every case PRINCIPAL referred\ninto. "
		        "--expires: DAYS from now or an RFC 3339 time, at most "
		        "access_key_max_days\nof the configuration. --cidr: the "
		        "key works only from these networks. The key\nworks "
		        "only together with a client certificate of PRINCIPAL.\n"
		        "Prints the gateway's answer. The secret is shown this "
		        "once (the gateway keeps\nonly its hash): --out writes "
		        "it to a new FILE (mode 0600) instead of stdout,\nfor "
		        "the principal's --key-file.",
	},
	{
		.name = "key", .sub = "list", .fn = cmd_key_list, .conf = true,
		.opts = OPTS("principal"), .flags = OPTS("active", "json"),
		.summary = "list access keys (--active, --principal)",
		.usage = "key list [--active] [--principal NAME] [--json]",
		.help = "Lists the access keys, newest first, as a table: "
		        "principal, tier, state\n(active, expired or revoked), "
		        "expiry (\"!\" within 30 days) and scope; never\ntheir "
		        "secrets. --active: only keys that work now; "
		        "--principal: only NAME's.\n--json: the listing as JSON, "
		        "filtered the same way, each key with its state.",
	},
	{
		.name = "key", .sub = "revoke", .fn = cmd_key_revoke,
		.min_pos = 1, .max_pos = 1, .conf = true, .flags = OPTS("yes"),
		.summary = "revoke an access key (asks first on a terminal)",
		.usage = "key revoke ID [--yes]",
		.help = "Revokes access key ID; effective on its next use. On a "
		        "terminal it asks\nfirst, unless --yes.",
	},
	{
		.name = "audit", .sub = "verify", .fn = cmd_audit_verify,
		.opts = OPTS("jwks"), .conf = true,
		.summary = "verify the audit log's hash chain and signed heads",
		.usage = "audit verify [--jwks FILE]",
		.help = "Checks the audit log in the database the "
		        "configuration names, opened\nread-only (beside the "
		        "running gateway, or on a backup; nothing is\nwritten "
		        "or write-locked): the records are numbered 1, 2, 3, ..."
		        " without\ngaps, each is chained to the one before and "
		        "hashes to its stored hash,\nand every signed head "
		        "carries the hash of its record and a valid\nEd25519 "
		        "signature by the gateway key (receipt_key of the "
		        "configuration,\nor the keys of FILE, a JWKS as GET "
		        "/v1/keys serves it). Prints \"audit: N\nrecords, M "
		        "signed heads, chain intact\" and exits 0, or names the "
		        "first bad\nrecord and exits 1.",
	},
	{
		.name = "log", .sub = "verify", .fn = cmd_log_verify,
		.min_pos = 1, .max_pos = 1, .opts = OPTS("as"), .conf = true,
		.summary = "check that a receipt is in the transparency log",
		.usage = "log verify RECEIPT [--as DIR]",
		.help = "Checks that a receipt is in the transparency log: its "
		        "signature and the\nlatest checkpoint's by the gateway "
		        "key (GET /v1/keys), then the inclusion\nproof of its "
		        "payload at its log_index in that checkpoint. RECEIPT: a "
		        "file with\nthe receipt (compact JWS) or the gateway's "
		        "answer holding it. Exits 0, or\nsays what did not "
		        "verify and exits 1.",
	},
	{
		.name = "log", .sub = "watch", .fn = cmd_log_watch,
		.opts = OPTS("state", "as"), .conf = true,
		.summary = "prove the log consistent with the last checkpoint seen",
		.usage = "log watch --state FILE [--as DIR]",
		.help = "Checks that the gateway's latest checkpoint is "
		        "consistent with the one kept\nin FILE (signature, then "
		        "the consistency proof between the two sizes) and\n"
		        "replaces FILE with it; the first run keeps the first "
		        "checkpoint. Run it\nperiodically: a failure (exit 1, "
		        "\"LOG INCONSISTENT\") means the log's history\nwas "
		        "rewritten or forked; FILE is then left as it was, as "
		        "evidence.",
	},
	{
		.name = "purge", .fn = cmd_purge, .conf = true,
		.summary = "run the retention purge now",
		.usage = "purge",
		.help = "Runs the retention purge now, as the gateway does every "
		        "retention_interval\nseconds: erases the sealed content "
		        "and identifier index entries of the\ncases closed more "
		        "than retention_days ago that no preservation hold\n"
		        "covers, each erasure audited under the legal principal "
		        "of the\nconfiguration. Prints the counts (JSON).",
	},
	{
		.name = "migrate", .fn = cmd_migrate, .opts = OPTS("to"),
		.conf = true,
		.summary = "copy a stopped SQLite deployment into PostgreSQL",
		.usage = "migrate --to postgresql://...",
		.help = "Copies the SQLite database of the configuration into "
		        "the empty PostgreSQL\ndatabase of the URI (libpq's; "
		        "the password from database_passfile or\n~/.pgpass, "
		        "never in the URI): this version's schema, then every "
		        "table row for\nrow, in one PostgreSQL transaction. "
		        "Refuses, writing nothing, when the\ngateway still runs "
		        "on the SQLite file (stop it first), when the target\n"
		        "holds any table, and when the file is not at this "
		        "version's schema.\nThe file is not changed. Keys, "
		        "certificates and policy are files and stay;\nthen set "
		        "\"database = URI\" in the configuration and start the "
		        "gateway.",
	},
	{
		.name = "report", .fn = cmd_report, .opts = OPTS("from", "to", "html"),
		.conf = true,
		.summary = "the transparency report (JSON, or one HTML file)",
		.usage = "report --from YYYY-MM-DD --to YYYY-MM-DD [--html FILE]",
		.help = "Fetches the transparency report of the days FROM to TO "
		        "(both included, at\nmost 366 days) and prints it (JSON), "
		        "or writes it to a new FILE as one\nself-contained HTML "
		        "page with its charts. Counts by category below\n"
		        "report_min_count (default 10) are shown as \"<10\".",
	},
	{
		.name = "statements", .sub = "push", .fn = cmd_statements_push,
		.opts = OPTS("endpoint", "token-file", "batch"), .conf = true,
		.summary = "send statements of reasons to the DSA Transparency Database",
		.usage = "statements push --endpoint URL --token-file FILE "
		         "[--batch N]",
		.help = "Sends the statements of reasons not yet exported to "
		        "URL/statements (the\nDSA Transparency Database's "
		        "POST /api/v1/statements: URL is e.g.\n"
		        "https://transparency.dsa.ec.europa.eu/api/v1), oldest "
		        "first, N at a time\n(1-100, default 100), with "
		        "\"Authorization: Bearer\" and the token read from\n"
		        "FILE (one line, mode 0600; never on the command line). "
		        "Marks on the gateway\nthose answered 201 and those "
		        "refused as already present (422 naming them);\nleaves "
		        "the rest for the next run. Safe to interrupt and run "
		        "again: a\nstatement is marked only after the database "
		        "answered for it. Prints\n\"statements: N sent, N "
		        "acknowledged, N already present, N left\"; exits 1\n"
		        "when anything was refused or out of reach (a refused "
		        "token exports nothing).",
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

/* Whether some command is called `name` (alone or with a second word). */
static bool known(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return true;
	return false;
}

/* The command named by argv[0] (and argv[1] for those of two words);
 * *words is how many words the name took. */
static const struct cli_cmd *find(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct cli_cmd *c = &commands[i];
		if (strcmp(c->name, argv[0]) != 0)
			continue;
		if (!c->sub) {
			*words = 1;
			return c;
		}
		if (argc > 1 && strcmp(c->sub, argv[1]) == 0) {
			*words = 2;
			return c;
		}
	}
	return NULL;
}

static void usage_all(FILE *f)
{
	fputs("usage: refgatectl [-c CONF] COMMAND [ARGS]\n"
	      "       refgatectl help [COMMAND]\n"
	      "       refgatectl --version\n\n"
	      "  -c CONF  the gateway's configuration (default "
	      DEFAULT_CONF ")\n\ncommands (refgatectl help COMMAND "
	      "tells more):\n", f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s\n      %s\n", commands[i].usage,
		        commands[i].summary ? commands[i].summary : "");
}

/* The usages of every command whose first word is `name`. */
static void usage_group(FILE *f, const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			fprintf(f, "%s refgatectl %s\n", i && strcmp(
			        commands[i - 1].name, name) == 0 ? "      " :
			        "usage:", commands[i].usage);
}

static int cmd_help(int argc, char **argv)
{
	int words = 0;
	if (argc == 0) {
		usage_all(stdout);
		return CLI_OK;
	}
	const struct cli_cmd *cmd = find(argc, argv, &words);
	if (!cmd && argc == 1 && known(argv[0])) {
		usage_group(stdout, argv[0]);     /* "help key" */
		return CLI_OK;
	}
	if (!cmd || argc > words)
		return cli_usage("help [COMMAND]", "no such command: %s%s%s",
		                 argv[0], argc > 1 ? " " : "",
		                 argc > 1 ? argv[1] : "");
	printf("usage: refgatectl %s\n\n%s\n", cmd->usage, cmd->help);
	return CLI_OK;
}

static bool in_list(const char *const *list, const char *name)
{
	for (const char *const *o = list; o && *o; o++)
		if (strcmp(*o, name) == 0)
			return true;
	return false;
}

/* Adds "--name value", "--name=value" or the flag "--name" at argv[*i]
 * to a (a flag's value is ""). */
static int parse_opt(const struct cli_cmd *cmd, int argc, char **argv,
                     int *i, struct cli_args *a)
{
	char *name = argv[*i] + 2, *eq = strchr(name, '='), *val;
	if (eq)
		*eq = '\0';
	if (in_list(cmd->flags, name)) {
		if (eq)
			return cli_usage(cmd->usage, "--%s takes no value",
			                 name);
		val = name + strlen(name);
	} else if (!in_list(cmd->opts, name)) {
		return cli_usage(cmd->usage, "unknown option --%s", name);
	} else if (eq) {
		val = eq + 1;
	} else if (*i + 1 < argc) {
		val = argv[++*i];
	} else {
		return cli_usage(cmd->usage, "--%s needs a value", name);
	}
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

	int words = 0;
	if (strcmp(argv[0], "help") == 0)
		return cmd_help(argc - 1, argv + 1);
	const struct cli_cmd *cmd = find(argc, argv, &words);
	if (!cmd && known(argv[0])) {
		cli_fail("%s: %s%s", argv[0], argc > 1 ?
		         "unknown subcommand " : "missing subcommand",
		         argc > 1 ? argv[1] : "");
		usage_group(stderr, argv[0]);
		return CLI_USAGE;
	}
	if (!cmd) {
		cli_fail("unknown command: %s", argv[0]);
		usage_all(stderr);
		return CLI_USAGE;
	}
	int rc = parse_args(cmd, argc - words, argv + words, &args);
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
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("refgatectl %s\n", RG_VERSION);
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
