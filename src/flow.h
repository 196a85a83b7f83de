/* Application flows at the edge: each distinct sender address gets a flow
 * id, carried on the wire, so the hub keeps one destination socket per flow
 * and every reply finds its way back to the sender it answers.
 *
 * A fixed table allocated at setup; lookups allocate nothing. When full, the
 * flow idle longest is reused if it has been idle FLOW_IDLE_NS; otherwise the
 * lookup fails and the caller counts a drop. */
#ifndef BRAID_FLOW_H
#define BRAID_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define FLOW_IDLE_NS (60ull * 1000000000ull)

struct flow_entry {
	union braid_addr addr;
	uint64_t last_ns;
	bool used;
};

struct flow_table {
	unsigned max;
	unsigned last;		/* most recent hit: one sender is the common case */
	struct flow_entry *e;
};

/* 0, -EINVAL (max 0 or > 65535) or -ENOMEM. */
int flow_table_init(struct flow_table *ft, unsigned max);
void flow_table_destroy(struct flow_table *ft);
/* The flow id of addr, created if new. -ENOSPC when the table is full of
 * live flows. */
int flow_lookup(struct flow_table *ft, const union braid_addr *addr, uint64_t now);
/* The address of flow id, or NULL if it is not in use. */
const union braid_addr *flow_addr(const struct flow_table *ft, unsigned id);

#endif
