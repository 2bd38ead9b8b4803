/*
 * test_store_ro.c - the store opened read-only (store_opts.read_only),
 * as `refgatectl audit verify` opens it beside a running gateway: it
 * reads what a writer committed, creates and migrates nothing, writes
 * nothing, and its file descriptor on the database is read-only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../server/store.h"

#define T0 1800000000

static const struct store_opts ro = { .read_only = true };

struct fx {
	char dir[64];
	char path[160];
	struct store *w;             /* the writer, as the gateway holds it */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/rg_ro_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/refgate.db", f->dir);
	assert_int_equal(store_open(f->path, NULL, &f->w), RG_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[64 + 1 + 256];
	store_free(f->w);
	DIR *d = opendir(f->dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%.64s/%s", f->dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	int rc = rmdir(f->dir);
	free(f);
	return rc;
}

static int count_row(void *ctx, const struct store_audit *a)
{
	(void)a;
	(*(int64_t *)ctx)++;
	return 0;
}

static int64_t audit_rows(struct store *st)
{
	int64_t n = 0, last = 0;
	assert_int_equal(store_audit_each(st, 0, 1000000, count_row, &n, &last),
	                 RG_OK);
	return n;
}

/* The access mode of this process's descriptor on path (O_RDONLY,
 * O_RDWR), or -1 when it has none. */
static int fd_mode(const char *path)
{
	char real[PATH_MAX], link[32 + 256], target[PATH_MAX];
	int mode = -1;
	assert_non_null(realpath(path, real));
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, real) == 0)
			mode = fcntl(atoi(e->d_name), F_GETFL) & O_ACCMODE;
	}
	closedir(d);
	return mode;
}

/* What the writer committed is read; the writer goes on writing while
 * the read-only store is open, and that is read too. */
static void test_reads_beside_writer(void **state)
{
	struct fx *f = *state;
	struct store *r = NULL;
	int64_t seq = 0;
	uint8_t hash[32];

	assert_int_equal(store_audit_append(f->w, "legal", "note", "x",
	                                    "{}", T0), RG_OK);
	assert_int_equal(store_open(f->path, &ro, &r), RG_OK);
	assert_int_equal(audit_rows(r), 1);
	assert_int_equal(store_audit_append(f->w, "legal", "note", "y",
	                                    "{}", T0 + 1), RG_OK);
	assert_int_equal(audit_rows(r), 2);
	assert_int_equal(store_audit_head(r, &seq, hash), RG_OK);
	assert_int_equal(seq, 2);
	store_free(r);
}

/* Every write answers RG_EINVAL at once (no writer would ever take it)
 * and leaves nothing behind. */
static void test_writes_refused(void **state)
{
	struct fx *f = *state;
	struct store *r = NULL;
	uint8_t spki[32] = { 1 }, hash[32] = { 0 }, sig[64] = { 0 };
	struct store_cert_in cert = { .pem = "pem", .not_after = T0 + 86400 };
	memcpy(cert.spki_sha256, spki, 32);

	assert_int_equal(store_open(f->path, &ro, &r), RG_OK);
	assert_int_equal(store_audit_append(r, "legal", "note", "x", "{}", T0),
	                 RG_EINVAL);
	assert_int_equal(store_principal_enrol(r, "legal", "pave",
	                                       ROLE_PARTNER, &cert, 1, NULL, 0,
	                                       T0), RG_EINVAL);
	assert_int_equal(store_audit_head_sign(r, 1, hash, T0, sig),
	                 RG_EINVAL);
	assert_int_equal(audit_rows(r), 0);
	store_free(r);
	/* positive control: the same writes through the writer succeed */
	assert_int_equal(store_principal_enrol(f->w, "legal", "pave",
	                                       ROLE_PARTNER, &cert, 1, NULL, 0,
	                                       T0), RG_OK);
	assert_int_equal(audit_rows(f->w), 1);
}

/* Its descriptor on the database file is O_RDONLY (the writer's, open in
 * the same process, is O_RDWR: the control). */
static void test_file_opened_read_only(void **state)
{
	struct fx *f = *state;
	struct store *r = NULL;
	assert_int_equal(fd_mode(f->path), O_RDWR);
	store_free(f->w);
	f->w = NULL;
	assert_int_equal(fd_mode(f->path), -1);
	assert_int_equal(store_open(f->path, &ro, &r), RG_OK);
	assert_int_equal(fd_mode(f->path), O_RDONLY);
	assert_int_equal(audit_rows(r), 0);
	store_free(r);
}

/* A missing file is not created; a file without refgate's schema, or of
 * another schema version, is refused (nothing is migrated). */
static void test_refuses_what_it_would_have_to_make(void **state)
{
	struct fx *f = *state;
	struct store *r = NULL;
	char other[200];
	struct stat sb;
	sqlite3 *db = NULL;

	snprintf(other, sizeof other, "%s/absent.db", f->dir);
	assert_int_not_equal(store_open(other, &ro, &r), RG_OK);
	assert_null(r);
	assert_int_equal(stat(other, &sb), -1);

	snprintf(other, sizeof other, "%s/plain.db", f->dir);
	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x INTEGER)", NULL,
	                              NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(other, &ro, &r), RG_EIO);
	assert_null(r);

	/* this build's database with its version bumped past this build */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 9999", NULL,
	                              NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &ro, &r), RG_EIO);
	assert_null(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_beside_writer,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_refused,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_opened_read_only,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_refuses_what_it_would_have_to_make, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
