/* Per-source token buckets: table-driven walks of one bucket (burst,
 * refill, the cap on saved credit), independent sources, a set filled
 * past its ways (the least recently used source is evicted and comes back
 * with a full bucket: lenient, never a lock-out), and IPv6. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <check.h>

#include "ratelimit.h"

#define MS 1000000ull
#define S  1000000000ull

static const uint8_t key[RATELIMIT_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static union braid_addr v4(uint32_t ip, uint16_t port)
{
	union braid_addr a;

	memset(&a, 0, sizeof(a));
	a.in.sin_family = AF_INET;
	a.in.sin_addr.s_addr = htonl(ip);
	a.in.sin_port = htons(port);
	return a;
}

struct step {
	uint64_t t;		/* ns since the start */
	unsigned n;		/* tries at t */
	unsigned allowed;	/* of which allowed */
};

static void walk(const char *name, uint32_t rate, uint32_t burst, const struct step *s, size_t n)
{
	static struct ratelimit rl;
	union braid_addr a = v4(0xc0000207, 4000);

	ratelimit_init(&rl, key, rate, burst);
	for (size_t i = 0; i < n; i++) {
		unsigned got = 0;

		for (unsigned j = 0; j < s[i].n; j++)
			got += ratelimit_allow(&rl, &a, 10 * S + s[i].t);
		ck_assert_msg(got == s[i].allowed, "%s step %zu (t=%llu ms): %u of %u allowed, want %u",
			      name, i + 1, (unsigned long long)(s[i].t / MS), got, s[i].n,
			      s[i].allowed);
	}
}

#define WALK(rate, burst, tbl) walk(#tbl, rate, burst, tbl, sizeof(tbl) / sizeof(tbl[0]))

/* 20/s, burst 5: a flood gets the burst, then one per 50 ms. */
static const struct step t_default[] = {
	{ 0, 100, 5 },			/* the burst */
	{ 49 * MS, 10, 0 },		/* not a whole token yet */
	{ 50 * MS, 10, 1 },		/* one token a 50 ms */
	{ 100 * MS, 1, 1 },
	{ 100 * MS, 1, 0 },
	{ 250 * MS, 10, 3 },		/* 150 ms: three */
	{ 10 * S, 100, 5 },		/* a long rest saves no more than the burst */
	{ 10 * S + 25 * MS, 1, 0 },
	{ 10 * S + 50 * MS, 1, 1 },	/* the half token left over counts */
};

/* burst 1, 1/s: exactly one a second. */
static const struct step t_slow[] = {
	{ 0, 3, 1 }, { 999 * MS, 3, 0 }, { 1 * S, 3, 1 }, { 3 * S, 3, 1 }, { 3 * S + 1, 1, 0 },
};

/* A clock that goes back refills nothing. */
static const struct step t_back[] = {
	{ 5 * S, 5, 5 }, { 1 * S, 5, 0 }, { 1 * S + 50 * MS, 2, 1 },
};

START_TEST(test_walks)
{
	WALK(RATELIMIT_RATE, RATELIMIT_BURST, t_default);
	WALK(1, 1, t_slow);
	WALK(RATELIMIT_RATE, RATELIMIT_BURST, t_back);
}
END_TEST

START_TEST(test_independent)
{
	static struct ratelimit rl;
	union braid_addr a = v4(0x0a000001, 7100), b = v4(0x0a000001, 7101), c = v4(0x0a000002, 7100);
	unsigned got = 0;

	ratelimit_init(&rl, key, RATELIMIT_RATE, RATELIMIT_BURST);
	for (int i = 0; i < 50; i++)
		got += ratelimit_allow(&rl, &a, S);
	ck_assert_uint_eq(got, RATELIMIT_BURST);
	/* Another port, another address: buckets of their own. */
	for (int i = 0; i < RATELIMIT_BURST; i++) {
		ck_assert(ratelimit_allow(&rl, &b, S));
		ck_assert(ratelimit_allow(&rl, &c, S));
	}
	ck_assert(!ratelimit_allow(&rl, &b, S));
	ck_assert(!ratelimit_allow(&rl, &c, S));
	ck_assert(!ratelimit_allow(&rl, &a, S));
}
END_TEST

START_TEST(test_ipv6)
{
	static struct ratelimit rl;
	union braid_addr a, b;
	unsigned got = 0;

	memset(&a, 0, sizeof(a));
	a.in6.sin6_family = AF_INET6;
	a.in6.sin6_port = htons(443);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", &a.in6.sin6_addr), 1);
	b = a;
	b.in6.sin6_addr.s6_addr[15] = 2;	/* differs past the first 4 bytes */
	ratelimit_init(&rl, key, RATELIMIT_RATE, RATELIMIT_BURST);
	for (int i = 0; i < 20; i++)
		got += ratelimit_allow(&rl, &a, S);
	ck_assert_uint_eq(got, RATELIMIT_BURST);
	ck_assert(ratelimit_allow(&rl, &b, S));
}
END_TEST

/* RATELIMIT_WAYS + 1 sources that share a set: the table holds WAYS of
 * them; the one used least recently is evicted and, when it comes back,
 * starts again with a full bucket. The others keep their (empty) buckets. */
START_TEST(test_collision)
{
	static struct ratelimit rl;
	union braid_addr same[RATELIMIT_WAYS + 1], first = v4(0x0a000000, 1);
	unsigned n = 0, set;

	ratelimit_init(&rl, key, RATELIMIT_RATE, RATELIMIT_BURST);
	set = ratelimit_set_of(&rl, &first);
	for (uint32_t ip = 0x0a000000; n < RATELIMIT_WAYS + 1 && ip < 0x0a100000; ip++) {
		union braid_addr a = v4(ip, 1);

		if (ratelimit_set_of(&rl, &a) == set)
			same[n++] = a;
	}
	ck_assert_uint_eq(n, RATELIMIT_WAYS + 1);
	/* Empty the buckets of the first WAYS, oldest first. */
	for (unsigned i = 0; i < RATELIMIT_WAYS; i++) {
		for (int j = 0; j < RATELIMIT_BURST; j++)
			ck_assert(ratelimit_allow(&rl, &same[i], S + i));
		ck_assert(!ratelimit_allow(&rl, &same[i], S + i));
	}
	/* Everyone is held: nobody gets more. */
	for (unsigned i = 0; i < RATELIMIT_WAYS; i++)
		ck_assert(!ratelimit_allow(&rl, &same[i], S + 10));
	/* A fifth source: all four were last seen at S + 10, and a tie goes
	 * to the first way, same[0]'s. The newcomer gets a full bucket. */
	for (int j = 0; j < RATELIMIT_BURST; j++)
		ck_assert(ratelimit_allow(&rl, &same[RATELIMIT_WAYS], S + 20));
	ck_assert(!ratelimit_allow(&rl, &same[RATELIMIT_WAYS], S + 20));
	/* The others still have empty buckets... */
	for (unsigned i = 1; i < RATELIMIT_WAYS; i++)
		ck_assert(!ratelimit_allow(&rl, &same[i], S + 30 + i));
	/* ...and same[0], evicted, comes back with a full one (lenient). It
	 * evicts the least recently used of the rest: the newcomer. */
	for (int j = 0; j < RATELIMIT_BURST; j++)
		ck_assert(ratelimit_allow(&rl, &same[0], S + 40));
	ck_assert(!ratelimit_allow(&rl, &same[0], S + 40));
	ck_assert(ratelimit_allow(&rl, &same[RATELIMIT_WAYS], S + 50));
}
END_TEST

/* Other sets are untouched by a full one. */
START_TEST(test_sets_apart)
{
	static struct ratelimit rl;
	unsigned set, other = 0;
	union braid_addr a = v4(0x0a000000, 1), b;

	ratelimit_init(&rl, key, RATELIMIT_RATE, RATELIMIT_BURST);
	set = ratelimit_set_of(&rl, &a);
	for (uint32_t ip = 0x0a000001; ; ip++) {
		b = v4(ip, 1);
		if (ratelimit_set_of(&rl, &b) != set)
			break;
		other++;
	}
	ck_assert_uint_lt(other, 100);
	for (int i = 0; i < 100; i++)
		(void)ratelimit_allow(&rl, &a, S);
	for (int j = 0; j < RATELIMIT_BURST; j++)
		ck_assert(ratelimit_allow(&rl, &b, S));
	ck_assert(!ratelimit_allow(&rl, &b, S));
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_walks);
	tcase_add_test(tc, test_independent);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_collision);
	tcase_add_test(tc, test_sets_apart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ratelimit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
