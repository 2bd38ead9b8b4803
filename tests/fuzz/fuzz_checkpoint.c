/*
 * fuzz_checkpoint.c - libFuzzer target for proto/checkpoint.c and the
 * verifiers of proto/merkle.c: checkpoint_verify of the input under a
 * fixed key and origin, and the input read as an inclusion and a
 * consistency proof.
 * Oracles: a note that verifies has byte for byte the body the signer
 * writes for its size and root, and holds the signer's signature line
 * (other signature lines may follow or precede it, as C2SP allows); a
 * proof never verifies for bounds RFC 9162 refuses.
 */
#include "fuzz.h"

#include <string.h>

#include <sodium.h>

#include "../../proto/checkpoint.h"
#include "../../proto/merkle.h"

#define ORIGIN "fuzz.example/refgate"

static uint8_t pk[32], sk[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(seed, 7, sizeof seed);       /* the key of the seeds */
	crypto_sign_seed_keypair(pk, sk, seed);
	return 0;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void proofs(const uint8_t *data, size_t size)
{
	uint8_t proof[MERKLE_MAX_PROOF][32], a[32], b[32];
	if (size < 16 + 64)
		return;
	uint64_t x = u64(data) % 4096, n = u64(data + 8) % 4096;
	memcpy(a, data + 16, 32);
	memcpy(b, data + 48, 32);
	size_t k = (size - 80) / 32;
	if (k > MERKLE_MAX_PROOF)
		k = MERKLE_MAX_PROOF;
	memcpy(proof, data + 80, k * 32);
	int inc = merkle_verify_inclusion(x, n, a, (const uint8_t (*)[32])proof,
					  k, b);
	FUZZ_CHECK(inc == RG_OK || inc == RG_EBADSIG);
	if (x >= n)
		FUZZ_CHECK(inc != RG_OK);
	int con = merkle_verify_consistency(x, n, (const uint8_t (*)[32])proof,
					    k, a, b);
	FUZZ_CHECK(con == RG_OK || con == RG_EBADSIG);
	if (x == 0 || x > n)
		FUZZ_CHECK(con != RG_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t n = 0;
	uint8_t root[32];
	char again[CHECKPOINT_TEXT_MAX];
	int rc = checkpoint_verify((const char *)data, size, ORIGIN, pk, &n, root);
	FUZZ_CHECK(rc == RG_OK || rc == RG_EINVAL || rc == RG_EBADSIG);
	if (rc == RG_OK) {
		char text[CHECKPOINT_TEXT_MAX + 1];
		FUZZ_CHECK(size <= CHECKPOINT_TEXT_MAX);
		memcpy(text, data, size);
		text[size] = '\0';
		FUZZ_CHECK(checkpoint_sign(ORIGIN, n, root, sk, again,
					   sizeof again) == RG_OK);
		char *sig = strstr(again, "\n\n");
		FUZZ_CHECK(sig && memcmp(again, text, (size_t)(sig - again) + 2) == 0);
		FUZZ_CHECK(strstr(text, sig + 2) != NULL);
	}
	proofs(data, size);
	return 0;
}
