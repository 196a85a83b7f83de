/* What the scheduler's files share and its users do not. */
#ifndef BRAID_SCHED_INT_H
#define BRAID_SCHED_INT_H

#include <stddef.h>

#include "braid/sched.h"

/* Aggregate mode's DWRR pick (dwrr.c): one link into out[0]; 1, or 0 when
 * no link is live. */
unsigned sched_dwrr_pick(struct sched *s, size_t len, unsigned *out);

#endif
