/*
 * expiry.h - the certificate expiry watch: the server certificate and
 * every active principal's latest certificate, published as metrics and
 * warned about in the log ahead of their expiry.
 */
#ifndef RG_EXPIRY_H
#define RG_EXPIRY_H

#include "app.h"

/* Warn this many days before a certificate expires. */
#define EXPIRY_WARN_DAYS 30

struct expiry_watch;

/* Checks once now, then every hour. NULL (after a log line) when the
 * thread cannot start; the gateway runs on without the watch. */
struct expiry_watch *expiry_watch_start(struct app *app);
/* NULL is a no-op. */
void expiry_watch_stop(struct expiry_watch *w);

/* One check at time now (tests call it with a chosen now): publishes the
 * metrics and, when warn is true, logs one warning per certificate that
 * expires within EXPIRY_WARN_DAYS (or has expired). Returns how many
 * principals' certificates it warned about. */
int expiry_check(struct app *app, int64_t server_not_after, int64_t now,
                 bool warn);

/* The notAfter of the PEM certificate at path, or 0 when unreadable. */
int64_t expiry_cert_not_after(const char *path);

#endif
