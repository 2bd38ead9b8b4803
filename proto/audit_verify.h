/*
 * audit_verify.h - the check of an audit log against its record format
 * (audit_record.h), shared by `refgatectl audit verify` and the console's
 * verification page: the rows must be numbered 1, 2, 3, ... without gaps,
 * each chained to the previous row's hash (32 zero bytes before the first)
 * and hashing to its stored hash; every signed head must carry the hash
 * of the row at its seq and an Ed25519 signature by one of the given keys.
 * A head beyond the last row means rows were deleted from the end. The
 * first bad record is named. Pure: the heads and rows come from the
 * caller (store_audit_verify, server/store.h, reads them from a store).
 */
#ifndef RG_AUDIT_VERIFY_H
#define RG_AUDIT_VERIFY_H

#include "rg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_VERIFY_KEYS_MAX 16
#define AUDIT_VERIFY_BAD 1           /* a bad row or head: the walk stops */
#define AUDIT_VERIFY_END 2           /* a row beyond the end: it stops */

/* One row as stored; prev_hash and hash 32 bytes each. */
struct audit_row {
	int64_t seq, at;
	const char *actor, *kind, *object, *detail;
	const uint8_t *prev_hash, *hash;
};

/* One signed head: the gateway's signature over audit_head_message. */
struct audit_head {
	int64_t seq, at;
	uint8_t hash[32];
	uint8_t sig[64];
};

struct audit_verify {
	/* the caller's: the keys a head may be signed with */
	uint8_t pk[AUDIT_VERIFY_KEYS_MAX][32];
	size_t n_pk;
	/* the verdict */
	bool failed;
	int64_t bad_seq;                 /* the first bad record */
	char why[320];
	int64_t n_rows;                  /* rows checked */
	int64_t last_seq;                /* seq of the last of them */
	int64_t good_head;               /* seq of the last head that held */
	size_t n_heads;
	/* the walk's own */
	struct audit_head *heads;        /* sorted by seq once walking */
	size_t cap_heads, next_head;
	int64_t end;
	uint8_t last_hash[32];
};

/* Adds a signed head to check (before audit_verify_walk). RG_ENOMEM. */
int audit_verify_add_head(struct audit_verify *v, const struct audit_head *h);

/* Checks the next row: 0 to go on, AUDIT_VERIFY_BAD (v says why) or
 * AUDIT_VERIFY_END (a row beyond the end the walk was given). */
int audit_verify_row(struct audit_verify *v, const struct audit_row *r);

/* A page of rows: calls audit_verify_row(v, row) for the rows after seq
 * since, in order, stopping at (and returning) its first non-zero answer;
 * *last is the seq of the last row given (since when none). RG_* on a
 * read failure. */
typedef int (*audit_page_fn)(void *src, int64_t since,
                             struct audit_verify *v, int64_t *last);

/* Walks the rows up to end (the last row once the heads were read: rows
 * appended meanwhile are for the next run; every head read names a row
 * at or before it unless rows were deleted), a page at a time from page,
 * checking the heads as their rows go by. RG_OK with the verdict in v
 * (failed, bad_seq, why), or page's RG_* failure. */
int audit_verify_walk(struct audit_verify *v, int64_t end,
                      audit_page_fn page, void *src);

/* Frees the heads; the keys are wiped. */
void audit_verify_free(struct audit_verify *v);

#endif
