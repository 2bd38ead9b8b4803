/*
 * cli.h - what the files of refgatectl share: the parsed command line,
 * the command handlers, file helpers with a rollback log, the X.509
 * issuing of pki.c and the HTTPS client of client.c. Internal to cli/.
 * Handlers return the process exit code: 0 success, 1 failure (after one
 * line on stderr), 2 usage.
 */
#ifndef RG_CLI_H
#define RG_CLI_H

#include "../proto/conf.h"
#include "../proto/rg.h"

#include <sys/types.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <jansson.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

#define CLI_MAX_POS 4
#define CLI_MAX_OPTS 8

/* The words after the command name: positionals and --name value pairs. */
struct cli_args {
	size_t n_pos;
	const char *pos[CLI_MAX_POS];
	size_t n_opts;
	const char *opt_name[CLI_MAX_OPTS];   /* without the leading "--" */
	const char *opt_val[CLI_MAX_OPTS];
};

/* The value of --name, or NULL when it was not given. */
const char *cli_opt(const struct cli_args *a, const char *name);

/* What every handler gets: the -c path and, for commands that need it,
 * the parsed configuration (NULL otherwise). */
struct cli_ctx {
	const char *conf_path;
	const struct conf *conf;
};

typedef int (*cli_handler)(const struct cli_ctx *ctx,
                           const struct cli_args *a);

int cmd_init(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_enroll(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_revoke(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_principals(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_submit(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_status(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_changes(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_decide(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_queue(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_claim(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_key_issue(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_key_list(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_key_revoke(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_audit_verify(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_log_verify(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_log_watch(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_purge(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_report(const struct cli_ctx *ctx, const struct cli_args *a);
int cmd_migrate(const struct cli_ctx *ctx, const struct cli_args *a);

/* Exports the configuration's database_passfile (checked: a regular file,
 * mode 0600) as PGPASSFILE for libpq (migrate.c). CLI_OK when none is
 * named; CLI_FAIL after printing why. */
int cli_pg_passfile(const struct conf *c);

/* ---- the transparency report's HTML (report_html.c) ---------------- */

/* The report (the JSON of GET /v1/admin/report) as one self-contained
 * HTML page: *out malloc'd (the caller frees it), *len bytes. RG_EINVAL
 * when a figure the page shows is missing or malformed, RG_ENOMEM. */
int report_html_render(const json_t *report, char **out, size_t *len);
int cmd_statements_push(const struct cli_ctx *ctx, const struct cli_args *a);

/* ---- messages and files (util.c) ------------------------------------ */

/* Prints "refgatectl: <message>" and a newline on stderr; returns
 * CLI_FAIL so that handlers can `return cli_fail(...)`. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with CLI_USAGE, followed by "usage: refgatectl <usage>". */
int cli_usage(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* snprintf into a fixed buffer; RG_ETOOBIG when it does not fit. */
int cli_path(char *out, size_t outlen, const char *dir, const char *file);

/* Reads a whole regular file of at most `max` bytes into a malloc'd,
 * NUL-terminated buffer. RG_ETOOBIG, RG_EIO (errno kept). The caller
 * frees it (and wipes it when it is secret). */
int cli_read_file(const char *path, size_t max, char **out, size_t *len);
/* cli_read_file for a secret: also RG_EINVAL when group or others may
 * read or write the file. */
int cli_read_private(const char *path, size_t max, char **out, size_t *len);
/* Why cli_read_file or cli_read_private failed (reads errno), for
 * messages. */
const char *cli_read_why(int rc);

/* Reads and parses the configuration at path; c->dir is the file's
 * folder. On failure prints why and returns CLI_FAIL. */
int cli_conf_load(const char *path, struct conf *c);

/*
 * A record of what a command created, so that a failure can take it all
 * back: files are unlinked and folders removed in reverse order.
 */
#define CLI_MADE_MAX 48
struct cli_made {
	size_t n;
	struct {
		char path[CONF_PATH_MAX];
		bool dir;
	} item[CLI_MADE_MAX];
};

/* Records a path (files and folders); RG_ETOOBIG when full. */
int cli_made_add(struct cli_made *m, const char *path, bool dir);
/* Removes everything recorded, newest first, and empties the record. */
void cli_made_undo(struct cli_made *m);

/* Creates the folder with `mode` (recorded in m) or, when it exists,
 * checks that it is a folder (not recorded). RG_EIO (errno kept). */
int cli_mkdir(struct cli_made *m, const char *path, mode_t mode);

/* Creates a new file (O_EXCL, never following a symlink) with exactly
 * `mode`, writes len bytes and fsyncs it; records it in m. A file that
 * exists is RG_EEXIST; other failures RG_EIO with nothing left behind. */
int cli_write_new(struct cli_made *m, const char *path, const void *data,
                  size_t len, mode_t mode);

/* ---- PKCS#12 (p12.c) ------------------------------------------------ */

#define P12_PASS_MAX 1024

/* The PKCS#12 passphrase: the one line of `file`, or, when file is NULL,
 * asked twice on the terminal without echo. 8 to P12_PASS_MAX characters.
 * CLI_OK, or CLI_FAIL after printing why; the caller wipes out. */
int p12_passphrase(const char *file, char out[P12_PASS_MAX + 2]);
/* Writes key, cert and the CA certificate as a new PKCS#12 file (mode
 * 0600, recorded in m) under the friendly name `name`. */
int p12_write(struct cli_made *m, const char *path, const char *name,
              EVP_PKEY *key, X509 *cert, X509 *ca, const char *pass);

/* ---- X.509 (pki.c) -------------------------------------------------- */

#define PKI_DAYS_CA 3650
#define PKI_DAYS_LEAF 397

/* A new ECDSA P-256 key pair, or NULL (with the OpenSSL error printed). */
EVP_PKEY *pki_keygen_p256(void);

/* A self-signed client CA certificate for key: CA:TRUE pathlen:0,
 * keyCertSign and cRLSign, PKI_DAYS_CA days. NULL on failure. */
X509 *pki_make_ca(EVP_PKEY *key, const char *common_name);

/* A server certificate for pub issued by the CA: SAN DNS or IP of
 * hostname and IP 127.0.0.1, serverAuth, PKI_DAYS_LEAF days. */
X509 *pki_issue_server(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub,
                       const char *hostname);

/* A client certificate for pub issued by the CA: CN=name,
 * O=refgate <role>, clientAuth, PKI_DAYS_LEAF days. */
X509 *pki_issue_client(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub,
                       const char *name, enum rg_role role);

/* Reads a PEM CSR (at most 64 KiB), checks its self-signature and that
 * its key is of an accepted type and size; returns its public key only.
 * NULL after printing why. */
EVP_PKEY *pki_csr_pubkey(const char *path);

/* Reads the CA certificate and key and checks they belong together and
 * that the certificate is a CA. The key file must not be readable by
 * group or others. CLI_OK, or CLI_FAIL after printing why. */
int pki_load_ca(const char *cert_path, const char *key_path, X509 **cert,
                EVP_PKEY **key);

/* PEM text of a certificate (malloc'd, NUL-terminated) or NULL. */
char *pki_cert_pem(X509 *cert);

/* Writes a certificate, or a private key (PKCS#8 PEM, mode 0600, the
 * in-memory copy wiped), as a new file recorded in m. RG_* codes. */
int pki_write_cert(struct cli_made *m, const char *path, X509 *cert);
int pki_write_key(struct cli_made *m, const char *path, EVP_PKEY *key);

/* SHA-256 of the DER SubjectPublicKeyInfo of the certificate's key. */
int pki_spki_sha256(X509 *cert, uint8_t out[32]);

/* notAfter as Unix seconds. */
int pki_not_after(X509 *cert, int64_t *out);

/* Prints the queued OpenSSL errors as one line after "refgatectl: what:"
 * and returns CLI_FAIL. */
int pki_fail(const char *what);

/* ---- people's renderings (show.c) ------------------------------------ */

/* Certificates and keys expiring sooner than this are flagged. */
#define CLI_EXPIRY_WARN_DAYS 30

/* GET /v1/admin/principals as a table; warns on stderr about
 * certificates that expire within CLI_EXPIRY_WARN_DAYS. */
int show_principals(json_t *ans, int64_t now);
/* An access key's state now: "revoked", "expired" or "active". */
const char *show_key_state(json_t *k, int64_t now);
/* Whether key k passes `key list`'s filters. */
bool show_key_wanted(json_t *k, int64_t now, bool active_only,
                     const char *principal);
/* GET /v1/admin/access-keys as a table, optionally only the active keys
 * and only those of one principal. */
int show_keys(json_t *ans, int64_t now, bool active_only,
              const char *principal);
/* A decision's answer (the case view) as one line: "ID: status (action)". */
int show_decision(const char *case_id, json_t *view);
/* GET /v1/review/queue as a table: case, status, the time left to a
 * deadline (or the urgency), principals, age, and who claimed it. */
int show_queue(json_t *ans, int64_t now);
/* A claim's or a release's answer as one line. */
int show_claim(const char *case_id, json_t *ans, bool released);

/* ---- HTTPS (client.c) ----------------------------------------------- */

/* An access key secret: RFC 6750 b64token characters. */
#define CLI_BEARER_MAX 512

/* Client credentials: certificate, key, and the anchor for the server;
 * and an access key secret, sent as "Authorization: Bearer" when not
 * empty (wipe it with cli_cred_wipe). */
struct cli_cred {
	char cert[CONF_PATH_MAX];
	char key[CONF_PATH_MAX];
	char ca[CONF_PATH_MAX];
	char bearer[CLI_BEARER_MAX + 1];
};

/* The legal credentials of the configuration (admin_cert, ...). */
int cli_cred_admin(const struct conf *c, struct cli_cred *cred);
/* DIR/cert.pem, DIR/key.pem, DIR/ca.pem. */
int cli_cred_dir(const char *dir, struct cli_cred *cred);
/* --as DIR when given, else the legal credentials of the configuration;
 * with --key-file FILE also the access key secret read from FILE. */
int cli_cred_pick(const struct cli_ctx *ctx, const struct cli_args *a,
                  struct cli_cred *cred);
/* Reads a secret of one line (a final LF or CRLF dropped, no NUL) of at
 * most max bytes from a regular file that neither group nor others may
 * read or write. CLI_OK with *out malloc'd (the caller wipes and frees
 * it) and *len its length; CLI_FAIL after printing why, naming path and
 * "what" it should hold. */
int cli_secret_line_read(const char *path, size_t max, const char *what,
                         char **out, size_t *len);
/* Reads an access key secret from FILE into cred->bearer: one line (a
 * final newline allowed) of 1 to CLI_BEARER_MAX b64token characters, in a
 * regular file not readable or writable by group or others. CLI_OK, or
 * CLI_FAIL after printing why. */
int cli_bearer_read(const char *path, struct cli_cred *cred);
/* Whether the string s is an RFC 6750 b64token: 1*( ALPHA / DIGIT /
 * "-" / "." / "_" / "~" / "+" / "/" ) *"=" (which keeps CR and LF, and so
 * header injection, out of the Authorization line). */
bool cli_b64token(const char *s);
/* Zeroes the secret in cred. */
void cli_cred_wipe(struct cli_cred *cred);

struct cli_resp {
	long status;                 /* HTTP status */
	char *body;                  /* malloc'd, NUL-terminated */
	size_t len;
};

/*
 * Sends one request to the gateway of the configuration: connects to its
 * listen address, verifies the server certificate against cred->ca for
 * the configured hostname, presents cred's client certificate. body may
 * be NULL (no body); ctype is its Content-Type. timeout_s bounds the whole
 * exchange. CLI_OK with *out filled (free with cli_resp_free) whatever
 * the HTTP status; CLI_FAIL after printing why on a transport failure.
 */
int cli_request(const struct conf *c, const struct cli_cred *cred,
                const char *method, const char *path, const char *ctype,
                const char *body, size_t body_len, long timeout_s,
                struct cli_resp *out);
void cli_resp_free(struct cli_resp *r);

/* For a 2xx answer prints the body (JSON indented) on stdout and returns
 * CLI_OK; otherwise prints the problem's status, code and detail on one
 * line on stderr and returns CLI_FAIL. */
int cli_report(const struct cli_resp *r);
/* For a 2xx JSON answer sets *out (json_decref it) and returns CLI_OK;
 * otherwise reports the problem (or a body that is not JSON) and returns
 * CLI_FAIL. */
int cli_answer_json(const struct cli_resp *r, json_t **out);
/* Asks "question [y/N] " on stderr when stdin is a terminal and --yes was
 * not given: CLI_OK on y or yes, else CLI_FAIL ("not done"). Without a
 * terminal (a script) it does not ask: CLI_OK. */
int cli_confirm(const struct cli_args *a, const char *question);

/* Prints the problem of a non-2xx answer as one line after "what"; returns
 * CLI_FAIL. */
int cli_report_problem(const char *what, const struct cli_resp *r);

#endif
