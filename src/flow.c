/* Edge flow table; see flow.h. */
#include <errno.h>
#include <stdlib.h>

#include "flow.h"

int flow_table_init(struct flow_table *ft, unsigned max)
{
	if (max == 0 || max > FLOW_MAX)
		return -EINVAL;
	ft->e = calloc(max, sizeof(*ft->e));
	if (!ft->e)
		return -ENOMEM;
	ft->max = max;
	ft->last = 0;
	ft->idle_ns = FLOW_IDLE_NS;
	return 0;
}

void flow_table_destroy(struct flow_table *ft)
{
	free(ft->e);
	ft->e = NULL;
	ft->max = 0;
}

int flow_lookup(struct flow_table *ft, const union braid_addr *addr, uint64_t now)
{
	struct flow_entry *e = &ft->e[ft->last];
	int free_slot = -1, oldest = -1;

	if (e->used && addr_equal(&e->addr, addr)) {
		e->last_ns = now;
		return flow_id(ft->last, e->gen);
	}
	/* A linear scan: the table holds tens of senders, not thousands. */
	for (unsigned i = 0; i < ft->max; i++) {
		e = &ft->e[i];
		if (!e->used) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		if (addr_equal(&e->addr, addr)) {
			e->last_ns = now;
			ft->last = i;
			return flow_id(i, e->gen);
		}
		if (oldest < 0 || e->last_ns < ft->e[oldest].last_ns)
			oldest = (int)i;
	}
	if (free_slot < 0) {
		if (oldest < 0 || now - ft->e[oldest].last_ns < ft->idle_ns)
			return -ENOSPC;
		free_slot = oldest;
		/* Another sender: a new generation, so that the hub opens a
		 * new socket and replies to the old one are told apart. */
		ft->e[free_slot].gen = (uint8_t)((ft->e[free_slot].gen + 1) % FLOW_GEN_MAX);
	}
	e = &ft->e[free_slot];
	e->addr = *addr;
	e->last_ns = now;
	e->used = true;
	ft->last = (unsigned)free_slot;
	return flow_id((unsigned)free_slot, e->gen);
}

const union braid_addr *flow_addr(const struct flow_table *ft, uint16_t id)
{
	unsigned slot = flow_slot(id);

	if (slot >= ft->max || !ft->e[slot].used || ft->e[slot].gen != flow_gen(id))
		return NULL;
	return &ft->e[slot].addr;
}
