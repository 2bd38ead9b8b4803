/*
 * retention.h - the retention duty (contract section 13): erasing the
 * sealed content and identifier index entries of cases closed longer ago
 * than retention_days, unless a preservation hold covers them. Runs from
 * a thread every retention_interval seconds (default hourly) and on the
 * legal team's request (POST /v1/admin/purge, `refgatectl purge`).
 */
#ifndef RG_RETENTION_H
#define RG_RETENTION_H

#include "app.h"

/* The audit actor of the periodic runs. */
#define RETENTION_ACTOR "refgate-retention"

/* Purges what is due at `now` (cases closed at or before now -
 * retention_days), audited with `actor`, and logs one line with the
 * counts. Thread-safe (the store serialises the work). */
int retention_purge(struct app *app, const char *actor, int64_t now,
                    struct store_purge_result *out);

struct retention;
/* Starts the periodic purge (the first after one interval); NULL on
 * failure. */
struct retention *retention_start(struct app *app);
/* Stops it without a last run. NULL is a no-op. */
void retention_stop(struct retention *r);

#endif
