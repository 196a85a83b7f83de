/* Check suite for the workers' prefilter (src/prefilter.c): a table of
 * boundary cases per type and role, the session view, and agreement with
 * wire_parse_outer on random input (nothing the parser refuses passes). The
 * simulator checks the other side: nothing the core takes is refused. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "braid/wire.h"
#include "prefilter.h"

#define SA 0x11223344u
#define SB 0x55667788u
#define SC 0x99aabbccu

/* A datagram of len bytes with the given header (counter 0, body zero). */
static size_t mk(uint8_t *p, size_t len, uint8_t version, uint8_t type, uint16_t reserved,
		 uint32_t session)
{
	memset(p, 0, BRAID_PKT_MAX + 1);
	p[0] = version;
	p[1] = type;
	p[2] = (uint8_t)(reserved >> 8);
	p[3] = (uint8_t)reserved;
	p[4] = (uint8_t)(session >> 24);
	p[5] = (uint8_t)(session >> 16);
	p[6] = (uint8_t)(session >> 8);
	p[7] = (uint8_t)session;
	return len;
}

struct pf_case {
	size_t len;
	uint8_t version, type;
	uint16_t reserved;
	uint32_t session;
	enum prefilter_cause want;
};

#define V BRAID_WIRE_VERSION
#define SEALED(b) (WIRE_OUTER_LEN + (b) + WIRE_TAG_LEN)

/* The hub with session SA in force and SB pending. */
static const struct pf_case hub_cases[] = {
	{ 0, V, WIRE_DATA, 0, SA, PF_LENGTH },
	{ WIRE_OUTER_LEN - 1, V, WIRE_DATA, 0, SA, PF_LENGTH },
	{ BRAID_PKT_MAX + 1, V, WIRE_DATA, 0, SA, PF_LENGTH },
	{ 100, 0, WIRE_DATA, 0, SA, PF_VERSION },
	{ 100, 2, WIRE_DATA, 0, SA, PF_VERSION },
	{ 100, V, WIRE_DATA, 1, SA, PF_VERSION },
	{ 100, V, WIRE_DATA, 0x8000, SA, PF_VERSION },
	{ 100, V, 0, 0, SA, PF_TYPE },
	{ 100, V, WIRE_TYPE_MAX + 1, 0, SA, PF_TYPE },
	{ 100, V, 0xff, 0, SA, PF_TYPE },
	{ WIRE_HS_LEN, V, WIRE_HS_RESP, 0, SA, PF_TYPE },
	{ WIRE_HS_COOKIE_PKT_LEN, V, WIRE_HS_COOKIE, 0, SB, PF_TYPE },
	/* DATA: outer header, inner header and tag at least. */
	{ SEALED(WIRE_DATA_HDR_LEN) - 1, V, WIRE_DATA, 0, SA, PF_LENGTH },
	{ SEALED(WIRE_DATA_HDR_LEN), V, WIRE_DATA, 0, SA, PF_PASS },
	{ BRAID_PKT_MAX, V, WIRE_DATA, 0, SA, PF_PASS },
	{ BRAID_PKT_MAX, V, WIRE_DATA, 0, SB, PF_PASS },
	{ 100, V, WIRE_DATA, 0, SC, PF_SESSION },
	{ 100, V, WIRE_DATA, 0, 0, PF_SESSION },
	/* PARITY: a shard of 2 bytes at least. */
	{ SEALED(WIRE_PARITY_HDR_LEN + 1), V, WIRE_PARITY, 0, SA, PF_LENGTH },
	{ SEALED(WIRE_PARITY_HDR_LEN + 2), V, WIRE_PARITY, 0, SA, PF_PASS },
	{ BRAID_PKT_MAX, V, WIRE_PARITY, 0, SA, PF_PASS },
	/* PROBE and PROBE_REPLY: exact. */
	{ SEALED(WIRE_PROBE_LEN), V, WIRE_PROBE, 0, SA, PF_PASS },
	{ SEALED(WIRE_PROBE_LEN) - 1, V, WIRE_PROBE, 0, SA, PF_LENGTH },
	{ SEALED(WIRE_PROBE_LEN) + 1, V, WIRE_PROBE, 0, SA, PF_LENGTH },
	{ SEALED(WIRE_PROBE_REPLY_LEN), V, WIRE_PROBE_REPLY, 0, SB, PF_PASS },
	{ SEALED(WIRE_PROBE_LEN), V, WIRE_PROBE_REPLY, 0, SA, PF_LENGTH },
	{ SEALED(WIRE_PROBE_REPLY_LEN), V, WIRE_PROBE_REPLY, 0, SC, PF_SESSION },
	/* NACK: 1..16 whole entries. */
	{ SEALED(WIRE_NACK_HDR_LEN), V, WIRE_NACK, 0, SA, PF_LENGTH },
	{ SEALED(WIRE_NACK_HDR_LEN + WIRE_NACK_ENTRY_LEN), V, WIRE_NACK, 0, SA, PF_PASS },
	{ SEALED(WIRE_NACK_HDR_LEN + WIRE_NACK_ENTRY_LEN) + 1, V, WIRE_NACK, 0, SA, PF_LENGTH },
	{ SEALED(WIRE_NACK_HDR_LEN + 2 * WIRE_NACK_ENTRY_LEN) - 1, V, WIRE_NACK, 0, SA,
	  PF_LENGTH },
	{ SEALED(WIRE_NACK_HDR_LEN + 16 * WIRE_NACK_ENTRY_LEN), V, WIRE_NACK, 0, SA, PF_PASS },
	{ SEALED(WIRE_NACK_HDR_LEN + 17 * WIRE_NACK_ENTRY_LEN), V, WIRE_NACK, 0, SA, PF_LENGTH },
	/* FEEDBACK: 1..16 whole entries. */
#define FB(n) SEALED(WIRE_FEEDBACK_HDR_LEN + (n) * WIRE_FEEDBACK_ENTRY_LEN)
	{ FB(0), V, WIRE_FEEDBACK, 0, SA, PF_LENGTH },
	{ FB(1) - 1, V, WIRE_FEEDBACK, 0, SA, PF_LENGTH },
	{ FB(1), V, WIRE_FEEDBACK, 0, SA, PF_PASS },
	{ FB(1) + 1, V, WIRE_FEEDBACK, 0, SA, PF_LENGTH },
	{ FB(2) - 1, V, WIRE_FEEDBACK, 0, SA, PF_LENGTH },
	{ FB(2), V, WIRE_FEEDBACK, 0, SB, PF_PASS },
	{ FB(WIRE_FEEDBACK_MAX), V, WIRE_FEEDBACK, 0, SA, PF_PASS },
	{ FB(WIRE_FEEDBACK_MAX + 1), V, WIRE_FEEDBACK, 0, SA, PF_LENGTH },
	{ FB(1), V, WIRE_FEEDBACK, 0, SC, PF_SESSION },
	{ 100, V, WIRE_FEEDBACK, 0, SA, PF_LENGTH },
	/* HS_INIT: exact size; any session but 0, a new one above all. */
	{ WIRE_HS_LEN, V, WIRE_HS_INIT, 0, SC, PF_PASS },
	{ WIRE_HS_LEN, V, WIRE_HS_INIT, 0, SA, PF_PASS },
	{ WIRE_HS_LEN, V, WIRE_HS_INIT, 0, 0, PF_SESSION },
	{ WIRE_HS_LEN - 1, V, WIRE_HS_INIT, 0, SC, PF_LENGTH },
	{ WIRE_HS_LEN + 1, V, WIRE_HS_INIT, 0, SC, PF_LENGTH },
	{ WIRE_HS_LEN, V, WIRE_HS_INIT, 4, SC, PF_VERSION },
};

/* The edge with session SA in force, re-handshaking under SB. */
static const struct pf_case edge_cases[] = {
	{ WIRE_HS_LEN, V, WIRE_HS_INIT, 0, SA, PF_TYPE },
	{ WIRE_HS_LEN, V, WIRE_HS_RESP, 0, SB, PF_PASS },
	{ WIRE_HS_LEN, V, WIRE_HS_RESP, 0, SA, PF_PASS },
	{ WIRE_HS_LEN, V, WIRE_HS_RESP, 0, SC, PF_SESSION },
	{ WIRE_HS_LEN + 1, V, WIRE_HS_RESP, 0, SB, PF_LENGTH },
	/* HS_COOKIE: the hub's answer to an init without a cookie, under the
	 * session that init named; exact size. */
	{ WIRE_HS_COOKIE_PKT_LEN, V, WIRE_HS_COOKIE, 0, SB, PF_PASS },
	{ WIRE_HS_COOKIE_PKT_LEN, V, WIRE_HS_COOKIE, 0, SC, PF_SESSION },
	{ WIRE_HS_COOKIE_PKT_LEN - 1, V, WIRE_HS_COOKIE, 0, SB, PF_LENGTH },
	{ WIRE_HS_COOKIE_PKT_LEN + 1, V, WIRE_HS_COOKIE, 0, SB, PF_LENGTH },
	{ 200, V, WIRE_DATA, 0, SA, PF_PASS },
	{ 200, V, WIRE_DATA, 0, SC, PF_SESSION },
	/* FEEDBACK goes both ways. */
	{ FB(3), V, WIRE_FEEDBACK, 0, SA, PF_PASS },
	{ FB(3) + 4, V, WIRE_FEEDBACK, 0, SA, PF_LENGTH },
};

static void run_cases(const struct pf_case *t, size_t n, const struct prefilter_view *v)
{
	static uint8_t p[BRAID_PKT_MAX + 1];

	for (size_t i = 0; i < n; i++) {
		size_t len = mk(p, t[i].len, t[i].version, t[i].type, t[i].reserved, t[i].session);
		enum prefilter_cause got = prefilter_check(p, len, v);

		ck_assert_msg(got == t[i].want, "case %zu (len %zu type %u session %08x): %d, want %d",
			      i, t[i].len, t[i].type, t[i].session, got, t[i].want);
	}
}

START_TEST(test_hub_table)
{
	struct prefilter_view v;

	prefilter_view_init(&v, true);
	prefilter_publish(&v, SA, SB);
	run_cases(hub_cases, sizeof(hub_cases) / sizeof(hub_cases[0]), &v);
}
END_TEST

START_TEST(test_edge_table)
{
	struct prefilter_view v;

	prefilter_view_init(&v, false);
	prefilter_publish(&v, SA, SB);
	run_cases(edge_cases, sizeof(edge_cases) / sizeof(edge_cases[0]), &v);
}
END_TEST

/* The session view through a handshake's life: none, pending, in force,
 * the next one pending, and the old one forgotten. */
START_TEST(test_session_view)
{
	static uint8_t p[BRAID_PKT_MAX + 1];
	struct prefilter_view v;
	size_t len;

	prefilter_view_init(&v, true);
	len = mk(p, 100, V, WIRE_DATA, 0, SA);
	ck_assert_int_eq(prefilter_check(p, len, &v), PF_SESSION);
	len = mk(p, WIRE_HS_LEN, V, WIRE_HS_INIT, 0, SA);
	ck_assert_int_eq(prefilter_check(p, len, &v), PF_PASS);
	prefilter_publish(&v, 0, SA);
	len = mk(p, 100, V, WIRE_DATA, 0, SA);
	ck_assert_int_eq(prefilter_check(p, len, &v), PF_PASS);
	prefilter_publish(&v, SA, 0);
	ck_assert_int_eq(prefilter_check(p, len, &v), PF_PASS);
	prefilter_publish(&v, SA, SB);
	len = mk(p, 100, V, WIRE_DATA, 0, SB);
	ck_assert_int_eq(prefilter_check(p, len, &v), PF_PASS);
	prefilter_publish(&v, SB, 0);
	len = mk(p, 100, V, WIRE_DATA, 0, SA);
	ck_assert_int_eq(prefilter_check(p, len, &v), PF_SESSION);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(prefilter_cause_name(PF_VERSION), "version");
	ck_assert_str_eq(prefilter_cause_name(PF_TYPE), "type");
	ck_assert_str_eq(prefilter_cause_name(PF_LENGTH), "length");
	ck_assert_str_eq(prefilter_cause_name(PF_SESSION), "session");
	ck_assert_ptr_null(prefilter_cause_name(PF_PASS));
	ck_assert_ptr_null(prefilter_cause_name(PF_CAUSES));
}
END_TEST

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random headers near the valid ones, random lengths: whatever passes, the
 * parser takes too; whatever the parser refuses for its header or length,
 * the prefilter refuses. */
START_TEST(test_random_against_parser)
{
	static uint8_t p[BRAID_PKT_MAX + 1];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct prefilter_view v[2];
	unsigned passed = 0;

	prefilter_view_init(&v[0], true);
	prefilter_view_init(&v[1], false);
	prefilter_publish(&v[0], SA, SB);
	prefilter_publish(&v[1], SA, 0);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t r = xorshift64(&seed);
		size_t len = (r & 1) ? WIRE_HS_LEN + (r >> 1) % 3 - 1 : (r >> 1) % (BRAID_PKT_MAX + 2);
		uint8_t version = (r >> 20) % 16 ? V : (uint8_t)(r >> 24);
		uint8_t type = (uint8_t)((r >> 32) % (WIRE_TYPE_MAX + 2));
		uint16_t reserved = (r >> 40) % 16 ? 0 : (uint16_t)(r >> 44);
		uint32_t session = (r >> 56) % 4 == 0 ? SC : (r >> 56) % 4 == 1 ? SB : SA;
		struct wire_outer o;
		int pr;

		if (len > BRAID_PKT_MAX + 1)
			len = BRAID_PKT_MAX + 1;
		mk(p, len, version, type, reserved, session);
		pr = wire_parse_outer(p, len, &o);
		for (unsigned k = 0; k < 2; k++) {
			enum prefilter_cause c = prefilter_check(p, len, &v[k]);

			if (c == PF_PASS) {
				passed++;
				ck_assert_msg(pr == 0, "passed what wire_parse_outer refuses (%d): len %zu "
					      "type %u", pr, len, type);
			}
			if (pr < 0)
				ck_assert_int_ne(c, PF_PASS);
		}
	}
	ck_assert_uint_gt(passed, 1000);
}
END_TEST

static Suite *prefilter_suite(void)
{
	Suite *su = suite_create("prefilter");
	TCase *tc = tcase_create("check");

	tcase_add_test(tc, test_hub_table);
	tcase_add_test(tc, test_edge_table);
	tcase_add_test(tc, test_session_view);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_random_against_parser);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(prefilter_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
