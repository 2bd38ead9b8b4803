/* test_console.c - the console's pure parts: the HTML escaper (every
 * special character, control characters, invalid and overlong UTF-8,
 * the empty and the too-small buffer), the renderer's page cap, the form
 * parser (normal, empty, malformed, repeated, too many fields) and the
 * anti-CSRF token (principal- and window-bound). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/console_int.h"

static void esc_is(const char *in, const char *want)
{
	char out[256];
	assert_int_equal(html_escape(in, out, sizeof out), strlen(want));
	assert_string_equal(out, want);
}

static void test_escape(void **state)
{
	(void)state;
	esc_is("", "");
	esc_is("plain text 123", "plain text 123");
	esc_is("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
	esc_is("a & b \"q\" 'r'", "a &amp; b &quot;q&quot; &#39;r&#39;");
	esc_is("\" onmouseover=\"x", "&quot; onmouseover=&quot;x");
	esc_is("&amp;", "&amp;amp;");
	esc_is("tab\tnl\ncr\r", "tab\tnl\ncr\r");
	esc_is("bell\x07 esc\x1b del\x7f", "bell\xEF\xBF\xBD esc\xEF\xBF\xBD del\xEF\xBF\xBD");
	esc_is("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	/* invalid: a lone continuation byte, a truncated sequence, an
	 * overlong '<' (0xC0 0xBC), a surrogate, above U+10FFFF */
	esc_is("\x80", "\xEF\xBF\xBD");
	esc_is("\xE2\x82", "\xEF\xBF\xBD\xEF\xBF\xBD");
	esc_is("\xC0\xBC", "\xEF\xBF\xBD\xEF\xBF\xBD");
	esc_is("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	esc_is("\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	char small[5];
	assert_int_equal(html_escape("<", small, sizeof small), 4);
	assert_int_equal(html_escape("&", small, sizeof small), (size_t)-1);
	assert_int_equal(html_escape("abcd", small, sizeof small), 4);
	assert_int_equal(html_escape("abcde", small, sizeof small), (size_t)-1);
	assert_int_equal(html_escape("", small, 0), (size_t)-1);
}

static void test_render(void **state)
{
	struct html h = {0};
	char *page;
	size_t len;
	(void)state;
	HTML_RAW(&h, "<p title=\"");
	html_text(&h, "x\"><script>");
	HTML_RAW(&h, "\">");
	html_textf(&h, "%d<%s", 5, "b>");
	html_int(&h, -42);
	html_text(&h, NULL);
	HTML_RAW(&h, "</p>");
	assert_true(html_take(&h, &page, &len));
	assert_string_equal(page, "<p title=\"x&quot;&gt;&lt;script&gt;\">5&lt;b&gt;-42</p>");
	assert_int_equal(len, strlen(page));
	free(page);
	/* a long formatted value takes the slow path, escaped all the same */
	char *big = malloc(2000);
	memset(big, '<', 1999);
	big[1999] = '\0';
	html_textf(&h, "%s", big);
	assert_true(html_take(&h, &page, &len));
	assert_int_equal(len, 1999 * 4);
	assert_memory_equal(page, "&lt;&lt;", 8);
	free(page);
	free(big);
	/* past HTML_MAX the page fails and nothing is taken */
	char *chunk = malloc(1024 * 1024 + 1);
	memset(chunk, 'a', 1024 * 1024);
	chunk[1024 * 1024] = '\0';
	for (int i = 0; i < 5; i++)
		html_text(&h, chunk);
	assert_true(h.failed);
	assert_false(html_take(&h, &page, &len));
	html_free(&h);
	free(chunk);
}

static int parse(const char *body, struct form *f)
{
	return form_parse((const uint8_t *)body, strlen(body), f);
}

static void test_form(void **state)
{
	struct form f;
	(void)state;
	assert_int_equal(parse("csrf=abc&do=claim&explanation=a+b%26c%3D%0Ad", &f), RG_OK);
	assert_int_equal(f.n, 3);
	assert_string_equal(form_get(&f, "csrf"), "abc");
	assert_string_equal(form_get(&f, "explanation"), "a b&c=\nd");
	assert_null(form_get(&f, "missing"));
	form_free(&f);
	assert_int_equal(parse("", &f), RG_OK);
	assert_int_equal(f.n, 0);
	form_free(&f);
	assert_int_equal(parse("a=&b&&c=%C3%A9&", &f), RG_OK);
	assert_string_equal(form_get(&f, "a"), "");
	assert_null(form_nonempty(&f, "a"));
	assert_string_equal(form_get(&f, "b"), "");
	assert_string_equal(form_get(&f, "c"), "\xC3\xA9");
	form_free(&f);
	static const char *const bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%00", "=x", "a=1&a=2", "a=%C3",
		"a=%C0%BC", "n%00=1",
		"a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1&n=1&o=1&p=1&q=1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i], &f), RG_EINVAL);
		assert_int_equal(f.n, 0);
		assert_null(f.mem);
	}
	/* exactly FORM_MAX_FIELDS is fine */
	assert_int_equal(parse("a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1&n=1&o=1&p=1", &f), RG_OK);
	assert_int_equal(f.n, FORM_MAX_FIELDS);
	form_free(&f);
}

static void test_csrf(void **state)
{
	uint8_t key[32], other[32];
	char t[CSRF_TOKEN_LEN + 1], u[CSRF_TOKEN_LEN + 1];
	(void)state;
	memset(key, 7, sizeof key);
	memset(other, 8, sizeof other);
	int64_t now = 1796000000;
	csrf_token(key, "rev", now, t);
	assert_int_equal(strlen(t), CSRF_TOKEN_LEN);
	assert_true(csrf_valid(key, "rev", now, t));
	assert_true(csrf_valid(key, "rev", now + CSRF_WINDOW, t));      /* next window */
	assert_false(csrf_valid(key, "rev", now + 2 * CSRF_WINDOW, t)); /* too old */
	assert_false(csrf_valid(key, "rev2", now, t));                  /* another's */
	assert_false(csrf_valid(other, "rev", now, t));                 /* another key */
	csrf_token(key, "re", now, u);                     /* no prefix games */
	assert_string_not_equal(t, u);
	assert_false(csrf_valid(key, "rev", now, NULL));
	assert_false(csrf_valid(key, "rev", now, ""));
	t[5] ^= 1;
	assert_false(csrf_valid(key, "rev", now, t));
	assert_true(csrf_origin_ok(NULL, NULL, "localhost:8443"));
	assert_true(csrf_origin_ok("https://localhost:8443", "same-origin", "localhost:8443"));
	assert_false(csrf_origin_ok("https://evil.example", NULL, "localhost:8443"));
	assert_false(csrf_origin_ok("http://localhost:8443", NULL, "localhost:8443"));
	assert_false(csrf_origin_ok("null", NULL, "localhost:8443"));
	assert_false(csrf_origin_ok("https://localhost:8443.evil", NULL, "localhost:8443"));
	assert_false(csrf_origin_ok(NULL, "cross-site", "localhost:8443"));
	assert_false(csrf_origin_ok(NULL, "same-site", "localhost:8443"));
	assert_false(csrf_origin_ok("https://localhost:8443", NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_csrf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
