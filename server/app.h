/*
 * app.h - the daemon's context, one per process: configuration, keys,
 * storage, the disclosure policy and the long-poll registry. Built by
 * main.c, handed to every handler through struct request; nothing here is
 * mutable without its own lock.
 */
#ifndef RG_APP_H
#define RG_APP_H

#include "../proto/checkpoint.h"
#include "../proto/conf.h"
#include "keys.h"
#include "policy.h"
#include "ratelimit.h"
#include "store.h"
#include "viewcache.h"

#include <pthread.h>
#include <stdatomic.h>

struct app {
	struct conf conf;
	struct keys keys;
	struct store *store;
	struct policy_holder policy;      /* swapped on SIGHUP */
	char *client_ca_pem;              /* verifies enrolled certificates */
	char *jwks_json;                  /* GET /v1/keys body, made at start */
	char log_origin[CHECKPOINT_ORIGIN_MAX + 1];   /* checkpoints' origin */
	struct ratelimit *ratelimit;      /* per-principal token buckets */
	void *http;                       /* struct http, http.c's own */
	struct viewcache *views;          /* rendered case views */
};

#endif
