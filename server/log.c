/*
 * log.c - JSON-lines logging on stderr (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

/* Appends s JSON-escaped to buf at *pos, never past cap - 1. */
static void put_escaped(char *buf, size_t cap, size_t *pos, const char *s)
{
	for (; s && *s && *pos + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[(*pos)++] = '\\';
			buf[(*pos)++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			*pos += (size_t)snprintf(buf + *pos, cap - *pos, "\\u%04x", c);
		} else {
			buf[(*pos)++] = (char)c;
		}
	}
	buf[*pos] = '\0';
}

static void put_raw(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put_raw(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
	if (*pos >= cap - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n < cap - *pos ? (size_t)n : cap - *pos - 1;
}

static void put_head(char *buf, size_t cap, size_t *pos, enum log_level lvl)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	put_raw(buf, cap, pos, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\"", when,
		ts.tv_nsec / 1000000, level_names[lvl]);
}

static void emit(char *buf, size_t cap, size_t pos)
{
	if (pos > cap - 3)
		pos = cap - 3;
	buf[pos++] = '}';
	buf[pos++] = '\n';
	ssize_t ignored = write(STDERR_FILENO, buf, pos);
	(void)ignored;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[1024], buf[2048];
	size_t pos = 0;
	if (lvl < min_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	put_head(buf, sizeof buf, &pos, lvl);
	put_raw(buf, sizeof buf, &pos, ",\"msg\":\"");
	put_escaped(buf, sizeof buf, &pos, msg);
	put_raw(buf, sizeof buf, &pos, "\"");
	emit(buf, sizeof buf, pos);
}

void log_request(const char *req_id, const char *principal,
                 const char *method, const char *route, int status,
                 const char *code, const char *why, double ms)
{
	char buf[1024];
	size_t pos = 0;
	enum log_level lvl = status >= 500 ? LOG_ERROR : LOG_INFO;
	if (lvl < min_level)
		return;
	put_head(buf, sizeof buf, &pos, lvl);
	put_raw(buf, sizeof buf, &pos, ",\"msg\":\"request\",\"req\":\"");
	put_escaped(buf, sizeof buf, &pos, req_id);
	put_raw(buf, sizeof buf, &pos, "\",\"principal\":\"");
	put_escaped(buf, sizeof buf, &pos, principal ? principal : "");
	put_raw(buf, sizeof buf, &pos, "\",\"method\":\"");
	put_escaped(buf, sizeof buf, &pos, method);
	put_raw(buf, sizeof buf, &pos, "\",\"route\":\"");
	put_escaped(buf, sizeof buf, &pos, route);
	put_raw(buf, sizeof buf, &pos, "\",\"status\":%d", status);
	if (code) {
		put_raw(buf, sizeof buf, &pos, ",\"code\":\"");
		put_escaped(buf, sizeof buf, &pos, code);
		put_raw(buf, sizeof buf, &pos, "\"");
	}
	if (why) {
		put_raw(buf, sizeof buf, &pos, ",\"why\":\"");
		put_escaped(buf, sizeof buf, &pos, why);
		put_raw(buf, sizeof buf, &pos, "\"");
	}
	put_raw(buf, sizeof buf, &pos, ",\"ms\":%.3f", ms);
	emit(buf, sizeof buf, pos);
}
