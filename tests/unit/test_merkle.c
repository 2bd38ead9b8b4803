/*
 * test_merkle.c - proto/merkle.c against published known answers: the
 * RFC 6962 test leaves, the roots of the trees of 1-8 of them, and the
 * inclusion and consistency proofs that transparency-dev/merkle's
 * proof/verify_test.go lists for them; then every proof of every tree
 * up to 64 leaves round-trips, and corrupted ones are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/merkle.h"

static const char *const leaves_hex[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const roots_hex[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct vector {
	uint64_t a, size;        /* leaf index (0-based) or from */
	size_t n;
	const char *h[3];
};

static const struct vector inclusion[] = {
	{0, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		   "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{5, 8, 3, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		   "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	{1, 5, 3, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		   "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct vector consistency[] = {
	{1, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		   "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{6, 8, 3, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		   "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2, 5, 2, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		   "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{6, 7, 3, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		   "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

#define MAXLEAVES 64

/* An in-memory tree: leaf hashes; perfect nodes computed on demand, and
 * every look-up counted. */
struct mem {
	uint8_t leaf[MAXLEAVES][32];
	uint64_t n;
	unsigned lookups;
};

static void unhex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
	assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, len,
					NULL), 0);
}

static void node(const struct mem *m, unsigned level, uint64_t index,
                 uint8_t out[32])
{
	if (level == 0) {
		memcpy(out, m->leaf[index], 32);
		return;
	}
	uint8_t l[32], r[32];
	node(m, level - 1, 2 * index, l);
	node(m, level - 1, 2 * index + 1, r);
	merkle_node_hash(l, r, out);
}

static int mem_get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
	struct mem *m = ctx;
	m->lookups++;
	if (level >= 63 || ((index + 1) << level) > m->n)
		return RG_ENOTFOUND;
	node(m, level, index, out);
	return RG_OK;
}

static void rfc_tree(struct mem *m)
{
	memset(m, 0, sizeof *m);
	for (size_t i = 0; i < 8; i++) {
		uint8_t data[16];
		size_t len = 0;
		unhex(leaves_hex[i], data, sizeof data, &len);
		merkle_leaf_hash(data, len, m->leaf[i]);
	}
	m->n = 8;
}

static void test_roots(void **state)
{
	struct mem m;
	(void)state;
	rfc_tree(&m);
	for (uint64_t size = 1; size <= 8; size++) {
		uint8_t root[32], want[32];
		size_t len;
		unhex(roots_hex[size - 1], want, sizeof want, &len);
		assert_int_equal(merkle_root(mem_get, &m, size, root), RG_OK);
		assert_memory_equal(root, want, 32);
	}
}

static void test_empty_leaf_hash(void **state)
{
	/* SHA-256 of the single byte 0x00: the first root above. */
	uint8_t h[32], want[32];
	size_t len;
	(void)state;
	merkle_leaf_hash("", 0, h);
	unhex(roots_hex[0], want, sizeof want, &len);
	assert_memory_equal(h, want, 32);
}

static void load_proof(const struct vector *v, uint8_t p[][32])
{
	for (size_t i = 0; i < v->n; i++) {
		size_t len;
		unhex(v->h[i], p[i], 32, &len);
		assert_int_equal(len, 32);
	}
}

static void test_inclusion_vectors(void **state)
{
	struct mem m;
	(void)state;
	rfc_tree(&m);
	for (size_t t = 0; t < sizeof inclusion / sizeof inclusion[0]; t++) {
		const struct vector *v = &inclusion[t];
		uint8_t want[3][32], got[MERKLE_MAX_PROOF][32], root[32];
		size_t n = 0, len;
		load_proof(v, want);
		assert_int_equal(merkle_inclusion_proof(mem_get, &m, v->a, v->size,
						       got, &n), RG_OK);
		assert_int_equal(n, v->n);
		assert_memory_equal(got, want, 32 * n);
		unhex(roots_hex[v->size - 1], root, sizeof root, &len);
		assert_int_equal(merkle_verify_inclusion(v->a, v->size,
				 m.leaf[v->a], want, v->n, root), RG_OK);
	}
}

static void test_consistency_vectors(void **state)
{
	struct mem m;
	(void)state;
	rfc_tree(&m);
	for (size_t t = 0; t < sizeof consistency / sizeof consistency[0]; t++) {
		const struct vector *v = &consistency[t];
		uint8_t want[3][32], got[MERKLE_MAX_PROOF][32], r1[32], r2[32];
		size_t n = 0, len;
		load_proof(v, want);
		assert_int_equal(merkle_consistency_proof(mem_get, &m, v->a,
							 v->size, got, &n), RG_OK);
		assert_int_equal(n, v->n);
		assert_memory_equal(got, want, 32 * n);
		unhex(roots_hex[v->a - 1], r1, sizeof r1, &len);
		unhex(roots_hex[v->size - 1], r2, sizeof r2, &len);
		assert_int_equal(merkle_verify_consistency(v->a, v->size, want,
							   v->n, r1, r2), RG_OK);
		assert_int_equal(merkle_verify_consistency(v->a, v->size, want,
							   v->n, r2, r1), RG_EBADSIG);
	}
}

static void big_tree(struct mem *m)
{
	memset(m, 0, sizeof *m);
	for (uint64_t i = 0; i < MAXLEAVES; i++) {
		char data[16];
		int len = snprintf(data, sizeof data, "leaf %u", (unsigned)i);
		merkle_leaf_hash(data, (size_t)len, m->leaf[i]);
	}
	m->n = MAXLEAVES;
}

/* A naive MTH straight from RFC 9162 2.1.1, to check merkle_root. */
static void mth(const struct mem *m, uint64_t start, uint64_t n,
                uint8_t out[32])
{
	if (n == 1) {
		memcpy(out, m->leaf[start], 32);
		return;
	}
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	uint8_t l[32], r[32];
	mth(m, start, k, l);
	mth(m, start + k, n - k, r);
	merkle_node_hash(l, r, out);
}

static unsigned bits(uint64_t x)
{
	unsigned b = 0;
	for (; x; x >>= 1)
		b++;
	return b;
}

static void test_all_inclusion_64(void **state)
{
	struct mem m;
	(void)state;
	big_tree(&m);
	for (uint64_t size = 1; size <= MAXLEAVES; size++) {
		uint8_t root[32], naive[32];
		assert_int_equal(merkle_root(mem_get, &m, size, root), RG_OK);
		mth(&m, 0, size, naive);
		assert_memory_equal(root, naive, 32);
		for (uint64_t i = 0; i < size; i++) {
			uint8_t p[MERKLE_MAX_PROOF][32];
			size_t n = 0;
			m.lookups = 0;
			assert_int_equal(merkle_inclusion_proof(mem_get, &m, i, size,
							       p, &n), RG_OK);
			/* O(log n): the border plus one per proof hash */
			assert_true(m.lookups <= 2 * bits(size));
			assert_int_equal(merkle_verify_inclusion(i, size, m.leaf[i],
								 p, n, root), RG_OK);
			assert_int_not_equal(merkle_verify_inclusion(i, size,
					     m.leaf[(i + 1) % MAXLEAVES], p, n, root), RG_OK);
			if (n > 0) {
				p[n - 1][5] ^= 1;
				assert_int_not_equal(merkle_verify_inclusion(i, size,
						     m.leaf[i], p, n, root), RG_OK);
				p[n - 1][5] ^= 1;
				assert_int_not_equal(merkle_verify_inclusion(i, size,
						     m.leaf[i], p, n - 1, root), RG_OK);
				assert_int_not_equal(merkle_verify_inclusion(i,
						     size * 2, m.leaf[i], p, n, root), RG_OK);
			}
		}
	}
}

static void test_all_consistency_64(void **state)
{
	static uint8_t roots[MAXLEAVES + 1][32];
	struct mem m;
	(void)state;
	big_tree(&m);
	for (uint64_t s = 1; s <= MAXLEAVES; s++)
		mth(&m, 0, s, roots[s]);
	for (uint64_t size = 1; size <= MAXLEAVES; size++) {
		for (uint64_t from = 1; from <= size; from++) {
			uint8_t p[MERKLE_MAX_PROOF][32];
			size_t n = 0;
			m.lookups = 0;
			assert_int_equal(merkle_consistency_proof(mem_get, &m, from,
								 size, p, &n), RG_OK);
			if (m.lookups > 2 * bits(size) + 1)
				fail_msg("%u look-ups for %u..%u", m.lookups,
					 (unsigned)from, (unsigned)size);
			assert_int_equal(merkle_verify_consistency(from, size, p, n,
						 roots[from], roots[size]), RG_OK);
			if (from == size) {
				assert_int_equal(n, 0);
				continue;
			}
			assert_int_not_equal(merkle_verify_consistency(from, size,
					     p, n, roots[from], roots[from]), RG_OK);
			p[0][0] ^= 0x10;
			assert_int_not_equal(merkle_verify_consistency(from, size,
					     p, n, roots[from], roots[size]), RG_OK);
			p[0][0] ^= 0x10;
			assert_int_not_equal(merkle_verify_consistency(from, size,
					     p, n - 1, roots[from], roots[size]), RG_OK);
		}
	}
}

static void test_bounds(void **state)
{
	struct mem m;
	uint8_t p[MERKLE_MAX_PROOF][32], r[32] = {0};
	size_t n = 7;
	(void)state;
	rfc_tree(&m);
	assert_int_equal(merkle_inclusion_proof(mem_get, &m, 8, 8, p, &n), RG_EINVAL);
	assert_int_equal(merkle_inclusion_proof(mem_get, &m, 0, 0, p, &n), RG_EINVAL);
	assert_int_equal(merkle_consistency_proof(mem_get, &m, 0, 8, p, &n), RG_EINVAL);
	assert_int_equal(merkle_consistency_proof(mem_get, &m, 5, 4, p, &n), RG_EINVAL);
	assert_int_equal(n, 7);            /* untouched on failure */
	assert_int_equal(merkle_root(mem_get, &m, 0, r), RG_EINVAL);
	/* a tree larger than the source: the source's error comes back */
	assert_int_equal(merkle_root(mem_get, &m, 9, r), RG_ENOTFOUND);
	assert_int_not_equal(merkle_verify_inclusion(0, 0, r, p, 0, r), RG_OK);
	assert_int_not_equal(merkle_verify_consistency(0, 1, p, 0, r, r), RG_OK);
	assert_int_not_equal(merkle_verify_consistency(2, 1, p, 0, r, r), RG_OK);
	assert_int_not_equal(merkle_verify_consistency(1, 2, p, 0, r, r), RG_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_leaf_hash),
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_inclusion_vectors),
		cmocka_unit_test(test_consistency_vectors),
		cmocka_unit_test(test_all_inclusion_64),
		cmocka_unit_test(test_all_consistency_64),
		cmocka_unit_test(test_bounds),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
