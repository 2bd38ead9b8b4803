/*
 * test_normalise.c - unit tests for proto/normalise.c: tables of handles,
 * account ids and URLs (twitter.com and x.com with www, mobile and m) to
 * their canonical identifiers or their refusal, and whole subjects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/normalise.h"

static const struct norm_hosts platform = {
	.n_hosts = 2,
	.hosts = {"twitter.com", "x.com"},
	.n_prefixes = 3,
	.prefixes = {"www", "mobile", "m"},
};

#define H50 "abcdefghij_ABCDEFGHIJ_0123456789_abcdefghij_ABCDEF"
#define H50_LOWER "abcdefghij_abcdefghij_0123456789_abcdefghij_abcdef"
_Static_assert(sizeof H50 == 51 && sizeof H50_LOWER == 51, "50 chars");

/* --- handles and account ids --- */

static const struct {
	const char *in;
	const char *out;          /* NULL: refused */
} handle_cases[] = {
	{"foo", "foo"},
	{"@foo", "foo"},
	{"@Foo_1", "foo_1"},
	{"FOO", "foo"},
	{"_", "_"},
	{"@_9", "_9"},
	{"a", "a"},
	{H50, H50_LOWER},
	{"@" H50, H50_LOWER},
	{"", NULL},
	{"@", NULL},
	{"@@foo", NULL},
	{H50 "x", NULL},
	{"@" H50 "x", NULL},
	{"foo bar", NULL},
	{"foo-bar", NULL},
	{"foo.bar", NULL},
	{"foo@", NULL},
	{" foo", NULL},
	{"f\xc3\xb6\xc3\xb6", NULL},
	{"\xef\xbd\x86oo", NULL},     /* fullwidth f */
	{"foo%20", NULL},
};

static void test_handle_table(void **state)
{
	for (size_t i = 0; i < sizeof handle_cases / sizeof handle_cases[0]; i++) {
		char out[REFERRAL_HANDLE_MAX + 1] = "untouched";
		int rc = norm_handle(handle_cases[i].in, out);
		if (handle_cases[i].out) {
			assert_int_equal(rc, RG_OK);
			assert_string_equal(out, handle_cases[i].out);
		} else {
			if (rc != RG_EINVAL)
				print_error("handle case %zu accepted\n", i);
			assert_int_equal(rc, RG_EINVAL);
			assert_string_equal(out, "untouched");
		}
	}
	char out[REFERRAL_HANDLE_MAX + 1];
	assert_int_equal(norm_handle(NULL, out), RG_EINVAL);
}

static const struct {
	const char *in;
	const char *out;          /* NULL: refused */
} account_id_cases[] = {
	{"123", "123"},
	{"000123", "123"},
	{"0", "0"},
	{"000", "0"},
	{"100", "100"},
	{"12345678901234567890", "12345678901234567890"},
	{"00000000000000000001", "1"},
	{"99999999999999999999", "99999999999999999999"},
	{"", NULL},
	{"123456789012345678901", NULL},
	{"000000000000000000001", NULL},
	{"-1", NULL},
	{"+1", NULL},
	{"1 ", NULL},
	{"12a", NULL},
	{"0x10", NULL},
	{"1.0", NULL},
	{"\xd9\xa1", NULL},
};

static void test_account_id_table(void **state)
{
	for (size_t i = 0; i < sizeof account_id_cases / sizeof account_id_cases[0];
	     i++) {
		char out[REFERRAL_ACCOUNT_ID_MAX + 1] = "untouched";
		int rc = norm_account_id(account_id_cases[i].in, out);
		if (account_id_cases[i].out) {
			assert_int_equal(rc, RG_OK);
			assert_string_equal(out, account_id_cases[i].out);
		} else {
			if (rc != RG_EINVAL)
				print_error("account id case %zu accepted\n", i);
			assert_int_equal(rc, RG_EINVAL);
			assert_string_equal(out, "untouched");
		}
	}
	char out[REFERRAL_ACCOUNT_ID_MAX + 1];
	assert_int_equal(norm_account_id(NULL, out), RG_EINVAL);
}

/* --- URLs --- */

#define REFUSED(why) NULL, NULL, why

static const struct {
	const char *url;
	const char *account_id;   /* expected, "" for none */
	const char *handle;       /* expected, "" for none */
	const char *why;          /* non-NULL: refused with this reason */
} url_cases[] = {
	/* profiles on every host and alias */
	{"https://twitter.com/Foo", "", "foo", NULL},
	{"https://x.com/foo", "", "foo", NULL},
	{"http://x.com/foo", "", "foo", NULL},
	{"HTTPS://X.COM/Foo_Bar", "", "foo_bar", NULL},
	{"hTtP://TwItTeR.CoM/a", "", "a", NULL},
	{"https://www.twitter.com/foo", "", "foo", NULL},
	{"https://mobile.twitter.com/foo", "", "foo", NULL},
	{"https://m.twitter.com/foo", "", "foo", NULL},
	{"https://www.x.com/foo", "", "foo", NULL},
	{"https://mobile.x.com/foo", "", "foo", NULL},
	{"https://M.X.COM/foo", "", "foo", NULL},
	{"https://x.com./foo", "", "foo", NULL},
	{"https://www.twitter.com./foo", "", "foo", NULL},
	{"https://x.com/foo/", "", "foo", NULL},
	{"https://x.com/foo?lang=en", "", "foo", NULL},
	{"https://x.com/foo#top", "", "foo", NULL},
	{"https://x.com/foo?ref=@bar&u=https://evil.com/", "", "foo", NULL},
	{"https://x.com/foo/?s=20#x", "", "foo", NULL},
	{"https://x.com/" H50, "", H50_LOWER, NULL},
	{"https://x.com/_", "", "_", NULL},
	/* ports */
	{"https://x.com:443/foo", "", "foo", NULL},
	{"http://x.com:80/foo", "", "foo", NULL},
	{"https://x.com:0443/foo", "", "foo", NULL},
	{"https://x.com:/foo", "", "foo", NULL},
	{"https://x.com:80/foo", REFUSED("has a port other than the scheme's default")},
	{"http://x.com:443/foo", REFUSED("has a port other than the scheme's default")},
	{"https://x.com:8443/foo", REFUSED("has a port other than the scheme's default")},
	{"https://x.com:99999999999999999999443/foo",
	 REFUSED("has an invalid port")},
	{"https://x.com:44x/foo", REFUSED("has an invalid port")},
	{"https://x.com:-443/foo", REFUSED("has an invalid port")},
	/* posts */
	{"https://x.com/foo/status/1234567890123456789", "", "foo", NULL},
	{"https://twitter.com/Foo/status/1/photo/1", "", "foo", NULL},
	{"https://x.com/foo/status/1/analytics", "", "foo", NULL},
	{"https://x.com/foo/Status/1", "", "foo", NULL},
	{"https://x.com/foo/status/1/", "", "foo", NULL},
	{"https://x.com/foo/statuses/42", "", "foo", NULL},
	{"https://x.com/foo/statuses/42/", "", "foo", NULL},
	{"https://x.com/foo/statuses/42/photo/1",
	 REFUSED("is not a profile or post URL")},
	{"https://x.com/foo/status", REFUSED("is not a profile or post URL")},
	{"https://x.com/foo/status/", REFUSED("is not a profile or post URL")},
	{"https://x.com/foo/status/abc", REFUSED("is not a profile or post URL")},
	{"https://x.com/foo/status/12345678901234567890123",
	 REFUSED("is not a profile or post URL")},
	{"https://x.com/foo/status/%31", REFUSED("is not a profile or post URL")},
	/* profile tabs */
	{"https://x.com/foo/with_replies", "", "foo", NULL},
	{"https://x.com/foo/media", "", "foo", NULL},
	{"https://x.com/foo/likes", "", "foo", NULL},
	{"https://x.com/foo/followers", "", "foo", NULL},
	{"https://x.com/foo/following", "", "foo", NULL},
	{"https://x.com/foo/highlights", "", "foo", NULL},
	{"https://x.com/foo/articles", "", "foo", NULL},
	{"https://x.com/foo/verified_followers/", "", "foo", NULL},
	{"https://x.com/foo/media/extra", REFUSED("is not a profile or post URL")},
	{"https://x.com/foo/bar", REFUSED("is not a profile or post URL")},
	/* account ids */
	{"https://x.com/i/user/12345", "12345", "", NULL},
	{"https://mobile.twitter.com/i/user/000123", "123", "", NULL},
	{"https://x.com/i/user/0/", "0", "", NULL},
	{"https://x.com/I/USER/7", "7", "", NULL},
	{"https://x.com/i/user/12345678901234567890", "12345678901234567890", "",
	 NULL},
	{"https://x.com/i/user/123456789012345678901", REFUSED("names no account")},
	{"https://x.com/i/user/abc", REFUSED("names no account")},
	{"https://x.com/i/user/", REFUSED("names no account")},
	{"https://x.com/i/user/1/2", REFUSED("names no account")},
	{"https://x.com/i/user/%31", REFUSED("names no account")},
	/* pages that name no account */
	{"https://x.com", REFUSED("names no account")},
	{"https://x.com/", REFUSED("names no account")},
	{"https://x.com?foo", REFUSED("names no account")},
	{"https://x.com/#foo", REFUSED("names no account")},
	{"https://x.com/home", REFUSED("names no account")},
	{"https://x.com/HOME", REFUSED("names no account")},
	{"https://x.com/home/status/1", REFUSED("names no account")},
	{"https://x.com/explore", REFUSED("names no account")},
	{"https://x.com/search?q=foo", REFUSED("names no account")},
	{"https://x.com/settings/profile", REFUSED("names no account")},
	{"https://x.com/notifications", REFUSED("names no account")},
	{"https://x.com/messages/123-456", REFUSED("names no account")},
	{"https://x.com/compose/tweet", REFUSED("names no account")},
	{"https://x.com/login", REFUSED("names no account")},
	{"https://x.com/logout", REFUSED("names no account")},
	{"https://x.com/signup", REFUSED("names no account")},
	{"https://x.com/tos", REFUSED("names no account")},
	{"https://x.com/privacy", REFUSED("names no account")},
	{"https://x.com/hashtag/foo", REFUSED("names no account")},
	{"https://x.com/intent/user?screen_name=foo", REFUSED("names no account")},
	{"https://x.com/intent/user?user_id=123", REFUSED("names no account")},
	{"https://x.com/share?text=x", REFUSED("names no account")},
	{"https://x.com/about", REFUSED("names no account")},
	{"https://x.com/jobs", REFUSED("names no account")},
	{"https://x.com/download", REFUSED("names no account")},
	{"https://x.com/account/access", REFUSED("names no account")},
	{"https://x.com/lists", REFUSED("names no account")},
	{"https://x.com/topics", REFUSED("names no account")},
	{"https://x.com/communities/123", REFUSED("names no account")},
	{"https://x.com/i", REFUSED("names no account")},
	{"https://x.com/i/", REFUSED("names no account")},
	{"https://x.com/i/bookmarks", REFUSED("names no account")},
	{"https://x.com/i/web/status/1234567890",
	 REFUSED("names a post but not its account")},
	{"https://twitter.com/i/web/status/1/", REFUSED("names a post but not its account")},
	/* handles that are not handles */
	{"https://x.com/%66oo", REFUSED("has a percent-encoded handle")},
	{"https://x.com/foo%5F", REFUSED("has a percent-encoded handle")},
	{"https://x.com/foo%2Fstatus/1", REFUSED("is not a profile or post URL")},
	{"https://x.com/foo.bar", REFUSED("has an invalid handle")},
	{"https://x.com/foo-bar", REFUSED("has an invalid handle")},
	{"https://x.com/@foo", REFUSED("has an invalid handle")},
	{"https://x.com/" H50 "x", REFUSED("has an invalid handle")},
	{"https://x.com/./foo", REFUSED("is not a profile or post URL")},
	{"https://x.com/../foo", REFUSED("is not a profile or post URL")},
	{"https://x.com/..", REFUSED("has an invalid handle")},
	{"https://x.com//foo", REFUSED("is not a profile or post URL")},
	{"https://x.com/foo//", REFUSED("is not a profile or post URL")},
	{"https://x.com/foo//status/1", REFUSED("is not a profile or post URL")},
	/* userinfo */
	{"https://user@x.com/foo", REFUSED("has user information")},
	{"https://user:pw@x.com/foo", REFUSED("has user information")},
	{"https://@x.com/foo", REFUSED("has user information")},
	{"https://x.com@evil.com/foo", REFUSED("has user information")},
	{"https://evil.com@x.com/foo", REFUSED("has user information")},
	/* hosts off the platform */
	{"https://evil.com/foo", REFUSED("is not on the platform's hosts")},
	{"https://x.com.evil.com/foo", REFUSED("is not on the platform's hosts")},
	{"https://evilx.com/foo", REFUSED("is not on the platform's hosts")},
	{"https://twitter.co/foo", REFUSED("is not on the platform's hosts")},
	{"https://www.www.x.com/foo", REFUSED("is not on the platform's hosts")},
	{"https://m.mobile.x.com/foo", REFUSED("is not on the platform's hosts")},
	{"https://api.x.com/foo", REFUSED("is not on the platform's hosts")},
	{"https://wwwx.com/foo", REFUSED("is not on the platform's hosts")},
	{"https://.x.com/foo", REFUSED("is not on the platform's hosts")},
	{"https://x.com../foo", REFUSED("is not on the platform's hosts")},
	{"https://com/foo", REFUSED("is not on the platform's hosts")},
	{"https://x.com%2Eevil.com/foo", REFUSED("has an invalid host")},
	{"https://x_com/foo", REFUSED("has an invalid host")},
	{"https:///foo", REFUSED("has no host")},
	{"https://./foo", REFUSED("has no host")},
	{"https://:443/foo", REFUSED("has no host")},
	/* IP literals */
	{"https://127.0.0.1/foo", REFUSED("has an IP address as host")},
	{"https://104.244.42.1./foo", REFUSED("has an IP address as host")},
	{"https://2130706433/foo", REFUSED("has an IP address as host")},
	{"https://0x7f000001/foo", REFUSED("has an IP address as host")},
	{"https://[::1]/foo", REFUSED("has an IP address as host")},
	{"https://[2a04:4e42::1]:443/foo", REFUSED("has an IP address as host")},
	/* not http(s) or not a URL */
	{"", REFUSED("is not an http or https URL")},
	{"ftp://x.com/foo", REFUSED("is not an http or https URL")},
	{"x.com/foo", REFUSED("is not an http or https URL")},
	{"//x.com/foo", REFUSED("is not an http or https URL")},
	{"javascript:alert(1)", REFUSED("is not an http or https URL")},
	{"https:/x.com/foo", REFUSED("is not an http or https URL")},
	{"httpsx://x.com/foo", REFUSED("is not an http or https URL")},
	{"https://x.com/ foo", REFUSED("is not a valid URL")},
	{"https://x.com/foo\n", REFUSED("is not a valid URL")},
	{"https://x.com\\@evil.com/foo", REFUSED("is not a valid URL")},
	{"https://x.com/f\xc3\xb6\xc3\xb6", REFUSED("is not a valid URL")},
	{"https://x.com/foo?q=\xc3\xb6", REFUSED("is not a valid URL")},
};

static void test_url_table(void **state)
{
	size_t n = sizeof url_cases / sizeof url_cases[0];
	assert_true(n >= 50);
	for (size_t i = 0; i < n; i++) {
		struct subject_ids ids = {"untouched", "untouched"};
		const char *why = NULL;
		int rc = norm_url(&platform, url_cases[i].url, &ids, &why);
		if (!url_cases[i].why) {
			if (rc != RG_OK)
				print_error("refused %s: %s\n", url_cases[i].url, why);
			assert_int_equal(rc, RG_OK);
			assert_string_equal(ids.account_id, url_cases[i].account_id);
			assert_string_equal(ids.handle, url_cases[i].handle);
			assert_null(why);
		} else {
			if (rc != RG_EBADURL || !why ||
			    strcmp(why, url_cases[i].why) != 0)
				print_error("case %s: rc %d, %s\n", url_cases[i].url,
					    rc, why ? why : "(no reason)");
			assert_int_equal(rc, RG_EBADURL);
			assert_non_null(why);
			assert_string_equal(why, url_cases[i].why);
			assert_string_equal(ids.account_id, "untouched");
			assert_string_equal(ids.handle, "untouched");
		}
	}
}

static void test_url_limits(void **state)
{
	struct subject_ids ids;
	const char *why = NULL;
	/* a 2048-byte URL is read, one byte more is refused */
	char url[REFERRAL_URL_MAX + 2];
	int k = snprintf(url, sizeof url, "https://x.com/foo/status/1/");
	memset(url + k, 'a', REFERRAL_URL_MAX - (size_t)k);
	url[REFERRAL_URL_MAX] = '\0';
	assert_int_equal(norm_url(&platform, url, &ids, &why), RG_OK);
	assert_string_equal(ids.handle, "foo");
	url[REFERRAL_URL_MAX] = 'a';
	url[REFERRAL_URL_MAX + 1] = '\0';
	assert_int_equal(norm_url(&platform, url, &ids, &why), RG_EBADURL);
	assert_string_equal(why, "is too long");

	/* a host over 253 bytes */
	char host[400];
	snprintf(host, sizeof host, "https://%0300d.x.com/foo", 0);
	memset(host + 8, 'a', 300);
	assert_int_equal(norm_url(&platform, host, &ids, &why), RG_EBADURL);
	assert_string_equal(why, "has an invalid host");

	/* NULL arguments and a NULL why */
	assert_int_equal(norm_url(&platform, NULL, &ids, &why), RG_EBADURL);
	assert_int_equal(norm_url(NULL, "https://x.com/foo", &ids, &why),
			 RG_EBADURL);
	assert_int_equal(norm_url(&platform, "https://x.com/home", &ids, NULL),
			 RG_EBADURL);

	/* a reason never echoes the URL */
	assert_int_equal(norm_url(&platform, "https://evil.example/secretname",
				  &ids, &why), RG_EBADURL);
	assert_null(strstr(why, "secretname"));
	assert_null(strstr(why, "evil"));
}

static void test_url_other_config(void **state)
{
	/* the host list and prefixes come from configuration, not code */
	struct norm_hosts h = {
		.n_hosts = 1, .hosts = {"social.example"},
		.n_prefixes = 1, .prefixes = {"www"},
	};
	struct subject_ids ids;
	const char *why;
	assert_int_equal(norm_url(&h, "https://www.social.example/Bob", &ids, &why),
			 RG_OK);
	assert_string_equal(ids.handle, "bob");
	assert_int_equal(norm_url(&h, "https://m.social.example/bob", &ids, &why),
			 RG_EBADURL);
	assert_int_equal(norm_url(&h, "https://x.com/bob", &ids, &why), RG_EBADURL);
	struct norm_hosts none = {0};
	assert_int_equal(norm_url(&none, "https://x.com/bob", &ids, &why),
			 RG_EBADURL);
	assert_string_equal(why, "is not on the platform's hosts");
}

/* --- whole subjects --- */

static const struct {
	const char *account_id, *handle, *url;     /* the subject */
	int rc;
	const char *want_id, *want_handle;         /* on success */
	const char *field, *why;                   /* on failure */
} subject_cases[] = {
	{"00123", "", "", RG_OK, "123", "", NULL, NULL},
	{"", "@Foo", "", RG_OK, "", "foo", NULL, NULL},
	{"", "", "https://x.com/Foo", RG_OK, "", "foo", NULL, NULL},
	{"42", "@Foo", "", RG_OK, "42", "foo", NULL, NULL},
	{"42", "", "https://x.com/foo/status/9", RG_OK, "42", "foo", NULL, NULL},
	{"", "foo", "https://x.com/i/user/42", RG_OK, "42", "foo", NULL, NULL},
	{"042", "", "https://x.com/i/user/42", RG_OK, "42", "", NULL, NULL},
	{"0", "", "https://x.com/i/user/000", RG_OK, "0", "", NULL, NULL},
	{"", "@FOO", "https://www.twitter.com/foo", RG_OK, "", "foo", NULL, NULL},
	{"1", "@a", "https://m.x.com/A/", RG_OK, "1", "a", NULL, NULL},
	{"", "foo", "https://x.com/bar", RG_EBADURL, NULL, NULL, "url",
	 "names another account than the handle"},
	{"41", "", "https://x.com/i/user/42", RG_EBADURL, NULL, NULL, "url",
	 "names another account than the account_id"},
	{"", "foo", "https://x.com/home", RG_EBADURL, NULL, NULL, "url",
	 "names no account"},
	{"", "", "https://evil.com/foo", RG_EBADURL, NULL, NULL, "url",
	 "is not on the platform's hosts"},
	{"12a", "", "", RG_EINVAL, NULL, NULL, "account_id",
	 "must be 1-20 decimal digits"},
	{"", "a-b", "", RG_EINVAL, NULL, NULL, "handle",
	 "must be 1-50 letters, digits or _, optionally after one @"},
	{"", "", "", RG_EINVAL, NULL, NULL, "", "names no account"},
};

static void test_subject_table(void **state)
{
	for (size_t i = 0; i < sizeof subject_cases / sizeof subject_cases[0]; i++) {
		struct referral_subject s;
		memset(&s, 0, sizeof s);
		snprintf(s.account_id, sizeof s.account_id, "%s",
			 subject_cases[i].account_id);
		snprintf(s.handle, sizeof s.handle, "%s", subject_cases[i].handle);
		snprintf(s.url, sizeof s.url, "%s", subject_cases[i].url);
		struct subject_ids ids = {"untouched", "untouched"};
		const char *field = NULL, *why = NULL;
		int rc = norm_subject(&platform, &s, &ids, &field, &why);
		if (rc != subject_cases[i].rc)
			print_error("subject case %zu: rc %d (%s: %s)\n", i, rc,
				    field ? field : "-", why ? why : "-");
		assert_int_equal(rc, subject_cases[i].rc);
		if (rc == RG_OK) {
			assert_string_equal(ids.account_id, subject_cases[i].want_id);
			assert_string_equal(ids.handle, subject_cases[i].want_handle);
			assert_null(field);
			assert_null(why);
		} else {
			assert_string_equal(field, subject_cases[i].field);
			assert_string_equal(why, subject_cases[i].why);
			assert_string_equal(ids.handle, "untouched");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handle_table),
		cmocka_unit_test(test_account_id_table),
		cmocka_unit_test(test_url_table),
		cmocka_unit_test(test_url_limits),
		cmocka_unit_test(test_url_other_config),
		cmocka_unit_test(test_subject_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
