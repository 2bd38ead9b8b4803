/*
 * main.c - refgate, the daemon: read the configuration, load keys, policy
 * and storage, listen, and wait for signals (SIGTERM/SIGINT stop after the
 * in-flight requests, SIGHUP reloads the disclosure policy).
 */
#include "app.h"
#include "audit.h"
#include "expiry.h"
#include "logsign.h"
#include "retention.h"
#include "http.h"
#include "log.h"
#include "db.h"
#include "../proto/jwk.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_SECONDS 10

static void usage(FILE *f)
{
	fprintf(f, "usage: refgate -c DIR/refgate.conf\n"
	           "       refgate --help | --version\n\n"
	           "Runs the gateway that DIR/refgate.conf describes (made by\n"
	           "`refgatectl init DIR`) until SIGTERM or SIGINT; SIGHUP reloads\n"
	           "the disclosure policy. Logs JSON lines on stderr.\n");
}

/* Reads a whole file (at most max bytes) into a malloc'd string. */
static char *read_text(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!buf || n > max) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Reads and parses the configuration; the folder of the file is the base
 * of every relative path in it. */
static int load_conf(const char *path, struct conf *c)
{
	char err[256];
	size_t len;
	struct stat sb;
	conf_defaults(c);
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		log_msg(LOG_ERROR, "%s is a folder: give its refgate.conf (refgate -c %s/refgate.conf)",
			path, path);
		return RG_EINVAL;
	}
	errno = 0;
	char *text = read_text(path, CONF_MAX_BYTES, &len);
	if (!text) {
		log_msg(LOG_ERROR, "%s: cannot read: %s", path,
			errno == 0 ? "larger than 64 KiB" : strerror(errno));
		return RG_EIO;
	}
	int rc = conf_parse(c, text, len, err, sizeof err);
	free(text);
	if (rc == RG_OK)
		rc = conf_check(c, err, sizeof err);
	if (rc != RG_OK) {
		log_msg(LOG_ERROR, "%s: %s", path, err);
		return rc;
	}
	const char *slash = strrchr(path, '/');
	if (slash)
		snprintf(c->dir, sizeof c->dir, "%.*s", (int)(slash - path), path);
	if (slash == path)
		snprintf(c->dir, sizeof c->dir, "/");
	return RG_OK;
}

static struct policy *load_policy(const struct conf *c)
{
	char path[CONF_PATH_MAX], err[256];
	if (conf_path(c, c->policy, path, sizeof path) != RG_OK)
		return NULL;
	struct policy *p = policy_load(path, err, sizeof err);
	if (!p)
		log_msg(LOG_ERROR, "policy %s: %s", c->policy, err);
	return p;
}

/* Case views kept in memory (each at most VIEWCACHE_BODY_MAX bytes). */
#define VIEWS_CACHED 4096

/* Loads keys, client CA, policy and storage into app. */
static int app_open(struct app *app)
{
	struct conf *c = &app->conf;
	char rk[CONF_PATH_MAX], dk[CONF_PATH_MAX], ik[CONF_PATH_MAX], p[CONF_PATH_MAX];
	if (conf_path(c, c->receipt_key, rk, sizeof rk) ||
	    conf_path(c, c->data_key, dk, sizeof dk) ||
	    conf_path(c, c->index_key, ik, sizeof ik) ||
	    keys_load(&app->keys, rk, dk, ik) != RG_OK) {
		log_msg(LOG_ERROR, "cannot load the gateway keys (missing, malformed, or readable by others)");
		return RG_EIO;
	}
	if (conf_path(c, c->client_ca, p, sizeof p) ||
	    !(app->client_ca_pem = read_text(p, 64 * 1024, NULL))) {
		log_msg(LOG_ERROR, "cannot read the client CA %s", c->client_ca);
		return RG_EIO;
	}
	if (conf_log_origin(c, app->log_origin, sizeof app->log_origin) != RG_OK) {
		log_msg(LOG_ERROR, "no valid log_origin (set one in the configuration)");
		return RG_EINVAL;
	}
	struct policy *pol = load_policy(c);
	if (!pol || policy_holder_init(&app->policy, pol) != RG_OK) {
		policy_free(pol);
		return RG_EINVAL;
	}
	char *jwk = jwk_public_json(app->keys.receipt_pk, app->keys.receipt_kid);
	size_t need = jwk ? strlen(jwk) + 16 : 0;
	if (!jwk || !(app->jwks_json = malloc(need))) {
		free(jwk);
		return RG_ENOMEM;
	}
	snprintf(app->jwks_json, need, "{\"keys\":[%s]}", jwk);
	free(jwk);
	app->ratelimit = ratelimit_new(c->rate_limit_rps, c->rate_limit_burst);
	if (!app->ratelimit)
		return RG_ENOMEM;
	if (!(app->views = viewcache_new(VIEWS_CACHED)))
		return RG_ENOMEM;
	struct store_opts so = {
		.max_page_count = c->max_db_pages,
		.connect_timeout_s = c->database_connect_timeout,
		.statement_timeout_s = c->database_statement_timeout,
	};
	bool pg = db_is_pg(c->database);
	char perr[CONF_PATH_MAX + 64];
	if (pg && conf_pg_passfile(c, perr, sizeof perr) != RG_OK) {
		log_msg(LOG_ERROR, "%s", perr);
		return RG_EINVAL;
	}
	if (pg ? (size_t)snprintf(p, sizeof p, "%s", c->database) >= sizeof p
	       : conf_path(c, c->database, p, sizeof p) != RG_OK) {
		log_msg(LOG_ERROR, "database: too long");
		return RG_EINVAL;
	}
	if (store_open(p, &so, &app->store) != RG_OK) {
		/* never the URI itself: it may hold a user name */
		log_msg(LOG_ERROR, "cannot open the database %s",
		        pg ? "(postgresql)" : c->database);
		return RG_EIO;
	}
	return RG_OK;
}

static void app_close(struct app *app)
{
	store_free(app->store);
	if (app->policy.current)
		policy_holder_destroy(&app->policy);
	ratelimit_free(app->ratelimit);
	viewcache_free(app->views);
	free(app->client_ca_pem);
	free(app->jwks_json);
	keys_wipe(&app->keys);
}

/* Waits for signals until asked to stop. */
static void serve(struct app *app, const sigset_t *set)
{
	for (;;) {
		int sig = 0;
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			struct policy *p = load_policy(&app->conf);
			if (p) {
				policy_swap(&app->policy, p);
				log_msg(LOG_INFO, "policy reloaded");
			} else {
				log_msg(LOG_WARN, "policy reload refused; the previous policy stays");
			}
			continue;
		}
		log_msg(LOG_INFO, "signal %d: finishing in-flight requests", sig);
		return;
	}
}

int main(int argc, char **argv)
{
	const char *conf_file = NULL;
	int opt;
	static struct app app;
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		if (opt == 'c') {
			conf_file = optarg;
		} else if (opt == 'V') {
			printf("refgate %s\n", RG_VERSION);
			return 0;
		} else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!conf_file || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		log_msg(LOG_ERROR, "libsodium failed to initialise");
		return 1;
	}
	/* Signals are taken by sigwait in this thread only. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int status = 1;
	if (load_conf(conf_file, &app.conf) != RG_OK || app_open(&app) != RG_OK)
		goto out;
	struct http *h = http_start(&app);
	if (!h)
		goto out;
	app.http = h;
	store_set_commit_hook(app.store, http_wake_polls, h);
	struct audit_signer *signer = audit_signer_start(&app);
	if (!signer)
		log_msg(LOG_WARN, "audit head signer not started");
	struct logsign *lsigner = logsign_start(&app);
	if (!lsigner)
		log_msg(LOG_WARN, "log checkpoint signer not started");
	struct retention *retention = retention_start(&app);
	if (!retention)
		log_msg(LOG_WARN, "retention purge not started");
	struct expiry_watch *ewatch = expiry_watch_start(&app);
	serve(&app, &set);
	store_set_commit_hook(app.store, NULL, NULL);
	http_stop(h, SHUTDOWN_GRACE_SECONDS);
	expiry_watch_stop(ewatch);
	retention_stop(retention);
	logsign_stop(lsigner);
	audit_signer_stop(signer);
	status = 0;
	log_msg(LOG_INFO, "stopped");
out:
	app_close(&app);
	return status;
}
