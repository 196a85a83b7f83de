/* The link table and the choice of links for a packet (see braid/sched.h):
 * links come and go, go live and dead, and sched_pick hands each packet to
 * the mode's rule. Aggregate mode's split is DWRR's (dwrr.c). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "braid/sched.h"
#include "sched_int.h"

static const char *const sched_mode_names[] = {
	[SCHED_AGGREGATE] = "aggregate",
	[SCHED_DUPLICATE] = "duplicate",
	[SCHED_FAILOVER]  = "failover",
};

static const char *const sched_algo_names[] = {
	[SCHED_ARRIVAL] = "arrival",
	[SCHED_DWRR]    = "dwrr",
};

void sched_init(struct sched *s, enum sched_mode mode)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->cur = 0;
}

void sched_set_mode(struct sched *s, enum sched_mode mode)
{
	s->mode = mode;
}

void sched_set_algo(struct sched *s, enum sched_algo algo)
{
	s->algo = algo;
}

int sched_link_add(struct sched *s, unsigned id, uint32_t weight, uint32_t priority)
{
	struct sched_link *l;

	if (id >= SCHED_MAX_LINKS || weight > SCHED_WEIGHT_MAX)
		return -EINVAL;
	l = &s->link[id];
	if (l->present)
		return -EEXIST;
	*l = (struct sched_link){
		.present  = true,
		.live     = false,
		.weight   = weight,
		.priority = priority,
		.deficit  = 0,
		.rate_scale = 1024,
	};
	return 0;
}

int sched_link_del(struct sched *s, unsigned id)
{
	if (id >= SCHED_MAX_LINKS || !s->link[id].present)
		return -ENOENT;
	/* If the round robin sits on this slot, the next pick simply moves
	 * on; a link added later in the slot starts with no credit. */
	s->link[id] = (struct sched_link){ 0 };
	return 0;
}

int sched_link_set_live(struct sched *s, unsigned id, bool live)
{
	struct sched_link *l;

	if (id >= SCHED_MAX_LINKS || !s->link[id].present)
		return -ENOENT;
	l = &s->link[id];
	/* Only a change of state clears credit: a prober that repeats "up"
	 * every interval must not rob a busy link of its share. */
	if (l->live != live) {
		l->live = live;
		l->deficit = 0;
	}
	return 0;
}

int sched_best(const struct sched *s)
{
	int best = -1;

	for (unsigned i = 0; i < SCHED_MAX_LINKS; i++) {
		const struct sched_link *l = &s->link[i];

		if (!l->present || !l->live)
			continue;
		/* Strictly better only, so ties stay with the lower id. */
		if (best < 0 || l->priority < s->link[best].priority)
			best = (int)i;
	}
	return best;
}

static unsigned pick_duplicate(const struct sched *s, unsigned *out, unsigned max)
{
	unsigned n = 0;

	/* Weight only shapes the aggregate split: every live link gets a copy. */
	for (unsigned i = 0; i < SCHED_MAX_LINKS && n < max; i++) {
		if (s->link[i].present && s->link[i].live)
			out[n++] = i;
	}
	return n;
}

unsigned sched_pick(struct sched *s, size_t len, uint64_t now, unsigned *out, unsigned max)
{
	int best;

	if (out == NULL || max == 0)
		return 0;
	switch (s->mode) {
	case SCHED_AGGREGATE:
		if (s->algo == SCHED_ARRIVAL)
			return sched_arrival_pick(s, len, now, out);
		return sched_dwrr_pick(s, len, SCHED_ALL, out);
	case SCHED_DUPLICATE:
		return pick_duplicate(s, out, max);
	case SCHED_FAILOVER:
		best = sched_best(s);
		if (best < 0)
			return 0;
		out[0] = (unsigned)best;
		return 1;
	}
	/* A mode outside the enum (the struct is public): carry nothing
	 * rather than guess. */
	return 0;
}

int sched_mode_parse(const char *str, enum sched_mode *mode)
{
	if (str == NULL || mode == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(sched_mode_names) / sizeof(sched_mode_names[0]); i++) {
		if (strcmp(str, sched_mode_names[i]) == 0) {
			*mode = (enum sched_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sched_mode_name(enum sched_mode mode)
{
	if ((unsigned)mode >= sizeof(sched_mode_names) / sizeof(sched_mode_names[0]))
		return "unknown";
	return sched_mode_names[mode];
}

int sched_algo_parse(const char *str, enum sched_algo *algo)
{
	if (str == NULL || algo == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(sched_algo_names) / sizeof(sched_algo_names[0]); i++) {
		if (strcmp(str, sched_algo_names[i]) == 0) {
			*algo = (enum sched_algo)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sched_algo_name(enum sched_algo algo)
{
	if ((unsigned)algo >= sizeof(sched_algo_names) / sizeof(sched_algo_names[0]))
		return "unknown";
	return sched_algo_names[algo];
}
