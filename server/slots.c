/*
 * slots.c - per-principal counts of held connections and long polls (see
 * slots.h): a small open-addressing table under one lock, grown by
 * doubling. Taken and given once per connection and per parked poll, so
 * one lock is no bottleneck.
 */
#include "slots.h"
#include "../proto/rg.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS_MIN 64

struct entry {
	char name[RG_NAME_MAX + 1];
	int held[SLOT_KINDS];
};

struct slots {
	pthread_mutex_t lock;
	struct entry *tab;
	size_t cap, used;
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct slots *slots_new(void)
{
	struct slots *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

void slots_free(struct slots *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->tab);
	free(s);
}

/* Name's entry; made when `make` (NULL when out of memory), else NULL
 * when absent. The caller holds the lock. */
static struct entry *lookup(struct slots *s, const char *name, bool make)
{
	if (make && s->used * 2 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : SLOTS_MIN;
		struct entry *tab = calloc(cap, sizeof *tab);
		if (!tab)
			return NULL;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->tab[i].name[0])
				continue;
			size_t j = hash_name(s->tab[i].name) & (cap - 1);
			while (tab[j].name[0])
				j = (j + 1) & (cap - 1);
			tab[j] = s->tab[i];
		}
		free(s->tab);
		s->tab = tab;
		s->cap = cap;
	}
	if (!s->cap)
		return NULL;
	size_t j = hash_name(name) & (s->cap - 1);
	while (s->tab[j].name[0]) {
		if (strcmp(s->tab[j].name, name) == 0)
			return &s->tab[j];
		j = (j + 1) & (s->cap - 1);
	}
	if (!make)
		return NULL;
	struct entry *e = &s->tab[j];
	memset(e, 0, sizeof *e);
	strncpy(e->name, name, RG_NAME_MAX);
	s->used++;
	return e;
}

bool slots_take(struct slots *s, enum slot_kind kind, const char *name,
                int cap)
{
	bool taken = false;
	if (!s || !name || !name[0] || (unsigned)kind >= SLOT_KINDS)
		return false;
	pthread_mutex_lock(&s->lock);
	struct entry *e = lookup(s, name, true);
	if (e && e->held[kind] < cap) {
		e->held[kind]++;
		taken = true;
	}
	pthread_mutex_unlock(&s->lock);
	return taken;
}

void slots_give(struct slots *s, enum slot_kind kind, const char *name)
{
	if (!s || !name || !name[0] || (unsigned)kind >= SLOT_KINDS)
		return;
	pthread_mutex_lock(&s->lock);
	struct entry *e = lookup(s, name, false);
	if (e && e->held[kind] > 0)
		e->held[kind]--;
	pthread_mutex_unlock(&s->lock);
}

int slots_held(struct slots *s, enum slot_kind kind, const char *name)
{
	int n = 0;
	if (!s || !name || (unsigned)kind >= SLOT_KINDS)
		return 0;
	pthread_mutex_lock(&s->lock);
	struct entry *e = lookup(s, name, false);
	if (e)
		n = e->held[kind];
	pthread_mutex_unlock(&s->lock);
	return n;
}
