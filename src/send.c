/* Sending (core_priv.h names the core's other files): packets sealed under
 * the session's key and handed to the driver, the application's datagrams
 * onto the links the scheduler picks, and each FEC block's parity onto the
 * links that carried least of it. */
#include <errno.h>
#include <string.h>

#include "braid/sched.h"
#include "braid/wire.h"
#include "core_priv.h"
#include "crypto.h"
#include "recover.h"
#include "replay.h"

/* fec = auto: the residual loss aimed for, and the most parity per block as
 * a fraction of K (1/2: at most 50% overhead). */
#define FEC_AUTO_TARGET 1e-4
#define FEC_AUTO_MAX_M(k) ((k) / 2 ? (k) / 2 : 1)

uint8_t *pkt_alloc(struct core *c, unsigned id)
{
	uint8_t *buf = c->io.tx_alloc(c->io.ctx, id);

	if (!buf)
		stat_add(c->st.tx_nobuf, 1);
	return buf;
}

void pkt_send(struct core *c, unsigned id, uint8_t *buf, size_t len,
	      const struct core_path *path)
{
	struct core_link *lk = &c->link[id];

	stat_add(lk->st.tx_pkts, 1);
	stat_add(lk->st.tx_bytes, len);
	c->io.tx_send(c->io.ctx, id, buf, len, path);
}

/* Seals plain_len bytes already written at buf + WIRE_OUTER_LEN under the
 * session's tx key and sends them; the buffer passes to the driver. */
void pkt_seal_send(struct core *c, unsigned id, uint8_t *buf, uint8_t type,
		   size_t plain_len, const struct core_path *path)
{
	struct wire_outer o = {
		.version = BRAID_WIRE_VERSION,
		.type = type,
		.session = c->session,
		.counter = replay_counter(id, ++c->tx_counter[id]),
	};
	size_t n;

	wire_put_outer(buf, &o);
	n = crypto_seal(c->tx_key, o.counter, buf, plain_len);
	pkt_send(c, id, buf, n, path);
}

/* Returns whether the copy went out. A copy that finds no buffer takes no
 * link sequence number, so the peer does not count it lost on that link. */
bool send_data(struct core *c, unsigned id, uint32_t seq, uint16_t flow,
	       const uint8_t *data, size_t len, uint8_t flags)
{
	struct core_link *lk = &c->link[id];
	uint8_t *buf = pkt_alloc(c, id);
	size_t off = WIRE_OUTER_LEN;
	struct wire_data d;

	if (!buf)
		return false;
	d = (struct wire_data){
		.bond_seq = seq,
		.link_seq = lk->tx_seq++,
		.tx_us = (uint32_t)(c->now / NS_PER_US),
		.flow = flow,
		.link_id = (uint8_t)id,
		.flags = flags,
	};
	off += wire_put_data(buf + off, &d);
	memcpy(buf + off, data, len);
	stat_add(lk->st.tx_data, 1);
	if (flags & WIRE_DATA_RETX) {
		stat_add(c->st.retransmitted, 1);
		stat_add(c->st.retx_bytes, DATA_OVERHEAD + len);
	} else {
		stat_add(c->st.data_bytes, DATA_OVERHEAD + len);
	}
	pkt_seal_send(c, id, buf, WIRE_DATA, WIRE_DATA_HDR_LEN + len, &lk->path);
	return true;
}

/* The live link with the shortest round trip (retransmissions and NACKs go
 * there), else `fallback`. */
unsigned fastest_link(const struct core *c, unsigned fallback)
{
	unsigned best = fallback;
	uint64_t best_rtt = UINT64_MAX;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (!lk->present || !lk->has_remote || lk->state != LINK_UP || !lk->have_rtt)
			continue;
		if (lk->srtt_ns < best_rtt) {
			best_rtt = lk->srtt_ns;
			best = id;
		}
	}
	return best;
}

/* The live link where len bytes sent now would arrive first, by the
 * scheduler's estimates (sched/arrival.c), counting what each link is still
 * sending; standby links (weight 0) only if no other is up. Without
 * estimates, the shortest round trip; else `fallback`. */
unsigned earliest_link(const struct core *c, size_t len, unsigned fallback)
{
	unsigned best = BRAID_MAX_LINKS;
	uint64_t best_at = UINT64_MAX;
	bool skip_standby = true;	/* first pass: links of weight 0 stand by */

	for (int pass = 0; pass < 2 && best == BRAID_MAX_LINKS; pass++, skip_standby = false) {
		for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
			const struct core_link *lk = &c->link[id];
			uint64_t at;

			if (!lk->present || !lk->has_remote || lk->state != LINK_UP ||
			    (skip_standby && c->sched.link[id].weight == 0))
				continue;
			at = sched_predict(&c->sched, id, len, c->now);
			if (at == UINT64_MAX)
				return fastest_link(c, fallback);
			if (at < best_at) {
				best_at = at;
				best = id;
			}
		}
	}
	return best == BRAID_MAX_LINKS ? fallback : best;
}

/* A PARITY packet's bytes on the wire. */
static size_t parity_wire_len(const struct recover_parity *par)
{
	return WIRE_OUTER_LEN + WIRE_PARITY_HDR_LEN + par->shard_len + WIRE_TAG_LEN;
}

/* The live link that carried least of the block for its weight, (packets +
 * 1) / weight: away from the links a loss would most likely hit, but never
 * more than a link's share can carry (all parity on a light link that
 * carried none of the block would overfill it). Ties: the shorter round
 * trip. BRAID_MAX_LINKS if no link is live. */
static unsigned parity_link_by_load(const struct core *c, const unsigned load[BRAID_MAX_LINKS])
{
	unsigned best = BRAID_MAX_LINKS;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];
		uint64_t a, b;

		if (!lk->present || !lk->has_remote || lk->state != LINK_UP ||
		    c->sched.link[id].weight == 0)
			continue;
		if (best == BRAID_MAX_LINKS) {
			best = id;
			continue;
		}
		a = (uint64_t)(load[id] + 1) * c->sched.link[best].weight;
		b = (uint64_t)(load[best] + 1) * c->sched.link[id].weight;
		if (a < b || (a == b && lk->srtt_ns < c->link[best].srtt_ns))
			best = id;
	}
	return best;
}

static void send_parity(struct core *c, unsigned id, const struct recover_parity *par,
			unsigned index)
{
	struct core_link *lk = &c->link[id];
	uint8_t *buf = pkt_alloc(c, id);
	size_t off = WIRE_OUTER_LEN;
	struct wire_parity h = par->hdr;

	if (!buf)
		return;
	h.link_seq = lk->tx_seq++;
	h.tx_us = (uint32_t)(c->now / NS_PER_US);
	h.index = (uint8_t)index;
	h.link_id = (uint8_t)id;
	off += wire_put_parity(buf + off, &h);
	memcpy(buf + off, par->shard[index], par->shard_len);
	stat_add(lk->st.tx_data, 1);
	stat_add(c->st.parity_sent, 1);
	stat_add(c->st.parity_bytes, parity_wire_len(par));
	pkt_seal_send(c, id, buf, WIRE_PARITY, WIRE_PARITY_HDR_LEN + par->shard_len, &lk->path);
	sched_link_charge(&c->sched, id, parity_wire_len(par), c->now);
}

/* Where parity shard r of a block goes when the links have estimates:
 * among the links where it lands while the block's losses can still be
 * repaired (the budget after the block's data, less a quarter for the
 * decoding and the jitter), the one that carried least of the block, ties
 * to the one it reaches last. Parity is not in the in-order stream, so it
 * is the right load for a slow link, and it keeps the fast link free for
 * the data. BRAID_MAX_LINKS if no link has estimates or none is in time. */
static unsigned parity_link(const struct core *c, const struct recover_parity *par,
			    uint64_t opened, const unsigned load[BRAID_MAX_LINKS])
{
	uint64_t first = UINT64_MAX, deadline, best_at = 0;
	size_t len = parity_wire_len(par);
	unsigned best = BRAID_MAX_LINKS;

	/* The block's data arrived no sooner than over its fastest link. */
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++)
		if (par->link_load[id] && c->sched.link[id].have_delay &&
		    c->sched.link[id].delay_ns < first)
			first = c->sched.link[id].delay_ns;
	if (first == UINT64_MAX || opened == UINT64_MAX)
		return BRAID_MAX_LINKS;
	deadline = opened + first + c->p.budget_ns * 3 / 4;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];
		uint64_t at;

		if (!lk->present || !lk->has_remote || lk->state != LINK_UP ||
		    c->sched.link[id].weight == 0)
			continue;
		at = sched_predict(&c->sched, id, len, c->now);
		if (at == UINT64_MAX)
			return BRAID_MAX_LINKS;
		if (at > deadline)
			continue;
		if (best == BRAID_MAX_LINKS || load[id] < load[best] ||
		    (load[id] == load[best] && at > best_at)) {
			best = id;
			best_at = at;
		}
	}
	return best;
}

/* Closes the block being sent and sends its parity. With the links'
 * estimates, each shard goes where parity_link says; else, or when no link
 * is in time, on the live link that carried the fewest of the block's
 * packets so far for its weight (parity counted as it is placed), ties to
 * the faster link: a burst on the link that carried most of the block
 * leaves the parity on the others. */
void fec_close(struct core *c)
{
	uint64_t opened = recover_tx_opened(c->rec);	/* closing forgets it */
	struct recover_parity par;
	unsigned load[BRAID_MAX_LINKS];

	if (recover_tx_close(c->rec, &par) != 1)
		return;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++)
		load[id] = par.link_load[id];
	for (unsigned r = 0; r < par.hdr.m; r++) {
		unsigned best = parity_link(c, &par, opened, load);

		if (best == BRAID_MAX_LINKS)
			best = parity_link_by_load(c, load);
		if (best == BRAID_MAX_LINKS)
			return;
		load[best]++;
		send_parity(c, best, &par, r);
	}
}

/* When the block being sent closes even if not full: a quarter of the
 * budget after it opened, so its parity can still arrive in time. */
uint64_t fec_deadline(const struct core *c)
{
	uint64_t opened = recover_tx_opened(c->rec);

	return opened == UINT64_MAX ? UINT64_MAX : opened + c->p.budget_ns / 4;
}

/* fec = auto, as a block opens: K, the datagrams the application sends in
 * a quarter of the budget (so the block closes full about when its timer
 * would, and its parity leaves in time), at most the codec's; M for that K
 * from the worst live link's loss: the data loss the peer reports for it
 * once it has, the probes' until then. */
static void fec_pick(struct core *c)
{
	uint64_t loss = 0, quarter = c->p.budget_ns / 4;
	unsigned k = recover_k(c->rec), m;

	if (c->app_gap_ns && quarter / c->app_gap_ns < k)
		k = quarter / c->app_gap_ns ? (unsigned)(quarter / c->app_gap_ns) : 1;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];
		uint64_t l;

		if (!lk->present || lk->state != LINK_UP)
			continue;
		l = est_tx_loss_valid(&lk->etx) ? est_tx_loss_ppm(&lk->etx)
						 : stat_get(lk->st.loss_ppm);
		loss = max_u64(loss, l);
	}
	m = recover_pick_m(k, FEC_AUTO_MAX_M(k), loss, FEC_AUTO_TARGET);
	/* Where the most parity allowed (half) is not enough, an even K
	 * uses all of it: 4:2 loses less than 5:2, and fills sooner. */
	if (m == FEC_AUTO_MAX_M(k) && k > 2 && k % 2)
		k--;
	recover_tx_set_k(c->rec, k);
	recover_tx_set_m(c->rec, m);
}

/* The application's pace, for fec_pick. */
static void app_pace(struct core *c, uint64_t now)
{
	uint64_t gap, cap = c->p.budget_ns / 4;

	if (c->app_last_at && now >= c->app_last_at) {
		gap = min_u64(now - c->app_last_at, cap);
		if (!c->app_gap_ns)
			c->app_gap_ns = gap ? gap : 1;
		else if (gap >= c->app_gap_ns)
			c->app_gap_ns += (gap - c->app_gap_ns) / 8;
		else
			c->app_gap_ns -= (c->app_gap_ns - gap) / 8;
	}
	c->app_last_at = now;
}

void core_rx_app(struct core *c, uint16_t flow, const uint8_t *data, size_t len, uint64_t now)
{
	unsigned ids[BRAID_MAX_LINKS];
	unsigned n;
	uint32_t seq, mask = 0;
	bool sent = false;

	c->now = now;
	if (len > BRAID_PAYLOAD_MAX) {
		stat_add(c->st.oversize, 1);
		return;
	}
	if (!c->ready || !c->confirmed) {
		stat_add(c->st.no_session, 1);
		return;
	}
	stat_add(c->st.app_rx_pkts, 1);
	stat_add(c->st.app_rx_bytes, len);
	app_pace(c, now);

	n = sched_pick(&c->sched, len + DATA_OVERHEAD, now, ids, BRAID_MAX_LINKS);
	if (n == 0) {
		/* No link answers probes right now. Rather than drop, send on
		 * every link we have an address for: one may still get through. */
		for (unsigned id = 0; id < BRAID_MAX_LINKS; id++)
			if (c->link[id].present && c->link[id].has_remote)
				ids[n++] = id;
		if (n == 0) {
			stat_add(c->st.no_link, 1);
			return;
		}
	}
	/* A datagram no copy of which left takes no bond sequence number:
	 * it is counted once, here (tx_nobuf), not again as a gap there. */
	seq = c->bond_seq;
	for (unsigned i = 0; i < n; i++) {
		if (send_data(c, ids[i], seq, flow, data, len, 0)) {
			sent = true;
			mask |= 1u << ids[i];
		}
	}
	if (!sent)
		return;
	c->bond_seq++;
	if (c->p.nack)
		recover_retx_put(c->rec, seq, flow, data, len, now);
	if (recover_fec_on(c->rec)) {
		int full;

		if (recover_tx_opened(c->rec) == UINT64_MAX && c->p.fec_auto)
			fec_pick(c);
		full = recover_tx_add(c->rec, seq, flow, data, len, mask, now);
		if (full == -EINVAL) {
			/* Cannot happen while seqs are consecutive; start over. */
			fec_close(c);
			full = recover_tx_add(c->rec, seq, flow, data, len, mask, now);
		}
		stat_set(c->st.fec_k, recover_tx_k(c->rec));
		stat_set(c->st.fec_m, recover_tx_m(c->rec));
		if (full == 1)
			fec_close(c);
		else
			c->wake = min_u64(c->wake, fec_deadline(c));
	}
}
