/*
 * longpoll.h - parked long polls: a request whose handler asked to wait
 * (response.wait_until) is suspended until a commit wakes it, its
 * deadline passes, its principal or access key is revoked, or the
 * gateway stops. Each principal parks at most long_poll_per_principal
 * polls and the gateway at most long_poll_max. http.c decides when to
 * park; this module keeps the waiters, their timer and the wake-ups.
 * Thread-safe.
 */
#ifndef RG_LONGPOLL_H
#define RG_LONGPOLL_H

#include "request.h"
#include "slots.h"

#include <stdbool.h>
#include <stdint.h>

struct MHD_Connection;
struct longpoll;

/* One request's part in the waiters list: embedded in http.c's
 * per-request state, zeroed at its start, given back by
 * longpoll_finish when the request ends. */
struct longpoll_waiter {
	struct MHD_Connection *conn;     /* suspended while parked */
	const struct request *req;       /* its principal and access key */
	int64_t wait_until;              /* Unix ms; 0: never parked */
	bool parked;                     /* in the list, suspended */
	bool poll_slot;                  /* holds one of its principal's
	                                    long-poll slots (until finished) */
	char slot_owner[RG_NAME_MAX + 1];
	struct longpoll_waiter *prev, *next;
};

enum park_result {
	PARKED,         /* suspended until a commit or its deadline */
	PARK_RETRY,     /* a wake-up came since gen: look again */
	PARK_FULL,      /* stopping, or long_poll_max polls wait: answer now */
	PARK_OVER,      /* its principal holds long_poll_per_principal polls */
};

/* Polls parked under these limits; slots counts the per-principal ones
 * (shared with the connection caps). Starts the deadline timer. NULL on
 * failure. */
struct longpoll *longpoll_start(struct slots *slots, int per_principal,
                                int max_waiting);

/* The wake-up generation: read it before the handler looks for changes
 * and hand it to longpoll_park. */
uint64_t longpoll_generation(struct longpoll *lp);

/* Parks w (suspending its connection) until a commit or deadline (Unix
 * ms), unless its principal already holds as many long polls as it may,
 * a wake-up came after generation gen was read, the gateway is stopping
 * or long_poll_max polls already wait. A poll takes its principal's slot
 * at its first parking and keeps it until longpoll_finish (so a woken
 * poll parks again). */
enum park_result longpoll_park(struct longpoll *lp, struct longpoll_waiter *w,
                               int64_t deadline, uint64_t gen);

/* Whether longpoll_stop began: parked polls are answered at once. */
bool longpoll_stopping(struct longpoll *lp);

/* The request of w ends: out of the list, its slot given back. */
void longpoll_finish(struct longpoll *lp, struct longpoll_waiter *w);

/* Wakes every parked poll (after a commit; does not block). */
void longpoll_wake(struct longpoll *lp);

/* Wakes the polls of principal and those made with access key key_id
 * (either may be NULL) so that they are checked again. lp may be NULL
 * (not started). */
void longpoll_drop(struct longpoll *lp, const char *principal,
                   const char *key_id);

/* How many polls are parked now (for /metrics). */
size_t longpoll_waiting(struct longpoll *lp);

/* Stops parking (longpoll_park answers PARK_FULL from now on) and joins
 * the timer. longpoll_stop(NULL) is a no-op. */
void longpoll_stop(struct longpoll *lp);

/* Resumes every parked poll: once stopping, each is answered at once. */
void longpoll_wake_all(struct longpoll *lp);

/* Frees lp after longpoll_stop, once no request uses it.
 * longpoll_free(NULL) is a no-op. */
void longpoll_free(struct longpoll *lp);

#endif
