/*
 * statements.c - `refgatectl statements push`: sends the gateway's
 * statements of reasons that are not yet exported to the DSA
 * Transparency Database (POST URL/statements, batches of at most 100,
 * "Authorization: Bearer" with the token read from a 0600 file), and
 * marks on the gateway those the database acknowledged (201) or already
 * holds (422 naming them in errors.existing_puids). Anything else is left
 * for the next run. A puid is marked only after the database answered
 * for it, so an interrupted run loses none; one marked is never listed
 * as pending again, so none acknowledged is sent twice.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <sodium.h>

#define PUSH_USAGE "statements push --endpoint URL --token-file FILE " \
                   "[--batch N]"
#define PUSH_BATCH_MAX 100           /* the database takes 1-100 a call */
#define PUSH_TOKEN_MAX 512
#define PUSH_ENDPOINT_MAX 900
#define PUSH_ANSWER_MAX (1024 * 1024)
#define PUSH_TIMEOUT 120L
#define PUSH_GATEWAY_TIMEOUT 60L

struct push {
	const struct conf *conf;
	struct cli_cred cred;            /* the legal credentials */
	char url[PUSH_ENDPOINT_MAX + 16];/* URL/statements */
	char token[PUSH_TOKEN_MAX + 1];
	long batch;
	size_t sent, acknowledged, present, left;   /* statements, this run */
};

/* The database's token: one line of 1-512 visible ASCII characters (a
 * Sanctum token is "ID|secret") in a regular file that only its owner
 * may read or write. */
static int token_read(const char *path, char out[PUSH_TOKEN_MAX + 1])
{
	char *text = NULL;
	size_t len = 0;
	int ret = CLI_FAIL;
	if (cli_secret_line_read(path, PUSH_TOKEN_MAX, "a token", &text,
	                         &len) != CLI_OK)
		return CLI_FAIL;
	bool ok = len >= 1;
	for (size_t i = 0; ok && i < len; i++)
		ok = text[i] > 0x20 && text[i] < 0x7f;
	if (!ok) {
		cli_fail("%s: not a token (one line of 1-%d visible ASCII "
		         "characters)", path, PUSH_TOKEN_MAX);
		goto out;
	}
	memcpy(out, text, len + 1);
	ret = CLI_OK;
out:
	sodium_memzero(text, len);
	free(text);
	return ret;
}

/* https://..., or http:// to a loopback address only (a stand-in on this
 * machine): the token never crosses a network in clear. */
static int endpoint_set(struct push *p, const char *endpoint)
{
	size_t n = strlen(endpoint);
	while (n > 0 && endpoint[n - 1] == '/')
		n--;
	bool https = strncmp(endpoint, "https://", 8) == 0;
	bool local = strncmp(endpoint, "http://127.0.0.1:", 17) == 0 ||
	             strncmp(endpoint, "http://localhost:", 17) == 0 ||
	             strncmp(endpoint, "http://[::1]:", 13) == 0;
	if ((!https && !local) || n > PUSH_ENDPOINT_MAX ||
	    strpbrk(endpoint, " \t\r\n?#"))
		return cli_usage(PUSH_USAGE, "--endpoint: an https:// URL "
		                 "(http:// only to a loopback address), "
		                 "without query");
	snprintf(p->url, sizeof p->url, "%.*s/statements", (int)n, endpoint);
	return CLI_OK;
}

struct sink {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	if (n > PUSH_ANSWER_MAX - s->len) {
		s->too_big = true;
		return 0;
	}
	char *b = realloc(s->buf, s->len + n + 1);
	if (!b)
		return 0;
	memcpy(b + s->len, data, n);
	s->len += n;
	b[s->len] = '\0';
	s->buf = b;
	return n;
}

/* POSTs body to the database. CLI_OK with *status and *answer (parsed
 * JSON, or NULL when the answer was not JSON); CLI_FAIL on a transport
 * failure (after printing why). */
static int dsa_post(struct push *p, const char *body, long *status,
                    json_t **answer)
{
	char auth[PUSH_TOKEN_MAX + 32], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL, *t;
	struct sink sink = {0};
	int ret = CLI_FAIL;
	CURL *curl = curl_easy_init();
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->token);
	const char *lines[] = {"Content-Type: application/json",
	                       "Accept: application/json", "Expect:", auth};
	for (size_t i = 0; curl && i < sizeof lines / sizeof lines[0]; i++) {
		if (!(t = curl_slist_append(hdrs, lines[i]))) {
			cli_fail("out of memory");
			goto out;
		}
		hdrs = t;
	}
	CURLcode e = curl ? CURLE_OK : CURLE_OUT_OF_MEMORY;
#define SET(opt, val) if (e == CURLE_OK) e = curl_easy_setopt(curl, opt, val)
	SET(CURLOPT_URL, p->url);
	SET(CURLOPT_PROTOCOLS_STR, "https,http");
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, 10L);
	SET(CURLOPT_TIMEOUT, PUSH_TIMEOUT);
	SET(CURLOPT_USERAGENT, "refgatectl/1");
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_POSTFIELDS, body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_WRITEDATA, &sink);
	SET(CURLOPT_ERRORBUFFER, errbuf);
#undef SET
	if (e == CURLE_OK)
		e = curl_easy_perform(curl);
	if (e != CURLE_OK) {
		cli_fail("%s: %s", p->url, sink.too_big ? "answer too large" :
		         errbuf[0] ? errbuf : curl_easy_strerror(e));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	*answer = sink.buf ? json_loadb(sink.buf, sink.len, 0, NULL) : NULL;
	ret = CLI_OK;
out:
	sodium_memzero(auth, sizeof auth);
	for (t = hdrs; t; t = t->next)
		sodium_memzero(t->data, strlen(t->data));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	free(sink.buf);
	return ret;
}

/* The next pending page from the gateway: *page (the statements, each
 * still with exported_at) and *next (its cursor, malloc'd). */
static int gateway_page(struct push *p, const char *since, json_t **page,
                        char **next)
{
	char path[600];
	struct cli_resp r = {0};
	json_t *ans = NULL;
	int n = snprintf(path, sizeof path,
	                 "/v1/admin/statements?pending=true&limit=%ld%s%s",
	                 p->batch, since[0] ? "&since=" : "", since);
	if (n < 0 || (size_t)n >= sizeof path)
		return cli_fail("cursor too long");
	if (cli_request(p->conf, &p->cred, "GET", path, NULL, NULL, 0,
	                PUSH_GATEWAY_TIMEOUT, &r) != CLI_OK)
		return CLI_FAIL;
	int ret = cli_answer_json(&r, &ans);
	cli_resp_free(&r);
	if (ret != CLI_OK)
		return ret;
	json_t *list = json_object_get(ans, "statements");
	const char *nx = json_string_value(json_object_get(ans, "next"));
	if (!json_is_array(list) || !nx) {
		json_decref(ans);
		return cli_fail("the gateway's statements answer has no "
		                "statements or next");
	}
	char *copy = strdup(nx);
	if (!copy) {
		json_decref(ans);
		return cli_fail("out of memory");
	}
	*page = json_incref(list);
	*next = copy;
	json_decref(ans);
	return CLI_OK;
}

/* Tells the gateway that these puids are in the database. */
static int gateway_mark(struct push *p, json_t *puids)
{
	struct cli_resp r = {0};
	json_t *ans = NULL;
	json_t *o = json_pack("{s:O}", "puids", puids);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body)
		return cli_fail("out of memory");
	int ret = cli_request(p->conf, &p->cred, "POST",
	                      "/v1/admin/statements/exported",
	                      "application/json", body, strlen(body),
	                      PUSH_GATEWAY_TIMEOUT, &r);
	free(body);
	if (ret == CLI_OK)
		ret = cli_answer_json(&r, &ans);
	cli_resp_free(&r);
	json_decref(ans);
	return ret;
}

/* The puids of the batch that a 422 names as already present
 * (errors.existing_puids); an empty array when it names none. */
static json_t *already_present(json_t *answer, json_t *batch)
{
	json_t *named = json_object_get(json_object_get(answer, "errors"),
	                                "existing_puids");
	json_t *out = json_array(), *v, *w;
	size_t i, j;
	json_array_foreach(named, i, v) {
		json_array_foreach(batch, j, w) {
			if (json_equal(v, w)) {
				json_array_append(out, w);
				break;
			}
		}
	}
	return out;
}

/* The database's complaint, for a message: compact and cut short. */
static void complaint(json_t *answer, char *out, size_t cap)
{
	char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	snprintf(out, cap, "%.300s", text ? text : "(no JSON answer)");
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	free(text);
}

/*
 * Sends one page to the database and marks what it took or holds.
 * *progress: something was marked (the page is worth listing again);
 * *stop: nothing further can succeed in this run (a refused token, the
 * database or the gateway out of reach).
 */
static int push_batch(struct push *p, json_t *page, bool *progress,
                      bool *stop)
{
	json_t *stmts = json_array(), *puids = json_array(), *s, *ans = NULL;
	json_t *present = NULL, *body_o = NULL;
	char *body = NULL, why[320];
	size_t i;
	long status = 0;
	int ret = CLI_FAIL;
	*progress = *stop = false;
	json_array_foreach(page, i, s) {
		json_t *copy = json_deep_copy(s);
		json_t *puid = json_object_get(s, "puid");
		if (!copy || !json_is_string(puid)) {
			json_decref(copy);
			cli_fail("the gateway listed a statement without puid");
			*stop = true;
			goto out;
		}
		json_object_del(copy, "exported_at");
		json_array_append_new(stmts, copy);
		json_array_append(puids, puid);
	}
	body_o = json_pack("{s:O}", "statements", stmts);
	if (!body_o || !(body = json_dumps(body_o, JSON_COMPACT))) {
		cli_fail("out of memory");
		*stop = true;
		goto out;
	}
	p->sent += json_array_size(puids);
	if (dsa_post(p, body, &status, &ans) != CLI_OK) {
		p->left += json_array_size(puids);
		*stop = true;
		goto out;
	}
	if (status == 201) {
		if (gateway_mark(p, puids) != CLI_OK) {
			*stop = true;
			goto out;
		}
		p->acknowledged += json_array_size(puids);
		*progress = true;
		ret = CLI_OK;
		goto out;
	}
	if (status == 422 &&
	    json_array_size(present = already_present(ans, puids)) > 0) {
		if (gateway_mark(p, present) != CLI_OK) {
			*stop = true;
			goto out;
		}
		p->present += json_array_size(present);
		*progress = true;
		ret = CLI_OK;
		goto out;
	}
	complaint(ans, why, sizeof why);
	p->left += json_array_size(puids);
	if (status == 401 || status == 403) {
		cli_fail("%s: HTTP %ld: the token was refused; nothing "
		         "exported", p->url, status);
		*stop = true;
	} else {
		cli_fail("%s: HTTP %ld: %s; %zu statements left for the next "
		         "run", p->url, status, why, json_array_size(puids));
		*stop = status != 422;   /* only a refused batch is skipped */
	}
out:
	json_decref(present);
	json_decref(ans);
	json_decref(body_o);
	free(body);
	json_decref(stmts);
	json_decref(puids);
	return ret;
}

int cmd_statements_push(const struct cli_ctx *ctx, const struct cli_args *a)
{
	struct push p = { .conf = ctx->conf, .batch = PUSH_BATCH_MAX };
	const char *endpoint = cli_opt(a, "endpoint");
	const char *token_file = cli_opt(a, "token-file");
	const char *batch = cli_opt(a, "batch");
	char *since = NULL, *end = NULL;
	int ret = CLI_FAIL;
	bool failed = false;
	if (!endpoint || !token_file)
		return cli_usage(PUSH_USAGE, "--endpoint and --token-file are "
		                 "required");
	if (batch) {
		p.batch = strtol(batch, &end, 10);
		if (!*batch || *end || p.batch < 1 || p.batch > PUSH_BATCH_MAX)
			return cli_usage(PUSH_USAGE, "--batch: 1-100");
	}
	if (endpoint_set(&p, endpoint) != CLI_OK)
		return CLI_USAGE;
	if (token_read(token_file, p.token) != CLI_OK)
		return CLI_FAIL;
	if (cli_cred_admin(ctx->conf, &p.cred) != CLI_OK ||
	    !(since = strdup(""))) {
		cli_fail("out of memory");
		goto out;
	}
	for (;;) {
		json_t *page = NULL;
		char *next = NULL;
		bool progress, stop;
		if (gateway_page(&p, since, &page, &next) != CLI_OK) {
			failed = true;
			break;
		}
		if (json_array_size(page) == 0) {
			json_decref(page);
			free(next);
			break;
		}
		if (push_batch(&p, page, &progress, &stop) != CLI_OK)
			failed = true;
		json_decref(page);
		if (stop) {
			free(next);
			break;
		}
		if (progress) {
			free(next);      /* the marked ones are no longer pending */
		} else {                 /* skip it; the next run retries */
			free(since);
			since = next;
		}
	}
	/* "sent" counts a statement each time it went out (after a 422
	 * naming part of a batch, the rest goes again); "left": refused or
	 * unanswered, for the next run. */
	printf("statements: %zu sent, %zu acknowledged, %zu already present, "
	       "%zu left\n", p.sent, p.acknowledged, p.present, p.left);
	ret = failed ? CLI_FAIL : CLI_OK;
out:
	free(since);
	sodium_memzero(p.token, sizeof p.token);
	cli_cred_wipe(&p.cred);
	return ret;
}
