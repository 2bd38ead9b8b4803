/*
 * statements.c - the field mapping of a statement of reasons (see
 * statements.h): decision, ground, category, content type, source, dates
 * and scope, in the Transparency Database's names and enum values.
 */
#include "statements.h"

#include <string.h>


const struct statement_defaults statement_defaults_builtin = {
	.legal_ground = "Illegal content under Union law or the law of a "
	                "Member State (Article 3(h) of Regulation (EU) "
	                "2022/2065)",
	.terms_ground = "The platform's terms of service",
	.n_scope = STATEMENT_SCOPE_MAX,
	.scope = conf_eea,
};

void statement_defaults_from_conf(const struct conf *c,
                                  struct statement_defaults *out)
{
	*out = statement_defaults_builtin;
	if (c->statement_legal_ground[0])
		out->legal_ground = c->statement_legal_ground;
	if (c->statement_terms_ground[0])
		out->terms_ground = c->statement_terms_ground;
	if (c->n_statement_scope > 0) {
		out->n_scope = c->n_statement_scope;
		out->scope = c->statement_scope;
	}
}

unsigned statement_content_type(const char *media_type)
{
	static const struct { const char *prefix; unsigned bit; } map[] = {
		{"image/", STATEMENT_CT_IMAGE}, {"video/", STATEMENT_CT_VIDEO},
		{"audio/", STATEMENT_CT_AUDIO}, {"text/", STATEMENT_CT_TEXT},
	};
	if (!media_type || !*media_type)
		return 0;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strncmp(media_type, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].bit;
	return STATEMENT_CT_OTHER;
}

bool statement_puid_valid(const char *puid)
{
	size_t n = puid ? strlen(puid) : 0;
	return n >= 1 && n <= STATEMENT_PUID_MAX &&
	       strspn(puid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                    "0123456789_-") == n;
}

/* A JSON string of s cut to at most max characters (code points of
 * valid UTF-8; the database counts characters). */
static json_t *text_cut(const char *s, size_t max)
{
	size_t bytes = 0, chars = 0;
	for (; s[bytes]; bytes++) {
		if (((unsigned char)s[bytes] & 0xC0) == 0x80)
			continue;
		if (chars == max)
			break;
		chars++;
	}
	return json_stringn(s, bytes);
}

/* "YYYY-MM-DD" of a Unix time (UTC). */
static json_t *date_of(int64_t t)
{
	char when[21];
	rg_time_format(t, when);
	return json_stringn(when, 10);
}

static int set_decision(json_t *o, enum case_action action)
{
	switch (action) {
	case ACTION_ACCOUNT_SUSPENDED:
		return json_object_set_new(o, "decision_account",
		                           json_string("DECISION_ACCOUNT_SUSPENDED"));
	case ACTION_CONTENT_REMOVED:
		return json_object_set_new(o, "decision_visibility",
		        json_pack("[s]", "DECISION_VISIBILITY_CONTENT_REMOVED"));
	case ACTION_CONTENT_RESTRICTED:
		return json_object_set_new(o, "decision_visibility",
		        json_pack("[s]", "DECISION_VISIBILITY_CONTENT_DISABLED"));
	default:
		return -1;
	}
}

static int set_ground(json_t *o, const struct statement_in *in)
{
	const struct statement_defaults *d = in->defaults;
	const char *expl = in->explanation;
	bool illegal = strcmp(in->ground, "illegal_content") == 0;
	if (!illegal && strcmp(in->ground, "terms_of_service") != 0)
		return -1;
	const char *ground = in->legal_ground && *in->legal_ground
	                     ? in->legal_ground
	                     : illegal ? d->legal_ground : d->terms_ground;
	int rc = json_object_set_new(o, "decision_ground", json_string(illegal
	                             ? "DECISION_GROUND_ILLEGAL_CONTENT"
	                             : "DECISION_GROUND_INCOMPATIBLE_CONTENT"));
	rc |= json_object_set_new(o, illegal ? "illegal_content_legal_ground"
	                          : "incompatible_content_ground",
	                          text_cut(ground, STATEMENT_GROUND_MAX));
	rc |= json_object_set_new(o, illegal ? "illegal_content_explanation"
	                          : "incompatible_content_explanation",
	                          text_cut(expl, STATEMENT_EXPLANATION_MAX));
	return rc;
}

static int set_category(json_t *o, enum referral_category c)
{
	static const struct { const char *category, *keyword; } map[] = {
		[CAT_TERRORIST_CONTENT] = {"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
		                           "KEYWORD_TERRORIST_CONTENT"},
		[CAT_VIOLENT_EXTREMISM] = {"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
		                           "KEYWORD_ILLEGAL_ORGANIZATIONS"},
		[CAT_INCITEMENT_TO_VIOLENCE] = {"STATEMENT_CATEGORY_VIOLENCE",
		                                "KEYWORD_INCITEMENT_VIOLENCE_HATRED"},
		[CAT_HATE_SPEECH] = {"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		                     "KEYWORD_HATE_SPEECH"},
		[CAT_OTHER_ILLEGAL] = {"STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", NULL},
	};
	if ((unsigned)c >= sizeof map / sizeof map[0])
		return -1;
	int rc = json_object_set_new(o, "category", json_string(map[c].category));
	if (map[c].keyword)
		rc |= json_object_set_new(o, "category_specification",
		                          json_pack("[s]", map[c].keyword));
	return rc;
}

/* content_type in the database's order; CONTENT_TYPE_OTHER ("account")
 * when the evidence names no known type, or none at all. */
static int set_content_type(json_t *o, unsigned types)
{
	static const struct { unsigned bit; const char *name; } map[] = {
		{STATEMENT_CT_AUDIO, "CONTENT_TYPE_AUDIO"},
		{STATEMENT_CT_IMAGE, "CONTENT_TYPE_IMAGE"},
		{STATEMENT_CT_TEXT, "CONTENT_TYPE_TEXT"},
		{STATEMENT_CT_VIDEO, "CONTENT_TYPE_VIDEO"},
		{STATEMENT_CT_OTHER, "CONTENT_TYPE_OTHER"},
	};
	json_t *list = json_array();
	int rc = 0;
	if (types == 0)
		types = STATEMENT_CT_OTHER;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (types & map[i].bit)
			rc |= json_array_append_new(list, json_string(map[i].name));
	rc |= json_object_set_new(o, "content_type", list);
	if (types & STATEMENT_CT_OTHER)
		rc |= json_object_set_new(o, "content_type_other",
		                          json_string("account"));
	return rc;
}

static const char *source_name(enum statement_source s)
{
	switch (s) {
	case SOURCE_TRUSTED_FLAGGER: return "SOURCE_TRUSTED_FLAGGER";
	case SOURCE_OTHER_NOTIFICATION: return "SOURCE_TYPE_OTHER_NOTIFICATION";
	default: return "SOURCE_ARTICLE_16";
	}
}

json_t *statement_build(const struct statement_in *in)
{
	if (!in || !statement_puid_valid(in->puid) || !in->ground ||
	    !in->explanation || !in->defaults || !in->defaults->legal_ground ||
	    !in->defaults->terms_ground || in->defaults->n_scope == 0 ||
	    in->defaults->n_scope > STATEMENT_SCOPE_MAX)
		return NULL;
	json_t *o = json_object(), *scope = json_array();
	int rc = o && scope ? 0 : -1;
	if (rc == 0)
		rc = json_object_set_new(o, "puid", json_string(in->puid));
	rc |= set_decision(o, in->action);
	rc |= set_ground(o, in);
	rc |= set_category(o, in->category);
	rc |= set_content_type(o, in->evidence.content_types);
	rc |= json_object_set_new(o, "source_type",
	                          json_string(source_name(in->source)));
	rc |= json_object_set_new(o, "decision_facts",
	                          text_cut(in->explanation, STATEMENT_FACTS_MAX));
	rc |= json_object_set_new(o, "automated_detection",
	                          json_string(in->automated ? "Yes" : "No"));
	rc |= json_object_set_new(o, "automated_decision", json_string(
	        in->automated ? "AUTOMATED_DECISION_FULLY"
	                      : "AUTOMATED_DECISION_NOT_AUTOMATED"));
	int64_t content = in->evidence.earliest_captured_at > 0
	                  ? in->evidence.earliest_captured_at
	                  : in->first_referral_at;
	/* The database takes no content_date before 2000-01-01: older
	 * evidence is dated then (the batch would be refused forever). */
	if (content < STATEMENT_CONTENT_DATE_MIN)
		content = STATEMENT_CONTENT_DATE_MIN;
	rc |= json_object_set_new(o, "content_date", date_of(content));
	rc |= json_object_set_new(o, "application_date", date_of(in->decided_at));
	for (size_t i = 0; rc == 0 && i < in->defaults->n_scope; i++)
		rc |= json_array_append_new(scope,
		                            json_string(in->defaults->scope[i]));
	rc |= json_object_set(o, "territorial_scope", scope);
	json_decref(scope);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
