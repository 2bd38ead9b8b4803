/*
 * store_log.c - the transparency log's storage: leaves appended in the
 * referral's own transaction, the perfect-subtree hashes that make every
 * proof O(log n) reads (proto/merkle.c builds proofs from them), and the
 * signed checkpoints, made only in the writer from the committed tree.
 */
#include "store_int.h"
#include "../proto/merkle.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int st_log_size(struct conn *c, uint64_t *size)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves");
	if (rc == RG_OK && (rc = sq_step(&q)) == SQ_ROW) {
		int64_t v = sq_col_i64(&q, 0);
		rc = v >= 0 ? RG_OK : RG_EIO;
		*size = (uint64_t)v;
	} else if (rc == SQ_DONE) {
		rc = RG_EIO;
	}
	sq_close(&q);
	return rc;
}

/* merkle_node_fn over a connection: the stored perfect subtree hash. */
static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
	struct conn *c = ctx;
	struct q q = { 0 };
	if (level > 62 || index > (uint64_t)INT64_MAX)
		return RG_EINVAL;
	int rc = sq_open(&q, c, "SELECT hash FROM log_nodes"
	                        " WHERE level = ?1 AND idx = ?2");
	if (rc == RG_OK) {
		sq_i64(&q, 1, (int64_t)level);
		sq_i64(&q, 2, (int64_t)index);
		rc = sq_step(&q);
		if (rc == SQ_ROW)
			rc = sq_col_32(&q, 0, out);
		else if (rc == SQ_DONE)
			rc = RG_EIO;    /* a node the tree must have is missing */
	}
	sq_close(&q);
	return rc;
}

static int node_put(struct txn *t, unsigned level, uint64_t index,
                    const uint8_t hash[32])
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "INSERT INTO log_nodes (level, idx, hash)"
	                           " VALUES (?1, ?2, ?3)");
	if (rc == RG_OK) {
		sq_i64(&q, 1, (int64_t)level);
		sq_i64(&q, 2, (int64_t)index);
		sq_blob(&q, 3, hash, 32);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

int st_log_append(struct txn *t, const char *referral_id, uint64_t index,
                  const void *payload, size_t len)
{
	struct q q = { 0 };
	uint8_t h[32], left[32];
	if (index >= MERKLE_MAX_SIZE || !payload || !len)
		return RG_EINVAL;
	int rc = sq_open(&q, t->c, "INSERT INTO log_leaves (idx, referral_id,"
	                           " payload) VALUES (?1, ?2, ?3)");
	if (rc == RG_OK) {
		sq_i64(&q, 1, (int64_t)index);
		sq_text(&q, 2, referral_id);
		sq_blob(&q, 3, payload, len);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	merkle_leaf_hash(payload, len, h);
	unsigned level = 0;
	if (rc == RG_OK)
		rc = node_put(t, level, index, h);
	/* Each right child completes its parent: hash upwards while the
	 * node just stored is one. */
	while (rc == RG_OK && (index & 1)) {
		rc = node_get(t->c, level, index - 1, left);
		if (rc != RG_OK)
			break;
		merkle_node_hash(left, h, h);
		level++;
		index >>= 1;
		rc = node_put(t, level, index, h);
	}
	return rc;
}

int st_log_leaf(struct conn *c, const char *referral_id, int64_t *index,
                char **payload, size_t *len)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT idx, payload FROM log_leaves"
	                        " WHERE referral_id = ?1");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, referral_id);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
		goto out;
	}
	if (rc != SQ_ROW)
		goto out;
	size_t n = 0;
	const void *p = sq_col_blob(&q, 1, &n);
	char *copy = p && n > 0 ? malloc(n + 1) : NULL;
	if (!copy) {
		rc = p && n > 0 ? RG_ENOMEM : RG_EIO;
		goto out;
	}
	memcpy(copy, p, n);
	copy[n] = '\0';
	*index = sq_col_i64(&q, 0);
	*payload = copy;
	*len = (size_t)n;
	rc = RG_OK;
out:
	sq_close(&q);
	return rc;
}

/* ---- reads ---------------------------------------------------------- */

static int size_fn(struct conn *c, void *arg)
{
	return st_log_size(c, arg);
}

int store_log_size(struct store *st, uint64_t *size)
{
	uint64_t v = 0;
	if (!st || !size)
		return RG_EINVAL;
	int rc = st_in_snapshot(st, size_fn, &v);
	if (rc == RG_OK)
		*size = v;
	return rc;
}

/* The latest checkpoint on connection c. RG_ENOTFOUND when none. */
static int checkpoint_latest(struct conn *c, struct store_checkpoint *out)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, "SELECT size, root, at, note FROM log_checkpoints"
	                        " ORDER BY size DESC LIMIT 1");
	if (rc != RG_OK)
		goto out;
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
		goto out;
	}
	if (rc != SQ_ROW)
		goto out;
	out->size = (uint64_t)sq_col_i64(&q, 0);
	out->at = sq_col_i64(&q, 2);
	rc = sq_col_32(&q, 1, out->root);
	if (rc == RG_OK)
		rc = sq_col_str(&q, 3, out->note, sizeof out->note);
out:
	sq_close(&q);
	return rc;
}

static int latest_fn(struct conn *c, void *arg)
{
	return checkpoint_latest(c, arg);
}

int store_log_checkpoint_latest(struct store *st, struct store_checkpoint *out)
{
	struct store_checkpoint *tmp = calloc(1, sizeof *tmp);
	if (!st || !out || !tmp) {
		free(tmp);
		return st && out ? RG_ENOMEM : RG_EINVAL;
	}
	int rc = st_in_snapshot(st, latest_fn, tmp);
	if (rc == RG_OK)
		*out = *tmp;
	free(tmp);
	return rc;
}

struct proof_job {
	bool inclusion;
	uint64_t a, size;
	uint8_t (*out)[32];
	size_t n;
};

static int proof_fn(struct conn *c, void *arg)
{
	struct proof_job *j = arg;
	uint64_t have = 0;
	int rc = st_log_size(c, &have);
	if (rc != RG_OK)
		return rc;
	if (j->size > have)
		return RG_EINVAL;
	if (j->inclusion)
		return merkle_inclusion_proof(node_get, c, j->a, j->size, j->out,
		                              &j->n);
	return merkle_consistency_proof(node_get, c, j->a, j->size, j->out,
	                                &j->n);
}

static int proof(struct store *st, bool inclusion, uint64_t a, uint64_t size,
                 uint8_t out[][32], size_t *n)
{
	struct proof_job j = { .inclusion = inclusion, .a = a, .size = size,
	                       .out = out };
	if (!st || !out || !n)
		return RG_EINVAL;
	if (inclusion ? a >= size : (a < 1 || a > size))
		return RG_EINVAL;
	int rc = st_in_snapshot(st, proof_fn, &j);
	if (rc == RG_OK)
		*n = j.n;
	return rc;
}

int store_log_inclusion(struct store *st, uint64_t index, uint64_t size,
                        uint8_t out[][32], size_t *n)
{
	return proof(st, true, index, size, out, n);
}

int store_log_consistency(struct store *st, uint64_t from, uint64_t size,
                          uint8_t out[][32], size_t *n)
{
	return proof(st, false, from, size, out, n);
}

/* ---- signing checkpoints (writer) ----------------------------------- */

struct sign_job {
	int64_t now;
	int (*sign)(void *ctx, uint64_t size, const uint8_t root[32],
	            char *note, size_t cap);
	void *ctx;
	struct store_checkpoint cp;      /* staged; copied out on commit */
};

static int checkpoint_insert(struct txn *t, const struct store_checkpoint *cp)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "INSERT INTO log_checkpoints (size, root, at,"
	                           " note) VALUES (?1, ?2, ?3, ?4)");
	if (rc == RG_OK) {
		sq_i64(&q, 1, (int64_t)cp->size);
		sq_blob(&q, 2, cp->root, 32);
		sq_i64(&q, 3, cp->at);
		sq_text(&q, 4, cp->note);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

static int sign_run(struct txn *t, void *arg)
{
	struct sign_job *j = arg;
	uint64_t size = 0;
	int rc = checkpoint_latest(t->c, &j->cp);
	if (rc != RG_OK && rc != RG_ENOTFOUND)
		return rc;
	bool have = rc == RG_OK;
	if ((rc = st_log_size(t->c, &size)) != RG_OK)
		return rc;
	if (have && j->cp.size >= size)
		return RG_OK;           /* the latest covers the whole tree */
	memset(&j->cp, 0, sizeof j->cp);
	j->cp.size = size;
	j->cp.at = j->now;
	if (size == 0)
		crypto_hash_sha256(j->cp.root, NULL, 0);   /* MTH({}) */
	else if ((rc = merkle_root(node_get, t->c, size, j->cp.root)) != RG_OK)
		return rc;
	rc = j->sign(j->ctx, size, j->cp.root, j->cp.note, sizeof j->cp.note);
	if (rc != RG_OK)
		return rc;
	return checkpoint_insert(t, &j->cp);
}

int store_log_checkpoint_sign(struct store *st, int64_t now,
                              int (*sign)(void *ctx, uint64_t size,
                                          const uint8_t root[32],
                                          char *note, size_t cap),
                              void *ctx, struct store_checkpoint *out)
{
	struct sign_job *j = calloc(1, sizeof *j);
	if (!st || !sign || !out || !j) {
		free(j);
		return st && sign && out ? RG_ENOMEM : RG_EINVAL;
	}
	j->now = now;
	j->sign = sign;
	j->ctx = ctx;
	int rc = st_write(st, sign_run, j);
	if (rc == RG_OK)
		*out = j->cp;
	free(j);
	return rc;
}
