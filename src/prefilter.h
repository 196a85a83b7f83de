/* The cheap checks a worker makes on a datagram from a link before it costs
 * worker 0 anything: before it crosses the ring to worker 0, or before worker
 * 0 hands one of its own to the core.
 *
 * Only what needs no key: the outer header's version, type and reserved
 * bits, a length each type can have, and a session id the core can use.
 * What passes may still be bogus; the core authenticates it. The core
 * publishes the session ids it would take in a prefilter_view, with relaxed
 * atomic stores; any worker reads it, without a lock. A reader may see a
 * change late: at worst it drops, and counts, the first packets of a session
 * that its peer began an instant before, which their sender retries. */
#ifndef BRAID_PREFILTER_H
#define BRAID_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum prefilter_cause {
	PF_PASS = 0,
	PF_VERSION,	/* not BRAID_WIRE_VERSION, or reserved header bits set */
	PF_TYPE,	/* unknown, or not for this role */
	PF_LENGTH,	/* no length a packet of its type can have */
	PF_SESSION,	/* neither the session in force nor the pending one */
	PF_CAUSES
};

/* What the core would take, as one word so that a reader never sees half a
 * change: the session in force in the high 32 bits, the pending one (the
 * hub's accepted init not yet confirmed, the edge's init not yet answered)
 * in the low; 0 is none (session id 0 is never valid). */
struct prefilter_view {
	uint64_t sessions;
	bool hub;		/* set once, before any reader runs */
};

void prefilter_view_init(struct prefilter_view *v, bool hub);
/* Writer (the core's thread): the sessions now taken; 0 for none. */
void prefilter_publish(struct prefilter_view *v, uint32_t current, uint32_t pending);
/* Any thread: PF_PASS, or why pkt (len bytes, len > BRAID_PKT_MAX for a
 * datagram that was truncated) cannot be a packet the core would take. */
enum prefilter_cause prefilter_check(const uint8_t *pkt, size_t len,
				     const struct prefilter_view *v);
/* "version", "type", "length", "session"; NULL for PF_PASS or out of range. */
const char *prefilter_cause_name(enum prefilter_cause c);

#endif
