/*
 * console_html.h - the web console's HTML renderer: a growable buffer
 * that takes markup only as string literals (HTML_RAW) and every value
 * through html_text, which escapes it for element content and quoted
 * attribute values alike. Nothing here knows about requests.
 */
#ifndef RG_CONSOLE_HTML_H
#define RG_CONSOLE_HTML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest page the console renders; past it the page fails. */
#define HTML_MAX (4u * 1024 * 1024)

struct html {
	char *buf;                   /* malloc'd, NUL-terminated */
	size_t len, cap;
	bool failed;                 /* out of memory or over HTML_MAX */
};

/* Appends n bytes of markup as they are. Use HTML_RAW. */
void html_raw_n(struct html *h, const char *s, size_t n);
/* Markup: only a string literal compiles here ("" lit "" would not
 * accept a pointer), so no value reaches the page unescaped. */
#define HTML_RAW(h, lit) html_raw_n((h), "" lit "", sizeof(lit) - 1)

/*
 * Appends text escaped for element content and for an attribute value in
 * double or single quotes: & < > " ' become entities; control characters
 * other than tab, newline and carriage return, and bytes that are not
 * valid UTF-8, become U+FFFD. NULL appends nothing.
 */
void html_text(struct html *h, const char *s);
/* html_text of the printf-formatted string (the format, too, is text:
 * markup never goes through here). */
void html_textf(struct html *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A decimal integer. */
void html_int(struct html *h, long long v);

/* Escapes s into out (a convenience for tests): returns the length
 * written, or (size_t)-1 when out is too small. */
size_t html_escape(const char *s, char *out, size_t cap);

/* Takes the page: *out (malloc'd) and *len; the html is empty after.
 * false (and nothing taken) when it failed. */
bool html_take(struct html *h, char **out, size_t *len);
/* Frees what the buffer holds. */
void html_free(struct html *h);

/* "in 42 min", "in 3 h 05 min", "5 min ago", ... for t against now. */
void html_countdown(struct html *h, int64_t t, int64_t now);

#endif
