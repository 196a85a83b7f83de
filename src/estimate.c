/* Per-link estimates: the receiver's measurements, the FEEDBACK they make,
 * and the sender's view; see estimate.h. */
#include <string.h>

#include "config.h"
#include "estimate.h"

/* One FEEDBACK has room for every link the core can have. */
_Static_assert(WIRE_FEEDBACK_MAX == BRAID_MAX_LINKS, "a FEEDBACK entry for each link id");

#define US_PER_S 1000000ull

static uint32_t clamp_u32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* A delay that should not be negative, as it goes on the wire. */
static uint32_t delay_u32(int64_t v)
{
	return v < 0 ? 0 : clamp_u32((uint64_t)v);
}

/* Transits are unwrapped per link, from each link's first sample, so two
 * links' values may differ by a multiple of 2^32 even when their true
 * transits are microseconds apart (an offset near the wrap). Between links,
 * and for tx_us, compare modulo 2^32: every transit the links see is within
 * 2^31 us (35 minutes) of every other. */
static int32_t diff_mod32(int64_t a, int64_t b)
{
	return (int32_t)(uint32_t)((uint64_t)a - (uint64_t)b);
}

/* --- windowed minimum / maximum --------------------------------------------
 *
 * Kathleen Nichols' filter: the best sample of the last window, and the best
 * of what came after it (two fallbacks, the second younger), so that when the
 * best ages out the next best of the window is at hand without keeping every
 * sample. A fallback is renewed once it has been the best for a quarter (the
 * second) or a half (the third) of a window, which spreads the three over the
 * window: the answer is never much older than one window, however steadily
 * the samples rise.
 */

static bool win_beats(bool max, int64_t a, int64_t b)
{
	return max ? a >= b : a <= b;
}

static void win_update(struct est_win *w, bool max, uint64_t win, uint64_t t, int64_t v)
{
	const struct est_win_sample x = { .v = v, .t = t };
	uint64_t age;

	/* A new best, or every kept sample out of the window: start over. */
	if (!w->have || win_beats(max, v, w->s[0].v) || t - w->s[2].t > win) {
		w->s[0] = w->s[1] = w->s[2] = x;
		w->have = true;
		return;
	}
	if (win_beats(max, v, w->s[1].v))
		w->s[1] = w->s[2] = x;
	else if (win_beats(max, v, w->s[2].v))
		w->s[2] = x;

	age = t - w->s[0].t;
	if (age > win) {
		/* The best has aged out: the fallbacks move up. The first of
		 * them may be out too if samples were sparse. */
		w->s[0] = w->s[1];
		w->s[1] = w->s[2];
		w->s[2] = x;
		if (t - w->s[0].t > win) {
			w->s[0] = w->s[1];
			w->s[1] = w->s[2];
		}
	} else if (w->s[1].t == w->s[0].t && age > win / 4) {
		w->s[1] = w->s[2] = x;
	} else if (w->s[2].t == w->s[1].t && age > win / 2) {
		w->s[2] = x;
	}
}

/* --- loss ------------------------------------------------------------------- */

#define PPB 1000000000ull

/* How many packets the average spans. Its standard error is about
 * sqrt(p (1 - p) / (2 * horizon)): with EST_LOSS_HORIZON packets, 5% of p at
 * 5% loss but 11% at 1%, because 4096 packets hold only 40 losses then. So
 * where loss is rare the horizon grows to hold EST_LOSS_EVENTS losses (7%
 * of p). A rise is followed almost as fast as with the short horizon: the
 * estimate climbing shortens it (from 1% to 20%, about 500 packets more). */
static uint32_t loss_horizon(const struct est_loss *l)
{
	uint64_t h = l->ppb ? EST_LOSS_EVENTS * PPB / l->ppb : EST_LOSS_HORIZON_MAX;

	if (h < EST_LOSS_HORIZON)
		return EST_LOSS_HORIZON;
	return h > EST_LOSS_HORIZON_MAX ? EST_LOSS_HORIZON_MAX : (uint32_t)h;
}

void est_loss_update(struct est_loss *l, uint32_t rx_pkts, uint32_t rx_lost)
{
	uint32_t d_pkts = rx_pkts - l->pkts, d_lost = rx_lost - l->lost;
	uint64_t n, sample;
	uint32_t horizon;
	int64_t step;

	if (!l->have) {
		/* What came before the first report has no start to count from. */
		l->have = true;
		l->pkts = rx_pkts;
		l->lost = rx_lost;
		return;
	}
	/* Counts only grow; one that went back belongs to an older report
	 * that arrived late. */
	if (d_pkts > INT32_MAX || d_lost > INT32_MAX)
		return;
	l->pkts = rx_pkts;
	l->lost = rx_lost;
	n = (uint64_t)d_pkts + d_lost;
	if (n == 0)
		return;
	sample = (uint64_t)d_lost * PPB / n;
	/* est += (sample - est) * n / seen: the exact average of everything
	 * while fewer than the horizon have come, then an average whose
	 * weights fall off over about the last `horizon` packets, however the
	 * packets are split into reports. */
	horizon = loss_horizon(l);
	l->seen = n >= horizon || l->seen + n >= horizon ? horizon : l->seen + (uint32_t)n;
	if (n >= l->seen) {
		l->ppb = sample;
		return;
	}
	step = ((int64_t)sample - (int64_t)l->ppb) * (int64_t)n / (int64_t)l->seen;
	l->ppb = (uint64_t)((int64_t)l->ppb + step);
}

uint32_t est_loss_ppm(const struct est_loss *l)
{
	return (uint32_t)((l->ppb + 500) / 1000);
}

/* --- receiver ------------------------------------------------------------- */

void est_rx_init(struct est_rx *e)
{
	memset(e, 0, sizeof(*e));
}

/* The transit of a packet, unwrapped, and the jitter it makes. */
static void rx_transit(struct est_rx *e, uint64_t now_ns, uint32_t tx_us)
{
	uint32_t transit = (uint32_t)(now_ns / 1000) - tx_us;

	if (!e->have) {
		e->have = true;
		e->t_unw = (int32_t)transit;
	} else {
		int32_t d = (int32_t)(transit - e->t_last);
		uint64_t ad = d < 0 ? (uint64_t)-(int64_t)d : (uint64_t)d;

		e->t_unw += d;
		/* RFC 3550 jitter, J += (|D| - J) / 16, kept times 16. */
		e->jit_q4 += ad - ((e->jit_q4 + 8) >> 4);
	}
	e->t_last = transit;
	if (now_ns > e->last_ns)
		e->last_ns = now_ns;
}

/* The packet just taken, into the delay figures since the last report. */
static void rx_delay_add(struct est_rx *e, uint32_t tx_us)
{
	if (e->dv_pkts++ == 0) {
		e->dv_first_ns = e->last_ns;
		e->dv_tmin = e->t_unw;
		e->dv_tx_us = tx_us;
		return;
	}
	if (e->t_unw < e->dv_tmin)
		e->dv_tmin = e->t_unw;
	if ((int32_t)(tx_us - e->dv_tx_us) > 0)
		e->dv_tx_us = tx_us;
}

/* ... and into the rate's interval. */
static void rx_rate_add(struct est_rx *e, uint32_t tx_us, uint32_t bytes)
{
	/* An interval no report closed in time starts over here: a rate
	 * spans at most EST_RATE_IV_MAX_NS, which also bounds rv_bytes. */
	if (e->rv_pkts > 0 && e->last_ns - e->rv_first_ns > EST_RATE_IV_MAX_NS)
		e->rv_pkts = 0;
	if (e->rv_pkts++ == 0) {
		e->rv_first_ns = e->last_ns;
		e->rv_first_tx_us = tx_us;
		e->rv_bytes = 0;
		e->rv_tmin = e->t_unw;
		e->rv_tmin_bytes = bytes;
	} else {
		e->rv_bytes += bytes;
		if (e->t_unw < e->rv_tmin) {
			e->rv_tmin = e->t_unw;
			e->rv_tmin_bytes = bytes;
		}
	}
	e->rv_last_ns = e->last_ns;
	e->rv_last_tx_us = tx_us;
}

void est_rx_sample(struct est_rx *e, uint64_t now_ns, uint32_t tx_us, uint32_t bytes)
{
	rx_transit(e, now_ns, tx_us);
	win_update(&e->tmin, false, EST_MIN_WIN_NS, e->last_ns, e->t_unw);
	rx_delay_add(e, tx_us);
	rx_rate_add(e, tx_us, bytes);
}

bool est_rx_due(const struct est_rx *e, uint64_t now_ns)
{
	return e->dv_pkts > 0 && now_ns - e->dv_first_ns >= EST_REPORT_NS;
}

/* The link has a transit minimum worth comparing: a sample in the window. */
static bool rx_min_valid(const struct est_rx *e, uint64_t now_ns)
{
	return e->have && now_ns - e->last_ns <= EST_MIN_WIN_NS;
}

/* Whether every packet of the rate's interval waited in a queue, so the
 * link was never idle from the first to the last and their arrivals came
 * as fast as it delivers: then the rate is its capacity.
 *
 * A packet that finds the link idle has a transit of its propagation delay
 * plus its own serialization; the windowed minimum is that of the smallest
 * packets (probes). So from the interval's smallest transit above the
 * minimum, take off that packet's serialization at the interval's rate. If
 * the link was not busy throughout, that rate is only the load offered,
 * below the capacity, so what is taken off is too much and the test errs
 * towards "not queued": a capacity sample is never made of a link that had
 * room. What is left must exceed noise: 1 ms (scheduling noise, and the
 * drift of the minimum between its renewals: 100 ppm of a 10 s window), or
 * EST_QUEUED_JITTERS times the link's RFC 3550 jitter where a jittery
 * link's smallest transits scatter more than that: the smallest of four
 * transits spread evenly over a range of 3 J exceeds 2 J one time in 81,
 * and never 4 J. A heavier tail can; what that costs is a capacity sample
 * of the load offered, too low, not too high. */
static bool rx_queued(const struct est_rx *e, uint32_t rate)
{
	int64_t wait_us = e->rv_tmin - e->tmin.s[0].v;
	int64_t thr_us = (int64_t)(e->jit_q4 >> 4) * EST_QUEUED_JITTERS;

	if (thr_us < EST_QUEUED_MIN_US)
		thr_us = EST_QUEUED_MIN_US;
	wait_us -= (int64_t)((uint64_t)e->rv_tmin_bytes * US_PER_S / rate);
	return wait_us > thr_us;
}

/* Jitter after the bottleneck moves the first and the last arrival by up to
 * its range (about three times the RFC 3550 figure for a uniform spread),
 * and the maximum filter at the sender keeps the luckiest sample: over a
 * span of EST_RATE_JITTER_SPANS jitters, that is within about 10%. A link
 * too jittery for that within EST_RATE_IV_MAX_NS gives no rate. */
static uint64_t rx_rate_min_span(const struct est_rx *e)
{
	uint64_t j = (e->jit_q4 >> 4) * 1000 * EST_RATE_JITTER_SPANS;

	return j > EST_RATE_MIN_SPAN_NS ? j : EST_RATE_MIN_SPAN_NS;
}

/* The rate's part of an entry: a rate once the interval has enough
 * packets over enough time, and then a new interval. One that cannot get
 * there in time is dropped, so a rate never averages over idle time.
 *
 * The bytes after the first packet over the time from the first to the
 * last: at the bottleneck each departure follows the one before by at least
 * its own serialization, so this is never above the capacity, and is the
 * capacity when they left back to back. Jitter after the bottleneck can
 * bunch arrivals closer than they left, though; but a link cannot deliver
 * faster than the packets were sent, so the span is at least the one over
 * which they were sent (as BBR takes the longer of the send and the ack
 * intervals). */
static void rx_rate(struct est_rx *e, struct wire_feedback_entry *out, uint64_t now_ns)
{
	uint64_t rx_span = e->rv_last_ns - e->rv_first_ns, span = rx_span;
	int32_t tx_span_us = (int32_t)(e->rv_last_tx_us - e->rv_first_tx_us);
	uint64_t tx_span = tx_span_us > 0 ? (uint64_t)tx_span_us * 1000 : 0;

	if (tx_span > span)
		span = tx_span;
	if (e->rv_pkts >= EST_RATE_MIN_PKTS && span >= rx_rate_min_span(e)) {
		out->rate = clamp_u32(e->rv_bytes * EST_NS_PER_S / span);
		if (out->rate == 0)
			out->rate = 1;
		/* A capacity only where the arrivals set the span (to within
		 * 1/16): where they came bunched closer than they were sent,
		 * either the queue was draining, and the rate above is low, or
		 * the bunching came after the bottleneck (a link that holds
		 * packets back to keep their order), and the waiting that
		 * made it is not the bottleneck's. */
		if ((out->flags & WIRE_FB_DELAY) && rx_span >= tx_span - tx_span / 16 &&
		    rx_queued(e, out->rate))
			out->flags |= WIRE_FB_QUEUED;
		e->rv_pkts = 0;
	} else if (e->rv_pkts > 0 && now_ns - e->rv_first_ns > EST_RATE_IV_MAX_NS) {
		e->rv_pkts = 0;
	}
}

/* One link's entry, all but owd_rel_us; closes its delay interval. */
static void rx_entry(struct est_rx *e, const struct est_rx_link *l, uint64_t now_ns,
		     struct wire_feedback_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->link_id = l->link_id;
	out->rx_pkts = l->rx_pkts;
	out->rx_lost = l->rx_lost;
	if (e->dv_pkts > 0 && rx_min_valid(e, now_ns)) {
		out->flags = WIRE_FB_DELAY;
		out->tx_us = e->dv_tx_us;
		/* Not below 0: the minimum may be younger than a packet of
		 * the interval when reports are far apart. */
		out->queue_us = delay_u32(e->dv_tmin - e->tmin.s[0].v);
	}
	rx_rate(e, out, now_ns);
	e->dv_pkts = 0;
	est_loss_update(&e->loss, l->rx_pkts, l->rx_lost);
}

unsigned est_rx_report(struct wire_feedback *fb, const struct est_rx_link *links,
		       unsigned n, uint64_t now_ns)
{
	const struct est_rx *base = NULL;
	uint32_t seen = 0;

	/* The base: the smallest minimum among links with a valid one. */
	for (unsigned i = 0; i < n; i++) {
		const struct est_rx *e = links[i].rx;

		if (links[i].link_id < WIRE_FEEDBACK_MAX && rx_min_valid(e, now_ns) &&
		    (!base || diff_mod32(e->tmin.s[0].v, base->tmin.s[0].v) < 0))
			base = e;
	}
	fb->count = 0;
	for (unsigned i = 0; i < n && fb->count < WIRE_FEEDBACK_MAX; i++) {
		struct wire_feedback_entry *out = &fb->e[fb->count];
		struct est_rx *e = links[i].rx;
		uint8_t id = links[i].link_id;

		if (id >= WIRE_FEEDBACK_MAX || (seen & 1u << id))
			continue;
		seen |= 1u << id;
		rx_entry(e, &links[i], now_ns, out);
		/* A link with DELAY has a valid minimum, so base is set. */
		if ((out->flags & WIRE_FB_DELAY) && base)
			out->owd_rel_us = delay_u32(diff_mod32(e->tmin.s[0].v, base->tmin.s[0].v));
		fb->count++;
	}
	return fb->count;
}

uint32_t est_rx_loss_ppm(const struct est_rx *e)
{
	return est_loss_ppm(&e->loss);
}

/* --- sender --------------------------------------------------------------- */

void est_tx_init(struct est_tx *e)
{
	memset(e, 0, sizeof(*e));
}

void est_tx_feedback(struct est_tx *e, const struct wire_feedback_entry *in, uint64_t now_ns)
{
	if (in->rate) {
		/* Only a backlogged link's rate is its capacity. Any other rate
		 * is what the link carried, so a lower bound: it may raise an
		 * estimate but not make one, since a link that never queued
		 * has shown only that it has room. */
		if ((in->flags & WIRE_FB_QUEUED) ||
		    (e->cap.have && (int64_t)in->rate > e->cap.s[0].v))
			win_update(&e->cap, true, EST_RATE_WIN_NS, now_ns, in->rate);
	}
	if ((in->flags & WIRE_FB_DELAY) &&
	    (!e->delay_have || (int32_t)(in->tx_us - e->delay_tx_us) >= 0)) {
		e->delay_have = true;
		e->owd_rel_us = in->owd_rel_us;
		e->queue_us = in->queue_us;
		e->delay_tx_us = in->tx_us;
		e->delay_at = now_ns;
	}
	est_loss_update(&e->loss, in->rx_pkts, in->rx_lost);
}

uint32_t est_tx_rate_Bps(const struct est_tx *e)
{
	/* 7/8: too high a capacity fills the link's queue before feedback
	 * says so; 10% too low costs next to nothing (scheduling.md). */
	return e->cap.have ? (uint32_t)((uint64_t)e->cap.s[0].v * 7 / 8) : 0;
}

bool est_tx_delay_valid(const struct est_tx *e, uint64_t now_ns)
{
	return e->delay_have && now_ns - e->delay_at <= EST_STALE_NS;
}

uint64_t est_tx_owd_rel_ns(const struct est_tx *e)
{
	return (uint64_t)e->owd_rel_us * 1000;
}

uint64_t est_tx_queue_ns(const struct est_tx *e)
{
	return (uint64_t)e->queue_us * 1000;
}

uint32_t est_tx_delay_tx_us(const struct est_tx *e)
{
	return e->delay_tx_us;
}

uint32_t est_tx_loss_ppm(const struct est_tx *e)
{
	return est_loss_ppm(&e->loss);
}

bool est_tx_loss_valid(const struct est_tx *e)
{
	return e->loss.have;
}
