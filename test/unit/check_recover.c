/* recover.c's block sizing for fec = auto and what a block still lacks:
 * recover_tx_set_k closes blocks full at the K it was given,
 * recover_rx_need names the data packets a block needs beyond its parity
 * (the early NACK asks for those), and recover_pick_m's choice of M. */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "recover.h"

static struct recover *new_recover(unsigned k, unsigned m, bool is_auto)
{
	struct recover *r;

	ck_assert_int_eq(recover_create(&r, &(struct recover_cfg){
		.k = k, .m = m, .fec_auto = is_auto, .store = 256 }), 0);
	return r;
}

static void payload(uint32_t seq, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
}

START_TEST(test_set_k_closes_full)
{
	struct recover *r = new_recover(32, 0, true);
	uint8_t buf[100];

	ck_assert_uint_eq(recover_tx_k(r), 32);
	recover_tx_set_m(r, 2);
	recover_tx_set_k(r, 4);
	for (uint32_t s = 0; s < 3; s++) {
		payload(s, buf, sizeof(buf));
		ck_assert_int_eq(recover_tx_add(r, s, 1, buf, sizeof(buf), 1, 0), 0);
	}
	ck_assert_int_eq(recover_tx_add(r, 3, 1, buf, sizeof(buf), 1, 0), 1);
	/* Clamped to 1..K. */
	recover_tx_set_k(r, 0);
	ck_assert_uint_eq(recover_tx_k(r), 1);
	recover_tx_set_k(r, 99);
	ck_assert_uint_eq(recover_tx_k(r), 32);
	recover_destroy(r);
}
END_TEST

/* The K in force when a block opens is the block's: a change applies from
 * the next block. */
START_TEST(test_set_k_next_block)
{
	struct recover *r = new_recover(32, 0, true);
	struct recover_parity par;
	uint8_t buf[10] = { 0 };

	recover_tx_set_m(r, 1);
	recover_tx_set_k(r, 3);
	ck_assert_int_eq(recover_tx_add(r, 0, 1, buf, sizeof(buf), 1, 0), 0);
	recover_tx_set_k(r, 2);
	ck_assert_int_eq(recover_tx_add(r, 1, 1, buf, sizeof(buf), 1, 0), 0);
	ck_assert_int_eq(recover_tx_add(r, 2, 1, buf, sizeof(buf), 1, 0), 1);
	ck_assert_int_eq(recover_tx_close(r, &par), 1);
	ck_assert_uint_eq(par.hdr.k_used, 3);
	ck_assert_uint_eq(par.hdr.k, 32);
	ck_assert_int_eq(recover_tx_add(r, 3, 1, buf, sizeof(buf), 1, 0), 0);
	ck_assert_int_eq(recover_tx_add(r, 4, 1, buf, sizeof(buf), 1, 0), 1);
	recover_destroy(r);
}
END_TEST

static unsigned rebuilt;

static void on_rebuilt(void *ctx, uint32_t seq, uint16_t flow, const uint8_t *data, size_t len)
{
	uint8_t want[100];

	(void)ctx;
	(void)flow;
	payload(seq, want, sizeof(want));
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert(memcmp(data, want, len) == 0);
	rebuilt++;
}

/* A 4:2 block losing three data packets: with one parity shard it lacks
 * two, the earliest first; with one of them back it lacks one; with the
 * second shard it rebuilds the rest and lacks nothing. */
START_TEST(test_rx_need)
{
	struct recover *tx = new_recover(32, 0, true), *rx = new_recover(32, 0, true);
	struct recover_parity par;
	uint8_t buf[4][100], shard[2][RECOVER_SHARD_MAX];
	struct wire_parity h[2];
	uint32_t seqs[8], base = 1000;

	recover_tx_set_m(tx, 2);
	recover_tx_set_k(tx, 4);
	for (uint32_t i = 0; i < 4; i++) {
		payload(base + i, buf[i], sizeof(buf[i]));
		recover_tx_add(tx, base + i, 7, buf[i], sizeof(buf[i]), 1, 0);
	}
	ck_assert_int_eq(recover_tx_close(tx, &par), 1);
	for (unsigned j = 0; j < 2; j++) {
		h[j] = par.hdr;
		h[j].index = (uint8_t)j;
		memcpy(shard[j], par.shard[j], par.shard_len);
	}

	/* No parity of it yet: nothing to say. */
	ck_assert_uint_eq(recover_rx_need(rx, base, seqs, 8), 0);
	recover_rx_data(rx, base + 3, 7, buf[3], sizeof(buf[3]));
	rebuilt = 0;
	ck_assert_int_eq(recover_rx_parity(rx, &h[0], shard[0], par.shard_len, on_rebuilt, NULL), 0);
	ck_assert_uint_eq(recover_rx_need(rx, base, seqs, 8), 2);
	ck_assert_uint_eq(seqs[0], base);
	ck_assert_uint_eq(seqs[1], base + 1);
	ck_assert_uint_eq(recover_rx_need(rx, base, seqs, 1), 1);
	ck_assert_uint_eq(recover_rx_need(rx, base + 1, seqs, 8), 0);	/* not a block */

	recover_rx_data(rx, base + 1, 7, buf[1], sizeof(buf[1]));
	recover_rx_retry(rx, base + 1, on_rebuilt, NULL);
	ck_assert_uint_eq(recover_rx_need(rx, base, seqs, 8), 1);
	ck_assert_uint_eq(seqs[0], base);

	ck_assert_int_eq(recover_rx_parity(rx, &h[1], shard[1], par.shard_len, on_rebuilt, NULL), 2);
	ck_assert_uint_eq(rebuilt, 2);
	ck_assert_uint_eq(recover_rx_need(rx, base, seqs, 8), 0);
	recover_destroy(tx);
	recover_destroy(rx);
}
END_TEST

START_TEST(test_pick_m)
{
	/* Clean links: no parity. */
	ck_assert_uint_eq(recover_pick_m(4, 2, 0, 1e-4), 0);
	/* 1%: one shard of 4:1 leaves P(2+ of 5 lost) ~ 1e-3, 4:2 ~ 1e-5. */
	ck_assert_uint_eq(recover_pick_m(4, 2, 10000, 1e-4), 2);
	/* 5% needs more than half of 4 allows: the cap. */
	ck_assert_uint_eq(recover_pick_m(4, 2, 50000, 1e-4), 2);
	/* 0.1% over 16: one shard leaves ~1.4e-4, two ~6e-7. */
	ck_assert_uint_eq(recover_pick_m(16, 8, 1000, 1e-4), 2);
	ck_assert_uint_eq(recover_pick_m(16, 8, 1000000, 1e-4), 8);
}
END_TEST

static Suite *recover_suite(void)
{
	Suite *s = suite_create("recover");
	TCase *tc = tcase_create("auto");

	tcase_add_test(tc, test_set_k_closes_full);
	tcase_add_test(tc, test_set_k_next_block);
	tcase_add_test(tc, test_rx_need);
	tcase_add_test(tc, test_pick_m);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(recover_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
