/* What the scheduler's files share and its users do not. */
#ifndef BRAID_SCHED_INT_H
#define BRAID_SCHED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "braid/sched.h"

/* Every link id, as a mask of links a pick may choose from. */
#define SCHED_ALL ((uint32_t)((1ull << SCHED_MAX_LINKS) - 1))

/* A link aggregate mode may give a share: present, live, weight > 0. */
static inline bool sched_link_usable(const struct sched_link *l)
{
	return l->present && l->live && l->weight > 0;
}

/* Aggregate mode's DWRR pick (dwrr.c) among the usable links whose bits are
 * set in among: one link into out[0]; 1, or 0 when no link is live. With
 * no usable link among them, the live link of best priority (weight 0
 * links stand by). */
unsigned sched_dwrr_pick(struct sched *s, size_t len, uint32_t among, unsigned *out);

/* Aggregate mode's earliest-arrival pick (arrival.c); the same contract.
 * Charges the link it picks. */
unsigned sched_arrival_pick(struct sched *s, size_t len, uint64_t now, unsigned *out);

/* Charges len bytes to link l's queue (arrival.c). */
void sched_arrival_charge(struct sched_link *l, size_t len, uint64_t now);

#endif
