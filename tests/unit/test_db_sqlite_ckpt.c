/* test_db_sqlite_ckpt.c - the writer's WAL checkpoint thread: a WAL past
 * the threshold is copied into the database file by the thread, not by
 * the writer's commit; below it nothing is copied; stopping takes the
 * hook off the writer, which then commits as before. A real SQLite file
 * in a temporary folder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../server/db_sqlite_ckpt.h"

#define THRESHOLD 64    /* pages */

struct fx {
	char dir[64], path[96];
	sqlite3 *w;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/rgckpt.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
	assert_int_equal(sqlite3_open(f->path, &f->w), SQLITE_OK);
	assert_int_equal(sqlite3_exec(f->w, "PRAGMA journal_mode=WAL;"
	                              " CREATE TABLE t (x BLOB NOT NULL)",
	                              NULL, NULL, NULL), SQLITE_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];
	sqlite3_close(f->w);
	const char *sfx[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Frames in the WAL file (a 32-byte header, then 24 + 4096 bytes a
 * frame). */
static long wal_frames(const struct fx *f)
{
	char p[128];
	snprintf(p, sizeof p, "%s-wal", f->path);
	off_t n = file_size(p);
	return n > 32 ? (long)((n - 32) / (24 + 4096)) : 0;
}

/* n rows of a 3000-byte blob (about a page each), one commit each. */
static void insert(sqlite3 *w, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(sqlite3_exec(w, "INSERT INTO t (x) VALUES"
		                              " (randomblob(3000))", NULL, NULL,
		                              NULL), SQLITE_OK);
}

/* Waits until the thread has run n checkpoints. */
static void wait_runs(struct sqlite_ckpt *c, uint64_t n)
{
	/* the thread runs when woken; a liveness bound, not a speed one */
	for (int i = 0; i < 3000 && sqlite_ckpt_runs(c) < n; i++) {
		struct timespec pause = { 0, 10000000 };
		nanosleep(&pause, NULL);
	}
	assert_true(sqlite_ckpt_runs(c) >= n);
}

static void test_thread_checkpoints(void **state)
{
	struct fx *f = *state;
	struct sqlite_ckpt *c = sqlite_ckpt_start(f->w, f->path, THRESHOLD,
	                                          1000);
	assert_non_null(c);
	off_t before = file_size(f->path);
	/* below the threshold: nothing wakes the thread, nothing is copied
	 * (SQLite's own auto-checkpoint would not have run either) */
	insert(f->w, THRESHOLD / 4);
	assert_int_equal(sqlite_ckpt_runs(c), 0);
	assert_int_equal(file_size(f->path), before);
	/* just past it (a commit writes two or three frames: the row's page
	 * and the tree's), far short of where the writer would checkpoint
	 * itself (four times the threshold) */
	int rows = THRESHOLD / 4;
	while (wal_frames(f) < THRESHOLD + 4) {
		insert(f->w, 1);
		rows++;
	}
	assert_true(wal_frames(f) < 2 * THRESHOLD);
	wait_runs(c, 1);
	/* the rows' pages are now in the database file */
	assert_true(file_size(f->path) >= before + (off_t)(rows / 2) * 3000);
	sqlite_ckpt_stop(c);
	/* the writer goes on without its hook */
	insert(f->w, 4);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(f->w, "SELECT count(*) FROM t", -1,
	                                    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), rows + 4);
	sqlite3_finalize(s);
}

/* A connection that cannot be made (no such file): no thread, and the
 * writer keeps SQLite's own checkpoints. */
static void test_start_fails(void **state)
{
	struct fx *f = *state;
	char missing[128];
	snprintf(missing, sizeof missing, "%s/none/x.db", f->dir);
	assert_null(sqlite_ckpt_start(f->w, missing, THRESHOLD, 10));
	assert_null(sqlite_ckpt_start(f->w, f->path, 0, 10));
	sqlite_ckpt_stop(NULL);
	off_t before = file_size(f->path);
	insert(f->w, 1100);      /* past SQLite's default of 1000 pages */
	assert_true(file_size(f->path) > before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thread_checkpoints, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_start_fails, setup,
		                                teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
