/* The core's per-link counters, end to end through two real cores: a packet
 * delivered to another link than it was sent on is refused and moves no
 * path, a late packet from a new address moves none either, an address
 * change seen in the newest packet still does (roaming), and a skew of 50 ms
 * between two links at 100,000 packets a second costs no packet.
 *
 * The harness wires an edge core and a hub core through NL links on a
 * virtual clock in ns. Each link has one constant delay, the same both ways,
 * so each is a FIFO, kept as a ring per direction. The edge's application
 * sends datagrams of PLEN bytes numbered from 0; the hub's deliver callback
 * checks that each comes once and in order. Every packet the hub sends is
 * checked against the edge's address on that link: one sent anywhere else
 * (to the attacker) is counted astray and never arrives. The attacker can
 * copy the edge's next DATA packet on a link (and hold the original back)
 * and deliver the copy to the hub on any link from any source address. */
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

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull
#define MS(x) ((uint64_t)(x) * NS_PER_MS)

#define EDGE 0
#define HUB  1
#define NL   2
#define RING 8192		/* packets in flight one way on one link (power of two) */
#define SLOT 128		/* bytes a packet in flight may have */
#define POOL_N 8
#define PLEN 16			/* application datagram: its number, then a pattern */
#define SPIN_MAX 10000
#define T0 NS_PER_S

struct slot {
	uint64_t at;
	size_t len;
	uint8_t data[SLOT];
};

struct fifo {
	unsigned head, len;
	struct slot s[RING];
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
	uint64_t now;
	uint64_t delay[NL];
	struct side side[2];
	union braid_addr edge_addr[NL], hub_addr[NL], attacker;
	struct fifo q[2][NL];		/* [from][link] */

	/* Where the hub's packets went, per link. */
	uint64_t hub_tx_ok[NL], hub_tx_astray[NL];

	/* The attacker's copy of the edge's next DATA packet on cap_link. */
	bool cap_armed, cap_hold, captured;
	unsigned cap_link;
	struct slot cap;

	uint32_t nsent;			/* edge's application datagrams */
	uint32_t ndelivered;		/* ... delivered at the hub, in order */
	uint32_t nskipped;		/* ... the hub's delivery went past */
	uint32_t edge_delivered;	/* hub's datagrams delivered at the edge */

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

static void pool_free(struct side *sd, uint8_t *buf)
{
	for (unsigned i = 0; i < POOL_N; i++)
		if (sd->pool[i] == buf)
			sd->pool_used[i] = false;
}

static void io_tx_send(void *ctx, unsigned li, uint8_t *buf, size_t len,
		       const struct core_path *path)
{
	struct side *sd = ctx;
	struct harness *h = sd->h;
	struct fifo *f;
	struct slot *s;

	if (li >= NL || len > SLOT) {
		violation(h, "side %u sent %zu bytes on link %u", sd->id, len, li);
		goto out;
	}
	if (sd->id == HUB) {
		if (!addr_equal(&path->remote, &h->edge_addr[li])) {
			h->hub_tx_astray[li]++;
			goto out;
		}
		h->hub_tx_ok[li]++;
	}
	if (sd->id == EDGE && h->cap_armed && li == h->cap_link && buf[1] == WIRE_DATA) {
		h->cap_armed = false;
		h->captured = true;
		h->cap.len = len;
		memcpy(h->cap.data, buf, len);
		if (h->cap_hold)
			goto out;
	}
	f = &h->q[sd->id][li];
	if (f->len == RING) {
		violation(h, "harness: more than %u packets in flight on link %u", RING, li);
		goto out;
	}
	s = &f->s[(f->head + f->len++) & (RING - 1)];
	s->at = h->now + h->delay[li];
	s->len = len;
	memcpy(s->data, buf, len);
out:
	pool_free(sd, buf);
}

static void io_deliver(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct side *sd = ctx;
	struct harness *h = sd->h;
	uint32_t seq;

	(void)flow;
	if (sd->id == EDGE) {
		h->edge_delivered++;
		return;
	}
	if (len != PLEN) {
		violation(h, "hub delivered %zu bytes", len);
		return;
	}
	memcpy(&seq, data, sizeof(seq));
	if (seq < h->ndelivered + h->nskipped)
		violation(h, "hub delivered datagram %" PRIu32 " again or out of order", seq);
	else
		h->nskipped += seq - (h->ndelivered + h->nskipped);
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

static struct harness *harness_new(uint64_t delay0, uint64_t delay1, uint64_t budget_ns)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct core_params cp = {
		.mode = SCHED_AGGREGATE,
		/* Every link carries its share whatever it delays: the tests
		 * here need traffic on each (skew, per-link counters). */
		.algo = SCHED_DWRR,
		.budget_ns = budget_ns,
		.probe_interval_ns = 50 * NS_PER_MS,
		.reorder_window = 16384,
	};

	ck_assert_ptr_nonnull(h);
	h->now = T0;
	h->delay[0] = delay0;
	h->delay[1] = delay1;
	for (unsigned i = 0; i < BRAID_KEY_LEN; i++)
		cp.psk[i] = (uint8_t)(0x3c + 7 * i);
	for (unsigned li = 0; li < NL; li++) {
		addr_set(&h->edge_addr[li], 7300 + li);
		addr_set(&h->hub_addr[li], 7400 + li);
	}
	addr_set(&h->attacker, 6666);
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
		sd->rng = 0x9e3779b97f4a7c15ull * (d + 3);
		cp.role = d == EDGE ? ROLE_EDGE : ROLE_HUB;
		ck_assert_int_eq(core_create(&sd->core, &cp, &io), 0);
		for (unsigned li = 0; li < NL; li++) {
			char name[16];
			struct core_link_params lp = {
				.id = li,
				.name = name,
				.weight = 1,
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

static const struct braid_bond_stats *bond(const struct harness *h, unsigned d)
{
	return core_bond_stats(h->side[d].core);
}

/* Delivers pkt to the hub on link li as if it came from src. */
static void hub_rx(struct harness *h, unsigned li, const union braid_addr *src,
		   const uint8_t *pkt, size_t len)
{
	struct core_path path = { .remote = *src, .local = h->hub_addr[li], .has_local = true };
	uint8_t buf[SLOT];

	memcpy(buf, pkt, len);
	core_rx_link(h->side[HUB].core, li, &path, buf, len, h->now);
}

static void arrive(struct harness *h, unsigned from, unsigned li)
{
	struct fifo *f = &h->q[from][li];
	struct slot *s = &f->s[f->head];

	f->head = (f->head + 1) & (RING - 1);
	f->len--;
	if (from == EDGE) {
		hub_rx(h, li, &h->edge_addr[li], s->data, s->len);
	} else {
		struct core_path path = { .remote = h->hub_addr[li], .local = h->edge_addr[li],
					  .has_local = true };

		core_rx_link(h->side[EDGE].core, li, &path, s->data, s->len, h->now);
	}
}

static void app_send(struct harness *h)
{
	uint8_t buf[PLEN];
	uint32_t seq = h->nsent++;

	memcpy(buf, &seq, sizeof(seq));
	for (unsigned i = sizeof(seq); i < PLEN; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
	core_rx_app(h->side[EDGE].core, 0, buf, PLEN, h->now);
}

/* Runs the network until `until`, the edge's application sending one
 * datagram every app_gap ns (0: none) until app_until; stops early, right
 * after the attacker's copy is taken, if stop_on_capture. */
static void run(struct harness *h, uint64_t until, uint64_t app_gap, uint64_t app_until,
		bool stop_on_capture)
{
	uint64_t next_app = h->now;

	while (!h->errors && !(stop_on_capture && h->captured)) {
		enum { NONE, PKT, APP, TICK } what = NONE;
		uint64_t t = UINT64_MAX;
		unsigned who = 0, from = 0;

		for (unsigned d = 0; d < 2; d++) {
			for (unsigned li = 0; li < NL; li++) {
				const struct fifo *f = &h->q[d][li];

				if (f->len && f->s[f->head].at < t) {
					t = f->s[f->head].at;
					what = PKT;
					from = d;
					who = li;
				}
			}
		}
		if (app_gap && next_app < app_until && next_app < t) {
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
		if (what == NONE || t > until)
			break;
		if (t > h->now)
			h->now = t;
		switch (what) {
		case PKT:
			arrive(h, from, who);
			break;
		case APP:
			app_send(h);
			next_app += app_gap;
			break;
		case TICK: {
			struct side *sd = &h->side[who];

			if (sd->spin_at != h->now) {
				sd->spin_at = h->now;
				sd->spins = 0;
			}
			if (++sd->spins > SPIN_MAX)
				violation(h, "side %u: core_tick wants to run again at once", who);
			else
				core_tick(sd->core, h->now);
			break;
		}
		case NONE:
			break;
		}
	}
	if (!(stop_on_capture && h->captured) && h->now < until)
		h->now = until;
}

/* Handshake and probes: both ends keyed, every link up. */
static void settle(struct harness *h)
{
	run(h, h->now + NS_PER_S, 0, 0, false);
	ck_assert_msg(h->errors == 0, "%s", h->err);
	ck_assert(core_ready(h->side[EDGE].core) && core_ready(h->side[HUB].core));
	for (unsigned d = 0; d < 2; d++)
		for (unsigned li = 0; li < NL; li++)
			ck_assert_uint_eq(stat_get(core_link_stats(h->side[d].core, li)->state),
					  LINK_UP);
}

/* The hub sends 100 datagrams now, which the schedule spreads over both
 * links (a round of its DWRR gives each link 1500 bytes of credit, some 23
 * of them): each goes wherever the hub believes the edge is on its link. */
static void hub_send_now(struct harness *h)
{
	uint8_t buf[PLEN] = { 0 };

	for (unsigned i = 0; i < 100; i++)
		core_rx_app(h->side[HUB].core, 0, buf, PLEN, h->now);
}

/* Waits for the attacker's copy of the edge's next DATA packet on link li;
 * hold: the original never reaches the hub. */
static void capture(struct harness *h, unsigned li, bool hold)
{
	h->cap_armed = true;
	h->cap_hold = hold;
	h->cap_link = li;
	h->captured = false;
	run(h, h->now + NS_PER_S, MS(1), UINT64_MAX, true);
	ck_assert_msg(h->errors == 0, "%s", h->err);
	ck_assert_msg(h->captured, "no DATA packet on link %u to copy", li);
}

/* Lets everything in flight arrive, the application silent, and checks the
 * books: every datagram the edge sent delivered once, in order, but for at
 * most lost_max given up on; every one the hub sent went to the edge and arrived. */
static void drain_and_check(struct harness *h, unsigned lost_max)
{
	run(h, h->now + NS_PER_S, 0, 0, false);
	ck_assert_msg(h->errors == 0, "%s", h->err);
	ck_assert_uint_eq(h->ndelivered + h->nskipped, h->nsent);
	ck_assert_uint_le(h->nskipped, lost_max);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->delivered_pkts), h->ndelivered);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->lost), h->nskipped);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->replayed), 0);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->auth_fail) + stat_get(bond(h, HUB)->malformed), 0);
	for (unsigned li = 0; li < NL; li++)
		ck_assert_msg(h->hub_tx_astray[li] == 0,
			      "%" PRIu64 " packets of the hub's on link %u went astray",
			      h->hub_tx_astray[li], li);
	ck_assert_uint_eq(h->edge_delivered, stat_get(bond(h, HUB)->app_rx_pkts));
}

/* --- tests ------------------------------------------------------------------ */

/* Issue 13, defect 1: someone who sees link 0 copies an edge packet and
 * delivers it first to the hub's port for link 1, from the address of a
 * victim. It must be refused (wrong_link) and link 1's traffic must keep
 * going to the edge, however often it is done; the original, arriving on
 * its own link afterwards, is still taken. */
START_TEST(test_copy_on_other_link_moves_nothing)
{
	struct harness *h = harness_new(MS(10), MS(10), MS(100));
	uint64_t ok1;

	settle(h);
	run(h, h->now + MS(100), MS(1), UINT64_MAX, false);
	ok1 = h->hub_tx_ok[1];
	for (unsigned i = 0; i < 5; i++) {
		capture(h, 0, false);
		hub_rx(h, 1, &h->attacker, h->cap.data, h->cap.len);
		hub_send_now(h);
		ck_assert_uint_eq(h->hub_tx_astray[1], 0);
		ck_assert_uint_eq(stat_get(bond(h, HUB)->wrong_link), i + 1);
		run(h, h->now + MS(20), MS(1), UINT64_MAX, false);
	}
	ck_assert_uint_gt(h->hub_tx_ok[1], ok1);
	drain_and_check(h, 0);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->wrong_link), 5);
	harness_free(h);
}
END_TEST

/* Issue 13, defect 1: a packet the attacker held back, delivered on its own
 * link from a new address after newer ones from the edge: the window still
 * takes it (it is authentic and new; the bond may have given its datagram
 * up by then, and the copy is late), but only the newest packet on a
 * link may move its path, so the hub keeps sending to the edge. */
START_TEST(test_late_packet_moves_no_path)
{
	struct harness *h = harness_new(MS(10), MS(10), MS(100));

	settle(h);
	run(h, h->now + MS(100), MS(1), UINT64_MAX, false);
	for (unsigned i = 0; i < 3; i++) {
		capture(h, 0, true);
		/* Newer packets on link 0 reach the hub first. */
		run(h, h->now + MS(30), MS(1), UINT64_MAX, false);
		hub_rx(h, 0, &h->attacker, h->cap.data, h->cap.len);
		hub_send_now(h);
		ck_assert_uint_eq(h->hub_tx_astray[0], 0);
	}
	run(h, h->now + MS(20), MS(1), UINT64_MAX, false);
	drain_and_check(h, 3);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->late), h->nskipped);
	ck_assert_uint_eq(stat_get(core_link_stats(h->side[HUB].core, 0)->rx_data) +
			  stat_get(core_link_stats(h->side[HUB].core, 1)->rx_data),
			  stat_get(core_link_stats(h->side[EDGE].core, 0)->tx_data) +
			  stat_get(core_link_stats(h->side[EDGE].core, 1)->tx_data));
	ck_assert_uint_eq(stat_get(bond(h, HUB)->wrong_link), 0);
	harness_free(h);
}
END_TEST

/* Roaming still works: the edge's address on link 0 changes (a NAT
 * rebinding), and once its newest packet comes from there, the hub sends
 * there. */
START_TEST(test_newest_packet_moves_path)
{
	struct harness *h = harness_new(MS(10), MS(10), MS(100));

	settle(h);
	run(h, h->now + MS(100), MS(1), UINT64_MAX, false);
	addr_set(&h->edge_addr[0], 7310);
	/* What is in flight towards the old address, until the hub hears from
	 * the new one, goes astray: only what follows counts. */
	run(h, h->now + MS(100), MS(1), UINT64_MAX, false);
	h->hub_tx_astray[0] = 0;
	h->hub_tx_ok[0] = 0;
	hub_send_now(h);
	ck_assert_uint_gt(h->hub_tx_ok[0], 0);
	ck_assert_uint_eq(h->hub_tx_astray[0], 0);
	run(h, h->now + MS(50), MS(1), UINT64_MAX, false);
	ck_assert_uint_eq(h->hub_tx_astray[0], 0);
	harness_free(h);
}
END_TEST

/* Issue 13, defect 4: link 0 delivers in 1 ms, link 1 in 51 ms, and the
 * edge sends 100,000 datagrams a second split between them, so each of
 * link 1's packets comes some 5,000 of link 0's late. None may be refused
 * as a replay, and none lost. */
START_TEST(test_skew_50ms_at_100kpps)
{
	struct harness *h = harness_new(MS(1), MS(51), MS(200));
	const uint64_t gap = 10 * NS_PER_US;

	settle(h);
	run(h, h->now + MS(300), gap, h->now + MS(300), false);
	ck_assert_msg(h->errors == 0, "%s", h->err);
	ck_assert_uint_ge(h->nsent, 29999);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->replayed), 0);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->lost), 0);
	/* Both links carried their share. */
	for (unsigned li = 0; li < NL; li++)
		ck_assert_uint_gt(stat_get(core_link_stats(h->side[HUB].core, li)->rx_data),
				  h->nsent / 3);
	drain_and_check(h, 0);
	ck_assert_uint_eq(stat_get(bond(h, HUB)->wrong_link), 0);
	ck_assert_uint_eq(stat_get(bond(h, EDGE)->replayed), 0);
	harness_free(h);
}
END_TEST

static Suite *core_links_suite(void)
{
	Suite *s = suite_create("core_links");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_copy_on_other_link_moves_nothing);
	tcase_add_test(tc, test_late_packet_moves_no_path);
	tcase_add_test(tc, test_newest_packet_moves_path);
	tcase_add_test(tc, test_skew_50ms_at_100kpps);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(core_links_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
