/*
 * fill.c - `make bench`'s growth generator (a benchmark tool, not a test):
 * records N referrals, each naming one account of its own (so N new
 * cases), round robin over a list of principals, through the same code as
 * POST /v1/referrals after verification (server/intake.c: identifier
 * index, sealing, the store's transaction with its change feed, audit
 * record and transparency log leaf), many of them per group commit. No
 * HTTP, no TLS, no JWS: the gateway must not be running on the database
 * (its in-memory feed head would lag).
 *
 *   fill -c REFGATE.CONF -n N [-P NAME,NAME,...] [-o FILE] [-w WINDOW]
 *
 * -P  the principals, round robin (default benchp); the first must be
 *     enrolled already, the others are enrolled here as partners (no
 *     certificate: they never connect) when missing
 * -o  appends the case ids the first principal was given, one a line
 *     (what loadgen -I reads)
 * -w  referrals in flight (default 2048; the store commits up to 1024
 *     together)
 * Prints one line: referrals recorded, seconds, referrals per second (and
 * progress on stderr every 100,000).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "../../proto/conf.h"
#include "../../server/app.h"
#include "../../server/intake.h"
#include "../../server/db.h"
#include "../../server/log.h"

#define FILL_PRINCIPALS_MAX 16
#define FILL_BATCH 1024

struct fill;

struct slot {
	struct fill *f;
	struct intake *in;
	int principal;
	bool done;
};

struct fill {
	struct app app;
	const char *names[FILL_PRINCIPALS_MAX];
	int n_names;
	struct slot *slots;
	long window;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	FILE *ids;
	long recorded, failed;
	char runid[13];
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fill: %s%s%s\n", what, detail ? ": " : "",
	        detail ? detail : "");
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* refgate.conf, as the daemon reads it (paths relative to its folder). */
static void load_conf(const char *path, struct conf *c)
{
	char err[256];
	FILE *f = fopen(path, "r");
	static char text[64 * 1024];
	if (!f)
		die("cannot open", path);
	size_t len = fread(text, 1, sizeof text, f);
	fclose(f);
	conf_defaults(c);
	if (len == sizeof text || conf_parse(c, text, len, err, sizeof err) != RG_OK ||
	    conf_check(c, err, sizeof err) != RG_OK)
		die(path, len == sizeof text ? "too large" : err);
	const char *slash = strrchr(path, '/');
	if (slash)
		snprintf(c->dir, sizeof c->dir, "%.*s", (int)(slash - path), path);
}

static void open_app(struct fill *f, const char *conf_path_arg)
{
	struct conf *c = &f->app.conf;
	char rk[CONF_PATH_MAX], dk[CONF_PATH_MAX], ik[CONF_PATH_MAX], db[CONF_PATH_MAX];
	load_conf(conf_path_arg, c);
	if (conf_path(c, c->receipt_key, rk, sizeof rk) ||
	    conf_path(c, c->data_key, dk, sizeof dk) ||
	    conf_path(c, c->index_key, ik, sizeof ik) ||
	    keys_load(&f->app.keys, rk, dk, ik) != RG_OK)
		die("cannot load the gateway keys", NULL);
	if (db_is_pg(c->database))
		snprintf(db, sizeof db, "%s", c->database);
	else if (conf_path(c, c->database, db, sizeof db) != RG_OK)
		die("database path too long", NULL);
	struct store_opts so = { .batch_max = FILL_BATCH };
	if (store_open(db, &so, &f->app.store) != RG_OK)
		die("cannot open the database", db_is_pg(c->database) ? "(postgresql)" : db);
}

/* Every principal, enrolled as a partner when missing (refgatectl enroll
 * adds a certificate to one later). */
static void enrol_all(struct fill *f)
{
	for (int i = 0; i < f->n_names; i++) {
		int rc = store_principal_enrol(f->app.store, "bench-fill", f->names[i],
		                               ROLE_PARTNER, NULL, 0, NULL, 0,
		                               (int64_t)time(NULL));
		if (rc != RG_OK)
			die("cannot enrol (a partner of that name may exist with another role)",
			    f->names[i]);
	}
}

/* The writer thread's reply: the slot is done (it must not block long:
 * the lock is only ever held briefly). */
static void on_done(void *ctx)
{
	struct slot *s = ctx;
	pthread_mutex_lock(&s->f->mu);
	s->done = true;
	pthread_cond_broadcast(&s->f->cond);
	pthread_mutex_unlock(&s->f->mu);
}

/* Waits for the slot's referral, records its outcome and frees it. */
static void slot_finish(struct fill *f, struct slot *s)
{
	const struct store_referral_out *out;
	if (!s->in)
		return;
	pthread_mutex_lock(&f->mu);
	while (!s->done)
		pthread_cond_wait(&f->cond, &f->mu);
	pthread_mutex_unlock(&f->mu);
	int rc = intake_result(s->in, &out);
	if (rc == RG_OK) {
		f->recorded++;
		if (f->ids && s->principal == 0)
			fprintf(f->ids, "%s\n", out->cases[0].case_id);
	} else if (f->failed++ < 5) {
		fprintf(stderr, "fill: a referral failed (%d)\n", rc);
	}
	intake_free(s->in);
	s->in = NULL;
}

/* Referral i: one subject, a handle of its own, the run's jti. */
static int slot_start(struct fill *f, struct slot *s, struct referral *r, long i)
{
	char jws[64];
	struct problem_items items;
	memset(&items, 0, sizeof items);
	s->principal = (int)(i % f->n_names);
	snprintf(r->jti, sizeof r->jti, "fill-%s-%ld", f->runid, i);
	snprintf(r->subjects[0].handle, sizeof r->subjects[0].handle, "f%s_%ld",
	         f->runid, i);
	r->category = (enum referral_category)(i % 5);
	/* The bytes a partner would have signed: unique per referral. */
	int n = snprintf(jws, sizeof jws, "fill.%s.%ld", f->runid, i);
	s->done = false;
	int rc = intake_new(&f->app, f->names[s->principal], r, (const uint8_t *)jws,
	                    (size_t)n, (int64_t)time(NULL), &items, &s->in);
	if (rc != RG_OK)
		return rc;
	intake_submit(s->in, on_done, s);
	return RG_OK;
}

static void parse_names(struct fill *f, char *list)
{
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (f->n_names == FILL_PRINCIPALS_MAX)
			die("too many principals (-P)", NULL);
		if (!*t || strlen(t) > RG_NAME_MAX)
			die("bad principal name", t);
		f->names[f->n_names++] = t;
	}
	if (f->n_names == 0)
		die("no principal (-P)", NULL);
}

static long num_arg(const char *s, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die("bad number for", what);
	return v;
}

int main(int argc, char **argv)
{
	static struct fill f;
	const char *conf = NULL, *ids = NULL;
	char names[512] = "benchp";
	long n = -1;
	int opt;

	f.window = 2048;
	while ((opt = getopt(argc, argv, "c:n:P:o:w:")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'n': n = num_arg(optarg, 0, 100000000L, "-n"); break;
		case 'P': snprintf(names, sizeof names, "%s", optarg); break;
		case 'o': ids = optarg; break;
		case 'w': f.window = num_arg(optarg, 1, 65536, "-w"); break;
		default: die("usage: fill -c REFGATE.CONF -n N [-P NAME,...] [-o FILE] [-w WINDOW]", NULL);
		}
	}
	if (!conf || n < 0 || optind != argc)
		die("usage: fill -c REFGATE.CONF -n N [-P NAME,...] [-o FILE] [-w WINDOW]", NULL);
	if (sodium_init() < 0)
		die("sodium_init failed", NULL);
	log_set_level(LOG_WARN);
	parse_names(&f, names);
	uint8_t rnd[6];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(f.runid, sizeof f.runid, rnd, sizeof rnd);
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cond, NULL);
	if (ids && !(f.ids = fopen(ids, "a")))
		die("cannot open", ids);
	f.slots = calloc((size_t)f.window, sizeof *f.slots);
	struct referral *r = calloc(1, sizeof *r);
	if (!f.slots || !r)
		die("out of memory", NULL);
	r->n_subjects = 1;
	open_app(&f, conf);
	enrol_all(&f);

	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		struct slot *s = &f.slots[i % f.window];
		s->f = &f;
		slot_finish(&f, s);
		if (slot_start(&f, s, r, i) != RG_OK)
			die("intake_new failed", NULL);
		if (i > 0 && i % 100000 == 0)
			fprintf(stderr, "fill: %ld of %ld queued, %.0f/s\n", i, n,
			        (double)i / (now_s() - t0));
	}
	for (long i = 0; i < f.window; i++)
		slot_finish(&f, &f.slots[i]);
	double secs = now_s() - t0;

	store_free(f.app.store);
	keys_wipe(&f.app.keys);
	if (f.ids && fclose(f.ids) != 0)
		die("cannot write", ids);
	free(f.slots);
	free(r);
	printf("fill: %ld referrals recorded (%ld failed) over %d principals in %.1f s, %.0f/s\n",
	       f.recorded, f.failed, f.n_names, secs, secs > 0 ? (double)f.recorded / secs : 0.0);
	return f.failed == 0 && f.recorded == n ? 0 : 1;
}
