/*
 * init.c - `refgatectl init DIR`: a working deployment in one folder: the
 * configuration, the client CA, the server certificate, the gateway's
 * keys, the database, the default disclosure policy and the first legal
 * principal. The configuration is written last and everything made is
 * removed again on failure, so a DIR with refgate.conf is complete.
 */
#include "cli.h"
#include "../proto/keyfile.h"
#include "../server/db.h"
#include "../server/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <sodium.h>

#define INIT_ACTOR "refgatectl-init"
#define CONF_FILE "refgate.conf"

/* The default disclosure policy (contract section 4). */
static const char default_policy[] =
	"{\"version\":1,\"audiences\":{"
	"\"referrer\":{\"case\":[\"case_id\",\"status\",\"action\",\"opened_at\","
	"\"updated_at\",\"decided_at\",\"deadline_at\"],"
	"\"referral\":[\"referral_id\",\"partner_ref\",\"received_at\",\"cases\"],"
	"\"own_referrals\":[\"referral_id\",\"partner_ref\"]},"
	"\"status_key\":{\"case\":[\"case_id\",\"status\",\"action\",\"opened_at\","
	"\"updated_at\",\"decided_at\",\"deadline_at\"]},"
	"\"disclosure_key\":{\"case\":[\"case_id\",\"status\",\"action\","
	"\"opened_at\",\"updated_at\",\"decided_at\",\"deadline_at\","
	"\"account_id\",\"handle\"]},"
	"\"reviewer\":{\"case\":[\"*\"],\"referral\":[\"*\"]},"
	"\"legal\":{\"case\":[],\"referral\":[]}}}";

/* A DNS name (labels of [A-Za-z0-9-], 1-63, no hyphen at either end,
 * 253 in all) or an IPv4 or IPv6 address. */
static bool hostname_valid(const char *h)
{
	unsigned char ip[16];
	size_t n = strlen(h), label = 0;
	if (inet_pton(AF_INET, h, ip) == 1 || inet_pton(AF_INET6, h, ip) == 1)
		return true;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = h[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || h[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* Joins the rows of a host table with ", " into out. */
static void join(char *out, size_t outlen, const char *rows, size_t row_cap,
                 size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s",
		                 i ? ", " : "", rows + i * row_cap);
		if (w < 0 || (size_t)w >= outlen - used)
			return;
		used += (size_t)w;
	}
}

/*
 * The text of refgate.conf: every key, each with its comment, the
 * values of conf_defaults() but for listen and hostname. malloc'd.
 */
static char *conf_text(const char *listen, const char *hostname,
                       const char *database)
{
	struct conf d;
	char hosts[NORM_MAX_HOSTS * (NORM_HOST_MAX + 2)], prefixes[400];
	char now[21];
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	if (!f)
		return NULL;
	conf_defaults(&d);
	rg_time_format(time(NULL), now);
	join(hosts, sizeof hosts, &d.hosts.hosts[0][0], sizeof d.hosts.hosts[0],
	     d.hosts.n_hosts);
	join(prefixes, sizeof prefixes, &d.hosts.prefixes[0][0],
	     sizeof d.hosts.prefixes[0], d.hosts.n_prefixes);
	fprintf(f,
"# refgate.conf - configuration of one refgate gateway, written by\n"
"# `refgatectl init` on %s.\n"
"#\n"
"# Syntax: one \"key = value\" a line; a line starting with '#' is a\n"
"# comment. Unknown keys are errors. A key left out takes the value shown\n"
"# here. Relative paths are resolved against the folder of this file.\n"
"# Read by the daemon at start (refgate -c refgate.conf) and by refgatectl\n"
"# (refgatectl -c refgate.conf ...).\n"
"\n"
"## Network\n"
"\n"
"# The HTTPS listener (HOST:PORT, or [V6]:PORT). TLS 1.2 or 1.3 with client\n"
"# certificates; the only listener that serves the API.\n"
"listen = %s\n"
"# The name clients use for the gateway. It is in the server certificate's\n"
"# subjectAltName; refgatectl verifies the server against it.\n"
"hostname = %s\n"
"# A second, plain-HTTP listener for GET /healthz and GET /metrics\n"
"# (Prometheus text format); off unless set. HOST:PORT with a loopback\n"
"# IPv4 address (127.x.x.x) only, or \"off\". Remove the '#' to turn it\n"
"# on.\n"
"# metrics_listen = 127.0.0.1:9443\n"
"\n"
"## TLS\n"
"\n"
"# The server certificate and its private key (PEM; the key mode 0600).\n"
"tls_cert = %s\n"
"tls_key = %s\n"
"# The client CA: a request is served only when the client certificate\n"
"# chains to it and its key is enrolled for an active principal.\n"
"client_ca = %s\n"
"# The client CA's private key. Only `refgatectl enroll` reads it; the\n"
"# daemon never does. See certs/README.md to keep your CA elsewhere.\n"
"client_ca_key = %s\n"
"\n"
"## Storage and keys\n"
"\n"
"# The database: a SQLite file (WAL mode; keep it on a local disk), or a\n"
"# PostgreSQL database as a libpq URI, postgresql://USER@HOST/DB?sslmode=\n"
"# verify-full, which several gateway nodes may share (docs/operators.md).\n"
"database = %s\n"
"# PostgreSQL only: seconds to wait for a connection (1-60), seconds one\n"
"# statement may take, lock waits included, before its request answers\n"
"# 503 (1-600), and libpq's password file (mode 0600; none: libpq's\n"
"# default ~/.pgpass). The password never goes in this file.\n"
"# database_connect_timeout = %d\n"
"# database_statement_timeout = %d\n"
"# database_passfile = /etc/refgate/pgpass\n"
"# The gateway's Ed25519 key that signs receipts (its public half is\n"
"# served at GET /v1/keys). One line of base64url, mode 0600.\n"
"receipt_key = %s\n"
"# The XChaCha20-Poly1305 key for referral content at rest (mode 0600).\n"
"data_key = %s\n"
"# The BLAKE2b key for the index of account identifiers (mode 0600).\n"
"index_key = %s\n"
"# The disclosure policy: which fields each audience sees (reloaded on\n"
"# SIGHUP).\n"
"policy = %s\n"
"# Upper bound of the database in pages (4 KiB each); when reached,\n"
"# writes answer 503 and nothing is half-written. 0: no bound.\n"
"max_db_pages = %lld\n"
"\n"
"## refgatectl's legal credentials\n"
"\n"
"# Client certificate and key of a legal principal, and the anchor that\n"
"# verifies the server certificate: refgatectl enroll, revoke and\n"
"# principals use them against the running gateway.\n"
"admin_cert = %s\n"
"admin_key = %s\n"
"admin_ca = %s\n"
"\n"
"## The platform\n"
"\n"
"# The host names of the platform whose accounts are referred (subject\n"
"# URLs on other hosts are refused), separated by commas.\n"
"platform_hosts = %s\n"
"# Prefixes that alias those hosts (www.x.com is x.com), separated by\n"
"# commas.\n"
"host_prefixes = %s\n"
"\n"
"## Limits\n"
"\n"
"# A referral's iat must be within this many seconds of the gateway's clock.\n"
"iat_skew = %d\n"
"# Worker threads; 0: one per CPU core.\n"
"threads = %d\n"
"# Connections served at once; more wait in the kernel's queue.\n"
"max_connections = %d\n"
"# Seconds an idle connection is kept.\n"
"connection_timeout = %d\n"
"# Largest request body in bytes (1024 to 65536).\n"
"max_body = %d\n"
"# Long polls (GET /v1/changes?wait=) held open at once; each holds a\n"
"# connection, so at most max_connections (the gateway refuses to start\n"
"# otherwise).\n"
"long_poll_max = %d\n"
"# Long polls one principal may hold open at once, and connections it\n"
"# may hold open: more are answered 429 rate_limited with Retry-After\n"
"# (an over-cap connection is then closed), so no principal can take\n"
"# the slots every other principal needs.\n"
"long_poll_per_principal = %d\n"
"connections_per_principal = %d\n"
"# Requests per second each principal may make (a token bucket refilled\n"
"# at this rate); more are answered 429 rate_limited with Retry-After.\n"
"# 0: no limit.\n"
"rate_limit_rps = %d\n"
"# Requests a principal may make at once above the steady rate (the\n"
"# bucket's size, at least 1).\n"
"rate_limit_burst = %d\n"
"# What each partner or agency may refer per UTC day: referrals, subjects\n"
"# named in them, and bytes stored. Counted in the database, so every\n"
"# node shares them; past one, a referral is answered 429 rate_limited\n"
"# with Retry-After (seconds to the next UTC midnight) and nothing of it\n"
"# is stored. The defaults are far above what the largest NGOs send (tens\n"
"# of thousands of accounts a year); no 0 = unlimited.\n"
"quota_referrals_per_day = %lld\n"
"quota_subjects_per_day = %lld\n"
"quota_bytes_per_day = %lld\n"
"\n"
"## Access keys and audit\n"
"\n"
"# Longest lifetime of an access key (refgatectl key issue --expires), in\n"
"# days, 1 to 3660.\n"
"access_key_max_days = %d\n"
"# Seconds between signed heads of the audit log: the gateway signs the\n"
"# newest audit hash with its receipt key this often (when the log has\n"
"# grown), so that `refgatectl audit verify` detects records edited,\n"
"# removed or reordered even with the hash chain recomputed. 1 to 86400.\n"
"audit_sign_interval = %d\n"
"\n"
"## Review\n"
"\n"
"# Minutes a reviewer's claim on a case holds (taking a case claims it;\n"
"# claiming again renews it); meanwhile no other reviewer may decide the\n"
"# case. 1 to 1440.\n"
"claim_minutes = %d\n"
"# The origin line of the transparency log's signed checkpoints (GET\n"
"# /v1/log/checkpoint): 1-200 printable characters, no space, no '+'.\n"
"# Default: <hostname>/refgate. Changing it later makes every checkpoint\n"
"# partners kept fail to verify; set it once.\n"
"# log_origin = %s/refgate\n",
	        now, listen, hostname, d.tls_cert, d.tls_key, d.client_ca,
	        d.client_ca_key, database ? database : d.database,
	        d.database_connect_timeout, d.database_statement_timeout,
	        d.receipt_key, d.data_key,
	        d.index_key, d.policy, (long long)d.max_db_pages, d.admin_cert,
	        d.admin_key, d.admin_ca, hosts, prefixes, d.iat_skew, d.threads,
	        d.max_connections, d.connection_timeout, d.max_body,
	        d.long_poll_max, d.long_poll_per_principal,
	        d.connections_per_principal, d.rate_limit_rps, d.rate_limit_burst,
	        (long long)d.quota_referrals_per_day,
	        (long long)d.quota_subjects_per_day,
	        (long long)d.quota_bytes_per_day,
	        d.access_key_max_days, d.audit_sign_interval, d.claim_minutes,
	        hostname);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Everything init works on. */
struct init {
	const char *dir;
	struct conf conf;            /* the configuration being written */
	struct cli_made made;
	EVP_PKEY *ca_key, *server_key, *legal_key;
	X509 *ca, *server, *legal;
};

/* Resolves a configured path; on failure prints why. */
static int in_path(const struct init *in, const char *rel, char *out,
                   size_t outlen)
{
	if (conf_path(&in->conf, rel, out, outlen) != RG_OK)
		return cli_fail("%s/%s: path too long", in->dir, rel);
	return CLI_OK;
}

/* Creates the folders (0700) on the way to the configured file `rel`. */
static int make_parents(struct init *in, const char *rel)
{
	char path[CONF_PATH_MAX];
	if (in_path(in, rel, path, sizeof path) != CLI_OK)
		return CLI_FAIL;
	size_t base = rel[0] == '/' ? 1 : strlen(in->conf.dir) + 1;
	for (char *p = path + base; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		int rc = cli_mkdir(&in->made, path, 0700);
		*p = '/';
		if (rc != RG_OK) {
			*p = '\0';
			return cli_fail("%s: %s", path, strerror(errno));
		}
	}
	return CLI_OK;
}

/* Writes a certificate or key at a configured path, with its folders. */
static int put_pem(struct init *in, const char *rel, X509 *cert,
                   EVP_PKEY *key)
{
	char path[CONF_PATH_MAX];
	if (make_parents(in, rel) != CLI_OK ||
	    in_path(in, rel, path, sizeof path) != CLI_OK)
		return CLI_FAIL;
	int rc = cert ? pki_write_cert(&in->made, path, cert)
	              : pki_write_key(&in->made, path, key);
	if (rc == RG_EEXIST)
		return cli_fail("%s: already exists", path);
	if (rc != RG_OK)
		return cli_fail("%s: %s", path, rc == RG_EIO ? strerror(errno) :
		                rg_strerror(rc));
	return CLI_OK;
}

/* The CA, the server certificate and the legal principal's credentials. */
static int make_pki(struct init *in)
{
	char cn[300];
	snprintf(cn, sizeof cn, "refgate client CA %s", in->conf.hostname);
	if (!(in->ca_key = pki_keygen_p256()) ||
	    !(in->ca = pki_make_ca(in->ca_key, cn)) ||
	    !(in->server_key = pki_keygen_p256()) ||
	    !(in->server = pki_issue_server(in->ca, in->ca_key, in->server_key,
	                                    in->conf.hostname)) ||
	    !(in->legal_key = pki_keygen_p256()) ||
	    !(in->legal = pki_issue_client(in->ca, in->ca_key, in->legal_key,
	                                   "legal", ROLE_LEGAL)))
		return CLI_FAIL;
	const struct conf *c = &in->conf;
	if (put_pem(in, c->client_ca_key, NULL, in->ca_key) ||
	    put_pem(in, c->client_ca, in->ca, NULL) ||
	    put_pem(in, c->tls_key, NULL, in->server_key) ||
	    put_pem(in, c->tls_cert, in->server, NULL) ||
	    put_pem(in, c->admin_key, NULL, in->legal_key) ||
	    put_pem(in, c->admin_cert, in->legal, NULL) ||
	    put_pem(in, c->admin_ca, in->ca, NULL))
		return CLI_FAIL;
	return CLI_OK;
}

/* The receipt, data and index keys: new random keys, each in a new file
 * of mode 0600 (proto/keyfile.h). */
static int make_keys(struct init *in)
{
	const char *rel[] = {in->conf.receipt_key, in->conf.data_key,
	                     in->conf.index_key};
	uint8_t key[32];
	char text[KEYFILE_LINE_LEN + 1];
	int ret = CLI_OK;
	for (size_t i = 0; i < sizeof rel / sizeof rel[0] && ret == CLI_OK;
	     i++) {
		char path[CONF_PATH_MAX];
		if (make_parents(in, rel[i]) != CLI_OK ||
		    in_path(in, rel[i], path, sizeof path) != CLI_OK) {
			ret = CLI_FAIL;
			break;
		}
		randombytes_buf(key, sizeof key);
		keyfile_format(key, text);
		int rc = cli_write_new(&in->made, path, text, KEYFILE_LINE_LEN,
		                       0600);
		if (rc != RG_OK)
			ret = cli_fail("%s: %s", path, rc == RG_EEXIST ?
			               "already exists" : strerror(errno));
	}
	sodium_memzero(key, sizeof key);
	sodium_memzero(text, sizeof text);
	return ret;
}

/* The default policy, indented for the people who will edit it. */
static int make_policy(struct init *in)
{
	char path[CONF_PATH_MAX];
	json_t *j = json_loads(default_policy, JSON_REJECT_DUPLICATES, NULL);
	char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	int ret = CLI_FAIL;
	json_decref(j);
	if (!text)
		return cli_fail("out of memory");
	if (make_parents(in, in->conf.policy) != CLI_OK ||
	    in_path(in, in->conf.policy, path, sizeof path) != CLI_OK)
		goto out;
	size_t n = strlen(text);
	text[n] = '\n';                 /* json_dumps leaves no newline */
	int rc = cli_write_new(&in->made, path, text, n + 1, 0644);
	text[n] = '\0';
	if (rc != RG_OK) {
		cli_fail("%s: %s", path, rc == RG_EEXIST ? "already exists" :
		         strerror(errno));
		goto out;
	}
	ret = CLI_OK;
out:
	free(text);
	return ret;
}

static int count_principal(void *ctx, const struct store_principal *p)
{
	(void)p;
	(*(size_t *)ctx)++;
	return 0;
}

/* The database, with the legal principal registered in it. */
static int make_db(struct init *in)
{
	static const char *const side[] = {"", "-wal", "-shm", "-journal"};
	char path[CONF_PATH_MAX], side_path[CONF_PATH_MAX + 16];
	struct store *st = NULL;
	struct store_cert_in cert = {0};
	struct stat sb;
	int ret = CLI_FAIL;

	bool pg = db_is_pg(in->conf.database);
	if (pg)
		snprintf(path, sizeof path, "%s", in->conf.database);
	else if (make_parents(in, in->conf.database) != CLI_OK ||
	         in_path(in, in->conf.database, path, sizeof path) != CLI_OK)
		return CLI_FAIL;
	/* Never take over (or, on failure, remove) a database found there
	 * (PostgreSQL: one with principals, below). */
	for (size_t i = 0; !pg && i < sizeof side / sizeof side[0]; i++) {
		snprintf(side_path, sizeof side_path, "%s%s", path, side[i]);
		if (lstat(side_path, &sb) == 0 || errno != ENOENT)
			return cli_fail("%s: already exists", side_path);
		if (cli_made_add(&in->made, side_path, false) != RG_OK)
			return cli_fail("%s: path too long", side_path);
	}
	if (pki_spki_sha256(in->legal, cert.spki_sha256) != RG_OK ||
	    pki_not_after(in->legal, &cert.not_after) != RG_OK ||
	    !(cert.pem = pki_cert_pem(in->legal)))
		return pki_fail("legal certificate");
	/* Never the URI in a message: it may hold a user name. */
	const char *shown = pg ? "database" : path;
	int rc = store_open(path, NULL, &st);
	if (rc != RG_OK) {
		cli_fail("%s: %s", shown, rg_strerror(rc));
		goto out;
	}
	size_t n_principals = 0;
	if (pg && (rc = store_principals_each(st, count_principal,
	                                      &n_principals)) != RG_OK) {
		cli_fail("%s: %s", shown, rg_strerror(rc));
		goto out;
	}
	if (n_principals > 0) {
		cli_fail("%s: already holds a deployment (refusing to take it "
		         "over)", shown);
		goto out;
	}
	rc = store_principal_enrol(st, INIT_ACTOR, "legal", ROLE_LEGAL, &cert,
	                           1, NULL, 0, (int64_t)time(NULL));
	if (rc != RG_OK) {
		cli_fail("%s: enrolling the legal principal: %s", shown,
		         rg_strerror(rc));
		goto out;
	}
	ret = CLI_OK;
out:
	store_free(st);
	free((char *)cert.pem);
	return ret;
}

static int make_conf(struct init *in, const char *text)
{
	char path[CONF_PATH_MAX];
	if (cli_path(path, sizeof path, in->dir, CONF_FILE) != RG_OK)
		return cli_fail("%s: path too long", in->dir);
	int rc = cli_write_new(&in->made, path, text, strlen(text), 0600);
	if (rc != RG_OK)
		return cli_fail("%s: %s", path, rc == RG_EEXIST ?
		                "already exists" : strerror(errno));
	return CLI_OK;
}

static void next_steps(const struct init *in)
{
	const char *d = in->dir;
	printf("refgatectl: deployment created in %s\n\n"
	       "Start the gateway:\n"
	       "  refgate -c %s/%s\n"
	       "Enrol a partner (its credentials go to %s/principals/pave, 0700):\n"
	       "  refgatectl -c %s/%s enroll pave --role partner --out %s/principals/pave\n"
	       "Legal credentials: %s/principals/legal/ (keep them private)\n"
	       "Client CA key:     %s/%s (keep it offline in production)\n",
	       d, d, CONF_FILE, d, d, CONF_FILE, d, d, d, in->conf.client_ca_key);
}

/* Checks the arguments and fills in->conf from the text about to be
 * written (so that the files made are the ones it names). */
static int init_prepare(struct init *in, const struct cli_args *a,
                        const char *usage, char **text)
{
	char err[256] = "", path[CONF_PATH_MAX];
	struct stat sb;
	const char *listen = cli_opt(a, "listen");
	const char *hostname = cli_opt(a, "hostname");
	const char *database = cli_opt(a, "database");
	if (database && (!db_is_pg(database) || strpbrk(database, "\n\r#")))
		return cli_usage(usage, "--database: expected a postgresql:// "
		                 "URI");
	if (!hostname)
		hostname = "localhost";
	if (!listen)
		listen = "127.0.0.1:8443";
	if (!hostname_valid(hostname))
		return cli_usage(usage, "--hostname: not a host name: %s",
		                 hostname);
	if (strchr(listen, '\n') || strchr(listen, '#'))
		return cli_usage(usage, "--listen: expected HOST:PORT");
	if (strlen(in->dir) + 64 >= sizeof in->conf.dir)
		return cli_fail("%s: path too long", in->dir);
	if (!(*text = conf_text(listen, hostname, database)))
		return cli_fail("out of memory");
	conf_defaults(&in->conf);
	if (conf_parse(&in->conf, *text, strlen(*text), err, sizeof err))
		return cli_usage(usage, "--listen: expected HOST:PORT, port "
		                 "1 to 65535");
	snprintf(in->conf.dir, sizeof in->conf.dir, "%s", in->dir);
	if (cli_path(path, sizeof path, in->dir, CONF_FILE) != RG_OK)
		return cli_fail("%s: path too long", in->dir);
	if (lstat(path, &sb) == 0)
		return cli_fail("%s already exists: refusing to overwrite a "
		                "deployment", path);
	return CLI_OK;
}

int cmd_init(const struct cli_ctx *ctx, const struct cli_args *a)
{
	static struct init in;           /* large; one per process */
	char *text = NULL;
	int ret;

	in.dir = a->pos[0];
	ret = init_prepare(&in, a, "init DIR [--listen HOST:PORT] "
	                   "[--hostname NAME] [--database postgresql://...]",
	                   &text);
	if (ret != CLI_OK)
		goto out;
	umask(077);
	ret = CLI_FAIL;
	if (cli_mkdir(&in.made, in.dir, 0700) != RG_OK) {
		cli_fail("%s: %s", in.dir, strerror(errno));
		goto out;
	}
	if (make_pki(&in) != CLI_OK || make_keys(&in) != CLI_OK ||
	    make_policy(&in) != CLI_OK || make_db(&in) != CLI_OK ||
	    make_conf(&in, text) != CLI_OK)
		goto out;
	next_steps(&in);
	ret = CLI_OK;
out:
	if (ret != CLI_OK)
		cli_made_undo(&in.made);
	EVP_PKEY_free(in.ca_key);
	EVP_PKEY_free(in.server_key);
	EVP_PKEY_free(in.legal_key);
	X509_free(in.ca);
	X509_free(in.server);
	X509_free(in.legal);
	free(text);
	ERR_clear_error();
	return ret;
}
