/* Receive-side reorder buffer of a bond.
 *
 * Delivers datagrams in bond-sequence order. One that arrives in order is
 * delivered at once, never held. When a gap opens, later datagrams wait in the
 * buffer; the gap is held open at most `budget_ns` after the first datagram
 * beyond it arrived (no datagram waits in the buffer longer than the budget),
 * then the missing sequence numbers are declared lost and delivery goes on.
 * Duplicates are dropped; a datagram for a gap already declared lost is "late"
 * and dropped. In unordered mode every new datagram is delivered on arrival and
 * only duplicates are dropped.
 *
 * Sequence numbers are 32 bits on the wire and wrap; the buffer extends them
 * to 64 bits internally relative to the next expected number. A datagram more
 * than `window` ahead of the next expected one forces the oldest gaps to be
 * declared lost so it fits.
 *
 * Storage is allocated once by reorder_create (window slots of
 * BRAID_PAYLOAD_MAX bytes); push and tick never allocate. One thread. */
#ifndef BRAID_REORDER_H
#define BRAID_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reorder;

struct reorder_cfg {
	unsigned window;	/* slots, power of two, 16 .. 65536 */
	uint64_t budget_ns;	/* longest a gap is held open */
	bool unordered;
};

struct reorder_counters {
	uint64_t delivered;
	uint64_t lost;		/* sequence numbers declared lost */
	uint64_t duplicates;
	uint64_t reordered;	/* delivered after waiting in the buffer */
	uint64_t late;		/* arrived after being declared lost */
	uint64_t held;		/* currently waiting in the buffer */
};

/* Called for each datagram delivered, in order. data is valid only during the
 * call. */
typedef void (*reorder_deliver_fn)(void *ctx, uint16_t flow, const uint8_t *data, size_t len);

enum reorder_result {
	REORDER_DELIVERED = 0,	/* delivered now (maybe releasing others) */
	REORDER_HELD      = 1,	/* waiting for an earlier gap */
	REORDER_DUPLICATE = 2,
	REORDER_LATE      = 3,	/* its gap was already declared lost */
	REORDER_EINVAL    = 4,	/* len > BRAID_PAYLOAD_MAX */
};

/* 0, -EINVAL (bad window) or -ENOMEM. */
int reorder_create(struct reorder **out, const struct reorder_cfg *cfg);
void reorder_destroy(struct reorder *r);
/* Forgets all state (new session): the next push sets the base. The
 * counters are kept: they are running totals across sessions. */
void reorder_reset(struct reorder *r);
/* Forgets all state and expects seq next: for a session whose first
 * sequence number both sides know, so a first datagram overtaken by a later
 * one is still awaited rather than taken for late. */
void reorder_reset_at(struct reorder *r, uint32_t seq);

/* Takes one datagram with bond sequence seq, received at now. The first
 * datagram ever pushed (or after reset) sets where the sequence starts. Calls
 * fn for this datagram and every held one it releases. */
enum reorder_result reorder_push(struct reorder *r, uint32_t seq, uint16_t flow,
				 const uint8_t *data, size_t len, uint64_t now,
				 reorder_deliver_fn fn, void *ctx);
/* Declares lost every gap whose hold time has run out at now, delivering what
 * that releases. Returns when the next gap runs out (UINT64_MAX if none). */
uint64_t reorder_tick(struct reorder *r, uint64_t now, reorder_deliver_fn fn, void *ctx);
/* Tells the buffer, at now, that no seq before seq is still on its way: every
 * path has delivered something later. A gap below it is then given up on
 * grace_ns (at most the budget) after the horizon passed it, instead of the
 * budget after the first datagram beyond it arrived, whichever is sooner; the
 * grace is what the caller allows for reordering inside a path. Only ever
 * moves forward; ignored in unordered mode and before the session's first
 * seq is known. */
void reorder_set_horizon(struct reorder *r, uint32_t seq, uint64_t grace_ns, uint64_t now);
/* True if seq is not here yet but still awaited: at or after the next seq
 * to deliver, inside the window, not held. False in unordered mode. */
bool reorder_is_missing(const struct reorder *r, uint32_t seq);
/* The next seq to deliver (meaningless before the first push or reset_at). */
uint32_t reorder_next(const struct reorder *r);
/* When the oldest gap runs out of budget, whatever the horizon says
 * (UINT64_MAX if nothing is held): a retransmission asked for must arrive
 * before this to be of use. */
uint64_t reorder_budget_deadline(const struct reorder *r);
/* The held datagram that has waited longest: its seq and when it arrived.
 * False if nothing is held. Every seq missing below it has been missing at
 * least since then. */
bool reorder_front(const struct reorder *r, uint32_t *seq, uint64_t *arrival);
/* When reorder_tick next has work, UINT64_MAX if none. */
uint64_t reorder_deadline(const struct reorder *r);
const struct reorder_counters *reorder_counters(const struct reorder *r);

#endif
