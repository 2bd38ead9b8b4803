/*
 * merkle.c - RFC 9162 Merkle tree hashing, proofs and their verification
 * (see merkle.h).
 */
#include "merkle.h"

#include <sodium.h>
#include <string.h>

void merkle_leaf_hash(const void *data, size_t len, uint8_t out[32])
{
	crypto_hash_sha256_state s;
	const uint8_t prefix = 0x00;
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, &prefix, 1);
	crypto_hash_sha256_update(&s, data, len);
	crypto_hash_sha256_final(&s, out);
}

void merkle_node_hash(const uint8_t left[32], const uint8_t right[32],
                      uint8_t out[32])
{
	uint8_t buf[65];
	buf[0] = 0x01;
	memcpy(buf + 1, left, 32);
	memcpy(buf + 33, right, 32);
	crypto_hash_sha256(out, buf, sizeof buf);
}

/*
 * A tree of `size` leaves seen as its perfect subtrees from the left
 * (one per bit of size, largest first) and the hashes of their suffixes:
 * suffix[i] is the hash of leaves [start[i], size). Every subtree a proof
 * names is either perfect (one look-up) or one of these suffixes, so a
 * proof costs popcount(size) + its length look-ups.
 */
struct border {
	merkle_node_fn get;
	void *ctx;
	uint64_t size;
	size_t n;
	uint64_t start[64];
	uint8_t suffix[64][32];
};

static int border_load(struct border *b, merkle_node_fn get, void *ctx,
                       uint64_t size)
{
	uint64_t pos = 0;
	b->get = get;
	b->ctx = ctx;
	b->size = size;
	b->n = 0;
	for (int level = 63; level >= 0; level--) {
		if (!(size >> level & 1))
			continue;
		int rc = get(ctx, (unsigned)level, pos >> level, b->suffix[b->n]);
		if (rc != RG_OK)
			return rc;
		b->start[b->n++] = pos;
		pos += UINT64_C(1) << level;
	}
	for (size_t i = b->n - 1; i-- > 0;)
		merkle_node_hash(b->suffix[i], b->suffix[i + 1], b->suffix[i]);
	return RG_OK;
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static unsigned log2u(uint64_t x)
{
	unsigned l = 0;
	while (x >>= 1)
		l++;
	return l;
}

/* The largest power of two below n (n >= 2). */
static uint64_t split(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* The hash of leaves [start, start + count) of the tree. */
static int subtree(const struct border *b, uint64_t start, uint64_t count,
                   uint8_t out[32])
{
	if (pow2(count) && start % count == 0 && start + count <= b->size)
		return b->get(b->ctx, log2u(count), start / count, out);
	for (size_t i = 0; i < b->n; i++) {
		if (b->start[i] == start && start + count == b->size) {
			memcpy(out, b->suffix[i], 32);
			return RG_OK;
		}
	}
	return RG_EINVAL;       /* not a subtree a proof names: a bug */
}

struct proof {
	uint8_t (*h)[32];
	size_t n;
};

static int proof_add(const struct border *b, struct proof *p, uint64_t start,
                     uint64_t count)
{
	if (p->n >= MERKLE_MAX_PROOF)
		return RG_ETOOBIG;
	return subtree(b, start, count, p->h[p->n++]);
}

/* PATH(m, D[start:start+n]) of RFC 9162 2.1.3.1. */
static int path(const struct border *b, struct proof *p, uint64_t m,
                uint64_t start, uint64_t n)
{
	if (n <= 1)
		return RG_OK;
	uint64_t k = split(n);
	int rc;
	if (m < k) {
		if ((rc = path(b, p, m, start, k)) != RG_OK)
			return rc;
		return proof_add(b, p, start + k, n - k);
	}
	if ((rc = path(b, p, m - k, start + k, n - k)) != RG_OK)
		return rc;
	return proof_add(b, p, start, k);
}

/* SUBPROOF(m, D[start:start+n], whole) of RFC 9162 2.1.4.1. */
static int subproof(const struct border *b, struct proof *p, uint64_t m,
                    uint64_t start, uint64_t n, bool whole)
{
	int rc;
	if (m == n)
		return whole ? RG_OK : proof_add(b, p, start, m);
	uint64_t k = split(n);
	if (m <= k) {
		if ((rc = subproof(b, p, m, start, k, whole)) != RG_OK)
			return rc;
		return proof_add(b, p, start + k, n - k);
	}
	if ((rc = subproof(b, p, m - k, start + k, n - k, false)) != RG_OK)
		return rc;
	return proof_add(b, p, start, k);
}

int merkle_root(merkle_node_fn get, void *ctx, uint64_t size, uint8_t out[32])
{
	struct border b;
	if (!get || size < 1 || size > MERKLE_MAX_SIZE)
		return RG_EINVAL;
	int rc = border_load(&b, get, ctx, size);
	if (rc == RG_OK)
		memcpy(out, b.suffix[0], 32);
	return rc;
}

int merkle_inclusion_proof(merkle_node_fn get, void *ctx, uint64_t index,
                           uint64_t size, uint8_t out[][32], size_t *n)
{
	struct border b;
	struct proof p = { .h = out };
	if (!get || !out || !n || size > MERKLE_MAX_SIZE || index >= size)
		return RG_EINVAL;
	int rc = border_load(&b, get, ctx, size);
	if (rc == RG_OK)
		rc = path(&b, &p, index, 0, size);
	if (rc == RG_OK)
		*n = p.n;
	return rc;
}

int merkle_consistency_proof(merkle_node_fn get, void *ctx, uint64_t from,
                             uint64_t size, uint8_t out[][32], size_t *n)
{
	struct border b;
	struct proof p = { .h = out };
	if (!get || !out || !n || size > MERKLE_MAX_SIZE || from < 1 ||
	    from > size)
		return RG_EINVAL;
	int rc = border_load(&b, get, ctx, size);
	if (rc == RG_OK)
		rc = subproof(&b, &p, from, 0, size, true);
	if (rc == RG_OK)
		*n = p.n;
	return rc;
}

/* ---- verification (RFC 9162 2.1.3.2 and 2.1.4.2) -------------------- */

int merkle_verify_inclusion(uint64_t index, uint64_t size,
                            const uint8_t leaf_hash[32],
                            const uint8_t proof[][32], size_t n,
                            const uint8_t root[32])
{
	uint8_t r[32];
	if (index >= size || (n && !proof))
		return RG_EBADSIG;
	uint64_t fn = index, sn = size - 1;
	memcpy(r, leaf_hash, 32);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return RG_EBADSIG;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], r, r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(r, root, 32) == 0 ? RG_OK : RG_EBADSIG;
}

int merkle_verify_consistency(uint64_t from, uint64_t size,
                              const uint8_t proof[][32], size_t n,
                              const uint8_t root1[32], const uint8_t root2[32])
{
	uint8_t fr[32], sr[32];
	size_t i = 0;
	if (from < 1 || from > size)
		return RG_EBADSIG;
	if (from == size)
		return n == 0 && sodium_memcmp(root1, root2, 32) == 0 ? RG_OK
		                                                      : RG_EBADSIG;
	if (n == 0 || !proof)
		return RG_EBADSIG;
	/* A first tree that is a perfect subtree is its own first element. */
	const uint8_t *first = pow2(from) ? root1 : proof[i++];
	uint64_t fn = from - 1, sn = size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, first, 32);
	memcpy(sr, first, 32);
	for (; i < n; i++) {
		if (sn == 0)
			return RG_EBADSIG;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], fr, fr);
			merkle_node_hash(proof[i], sr, sr);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(fr, root1, 32) == 0 &&
	       sodium_memcmp(sr, root2, 32) == 0 ? RG_OK : RG_EBADSIG;
}
