/* test_cidr.c - CIDR allowlists: validity (empty, maximal, one over,
 * malformed) and matching for IPv4, IPv6 and IPv4-mapped addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "../../server/cidr.h"

static void test_valid(void **state)
{
	(void)state;
	assert_true(cidr_list_valid("192.0.2.0/24"));
	assert_true(cidr_list_valid("0.0.0.0/0"));
	assert_true(cidr_list_valid("192.0.2.7/32,2001:db8::/32"));
	assert_true(cidr_list_valid("::1/128"));
	assert_true(cidr_list_valid("1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,"
				    "6.0.0.0/8,7.0.0.0/8,8.0.0.0/8,9.0.0.0/8,10.0.0.0/8,"
				    "11.0.0.0/8,12.0.0.0/8,13.0.0.0/8,14.0.0.0/8,15.0.0.0/8,"
				    "16.0.0.0/8"));
	static const char *const bad[] = {
		"", ",", "192.0.2.0", "192.0.2.0/", "192.0.2.0/33", "192.0.2.1/24",
		"192.0.2.0/-1", "192.0.2.0/+8", "192.0.2.0/24,", ",192.0.2.0/24",
		"example.com/24", "2001:db8::/129", "2001:db8::1/32", "192.0.2.0/24 ",
		"1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8,"
		"7.0.0.0/8,8.0.0.0/8,9.0.0.0/8,10.0.0.0/8,11.0.0.0/8,12.0.0.0/8,"
		"13.0.0.0/8,14.0.0.0/8,15.0.0.0/8,16.0.0.0/8,17.0.0.0/8",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(cidr_list_valid(bad[i]));
	assert_false(cidr_list_valid(NULL));
}

static struct sockaddr_storage v4(const char *a)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	in->sin_family = AF_INET;
	inet_pton(AF_INET, a, &in->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *a)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
	in->sin6_family = AF_INET6;
	inet_pton(AF_INET6, a, &in->sin6_addr);
	return ss;
}

static void test_match(void **state)
{
	(void)state;
	struct sockaddr_storage a = v4("192.0.2.77"), b = v4("192.0.3.1"),
				c = v6("2001:db8:1::5"), d = v6("::ffff:192.0.2.9"),
				e = v6("2001:db9::1"), lo = v4("127.0.0.1");
	const char *list = "192.0.2.0/24,2001:db8::/32";
	assert_true(cidr_list_match(list, (struct sockaddr *)&a));
	assert_false(cidr_list_match(list, (struct sockaddr *)&b));
	assert_true(cidr_list_match(list, (struct sockaddr *)&c));
	assert_true(cidr_list_match(list, (struct sockaddr *)&d));
	assert_false(cidr_list_match(list, (struct sockaddr *)&e));
	assert_true(cidr_list_match("", (struct sockaddr *)&b));
	assert_true(cidr_list_match("0.0.0.0/0", (struct sockaddr *)&b));
	assert_true(cidr_list_match("127.0.0.0/8", (struct sockaddr *)&lo));
	assert_false(cidr_list_match("192.0.2.128/25", (struct sockaddr *)&a));
	assert_true(cidr_list_match("192.0.2.64/26", (struct sockaddr *)&a));
	assert_false(cidr_list_match("not a list", (struct sockaddr *)&a));
	assert_false(cidr_list_match(list, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
