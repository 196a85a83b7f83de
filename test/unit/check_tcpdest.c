/* The TCP destinations' common part (src/tcpdest.c): the reconnect backoff
 * doubles to its cap and starts over once a connection comes up; nothing is
 * queued while the connection is not up, and everything refused is counted
 * by cause; a lost connection drops (and counts) what was queued and never
 * lets a half-sent message start the next stream; replies go to the flow
 * that sent last. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "braid/stats.h"
#include "tcpdest.h"

#define MS 1000000ull

struct got {
	unsigned n;
	uint16_t flow[16];
	size_t len[16];
	uint8_t first[16];
};

static void on_msg(void *ctx, uint16_t flow, const uint8_t *msg, size_t len)
{
	struct got *g = ctx;

	ck_assert_uint_lt(g->n, 16);
	g->flow[g->n] = flow;
	g->len[g->n] = len;
	g->first[g->n] = len ? msg[0] : 0;
	g->n++;
}

START_TEST(backoff_doubles_to_cap_and_resets)
{
	struct tcpdest td;
	uint64_t now = 1000 * MS;
	uint64_t want[] = { 10, 20, 40, 80, 100, 100 };

	ck_assert_int_eq(tcpdest_init(&td, 4096, 2000, 10 * MS, 100 * MS), 0);
	ck_assert(tcpdest_due(&td, 0));		/* the first connection at once */
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert(tcpdest_due(&td, now));
		tcpdest_connecting(&td, now);
		ck_assert(!tcpdest_due(&td, now));
		ck_assert_uint_eq(tcpdest_next_ns(&td), UINT64_MAX);
		tcpdest_lost(&td, -ECONNREFUSED, now);
		ck_assert_uint_eq(tcpdest_next_ns(&td), now + want[i] * MS);
		ck_assert(!tcpdest_due(&td, now + want[i] * MS - 1));
		now += want[i] * MS;
	}
	ck_assert_uint_eq(stat_get(td.stats.connects), 6);
	ck_assert_uint_eq(stat_get(td.stats.established), 0);
	ck_assert_uint_eq(stat_get(td.stats.disconnects), 0);
	ck_assert_uint_eq(stat_get(td.stats.last_error), ECONNREFUSED);

	/* Up: the backoff starts over; losing it counts a disconnect. */
	tcpdest_connecting(&td, now);
	tcpdest_up(&td, now);
	ck_assert_uint_eq(stat_get(td.stats.state), TD_UP);
	tcpdest_lost(&td, 0, now);
	ck_assert_uint_eq(tcpdest_next_ns(&td), now + 10 * MS);
	ck_assert_uint_eq(stat_get(td.stats.disconnects), 1);
	ck_assert_uint_eq(stat_get(td.stats.last_error), 0);
	/* Losing it again while down changes nothing. */
	tcpdest_lost(&td, -ETIMEDOUT, now + 5 * MS);
	ck_assert_uint_eq(tcpdest_next_ns(&td), now + 10 * MS);
	ck_assert_uint_eq(stat_get(td.stats.disconnects), 1);
	tcpdest_free(&td);
}
END_TEST

START_TEST(put_counts_every_refusal)
{
	struct tcpdest td;
	uint8_t d[1500];
	const uint8_t *p[2];
	size_t n[2];

	memset(d, 7, sizeof(d));
	ck_assert_int_eq(tcpdest_init(&td, 4096, 2000, MS, MS), 0);
	ck_assert_int_eq(tcpdest_put(&td, 1, d, 100), -ENOTCONN);
	tcpdest_connecting(&td, 0);
	ck_assert_int_eq(tcpdest_put(&td, 1, d, 100), -ENOTCONN);
	ck_assert_uint_eq(stat_get(td.stats.dropped_down), 2);
	tcpdest_up(&td, 0);
	ck_assert_uint_eq(frame_tx_queued(&td.tx), 0);
	ck_assert_int_eq(tcpdest_put(&td, 1, d, 1500), 0);
	ck_assert_int_eq(tcpdest_put(&td, 2, d, 1500), 0);
	ck_assert_int_eq(tcpdest_put(&td, 3, d, 1500), -ENOBUFS);
	ck_assert_uint_eq(stat_get(td.stats.dropped_full), 1);
	ck_assert_uint_eq(stat_get(td.stats.msgs_out), 2);
	ck_assert_uint_eq(stat_get(td.stats.bytes_out), 3000);
	ck_assert_uint_eq(frame_tx_queued(&td.tx), 2 * (FRAME_HDR + 1500));

	/* Half a message went out, then the connection was lost: the rest is
	 * dropped and counted, and the next stream starts clean. */
	ck_assert_uint_ge(frame_tx_peek(&td.tx, p, n), 1);
	frame_tx_consume(&td.tx, 700);
	tcpdest_lost(&td, -ECONNRESET, 0);
	ck_assert_uint_eq(stat_get(td.stats.dropped_queued), 2 * (FRAME_HDR + 1500) - 700);
	ck_assert_uint_eq(frame_tx_queued(&td.tx), 0);
	ck_assert_int_eq(tcpdest_put(&td, 1, d, 10), -ENOTCONN);
	ck_assert_uint_eq(stat_get(td.stats.dropped_down), 3);
	tcpdest_connecting(&td, 0);
	tcpdest_up(&td, 0);
	ck_assert_int_eq(tcpdest_put(&td, 1, d, 10), 0);
	ck_assert_uint_eq(frame_tx_peek(&td.tx, p, n), 1);
	ck_assert_uint_eq(n[0], FRAME_HDR + 10);
	ck_assert_uint_eq(p[0][0], 0);
	ck_assert_uint_eq(p[0][1], 10);
	tcpdest_free(&td);
}
END_TEST

START_TEST(feed_routes_to_last_sender_and_resets)
{
	struct tcpdest td;
	struct got g = { 0 };
	uint8_t d[8] = { 0 };
	/* Two messages, "A" and "BC", then the first byte of a third. */
	const uint8_t s1[] = { 0, 1, 'A', 0, 2, 'B', 'C', 0 };
	const uint8_t s2[] = { 1, 'Z' };
	const uint8_t s3[] = { 0, 1, 'D' };
	uint8_t big[2 + 2100];

	ck_assert_int_eq(tcpdest_init(&td, 4096, 2000, MS, MS), 0);
	tcpdest_connecting(&td, 0);
	tcpdest_up(&td, 0);
	ck_assert_int_eq(tcpdest_put(&td, 5, d, 1), 0);
	tcpdest_feed(&td, s1, sizeof(s1), on_msg, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.flow[0], 5);
	ck_assert_uint_eq(g.len[1], 2);
	ck_assert_uint_eq(g.first[1], 'B');
	ck_assert_int_eq(tcpdest_put(&td, 9, d, 1), 0);
	tcpdest_feed(&td, s2, sizeof(s2), on_msg, &g);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_uint_eq(g.flow[2], 9);
	ck_assert_uint_eq(g.first[2], 'Z');
	ck_assert_uint_eq(stat_get(td.stats.msgs_in), 3);
	ck_assert_uint_eq(stat_get(td.stats.bytes_in), 4);

	/* A message cut by a lost connection is not finished by the next. */
	tcpdest_feed(&td, s1, 1, on_msg, &g);
	tcpdest_lost(&td, 0, 0);
	tcpdest_connecting(&td, 0);
	tcpdest_up(&td, 0);
	tcpdest_feed(&td, s3, sizeof(s3), on_msg, &g);
	ck_assert_uint_eq(g.n, 4);
	ck_assert_uint_eq(g.len[3], 1);
	ck_assert_uint_eq(g.first[3], 'D');

	/* Longer than a datagram: skipped and counted, the stream in step. */
	memset(big, 'x', sizeof(big));
	big[0] = 2100 >> 8;
	big[1] = 2100 & 0xff;
	tcpdest_feed(&td, big, sizeof(big), on_msg, &g);
	tcpdest_feed(&td, s3, sizeof(s3), on_msg, &g);
	ck_assert_uint_eq(stat_get(td.stats.oversize_in), 1);
	ck_assert_uint_eq(g.n, 5);
	ck_assert_uint_eq(g.first[4], 'D');
	tcpdest_free(&td);
}
END_TEST

START_TEST(bad_parameters)
{
	struct tcpdest td;

	ck_assert_int_eq(tcpdest_init(&td, 4096, 0, MS, MS), -EINVAL);
	ck_assert_int_eq(tcpdest_init(&td, 4096, 2000, 0, MS), -EINVAL);
	ck_assert_int_eq(tcpdest_init(&td, 4096, 2000, 2 * MS, MS), -EINVAL);
	ck_assert_int_eq(tcpdest_init(&td, 4096, FRAME_MAX + 1, MS, MS), -EINVAL);
}
END_TEST

static Suite *tcpdest_suite(void)
{
	Suite *s = suite_create("tcpdest");
	TCase *tc = tcase_create("tcpdest");

	tcase_add_test(tc, backoff_doubles_to_cap_and_resets);
	tcase_add_test(tc, put_counts_every_refusal);
	tcase_add_test(tc, feed_routes_to_last_sender_and_resets);
	tcase_add_test(tc, bad_parameters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tcpdest_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
