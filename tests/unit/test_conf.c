/* test_conf.c - refgate.conf parsing: defaults, every kind of value, and
 * the refusals (unknown key, bad value, over-long line, NUL). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../proto/conf.h"

static int parse(struct conf *c, const char *text, char *err)
{
	conf_defaults(c);
	return conf_parse(c, text, strlen(text), err, 128);
}

static void test_defaults(void **state)
{
	struct conf c;
	char err[128];
	(void)state;
	assert_int_equal(parse(&c, "", err), RG_OK);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8443);
	assert_int_equal(c.iat_skew, 300);
	assert_int_equal(c.claim_minutes, 30);
	assert_int_equal(c.hosts.n_hosts, 2);
	assert_string_equal(c.hosts.hosts[1], "x.com");
	assert_int_equal(c.hosts.n_prefixes, 3);
	assert_int_equal(c.metrics_listen_port, 0);
	assert_int_equal(c.long_poll_max, 800);
	assert_int_equal(c.long_poll_per_principal, 32);
	assert_int_equal(c.connections_per_principal, 64);
	assert_true(c.quota_referrals_per_day == 5000);
	assert_true(c.quota_subjects_per_day == 20000);
	assert_true(c.quota_bytes_per_day == INT64_C(256) * 1024 * 1024);
	/* the defaults agree with each other */
	assert_int_equal(conf_check(&c, err, sizeof err), RG_OK);
	char origin[256];
	assert_int_equal(conf_log_origin(&c, origin, sizeof origin), RG_OK);
	assert_string_equal(origin, "localhost/refgate");
}

/* The fair-share keys: parsed, bounded, no 0 = unlimited. */
/* Retention and the report: defaults, the bounds, a value on each side. */
static void test_retention_keys(void **state)
{
	struct conf c;
	char err[128];
	(void)state;
	assert_int_equal(parse(&c, "", err), RG_OK);
	assert_int_equal(c.retention_days, 365);
	assert_int_equal(c.retention_interval, 3600);
	assert_int_equal(c.report_min_count, 10);
	assert_int_equal(parse(&c, "retention_days = 30\n"
	                           "retention_interval = 1\n"
	                           "report_min_count = 1\n", err), RG_OK);
	assert_int_equal(c.retention_days, 30);
	assert_int_equal(c.retention_interval, 1);
	assert_int_equal(c.report_min_count, 1);
	assert_int_equal(parse(&c, "retention_days = 3650\n"
	                           "retention_interval = 86400\n"
	                           "report_min_count = 1000\n", err), RG_OK);
	assert_int_equal(c.retention_days, 3650);
	static const char *const bad[] = {
		"retention_days = 29\n", "retention_days = 3651\n",
		"retention_days = 0\n", "retention_days = -1\n",
		"retention_days = 365d\n", "retention_interval = 0\n",
		"retention_interval = 86401\n", "report_min_count = 0\n",
		"report_min_count = 1001\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(&c, bad[i], err), RG_EINVAL);
		assert_non_null(strstr(err, "line 1"));
	}
}

static void test_fairshare_keys(void **state)
{
	struct conf c;
	char err[128];
	(void)state;
	assert_int_equal(parse(&c, "long_poll_per_principal = 4\n"
	                           "connections_per_principal = 8\n"
	                           "quota_referrals_per_day = 3\n"
	                           "quota_subjects_per_day = 1000000000\n"
	                           "quota_bytes_per_day = 1024\n", err), RG_OK);
	assert_int_equal(c.long_poll_per_principal, 4);
	assert_int_equal(c.connections_per_principal, 8);
	assert_true(c.quota_referrals_per_day == 3);
	assert_true(c.quota_subjects_per_day == 1000000000);
	assert_true(c.quota_bytes_per_day == 1024);
	static const char *const bad[] = {
		"long_poll_per_principal = 0\n", "connections_per_principal = 0\n",
		"quota_referrals_per_day = 0\n", "quota_subjects_per_day = 0\n",
		"quota_subjects_per_day = 1000000001\n",
		"quota_bytes_per_day = 1023\n", "quota_bytes_per_day = -1\n",
		"quota_referrals_per_day = 1e3\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(parse(&c, bad[i], err), RG_EINVAL);
}

/* Limits that contradict each other are refused with both keys named. */
static void test_check(void **state)
{
	struct conf c;
	char err[128];
	(void)state;
	assert_int_equal(parse(&c, "max_connections = 100\n"
	                           "long_poll_max = 101\n", err), RG_OK);
	err[0] = '\0';
	assert_int_equal(conf_check(&c, err, sizeof err), RG_EINVAL);
	assert_non_null(strstr(err, "long_poll_max"));
	assert_non_null(strstr(err, "max_connections"));
	/* equal is fine */
	assert_int_equal(parse(&c, "max_connections = 100\nlong_poll_max = 100\n"
	                           "connections_per_principal = 100\n", err), RG_OK);
	assert_int_equal(conf_check(&c, err, sizeof err), RG_OK);
	assert_int_equal(parse(&c, "max_connections = 100\nlong_poll_max = 50\n"
	                           "connections_per_principal = 101\n", err), RG_OK);
	assert_int_equal(conf_check(&c, err, sizeof err), RG_EINVAL);
	assert_non_null(strstr(err, "connections_per_principal"));
	assert_int_equal(parse(&c, "long_poll_per_principal = 65\n", err), RG_OK);
	assert_int_equal(conf_check(&c, err, sizeof err), RG_EINVAL);
	assert_non_null(strstr(err, "long_poll_per_principal"));
}

static void test_log_origin(void **state)
{
	struct conf c;
	char err[128], origin[256];
	(void)state;
	assert_int_equal(parse(&c, "hostname = gw.example\n", err), RG_OK);
	assert_int_equal(conf_log_origin(&c, origin, sizeof origin), RG_OK);
	assert_string_equal(origin, "gw.example/refgate");
	assert_int_equal(conf_log_origin(&c, origin, 8), RG_ETOOBIG);
	assert_int_equal(parse(&c, "hostname = gw.example\n"
	                           "log_origin = transparency.example/refgate/v1\n",
	                       err), RG_OK);
	assert_int_equal(conf_log_origin(&c, origin, sizeof origin), RG_OK);
	assert_string_equal(origin, "transparency.example/refgate/v1");
	/* a space or a '+' would break the signature line */
	assert_int_equal(parse(&c, "log_origin = a b\n", err), RG_EINVAL);
	assert_int_equal(parse(&c, "log_origin = a+b\n", err), RG_EINVAL);
	assert_int_equal(parse(&c, "log_origin = \n", err), RG_EINVAL);
}

static void test_values(void **state)
{
	struct conf c;
	char err[128];
	(void)state;
	const char *text =
		"# comment\n\n  listen = 127.0.0.2:9000  \r\n"
		"hostname=gw.example\n"
		"platform_hosts = Example.COM, ex.org\n"
		"host_prefixes = www\n"
		"iat_skew = 60\nthreads = 4\nmax_connections = 10\n"
		"connection_timeout = 5\nmax_body = 1024\n"
		"database = /var/lib/refgate/db\nmetrics_listen = 127.0.0.1:9100\n"
		"max_db_pages = 100\nclaim_minutes = 1440\n";
	assert_int_equal(parse(&c, text, err), RG_OK);
	assert_string_equal(c.listen_host, "127.0.0.2");
	assert_int_equal(c.listen_port, 9000);
	assert_string_equal(c.hostname, "gw.example");
	assert_int_equal(c.hosts.n_hosts, 2);
	assert_string_equal(c.hosts.hosts[0], "example.com");
	assert_int_equal(c.hosts.n_prefixes, 1);
	assert_int_equal(c.iat_skew, 60);
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.max_body, 1024);
	assert_int_equal(c.metrics_listen_port, 9100);
	assert_int_equal(c.max_db_pages, 100);
	assert_int_equal(c.claim_minutes, 1440);
	char path[CONF_PATH_MAX];
	snprintf(c.dir, sizeof c.dir, "/etc/rg");
	assert_int_equal(conf_path(&c, c.database, path, sizeof path), RG_OK);
	assert_string_equal(path, "/var/lib/refgate/db");
	assert_int_equal(conf_path(&c, c.policy, path, sizeof path), RG_OK);
	assert_string_equal(path, "/etc/rg/policy.json");
	assert_int_equal(conf_path(&c, c.policy, path, 8), RG_ETOOBIG);
}

/* PostgreSQL's settings: the URI kept as written, the timeout's limits. */
static void test_database_keys(void **state)
{
	struct conf c;
	char err[128];
	(void)state;
	assert_int_equal(parse(&c, "listen = 127.0.0.1:1", err), RG_OK);
	assert_int_equal(c.database_connect_timeout, 5);
	assert_string_equal(c.database_passfile, "");
	assert_int_equal(parse(&c, "database = postgresql://gw@db.example/rg"
	                           "?sslmode=verify-full\n"
	                           "database_connect_timeout = 60\n"
	                           "database_passfile = /etc/refgate/pgpass\n",
	                       err), RG_OK);
	assert_string_equal(c.database,
	                    "postgresql://gw@db.example/rg?sslmode=verify-full");
	assert_int_equal(c.database_connect_timeout, 60);
	assert_string_equal(c.database_passfile, "/etc/refgate/pgpass");
	assert_int_equal(parse(&c, "database_connect_timeout = 1", err), RG_OK);
	assert_int_equal(c.database_connect_timeout, 1);
	assert_int_equal(parse(&c, "database_connect_timeout = 0", err),
	                 RG_EINVAL);
	assert_int_equal(parse(&c, "database_connect_timeout = 61", err),
	                 RG_EINVAL);
	assert_int_equal(parse(&c, "database_connect_timeout = 5s", err),
	                 RG_EINVAL);
	assert_int_equal(c.database_statement_timeout, 30);
	assert_int_equal(parse(&c, "database_statement_timeout = 1", err),
	                 RG_OK);
	assert_int_equal(c.database_statement_timeout, 1);
	assert_int_equal(parse(&c, "database_statement_timeout = 600", err),
	                 RG_OK);
	assert_int_equal(c.database_statement_timeout, 600);
	assert_int_equal(parse(&c, "database_statement_timeout = 0", err),
	                 RG_EINVAL);
	assert_string_equal(err, "line 1: database_statement_timeout: bad value");
	assert_int_equal(parse(&c, "database_statement_timeout = 601", err),
	                 RG_EINVAL);
	assert_int_equal(parse(&c, "database_statement_timeout = -5", err),
	                 RG_EINVAL);
}

/* database_passfile: a regular file only its owner reads, given to
 * libpq as PGPASSFILE; relative to the configuration's folder. */
static void test_pg_passfile(void **state)
{
	struct conf c;
	char err[CONF_PATH_MAX + 64], dir[] = "/tmp/rg-test-conf-XXXXXX";
	char file[sizeof dir + 16], want[sizeof err];
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/pgpass", dir);
	assert_int_equal(parse(&c, "", err), RG_OK);
	unsetenv("PGPASSFILE");
	assert_int_equal(conf_pg_passfile(&c, err, sizeof err), RG_OK);
	assert_null(getenv("PGPASSFILE"));     /* none named: libpq's default */
	assert_int_equal(parse(&c, "database_passfile = pgpass", err), RG_OK);
	snprintf(c.dir, sizeof c.dir, "%s", dir);
	assert_int_equal(conf_pg_passfile(&c, err, sizeof err), RG_EINVAL);
	snprintf(want, sizeof want, "database_passfile %s: no such file", file);
	assert_string_equal(err, want);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(file, 0640), 0);
	assert_int_equal(conf_pg_passfile(&c, err, sizeof err), RG_EINVAL);
	snprintf(want, sizeof want,
	         "database_passfile %s: must be 0600 (it is 640)", file);
	assert_string_equal(err, want);
	assert_null(getenv("PGPASSFILE"));
	assert_int_equal(chmod(file, 0600), 0);
	assert_int_equal(conf_pg_passfile(&c, err, sizeof err), RG_OK);
	assert_non_null(getenv("PGPASSFILE"));
	assert_string_equal(getenv("PGPASSFILE"), file);
	unsetenv("PGPASSFILE");
	assert_int_equal(unlink(file), 0);
	assert_int_equal(mkdir(file, 0700), 0);   /* a folder is no file */
	assert_int_equal(conf_pg_passfile(&c, err, sizeof err), RG_EINVAL);
	assert_int_equal(rmdir(file), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_refusals(void **state)
{
	static const char *const bad[] = {
		"nokey\n", "unknown = 1\n", "listen = 127.0.0.1\n",
		"listen = 127.0.0.1:0\n", "listen = 127.0.0.1:65536\n",
		"listen = :80\n", "iat_skew = 0\n", "iat_skew = 86401\n",
		"iat_skew = 12x\n", "claim_minutes = 0\n", "claim_minutes = 1441\n", "iat_skew = \n", "threads = -1\n",
		"max_body = 65537\n", "max_body = 1023\n", "hostname = \n",
		"platform_hosts = \n", "platform_hosts = a/b\n",
		"platform_hosts = a b c d e f g h i j k l m n o p q\n",
		"host_prefixes = a,b,c,d,e,f,g,h,i\n",
	};
	struct conf c;
	char err[128];
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(parse(&c, bad[i], err), RG_EINVAL);
		assert_non_null(strstr(err, "line 1"));
	}
	/* the maximal line fits, one over does not */
	char line[2100];
	memset(line, '#', sizeof line);
	line[2047] = 0;
	assert_int_equal(parse(&c, line, err), RG_OK);
	line[2047] = 0x23;
	line[2048] = 0;
	assert_int_equal(parse(&c, line, err), RG_EINVAL);
	/* a NUL inside a line */
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "a\0b\n", 4, err, sizeof err), RG_EINVAL);
	/* the error names the line */
	assert_int_equal(parse(&c, "# ok\nlisten = x:1:2:3:99999\n", err), RG_EINVAL);
	assert_non_null(strstr(err, "line 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_database_keys),
		cmocka_unit_test(test_log_origin),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_fairshare_keys),
		cmocka_unit_test(test_retention_keys),
		cmocka_unit_test(test_pg_passfile),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
