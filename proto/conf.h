/*
 * conf.h - refgate.conf: "key = value" lines, '#' comments, blank lines.
 * One parser for the daemon and refgatectl. Parsing is pure (a buffer in,
 * a struct out); paths stay as written and are resolved by the caller
 * against the file's folder with conf_path().
 */
#ifndef RG_CONF_H
#define RG_CONF_H

#include "rg.h"
#include "normalise.h"

#define CONF_MAX_BYTES (64 * 1024)
#define CONF_PATH_MAX 1024

#define CONF_GROUND_MAX 500     /* statement_*_ground, characters */
#define CONF_EEA_N 30

/* The EEA's country codes, upper case (the territorial scope a statement
 * of reasons may name, and its default). */
extern const char conf_eea[CONF_EEA_N][3];

struct conf {
	char dir[CONF_PATH_MAX];            /* folder of the file (set by caller) */
	char listen_host[256];              /* listen = 127.0.0.1:8443 */
	int listen_port;
	char hostname[256];                 /* server certificate name */
	char metrics_listen_host[256];      /* metrics_listen = 127.0.0.1:9443 */
	int metrics_listen_port;            /* 0: no metrics listener */
	char tls_cert[CONF_PATH_MAX];
	char tls_key[CONF_PATH_MAX];
	char client_ca[CONF_PATH_MAX];
	char client_ca_key[CONF_PATH_MAX];  /* refgatectl only */
	char database[CONF_PATH_MAX];       /* a SQLite file, or a libpq URI
	                                       postgresql://... */
	char database_passfile[CONF_PATH_MAX]; /* PostgreSQL: libpq's password
	                                       file (0600); "": libpq's own */
	int database_connect_timeout;       /* PostgreSQL: seconds, default 5 */
	int database_statement_timeout;     /* PostgreSQL: seconds, default 30 */
	char receipt_key[CONF_PATH_MAX];
	char data_key[CONF_PATH_MAX];
	char index_key[CONF_PATH_MAX];
	char policy[CONF_PATH_MAX];
	char admin_cert[CONF_PATH_MAX];     /* refgatectl's legal credentials */
	char admin_key[CONF_PATH_MAX];
	char admin_ca[CONF_PATH_MAX];
	struct norm_hosts hosts;            /* platform_hosts, host_prefixes */
	int iat_skew;                       /* seconds, default 300 */
	int claim_minutes;                  /* a review claim's life, 30 */
	int threads;                        /* 0: one per core */
	int max_connections;                /* default 1000 */
	int connection_timeout;             /* seconds, default 30 */
	int max_body;                       /* bytes, default 65536 */
	int long_poll_max;                  /* waiting long polls, default 800;
	                                       at most max_connections */
	int long_poll_per_principal;        /* waiting long polls of one
	                                       principal, default 32 */
	int connections_per_principal;      /* open connections of one
	                                       principal, default 64 */
	int64_t max_db_pages;               /* 0: no cap */
	int access_key_max_days;            /* default 90 */
	int rate_limit_rps;                 /* per principal, 0: off; default 50 */
	int rate_limit_burst;               /* default 100 */
	int audit_sign_interval;            /* seconds between signed heads, 60 */
	int64_t quota_referrals_per_day;    /* per principal and UTC day */
	int64_t quota_subjects_per_day;     /* subjects named, same */
	int64_t quota_bytes_per_day;        /* bytes stored, same */
	char log_origin[256];               /* "": <hostname>/refgate */
	int retention_days;                 /* erase closed cases' content
	                                       after, 365 (30-3650) */
	int retention_interval;             /* seconds between purges, 3600 */
	int report_min_count;               /* report cells below show as
	                                       "<N", 10 */
	/* Statements of reasons: "" means the built-in default. */
	char statement_legal_ground[CONF_GROUND_MAX * 4 + 1];
	char statement_terms_ground[CONF_GROUND_MAX * 4 + 1];
	size_t n_statement_scope;           /* 0: the EEA's 30 countries */
	char statement_scope[CONF_EEA_N][3];
};

/* Fills c with the defaults (paths relative, as init writes them). */
void conf_defaults(struct conf *c);

/*
 * Parses `len` bytes over the defaults already in c. Unknown keys, bad
 * values and over-long lines are errors: returns RG_EINVAL and writes
 * "line N: reason" into err (errlen bytes).
 */
int conf_parse(struct conf *c, const char *text, size_t len,
               char *err, size_t errlen);

/*
 * Checks what no single line can: limits that contradict each other
 * (long_poll_max above max_connections, a per-principal cap above its
 * global one). RG_EINVAL with the reason, naming both keys, in err.
 */
int conf_check(const struct conf *c, char *err, size_t errlen);

/* The transparency log's checkpoint origin: log_origin, or
 * "<hostname>/refgate" when not set. RG_ETOOBIG when it does not fit,
 * RG_EINVAL when it is no valid origin (a hostname with a space, say). */
int conf_log_origin(const struct conf *c, char *out, size_t outlen);

/* Resolves a configured path against c->dir into out (absolute paths
 * unchanged). RG_ETOOBIG when it does not fit. */
int conf_path(const struct conf *c, const char *path, char *out,
              size_t outlen);

/* The PostgreSQL password file the configuration names
 * (database_passfile), for libpq through PGPASSFILE (read at each
 * connect): a regular file that only its owner may read or write, for the
 * gateway and refgatectl alike. None named: RG_OK, libpq's own default
 * (~/.pgpass). RG_EINVAL (or RG_ENOMEM) with the reason in err. */
int conf_pg_passfile(const struct conf *c, char *err, size_t errlen);

#endif
