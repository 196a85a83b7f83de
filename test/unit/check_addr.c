/* Addresses: a table of strings that must parse (and print back in canonical
 * form), a table that must not, and equality, length, printing limits and
 * conversion from kernel sockaddrs. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <check.h>

#include "addr.h"

static const struct {
	const char *in;
	int family;
	unsigned port;
	const char *out;	/* canonical form addr_format prints */
} good[] = {
	{ "1.2.3.4:80", AF_INET, 80, "1.2.3.4:80" },
	{ "0.0.0.0:0", AF_INET, 0, "0.0.0.0:0" },
	{ "255.255.255.255:65535", AF_INET, 65535, "255.255.255.255:65535" },
	{ "10.0.0.1:00053", AF_INET, 53, "10.0.0.1:53" },
	{ "[::1]:80", AF_INET6, 80, "[::1]:80" },
	{ "[::]:0", AF_INET6, 0, "[::]:0" },
	{ "[2001:DB8:0:0:0:0:0:1]:65535", AF_INET6, 65535, "[2001:db8::1]:65535" },
	{ "[::ffff:192.0.2.1]:9", AF_INET6, 9, "[::ffff:192.0.2.1]:9" },
	{ "[fe80::1:2:3:4]:4500", AF_INET6, 4500, "[fe80::1:2:3:4]:4500" },
};

static const char *const bad[] = {
	"",
	":",
	":80",
	"1.2.3.4",		/* missing port */
	"1.2.3.4:",		/* empty port */
	"1.2.3.4:65536",	/* port out of range */
	"1.2.3.4:99999",
	"1.2.3.4:100000",
	"1.2.3.4:000080",	/* more than five digits */
	"1.2.3.4:-1",
	"1.2.3.4:+80",
	"1.2.3.4: 80",
	"1.2.3.4:80 ",		/* trailing junk */
	"1.2.3.4:80x",
	"1.2.3.4:0x50",
	"1.2.3.4:80:90",
	" 1.2.3.4:80",
	"1.2.3:80",
	"1.2.3.4.5:80",
	"256.1.1.1:80",
	"01.2.3.4:80",
	"localhost:80",		/* hostnames are not addresses */
	"example.com:443",
	"[::1]",		/* IPv6 without port */
	"[::1]:",
	"[::1]80",
	"[::1]:80]",
	"[::1]:65536",
	"[::1:80",
	"::1:80",		/* IPv6 without brackets */
	"::1",
	"[]:80",
	"[1.2.3.4]:80",		/* IPv4 inside brackets */
	"[[::1]]:80",
	"[fe80::1%eth0]:80",	/* scoped addresses are not supported */
	"[localhost]:80",
	"[:::1]:80",
	"[0000:0000:0000:0000:0000:0000:0000:0000:0]:80",	/* too long for a host */
};

START_TEST(parse_good)
{
	union braid_addr a;
	char buf[ADDR_STRLEN];

	memset(&a, 0xaa, sizeof(a));
	ck_assert_int_eq(addr_parse(good[_i].in, &a), 0);
	ck_assert_int_eq(a.sa.sa_family, good[_i].family);
	if (good[_i].family == AF_INET)
		ck_assert_uint_eq(ntohs(a.in.sin_port), good[_i].port);
	else
		ck_assert_uint_eq(ntohs(a.in6.sin6_port), good[_i].port);
	ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)), good[_i].out);
	ck_assert_ptr_eq(addr_format(&a, buf, sizeof(buf)), buf);
}
END_TEST

/* What addr_format prints parses back to an equal address. */
START_TEST(format_parse_roundtrip)
{
	union braid_addr a, b;
	char buf[ADDR_STRLEN];

	ck_assert_int_eq(addr_parse(good[_i].in, &a), 0);
	ck_assert_int_eq(addr_parse(addr_format(&a, buf, sizeof(buf)), &b), 0);
	ck_assert(addr_equal(&a, &b));
}
END_TEST

START_TEST(parse_bad)
{
	union braid_addr a, zero;

	memset(&zero, 0, sizeof(zero));
	memset(&a, 0xaa, sizeof(a));
	if (addr_parse(bad[_i], &a) != -EINVAL)
		ck_abort_msg("\"%s\" was accepted", bad[_i]);
	ck_assert_mem_eq(&a, &zero, sizeof(a));
}
END_TEST

START_TEST(parse_null_and_long)
{
	union braid_addr a;
	char s[512];

	ck_assert_int_eq(addr_parse(NULL, &a), -EINVAL);
	memset(s, '1', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	ck_assert_int_eq(addr_parse(s, &a), -EINVAL);
	s[0] = '[';
	s[400] = ']';
	s[401] = ':';
	s[402] = '\0';
	ck_assert_int_eq(addr_parse(s, &a), -EINVAL);
}
END_TEST

START_TEST(equal)
{
	union braid_addr a, b, unset;

	memset(&unset, 0, sizeof(unset));
	ck_assert_int_eq(addr_parse("1.2.3.4:80", &a), 0);
	ck_assert_int_eq(addr_parse("1.2.3.4:80", &b), 0);
	ck_assert(addr_equal(&a, &b));
	ck_assert_int_eq(addr_parse("1.2.3.4:81", &b), 0);
	ck_assert(!addr_equal(&a, &b));
	ck_assert_int_eq(addr_parse("1.2.3.5:80", &b), 0);
	ck_assert(!addr_equal(&a, &b));
	/* The same IPv4 address mapped into IPv6 is a different socket address. */
	ck_assert_int_eq(addr_parse("[::ffff:1.2.3.4]:80", &b), 0);
	ck_assert(!addr_equal(&a, &b));
	ck_assert(!addr_equal(&a, &unset));
	ck_assert(!addr_equal(&unset, &unset));

	ck_assert_int_eq(addr_parse("[2001:db8::1]:80", &a), 0);
	ck_assert_int_eq(addr_parse("[2001:db8::1]:80", &b), 0);
	ck_assert(addr_equal(&a, &b));
	ck_assert_int_eq(addr_parse("[2001:db8::2]:80", &b), 0);
	ck_assert(!addr_equal(&a, &b));
	ck_assert_int_eq(addr_parse("[2001:db8::1]:8080", &b), 0);
	ck_assert(!addr_equal(&a, &b));
}
END_TEST

START_TEST(len)
{
	union braid_addr a;

	ck_assert_int_eq(addr_parse("1.2.3.4:80", &a), 0);
	ck_assert_uint_eq(addr_len(&a), sizeof(struct sockaddr_in));
	ck_assert_int_eq(addr_parse("[::1]:80", &a), 0);
	ck_assert_uint_eq(addr_len(&a), sizeof(struct sockaddr_in6));
	memset(&a, 0, sizeof(a));
	ck_assert_uint_eq(addr_len(&a), 0);
}
END_TEST

START_TEST(format_limits)
{
	union braid_addr a;
	char buf[ADDR_STRLEN];
	char small[6];

	/* The longest forms fit ADDR_STRLEN. */
	ck_assert_int_eq(addr_parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", &a), 0);
	ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)),
			 "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	ck_assert_int_eq(addr_parse("[1111:2222:3333:4444:5555:6666:255.255.255.255]:65535", &a), 0);
	ck_assert_uint_lt(strlen(addr_format(&a, buf, sizeof(buf))), ADDR_STRLEN);

	/* A short buffer truncates, always terminated. */
	ck_assert_int_eq(addr_parse("1.2.3.4:80", &a), 0);
	memset(small, 'x', sizeof(small));
	ck_assert_str_eq(addr_format(&a, small, sizeof(small)), "1.2.3");

	memset(&a, 0, sizeof(a));
	ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)), "(none)");
}
END_TEST

START_TEST(from_sockaddr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(4242) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_storage ss;
	union braid_addr a, want;

	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr), 1);
	ck_assert_int_eq(addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(addr_parse("192.0.2.7:4242", &want), 0);
	ck_assert(addr_equal(&a, &want));

	/* A sockaddr_storage with the longer length the kernel may report. */
	memset(&ss, 0, sizeof(ss));
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr), 1);
	memcpy(&ss, &sin6, sizeof(sin6));
	ck_assert_int_eq(addr_from_sockaddr(&a, (struct sockaddr *)&ss, sizeof(ss)), 0);
	ck_assert_int_eq(addr_parse("[2001:db8::7]:53", &want), 0);
	ck_assert(addr_equal(&a, &want));
	ck_assert_uint_eq(addr_len(&a), sizeof(sin6));

	/* Short lengths and other families are refused, and *a is cleared. */
	ck_assert_int_eq(addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof(sin) - 1),
			 -EAFNOSUPPORT);
	ck_assert_uint_eq(addr_len(&a), 0);
	ck_assert_int_eq(addr_from_sockaddr(&a, (struct sockaddr *)&sin6, sizeof(sin6) - 1),
			 -EAFNOSUPPORT);
	ck_assert_int_eq(addr_from_sockaddr(&a, (struct sockaddr *)&sin6, sizeof(sin)),
			 -EAFNOSUPPORT);
	ck_assert_int_eq(addr_from_sockaddr(&a, (struct sockaddr *)&sin, 0), -EAFNOSUPPORT);
	ck_assert_int_eq(addr_from_sockaddr(&a, NULL, sizeof(sin)), -EAFNOSUPPORT);
	ck_assert_int_eq(addr_from_sockaddr(&a, (struct sockaddr *)&sun, sizeof(sun)),
			 -EAFNOSUPPORT);
}
END_TEST

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, parse_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, format_parse_roundtrip, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, parse_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, parse_null_and_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("ops");
	tcase_add_test(tc, equal);
	tcase_add_test(tc, len);
	tcase_add_test(tc, format_limits);
	tcase_add_test(tc, from_sockaddr);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
