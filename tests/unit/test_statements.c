/* test_statements.c - the statement of reasons mapping (server/
 * statements.c): every action, ground, category and source; content types
 * from media types; dates; free text cut on a character boundary; the
 * defaults from refgate.conf; and the inputs it refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/statements.h"

#define T_DAY 1764547200          /* 2025-12-01T00:00:00Z */

static struct statement_in base(void)
{
	struct statement_in in = {
		.puid = "c_abc-7", .action = ACTION_CONTENT_REMOVED,
		.ground = "illegal_content", .explanation = "Facts.",
		.category = CAT_TERRORIST_CONTENT, .source = SOURCE_ARTICLE_16,
		.first_referral_at = T_DAY + 86400 * 3, .decided_at = T_DAY + 86400 * 5,
		.defaults = &statement_defaults_builtin,
	};
	return in;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The array member k joined with ",". */
static const char *list(json_t *o, const char *k)
{
	static char buf[512];
	size_t i;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach(json_object_get(o, k), i, v) {
		if (i)
			strcat(buf, ",");
		strcat(buf, json_string_value(v));
	}
	return buf;
}

static void test_normal(void **state)
{
	(void)state;
	struct statement_in in = base();
	json_t *o = statement_build(&in);
	assert_non_null(o);
	assert_string_equal(str(o, "puid"), "c_abc-7");
	assert_string_equal(list(o, "decision_visibility"),
	                    "DECISION_VISIBILITY_CONTENT_REMOVED");
	assert_null(json_object_get(o, "decision_account"));
	assert_string_equal(str(o, "decision_ground"), "DECISION_GROUND_ILLEGAL_CONTENT");
	assert_string_equal(str(o, "illegal_content_legal_ground"),
	                    statement_defaults_builtin.legal_ground);
	assert_string_equal(str(o, "illegal_content_explanation"), "Facts.");
	assert_null(json_object_get(o, "incompatible_content_ground"));
	assert_string_equal(str(o, "category"), "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY");
	assert_string_equal(list(o, "category_specification"), "KEYWORD_TERRORIST_CONTENT");
	assert_string_equal(list(o, "content_type"), "CONTENT_TYPE_OTHER");
	assert_string_equal(str(o, "content_type_other"), "account");
	assert_string_equal(str(o, "source_type"), "SOURCE_ARTICLE_16");
	assert_null(json_object_get(o, "source_identity"));
	assert_string_equal(str(o, "decision_facts"), "Facts.");
	assert_string_equal(str(o, "automated_detection"), "No");
	assert_string_equal(str(o, "automated_decision"), "AUTOMATED_DECISION_NOT_AUTOMATED");
	assert_string_equal(str(o, "content_date"), "2025-12-04");
	assert_string_equal(str(o, "application_date"), "2025-12-06");
	assert_int_equal(json_array_size(json_object_get(o, "territorial_scope")), 30);
	assert_string_equal(json_string_value(json_array_get(
	        json_object_get(o, "territorial_scope"), 15)), "IS");
	json_decref(o);
}

static void test_actions_grounds(void **state)
{
	(void)state;
	struct statement_in in = base();
	in.action = ACTION_ACCOUNT_SUSPENDED;
	in.ground = "terms_of_service";
	in.legal_ground = "Rule 4";
	in.automated = true;
	json_t *o = statement_build(&in);
	assert_non_null(o);
	assert_string_equal(str(o, "decision_account"), "DECISION_ACCOUNT_SUSPENDED");
	assert_null(json_object_get(o, "decision_visibility"));
	assert_string_equal(str(o, "decision_ground"), "DECISION_GROUND_INCOMPATIBLE_CONTENT");
	assert_string_equal(str(o, "incompatible_content_ground"), "Rule 4");
	assert_string_equal(str(o, "incompatible_content_explanation"), "Facts.");
	assert_null(json_object_get(o, "illegal_content_legal_ground"));
	assert_string_equal(str(o, "automated_detection"), "Yes");
	assert_string_equal(str(o, "automated_decision"), "AUTOMATED_DECISION_FULLY");
	json_decref(o);

	in = base();
	in.action = ACTION_CONTENT_RESTRICTED;
	in.ground = "terms_of_service";
	o = statement_build(&in);
	assert_string_equal(list(o, "decision_visibility"),
	                    "DECISION_VISIBILITY_CONTENT_DISABLED");
	assert_string_equal(str(o, "incompatible_content_ground"),
	                    statement_defaults_builtin.terms_ground);
	json_decref(o);
}

static void test_categories_sources(void **state)
{
	(void)state;
	static const struct {
		enum referral_category c;
		const char *category, *keyword;
	} want[] = {
		{CAT_TERRORIST_CONTENT, "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "KEYWORD_TERRORIST_CONTENT"},
		{CAT_VIOLENT_EXTREMISM, "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "KEYWORD_ILLEGAL_ORGANIZATIONS"},
		{CAT_INCITEMENT_TO_VIOLENCE, "STATEMENT_CATEGORY_VIOLENCE", "KEYWORD_INCITEMENT_VIOLENCE_HATRED"},
		{CAT_HATE_SPEECH, "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "KEYWORD_HATE_SPEECH"},
		{CAT_OTHER_ILLEGAL, "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", NULL},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct statement_in in = base();
		in.category = want[i].c;
		json_t *o = statement_build(&in);
		assert_non_null(o);
		assert_string_equal(str(o, "category"), want[i].category);
		if (want[i].keyword)
			assert_string_equal(list(o, "category_specification"), want[i].keyword);
		else
			assert_null(json_object_get(o, "category_specification"));
		json_decref(o);
	}
	static const struct { enum statement_source s; const char *name; } src[] = {
		{SOURCE_ARTICLE_16, "SOURCE_ARTICLE_16"},
		{SOURCE_TRUSTED_FLAGGER, "SOURCE_TRUSTED_FLAGGER"},
		{SOURCE_OTHER_NOTIFICATION, "SOURCE_TYPE_OTHER_NOTIFICATION"},
	};
	for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
		struct statement_in in = base();
		in.source = src[i].s;
		json_t *o = statement_build(&in);
		assert_string_equal(str(o, "source_type"), src[i].name);
		json_decref(o);
	}
	struct statement_in in = base();
	in.category = (enum referral_category)99;
	assert_null(statement_build(&in));
}

static void test_content_types_dates(void **state)
{
	(void)state;
	assert_int_equal(statement_content_type("image/png"), STATEMENT_CT_IMAGE);
	assert_int_equal(statement_content_type("video/mp4"), STATEMENT_CT_VIDEO);
	assert_int_equal(statement_content_type("audio/ogg"), STATEMENT_CT_AUDIO);
	assert_int_equal(statement_content_type("text/html"), STATEMENT_CT_TEXT);
	assert_int_equal(statement_content_type("application/pdf"), STATEMENT_CT_OTHER);
	assert_int_equal(statement_content_type("imagex/png"), STATEMENT_CT_OTHER);
	assert_int_equal(statement_content_type(""), 0);
	assert_int_equal(statement_content_type(NULL), 0);

	struct statement_in in = base();
	in.evidence.content_types = STATEMENT_CT_VIDEO | STATEMENT_CT_IMAGE;
	in.evidence.earliest_captured_at = T_DAY + 3600;
	json_t *o = statement_build(&in);
	assert_string_equal(list(o, "content_type"), "CONTENT_TYPE_IMAGE,CONTENT_TYPE_VIDEO");
	assert_null(json_object_get(o, "content_type_other"));
	assert_string_equal(str(o, "content_date"), "2025-12-01");
	json_decref(o);

	in.evidence.earliest_captured_at = 631152000;     /* 1990-01-01 */
	o = statement_build(&in);
	assert_string_equal(str(o, "content_date"), "2000-01-01");
	json_decref(o);

	in.evidence.content_types = STATEMENT_CT_TEXT | STATEMENT_CT_OTHER;
	o = statement_build(&in);
	assert_string_equal(list(o, "content_type"), "CONTENT_TYPE_TEXT,CONTENT_TYPE_OTHER");
	assert_string_equal(str(o, "content_type_other"), "account");
	json_decref(o);
}

/* n copies of the UTF-8 character ch (1-4 bytes). */
static char *repeat(const char *ch, size_t n)
{
	size_t len = strlen(ch);
	char *s = malloc(len * n + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, ch, len);
	s[len * n] = '\0';
	return s;
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void test_cut(void **state)
{
	(void)state;
	char *expl = repeat("\xc3\xa9", 6000);           /* é: 2 bytes */
	char *ground = repeat("\xe2\x82\xac", 600);      /* €: 3 bytes */
	struct statement_in in = base();
	in.explanation = expl;
	in.legal_ground = ground;
	json_t *o = statement_build(&in);
	assert_non_null(o);
	assert_int_equal(utf8_len(str(o, "decision_facts")), STATEMENT_FACTS_MAX);
	assert_int_equal(utf8_len(str(o, "illegal_content_explanation")),
	                 STATEMENT_EXPLANATION_MAX);
	assert_int_equal(strlen(str(o, "illegal_content_explanation")), 4000);
	assert_int_equal(utf8_len(str(o, "illegal_content_legal_ground")),
	                 STATEMENT_GROUND_MAX);
	json_decref(o);
	free(expl);
	free(ground);

	/* exactly at the limits: kept whole */
	expl = repeat("a", STATEMENT_FACTS_MAX);
	in.explanation = expl;
	in.legal_ground = "";                  /* empty: the default */
	o = statement_build(&in);
	assert_int_equal(strlen(str(o, "decision_facts")), STATEMENT_FACTS_MAX);
	assert_string_equal(str(o, "illegal_content_legal_ground"),
	                    statement_defaults_builtin.legal_ground);
	json_decref(o);
	free(expl);
}

static void test_refusals(void **state)
{
	(void)state;
	struct statement_in in = base();
	assert_null(statement_build(NULL));
	in.puid = "";
	assert_null(statement_build(&in));
	in.puid = "c_abc 7";
	assert_null(statement_build(&in));
	in.puid = NULL;
	assert_null(statement_build(&in));
	char *long_puid = repeat("a", STATEMENT_PUID_MAX + 1);
	in.puid = long_puid;
	assert_null(statement_build(&in));
	long_puid[STATEMENT_PUID_MAX] = '\0';
	json_t *o = statement_build(&in);     /* 500: the longest */
	assert_non_null(o);
	json_decref(o);
	free(long_puid);
	in = base();
	in.action = ACTION_NONE;
	assert_null(statement_build(&in));
	in = base();
	in.ground = "vibes";
	assert_null(statement_build(&in));
	in.ground = NULL;
	assert_null(statement_build(&in));
	in = base();
	in.explanation = NULL;
	assert_null(statement_build(&in));
	in = base();
	in.defaults = NULL;
	assert_null(statement_build(&in));
	assert_true(statement_puid_valid("c_A-z_9-12"));
	assert_false(statement_puid_valid("c_é-1"));
}

static void test_defaults_from_conf(void **state)
{
	(void)state;
	struct conf c;
	char err[128];
	const char *text = "statement_legal_ground = Strafgesetzbuch \xc2\xa7 130\n"
	                   "statement_terms_ground = Rule 4\n"
	                   "statement_territorial_scope = de, AT fr\n";
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, text, strlen(text), err, sizeof err), RG_OK);
	struct statement_defaults d;
	statement_defaults_from_conf(&c, &d);
	struct statement_in in = base();
	in.defaults = &d;
	json_t *o = statement_build(&in);
	assert_string_equal(str(o, "illegal_content_legal_ground"),
	                    "Strafgesetzbuch \xc2\xa7 130");
	assert_string_equal(list(o, "territorial_scope"), "DE,AT,FR");
	json_decref(o);
	in.ground = "terms_of_service";
	o = statement_build(&in);
	assert_string_equal(str(o, "incompatible_content_ground"), "Rule 4");
	json_decref(o);

	/* unset keys: the built-in defaults */
	conf_defaults(&c);
	statement_defaults_from_conf(&c, &d);
	assert_string_equal(d.legal_ground, statement_defaults_builtin.legal_ground);
	assert_int_equal(d.n_scope, 30);

	/* refused values */
	static const char *bad[] = {
		"statement_territorial_scope = DE, US\n",      /* not EEA */
		"statement_territorial_scope = DE, de\n",      /* twice */
		"statement_territorial_scope = ,\n",           /* none */
		"statement_territorial_scope = DEU\n",
		"statement_legal_ground = bad \x01 byte\n",
		"statement_legal_ground = bad \xc3 utf8\n",
		"statement_terms_ground = \xed\xa0\x80\n",     /* a surrogate */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		conf_defaults(&c);
		assert_int_equal(conf_parse(&c, bad[i], strlen(bad[i]), err,
		                            sizeof err), RG_EINVAL);
	}
	char *line = malloc(600 + 40);
	strcpy(line, "statement_legal_ground = ");
	char *g = repeat("g", 501);
	strcat(line, g);
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, line, strlen(line), err, sizeof err), RG_EINVAL);
	g[500] = '\0';
	strcpy(line, "statement_legal_ground = ");
	strcat(line, g);
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, line, strlen(line), err, sizeof err), RG_OK);
	free(g);
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_actions_grounds),
		cmocka_unit_test(test_categories_sources),
		cmocka_unit_test(test_content_types_dates),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_defaults_from_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
