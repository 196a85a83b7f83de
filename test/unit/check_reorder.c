/* Reorder buffer: table-driven boundary walks (each run at several starting
 * sequence numbers, so every table also crosses the 32-bit wrap), the
 * negative cases, and randomized property tests with a fixed seed. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "braid/wire.h"
#include "reorder.h"

#define NONE UINT64_MAX

/* Check records the location of every ck_assert through a pipe to the
 * parent; in the hot loops below that costs more than the code under test,
 * so they test plainly and only call into Check on failure. */
#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

/* --- payloads: every byte is a function of the sequence number ----------- */

static size_t plen(uint32_t seq)
{
	return 4 + (size_t)((seq * 2654435761u) % (BRAID_PAYLOAD_MAX - 3));	/* 4 .. max */
}

static uint16_t pflow(uint32_t seq)
{
	return (uint16_t)(seq * 7u + 3u);
}

static void pfill(uint32_t seq, uint8_t *buf)
{
	size_t n = plen(seq);

	memcpy(buf, &seq, 4);
	for (size_t i = 4; i < n; i++)
		buf[i] = (uint8_t)(seq * 31u + i * 7u);
}

/* Returns the sequence number a delivered payload carries, after checking
 * that every byte, the length and the flow are the ones it was pushed with. */
static uint32_t pverify(uint16_t flow, const uint8_t *data, size_t len)
{
	uint32_t seq;

	CHECK(len >= 4, "short payload %zu", len);
	memcpy(&seq, data, 4);
	CHECK(len == plen(seq), "seq %" PRIu32 ": len %zu, want %zu", seq, len, plen(seq));
	CHECK(flow == pflow(seq), "seq %" PRIu32 ": flow %u", seq, flow);
	for (size_t i = 4; i < len; i++)
		CHECK(data[i] == (uint8_t)(seq * 31u + i * 7u), "seq %" PRIu32 " byte %zu", seq, i);
	return seq;
}

static enum reorder_result push(struct reorder *r, uint32_t seq, uint64_t now,
				reorder_deliver_fn fn, void *ctx)
{
	static uint8_t buf[BRAID_PAYLOAD_MAX];

	pfill(seq, buf);
	return reorder_push(r, seq, pflow(seq), buf, plen(seq), now, fn, ctx);
}

/* --- table walks ----------------------------------------------------------- */

#define CAP_MAX 64

struct cap {
	uint32_t seq[CAP_MAX];
	unsigned n;
};

static void cap_fn(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct cap *c = ctx;

	CHECK(c->n < CAP_MAX, "too many deliveries");
	c->seq[c->n++] = pverify(flow, data, len);
}

enum op { PUSH, TICK, RESET };

struct rstep {
	enum op op;
	uint32_t seq;		/* PUSH: offset from the table's base */
	uint64_t now;
	enum reorder_result res;	/* PUSH: expected result */
	uint64_t deadline;	/* reorder_deadline after the step; TICK returns it */
	const char *out;	/* offsets delivered by the step, in order */
};

#define P(seq, now, res, dl, out) { PUSH, (seq), (now), REORDER_##res, (dl), (out) }
#define T(now, dl, out)           { TICK, 0, (now), 0, (dl), (out) }
#define R()                       { RESET, 0, 0, 0, NONE, "" }

struct table {
	const char *name;
	struct reorder_cfg cfg;
	const struct rstep *steps;
	size_t n;
	struct reorder_counters want;	/* at the end */
};

#define TABLE(nm, win, budget, unord, ...) \
	{ #nm, { (win), (budget), (unord) }, nm, sizeof(nm) / sizeof(nm[0]), __VA_ARGS__ }

static void run_table(const struct table *t, uint32_t base)
{
	struct reorder *r;
	const struct reorder_counters *c;
	struct cap cap;

	ck_assert_int_eq(reorder_create(&r, &t->cfg), 0);
	for (size_t i = 0; i < t->n; i++) {
		const struct rstep *s = &t->steps[i];
		const char *p = s->out;
		unsigned k = 0;

		cap.n = 0;
		switch (s->op) {
		case PUSH: {
			enum reorder_result res = push(r, base + s->seq, s->now, cap_fn, &cap);

			ck_assert_msg(res == s->res, "%s base %#" PRIx32 " step %zu: push %" PRIu32 " = %d, want %d",
				      t->name, base, i + 1, s->seq, res, s->res);
			break;
		}
		case TICK: {
			uint64_t ret = reorder_tick(r, s->now, cap_fn, &cap);

			ck_assert_msg(ret == s->deadline, "%s base %#" PRIx32 " step %zu: tick returned %" PRIu64,
				      t->name, base, i + 1, ret);
			break;
		}
		case RESET:
			reorder_reset(r);
			break;
		}
		ck_assert_msg(reorder_deadline(r) == s->deadline,
			      "%s base %#" PRIx32 " step %zu: deadline %" PRIu64 ", want %" PRIu64,
			      t->name, base, i + 1, reorder_deadline(r), s->deadline);
		for (;;) {
			char *end;
			unsigned long v = strtoul(p, &end, 0);

			if (end == p)
				break;
			p = end;
			ck_assert_msg(k < cap.n, "%s base %#" PRIx32 " step %zu: %u delivered, want more",
				      t->name, base, i + 1, cap.n);
			ck_assert_msg(cap.seq[k] == base + (uint32_t)v,
				      "%s base %#" PRIx32 " step %zu: delivery %u is %#" PRIx32 ", want offset %#lx",
				      t->name, base, i + 1, k, cap.seq[k], v);
			k++;
		}
		ck_assert_msg(k == cap.n, "%s base %#" PRIx32 " step %zu: %u delivered, want %u",
			      t->name, base, i + 1, cap.n, k);
	}
	c = reorder_counters(r);
	ck_assert_msg(c->delivered == t->want.delivered && c->lost == t->want.lost &&
		      c->duplicates == t->want.duplicates && c->reordered == t->want.reordered &&
		      c->late == t->want.late && c->held == t->want.held,
		      "%s base %#" PRIx32 ": counters delivered %" PRIu64 " lost %" PRIu64 " dup %" PRIu64
		      " reordered %" PRIu64 " late %" PRIu64 " held %" PRIu64,
		      t->name, base, c->delivered, c->lost, c->duplicates, c->reordered, c->late, c->held);
	reorder_destroy(r);
}

/* budget 1000 ns, window 16 unless said otherwise */

static const struct rstep in_order[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(1, 10, DELIVERED, NONE, "1"),
	P(2, 20, DELIVERED, NONE, "2"),
	P(3, 20, DELIVERED, NONE, "3"),
	T(100000, NONE, ""),
	P(4, 100001, DELIVERED, NONE, "4"),
};

/* A gap filled before the budget: the held ones follow in order. */
static const struct rstep gap_filled[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(2, 100, HELD, 1100, ""),
	P(3, 150, HELD, 1100, ""),
	T(499, 1100, ""),
	P(1, 500, DELIVERED, NONE, "1 2 3"),
	P(5, 600, HELD, 1600, ""),
	P(4, 1599, DELIVERED, NONE, "4 5"),
	T(5000, NONE, ""),
};

/* Expiry exactly at the budget, then copies of the lost one. */
static const struct rstep expiry[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(2, 100, HELD, 1100, ""),
	T(1099, 1100, ""),
	T(1100, NONE, "2"),
	P(1, 1200, LATE, NONE, ""),	/* first copy after its gap was given up */
	P(1, 1300, DUPLICATE, NONE, ""),	/* second copy of it */
	P(2, 1300, DUPLICATE, NONE, ""),
	P(0, 1300, DUPLICATE, NONE, ""),
	P(3, 1400, DELIVERED, NONE, "3"),
};

/* Two gaps expiring one after the other; the second deadline comes from
 * the earliest datagram still held. */
static const struct rstep stages[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(2, 100, HELD, 1100, ""),
	P(5, 300, HELD, 1100, ""),
	P(6, 350, HELD, 1100, ""),
	T(1099, 1100, ""),
	T(1100, 1300, "2"),
	P(3, 1250, DELIVERED, 1300, "3"),
	T(1299, 1300, ""),
	T(1300, NONE, "5 6"),
};

/* The earliest held datagram is beyond two gaps: one tick gives up both,
 * so nothing waits longer than the budget. */
static const struct rstep stages_one_tick[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(5, 100, HELD, 1100, ""),
	P(2, 200, HELD, 1100, ""),
	P(8, 300, HELD, 1100, ""),
	T(1100, 1300, "2 5"),
	T(1300, NONE, "8"),
	P(7, 1301, LATE, NONE, ""),
	P(6, 1301, LATE, NONE, ""),
	P(6, 1302, DUPLICATE, NONE, ""),
};

static const struct rstep dups[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(0, 1, DUPLICATE, NONE, ""),
	P(3, 2, HELD, 1002, ""),
	P(3, 3, DUPLICATE, 1002, ""),	/* of a held one */
	P(2, 4, HELD, 1002, ""),
	P(1, 5, DELIVERED, NONE, "1 2 3"),
	P(3, 6, DUPLICATE, NONE, ""),	/* of a delivered one */
	P(2, 6, DUPLICATE, NONE, ""),
	P(1, 6, DUPLICATE, NONE, ""),
};

/* Window 16: the largest seq that fits is next + 15; one more forces the
 * oldest gap out; a far jump gives up everything below it. */
static const struct rstep force[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(16, 10, HELD, 1010, ""),	/* next 1: 16 = next + 15 fits */
	P(3, 20, HELD, 1010, ""),
	P(17, 30, HELD, 1010, ""),	/* 1 is lost, next becomes 2 */
	P(2, 40, DELIVERED, 1010, "2 3"),
	P(40, 50, HELD, 1050, "16 17"),	/* next 25: 4..15, 18..24 lost */
	P(24, 60, LATE, 1050, ""),
	P(9, 60, LATE, 1050, ""),	/* next - 16: oldest remembered */
	P(9, 60, DUPLICATE, 1050, ""),
	P(8, 60, LATE, 1050, ""),	/* older than the window */
	P(8, 60, LATE, 1050, ""),
	P(16, 60, DUPLICATE, 1050, ""),
	T(1050, NONE, "40"),		/* 25..39 lost */
};

/* A jump of more than two windows: the seq that lands on the oldest
 * remembered position was given up in bulk, so its first copy is late even
 * though a delivered one (5) shared that position before the jump. */
static const struct rstep force_far[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(5, 10, HELD, 1010, ""),
	P(84, 20, HELD, 1020, "5"),	/* next 69: 1..4, 6..68 lost */
	P(53, 30, LATE, 1020, ""),	/* 69 - 16 */
	P(53, 30, DUPLICATE, 1020, ""),
	P(52, 30, LATE, 1020, ""),
	P(68, 30, LATE, 1020, ""),
	T(1020, NONE, "84"),		/* 69..83 lost */
};

/* A jump of 2^31 - 1 ahead is still ahead; 2^31 counts as behind. */
static const struct rstep huge_jump[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(0x80000000u, 10, HELD, 1010, ""),
	T(1010, NONE, "0x80000000"),
	P(1, 20, LATE, NONE, ""),	/* exactly 2^31 behind next */
	P(2, 20, LATE, NONE, ""),
	P(0x7ffffff0u, 20, LATE, NONE, ""),
	P(0x80000001u, 30, DELIVERED, NONE, "0x80000001"),
};

/* The first datagram sets where the session starts: anything before it is
 * late, not a gap. */
static const struct rstep first_sets_base[] = {
	P(10, 0, DELIVERED, NONE, "10"),
	P(9, 1, LATE, NONE, ""),
	P(5, 1, LATE, NONE, ""),
	P(12, 2, HELD, 1002, ""),
	P(11, 3, DELIVERED, NONE, "11 12"),
};

static const struct rstep reset[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(2, 10, HELD, 1010, ""),
	P(3, 10, HELD, 1010, ""),
	R(),
	T(100000, NONE, ""),		/* the held ones are gone, not delivered */
	P(100, 200, DELIVERED, NONE, "100"),
	P(2, 210, LATE, NONE, ""),	/* before the new start */
	P(102, 220, HELD, 1220, ""),
	P(104, 225, HELD, 1220, ""),
	P(101, 230, DELIVERED, 1225, "101 102"),
	R(),
	P(0, 300, DELIVERED, NONE, "0"),
	P(40, 310, HELD, 1310, ""),	/* the forgotten 104's slot: not a duplicate */
	P(2, 320, HELD, 1310, ""),
	P(1, 330, DELIVERED, 1310, "1 2"),
	T(1310, NONE, "40"),
};

/* Budget 0: a gap expires the moment the datagram behind it arrives. */
static const struct rstep budget0[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(2, 100, HELD, 100, ""),
	T(99, 100, ""),
	T(100, NONE, "2"),
};

/* A budget too large to add to: the deadline saturates. */
static const struct rstep budget_max[] = {
	P(0, 5, DELIVERED, NONE, "0"),
	P(2, 100, HELD, NONE, ""),
	T(UINT64_MAX - 1, NONE, ""),
	P(1, 200, DELIVERED, NONE, "1 2"),
};

/* A clock that steps back is taken as standing still. */
static const struct rstep time_back[] = {
	P(0, 1000, DELIVERED, NONE, "0"),
	P(2, 500, HELD, 2000, ""),
	T(1999, 2000, ""),
	T(2000, NONE, "2"),
};

static const struct rstep unordered[] = {
	P(0, 0, DELIVERED, NONE, "0"),
	P(5, 1, DELIVERED, NONE, "5"),
	P(3, 2, DELIVERED, NONE, "3"),
	P(3, 3, DUPLICATE, NONE, ""),
	P(0, 4, DUPLICATE, NONE, ""),
	P(1, 5, DELIVERED, NONE, "1"),
	T(1000000, NONE, ""),
	P(21, 6, DELIVERED, NONE, "21"),	/* 2 and 4 leave the window unseen: lost */
	P(4, 7, LATE, NONE, ""),
	P(6, 8, DELIVERED, NONE, "6"),	/* oldest in the window */
	P(6, 8, DUPLICATE, NONE, ""),
	P(2, 9, LATE, NONE, ""),
	P(100, 10, DELIVERED, NONE, "100"),	/* 7..20 and 22..84 lost */
	R(),
	P(50, 11, DELIVERED, NONE, "50"),
	P(49, 12, LATE, NONE, ""),
};

static const struct table tables[] = {
	TABLE(in_order, 16, 1000, false, { .delivered = 5 }),
	TABLE(gap_filled, 16, 1000, false, { .delivered = 6, .reordered = 3 }),
	TABLE(expiry, 16, 1000, false, { .delivered = 3, .lost = 1, .duplicates = 3, .reordered = 1, .late = 1 }),
	TABLE(stages, 16, 1000, false, { .delivered = 5, .lost = 2, .reordered = 3 }),
	TABLE(stages_one_tick, 16, 1000, false,
	      { .delivered = 4, .lost = 5, .duplicates = 1, .reordered = 3, .late = 2 }),
	TABLE(dups, 16, 1000, false, { .delivered = 4, .duplicates = 5, .reordered = 2 }),
	TABLE(force, 16, 1000, false,
	      { .delivered = 6, .lost = 35, .duplicates = 2, .reordered = 4, .late = 4 }),
	TABLE(force_far, 16, 1000, false,
	      { .delivered = 3, .lost = 82, .duplicates = 1, .reordered = 2, .late = 3 }),
	TABLE(huge_jump, 16, 1000, false,
	      { .delivered = 3, .lost = 0x7fffffff, .reordered = 1, .late = 3 }),
	TABLE(first_sets_base, 16, 1000, false, { .delivered = 3, .reordered = 1, .late = 2 }),
	TABLE(reset, 64, 1000, false, { .delivered = 8, .lost = 37, .reordered = 3, .late = 1 }),
	TABLE(budget0, 16, 0, false, { .delivered = 2, .lost = 1, .reordered = 1 }),
	TABLE(budget_max, 16, UINT64_MAX, false, { .delivered = 3, .reordered = 1 }),
	TABLE(time_back, 16, 1000, false, { .delivered = 2, .lost = 1, .reordered = 1 }),
	TABLE(unordered, 16, 1000, true, { .delivered = 8, .lost = 79, .duplicates = 3, .late = 3 }),
};

/* Bases chosen so the tables run plain, across the 32-bit wrap at several
 * points, and across the signed midpoint. */
static const uint32_t bases[] = {
	0, 1, 0xfffffff0u, 0xfffffffeu, 0xffffffffu, 0x7ffffff8u, 0x80000000u, 0x12345678u,
};

START_TEST(test_tables)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
			run_table(&tables[t], bases[b]);
}
END_TEST

/* --- direct tests ------------------------------------------------------------ */

static struct reorder *make(unsigned window, uint64_t budget, bool unord)
{
	struct reorder_cfg cfg = { .window = window, .budget_ns = budget, .unordered = unord };
	struct reorder *r = NULL;

	ck_assert_int_eq(reorder_create(&r, &cfg), 0);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* A long in-order stream: every datagram comes out during its own push,
 * nothing is ever held, and the slots are reused many times over. */
START_TEST(test_in_order_long)
{
	struct reorder *r = make(16, 1000, false);
	struct cap cap;

	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t seq = 0xffff0000u + i;

		cap.n = 0;
		CHECK(push(r, seq, i, cap_fn, &cap) == REORDER_DELIVERED, "seq %#" PRIx32, seq);
		CHECK(cap.n == 1 && cap.seq[0] == seq, "seq %#" PRIx32 ": %u delivered", seq, cap.n);
		CHECK(reorder_counters(r)->held == 0 && reorder_deadline(r) == NONE, "seq %#" PRIx32 " held", seq);
	}
	ck_assert_uint_eq(reorder_counters(r)->delivered, 100000);
	ck_assert_uint_eq(reorder_counters(r)->reordered, 0);
	ck_assert_uint_eq(reorder_counters(r)->lost, 0);
	reorder_destroy(r);
}
END_TEST

/* The wrap spelled out with absolute numbers: a gap at 0xffffffff. */
START_TEST(test_wrap_explicit)
{
	struct reorder *r = make(64, 1000, false);
	struct cap cap = { .n = 0 };

	for (uint32_t s = 0xfffffff0u; s != 0xffffffffu; s++)
		ck_assert_int_eq(push(r, s, 1, cap_fn, &cap), REORDER_DELIVERED);
	ck_assert_int_eq(push(r, 0, 2, cap_fn, &cap), REORDER_HELD);
	ck_assert_int_eq(push(r, 1, 3, cap_fn, &cap), REORDER_HELD);
	ck_assert_uint_eq(reorder_deadline(r), 1002);
	cap.n = 0;
	ck_assert_int_eq(push(r, 0xffffffffu, 4, cap_fn, &cap), REORDER_DELIVERED);
	ck_assert_uint_eq(cap.n, 3);
	ck_assert_uint_eq(cap.seq[0], 0xffffffffu);
	ck_assert_uint_eq(cap.seq[1], 0);
	ck_assert_uint_eq(cap.seq[2], 1);
	ck_assert_int_eq(push(r, 0xfffffff5u, 5, cap_fn, &cap), REORDER_DUPLICATE);
	ck_assert_int_eq(push(r, 0, 5, cap_fn, &cap), REORDER_DUPLICATE);
	ck_assert_int_eq(push(r, 2, 5, cap_fn, &cap), REORDER_DELIVERED);
	ck_assert_uint_eq(reorder_counters(r)->delivered, 19);
	reorder_destroy(r);
}
END_TEST

/* A session whose first sequence number both sides know: a first datagram
 * overtaken by the second is awaited, not taken for late, and one from before
 * the start is late. */
START_TEST(test_reset_at)
{
	struct reorder *r = make(64, 1000, false);
	struct cap cap = { .n = 0 };

	ck_assert_int_eq(push(r, 7, 0, cap_fn, &cap), REORDER_DELIVERED);
	reorder_reset_at(r, 0xffffffffu);
	ck_assert_uint_eq(reorder_deadline(r), UINT64_MAX);
	cap.n = 0;
	ck_assert_int_eq(push(r, 0, 10, cap_fn, &cap), REORDER_HELD);
	ck_assert_uint_eq(reorder_deadline(r), 1010);
	ck_assert_int_eq(push(r, 0xffffffffu, 20, cap_fn, &cap), REORDER_DELIVERED);
	ck_assert_uint_eq(cap.n, 2);
	ck_assert_uint_eq(cap.seq[0], 0xffffffffu);
	ck_assert_uint_eq(cap.seq[1], 0);
	ck_assert_int_eq(push(r, 0xfffffffeu, 30, cap_fn, &cap), REORDER_LATE);
	ck_assert_uint_eq(reorder_counters(r)->reordered, 1);

	/* The first datagram never comes: its gap is given up after the
	 * budget, counted lost, and what followed is delivered. */
	reorder_reset_at(r, 100);
	cap.n = 0;
	ck_assert_int_eq(push(r, 101, 2000, cap_fn, &cap), REORDER_HELD);
	ck_assert_uint_eq(reorder_tick(r, 2999, cap_fn, &cap), 3000);
	ck_assert_uint_eq(cap.n, 0);
	reorder_tick(r, 3000, cap_fn, &cap);
	ck_assert_uint_eq(cap.n, 1);
	ck_assert_uint_eq(cap.seq[0], 101);
	ck_assert_uint_eq(reorder_counters(r)->lost, 1);
	reorder_destroy(r);
}
END_TEST

/* The horizon: a gap every path has passed waits only the grace, counted from
 * when the horizon passed it; giving up stops at the horizon, so a gap above
 * it still waits the budget; a horizon behind next changes nothing; the
 * unordered mode ignores it. Budget 1000, grace 50. */
START_TEST(test_horizon)
{
	struct reorder *r = make(64, 1000, false);
	struct cap cap = { .n = 0 };

	reorder_reset_at(r, 10);
	ck_assert_int_eq(push(r, 10, 0, cap_fn, &cap), REORDER_DELIVERED);
	/* 11 and 14 missing; 12, 13 and 15 held. */
	ck_assert_int_eq(push(r, 12, 100, cap_fn, &cap), REORDER_HELD);
	ck_assert_int_eq(push(r, 13, 110, cap_fn, &cap), REORDER_HELD);
	ck_assert_int_eq(push(r, 15, 120, cap_fn, &cap), REORDER_HELD);
	ck_assert_uint_eq(reorder_deadline(r), 1100);
	/* A horizon at or behind next says nothing. */
	reorder_set_horizon(r, 11, 50, 130);
	ck_assert_uint_eq(reorder_deadline(r), 1100);
	/* Passed at 200: the gap at 11 waits until 250, not 1100. */
	reorder_set_horizon(r, 13, 50, 200);
	ck_assert_uint_eq(reorder_deadline(r), 250);
	/* A later, higher horizon does not restart the head gap's grace. */
	reorder_set_horizon(r, 14, 50, 240);
	ck_assert_uint_eq(reorder_deadline(r), 250);
	cap.n = 1;
	ck_assert_uint_eq(reorder_tick(r, 249, cap_fn, &cap), 250);
	ck_assert_uint_eq(cap.n, 1);
	/* 11 given up, 12 and 13 delivered; the gap at 14 is not below the
	 * horizon (14): it keeps the budget of 15, which arrived at 120. */
	ck_assert_uint_eq(reorder_tick(r, 250, cap_fn, &cap), 1120);
	ck_assert_uint_eq(cap.n, 3);
	ck_assert_uint_eq(cap.seq[1], 12);
	ck_assert_uint_eq(cap.seq[2], 13);
	ck_assert_uint_eq(reorder_counters(r)->lost, 1);
	/* 11 turns up after all: late, dropped. */
	ck_assert_int_eq(push(r, 11, 260, cap_fn, &cap), REORDER_LATE);
	/* The horizon passes 14 at 300: 14 is given up at 350. */
	reorder_set_horizon(r, 16, 50, 300);
	ck_assert_uint_eq(reorder_deadline(r), 350);
	reorder_tick(r, 350, cap_fn, &cap);
	ck_assert_uint_eq(cap.n, 4);
	ck_assert_uint_eq(cap.seq[3], 15);
	ck_assert_uint_eq(reorder_counters(r)->lost, 2);
	ck_assert_uint_eq(reorder_deadline(r), UINT64_MAX);
	/* A grace above the budget is cut to the budget. */
	ck_assert_int_eq(push(r, 17, 400, cap_fn, &cap), REORDER_HELD);
	reorder_set_horizon(r, 18, 5000, 400);
	ck_assert_uint_eq(reorder_deadline(r), 1400);
	reorder_destroy(r);

	r = make(64, 1000, true);
	reorder_reset_at(r, 10);
	reorder_set_horizon(r, 20, 50, 0);
	ck_assert_uint_eq(reorder_deadline(r), UINT64_MAX);
	ck_assert_int_eq(push(r, 12, 10, cap_fn, &cap), REORDER_DELIVERED);
	reorder_destroy(r);
}
END_TEST

START_TEST(test_oversize_and_bad_args)
{
	static uint8_t big[BRAID_PAYLOAD_MAX + 1];
	struct reorder *r = make(16, 1000, false);
	struct cap cap = { .n = 0 };
	const struct reorder_counters *c = reorder_counters(r);

	/* Rejected before anything else: it does not even set the start. */
	ck_assert_int_eq(reorder_push(r, 100, 1, big, BRAID_PAYLOAD_MAX + 1, 0, cap_fn, &cap), REORDER_EINVAL);
	ck_assert_int_eq(reorder_push(r, 100, 1, big, SIZE_MAX, 0, cap_fn, &cap), REORDER_EINVAL);
	ck_assert_int_eq(reorder_push(r, 100, 1, NULL, 5, 0, cap_fn, &cap), REORDER_EINVAL);
	ck_assert_uint_eq(cap.n, 0);
	ck_assert_uint_eq(c->delivered + c->lost + c->duplicates + c->late + c->held, 0);

	ck_assert_int_eq(push(r, 7, 0, cap_fn, &cap), REORDER_DELIVERED);
	ck_assert_uint_eq(cap.seq[0], 7);
	/* Oversize while a gap is open changes nothing either. */
	ck_assert_int_eq(push(r, 9, 1, cap_fn, &cap), REORDER_HELD);
	ck_assert_int_eq(reorder_push(r, 8, 1, big, BRAID_PAYLOAD_MAX + 1, 2, cap_fn, &cap), REORDER_EINVAL);
	ck_assert_uint_eq(c->held, 1);
	ck_assert_uint_eq(cap.n, 1);

	/* Exactly BRAID_PAYLOAD_MAX is fine and comes back whole, also after
	 * being held; empty datagrams are fine too. */
	memset(big, 0xa5, sizeof(big));
	big[0] = 1;
	ck_assert_int_eq(reorder_push(r, 11, 9, big, BRAID_PAYLOAD_MAX, 3, NULL, NULL), REORDER_HELD);
	ck_assert_int_eq(reorder_push(r, 10, 9, NULL, 0, 3, NULL, NULL), REORDER_HELD);
	ck_assert_uint_eq(c->held, 3);
	/* A NULL fn drops what is delivered but still counts it. */
	ck_assert_int_eq(reorder_push(r, 8, 9, NULL, 0, 4, NULL, NULL), REORDER_DELIVERED);
	ck_assert_uint_eq(c->delivered, 5);
	ck_assert_uint_eq(c->held, 0);
	reorder_destroy(r);
}
END_TEST

struct whole {
	unsigned n;
	size_t len[4];
	uint8_t first[4];
	bool all_a5;
};

static void whole_fn(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct whole *w = ctx;

	ck_assert_uint_eq(flow, 9);
	ck_assert_uint_lt(w->n, 4);
	w->len[w->n] = len;
	w->first[w->n] = len ? data[0] : 0;
	for (size_t i = 1; i < len; i++)
		if (data[i] != 0xa5)
			w->all_a5 = false;
	w->n++;
}

START_TEST(test_max_len_held)
{
	static uint8_t big[BRAID_PAYLOAD_MAX];
	struct reorder *r = make(16, 1000, false);
	struct whole w = { .all_a5 = true };

	memset(big, 0xa5, sizeof(big));
	big[0] = 1;
	ck_assert_int_eq(reorder_push(r, 0, 9, NULL, 0, 0, whole_fn, &w), REORDER_DELIVERED);
	ck_assert_int_eq(reorder_push(r, 2, 9, big, sizeof(big), 1, whole_fn, &w), REORDER_HELD);
	memset(big, 0, sizeof(big));	/* the buffer keeps its own copy */
	ck_assert_int_eq(reorder_push(r, 1, 9, NULL, 0, 2, whole_fn, &w), REORDER_DELIVERED);
	ck_assert_uint_eq(w.n, 3);
	ck_assert_uint_eq(w.len[0], 0);
	ck_assert_uint_eq(w.len[1], 0);
	ck_assert_uint_eq(w.len[2], BRAID_PAYLOAD_MAX);
	ck_assert_uint_eq(w.first[2], 1);
	ck_assert(w.all_a5);
	reorder_destroy(r);
}
END_TEST

START_TEST(test_bad_cfg)
{
	static const unsigned bad[] = { 0, 1, 2, 8, 15, 17, 24, 100, 4095, 65535, 65537, 131072, 1u << 31, UINT_MAX };
	struct reorder_cfg cfg = { .budget_ns = 1000 };
	struct reorder *r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.window = bad[i];
		for (int unord = 0; unord < 2; unord++) {
			cfg.unordered = unord;
			r = (struct reorder *)&cfg;	/* must be overwritten */
			ck_assert_msg(reorder_create(&r, &cfg) == -EINVAL, "window %u accepted", bad[i]);
			ck_assert_ptr_null(r);
		}
	}
	ck_assert_int_eq(reorder_create(&r, NULL), -EINVAL);
	ck_assert_int_eq(reorder_create(NULL, &cfg), -EINVAL);
	reorder_destroy(NULL);
}
END_TEST

/* Both ends of the window range work, the largest included. */
START_TEST(test_cfg_limits)
{
	struct reorder *r;
	struct cap cap = { .n = 0 };

	r = make(16, 1000, false);
	reorder_destroy(r);

	r = make(65536, 1000, false);
	ck_assert_int_eq(push(r, 0, 0, cap_fn, &cap), REORDER_DELIVERED);
	ck_assert_int_eq(push(r, 65536, 1, cap_fn, &cap), REORDER_HELD);	/* next + 65535 */
	ck_assert_uint_eq(reorder_counters(r)->lost, 0);
	ck_assert_int_eq(push(r, 65537, 2, cap_fn, &cap), REORDER_HELD);	/* one too far */
	ck_assert_uint_eq(reorder_counters(r)->lost, 1);
	ck_assert_uint_eq(reorder_tick(r, 1001, cap_fn, &cap), NONE);
	ck_assert_uint_eq(reorder_counters(r)->lost, 65535);
	ck_assert_uint_eq(cap.n, 3);
	reorder_destroy(r);

	r = make(65536, 1000, true);
	ck_assert_int_eq(push(r, 0, 0, cap_fn, &cap), REORDER_DELIVERED);
	reorder_destroy(r);
}
END_TEST

/* --- randomized properties ------------------------------------------------- */

struct ev {
	uint64_t time;
	uint32_t k;		/* offset of the seq from the start */
	uint32_t copy;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return (x->copy > y->copy) - (x->copy < y->copy);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct sim {
	uint32_t base;
	uint64_t now;
	uint64_t budget;
	bool unordered;
	uint64_t *first_arrival;	/* per k, NONE until a copy was pushed */
	bool *delivered;
	int64_t last;			/* last k delivered, ordered mode */
	uint64_t ndelivered;
};

static void sim_fn(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct sim *s = ctx;
	uint32_t k = pverify(flow, data, len) - s->base;

	CHECK(!s->delivered[k], "k %" PRIu32 " delivered twice", k);
	if (!s->unordered) {
		CHECK((int64_t)k > s->last, "k %" PRIu32 " after %" PRId64, k, s->last);
		s->last = k;
	}
	CHECK(s->first_arrival[k] != NONE, "k %" PRIu32 " delivered before it arrived", k);
	CHECK(s->now - s->first_arrival[k] <= s->budget, "k %" PRIu32 " waited %" PRIu64,
		      k, s->now - s->first_arrival[k]);
	s->delivered[k] = true;
	s->ndelivered++;
}

/* n datagrams, one every `step` ns, starting at seq `base`. 5% are dropped,
 * 2% sent twice. Each copy gets a delay: most a few steps (a local shuffle),
 * many up to just under the budget, 3% beyond it. Copies are pushed in
 * arrival order, with reorder_tick called at every deadline in between. */
static void run_property(uint64_t seed, uint32_t base, unsigned window, bool unord, uint32_t n)
{
	const uint64_t step = 10000, budget = 1000000;
	struct reorder *r = make(window, budget, unord);
	const struct reorder_counters *c = reorder_counters(r);
	struct ev *ev = calloc(2 * (size_t)n, sizeof(*ev));
	uint64_t *min_delay = calloc(n, sizeof(*min_delay));
	bool *dropped = calloc(n, sizeof(*dropped));
	struct sim s = { .base = base, .budget = budget, .unordered = unord, .last = -1 };
	uint64_t pushes = 0, res_count[5] = { 0 }, ndropped = 0, ndropped_old = 0;
	size_t nev = 0;

	s.first_arrival = malloc(n * sizeof(*s.first_arrival));
	s.delivered = calloc(n, sizeof(*s.delivered));
	ck_assert(ev && min_delay && dropped && s.first_arrival && s.delivered);
	rng_state = seed;
	for (uint32_t k = 0; k < n; k++) {
		unsigned copies;

		s.first_arrival[k] = NONE;
		min_delay[k] = NONE;
		/* The first and last always arrive: the first sets the start
		 * and the last closes every gap before it. */
		dropped[k] = k && k != n - 1 && rnd() % 100 < 5;
		if (dropped[k]) {
			ndropped++;
			if (k + window < n)
				ndropped_old++;
			continue;
		}
		copies = rnd() % 100 < 2 ? 2 : 1;
		for (unsigned j = 0; j < copies; j++) {
			unsigned p = rnd() % 100;
			uint64_t d;

			if (k == 0)
				d = 0;
			else if (p < 70)
				d = rnd() % (3 * step);
			else if (p < 97)
				d = rnd() % budget;
			else
				d = budget + rnd() % (3 * budget);
			if (d < min_delay[k])
				min_delay[k] = d;
			ev[nev++] = (struct ev){ k * step + d, k, j };
		}
	}
	qsort(ev, nev, sizeof(*ev), ev_cmp);
	ck_assert_uint_eq(ev[0].k, 0);

	for (size_t i = 0; i < nev;) {
		uint64_t dl = reorder_deadline(r);
		enum reorder_result res;

		if (dl <= ev[i].time) {
			uint64_t ret;

			s.now = dl;
			ret = reorder_tick(r, dl, sim_fn, &s);
			/* progress: the due work was done */
			CHECK(ret > dl && ret == reorder_deadline(r), "tick at %" PRIu64 " returned %" PRIu64, dl, ret);
			continue;
		}
		s.now = ev[i].time;
		if (s.first_arrival[ev[i].k] == NONE)
			s.first_arrival[ev[i].k] = s.now;
		res = push(r, base + ev[i].k, s.now, sim_fn, &s);
		CHECK(res < REORDER_EINVAL && !(unord && res == REORDER_HELD), "push k %" PRIu32 " = %d",
		      ev[i].k, res);
		res_count[res]++;
		pushes++;
		i++;
	}
	s.now = UINT64_MAX;
	ck_assert_uint_eq(reorder_tick(r, UINT64_MAX, sim_fn, &s), NONE);

	ck_assert_uint_eq(c->held, 0);
	ck_assert_uint_eq(c->delivered, s.ndelivered);
	ck_assert_uint_eq(c->duplicates, res_count[REORDER_DUPLICATE]);
	ck_assert_uint_eq(c->late, res_count[REORDER_LATE]);
	ck_assert_uint_eq(pushes, c->delivered + c->duplicates + c->late);
	if (unord) {
		/* Every seq that arrived is delivered on arrival; lost counts
		 * exactly the dropped ones that slid out of the window. */
		ck_assert_uint_eq(c->delivered, n - ndropped);
		ck_assert_uint_eq(c->lost, ndropped_old);
		ck_assert_uint_eq(c->reordered, 0);
		ck_assert_uint_eq(c->late, 0);
	} else {
		ck_assert_uint_eq(c->delivered + c->lost, n);
		ck_assert_uint_eq(c->reordered, c->delivered - res_count[REORDER_DELIVERED]);
		ck_assert_uint_gt(c->reordered, 0);
		ck_assert_uint_gt(c->late, 0);
	}
	ck_assert_uint_gt(c->duplicates, 0);
	for (uint32_t k = 0; k < n; k++) {
		CHECK(!(dropped[k] && s.delivered[k]), "dropped %" PRIu32 " delivered", k);
		/* A datagram whose first copy beat the budget is never given up
		 * on, unless the window forced it (only if window is small). */
		if (!dropped[k] && min_delay[k] < budget && window * step > 4 * budget)
			CHECK(s.delivered[k], "k %" PRIu32 " (delay %" PRIu64 ") not delivered",
				      k, min_delay[k]);
	}
	free(s.first_arrival);
	free(s.delivered);
	free(dropped);
	free(min_delay);
	free(ev);
	reorder_destroy(r);
}

START_TEST(test_property_ordered)
{
	/* Starts below the wrap, so about 65536 datagrams in it wraps. */
	run_property(0xb0a1d001, 0xffff0000u, 1024, false, 200000);
}
END_TEST

START_TEST(test_property_small_window)
{
	/* Window 64 against delays of up to 400 steps: force-advance happens
	 * all the time; order, integrity and the accounting must still hold. */
	run_property(0xb0a1d002, 0xfffffc00u, 64, false, 100000);
}
END_TEST

START_TEST(test_property_unordered)
{
	run_property(0xb0a1d003, 0xffff8000u, 1024, true, 100000);
}
END_TEST

static Suite *reorder_suite(void)
{
	Suite *s = suite_create("reorder");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_in_order_long);
	tcase_add_test(tc, test_wrap_explicit);
	tcase_add_test(tc, test_reset_at);
	tcase_add_test(tc, test_horizon);
	tcase_add_test(tc, test_oversize_and_bad_args);
	tcase_add_test(tc, test_max_len_held);
	tcase_add_test(tc, test_bad_cfg);
	tcase_add_test(tc, test_cfg_limits);
	tcase_add_test(tc, test_property_ordered);
	tcase_add_test(tc, test_property_small_window);
	tcase_add_test(tc, test_property_unordered);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reorder_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
