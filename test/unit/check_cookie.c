/* The hub's cookies and taken nonces: a cookie verifies only for its own
 * address, under the current or the previous secret and for no longer than
 * its life; secrets rotate on the hub's clock; a nonce is taken once while
 * a cookie could still come with it, and a full table forgets the oldest. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <check.h>

#include "cookie.h"

#define S 1000000000ull
#define R COOKIE_ROTATE_NS

static union braid_addr v4(uint32_t ip, uint16_t port)
{
	union braid_addr a;

	memset(&a, 0, sizeof(a));
	a.in.sin_family = AF_INET;
	a.in.sin_addr.s_addr = htonl(ip);
	a.in.sin_port = htons(port);
	return a;
}

static void secret(uint8_t out[COOKIE_SECRET_LEN], uint8_t seed)
{
	for (int i = 0; i < COOKIE_SECRET_LEN; i++)
		out[i] = (uint8_t)(seed * 31 + i);
}

/* Rotates if due, as the hub does before each use. */
static void use(struct cookie_hub *h, uint64_t now, uint8_t *seed)
{
	uint8_t fresh[COOKIE_SECRET_LEN];

	if (cookie_need_secret(h, now)) {
		secret(fresh, (*seed)++);
		cookie_rotate(h, fresh, now);
	}
}

START_TEST(cookie_address_bound)
{
	static struct cookie_hub h;
	union braid_addr a = v4(0x0a000001, 7100), b = v4(0x0a000001, 7101), c = v4(0x0a000002, 7100);
	uint8_t ck[WIRE_HS_COOKIE_LEN], zero[WIRE_HS_COOKIE_LEN] = { 0 }, seed = 1;

	ck_assert(cookie_need_secret(&h, 10 * S));
	ck_assert(!cookie_valid(&h, &a, zero, 10 * S));	/* no secret: nothing verifies */
	use(&h, 10 * S, &seed);
	ck_assert(!cookie_need_secret(&h, 10 * S));
	cookie_make(&h, &a, ck);
	ck_assert(cookie_valid(&h, &a, ck, 10 * S));
	ck_assert(!cookie_valid(&h, &b, ck, 10 * S));	/* another port */
	ck_assert(!cookie_valid(&h, &c, ck, 10 * S));	/* another address */
	ck_assert(!cookie_valid(&h, &a, zero, 10 * S));
	for (int i = 0; i < WIRE_HS_COOKIE_LEN; i++) {
		ck[i] ^= 0x01;
		ck_assert(!cookie_valid(&h, &a, ck, 10 * S));
		ck[i] ^= 0x01;
	}
}
END_TEST

struct life_step {
	uint64_t t;	/* since the cookie was made */
	bool valid;
};

/* Made at the start of a secret's term, used at each step (the hub
 * rotates when due): good through the next term, gone after two. */
static const struct life_step t_life[] = {
	{ 0, true }, { R - 1, true }, { R, true }, { R + R / 2, true }, { 2 * R - 1, true },
	{ 2 * R, false }, { 3 * R, false },
};

START_TEST(cookie_lifetime)
{
	union braid_addr a = v4(0xc0000201, 443);

	for (size_t i = 0; i < sizeof(t_life) / sizeof(t_life[0]); i++) {
		static struct cookie_hub h;
		uint8_t ck[WIRE_HS_COOKIE_LEN], seed = 1;
		const uint64_t t0 = 5 * S;

		memset(&h, 0, sizeof(h));
		use(&h, t0, &seed);
		cookie_make(&h, &a, ck);
		/* The hub sees traffic every R / 4: it rotates on time. */
		for (uint64_t t = t0; t <= t0 + t_life[i].t; t += R / 4)
			use(&h, t, &seed);
		use(&h, t0 + t_life[i].t, &seed);
		ck_assert_msg(cookie_valid(&h, &a, ck, t0 + t_life[i].t) == t_life[i].valid,
			      "step %zu: at +%llu s valid %d, want %d", i,
			      (unsigned long long)(t_life[i].t / S), !t_life[i].valid,
			      t_life[i].valid);
		/* A fresh one is always good. */
		cookie_make(&h, &a, ck);
		ck_assert(cookie_valid(&h, &a, ck, t0 + t_life[i].t));
	}
}
END_TEST

/* After a quiet spell longer than a cookie's life, the old secret does not
 * become the previous one: nothing it made verifies. */
START_TEST(cookie_quiet_spell)
{
	static struct cookie_hub h;
	union braid_addr a = v4(0xc0000201, 443);
	uint8_t ck[WIRE_HS_COOKIE_LEN], seed = 1;

	use(&h, S, &seed);
	cookie_make(&h, &a, ck);
	use(&h, S + R + R / 2, &seed);		/* rotated once: previous */
	ck_assert(cookie_valid(&h, &a, ck, S + R + R / 2));
	memset(&h, 0, sizeof(h));
	seed = 1;
	use(&h, S, &seed);
	cookie_make(&h, &a, ck);
	use(&h, S + 10 * R, &seed);		/* long quiet, then one rotation */
	ck_assert(!cookie_valid(&h, &a, ck, S + 10 * R));
	cookie_wipe(&h);
	ck_assert(cookie_need_secret(&h, S));
}
END_TEST

static void nonce(uint8_t n[WIRE_HS_NONCE_LEN], unsigned i)
{
	memset(n, 0, WIRE_HS_NONCE_LEN);
	memcpy(n, &i, sizeof(i));
	n[31] = 0x99;
}

START_TEST(nonce_taken_once)
{
	static struct cookie_hub h;
	uint8_t n1[WIRE_HS_NONCE_LEN], n2[WIRE_HS_NONCE_LEN];

	nonce(n1, 1);
	nonce(n2, 2);
	ck_assert(!cookie_nonce_taken(&h, n1, S));
	cookie_nonce_take(&h, n1, S);
	ck_assert(cookie_nonce_taken(&h, n1, S));
	ck_assert(cookie_nonce_taken(&h, n1, S + 2 * R - 1));
	ck_assert(!cookie_nonce_taken(&h, n2, S));
	/* Once no cookie that came with it can verify, it is forgotten. */
	ck_assert(!cookie_nonce_taken(&h, n1, S + 2 * R));
}
END_TEST

/* A full table: the oldest goes first; an expired slot is reused before
 * any live one. */
START_TEST(nonce_table_full)
{
	static struct cookie_hub h;
	uint8_t n[WIRE_HS_NONCE_LEN];

	for (unsigned i = 0; i < COOKIE_TAKEN; i++) {
		nonce(n, i);
		cookie_nonce_take(&h, n, S + i);
	}
	for (unsigned i = 0; i < COOKIE_TAKEN; i++) {
		nonce(n, i);
		ck_assert(cookie_nonce_taken(&h, n, S + COOKIE_TAKEN));
	}
	nonce(n, 1000);
	cookie_nonce_take(&h, n, S + COOKIE_TAKEN);
	ck_assert(cookie_nonce_taken(&h, n, S + COOKIE_TAKEN));
	nonce(n, 0);					/* the oldest */
	ck_assert(!cookie_nonce_taken(&h, n, S + COOKIE_TAKEN));
	nonce(n, 1);
	ck_assert(cookie_nonce_taken(&h, n, S + COOKIE_TAKEN));
	/* Later, every nonce but the newest has expired: one is reused and
	 * the newest stays. */
	nonce(n, 2000);
	cookie_nonce_take(&h, n, S + COOKIE_TAKEN + 2 * R - 1);
	nonce(n, 3000);
	cookie_nonce_take(&h, n, S + COOKIE_TAKEN + 2 * R);
	nonce(n, 2000);
	ck_assert(cookie_nonce_taken(&h, n, S + COOKIE_TAKEN + 2 * R));
	nonce(n, 3000);
	ck_assert(cookie_nonce_taken(&h, n, S + COOKIE_TAKEN + 2 * R));
}
END_TEST

static Suite *cookie_suite(void)
{
	Suite *s = suite_create("cookie");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, cookie_address_bound);
	tcase_add_test(tc, cookie_lifetime);
	tcase_add_test(tc, cookie_quiet_spell);
	tcase_add_test(tc, nonce_taken_once);
	tcase_add_test(tc, nonce_table_full);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cookie_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
