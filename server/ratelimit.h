/*
 * ratelimit.h - per-principal token buckets: each principal may make
 * `rate` requests a second on average with bursts up to `burst`; one
 * principal over budget never slows another. Thread-safe.
 */
#ifndef RG_RATELIMIT_H
#define RG_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* rate <= 0 turns limiting off. */
struct ratelimit *ratelimit_new(double rate, double burst);
void ratelimit_free(struct ratelimit *rl);

/* Takes one token from name's bucket at time now_ms. True when allowed;
 * otherwise false and *retry_after (whole seconds, >= 1) says when the
 * next token is due. */
bool ratelimit_take(struct ratelimit *rl, const char *name, int64_t now_ms,
                    int *retry_after);

#endif
