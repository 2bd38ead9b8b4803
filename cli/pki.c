/*
 * pki.c - the X.509 that refgatectl issues with OpenSSL 3: the client CA,
 * the gateway's server certificate and the principals' client
 * certificates (the profiles are documented in certs/), CSR checks, PEM
 * output and the SPKI SHA-256 the gateway authenticates principals by.
 */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#define PKI_PEM_MAX (64 * 1024)

int pki_fail(const char *what)
{
	char buf[256] = "unknown OpenSSL error";
	unsigned long e = ERR_peek_last_error();
	if (e != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return cli_fail("%s: %s", what, buf);
}

EVP_PKEY *pki_keygen_p256(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!key)
		pki_fail("P-256 key generation");
	return key;
}

/* A random positive 128-bit serial number (never zero). */
static int set_serial(X509 *x)
{
	unsigned char b[16];
	int ok = 0;
	BIGNUM *bn = NULL;
	do {
		if (RAND_bytes(b, sizeof b) != 1)
			return 0;
	} while (sodium_is_zero(b, sizeof b));
	bn = BN_bin2bn(b, sizeof b, NULL);
	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		ok = 1;
	BN_free(bn);
	return ok;
}

/* Subject "CN=<cn>, O=<org>" (in that order, as `-subj /CN=../O=..`). */
static X509_NAME *make_name(const char *cn, const char *org)
{
	X509_NAME *name = X509_NAME_new();
	if (!name ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	                                (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	                                (const unsigned char *)org, -1, -1, 0)) {
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

struct ext {
	int nid;
	const char *value;
};

/*
 * Builds and signs a v3 certificate for `pub` with subject CN/O, valid
 * from now for `days`, with the extensions in `ext` (in order: the
 * subject key identifier before the authority's). ca NULL: self-signed
 * (the issuer is the certificate itself, signed by ca_key).
 */
static X509 *cert_build(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub,
                        const char *cn, const char *org, int days,
                        const struct ext *ext, size_t n_ext)
{
	X509 *x = X509_new();
	X509_NAME *name = make_name(cn, org);
	X509V3_CTX v3;

	if (!x || !name || X509_set_version(x, X509_VERSION_3) != 1 ||
	    !set_serial(x) || X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) ||
	    X509_set_pubkey(x, pub) != 1)
		goto fail;
	X509V3_set_ctx(&v3, ca ? ca : x, x, NULL, NULL, 0);
	for (size_t i = 0; i < n_ext; i++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, ext[i].nid,
		                                        ext[i].value);
		int ok = e && X509_add_ext(x, e, -1) == 1;
		X509_EXTENSION_free(e);
		if (!ok)
			goto fail;
	}
	if (X509_sign(x, ca_key, EVP_sha256()) <= 0)
		goto fail;
	X509_NAME_free(name);
	return x;
fail:
	pki_fail("issuing a certificate");
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

X509 *pki_make_ca(EVP_PKEY *key, const char *common_name)
{
	static const struct ext ext[] = {
		{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
		{NID_key_usage, "critical,keyCertSign,cRLSign"},
		{NID_subject_key_identifier, "hash"},
		{NID_authority_key_identifier, "keyid:always"},
	};
	return cert_build(NULL, key, key, common_name, "refgate", PKI_DAYS_CA,
	                  ext, sizeof ext / sizeof ext[0]);
}

X509 *pki_issue_server(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub,
                       const char *hostname)
{
	char san[300];
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, hostname, ip) == 1 ||
	             inet_pton(AF_INET6, hostname, ip) == 1;
	int n;
	if (strcmp(hostname, "127.0.0.1") == 0)
		n = snprintf(san, sizeof san, "IP:127.0.0.1");
	else
		n = snprintf(san, sizeof san, "%s:%s,IP:127.0.0.1",
		             is_ip ? "IP" : "DNS", hostname);
	if (n < 0 || (size_t)n >= sizeof san) {
		cli_fail("host name too long");
		return NULL;
	}
	const struct ext ext[] = {
		{NID_basic_constraints, "critical,CA:FALSE"},
		{NID_key_usage, "critical,digitalSignature"},
		{NID_ext_key_usage, "serverAuth"},
		{NID_subject_alt_name, san},
		{NID_subject_key_identifier, "hash"},
		{NID_authority_key_identifier, "keyid:always"},
	};
	return cert_build(ca, ca_key, pub, hostname, "refgate", PKI_DAYS_LEAF,
	                  ext, sizeof ext / sizeof ext[0]);
}

X509 *pki_issue_client(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub,
                       const char *name, enum rg_role role)
{
	static const struct ext ext[] = {
		{NID_basic_constraints, "critical,CA:FALSE"},
		{NID_key_usage, "critical,digitalSignature"},
		{NID_ext_key_usage, "clientAuth"},
		{NID_subject_key_identifier, "hash"},
		{NID_authority_key_identifier, "keyid:always"},
	};
	char org[64];
	const char *rn = rg_role_name(role);
	if (!rn || !rg_name_valid(name)) {
		cli_fail("invalid principal name or role");
		return NULL;
	}
	snprintf(org, sizeof org, "refgate %s", rn);
	return cert_build(ca, ca_key, pub, name, org, PKI_DAYS_LEAF, ext,
	                  sizeof ext / sizeof ext[0]);
}

/* Accepts the key types a TLS client certificate sensibly has: ECDSA on
 * P-256 or P-384, RSA of 2048 to 8192 bits, Ed25519. */
static bool csr_key_acceptable(EVP_PKEY *pub, const char **why)
{
	char group[64] = "";
	if (EVP_PKEY_is_a(pub, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pub,
		        OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
		        NULL) == 1 &&
		    (strcmp(group, "prime256v1") == 0 ||
		     strcmp(group, "P-256") == 0 ||
		     strcmp(group, "secp384r1") == 0 ||
		     strcmp(group, "P-384") == 0))
			return true;
		*why = "EC key not on P-256 or P-384";
		return false;
	}
	if (EVP_PKEY_is_a(pub, "RSA")) {
		int bits = EVP_PKEY_get_bits(pub);
		if (bits >= 2048 && bits <= 8192)
			return true;
		*why = "RSA key not of 2048 to 8192 bits";
		return false;
	}
	if (EVP_PKEY_is_a(pub, "ED25519"))
		return true;
	*why = "key type not accepted (use ECDSA P-256)";
	return false;
}

EVP_PKEY *pki_csr_pubkey(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	const char *why = NULL;

	int rc = cli_read_file(path, PKI_PEM_MAX, &text, &len);
	if (rc != RG_OK) {
		cli_fail("%s: %s", path, cli_read_why(rc));
		return NULL;
	}
	bio = BIO_new_mem_buf(text, (int)len);
	req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	if (!req) {
		ERR_clear_error();
		cli_fail("%s: not a PEM certificate request", path);
		goto out;
	}
	pub = X509_REQ_get_pubkey(req);
	if (!pub) {
		ERR_clear_error();
		cli_fail("%s: no usable public key in the CSR", path);
		goto out;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		ERR_clear_error();
		cli_fail("%s: the CSR's signature does not verify", path);
		goto fail;
	}
	if (!csr_key_acceptable(pub, &why)) {
		cli_fail("%s: %s", path, why);
		goto fail;
	}
	goto out;
fail:
	EVP_PKEY_free(pub);
	pub = NULL;
out:
	X509_REQ_free(req);
	BIO_free(bio);
	free(text);
	return pub;
}

/* Reads one PEM certificate; NULL after printing why. */
static X509 *read_cert(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc = cli_read_file(path, PKI_PEM_MAX, &text, &len);
	if (rc != RG_OK) {
		cli_fail("%s: %s", path, cli_read_why(rc));
		return NULL;
	}
	BIO *bio = BIO_new_mem_buf(text, (int)len);
	X509 *c = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	if (!c)
		pki_fail(path);
	BIO_free(bio);
	free(text);
	return c;
}

/* Reads a PEM private key from a file that group and others cannot read
 * (an encrypted key asks for its pass phrase on the terminal); the text
 * is wiped. NULL after printing why. */
static EVP_PKEY *read_private_key(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	if (stat(path, &st) != 0) {
		cli_fail("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (st.st_mode & 077) {
		cli_fail("%s: readable by group or others (chmod 600 it)", path);
		return NULL;
	}
	int rc = cli_read_file(path, PKI_PEM_MAX, &text, &len);
	if (rc != RG_OK) {
		cli_fail("%s: %s", path, cli_read_why(rc));
		return NULL;
	}
	BIO *bio = BIO_new_mem_buf(text, (int)len);
	EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
	                  : NULL;
	if (!k)
		pki_fail(path);
	BIO_free(bio);
	sodium_memzero(text, len);
	free(text);
	return k;
}

int pki_load_ca(const char *cert_path, const char *key_path, X509 **cert,
                EVP_PKEY **key)
{
	X509 *c = read_cert(cert_path);
	EVP_PKEY *k = c ? read_private_key(key_path) : NULL;
	int ret = CLI_FAIL;

	if (!k)
		goto out;
	if (X509_check_ca(c) < 1) {
		cli_fail("%s: not a CA certificate", cert_path);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(c)) <= 0) {
		cli_fail("%s: the CA certificate has expired", cert_path);
		goto out;
	}
	if (X509_check_private_key(c, k) != 1) {
		ERR_clear_error();
		cli_fail("%s does not belong to %s", key_path, cert_path);
		goto out;
	}
	*cert = c;
	*key = k;
	c = NULL;
	k = NULL;
	ret = CLI_OK;
out:
	EVP_PKEY_free(k);
	X509_free(c);
	return ret;
}

char *pki_cert_pem(X509 *cert)
{
	char *data = NULL, *out = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio && PEM_write_bio_X509(bio, cert) == 1) {
		long n = BIO_get_mem_data(bio, &data);
		if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(bio);
	return out;
}

int pki_write_cert(struct cli_made *m, const char *path, X509 *cert)
{
	char *pem = pki_cert_pem(cert);
	if (!pem)
		return RG_ENOMEM;
	int rc = cli_write_new(m, path, pem, strlen(pem), 0644);
	free(pem);
	return rc;
}

int pki_write_key(struct cli_made *m, const char *path, EVP_PKEY *key)
{
	char *data = NULL;
	int rc = RG_ENOMEM;
	/* The memory BIO grows with BUF_MEM_grow_clean: no stale copies. */
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	                                    NULL) == 1) {
		long n = BIO_get_mem_data(bio, &data);
		if (n > 0) {
			rc = cli_write_new(m, path, data, (size_t)n, 0600);
			OPENSSL_cleanse(data, (size_t)n);
		}
	}
	BIO_free(bio);
	return rc;
}

int pki_spki_sha256(X509 *cert, uint8_t out[32])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	int len = pub ? i2d_PUBKEY(pub, &der) : -1;
	int rc = RG_ECRYPTO;
	if (len > 0 && EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(),
	                          NULL) == 1 && mdlen == 32)
		rc = RG_OK;
	OPENSSL_free(der);
	return rc;
}

int pki_not_after(X509 *cert, int64_t *out)
{
	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return RG_EINVAL;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return RG_EINVAL;
	*out = (int64_t)t;
	return RG_OK;
}
