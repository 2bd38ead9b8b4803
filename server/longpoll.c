/*
 * longpoll.c - parked long polls (see longpoll.h): the waiters list, the
 * timer that answers those whose wait ran out, and the wake-ups after a
 * commit or a revocation.
 */
#include "longpoll.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct longpoll {
	struct slots *slots;           /* per-principal poll slots */
	int per_principal, max_waiting;
	pthread_mutex_t lock;          /* guards everything below */
	struct longpoll_waiter *waiters;
	size_t n_waiting;
	bool stopping;
	uint64_t wake_gen;             /* bumped by every wake-up */
	pthread_t timer;
	pthread_cond_t timer_cond;
	bool timer_started;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Removes w from the waiters list; the caller holds lp->lock. */
static void unpark_locked(struct longpoll *lp, struct longpoll_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		lp->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->parked = false;
	lp->n_waiting--;
}

/* Resumes every parked poll (all, or only those past their deadline). */
static void resume_waiters(struct longpoll *lp, bool only_expired, int64_t now)
{
	pthread_mutex_lock(&lp->lock);
	struct longpoll_waiter *w = lp->waiters;
	while (w) {
		struct longpoll_waiter *next = w->next;
		if (!only_expired || w->wait_until <= now || lp->stopping) {
			unpark_locked(lp, w);
			MHD_resume_connection(w->conn);
		}
		w = next;
	}
	pthread_mutex_unlock(&lp->lock);
}

/* Resumes long polls whose wait has run out, ten times a second. */
static void *timer_main(void *arg)
{
	struct longpoll *lp = arg;
	pthread_mutex_lock(&lp->lock);
	while (!lp->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&lp->timer_cond, &lp->lock, &ts);
		if (lp->stopping || !lp->waiters)
			continue;
		pthread_mutex_unlock(&lp->lock);
		resume_waiters(lp, true, now_ms());
		pthread_mutex_lock(&lp->lock);
	}
	pthread_mutex_unlock(&lp->lock);
	return NULL;
}

struct longpoll *longpoll_start(struct slots *slots, int per_principal,
                                int max_waiting)
{
	struct longpoll *lp = calloc(1, sizeof *lp);
	if (!lp)
		return NULL;
	lp->slots = slots;
	lp->per_principal = per_principal;
	lp->max_waiting = max_waiting;
	pthread_mutex_init(&lp->lock, NULL);
	pthread_cond_init(&lp->timer_cond, NULL);
	if (pthread_create(&lp->timer, NULL, timer_main, lp) != 0) {
		longpoll_free(lp);
		return NULL;
	}
	lp->timer_started = true;
	return lp;
}

uint64_t longpoll_generation(struct longpoll *lp)
{
	pthread_mutex_lock(&lp->lock);
	uint64_t gen = lp->wake_gen;
	pthread_mutex_unlock(&lp->lock);
	return gen;
}

enum park_result longpoll_park(struct longpoll *lp, struct longpoll_waiter *w,
                               int64_t deadline, uint64_t gen)
{
	enum park_result r = PARK_FULL;
	if (!w->poll_slot) {
		const char *name = w->req->principal.name;
		if (!slots_take(lp->slots, SLOT_POLL, name, lp->per_principal))
			return PARK_OVER;
		snprintf(w->slot_owner, sizeof w->slot_owner, "%s", name);
		w->poll_slot = true;
	}
	pthread_mutex_lock(&lp->lock);
	if (lp->wake_gen != gen && !lp->stopping) {
		r = PARK_RETRY;
	} else if (!lp->stopping && lp->n_waiting < (size_t)lp->max_waiting) {
		w->wait_until = deadline;
		w->parked = true;
		w->prev = NULL;
		w->next = lp->waiters;
		if (lp->waiters)
			lp->waiters->prev = w;
		lp->waiters = w;
		lp->n_waiting++;
		MHD_suspend_connection(w->conn);
		pthread_cond_signal(&lp->timer_cond);
		r = PARKED;
	}
	pthread_mutex_unlock(&lp->lock);
	return r;
}

bool longpoll_stopping(struct longpoll *lp)
{
	pthread_mutex_lock(&lp->lock);
	bool stopping = lp->stopping;
	pthread_mutex_unlock(&lp->lock);
	return stopping;
}

void longpoll_finish(struct longpoll *lp, struct longpoll_waiter *w)
{
	pthread_mutex_lock(&lp->lock);
	if (w->parked)
		unpark_locked(lp, w);
	pthread_mutex_unlock(&lp->lock);
	if (w->poll_slot)
		slots_give(lp->slots, SLOT_POLL, w->slot_owner);
	w->poll_slot = false;
}

void longpoll_wake(struct longpoll *lp)
{
	pthread_mutex_lock(&lp->lock);
	lp->wake_gen++;
	pthread_mutex_unlock(&lp->lock);
	resume_waiters(lp, false, 0);
}

void longpoll_drop(struct longpoll *lp, const char *principal,
                   const char *key_id)
{
	if (!lp || (!principal && !key_id))
		return;
	pthread_mutex_lock(&lp->lock);
	/* A poll between its handler and parking sees this and looks again,
	 * checking its credentials first (http.c's on_request). */
	lp->wake_gen++;
	struct longpoll_waiter *w = lp->waiters;
	while (w) {
		struct longpoll_waiter *next = w->next;
		const struct request *req = w->req;
		bool hit = (principal &&
			    strcmp(req->principal.name, principal) == 0) ||
			   (key_id && req->key && strcmp(req->key->id, key_id) == 0);
		if (hit) {
			unpark_locked(lp, w);
			MHD_resume_connection(w->conn);
		}
		w = next;
	}
	pthread_mutex_unlock(&lp->lock);
}

size_t longpoll_waiting(struct longpoll *lp)
{
	pthread_mutex_lock(&lp->lock);
	size_t n = lp->n_waiting;
	pthread_mutex_unlock(&lp->lock);
	return n;
}

void longpoll_stop(struct longpoll *lp)
{
	if (!lp)
		return;
	pthread_mutex_lock(&lp->lock);
	lp->stopping = true;
	pthread_cond_signal(&lp->timer_cond);
	pthread_mutex_unlock(&lp->lock);
	if (lp->timer_started)
		pthread_join(lp->timer, NULL);
	lp->timer_started = false;
}

void longpoll_wake_all(struct longpoll *lp)
{
	resume_waiters(lp, false, 0);
}

void longpoll_free(struct longpoll *lp)
{
	if (!lp)
		return;
	longpoll_stop(lp);
	pthread_cond_destroy(&lp->timer_cond);
	pthread_mutex_destroy(&lp->lock);
	free(lp);
}
