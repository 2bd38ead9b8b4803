/*
 * normalise.c - canonical account identifiers (contract section 2):
 * handles, account ids, and the profile and post URLs of the platform's
 * hosts, so that referrals naming one account meet in one case.
 */
#include "normalise.h"

#include <string.h>
#include <strings.h>

/* A path is split into at most this many segments; more is refused
 * unless the pattern ignores its tail (/<handle>/status/<n>/...). */
#define NORM_MAX_SEGMENTS 4
/* Post ids are decimal, like account ids. */
#define NORM_POST_ID_MAX 20

/* First path segments that are the platform's own pages, never a handle
 * (compared case-insensitively, as the platform routes them). */
static const char *const reserved_segments[] = {
	"about", "account", "bookmarks", "communities", "compose",
	"connect_people", "download", "explore", "hashtag", "home", "i",
	"intent", "jobs", "lists", "login", "logout", "messages",
	"notifications", "oauth", "privacy", "rules", "search", "settings",
	"share", "signup", "topics", "tos", "who_to_follow",
};

/* Second segments of "/<handle>/<tab>" that still name the account. */
static const char *const profile_tabs[] = {
	"articles", "followers", "followers_you_follow", "following",
	"header_photo", "highlights", "likes", "lists", "media", "photo",
	"verified_followers", "with_replies",
};

#define N_OF(a) (sizeof (a) / sizeof (a)[0])

/* A piece of the URL: not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

/* True when span s equals word, ignoring ASCII case. */
static bool span_is(struct span s, const char *word)
{
	return strlen(word) == s.n && strncasecmp(s.p, word, s.n) == 0;
}

/* True when s is one of the n words in list, ignoring ASCII case. */
static bool span_in(struct span s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (span_is(s, list[i]))
			return true;
	return false;
}

/* True when s is 1-max decimal digits. */
static bool span_digits(struct span s, size_t max)
{
	if (s.n == 0 || s.n > max)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

/* True for the characters of a handle. */
static bool handle_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

int norm_handle(const char *in, char out[REFERRAL_HANDLE_MAX + 1])
{
	if (!in)
		return RG_EINVAL;
	if (in[0] == '@')
		in++;
	size_t n = strlen(in);
	if (n == 0 || n > REFERRAL_HANDLE_MAX)
		return RG_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!handle_char(in[i]))
			return RG_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return RG_OK;
}

int norm_account_id(const char *in, char out[REFERRAL_ACCOUNT_ID_MAX + 1])
{
	if (!in)
		return RG_EINVAL;
	size_t n = strlen(in);
	if (n == 0 || n > REFERRAL_ACCOUNT_ID_MAX || strspn(in, "0123456789") != n)
		return RG_EINVAL;
	size_t z = strspn(in, "0");
	if (z == n)
		z = n - 1;        /* all zeros: keep one */
	memcpy(out, in + z, n - z + 1);
	return RG_OK;
}

/* Normalises a handle taken from a URL path segment (no '@' there). */
static int span_handle(struct span s, char out[REFERRAL_HANDLE_MAX + 1],
		       const char **why)
{
	char buf[REFERRAL_HANDLE_MAX + 1];
	if (memchr(s.p, '%', s.n)) {
		*why = "has a percent-encoded handle";
		return RG_EBADURL;
	}
	if (s.n == 0 || s.n > REFERRAL_HANDLE_MAX) {
		*why = "has an invalid handle";
		return RG_EBADURL;
	}
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	if (buf[0] == '@' || norm_handle(buf, out) != RG_OK) {
		*why = "has an invalid handle";
		return RG_EBADURL;
	}
	return RG_OK;
}

/* True when host is one of the platform's hosts. */
static bool host_listed(const struct norm_hosts *hosts, const char *host)
{
	for (size_t i = 0; i < hosts->n_hosts && i < NORM_MAX_HOSTS; i++)
		if (strcmp(hosts->hosts[i], host) == 0)
			return true;
	return false;
}

/* True when host is a platform host, or one behind one alias prefix. */
static bool host_on_platform(const struct norm_hosts *hosts, const char *host)
{
	if (host_listed(hosts, host))
		return true;
	for (size_t i = 0; i < hosts->n_prefixes && i < NORM_MAX_PREFIXES; i++) {
		const char *pre = hosts->prefixes[i];
		size_t n = strnlen(pre, sizeof hosts->prefixes[i]);
		if (n > 0 && strncmp(host, pre, n) == 0 && host[n] == '.' &&
		    host_listed(hosts, host + n + 1))
			return true;
	}
	return false;
}

/*
 * True when the (lower-case, dot-trimmed) host is an IPv4 address in any
 * of the forms a browser accepts: its last label is a number.
 */
static bool host_is_ip(const char *host)
{
	const char *last = strrchr(host, '.');
	last = last ? last + 1 : host;
	if (strncmp(last, "0x", 2) == 0)
		return true;
	return *last != '\0' && strspn(last, "0123456789") == strlen(last);
}

/*
 * Checks the authority (host and port) of a URL: no userinfo, no IP
 * literal, the scheme's own port or none, a platform host. Returns RG_OK
 * or RG_EBADURL with *why.
 */
static int check_authority(const struct norm_hosts *hosts, struct span a,
			   unsigned default_port, const char **why)
{
	char host[NORM_HOST_MAX + 2];
	if (memchr(a.p, '@', a.n)) {
		*why = "has user information";
		return RG_EBADURL;
	}
	if (a.n > 0 && a.p[0] == '[') {
		*why = "has an IP address as host";
		return RG_EBADURL;
	}
	const char *colon = memchr(a.p, ':', a.n);
	size_t hn = colon ? (size_t)(colon - a.p) : a.n;
	if (colon) {
		/* An empty port means the default (RFC 3986 3.2.3). */
		unsigned long port = default_port;
		size_t pn = a.n - hn - 1;
		if (pn > 0) {
			port = 0;
			for (size_t i = 0; i < pn; i++) {
				char c = colon[1 + i];
				if (c < '0' || c > '9' || port > 65535) {
					*why = "has an invalid port";
					return RG_EBADURL;
				}
				port = port * 10 + (unsigned long)(c - '0');
			}
		}
		if (port != default_port) {
			*why = "has a port other than the scheme's default";
			return RG_EBADURL;
		}
	}
	if (hn > NORM_HOST_MAX + 1) {
		*why = "has an invalid host";
		return RG_EBADURL;
	}
	for (size_t i = 0; i < hn; i++) {
		char c = a.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-')) {
			*why = "has an invalid host";
			return RG_EBADURL;
		}
		host[i] = c;
	}
	if (hn > 0 && host[hn - 1] == '.')
		hn--;             /* the root label: "x.com." is "x.com" */
	host[hn] = '\0';
	if (hn == 0) {
		*why = "has no host";
		return RG_EBADURL;
	}
	if (host_is_ip(host)) {
		*why = "has an IP address as host";
		return RG_EBADURL;
	}
	if (!host_on_platform(hosts, host)) {
		*why = "is not on the platform's hosts";
		return RG_EBADURL;
	}
	return RG_OK;
}

/*
 * Splits an absolute path into segments. A single trailing '/' is
 * ignored; other empty segments are refused. Returns the total number of
 * segments (seg holds the first NORM_MAX_SEGMENTS; the path is at most
 * 2048 bytes, so the count fits), 0 for "/" or "", or -1 when malformed.
 */
static int split_path(struct span path, struct span seg[NORM_MAX_SEGMENTS])
{
	if (path.n == 0)
		return 0;
	if (path.p[0] != '/')
		return -1;
	const char *p = path.p + 1;
	const char *end = path.p + path.n;
	int n = 0;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash ? slash : end;
		if (stop == p)
			return -1;          /* "//" */
		if (n < NORM_MAX_SEGMENTS)
			seg[n] = (struct span){p, (size_t)(stop - p)};
		n++;
		p = slash ? slash + 1 : end;
	}
	return n;
}

/*
 * Reads the account out of a path (segments seg, n in all). Fills out
 * with a handle or an account id, or returns RG_EBADURL with *why.
 */
static int path_account(const struct span *seg, int n,
			struct subject_ids *out, const char **why)
{
	if (n <= 0) {
		*why = "names no account";
		return RG_EBADURL;
	}
	if (span_is(seg[0], "i")) {
		if (n == 3 && span_is(seg[1], "user") &&
		    span_digits(seg[2], REFERRAL_ACCOUNT_ID_MAX)) {
			char id[REFERRAL_ACCOUNT_ID_MAX + 1];
			memcpy(id, seg[2].p, seg[2].n);
			id[seg[2].n] = '\0';
			if (norm_account_id(id, out->account_id) != RG_OK) {
				*why = "has an invalid account id";
				return RG_EBADURL;
			}
			return RG_OK;
		}
		if (n >= 3 && span_is(seg[1], "web") && span_is(seg[2], "status")) {
			*why = "names a post but not its account";
			return RG_EBADURL;
		}
		*why = "names no account";
		return RG_EBADURL;
	}
	if (span_in(seg[0], reserved_segments, N_OF(reserved_segments))) {
		*why = "names no account";
		return RG_EBADURL;
	}
	bool ok = n == 1 ||
		  (n == 2 && span_in(seg[1], profile_tabs, N_OF(profile_tabs))) ||
		  (n >= 3 && span_is(seg[1], "status") &&
		   span_digits(seg[2], NORM_POST_ID_MAX)) ||
		  (n == 3 && span_is(seg[1], "statuses") &&
		   span_digits(seg[2], NORM_POST_ID_MAX));
	if (!ok) {
		*why = "is not a profile or post URL";
		return RG_EBADURL;
	}
	return span_handle(seg[0], out->handle, why);
}

int norm_url(const struct norm_hosts *hosts, const char *url,
	     struct subject_ids *out, const char **why)
{
	struct subject_ids ids = {{0}, {0}};
	struct span seg[NORM_MAX_SEGMENTS], authority, path;
	const char *reason = "is not a valid URL";
	const char *p;
	unsigned port;
	size_t len;
	int n, rc = RG_EBADURL;

	if (!hosts || !url || !out)
		goto out;
	len = strlen(url);
	if (len > REFERRAL_URL_MAX) {
		reason = "is too long";
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)url[i];
		if (b <= 0x20 || b >= 0x7F || b == '\\')
			goto out;   /* not a URI character (RFC 3986) */
	}
	if (strncasecmp(url, "https://", 8) == 0) {
		p = url + 8;
		port = 443;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		p = url + 7;
		port = 80;
	} else {
		reason = "is not an http or https URL";
		goto out;
	}
	authority = (struct span){p, strcspn(p, "/?#")};
	rc = check_authority(hosts, authority, port, &reason);
	if (rc != RG_OK)
		goto out;
	/* the query and the fragment are dropped */
	path = (struct span){p + authority.n, strcspn(p + authority.n, "?#")};
	rc = RG_EBADURL;
	n = split_path(path, seg);
	if (n < 0) {
		reason = "is not a profile or post URL";
		goto out;
	}
	rc = path_account(seg, n, &ids, &reason);
	if (rc != RG_OK)
		goto out;
	*out = ids;
out:
	if (rc != RG_OK && why)
		*why = reason;
	return rc;
}

int norm_subject(const struct norm_hosts *hosts,
		 const struct referral_subject *subject,
		 struct subject_ids *out, const char **field,
		 const char **why)
{
	struct subject_ids ids = {{0}, {0}}, from_url = {{0}, {0}};
	const char *f = "";
	const char *reason = "names no account";
	int rc = RG_EINVAL;

	if (!hosts || !subject || !out)
		goto out;
	if (subject->account_id[0] &&
	    norm_account_id(subject->account_id, ids.account_id) != RG_OK) {
		f = "account_id";
		reason = "must be 1-20 decimal digits";
		goto out;
	}
	if (subject->handle[0] && norm_handle(subject->handle, ids.handle) != RG_OK) {
		f = "handle";
		reason = "must be 1-50 letters, digits or _, optionally after one @";
		goto out;
	}
	if (subject->url[0]) {
		f = "url";
		rc = norm_url(hosts, subject->url, &from_url, &reason);
		if (rc != RG_OK)
			goto out;
		rc = RG_EBADURL;
		if (from_url.handle[0] && ids.handle[0] &&
		    strcmp(from_url.handle, ids.handle) != 0) {
			reason = "names another account than the handle";
			goto out;
		}
		if (from_url.account_id[0] && ids.account_id[0] &&
		    strcmp(from_url.account_id, ids.account_id) != 0) {
			reason = "names another account than the account_id";
			goto out;
		}
		if (from_url.handle[0])
			memcpy(ids.handle, from_url.handle, sizeof ids.handle);
		if (from_url.account_id[0])
			memcpy(ids.account_id, from_url.account_id,
			       sizeof ids.account_id);
	}
	if (!ids.account_id[0] && !ids.handle[0]) {
		/* an empty subject: "" points at the subject itself */
		f = "";
		rc = RG_EINVAL;
		goto out;
	}
	*out = ids;
	rc = RG_OK;
out:
	if (rc != RG_OK) {
		if (field)
			*field = f;
		if (why)
			*why = reason;
	}
	return rc;
}
