/*
 * console_html.c - the console's HTML buffer and escaper (see
 * console_html.h).
 */
#include "console_html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct html *h, size_t more)
{
	if (h->failed)
		return false;
	if (more > HTML_MAX - h->len) {
		h->failed = true;
		return false;
	}
	if (h->len + more + 1 <= h->cap)
		return true;
	size_t cap = h->cap ? h->cap : 4096;
	while (cap < h->len + more + 1)
		cap *= 2;
	char *nb = realloc(h->buf, cap);
	if (!nb) {
		h->failed = true;
		return false;
	}
	h->buf = nb;
	h->cap = cap;
	return true;
}

void html_raw_n(struct html *h, const char *s, size_t n)
{
	if (!grow(h, n))
		return;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

/* The length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes
 * there are not one (overlong forms, surrogates and code points above
 * U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
		       (s[3] & 0xC0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* The replacement of one character, or NULL to copy it as it is; *n is
 * the number of input bytes it covers. */
static const char *escape_of(const unsigned char *s, size_t *n)
{
	*n = 1;
	switch (*s) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	case '\t': case '\n': case '\r': return NULL;
	default: break;
	}
	if (*s < 0x20 || *s == 0x7f)
		return "\xEF\xBF\xBD";
	size_t k = utf8_seq(s);
	if (k == 0)
		return "\xEF\xBF\xBD";
	*n = k;
	return NULL;
}

size_t html_escape(const char *s, char *out, size_t cap)
{
	size_t j = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (p && *p) {
		size_t n;
		const char *rep = escape_of(p, &n);
		const char *src = rep ? rep : (const char *)p;
		size_t len = rep ? strlen(rep) : n;
		if (len >= cap - j)
			return (size_t)-1;
		memcpy(out + j, src, len);
		j += len;
		p += n;
	}
	if (cap == 0)
		return (size_t)-1;
	out[j] = '\0';
	return j;
}

void html_text(struct html *h, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (p && *p && !h->failed) {
		size_t n;
		const char *rep = escape_of(p, &n);
		if (rep)
			html_raw_n(h, rep, strlen(rep));
		else
			html_raw_n(h, (const char *)p, n);
		p += n;
	}
}

void html_textf(struct html *h, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->failed = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		html_text(h, small);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		h->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	html_text(h, big);
	free(big);
}

void html_int(struct html *h, long long v)
{
	char b[24];
	int n = snprintf(b, sizeof b, "%lld", v);
	html_raw_n(h, b, (size_t)n);
}

bool html_take(struct html *h, char **out, size_t *len)
{
	if (h->failed || !h->buf)
		return false;
	*out = h->buf;
	*len = h->len;
	h->buf = NULL;
	h->len = h->cap = 0;
	return true;
}

void html_free(struct html *h)
{
	free(h->buf);
	h->buf = NULL;
	h->len = h->cap = 0;
}

void html_countdown(struct html *h, int64_t t, int64_t now)
{
	int64_t d = t >= now ? t - now : now - t;
	long long days = d / 86400, hours = d % 86400 / 3600,
	          mins = d % 3600 / 60;
	if (t >= now)
		HTML_RAW(h, "in ");
	if (days)
		html_textf(h, "%lld d %02lld h", days, hours);
	else if (hours)
		html_textf(h, "%lld h %02lld min", hours, mins);
	else
		html_textf(h, "%lld min", d < 60 ? 0LL : mins);
	if (t < now)
		HTML_RAW(h, " ago");
}
