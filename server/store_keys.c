/*
 * store_keys.c - access keys (contract section 6): issuing one with its
 * scope, finding one by the hash of its secret, whether it covers a case,
 * counting its uses without making a request wait, revoking and listing.
 * The secret never reaches the store, only its BLAKE2b-256.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Room for the longest CIDR text inet_pton takes (45 characters of an
 * IPv4-embedded IPv6 address, "/128") and a comma, per CIDR, and more. */
#define CIDRS_LEN_MAX (ACCESS_KEY_MAX_CIDRS * 64)

/* One allocation: the header, the case pointers, then the text they and
 * the two strings point at. */
struct store_key_holder {
	size_t n_cases;
	const char *cases[];
};

static const char *tier_name(enum key_tier t)
{
	return t == TIER_STATUS ? "status" : t == TIER_DISCLOSURE ? "disclosure"
	                                                          : NULL;
}

/* Code points in a UTF-8 string, or -1 when it is not well-formed UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included). */
static long utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	while (*p) {
		unsigned c = *p, len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2
		           : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4
		           : 0;
		if (!len)
			return -1;
		for (unsigned i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				return -1;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
		    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return -1;
		p += len;
		n++;
	}
	return n;
}

/* "" or up to ACCESS_KEY_MAX_CIDRS comma-separated items made of the
 * characters of IPv4 and IPv6 CIDRs; their syntax is the auth gate's. */
static bool cidrs_valid(const char *s)
{
	size_t n = 1;
	if (!*s)
		return true;
	if (strlen(s) > CIDRS_LEN_MAX)
		return false;
	for (; *s; s++) {
		if (*s == ',')
			n++;
		else if (!strchr("0123456789abcdefABCDEF.:/", *s))
			return false;
	}
	return n <= ACCESS_KEY_MAX_CIDRS;
}

/* The issue arguments' own shape (the case ids' existence is checked in
 * the writer: a malformed one cannot exist, so it is RG_ENOTFOUND). */
static int issue_valid(const char *actor, const struct store_access_key *k,
                       const uint8_t *secret_hash)
{
	if (!actor || !*actor || strlen(actor) > RG_NAME_MAX || !k ||
	    !secret_hash || !rg_id_valid(k->id) ||
	    !rg_name_valid(k->principal) || !tier_name(k->tier) ||
	    !k->legal_basis || (k->cidrs && !cidrs_valid(k->cidrs)) ||
	    k->expires_at <= k->created_at)
		return RG_EINVAL;
	long chars = strlen(k->legal_basis) > 4 * ACCESS_KEY_BASIS_MAX
	             ? -1 : utf8_chars(k->legal_basis);
	if (chars < 1 || chars > ACCESS_KEY_BASIS_MAX)
		return RG_EINVAL;
	if (k->all_own ? k->n_cases != 0
	               : k->n_cases < 1 || k->n_cases > ACCESS_KEY_MAX_CASES ||
	                 !k->cases)
		return RG_EINVAL;
	for (size_t i = 0; i < k->n_cases; i++)
		if (!k->cases[i])
			return RG_EINVAL;
	for (size_t i = 0; i < k->n_cases; i++)
		if (!rg_id_valid(k->cases[i]))
			return RG_ENOTFOUND;
	return RG_OK;
}

/* ---- issuing -------------------------------------------------------- */

struct issue_job {
	const char *actor;
	const struct store_access_key *k;
	const uint8_t *secret_hash;
};

/* RG_OK when the query (?1 text, ?2 blob or nothing) returns a row,
 * RG_ENOTFOUND when it returns none. */
static int row_exists(struct conn *c, const char *sql, const char *text,
                      const uint8_t *blob)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc == RG_OK) {
		sq_text(&q, 1, text);
		if (blob)
			sq_blob(&q, 2, blob, 32);
		rc = sq_step(&q);
		rc = rc == SQ_ROW ? RG_OK : rc == SQ_DONE ? RG_ENOTFOUND : rc;
	}
	sq_close(&q);
	return rc;
}

/* The key row. Its seq_at is 0: a key issued for a case under a legal
 * basis covers that case's whole status history (unlike a referrer, who
 * sees a case from its own first referral on, so that it learns nothing
 * of earlier reporters). */
static int issue_insert(struct txn *t, const struct issue_job *ij)
{
	const struct store_access_key *k = ij->k;
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "INSERT INTO access_keys (id, principal, issued_by,"
	                 " tier, all_own, legal_basis, cidrs, secret_hash,"
	                 " created_at, expires_at, seq_at) VALUES (?1, ?2, ?3,"
	                 " ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0)");
	if (rc == RG_OK) {
		sq_text(&q, 1, k->id);
		sq_text(&q, 2, k->principal);
		sq_text(&q, 3, ij->actor);
		sq_i64(&q, 4, k->tier);
		sq_i64(&q, 5, k->all_own);
		sq_text(&q, 6, k->legal_basis);
		sq_text(&q, 7, k->cidrs ? k->cidrs : "");
		sq_blob(&q, 8, ij->secret_hash, 32);
		sq_i64(&q, 9, k->created_at);
		sq_i64(&q, 10, k->expires_at);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* Lists the key's cases under their live ids; *n the distinct ones. */
static int issue_cases(struct txn *t, const struct store_access_key *k,
                       int64_t *n)
{
	int rc = RG_OK;
	*n = 0;
	for (size_t i = 0; rc == RG_OK && i < k->n_cases; i++) {
		char live[RG_ID_MAX + 1];
		struct q q = { 0 };
		rc = st_case_live(t->c, k->cases[i], live);
		if (rc == RG_OK)
			rc = sq_open(&q, t->c, "INSERT INTO"
			                       " access_key_cases (key_id, case_id)"
			                       " VALUES (?1, ?2)"
			                       " ON CONFLICT DO NOTHING");
		if (rc == RG_OK) {
			sq_text(&q, 1, k->id);
			sq_text(&q, 2, live);
			rc = sq_exec(&q);
		}
		if (rc == RG_OK)
			*n += (size_t)sq_changes(&q);
		sq_close(&q);
	}
	return rc;
}

/* What a listed key may disclose: the identifiers its cases have now, at
 * issue. Kept apart from access_key_cases, which merges repoint: a case
 * the key lists may absorb another account's identifiers later. */
static int issue_idents(struct txn *t, const struct store_access_key *k)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "INSERT INTO access_key_idents"
	                           " (key_id, hash) SELECT a.key_id, i.hash"
	                           " FROM access_key_cases a JOIN case_idents i"
	                           " ON i.case_id = a.case_id WHERE a.key_id = ?1"
	                           " ON CONFLICT DO NOTHING");
	if (rc == RG_OK) {
		sq_text(&q, 1, k->id);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

static int issue_run(struct txn *t, void *arg)
{
	const struct issue_job *ij = arg;
	const struct store_access_key *k = ij->k;
	int64_t n = 0;
	int rc = row_exists(t->c, "SELECT 1 FROM principals WHERE name = ?1"
	                          " AND revoked_at = 0", k->principal, NULL);
	if (rc != RG_OK)
		return rc;
	rc = row_exists(t->c, "SELECT 1 FROM access_keys WHERE id = ?1"
	                      " OR secret_hash = ?2", k->id, ij->secret_hash);
	if (rc != RG_ENOTFOUND)
		return rc == RG_OK ? RG_EEXIST : rc;
	rc = issue_insert(t, ij);
	if (rc == RG_OK)
		rc = issue_cases(t, k, &n);
	if (rc == RG_OK)
		rc = issue_idents(t, k);
	if (rc != RG_OK)
		return rc;
	/* ids, enum names, times (RFC 3339, as everywhere in the audit log)
	 * and the legal basis: never the secret or its hash */
	char expires[21];
	rg_time_format(k->expires_at, expires);
	return st_audit_add_json(t, k->created_at, ij->actor, "key_issue", k->id,
	                         json_pack("{s:s, s:s, s:s, s:b, s:I, s:s, s:s}",
	                                   "id", k->id,
	                                   "principal", k->principal,
	                                   "tier", tier_name(k->tier),
	                                   "all_own", (int)k->all_own,
	                                   "cases", (json_int_t)n,
	                                   "expires_at", expires,
	                                   "legal_basis", k->legal_basis));
}

/* RG_EEXIST (not in the header's list) when the id or the secret hash is
 * taken already. */
int store_access_key_issue(struct store *st, const char *actor,
                           const struct store_access_key *key,
                           const uint8_t secret_hash[32])
{
	struct issue_job ij = { actor, key, secret_hash };
	if (!st)
		return RG_EINVAL;
	int rc = issue_valid(actor, key, secret_hash);
	return rc == RG_OK ? st_write(st, issue_run, &ij) : rc;
}

/* ---- reading -------------------------------------------------------- */

#define KEY_COLS \
	"id, principal, issued_by, tier, all_own, legal_basis, cidrs," \
	" created_at, expires_at, revoked_at, last_used_at, use_count," \
	" secret_hash"

/* Copies column col (TEXT) to *p and advances it; NULL reads as "". */
static const char *text_put(struct q *q, int col, char **p)
{
	const char *s = sq_col_text(q, col);
	size_t n = s ? strlen(s) : 0;
	char *out = *p;
	if (n)
		memcpy(out, s, n);
	out[n] = '\0';
	*p += n + 1;
	return out;
}

/* The key of the row at q (KEY_COLS) in *k, its strings and case list in a
 * new holder; c is the connection q runs on, inside a read snapshot. */
static int key_read(struct conn *c, struct q *q, struct store_access_key *k,
                    struct store_key_holder **hp)
{
	struct store_key_holder *h = NULL;
	struct q cq = { 0 };
	int64_t n = 0;
	*k = (struct store_access_key){
		.tier = (enum key_tier)sq_col_int(q, 3),
		.all_own = sq_col_int(q, 4) != 0,
		.created_at = sq_col_i64(q, 7),
		.expires_at = sq_col_i64(q, 8),
		.revoked_at = sq_col_i64(q, 9),
		.last_used_at = sq_col_i64(q, 10),
		.use_count = sq_col_i64(q, 11),
	};
	int rc = sq_col_str(q, 0, k->id, sizeof k->id);
	if (rc == RG_OK)
		rc = sq_col_str(q, 1, k->principal, sizeof k->principal);
	if (rc == RG_OK)
		rc = sq_col_str(q, 2, k->issued_by, sizeof k->issued_by);
	if (rc != RG_OK)
		return rc;
	/* text first: the bytes count is of the text form */
	size_t text = 2;
	for (int col = 5; col <= 6; col++)
		if (sq_col_text(q, col))
			text += strlen(sq_col_text(q, col));
	int64_t cap = 0;
	rc = sq_open(&cq, c, "SELECT COUNT(*) FROM access_key_cases"
	                     " WHERE key_id = ?1");
	if (rc != RG_OK)
		goto out;
	sq_text(&cq, 1, k->id);
	rc = sq_step(&cq);
	if (rc == SQ_ROW)
		cap = sq_col_i64(&cq, 0);
	sq_close(&cq);
	/* a key is issued with at most the maximum, and merges only fold
	 * its cases together */
	if (rc != SQ_ROW || cap < 0 || cap > ACCESS_KEY_MAX_CASES) {
		rc = rc < 0 ? rc : RG_EIO;
		goto out;
	}
	rc = sq_open(&cq, c, "SELECT case_id FROM access_key_cases"
	                     " WHERE key_id = ?1 ORDER BY case_id");
	if (rc != RG_OK)
		goto out;
	sq_text(&cq, 1, k->id);
	h = malloc(sizeof *h + (size_t)cap * (sizeof h->cases[0] + RG_ID_MAX + 1)
	           + text);
	if (!h) {
		rc = RG_ENOMEM;
		goto out;
	}
	char *p = (char *)&h->cases[cap];
	k->legal_basis = text_put(q, 5, &p);
	k->cidrs = text_put(q, 6, &p);
	while ((rc = sq_step(&cq)) == SQ_ROW) {
		if (n >= cap || (rc = sq_col_str(&cq, 0, p, RG_ID_MAX + 1)) !=
		    RG_OK) {
			rc = RG_EIO;
			goto out;
		}
		h->cases[n++] = p;
		p += strlen(p) + 1;
	}
	if (rc == SQ_DONE)
		rc = n == cap ? RG_OK : RG_EIO;
out:
	sq_close(&cq);
	if (rc != RG_OK) {
		free(h);
		return rc;
	}
	h->n_cases = (size_t)n;
	k->n_cases = h->n_cases;
	k->cases = h->cases;
	*hp = h;
	return RG_OK;
}

struct find_walk {
	const uint8_t *secret_hash;
	struct store_access_key k;
	struct store_key_holder *h;
};

static int find_fn(struct conn *c, void *arg)
{
	struct find_walk *fw = arg;
	uint8_t stored[32];
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT " KEY_COLS " FROM access_keys"
	                        " WHERE secret_hash = ?1");
	if (rc != RG_OK)
		goto out;
	sq_blob(&q, 1, fw->secret_hash, 32);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
	} else if (rc == SQ_ROW && (rc = sq_col_32(&q, 12, stored)) == RG_OK) {
		/* the index found it; a constant-time compare confirms it */
		rc = sodium_memcmp(stored, fw->secret_hash, 32) == 0
		     ? key_read(c, &q, &fw->k, &fw->h) : RG_ENOTFOUND;
	}
out:
	sq_close(&q);
	sodium_memzero(stored, sizeof stored);
	return rc;
}

int store_access_key_find(struct store *st, const uint8_t secret_hash[32],
                          struct store_access_key *out,
                          struct store_key_holder **holder)
{
	struct find_walk fw = { .secret_hash = secret_hash };
	if (!st || !secret_hash || !out || !holder)
		return RG_EINVAL;
	int rc = st_in_snapshot(st, find_fn, &fw);
	if (rc != RG_OK) {
		free(fw.h);
		return rc;
	}
	*out = fw.k;
	*holder = fw.h;
	return RG_OK;
}

void store_access_key_release(struct store_key_holder *holder)
{
	free(holder);
}

/* Decided from the store by key id (a listing follows merges made since
 * the key was found), in one statement, so one snapshot. */
int store_access_key_covers(struct store *st, const struct store_access_key *k,
                            const char *case_id)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !k)
		return RG_EINVAL;
	if (!rg_id_valid(k->id) || !rg_id_valid(case_id))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c,
	             "WITH live(id) AS (SELECT COALESCE((SELECT case_id"
	             "  FROM case_aliases WHERE alias = ?2), ?2))"
	             " SELECT 1 FROM access_keys k, live WHERE k.id = ?1 AND CASE"
	             " WHEN k.all_own <> 0 THEN EXISTS (SELECT 1"
	             "  FROM referral_subjects s JOIN referrals r"
	             "  ON r.id = s.referral_id WHERE s.case_id = live.id"
	             "  AND r.principal = k.principal)"
	             " ELSE EXISTS (SELECT 1 FROM access_key_cases a"
	             "  WHERE a.key_id = k.id AND a.case_id = live.id) END");
	if (rc == RG_OK) {
		sq_text(&q, 1, k->id);
		sq_text(&q, 2, case_id);
		rc = sq_step(&q);
		rc = rc == SQ_ROW ? RG_OK : rc == SQ_DONE ? RG_ENOTFOUND : rc;
	}
	sq_close(&q);
	return rc;
}

/* Decided from the store by key id, in one statement: a listed key by
 * the hashes recorded at its issue, an all_own key by the provenance of
 * its principal's referrals (never by case_idents, which merges widen). */
int store_access_key_ident_allowed(struct store *st,
                                   const struct store_access_key *k,
                                   const uint8_t hash[32])
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !k || !hash)
		return RG_EINVAL;
	if (!rg_id_valid(k->id))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c,
	             "SELECT 1 FROM access_keys k WHERE k.id = ?1 AND CASE"
	             " WHEN k.all_own <> 0 THEN EXISTS (SELECT 1"
	             "  FROM referral_idents i JOIN referrals r"
	             "  ON r.id = i.referral_id WHERE i.hash = ?2"
	             "  AND r.principal = k.principal)"
	             " ELSE EXISTS (SELECT 1 FROM access_key_idents a"
	             "  WHERE a.key_id = k.id AND a.hash = ?2) END");
	if (rc == RG_OK) {
		sq_text(&q, 1, k->id);
		sq_blob(&q, 2, hash, 32);
		rc = sq_step(&q);
		rc = rc == SQ_ROW ? RG_OK : rc == SQ_DONE ? RG_ENOTFOUND : rc;
	}
	sq_close(&q);
	return rc;
}

struct each_walk {
	int (*cb)(void *ctx, const struct store_access_key *k);
	void *ctx;
};

static int keys_each_fn(struct conn *c, void *arg)
{
	const struct each_walk *ew = arg;
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT " KEY_COLS " FROM access_keys"
	                        " ORDER BY created_at DESC, rowid DESC");
	while (rc == RG_OK && (rc = sq_step(&q)) == SQ_ROW) {
		struct store_access_key k;
		struct store_key_holder *h;
		rc = key_read(c, &q, &k, &h);
		if (rc != RG_OK)
			break;
		rc = ew->cb(ew->ctx, &k);
		free(h);
	}
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}

int store_access_keys_each(struct store *st,
                           int (*cb)(void *ctx,
                                     const struct store_access_key *k),
                           void *ctx)
{
	struct each_walk ew = { cb, ctx };
	if (!st || !cb)
		return RG_EINVAL;
	return st_in_snapshot(st, keys_each_fn, &ew);
}

/* ---- uses and revocation -------------------------------------------- */

/* A use (or several, folded) of one key; malloc'd, freed by the writer. */
struct touch_job {
	struct job j;                /* first: free(&j) frees the whole */
	char id[RG_ID_MAX + 1];
	int64_t last;
	int64_t count;
};

static int touch_run(struct txn *t, void *arg)
{
	const struct touch_job *tj = arg;
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "UPDATE access_keys SET"
	                           " last_used_at = CASE WHEN last_used_at > ?2"
	                           "  THEN last_used_at ELSE ?2 END,"
	                           " use_count = use_count + ?3 WHERE id = ?1");
	if (rc == RG_OK) {
		sq_text(&q, 1, tj->id);
		sq_i64(&q, 2, tj->last);
		sq_i64(&q, 3, tj->count);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

static bool touch_merge(struct job *into, const struct job *later)
{
	struct touch_job *a = (struct touch_job *)into;
	const struct touch_job *b = (const struct touch_job *)later;
	if (strcmp(a->id, b->id) != 0)
		return false;
	a->count += b->count;
	if (b->last > a->last)
		a->last = b->last;
	return true;
}

void store_access_key_touch(struct store *st, const char *id, int64_t now)
{
	if (!st || !rg_id_valid(id))
		return;
	struct touch_job *tj = calloc(1, sizeof *tj);
	if (!tj)
		return;                 /* a lost count is acceptable */
	tj->j.run = touch_run;
	tj->j.arg = tj;
	tj->j.merge = touch_merge;
	snprintf(tj->id, sizeof tj->id, "%s", id);
	tj->last = now;
	tj->count = 1;
	st_write_async(st, &tj->j);
}

struct key_revoke_job {
	const char *actor, *id;
	int64_t now;
};

static int key_revoke_run(struct txn *t, void *arg)
{
	const struct key_revoke_job *r = arg;
	char principal[RG_NAME_MAX + 1];
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "UPDATE access_keys SET revoked_at = ?2"
	                           " WHERE id = ?1 AND revoked_at = 0"
	                           " RETURNING principal");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, r->id);
	sq_i64(&q, 2, r->now);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;      /* unknown or already revoked */
	else if (rc == SQ_ROW &&
	         (rc = sq_col_str(&q, 0, principal, sizeof principal)) == RG_OK)
		rc = sq_exec(&q);
out:
	sq_close(&q);
	if (rc != RG_OK)
		return rc;
	return st_audit_add_json(t, r->now, r->actor, "key_revoke", r->id,
	                         json_pack("{s:s, s:s}", "id", r->id,
	                                   "principal", principal));
}

int store_access_key_revoke(struct store *st, const char *actor,
                            const char *id, int64_t now)
{
	struct key_revoke_job r = { actor, id, now };
	if (!st || !actor || !*actor || now <= 0)
		return RG_EINVAL;
	if (!rg_id_valid(id))
		return RG_ENOTFOUND;
	return st_write(st, key_revoke_run, &r);
}

