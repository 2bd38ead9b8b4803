/*
 * rg.h - what every refgate module shares: result codes, roles, limits,
 * and the small time helpers. Pure: no I/O, no globals.
 */
#ifndef RG_H
#define RG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* 0 is success; failures are these negative codes. */
enum rg_err {
	RG_OK = 0,
	RG_ENOMEM = -1,     /* allocation failed */
	RG_EINVAL = -2,     /* malformed input */
	RG_ENOTFOUND = -3,  /* no such thing (or not visible) */
	RG_ECONFLICT = -4,  /* jti reuse, bad state transition */
	RG_EEXIST = -5,     /* already exists (name, kid, certificate) */
	RG_EIO = -6,        /* file or database fault */
	RG_EFULL = -7,      /* storage full: answer 503, nothing written */
	RG_ECRYPTO = -8,    /* decryption or key failure */
	RG_EBADSIG = -9,    /* signature does not verify */
	RG_EBADURL = -10,   /* URL off the platform or naming no account */
	RG_ETOOBIG = -11,   /* over an explicit limit */
	RG_EREPLAY = -12,   /* idempotent resubmission of the same JWS */
	RG_EQUOTA = -13,    /* over a daily quota: answer 429, nothing written */
	RG_ECLAIMED = -14,  /* another reviewer's live claim holds the case */
};

/* A short English name for an rg_err code, never NULL. */
const char *rg_strerror(int err);

enum rg_role {
	ROLE_NONE = 0,
	ROLE_PARTNER,
	ROLE_AGENCY,
	ROLE_REVIEWER,
	ROLE_LEGAL,
};

/* "partner", "agency", ... or NULL for ROLE_NONE. */
const char *rg_role_name(enum rg_role role);
/* ROLE_NONE when the name is not a role. */
enum rg_role rg_role_parse(const char *name);

/* Case statuses and actions (contract section 3). */
enum case_status {
	CASE_RECEIVED = 0,
	CASE_IN_REVIEW,
	CASE_ACTIONED,
	CASE_NO_ACTION,
	CASE_CANNOT_EXECUTE,     /* a removal order the platform cannot
	                            execute (contract section 9) */
};

enum case_action {
	ACTION_NONE = 0,
	ACTION_ACCOUNT_SUSPENDED,
	ACTION_CONTENT_REMOVED,
	ACTION_CONTENT_RESTRICTED,
};

const char *rg_status_name(enum case_status s);
int rg_status_parse(const char *name, enum case_status *out);   /* RG_EINVAL */
const char *rg_action_name(enum case_action a);                 /* NULL for NONE */
int rg_action_parse(const char *name, enum case_action *out);   /* RG_EINVAL */

/* The release, printed by `refgate --version` and `refgatectl --version`. */
#define RG_VERSION "0.10.0"

#define RG_NAME_MAX 64       /* principal names: [a-z0-9][a-z0-9_.-]{0,63} */
#define RG_ID_MAX 40         /* case and referral ids: [A-Za-z0-9_-]{1,40} */
#define RG_KID_MAX 128       /* signing key ids */

/* Wire limits of an access key (POST /v1/admin/access-keys), which the
 * gateway enforces and refgatectl checks before it sends a request. */
#define ACCESS_KEY_MAX_CASES 1000
#define ACCESS_KEY_MAX_CIDRS 16
#define ACCESS_KEY_BASIS_MAX 1000      /* legal_basis, characters */

/* A principal name is 1-64 of [a-z0-9_.-], starting with a letter or digit. */
bool rg_name_valid(const char *name);
/* An id is 1-40 of [A-Za-z0-9_-]. */
bool rg_id_valid(const char *id);
/* A kid is 1-128 of [A-Za-z0-9_.:-]. */
bool rg_kid_valid(const char *kid);

/*
 * A fresh case, alias or referral id: prefix (at most 8 characters), then
 * RG_ID_CLUSTER_CHARS characters that every id made in the same
 * RG_ID_CLUSTER_MS-millisecond window of this process shares, then 22
 * base64url characters of 16 random bytes. The shared characters are a
 * keyed hash (SipHash, a key drawn at the process's first id) of the
 * window's number: they say nothing about the time, not even the order
 * of two windows, only that two ids were made within one window of one
 * process. What they buy: the ids of one group commit sort next to each
 * other, so each index on ids takes them in one or two pages instead of
 * one random page per row. Unguessable by the random part.
 */
#define RG_ID_CLUSTER_MS 16
#define RG_ID_CLUSTER_CHARS 4
void rg_id_new(const char *prefix, char out[RG_ID_MAX + 1]);
/* rg_id_new for a given time (milliseconds since the epoch): for tests. */
void rg_id_at(const char *prefix, uint64_t ms, char out[RG_ID_MAX + 1]);

/* Whether the JSON text s[0..n) nests arrays and objects at most `max`
 * deep: a cheap scan run before a parser, so hostile text cannot make it
 * recurse; malformed text is left for the parser to refuse. */
bool rg_json_depth_ok(const void *s, size_t n, unsigned max);

/* Writes "2026-11-28T14:03:11Z" (20 chars + NUL) into buf. */
void rg_time_format(int64_t unix_seconds, char buf[21]);
/* Parses an RFC 3339 timestamp with a Z or numeric offset (fractions
 * dropped). RG_EINVAL when malformed. Sets *out only on success. */
int rg_time_parse(const char *text, int64_t *out);

/*
 * Decodes exactly `want` bytes from the len characters at s in libsodium's
 * base64 variant, accepting only the canonical encoding: the text must be
 * what encoding the bytes gives back. (libsodium's decoder alone takes a
 * byte with its high bit set for the character it would be without it,
 * and non-zero unused bits, so one value would have several encodings.)
 * RG_OK, or RG_EINVAL with out zeroed.
 */
int rg_b64_decode_exact(const char *s, size_t len, uint8_t *out, size_t want,
                        int variant);

#endif
