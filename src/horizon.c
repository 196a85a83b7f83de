/* The horizon (core_priv.h names the core's other files): the bond sequence
 * every link in use has delivered beyond, below which a gap is a loss once
 * its grace is up, and how long that grace is, from what each link showed
 * of its order, jitter and delay. */
#include "core_priv.h"
#include "reorder.h"

/* Once every link in the schedule has delivered a bond seq beyond a gap, the
 * gap is a loss, as far as links keep order. The grace a gap below that
 * horizon is still held allows for links that do not: at least 1 ms and twice
 * the worst link's jitter; for a link seen reordering, also twice the longest
 * reordering seen and its whole delay variation (a packet cannot trail one
 * sent after it by more than that). Until every link has delivered
 * HORIZON_WARMUP packets this session, or a quarter of that over a second or
 * more, too little is known of how each link keeps order: the grace is then
 * at least twice the delay spread of all the links (the slowest transit seen
 * less the fastest), which bounds how far any packet can trail one sent after
 * it, on any link.
 *
 * A link that is up but has delivered nothing yet may carry the gap: no
 * horizon then. A link silent for four of its usual gaps (the peer may have
 * stopped using it; judged, if it is up, once it has delivered a quarter of
 * HORIZON_WARMUP, or once it has been silent as long as a link that came up
 * may take to deliver: a link the peer's scheduler left after a few packets,
 * because another lands first) is left out, and then the grace
 * also covers how much slower it can be than the fastest link: a packet it
 * still carries, sent before a later one on a faster link, trails that one by
 * at most the difference of their transit times. */
/* How long a link that came up may deliver nothing before it is taken for
 * one the peer does not use: the peer's answer and its first packet on the
 * link take about a round trip, so twice the slowest round trip and its
 * variance, plus 10 ms; the budget while no round trip is known. */
static uint64_t fresh_ns(const struct core *c)
{
	uint64_t t = 0;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (lk->present && lk->have_rtt)
			t = max_u64(t, 2 * (lk->srtt_ns + 2 * lk->rttvar_ns));
	}
	return t ? t + 10 * NS_PER_MS : c->p.budget_ns;
}

void set_horizon(struct core *c)
{
	uint64_t grace = NS_PER_MS, nack_wait;
	int64_t tmin = INT64_MAX, tmax = INT64_MIN;
	uint32_t h = 0;
	bool any = false, warm = true;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (lk->present && lk->jit_have && lk->transit_min < tmin)
			tmin = lk->transit_min;
	}
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];
		bool silent;

		if (!lk->present)
			continue;
		if (!lk->rx_bond_at) {
			/* Nothing from this link yet, but the peer may be
			 * sending on it already (it is new, or just back, or
			 * the session is): its first packets may be behind
			 * the others', so no horizon for now; gaps wait for
			 * the budget. Unless data has flowed elsewhere long
			 * enough since it came that the peer would have used
			 * it: then it is a link the peer leaves idle (weight
			 * 0, failover standby), and does not count. */
			if (lk->fresh_at &&
			    c->now - max_u64(lk->fresh_at, c->data_since) < fresh_ns(c))
				return;
			/* A link that brings only parity (the peer puts it
			 * on the slow links, data on the fast one) holds no
			 * horizon, but a gap waits for what it is bringing. */
			if (lk->jit_have && lk->transit_max > tmin)
				grace = max_u64(grace, NS_PER_MS +
						(uint64_t)(lk->transit_max - tmin) * NS_PER_US);
			continue;
		}
		/* Down in our eyes need not be down in the peer's: a link
		 * still delivering counts like any other. */
		silent = c->now - lk->rx_data_at > max_u64(2 * NS_PER_MS, 4 * lk->rx_gap_ns) &&
			 (lk->rx_bond_n >= HORIZON_WARMUP / 4 || lk->state != LINK_UP ||
			  c->now - lk->rx_data_at > fresh_ns(c));
		if (lk->rx_bond_n < HORIZON_WARMUP &&
		    (lk->rx_bond_n < HORIZON_WARMUP / 4 || c->now - lk->rx_first_at < NS_PER_S))
			warm = false;
		if (lk->jit_have && lk->transit_max > tmax)
			tmax = lk->transit_max;
		grace = max_u64(grace, 2 * (lk->jit_q4 >> 4) * NS_PER_US);
		if (lk->rx_reorder_ns) {
			grace = max_u64(grace, 2 * lk->rx_reorder_ns);
			grace = max_u64(grace, (uint64_t)(lk->transit_max - lk->transit_min) * NS_PER_US);
		}
		if (silent) {
			if (lk->jit_have && lk->transit_max > tmin)
				grace = max_u64(grace, NS_PER_MS +
						(uint64_t)(lk->transit_max - tmin) * NS_PER_US);
			continue;
		}
		if (!any || (int32_t)(lk->rx_bond_max - h) < 0)
			h = lk->rx_bond_max;
		any = true;
	}
	if (!any)
		return;
	if (!warm)
		grace = max_u64(grace, tmax > tmin ? 2 * (uint64_t)(tmax - tmin) * NS_PER_US
						   : c->p.budget_ns);
	/* A block's parity leaves before the data packet k_used after its
	 * first, so a gap is not given up on (or asked for) until that one
	 * has passed too: FEC gets its chance first, and a loss it repairs is
	 * not also retransmitted (fec_rx_wait_k). */
	h -= fec_rx_wait_k(c);
	/* With NACK, a gap is asked for when its grace is up, and held for
	 * the answers: NACK_ASKS answer times, an ask each (the reorder buffer
	 * holds it no longer than the budget; an ask whose answer could not
	 * arrive by then is not sent). */
	nack_wait = nack_round_trip(c);
	if (nack_wait) {
		nack_scan(c, h, c->now + grace);
		grace += NACK_ASKS * nack_wait;
	}
	reorder_set_horizon(c->ro, h, grace, c->now);
}
