/*
 * client.c - refgatectl's HTTPS client (libcurl on OpenSSL): one request
 * to the gateway of the configuration, with a principal's client
 * certificate, the server verified against the principal's anchor for the
 * configured host name; and the reporting of answers and problems.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#define CLIENT_BODY_MAX (16 * 1024 * 1024)
#define CLIENT_CONNECT_TIMEOUT 10L

int cli_cred_admin(const struct conf *c, struct cli_cred *cred)
{
	if (!c->admin_cert[0] || !c->admin_key[0] || !c->admin_ca[0])
		return cli_fail("the configuration names no admin_cert, "
		                "admin_key and admin_ca");
	if (conf_path(c, c->admin_cert, cred->cert, sizeof cred->cert) ||
	    conf_path(c, c->admin_key, cred->key, sizeof cred->key) ||
	    conf_path(c, c->admin_ca, cred->ca, sizeof cred->ca))
		return cli_fail("admin credential path too long");
	cred->bearer[0] = '\0';
	return CLI_OK;
}

int cli_cred_dir(const char *dir, struct cli_cred *cred)
{
	if (cli_path(cred->cert, sizeof cred->cert, dir, "cert.pem") ||
	    cli_path(cred->key, sizeof cred->key, dir, "key.pem") ||
	    cli_path(cred->ca, sizeof cred->ca, dir, "ca.pem"))
		return cli_fail("%s: path too long", dir);
	cred->bearer[0] = '\0';
	return CLI_OK;
}

int cli_cred_pick(const struct cli_ctx *ctx, const struct cli_args *a,
                  struct cli_cred *cred)
{
	const char *dir = cli_opt(a, "as"), *key = cli_opt(a, "key-file");
	int ret = dir ? cli_cred_dir(dir, cred)
	              : cli_cred_admin(ctx->conf, cred);
	if (ret == CLI_OK && key)
		ret = cli_bearer_read(key, cred);
	return ret;
}

void cli_cred_wipe(struct cli_cred *cred)
{
	sodium_memzero(cred->bearer, sizeof cred->bearer);
}

bool cli_b64token(const char *s)
{
	size_t n = strlen(s);
	size_t body = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/");
	if (body == 0)
		return false;
	while (body < n && s[body] == '=')
		body++;
	return body == n;
}

int cli_bearer_read(const char *path, struct cli_cred *cred)
{
	char *text = NULL;
	size_t len = 0;
	int ret = CLI_FAIL;

	if (cli_secret_line_read(path, CLI_BEARER_MAX, "an access key",
	                         &text, &len) != CLI_OK)
		return CLI_FAIL;
	if (!cli_b64token(text)) {
		cli_fail("%s: not an access key secret (one line of "
		         "[A-Za-z0-9._~+/-])", path);
		goto out;
	}
	memcpy(cred->bearer, text, len + 1);
	ret = CLI_OK;
out:
	sodium_memzero(text, len);
	free(text);
	return ret;
}

/* Host names and addresses that may go into a URL or CURLOPT_RESOLVE. */
static bool host_ok(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > 253)
		return false;
	return strspn(h, "abcdefghijklmnopqrstuvwxyz"
	                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == n;
}

/* "host" or "[v6]" into out. */
static int bracket(char *out, size_t outlen, const char *host)
{
	int n = snprintf(out, outlen, strchr(host, ':') ? "[%s]" : "%s", host);
	return n < 0 || (size_t)n >= outlen ? RG_ETOOBIG : RG_OK;
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
	if (n > CLIENT_BODY_MAX - s->len) {
		s->too_big = true;
		return 0;
	}
	char *p = realloc(s->buf, s->len + n + 1);
	if (!p)
		return 0;
	memcpy(p + s->len, data, n);
	s->len += n;
	p[s->len] = '\0';
	s->buf = p;
	return n;
}

/* The address to connect to: the listen address, with a wildcard
 * replaced by the loopback address of the same family. */
static const char *connect_host(const struct conf *c)
{
	const char *h = c->listen_host;
	if (h[0] == '\0' || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "*") == 0)
		return "127.0.0.1";
	if (strcmp(h, "::") == 0)
		return "::1";
	return h;
}

/* Sets the options of one exchange on `curl`. */
static int setup(CURL *curl, const struct cli_cred *cred,
                 const char *url, struct curl_slist *connect_to,
                 struct curl_slist *hdrs, long timeout_s, struct sink *sink,
                 char *errbuf)
{
	CURLcode e = CURLE_OK;
#define SET(opt, val) if (e == CURLE_OK) e = curl_easy_setopt(curl, opt, val)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_CONNECT_TO, connect_to);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_PROXY, "");          /* never a proxy from the environment */
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CAINFO, cred->ca);
	SET(CURLOPT_CAPATH, NULL);       /* only the anchor given */
	SET(CURLOPT_SSLCERT, cred->cert);
	SET(CURLOPT_SSLCERTTYPE, "PEM");
	SET(CURLOPT_SSLKEY, cred->key);
	SET(CURLOPT_SSLKEYTYPE, "PEM");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, CLIENT_CONNECT_TIMEOUT);
	SET(CURLOPT_TIMEOUT, timeout_s);
	SET(CURLOPT_USERAGENT, "refgatectl/1");
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_WRITEDATA, sink);
	SET(CURLOPT_ERRORBUFFER, errbuf);
#undef SET
	return e == CURLE_OK ? RG_OK : RG_EINVAL;
}

/*
 * The URL (https://<hostname>:<port><path>) and the CURLOPT_CONNECT_TO
 * entry that sends it to the listen address: any host and port of the
 * URL goes there (this also holds for a hostname that is an IP address,
 * unlike CURLOPT_RESOLVE).
 */
static int target(const struct conf *c, const char *path, char *url,
                  size_t url_len, char *conn, size_t conn_len)
{
	char host[300], addr[300];
	const char *ch = connect_host(c);
	if (!host_ok(c->hostname) || !host_ok(ch) || c->listen_port < 1 ||
	    c->listen_port > 65535)
		return cli_fail("the configuration's hostname or listen "
		                "address is not usable");
	if (bracket(host, sizeof host, c->hostname) ||
	    bracket(addr, sizeof addr, ch))
		return cli_fail("host name too long");
	int n1 = snprintf(conn, conn_len, "::%s:%d", addr, c->listen_port);
	int n2 = snprintf(url, url_len, "https://%s:%d%s", host,
	                  c->listen_port, path);
	if (n1 < 0 || (size_t)n1 >= conn_len || n2 < 0 ||
	    (size_t)n2 >= url_len)
		return cli_fail("request URL too long");
	return CLI_OK;
}

/* Appends a header line to *l; false when out of memory (*l intact). */
static bool add_line(struct curl_slist **l, const char *line)
{
	struct curl_slist *t = curl_slist_append(*l, line);
	if (!t)
		return false;
	*l = t;
	return true;
}

int cli_request(const struct conf *c, const struct cli_cred *cred,
                const char *method, const char *path, const char *ctype,
                const char *body, size_t body_len, long timeout_s,
                struct cli_resp *out)
{
	char url[1024], res[600], ct[128], auth[CLI_BEARER_MAX + 32];
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *connect_to = NULL, *hdrs = NULL;
	struct sink sink = {0};
	CURL *curl = NULL;
	int ret = CLI_FAIL;

	if (target(c, path, url, sizeof url, res, sizeof res) != CLI_OK)
		return CLI_FAIL;
	int n = snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "");
	if (n < 0 || (size_t)n >= sizeof ct)
		return cli_fail("content type too long");

	curl = curl_easy_init();
	if (!curl || !add_line(&connect_to, res) ||
	    !add_line(&hdrs, "Accept: application/json, "
	                     "application/problem+json") ||
	    !add_line(&hdrs, "Expect:") || (body && !add_line(&hdrs, ct))) {
		cli_fail("out of memory");
		goto out;
	}
	if (cred->bearer[0]) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s",
		         cred->bearer);
		bool ok = add_line(&hdrs, auth);
		sodium_memzero(auth, sizeof auth);
		if (!ok) {
			cli_fail("out of memory");
			goto out;
		}
	}
	if (setup(curl, cred, url, connect_to, hdrs, timeout_s, &sink,
	          errbuf) != RG_OK) {
		cli_fail("libcurl refuses an option (too old a libcurl?)");
		goto out;
	}
	CURLcode e = CURLE_OK;
	if (body) {
		e = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		if (e == CURLE_OK)
			e = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
			                     (curl_off_t)body_len);
	}
	if (e == CURLE_OK && strcmp(method, body ? "POST" : "GET") != 0)
		e = curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (e == CURLE_OK)
		e = curl_easy_perform(curl);
	if (e != CURLE_OK) {
		if (sink.too_big)
			cli_fail("%s: answer larger than %d bytes", url,
			         CLIENT_BODY_MAX);
		else
			cli_fail("%s: %s%s", url, errbuf[0] ? errbuf :
			         curl_easy_strerror(e),
			         e == CURLE_COULDNT_CONNECT ?
			         " (is the gateway running?)" : "");
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (!sink.buf && !(sink.buf = calloc(1, 1))) {
		cli_fail("out of memory");
		goto out;
	}
	out->body = sink.buf;
	out->len = sink.len;
	sink.buf = NULL;
	ret = CLI_OK;
out:
	free(sink.buf);
	for (struct curl_slist *l = hdrs; l; l = l->next)
		sodium_memzero(l->data, strlen(l->data));  /* the bearer */
	curl_slist_free_all(hdrs);
	curl_slist_free_all(connect_to);
	curl_easy_cleanup(curl);
	return ret;
}

void cli_resp_free(struct cli_resp *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

/* Copies printable ASCII of s into out (at most outlen - 1), so that
 * nothing the server sent can drive the terminal. */
static void printable(char *out, size_t outlen, const char *s)
{
	size_t j = 0;
	for (; s && *s && j + 1 < outlen; s++)
		out[j++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[j] = '\0';
}

/* " (/ptr: reason; ...)" from the errors member of a problem. */
static void problem_items(char *out, size_t outlen, json_t *errors)
{
	size_t i, used = 0;
	json_t *it;
	out[0] = '\0';
	json_array_foreach(errors, i, it) {
		char ptr[130], why[130];
		printable(ptr, sizeof ptr,
		          json_string_value(json_object_get(it, "pointer")));
		printable(why, sizeof why,
		          json_string_value(json_object_get(it, "reason")));
		int n = snprintf(out + used, outlen - used, "%s%s: %s",
		                 i ? "; " : " (", ptr, why);
		if (n < 0 || (size_t)n >= outlen - used || i >= 9)
			break;
		used += (size_t)n;
	}
	if (out[0] && used + 2 <= outlen)
		memcpy(out + used, ")", 2);
}

int cli_report_problem(const char *what, const struct cli_resp *r)
{
	char code[64] = "", detail[512] = "", items[1024] = "";
	json_t *j = json_loadb(r->body, r->len, 0, NULL);
	if (json_is_object(j)) {
		printable(code, sizeof code,
		          json_string_value(json_object_get(j, "code")));
		printable(detail, sizeof detail,
		          json_string_value(json_object_get(j, "detail")));
		if (!detail[0])
			printable(detail, sizeof detail,
			          json_string_value(json_object_get(j, "title")));
		problem_items(items, sizeof items, json_object_get(j, "errors"));
	}
	json_decref(j);
	return cli_fail("%s%sHTTP %ld%s%s%s%s%s", what ? what : "",
	                what ? ": " : "", r->status, code[0] ? " " : "", code,
	                detail[0] ? ": " : "", detail, items);
}

int cli_answer_json(const struct cli_resp *r, json_t **out)
{
	if (r->status < 200 || r->status > 299)
		return cli_report_problem(NULL, r);
	json_error_t err;
	*out = json_loadb(r->body, r->len, 0, &err);
	if (!*out)
		return cli_fail("the gateway's answer is not JSON: %s", err.text);
	return CLI_OK;
}

int cli_report(const struct cli_resp *r)
{
	if (r->status < 200 || r->status > 299)
		return cli_report_problem(NULL, r);
	if (r->len == 0)
		return CLI_OK;
	json_t *j = json_loadb(r->body, r->len, 0, NULL);
	char *txt = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
	if (txt) {
		puts(txt);
	} else {
		/* Not JSON: shown, but nothing that could drive a terminal. */
		for (size_t i = 0; i < r->len; i++) {
			unsigned char ch = (unsigned char)r->body[i];
			putchar(ch == '\n' || ch == '\t' ||
			        (ch >= 0x20 && ch != 0x7f) ? ch : '?');
		}
	}
	free(txt);
	json_decref(j);
	return fflush(stdout) == 0 ? CLI_OK : cli_fail("stdout: write error");
}
