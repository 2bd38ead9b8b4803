/*
 * enroll.c - `refgatectl enroll NAME --role ROLE`: issues a principal's
 * client certificate with the client CA (from its CSR or for a new P-256
 * key), takes its Ed25519 signing key (its public JWK or a new key pair),
 * writes its credentials to OUTDIR and registers it through the running
 * gateway with the legal credentials. When the gateway refuses, the files
 * written are removed again.
 */
#include "cli.h"
#include "../proto/jwk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/err.h>
#include <sodium.h>

#define ENROLL_USAGE "enroll NAME --role ROLE [--out OUTDIR] [--csr FILE] " \
                     "[--jwk FILE] [--trusted-flagger]\n" \
                     "      [--p12 FILE [--p12-pass-file FILE]]"
#define JWK_FILE_MAX (16 * 1024)
#define ANCHOR_MAX (256 * 1024)
#define ENROLL_TIMEOUT 60L

struct enroll {
	const char *name;
	enum rg_role role;
	const char *out;             /* OUTDIR */
	const char *csr, *jwk;       /* NULL: make a new key */
	const char *p12;             /* write a PKCS#12 here, or NULL */
	const char *p12_pass_file;   /* its passphrase, or NULL: ask */
	char pass[P12_PASS_MAX + 2];
	bool signs;                  /* partner or agency */
	bool trusted_flagger;        /* a partner's notices: DSA Art. 22 */
	X509 *ca;
	EVP_PKEY *ca_key;
	EVP_PKEY *key;               /* new key pair, or the CSR's public key */
	X509 *cert;
	uint8_t pk[32];              /* signing key */
	uint8_t sk[64];              /* set only when made here */
	char kid[RG_KID_MAX + 1];
	struct cli_made made;
};

static int enroll_args(struct enroll *e, const struct cli_args *a)
{
	const char *role = cli_opt(a, "role");
	e->name = a->pos[0];
	if (!rg_name_valid(e->name))
		return cli_usage(ENROLL_USAGE, "NAME: 1-64 of [a-z0-9_.-], "
		                 "starting with a letter or digit");
	if (!role)
		return cli_usage(ENROLL_USAGE, "--role is required");
	e->role = rg_role_parse(role);
	if (e->role == ROLE_NONE)
		return cli_usage(ENROLL_USAGE, "--role: partner, agency, "
		                 "reviewer or legal");
	e->signs = e->role == ROLE_PARTNER || e->role == ROLE_AGENCY;
	e->out = cli_opt(a, "out");
	if (!e->out)
		e->out = e->name;
	if (!e->out[0])
		return cli_usage(ENROLL_USAGE, "--out: empty folder name");
	e->csr = cli_opt(a, "csr");
	e->jwk = cli_opt(a, "jwk");
	if (e->jwk && !e->signs)
		return cli_usage(ENROLL_USAGE, "--jwk: only partners and "
		                 "agencies have signing keys");
	e->p12 = cli_opt(a, "p12");
	e->p12_pass_file = cli_opt(a, "p12-pass-file");
	if (e->p12 && e->csr)
		return cli_usage(ENROLL_USAGE, "--p12: the private key must be "
		                 "made here (with --csr it is the principal's own)");
	if (e->p12_pass_file && !e->p12)
		return cli_usage(ENROLL_USAGE, "--p12-pass-file: only with --p12");
	if (e->p12 && !e->p12[0])
		return cli_usage(ENROLL_USAGE, "--p12: empty file name");
	e->trusted_flagger = cli_opt(a, "trusted-flagger") != NULL;
	if (e->trusted_flagger && e->role != ROLE_PARTNER)
		return cli_usage(ENROLL_USAGE, "--trusted-flagger: only a "
		                 "partner is a trusted flagger");
	return CLI_OK;
}

/* The client certificate, for the CSR's key or a new one. */
static int make_cert(struct enroll *e, const struct conf *c)
{
	char ca_path[CONF_PATH_MAX], key_path[CONF_PATH_MAX];
	if (conf_path(c, c->client_ca, ca_path, sizeof ca_path) ||
	    conf_path(c, c->client_ca_key, key_path, sizeof key_path))
		return cli_fail("client CA path too long");
	if (pki_load_ca(ca_path, key_path, &e->ca, &e->ca_key) != CLI_OK)
		return CLI_FAIL;
	e->key = e->csr ? pki_csr_pubkey(e->csr) : pki_keygen_p256();
	if (!e->key)
		return CLI_FAIL;
	e->cert = pki_issue_client(e->ca, e->ca_key, e->key, e->name, e->role);
	return e->cert ? CLI_OK : CLI_FAIL;
}

/* The signing key: the public JWK given, or a new Ed25519 key pair. */
static int make_signing_key(struct enroll *e)
{
	char *text = NULL;
	size_t len = 0;
	const char *why = "invalid JWK";
	if (!e->jwk) {
		crypto_sign_keypair(e->pk, e->sk);
		jwk_thumbprint(e->pk, e->kid);
		return CLI_OK;
	}
	int rc = cli_read_file(e->jwk, JWK_FILE_MAX, &text, &len);
	if (rc != RG_OK)
		return cli_fail("%s: %s", e->jwk, cli_read_why(rc));
	rc = jwk_parse_public(text, len, e->pk, e->kid, &why);
	free(text);
	if (rc != RG_OK)
		return cli_fail("%s: %s", e->jwk, why);
	return CLI_OK;
}

/* {"name","role","certificates":[PEM],"signing_keys":[JWK]?} as text. */
static char *request_body(const struct enroll *e)
{
	char *pem = pki_cert_pem(e->cert), *pub = NULL, *out = NULL;
	json_t *body = json_object(), *keys = NULL;
	if (!pem || !body ||
	    json_object_set_new(body, "name", json_string(e->name)) ||
	    json_object_set_new(body, "role",
	                        json_string(rg_role_name(e->role))) ||
	    json_object_set_new(body, "certificates",
	                        json_pack("[s]", pem)) ||
	    (e->trusted_flagger &&
	     json_object_set_new(body, "trusted_flagger", json_true())))
		goto out;
	if (e->signs) {
		pub = jwk_public_json(e->pk, e->kid);
		keys = pub ? json_loads(pub, JSON_REJECT_DUPLICATES, NULL) : NULL;
		if (!keys || json_object_set_new(body, "signing_keys",
		                                 json_pack("[O]", keys)))
			goto out;
	}
	out = json_dumps(body, JSON_COMPACT);
out:
	json_decref(keys);
	json_decref(body);
	free(pub);
	free(pem);
	return out;
}

/* Why writing a file failed (reads errno). */
static const char *write_why(int rc)
{
	if (rc == RG_EEXIST)
		return "already exists (choose another --out)";
	if (rc == RG_EIO)
		return strerror(errno);
	return rg_strerror(rc);
}

/* Writes a new file in OUTDIR; prints why on failure. */
static int put(struct enroll *e, const char *file, const void *data,
               size_t len, mode_t mode)
{
	char path[CONF_PATH_MAX];
	if (cli_path(path, sizeof path, e->out, file) != RG_OK)
		return cli_fail("%s: path too long", e->out);
	int rc = cli_write_new(&e->made, path, data, len, mode);
	if (rc != RG_OK)
		return cli_fail("%s: %s", path, write_why(rc));
	return CLI_OK;
}

/* OUTDIR with cert.pem, ca.pem and, when made here, key.pem and the
 * private signing.jwk. */
static int write_outdir(struct enroll *e, const char *anchor_path)
{
	char path[CONF_PATH_MAX], *anchor = NULL, *priv = NULL;
	size_t len = 0;
	int ret = CLI_FAIL;

	int rc = cli_read_file(anchor_path, ANCHOR_MAX, &anchor, &len);
	if (rc != RG_OK)
		return cli_fail("%s: %s", anchor_path, cli_read_why(rc));
	if (cli_mkdir(&e->made, e->out, 0700) != RG_OK) {
		cli_fail("%s: %s", e->out, strerror(errno));
		goto out;
	}
	if (put(e, "ca.pem", anchor, len, 0644) != CLI_OK)
		goto out;
	if ((rc = cli_path(path, sizeof path, e->out, "cert.pem")) != RG_OK ||
	    (rc = pki_write_cert(&e->made, path, e->cert)) != RG_OK) {
		cli_fail("%s/cert.pem: %s", e->out, write_why(rc));
		goto out;
	}
	if (!e->csr &&
	    ((rc = cli_path(path, sizeof path, e->out, "key.pem")) != RG_OK ||
	                (rc = pki_write_key(&e->made, path, e->key)) != RG_OK)) {
		cli_fail("%s/key.pem: %s", e->out, write_why(rc));
		goto out;
	}
	if (e->signs && !e->jwk) {
		priv = jwk_private_json(e->sk, e->kid);
		if (!priv) {
			cli_fail("out of memory");
			goto out;
		}
		size_t n = strlen(priv);
		priv[n] = '\n';         /* a text file; wiped below */
		rc = put(e, "signing.jwk", priv, n + 1, 0600);
		sodium_memzero(priv, n + 1);
		if (rc != CLI_OK)
			goto out;
	}
	ret = CLI_OK;
out:
	free(priv);
	free(anchor);
	return ret;
}

/* POSTs the enrolment; CLI_OK on 2xx. */
static int register_principal(struct enroll *e, const struct conf *c,
                              const struct cli_cred *admin)
{
	struct cli_resp r = {0};
	char what[RG_NAME_MAX + 32];
	char *body = request_body(e);
	if (!body)
		return cli_fail("out of memory");
	int ret = cli_request(c, admin, "POST", "/v1/admin/principals",
	                      "application/json", body, strlen(body),
	                      ENROLL_TIMEOUT, &r);
	free(body);
	if (ret != CLI_OK)
		return ret;
	snprintf(what, sizeof what, "enrolling %s", e->name);
	ret = (r.status >= 200 && r.status <= 299) ? CLI_OK
	                                           : cli_report_problem(what, &r);
	cli_resp_free(&r);
	return ret;
}

static void report(const struct enroll *e)
{
	uint8_t spki[32];
	char hex[65] = "";
	if (pki_spki_sha256(e->cert, spki) == RG_OK)
		sodium_bin2hex(hex, sizeof hex, spki, sizeof spki);
	printf("enrolled %s (%s); credentials in %s/\n", e->name,
	       rg_role_name(e->role), e->out);
	printf("  certificate SPKI SHA-256: %s\n", hex);
	if (e->signs)
		printf("  signing key id (kid):     %s\n", e->kid);
}

int cmd_enroll(const struct cli_ctx *ctx, const struct cli_args *a)
{
	static struct enroll e;         /* holds a secret key: wiped below */
	struct cli_cred admin;
	int ret = enroll_args(&e, a);
	if (ret != CLI_OK)
		return ret;
	ret = CLI_FAIL;
	umask(077);
	if (cli_cred_admin(ctx->conf, &admin) != CLI_OK ||
	    make_cert(&e, ctx->conf) != CLI_OK)
		goto out;
	if (e.signs && make_signing_key(&e) != CLI_OK)
		goto out;
	if (e.p12 && p12_passphrase(e.p12_pass_file, e.pass) != CLI_OK)
		goto out;
	if (write_outdir(&e, admin.ca) != CLI_OK ||
	    (e.p12 && p12_write(&e.made, e.p12, e.name, e.key, e.cert, e.ca,
	                        e.pass) != CLI_OK) ||
	    register_principal(&e, ctx->conf, &admin) != CLI_OK)
		goto out;
	report(&e);
	if (e.p12)
		printf("  PKCS#12 for the browser:  %s\n", e.p12);
	ret = CLI_OK;
out:
	sodium_memzero(e.pass, sizeof e.pass);
	if (ret != CLI_OK)
		cli_made_undo(&e.made);
	sodium_memzero(e.sk, sizeof e.sk);
	X509_free(e.cert);
	EVP_PKEY_free(e.key);
	EVP_PKEY_free(e.ca_key);
	X509_free(e.ca);
	ERR_clear_error();
	return ret;
}
