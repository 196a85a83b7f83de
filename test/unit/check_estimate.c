/* Per-link estimators (src/estimate.c) against links whose truth the test
 * knows.
 *
 * A synthetic FIFO link: rate R bytes/s, propagation delay d, drop-tail
 * beyond a backlog of buf; a packet sent at t arrives at max(t, free) +
 * bytes / R + d (plus, where a test asks, a uniform jitter that keeps the
 * order), as braid-linkem models a link. The sender's clock is true
 * time plus an offset; the receiver's is true time plus another offset,
 * running fast or slow by a drift in ppm. Data packets go out evenly spaced
 * or as a Poisson stream at a given load, and a 56-byte probe every 100 ms,
 * as braid sends them. Arrivals feed est_rx; when a report is due, it is
 * made, checked through wire_put_feedback and wire_parse_feedback, fed to the
 * sender's est_tx, and handed to the test. Losses for the loss estimator come
 * from a seeded PRNG. Everything is deterministic. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "braid/wire.h"
#include "estimate.h"

#define MS 1000000ull
#define S  1000000000ull

/* Check records every ck_assert through a pipe; the loops below test
 * plainly and only call into Check on failure. */
#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

#define PROBE_BYTES 56		/* a PROBE: 24-byte body in a sealed datagram */
#define PROBE_EVERY (100 * MS)
#define STEP_NS     (50 * 1000ull)
#define RING        8192
#define NLINK       2

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double rng_unit(uint64_t *s)
{
	return ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

/* --- the synthetic link ---------------------------------------------------- */

struct pkt {
	uint64_t at;		/* true arrival time */
	uint32_t tx_us, bytes;
	bool data;
};

struct link {
	/* The model. */
	uint64_t rate_Bps, delay_ns, buf_ns;
	uint64_t jitter_ns;		/* uniform extra delay after the bottleneck, */
	uint64_t last_at;		/* ... that keeps the order (as linkem's) */
	uint64_t free_ns;
	struct pkt q[RING];
	unsigned head, len;
	/* The traffic. */
	uint64_t start_ns, stop_ns;	/* data flows in [start, stop) */
	double load;			/* of rate_Bps; 0: probes only */
	bool poisson;
	uint32_t bytes;
	uint64_t next_data, next_probe;
	/* The estimators, and the counts the core would keep. */
	struct est_rx rx;
	struct est_tx tx;
	uint32_t rx_pkts;
	uint64_t dropped;
};

struct sim {
	struct link l[NLINK];
	unsigned n;
	uint64_t tx_off_ns, rx_off_ns;
	int64_t drift_ppm;		/* the receiver's clock against true time */
	uint64_t seed;
	uint64_t now;			/* true time */
	unsigned reports;
	void (*on_report)(struct sim *s, const struct wire_feedback *fb, void *ctx);
	void *ctx;
};

static uint32_t sender_us(const struct sim *s, uint64_t t)
{
	return (uint32_t)((t + s->tx_off_ns) / 1000);
}

static uint64_t sender_ns(const struct sim *s, uint64_t t)
{
	return t + s->tx_off_ns;
}

static uint64_t receiver_ns(const struct sim *s, uint64_t t)
{
	return s->rx_off_ns + t + (uint64_t)((int64_t)t / 1000000 * s->drift_ppm);
}

static void link_send(struct sim *s, struct link *l, uint64_t t, uint32_t bytes, bool data)
{
	uint64_t start = l->free_ns > t ? l->free_ns : t;
	struct pkt *p;

	if (start - t > l->buf_ns || l->len == RING) {
		l->dropped++;
		return;
	}
	l->free_ns = start + bytes * S / l->rate_Bps;
	p = &l->q[(l->head + l->len++) % RING];
	p->at = l->free_ns + l->delay_ns;
	if (l->jitter_ns)
		p->at += (uint64_t)(rng_unit(&s->seed) * (double)l->jitter_ns);
	if (p->at < l->last_at)
		p->at = l->last_at;
	l->last_at = p->at;
	p->tx_us = sender_us(s, t);
	p->bytes = bytes;
	p->data = data;
}

static uint64_t data_gap(struct sim *s, struct link *l)
{
	double mean = (double)l->bytes * (double)S / ((double)l->rate_Bps * l->load);

	return l->poisson ? (uint64_t)(-log(rng_unit(&s->seed)) * mean) + 1 : (uint64_t)mean;
}

static void link_init(struct link *l, uint64_t rate_Bps, uint64_t delay_ns, double load)
{
	memset(l, 0, sizeof(*l));
	l->rate_Bps = rate_Bps;
	l->delay_ns = delay_ns;
	l->buf_ns = 200 * MS;
	l->load = load;
	l->bytes = 1000;
	l->stop_ns = UINT64_MAX;
	est_rx_init(&l->rx);
	est_tx_init(&l->tx);
}

static void sim_init(struct sim *s, unsigned n)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->seed = 12345;
	for (unsigned i = 0; i < n; i++)
		link_init(&s->l[i], 1250000, (20 + 40 * i) * MS, 0.3);
}

/* Makes a report, checks it on the wire and hands it to the sender. */
static void sim_report(struct sim *s)
{
	struct est_rx_link ls[NLINK];
	struct wire_feedback fb, back;
	uint8_t buf[WIRE_FEEDBACK_HDR_LEN + WIRE_FEEDBACK_MAX * WIRE_FEEDBACK_ENTRY_LEN];
	size_t len;

	for (unsigned i = 0; i < s->n; i++)
		ls[i] = (struct est_rx_link){ .rx = &s->l[i].rx, .link_id = (uint8_t)i,
					      .rx_pkts = s->l[i].rx_pkts };
	CHECK(est_rx_report(&fb, ls, s->n, receiver_ns(s, s->now)) == s->n, "report count");
	len = wire_put_feedback(buf, &fb);
	CHECK(wire_parse_feedback(buf, len, &back) == 0, "the report does not parse");
	CHECK(back.count == fb.count, "round trip");
	for (unsigned i = 0; i < fb.count; i++) {
		const struct wire_feedback_entry *a = &fb.e[i], *b = &back.e[i];

		CHECK(a->link_id == b->link_id && a->flags == b->flags && a->tx_us == b->tx_us &&
		      a->owd_rel_us == b->owd_rel_us && a->queue_us == b->queue_us &&
		      a->rate == b->rate && a->rx_pkts == b->rx_pkts && a->rx_lost == b->rx_lost,
		      "round trip, entry %u", i);
	}
	for (unsigned i = 0; i < fb.count; i++)
		est_tx_feedback(&s->l[fb.e[i].link_id].tx, &fb.e[i], sender_ns(s, s->now));
	s->reports++;
	if (s->on_report)
		s->on_report(s, &fb, s->ctx);
}

static void sim_run(struct sim *s, uint64_t until)
{
	for (; s->now < until; s->now += STEP_NS) {
		bool due = false;

		for (unsigned i = 0; i < s->n; i++) {
			struct link *l = &s->l[i];

			while (l->next_probe <= s->now) {
				link_send(s, l, l->next_probe, PROBE_BYTES, false);
				l->next_probe += PROBE_EVERY;
			}
			if (l->load > 0 && l->next_data < l->start_ns)
				l->next_data = l->start_ns;
			while (l->load > 0 && l->next_data <= s->now && l->next_data < l->stop_ns) {
				link_send(s, l, l->next_data, l->bytes, true);
				l->next_data += data_gap(s, l);
			}
			while (l->len && l->q[l->head].at <= s->now) {
				const struct pkt *p = &l->q[l->head];

				est_rx_sample(&l->rx, receiver_ns(s, p->at), p->tx_us, p->bytes);
				l->rx_pkts += p->data;
				l->head = (l->head + 1) % RING;
				l->len--;
			}
			due |= est_rx_due(&l->rx, receiver_ns(s, s->now));
		}
		if (due)
			sim_report(s);
	}
}

static const struct wire_feedback_entry *entry_for(const struct wire_feedback *fb, unsigned id)
{
	for (unsigned i = 0; i < fb->count; i++)
		if (fb->e[i].link_id == id)
			return &fb->e[i];
	return NULL;
}

/* --- relative delay ----------------------------------------------------------- */

struct owd_ctx {
	uint64_t from;		/* check reports after this (true time) */
	int64_t want_us;	/* link 1's owd_rel, link 0 the base */
	int64_t tol_us;
	unsigned checked;
	bool no_queued;
	int64_t worst_us;
};

static void check_owd(struct sim *s, const struct wire_feedback *fb, void *ctx)
{
	struct owd_ctx *c = ctx;
	const struct wire_feedback_entry *a = entry_for(fb, 0), *b = entry_for(fb, 1);
	int64_t rel;

	for (unsigned i = 0; c->no_queued && i < fb->count; i++)
		CHECK(!(fb->e[i].flags & WIRE_FB_QUEUED), "QUEUED on an idle link at %.3f s",
		      (double)s->now / S);
	if (s->now < c->from || !a || !b || !(a->flags & b->flags & WIRE_FB_DELAY))
		return;
	rel = (int64_t)b->owd_rel_us - (int64_t)a->owd_rel_us;
	CHECK(a->owd_rel_us == 0, "the faster link is not the base: %u us", a->owd_rel_us);
	CHECK(rel >= c->want_us - c->tol_us && rel <= c->want_us + c->tol_us,
	      "owd_rel %" PRId64 " us at %.3f s, want %" PRId64 " +- %" PRId64, rel,
	      (double)s->now / S, c->want_us, c->tol_us);
	if (llabs(rel - c->want_us) > c->worst_us)
		c->worst_us = llabs(rel - c->want_us);
	c->checked++;
}

/* Offsets between the clocks: none, transits that straddle the signed
 * 32-bit wrap (link 0's just below 2^31 us, link 1's just above), a
 * receiver clock behind the sender's, and an arbitrary one. Each with a
 * sender clock that wraps its 32-bit microseconds a second into the run. */
static const uint64_t offsets_us[] = {
	0,
	(1ull << 31) - 40000,
	(1ull << 32) - 5000000,
	0x9abcdef1ull,
};

#define N_OFFSETS (sizeof(offsets_us) / sizeof(offsets_us[0]))

/* Each offset twice: data on both links, and the faster link carrying
 * only probes (its minimum is still the base). */
START_TEST(owd_rel_with_clock_offsets)
{
	static struct sim s;
	struct owd_ctx c = { .from = 1 * S, .want_us = 40000, .tol_us = 50, .no_queued = true };

	sim_init(&s, 2);
	s.tx_off_ns = ((1ull << 32) - 1000000) * 1000;
	s.rx_off_ns = s.tx_off_ns + offsets_us[_i % N_OFFSETS] * 1000;
	if (_i >= (int)N_OFFSETS)
		s.l[0].load = 0;
	s.on_report = check_owd;
	s.ctx = &c;
	sim_run(&s, 3 * S);
	ck_assert_uint_gt(c.checked, _i >= (int)N_OFFSETS ? 10 : 100);
}
END_TEST

/* 100 ppm of drift between the clocks, either way, for 60 s: the minima
 * age differently on the two links (link 1 starts 4 s later, so its
 * window's phase differs), and the relative delay stays within 1 ms. */
START_TEST(owd_rel_under_drift)
{
	static struct sim s;
	struct owd_ctx c = { .from = 5 * S, .want_us = 40000, .tol_us = 1000, .no_queued = true };

	sim_init(&s, 2);
	s.drift_ppm = _i ? -100 : 100;
	s.rx_off_ns = 0x12345678ull * 1000;
	s.l[1].start_ns = 4 * S;
	s.l[1].next_probe = 4 * S;
	s.on_report = check_owd;
	s.ctx = &c;
	sim_run(&s, 60 * S);
	ck_assert_uint_gt(c.checked, 1000);
	fprintf(stderr, "drift %+" PRId64 " ppm: worst owd_rel error %" PRId64 " us\n",
		s.drift_ppm, c.worst_us);
}
END_TEST

/* A change of route: link 1's delay falls from 50 to 30 ms, which shows at
 * once, then rises to 70 ms, which shows once the window lets the old
 * minimum go (within 1.5 windows). */
START_TEST(owd_rel_follows_route_change)
{
	static struct sim s;

	sim_init(&s, 2);
	s.l[1].delay_ns = 50 * MS;
	sim_run(&s, 3 * S);
	ck_assert_uint_eq(est_tx_owd_rel_ns(&s.l[1].tx) / 1000, 30000);
	s.l[1].delay_ns = 30 * MS;
	sim_run(&s, 3 * S + 200 * MS);
	ck_assert_uint_eq(est_tx_owd_rel_ns(&s.l[1].tx) / 1000, 10000);
	s.l[1].delay_ns = 70 * MS;
	sim_run(&s, 6 * S);
	ck_assert_uint_eq(est_tx_owd_rel_ns(&s.l[1].tx) / 1000, 10000);
	/* Meanwhile the rise shows as a standing queue of 40 ms, plus a data
	 * packet's serialization (800 us) over a probe's, which the minimum
	 * is made of. */
	ck_assert_uint_ge(est_tx_queue_ns(&s.l[1].tx), 40 * MS);
	ck_assert_uint_le(est_tx_queue_ns(&s.l[1].tx), 40 * MS + 800000);
	sim_run(&s, 6 * S + EST_MIN_WIN_NS * 3 / 2);
	ck_assert_uint_eq(est_tx_owd_rel_ns(&s.l[1].tx) / 1000, 50000);
}
END_TEST

/* --- capacity ----------------------------------------------------------------- */

struct rate_ctx {
	uint64_t from;
	double truth;			/* R, or the offered load */
	unsigned reports, with_rate, queued;
	unsigned checked, near;		/* rates compared with truth; within 5% */
	bool expect_queued;
	double worst;			/* largest |rate / truth - 1| checked */
	uint64_t rate_Bps;		/* the link's R: no QUEUED rate above it */
	uint32_t cap_before_queued;	/* est_tx's estimate before the first QUEUED */
	bool seen_queued;
};

static void check_rate(struct sim *s, const struct wire_feedback *fb, void *ctx)
{
	struct rate_ctx *c = ctx;
	const struct wire_feedback_entry *e = entry_for(fb, 0);
	double err;

	if (!c->seen_queued && !(e->flags & WIRE_FB_QUEUED))
		c->cap_before_queued |= est_tx_rate_Bps(&s->l[0].tx);
	if (e->flags & WIRE_FB_QUEUED) {
		c->seen_queued = true;
		/* Whatever the load, a capacity sample is not above the
		 * capacity (it may be below, where the queue drained). */
		CHECK(e->rate <= c->rate_Bps * 1.001, "QUEUED rate %u, link %" PRIu64 " at %.3f s",
		      e->rate, c->rate_Bps, (double)s->now / S);
	}
	CHECK(est_tx_rate_Bps(&s->l[0].tx) <= c->rate_Bps, "capacity over-estimated: %u",
	      est_tx_rate_Bps(&s->l[0].tx));
	if (s->now < c->from)
		return;
	c->reports++;
	c->queued += !!(e->flags & WIRE_FB_QUEUED);
	if (!e->rate)
		return;
	c->with_rate++;
	/* A rate is a lower bound of the capacity, queued or not: the
	 * bottleneck spaces departures by at least each one's serialization. */
	CHECK(e->rate <= c->rate_Bps * 1.001, "rate %u above the link's %" PRIu64 " at %.3f s",
	      e->rate, c->rate_Bps, (double)s->now / S);
	if (c->expect_queued != !!(e->flags & WIRE_FB_QUEUED))
		return;
	err = fabs(e->rate / c->truth - 1);
	c->near += err <= 0.05;
	c->checked++;
	if (err > c->worst)
		c->worst = err;
}

/* Offered 120% of the link: from the first interval in which every packet
 * waited, QUEUED and the link's rate within 5%; the sender's capacity is
 * unknown until then and 7/8 of R after. */
START_TEST(capacity_when_backlogged)
{
	static struct sim s;
	struct rate_ctx c = { .from = 200 * MS, .truth = 1000000, .expect_queued = true,
			      .rate_Bps = 1000000 };
	uint32_t cap;

	sim_init(&s, 1);
	link_init(&s.l[0], 1000000, 20 * MS, 1.2);
	s.rx_off_ns = 0xfedcba98ull * 1000;
	s.on_report = check_rate;
	s.ctx = &c;
	ck_assert_uint_eq(est_tx_rate_Bps(&s.l[0].tx), 0);
	sim_run(&s, 3 * S);
	ck_assert_uint_eq(c.cap_before_queued, 0);
	ck_assert(c.seen_queued);
	ck_assert_uint_ge(c.queued * 10, c.reports * 9);
	ck_assert_double_le(c.worst, 0.05);
	ck_assert_uint_gt(s.l[0].dropped, 0);
	cap = est_tx_rate_Bps(&s.l[0].tx);
	ck_assert_uint_ge(cap, 1000000 * 7 / 8 * 0.97);
	ck_assert_uint_le(cap, 1000000 * 7 / 8 * 1.03);
	fprintf(stderr, "backlogged: %u/%u reports QUEUED, worst rate error %.2f%%, capacity %u\n",
		c.queued, c.reports, 100 * c.worst, cap);
}
END_TEST

/* Offered 50% and 90%, evenly spaced: never QUEUED, the rate is the load
 * within 5% (nine in ten reports; the rest within 10%: an interval that
 * opens with a probe a little before a data packet measures a data packet
 * more than the span carried), and the sender knows no capacity. */
START_TEST(no_capacity_below_rate)
{
	static struct sim s;
	const double load = _i ? 0.9 : 0.5;
	struct rate_ctx c = { .from = 200 * MS, .truth = 1000000 * load, .expect_queued = false,
			      .rate_Bps = 1000000 };

	sim_init(&s, 1);
	link_init(&s.l[0], 1000000, 20 * MS, load);
	s.on_report = check_rate;
	s.ctx = &c;
	sim_run(&s, 5 * S);
	ck_assert_uint_eq(c.queued, 0);
	ck_assert_uint_ge(c.with_rate * 10, c.reports * 9);
	ck_assert_uint_ge(c.near * 10, c.checked * 9);
	ck_assert_double_le(c.worst, 0.10);
	ck_assert_uint_eq(est_tx_rate_Bps(&s.l[0].tx), 0);
}
END_TEST

/* Poisson arrivals at 70%: queues come and go. An interval may well be
 * busy throughout, and then is QUEUED, but never with a rate above the
 * link's; the sender's capacity never exceeds it. */
START_TEST(poisson_never_overestimates)
{
	static struct sim s;
	struct rate_ctx c = { .from = 0, .truth = 1000000, .expect_queued = true,
			      .rate_Bps = 1000000 };

	sim_init(&s, 1);
	link_init(&s.l[0], 1000000, 20 * MS, 0.7);
	s.l[0].poisson = true;
	s.seed = 99;
	s.on_report = check_rate;
	s.ctx = &c;
	sim_run(&s, 20 * S);
	ck_assert_uint_gt(c.with_rate, 300);
	fprintf(stderr, "poisson 70%%: %u of %u reports QUEUED, capacity %u\n", c.queued,
		c.reports, est_tx_rate_Bps(&s.l[0].tx));
}
END_TEST

/* 0-5 ms of jitter after the bottleneck at 30% load: it bunches arrivals
 * and scatters transits, but makes neither a rate above the link's nor a
 * capacity (the checks in check_rate), and QUEUED stays rare. */
START_TEST(jitter_makes_no_capacity)
{
	static struct sim s;
	struct rate_ctx c = { .from = 500 * MS, .truth = 1000000 * 0.3, .expect_queued = false,
			      .rate_Bps = 1000000 };

	sim_init(&s, 1);
	link_init(&s.l[0], 1000000, 20 * MS, 0.3);
	s.l[0].jitter_ns = 5 * MS;
	s.seed = 4242;
	s.on_report = check_rate;
	s.ctx = &c;
	sim_run(&s, 20 * S);
	fprintf(stderr, "jitter 5 ms: %u of %u reports QUEUED, %u of %u rates within 5%% of the "
		"load, capacity %u\n", c.queued, c.reports, c.near, c.with_rate,
		est_tx_rate_Bps(&s.l[0].tx));
	ck_assert_uint_le(c.queued * 100, c.reports);
	/* Rates span 32 jitters, so come only every few reports. */
	ck_assert_uint_ge(c.with_rate * 10, c.reports);
}
END_TEST

/* A link carrying one packet per 10 ms, fewer than a rate needs per
 * report: its interval runs on across reports until it has enough. */
START_TEST(rate_on_a_quiet_link)
{
	static struct sim s;
	struct rate_ctx c = { .from = 500 * MS, .truth = 100000, .expect_queued = false,
			      .rate_Bps = 1000000 };

	sim_init(&s, 2);
	link_init(&s.l[0], 1000000, 20 * MS, 0.1);
	s.l[1].load = 0.5;	/* reports every 15 ms, from this link */
	s.on_report = check_rate;
	s.ctx = &c;
	sim_run(&s, 5 * S);
	ck_assert_uint_gt(c.with_rate * 5, c.reports);
	ck_assert_uint_ge(c.near * 10, c.checked * 8);
	ck_assert_double_le(c.worst, 0.10);
}
END_TEST

/* Rates not QUEUED only raise an estimate that a QUEUED one made. */
START_TEST(capacity_lower_bounds)
{
	struct est_tx tx;
	struct wire_feedback_entry e = { .flags = WIRE_FB_DELAY, .rate = 1200000 };

	est_tx_init(&tx);
	est_tx_feedback(&tx, &e, 1 * S);
	ck_assert_uint_eq(est_tx_rate_Bps(&tx), 0);
	e.flags = WIRE_FB_DELAY | WIRE_FB_QUEUED;
	e.rate = 1000000;
	est_tx_feedback(&tx, &e, 2 * S);
	ck_assert_uint_eq(est_tx_rate_Bps(&tx), 875000);
	/* Lower than the estimate: no change; higher: raises it. */
	e.flags = WIRE_FB_DELAY;
	e.rate = 900000;
	est_tx_feedback(&tx, &e, 3 * S);
	ck_assert_uint_eq(est_tx_rate_Bps(&tx), 875000);
	e.rate = 1600000;
	est_tx_feedback(&tx, &e, 4 * S);
	ck_assert_uint_eq(est_tx_rate_Bps(&tx), 1400000);
	/* A lower QUEUED rate (the capacity fell) takes over once the
	 * window has let the maximum go. */
	e.flags = WIRE_FB_DELAY | WIRE_FB_QUEUED;
	e.rate = 500000;
	for (uint64_t t = 5 * S; t <= 20 * S; t += 15 * MS)
		est_tx_feedback(&tx, &e, t);
	ck_assert_uint_eq(est_tx_rate_Bps(&tx), 437500);
	/* No rate: no change. */
	e.rate = 0;
	e.flags = WIRE_FB_DELAY;
	est_tx_feedback(&tx, &e, 21 * S);
	ck_assert_uint_eq(est_tx_rate_Bps(&tx), 437500);
}
END_TEST

/* --- reports ------------------------------------------------------------------ */

START_TEST(report_due)
{
	struct est_rx rx[3];
	struct est_rx_link ls[3];
	struct wire_feedback fb;

	for (unsigned i = 0; i < 3; i++) {
		est_rx_init(&rx[i]);
		ls[i] = (struct est_rx_link){ .rx = &rx[i], .link_id = (uint8_t)(2 * i),
					      .rx_pkts = 10 * i, .rx_lost = i };
	}
	/* Nothing came: never due, and a report says only the counts. */
	ck_assert(!est_rx_due(&rx[0], 0));
	ck_assert(!est_rx_due(&rx[0], 100 * S));
	ck_assert_uint_eq(est_rx_report(&fb, ls, 3, 100 * S), 3);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(fb.e[i].link_id, 2 * i);
		ck_assert_uint_eq(fb.e[i].flags, 0);
		ck_assert_uint_eq(fb.e[i].tx_us | fb.e[i].owd_rel_us | fb.e[i].queue_us, 0);
		ck_assert_uint_eq(fb.e[i].rate, 0);
		ck_assert_uint_eq(fb.e[i].rx_pkts, 10 * i);
		ck_assert_uint_eq(fb.e[i].rx_lost, i);
	}
	/* One packet: due EST_REPORT_NS after it, and not after the report. */
	est_rx_sample(&rx[1], 200 * S, 5000, 100);
	ck_assert(!est_rx_due(&rx[1], 200 * S + EST_REPORT_NS - 1));
	ck_assert(est_rx_due(&rx[1], 200 * S + EST_REPORT_NS));
	ck_assert(!est_rx_due(&rx[0], 200 * S + EST_REPORT_NS));
	ck_assert_uint_eq(est_rx_report(&fb, ls, 3, 200 * S + EST_REPORT_NS), 3);
	ck_assert_uint_eq(fb.e[0].flags, 0);
	ck_assert_uint_eq(fb.e[1].flags, WIRE_FB_DELAY);
	ck_assert_uint_eq(fb.e[1].tx_us, 5000);
	ck_assert_uint_eq(fb.e[1].owd_rel_us, 0);
	ck_assert_uint_eq(fb.e[1].queue_us, 0);
	ck_assert_uint_eq(fb.e[1].rate, 0);
	ck_assert(!est_rx_due(&rx[1], 300 * S));
	/* A minimum older than the window is no base. */
	est_rx_sample(&rx[2], 200 * S + EST_MIN_WIN_NS + 2 * S, 1000, 100);
	ck_assert_uint_eq(est_rx_report(&fb, ls, 3, 200 * S + EST_MIN_WIN_NS + 2 * S), 3);
	ck_assert_uint_eq(fb.e[2].flags, WIRE_FB_DELAY);
	ck_assert_uint_eq(fb.e[2].owd_rel_us, 0);
}
END_TEST

/* Ids out of range or listed twice are skipped; at most WIRE_FEEDBACK_MAX
 * entries; no entry at all is a count of 0. */
START_TEST(report_bad_links)
{
	struct est_rx rx[WIRE_FEEDBACK_MAX + 4];
	struct est_rx_link ls[WIRE_FEEDBACK_MAX + 4];
	struct wire_feedback fb;
	uint8_t buf[WIRE_FEEDBACK_HDR_LEN + WIRE_FEEDBACK_MAX * WIRE_FEEDBACK_ENTRY_LEN];
	struct wire_feedback back;

	for (unsigned i = 0; i < WIRE_FEEDBACK_MAX + 4; i++) {
		est_rx_init(&rx[i]);
		est_rx_sample(&rx[i], S + i * MS, 0, 1000);
		ls[i] = (struct est_rx_link){ .rx = &rx[i], .link_id = (uint8_t)i };
	}
	ls[0].link_id = WIRE_FEEDBACK_MAX;
	ck_assert_uint_eq(est_rx_report(&fb, ls, 1, 2 * S), 0);
	ls[0].link_id = 255;
	ls[2].link_id = 1;
	ck_assert_uint_eq(est_rx_report(&fb, ls, WIRE_FEEDBACK_MAX + 4, 2 * S), WIRE_FEEDBACK_MAX - 2);
	ck_assert_uint_eq(fb.e[0].link_id, 1);
	ck_assert_uint_eq(fb.e[1].link_id, 3);
	ck_assert_uint_eq(wire_parse_feedback(buf, wire_put_feedback(buf, &fb), &back), 0);
	/* The links' delays: link i's transit is i ms above link 0's. */
	ck_assert_uint_eq(fb.e[1].owd_rel_us, 2000);
	for (unsigned i = 0; i < WIRE_FEEDBACK_MAX + 4; i++)
		ls[i].link_id = (uint8_t)i;
	for (unsigned i = 0; i < WIRE_FEEDBACK_MAX + 4; i++)
		est_rx_sample(&rx[i], 3 * S + i * MS, 0, 1000);
	ck_assert_uint_eq(est_rx_report(&fb, ls, WIRE_FEEDBACK_MAX + 4, 3 * S), WIRE_FEEDBACK_MAX);
	ck_assert_uint_eq(wire_parse_feedback(buf, wire_put_feedback(buf, &fb), &back), 0);
	ck_assert_uint_eq(est_rx_report(&fb, ls, 0, 3 * S), 0);
}
END_TEST

/* The queue: the interval's smallest transit above the minimum, and the
 * newest tx_us by send time (not arrival). */
START_TEST(report_queue_and_tx_us)
{
	struct est_rx rx;
	struct est_rx_link l = { .rx = &rx, .link_id = 0 };
	struct wire_feedback fb;

	est_rx_init(&rx);
	est_rx_sample(&rx, 10 * S, 0xfffffff0u, 100);		/* transit 10 s + 16 us */
	est_rx_report(&fb, &l, 1, 10 * S);
	ck_assert_uint_eq(fb.e[0].queue_us, 0);
	ck_assert_uint_eq(fb.e[0].tx_us, 0xfffffff0u);
	/* Sent 1 ms and 2 ms later (across the wrap), each 5 ms slower. */
	est_rx_sample(&rx, 10 * S + 7 * MS, 0xfffffff0u + 2000, 100);
	est_rx_sample(&rx, 10 * S + 7 * MS, 0xfffffff0u + 1000, 100);
	est_rx_sample(&rx, 10 * S + 6 * MS, 0xfffffff0u + 1000, 100);	/* out of order: ignored time */
	est_rx_report(&fb, &l, 1, 10 * S + 20 * MS);
	ck_assert_uint_eq(fb.e[0].tx_us, 0xfffffff0u + 2000);
	ck_assert_uint_eq(fb.e[0].queue_us, 5000);
	ck_assert_uint_eq(fb.e[0].flags, WIRE_FB_DELAY);
}
END_TEST

/* --- the sender's delay figures ---------------------------------------------- */

START_TEST(tx_delay_staleness_and_order)
{
	struct est_tx tx;
	struct wire_feedback_entry e = {
		.flags = WIRE_FB_DELAY, .tx_us = 0xffffff00u, .owd_rel_us = 4000, .queue_us = 300,
	};

	est_tx_init(&tx);
	ck_assert(!est_tx_delay_valid(&tx, 0));
	ck_assert(!est_tx_delay_valid(&tx, 10 * S));
	ck_assert_uint_eq(est_tx_owd_rel_ns(&tx), 0);
	est_tx_feedback(&tx, &e, 10 * S);
	ck_assert(est_tx_delay_valid(&tx, 10 * S));
	ck_assert(est_tx_delay_valid(&tx, 10 * S + EST_STALE_NS));
	ck_assert(!est_tx_delay_valid(&tx, 10 * S + EST_STALE_NS + 1));
	ck_assert_uint_eq(est_tx_owd_rel_ns(&tx), 4000000);
	ck_assert_uint_eq(est_tx_queue_ns(&tx), 300000);
	ck_assert_uint_eq(est_tx_delay_tx_us(&tx), 0xffffff00u);
	/* A newer one (across the wrap) replaces it; an older one does not. */
	e.tx_us = 0x100;
	e.queue_us = 700;
	est_tx_feedback(&tx, &e, 12 * S);
	ck_assert_uint_eq(est_tx_queue_ns(&tx), 700000);
	ck_assert(est_tx_delay_valid(&tx, 12 * S));
	e.tx_us = 0xffffff80u;
	e.queue_us = 1;
	est_tx_feedback(&tx, &e, 12 * S + 1);
	ck_assert_uint_eq(est_tx_queue_ns(&tx), 700000);
	ck_assert_uint_eq(est_tx_delay_tx_us(&tx), 0x100);
	/* Without DELAY the figures stay, and go stale. */
	e = (struct wire_feedback_entry){ .rx_pkts = 5 };
	est_tx_feedback(&tx, &e, 12 * S + 2 * EST_STALE_NS);
	ck_assert_uint_eq(est_tx_queue_ns(&tx), 700000);
	ck_assert(!est_tx_delay_valid(&tx, 12 * S + 2 * EST_STALE_NS));
}
END_TEST

/* --- loss -------------------------------------------------------------------- */

/* 1000 packets a second, a report every 15 ms, each packet lost with
 * probability p(t); the counts start near the 32-bit wrap. fn feeds them in
 * one of the three ways the estimator is used. Returns the worst relative
 * error at the checks from `from` on, every half second. */
enum loss_path { VIA_LOSS, VIA_TX, VIA_RX };

struct loss_run {
	double p0, p1;		/* before and after the step at t_step */
	double t_step, from, until;
	uint64_t seed;
};

static double run_loss(const struct loss_run *r, enum loss_path path)
{
	struct est_loss l;
	struct est_tx tx;
	struct est_rx rx;
	struct est_rx_link link = { .rx = &rx };
	struct wire_feedback fb;
	uint32_t pkts = UINT32_MAX - 50000, lost = UINT32_MAX - 700;
	uint64_t seed = r->seed;
	double worst = 0, next_check = r->from;

	memset(&l, 0, sizeof(l));
	est_tx_init(&tx);
	est_rx_init(&rx);
	for (unsigned k = 0; k * 0.015 < r->until; k++) {
		double t = k * 0.015, p = t < r->t_step ? r->p0 : r->p1, est;
		uint32_t ppm;

		for (unsigned i = 0; i < 15; i++) {
			if (rng_unit(&seed) < p)
				lost++;
			else
				pkts++;
		}
		switch (path) {
		case VIA_LOSS:
			est_loss_update(&l, pkts, lost);
			ppm = est_loss_ppm(&l);
			break;
		case VIA_TX: {
			struct wire_feedback_entry e = { .rx_pkts = pkts, .rx_lost = lost };

			est_tx_feedback(&tx, &e, (uint64_t)(t * S));
			ppm = est_tx_loss_ppm(&tx);
			break;
		}
		default:
			link.rx_pkts = pkts;
			link.rx_lost = lost;
			est_rx_report(&fb, &link, 1, (uint64_t)(t * S));
			ppm = est_rx_loss_ppm(&rx);
			break;
		}
		if (t >= next_check) {
			double truth = t < r->t_step ? r->p0 : r->p1;

			est = ppm / 1e6;
			if (fabs(est / truth - 1) > worst)
				worst = fabs(est / truth - 1);
			next_check += 0.5;
		}
	}
	return worst;
}

/* 1%, 5% and 20% random loss: within 30% of the truth from 10 s on (and
 * the average of all so far before the horizon fills). */
START_TEST(loss_accuracy)
{
	static const double rates[] = { 0.01, 0.05, 0.20 };
	const double p = rates[_i % 3];
	const enum loss_path path = (enum loss_path)(_i / 3);
	const struct loss_run r = { .p0 = p, .p1 = p, .t_step = 1e9, .from = 10, .until = 60,
				    .seed = 1000 + (uint64_t)_i };
	double worst = run_loss(&r, path);

	fprintf(stderr, "loss %.0f%% (path %d): worst error %.1f%%\n", 100 * p, path, 100 * worst);
	ck_assert_double_le(worst, 0.30);
}
END_TEST

/* A step from 1% to 20% at 30 s: within 30% of 20% within 6 s (about 6000
 * packets; the time constant is EST_LOSS_HORIZON packets). */
START_TEST(loss_follows_step)
{
	const struct loss_run before = { .p0 = 0.01, .p1 = 0.20, .t_step = 30, .from = 10,
					 .until = 29.9, .seed = 77 };
	const struct loss_run after = { .p0 = 0.01, .p1 = 0.20, .t_step = 30, .from = 36,
					.until = 60, .seed = 77 };
	const struct loss_run early = { .p0 = 0.01, .p1 = 0.20, .t_step = 30, .from = 31,
					.until = 32, .seed = 77 };

	ck_assert_double_le(run_loss(&before, VIA_LOSS), 0.30);
	ck_assert_double_le(run_loss(&after, VIA_LOSS), 0.30);
	/* ...and not at once: a second after the step it is still well short. */
	ck_assert_double_ge(run_loss(&early, VIA_LOSS), 0.30);
}
END_TEST

/* Counts that go back (an older report arriving late) change nothing;
 * counts that do not move change nothing. */
START_TEST(loss_ignores_old_counts)
{
	struct est_loss l;

	memset(&l, 0, sizeof(l));
	est_loss_update(&l, 1000, 10);
	ck_assert_uint_eq(est_loss_ppm(&l), 0);
	est_loss_update(&l, 1990, 20);
	ck_assert_uint_eq(est_loss_ppm(&l), 10000);
	est_loss_update(&l, 1500, 15);
	ck_assert_uint_eq(est_loss_ppm(&l), 10000);
	est_loss_update(&l, 1990, 20);
	ck_assert_uint_eq(est_loss_ppm(&l), 10000);
	/* Then 1000 more with none lost: the average of all 2000. */
	est_loss_update(&l, 2990, 20);
	ck_assert_uint_eq(est_loss_ppm(&l), 5000);
}
END_TEST

static Suite *estimate_suite(void)
{
	Suite *s = suite_create("estimate");
	TCase *tc;

	tc = tcase_create("delay");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, owd_rel_with_clock_offsets, 0, 2 * N_OFFSETS);
	tcase_add_loop_test(tc, owd_rel_under_drift, 0, 2);
	tcase_add_test(tc, owd_rel_follows_route_change);
	suite_add_tcase(s, tc);

	tc = tcase_create("capacity");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, capacity_when_backlogged);
	tcase_add_loop_test(tc, no_capacity_below_rate, 0, 2);
	tcase_add_test(tc, poisson_never_overestimates);
	tcase_add_test(tc, jitter_makes_no_capacity);
	tcase_add_test(tc, rate_on_a_quiet_link);
	tcase_add_test(tc, capacity_lower_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("report");
	tcase_add_test(tc, report_due);
	tcase_add_test(tc, report_bad_links);
	tcase_add_test(tc, report_queue_and_tx_us);
	tcase_add_test(tc, tx_delay_staleness_and_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("loss");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, loss_accuracy, 0, 9);
	tcase_add_test(tc, loss_follows_step);
	tcase_add_test(tc, loss_ignores_old_counts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(estimate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
