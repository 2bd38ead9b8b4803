/*
 * viewcache.c - rendered case views by key and generation (viewcache.h):
 * a direct-mapped table, one lock per slot.
 */
#include "viewcache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct slot {
	pthread_mutex_t mu;
	uint64_t gen;
	char key[VIEWCACHE_KEY_MAX];   /* "" when empty */
	char etag[72];
	char *body;
	size_t len;
};

struct viewcache {
	size_t n;
	uint8_t hkey[crypto_shorthash_KEYBYTES];   /* keyed: no chosen collisions */
	struct slot *slots;
};

struct viewcache *viewcache_new(size_t slots)
{
	struct viewcache *vc = calloc(1, sizeof *vc);
	if (!vc)
		return NULL;
	vc->n = slots ? slots : 1;
	vc->slots = calloc(vc->n, sizeof *vc->slots);
	if (!vc->slots) {
		free(vc);
		return NULL;
	}
	randombytes_buf(vc->hkey, sizeof vc->hkey);
	for (size_t i = 0; i < vc->n; i++)
		pthread_mutex_init(&vc->slots[i].mu, NULL);
	return vc;
}

void viewcache_free(struct viewcache *vc)
{
	if (!vc)
		return;
	for (size_t i = 0; i < vc->n; i++) {
		pthread_mutex_destroy(&vc->slots[i].mu);
		free(vc->slots[i].body);
	}
	free(vc->slots);
	free(vc);
}

static struct slot *slot_of(struct viewcache *vc, const char *key)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;
	crypto_shorthash(h, (const uint8_t *)key, strlen(key), vc->hkey);
	memcpy(&v, h, sizeof v);
	return &vc->slots[v % vc->n];
}

bool viewcache_get(struct viewcache *vc, const char *key, uint64_t gen,
                   char **body, size_t *len, char etag[72])
{
	if (!vc || strlen(key) >= VIEWCACHE_KEY_MAX)
		return false;
	struct slot *s = slot_of(vc, key);
	bool hit = false;
	pthread_mutex_lock(&s->mu);
	if (s->body && s->gen == gen && strcmp(s->key, key) == 0) {
		char *copy = malloc(s->len + 1);
		if (copy) {
			memcpy(copy, s->body, s->len);
			copy[s->len] = '\0';
			*body = copy;
			*len = s->len;
			memcpy(etag, s->etag, sizeof s->etag);
			hit = true;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return hit;
}

void viewcache_put(struct viewcache *vc, const char *key, uint64_t gen,
                   const char *body, size_t len, const char *etag)
{
	if (!vc || len > VIEWCACHE_BODY_MAX || strlen(key) >= VIEWCACHE_KEY_MAX ||
	    strlen(etag) >= 72)
		return;
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, body, len);
	struct slot *s = slot_of(vc, key);
	pthread_mutex_lock(&s->mu);
	free(s->body);
	s->body = copy;
	s->len = len;
	s->gen = gen;
	snprintf(s->key, sizeof s->key, "%s", key);
	snprintf(s->etag, sizeof s->etag, "%s", etag);
	pthread_mutex_unlock(&s->mu);
}
