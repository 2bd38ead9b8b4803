/*
 * referral.h - the signed referral payload of contract section 2: strict
 * validation of the JSON (types, lengths, enums, unknown and duplicate
 * members refused) into a struct, with JSON-pointer errors. Pure: no I/O,
 * no clock (the caller checks iat against its own clock); thread-safe.
 */
#ifndef RG_REFERRAL_H
#define RG_REFERRAL_H

#include "rg.h"
#include "problem.h"

#define REFERRAL_MAX_SUBJECTS 100
#define REFERRAL_MAX_EVIDENCE 20
#define REFERRAL_JTI_MIN 16
#define REFERRAL_JTI_MAX 64
#define REFERRAL_PARTNER_REF_MAX 128     /* characters (code points) */
#define REFERRAL_SUMMARY_MAX 4000        /* characters (code points) */
#define REFERRAL_URL_MAX 2048            /* bytes */
#define REFERRAL_HANDLE_MAX 50           /* without the leading @ */
#define REFERRAL_ACCOUNT_ID_MAX 20       /* digits */
#define REFERRAL_TEXT_MAX 500            /* removal order legal_basis, characters */
#define REFERRAL_REFERENCE_MAX 128       /* removal order reference, characters */
#define REFERRAL_AUTHORITY_MAX 200       /* removal order issuing_authority */
/* Art. 11(3) of Regulation (EU) 2021/784: the account holder may be kept
 * uninformed at most six weeks after the order's issue (and once six
 * more weeks on the authority's extension). */
#define REFERRAL_WITHHOLD_MAX_SECONDS (INT64_C(42) * 86400)

enum referral_category {
	CAT_TERRORIST_CONTENT,
	CAT_VIOLENT_EXTREMISM,
	CAT_INCITEMENT_TO_VIOLENCE,
	CAT_HATE_SPEECH,
	CAT_OTHER_ILLEGAL,
};

enum referral_urgency {
	URG_ROUTINE = 0,
	URG_URGENT = 1,
	URG_IMMINENT_HARM = 2,
};

const char *referral_category_name(enum referral_category c);
const char *referral_urgency_name(enum referral_urgency u);

/* A subject as given (validated, not yet normalised); "" when absent. */
struct referral_subject {
	char account_id[REFERRAL_ACCOUNT_ID_MAX + 1];
	char handle[REFERRAL_HANDLE_MAX + 2];          /* may keep its '@' */
	char url[REFERRAL_URL_MAX + 1];
};

struct referral_evidence {
	char url[REFERRAL_URL_MAX + 1];
	char sha256[65];              /* "" when absent */
	char media_type[128];         /* "" when absent */
	int64_t captured_at;          /* 0 when absent */
};

struct referral_removal_order {
	char reference[REFERRAL_REFERENCE_MAX * 4 + 1];  /* UTF-8 */
	int64_t issued_at;
	char legal_basis[REFERRAL_TEXT_MAX * 4 + 1];     /* UTF-8 */
	char issuing_authority[REFERRAL_AUTHORITY_MAX * 4 + 1]; /* "": none */
	int64_t withhold_notice_until;                   /* 0: none */
};

struct referral {
	char jti[REFERRAL_JTI_MAX + 1];
	int64_t iat;
	bool has_partner_ref;
	char partner_ref[REFERRAL_PARTNER_REF_MAX * 4 + 1]; /* UTF-8 */
	enum referral_category category;
	enum referral_urgency urgency;
	size_t n_subjects;
	struct referral_subject subjects[REFERRAL_MAX_SUBJECTS];
	size_t n_evidence;
	struct referral_evidence evidence[REFERRAL_MAX_EVIDENCE];
	char *summary;                /* malloc'd UTF-8, NULL when absent */
	bool has_removal_order;
	struct referral_removal_order removal_order;
};

/*
 * Validates `len` bytes of payload JSON. role is the submitter's role
 * (removal_order is refused unless ROLE_AGENCY). On success *out is a
 * new referral (free with referral_free) and RG_OK is returned. When the
 * payload breaks rules, returns RG_EINVAL and fills `errors` with one item
 * per broken rule (JSON pointer + reason). RG_ENOMEM on allocation failure.
 */
int referral_parse(const uint8_t *json, size_t len, enum rg_role role,
                   struct referral **out, struct problem_items *errors);

void referral_free(struct referral *r);

#endif
