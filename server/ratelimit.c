/*
 * ratelimit.c - per-principal token buckets in a small open-addressing
 * table under striped locks (see ratelimit.h). Principals are few (tens
 * to thousands), so the table grows by doubling and never shrinks.
 */
#include "ratelimit.h"
#include "../proto/rg.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 16
#define STRIPE_SLOTS_MIN 64

struct bucket {
	char name[RG_NAME_MAX + 1];
	double tokens;
	int64_t last_ms;
};

struct stripe {
	pthread_mutex_t lock;
	struct bucket *slots;
	size_t cap, used;
};

struct ratelimit {
	double rate, burst;
	struct stripe stripe[STRIPES];
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct ratelimit *ratelimit_new(double rate, double burst)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);
	if (!rl)
		return NULL;
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&rl->stripe[i].lock, NULL);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < STRIPES; i++) {
		pthread_mutex_destroy(&rl->stripe[i].lock);
		free(rl->stripe[i].slots);
	}
	free(rl);
}

/* Finds or inserts name's bucket in a stripe (locked by the caller). */
static struct bucket *find(struct ratelimit *rl, struct stripe *s,
                           const char *name, uint64_t h, int64_t now_ms)
{
	if (s->used * 2 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : STRIPE_SLOTS_MIN;
		struct bucket *slots = calloc(cap, sizeof *slots);
		if (!slots)
			return NULL;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slots[i].name[0])
				continue;
			size_t j = (hash_name(s->slots[i].name) / STRIPES) & (cap - 1);
			while (slots[j].name[0])
				j = (j + 1) & (cap - 1);
			slots[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	size_t j = (h / STRIPES) & (s->cap - 1);
	while (s->slots[j].name[0]) {
		if (strcmp(s->slots[j].name, name) == 0)
			return &s->slots[j];
		j = (j + 1) & (s->cap - 1);
	}
	struct bucket *b = &s->slots[j];
	strncpy(b->name, name, RG_NAME_MAX);
	b->tokens = rl->burst;
	b->last_ms = now_ms;
	s->used++;
	return b;
}

bool ratelimit_take(struct ratelimit *rl, const char *name, int64_t now_ms,
                    int *retry_after)
{
	if (!rl || rl->rate <= 0)
		return true;
	uint64_t h = hash_name(name);
	struct stripe *s = &rl->stripe[h % STRIPES];
	bool ok = true;
	pthread_mutex_lock(&s->lock);
	struct bucket *b = find(rl, s, name, h, now_ms);
	if (b) {
		double elapsed = (double)(now_ms - b->last_ms) / 1000.0;
		if (elapsed > 0) {
			b->tokens = fmin(rl->burst, b->tokens + elapsed * rl->rate);
			b->last_ms = now_ms;
		}
		if (b->tokens >= 1.0) {
			b->tokens -= 1.0;
		} else {
			ok = false;
			*retry_after = (int)ceil((1.0 - b->tokens) / rl->rate);
			if (*retry_after < 1)
				*retry_after = 1;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}
