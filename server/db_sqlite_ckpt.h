/*
 * db_sqlite_ckpt.h - the SQLite writer's WAL checkpoints, off the writer's
 * thread.
 *
 * SQLite's automatic checkpoint runs inside the commit that passes the
 * threshold: that commit, and every referral waiting on it, waits while
 * thousands of pages are copied into a database file of gigabytes and
 * the file is synced. Instead, the writer's WAL hook only wakes a thread
 * of its own, with a connection of its own, which runs a PASSIVE
 * checkpoint (it never waits for readers or the writer, and the writer
 * never waits for it), again after every commit while the WAL is past
 * the threshold, so it copies frames about as fast as they come. SQLite
 * starts the WAL over only when a write begins with every frame back in
 * the file; under steady load that happens when the WAL reaches four
 * times the threshold and the writer checkpoints in its commit as
 * before, now copying only the few frames the thread has not. The WAL
 * stays bounded either way.
 */
#ifndef RG_DB_SQLITE_CKPT_H
#define RG_DB_SQLITE_CKPT_H

#include <sqlite3.h>
#include <stdint.h>

struct sqlite_ckpt;

/* Starts the thread for the WAL database at path whose writer is
 * `writer` (a connection in WAL mode, used by one thread): it installs
 * the writer's WAL hook and turns SQLite's own auto-checkpoint off.
 * pages: the WAL size that wakes the thread. NULL on failure, the
 * writer's settings untouched. */
struct sqlite_ckpt *sqlite_ckpt_start(sqlite3 *writer, const char *path,
                                      int pages, int busy_timeout_ms);

/* Takes the hook off the writer, stops and joins the thread and closes
 * its connection; before the writer closes, from the writer's thread or
 * once it is idle. NULL: nothing. */
void sqlite_ckpt_stop(struct sqlite_ckpt *c);

/* Checkpoints the thread has run (for tests). */
uint64_t sqlite_ckpt_runs(struct sqlite_ckpt *c);

#endif
