/*
 * conf.c - the refgate.conf parser shared by the daemon and refgatectl:
 * "key = value" lines over built-in defaults; unknown keys are errors.
 */
#include "conf.h"
#include "checkpoint.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LINE_MAX_BYTES 2048

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->dir, sizeof c->dir, ".");
	snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
	c->listen_port = 8443;
	snprintf(c->hostname, sizeof c->hostname, "localhost");
	snprintf(c->tls_cert, sizeof c->tls_cert, "server/cert.pem");
	snprintf(c->tls_key, sizeof c->tls_key, "server/key.pem");
	snprintf(c->client_ca, sizeof c->client_ca, "ca/ca.pem");
	snprintf(c->client_ca_key, sizeof c->client_ca_key, "ca/ca.key");
	snprintf(c->database, sizeof c->database, "data/refgate.db");
	snprintf(c->receipt_key, sizeof c->receipt_key, "keys/receipt.key");
	snprintf(c->data_key, sizeof c->data_key, "keys/data.key");
	snprintf(c->index_key, sizeof c->index_key, "keys/index.key");
	snprintf(c->policy, sizeof c->policy, "policy.json");
	snprintf(c->admin_cert, sizeof c->admin_cert, "principals/legal/cert.pem");
	snprintf(c->admin_key, sizeof c->admin_key, "principals/legal/key.pem");
	snprintf(c->admin_ca, sizeof c->admin_ca, "principals/legal/ca.pem");
	c->hosts.n_hosts = 2;
	snprintf(c->hosts.hosts[0], sizeof c->hosts.hosts[0], "twitter.com");
	snprintf(c->hosts.hosts[1], sizeof c->hosts.hosts[1], "x.com");
	c->hosts.n_prefixes = 3;
	snprintf(c->hosts.prefixes[0], sizeof c->hosts.prefixes[0], "www");
	snprintf(c->hosts.prefixes[1], sizeof c->hosts.prefixes[1], "mobile");
	snprintf(c->hosts.prefixes[2], sizeof c->hosts.prefixes[2], "m");
	c->iat_skew = 300;
	c->claim_minutes = 30;
	c->threads = 0;
	c->max_connections = 1000;
	c->connection_timeout = 30;
	c->max_body = 65536;
	c->long_poll_max = 800;
	c->long_poll_per_principal = 32;
	c->connections_per_principal = 64;
	c->max_db_pages = 0;
	c->database_connect_timeout = 5;
	c->database_statement_timeout = 30;
	c->access_key_max_days = 90;
	c->rate_limit_rps = 50;
	c->rate_limit_burst = 100;
	c->audit_sign_interval = 60;
	c->retention_days = 365;
	c->retention_interval = 3600;
	c->report_min_count = 10;
	/* Far above what any NGO or agency sends: the largest refer tens of
	 * thousands of accounts a year (docs/operators.md). */
	c->quota_referrals_per_day = 5000;
	c->quota_subjects_per_day = 20000;
	c->quota_bytes_per_day = INT64_C(256) * 1024 * 1024;
}

/* Copies a string value into a fixed field; false when it does not fit. */
static bool set_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n >= cap)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

const char conf_eea[CONF_EEA_N][3] = {
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
	"FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU",
	"LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
};

/* A statement ground: 1-CONF_GROUND_MAX characters of valid UTF-8
 * without control characters (it is sent to the DSA database as is). */
static bool set_ground(char *dst, size_t cap, const char *v)
{
	size_t chars = 0;
	const unsigned char *p = (const unsigned char *)v;
	while (*p) {
		size_t len = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2
		           : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
		if (len == 0 || *p < 0x20 || *p == 0x7f || (len == 2 && *p < 0xC2) ||
		    (len == 4 && *p > 0xF4))
			return false;
		for (size_t i = 1; i < len; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		if ((len == 3 && *p == 0xE0 && p[1] < 0xA0) ||
		    (len == 3 && *p == 0xED && p[1] >= 0xA0) ||
		    (len == 4 && *p == 0xF0 && p[1] < 0x90) ||
		    (len == 4 && *p == 0xF4 && p[1] >= 0x90))
			return false;
		p += len;
		chars++;
	}
	return chars >= 1 && chars <= CONF_GROUND_MAX && set_str(dst, cap, v);
}

/* statement_territorial_scope: EEA country codes, comma- or
 * blank-separated, each once. */
static bool set_scope(struct conf *c, const char *v)
{
	size_t n = 0;
	char codes[CONF_EEA_N][3] = { { 0 } }; /* whole rows copied */
	while (*v) {
		v += strspn(v, ", \t");
		if (!*v)
			break;
		size_t len = strcspn(v, ", \t");
		if (len != 2 || n >= CONF_EEA_N)
			return false;
		char code[3] = { (char)toupper((unsigned char)v[0]),
		                 (char)toupper((unsigned char)v[1]), '\0' };
		bool known = false;
		for (size_t i = 0; i < CONF_EEA_N; i++)
			known |= strcmp(code, conf_eea[i]) == 0;
		for (size_t i = 0; i < n; i++)
			known &= strcmp(code, codes[i]) != 0;
		if (!known)
			return false;
		memcpy(codes[n++], code, 3);
		v += len;
	}
	if (n == 0)
		return false;
	memcpy(c->statement_scope, codes, sizeof codes);
	c->n_statement_scope = n;
	return true;
}

static bool set_int(int *dst, const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < lo || n > hi)
		return false;
	*dst = (int)n;
	return true;
}

static bool set_i64(int64_t *dst, const char *v, long long lo, long long hi)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < lo || n > hi)
		return false;
	*dst = n;
	return true;
}

/* "host:port" or "[v6]:port" into host and port. */
static bool set_hostport(char *host, size_t cap, int *port, const char *v)
{
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v)
		return false;
	const char *h = v;
	size_t hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 3 || v[hl - 1] != ']')
			return false;
		h = v + 1;
		hl -= 2;
	}
	if (hl >= cap)
		return false;
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr(".-:", h[i]))
			return false;
	if (!set_int(port, colon + 1, 1, 65535))
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	return true;
}

/* Splits a list of words separated by commas or blanks into rows of a
 * table; lower-cases them. False when a word is empty, too long or too
 * many, or has a character outside [a-z0-9.-]. */
static bool set_list(char *rows, size_t row_cap, size_t max_rows,
                     size_t *n_out, const char *v)
{
	size_t n = 0;
	const char *p = v;
	while (*p) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, ", \t");
		if (n >= max_rows || len >= row_cap)
			return false;
		char *row = rows + n * row_cap;
		for (size_t i = 0; i < len; i++) {
			char ch = (char)tolower((unsigned char)p[i]);
			if (!isalnum((unsigned char)ch) && ch != '.' && ch != '-')
				return false;
			row[i] = ch;
		}
		row[len] = '\0';
		n++;
		p += len;
	}
	if (n == 0)
		return false;
	*n_out = n;
	return true;
}

#define STR_KEY(f) { #f, offsetof(struct conf, f), sizeof(((struct conf *)0)->f) }
/* The keys whose value is a plain string (paths and names). */
static const struct { const char *name; size_t off, cap; } str_keys[] = {
	STR_KEY(hostname), STR_KEY(tls_cert), STR_KEY(tls_key),
	STR_KEY(client_ca), STR_KEY(client_ca_key), STR_KEY(database),
	STR_KEY(receipt_key), STR_KEY(data_key), STR_KEY(index_key),
	STR_KEY(policy), STR_KEY(admin_cert), STR_KEY(admin_key),
	STR_KEY(admin_ca), STR_KEY(database_passfile),
};

/* Applies one key/value pair; false with *why set when refused. */
static bool apply(struct conf *c, const char *k, const char *v,
                  const char **why)
{
	*why = "bad value";
	for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++)
		if (strcmp(k, str_keys[i].name) == 0)
			return set_str((char *)c + str_keys[i].off,
				       str_keys[i].cap, v);
	if (strcmp(k, "listen") == 0)
		return set_hostport(c->listen_host, sizeof c->listen_host,
				    &c->listen_port, v);
	if (strcmp(k, "metrics_listen") == 0) {
		if (strcmp(v, "off") == 0) {
			c->metrics_listen_port = 0;
			return true;
		}
		return set_hostport(c->metrics_listen_host,
				    sizeof c->metrics_listen_host,
				    &c->metrics_listen_port, v);
	}
	if (strcmp(k, "platform_hosts") == 0)
		return set_list(&c->hosts.hosts[0][0], sizeof c->hosts.hosts[0],
				NORM_MAX_HOSTS, &c->hosts.n_hosts, v);
	if (strcmp(k, "host_prefixes") == 0)
		return set_list(&c->hosts.prefixes[0][0],
				sizeof c->hosts.prefixes[0], NORM_MAX_PREFIXES,
				&c->hosts.n_prefixes, v);
	if (strcmp(k, "iat_skew") == 0)
		return set_int(&c->iat_skew, v, 1, 86400);
	if (strcmp(k, "claim_minutes") == 0)
		return set_int(&c->claim_minutes, v, 1, 1440);
	if (strcmp(k, "threads") == 0)
		return set_int(&c->threads, v, 0, 256);
	if (strcmp(k, "max_connections") == 0)
		return set_int(&c->max_connections, v, 1, 1000000);
	if (strcmp(k, "connection_timeout") == 0)
		return set_int(&c->connection_timeout, v, 1, 3600);
	if (strcmp(k, "max_body") == 0)
		return set_int(&c->max_body, v, 1024, 64 * 1024);
	if (strcmp(k, "long_poll_max") == 0)
		return set_int(&c->long_poll_max, v, 0, 1000000);
	if (strcmp(k, "long_poll_per_principal") == 0)
		return set_int(&c->long_poll_per_principal, v, 1, 1000000);
	if (strcmp(k, "connections_per_principal") == 0)
		return set_int(&c->connections_per_principal, v, 1, 1000000);
	/* No "0 = unlimited": a quota far above real use costs nothing, and
	 * an unlimited one would let one principal fill the database. */
	if (strcmp(k, "quota_referrals_per_day") == 0)
		return set_i64(&c->quota_referrals_per_day, v, 1, 1000000000);
	if (strcmp(k, "quota_subjects_per_day") == 0)
		return set_i64(&c->quota_subjects_per_day, v, 1, 1000000000);
	if (strcmp(k, "quota_bytes_per_day") == 0)
		return set_i64(&c->quota_bytes_per_day, v, 1024, INT64_C(1) << 40);
	if (strcmp(k, "database_connect_timeout") == 0)
		return set_int(&c->database_connect_timeout, v, 1, 60);
	if (strcmp(k, "database_statement_timeout") == 0)
		return set_int(&c->database_statement_timeout, v, 1, 600);
	if (strcmp(k, "max_db_pages") == 0)
		return set_i64(&c->max_db_pages, v, 0, INT64_C(1) << 40);
	if (strcmp(k, "access_key_max_days") == 0)
		return set_int(&c->access_key_max_days, v, 1, 3660);
	if (strcmp(k, "rate_limit_rps") == 0)
		return set_int(&c->rate_limit_rps, v, 0, 1000000);
	if (strcmp(k, "rate_limit_burst") == 0)
		return set_int(&c->rate_limit_burst, v, 1, 1000000);
	if (strcmp(k, "log_origin") == 0) {
		*why = "not a checkpoint origin (1-200 printable characters,"
		       " no space, no '+')";
		return checkpoint_origin_valid(v) &&
		       set_str(c->log_origin, sizeof c->log_origin, v);
	}
	if (strcmp(k, "audit_sign_interval") == 0)
		return set_int(&c->audit_sign_interval, v, 1, 86400);
	/* At least 30 days: a slip of the keyboard must not erase the case
	 * files of last week; at most 10 years. */
	if (strcmp(k, "retention_days") == 0)
		return set_int(&c->retention_days, v, 30, 3650);
	if (strcmp(k, "retention_interval") == 0)
		return set_int(&c->retention_interval, v, 1, 86400);
	if (strcmp(k, "report_min_count") == 0)
		return set_int(&c->report_min_count, v, 1, 1000);
	if (strcmp(k, "statement_legal_ground") == 0 ||
	    strcmp(k, "statement_terms_ground") == 0) {
		*why = "not a ground (1-500 characters of UTF-8, no control"
		       " characters)";
		return k[10] == 'l'
		       ? set_ground(c->statement_legal_ground,
		                    sizeof c->statement_legal_ground, v)
		       : set_ground(c->statement_terms_ground,
		                    sizeof c->statement_terms_ground, v);
	}
	if (strcmp(k, "statement_territorial_scope") == 0) {
		*why = "not a list of EEA country codes (AT, BE, ..., each once)";
		return set_scope(c, v);
	}
	*why = "unknown key";
	return false;
}

/* Trims blanks at both ends, in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int conf_parse(struct conf *c, const char *text, size_t len, char *err,
               size_t errlen)
{
	char line[LINE_MAX_BYTES];
	size_t pos = 0;
	int lineno = 0;
	if (len > CONF_MAX_BYTES) {
		snprintf(err, errlen, "file larger than %d bytes", CONF_MAX_BYTES);
		return RG_EINVAL;
	}
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n >= sizeof line) {
			snprintf(err, errlen, "line %d: longer than %d bytes",
				 lineno, LINE_MAX_BYTES - 1);
			return RG_EINVAL;
		}
		if (memchr(start, '\0', n)) {
			snprintf(err, errlen, "line %d: NUL byte", lineno);
			return RG_EINVAL;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "line %d: expected key = value", lineno);
			return RG_EINVAL;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		const char *why;
		if (!apply(c, k, v, &why)) {
			snprintf(err, errlen, "line %d: %.64s: %s", lineno, k, why);
			return RG_EINVAL;
		}
	}
	return RG_OK;
}

int conf_check(const struct conf *c, char *err, size_t errlen)
{
	/* A parked long poll holds a connection: more of them than
	 * connections could never park, and the setting would mislead. */
	if (c->long_poll_max > c->max_connections) {
		snprintf(err, errlen, "long_poll_max (%d) is above max_connections"
		         " (%d)", c->long_poll_max, c->max_connections);
		return RG_EINVAL;
	}
	if (c->connections_per_principal > c->max_connections) {
		snprintf(err, errlen, "connections_per_principal (%d) is above"
		         " max_connections (%d)", c->connections_per_principal,
		         c->max_connections);
		return RG_EINVAL;
	}
	if (c->long_poll_per_principal > c->connections_per_principal) {
		snprintf(err, errlen, "long_poll_per_principal (%d) is above"
		         " connections_per_principal (%d)",
		         c->long_poll_per_principal, c->connections_per_principal);
		return RG_EINVAL;
	}
	return RG_OK;
}

int conf_log_origin(const struct conf *c, char *out, size_t outlen)
{
	int n = c->log_origin[0]
		? snprintf(out, outlen, "%s", c->log_origin)
		: snprintf(out, outlen, "%s/refgate", c->hostname);
	if (n < 0 || (size_t)n >= outlen)
		return RG_ETOOBIG;
	return checkpoint_origin_valid(out) ? RG_OK : RG_EINVAL;
}

int conf_path(const struct conf *c, const char *path, char *out,
              size_t outlen)
{
	int n = path[0] == '/' ? snprintf(out, outlen, "%s", path)
			       : snprintf(out, outlen, "%s/%s", c->dir, path);
	if (n < 0 || (size_t)n >= outlen)
		return RG_ETOOBIG;
	return RG_OK;
}

int conf_pg_passfile(const struct conf *c, char *err, size_t errlen)
{
	char p[CONF_PATH_MAX];
	struct stat sb;
	if (!c->database_passfile[0])
		return RG_OK;
	if (conf_path(c, c->database_passfile, p, sizeof p) != RG_OK) {
		snprintf(err, errlen, "database_passfile: path too long");
		return RG_EINVAL;
	}
	if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "database_passfile %s: no such file", p);
		return RG_EINVAL;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen, "database_passfile %s: must be 0600 (it is"
		         " %03o)", p, (unsigned)(sb.st_mode & 0777));
		return RG_EINVAL;
	}
	if (setenv("PGPASSFILE", p, 1) != 0) {
		snprintf(err, errlen, "database_passfile: out of memory");
		return RG_ENOMEM;
	}
	return RG_OK;
}
