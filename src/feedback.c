/* Feedback (core_priv.h names the core's other files): what each link shows
 * of itself at the receiving end, its relative delay, standing queue,
 * delivery rate and loss (estimate.h), reported back to the sender, and what
 * the sender makes of it: the scheduler's delays, rates and queue
 * corrections (sched/arrival.c).
 *
 * A report covers every link and goes on the link with the shortest round
 * trip, EST_REPORT_NS after a link's first packet since the last report:
 * about 65 a second while data flows, each 4 + 28 bytes a link. When only
 * probes arrive, the delays still need refreshing (the scheduler trusts
 * them for EST_STALE_NS), but not often: one report per FB_IDLE_NS. */
#include <string.h>

#include "braid/sched.h"
#include "braid/wire.h"
#include "core_priv.h"
#include "estimate.h"

#define FB_IDLE_NS (300 * NS_PER_MS)

/* A DATA, PARITY or PROBE of len bytes on the wire came on link id, sent at
 * tx_us of the peer's clock. data: DATA or PARITY (not a probe). */
void fb_rx_sample(struct core *c, unsigned id, uint32_t tx_us, size_t len, bool data)
{
	struct core_link *lk = &c->link[id];

	est_rx_sample(&lk->erx, c->now, tx_us, (uint32_t)len);
	if (data)
		c->fb_data = true;
	c->wake = min_u64(c->wake, c->now + EST_REPORT_NS);
}

/* When the next report may go: at once while data flows, else once the
 * idle spacing has passed. */
static uint64_t fb_allowed(const struct core *c)
{
	return c->fb_data ? 0 : c->fb_last + FB_IDLE_NS;
}

/* From core_tick: sends a report if one is due on any link. Returns when it
 * next needs a look (UINT64_MAX: not until a packet comes). */
uint64_t fb_tick(struct core *c)
{
	struct est_rx_link links[BRAID_MAX_LINKS];
	struct wire_feedback fb;
	unsigned n = 0, to;
	bool due = false, pending = false;
	uint8_t *buf;
	size_t len;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];

		if (!lk->present)
			continue;
		if (est_rx_due(&lk->erx, c->now))
			due = true;
		else if (lk->erx.dv_pkts)
			pending = true;
	}
	if (!due)
		return pending ? c->now + EST_REPORT_NS : UINT64_MAX;
	if (c->now < fb_allowed(c))
		return fb_allowed(c);
	to = fastest_link(c, BRAID_MAX_LINKS);
	if (to == BRAID_MAX_LINKS || !c->ready || !c->confirmed)
		return c->now + EST_REPORT_NS;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];

		if (!lk->present)
			continue;
		/* The gaps the peer should hear of now (as a probe answer
		 * would tell them). */
		link_rx_age(c, lk);
		links[n++] = (struct est_rx_link){
			.rx = &lk->erx,
			.link_id = (uint8_t)id,
			.rx_pkts = lk->rx_data,
			.rx_lost = lk->rx_lost,
		};
	}
	if (est_rx_report(&fb, links, n, c->now) == 0)
		return UINT64_MAX;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++)
		if (c->link[id].present)
			stat_set(c->link[id].st.rx_loss_ppm, est_rx_loss_ppm(&c->link[id].erx));
	c->fb_last = c->now;
	c->fb_data = false;
	buf = pkt_alloc(c, to);
	if (!buf)
		return UINT64_MAX;
	len = wire_put_feedback(buf + WIRE_OUTER_LEN, &fb);
	stat_add(c->st.feedback_sent, 1);
	pkt_seal_send(c, to, buf, WIRE_FEEDBACK, len, &c->link[to].path);
	return UINT64_MAX;
}

/* Our clock's ns for a tx_us we stamped (truncated to 32 bits of us): 0 if
 * it does not lie in the last 2^31 us. */
static uint64_t sent_at_ns(const struct core *c, uint32_t tx_us)
{
	uint32_t ago = (uint32_t)(c->now / NS_PER_US) - tx_us;

	if (ago > INT32_MAX || (uint64_t)ago * NS_PER_US > c->now)
		return 0;
	return c->now - (uint64_t)ago * NS_PER_US;
}

/* The scheduler's view of every link from the latest reports: its delay
 * relative to the fastest link while the reports are fresh (else none, and
 * the scheduler keeps to DWRR), and its rate: the measured capacity, or the
 * configured rate as the prior until there is one and as the cap after. */
void fb_sched_paths(struct core *c)
{
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];
		uint64_t rate;

		if (!lk->present)
			continue;
		rate = est_tx_rate_Bps(&lk->etx);
		if (lk->rate_cfg && (rate == 0 || rate > lk->rate_cfg))
			rate = lk->rate_cfg;
		sched_link_set_path(&c->sched, id, est_tx_delay_valid(&lk->etx, c->now),
				    est_tx_owd_rel_ns(&lk->etx), rate);
		stat_set(lk->st.rate_bps, rate * 8);
		stat_set(lk->st.owd_rel_us, est_tx_owd_rel_ns(&lk->etx) / NS_PER_US);
		stat_set(lk->st.queue_us, est_tx_queue_ns(&lk->etx) / NS_PER_US);
		stat_set(lk->st.tx_loss_ppm, est_tx_loss_ppm(&lk->etx));
	}
}

void on_feedback(struct core *c, const struct wire_feedback *fb)
{
	stat_add(c->st.feedback_rx, 1);
	for (unsigned i = 0; i < fb->count; i++) {
		const struct wire_feedback_entry *e = &fb->e[i];
		struct core_link *lk;
		uint64_t sent;

		if (e->link_id >= BRAID_MAX_LINKS || !c->link[e->link_id].present)
			continue;
		lk = &c->link[e->link_id];
		est_tx_feedback(&lk->etx, e, c->now);
		if (!(e->flags & WIRE_FB_DELAY))
			continue;
		sent = sent_at_ns(c, e->tx_us);
		if (sent)
			sched_link_observe(&c->sched, e->link_id, sent,
					   (uint64_t)e->queue_us * NS_PER_US, c->now);
	}
	fb_sched_paths(c);
}
