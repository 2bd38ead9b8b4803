/*
 * dbfix.h - the database under the store's unit tests, on either engine.
 * By default a SQLite file in the test's folder; with RG_TEST_DATABASE
 * set to a postgresql:// URI (tests/integration/helpers/pg.sh starts a
 * throwaway server), that database, emptied before each test (every
 * table dropped), so each test starts from nothing as with a new file.
 * The tests' own look-ups (row counts, a refused UPDATE) go through the
 * engine's client library, beside the store's connections.
 */
#ifndef RG_TEST_DBFIX_H
#define RG_TEST_DBFIX_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>
#include <sqlite3.h>

/* The PostgreSQL URI under test, or NULL for SQLite. */
static inline const char *dbfix_pg(void)
{
	const char *u = getenv("RG_TEST_DATABASE");
	return u && *u ? u : NULL;
}

/* Runs sql (no rows wanted) on the test database; true when it worked. */
static inline bool dbfix_exec(const char *path, const char *sql)
{
	bool ok = false;
	if (dbfix_pg()) {
		PGconn *c = PQconnectdb(dbfix_pg());
		if (PQstatus(c) == CONNECTION_OK) {
			PGresult *r = PQexec(c, sql);
			ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
			     PQresultStatus(r) == PGRES_TUPLES_OK;
			PQclear(r);
		}
		PQfinish(c);
		return ok;
	}
	sqlite3 *db = NULL;
	ok = sqlite3_open(path, &db) == SQLITE_OK &&
	     sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok;
}

/* The integer in the first column of the first row of sql, or -1 when it
 * fails (a missing table, say). */
static inline long long dbfix_int(const char *path, const char *sql)
{
	long long n = -1;
	if (dbfix_pg()) {
		PGconn *c = PQconnectdb(dbfix_pg());
		if (PQstatus(c) == CONNECTION_OK) {
			PGresult *r = PQexec(c, sql);
			if (PQresultStatus(r) == PGRES_TUPLES_OK &&
			    PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
				n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			PQclear(r);
		}
		PQfinish(c);
		return n;
	}
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* Where the test's store lives: the file dir/refgate.db, or the
 * PostgreSQL database, emptied. False when that fails. */
static inline bool dbfix_target(const char *dir, char *path, size_t cap)
{
	if (!dbfix_pg())
		return (size_t)snprintf(path, cap, "%s/refgate.db", dir) < cap;
	if ((size_t)snprintf(path, cap, "%s", dbfix_pg()) >= cap)
		return false;
	return dbfix_exec(path, "SET client_min_messages = warning;"
	                        " DROP SCHEMA public CASCADE;"
	                        " CREATE SCHEMA public");
}

#endif
