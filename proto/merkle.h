/*
 * merkle.h - the transparency log's Merkle tree, hashed as RFC 9162
 * section 2.1: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || l || r).
 * Proofs are built from a source of perfect-subtree hashes (the node at
 * (level, index) covers leaves [index << level, (index + 1) << level)),
 * so a proof costs O(log n) look-ups; and verified as sections 2.1.3.2
 * and 2.1.4.2 say. Pure: no I/O, no globals, thread-safe.
 */
#ifndef RG_MERKLE_H
#define RG_MERKLE_H

#include "rg.h"

#define MERKLE_HASH_LEN 32
#define MERKLE_MAX_SIZE (UINT64_C(1) << 62)   /* leaves, a sanity bound */
#define MERKLE_MAX_PROOF 128                   /* hashes in any proof */

void merkle_leaf_hash(const void *data, size_t len, uint8_t out[32]);
void merkle_node_hash(const uint8_t left[32], const uint8_t right[32],
                      uint8_t out[32]);

/* Writes the hash of the perfect subtree (level, index) to out; RG_OK or
 * a negative rg_err (passed on by the functions below). */
typedef int (*merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
                              uint8_t out[32]);

/* The root of the tree of the first `size` leaves (size >= 1). */
int merkle_root(merkle_node_fn get, void *ctx, uint64_t size,
                uint8_t out[32]);

/* RFC 9162 2.1.3.1 inclusion proof of leaf `index` in the tree of `size`
 * leaves (index < size): *n hashes into out. RG_EINVAL on bad bounds. */
int merkle_inclusion_proof(merkle_node_fn get, void *ctx, uint64_t index,
                           uint64_t size, uint8_t out[][32], size_t *n);

/* RFC 9162 2.1.4.1 consistency proof between the trees of `from` and
 * `size` leaves (0 < from <= size). RG_EINVAL on bad bounds. */
int merkle_consistency_proof(merkle_node_fn get, void *ctx, uint64_t from,
                             uint64_t size, uint8_t out[][32], size_t *n);

/* RG_OK when proof[0..n) proves leaf_hash at index in the tree of `size`
 * leaves whose root is root; RG_EBADSIG otherwise. */
int merkle_verify_inclusion(uint64_t index, uint64_t size,
                            const uint8_t leaf_hash[32],
                            const uint8_t proof[][32], size_t n,
                            const uint8_t root[32])
	__attribute__((warn_unused_result));

/* RG_OK when proof[0..n) proves the tree of `from` leaves with root1 is
 * a prefix of the tree of `size` leaves with root2 (from == size: the
 * proof is empty and the roots equal); RG_EBADSIG otherwise. from = 0 is
 * refused (RG_EBADSIG): there is no root of an empty log to compare. */
int merkle_verify_consistency(uint64_t from, uint64_t size,
                              const uint8_t proof[][32], size_t n,
                              const uint8_t root1[32], const uint8_t root2[32])
	__attribute__((warn_unused_result));

#endif
