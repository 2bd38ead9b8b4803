/*
 * log.h - JSON lines on stderr: one object a line with ts, level, msg and
 * the request's id, principal, route, status and duration. Never a secret,
 * a token, a body or an account identifier. Thread-safe (one write(2) per
 * line).
 */
#ifndef RG_LOG_H
#define RG_LOG_H

#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);

/* A free-form event: msg is printf-formatted and JSON-escaped. */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One access-log line for a finished request. principal, code and why
 * (a refusal's reason for the operator, never sent to the client) may be
 * NULL. */
void log_request(const char *req_id, const char *principal,
                 const char *method, const char *route, int status,
                 const char *code, const char *why, double ms);

#endif
