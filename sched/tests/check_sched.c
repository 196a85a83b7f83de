/* Check suite for the DWRR link scheduler (sched/dwrr.c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "braid/sched.h"

#define PKT_MIN 64u
#define PKT_MAX 1400u

/* Fixed-seed xorshift64*: the same packet sizes on every run. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
}

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t rng_size(size_t lo, size_t hi)
{
	return lo + (size_t)(rng_next() % (hi - lo + 1));
}

/* No link may hold more than one quantum plus one packet of credit, and
 * none may go negative. Runs after every packet, so it reports through
 * ck_abort_msg only on failure: each passing ck_assert costs Check a write
 * to its parent. */
static void check_credit(const struct sched *s, size_t pkt_max)
{
	for (unsigned i = 0; i < SCHED_MAX_LINKS; i++) {
		const struct sched_link *l = &s->link[i];
		int64_t cap = (int64_t)l->weight * SCHED_QUANTUM + (int64_t)pkt_max;

		if (l->deficit < 0 || l->deficit > cap)
			ck_abort_msg("link %u credit %lld outside 0..%lld", i,
				     (long long)l->deficit, (long long)cap);
		if ((!l->present || !l->live || l->weight == 0) && l->deficit != 0)
			ck_abort_msg("unusable link %u holds credit %lld", i, (long long)l->deficit);
	}
}

/* Sends n packets of lo..hi bytes in aggregate mode, adding the bytes each
 * link carried to bytes[]; returns the total. */
static uint64_t run(struct sched *s, unsigned n, size_t lo, size_t hi, uint64_t bytes[SCHED_MAX_LINKS])
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t len = rng_size(lo, hi);
		unsigned out[SCHED_MAX_LINKS];
		unsigned got = sched_pick(s, len, 0, out, SCHED_MAX_LINKS);
		const struct sched_link *l;

		if (got != 1 || out[0] >= SCHED_MAX_LINKS)
			ck_abort_msg("packet %u: got %u links, first %u", i, got, out[0]);
		l = &s->link[out[0]];
		if (!l->present || !l->live || l->weight == 0)
			ck_abort_msg("packet %u on unusable link %u", i, out[0]);
		bytes[out[0]] += len;
		total += len;
		check_credit(s, hi);
	}
	return total;
}

static void add_live(struct sched *s, unsigned id, uint32_t weight, uint32_t prio)
{
	ck_assert_int_eq(sched_link_add(s, id, weight, prio), 0);
	ck_assert_int_eq(sched_link_set_live(s, id, true), 0);
}

static void assert_share(uint64_t got, uint64_t total, double want, double tol)
{
	double share = (double)got / (double)total;

	ck_assert_msg(share > want - tol && share < want + tol,
		      "share %.4f, want %.4f +- %.4f", share, want, tol);
}

START_TEST(test_shares_follow_weights)
{
	struct sched s;
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };
	uint64_t total;

	sched_init(&s, SCHED_AGGREGATE);
	/* Spread over the id space so the round robin crosses empty slots. */
	add_live(&s, 2, 1, 0);
	add_live(&s, 7, 2, 0);
	add_live(&s, 15, 3, 0);
	rng_seed(0x5eed);
	total = run(&s, 100000, PKT_MIN, PKT_MAX, bytes);
	assert_share(bytes[2], total, 1.0 / 6, 0.01);
	assert_share(bytes[7], total, 2.0 / 6, 0.01);
	assert_share(bytes[15], total, 3.0 / 6, 0.01);
	ck_assert_uint_eq(bytes[2] + bytes[7] + bytes[15], total);
}
END_TEST

START_TEST(test_shares_large_weights)
{
	struct sched s;
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };
	uint64_t total;

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, SCHED_WEIGHT_MAX, 0);
	add_live(&s, 1, 250, 0);
	add_live(&s, 2, 1, 0);
	rng_seed(42);
	total = run(&s, 200000, PKT_MIN, PKT_MAX, bytes);
	assert_share(bytes[0], total, 1000.0 / 1251, 0.01);
	assert_share(bytes[1], total, 250.0 / 1251, 0.01);
	assert_share(bytes[2], total, 1.0 / 1251, 0.01);
	ck_assert_uint_gt(bytes[2], 0);
}
END_TEST

/* Packets larger than one quantum: a weight-1 link must save up over
 * several visits, and the split must still follow the weights. */
START_TEST(test_packets_larger_than_quantum)
{
	struct sched s;
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };
	uint64_t total;

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1, 0);
	add_live(&s, 1, 2, 0);
	rng_seed(7);
	total = run(&s, 30000, 9000, 60000, bytes);
	assert_share(bytes[0], total, 1.0 / 3, 0.01);
	assert_share(bytes[1], total, 2.0 / 3, 0.01);
}
END_TEST

/* A packet no link could ever bank credit for must still get a link, in
 * bounded time, and not stall the links afterwards. */
START_TEST(test_oversize_packet_terminates)
{
	static const size_t sizes[] = { 70000, 1u << 20, SIZE_MAX / 2, SIZE_MAX };
	struct sched s;
	unsigned seen[SCHED_MAX_LINKS] = { 0 };
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 3, 1, 0);
	add_live(&s, 9, 1, 0);
	for (unsigned i = 0; i < 40; i++) {
		unsigned out[SCHED_MAX_LINKS];

		ck_assert_uint_eq(sched_pick(&s, sizes[i % 4], 0, out, SCHED_MAX_LINKS), 1);
		ck_assert(out[0] == 3 || out[0] == 9);
		seen[out[0]]++;
		/* Nothing is banked while saving up for a packet that can
		 * never be covered. */
		for (unsigned j = 0; j < SCHED_MAX_LINKS; j++) {
			ck_assert_int_ge(s.link[j].deficit, 0);
			ck_assert_int_le(s.link[j].deficit, (int64_t)s.link[j].weight * SCHED_QUANTUM);
		}
	}
	/* They rotate rather than all landing on one link. */
	ck_assert_uint_gt(seen[3], 0);
	ck_assert_uint_gt(seen[9], 0);
	rng_seed(3);
	run(&s, 1000, PKT_MIN, PKT_MAX, bytes);
	ck_assert_uint_gt(bytes[3], 0);
	ck_assert_uint_gt(bytes[9], 0);
}
END_TEST

/* Exact byte accounting, walked by hand: two links of weight 1 get 1500
 * bytes a visit, 1000-byte packets are charged in full, and what a link
 * cannot spend it keeps for its next visit. */
START_TEST(test_byte_accounting)
{
	static const struct {
		unsigned link;
		int64_t deficit;	/* of that link after the pick */
	} want[] = {
		{ 1, 500 }, { 0, 500 }, { 1, 1000 }, { 1, 0 }, { 0, 1000 }, { 0, 0 },
		{ 1, 500 }, { 0, 500 }, { 1, 1000 }, { 1, 0 }, { 0, 1000 }, { 0, 0 },
	};
	struct sched s;

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1, 0);
	add_live(&s, 1, 1, 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		unsigned out[SCHED_MAX_LINKS];

		ck_assert_uint_eq(sched_pick(&s, 1000, 0, out, SCHED_MAX_LINKS), 1);
		ck_assert_uint_eq(out[0], want[i].link);
		ck_assert_int_eq(s.link[out[0]].deficit, want[i].deficit);
	}
}
END_TEST

/* Credit never grows past one quantum plus one maximum packet, even if the
 * deficit was left huge (the struct is public). */
START_TEST(test_credit_capped)
{
	const int64_t cap = SCHED_QUANTUM + 65535;	/* weight 1 */
	struct sched s;
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };
	uint64_t total = 0;

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1, 0);
	add_live(&s, 1, 1, 0);
	s.cur = 0;
	s.link[1].deficit = 10 * 1000 * 1000;
	rng_seed(8);
	for (unsigned i = 0; i < 2000; i++) {
		size_t len = rng_size(PKT_MIN, PKT_MAX);
		unsigned out[SCHED_MAX_LINKS];

		if (sched_pick(&s, len, 0, out, SCHED_MAX_LINKS) != 1 || out[0] > 1)
			ck_abort_msg("packet %u: bad pick", i);
		if (s.link[1].deficit > cap)
			ck_abort_msg("packet %u: credit %lld over the cap", i, (long long)s.link[1].deficit);
		bytes[out[0]] += len;
		total += len;
	}
	ck_assert_uint_le(bytes[1], total / 2 + (uint64_t)cap + PKT_MAX);
	ck_assert_uint_gt(bytes[0], 0);
}
END_TEST

/* A link that was down banks nothing, so when it returns it gets its weight
 * share and no more: no burst. */
START_TEST(test_idle_link_no_burst)
{
	struct sched s;
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };
	uint64_t total;
	/* In a window a link may run ahead of its exact share by at most the
	 * credit it can hold: one quantum plus one packet. */
	const double slack = 1.0 * SCHED_QUANTUM + PKT_MAX;

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1, 0);
	add_live(&s, 1, 2, 0);
	add_live(&s, 2, 3, 0);
	rng_seed(11);
	run(&s, 5000, PKT_MIN, PKT_MAX, bytes);
	ck_assert_uint_gt(bytes[0], 0);

	ck_assert_int_eq(sched_link_set_live(&s, 0, false), 0);
	ck_assert_int_eq(s.link[0].deficit, 0);
	memset(bytes, 0, sizeof(bytes));
	run(&s, 50000, PKT_MIN, PKT_MAX, bytes);
	ck_assert_uint_eq(bytes[0], 0);
	ck_assert_int_eq(s.link[0].deficit, 0);

	ck_assert_int_eq(sched_link_set_live(&s, 0, true), 0);
	ck_assert_int_eq(s.link[0].deficit, 0);
	/* About 50 rounds of 9000 bytes. */
	memset(bytes, 0, sizeof(bytes));
	total = run(&s, 600, PKT_MIN, PKT_MAX, bytes);
	ck_assert_msg((double)bytes[0] <= (double)total / 6 + slack,
		      "returning link sent %llu of %llu bytes",
		      (unsigned long long)bytes[0], (unsigned long long)total);
	/* And it does take part again. */
	ck_assert_msg((double)bytes[0] >= (double)total / 6 - slack,
		      "returning link sent only %llu of %llu bytes",
		      (unsigned long long)bytes[0], (unsigned long long)total);
}
END_TEST

/* Weight 0 is skipped with its credit cleared, like a link that is down. */
START_TEST(test_weight_zero_skipped)
{
	struct sched s;
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1, 0);
	add_live(&s, 1, 1, 0);
	rng_seed(5);
	run(&s, 1000, PKT_MIN, PKT_MAX, bytes);
	ck_assert_uint_gt(bytes[1], 0);
	ck_assert_int_eq(sched_link_set_weight(&s, 1, 0), 0);
	ck_assert_int_eq(s.link[1].deficit, 0);
	memset(bytes, 0, sizeof(bytes));
	run(&s, 5000, PKT_MIN, PKT_MAX, bytes);
	ck_assert_uint_eq(bytes[1], 0);
	ck_assert_uint_gt(bytes[0], 0);
}
END_TEST

/* With every live link at weight 0 the packet still goes out, on the best
 * link in failover order, rather than being dropped. */
START_TEST(test_all_weight_zero_uses_best)
{
	struct sched s;
	unsigned out[SCHED_MAX_LINKS];

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 4, 0, 9);
	add_live(&s, 6, 0, 2);
	for (unsigned i = 0; i < 10; i++) {
		ck_assert_uint_eq(sched_pick(&s, 1000, 0, out, SCHED_MAX_LINKS), 1);
		ck_assert_uint_eq(out[0], 6);
	}
	/* Once a link has a weight it carries everything. */
	ck_assert_int_eq(sched_link_set_weight(&s, 4, 1), 0);
	for (unsigned i = 0; i < 10; i++) {
		ck_assert_uint_eq(sched_pick(&s, 1000, 0, out, SCHED_MAX_LINKS), 1);
		ck_assert_uint_eq(out[0], 4);
	}
}
END_TEST

START_TEST(test_weight_change)
{
	struct sched s;
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };
	uint64_t total;

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1, 0);
	add_live(&s, 1, 1, 0);
	rng_seed(99);
	total = run(&s, 20000, PKT_MIN, PKT_MAX, bytes);
	assert_share(bytes[0], total, 0.5, 0.01);
	assert_share(bytes[1], total, 0.5, 0.01);

	ck_assert_int_eq(sched_link_set_weight(&s, 1, 3), 0);
	ck_assert_uint_eq(s.link[1].weight, 3);
	memset(bytes, 0, sizeof(bytes));
	total = run(&s, 40000, PKT_MIN, PKT_MAX, bytes);
	assert_share(bytes[0], total, 0.25, 0.01);
	assert_share(bytes[1], total, 0.75, 0.01);
}
END_TEST

/* Turning a heavy link down cuts the credit it banked to the new cap. */
START_TEST(test_weight_down_cuts_credit)
{
	struct sched s;

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, SCHED_WEIGHT_MAX, 0);
	s.link[0].deficit = (int64_t)SCHED_WEIGHT_MAX * SCHED_QUANTUM;
	ck_assert_int_eq(sched_link_set_weight(&s, 0, 1), 0);
	ck_assert_int_le(s.link[0].deficit, (int64_t)SCHED_QUANTUM + 65535);
	ck_assert_int_ge(s.link[0].deficit, 0);
}
END_TEST

START_TEST(test_del)
{
	struct sched s;
	uint64_t bytes[SCHED_MAX_LINKS] = { 0 };
	unsigned out[SCHED_MAX_LINKS];

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1, 0);
	add_live(&s, 1, 1, 0);
	add_live(&s, 2, 1, 0);
	rng_seed(1);
	run(&s, 3000, PKT_MIN, PKT_MAX, bytes);
	ck_assert_uint_gt(bytes[1], 0);

	ck_assert_int_eq(sched_link_del(&s, 1), 0);
	ck_assert(!s.link[1].present);
	ck_assert_int_eq(sched_link_del(&s, 1), -ENOENT);
	memset(bytes, 0, sizeof(bytes));
	run(&s, 3000, PKT_MIN, PKT_MAX, bytes);
	ck_assert_uint_eq(bytes[1], 0);
	assert_share(bytes[0], bytes[0] + bytes[2], 0.5, 0.02);

	/* The slot can be reused and starts present but down, without credit. */
	ck_assert_int_eq(sched_link_add(&s, 1, 5, 0), 0);
	ck_assert(s.link[1].present);
	ck_assert(!s.link[1].live);
	ck_assert_int_eq(s.link[1].deficit, 0);
	ck_assert_int_eq(sched_link_add(&s, 1, 5, 0), -EEXIST);

	ck_assert_int_eq(sched_link_del(&s, 0), 0);
	ck_assert_int_eq(sched_link_del(&s, 1), 0);
	ck_assert_int_eq(sched_link_del(&s, 2), 0);
	ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 0);
}
END_TEST

START_TEST(test_set_live)
{
	struct sched s;
	unsigned out[SCHED_MAX_LINKS];

	sched_init(&s, SCHED_AGGREGATE);
	ck_assert_int_eq(sched_link_add(&s, 5, 1, 0), 0);
	ck_assert(!s.link[5].live);
	ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 0);

	ck_assert_int_eq(sched_link_set_live(&s, 5, true), 0);
	for (unsigned i = 0; i < 100; i++) {
		ck_assert_uint_eq(sched_pick(&s, 1400, 0, out, SCHED_MAX_LINKS), 1);
		ck_assert_uint_eq(out[0], 5);
	}

	/* Saying "up" again keeps the credit; a change of state clears it. */
	s.link[5].deficit = 1000;
	ck_assert_int_eq(sched_link_set_live(&s, 5, true), 0);
	ck_assert_int_eq(s.link[5].deficit, 1000);
	ck_assert_int_eq(sched_link_set_live(&s, 5, false), 0);
	ck_assert_int_eq(s.link[5].deficit, 0);
	ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 0);
	s.link[5].deficit = 1000;
	ck_assert_int_eq(sched_link_set_live(&s, 5, true), 0);
	ck_assert_int_eq(s.link[5].deficit, 0);

	ck_assert_int_eq(sched_link_set_live(&s, 4, true), -ENOENT);
	ck_assert_int_eq(sched_link_set_live(&s, SCHED_MAX_LINKS, true), -ENOENT);
	ck_assert_int_eq(sched_link_set_live(&s, UINT32_MAX, false), -ENOENT);
	ck_assert(!s.link[4].present && !s.link[4].live);
}
END_TEST

START_TEST(test_failover_order)
{
	struct sched s;
	unsigned out[SCHED_MAX_LINKS];

	sched_init(&s, SCHED_FAILOVER);
	ck_assert_int_eq(sched_best(&s), -1);
	add_live(&s, 0, 1, 5);
	add_live(&s, 1, 1, 1);
	add_live(&s, 2, 1, 1);	/* ties with 1: the lower id wins */
	ck_assert_int_eq(sched_link_add(&s, 3, 1, 0), 0);	/* best, but down */
	add_live(&s, 4, 0, 3);	/* weight does not matter in failover */

	ck_assert_int_eq(sched_best(&s), 1);
	for (unsigned i = 0; i < 50; i++) {
		ck_assert_uint_eq(sched_pick(&s, 1400, 0, out, SCHED_MAX_LINKS), 1);
		ck_assert_uint_eq(out[0], 1);
	}

	/* Failing over walks down the priority order. */
	static const struct {
		unsigned id;
		bool live;
		int want;
	} steps[] = {
		{ 1, false, 2 },
		{ 2, false, 4 },
		{ 4, false, 0 },
		{ 3, true, 3 },
		{ 1, true, 3 },
		{ 3, false, 1 },
		{ 0, false, 1 },
		{ 1, false, -1 },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		unsigned got;

		ck_assert_int_eq(sched_link_set_live(&s, steps[i].id, steps[i].live), 0);
		ck_assert_int_eq(sched_best(&s), steps[i].want);
		got = sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS);
		if (steps[i].want < 0) {
			ck_assert_uint_eq(got, 0);
		} else {
			ck_assert_uint_eq(got, 1);
			ck_assert_uint_eq(out[0], (unsigned)steps[i].want);
		}
	}
}
END_TEST

START_TEST(test_duplicate_all_live)
{
	struct sched s;
	unsigned out[SCHED_MAX_LINKS];

	sched_init(&s, SCHED_DUPLICATE);
	add_live(&s, 9, 1, 0);
	add_live(&s, 0, 3, 0);
	ck_assert_int_eq(sched_link_add(&s, 4, 1, 0), 0);	/* down */
	add_live(&s, 12, 0, 0);	/* weight 0 still gets a copy */
	add_live(&s, 15, 2, 0);

	memset(out, 0xff, sizeof(out));
	ck_assert_uint_eq(sched_pick(&s, 1000, 0, out, SCHED_MAX_LINKS), 4);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(out[1], 9);
	ck_assert_uint_eq(out[2], 12);
	ck_assert_uint_eq(out[3], 15);
	ck_assert_uint_eq(out[4], 0xffffffffu);	/* nothing past the count */

	/* max bounds what is written. */
	memset(out, 0xff, sizeof(out));
	ck_assert_uint_eq(sched_pick(&s, 1000, 0, out, 2), 2);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(out[1], 9);
	ck_assert_uint_eq(out[2], 0xffffffffu);
	ck_assert_uint_eq(sched_pick(&s, 1000, 0, out, 0), 0);
	ck_assert_uint_eq(sched_pick(&s, 1000, 0, NULL, 4), 0);

	ck_assert_int_eq(sched_link_set_live(&s, 9, false), 0);
	ck_assert_int_eq(sched_link_set_live(&s, 4, true), 0);
	ck_assert_uint_eq(sched_pick(&s, 1000, 0, out, SCHED_MAX_LINKS), 4);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(out[1], 4);
	ck_assert_uint_eq(out[2], 12);
	ck_assert_uint_eq(out[3], 15);
}
END_TEST

START_TEST(test_zero_live_returns_zero)
{
	static const enum sched_mode modes[] = { SCHED_AGGREGATE, SCHED_DUPLICATE, SCHED_FAILOVER };
	struct sched s;
	unsigned out[SCHED_MAX_LINKS];

	for (size_t m = 0; m < 3; m++) {
		sched_init(&s, modes[m]);
		ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 0);
		for (unsigned i = 0; i < SCHED_MAX_LINKS; i++)
			ck_assert_int_eq(sched_link_add(&s, i, 1 + i, i), 0);
		ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 0);
		ck_assert_uint_eq(sched_pick(&s, SIZE_MAX, 0, out, SCHED_MAX_LINKS), 0);
		ck_assert_int_eq(sched_best(&s), -1);
		/* Up and down again: still nothing. */
		ck_assert_int_eq(sched_link_set_live(&s, 7, true), 0);
		ck_assert_uint_ge(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 1);
		ck_assert_int_eq(sched_link_set_live(&s, 7, false), 0);
		ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 0);
	}
}
END_TEST

START_TEST(test_invalid_args)
{
	struct sched s, before;

	sched_init(&s, SCHED_AGGREGATE);
	ck_assert_int_eq(sched_link_add(&s, SCHED_MAX_LINKS, 1, 0), -EINVAL);
	ck_assert_int_eq(sched_link_add(&s, UINT32_MAX, 1, 0), -EINVAL);
	ck_assert_int_eq(sched_link_add(&s, 0, SCHED_WEIGHT_MAX + 1, 0), -EINVAL);
	ck_assert_int_eq(sched_link_add(&s, 0, UINT32_MAX, 0), -EINVAL);
	ck_assert(!s.link[0].present);
	/* The bounds themselves are fine. */
	ck_assert_int_eq(sched_link_add(&s, SCHED_MAX_LINKS - 1, SCHED_WEIGHT_MAX, UINT32_MAX), 0);
	ck_assert_int_eq(sched_link_add(&s, 0, 0, 0), 0);
	ck_assert_int_eq(sched_link_add(&s, 0, 1, 0), -EEXIST);
	ck_assert_uint_eq(s.link[0].weight, 0);	/* the failed add changed nothing */

	ck_assert_int_eq(sched_link_set_weight(&s, 0, SCHED_WEIGHT_MAX + 1), -EINVAL);
	ck_assert_uint_eq(s.link[0].weight, 0);
	ck_assert_int_eq(sched_link_set_weight(&s, 0, SCHED_WEIGHT_MAX), 0);
	ck_assert_uint_eq(s.link[0].weight, SCHED_WEIGHT_MAX);
	ck_assert_int_eq(sched_link_set_weight(&s, 1, 1), -ENOENT);
	ck_assert_int_eq(sched_link_set_weight(&s, SCHED_MAX_LINKS, 1), -ENOENT);
	ck_assert(!s.link[1].present);

	ck_assert_int_eq(sched_link_del(&s, 1), -ENOENT);
	ck_assert_int_eq(sched_link_del(&s, SCHED_MAX_LINKS), -ENOENT);
	ck_assert_int_eq(sched_link_del(&s, UINT32_MAX), -ENOENT);

	/* None of the rejected calls touched the scheduler. */
	memcpy(&before, &s, sizeof(s));
	(void)sched_link_add(&s, 99, 1, 0);
	(void)sched_link_add(&s, 0, 1, 0);
	(void)sched_link_set_weight(&s, 0, 5000);
	(void)sched_link_set_weight(&s, 3, 1);
	(void)sched_link_set_live(&s, 3, true);
	(void)sched_link_del(&s, 3);
	ck_assert(memcmp(&before, &s, sizeof(s)) == 0);
}
END_TEST

START_TEST(test_mode_parse)
{
	static const char *const bad[] = {
		"", "Aggregate", "aggregate ", " failover", "agg", "duplicates", "fail over", "0",
	};
	enum sched_mode m;

	ck_assert_int_eq(sched_mode_parse("aggregate", &m), 0);
	ck_assert_int_eq(m, SCHED_AGGREGATE);
	ck_assert_int_eq(sched_mode_parse("duplicate", &m), 0);
	ck_assert_int_eq(m, SCHED_DUPLICATE);
	ck_assert_int_eq(sched_mode_parse("failover", &m), 0);
	ck_assert_int_eq(m, SCHED_FAILOVER);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = SCHED_DUPLICATE;
		ck_assert_int_eq(sched_mode_parse(bad[i], &m), -EINVAL);
		ck_assert_int_eq(m, SCHED_DUPLICATE);
	}
	ck_assert_int_eq(sched_mode_parse(NULL, &m), -EINVAL);
	ck_assert_int_eq(sched_mode_parse("failover", NULL), -EINVAL);

	/* Names round-trip through the parser. */
	for (int i = SCHED_AGGREGATE; i <= SCHED_FAILOVER; i++) {
		ck_assert_int_eq(sched_mode_parse(sched_mode_name((enum sched_mode)i), &m), 0);
		ck_assert_int_eq(m, i);
	}
	ck_assert_str_eq(sched_mode_name((enum sched_mode)3), "unknown");
	ck_assert_str_eq(sched_mode_name((enum sched_mode)-1), "unknown");
}
END_TEST

START_TEST(test_set_mode)
{
	struct sched s;
	unsigned out[SCHED_MAX_LINKS];

	sched_init(&s, SCHED_AGGREGATE);
	ck_assert_int_eq(s.mode, SCHED_AGGREGATE);
	add_live(&s, 0, 1, 2);
	add_live(&s, 1, 1, 1);
	sched_set_mode(&s, SCHED_DUPLICATE);
	ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 2);
	sched_set_mode(&s, SCHED_FAILOVER);
	ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 1);
	ck_assert_uint_eq(out[0], 1);
	/* A mode outside the enum carries nothing rather than guessing. */
	sched_set_mode(&s, (enum sched_mode)7);
	ck_assert_uint_eq(sched_pick(&s, 100, 0, out, SCHED_MAX_LINKS), 0);
}
END_TEST

static Suite *sched_suite(void)
{
	Suite *su = suite_create("sched");
	TCase *tc = tcase_create("dwrr");

	/* The share runs check the credit bound after every packet; give
	 * them room on a slow, sanitized build. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_shares_follow_weights);
	tcase_add_test(tc, test_shares_large_weights);
	tcase_add_test(tc, test_packets_larger_than_quantum);
	tcase_add_test(tc, test_oversize_packet_terminates);
	tcase_add_test(tc, test_byte_accounting);
	tcase_add_test(tc, test_credit_capped);
	tcase_add_test(tc, test_idle_link_no_burst);
	tcase_add_test(tc, test_weight_zero_skipped);
	tcase_add_test(tc, test_all_weight_zero_uses_best);
	tcase_add_test(tc, test_weight_change);
	tcase_add_test(tc, test_weight_down_cuts_credit);
	tcase_add_test(tc, test_del);
	tcase_add_test(tc, test_set_live);
	tcase_add_test(tc, test_failover_order);
	tcase_add_test(tc, test_duplicate_all_live);
	tcase_add_test(tc, test_zero_live_returns_zero);
	tcase_add_test(tc, test_invalid_args);
	tcase_add_test(tc, test_mode_parse);
	tcase_add_test(tc, test_set_mode);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(sched_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
