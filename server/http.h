/*
 * http.h - the HTTPS listener (libmicrohttpd over GnuTLS): TLS 1.2/1.3
 * with AEAD suites, a client certificate on every request, an epoll
 * thread pool, limits from the configuration, long polls parked with
 * suspend/resume (longpoll.c), the operations listener beside it (ops.c).
 * With those two and listen.c, the only modules that see libmicrohttpd
 * types.
 */
#ifndef RG_HTTP_H
#define RG_HTTP_H

#include "app.h"

struct http;

/* Starts listening as app->conf says. NULL with a log line on failure. */
struct http *http_start(struct app *app);

/* Wakes every parked long poll so it re-checks for changes (called by the
 * store's writer after a commit; must not block). */
void http_wake_polls(void *http);

/* Answers at once the parked long polls of `principal` (when not NULL)
 * and those made with access key `key_id` (when not NULL): each is
 * checked again and, its principal or key being revoked, answered 401 as
 * a new request would be. Called after a revocation is durable. */
void http_drop_polls(void *http, const char *principal, const char *key_id);

/* Stops accepting, answers parked long polls, lets in-flight requests
 * finish (at most grace_seconds), then stops. http_stop(NULL) is a no-op. */
void http_stop(struct http *h, int grace_seconds);

#endif
