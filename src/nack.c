/* NACKs (core_priv.h names the core's other files): the sequence numbers the
 * horizon or their age gives up on, queued and asked for while an answer can
 * still arrive within the budget, and again while one is overdue; and the
 * peer's asks, answered from the store. */
#include "braid/wire.h"
#include "core_priv.h"
#include "recover.h"
#include "reorder.h"

/* How long an answer to a NACK takes on the fastest live link, 0 if NACKs
 * are off or no link has a round trip yet. */
uint64_t nack_round_trip(const struct core *c)
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

/* True if seq was queued by nack_fec_due (0 marks an empty entry, so the
 * seq before 0 is never taken for one). */
static bool nack_early_has(const struct core *c, uint32_t seq)
{
	uint32_t e = c->nack_early[seq % NACK_EARLY];

	return e && e == seq + 1;
}

/* Queues, to be asked for at due, every seq below h still missing that no
 * scan has seen. A seq is scanned once; a full queue leaves the rest for the
 * next scan. */
void nack_scan(struct core *c, uint32_t h, uint64_t due)
{
	uint32_t s = reorder_next(c->ro);
	unsigned budget = 1024;

	if (c->nack_from_set && (int32_t)(c->nack_from - s) > 0)
		s = c->nack_from;
	for (; (int32_t)(h - s) > 0 && budget; s++, budget--) {
		if (!reorder_is_missing(c->ro, s) || nack_early_has(c, s))
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

/* A parity shard of the block at first_seq came and the block still cannot
 * be rebuilt: its other shards left with this one, so they arrive within
 * the links' delay spread (and 1 ms) of it, or not at all. Then what it
 * still lacks, beyond what its parity covers, is asked for at once: a
 * loss FEC cannot repair costs one round trip after the parity, not the
 * wait for the horizon to pass the block. */
void nack_fec_block(struct core *c, uint32_t first_seq)
{
	uint64_t spread = link_spread(c);
	unsigned slot = 0;
	uint32_t seq;

	if (!c->p.nack || !spread || !recover_rx_need(c->rec, first_seq, &seq, 1))
		return;
	for (unsigned i = 0; i < NACK_FEC_CHK; i++) {
		if (c->fec_chk[i].at && c->fec_chk[i].first == first_seq)
			return;
		if (c->fec_chk[i].at < c->fec_chk[slot].at)
			slot = i;
	}
	c->fec_chk[slot].first = first_seq;
	c->fec_chk[slot].at = c->now + 2 * spread + NS_PER_MS;
	c->wake = min_u64(c->wake, c->fec_chk[slot].at);
}

/* The blocks nack_fec_block holds whose time is up: what they lack is
 * queued to be asked for now. */
static void nack_fec_due(struct core *c)
{
	for (unsigned i = 0; i < NACK_FEC_CHK; i++) {
		uint32_t seqs[BRAID_FEC_M_MAX];
		unsigned n;

		if (!c->fec_chk[i].at)
			continue;
		if (c->fec_chk[i].at > c->now) {
			c->wake = min_u64(c->wake, c->fec_chk[i].at);
			continue;
		}
		c->fec_chk[i].at = 0;
		n = recover_rx_need(c->rec, c->fec_chk[i].first, seqs, BRAID_FEC_M_MAX);
		for (unsigned j = 0; j < n; j++) {
			if (!reorder_is_missing(c->ro, seqs[j]) ||
			    nack_early_has(c, seqs[j]) ||
			    !nack_push(&c->nackq[0], seqs[j], 0, c->now))
				continue;
			c->nack_early[seqs[j] % NACK_EARLY] = seqs[j] + 1;
		}
	}
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
	if (fec_rx_wait_k(c))
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
void nack_flush(struct core *c)
{
	struct wire_nack nk[2];
	unsigned best, via[2];
	uint64_t ans[2];

	nack_by_age(c);
	nack_fec_due(c);
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

/* Answers a NACK: each sequence number asked for that is still in the store,
 * young enough to be of use and not sent again before, goes out once more on
 * the fastest live link. */
void on_nack(struct core *c, unsigned id, const struct wire_nack *nk)
{
	unsigned to;

	stat_add(c->st.nack_rx, 1);
	if (!c->p.nack)
		return;
	for (unsigned e = 0; e < nk->count; e++) {
		for (unsigned i = 0; i < 64; i++) {
			uint32_t seq = nk->e[e].base_seq + i;
			const uint8_t *data;
			uint16_t flow;
			int len;

			if (!(nk->e[e].bits & (1ull << i)))
				continue;
			len = recover_retx_take(c->rec, seq, c->now, c->p.budget_ns, &flow, &data);
			if (len < 0)
				continue;
			/* Each on the link where it lands first, what went
			 * before it counted, so a burst of asks spreads. */
			to = earliest_link(c, DATA_OVERHEAD + (size_t)len, id);
			if (send_data(c, to, seq, flow, data, (size_t)len, WIRE_DATA_RETX))
				sched_link_charge(&c->sched, to, DATA_OVERHEAD + (size_t)len, c->now);
		}
	}
}
