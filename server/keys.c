/*
 * keys.c - the gateway's key store: reading the key files, the
 * receipt key pair, keyed BLAKE2b index hashes and XChaCha20-Poly1305
 * sealing of data at rest.
 */
#include "keys.h"
#include "../proto/jwk.h"
#include "../proto/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int keys_read_file(const char *path, uint8_t out[32])
{
	char buf[KEYFILE_MAX + 1];
	int rc = RG_EIO;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return RG_EIO;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = RG_EINVAL;     /* readable by others: refuse to use it */
		goto out;
	}
	ssize_t n = read(fd, buf, KEYFILE_MAX);
	if (n <= 0)
		goto out;
	rc = keyfile_parse(buf, (size_t)n, out);
out:
	sodium_memzero(buf, sizeof buf);
	close(fd);
	return rc;
}

int keys_load(struct keys *k, const char *receipt_path, const char *data_path,
              const char *index_path)
{
	uint8_t seed[32];
	int rc;
	memset(k, 0, sizeof *k);
	if ((rc = keys_read_file(receipt_path, seed)) != RG_OK ||
	    (rc = keys_read_file(data_path, k->data_key)) != RG_OK ||
	    (rc = keys_read_file(index_path, k->index_key)) != RG_OK)
		goto fail;
	if (crypto_sign_seed_keypair(k->receipt_pk, k->receipt_sk, seed) != 0) {
		rc = RG_ECRYPTO;
		goto fail;
	}
	jwk_thumbprint(k->receipt_pk, k->receipt_kid);
	sodium_memzero(seed, sizeof seed);
	return RG_OK;
fail:
	sodium_memzero(seed, sizeof seed);
	keys_wipe(k);
	return rc;
}

void keys_wipe(struct keys *k)
{
	sodium_memzero(k, sizeof *k);
}

void keys_index_hash(const struct keys *k, char kind, const char *value,
                     uint8_t out[32])
{
	crypto_generichash_state st;
	const uint8_t prefix[2] = {(uint8_t)kind, ':'};
	crypto_generichash_init(&st, k->index_key, sizeof k->index_key, 32);
	crypto_generichash_update(&st, prefix, sizeof prefix);
	crypto_generichash_update(&st, (const uint8_t *)value, strlen(value));
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof st);
}

int keys_seal(const struct keys *k, const uint8_t *ad, size_t ad_len,
              const uint8_t *pt, size_t pt_len, uint8_t **out, size_t *out_len)
{
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	const size_t ab = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	if (pt_len > SIZE_MAX - nb - ab)
		return RG_ETOOBIG;
	uint8_t *buf = malloc(nb + pt_len + ab);
	if (!buf)
		return RG_ENOMEM;
	unsigned long long clen = 0;
	randombytes_buf(buf, nb);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + nb, &clen, pt, pt_len,
						   ad, ad_len, NULL, buf,
						   k->data_key);
	*out = buf;
	*out_len = nb + (size_t)clen;
	return RG_OK;
}

int keys_open(const struct keys *k, const uint8_t *ad, size_t ad_len,
              const uint8_t *ct, size_t ct_len, uint8_t **out, size_t *out_len)
{
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	const size_t ab = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	if (ct_len < nb + ab)
		return RG_ECRYPTO;
	uint8_t *buf = malloc(ct_len - nb - ab + 1);
	if (!buf)
		return RG_ENOMEM;
	unsigned long long plen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &plen, NULL, ct + nb,
						       ct_len - nb, ad, ad_len,
						       ct, k->data_key) != 0) {
		free(buf);
		return RG_ECRYPTO;
	}
	buf[plen] = '\0';
	*out = buf;
	*out_len = (size_t)plen;
	return RG_OK;
}
