/*
 * fuzz_conf.c - libFuzzer target for proto/conf.c: conf_parse of the
 * input (not NUL-terminated) over conf_defaults.
 * Oracles: on success every value is within the documented ranges and
 * every string field is terminated; parsing the same text again over the
 * result changes nothing (the file is a list of assignments); on failure
 * the message fits the given buffer, even a small one.
 */
#include "fuzz.h"

#include <string.h>

#include "../../proto/conf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_list(const char *rows, size_t row_cap, size_t n,
		       size_t max)
{
	FUZZ_CHECK(n >= 1 && n <= max);
	for (size_t i = 0; i < n; i++) {
		const char *r = rows + i * row_cap;
		size_t len = strnlen(r, row_cap);
		FUZZ_CHECK(len >= 1 && len < row_cap);
		FUZZ_CHECK(strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789.-")
			   == len);
	}
}

static void check_path(const struct conf *c, const char *path)
{
	char out[CONF_PATH_MAX * 2];
	FUZZ_CHECK(path[0] != '\0');
	int rc = conf_path(c, path, out, sizeof out);
	FUZZ_CHECK(rc == RG_OK);
	char *small = malloc(8);
	FUZZ_CHECK(small != NULL);
	rc = conf_path(c, path, small, 8);
	FUZZ_CHECK(rc == RG_OK || rc == RG_ETOOBIG);
	free(small);
}

static void check_ok(const struct conf *c)
{
	const char *const strs[] = {
		c->hostname, c->tls_cert, c->tls_key, c->client_ca,
		c->client_ca_key, c->database, c->receipt_key, c->data_key,
		c->index_key, c->policy, c->admin_cert, c->admin_key,
		c->admin_ca,
	};
	FUZZ_CHECK(FUZZ_TERMINATED(c->listen_host));
	FUZZ_CHECK(FUZZ_TERMINATED(c->hostname));
	FUZZ_CHECK(FUZZ_TERMINATED(c->metrics_listen_host));
	FUZZ_CHECK(FUZZ_TERMINATED(c->tls_cert) && FUZZ_TERMINATED(c->tls_key));
	FUZZ_CHECK(FUZZ_TERMINATED(c->client_ca) &&
		   FUZZ_TERMINATED(c->client_ca_key));
	FUZZ_CHECK(FUZZ_TERMINATED(c->database) &&
		   FUZZ_TERMINATED(c->receipt_key));
	FUZZ_CHECK(FUZZ_TERMINATED(c->data_key) &&
		   FUZZ_TERMINATED(c->index_key));
	FUZZ_CHECK(FUZZ_TERMINATED(c->policy) &&
		   FUZZ_TERMINATED(c->admin_cert));
	FUZZ_CHECK(FUZZ_TERMINATED(c->admin_key) &&
		   FUZZ_TERMINATED(c->admin_ca));
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		check_path(c, strs[i]);
	FUZZ_CHECK(c->listen_host[0] != '\0');
	FUZZ_CHECK(c->listen_port >= 1 && c->listen_port <= 65535);
	FUZZ_CHECK(c->metrics_listen_port >= 0 &&
		   c->metrics_listen_port <= 65535);
	check_list(&c->hosts.hosts[0][0], sizeof c->hosts.hosts[0],
		   c->hosts.n_hosts, NORM_MAX_HOSTS);
	check_list(&c->hosts.prefixes[0][0], sizeof c->hosts.prefixes[0],
		   c->hosts.n_prefixes, NORM_MAX_PREFIXES);
	FUZZ_CHECK(c->iat_skew >= 1 && c->iat_skew <= 86400);
	FUZZ_CHECK(c->threads >= 0 && c->threads <= 256);
	FUZZ_CHECK(c->max_connections >= 1);
	FUZZ_CHECK(c->connection_timeout >= 1);
	FUZZ_CHECK(c->max_body >= 1024 && c->max_body <= 64 * 1024);
	FUZZ_CHECK(c->long_poll_max >= 0);
	FUZZ_CHECK(c->max_db_pages >= 0);
	FUZZ_CHECK(c->access_key_max_days >= 1);
	FUZZ_CHECK(c->retention_days >= 30 && c->retention_days <= 3650);
	FUZZ_CHECK(c->retention_interval >= 1 && c->retention_interval <= 86400);
	FUZZ_CHECK(c->report_min_count >= 1 && c->report_min_count <= 1000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct conf *c = malloc(sizeof *c);
	char *err = malloc(256);
	FUZZ_CHECK(c != NULL && err != NULL);
	conf_defaults(c);
	err[0] = '\0';

	int rc = conf_parse(c, text, size, err, 256);
	if (rc == RG_OK) {
		check_ok(c);
		/* the same assignments again leave the result as it was */
		struct conf *again = malloc(sizeof *again);
		FUZZ_CHECK(again != NULL);
		memcpy(again, c, sizeof *c);
		FUZZ_CHECK(conf_parse(again, text, size, err, 256) == RG_OK);
		FUZZ_CHECK(memcmp(again, c, sizeof *c) == 0);
		free(again);
	} else {
		FUZZ_CHECK(rc == RG_EINVAL);
		FUZZ_CHECK(FUZZ_TERMINATED_N(err, 256) && err[0] != '\0');
		/* and with a buffer too small for the message */
		char *tiny = malloc(6);
		FUZZ_CHECK(tiny != NULL);
		conf_defaults(c);
		FUZZ_CHECK(conf_parse(c, text, size, tiny, 6) == RG_EINVAL);
		FUZZ_CHECK(FUZZ_TERMINATED_N(tiny, 6));
		free(tiny);
	}
	free(err);
	free(c);
	return 0;
}
