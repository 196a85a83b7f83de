/* Check suite for the earliest-arrival scheduler (sched/arrival.c).
 *
 * The links are modelled as the scheduler models them, FIFOs with a rate
 * and a delay (struct fifo), so what a test checks is when packets really
 * arrive, not what the scheduler predicted. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "braid/rng.h"
#include "braid/sched.h"

#define MS 1000000ull
#define MBIT(x) ((uint64_t)(x) * 1000000 / 8)	/* bytes/s */

/* One seeded stream (include/braid/rng.h) for the whole suite: each test
 * seeds it, so every run draws the same. */
static struct rng rng;

static void rng_seed(uint64_t seed)
{
	rng_init(&rng, seed);
}

/* A link as it is: drains at rate bytes/s, then delay. */
struct fifo {
	uint64_t rate, delay, free_at;
};

static uint64_t fifo_send(struct fifo *f, size_t len, uint64_t now)
{
	uint64_t start = f->free_at > now ? f->free_at : now;

	f->free_at = start + (uint64_t)len * 1000000000ull / f->rate;
	return f->free_at + f->delay;
}

static void add_live(struct sched *s, unsigned id, uint32_t weight)
{
	ck_assert_int_eq(sched_link_add(s, id, weight, id), 0);
	ck_assert_int_eq(sched_link_set_live(s, id, true), 0);
}

/* The bench's hetero links: 10/5/2 Mbit/s at 20/40/80 ms, weights 10:5:2,
 * with exact estimates. */
static void hetero(struct sched *s, struct fifo f[3])
{
	static const uint64_t rate[3] = { MBIT(10), MBIT(5), MBIT(2) };
	static const uint64_t delay[3] = { 20 * MS, 40 * MS, 80 * MS };
	static const uint32_t weight[3] = { 10, 5, 2 };

	sched_init(s, SCHED_AGGREGATE);
	for (unsigned i = 0; i < 3; i++) {
		add_live(s, i, weight[i]);
		ck_assert_int_eq(sched_link_set_path(s, i, true, delay[i], rate[i]), 0);
		f[i] = (struct fifo){ .rate = rate[i], .delay = delay[i] };
	}
}

struct run_result {
	uint64_t pkts[SCHED_MAX_LINKS];
	uint64_t lat_max, lat_p50;
	uint64_t reorder_max;	/* most a packet arrived before an earlier-sent one */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* n packets of len bytes at pps, evenly spaced or (poisson) with
 * exponential gaps, over the fifos f. */
static void run(struct sched *s, struct fifo *f, unsigned n, size_t len, double pps,
		bool poisson, struct run_result *r)
{
	uint64_t *lat = calloc(n, sizeof(*lat));
	uint64_t now = 1000 * MS, last_arrival = 0;

	ck_assert_ptr_nonnull(lat);
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < n; i++) {
		unsigned out[SCHED_MAX_LINKS];
		uint64_t arr;

		ck_assert_uint_eq(sched_pick(s, len, now, out, SCHED_MAX_LINKS), 1);
		arr = fifo_send(&f[out[0]], len, now);
		r->pkts[out[0]]++;
		lat[i] = arr - now;
		if (arr < last_arrival && last_arrival - arr > r->reorder_max)
			r->reorder_max = last_arrival - arr;
		if (arr > last_arrival)
			last_arrival = arr;
		if (lat[i] > r->lat_max)
			r->lat_max = lat[i];
		if (poisson) {
			double u = (double)(rng_next(&rng) >> 11) / (double)(1ull << 53);

			now += (uint64_t)(-__builtin_log(1.0 - u) / pps * 1e9);
		} else {
			now += (uint64_t)(1e9 / pps);
		}
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	r->lat_p50 = lat[n / 2];
	free(lat);
}

/* 8 Mbit/s of 1000-byte datagrams (1048 on the wire) fits link 1 alone:
 * every datagram arrives as soon as it can, 20.8 ms after it left. */
START_TEST(test_hetero_fits_first_link)
{
	struct sched s;
	struct fifo f[3];
	struct run_result r;

	rng_seed(1);
	hetero(&s, f);
	run(&s, f, 10000, 1048, 1000, false, &r);
	ck_assert_uint_eq(r.pkts[0], 10000);
	ck_assert_uint_le(r.lat_max, 20 * MS + 900000);
	ck_assert_uint_eq(r.reorder_max, 0);
}
END_TEST

/* 12 Mbit/s is more than link 1 carries: at least a fifth must cross link
 * 2, and that costs 41.7 ms, for everyone if nothing is to wait for order. */
START_TEST(test_hetero_overload_splits)
{
	struct sched s;
	struct fifo f[3];
	struct run_result r;
	double share0;

	hetero(&s, f);
	run(&s, f, 15000, 1048, 1500, false, &r);
	share0 = (double)r.pkts[0] / 15000;
	ck_assert_msg(share0 > 0.75 && share0 < 0.85, "link 1 carried %.3f", share0);
	ck_assert_uint_gt(r.pkts[1], 15000 * 15 / 100);
	ck_assert_uint_lt(r.pkts[2], 15000 / 100);
	ck_assert_msg(r.lat_max <= 43 * MS, "max latency %.2f ms", r.lat_max / 1e6);
	ck_assert_uint_le(r.reorder_max, SCHED_TIE_NS);
}
END_TEST

/* On FIFO links, whatever their rates and delays and however the packets
 * come, a packet arrives no sooner than SCHED_TIE_NS before one sent
 * earlier: only ties may swap. */
START_TEST(test_fifo_keeps_order)
{
	for (unsigned seed = 1; seed <= 40; seed++) {
		struct sched s;
		struct fifo f[4];
		struct run_result r;
		unsigned nl = 2 + seed % 3;

		rng_seed(seed);
		sched_init(&s, SCHED_AGGREGATE);
		for (unsigned i = 0; i < nl; i++) {
			uint64_t rate = MBIT(1 + rng_next(&rng) % 50);
			uint64_t delay = (1 + rng_next(&rng) % 100) * MS;

			add_live(&s, i, 1 + (uint32_t)(rng_next(&rng) % 20));
			sched_link_set_path(&s, i, true, delay, rate);
			f[i] = (struct fifo){ .rate = rate, .delay = delay };
		}
		run(&s, f, 3000, 200 + rng_next(&rng) % 1200, 200 + rng_next(&rng) % 3000, seed & 1, &r);
		ck_assert_msg(r.reorder_max <= SCHED_TIE_NS, "seed %u: a packet %.3f ms early",
			      seed, r.reorder_max / 1e6);
	}
}
END_TEST

/* weight = 0 is standby: never picked while another link is up, and
 * picked when it is the only one. */
START_TEST(test_weight_zero_standby)
{
	struct sched s;
	struct fifo f[3];
	struct run_result r;

	hetero(&s, f);
	/* The fast link on standby: everything goes to link 2, overloaded
	 * or not, then link 3. */
	sched_link_set_weight(&s, 0, 0);
	run(&s, f, 5000, 1048, 1000, false, &r);
	ck_assert_uint_eq(r.pkts[0], 0);
	ck_assert_uint_gt(r.pkts[1], 0);
	sched_link_set_live(&s, 1, false);
	sched_link_set_live(&s, 2, false);
	run(&s, f, 10, 1048, 100, false, &r);
	ck_assert_uint_eq(r.pkts[0], 10);
}
END_TEST

/* Equal links (rates unknown or known, delays within the tie margin) keep
 * the DWRR shares by weight. */
START_TEST(test_equal_links_keep_shares)
{
	for (unsigned known = 0; known < 2; known++) {
		struct sched s;
		struct fifo f[3];
		struct run_result r;

		rng_seed(3);
		sched_init(&s, SCHED_AGGREGATE);
		for (unsigned i = 0; i < 3; i++) {
			add_live(&s, i, 10);
			/* Estimates 100 us apart, as measured ones are. */
			sched_link_set_path(&s, i, true, 10 * MS + i * 100000, known ? MBIT(10) : 0);
			f[i] = (struct fifo){ .rate = MBIT(10), .delay = 10 * MS + i * 100000 };
		}
		run(&s, f, 30000, 1048, 1000, true, &r);
		for (unsigned i = 0; i < 3; i++) {
			double share = (double)r.pkts[i] / 30000;

			ck_assert_msg(share > 0.30 && share < 0.36, "rates %s: link %u carried %.3f",
				      known ? "known" : "unknown", i, share);
		}
	}
}
END_TEST

/* Until every usable link has a delay, the picks are DWRR's exactly. */
START_TEST(test_no_estimates_is_dwrr)
{
	struct sched a, d;
	static const uint32_t w[3] = { 10, 5, 2 };

	sched_init(&a, SCHED_AGGREGATE);
	sched_init(&d, SCHED_AGGREGATE);
	sched_set_algo(&d, SCHED_DWRR);
	for (unsigned i = 0; i < 3; i++) {
		add_live(&a, i, w[i]);
		add_live(&d, i, w[i]);
	}
	/* One link with a delay is not enough. */
	sched_link_set_path(&a, 0, true, 1 * MS, 0);
	rng_seed(7);
	for (unsigned i = 0; i < 5000; i++) {
		size_t len = 64 + rng_next(&rng) % 1400;
		unsigned oa[SCHED_MAX_LINKS], od[SCHED_MAX_LINKS];

		ck_assert_uint_eq(sched_pick(&a, len, i * MS, oa, SCHED_MAX_LINKS), 1);
		ck_assert_uint_eq(sched_pick(&d, len, i * MS, od, SCHED_MAX_LINKS), 1);
		ck_assert_uint_eq(oa[0], od[0]);
	}
	/* And SCHED_DWRR ignores the estimates. */
	for (unsigned i = 0; i < 3; i++)
		sched_link_set_path(&d, i, true, (i + 1) * 20 * MS, MBIT(10));
	{
		uint64_t n[3] = { 0 };

		for (unsigned i = 0; i < 1700; i++) {
			unsigned o[SCHED_MAX_LINKS];

			sched_pick(&d, 1000, i * MS, o, SCHED_MAX_LINKS);
			n[o[0]]++;
		}
		ck_assert_uint_gt(n[2], 150);
	}
}
END_TEST

/* The peer's end of the reports on two links, as estimate.c makes them:
 * every 15 ms, for each link, the least wait of the packets that reached
 * it since the last report and the send time of the newest; a report
 * reaches us REPORT_BACK after the peer made it. */
#define PEER_Q 4096
#define REPORT_BACK (10 * MS)
struct peer {
	struct {
		struct { uint64_t sent, wait, arrive; } q[PEER_Q];
		unsigned head, tail;
	} l[2];
	uint64_t next;
};

static void peer_sent(struct peer *p, unsigned li, uint64_t sent, uint64_t wait, uint64_t arrive)
{
	unsigned t = p->l[li].tail++ % PEER_Q;

	p->l[li].q[t].sent = sent;
	p->l[li].q[t].wait = wait;
	p->l[li].q[t].arrive = arrive;
}

/* Delivers the reports due by now; rate_known: whether the estimator
 * would pass on a link's rate (7/8 of it) once it saw the link queue. */
static void peer_report(struct peer *p, struct sched *s, const struct fifo *f, uint64_t now,
			bool rate_known)
{
	if (now < p->next)
		return;
	p->next = now + 15 * MS;
	for (unsigned li = 0; li < 2; li++) {
		uint64_t least = UINT64_MAX, newest = 0;

		while (p->l[li].head != p->l[li].tail &&
		       p->l[li].q[p->l[li].head % PEER_Q].arrive + REPORT_BACK <= now) {
			unsigned h = p->l[li].head++ % PEER_Q;

			if (p->l[li].q[h].wait < least)
				least = p->l[li].q[h].wait;
			newest = p->l[li].q[h].sent;
		}
		if (!newest)
			continue;
		sched_link_observe(s, li, newest, least, now);
		if (rate_known && least > 1 * MS)
			sched_link_set_path(s, li, true, f[li].delay, f[li].rate * 7 / 8);
	}
}

/* Offers pps of 1048-byte packets for n packets over two links with the
 * peer's reports; returns the largest wait a packet met on link 0 after
 * the first 2000, and counts each link's packets. */
static uint64_t run_reported(struct sched *s, struct fifo f[2], unsigned n, double pps,
			     bool rate_known, uint64_t count[2])
{
	static struct peer p;
	uint64_t now = 1000 * MS, wait_max = 0;

	memset(&p, 0, sizeof(p));
	for (unsigned k = 0; k < n; k++) {
		unsigned o[SCHED_MAX_LINKS];
		uint64_t wait, arrive;

		sched_pick(s, 1048, now, o, SCHED_MAX_LINKS);
		wait = f[o[0]].free_at > now ? f[o[0]].free_at - now : 0;
		arrive = fifo_send(&f[o[0]], 1048, now);
		peer_sent(&p, o[0], now, wait, arrive);
		count[o[0]]++;
		if (k >= 2000 && o[0] == 0 && wait > wait_max)
			wait_max = wait;
		peer_report(&p, s, f, now, rate_known);
		now += (uint64_t)(1e9 / pps);
	}
	return wait_max;
}

/* A fast link whose rate is not known yet, offered twice what it carries:
 * the reports (its queue, and its rate once it queued) bound the queue and
 * move the rest elsewhere. */
START_TEST(test_reports_bound_unknown_queue)
{
	struct sched s;
	struct fifo f[2] = {
		{ .rate = MBIT(5), .delay = 10 * MS },
		{ .rate = MBIT(50), .delay = 30 * MS },
	};
	uint64_t n[2] = { 0 }, wait_max;

	sched_init(&s, SCHED_AGGREGATE);
	for (unsigned i = 0; i < 2; i++) {
		add_live(&s, i, 1);
		sched_link_set_path(&s, i, true, f[i].delay, 0);
	}
	/* 10 Mbit/s offered for 10 s. */
	wait_max = run_reported(&s, f, 12000, 1193, true, n);
	ck_assert_msg(wait_max < 40 * MS, "link 1's queue reached %.1f ms", wait_max / 1e6);
	ck_assert_uint_gt(n[1], 12000 / 4);
	ck_assert_uint_gt(n[0], 12000 / 4);
}
END_TEST

/* A known rate that is too high, and one too low: the reports correct
 * both, so the queue stays bounded where an uncorrected estimate too high
 * would grow it without end, and the split stays near the best one. */
START_TEST(test_reports_correct_rate)
{
	for (unsigned high = 0; high < 2; high++) {
		struct sched s;
		struct fifo f[2] = {
			{ .rate = MBIT(10), .delay = 20 * MS },
			{ .rate = MBIT(5), .delay = 40 * MS },
		};
		uint64_t n[2] = { 0 }, wait_max;
		double share0;

		sched_init(&s, SCHED_AGGREGATE);
		add_live(&s, 0, 10);
		add_live(&s, 1, 5);
		sched_link_set_path(&s, 0, true, 20 * MS, high ? MBIT(11) : MBIT(8));
		sched_link_set_path(&s, 1, true, 40 * MS, MBIT(5));
		/* 12 Mbit/s for 20 s: at least a fifth must cross link 2,
		 * and nothing need wait more than 21 ms on link 1. */
		wait_max = run_reported(&s, f, 30000, 1431, false, n);
		share0 = (double)n[0] / 30000;
		ck_assert_msg(wait_max < 30 * MS, "rate %s: link 1's queue reached %.1f ms",
			      high ? "high" : "low", wait_max / 1e6);
		ck_assert_msg(share0 > 0.72 && share0 < 0.84, "rate %s: link 1 carried %.3f",
			      high ? "high" : "low", share0);
	}
}
END_TEST

START_TEST(test_observe_ignores_old_and_future)
{
	struct sched s;
	unsigned o[SCHED_MAX_LINKS];

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1);
	sched_link_set_path(&s, 0, true, 10 * MS, 0);
	sched_pick(&s, 1000, 100 * MS, o, SCHED_MAX_LINKS);
	/* 30 ms more queue than predicted: free_at moves 30 ms out. */
	sched_link_observe(&s, 0, 100 * MS, 30 * MS, 150 * MS);
	ck_assert_uint_eq(sched_predict(&s, 0, 1000, 150 * MS), 190 * MS);
	/* The same error again, about a packet sent before the correction:
	 * already counted. */
	sched_link_observe(&s, 0, 120 * MS, 30 * MS, 160 * MS);
	ck_assert_uint_eq(sched_predict(&s, 0, 1000, 150 * MS), 190 * MS);
	/* A send time in the future is nonsense. */
	sched_link_observe(&s, 0, 500 * MS, 30 * MS, 170 * MS);
	ck_assert_uint_eq(sched_predict(&s, 0, 1000, 150 * MS), 190 * MS);
}
END_TEST

START_TEST(test_charge_and_predict)
{
	struct sched s;

	sched_init(&s, SCHED_AGGREGATE);
	add_live(&s, 0, 1);
	ck_assert_uint_eq(sched_predict(&s, 0, 1000, 0), UINT64_MAX);
	sched_link_set_path(&s, 0, true, 5 * MS, 1000000);	/* 1 MB/s: 1 ms per kB */
	ck_assert_uint_eq(sched_predict(&s, 0, 1000, 10 * MS), 16 * MS);
	ck_assert_int_eq(sched_link_charge(&s, 0, 2000, 10 * MS), 0);
	ck_assert_uint_eq(sched_predict(&s, 0, 1000, 10 * MS), 18 * MS);
	/* Drained by the time it is asked again. */
	ck_assert_uint_eq(sched_predict(&s, 0, 1000, 20 * MS), 26 * MS);
}
END_TEST

START_TEST(test_invalid_args)
{
	struct sched s;
	enum sched_algo a;

	sched_init(&s, SCHED_AGGREGATE);
	ck_assert_int_eq(sched_link_set_path(&s, 3, true, 1, 1), -ENOENT);
	ck_assert_int_eq(sched_link_set_path(&s, SCHED_MAX_LINKS, true, 1, 1), -ENOENT);
	ck_assert_int_eq(sched_link_observe(&s, 3, 1, 1, 2), -ENOENT);
	ck_assert_int_eq(sched_link_charge(&s, 99, 1, 2), -ENOENT);
	ck_assert_uint_eq(sched_predict(&s, 99, 1, 2), UINT64_MAX);
	ck_assert_int_eq(sched_algo_parse("arrival", &a), 0);
	ck_assert_int_eq(a, SCHED_ARRIVAL);
	ck_assert_int_eq(sched_algo_parse("dwrr", &a), 0);
	ck_assert_int_eq(a, SCHED_DWRR);
	ck_assert_int_eq(sched_algo_parse("fastest", &a), -EINVAL);
	ck_assert_int_eq(sched_algo_parse(NULL, &a), -EINVAL);
	ck_assert_str_eq(sched_algo_name(SCHED_DWRR), "dwrr");
	ck_assert_str_eq(sched_algo_name((enum sched_algo)9), "unknown");
}
END_TEST

static Suite *arrival_suite(void)
{
	Suite *s = suite_create("arrival");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hetero_fits_first_link);
	tcase_add_test(tc, test_hetero_overload_splits);
	tcase_add_test(tc, test_fifo_keeps_order);
	tcase_add_test(tc, test_weight_zero_standby);
	tcase_add_test(tc, test_equal_links_keep_shares);
	tcase_add_test(tc, test_no_estimates_is_dwrr);
	tcase_add_test(tc, test_reports_bound_unknown_queue);
	tcase_add_test(tc, test_reports_correct_rate);
	tcase_add_test(tc, test_observe_ignores_old_and_future);
	tcase_add_test(tc, test_charge_and_predict);
	tcase_add_test(tc, test_invalid_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(arrival_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
