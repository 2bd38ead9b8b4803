/*
 * p12.c - a principal's certificate and key as one PKCS#12 file, for a
 * browser to import (the web console signs in with it). The passphrase
 * comes from a file or is asked on the terminal, never from the command
 * line, where other users of the machine could read it.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <sodium.h>

#define PASS_FILE_MAX 4096

/* Strips one final "\n" or "\r\n"; true when what is left is 8 to
 * P12_PASS_MAX characters and holds no other line break or NUL. */
static bool pass_ok(char *p, size_t len)
{
	if (len && p[len - 1] == '\n')
		p[--len] = '\0';
	if (len && p[len - 1] == '\r')
		p[--len] = '\0';
	return len >= 8 && len <= P12_PASS_MAX && strlen(p) == len &&
	       !strpbrk(p, "\r\n");
}

/* Reads one line from the terminal without echo. */
static int ask(const char *prompt, char *out, size_t cap)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty)
		return cli_fail("--p12: no terminal to ask for the passphrase"
		                " (give --p12-pass-file FILE)");
	int fd = fileno(tty), ret = CLI_OK;
	bool restore = tcgetattr(fd, &old) == 0;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &quiet);
	fprintf(tty, "%s", prompt);
	fflush(tty);
	if (!fgets(out, (int)cap, tty))
		ret = cli_fail("--p12: no passphrase read");
	fprintf(tty, "\n");
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	fclose(tty);
	return ret;
}

int p12_passphrase(const char *file, char out[P12_PASS_MAX + 2])
{
	if (file) {
		char *text = NULL;
		size_t len = 0;
		int rc = cli_read_file(file, PASS_FILE_MAX, &text, &len);
		if (rc != RG_OK)
			return cli_fail("%s: %s", file, cli_read_why(rc));
		bool ok = len <= P12_PASS_MAX + 1 && pass_ok(text, len);
		if (ok)
			memcpy(out, text, strlen(text) + 1);
		sodium_memzero(text, len);
		free(text);
		return ok ? CLI_OK : cli_fail("%s: the passphrase must be one line"
		                             " of 8-%d characters", file, P12_PASS_MAX);
	}
	char again[P12_PASS_MAX + 2];
	int ret = ask("PKCS#12 passphrase (8 or more characters): ", out,
	              P12_PASS_MAX + 2);
	if (ret == CLI_OK && !pass_ok(out, strlen(out)))
		ret = cli_fail("--p12: the passphrase must be 8-%d characters",
		               P12_PASS_MAX);
	if (ret == CLI_OK)
		ret = ask("again: ", again, sizeof again);
	if (ret == CLI_OK && (!pass_ok(again, strlen(again)) || strcmp(out, again)))
		ret = cli_fail("--p12: the two passphrases differ");
	sodium_memzero(again, sizeof again);
	if (ret != CLI_OK)
		sodium_memzero(out, P12_PASS_MAX + 2);
	return ret;
}

int p12_write(struct cli_made *m, const char *path, const char *name,
              EVP_PKEY *key, X509 *cert, X509 *ca, const char *pass)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	unsigned char *der = NULL;
	int ret = CLI_FAIL;
	if (!chain || !sk_X509_push(chain, ca)) {
		sk_X509_free(chain);
		return pki_fail("PKCS#12");
	}
	/* OpenSSL 3's defaults: AES-256-CBC, PBKDF2, a SHA-256 MAC */
	PKCS12 *p12 = PKCS12_create(pass, name, key, cert, chain, 0, 0, 0, 0, 0);
	sk_X509_free(chain);
	if (!p12)
		return pki_fail("PKCS#12");
	int len = i2d_PKCS12(p12, &der);
	PKCS12_free(p12);
	if (len <= 0)
		return pki_fail("PKCS#12");
	int rc = cli_write_new(m, path, der, (size_t)len, 0600);
	if (rc == RG_OK)
		ret = CLI_OK;
	else
		cli_fail("%s: %s", path, rc == RG_EEXIST ? "already exists"
		         : rc == RG_EIO ? strerror(errno) : rg_strerror(rc));
	OPENSSL_free(der);
	return ret;
}
