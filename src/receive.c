/* Receiving (core_priv.h names the core's other files): a packet from a link
 * opened under the session's key, checked against the link's replay window
 * and the link it names, and handed on by type; DATA and PARITY through loss
 * recovery into the reorder buffer, and from there to the application. */
#include <errno.h>

#include "braid/wire.h"
#include "core_priv.h"
#include "crypto.h"
#include "recover.h"
#include "reorder.h"
#include "replay.h"

/* Publishes the reorder buffer's running totals (kept across sessions). */
void sync_reorder_stats(struct core *c)
{
	const struct reorder_counters *rc = reorder_counters(c->ro);

	stat_set(c->st.lost, rc->lost);
	stat_set(c->st.duplicates, rc->duplicates);
	stat_set(c->st.reordered, rc->reordered);
	stat_set(c->st.late, rc->late);
}

void on_deliver(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct core *c = ctx;

	stat_add(c->st.delivered_pkts, 1);
	stat_add(c->st.delivered_bytes, len);
	c->io.deliver(c->io.ctx, flow, data, len);
}

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

/* How many packets past a gap its block's parity may still be: the horizon
 * holds the gap back that far, so FEC gets its chance first. With a fixed
 * code, K. With fec = auto, the largest recent block's k_used (the peer
 * sizes its blocks to its rate), and 0 if no parity came for a second: over
 * clean links auto sends none, and then no gap waits for FEC. */
unsigned fec_rx_wait_k(const struct core *c)
{
	if (!recover_fec_on(c->rec))
		return 0;
	if (!c->p.fec_auto)
		return recover_k(c->rec);
	return c->fec_rx_k && c->now - c->fec_rx_at < NS_PER_S ? c->fec_rx_k : 0;
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
	/* The largest block of the last 250 ms: a partial one (the peer's
	 * rate dipped) does not shorten the wait for full ones. */
	if (h->k_used && h->k_used <= recover_k(c->rec) &&
	    (h->k_used >= c->fec_rx_k || c->now - c->fec_rx_at > 250 * NS_PER_MS)) {
		c->fec_rx_k = h->k_used;
		c->fec_rx_at = c->now;
	}
	recover_rx_parity(c->rec, h, shard, len, on_recovered, c);
	nack_fec_block(c, h->first_seq);
	stat_set(c->st.fec_unusable, recover_rx_stats(c->rec)->unusable);
	set_horizon(c);
	c->wake = min_u64(c->wake, reorder_deadline(c->ro));
	sync_reorder_stats(c);
}

/* An authenticated packet's inner header, parsed before anything acts on it,
 * so that what it says of its link is checked before the packet may move the
 * link's path. */
union inner {
	struct wire_data d;
	struct wire_parity par;
	struct wire_nack nk;
	struct wire_probe pr;
	struct wire_feedback fb;
};

/* Parses the inner header of a packet of type `type` (plain, n bytes) into
 * in and sets *link to the link it names as the one it went out on, or to
 * `arrival` for a BYE, which names the link it takes out of service and may
 * come on any, and for a FEEDBACK, which names only the links it reports on
 * (the outer counter of both still names the link they came on). 0 or
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
	case WIRE_FEEDBACK:
		if (wire_parse_feedback(plain, n, &in->fb) < 0)
			return -EBADMSG;
		*link = arrival;
		return 0;
	default:
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
		fb_rx_sample(c, id, in.d.tx_us, len, true);
		on_data(c, id, &in.d, pkt + WIRE_OUTER_LEN + WIRE_DATA_HDR_LEN,
			(size_t)n - WIRE_DATA_HDR_LEN);
		break;
	case WIRE_PROBE:
		/* A probe's time is the peer's clock, as DATA's is (a
		 * reply's is ours, echoed). */
		if (!(in.pr.flags & WIRE_PROBE_BYE))
			fb_rx_sample(c, id, (uint32_t)(in.pr.tx_ns / NS_PER_US), len, false);
		on_probe(c, id, &in.pr);
		break;
	case WIRE_PROBE_REPLY:
		on_probe_reply(c, id, &in.pr);
		break;
	case WIRE_PARITY:
		fb_rx_sample(c, id, in.par.tx_us, len, true);
		on_parity(c, id, &in.par, pkt + WIRE_OUTER_LEN + WIRE_PARITY_HDR_LEN,
			  (size_t)n - WIRE_PARITY_HDR_LEN);
		break;
	case WIRE_FEEDBACK:
		on_feedback(c, &in.fb);
		break;
	case WIRE_NACK:
		on_nack(c, id, &in.nk);
		break;
	}
	nack_flush(c);
}
