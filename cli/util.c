/*
 * util.c - refgatectl's small helpers: one-line error messages, bounded
 * file reads, loading the configuration, and creating files and folders
 * with a record that lets a failed command take back what it made.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("refgatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_FAIL;
}

int cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	fputs("refgatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: refgatectl %s\n", usage);
	return CLI_USAGE;
}

int cli_path(char *out, size_t outlen, const char *dir, const char *file)
{
	int n = snprintf(out, outlen, "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= outlen)
		return RG_ETOOBIG;
	return RG_OK;
}

/* cli_read_file, and with private_only also RG_EINVAL for a file that
 * group or others may read or write. */
static int read_file(const char *path, size_t max, bool private_only,
                     char **out, size_t *len)
{
	int rc = RG_EIO;
	char *buf = NULL;
	size_t n = 0;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return RG_EIO;
	if (fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if (private_only && (st.st_mode & 077)) {
		rc = RG_EINVAL;
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		rc = RG_ETOOBIG;
		goto out;
	}
	buf = malloc(max + 1);
	if (!buf) {
		rc = RG_ENOMEM;
		goto out;
	}
	/* Read up to max + 1 bytes: a file that grew meanwhile is refused. */
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = RG_ETOOBIG;
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	rc = RG_OK;
out:
	if (buf) {
		sodium_memzero(buf, n);
		free(buf);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int cli_read_file(const char *path, size_t max, char **out, size_t *len)
{
	return read_file(path, max, false, out, len);
}

int cli_read_private(const char *path, size_t max, char **out, size_t *len)
{
	return read_file(path, max, true, out, len);
}

const char *cli_read_why(int rc)
{
	if (rc == RG_EINVAL)
		return "group or others may read or write it (chmod 600)";
	if (rc == RG_ETOOBIG)
		return "file too large";
	if (rc == RG_ENOMEM)
		return "out of memory";
	return strerror(errno);
}

int cli_conf_load(const char *path, struct conf *c)
{
	char *text = NULL, *copy = NULL, real[PATH_MAX], err[256] = "";
	size_t len = 0;
	int ret = CLI_FAIL;

	struct stat sb;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return cli_fail("%s is a folder: give its refgate.conf "
		                "(-c %s/refgate.conf)", path, path);
	int rc = cli_read_file(path, CONF_MAX_BYTES, &text, &len);
	if (rc != RG_OK)
		return cli_fail("%s: %s", path, cli_read_why(rc));
	if (!realpath(path, real)) {
		cli_fail("%s: %s", path, strerror(errno));
		goto out;
	}
	copy = strdup(real);
	if (!copy) {
		cli_fail("out of memory");
		goto out;
	}
	conf_defaults(c);
	const char *dir = dirname(copy);
	if (strlen(dir) >= sizeof c->dir) {
		cli_fail("%s: path too long", path);
		goto out;
	}
	memcpy(c->dir, dir, strlen(dir) + 1);
	if (strlen(text) != len) {
		cli_fail("%s: NUL byte in configuration", path);
		goto out;
	}
	if (conf_parse(c, text, len, err, sizeof err) != RG_OK) {
		cli_fail("%s: %s", path, err[0] ? err : "invalid configuration");
		goto out;
	}
	ret = CLI_OK;
out:
	free(copy);
	free(text);
	return ret;
}

int cli_made_add(struct cli_made *m, const char *path, bool dir)
{
	if (m->n >= CLI_MADE_MAX || strlen(path) >= CONF_PATH_MAX)
		return RG_ETOOBIG;
	memcpy(m->item[m->n].path, path, strlen(path) + 1);
	m->item[m->n].dir = dir;
	m->n++;
	return RG_OK;
}

void cli_made_undo(struct cli_made *m)
{
	while (m->n > 0) {
		m->n--;
		const char *p = m->item[m->n].path;
		if (m->item[m->n].dir)
			(void)rmdir(p);
		else
			(void)unlink(p);
	}
}

int cli_mkdir(struct cli_made *m, const char *path, mode_t mode)
{
	struct stat st;
	if (mkdir(path, mode) == 0) {
		if (chmod(path, mode) != 0 || cli_made_add(m, path, true) != 0) {
			int saved = errno;
			(void)rmdir(path);
			errno = saved ? saved : ENAMETOOLONG;
			return RG_EIO;
		}
		return RG_OK;
	}
	if (errno != EEXIST)
		return RG_EIO;
	if (lstat(path, &st) != 0)
		return RG_EIO;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return RG_EIO;
	}
	return RG_OK;
}

int cli_write_new(struct cli_made *m, const char *path, const void *data,
                  size_t len, mode_t mode)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	              mode);
	if (fd < 0)
		return errno == EEXIST ? RG_EEXIST : RG_EIO;
	/* The umask may have removed bits; set exactly the mode asked for. */
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (cli_made_add(m, path, false) != RG_OK) {
		(void)unlink(path);
		errno = ENAMETOOLONG;
		return RG_EIO;
	}
	return RG_OK;
fail:;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	(void)unlink(path);
	errno = saved;
	return RG_EIO;
}

int cli_confirm(const struct cli_args *a, const char *question)
{
	char line[16];
	if (cli_opt(a, "yes") || !isatty(STDIN_FILENO))
		return CLI_OK;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof line, stdin))
		return cli_fail("not done (no answer)");
	line[strcspn(line, "\r\n")] = '\0';
	if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0)
		return CLI_OK;
	return cli_fail("not done");
}

int cli_secret_line_read(const char *path, size_t max, const char *what,
                         char **out, size_t *out_len)
{
	char *text = NULL;
	size_t len = 0;
	struct stat sb;
	int rc = cli_read_file(path, max + 2, &text, &len);
	if (rc == RG_ETOOBIG)
		return cli_fail("%s: not %s (too long)", path, what);
	if (rc != RG_OK)
		return cli_fail("%s: %s", path, cli_read_why(rc));
	if (stat(path, &sb) != 0) {
		cli_fail("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (sb.st_mode & 077) {
		cli_fail("%s: readable or writable by others; it holds a "
		         "secret (chmod 600 %s)", path, path);
		goto fail;
	}
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	if (len > 0 && text[len - 1] == '\r')
		text[--len] = '\0';
	if (len > max || strlen(text) != len) {
		cli_fail("%s: not %s (one line, at most %zu characters)", path,
		         what, max);
		goto fail;
	}
	*out = text;
	*out_len = len;
	return CLI_OK;
fail:
	sodium_memzero(text, len);
	free(text);
	return CLI_FAIL;
}
