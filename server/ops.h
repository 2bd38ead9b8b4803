/*
 * ops.h - the operations listener: plain HTTP on a loopback address
 * (metrics_listen), GET /healthz (can the gateway read its storage) and
 * GET /metrics (Prometheus text), nothing else, no request body.
 */
#ifndef RG_OPS_H
#define RG_OPS_H

#include "app.h"

#include <stdint.h>

struct ops;

/* What the HTTPS listener reports for /metrics: open connections and
 * parked long polls. */
typedef void (*ops_gauges_fn)(void *ctx, uint64_t *connections,
                              uint64_t *waiting_polls);

/* Starts the listener when app->conf.metrics_listen is set (*out NULL
 * when not). RG_OK, or an error with a log line (not a loopback
 * address, cannot listen). */
int ops_start(struct app *app, ops_gauges_fn gauges, void *ctx,
              struct ops **out);

/* Stops the listener; ops_stop(NULL) is a no-op. */
void ops_stop(struct ops *o);

#endif
