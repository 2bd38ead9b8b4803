/*
 * ticker.h - a thread that runs one function every N seconds, and once more
 * when stopped: the periodic duties (signing audit heads, signing log
 * checkpoints) share it.
 */
#ifndef RG_TICKER_H
#define RG_TICKER_H

struct ticker;

/* Starts a thread that calls fn(arg) every interval_seconds (at least 1)
 * until ticker_stop. NULL when the thread cannot start. */
struct ticker *ticker_start(int interval_seconds, void (*fn)(void *arg),
                            void *arg);

/* Wakes and joins the thread, calls fn(arg) once more in the caller's
 * thread (a last round at shutdown), and frees. NULL is a no-op. */
void ticker_stop(struct ticker *t);

#endif
