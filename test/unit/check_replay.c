/* Anti-replay window: table-driven boundary walks in the manner of
 * WireGuard's selftest/counter.c, check-versus-commit semantics, and a random
 * walk against a slow reference (a set of seen counters and the top). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "replay.h"

#define W     ((uint64_t)REPLAY_WINDOW)
#define RING  ((uint64_t)REPLAY_BLOCKS * 64)	/* counters one turn of the ring covers */
#define M     UINT64_MAX

struct step {
	uint64_t counter;
	bool accept;
};

/* Walks steps in order on one window. Each step is checked, then committed;
 * both must agree with the table, and an accepted counter must be refused
 * right after (it is now recorded). */
static void walk(struct replay *r, const char *name, const struct step *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool c = replay_check(r, s[i].counter);

		ck_assert_msg(c == s[i].accept, "%s step %zu: check(%" PRIu64 ") = %d, want %d",
			      name, i + 1, s[i].counter, c, s[i].accept);
		c = replay_commit(r, s[i].counter);
		ck_assert_msg(c == s[i].accept, "%s step %zu: commit(%" PRIu64 ") = %d, want %d",
			      name, i + 1, s[i].counter, c, s[i].accept);
		ck_assert_msg(!replay_check(r, s[i].counter), "%s step %zu: %" PRIu64 " still acceptable",
			      name, i + 1, s[i].counter);
	}
}

#define WALK(tbl) do { \
	struct replay r_; \
	replay_init(&r_); \
	walk(&r_, #tbl, tbl, sizeof(tbl) / sizeof(tbl[0])); \
} while (0)

/* Counter 0 is a real counter; duplicates and small reorderings. */
static const struct step t_basic[] = {
	{ 0, true }, { 0, false }, { 1, true }, { 1, false }, { 9, true }, { 8, true },
	{ 7, true }, { 7, false }, { 0, false }, { 2, true }, { 2, false }, { 9, false },
	{ 10, true }, { 3, true }, { 10, false },
};

/* The first packet need not be 0: everything up to REPLAY_WINDOW below it
 * is still acceptable once. */
static const struct step t_first_high[] = {
	{ 5000, true }, { 5000, false }, { 4999, true }, { 5000 - W, true }, { 5000 - W, false },
	{ 5000 - W - 1, false }, { 0, false }, { 5001, true }, { 5000 - W + 1, true },
	{ 5000 - W + 1, false }, { 5000 - W, false },
};

/* The window edge: top - REPLAY_WINDOW is in, one below is out, whether or
 * not it was seen; a counter one ring below top shares top's block and bit
 * and must still be refused. Top at the start and at the end of a block. */
static const struct step t_edge[] = {
	{ 6400, true }, { 6400 - W, true }, { 6400 - W - 1, false }, { 6400 - W + 1, true },
	{ 6400 - RING, false }, { 6400 - RING + 64, false },
	{ 6463, true }, { 6463 - W, true }, { 6463 - W - 1, false }, { 6463 - RING, false },
	{ 6400 - W + 2, false },	/* was inside, now below the edge */
	{ 6463 - 64, true }, { 6462, true },
};

/* Jump by exactly the window: the old top lands on the edge. */
static const struct step t_jump_window[] = {
	{ 0, true }, { W, true }, { 0, false }, { 1, true }, { W - 1, true }, { W + 1, true },
	{ 1, false }, { 2, true }, { 0, false },
};

/* Jump by exactly one turn of the ring: every block is cleared, so the
 * counter in the old top's bit is new again once it is inside the window. */
static const struct step t_jump_ring[] = {
	{ 100, true }, { 99, true }, { 100 + RING, true }, { 100, false },
	{ 100 + RING - W, true }, { 100 + RING - W - 1, false },
	{ 99 + RING, true },	/* same block and bit as 99, cleared by the slide */
	{ 99 + RING, false },
};

/* Jump by far more than a ring; and a slide of a few blocks clears only the
 * blocks it passes, so an older counter stays recorded. */
static const struct step t_jump_far[] = {
	{ 7, true }, { 150, true }, { 200, true }, { 200 + 64 * 10, true }, { 150, false }, { 151, true },
	{ 7, false }, { 8, true },
	{ 100007, true }, { 7, false }, { 100007 - W, true }, { 100007 - W - 1, false },
	{ 7 + RING * 24, true },	/* same ring block and bit as 7 */
	{ 200 + RING * 24, true }, { 100006, true }, { 100007, false },
	{ 1ull << 40, true }, { 100007, false }, { (1ull << 40) - W, true },
	{ (1ull << 40) - W - 1, false }, { (1ull << 40) - 1, true },
};

/* The top end of the counter space: no overflow in the window arithmetic. */
static const struct step t_near_max[] = {
	{ M - 5000, true }, { M - 1, true }, { M, true }, { M, false }, { M - 1, false },
	{ M - W, true }, { M - W - 1, false }, { M - 5000, false }, { M - 2, true },
	{ 0, false }, { M - W + 1, true },
};

/* From 0 straight to the last counter. */
static const struct step t_zero_to_max[] = {
	{ 0, true }, { M, true }, { 0, false }, { M - W, true }, { M - W - 1, false },
	{ M - RING, false }, { M - 64, true },
};

/* First packet at UINT64_MAX. */
static const struct step t_first_max[] = {
	{ M, true }, { M, false }, { M - W, true }, { M - W - 1, false }, { 0, false }, { M - 1, true },
};

/* Re-acceptance after a slide: a counter sharing a ring block with an old
 * one is accepted once its block was cleared, and the neighbours of the
 * re-used block are not disturbed. */
static const struct step t_reuse[] = {
	{ 5, true }, { 70, true }, { 63, true }, { 4000, true }, { 5, false },
	{ 4096 + 5, true },	/* block 64 reuses ring slot 0: 5's bit is gone */
	{ 4096 + 5, false }, { 5, false }, { 70, false }, { 4096 + 63, true }, { 4096 + 70, true },
	{ 4000, false }, { 4001, true },
};

START_TEST(test_tables)
{
	WALK(t_basic);
	WALK(t_first_high);
	WALK(t_edge);
	WALK(t_jump_window);
	WALK(t_jump_ring);
	WALK(t_jump_far);
	WALK(t_near_max);
	WALK(t_zero_to_max);
	WALK(t_first_max);
	WALK(t_reuse);
}
END_TEST

/* The long walks of counter.c: a whole window in order then the edge, and
 * a whole window backwards. */
START_TEST(test_window_runs)
{
	struct replay r;
	struct step s[2];

	replay_init(&r);
	for (uint64_t i = 1; i <= W; i++)
		ck_assert(replay_commit(&r, i));
	s[0] = (struct step){ 0, true };
	s[1] = (struct step){ 0, false };
	walk(&r, "1..W then 0", s, 2);

	replay_init(&r);
	for (uint64_t i = 2; i <= W + 1; i++)
		ck_assert(replay_commit(&r, i));
	s[0] = (struct step){ 1, true };
	s[1] = (struct step){ 0, false };
	walk(&r, "2..W+1 then 1, 0", s, 2);

	replay_init(&r);
	for (uint64_t i = W + 1; i-- > 0;)
		ck_assert_msg(replay_commit(&r, i), "descending %" PRIu64, i);

	replay_init(&r);
	for (uint64_t i = W + 2; i-- > 1;)
		ck_assert(replay_commit(&r, i));
	ck_assert(!replay_commit(&r, 0));

	replay_init(&r);
	for (uint64_t i = W + 1; i-- > 1;)
		ck_assert(replay_commit(&r, i));
	ck_assert(replay_commit(&r, W + 1));
	ck_assert(!replay_commit(&r, 0));

	/* In order over three windows: everything is new once, and afterwards
	 * the last window is all seen and everything older is out. */
	replay_init(&r);
	for (uint64_t i = 0; i < 3 * W; i++)
		ck_assert(replay_commit(&r, i));
	for (uint64_t i = 0; i < 3 * W; i++)
		ck_assert_msg(!replay_check(&r, i), "%" PRIu64 " acceptable again", i);
	ck_assert(replay_check(&r, 3 * W));
}
END_TEST

START_TEST(test_check_vs_commit)
{
	struct replay r, before;

	replay_init(&r);
	/* check never records. */
	ck_assert(replay_check(&r, 5));
	ck_assert(replay_check(&r, 5));
	ck_assert(!r.any);
	ck_assert(replay_commit(&r, 5));
	ck_assert(!replay_check(&r, 5));
	ck_assert(replay_check(&r, 4));
	ck_assert(replay_check(&r, 4));
	ck_assert(replay_commit(&r, 4));

	/* A refused commit (replay, or below the window) changes nothing. */
	ck_assert(replay_commit(&r, 10000));
	memcpy(&before, &r, sizeof(r));
	ck_assert(!replay_commit(&r, 10000));
	ck_assert(!replay_commit(&r, 5));
	ck_assert(!replay_commit(&r, 10000 - W - 1));
	ck_assert(memcmp(&before, &r, sizeof(r)) == 0);
	ck_assert(replay_check(&r, 10000 - W));
	ck_assert_uint_eq(r.top, 10000);

	/* A check of a far-ahead counter does not move the window. */
	ck_assert(replay_check(&r, 1000000));
	ck_assert(memcmp(&before, &r, sizeof(r)) == 0);
	ck_assert(replay_check(&r, 10000 - W));

	/* replay_init forgets everything. */
	replay_init(&r);
	ck_assert(replay_check(&r, 10000));
	ck_assert(replay_commit(&r, 0));
}
END_TEST

/* --- one window per link ---------------------------------------------------- */

#define NL 4		/* links in the per-link tables */

#define F REPLAY_FRESH
#define O REPLAY_OLD
#define X REPLAY_WRONG_LINK

struct lstep {
	unsigned arrival;	/* the link it came on */
	unsigned link;		/* the link its counter names */
	uint64_t seq;		/* that link's packet number */
	enum replay_verdict want;
	bool newest;		/* when accepted: above its link's top */
};

/* Walks steps on NL fresh windows: check, then commit, must both give the
 * table's verdict; an accepted counter is refused after, and newest is as
 * the table says. */
static void walk_links(const char *name, const struct lstep *s, size_t n)
{
	struct replay win[NL];
	struct replay_links rl = { .n = NL, .win = win };

	replay_links_init(&rl);
	for (size_t i = 0; i < n; i++) {
		uint64_t ctr = replay_counter(s[i].link, s[i].seq);
		enum replay_verdict v = replay_links_check(&rl, s[i].arrival, ctr);
		bool newest = !s[i].newest;

		ck_assert_msg(v == s[i].want, "%s step %zu: check = %d, want %d", name, i + 1,
			      v, s[i].want);
		v = replay_links_commit(&rl, s[i].arrival, ctr, &newest);
		ck_assert_msg(v == s[i].want, "%s step %zu: commit = %d, want %d", name, i + 1,
			      v, s[i].want);
		if (v != REPLAY_FRESH)
			continue;
		ck_assert_msg(newest == s[i].newest, "%s step %zu: newest = %d, want %d", name,
			      i + 1, newest, s[i].newest);
		ck_assert_msg(replay_links_check(&rl, s[i].arrival, ctr) == REPLAY_OLD,
			      "%s step %zu: still acceptable", name, i + 1);
	}
}

#define WALK_LINKS(tbl) walk_links(#tbl, tbl, sizeof(tbl) / sizeof(tbl[0]))

/* Each link's window is its own: one link far ahead leaves another's low
 * counters acceptable, and the same packet number is new once per link. */
static const struct lstep t_links_independent[] = {
	{ 0, 0, 1, F, true }, { 1, 1, 1, F, true }, { 0, 0, 1, O, false },
	{ 0, 0, 100000, F, true }, { 1, 1, 2, F, true }, { 2, 2, 1, F, true },
	{ 1, 1, 1, O, false }, { 0, 0, 2, O, false }, { 3, 3, 100000 - W - 1, F, true },
	{ 3, 3, 1, O, false }, { 1, 1, 100000 - W - 1, F, true }, { 2, 2, 2, F, true },
};

/* The window edge on one link, with another link moving meanwhile; late
 * packets inside the window are accepted but are not the newest. */
static const struct lstep t_links_edge[] = {
	{ 1, 1, 6400, F, true }, { 0, 0, 9000000, F, true }, { 1, 1, 6400 - W, F, false },
	{ 1, 1, 6400 - W - 1, O, false }, { 1, 1, 6399, F, false }, { 1, 1, 6401, F, true },
	{ 1, 1, 6400 - W, O, false }, { 1, 1, 6401 - W, F, false }, { 1, 1, 6402 - W, F, false },
	{ 1, 1, 6401 - W, O, false },
	{ 1, 1, REPLAY_SEQ_MAX, F, true }, { 1, 1, REPLAY_SEQ_MAX - W, F, false },
	{ 1, 1, REPLAY_SEQ_MAX - W - 1, O, false }, { 0, 0, 9000000 - W, F, false },
};

/* A counter that names another link than the one it came on is refused
 * before and after it would be new, and records nothing: the link it
 * names, and the arrival link, take it afterwards as usual. */
static const struct lstep t_links_wrong[] = {
	{ 1, 0, 1, X, false }, { 0, 0, 1, F, true }, { 1, 0, 1, X, false }, { 1, 0, 2, X, false },
	{ 1, 1, 2, F, true }, { 0, 1, 2, X, false }, { 0, 0, 2, F, true }, { 2, 3, 5, X, false },
	{ 3, 3, 5, F, true }, { 2, 2, 5, F, true },
	/* An arrival link the set has no window for, and ids beyond it. */
	{ NL, NL, 1, X, false }, { 0, NL, 1, X, false }, { 0, 255, 1, X, false },
	{ 255, 255, 1, X, false },
};

#undef F
#undef O
#undef X

START_TEST(test_links_tables)
{
	WALK_LINKS(t_links_independent);
	WALK_LINKS(t_links_edge);
	WALK_LINKS(t_links_wrong);
}
END_TEST

START_TEST(test_counter_layout)
{
	static const struct { unsigned link; uint64_t seq; uint64_t ctr; } t[] = {
		{ 0, 0, 0 }, { 0, 1, 1 }, { 1, 1, (1ull << 56) | 1 },
		{ 15, REPLAY_SEQ_MAX, (15ull << 56) | REPLAY_SEQ_MAX },
		{ 255, REPLAY_SEQ_MAX, UINT64_MAX },
		/* A packet number past 56 bits never reaches another link's space. */
		{ 2, REPLAY_SEQ_MAX + 1, 2ull << 56 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(replay_counter(t[i].link, t[i].seq) == t[i].ctr, "row %zu", i);
		ck_assert_uint_eq(replay_counter_link(t[i].ctr), t[i].link);
	}
}
END_TEST

/* Link A delivers its packets 1 ms after they are sent, link B 51 ms after,
 * at 100,000 packets a second split evenly between them: B's packets come
 * 5,000 of A's late. With a window per link every one is new; with one
 * window over one counter for both (how braid counted before), B's are left
 * of the window, which is what this test guards against. */
START_TEST(test_links_skew_50ms_100kpps)
{
	enum { N = 60000 };		/* 0.6 s of sending */
	const uint64_t gap_ns = 10000, delay_ns[2] = { 1000000, 51000000 };
	struct replay win[2], shared;
	struct replay_links rl = { .n = 2, .win = win };
	uint64_t seq[2] = { 0, 0 }, shared_refused = 0;
	unsigned next[2] = { 0, 1 };	/* next packet (by send order) on each link */

	replay_links_init(&rl);
	replay_init(&shared);
	/* Packet i goes on link i % 2 at i * gap_ns; merge both links'
	 * arrivals in time order (each link is FIFO). */
	while (next[0] < N || next[1] < N) {
		unsigned l;
		uint64_t ctr;
		bool newest;

		if (next[1] >= N || (next[0] < N && next[0] * gap_ns + delay_ns[0] <=
						    next[1] * gap_ns + delay_ns[1]))
			l = 0;
		else
			l = 1;
		ctr = replay_counter(l, ++seq[l]);
		ck_assert_msg(replay_links_commit(&rl, l, ctr, &newest) == REPLAY_FRESH,
			      "packet %u on link %u refused", next[l], l);
		ck_assert(newest);
		/* The old scheme: one counter in send order, one window. */
		if (!replay_commit(&shared, next[l] + 1))
			shared_refused++;
		next[l] += 2;
	}
	ck_assert_uint_gt(shared_refused, N / 4);
}
END_TEST

/* --- slow reference ------------------------------------------------------- */

/* Open-addressing set of every counter ever accepted: never forgets, so it
 * is obviously right. Sized well above the 200k operations. */
#define SET_BITS 20
#define SET_SIZE (1u << SET_BITS)

struct refset {
	uint64_t *key;
	bool *used;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static bool ref_has(const struct refset *s, uint64_t k)
{
	for (uint64_t i = mix(k) & (SET_SIZE - 1);; i = (i + 1) & (SET_SIZE - 1)) {
		if (!s->used[i])
			return false;
		if (s->key[i] == k)
			return true;
	}
}

static void ref_add(struct refset *s, uint64_t k)
{
	uint64_t i = mix(k) & (SET_SIZE - 1);

	while (s->used[i])
		i = (i + 1) & (SET_SIZE - 1);
	s->used[i] = true;
	s->key[i] = k;
}

struct ref {
	struct refset seen;
	uint64_t top;
	bool any;
};

static bool ref_accept(const struct ref *f, uint64_t c)
{
	if (!f->any || c > f->top)
		return true;
	return f->top - c <= W && !ref_has(&f->seen, c);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: fixed seed, same sequence on every machine */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* base + d, held inside 0 .. UINT64_MAX rather than wrapping. */
static uint64_t shift(uint64_t base, int64_t d)
{
	if (d < 0)
		return base < (uint64_t)-d ? 0 : base - (uint64_t)-d;
	return M - base < (uint64_t)d ? M : base + (uint64_t)d;
}

static void random_walk(uint64_t seed, uint64_t start, unsigned ops)
{
	struct ref f = { .seen = { calloc(SET_SIZE, sizeof(uint64_t)), calloc(SET_SIZE, sizeof(bool)) } };
	struct replay r;
	unsigned accepted = 0, refused = 0;

	ck_assert(f.seen.key && f.seen.used);
	rng_state = seed;
	replay_init(&r);
	for (unsigned i = 0; i < ops; i++) {
		uint64_t base = f.any ? f.top : start;
		uint64_t x = rnd(), c;
		unsigned kind = x % 100;
		bool want;

		if (kind < 55)		/* mostly a little behind or ahead of top */
			c = shift(base, -(int64_t)(W + 64) + (int64_t)(rnd() % (W + 64 + 40)));
		else if (kind < 75)	/* right around the edge */
			c = shift(base, -(int64_t)W - 3 + (int64_t)(rnd() % 7));
		else if (kind < 85)	/* repeat of a recent counter */
			c = shift(base, -(int64_t)(rnd() % 128));
		else if (kind < 93)	/* slides of one to a few rings */
			c = shift(base, (int64_t)(rnd() % (3 * RING)));
		else if (kind < 97)	/* exact ring and window jumps */
			c = shift(base, (int64_t)(((x >> 8) & 1 ? RING : W) + ((x >> 9) & 1)));
		else			/* far jump ahead or far behind */
			c = shift(base, (x >> 8) & 1 ? (int64_t)(rnd() >> 20) : -(int64_t)(rnd() >> 20));

		want = ref_accept(&f, c);
		ck_assert_msg(replay_check(&r, c) == want, "op %u: check(%" PRIu64 ") top %" PRIu64 " want %d",
			      i, c, f.top, want);
		ck_assert_msg(replay_commit(&r, c) == want, "op %u: commit(%" PRIu64 ") want %d", i, c, want);
		if (want) {
			if (!f.any || c > f.top)
				f.top = c;
			f.any = true;
			ref_add(&f.seen, c);
			accepted++;
		} else {
			refused++;
		}
		ck_assert_uint_eq(r.top, f.top);
	}
	/* The walk must have exercised both answers heavily, or it proves
	 * nothing. */
	ck_assert_uint_gt(accepted, ops / 10);
	ck_assert_uint_gt(refused, ops / 10);
	free(f.seen.key);
	free(f.seen.used);
}

START_TEST(test_random_vs_reference)
{
	random_walk(0x5eed0001, 1000000, 200000);
}
END_TEST

START_TEST(test_random_near_max)
{
	/* Starts a few million below the end, so the walk reaches UINT64_MAX. */
	random_walk(0x5eed0002, M - 4000000, 20000);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_window_runs);
	tcase_add_test(tc, test_check_vs_commit);
	tcase_add_test(tc, test_random_vs_reference);
	tcase_add_test(tc, test_random_near_max);
	tcase_add_test(tc, test_links_tables);
	tcase_add_test(tc, test_counter_layout);
	tcase_add_test(tc, test_links_skew_50ms_100kpps);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(replay_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
