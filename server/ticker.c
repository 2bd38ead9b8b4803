/*
 * ticker.c - a periodic duty's thread (see ticker.h).
 */
#include "ticker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct ticker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* signalled by ticker_stop */
	bool stop;
	int interval;
	void (*fn)(void *arg);
	void *arg;
};

static void *ticker_main(void *p)
{
	struct ticker *t = p;
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += t->interval;
		pthread_cond_timedwait(&t->cond, &t->lock, &ts);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->lock);
		t->fn(t->arg);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

struct ticker *ticker_start(int interval_seconds, void (*fn)(void *arg),
                            void *arg)
{
	struct ticker *t = fn ? calloc(1, sizeof *t) : NULL;
	if (!t)
		return NULL;
	t->interval = interval_seconds > 0 ? interval_seconds : 1;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

void ticker_stop(struct ticker *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->fn(t->arg);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
