/*
 * rg.c - result codes, roles, statuses, name and id alphabets, and RFC 3339
 * time helpers shared by every module.
 */
#include "rg.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *rg_strerror(int err)
{
	switch (err) {
	case RG_OK: return "ok";
	case RG_ENOMEM: return "out of memory";
	case RG_EINVAL: return "invalid input";
	case RG_ENOTFOUND: return "not found";
	case RG_ECONFLICT: return "conflict";
	case RG_EEXIST: return "already exists";
	case RG_EIO: return "input/output error";
	case RG_EFULL: return "storage full";
	case RG_ECRYPTO: return "cryptographic failure";
	case RG_EBADSIG: return "bad signature";
	case RG_EBADURL: return "bad URL";
	case RG_ETOOBIG: return "too large";
	case RG_EREPLAY: return "replayed";
	case RG_EQUOTA: return "over quota";
	case RG_ECLAIMED: return "claimed by another reviewer";
	default: return "unknown error";
	}
}

static const char *const role_names[] = {
	[ROLE_PARTNER] = "partner",
	[ROLE_AGENCY] = "agency",
	[ROLE_REVIEWER] = "reviewer",
	[ROLE_LEGAL] = "legal",
};

const char *rg_role_name(enum rg_role role)
{
	if (role <= ROLE_NONE || role > ROLE_LEGAL)
		return NULL;
	return role_names[role];
}

enum rg_role rg_role_parse(const char *name)
{
	for (int r = ROLE_PARTNER; name && r <= ROLE_LEGAL; r++)
		if (strcmp(name, role_names[r]) == 0)
			return (enum rg_role)r;
	return ROLE_NONE;
}

static const char *const status_names[] = {
	[CASE_RECEIVED] = "received",
	[CASE_IN_REVIEW] = "in_review",
	[CASE_ACTIONED] = "actioned",
	[CASE_NO_ACTION] = "no_action",
	[CASE_CANNOT_EXECUTE] = "cannot_execute",
};

const char *rg_status_name(enum case_status s)
{
	if ((unsigned)s > CASE_CANNOT_EXECUTE)
		return "received";
	return status_names[s];
}

int rg_status_parse(const char *name, enum case_status *out)
{
	for (unsigned s = 0; name && s <= CASE_CANNOT_EXECUTE; s++) {
		if (strcmp(name, status_names[s]) == 0) {
			*out = (enum case_status)s;
			return RG_OK;
		}
	}
	return RG_EINVAL;
}

static const char *const action_names[] = {
	[ACTION_NONE] = NULL,
	[ACTION_ACCOUNT_SUSPENDED] = "account_suspended",
	[ACTION_CONTENT_REMOVED] = "content_removed",
	[ACTION_CONTENT_RESTRICTED] = "content_restricted",
};

const char *rg_action_name(enum case_action a)
{
	if ((unsigned)a > ACTION_CONTENT_RESTRICTED)
		return NULL;
	return action_names[a];
}

int rg_action_parse(const char *name, enum case_action *out)
{
	for (unsigned a = ACTION_ACCOUNT_SUSPENDED;
	     name && a <= ACTION_CONTENT_RESTRICTED; a++) {
		if (strcmp(name, action_names[a]) == 0) {
			*out = (enum case_action)a;
			return RG_OK;
		}
	}
	return RG_EINVAL;
}

static bool in_set(char c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c != '\0' && strchr(extra, c));
}

bool rg_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > RG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  (i > 0 && (c == '_' || c == '.' || c == '-'));
		if (!ok)
			return false;
	}
	return true;
}

bool rg_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > RG_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!in_set(id[i], "_-"))
			return false;
	return true;
}

static unsigned char id_cluster_key[crypto_shorthash_KEYBYTES];
static pthread_once_t id_cluster_once = PTHREAD_ONCE_INIT;

static void id_cluster_key_make(void)
{
	randombytes_buf(id_cluster_key, sizeof id_cluster_key);
}

/* base64url of n bytes into out (room for the characters and a NUL). */
static void id_b64(char *out, size_t cap, const uint8_t *in, size_t n)
{
	sodium_bin2base64(out, cap, in, n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void rg_id_at(const char *prefix, uint64_t ms, char out[RG_ID_MAX + 1])
{
	uint8_t window[8], mac[crypto_shorthash_BYTES], rnd[16];
	char cluster[8], tail[sodium_base64_ENCODED_LEN(16,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	pthread_once(&id_cluster_once, id_cluster_key_make);
	uint64_t w = ms / RG_ID_CLUSTER_MS;
	for (int i = 0; i < 8; i++)
		window[i] = (uint8_t)(w >> (8 * i));
	crypto_shorthash(mac, window, sizeof window, id_cluster_key);
	id_b64(cluster, sizeof cluster, mac, 3);     /* 4 characters */
	randombytes_buf(rnd, sizeof rnd);
	id_b64(tail, sizeof tail, rnd, sizeof rnd);
	snprintf(out, RG_ID_MAX + 1, "%.8s%.*s%s", prefix,
	         RG_ID_CLUSTER_CHARS, cluster, tail);
}

void rg_id_new(const char *prefix, char out[RG_ID_MAX + 1])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	rg_id_at(prefix, (uint64_t)ts.tv_sec * 1000u +
	                 (uint64_t)ts.tv_nsec / 1000000u, out);
}

bool rg_kid_valid(const char *kid)
{
	size_t n = kid ? strlen(kid) : 0;
	if (n == 0 || n > RG_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!in_set(kid[i], "_.:-"))
			return false;
	return true;
}

void rg_time_format(int64_t unix_seconds, char buf[21])
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;
	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		memcpy(buf, "1970-01-01T00:00:00Z", 21);
}

/* Reads exactly n digits at *p into *out; advances *p. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

int rg_time_parse(const char *text, int64_t *out)
{
	const char *p = text;
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
	if (!p || !digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return RG_EINVAL;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
	    *p++ != ':' || !digits(&p, 2, &s))
		return RG_EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return RG_EINVAL;
		for (int i = 0; *p >= '0' && *p <= '9'; i++, p++)
			if (i >= 9)
				return RG_EINVAL;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return RG_EINVAL;
	} else {
		return RG_EINVAL;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 ||
	    mi > 59 || s > 60)
		return RG_EINVAL;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return RG_EINVAL;
	/* days from civil (Howard Hinnant's algorithm) */
	int yy = y - (mo <= 2);
	int era = yy / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	int64_t t = days * 86400 + h * 3600 + mi * 60 + (s == 60 ? 59 : s);
	t -= sign * (oh * 3600 + om * 60);
	*out = t;
	return RG_OK;
}

bool rg_json_depth_ok(const void *text, size_t n, unsigned max)
{
	const unsigned char *s = text;
	unsigned depth = 0;
	bool in_str = false, esc = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return false;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return true;
}

int rg_b64_decode_exact(const char *s, size_t len, uint8_t *out, size_t want,
                        int variant)
{
	char again[256];
	size_t n = 0;
	const char *end = NULL;
	if (!s || !out || want == 0 ||
	    sodium_base64_encoded_len(want, variant) > sizeof again ||
	    sodium_base64_encoded_len(want, variant) != len + 1)
		goto refuse;
	if (sodium_base642bin(out, want, s, len, NULL, &n, &end, variant) != 0 ||
	    n != want || end != s + len)
		goto refuse;
	sodium_bin2base64(again, sizeof again, out, want, variant);
	if (memcmp(again, s, len) != 0 || again[len] != '\0')
		goto refuse;
	return RG_OK;
refuse:
	if (out && want)
		sodium_memzero(out, want);
	return RG_EINVAL;
}
