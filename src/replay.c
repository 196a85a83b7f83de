/* Anti-replay window after RFC 6479 (section 2.2, as in WireGuard's
 * counter.c): a ring of REPLAY_BLOCKS 64-bit blocks indexed by counter / 64.
 * Moving the top forward zeroes the blocks it enters instead of shifting a
 * bitmap, so a jump costs at most REPLAY_BLOCKS word writes. One block is kept
 * as slack so the block holding `top` never aliases the one holding
 * top - REPLAY_WINDOW; that is why the window is (REPLAY_BLOCKS - 1) * 64. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "replay.h"

#define BLOCK_SHIFT 6
#define BLOCK_BITS  (1u << BLOCK_SHIFT)
#define RING_MASK   ((uint64_t)REPLAY_BLOCKS - 1)

_Static_assert((REPLAY_BLOCKS & (REPLAY_BLOCKS - 1)) == 0, "REPLAY_BLOCKS must be a power of two");
_Static_assert(REPLAY_WINDOW == (REPLAY_BLOCKS - 1) * BLOCK_BITS, "one block of slack");

static uint64_t *block_of(struct replay *r, uint64_t counter)
{
	return &r->block[(counter >> BLOCK_SHIFT) & RING_MASK];
}

static uint64_t bit_of(uint64_t counter)
{
	return 1ull << (counter & (BLOCK_BITS - 1));
}

void replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool replay_check(const struct replay *r, uint64_t counter)
{
	if (!r->any || counter > r->top)
		return true;
	/* Written as a difference so counters near 0 and near UINT64_MAX need
	 * no special case. */
	if (r->top - counter > REPLAY_WINDOW)
		return false;
	return !(r->block[(counter >> BLOCK_SHIFT) & RING_MASK] & bit_of(counter));
}

bool replay_commit(struct replay *r, uint64_t counter)
{
	uint64_t *blk;

	if (!replay_check(r, counter))
		return false;

	if (!r->any) {
		memset(r->block, 0, sizeof(r->block));
		r->top = counter;
		r->any = true;
	} else if (counter > r->top) {
		uint64_t cur = r->top >> BLOCK_SHIFT;
		uint64_t ahead = (counter >> BLOCK_SHIFT) - cur;

		/* Blocks between the old top's and the new top's now stand for
		 * counters never seen; beyond a whole ring every block does. */
		if (ahead > REPLAY_BLOCKS)
			ahead = REPLAY_BLOCKS;
		for (uint64_t i = 1; i <= ahead; i++)
			r->block[(cur + i) & RING_MASK] = 0;
		r->top = counter;
	}

	blk = block_of(r, counter);
	*blk |= bit_of(counter);
	return true;
}

bool replay_newest(const struct replay *r, uint64_t counter)
{
	return !r->any || counter > r->top;
}

uint64_t replay_counter(unsigned link, uint64_t seq)
{
	return (uint64_t)(link & (REPLAY_LINKS - 1)) << REPLAY_LINK_SHIFT | (seq & REPLAY_SEQ_MAX);
}

unsigned replay_counter_link(uint64_t counter)
{
	return (unsigned)(counter >> REPLAY_LINK_SHIFT);
}

void replay_links_init(struct replay_links *rl)
{
	for (unsigned i = 0; i < rl->n; i++)
		replay_init(&rl->win[i]);
}

enum replay_verdict replay_links_check(const struct replay_links *rl, unsigned arrival,
				       uint64_t counter)
{
	if (arrival >= rl->n || replay_counter_link(counter) != arrival)
		return REPLAY_WRONG_LINK;
	return replay_check(&rl->win[arrival], counter) ? REPLAY_FRESH : REPLAY_OLD;
}

enum replay_verdict replay_links_commit(struct replay_links *rl, unsigned arrival,
					uint64_t counter, bool *newest)
{
	enum replay_verdict v = replay_links_check(rl, arrival, counter);

	if (v != REPLAY_FRESH)
		return v;
	*newest = replay_newest(&rl->win[arrival], counter);
	replay_commit(&rl->win[arrival], counter);
	return REPLAY_FRESH;
}
