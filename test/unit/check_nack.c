/* NACK retransmission, end to end through two real cores.
 *
 * A small event-driven harness wires an edge core and a hub core through
 * modelled links: a virtual clock in ns, a fixed array of packets in flight
 * (each with its arrival time, link and destination), a constant one-way
 * delay per link and direction (so each link is FIFO and all reordering is
 * across links), and deterministic impairments chosen per test: drop every
 * Nth first-time DATA packet the edge sends, and lose, corrupt, truncate or
 * duplicate particular NACKs or retransmissions. The application on the edge
 * sends one datagram (64..1000 bytes, every byte a function of its number) on
 * flow 0 every millisecond once the handshake and probes have settled; the
 * hub's deliver callback checks each one for content, order and uniqueness.
 *
 * Everything is fixed-size and seeded: a run allocates only at its start and
 * gives the same result every time. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "braid/sched.h"
#include "braid/stats.h"
#include "braid/wire.h"
#include "addr.h"
#include "config.h"
#include "core.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

#define EDGE 0
#define HUB  1

#define NLINK_MAX 4
#define QCAP      512		/* packets in flight at once */
#define POOL_N    16		/* tx buffers per side */
#define APP_MAX   4096		/* datagrams one run may send */
#define SPIN_MAX  10000		/* core_tick calls at one instant before we call it a livelock */

/* The clock starts at T0; the application sends from T0 + SETTLE for SEND_NS,
 * one datagram every APP_GAP_NS; the run ends DRAIN_NS after the last. */
#define T0         NS_PER_S
#define SETTLE_NS  NS_PER_S
#define SEND_NS    (3 * NS_PER_S)
#define APP_GAP_NS NS_PER_MS
#define DRAIN_NS   NS_PER_S

#define PLEN_MIN 64
#define PLEN_MAX 1000

/* What the network does to one NACK or retransmission. */
enum fate { PASS, LOSE, CORRUPT, TRUNCATE, DUPLICATE };

struct scenario {
	unsigned nlinks;
	uint64_t delay_ns[NLINK_MAX][2];	/* one way; [EDGE]: edge to hub */
	uint64_t budget_ns;
	unsigned fec_k, fec_m;
	/* Drop the Nth, 2Nth, ... first-time DATA packet the edge sends (0:
	 * none). Counted from the outer header's type byte, which is in the
	 * clear, and the fact that only core_rx_app sends new data. */
	unsigned drop_every;
	/* Fate of the hub's nth NACK packet and of the edge's nth
	 * retransmission (DATA sent outside core_rx_app); NULL: PASS. */
	enum fate (*nack_fate)(unsigned n);
	enum fate (*retx_fate)(unsigned n);
};

struct qpkt {
	bool used;
	uint8_t to;
	uint8_t link;
	uint16_t len;
	uint64_t at;
	uint64_t order;		/* tie-break: sent first, arrives first */
	uint8_t data[BRAID_PKT_MAX];
};

struct harness;

struct side {
	struct harness *h;
	unsigned id;
	struct core *core;
	uint64_t rng;
	uint8_t pool[POOL_N][BRAID_PKT_MAX];
	bool pool_used[POOL_N];
	uint64_t spin_at;
	unsigned spins;
};

struct harness {
	const struct scenario *sc;
	uint64_t now, order;
	struct side side[2];
	union braid_addr edge_addr[NLINK_MAX], hub_addr[NLINK_MAX];
	struct qpkt q[QCAP];

	/* The edge's application side. */
	bool in_app;			/* inside core_rx_app */
	uint32_t cur_seq;		/* the datagram core_rx_app is taking */
	unsigned cur_copies;		/* DATA packets it sent for it */
	uint32_t nsent;
	uint64_t data_orig;		/* first-time DATA packets the edge sent */
	unsigned ndropped;		/* of those, dropped by drop_every */
	uint8_t dropped[APP_MAX];

	/* The hub's application side. */
	uint8_t delivered[APP_MAX];
	int64_t last_seq;
	unsigned ndelivered;
	unsigned nskipped;		/* gaps delivery went past (dropped datagrams) */

	/* What the network did to NACKs and retransmissions. */
	unsigned hub_nacks, edge_retx;
	unsigned nacks_mangled, nacks_duplicated, retx_lost;

	/* Links' down_events when sending began: only a flap while sending
	 * spoils a NACK test (hub links with a long round trip flap during
	 * the handshake: see test_hub_link_not_down_during_slow_handshake). */
	uint64_t down0[2][NLINK_MAX];

	unsigned errors;
	char err[256];
};

static void violation(struct harness *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void violation(struct harness *h, const char *fmt, ...)
{
	va_list ap;

	if (h->errors++)
		return;
	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
}

/* --- payloads: every byte is a function of the datagram's number ---------- */

static size_t plen(uint32_t seq)
{
	return PLEN_MIN + (size_t)(((seq * 2654435761u) >> 7) % (PLEN_MAX - PLEN_MIN + 1));
}

static uint8_t pbyte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

static void pfill(uint32_t seq, uint8_t *buf)
{
	size_t n = plen(seq);

	memcpy(buf, &seq, sizeof(seq));
	for (size_t i = sizeof(seq); i < n; i++)
		buf[i] = pbyte(seq, i);
}

/* --- the network ------------------------------------------------------------ */

static int q_earliest(const struct harness *h)
{
	int best = -1;

	for (int i = 0; i < QCAP; i++) {
		const struct qpkt *p = &h->q[i];

		if (p->used && (best < 0 || p->at < h->q[best].at ||
				(p->at == h->q[best].at && p->order < h->q[best].order)))
			best = i;
	}
	return best;
}

static void q_push(struct harness *h, unsigned from, unsigned li, const uint8_t *buf, size_t len)
{
	for (int i = 0; i < QCAP; i++) {
		struct qpkt *p = &h->q[i];

		if (p->used)
			continue;
		p->used = true;
		p->to = (uint8_t)(1 - from);
		p->link = (uint8_t)li;
		p->len = (uint16_t)len;
		p->at = h->now + h->sc->delay_ns[li][from];
		p->order = h->order++;
		memcpy(p->data, buf, len);
		return;
	}
	violation(h, "harness: more than %d packets in flight", QCAP);
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* --- core_io callbacks ------------------------------------------------------ */

static uint8_t *io_tx_alloc(void *ctx, unsigned li)
{
	struct side *sd = ctx;

	(void)li;
	for (unsigned i = 0; i < POOL_N; i++) {
		if (!sd->pool_used[i]) {
			sd->pool_used[i] = true;
			return sd->pool[i];
		}
	}
	return NULL;
}

/* Applies a NACK's fate; returns whether the packet still goes out (as
 * changed). DUPLICATE sends the extra copy itself. */
static bool nack_mangle(struct harness *h, unsigned li, uint8_t *buf, size_t *len)
{
	enum fate f = h->sc->nack_fate ? h->sc->nack_fate(h->hub_nacks) : PASS;

	h->hub_nacks++;
	switch (f) {
	case PASS:
		return true;
	case LOSE:
		h->nacks_mangled++;
		return false;
	case CORRUPT:
		/* One bit of the ciphertext: the tag no longer matches. */
		buf[WIRE_OUTER_LEN + 1] ^= 0x10;
		h->nacks_mangled++;
		return true;
	case TRUNCATE:
		/* Shorter than any tunnel packet: fails parsing. */
		*len = WIRE_MIN_LEN - 1;
		h->nacks_mangled++;
		return true;
	case DUPLICATE:
		q_push(h, HUB, li, buf, *len);
		h->nacks_duplicated++;
		return true;
	}
	return true;
}

static void io_tx_send(void *ctx, unsigned li, uint8_t *buf, size_t len,
		       const struct core_path *path)
{
	struct side *sd = ctx;
	struct harness *h = sd->h;
	const struct scenario *sc = h->sc;
	bool send = true;
	unsigned i = POOL_N;

	for (unsigned k = 0; k < POOL_N; k++)
		if (buf == sd->pool[k])
			i = k;
	if (i == POOL_N || !sd->pool_used[i]) {
		violation(h, "side %u: tx_send of a buffer tx_alloc did not hand out", sd->id);
		return;
	}
	if (li >= sc->nlinks || len < WIRE_MIN_LEN || len > BRAID_PKT_MAX || !path) {
		violation(h, "side %u: tx_send on link %u of %zu bytes, path %p", sd->id, li,
			  len, (const void *)path);
		goto out;
	}
	if (sd->id == EDGE && !addr_equal(&path->remote, &h->hub_addr[li])) {
		violation(h, "edge sent link %u elsewhere than its remote", li);
		goto out;
	}
	if (sd->id == HUB && (!addr_equal(&path->remote, &h->edge_addr[li]) ||
			      !path->has_local || !addr_equal(&path->local, &h->hub_addr[li]))) {
		violation(h, "hub sent link %u on a path it was not reached by", li);
		goto out;
	}

	if (sd->id == EDGE && buf[1] == WIRE_DATA) {
		if (h->in_app) {
			h->cur_copies++;
			if (sc->drop_every && ++h->data_orig % sc->drop_every == 0) {
				h->dropped[h->cur_seq] = 1;
				h->ndropped++;
				send = false;
			}
		} else {
			/* Only a NACK makes the edge send DATA on its own. */
			enum fate f = sc->retx_fate ? sc->retx_fate(h->edge_retx) : PASS;

			h->edge_retx++;
			if (f == LOSE) {
				h->retx_lost++;
				send = false;
			}
		}
	}
	if (sd->id == HUB && buf[1] == WIRE_DATA)
		violation(h, "hub sent DATA, its application sent nothing");
	if (sd->id == HUB && buf[1] == WIRE_NACK)
		send = nack_mangle(h, li, buf, &len);
	if (send)
		q_push(h, sd->id, li, buf, len);
out:
	/* The copy is in flight: the buffer is free again at once. */
	sd->pool_used[i] = false;
}

static void io_deliver(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct side *sd = ctx;
	struct harness *h = sd->h;
	uint32_t seq;

	if (sd->id != HUB) {
		violation(h, "edge delivered %zu bytes; the hub's application sent nothing", len);
		return;
	}
	if (flow != 0 || len < PLEN_MIN) {
		violation(h, "hub delivered %zu bytes on flow %u", len, flow);
		return;
	}
	memcpy(&seq, data, sizeof(seq));
	if (seq >= h->nsent) {
		violation(h, "hub delivered seq %" PRIu32 ", never sent", seq);
		return;
	}
	if (len != plen(seq)) {
		violation(h, "hub delivered seq %" PRIu32 " with %zu bytes, sent %zu", seq, len,
			  plen(seq));
		return;
	}
	for (size_t i = sizeof(seq); i < len; i++) {
		if (data[i] != pbyte(seq, i)) {
			violation(h, "hub delivered seq %" PRIu32 " corrupted at byte %zu", seq, i);
			return;
		}
	}
	if (h->delivered[seq]) {
		violation(h, "hub delivered seq %" PRIu32 " twice", seq);
		return;
	}
	if ((int64_t)seq <= h->last_seq) {
		violation(h, "hub delivered seq %" PRIu32 " after %" PRId64, seq, h->last_seq);
		return;
	}
	for (int64_t s = h->last_seq + 1; s < (int64_t)seq; s++) {
		if (!h->dropped[s]) {
			violation(h, "hub skipped seq %" PRId64 ", which the network did not drop",
				  s);
			return;
		}
		h->nskipped++;
	}
	h->delivered[seq] = 1;
	h->last_seq = seq;
	h->ndelivered++;
}

static void io_random(void *ctx, void *buf, size_t len)
{
	struct side *sd = ctx;
	uint8_t *p = buf;

	while (len) {
		uint64_t v = xorshift64(&sd->rng);
		size_t n = len < sizeof(v) ? len : sizeof(v);

		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

/* --- running ---------------------------------------------------------------- */

static void addr_set(union braid_addr *a, unsigned port)
{
	char s[32];

	snprintf(s, sizeof(s), "127.0.0.1:%u", port);
	ck_assert_int_eq(addr_parse(s, a), 0);
}

static struct harness *harness_new(const struct scenario *sc)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct core_params cp = {
		.mode = SCHED_AGGREGATE,
		/* Fixed shares: the tests here need datagrams on every link, to
		 * reorder across them and to lose on the one that drops. */
		.algo = SCHED_DWRR,
		.budget_ns = sc->budget_ns,
		.probe_interval_ns = 50 * NS_PER_MS,
		.reorder_window = 4096,
		.fec_k = sc->fec_k,
		.fec_m = sc->fec_m,
		.nack = true,
	};

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_le(sc->nlinks, NLINK_MAX);
	h->sc = sc;
	h->now = T0;
	h->last_seq = -1;
	for (unsigned i = 0; i < BRAID_KEY_LEN; i++)
		cp.psk[i] = (uint8_t)(0x5a + 13 * i);
	for (unsigned li = 0; li < sc->nlinks; li++) {
		addr_set(&h->edge_addr[li], 7100 + li);
		addr_set(&h->hub_addr[li], 7200 + li);
	}
	for (unsigned d = 0; d < 2; d++) {
		struct side *sd = &h->side[d];
		struct core_io io = {
			.ctx = sd,
			.tx_alloc = io_tx_alloc,
			.tx_send = io_tx_send,
			.deliver = io_deliver,
			.random = io_random,
		};

		sd->h = h;
		sd->id = d;
		sd->rng = 0x9e3779b97f4a7c15ull * (d + 1);
		cp.role = d == EDGE ? ROLE_EDGE : ROLE_HUB;
		ck_assert_int_eq(core_create(&sd->core, &cp, &io), 0);
		for (unsigned li = 0; li < sc->nlinks; li++) {
			char name[16];
			struct core_link_params lp = {
				.id = li,
				.name = name,
				.weight = 1,
				.priority = li,
				.remote = d == EDGE ? &h->hub_addr[li] : NULL,
			};

			snprintf(name, sizeof(name), "link%u", li);
			ck_assert_int_eq(core_link_add(sd->core, &lp), 0);
		}
	}
	return h;
}

static void harness_free(struct harness *h)
{
	for (unsigned d = 0; d < 2; d++)
		core_destroy(h->side[d].core);
	free(h);
}

static void side_tick(struct harness *h, struct side *sd)
{
	if (sd->spin_at != h->now) {
		sd->spin_at = h->now;
		sd->spins = 0;
	}
	if (++sd->spins > SPIN_MAX) {
		violation(h, "side %u: core_tick wants to run again at once, forever", sd->id);
		return;
	}
	core_tick(sd->core, h->now);
}

static void arrive(struct harness *h, struct qpkt *p)
{
	struct side *sd = &h->side[p->to];
	struct core_path path = { .has_local = true };

	if (p->to == HUB) {
		path.remote = h->edge_addr[p->link];
		path.local = h->hub_addr[p->link];
	} else {
		path.remote = h->hub_addr[p->link];
		path.local = h->edge_addr[p->link];
	}
	core_rx_link(sd->core, p->link, &path, p->data, p->len, h->now);
	p->used = false;
}

static void app_send(struct harness *h)
{
	static uint8_t buf[PLEN_MAX];
	uint32_t seq = h->nsent++;

	pfill(seq, buf);
	h->in_app = true;
	h->cur_seq = seq;
	h->cur_copies = 0;
	core_rx_app(h->side[EDGE].core, 0, buf, plen(seq), h->now);
	h->in_app = false;
	/* Aggregate mode: one copy each, so the Nth DATA is datagram N. */
	if (h->cur_copies != 1)
		violation(h, "edge sent seq %" PRIu32 " as %u DATA packets", seq, h->cur_copies);
}

/* Runs the whole scenario: settle, send, drain. */
static void run(struct harness *h)
{
	const uint64_t t_send = T0 + SETTLE_NS, t_stop = t_send + SEND_NS;
	const uint64_t t_end = t_stop + DRAIN_NS;
	uint64_t next_app = t_send;

	while (!h->errors) {
		enum { NONE, PKT, APP, TICK } what = NONE;
		uint64_t t = UINT64_MAX;
		unsigned who = 0;
		int qi = q_earliest(h);

		if (qi >= 0) {
			t = h->q[qi].at;
			what = PKT;
		}
		if (next_app < t_stop && next_app < t) {
			t = next_app;
			what = APP;
		}
		for (unsigned d = 0; d < 2; d++) {
			uint64_t nt = core_next_tick(h->side[d].core);

			if (nt < t) {
				t = nt;
				what = TICK;
				who = d;
			}
		}
		if (what == NONE || t > t_end)
			break;
		if (t > h->now)
			h->now = t;
		switch (what) {
		case PKT:
			arrive(h, &h->q[qi]);
			break;
		case APP:
			if (h->nsent == 0) {
				/* Settled: both ends keyed, every link up. */
				for (unsigned d = 0; d < 2; d++) {
					for (unsigned li = 0; li < h->sc->nlinks; li++) {
						const struct braid_link_stats *ls =
							core_link_stats(h->side[d].core, li);

						if (stat_get(ls->state) != LINK_UP)
							violation(h, "side %u link %u not up after "
								  "settling", d, li);
						h->down0[d][li] = stat_get(ls->down_events);
					}
				}
				if (!core_ready(h->side[EDGE].core) || !core_ready(h->side[HUB].core))
					violation(h, "no session after settling");
			}
			if (h->nsent >= APP_MAX) {
				violation(h, "harness: more than %d datagrams", APP_MAX);
				break;
			}
			app_send(h);
			next_app += APP_GAP_NS;
			break;
		case TICK:
			side_tick(h, &h->side[who]);
			break;
		case NONE:
			break;
		}
	}
	for (unsigned d = 0; d < 2; d++)
		for (unsigned i = 0; i < POOL_N; i++)
			if (h->side[d].pool_used[i])
				violation(h, "side %u kept tx buffer %u and never sent it", d, i);
	for (unsigned d = 0; d < 2; d++)
		for (unsigned li = 0; li < h->sc->nlinks; li++)
			if (stat_get(core_link_stats(h->side[d].core, li)->down_events) !=
			    h->down0[d][li])
				violation(h, "side %u link %u went down while sending", d, li);
}

static const struct braid_bond_stats *bond(const struct harness *h, unsigned d)
{
	return core_bond_stats(h->side[d].core);
}

/* Runs sc and checks what every test wants: no harness violation, and the
 * hub's books agree with what the network did. */
static struct harness *run_scenario(const struct scenario *sc)
{
	struct harness *h = harness_new(sc);
	const struct braid_bond_stats *hub;

	run(h);
	ck_assert_msg(h->errors == 0, "%u violations, first: %s", h->errors, h->err);
	hub = bond(h, HUB);
	ck_assert_uint_eq(h->nsent, SEND_NS / APP_GAP_NS);
	ck_assert_uint_eq(stat_get(bond(h, EDGE)->app_rx_pkts), h->nsent);
	ck_assert_uint_eq(stat_get(hub->delivered_pkts), h->ndelivered);
	/* Every datagram is either delivered or was dropped and skipped. */
	ck_assert_uint_eq(h->ndelivered + h->nskipped, h->nsent);
	ck_assert_uint_eq(stat_get(hub->lost), h->nskipped);
	ck_assert_uint_eq(stat_get(hub->auth_fail) + stat_get(hub->malformed) +
			  stat_get(hub->replayed) + stat_get(hub->late), 0);
	return h;
}

/* --- tests ------------------------------------------------------------------ */

#define MS(x) ((uint64_t)(x) * NS_PER_MS)

/* Three FIFO links of 5, 20 and 45 ms one way, the same both ways. */
#define THREE_LINKS .nlinks = 3, \
	.delay_ns = { { MS(5), MS(5) }, { MS(20), MS(20) }, { MS(45), MS(45) } }

/* Across-link reordering alone is no loss: nothing is asked for, nothing sent
 * again, everything delivered once and in order. */
START_TEST(test_no_nack_under_pure_reordering)
{
	static const struct scenario sc = { THREE_LINKS, .budget_ns = MS(200) };
	struct harness *h = run_scenario(&sc);

	ck_assert_uint_eq(h->ndelivered, h->nsent);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->nack_sent), 0);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->nack_seqs), 0);
	ck_assert_uint_eq(stat_get(bond(h, EDGE)->nack_rx), 0);
	ck_assert_uint_eq(stat_get(bond(h, EDGE)->retransmitted), 0);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->lost), 0);
	/* The links did reorder: the 45 ms link's datagrams waited. */
	ck_assert_uint_gt(stat_get(bond(h, HUB)->reordered), 0);
	harness_free(h);
}
END_TEST

/* Every 37th DATA packet lost: each loss asked for once and repaired once,
 * with nothing sent again that had arrived. */
START_TEST(test_nack_repairs_loss)
{
	static const struct scenario sc = { THREE_LINKS, .budget_ns = MS(200), .drop_every = 37 };
	struct harness *h = run_scenario(&sc);
	const struct braid_bond_stats *hub = bond(h, HUB), *edge = bond(h, EDGE);

	ck_assert_uint_eq(h->ndropped, SEND_NS / APP_GAP_NS / 37);
	ck_assert_uint_eq(h->ndelivered, h->nsent);
	ck_assert_uint_eq(stat_get(hub->lost), 0);
	ck_assert_uint_gt(stat_get(hub->nack_sent), 0);
	ck_assert_uint_eq(stat_get(edge->nack_rx), stat_get(hub->nack_sent));
	/* No link reorders within itself and every answer comes within the
	 * retry time: one ask and one answer per loss. */
	ck_assert_uint_eq(stat_get(hub->nack_seqs), h->ndropped);
	ck_assert_uint_eq(stat_get(edge->retransmitted), h->ndropped);
	ck_assert_uint_eq(h->edge_retx, h->ndropped);
	ck_assert_uint_eq(stat_get(hub->retx_rx), h->ndropped);
	ck_assert_uint_eq(stat_get(hub->retx_dup), 0);
	ck_assert_uint_eq(stat_get(hub->duplicates), 0);
	harness_free(h);
}
END_TEST

/* A round trip of ~80 ms cannot fit a 20 ms budget: no NACK is sent, and
 * the losses are declared, not repaired. */
START_TEST(test_no_nack_when_budget_too_small)
{
	static const struct scenario sc = {
		.nlinks = 3,
		.delay_ns = { { MS(40), MS(40) }, { MS(40), MS(40) }, { MS(40), MS(40) } },
		.budget_ns = MS(20),
		.drop_every = 37,
	};
	struct harness *h = run_scenario(&sc);
	const struct braid_bond_stats *hub = bond(h, HUB), *edge = bond(h, EDGE);

	ck_assert_uint_eq(stat_get(hub->nack_sent), 0);
	ck_assert_uint_eq(stat_get(hub->nack_seqs), 0);
	ck_assert_uint_eq(stat_get(edge->retransmitted), 0);
	ck_assert_uint_gt(stat_get(hub->lost), 0);
	ck_assert_uint_eq(stat_get(hub->lost), h->ndropped);
	ck_assert_uint_eq(h->ndelivered, h->nsent - h->ndropped);
	harness_free(h);
}
END_TEST

/* FEC 8:2 with one DATA packet in 20 lost: parity repairs each loss before
 * its gap is asked for, so nothing is sent again. */
START_TEST(test_nack_not_sent_for_fec_repaired)
{
	static const struct scenario sc = {
		THREE_LINKS, .budget_ns = MS(200), .fec_k = 8, .fec_m = 2, .drop_every = 20,
	};
	struct harness *h = run_scenario(&sc);
	const struct braid_bond_stats *hub = bond(h, HUB), *edge = bond(h, EDGE);

	ck_assert_uint_eq(h->ndelivered, h->nsent);
	ck_assert_uint_eq(stat_get(hub->lost), 0);
	ck_assert_uint_gt(stat_get(edge->parity_sent), 0);
	/* Parity also rebuilds datagrams still on their way on the slow
	 * link; each of those arrives later as an early original. */
	ck_assert_uint_gt(stat_get(hub->fec_recovered), 0);
	ck_assert_uint_eq(stat_get(hub->fec_recovered), h->ndropped + stat_get(hub->fec_early));
	ck_assert_uint_eq(stat_get(hub->duplicates), stat_get(hub->fec_early));
	ck_assert_uint_eq(stat_get(hub->retx_dup), 0);
	ck_assert_uint_eq(stat_get(hub->nack_seqs), 0);
	ck_assert_uint_eq(stat_get(edge->retransmitted), 0);
	harness_free(h);
}
END_TEST

/* The first NACK never arrives: the hub asks again two answer times later
 * and the second ask repairs it. */
static enum fate lose_first(unsigned n)
{
	return n == 0 ? LOSE : PASS;
}

START_TEST(test_nack_lost_is_asked_again)
{
	static const struct scenario sc = {
		THREE_LINKS, .budget_ns = MS(200), .drop_every = 37, .nack_fate = lose_first,
	};
	struct harness *h = run_scenario(&sc);
	const struct braid_bond_stats *hub = bond(h, HUB), *edge = bond(h, EDGE);

	ck_assert_uint_eq(h->nacks_mangled, 1);
	ck_assert_uint_eq(h->ndelivered, h->nsent);
	ck_assert_uint_eq(stat_get(hub->lost), 0);
	ck_assert_uint_eq(stat_get(edge->nack_rx), stat_get(hub->nack_sent) - 1);
	ck_assert_uint_gt(stat_get(hub->nack_seqs), h->ndropped);
	ck_assert_uint_eq(stat_get(edge->retransmitted), h->ndropped);
	ck_assert_uint_eq(stat_get(hub->retx_dup), 0);
	harness_free(h);
}
END_TEST

/* The first retransmission is lost: the second ask brings the datagram. */
START_TEST(test_retx_lost_is_asked_again)
{
	static const struct scenario sc = {
		THREE_LINKS, .budget_ns = MS(200), .drop_every = 37, .retx_fate = lose_first,
	};
	struct harness *h = run_scenario(&sc);
	const struct braid_bond_stats *hub = bond(h, HUB), *edge = bond(h, EDGE);

	ck_assert_uint_eq(h->retx_lost, 1);
	ck_assert_uint_eq(h->ndelivered, h->nsent);
	ck_assert_uint_eq(stat_get(hub->lost), 0);
	ck_assert_uint_eq(stat_get(hub->nack_seqs), h->ndropped + 1);
	ck_assert_uint_eq(stat_get(edge->retransmitted), h->ndropped + 1);
	ck_assert_uint_eq(stat_get(hub->retx_rx), h->ndropped);
	ck_assert_uint_eq(stat_get(hub->retx_dup), 0);
	harness_free(h);
}
END_TEST

/* The answers to the first two asks for one datagram are lost: it is
 * asked for a third time, an answer time after the second, while the
 * budget still has room for an answer, and arrives. */
static enum fate lose_first_two(unsigned n)
{
	return n < 2 ? LOSE : PASS;
}

START_TEST(test_third_ask_repairs)
{
	static const struct scenario sc = {
		THREE_LINKS, .budget_ns = MS(200), .drop_every = 37, .retx_fate = lose_first_two,
	};
	struct harness *h = run_scenario(&sc);
	const struct braid_bond_stats *hub = bond(h, HUB), *edge = bond(h, EDGE);

	ck_assert_uint_eq(h->retx_lost, 2);
	ck_assert_uint_eq(stat_get(hub->lost), 0);
	ck_assert_uint_eq(h->ndelivered, h->nsent);
	ck_assert_uint_eq(stat_get(hub->nack_seqs), h->ndropped + 2);
	ck_assert_uint_eq(stat_get(edge->retransmitted), h->ndropped + 2);
	ck_assert_uint_eq(stat_get(hub->retx_rx), h->ndropped);
	ck_assert_uint_eq(stat_get(hub->retx_dup), 0);
	harness_free(h);
}
END_TEST

/* Every answer for one datagram is lost: it is asked for three times, no
 * more, and then declared lost. */
static enum fate lose_first_three(unsigned n)
{
	return n < 3 ? LOSE : PASS;
}

START_TEST(test_asked_at_most_three_times)
{
	static const struct scenario sc = {
		THREE_LINKS, .budget_ns = MS(200), .drop_every = 37, .retx_fate = lose_first_three,
	};
	struct harness *h = run_scenario(&sc);
	const struct braid_bond_stats *hub = bond(h, HUB), *edge = bond(h, EDGE);

	ck_assert_uint_eq(h->retx_lost, 3);
	ck_assert_uint_eq(stat_get(hub->lost), 1);
	ck_assert_uint_eq(h->ndelivered, h->nsent - 1);
	ck_assert_uint_eq(stat_get(hub->nack_seqs), h->ndropped + 2);
	ck_assert_uint_eq(stat_get(edge->retransmitted), h->ndropped + 2);
	ck_assert_uint_eq(stat_get(hub->retx_dup), 0);
	harness_free(h);
}
END_TEST

/* Damaged and repeated NACKs: a corrupted one fails authentication, a
 * truncated one parsing, and every copy the network repeats is a replay; none
 * makes the edge send anything twice, and the retries still repair every
 * loss. */
static enum fate damage(unsigned n)
{
	switch (n) {
	case 0:
		return CORRUPT;
	case 2:
		return TRUNCATE;
	default:
		return DUPLICATE;
	}
}

START_TEST(test_damaged_and_duplicate_nacks)
{
	static const struct scenario sc = {
		THREE_LINKS, .budget_ns = MS(200), .drop_every = 37, .nack_fate = damage,
	};
	struct harness *h = run_scenario(&sc);
	const struct braid_bond_stats *hub = bond(h, HUB), *edge = bond(h, EDGE);

	ck_assert_uint_eq(h->nacks_mangled, 2);
	ck_assert_uint_gt(h->nacks_duplicated, 0);
	ck_assert_uint_eq(stat_get(edge->auth_fail), 1);
	ck_assert_uint_eq(stat_get(edge->malformed), 1);
	ck_assert_uint_eq(stat_get(edge->replayed), h->nacks_duplicated);
	ck_assert_uint_eq(stat_get(edge->nack_rx), stat_get(hub->nack_sent) - 2);
	ck_assert_uint_eq(h->ndelivered, h->nsent);
	ck_assert_uint_eq(stat_get(hub->lost), 0);
	ck_assert_uint_eq(stat_get(edge->retransmitted), h->ndropped);
	ck_assert_uint_eq(stat_get(hub->retx_dup), 0);
	harness_free(h);
}
END_TEST

/* A hub link whose one-way delay is above 1.25 probe intervals (31.25 ms at
 * the 50 ms used here) once went DOWN during every handshake and came back UP
 * with the first probe reply: the hub marks its links UP when the HS_INIT
 * arrives, but may probe only once the edge's first packet under the session
 * confirms it, a round trip later, and the answer takes another; with no RTT
 * known, dead_after_ns allows 2.5 probe intervals. The hub now times its
 * links' silence from the confirmation. With 40 ms links: no down_event on
 * either side. */
START_TEST(test_hub_link_not_down_during_slow_handshake)
{
	static const struct scenario sc = {
		.nlinks = 3,
		.delay_ns = { { MS(40), MS(40) }, { MS(40), MS(40) }, { MS(40), MS(40) } },
		.budget_ns = MS(200),
	};
	struct harness *h = run_scenario(&sc);

	for (unsigned d = 0; d < 2; d++)
		for (unsigned li = 0; li < sc.nlinks; li++)
			ck_assert_msg(stat_get(core_link_stats(h->side[d].core, li)->down_events) == 0,
				      "%s link %u went down during the handshake",
				      d == EDGE ? "edge" : "hub", li);
	harness_free(h);
}
END_TEST

static Suite *nack_suite(void)
{
	Suite *s = suite_create("nack");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_no_nack_under_pure_reordering);
	tcase_add_test(tc, test_nack_repairs_loss);
	tcase_add_test(tc, test_no_nack_when_budget_too_small);
	tcase_add_test(tc, test_nack_not_sent_for_fec_repaired);
	tcase_add_test(tc, test_nack_lost_is_asked_again);
	tcase_add_test(tc, test_retx_lost_is_asked_again);
	tcase_add_test(tc, test_third_ask_repairs);
	tcase_add_test(tc, test_asked_at_most_three_times);
	tcase_add_test(tc, test_damaged_and_duplicate_nacks);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("links");
	tcase_add_test(tc, test_hub_link_not_down_during_slow_handshake);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nack_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
