/* Application flows at the edge: each distinct sender address gets a flow
 * id, carried on the wire, so the hub keeps one destination socket per flow
 * and every reply finds its way back to the sender it answers.
 *
 * A flow id is a slot in this table and the slot's generation:
 *   bits 0..9   slot (FLOW_MAX slots at most)
 *   bits 10..15 generation, counted up (mod 64) each time the slot is
 *               given to another sender
 * The 16-bit flow field of DATA and of each FEC data shard carries the id
 * whole, so the wire format and FEC need no change and a datagram rebuilt
 * from parity keeps its generation. The hub, seeing a slot's generation
 * change, opens a new socket for it (the destination sees a new source
 * port), and a reply carrying an old generation is dropped here rather than
 * sent to the slot's new sender.
 *
 * A fixed table allocated at setup; lookups allocate nothing. When full, the
 * flow idle longest is reused if it has been idle the table's idle_ns;
 * otherwise the lookup fails and the caller counts a drop. */
#ifndef BRAID_FLOW_H
#define BRAID_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define FLOW_SLOT_BITS	10
#define FLOW_MAX	(1u << FLOW_SLOT_BITS)	/* bound of max-flows */
#define FLOW_GEN_MAX	(1u << (16 - FLOW_SLOT_BITS))
#define FLOW_IDLE_NS	(60ull * 1000000000ull)	/* default flow-idle */

/* The parts of a flow id. */
static inline unsigned flow_slot(uint16_t id) { return id & (FLOW_MAX - 1); }
static inline unsigned flow_gen(uint16_t id) { return id >> FLOW_SLOT_BITS; }
static inline uint16_t flow_id(unsigned slot, unsigned gen)
{
	return (uint16_t)((gen % FLOW_GEN_MAX) << FLOW_SLOT_BITS | (slot & (FLOW_MAX - 1)));
}

struct flow_entry {
	union braid_addr addr;
	uint64_t last_ns;
	uint8_t gen;
	bool used;
};

struct flow_table {
	unsigned max;
	unsigned last;		/* most recent hit: one sender is the common case */
	uint64_t idle_ns;	/* how long a flow is idle before its slot may go:
				 * FLOW_IDLE_NS unless set after init (flow-idle) */
	struct flow_entry *e;
};

/* 0, -EINVAL (max 0 or > FLOW_MAX) or -ENOMEM. */
int flow_table_init(struct flow_table *ft, unsigned max);
void flow_table_destroy(struct flow_table *ft);
/* The flow id (slot and generation) of addr, created if new. -ENOSPC when
 * the table is full of live flows. */
int flow_lookup(struct flow_table *ft, const union braid_addr *addr, uint64_t now);
/* The address of flow id, or NULL if its slot is not in use or has passed
 * to another sender since (the id's generation is not the slot's). */
const union braid_addr *flow_addr(const struct flow_table *ft, uint16_t id);

#endif
