/*
 * policy.h - the disclosure policy (contract section 4): which fields of a
 * case or referral view each audience sees. Deny by default: a field no
 * rule grants is removed. Every view leaves through policy_filter_*.
 *
 * File format (JSON):
 *   {"version": 1, "audiences": { "<audience>": {
 *        "case": [fields...], "referral": [fields...],
 *        "own_referrals": [fields...] } } }
 * Audiences: referrer (a partner or agency, for what it referred),
 * status_key, disclosure_key (agencies holding an access key), reviewer,
 * legal. "*" grants every field. Unknown audiences, kinds or fields are
 * errors, so a typo cannot silently widen or narrow what is sent.
 */
#ifndef RG_POLICY_H
#define RG_POLICY_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum audience {
	AUD_REFERRER = 0,
	AUD_STATUS_KEY,
	AUD_DISCLOSURE_KEY,
	AUD_REVIEWER,
	AUD_LEGAL,
	AUD_COUNT
};

struct policy;

/* Parses and checks a policy document. On error returns NULL and writes
 * where and why into err. */
struct policy *policy_parse(const char *text, size_t len, char *err,
                            size_t errlen);
/* Reads and parses the file at path (at most 1 MiB). */
struct policy *policy_load(const char *path, char *err, size_t errlen);
void policy_free(struct policy *p);

/* Whether the audience is granted `field` of kind "case" or "referral". */
bool policy_grants(const struct policy *p, enum audience aud,
                   const char *kind, const char *field);

/* Whether the audience is granted any field of the kind. */
bool policy_grants_any(const struct policy *p, enum audience aud,
                       const char *kind);

/*
 * Removes from a full case view (modified in place) every member the
 * audience is not granted. Its "referrals" array is kept whole when
 * "referrals" is granted; otherwise, when the audience has own_referrals
 * fields, it is reduced to the entries whose "principal" is `caller`,
 * each reduced to those fields; otherwise removed.
 */
void policy_filter_case(const struct policy *p, enum audience aud,
                        const char *caller, json_t *view);

/* Filters one element of a referral's "cases" list (or of the answer to
 * a submission) as a case view, keeping its "subject" index. */
void policy_filter_case_entry(const struct policy *p, enum audience aud,
                              json_t *entry);

/* Same for a referral view; each element of its "cases" array is
 * filtered as a case view (keeping "subject"). */
void policy_filter_referral(const struct policy *p, enum audience aud,
                            const char *caller, json_t *view);

/* The current policy, swappable at run time (SIGHUP). Readers take it
 * with policy_acquire and give it back with policy_release. */
struct policy_holder {
	pthread_rwlock_t lock;
	struct policy *current;
	uint64_t gen;                /* policy_swap count; read while held */
};

int policy_holder_init(struct policy_holder *h, struct policy *initial);
const struct policy *policy_acquire(struct policy_holder *h);
void policy_release(struct policy_holder *h);
/* Installs next and frees the previous policy. */
void policy_swap(struct policy_holder *h, struct policy *next);
void policy_holder_destroy(struct policy_holder *h);

#endif
