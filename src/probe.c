/* Probes (core_priv.h names the core's other files): each link's probes and
 * the answers to the peer's, the round trip and loss the answers tell, and
 * what the DATA and PARITY arriving on a link tell of it: the per-link loss
 * window, jitter and transit range, which the answers report to the peer. */
#include "braid/wire.h"
#include "core_priv.h"

/* quick: a probe sent early because the link has gone quiet (probe_due):
 * it tells the link is alive and its round trip, but is no sample of loss
 * (it is not remembered in probe_ring), so probing faster while answers
 * go missing does not skew the loss estimate. */
void send_probe(struct core *c, unsigned id, bool quick)
{
	struct core_link *lk = &c->link[id];
	struct wire_probe pr;
	uint8_t *buf;

	/* Probes whose answer is overdue: each a sample of loss. */
	for (unsigned i = 0; i < PROBE_RING; i++) {
		if (lk->probe_ring[i].seq == 0 || lk->probe_ring[i].judged ||
		    c->now - lk->probe_ring[i].sent < dead_after_ns(c, lk))
			continue;
		lk->probe_ring[i].judged = true;
		lk->iv_probe_lost++;
	}
	/* Tried now, whether or not a buffer is free: the next quick probe is
	 * due from here (probe_due), not at once again. */
	lk->probe_at = c->now;
	buf = pkt_alloc(c, id);
	if (!buf)
		return;
	pr = (struct wire_probe){
		.link_id = (uint8_t)id,
		.probe_seq = ++lk->probe_seq,
		.tx_ns = c->now,
		.rx_pkts = lk->rx_data,
		.rx_lost = lk->rx_lost,
	};
	wire_put_probe(buf + WIRE_OUTER_LEN, &pr, 0);
	if (!quick) {
		unsigned i = lk->probe_ring_next++ % PROBE_RING;

		lk->probe_ring[i].seq = pr.probe_seq;
		lk->probe_ring[i].sent = c->now;
		lk->probe_ring[i].judged = false;
	}
	stat_add(lk->st.probes_sent, 1);
	pkt_seal_send(c, id, buf, WIRE_PROBE, WIRE_PROBE_LEN, &lk->path);
}

/* When link lk is next probed. A link in the schedule that has been quiet
 * for an interval, its round trip's variance and 2 ms (an answer overdue,
 * and no data) is probed eight times as often until it is heard from or
 * declared down: at 20% loss each way a third of all answers are lost, and
 * with only one probe an interval two in a row (the timeout) would take a
 * link that carries no data out of the schedule every few seconds; with
 * eight, a dead link is declared so just as soon, and a live one is not. */
uint64_t probe_due(const struct core *c, const struct core_link *lk)
{
	uint64_t quiet;

	if (lk->state != LINK_UP)
		return lk->next_probe;
	quiet = lk->last_reply + c->p.probe_interval_ns + 4 * lk->rttvar_ns + 2 * NS_PER_MS;
	return min_u64(lk->next_probe, max_u64(quiet, lk->probe_at + c->p.probe_interval_ns / 8));
}

/* A DATA or PARITY packet on link lk: the per-link loss window, RFC 3550
 * jitter and the transit range, from its link sequence and timestamp. */
void link_rx_account(struct core *c, struct core_link *lk, uint32_t link_seq,
		     uint32_t tx_us)
{
	int64_t transit;

	stat_add(lk->st.rx_data, 1);
	lk->rx_data++;
	/* A link that delivers is not dead, however many probe answers its
	 * loss takes: only silence, no answer and no data for the timeout,
	 * takes it out of the schedule (at 5% loss each way, two probe
	 * round trips in a row fail once in a hundred, which would take a
	 * link carrying traffic down every few seconds). Data does not bring
	 * a link up: that takes an answer, which shows both ways work. If
	 * only our way fails, the peer hears neither our data nor our
	 * answers and takes the link down; its data then stops, and so does
	 * ours. */
	if (lk->state == LINK_UP)
		lk->last_reply = c->now;

	/* Per-link loss: the peer learns its loss on this link from our
	 * probes. What was before the first packet counts as received. */
	if (!lk->rx_any) {
		lk->rx_any = true;
		lk->rx_seq_max = link_seq;
		lk->rx_window = ~0ull;
	} else {
		int32_t ahead = (int32_t)(link_seq - lk->rx_seq_max);

		if (ahead >= 64) {
			lk->rx_lost += (uint32_t)(64 - __builtin_popcountll(lk->rx_window)) +
				       (uint32_t)(ahead - 64);
			lk->rx_window = 1;
			lk->rx_seq_max = link_seq;
		} else if (ahead > 0) {
			/* The `ahead` oldest bits leave the window: each one
			 * still clear is a packet that never came. */
			lk->rx_lost += (uint32_t)ahead -
				       (uint32_t)__builtin_popcountll(lk->rx_window >> (64 - ahead));
			lk->rx_window = (lk->rx_window << ahead) | 1;
			lk->rx_seq_max = link_seq;
		} else if (ahead > -64) {
			lk->rx_window |= 1ull << -ahead;
		}
	}
	stat_set(lk->st.rx_seq_lost, lk->rx_lost);

	/* RFC 3550 interarrival jitter from the sender's timestamps; the
	 * clocks' offset cancels out. */
	transit = (int64_t)(int32_t)((uint32_t)(c->now / NS_PER_US) - tx_us);
	if (lk->jit_have) {
		int64_t dd = transit - lk->jit_prev_transit;
		uint64_t ad = (uint64_t)(dd < 0 ? -dd : dd);

		lk->jit_q4 += ad - ((lk->jit_q4 + 8) >> 4);
		stat_set(lk->st.jitter_us, lk->jit_q4 >> 4);
	}
	if (!lk->jit_have || transit < lk->transit_min)
		lk->transit_min = transit;
	if (!lk->jit_have || transit > lk->transit_max)
		lk->transit_max = transit;
	lk->jit_have = true;
	lk->jit_prev_transit = transit;
}

/* Before each report of our receive counts to the peer (a probe answer):
 * the gaps that were already behind the newest packet at the previous
 * report, at least twice the link's own reordering plus 10 ms ago, count
 * as lost now. Otherwise a gap counts only once 64 newer packets came,
 * which on a link carrying a few packets a second (a link weight = auto has
 * turned down) takes seconds, and the peer would see a loss long after it
 * happened, in a burst. */
void link_rx_age(struct core *c, struct core_link *lk)
{
	if (lk->rx_any && lk->rx_mark_at &&
	    c->now - lk->rx_mark_at >= 2 * lk->rx_reorder_ns + 10 * NS_PER_MS) {
		uint32_t back = lk->rx_seq_max - lk->rx_mark_seq;

		if (back < 64) {
			uint64_t old = ~0ull << back;	/* the bits of seqs <= rx_mark_seq */

			lk->rx_lost += (uint32_t)__builtin_popcountll(~lk->rx_window & old);
			lk->rx_window |= old;
			stat_set(lk->st.rx_seq_lost, lk->rx_lost);
		}
	}
	if (lk->rx_any) {
		lk->rx_mark_seq = lk->rx_seq_max;
		lk->rx_mark_at = c->now;
	}
}

void on_probe(struct core *c, unsigned id, const struct wire_probe *in)
{
	struct core_link *lk = &c->link[id];
	struct wire_probe pr = *in;
	uint8_t *buf;

	if (pr.flags & WIRE_PROBE_BYE) {
		on_bye(c, pr.link_id);
		return;
	}
	/* Out of service here: no answer, so the peer's probes say so too. */
	if (lk->admin_down || lk->draining)
		return;
	if (!lk->rx_bond_at && !lk->fresh_at)
		lk->fresh_at = c->now;
	buf = pkt_alloc(c, id);
	if (!buf)
		return;
	/* Echo the probe with what we saw of the peer's sends on this link. */
	link_rx_age(c, lk);
	pr.rx_pkts = lk->rx_data;
	pr.rx_lost = lk->rx_lost;
	pr.jitter_us = (uint32_t)(lk->jit_q4 >> 4);
	wire_put_probe(buf + WIRE_OUTER_LEN, &pr, 1);
	pkt_seal_send(c, id, buf, WIRE_PROBE_REPLY, WIRE_PROBE_REPLY_LEN, &lk->path);
}

/* One sample of `lost` of `tot` packets into a loss estimate: see
 * on_probe_reply. */
static void loss_ewma(uint64_t *ppm, uint64_t lost, uint64_t tot)
{
	uint64_t sample, w;

	if (tot == 0)
		return;
	sample = lost * 1000000 / tot;
	w = tot < 8 ? 8 : tot > 32 ? 32 : tot;	/* of 64 */
	if (sample > *ppm)
		w = 2 * w > 32 ? 32 : 2 * w;
	*ppm = (*ppm * (64 - w) + sample * w) / 64;
}

void on_probe_reply(struct core *c, unsigned id, const struct wire_probe *in)
{
	struct core_link *lk = &c->link[id];
	const struct wire_probe pr = *in;
	uint64_t rtt;

	if (pr.tx_ns > c->now || (lk->peer_bye && pr.tx_ns < lk->peer_bye))
		return;
	rtt = c->now - pr.tx_ns;
	/* RFC 6298 smoothing. */
	if (!lk->have_rtt) {
		lk->srtt_ns = rtt;
		lk->rttvar_ns = rtt / 2;
		lk->have_rtt = true;
	} else {
		uint64_t err = rtt > lk->srtt_ns ? rtt - lk->srtt_ns : lk->srtt_ns - rtt;

		lk->rttvar_ns = (3 * lk->rttvar_ns + err) / 4;
		lk->srtt_ns = (7 * lk->srtt_ns + rtt) / 8;
	}
	for (unsigned i = 0; i < PROBE_RING; i++) {
		if (lk->probe_ring[i].seq == pr.probe_seq && !lk->probe_ring[i].judged) {
			lk->probe_ring[i].judged = true;
			lk->iv_probe_ok++;
		}
	}
	/* The loss estimate: since the last answer, the DATA the peer counts
	 * received and lost on this link, and our probes answered and lost,
	 * all as packets of one sample. Each sample moves the estimate by
	 * its size in 64ths, from 8 to 32 (a busy link's estimate follows
	 * within a few probes), and twice that when loss rises, so a failing
	 * link is seen within a second. One lost probe on an idle link moves
	 * the estimate by a quarter: the price of knowing an idle link's
	 * loss at all. */
	{
		uint64_t lost = lk->iv_probe_lost, tot = lk->iv_probe_ok + lk->iv_probe_lost;

		if (lk->peer_have) {
			lost += pr.rx_lost - lk->peer_lost_prev;
			tot += (uint64_t)(pr.rx_pkts - lk->peer_rx_prev) +
			       (pr.rx_lost - lk->peer_lost_prev);
		}
		loss_ewma(&lk->loss_ppm, lost, tot);
		lk->iv_probe_ok = lk->iv_probe_lost = 0;
	}
	lk->peer_have = true;
	lk->peer_rx_prev = pr.rx_pkts;
	lk->peer_lost_prev = pr.rx_lost;

	stat_add(lk->st.probes_answered, 1);
	stat_set(lk->st.peer_rx_lost, pr.rx_lost);
	stat_set(lk->st.rtt_us, lk->srtt_ns / NS_PER_US);
	stat_set(lk->st.rttvar_us, lk->rttvar_ns / NS_PER_US);
	stat_set(lk->st.loss_ppm, lk->loss_ppm);
	link_heard(c, id);
	auto_weights(c);
}
