/*
 * statements.h - the statement of reasons (DSA Art. 17 and 24(5)) of an
 * actioned decision, in the shape of the EU DSA Transparency Database's
 * POST /api/v1/statements: the field mapping and nothing else. Pure
 * functions, no I/O; the store calls statement_build inside the decision's
 * transaction. A statement never holds personal data: no account
 * identifier, no principal name, no evidence URL (none is an input here).
 */
#ifndef RG_STATEMENTS_H
#define RG_STATEMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../proto/conf.h"
#include "../proto/referral.h"
#include "../proto/rg.h"

#define STATEMENT_GROUND_MAX 500       /* legal / contractual ground, chars */
#define STATEMENT_FACTS_MAX 5000       /* decision_facts, chars */
#define STATEMENT_EXPLANATION_MAX 2000 /* *_content_explanation, chars */
#define STATEMENT_PUID_MAX 500
#define STATEMENT_SCOPE_MAX CONF_EEA_N /* the EEA's countries */
#define STATEMENT_CONTENT_DATE_MIN 946684800  /* 2000-01-01, the database's */

/* Where the notice came from (source_type). */
enum statement_source {
	SOURCE_ARTICLE_16 = 0,          /* a partner's notice */
	SOURCE_TRUSTED_FLAGGER,         /* a partner enrolled as trusted flagger */
	SOURCE_OTHER_NOTIFICATION,      /* an agency's */
};

/* Content types seen in the evidence (content_type), a bit set. */
enum {
	STATEMENT_CT_AUDIO = 1u << 0,
	STATEMENT_CT_IMAGE = 1u << 1,
	STATEMENT_CT_TEXT = 1u << 2,
	STATEMENT_CT_VIDEO = 1u << 3,
	STATEMENT_CT_OTHER = 1u << 4,
};

/* What the handler computes from the sealed evidence (only it can open
 * it): the content types and the earliest captured_at (0: none). */
struct statement_evidence {
	unsigned content_types;
	int64_t earliest_captured_at;
};

/* The deployment's defaults (refgate.conf). Strings owned by the caller. */
struct statement_defaults {
	const char *legal_ground;       /* illegal_content without legal_ground */
	const char *terms_ground;       /* terms_of_service without legal_ground */
	size_t n_scope;                 /* territorial_scope: 1-30 codes */
	const char (*scope)[3];
};

/* Everything one statement is made of. */
struct statement_in {
	const char *puid;               /* <case_id>-<decision id> */
	enum case_action action;        /* not ACTION_NONE */
	const char *ground;             /* "illegal_content" | "terms_of_service" */
	const char *legal_ground;       /* the decision's, NULL: the default */
	const char *explanation;        /* the decision's facts */
	bool automated;
	enum referral_category category;
	enum statement_source source;
	struct statement_evidence evidence;
	int64_t first_referral_at;      /* content_date without captured_at
	                                   (either: 2000-01-01 at the earliest) */
	int64_t decided_at;             /* application_date */
	const struct statement_defaults *defaults;
};

/* The built-in defaults: refgate.conf's when it sets none; the
 * territorial scope is the EEA's 30 countries (conf_eea, the only codes
 * the Transparency Database takes). */
extern const struct statement_defaults statement_defaults_builtin;

/* The defaults of a configuration: its keys where set, the built-in
 * ones elsewhere. Points into c, which must outlive out. */
void statement_defaults_from_conf(const struct conf *c,
                                  struct statement_defaults *out);

/* The content-type bit of an evidence media type ("image/png" ->
 * STATEMENT_CT_IMAGE; text, video, audio likewise; anything else
 * STATEMENT_CT_OTHER). NULL or "" is 0 (no media type given). */
unsigned statement_content_type(const char *media_type);

/* Whether a puid matches ^[A-Za-z0-9_-]{1,500}$. */
bool statement_puid_valid(const char *puid);

/*
 * The statement as the Transparency Database takes it, a new JSON object
 * (the caller decrefs it), or NULL for an input it cannot map (missing
 * puid, no action, an unknown ground, or no memory). Free text is cut to
 * the database's limits on a character boundary: decision_facts at 5000
 * characters, the explanations at 2000, the grounds at 500.
 */
json_t *statement_build(const struct statement_in *in);

#endif
