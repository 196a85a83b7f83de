/* Receive-side reorder buffer of a bond (see reorder.h for the contract).
 *
 * Sequence numbers are extended to 64 bits relative to `next`, the next
 * expected one. The first datagram of a session is placed at 2^32 + seq so
 * that everything within 2^31 below it is still a positive 64-bit number and
 * no comparison has to care about wrap.
 *
 * Ordered mode keeps three structures, each sized once in reorder_create:
 *  - slots[window]: the held datagrams. A held seq s always lies in
 *    (next, next + window), so slot s & mask holds at most one of them.
 *  - seen, one bit per seq in [next - window, next): 1 if a copy of that seq
 *    arrived (delivered, or arrived late after being declared lost), 0 if it
 *    was declared lost and nothing came since. This is what tells a duplicate
 *    of a delivered datagram (DUPLICATE) from the first copy of a lost one
 *    (LATE); a second copy of a lost one is a DUPLICATE.
 *  - fifo: the held seqs in arrival order. Arrival times only grow (a `now`
 *    earlier than the previous push is taken as equal to it), so the front
 *    of the fifo is the held datagram that has waited longest, and its
 *    arrival + budget is the head-gap deadline. Entries whose datagram has
 *    been released are dropped from the front lazily, so push, tick and
 *    deadline are O(1) amortised and no scan of the slots is ever needed.
 *
 * Arrivals older than the window (or older than the session's first
 * datagram) can no longer be told apart and are counted LATE.
 *
 * Unordered mode uses only `seen`, over [next - window, next) where next is
 * one past the highest seq seen. A seq that slides out of that range without
 * having arrived is counted lost then; an arrival older than the range is
 * LATE. So lost means the same thing in both modes (gave up waiting), only
 * the point of giving up differs: the budget in ordered mode, the window in
 * unordered mode.
 *
 * The horizon (reorder_set_horizon) is what the caller knows from its paths:
 * every seq below it that has not arrived never will (each path has already
 * delivered something later). A head gap below the horizon is held only
 * `grace` past the moment the horizon passed it (pass_at; a path that
 * reorders inside itself may still deliver it within the grace), not the
 * whole budget, and giving up on it stops at the horizon: gaps above it still
 * get the budget. When the head moves to a gap that is already below the
 * horizon, its pass_at is taken as that moment: later than the truth, never
 * earlier. The gaps a grace was given for (those below the horizon at the
 * time) keep it even if a shorter one follows (owed[]), so a gap is never
 * judged by a shorter grace than the one it was passed under.
 *
 * Only reorder_tick gives up on gaps whose time has run out; a push never
 * does, so a datagram that fills a gap between its deadline and the next tick
 * is still delivered rather than counted late. reorder_reset keeps the
 * counters (they are the bond's totals across sessions), except `held`.
 * fn must not call back into the same reorder buffer. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "braid/wire.h"
#include "alloc.h"
#include "reorder.h"

#define REORDER_WINDOW_MIN 16u
#define REORDER_WINDOW_MAX 65536u
#define SEQ_ORIGIN (1ull << 32)
#define REORDER_OWED 8

_Static_assert(BRAID_PAYLOAD_MAX <= UINT16_MAX, "slot length is 16 bits");

struct reorder_slot {
	uint64_t seq;		/* extended seq held here, valid while present */
	uint64_t arrival;
	uint16_t flow;
	uint16_t len;
	bool present;
	uint8_t data[BRAID_PAYLOAD_MAX];
};

struct reorder {
	struct reorder_cfg cfg;
	uint64_t mask;		/* window - 1 */
	bool started;
	uint64_t next;		/* ordered: next expected; unordered: highest seen + 1 */
	uint64_t first;		/* the session's first seq: nothing before it is expected */
	uint64_t last_now;
	uint64_t horizon;	/* extended; seqs below it are not coming */
	/* The graces owed: gaps below owed[i].limit were passed under
	 * owed[i].grace. Limits rise and graces fall along the array, so the
	 * first entry above a gap is the longest grace it is owed. */
	struct {
		uint64_t limit, grace;
	} owed[REORDER_OWED];
	unsigned nowed;
	uint64_t pass_seq;	/* pass_at is when the horizon passed this seq */
	uint64_t pass_at;
	struct reorder_slot *slots;
	uint64_t *seen;
	/* Holds at most 2 * window entries: while the front F is held, every
	 * later entry is a distinct seq held when next was between F's
	 * next-at-push (> F - window) and F, so it lies in (F - window, F + window).
	 * Indices are masked, so even a broken invariant cannot write outside. */
	uint64_t *fifo;
	uint64_t fifo_mask;
	uint64_t fifo_head;
	uint64_t fifo_len;
	struct reorder_counters c;
};

static bool seen_get(const struct reorder *r, uint64_t s)
{
	uint64_t i = s & r->mask;

	return r->seen[i >> 6] & (1ull << (i & 63));
}

static void seen_put(struct reorder *r, uint64_t s, bool v)
{
	uint64_t i = s & r->mask;

	if (v)
		r->seen[i >> 6] |= 1ull << (i & 63);
	else
		r->seen[i >> 6] &= ~(1ull << (i & 63));
}

static size_t seen_words(const struct reorder *r)
{
	return (r->cfg.window + 63) / 64;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Extends a wire seq to 64 bits: the nearest value to next, ties (exactly
 * 2^31 away) counted as behind. */
static uint64_t extend(const struct reorder *r, uint32_t seq)
{
	uint32_t d = seq - (uint32_t)r->next;

	if (d < 0x80000000u)
		return r->next + d;
	return r->next - ((1ull << 32) - d);
}

static void emit(reorder_deliver_fn fn, void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	if (fn)
		fn(ctx, flow, data, len);
}

/* Hands a held datagram to fn and frees its slot. */
static void release(struct reorder *r, struct reorder_slot *sl, reorder_deliver_fn fn, void *ctx)
{
	sl->present = false;
	r->c.held--;
	r->c.delivered++;
	r->c.reordered++;
	emit(fn, ctx, sl->flow, sl->data, sl->len);
}

static bool fifo_live(const struct reorder *r, uint64_t s)
{
	const struct reorder_slot *sl = &r->slots[s & r->mask];

	return sl->present && sl->seq == s;
}

/* Restores the invariant that the fifo's front is a held datagram. */
static void fifo_trim(struct reorder *r)
{
	while (r->fifo_len && !fifo_live(r, r->fifo[r->fifo_head])) {
		r->fifo_head = (r->fifo_head + 1) & r->fifo_mask;
		r->fifo_len--;
	}
}

static void fifo_push(struct reorder *r, uint64_t s)
{
	r->fifo[(r->fifo_head + r->fifo_len) & r->fifo_mask] = s;
	r->fifo_len++;
}

/* Delivers the run of held datagrams starting at next. */
static void drain(struct reorder *r, reorder_deliver_fn fn, void *ctx)
{
	while (r->c.held) {
		struct reorder_slot *sl = &r->slots[r->next & r->mask];

		if (!sl->present)
			break;
		release(r, sl, fn, ctx);
		seen_put(r, r->next, true);
		r->next++;
	}
}

/* Moves next up to target (> next): each seq in between is delivered if
 * held, else declared lost. Only the first window of them can be held or
 * matter to `seen`, so a jump of any size costs at most two windows. */
static void skip_to(struct reorder *r, uint64_t target, reorder_deliver_fn fn, void *ctx)
{
	uint64_t span = target - r->next;
	uint64_t walk = span < r->cfg.window ? span : r->cfg.window;
	uint64_t from;

	for (uint64_t s = r->next; s < r->next + walk; s++) {
		struct reorder_slot *sl = &r->slots[s & r->mask];

		if (sl->present) {
			release(r, sl, fn, ctx);
			seen_put(r, s, true);
		} else {
			r->c.lost++;
			seen_put(r, s, false);
		}
	}
	if (span > walk) {
		r->c.lost += span - walk;
		from = r->next + walk;
		if (target - from > r->cfg.window)
			from = target - r->cfg.window;
		for (uint64_t s = from; s < target; s++)
			seen_put(r, s, false);
	}
	r->next = target;
}

/* Behind next: a copy of something already delivered or given up on. */
static enum reorder_result push_old(struct reorder *r, uint64_t s, uint16_t flow,
				    const uint8_t *data, size_t len,
				    reorder_deliver_fn fn, void *ctx)
{
	uint64_t lo = r->next - r->cfg.window;

	if (lo < r->first)
		lo = r->first;
	if (s < lo) {
		r->c.late++;
		return REORDER_LATE;
	}
	if (seen_get(r, s)) {
		r->c.duplicates++;
		return REORDER_DUPLICATE;
	}
	seen_put(r, s, true);
	if (r->cfg.unordered) {
		r->c.delivered++;
		emit(fn, ctx, flow, data, len);
		return REORDER_DELIVERED;
	}
	r->c.late++;
	return REORDER_LATE;
}

/* Unordered mode, at or beyond next: slide the window so s is its newest
 * seq, counting as lost what leaves it unseen. */
static void slide_unordered(struct reorder *r, uint64_t s)
{
	uint64_t target = s + 1;
	uint64_t span = target - r->next;
	uint64_t walk = span < r->cfg.window ? span : r->cfg.window;

	/* Bit (u & mask) stood for u - window until now. */
	for (uint64_t u = r->next; u < r->next + walk; u++) {
		if (u - r->cfg.window >= r->first && !seen_get(r, u))
			r->c.lost++;
		seen_put(r, u, false);
	}
	/* Seqs that enter and leave the window in this one step. */
	if (span > walk)
		r->c.lost += span - walk;
	r->next = target;
	seen_put(r, s, true);
}

static enum reorder_result push_ahead(struct reorder *r, uint64_t s, uint16_t flow,
				      const uint8_t *data, size_t len, uint64_t now,
				      reorder_deliver_fn fn, void *ctx)
{
	struct reorder_slot *sl;

	if (s - r->next >= r->cfg.window) {
		/* Make room: give up on the oldest gaps so s fits. */
		skip_to(r, s - r->cfg.window + 1, fn, ctx);
		drain(r, fn, ctx);
		fifo_trim(r);
	}
	if (s == r->next) {
		r->c.delivered++;
		emit(fn, ctx, flow, data, len);
		seen_put(r, s, true);
		r->next++;
		if (r->c.held) {
			drain(r, fn, ctx);
			fifo_trim(r);
		}
		return REORDER_DELIVERED;
	}
	sl = &r->slots[s & r->mask];
	if (sl->present) {
		r->c.duplicates++;
		return REORDER_DUPLICATE;
	}
	sl->present = true;
	sl->seq = s;
	sl->arrival = now;
	sl->flow = flow;
	sl->len = (uint16_t)len;
	if (len)
		memcpy(sl->data, data, len);
	r->c.held++;
	fifo_push(r, s);
	return REORDER_HELD;
}

enum reorder_result reorder_push(struct reorder *r, uint32_t seq, uint16_t flow,
				 const uint8_t *data, size_t len, uint64_t now,
				 reorder_deliver_fn fn, void *ctx)
{
	uint64_t s;

	if (len > BRAID_PAYLOAD_MAX || (len && !data))
		return REORDER_EINVAL;
	if (now < r->last_now)
		now = r->last_now;
	r->last_now = now;

	if (!r->started) {
		r->started = true;
		r->next = SEQ_ORIGIN + seq;
		r->first = r->next;
	}
	s = extend(r, seq);
	if (s < r->next)
		return push_old(r, s, flow, data, len, fn, ctx);
	if (r->cfg.unordered) {
		slide_unordered(r, s);
		r->c.delivered++;
		emit(fn, ctx, flow, data, len);
		return REORDER_DELIVERED;
	}
	return push_ahead(r, s, flow, data, len, now, fn, ctx);
}

/* Notes now as when the head gap was passed, if it is below the horizon and
 * was not noted before. */
static void note_pass(struct reorder *r, uint64_t now)
{
	if (r->horizon > r->next && r->pass_seq != r->next) {
		r->pass_seq = r->next;
		r->pass_at = now;
	}
}

void reorder_set_horizon(struct reorder *r, uint32_t seq, uint64_t grace_ns, uint64_t now)
{
	uint64_t h;

	if (!r->started || r->cfg.unordered)
		return;
	if (now < r->last_now)
		now = r->last_now;
	r->last_now = now;
	if (grace_ns > r->cfg.budget_ns)
		grace_ns = r->cfg.budget_ns;
	h = extend(r, seq);
	if (h > r->horizon)
		r->horizon = h;
	/* Every gap below the horizon now is owed this grace, even if a
	 * shorter one is given before it comes up. Entries every gap has
	 * left behind go; so do those this one covers (a limit no higher, a
	 * grace no longer); a full array folds into its last entry, which
	 * only lengthens a grace. */
	while (r->nowed && r->owed[0].limit <= r->next)
		memmove(&r->owed[0], &r->owed[1], --r->nowed * sizeof(r->owed[0]));
	while (r->nowed && r->owed[r->nowed - 1].grace <= grace_ns)
		r->nowed--;
	if (r->nowed == REORDER_OWED) {
		r->owed[r->nowed - 1].limit = r->horizon;
	} else {
		r->owed[r->nowed].limit = r->horizon;
		r->owed[r->nowed].grace = grace_ns;
		r->nowed++;
	}
	note_pass(r, now);
}

uint64_t reorder_deadline(const struct reorder *r)
{
	uint64_t a, d;

	if (!r->c.held)
		return UINT64_MAX;
	a = r->slots[r->fifo[r->fifo_head] & r->mask].arrival;
	d = sat_add(a, r->cfg.budget_ns);
	if (r->horizon > r->next && r->pass_seq == r->next) {
		uint64_t g = r->cfg.budget_ns, e;

		for (unsigned i = 0; i < r->nowed; i++) {
			if (r->owed[i].limit > r->next) {
				g = r->owed[i].grace;
				break;
			}
		}
		e = sat_add(a > r->pass_at ? a : r->pass_at, g);
		if (e < d)
			d = e;
	}
	return d;
}

bool reorder_is_missing(const struct reorder *r, uint32_t seq)
{
	uint64_t s;

	if (!r->started || r->cfg.unordered)
		return false;
	s = extend(r, seq);
	if (s < r->next || s - r->next >= r->cfg.window)
		return false;
	return !fifo_live(r, s);
}

bool reorder_front(const struct reorder *r, uint32_t *seq, uint64_t *arrival)
{
	uint64_t s;

	if (!r->c.held)
		return false;
	s = r->fifo[r->fifo_head];
	*seq = (uint32_t)s;
	*arrival = r->slots[s & r->mask].arrival;
	return true;
}

uint32_t reorder_next(const struct reorder *r)
{
	return (uint32_t)r->next;
}

uint64_t reorder_budget_deadline(const struct reorder *r)
{
	if (!r->c.held)
		return UINT64_MAX;
	return sat_add(r->slots[r->fifo[r->fifo_head] & r->mask].arrival, r->cfg.budget_ns);
}

uint64_t reorder_tick(struct reorder *r, uint64_t now, reorder_deliver_fn fn, void *ctx)
{
	/* The front of the fifo has waited longest; once it is due, every gap
	 * before it is given up on, which releases it and the run behind it.
	 * The next front then sets the next deadline. */
	while (r->c.held && now >= reorder_deadline(r)) {
		uint64_t front = r->fifo[r->fifo_head];

		/* A gap given up on early ends at the horizon; the rest
		 * wait for their own deadline. */
		if (now < sat_add(r->slots[front & r->mask].arrival, r->cfg.budget_ns) &&
		    r->horizon < front)
			front = r->horizon;
		skip_to(r, front, fn, ctx);
		drain(r, fn, ctx);
		fifo_trim(r);
		note_pass(r, now);
	}
	return reorder_deadline(r);
}

const struct reorder_counters *reorder_counters(const struct reorder *r)
{
	return &r->c;
}

void reorder_reset(struct reorder *r)
{
	/* Only the held slots need clearing, and the fifo names every one. */
	for (uint64_t i = 0; i < r->fifo_len; i++)
		r->slots[r->fifo[(r->fifo_head + i) & r->fifo_mask] & r->mask].present = false;
	memset(r->seen, 0, seen_words(r) * sizeof(uint64_t));
	r->fifo_head = 0;
	r->fifo_len = 0;
	r->started = false;
	r->next = 0;
	r->first = 0;
	r->last_now = 0;
	r->horizon = 0;
	r->pass_seq = 0;
	r->pass_at = 0;
	r->nowed = 0;
	r->c.held = 0;
}

void reorder_reset_at(struct reorder *r, uint32_t seq)
{
	reorder_reset(r);
	r->started = true;
	r->next = SEQ_ORIGIN + seq;
	r->first = r->next;
}

int reorder_create(struct reorder **out, const struct reorder_cfg *cfg)
{
	struct reorder *r;

	if (!out || !cfg)
		return -EINVAL;
	*out = NULL;
	if (cfg->window < REORDER_WINDOW_MIN || cfg->window > REORDER_WINDOW_MAX ||
	    (cfg->window & (cfg->window - 1)))
		return -EINVAL;

	r = calloc(1, sizeof(*r));
	if (!r)
		goto err;
	r->cfg = *cfg;
	r->mask = cfg->window - 1;
	r->fifo_mask = 2 * (uint64_t)cfg->window - 1;
	/* Unordered mode holds nothing: no slots, no fifo. */
	if (!cfg->unordered) {
		r->slots = calloc(cfg->window, sizeof(*r->slots));
		if (!r->slots)
			goto err_r;
		r->fifo = calloc(2 * (size_t)cfg->window, sizeof(*r->fifo));
		if (!r->fifo)
			goto err_slots;
	}
	r->seen = calloc(seen_words(r), sizeof(*r->seen));
	if (!r->seen)
		goto err_fifo;
	if (r->slots)
		alloc_prefault(r->slots, cfg->window * sizeof(*r->slots));
	alloc_prefault(r, sizeof(*r));
	*out = r;
	return 0;

err_fifo:
	free(r->fifo);
err_slots:
	free(r->slots);
err_r:
	free(r);
err:
	return -ENOMEM;
}

void reorder_destroy(struct reorder *r)
{
	if (!r)
		return;
	free(r->seen);
	free(r->fifo);
	free(r->slots);
	free(r);
}
