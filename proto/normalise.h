/*
 * normalise.h - identifier normalisation (contract section 2): handles,
 * account ids and the platform's profile and post URLs, to the canonical
 * identifiers that cases are deduplicated on. Pure: no I/O; thread-safe.
 */
#ifndef RG_NORMALISE_H
#define RG_NORMALISE_H

#include "rg.h"
#include "referral.h"

#define NORM_MAX_HOSTS 16
#define NORM_MAX_PREFIXES 8
#define NORM_HOST_MAX 253

/* The platform's host names and the prefixes that alias them
 * (from the configuration: twitter.com, x.com; www, mobile, m). */
struct norm_hosts {
	size_t n_hosts;
	char hosts[NORM_MAX_HOSTS][NORM_HOST_MAX + 1];     /* lower case */
	size_t n_prefixes;
	char prefixes[NORM_MAX_PREFIXES][32];              /* "www", no dot */
};

/* The canonical identifiers of one account; "" when unknown. */
struct subject_ids {
	char account_id[REFERRAL_ACCOUNT_ID_MAX + 1];
	char handle[REFERRAL_HANDLE_MAX + 1];
};

/* "@Foo_1" -> "foo_1". RG_EINVAL unless 1-50 of [A-Za-z0-9_] after one
 * optional leading '@'. */
int norm_handle(const char *in, char out[REFERRAL_HANDLE_MAX + 1]);

/* "000123" -> "123" ("000" -> "0"). RG_EINVAL unless 1-20 digits. */
int norm_account_id(const char *in, char out[REFERRAL_ACCOUNT_ID_MAX + 1]);

/*
 * Normalises a URL of a profile or post on one of the platform's hosts
 * and extracts the account it names: "/<handle>", "/<handle>/status/<n>",
 * "/<handle>/<tab>", "/i/user/<id>", ... Scheme and host case folded,
 * alias prefixes dropped, query and fragment dropped. Refuses (RG_EBADURL,
 * with a static reason in *why) a URL that is not http(s), has userinfo,
 * an unexpected port, a host off the platform, or names no account (a
 * reserved path such as /home, /search, /i/web/status/<n>).
 * On success sets out (one or both members) and returns RG_OK.
 */
int norm_url(const struct norm_hosts *hosts, const char *url,
             struct subject_ids *out, const char **why);

/*
 * Normalises a whole subject: the union of account_id, handle and url.
 * When the identifiers disagree (say the handle and the URL's handle
 * differ) returns RG_EBADURL. On failure *field names the member at fault
 * ("account_id", "handle" or "url") and *why the reason.
 */
int norm_subject(const struct norm_hosts *hosts,
                 const struct referral_subject *subject,
                 struct subject_ids *out, const char **field,
                 const char **why);

#endif
