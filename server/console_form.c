/*
 * console_form.c - application/x-www-form-urlencoded bodies, decoded
 * into at most FORM_MAX_FIELDS name/value pairs (see console_int.h).
 */
#include "console_int.h"

#include <stdlib.h>
#include <string.h>

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes [s, s+n) into out (room for n + 1); RG_EINVAL on a bad escape
 * or a NUL. */
static int decode(const uint8_t *s, size_t n, char *out)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return RG_EINVAL;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return RG_EINVAL;
			c = (uint8_t)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0')
			return RG_EINVAL;
		out[j++] = (char)c;
	}
	out[j] = '\0';
	return RG_OK;
}

/* Whether s is valid UTF-8 (html_escape would change no byte of it
 * but the five it escapes and control characters). */
static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 :
		           c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (k == 0)
			return false;
		for (size_t i = 1; i < k; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
		    (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
			return false;
		p += k;
	}
	return true;
}

int form_parse(const uint8_t *body, size_t len, struct form *f)
{
	memset(f, 0, sizeof *f);
	if (len == 0)
		return RG_OK;
	/* decoding only shortens: 2 * len bytes hold every name and value */
	f->mem = malloc(2 * len + 2);
	if (!f->mem)
		return RG_ENOMEM;
	char *w = f->mem;
	size_t i = 0;
	int rc = RG_OK;
	while (i <= len && rc == RG_OK) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		size_t eq = i;
		while (eq < end && body[eq] != '=')
			eq++;
		if (end == i) {              /* "a=1&&b=2", a trailing '&' */
			i = end + 1;
			continue;
		}
		if (f->n == FORM_MAX_FIELDS || eq == i) {
			rc = RG_EINVAL;
			break;
		}
		char *name = w;
		rc = decode(body + i, eq - i, name);
		if (rc != RG_OK)
			break;
		w += strlen(name) + 1;
		char *value = w;
		rc = decode(body + (eq < end ? eq + 1 : end),
		            eq < end ? end - eq - 1 : 0, value);
		if (rc != RG_OK)
			break;
		w += strlen(value) + 1;
		if (!*name || !utf8_ok(name) || !utf8_ok(value) ||
		    form_get(f, name)) {
			rc = RG_EINVAL;
			break;
		}
		f->name[f->n] = name;
		f->value[f->n] = value;
		f->n++;
		i = end + 1;
	}
	if (rc != RG_OK)
		form_free(f);
	return rc;
}

const char *form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	return NULL;
}

const char *form_nonempty(const struct form *f, const char *name)
{
	const char *v = form_get(f, name);
	return v && *v ? v : NULL;
}

void form_free(struct form *f)
{
	free(f->mem);
	memset(f, 0, sizeof *f);
}
