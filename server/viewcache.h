/*
 * viewcache.h - a bounded in-memory cache of rendered case views (the
 * answer body of GET /v1/cases/{id} and its ETag), so that a poller's
 * read of a case that did not change touches no database. Each entry is
 * tagged with the store's case generation (store_case_generation), read
 * before the view was built: a commit that changes any case moves the
 * generation, and an entry of another generation is never served. The
 * key names everything else the view depends on (the policy's
 * generation, the principal, its role, the access key, the id asked
 * for). Credentials are not its business: the auth gate checks the
 * principal and the access key on every request, cached view or not.
 * Thread-safe.
 */
#ifndef RG_VIEWCACHE_H
#define RG_VIEWCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIEWCACHE_KEY_MAX 256
#define VIEWCACHE_BODY_MAX 8192    /* larger views are not kept */

struct viewcache;

/* A cache of `slots` entries (at least 1); NULL when out of memory. */
struct viewcache *viewcache_new(size_t slots);
/* Frees it and every entry. NULL is a no-op. */
void viewcache_free(struct viewcache *vc);

/* The entry for key made at generation `gen`: a malloc'd copy of its
 * body in *body (*len bytes) and its ETag in etag. False when there is
 * none of that generation (or no memory for the copy). */
bool viewcache_get(struct viewcache *vc, const char *key, uint64_t gen,
                   char **body, size_t *len, char etag[72]);
/* Keeps a copy of body[0..len) and etag under key for generation gen,
 * replacing what the slot held (the cache is direct-mapped: a bounded
 * number of entries, the newest wins). Larger bodies or keys than the
 * limits above are not kept. */
void viewcache_put(struct viewcache *vc, const char *key, uint64_t gen,
                   const char *body, size_t len, const char *etag);

#endif
