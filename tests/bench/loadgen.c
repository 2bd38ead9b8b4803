/*
 * loadgen.c - load generator for refgate's mTLS API. A benchmark tool, not
 * a test: it measures, it does not judge.
 *
 *   loadgen [options] MODE HOST:PORT CREDDIR CONNS SECONDS
 *
 * MODE      keys       GET /v1/keys on N keep-alive connections (baseline:
 *                      TLS + HTTP + auth, no database work)
 *           case       GET /v1/cases/{id} (-i ID) on N keep-alive connections
 *           changes    GET /v1/changes[?QUERY] (-q), optional bearer (-b)
 *           referrals  POST /v1/referrals, pre-signed unique referrals
 *           handshake  per request: new TCP + full TLS handshake (no session
 *                      resumption), one GET /v1/keys (/v1/cases/{id} with
 *                      -i), close
 *           idle       N keep-alive connections, one GET /v1/keys each, then
 *                      held open without a request for SECONDS (the
 *                      gateway's memory per idle connection); prints
 *                      "loadgen: idle: K of N connections up" on stdout
 *                      once they are
 * case with -I FILE: each request a case id drawn at random from FILE (one
 * a line), instead of -i's one id.
 * -P PATH and -B FILE point the same modes at another server (the bench's
 * peers): GET PATH instead of the mode's path, and POST the tokens of FILE
 * (one a line, each once) to PATH instead of pre-signed referrals.
 * HOST:PORT loopback only: 127.0.0.0/8, [::1], or localhost resolving there
 * CREDDIR   a principal's folder: cert.pem, key.pem, ca.pem (and signing.jwk
 *           for referrals)
 *
 * One thread per connection, blocking I/O. Latencies go into arrays
 * allocated before the run and are sorted at the end. Output: one human
 * line and one JSON line on stdout; diagnostics on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "../../proto/rg.h"
#include "../../proto/jwk.h"
#include "../../proto/jws.h"

#define MAX_CONNS 1024
#define MAX_SECONDS 3600
#define RBUF_SIZE 16384
#define SIGN_BATCH 1024
#define MAX_ERR_LOG 5

enum mode { M_KEYS, M_CASE, M_CHANGES, M_REFERRALS, M_HANDSHAKE, M_IDLE };
static const char *const mode_names[] = { "keys", "case", "changes",
	"referrals", "handshake", "idle" };

/* -I: case ids to draw from. */
struct idlist {
	char **id;
	long n;
};

struct cfg {
	enum mode mode;
	const char *creds;
	const char *sni;
	const char *label;
	int conns;
	int seconds;
	int timeout;                 /* socket send/receive timeout, seconds */
	const char *case_id;
	const char *query;
	const char *bearer;
	const char *path_arg;        /* -P: path instead of the mode's */
	const char *tokens;          /* -B: tokens to POST, one a line */
	const char *ids_file;        /* -I: case ids, one a line */
	struct idlist ids;
	long pool;                   /* referrals to pre-sign, 0: default */
	long mem_mib;                /* cap on pre-signed referrals' memory */
	long accounts;               /* 0: every referral a new account */
	long max_samples;            /* latency array, total */
	int tls_max;                 /* 0, TLS1_2_VERSION or TLS1_3_VERSION */
	bool probe;                  /* one request, print the answer, exit */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host_hdr[300];
	char path[512];
};

/* The pre-signed referrals: tok[i] points into per-batch arenas. */
struct pool {
	long n;
	char **tok;
	uint32_t *len;
	size_t maxlen;
	char **arena;                /* one per batch */
	long nbatch;
	atomic_long next_batch;
	atomic_int failed;
	uint8_t sk[64];
	char kid[RG_KID_MAX + 1];
	char runid[13];
	int64_t iat;
	long accounts;
};

struct rbuf {
	char b[RBUF_SIZE];
	size_t pos, len;
};

struct conn {
	int fd;
	SSL *ssl;
	long served;                 /* responses on this connection */
	struct rbuf rb;
};

struct worker {
	int idx;
	const struct cfg *cfg;
	SSL_CTX *ctx;                /* one per worker: no shared client state */
	struct conn c;
	uint64_t *lat;
	size_t lat_cap, nlat, dropped;
	uint64_t ok, non2xx, transport, reconnects;
	uint32_t status[600];
	char *req;
	size_t reqcap;
	uint64_t t_end;
	char tls_version[32];
	char cipher[64];
	uint64_t rng;                /* xorshift64 state, for -I */
	pthread_t th;
};

static struct pool g_pool;
static atomic_long g_next_tok;
static atomic_int g_stop;
static atomic_int g_exhausted;
static atomic_int g_errlog;
static pthread_barrier_t g_barrier;
static uint64_t g_deadline;     /* monotonic ns, written before the barrier */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "loadgen: %s%s%s\n", what, detail ? ": " : "",
	        detail ? detail : "");
	exit(2);
}

static void log_err(const struct worker *w, const char *what)
{
	if (atomic_fetch_add(&g_errlog, 1) >= MAX_ERR_LOG)
		return;
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	fprintf(stderr, "loadgen: conn %d: %s%s%s (errno %d %s)\n", w->idx, what,
	        *buf ? ": " : "", buf, errno, strerror(errno));
}

static void on_alarm(int sig)
{
	static const char msg[] = "loadgen: watchdog: run did not end in time\n";
	(void)sig;
	ssize_t r = write(2, msg, sizeof msg - 1);
	(void)r;
	_exit(3);
}

/* ------------------------------------------------------------------ */
/* Address: loopback only                                              */

static bool sa_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

static void resolve_target(struct cfg *cfg, const char *target)
{
	char host[256], port[16];
	const char *colon;
	size_t hl;

	if (target[0] == '[') {
		const char *rb = strchr(target, ']');
		if (!rb || rb[1] != ':')
			die("bad HOST:PORT", target);
		hl = (size_t)(rb - target - 1);
		if (hl == 0 || hl >= sizeof host)
			die("bad HOST:PORT", target);
		memcpy(host, target + 1, hl);
		colon = rb + 1;
	} else {
		colon = strrchr(target, ':');
		if (!colon || strchr(target, ':') != colon)
			die("bad HOST:PORT (IPv6 goes in brackets)", target);
		hl = (size_t)(colon - target);
		if (hl == 0 || hl >= sizeof host)
			die("bad HOST:PORT", target);
		memcpy(host, target, hl);
	}
	host[hl] = '\0';
	if (strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof port ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		die("bad port", target);
	snprintf(port, sizeof port, "%s", colon + 1);

	struct addrinfo hints, *res = NULL, *ai;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		if (strcasecmp(host, "localhost") != 0)
			die("refusing a host that is not a loopback address or localhost", host);
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(host, port, &hints, &res);
		if (rc != 0)
			die("cannot resolve", gai_strerror(rc));
	}
	for (ai = res; ai; ai = ai->ai_next)
		if (!sa_is_loopback(ai->ai_addr)) {
			freeaddrinfo(res);
			die("refusing a non-loopback address for", host);
		}
	if (!res || res->ai_addrlen > sizeof cfg->addr)
		die("no address for", host);
	memcpy(&cfg->addr, res->ai_addr, res->ai_addrlen);
	cfg->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(cfg->host_hdr, sizeof cfg->host_hdr, "%s:%s", cfg->sni, port);
}

/* ------------------------------------------------------------------ */
/* TLS connection and a minimal HTTP/1.1 client                        */

static SSL_CTX *make_ctx(const struct cfg *cfg)
{
	char cert[4096], key[4096], ca[4096];
	snprintf(cert, sizeof cert, "%s/cert.pem", cfg->creds);
	snprintf(key, sizeof key, "%s/key.pem", cfg->creds);
	snprintf(ca, sizeof ca, "%s/ca.pem", cfg->creds);

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		die("SSL_CTX_new failed", NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (cfg->tls_max)
		SSL_CTX_set_max_proto_version(ctx, cfg->tls_max);
	/* No resumption anywhere: no client session cache, no tickets. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		die("cannot load CA", ca);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		die("cannot load client certificate", cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		die("cannot load client key", key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		die("client key does not match certificate", key);
	return ctx;
}

static void conn_close(struct conn *c, bool notify)
{
	if (c->ssl) {
		if (notify)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->rb.pos = c->rb.len = 0;
	c->served = 0;
}

static int conn_open(struct worker *w)
{
	const struct cfg *cfg = w->cfg;
	struct conn *c = &w->c;
	struct timeval tv = { .tv_sec = cfg->timeout, .tv_usec = 0 };
	int one = 1;

	ERR_clear_error();
	c->fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		log_err(w, "socket");
		return -1;
	}
	/* On Linux SO_SNDTIMEO bounds connect() too. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) != 0) {
		log_err(w, "connect");
		conn_close(c, false);
		return -1;
	}
	c->ssl = SSL_new(w->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, cfg->sni) != 1 ||
	    SSL_set1_host(c->ssl, cfg->sni) != 1) {
		log_err(w, "SSL setup");
		conn_close(c, false);
		return -1;
	}
	if (SSL_connect(c->ssl) != 1) {
		long vr = SSL_get_verify_result(c->ssl);
		log_err(w, vr != X509_V_OK ? X509_verify_cert_error_string(vr)
		                           : "TLS handshake");
		conn_close(c, false);
		return -1;
	}
	if (!w->tls_version[0]) {
		snprintf(w->tls_version, sizeof w->tls_version, "%s", SSL_get_version(c->ssl));
		snprintf(w->cipher, sizeof w->cipher, "%s", SSL_get_cipher_name(c->ssl));
	}
	c->rb.pos = c->rb.len = 0;
	c->served = 0;
	return 0;
}

static int write_all(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		int k = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads more into the buffer. >0 bytes, 0 EOF, -1 error. */
static int rb_fill(struct conn *c)
{
	struct rbuf *r = &c->rb;
	if (r->pos > 0 && r->pos == r->len)
		r->pos = r->len = 0;
	if (r->len == sizeof r->b) {
		if (r->pos == 0)
			return -1;     /* a line longer than the buffer */
		memmove(r->b, r->b + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	int k = SSL_read(c->ssl, r->b + r->len, (int)(sizeof r->b - r->len));
	if (k > 0) {
		r->len += (size_t)k;
		return k;
	}
	return SSL_get_error(c->ssl, k) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

/* A line without its CRLF, NUL-terminated in the buffer. 0, or -1 on
 * error or EOF (*eof set when EOF came before any byte of it). */
static int rb_line(struct conn *c, char **line, bool *eof)
{
	struct rbuf *r = &c->rb;
	for (;;) {
		char *nl = memchr(r->b + r->pos, '\n', r->len - r->pos);
		if (nl) {
			*line = r->b + r->pos;
			r->pos = (size_t)(nl - r->b) + 1;
			*nl = '\0';
			if (nl > *line && nl[-1] == '\r')
				nl[-1] = '\0';
			return 0;
		}
		bool empty = r->pos == r->len;
		int k = rb_fill(c);
		if (k <= 0) {
			if (eof)
				*eof = (k == 0 && empty);
			return -1;
		}
	}
}

/* Consumes n body bytes (SIZE_MAX: until EOF), copying up to capmax of them
 * into cap when cap is not NULL. 0 or -1. */
static int rb_consume(struct conn *c, size_t n, char *cap, size_t capmax,
                      size_t *caplen)
{
	struct rbuf *r = &c->rb;
	while (n > 0) {
		if (r->pos == r->len) {
			int k = rb_fill(c);
			if (k == 0 && n == SIZE_MAX)
				return 0;
			if (k <= 0)
				return -1;
		}
		size_t take = r->len - r->pos;
		if (take > n)
			take = n;
		if (cap && *caplen < capmax) {
			size_t cp = capmax - *caplen < take ? capmax - *caplen : take;
			memcpy(cap + *caplen, r->b + r->pos, cp);
			*caplen += cp;
		}
		r->pos += take;
		if (n != SIZE_MAX)
			n -= take;
	}
	return 0;
}

static bool hdr_is(const char *line, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	const char *v = line + n + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	*value = v;
	return true;
}

enum { RESP_OK = 0, RESP_ERR = -1, RESP_EOF_FIRST = -2 };

/* Reads one response. *status, *close_after; the body goes to cap. */
static int read_response(struct conn *c, int *status, bool *close_after,
                         char *cap, size_t capmax, size_t *caplen)
{
	char *line;
	bool eof = false;

	for (;;) {
		if (rb_line(c, &line, &eof) != 0)
			return eof ? RESP_EOF_FIRST : RESP_ERR;
		int minor, st;
		char sp;
		if (sscanf(line, "HTTP/1.%d %3d%c", &minor, &st, &sp) < 2 ||
		    st < 100 || st > 599)
			return RESP_ERR;
		*status = st;
		*close_after = (minor == 0);
		size_t clen = SIZE_MAX;
		bool chunked = false, keep_alive = false;
		for (;;) {
			const char *v;
			if (rb_line(c, &line, NULL) != 0)
				return RESP_ERR;
			if (!*line)
				break;
			if (hdr_is(line, "Content-Length", &v)) {
				char *end;
				errno = 0;
				unsigned long long x = strtoull(v, &end, 10);
				if (errno || end == v)
					return RESP_ERR;
				clen = (size_t)x;
			} else if (hdr_is(line, "Transfer-Encoding", &v)) {
				chunked = strcasestr(v, "chunked") != NULL;
			} else if (hdr_is(line, "Connection", &v)) {
				if (strcasestr(v, "close"))
					*close_after = true;
				if (strcasestr(v, "keep-alive"))
					keep_alive = true;
			}
		}
		if (minor == 0 && keep_alive && clen != SIZE_MAX)
			*close_after = false;
		if (st >= 100 && st < 200)
			continue;                   /* interim answer: read the next */
		if (st == 204 || st == 304)
			return RESP_OK;
		if (chunked) {
			for (;;) {
				if (rb_line(c, &line, NULL) != 0)
					return RESP_ERR;
				char *end;
				unsigned long long sz = strtoull(line, &end, 16);
				if (end == line)
					return RESP_ERR;
				if (sz == 0)
					break;
				if (rb_consume(c, (size_t)sz, cap, capmax, caplen) != 0 ||
				    rb_line(c, &line, NULL) != 0)
					return RESP_ERR;
			}
			do {                                /* trailers */
				if (rb_line(c, &line, NULL) != 0)
					return RESP_ERR;
			} while (*line);
			return RESP_OK;
		}
		if (clen == SIZE_MAX)
			*close_after = true;                /* body runs to EOF */
		return rb_consume(c, clen, cap, capmax, caplen) == 0 ? RESP_OK : RESP_ERR;
	}
}

/* ------------------------------------------------------------------ */
/* Pre-signed referrals                                                */

static size_t referral_payload(const struct pool *p, long i, char *buf, size_t n)
{
	long acct = p->accounts > 0 ? i % p->accounts : i;
	int k = snprintf(buf, n,
	        "{\"jti\":\"lg-%s-%ld\",\"iat\":%" PRId64 ",\"category\":\"terrorist_content\","
	        "\"subjects\":[{\"handle\":\"lg_%s_%ld\"}]}",
	        p->runid, i, p->iat, p->runid, acct);
	return k < 0 || (size_t)k >= n ? 0 : (size_t)k;
}

static void *sign_thread(void *arg)
{
	struct pool *p = arg;
	char payload[512];
	char *tmp[SIGN_BATCH];

	for (;;) {
		long b = atomic_fetch_add(&p->next_batch, 1);
		if (b >= p->nbatch || atomic_load(&p->failed))
			return NULL;
		long first = b * SIGN_BATCH;
		long cnt = p->n - first < SIGN_BATCH ? p->n - first : SIGN_BATCH;
		size_t total = 0;
		for (long j = 0; j < cnt; j++) {
			size_t pl = referral_payload(p, first + j, payload, sizeof payload);
			tmp[j] = NULL;
			if (pl == 0 || jws_sign((const uint8_t *)payload, pl, p->kid,
			                        "refgate-referral+json", p->sk, &tmp[j]) != RG_OK) {
				atomic_store(&p->failed, 1);
				for (long q = 0; q < j; q++)
					free(tmp[q]);
				return NULL;
			}
			total += strlen(tmp[j]) + 1;
		}
		char *arena = malloc(total);
		if (!arena) {
			atomic_store(&p->failed, 1);
			for (long q = 0; q < cnt; q++)
				free(tmp[q]);
			return NULL;
		}
		p->arena[b] = arena;
		size_t off = 0;
		for (long j = 0; j < cnt; j++) {
			size_t l = strlen(tmp[j]);
			memcpy(arena + off, tmp[j], l + 1);
			p->tok[first + j] = arena + off;
			p->len[first + j] = (uint32_t)l;
			off += l + 1;
			free(tmp[j]);
		}
	}
}

static void presign(const struct cfg *cfg, long want)
{
	struct pool *p = &g_pool;
	char path[4096];
	snprintf(path, sizeof path, "%s/signing.jwk", cfg->creds);

	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot open", path);
	char json[8192];
	size_t jl = fread(json, 1, sizeof json - 1, f);
	fclose(f);
	json[jl] = '\0';
	const char *why = NULL;
	if (jwk_parse_private(json, jl, p->sk, p->kid, &why) != RG_OK)
		die("signing.jwk", why ? why : "not a private Ed25519 JWK");
	sodium_memzero(json, sizeof json);

	uint8_t rnd[6];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(p->runid, sizeof p->runid, rnd, sizeof rnd);
	p->iat = (int64_t)time(NULL);
	p->accounts = cfg->accounts;

	/* Size one to turn the memory cap into a count. */
	char payload[512], *sample = NULL;
	size_t pl = referral_payload(p, 999999999L, payload, sizeof payload);
	if (jws_sign((const uint8_t *)payload, pl, p->kid, "refgate-referral+json",
	             p->sk, &sample) != RG_OK || !sample)
		die("jws_sign failed", NULL);
	size_t per = strlen(sample) + 1 + sizeof(char *) + sizeof(uint32_t);
	p->maxlen = strlen(sample) + 16;
	free(sample);
	long cap = (long)((size_t)cfg->mem_mib * 1024 * 1024 / per);
	if (want > cap) {
		fprintf(stderr, "loadgen: pre-signing capped at %ld referrals (%ld MiB, -m)\n",
		        cap, cfg->mem_mib);
		want = cap;
	}
	if (want < 1)
		want = 1;
	p->n = want;
	p->nbatch = (want + SIGN_BATCH - 1) / SIGN_BATCH;
	p->tok = calloc((size_t)want, sizeof *p->tok);
	p->len = calloc((size_t)want, sizeof *p->len);
	p->arena = calloc((size_t)p->nbatch, sizeof *p->arena);
	if (!p->tok || !p->len || !p->arena)
		die("out of memory for the referral pool", NULL);

	long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 64)
		nthreads = 64;
	if (nthreads > p->nbatch)
		nthreads = p->nbatch;
	pthread_t th[64];
	uint64_t t0 = now_ns();
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, sign_thread, p) != 0)
			die("pthread_create failed", NULL);
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	sodium_memzero(p->sk, sizeof p->sk);
	if (atomic_load(&p->failed))
		die("pre-signing failed", NULL);
	fprintf(stderr, "loadgen: pre-signed %ld referrals (kid %s) in %.2f s on %ld threads\n",
	        p->n, p->kid, (double)(now_ns() - t0) / 1e9, nthreads);
}

/* -B FILE: the pool is FILE's lines (tokens signed elsewhere, e.g. by
 * a peer's own tool), each sent once. */
static void load_tokens(const char *file)
{
	struct pool *p = &g_pool;
	FILE *f = fopen(file, "rb");
	if (!f)
		die("cannot open", file);
	if (fseek(f, 0, SEEK_END) != 0)
		die("cannot read", file);
	long size = ftell(f);
	if (size <= 0 || size > 1024L * 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0)
		die("no tokens (or over 1 GiB) in", file);
	char *arena = malloc((size_t)size + 1);
	if (!arena || fread(arena, 1, (size_t)size, f) != (size_t)size)
		die("cannot read", file);
	fclose(f);
	arena[size] = '\n';
	long n = 0;
	for (long i = 0; i <= size; i++)
		n += arena[i] == '\n';
	p->tok = calloc((size_t)n, sizeof *p->tok);
	p->len = calloc((size_t)n, sizeof *p->len);
	p->arena = calloc(1, sizeof *p->arena);
	if (!p->tok || !p->len || !p->arena)
		die("out of memory for the tokens", NULL);
	p->arena[0] = arena;
	p->nbatch = 1;
	char *line = arena;
	for (long i = 0; i <= size; i++) {
		if (arena[i] != '\n')
			continue;
		arena[i] = '\0';
		size_t l = strlen(line);
		if (l > 0 && line[l - 1] == '\r')
			line[--l] = '\0';
		if (l > 0) {
			p->tok[p->n] = line;
			p->len[p->n] = (uint32_t)l;
			if (l + 16 > p->maxlen)
				p->maxlen = l + 16;
			p->n++;
		}
		line = arena + i + 1;
	}
	if (p->n == 0)
		die("no tokens in", file);
	fprintf(stderr, "loadgen: %ld tokens from %s\n", p->n, file);
}

static void pool_free(void)
{
	for (long b = 0; b < g_pool.nbatch; b++)
		free(g_pool.arena[b]);
	free(g_pool.arena);
	free(g_pool.tok);
	free(g_pool.len);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */

/* A random case id of -I's list. */
static const char *pick_id(struct worker *w)
{
	uint64_t x = w->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	w->rng = x;
	return w->cfg->ids.id[x % (uint64_t)w->cfg->ids.n];
}

static void build_get(struct worker *w, bool close_conn)
{
	const struct cfg *cfg = w->cfg;
	char auth[1200] = "", path[600];
	if (cfg->bearer)
		snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", cfg->bearer);
	if (cfg->ids.n > 0)
		snprintf(path, sizeof path, "/v1/cases/%s", pick_id(w));
	else
		snprintf(path, sizeof path, "%s", cfg->path);
	int k = snprintf(w->req, w->reqcap,
	        "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n%s%s\r\n",
	        path, cfg->host_hdr, auth, close_conn ? "Connection: close\r\n" : "");
	if (k < 0 || (size_t)k >= w->reqcap)
		die("request too long", NULL);
}

static size_t build_post(struct worker *w, long tok)
{
	const struct cfg *cfg = w->cfg;
	int k = snprintf(w->req, w->reqcap,
	        "POST %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n"
	        "Content-Type: application/jose\r\nContent-Length: %" PRIu32 "\r\n\r\n",
	        cfg->path, cfg->host_hdr, g_pool.len[tok]);
	if (k < 0 || (size_t)k + g_pool.len[tok] >= w->reqcap)
		die("request too long", NULL);
	memcpy(w->req + k, g_pool.tok[tok], g_pool.len[tok]);
	return (size_t)k + g_pool.len[tok];
}

static void record(struct worker *w, int status, uint64_t ns)
{
	w->status[status]++;
	if (status >= 200 && status < 300) {
		w->ok++;
		if (w->nlat < w->lat_cap)
			w->lat[w->nlat++] = ns;
		else
			w->dropped++;
	} else {
		w->non2xx++;
	}
}

/* One request/answer on the open connection. */
static int exchange(struct worker *w, size_t reqlen, int *status,
                    bool *close_after, char *cap, size_t capmax, size_t *caplen)
{
	if (write_all(&w->c, w->req, reqlen) != 0)
		return RESP_ERR;
	return read_response(&w->c, status, close_after, cap, capmax, caplen);
}

static void run_handshake(struct worker *w)
{
	build_get(w, true);
	size_t reqlen = strlen(w->req);
	while (!atomic_load(&g_stop) && now_ns() < g_deadline) {
		int status = 0;
		bool close_after;
		uint64_t t0 = now_ns();
		if (conn_open(w) != 0) {
			w->transport++;
			usleep(10000);
			continue;
		}
		int r = exchange(w, reqlen, &status, &close_after, NULL, 0, NULL);
		uint64_t t1 = now_ns();
		if (r == RESP_OK) {
			record(w, status, t1 - t0);
		} else {
			w->transport++;
			log_err(w, "request");
		}
		conn_close(&w->c, r == RESP_OK);
	}
}

static void run_keepalive(struct worker *w)
{
	const struct cfg *cfg = w->cfg;
	size_t reqlen = 0;
	long tok = -1;

	if (cfg->mode != M_REFERRALS) {
		build_get(w, false);
		reqlen = strlen(w->req);
	}
	while (!atomic_load(&g_stop) && now_ns() < g_deadline) {
		if (w->c.fd < 0) {
			if (conn_open(w) != 0) {
				w->transport++;
				usleep(10000);
				continue;
			}
			w->reconnects++;
		}
		if (cfg->ids.n > 0) {
			build_get(w, false);
			reqlen = strlen(w->req);
		}
		if (cfg->mode == M_REFERRALS) {
			tok = atomic_fetch_add(&g_next_tok, 1);
			if (tok >= g_pool.n) {
				atomic_store(&g_exhausted, 1);
				atomic_store(&g_stop, 1);
				break;
			}
			reqlen = build_post(w, tok);
		}
		int status = 0;
		bool close_after = false;
		uint64_t t0 = now_ns();
		int r = exchange(w, reqlen, &status, &close_after, NULL, 0, NULL);
		if (r == RESP_EOF_FIRST && w->c.served > 0) {
			/* The server closed an idle keep-alive connection: reconnect
			 * (outside the clock) and send the same request again. */
			conn_close(&w->c, false);
			if (conn_open(w) != 0) {
				w->transport++;
				continue;
			}
			w->reconnects++;
			t0 = now_ns();
			r = exchange(w, reqlen, &status, &close_after, NULL, 0, NULL);
		}
		uint64_t t1 = now_ns();
		if (r != RESP_OK) {
			w->transport++;
			log_err(w, "request");
			conn_close(&w->c, false);
			continue;
		}
		w->c.served++;
		record(w, status, t1 - t0);
		if (close_after)
			conn_close(&w->c, false);
	}
}

/* Mode idle, before the clock: one request on the new connection, so
 * that the gateway holds it as an authenticated keep-alive one. */
static void idle_first(struct worker *w)
{
	int status = 0;
	bool close_after = false;
	if (w->c.fd < 0)
		return;
	build_get(w, false);
	uint64_t t0 = now_ns();
	int r = exchange(w, strlen(w->req), &status, &close_after, NULL, 0, NULL);
	if (r != RESP_OK || close_after) {
		w->transport++;
		log_err(w, "request");
		conn_close(&w->c, false);
		return;
	}
	w->c.served++;
	record(w, status, now_ns() - t0);
}

/* Mode idle, on the clock: nothing but waiting; a connection the gateway
 * closed meanwhile counts as a transport error. */
static void run_idle(struct worker *w)
{
	while (!atomic_load(&g_stop) && now_ns() < g_deadline)
		usleep(100000);
	if (w->c.fd >= 0) {
		char b;
		ssize_t k = recv(w->c.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			w->transport++;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	if (w->cfg->mode != M_HANDSHAKE && conn_open(w) != 0)
		w->transport++;       /* retried in the loop */
	if (w->cfg->mode == M_IDLE)
		idle_first(w);
	pthread_barrier_wait(&g_barrier);     /* all connected */
	pthread_barrier_wait(&g_barrier);     /* g_deadline set */
	if (w->cfg->mode == M_HANDSHAKE)
		run_handshake(w);
	else if (w->cfg->mode == M_IDLE)
		run_idle(w);
	else
		run_keepalive(w);
	w->t_end = now_ns();
	conn_close(&w->c, true);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Probe: one request, print the answer                                */

static int probe(struct cfg *cfg)
{
	static struct worker w;
	static char body[1 << 20];
	size_t blen = 0;
	int status = 0;
	bool close_after;

	w.cfg = cfg;
	w.ctx = make_ctx(cfg);
	w.c.fd = -1;
	w.reqcap = 1024 + (cfg->mode == M_REFERRALS ? g_pool.maxlen : 0) + 2048;
	w.req = malloc(w.reqcap);
	if (!w.req)
		die("out of memory", NULL);
	if (conn_open(&w) != 0)
		die("cannot connect", NULL);
	size_t reqlen;
	if (cfg->mode == M_REFERRALS) {
		reqlen = build_post(&w, 0);
	} else {
		build_get(&w, true);
		reqlen = strlen(w.req);
	}
	int r = exchange(&w, reqlen, &status, &close_after, body, sizeof body - 1, &blen);
	conn_close(&w.c, true);
	SSL_CTX_free(w.ctx);
	free(w.req);
	if (r != RESP_OK)
		die("no answer", NULL);
	body[blen] = '\0';
	fprintf(stderr, "loadgen: probe %s: HTTP %d\n", mode_names[cfg->mode], status);
	fwrite(body, 1, blen, stdout);
	fputc('\n', stdout);
	return status >= 200 && status < 300 ? 0 : 1;
}

/* ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0.0;
	size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1e6;
}

static void usage(void)
{
	fprintf(stderr,
	"usage: loadgen [options] MODE HOST:PORT CREDDIR CONNS SECONDS\n"
	"  MODE: keys | case | changes | referrals | handshake | idle\n"
	"  HOST:PORT  loopback only (127.0.0.0/8, [::1], localhost)\n"
	"  CREDDIR    cert.pem key.pem ca.pem (+ signing.jwk for referrals)\n"
	"options:\n"
	"  -s NAME    server name for SNI and verification (default localhost)\n"
	"  -i ID      case id (mode case; handshake: GET /v1/cases/ID)\n"
	"  -I FILE    mode case: a random case id of FILE's (one a line) each\n"
	"             request\n"
	"  -P PATH    request path instead of the mode's (another server)\n"
	"  -B FILE    mode referrals: POST FILE's tokens (one a line) instead\n"
	"             of pre-signed referrals (no signing.jwk needed)\n"
	"  -q QUERY   query string for changes, e.g. 'limit=100'\n"
	"  -b TOKEN   Authorization: Bearer TOKEN (access key)\n"
	"  -p COUNT   referrals to pre-sign (default 5000 per second of run)\n"
	"  -m MIB     memory cap for pre-signed referrals (default 256)\n"
	"  -a K       referrals cycle over K accounts (default: a new one each)\n"
	"  -S COUNT   latency samples kept, total (default 200000 per second)\n"
	"  -T SEC     socket timeout (default 10)\n"
	"  -V 1.2|1.3 highest TLS version\n"
	"  -l LABEL   label in the report (default MODE)\n"
	"  -1         probe: one request, print the body, exit 0 on 2xx\n");
	exit(2);
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

static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= RG_ID_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789_-") == n;
}

/* -I FILE: the case ids, each checked. */
static void load_ids(struct idlist *l, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[256];
	long cap = 0;
	if (!f)
		die("cannot open", file);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		if (!id_ok(line))
			die("bad case id in -I file", line);
		if (l->n == cap) {
			cap = cap ? cap * 2 : 1024;
			char **grown = realloc(l->id, (size_t)cap * sizeof *grown);
			if (!grown)
				die("out of memory for -I", NULL);
			l->id = grown;
		}
		if (!(l->id[l->n++] = strdup(line)))
			die("out of memory for -I", NULL);
	}
	fclose(f);
	if (l->n == 0)
		die("no case id in", file);
}

static void ids_free(struct idlist *l)
{
	for (long i = 0; i < l->n; i++)
		free(l->id[i]);
	free(l->id);
}

int main(int argc, char **argv)
{
	static struct cfg cfg;
	int opt;

	cfg.sni = "localhost";
	cfg.timeout = 10;
	cfg.mem_mib = 256;
	while ((opt = getopt(argc, argv, "s:i:I:q:b:p:m:a:S:T:V:l:P:B:1h")) != -1) {
		switch (opt) {
		case 's': cfg.sni = optarg; break;
		case 'i': cfg.case_id = optarg; break;
		case 'I': cfg.ids_file = optarg; break;
		case 'q': cfg.query = optarg; break;
		case 'b': cfg.bearer = optarg; break;
		case 'p': cfg.pool = num_arg(optarg, 1, 100000000L, "-p"); break;
		case 'm': cfg.mem_mib = num_arg(optarg, 1, 65536, "-m"); break;
		case 'a': cfg.accounts = num_arg(optarg, 1, 1000000000L, "-a"); break;
		case 'S': cfg.max_samples = num_arg(optarg, 1, 500000000L, "-S"); break;
		case 'T': cfg.timeout = (int)num_arg(optarg, 1, 600, "-T"); break;
		case 'V':
			if (strcmp(optarg, "1.2") == 0)
				cfg.tls_max = TLS1_2_VERSION;
			else if (strcmp(optarg, "1.3") == 0)
				cfg.tls_max = TLS1_3_VERSION;
			else
				usage();
			break;
		case 'l': cfg.label = optarg; break;
		case 'P': cfg.path_arg = optarg; break;
		case 'B': cfg.tokens = optarg; break;
		case '1': cfg.probe = true; break;
		default: usage();
		}
	}
	if (argc - optind != 5)
		usage();
	const char *m = argv[optind];
	size_t mi;
	for (mi = 0; mi < sizeof mode_names / sizeof *mode_names; mi++)
		if (strcmp(m, mode_names[mi]) == 0)
			break;
	if (mi == sizeof mode_names / sizeof *mode_names)
		usage();
	cfg.mode = (enum mode)mi;
	cfg.creds = argv[optind + 2];
	cfg.conns = (int)num_arg(argv[optind + 3], 1, MAX_CONNS, "CONNS");
	cfg.seconds = (int)num_arg(argv[optind + 4], 1, MAX_SECONDS, "SECONDS");
	if (!cfg.label)
		cfg.label = mode_names[cfg.mode];
	for (const char *p = cfg.sni; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *p))
			die("bad server name", cfg.sni);
	if (cfg.bearer && strpbrk(cfg.bearer, "\r\n"))
		die("bad bearer token", NULL);
	if (cfg.query && strpbrk(cfg.query, "\r\n #"))
		die("bad query", cfg.query);

	if (cfg.path_arg && (cfg.path_arg[0] != '/' ||
	                     strpbrk(cfg.path_arg, "\r\n \t") ||
	                     strlen(cfg.path_arg) >= sizeof cfg.path))
		die("bad path", cfg.path_arg);
	if (cfg.tokens && cfg.mode != M_REFERRALS)
		die("-B is for mode referrals", NULL);
	if (cfg.ids_file && (cfg.mode != M_CASE || cfg.case_id || cfg.path_arg))
		die("-I is for mode case, without -i or -P", NULL);

	switch (cfg.mode) {
	case M_KEYS:
		snprintf(cfg.path, sizeof cfg.path, "/v1/keys");
		break;
	case M_HANDSHAKE:
		if (cfg.case_id && !id_ok(cfg.case_id))
			die("bad case id", cfg.case_id);
		snprintf(cfg.path, sizeof cfg.path, "%s%s",
		         cfg.case_id ? "/v1/cases/" : "/v1/keys",
		         cfg.case_id ? cfg.case_id : "");
		break;
	case M_IDLE:
		snprintf(cfg.path, sizeof cfg.path, "/v1/keys");
		break;
	case M_CASE:
		if (cfg.ids_file) {
			load_ids(&cfg.ids, cfg.ids_file);
			break;
		}
		if (!cfg.path_arg && (!cfg.case_id || !id_ok(cfg.case_id)))
			die("mode case needs -i with a valid case id", cfg.case_id);
		snprintf(cfg.path, sizeof cfg.path, "/v1/cases/%s", cfg.case_id ? cfg.case_id : "");
		break;
	case M_CHANGES:
		snprintf(cfg.path, sizeof cfg.path, "/v1/changes%s%s",
		         cfg.query ? "?" : "", cfg.query ? cfg.query : "");
		break;
	case M_REFERRALS:
		snprintf(cfg.path, sizeof cfg.path, "/v1/referrals");
		/* The pre-signed iat must stay within the gateway's skew
		 * (300 s by default) until the last one is sent. */
		if (cfg.seconds > 240 && !cfg.probe)
			die("mode referrals runs at most 240 s (iat skew)", NULL);
		break;
	}
	if (cfg.path_arg)
		snprintf(cfg.path, sizeof cfg.path, "%s", cfg.path_arg);

	resolve_target(&cfg, argv[optind + 1]);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		die("sodium_init failed", NULL);
	OPENSSL_init_ssl(0, NULL);
	SSL_CTX_free(make_ctx(&cfg));      /* fail early on bad credentials */

	if (cfg.mode == M_REFERRALS && cfg.tokens)
		load_tokens(cfg.tokens);
	else if (cfg.mode == M_REFERRALS)
		presign(&cfg, cfg.probe ? 1 : cfg.pool ? cfg.pool : 5000L * cfg.seconds);
	if (cfg.probe) {
		int rc = probe(&cfg);
		pool_free();
		return rc;
	}

	/* Latency arrays, allocated and touched before the clock starts. */
	long total = cfg.max_samples ? cfg.max_samples : 200000L * cfg.seconds;
	size_t per = (size_t)(total / cfg.conns) + 1;
	struct worker *ws = calloc((size_t)cfg.conns, sizeof *ws);
	if (!ws)
		die("out of memory", NULL);
	for (int i = 0; i < cfg.conns; i++) {
		struct worker *w = &ws[i];
		w->idx = i;
		w->cfg = &cfg;
		w->ctx = make_ctx(&cfg);
		w->c.fd = -1;
		w->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) ^ now_ns();
		if (!w->rng)
			w->rng = 1;
		w->lat_cap = per;
		w->lat = malloc(per * sizeof *w->lat);
		w->reqcap = 1024 + (cfg.mode == M_REFERRALS ? g_pool.maxlen : 0) + 2048;
		w->req = malloc(w->reqcap);
		if (!w->lat || !w->req)
			die("out of memory for latency samples (-S)", NULL);
		memset(w->lat, 0, per * sizeof *w->lat);
	}

	/* Bounded: each worker stops at the deadline; a stuck socket times
	 * out after -T seconds; the watchdog ends everything after that. */
	signal(SIGALRM, on_alarm);
	alarm((unsigned)(cfg.seconds + 2 * cfg.timeout + 30));
	if (pthread_barrier_init(&g_barrier, NULL, (unsigned)cfg.conns + 1) != 0)
		die("pthread_barrier_init failed", NULL);
	for (int i = 0; i < cfg.conns; i++)
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0)
			die("pthread_create failed", NULL);
	/* The clock starts when every connection is up (or has failed): the
	 * barrier publishes g_deadline to the workers. */
	pthread_barrier_wait(&g_barrier);
	if (cfg.mode == M_IDLE) {
		int up = 0;
		for (int i = 0; i < cfg.conns; i++)
			up += ws[i].c.fd >= 0;
		printf("loadgen: idle: %d of %d connections up\n", up, cfg.conns);
		fflush(stdout);
	}
	uint64_t t_start = now_ns();
	g_deadline = t_start + (uint64_t)cfg.seconds * 1000000000u;
	pthread_barrier_wait(&g_barrier);
	for (int i = 0; i < cfg.conns; i++)
		pthread_join(ws[i].th, NULL);
	alarm(0);

	uint64_t t_end = t_start;
	uint64_t ok = 0, non2xx = 0, transport = 0, reconnects = 0;
	size_t nlat = 0, dropped = 0;
	uint64_t status[600] = { 0 };
	const char *tlsv = "", *cipher = "";
	for (int i = 0; i < cfg.conns; i++) {
		struct worker *w = &ws[i];
		if (w->t_end > t_end)
			t_end = w->t_end;
		ok += w->ok;
		non2xx += w->non2xx;
		transport += w->transport;
		reconnects += w->reconnects;
		nlat += w->nlat;
		dropped += w->dropped;
		for (int s = 0; s < 600; s++)
			status[s] += w->status[s];
		if (!*tlsv && w->tls_version[0]) {
			tlsv = w->tls_version;
			cipher = w->cipher;
		}
	}
	uint64_t *all = malloc((nlat ? nlat : 1) * sizeof *all);
	if (!all)
		die("out of memory", NULL);
	size_t k = 0;
	for (int i = 0; i < cfg.conns; i++) {
		memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof *all);
		k += ws[i].nlat;
	}
	qsort(all, nlat, sizeof *all, cmp_u64);
	double elapsed = (double)(t_end - t_start) / 1e9;
	double rps = elapsed > 0 ? (double)ok / elapsed : 0.0;
	double p50 = pct_ms(all, nlat, 50), p90 = pct_ms(all, nlat, 90),
	       p99 = pct_ms(all, nlat, 99), pmax = nlat ? (double)all[nlat - 1] / 1e6 : 0.0;
	uint64_t requests = ok + non2xx + transport, errors = non2xx + transport;

	printf("%s: %d conns %.2f s: %" PRIu64 " requests, %" PRIu64 " ok, %" PRIu64
	       " errors (%" PRIu64 " non-2xx, %" PRIu64 " transport), %.1f ok req/s, "
	       "latency ms p50 %.3f p90 %.3f p99 %.3f max %.3f%s\n",
	       cfg.label, cfg.conns, elapsed, requests, ok, errors, non2xx, transport,
	       rps, p50, p90, p99, pmax,
	       atomic_load(&g_exhausted) ? " [pre-signed pool exhausted: raise -p]" : "");
	printf("{\"label\":\"%s\",\"mode\":\"%s\",\"conns\":%d,\"seconds\":%d,"
	       "\"elapsed_s\":%.3f,\"requests\":%" PRIu64 ",\"ok\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"non_2xx\":%" PRIu64 ",\"transport_errors\":%" PRIu64
	       ",\"reconnects\":%" PRIu64 ",\"rps\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f"
	       ",\"p99_ms\":%.3f,\"max_ms\":%.3f,\"samples\":%zu,\"dropped_samples\":%zu"
	       ",\"tls\":\"%s\",\"cipher\":\"%s\"",
	       cfg.label, mode_names[cfg.mode], cfg.conns, cfg.seconds, elapsed, requests,
	       ok, errors, non2xx, transport, reconnects, rps, p50, p90, p99, pmax, nlat,
	       dropped, tlsv, cipher);
	if (cfg.mode == M_REFERRALS)
		printf(",\"presigned\":%ld,\"pool_exhausted\":%s", g_pool.n,
		       atomic_load(&g_exhausted) ? "true" : "false");
	printf(",\"status\":{");
	bool first = true;
	for (int s = 100; s < 600; s++)
		if (status[s]) {
			printf("%s\"%d\":%" PRIu64, first ? "" : ",", s, status[s]);
			first = false;
		}
	printf("}}\n");
	fflush(stdout);

	for (int i = 0; i < cfg.conns; i++) {
		free(ws[i].lat);
		free(ws[i].req);
		SSL_CTX_free(ws[i].ctx);
	}
	free(ws);
	free(all);
	pool_free();
	ids_free(&cfg.ids);
	return ok > 0 ? 0 : 1;
}
