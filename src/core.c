/* The bond's protocol core: handshake, sequencing, scheduling, reorder,
 * loss recovery, probes and link state. No I/O and no clock reads; see
 * core.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braid/sched.h"
#include "braid/stats.h"
#include "braid/wire.h"
#include "cookie.h"
#include "core.h"
#include "crypto.h"
#include "prefilter.h"
#include "ratelimit.h"
#include "recover.h"
#include "reorder.h"
#include "replay.h"

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull
/* Bytes a DATA packet adds around the application's datagram. */
#define DATA_OVERHEAD (WIRE_OUTER_LEN + WIRE_DATA_HDR_LEN + WIRE_TAG_LEN)
/* Probes remembered per link for loss accounting (power of two). */
#define PROBE_RING 16
/* Longest the core sleeps between ticks when nothing is due sooner. */
#define TICK_MAX_NS (NS_PER_S)
/* Data packets kept each way for FEC decoding and retransmission. */
#define RECOVER_STORE 2048
/* Retransmitted seqs remembered to account for their late originals. */
#define RETX_TOOK 1024
/* Sequence numbers waiting to be asked for (power of two). */
#define NACK_QUEUE 256
/* How many times a missing datagram is asked for, an answer time apart,
 * while an answer can still arrive within the budget (the peer answers each
 * ask: RETX_MAX in recover.c is the same number). */
#define NACK_ASKS 3
/* fec = auto: the residual loss aimed for, and the most parity per block as
 * a fraction of K (1/2: at most 50% overhead). */
#define FEC_AUTO_TARGET 1e-4
#define FEC_AUTO_MAX_M(k) ((k) / 2 ? (k) / 2 : 1)

_Static_assert(BRAID_MAX_LINKS <= REPLAY_LINKS, "every link id fits in a counter");

struct core_link {
	bool present;
	bool has_remote;
	char name[BRAID_NAME_MAX];
	struct core_path path;		/* where packets for this link go */
	enum link_state state;

	/* Taken out of service here (core_link_set_admin), or deleted and
	 * draining until drain_until (core_link_drain): no data, probes or
	 * answers go out on it, but what arrives is still taken. peer_bye:
	 * when the peer said it took the link out of service; answers to our
	 * probes sent before then do not bring the link back. */
	bool admin_down;
	bool draining;
	bool weight_auto;		/* weight set by auto_weights() */
	uint64_t drain_until;
	uint64_t peer_bye;

	uint32_t tx_seq;		/* per-link sequence of our DATA */

	/* Receive side, for the peer's view of this link (sent in probes). A
	 * gap in the per-link sequence counts as lost only once 64 newer
	 * packets have arrived: reordering within a link is not loss, and the
	 * count only ever grows, so the peer can take differences of it. */
	bool rx_any;
	uint32_t rx_seq_max;		/* highest per-link sequence seen */
	uint64_t rx_window;		/* bit i: rx_seq_max - i arrived */
	uint32_t rx_lost;		/* per-link sequence numbers lost */
	uint32_t rx_mark_seq;		/* rx_seq_max at the last report (link_rx_age) */
	uint64_t rx_mark_at;		/* ... and when (0: none yet) */
	uint32_t rx_data;
	bool jit_have;
	int64_t jit_prev_transit;	/* us */
	/* The highest bond sequence this link has delivered this session and
	 * when it came (rx_bond_at 0: nothing yet), how many DATA packets came,
	 * and the longest a packet arrived after a later-sent one on this same
	 * link (reordering inside the link): see set_horizon. */
	uint32_t rx_bond_max;
	uint64_t rx_bond_at;
	uint32_t rx_bond_n;
	uint64_t rx_reorder_ns;
	uint64_t rx_first_at;		/* first DATA from this link this session */
	/* When the peer may have started sending on this link though it has
	 * delivered nothing yet this session: it came UP here, or we answered
	 * its probe (it comes UP at the peer once the answer lands). */
	uint64_t fresh_at;
	uint64_t rx_data_at;		/* last DATA from this link */
	uint64_t rx_gap_ns;		/* EWMA of the time between them (1/8) */
	int64_t transit_min, transit_max;	/* us, this session (jit_have) */
	uint64_t jit_q4;		/* jitter in us, scaled by 16 (RFC 3550) */

	/* Probes we send, and what the answers tell. The last PROBE_RING
	 * probes are remembered so a probe counts as lost only once its answer
	 * is overdue for this link's round trip, not merely when the next
	 * probe leaves (which on a link slower than the probe interval would
	 * call every probe lost). */
	uint32_t probe_seq;
	struct {
		uint32_t seq;
		uint64_t sent;
		bool judged;	/* answered, or counted lost */
	} probe_ring[PROBE_RING];
	unsigned probe_ring_next;	/* where the next probe sampled goes */
	uint64_t next_probe;
	uint64_t probe_at;		/* when the last probe left */
	/* Last heard from the peer on this link: a probe answer or handshake
	 * answer, or, while the link is up, DATA or PARITY (see
	 * link_rx_account). The link leaves the schedule when this is older
	 * than dead_after_ns(). */
	uint64_t last_reply;
	bool have_rtt;
	uint64_t srtt_ns, rttvar_ns;
	uint32_t peer_rx_prev, peer_lost_prev;
	bool peer_have;
	/* Loss on this link: our DATA the peer reports lost, and our probes
	 * unanswered, as one estimate (see on_probe_reply). iv_probe_*:
	 * probes judged since the last update. */
	uint64_t loss_ppm;
	uint32_t iv_probe_ok, iv_probe_lost;

	/* Edge: the cookie the hub last gave this link's address, and when. */
	bool cookie_have;
	uint64_t cookie_at;
	uint8_t cookie[WIRE_HS_COOKIE_LEN];

	struct braid_link_stats st;
};


struct nack_ring {
	struct {
		uint32_t seq;
		uint32_t asks;		/* times asked for already */
		uint64_t due;
	} e[NACK_QUEUE];
	unsigned head, len;
};

struct core {
	struct core_params p;
	struct core_io io;
	struct sched sched;
	struct reorder *ro;
	struct recover *rec;

	/* NACKs: sequence numbers the horizon passed while missing, each
	 * asked for when its grace is up (due) if an answer can still arrive
	 * within the budget (nackq[0]), and again, up to NACK_ASKS times in
	 * all, each time it is still missing an answer time later (nackq[1]).
	 * Each ring's dues rise (nearly), so each is read from its head.
	 * nack_from is where the next scan starts. */
	struct nack_ring nackq[2];
	uint32_t nack_from;
	bool nack_from_set;
	struct core_link link[BRAID_MAX_LINKS];
	uint8_t hs_key[BRAID_KEY_LEN];

	/* The established session. The hub sends nothing under a new
	 * session until a packet under it authenticates, so its data cannot
	 * overtake the HS_RESP that gives the edge the keys. */
	bool ready;
	bool confirmed;
	uint32_t session;
	uint8_t tx_key[BRAID_KEY_LEN];
	uint8_t rx_key[BRAID_KEY_LEN];
	/* Each link numbers its packets apart (replay.h): tx_counter[id] is
	 * link id's last outer counter, rx_win[id] the window over the
	 * peer's on it. Both last the session, not the link: a link deleted
	 * and added again must neither reuse a nonce nor take a replay of
	 * what it carried before. */
	uint64_t tx_counter[BRAID_MAX_LINKS];
	struct replay rx_win[BRAID_MAX_LINKS];
	struct replay_links replay;		/* over rx_win */
	uint32_t bond_seq;

	/* Edge: the handshake in progress. Each retry takes a new nonce, so
	 * nothing the hub remembers can refuse it for good; a cookie may
	 * answer the previous one (hs_prev) as well, in flight when the
	 * retry left. */
	bool hs_pending;
	uint32_t hs_session;
	uint8_t hs_nonce[WIRE_HS_NONCE_LEN];
	uint8_t hs_prev[WIRE_HS_NONCE_LEN];
	bool hs_have_prev;
	unsigned hs_tries;		/* inits sent with this session id */
	uint64_t hs_next;		/* next HS_INIT (re)send */
	uint64_t all_down_since;

	/* Hub: cookies and the init nonces taken (cookie.h), so an init
	 * makes state only when its sender receives at its address and only
	 * once; per-source buckets on every handshake answer; the nonces of
	 * the session in force, to answer late copies of its init alike. A
	 * new init makes a pending session, with keys of its own, and the
	 * session in force goes on until a packet authenticates under the
	 * pending one: an init replayed by a stranger (after a hub restart,
	 * say) never displaces a working session, nor points a link at the
	 * stranger. */
	struct cookie_hub ck;
	struct ratelimit rl;
	uint8_t init_nonce[WIRE_HS_NONCE_LEN];
	uint8_t hub_nonce[WIRE_HS_NONCE_LEN];
	struct {
		bool on;
		uint32_t session;
		uint8_t init_nonce[WIRE_HS_NONCE_LEN];
		uint8_t hub_nonce[WIRE_HS_NONCE_LEN];
		uint8_t tx_key[BRAID_KEY_LEN];
		uint8_t rx_key[BRAID_KEY_LEN];
	} pend;

	uint64_t now;
	uint64_t wake;			/* when core_tick next has work */
	uint64_t data_since;		/* first DATA received this session (0: none) */
	/* Seqs (plus one; 0 is empty) a retransmission brought, so that an
	 * original arriving after it counts as a needless retransmission. */
	uint32_t retx_took[RETX_TOOK];
	struct braid_bond_stats st;
	/* The sessions taken, for the workers' prefilter (publish_sessions). */
	struct prefilter_view pf;
};

/* DATA packets a link delivers before what it showed of its order is used
 * to give up on gaps early (set_horizon). */
#define HORIZON_WARMUP 64

/* weight = auto: the weight of a link as good as the best, and the loss
 * above the best link's that halves a link's share. */
#define AUTO_WEIGHT_FULL CORE_AUTO_WEIGHT
#define AUTO_LOSS_HALF_PPM 50000u
#define AUTO_LOSS_NOISE_PPM 5000u
#define AUTO_RTT_NOISE_NS (1 * NS_PER_MS)

static void link_forget(struct core *c, unsigned id);
static void auto_weights(struct core *c);

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The wait before the n-th retry of an init (n from 0): two probe
 * intervals (50 ms to 1 s), doubling each retry up to 1 s, so an answer
 * slower than the first wait still lands before the nonce it answers is
 * replaced. */
static uint64_t hs_retry_ns(const struct core *c, unsigned n)
{
	uint64_t t = 2 * c->p.probe_interval_ns;

	if (t < 50 * NS_PER_MS)
		t = 50 * NS_PER_MS;
	for (; n && t < NS_PER_S; n--)
		t *= 2;
	return t > NS_PER_S ? NS_PER_S : t;
}

/* How long the edge uses a cookie: a little less than the shortest life
 * the hub gives one, so it rarely spends a round trip on a stale one. */
#define EDGE_COOKIE_NS (COOKIE_ROTATE_NS - 10 * NS_PER_S)

/* How long a link may go without a probe answer before it leaves the
 * schedule: two probe intervals plus the round trip and its variance, so a
 * slow link is not declared dead for being slow. On links faster than the
 * probe interval this is within three intervals. */
static uint64_t dead_after_ns(const struct core *c, const struct core_link *lk)
{
	uint64_t t = 2 * c->p.probe_interval_ns;

	if (lk->have_rtt)
		t += lk->srtt_ns + 4 * lk->rttvar_ns;
	else
		t += c->p.probe_interval_ns / 2;
	return t;
}

static void link_set_state(struct core *c, unsigned id, enum link_state st)
{
	struct core_link *lk = &c->link[id];

	if (lk->state == st)
		return;
	lk->state = st;
	stat_set(lk->st.state, (uint64_t)st);
	stat_set(lk->st.state_since_ns, c->now);
	if (st == LINK_DOWN)
		stat_add(lk->st.down_events, 1);
	if (st == LINK_UP && !lk->rx_bond_at)
		lk->fresh_at = c->now;
	sched_link_set_live(&c->sched, id, st == LINK_UP);
	auto_weights(c);
	if (c->io.link_state)
		c->io.link_state(c->io.ctx, id, st);
}

/* weight = auto. Each such link's weight is AUTO_WEIGHT_FULL scaled down by
 * how far its loss and round trip are above the best live link's:
 *
 *   loss:  1 / (1 + excess / 5%)             5% more loss halves the share
 *   rtt:   1 / (1 + excess / max(budget/8, 2 ms))
 *
 * each excess less 0.5% of loss or 1 ms of round trip (so that equal
 * links' noise does not make their weights wander), and 0 (probes only)
 * once the round trip is more than twice the budget above the best, where
 * a datagram sent on it would come after the others had given up on it. A
 * link whose loss grows because it is full loses share until its loss
 * falls: the weights find the links' capacity through their loss. The
 * weight moves a quarter of the way to its target per update (every probe
 * answer and state change), so one bad probe does not swing it. Links with
 * a number for a weight keep it. */
static void auto_weights(struct core *c)
{
	uint64_t rtt_min = UINT64_MAX, loss_min = UINT64_MAX, rtt_scale;
	bool any = false;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (!lk->present || lk->state != LINK_UP || !lk->have_rtt)
			continue;
		rtt_min = min_u64(rtt_min, lk->srtt_ns);
		loss_min = min_u64(loss_min, stat_get(lk->st.loss_ppm));
		any |= lk->weight_auto;
	}
	if (!any)
		return;
	rtt_scale = max_u64(c->p.budget_ns / 8, 2 * NS_PER_MS);
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];
		uint64_t d_loss, d_rtt, w, cur;
		double f;

		if (!lk->present || !lk->weight_auto || lk->state != LINK_UP || !lk->have_rtt)
			continue;
		d_loss = stat_get(lk->st.loss_ppm) - loss_min;
		d_rtt = lk->srtt_ns - rtt_min;
		if (d_rtt > 2 * c->p.budget_ns) {
			w = 0;
		} else {
			d_loss = d_loss > AUTO_LOSS_NOISE_PPM ? d_loss - AUTO_LOSS_NOISE_PPM : 0;
			d_rtt = d_rtt > AUTO_RTT_NOISE_NS ? d_rtt - AUTO_RTT_NOISE_NS : 0;
			f = 1.0 / (1.0 + (double)d_loss / AUTO_LOSS_HALF_PPM);
			f /= 1.0 + (double)d_rtt / (double)rtt_scale;
			w = (uint64_t)(AUTO_WEIGHT_FULL * f + 0.5);
			if (w == 0)
				w = 1;
		}
		cur = stat_get(lk->st.weight);
		/* A quarter of the way, but always at least one step. */
		if (w > cur)
			w = cur + max_u64((w - cur) / 4, 1);
		else if (w < cur)
			w = cur - max_u64((cur - w) / 4, 1);
		if (w != cur) {
			sched_link_set_weight(&c->sched, id, (uint32_t)w);
			stat_set(lk->st.weight, w);
		}
	}
}

/* Publishes the reorder buffer's running totals (kept across sessions). */
static void sync_reorder_stats(struct core *c)
{
	const struct reorder_counters *rc = reorder_counters(c->ro);

	stat_set(c->st.lost, rc->lost);
	stat_set(c->st.duplicates, rc->duplicates);
	stat_set(c->st.reordered, rc->reordered);
	stat_set(c->st.late, rc->late);
}

static void on_deliver(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct core *c = ctx;

	stat_add(c->st.delivered_pkts, 1);
	stat_add(c->st.delivered_bytes, len);
	c->io.deliver(c->io.ctx, flow, data, len);
}

/* --- sending ---------------------------------------------------------------- */

static uint8_t *pkt_alloc(struct core *c, unsigned id)
{
	uint8_t *buf = c->io.tx_alloc(c->io.ctx, id);

	if (!buf)
		stat_add(c->st.tx_nobuf, 1);
	return buf;
}

static void pkt_send(struct core *c, unsigned id, uint8_t *buf, size_t len,
		     const struct core_path *path)
{
	struct core_link *lk = &c->link[id];

	stat_add(lk->st.tx_pkts, 1);
	stat_add(lk->st.tx_bytes, len);
	c->io.tx_send(c->io.ctx, id, buf, len, path);
}

/* Seals plain_len bytes already written at buf + WIRE_OUTER_LEN under the
 * session's tx key and sends them; the buffer passes to the driver. */
static void pkt_seal_send(struct core *c, unsigned id, uint8_t *buf, uint8_t type,
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
static bool send_data(struct core *c, unsigned id, uint32_t seq, uint16_t flow,
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
static unsigned fastest_link(const struct core *c, unsigned fallback)
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
	stat_add(c->st.parity_bytes, WIRE_OUTER_LEN + WIRE_PARITY_HDR_LEN + par->shard_len +
				     WIRE_TAG_LEN);
	pkt_seal_send(c, id, buf, WIRE_PARITY, WIRE_PARITY_HDR_LEN + par->shard_len, &lk->path);
}

/* Closes the block being sent and sends its parity. Each shard goes on the
 * live link that carried the fewest of the block's packets so far (parity
 * counted as it is placed), ties to the faster link: a burst on the link that
 * carried most of the block leaves the parity on the others. */
static void fec_close(struct core *c)
{
	struct recover_parity par;
	unsigned load[BRAID_MAX_LINKS];

	if (recover_tx_close(c->rec, &par) != 1)
		return;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++)
		load[id] = par.link_load[id];
	/* Each parity packet goes to the live link that carried least of the
	 * block for its weight, (packets + 1) / weight: away from the links
	 * a loss would most likely hit, but never more than a link's share
	 * can carry (all parity on a light link that carried none of the
	 * block would overfill it). Ties: the shorter round trip. */
	for (unsigned r = 0; r < par.hdr.m; r++) {
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
		if (best == BRAID_MAX_LINKS)
			return;
		load[best]++;
		send_parity(c, best, &par, r);
	}
}

/* When the block being sent closes even if not full: a quarter of the
 * budget after it opened, so its parity can still arrive in time. */
static uint64_t fec_deadline(const struct core *c)
{
	uint64_t opened = recover_tx_opened(c->rec);

	return opened == UINT64_MAX ? UINT64_MAX : opened + c->p.budget_ns / 4;
}

/* fec = auto: M for the next block from the worst live link's loss. */
static void fec_pick_m(struct core *c)
{
	uint64_t loss = 0;
	unsigned k = recover_k(c->rec);

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (lk->present && lk->state == LINK_UP && stat_get(lk->st.loss_ppm) > loss)
			loss = stat_get(lk->st.loss_ppm);
	}
	recover_tx_set_m(c->rec, recover_pick_m(k, FEC_AUTO_MAX_M(k), loss, FEC_AUTO_TARGET));
}

/* quick: a probe sent early because the link has gone quiet (probe_due):
 * it tells the link is alive and its round trip, but is no sample of loss
 * (it is not remembered in probe_ring), so probing faster while answers
 * go missing does not skew the loss estimate. */
static void send_probe(struct core *c, unsigned id, bool quick)
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
static uint64_t probe_due(const struct core *c, const struct core_link *lk)
{
	uint64_t quiet;

	if (lk->state != LINK_UP)
		return lk->next_probe;
	quiet = lk->last_reply + c->p.probe_interval_ns + 4 * lk->rttvar_ns + 2 * NS_PER_MS;
	return min_u64(lk->next_probe, max_u64(quiet, lk->probe_at + c->p.probe_interval_ns / 8));
}

/* Tells the workers' prefilter which sessions a packet may now be under:
 * after every change to the session in force or the pending one. */
static void publish_sessions(struct core *c)
{
	uint32_t pending;

	if (c->p.role == ROLE_HUB)
		pending = c->pend.on ? c->pend.session : 0;
	else
		pending = c->hs_pending ? c->hs_session : 0;
	prefilter_publish(&c->pf, c->ready ? c->session : 0, pending);
}

/* One HS_INIT on link id, with the link's cookie if it has a fresh one
 * (zeros ask the hub for one). */
static void send_hs_init_on(struct core *c, unsigned id)
{
	struct core_link *lk = &c->link[id];
	struct wire_outer o = {
		.version = BRAID_WIRE_VERSION,
		.type = WIRE_HS_INIT,
		.session = c->hs_session,
	};
	struct wire_hs hs = { 0 };
	uint8_t *buf;

	if (!lk->present || !lk->has_remote)
		return;
	memcpy(hs.nonce, c->hs_nonce, sizeof(hs.nonce));
	if (lk->cookie_have && c->now - lk->cookie_at < EDGE_COOKIE_NS)
		memcpy(hs.cookie, lk->cookie, sizeof(hs.cookie));
	buf = pkt_alloc(c, id);
	if (!buf)
		return;
	wire_put_outer(buf, &o);
	wire_put_hs(buf + WIRE_OUTER_LEN, &hs);
	pkt_send(c, id, buf, crypto_hs_seal(c->hs_key, buf, NULL), &lk->path);
}

/* Every link carries a copy: the first to arrive wins. */
static void send_hs_init(struct core *c)
{
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++)
		send_hs_init_on(c, id);
}

/* A fresh nonce for the init; the last one is kept for a cookie that
 * answers it. */
static void edge_hs_nonce(struct core *c)
{
	memcpy(c->hs_prev, c->hs_nonce, sizeof(c->hs_prev));
	c->hs_have_prev = c->hs_tries > 0;
	c->io.random(c->io.ctx, c->hs_nonce, sizeof(c->hs_nonce));
}

static void edge_start_handshake(struct core *c)
{
	do
		c->io.random(c->io.ctx, &c->hs_session, sizeof(c->hs_session));
	while (c->hs_session == 0 || (c->ready && c->hs_session == c->session));
	c->hs_tries = 0;
	edge_hs_nonce(c);
	c->hs_pending = true;
	c->hs_next = c->now;
	publish_sessions(c);
}

/* Where a direction's bond sequence starts: derived from the session id, so
 * the receiver awaits the very first datagram even if a later one overtakes
 * it, and different sessions start at different places in the 32-bit
 * space (wraps get exercised, not just in theory). */
static uint32_t session_seq0(uint32_t session, bool from_edge)
{
	return from_edge ? session * 2654435761u : ~session * 2654435761u;
}

/* Installs fresh session state; the keys are set by the caller. */
static void session_begin(struct core *c, uint32_t session)
{
	bool edge = c->p.role == ROLE_EDGE;

	c->ready = true;
	c->confirmed = edge;
	c->session = session;
	memset(c->tx_counter, 0, sizeof(c->tx_counter));
	replay_links_init(&c->replay);
	c->bond_seq = session_seq0(session, edge);
	reorder_reset_at(c->ro, session_seq0(session, !edge));
	recover_reset(c->rec);
	c->nackq[0].len = c->nackq[1].len = 0;
	c->nack_from_set = false;
	c->data_since = 0;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];

		lk->rx_any = false;
		lk->rx_mark_at = 0;
		lk->fresh_at = 0;
		lk->rx_bond_at = 0;
		lk->rx_data_at = 0;
		lk->rx_gap_ns = 0;
		lk->rx_bond_n = 0;
		lk->rx_reorder_ns = 0;
		lk->jit_have = false;
		lk->peer_have = false;
		lk->next_probe = c->now;
	}
	stat_add(c->st.handshakes, 1);
	stat_set(c->st.session, session);
	c->wake = c->now;
	publish_sessions(c);
}

static void link_heard(struct core *c, unsigned id)
{
	struct core_link *lk = &c->link[id];

	lk->last_reply = c->now;
	if (!lk->admin_down && !lk->draining)
		link_set_state(c, id, LINK_UP);
}

/* Tells the peer that link `id` is out of service: a BYE probe on the link
 * itself and a copy on the fastest other live link, so one loss does not
 * leave the peer sending into a closed socket until its probes time out. */
static void send_bye(struct core *c, unsigned id)
{
	unsigned via[2] = { id, fastest_link(c, id) };

	if (!c->ready || !c->confirmed)
		return;
	for (unsigned i = 0; i < 2; i++) {
		struct wire_probe pr = { .link_id = (uint8_t)id, .flags = WIRE_PROBE_BYE };
		struct core_link *out = &c->link[via[i]];
		uint8_t *buf;

		if ((i == 1 && via[1] == id) || !out->has_remote)
			continue;
		buf = pkt_alloc(c, via[i]);
		if (!buf)
			return;
		wire_put_probe(buf + WIRE_OUTER_LEN, &pr, 0);
		stat_add(out->st.probes_sent, 1);
		pkt_seal_send(c, via[i], buf, WIRE_PROBE, WIRE_PROBE_LEN, &out->path);
	}
}

/* The peer took link `id` out of service: stop sending on it now rather
 * than when its probes time out. It comes back when a probe sent from now
 * on is answered. */
static void on_bye(struct core *c, unsigned id)
{
	struct core_link *lk;

	if (id >= BRAID_MAX_LINKS || !c->link[id].present) {
		stat_add(c->st.malformed, 1);
		return;
	}
	lk = &c->link[id];
	lk->peer_bye = c->now;
	if (lk->state != LINK_DOWN)
		link_set_state(c, id, LINK_DOWN);
}

/* --- receiving -------------------------------------------------------------- */

static void hub_learn_path(struct core *c, unsigned id, const struct core_path *path)
{
	struct core_link *lk = &c->link[id];

	if (c->p.role != ROLE_HUB)
		return;
	/* Roaming and NAT: the edge's address is wherever its latest
	 * authenticated packet came from, and we answer from the local
	 * address it reached. */
	if (!lk->has_remote || !addr_equal(&lk->path.remote, &path->remote) ||
	    lk->path.has_local != path->has_local ||
	    (path->has_local && !addr_equal(&lk->path.local, &path->local)))
		lk->path = *path;
	lk->has_remote = true;
}

/* An answer to the handshake packet that came from path: HS_COOKIE or
 * HS_RESP, session of the init, MAC binding the init's nonce. Back to where
 * the init came from, without taking that as the link's path (an init can
 * be replayed from anywhere; only packets under the session's keys move a
 * path). Never larger than the init it answers: not an amplifier. */
static void hub_answer(struct core *c, unsigned id, const struct core_path *path,
		       uint8_t type, uint32_t session, const uint8_t *body, size_t body_len,
		       const uint8_t *init_nonce)
{
	struct wire_outer ro = {
		.version = BRAID_WIRE_VERSION,
		.type = type,
		.session = session,
	};
	uint8_t *buf = pkt_alloc(c, id);

	if (!buf)
		return;
	wire_put_outer(buf, &ro);
	memcpy(buf + WIRE_OUTER_LEN, body, body_len);
	pkt_send(c, id, buf, crypto_hs_seal(c->hs_key, buf, init_nonce), path);
}

static void hub_on_init(struct core *c, unsigned id, const struct core_path *path,
			const struct wire_outer *o, uint8_t *pkt, size_t len)
{
	const uint8_t *answer, *init_nonce;
	struct wire_hs hs, rs = { 0 };
	uint8_t body[WIRE_HS_BODY_LEN];

	if (crypto_hs_verify(c->hs_key, pkt, len, NULL) < 0) {
		stat_add(c->st.auth_fail, 1);
		return;
	}
	if (wire_parse_hs(pkt + WIRE_OUTER_LEN, WIRE_HS_BODY_LEN, &hs) < 0 || o->session == 0) {
		stat_add(c->st.malformed, 1);
		return;
	}
	/* Every answer, cookie or response, comes out of the source's
	 * bucket: a flood of captured inits gets a trickle back. */
	if (!ratelimit_allow(&c->rl, &path->remote, c->now)) {
		stat_add(c->st.hs_ratelimited, 1);
		return;
	}
	if (cookie_need_secret(&c->ck, c->now)) {
		uint8_t fresh[COOKIE_SECRET_LEN];

		c->io.random(c->io.ctx, fresh, sizeof(fresh));
		cookie_rotate(&c->ck, fresh, c->now);
		crypto_wipe(fresh, sizeof(fresh));
	}
	if (!cookie_valid(&c->ck, &path->remote, hs.cookie, c->now)) {
		/* No cookie, a stale one or another address's: ask for the
		 * one of this address, and keep nothing. */
		struct wire_hs_cookie ck;

		stat_add(c->st.hs_cookie, 1);
		cookie_make(&c->ck, &path->remote, ck.cookie);
		wire_put_hs_cookie(body, &ck);
		hub_answer(c, id, path, WIRE_HS_COOKIE, o->session, body, WIRE_HS_COOKIE_LEN,
			   hs.nonce);
		return;
	}
	if (c->pend.on && o->session == c->pend.session &&
	    memcmp(hs.nonce, c->pend.init_nonce, sizeof(hs.nonce)) == 0) {
		/* A copy of the pending init (another link, or a replay):
		 * answer it the same way. */
		answer = c->pend.hub_nonce;
		init_nonce = c->pend.init_nonce;
	} else if (c->ready && o->session == c->session &&
		   memcmp(hs.nonce, c->init_nonce, sizeof(hs.nonce)) == 0) {
		/* A late copy of the init of the session in force (a slower
		 * link's), from the edge's address on this link or on a link
		 * that has none yet: answered alike. From anywhere else it is
		 * a replay. */
		if (c->link[id].has_remote && !addr_equal(&c->link[id].path.remote, &path->remote)) {
			stat_add(c->st.replayed, 1);
			return;
		}
		answer = c->hub_nonce;
		init_nonce = c->init_nonce;
	} else if (cookie_nonce_taken(&c->ck, hs.nonce, c->now)) {
		/* An init taken before and since superseded: replayed. */
		stat_add(c->st.replayed, 1);
		return;
	} else {
		cookie_nonce_take(&c->ck, hs.nonce, c->now);
		c->pend.on = true;
		c->pend.session = o->session;
		memcpy(c->pend.init_nonce, hs.nonce, sizeof(c->pend.init_nonce));
		c->io.random(c->io.ctx, c->pend.hub_nonce, sizeof(c->pend.hub_nonce));
		crypto_derive_session(c->p.psk, c->pend.init_nonce, c->pend.hub_nonce, o->session, 0,
				      c->pend.tx_key, c->pend.rx_key);
		/* Before the answer leaves: the edge's first packet under
		 * the new session must find it taken. */
		publish_sessions(c);
		answer = c->pend.hub_nonce;
		init_nonce = c->pend.init_nonce;
	}
	memcpy(rs.nonce, answer, sizeof(rs.nonce));
	wire_put_hs(body, &rs);
	hub_answer(c, id, path, WIRE_HS_RESP, o->session, body, WIRE_HS_BODY_LEN, init_nonce);
}

/* A packet under the pending session authenticated: it becomes the
 * session in force, and the old one's keys are forgotten. */
static void hub_promote(struct core *c)
{
	memcpy(c->init_nonce, c->pend.init_nonce, sizeof(c->init_nonce));
	memcpy(c->hub_nonce, c->pend.hub_nonce, sizeof(c->hub_nonce));
	memcpy(c->tx_key, c->pend.tx_key, sizeof(c->tx_key));
	memcpy(c->rx_key, c->pend.rx_key, sizeof(c->rx_key));
	session_begin(c, c->pend.session);
	crypto_wipe(&c->pend, sizeof(c->pend));
	publish_sessions(c);
}

static void edge_on_resp(struct core *c, unsigned id, const struct wire_outer *o,
			 const uint8_t *pkt, size_t len)
{
	static const uint8_t zero[WIRE_HS_COOKIE_LEN];
	struct wire_hs hs;

	if (!c->hs_pending || o->session != c->hs_session) {
		/* The other links' answers to the init just taken are
		 * expected; anything else answers an init we never sent. */
		if (!(c->ready && o->session == c->session))
			stat_add(c->st.replayed, 1);
		return;
	}
	/* Only an answer to the latest init: the hub's pending session is
	 * the newest init it took, and an older one's keys would not match
	 * it. */
	if (crypto_hs_verify(c->hs_key, pkt, len, c->hs_nonce) < 0) {
		stat_add(c->st.auth_fail, 1);
		return;
	}
	if (wire_parse_hs(pkt + WIRE_OUTER_LEN, WIRE_HS_BODY_LEN, &hs) < 0 ||
	    memcmp(hs.cookie, zero, sizeof(zero)) != 0) {
		stat_add(c->st.malformed, 1);
		return;
	}
	crypto_derive_session(c->p.psk, c->hs_nonce, hs.nonce, c->hs_session, 1,
			      c->tx_key, c->rx_key);
	c->hs_pending = false;
	c->all_down_since = 0;
	session_begin(c, c->hs_session);
	link_heard(c, id);
}

/* The hub asks for its cookie on link id: keep it, and send the init again
 * on that link with it, now. A copy of a cookie already held changes
 * nothing, so a replayed HS_COOKIE cannot make the edge send. */
static void edge_on_cookie(struct core *c, unsigned id, const struct wire_outer *o,
			   const uint8_t *pkt, size_t len)
{
	struct core_link *lk = &c->link[id];
	struct wire_hs_cookie ck;

	if (!c->hs_pending || o->session != c->hs_session) {
		if (!(c->ready && o->session == c->session))
			stat_add(c->st.replayed, 1);
		return;
	}
	if (crypto_hs_verify(c->hs_key, pkt, len, c->hs_nonce) < 0 &&
	    (!c->hs_have_prev || crypto_hs_verify(c->hs_key, pkt, len, c->hs_prev) < 0)) {
		stat_add(c->st.auth_fail, 1);
		return;
	}
	if (wire_parse_hs_cookie(pkt + WIRE_OUTER_LEN, WIRE_HS_COOKIE_LEN, &ck) < 0) {
		stat_add(c->st.malformed, 1);
		return;
	}
	if (lk->cookie_have && c->now - lk->cookie_at < EDGE_COOKIE_NS &&
	    memcmp(lk->cookie, ck.cookie, sizeof(ck.cookie)) == 0)
		return;
	memcpy(lk->cookie, ck.cookie, sizeof(lk->cookie));
	lk->cookie_have = true;
	lk->cookie_at = c->now;
	send_hs_init_on(c, id);
	/* The answer is a round trip away: do not replace the nonce before. */
	c->hs_next = max_u64(c->hs_next, c->now + hs_retry_ns(c, c->hs_tries));
	c->wake = min_u64(c->wake, c->hs_next);
}

/* --- NACK ------------------------------------------------------------------- */

/* How long an answer to a NACK takes on the fastest live link, 0 if NACKs
 * are off or no link has a round trip yet. */
static uint64_t nack_round_trip(const struct core *c)
{
	uint64_t best = UINT64_MAX;

	if (!c->p.nack)
		return 0;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (lk->present && lk->state == LINK_UP && lk->have_rtt &&
		    lk->srtt_ns + 4 * lk->rttvar_ns < best)
			best = lk->srtt_ns + 4 * lk->rttvar_ns;
	}
	return best == UINT64_MAX ? 0 : best + NS_PER_MS;
}

/* False if the ring is full. asks: how often seq was asked for already. */
static bool nack_push(struct nack_ring *q, uint32_t seq, uint32_t asks, uint64_t due)
{
	unsigned i = (q->head + q->len) % NACK_QUEUE;

	if (q->len == NACK_QUEUE)
		return false;
	q->e[i].seq = seq;
	q->e[i].asks = asks;
	q->e[i].due = due;
	q->len++;
	return true;
}

/* Takes the head of q if it is due at now. */
static bool nack_pop(struct nack_ring *q, uint64_t now, uint32_t *seq, uint32_t *asks)
{
	if (!q->len || q->e[q->head].due > now)
		return false;
	*seq = q->e[q->head].seq;
	*asks = q->e[q->head].asks;
	q->head = (q->head + 1) % NACK_QUEUE;
	q->len--;
	return true;
}

static void nack_wake(struct core *c)
{
	for (unsigned i = 0; i < 2; i++)
		if (c->nackq[i].len)
			c->wake = min_u64(c->wake, c->nackq[i].e[c->nackq[i].head].due);
}

/* Queues, to be asked for at due, every seq below h still missing that no
 * scan has seen. A seq is scanned once; a full queue leaves the rest for the
 * next scan. */
static void nack_scan(struct core *c, uint32_t h, uint64_t due)
{
	uint32_t s = reorder_next(c->ro);
	unsigned budget = 1024;

	if (c->nack_from_set && (int32_t)(c->nack_from - s) > 0)
		s = c->nack_from;
	for (; (int32_t)(h - s) > 0 && budget; s++, budget--) {
		if (!reorder_is_missing(c->ro, s))
			continue;
		if (!nack_push(&c->nackq[0], s, 0, due))
			break;
	}
	c->nack_from = s;
	c->nack_from_set = true;
	nack_wake(c);
}

/* The delay spread of the live links: the slowest transit seen less the
 * fastest. A datagram cannot trail one sent after it by more than this, on
 * any link. 0 until every live link has shown a quarter of HORIZON_WARMUP
 * packets. */
static uint64_t link_spread(const struct core *c)
{
	int64_t tmin = INT64_MAX, tmax = INT64_MIN;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (!lk->present || lk->state != LINK_UP)
			continue;
		if (!lk->jit_have || lk->rx_bond_n < HORIZON_WARMUP / 4)
			return 0;
		if (lk->transit_min < tmin)
			tmin = lk->transit_min;
		if (lk->transit_max > tmax)
			tmax = lk->transit_max;
	}
	return tmax >= tmin && tmin != INT64_MAX ? (uint64_t)(tmax - tmin) * NS_PER_US : 0;
}

/* NACKs by age, for gaps the horizon cannot judge (a link silent, but not
 * for long enough to be left out): a seq missing below a datagram that has
 * waited three times the links' delay spread (and 2 ms) is not merely
 * overtaken; with FEC, a quarter of the budget more, for its block's parity
 * to arrive first. */
static void nack_by_age(struct core *c)
{
	uint64_t at, after, spread = link_spread(c);
	uint32_t front;

	if (!c->p.nack || !spread || !reorder_front(c->ro, &front, &at))
		return;
	after = at + 3 * spread + 2 * NS_PER_MS;
	if (recover_fec_on(c->rec))
		after += c->p.budget_ns / 4;
	if (c->now < after) {
		c->wake = min_u64(c->wake, after);
		return;
	}
	nack_scan(c, front, c->now);
}

/* Where the asks of a round go: the first, and every other one after it, on
 * the fastest live link; the second (and fourth ...) on the next fastest, if
 * its round trip is within a quarter and 2 ms of the fastest's, so that an
 * ask lost twice is not made over the same link a third time when another
 * answers about as soon. (A slower link costs more budget than the path
 * diversity wins back: measured in braid-sim's nack scenario.)
 * BRAID_MAX_LINKS if no link is up. */
static unsigned nack_link(const struct core *c, unsigned best, unsigned round)
{
	unsigned alt = BRAID_MAX_LINKS;
	uint64_t near;

	if (best == BRAID_MAX_LINKS || round % 2 == 0)
		return best;
	near = c->link[best].srtt_ns + c->link[best].srtt_ns / 4 + 2 * NS_PER_MS;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (id == best || !lk->present || !lk->has_remote || lk->state != LINK_UP ||
		    !lk->have_rtt || lk->srtt_ns > near)
			continue;
		if (alt == BRAID_MAX_LINKS || lk->srtt_ns < c->link[alt].srtt_ns)
			alt = id;
	}
	return alt == BRAID_MAX_LINKS ? best : alt;
}

/* How long an answer to an ask sent on link `via` takes: the ask's half of
 * that link's round trip, the answer's half of the fastest link's (`best`:
 * the peer answers there), and four times the larger variance and 1 ms of
 * slack; nack_round_trip() for the fastest link itself. */
static uint64_t nack_answer_ns(const struct core *c, unsigned best, unsigned via)
{
	const struct core_link *a, *b;

	if (via == BRAID_MAX_LINKS || best == BRAID_MAX_LINKS || via == best)
		return nack_round_trip(c);
	a = &c->link[via];
	b = &c->link[best];
	return a->srtt_ns / 2 + b->srtt_ns / 2 + 4 * max_u64(a->rttvar_ns, b->rttvar_ns) +
	       NS_PER_MS;
}

/* True if the head of either NACK ring is due at now. */
static bool nack_due(const struct core *c)
{
	for (unsigned i = 0; i < 2; i++)
		if (c->nackq[i].len && c->nackq[i].e[c->nackq[i].head].due <= c->now)
			return true;
	return false;
}

static void send_nack(struct core *c, const struct wire_nack *nk, unsigned id)
{
	struct wire_nack out = *nk;
	uint8_t *buf;

	if (id == BRAID_MAX_LINKS)
		return;
	buf = pkt_alloc(c, id);
	if (!buf)
		return;
	out.link_id = (uint8_t)id;
	stat_add(c->st.nack_sent, 1);
	pkt_seal_send(c, id, buf, WIRE_NACK, wire_put_nack(buf + WIRE_OUTER_LEN, &out),
		      &c->link[id].path);
}

/* Asks for every queued seq whose grace is up, if it is still missing and
 * an answer can still arrive before its gap runs out of budget: as few NACK
 * packets as the ranges need, one batch for the asks that go on the fastest
 * link and one for those that go on the next (nack_link). Each ask is made
 * again once its answer is overdue. */
static void nack_flush(struct core *c)
{
	struct wire_nack nk[2];
	unsigned best, via[2];
	uint64_t ans[2];

	nack_by_age(c);
	/* Runs after every packet received: the links are looked at only
	 * when an ask is due. */
	if (!nack_due(c)) {
		nack_wake(c);
		return;
	}
	best = c->p.nack ? fastest_link(c, BRAID_MAX_LINKS) : BRAID_MAX_LINKS;
	for (unsigned i = 0; i < 2; i++) {
		nk[i].count = 0;
		via[i] = nack_link(c, best, i);
		ans[i] = nack_answer_ns(c, best, via[i]);
	}
	for (;;) {
		struct wire_nack *b;
		uint32_t seq, asks;
		unsigned r;

		if (!nack_pop(&c->nackq[0], c->now, &seq, &asks) &&
		    !nack_pop(&c->nackq[1], c->now, &seq, &asks))
			break;
		r = asks % 2;
		if (!ans[r] || !reorder_is_missing(c->ro, seq) ||
		    c->now + ans[r] > reorder_budget_deadline(c->ro))
			continue;
		b = &nk[r];
		/* The NACK or its answer may be lost too: ask again if nothing
		 * came within the time an answer takes, for as long as the
		 * budget has room for one more answer. Whether it has is
		 * judged when the ask is due, not now: how much budget is
		 * left, not how much a round trip would be in the best case. */
		if (asks + 1 < NACK_ASKS)
			nack_push(&c->nackq[1], seq, asks + 1, c->now + ans[r]);
		if (b->count && seq - b->e[b->count - 1].base_seq < 64) {
			b->e[b->count - 1].bits |= 1ull << (seq - b->e[b->count - 1].base_seq);
		} else {
			if (b->count == WIRE_NACK_MAX) {
				send_nack(c, b, via[r]);
				b->count = 0;
			}
			b->e[b->count].base_seq = seq;
			b->e[b->count].bits = 1;
			b->count++;
		}
		stat_add(c->st.nack_seqs, 1);
	}
	for (unsigned i = 0; i < 2; i++)
		if (nk[i].count)
			send_nack(c, &nk[i], via[i]);
	nack_wake(c);
}

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
 * HORIZON_WARMUP) is left out, and then the grace
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

static void set_horizon(struct core *c)
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
			continue;
		}
		/* Down in our eyes need not be down in the peer's: a link
		 * still delivering counts like any other. */
		silent = c->now - lk->rx_data_at > max_u64(2 * NS_PER_MS, 4 * lk->rx_gap_ns) &&
			 (lk->rx_bond_n >= HORIZON_WARMUP / 4 || lk->state != LINK_UP);
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
	/* A block's parity leaves before the data packet K after its first,
	 * so a gap is not given up on (or asked for) until that one has
	 * passed too: FEC gets its chance first, and a loss it repairs is not
	 * also retransmitted. */
	if (recover_fec_on(c->rec))
		h -= recover_k(c->rec);
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

/* A DATA or PARITY packet on link lk: the per-link loss window, RFC 3550
 * jitter and the transit range, from its link sequence and timestamp. */
static void link_rx_account(struct core *c, struct core_link *lk, uint32_t link_seq,
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
static void link_rx_age(struct core *c, struct core_link *lk)
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

/* A datagram rebuilt from parity: into the reorder buffer as if it had
 * arrived. Counted only if it was still wanted. */
static void on_recovered(void *ctx, uint32_t seq, uint16_t flow, const uint8_t *data, size_t len)
{
	struct core *c = ctx;
	enum reorder_result res = reorder_push(c->ro, seq, flow, data, len, c->now, on_deliver, c);

	if (res == REORDER_DELIVERED || res == REORDER_HELD)
		stat_add(c->st.fec_recovered, 1);
}

static void on_data(struct core *c, unsigned id, const struct wire_data *dp,
		    const uint8_t *payload, size_t len)
{
	struct core_link *lk = &c->link[id];
	const struct wire_data d = *dp;
	enum reorder_result res;
	bool early = false;

	link_rx_account(c, lk, d.link_seq, d.tx_us);

	if (d.flags & WIRE_DATA_RETX) {
		/* Sent again out of order on purpose: it says nothing of the
		 * order this link keeps, nor of what it carries. */
		stat_add(c->st.retx_rx, 1);
	} else {
		if (!lk->rx_bond_at || (int32_t)(d.bond_seq - lk->rx_bond_max) > 0) {
			lk->rx_bond_max = d.bond_seq;
			lk->rx_bond_at = c->now;
		} else if (c->now - lk->rx_bond_at > lk->rx_reorder_ns) {
			lk->rx_reorder_ns = c->now - lk->rx_bond_at;
		}
		if (lk->rx_bond_n < HORIZON_WARMUP)
			lk->rx_bond_n++;
		if (lk->rx_data_at) {
			uint64_t gap = c->now - lk->rx_data_at;

			lk->rx_gap_ns = lk->rx_gap_ns + gap / 8 - lk->rx_gap_ns / 8;
		} else {
			lk->rx_first_at = c->now;
			if (!c->data_since)
				c->data_since = c->now;
		}
		lk->rx_data_at = c->now;
	}

	if (recover_fec_on(c->rec))
		early = recover_rx_data(c->rec, d.bond_seq, d.flow, payload, len);
	res = reorder_push(c->ro, d.bond_seq, d.flow, payload, len, c->now, on_deliver, c);
	if (res == REORDER_DUPLICATE && early)
		stat_add(c->st.fec_early, 1);
	else if (res == REORDER_DUPLICATE && (d.flags & WIRE_DATA_RETX))
		stat_add(c->st.retx_dup, 1);
	else if (res == REORDER_DUPLICATE && c->retx_took[d.bond_seq % RETX_TOOK] == d.bond_seq + 1)
		/* The original was only late, and its retransmission came
		 * first: needless all the same. */
		stat_add(c->st.retx_dup, 1);
	if (res != REORDER_DUPLICATE && res != REORDER_LATE && (d.flags & WIRE_DATA_RETX))
		c->retx_took[d.bond_seq % RETX_TOOK] = d.bond_seq + 1;
	if (recover_fec_on(c->rec))
		recover_rx_retry(c->rec, d.bond_seq, on_recovered, c);
	set_horizon(c);
	c->wake = min_u64(c->wake, reorder_deadline(c->ro));
	sync_reorder_stats(c);
}

static void on_parity(struct core *c, unsigned id, const struct wire_parity *h,
		      const uint8_t *shard, size_t len)
{
	struct core_link *lk = &c->link[id];

	link_rx_account(c, lk, h->link_seq, h->tx_us);
	stat_add(c->st.parity_rx, 1);
	if (!recover_fec_on(c->rec)) {
		stat_add(c->st.fec_unusable, 1);
		return;
	}
	recover_rx_parity(c->rec, h, shard, len, on_recovered, c);
	stat_set(c->st.fec_unusable, recover_rx_stats(c->rec)->unusable);
	set_horizon(c);
	c->wake = min_u64(c->wake, reorder_deadline(c->ro));
	sync_reorder_stats(c);
}

/* Answers a NACK: each sequence number asked for that is still in the store,
 * young enough to be of use and not sent again before, goes out once more on
 * the fastest live link. */
static void on_nack(struct core *c, unsigned id, const struct wire_nack *nk)
{
	unsigned to;

	stat_add(c->st.nack_rx, 1);
	if (!c->p.nack)
		return;
	to = fastest_link(c, id);
	for (unsigned e = 0; e < nk->count; e++) {
		for (unsigned i = 0; i < 64; i++) {
			uint32_t seq = nk->e[e].base_seq + i;
			const uint8_t *data;
			uint16_t flow;
			int len;

			if (!(nk->e[e].bits & (1ull << i)))
				continue;
			len = recover_retx_take(c->rec, seq, c->now, c->p.budget_ns, &flow, &data);
			if (len >= 0)
				send_data(c, to, seq, flow, data, (size_t)len, WIRE_DATA_RETX);
		}
	}
}

static void on_probe(struct core *c, unsigned id, const struct wire_probe *in)
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

static void on_probe_reply(struct core *c, unsigned id, const struct wire_probe *in)
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

/* An authenticated packet's inner header, parsed before anything acts on it,
 * so that what it says of its link is checked before the packet may move the
 * link's path. */
union inner {
	struct wire_data d;
	struct wire_parity par;
	struct wire_nack nk;
	struct wire_probe pr;
};

/* Parses the inner header of a packet of type `type` (plain, n bytes) into
 * in and sets *link to the link it names as the one it went out on, or to
 * `arrival` for a BYE, which names the link it takes out of service and may
 * come on any (its outer counter still names the link it came on). 0 or
 * -EBADMSG (malformed, or a type not spoken). */
static int inner_parse(uint8_t type, const uint8_t *plain, size_t n, unsigned arrival,
		       union inner *in, unsigned *link)
{
	switch (type) {
	case WIRE_DATA:
		if (wire_parse_data(plain, n, &in->d) < 0)
			return -EBADMSG;
		*link = in->d.link_id;
		return 0;
	case WIRE_PARITY:
		if (wire_parse_parity(plain, n, &in->par) < 0)
			return -EBADMSG;
		*link = in->par.link_id;
		return 0;
	case WIRE_NACK:
		if (wire_parse_nack(plain, n, &in->nk) < 0)
			return -EBADMSG;
		*link = in->nk.link_id;
		return 0;
	case WIRE_PROBE:
	case WIRE_PROBE_REPLY:
		if (wire_parse_probe(plain, n, &in->pr, type == WIRE_PROBE_REPLY) < 0)
			return -EBADMSG;
		*link = type == WIRE_PROBE && (in->pr.flags & WIRE_PROBE_BYE) ? arrival
									   : in->pr.link_id;
		return 0;
	default:
		/* ACK: authenticated but not spoken. */
		return -EBADMSG;
	}
}

static void count_refused(struct core *c, enum replay_verdict v)
{
	if (v == REPLAY_WRONG_LINK)
		stat_add(c->st.wrong_link, 1);
	else
		stat_add(c->st.replayed, 1);
}

void core_rx_link(struct core *c, unsigned id, const struct core_path *path,
		  uint8_t *pkt, size_t len, uint64_t now)
{
	enum replay_verdict v;
	struct wire_outer o;
	struct core_link *lk;
	union inner in;
	unsigned named;
	bool newest = false;
	int n;

	c->now = now;
	if (id >= BRAID_MAX_LINKS || !c->link[id].present) {
		stat_add(c->st.malformed, 1);
		return;
	}
	lk = &c->link[id];
	n = wire_parse_outer(pkt, len, &o);
	if (n < 0) {
		if (len > BRAID_PKT_MAX)
			stat_add(c->st.oversize, 1);
		else
			stat_add(c->st.malformed, 1);
		return;
	}
	if (o.type == WIRE_HS_INIT || o.type == WIRE_HS_RESP || o.type == WIRE_HS_COOKIE) {
		if (o.type == WIRE_HS_INIT && c->p.role == ROLE_HUB)
			hub_on_init(c, id, path, &o, pkt, len);
		else if (o.type == WIRE_HS_RESP && c->p.role == ROLE_EDGE)
			edge_on_resp(c, id, &o, pkt, len);
		else if (o.type == WIRE_HS_COOKIE && c->p.role == ROLE_EDGE)
			edge_on_cookie(c, id, &o, pkt, len);
		else
			stat_add(c->st.malformed, 1);
		return;
	}
	if (c->pend.on && o.session == c->pend.session) {
		/* The first packet under the pending session: if it opens,
		 * the edge has the keys, and the session is its. Only if it
		 * came on the link it was sent on: a copy delivered to
		 * another link's socket moves nothing. */
		if (replay_counter_link(o.counter) != id) {
			stat_add(c->st.wrong_link, 1);
			return;
		}
		n = crypto_open(c->pend.rx_key, o.counter, pkt, len);
		if (n < 0) {
			stat_add(c->st.auth_fail, 1);
			return;
		}
		hub_promote(c);
		link_heard(c, id);
	} else if (!c->ready || o.session != c->session) {
		stat_add(c->st.no_session, 1);
		return;
	} else if ((v = replay_links_check(&c->replay, id, o.counter)) != REPLAY_FRESH) {
		/* Before the costly decryption. The counter is authenticated
		 * (the outer header is associated data), so one naming
		 * another link is a copy someone delivered here. */
		count_refused(c, v);
		return;
	} else {
		n = crypto_open(c->rx_key, o.counter, pkt, len);
		if (n < 0) {
			stat_add(c->st.auth_fail, 1);
			return;
		}
	}
	v = replay_links_commit(&c->replay, id, o.counter, &newest);
	if (v != REPLAY_FRESH) {
		count_refused(c, v);
		return;
	}
	if (inner_parse(o.type, pkt + WIRE_OUTER_LEN, (size_t)n, id, &in, &named) < 0) {
		stat_add(c->st.malformed, 1);
		return;
	}
	if (named != id) {
		/* The peer names another link inside the encryption than its
		 * counter does: never sent so by braid. */
		stat_add(c->st.wrong_link, 1);
		return;
	}
	stat_add(lk->st.rx_pkts, 1);
	stat_add(lk->st.rx_bytes, len);
	if (!c->confirmed) {
		/* The hub starts probing only now: its links' silence is
		 * timed from here, not from the handshake, so a slow link is
		 * not declared dead before its first probe could be answered. */
		c->confirmed = true;
		c->wake = now;
		for (unsigned i = 0; i < BRAID_MAX_LINKS; i++)
			if (c->link[i].present && c->link[i].state == LINK_UP)
				c->link[i].last_reply = now;
	}
	/* Only the newest packet on the link may move its path: an older one
	 * the window still takes may be a copy held back and sent from
	 * elsewhere (WireGuard moves an endpoint only forward, too). */
	if (newest)
		hub_learn_path(c, id, path);

	switch (o.type) {
	case WIRE_DATA:
		on_data(c, id, &in.d, pkt + WIRE_OUTER_LEN + WIRE_DATA_HDR_LEN,
			(size_t)n - WIRE_DATA_HDR_LEN);
		break;
	case WIRE_PROBE:
		on_probe(c, id, &in.pr);
		break;
	case WIRE_PROBE_REPLY:
		on_probe_reply(c, id, &in.pr);
		break;
	case WIRE_PARITY:
		on_parity(c, id, &in.par, pkt + WIRE_OUTER_LEN + WIRE_PARITY_HDR_LEN,
			  (size_t)n - WIRE_PARITY_HDR_LEN);
		break;
	case WIRE_NACK:
		on_nack(c, id, &in.nk);
		break;
	}
	nack_flush(c);
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
			fec_pick_m(c);
		full = recover_tx_add(c->rec, seq, flow, data, len, mask, now);
		if (full == -EINVAL) {
			/* Cannot happen while seqs are consecutive; start over. */
			fec_close(c);
			full = recover_tx_add(c->rec, seq, flow, data, len, mask, now);
		}
		stat_set(c->st.fec_k, recover_k(c->rec));
		stat_set(c->st.fec_m, recover_tx_m(c->rec));
		if (full == 1)
			fec_close(c);
		else
			c->wake = min_u64(c->wake, fec_deadline(c));
	}
}

static bool edge_all_down(const struct core *c)
{
	bool any = false;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (!lk->present)
			continue;
		any = true;
		if (lk->state != LINK_DOWN)
			return false;
	}
	return any;
}

uint64_t core_tick(struct core *c, uint64_t now)
{
	uint64_t next = now + TICK_MAX_NS;

	c->now = now;
	if (c->p.role == ROLE_EDGE) {
		if (!c->ready && !c->hs_pending)
			edge_start_handshake(c);
		/* Every link silent for a while: the hub may have restarted
		 * and lost our session. Ask for a new one (the old one keeps
		 * working meanwhile, should the links come back). */
		if (c->ready && !c->hs_pending && edge_all_down(c)) {
			if (!c->all_down_since)
				c->all_down_since = now;
			else if (now - c->all_down_since >= c->p.probe_interval_ns)
				edge_start_handshake(c);
		} else if (!c->hs_pending) {
			c->all_down_since = 0;
		}
		if (c->hs_pending) {
			if (now >= c->hs_next) {
				/* A retry is a new init: nothing the hub
				 * took before can refuse it. */
				if (c->hs_tries)
					edge_hs_nonce(c);
				send_hs_init(c);
				c->hs_next = now + hs_retry_ns(c, c->hs_tries);
				c->hs_tries++;
			}
			next = min_u64(next, c->hs_next);
		}
	}

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];

		if (!lk->present || !lk->draining)
			continue;
		if (now >= lk->drain_until)
			link_forget(c, id);
		else
			next = min_u64(next, lk->drain_until);
	}
	if (c->ready && c->confirmed) {
		for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
			struct core_link *lk = &c->link[id];

			if (!lk->present || !lk->has_remote || lk->admin_down || lk->draining)
				continue;
			if (now >= probe_due(c, lk)) {
				send_probe(c, id, now < lk->next_probe);
				if (now >= lk->next_probe)
					lk->next_probe = now + c->p.probe_interval_ns;
			}
			next = min_u64(next, probe_due(c, lk));
			if (lk->state == LINK_UP) {
				uint64_t dead = lk->last_reply + dead_after_ns(c, lk);

				if (now >= dead)
					link_set_state(c, id, LINK_DOWN);
				else
					next = min_u64(next, dead);
			}
		}
	}

	if (c->ready && c->confirmed && recover_fec_on(c->rec)) {
		if (now >= fec_deadline(c))
			fec_close(c);
		next = min_u64(next, fec_deadline(c));
	}
	c->wake = UINT64_MAX;
	nack_flush(c);
	next = min_u64(next, c->wake);
	next = min_u64(next, reorder_tick(c->ro, now, on_deliver, c));
	sync_reorder_stats(c);
	c->wake = next;
	return next;
}

uint64_t core_next_tick(const struct core *c)
{
	return c->wake;
}

/* --- setup ------------------------------------------------------------------ */

int core_create(struct core **out, const struct core_params *p, const struct core_io *io)
{
	struct reorder_cfg rc = {
		.window = p->reorder_window,
		.budget_ns = p->budget_ns,
		.unordered = p->unordered,
	};
	struct core *c;
	int err;

	if (!io->tx_alloc || !io->tx_send || !io->deliver || !io->random ||
	    p->probe_interval_ns == 0 || p->budget_ns == 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = reorder_create(&c->ro, &rc);
	if (err < 0)
		goto err_free;
	err = recover_create(&c->rec, &(struct recover_cfg){
		.k = p->fec_k,
		.m = p->fec_m,
		.fec_auto = p->fec_auto,
		.store = p->fec_k || p->nack ? RECOVER_STORE : 0,
	});
	if (err < 0)
		goto err_ro;
	c->p = *p;
	c->io = *io;
	sched_init(&c->sched, p->mode);
	c->replay = (struct replay_links){ .n = BRAID_MAX_LINKS, .win = c->rx_win };
	replay_links_init(&c->replay);
	crypto_derive_hs_key(p->psk, c->hs_key);
	prefilter_view_init(&c->pf, p->role == ROLE_HUB);
	if (p->role == ROLE_HUB) {
		uint8_t key[RATELIMIT_KEY_LEN];

		io->random(io->ctx, key, sizeof(key));
		ratelimit_init(&c->rl, key, RATELIMIT_RATE, RATELIMIT_BURST);
		crypto_wipe(key, sizeof(key));
	}
	*out = c;
	return 0;

err_ro:
	reorder_destroy(c->ro);
err_free:
	free(c);
	return err;
}

void core_destroy(struct core *c)
{
	if (!c)
		return;
	reorder_destroy(c->ro);
	recover_destroy(c->rec);
	crypto_wipe(c, sizeof(*c));
	free(c);
}

int core_link_add(struct core *c, const struct core_link_params *lp)
{
	struct core_link *lk;
	int err;

	if (lp->id >= BRAID_MAX_LINKS || !lp->name || !config_valid_name(lp->name))
		return -EINVAL;
	lk = &c->link[lp->id];
	if (lk->present)
		return -EEXIST;
	err = sched_link_add(&c->sched, lp->id, lp->weight, lp->priority);
	if (err < 0)
		return err;
	memset(lk, 0, sizeof(*lk));
	lk->present = true;
	lk->weight_auto = lp->weight_auto;
	stat_set(lk->st.weight_auto, lp->weight_auto);
	snprintf(lk->name, sizeof(lk->name), "%s", lp->name);
	if (lp->remote) {
		lk->path.remote = *lp->remote;
		lk->has_remote = true;
	}
	lk->state = LINK_PROBING;
	lk->next_probe = c->now;
	c->wake = c->now;
	stat_set(lk->st.state, LINK_PROBING);
	stat_set(lk->st.state_since_ns, c->now);
	stat_set(lk->st.weight, lp->weight);
	return 0;
}

/* Forgets link id at once. Its counters stay as they were (another thread
 * may be reading them) until the id is added again. */
static void link_forget(struct core *c, unsigned id)
{
	struct core_link *lk = &c->link[id];

	sched_link_del(&c->sched, id);
	memset(lk, 0, offsetof(struct core_link, st));
	stat_set(lk->st.draining, 0);
	if (c->io.link_gone)
		c->io.link_gone(c->io.ctx, id);
}

int core_link_del(struct core *c, unsigned id)
{
	if (id >= BRAID_MAX_LINKS || !c->link[id].present)
		return -ENOENT;
	link_forget(c, id);
	return 0;
}

/* How long a deleted link keeps receiving: what the peer sent before our
 * BYE reached it arrives within about a round trip; twice that, its
 * variance and 10 ms cover jitter, at most a second. Without a round trip
 * measured, one probe interval. */
static uint64_t drain_ns(const struct core *c, const struct core_link *lk)
{
	if (!lk->have_rtt || lk->state != LINK_UP)
		return min_u64(c->p.probe_interval_ns, NS_PER_S);
	return min_u64(2 * lk->srtt_ns + 4 * lk->rttvar_ns + 10 * NS_PER_MS, NS_PER_S);
}

int core_link_drain(struct core *c, unsigned id)
{
	struct core_link *lk;

	if (id >= BRAID_MAX_LINKS || !c->link[id].present)
		return -ENOENT;
	lk = &c->link[id];
	if (lk->draining)
		return -EALREADY;
	lk->drain_until = c->now + drain_ns(c, lk);
	lk->draining = true;
	stat_set(lk->st.draining, 1);
	/* Out of the schedule before the peer hears of it, so nothing new
	 * goes its way; the peer's BYE copy goes on another link. */
	link_set_state(c, id, LINK_DOWN);
	sched_link_del(&c->sched, id);
	send_bye(c, id);
	c->wake = min_u64(c->wake, lk->drain_until);
	return 0;
}

int core_link_set_admin(struct core *c, unsigned id, bool down)
{
	struct core_link *lk;

	if (id >= BRAID_MAX_LINKS || !c->link[id].present || c->link[id].draining)
		return -ENOENT;
	lk = &c->link[id];
	if (lk->admin_down == down)
		return 0;
	lk->admin_down = down;
	stat_set(lk->st.admin_down, down);
	if (down) {
		link_set_state(c, id, LINK_DOWN);
		send_bye(c, id);
	} else {
		/* Back in service once a probe is answered, as when added. */
		link_set_state(c, id, LINK_PROBING);
		lk->next_probe = c->now;
		c->wake = c->now;
	}
	return 0;
}

int core_link_set_weight(struct core *c, unsigned id, uint32_t weight, bool is_auto)
{
	struct core_link *lk;
	int err;

	if (id >= BRAID_MAX_LINKS || !c->link[id].present || c->link[id].draining)
		return -ENOENT;
	lk = &c->link[id];
	if (is_auto) {
		lk->weight_auto = true;
		stat_set(lk->st.weight_auto, 1);
		auto_weights(c);
		return 0;
	}
	err = sched_link_set_weight(&c->sched, id, weight);
	if (err == 0) {
		lk->weight_auto = false;
		stat_set(lk->st.weight_auto, 0);
		stat_set(lk->st.weight, weight);
	}
	return err;
}

void core_count_oversize(struct core *c)
{
	stat_add(c->st.oversize, 1);
}

const struct prefilter_view *core_prefilter_view(const struct core *c)
{
	return &c->pf;
}

bool core_ready(const struct core *c)
{
	return c->ready;
}

const struct braid_bond_stats *core_bond_stats(const struct core *c)
{
	return &c->st;
}

const struct braid_link_stats *core_link_stats(const struct core *c, unsigned id)
{
	if (id >= BRAID_MAX_LINKS || !c->link[id].present)
		return NULL;
	return &c->link[id].st;
}

const struct braid_link_stats *core_link_stats_any(const struct core *c, unsigned id)
{
	return id < BRAID_MAX_LINKS ? &c->link[id].st : NULL;
}

const char *core_link_name(const struct core *c, unsigned id)
{
	if (id >= BRAID_MAX_LINKS || !c->link[id].present)
		return NULL;
	return c->link[id].name;
}
