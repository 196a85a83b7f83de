/* Deficit weighted round robin link scheduler (see braid/sched.h).
 *
 * Aggregate mode runs DRR with a single shared packet stream: the round robin
 * sits on one link (s->cur); moving onto a link is a "visit" and adds its
 * quantum of credit; the link carries packets while its credit covers them
 * and the round robin moves on at the first packet it cannot cover. So what a
 * link keeps between visits is less than one packet, and over many packets
 * bytes split in proportion to the weights.
 *
 * The quantum is weight / w_min * SCHED_QUANTUM, w_min being the lightest
 * usable link's weight: the lightest link gets one quantum a visit and the
 * others their multiples. Only the ratios of the weights matter, so weights
 * of 100, 100 and 90 (weight = auto) make rounds as short as 1, 1 and 1,
 * and a round never holds more than it must.
 *
 * Only usable links (present, live, weight > 0) are visited. Every other link
 * is skipped with its credit cleared, so an idle link cannot bank credit and
 * burst when it returns. The earliest-arrival rule (arrival.c) hands DWRR
 * its ties: a pick may be among some of the usable links only, and the
 * others are passed over as if unusable. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "braid/sched.h"
#include "sched_int.h"

/* Largest datagram a link may be asked to carry (the UDP maximum). Credit is
 * capped at one quantum plus this, so a light link can still save up across
 * visits for a packet larger than its quantum, but never more. */
#define SCHED_PKT_MAX 65535u

/* Rounds after which every usable link has banked enough credit for any
 * packet of at most SCHED_PKT_MAX bytes (each round adds at least one
 * SCHED_QUANTUM), plus slack. A packet still not covered after this many
 * rounds is larger than any link can ever bank: sched_pick then stops looking
 * instead of spinning. */
#define SCHED_ROUNDS_MAX ((SCHED_PKT_MAX + SCHED_QUANTUM - 1) / SCHED_QUANTUM + 2)

/* Link id takes part in this pick: usable and among the links the caller
 * lets DWRR choose from (a bit per id; SCHED_ALL for all). */
static bool link_usable(const struct sched *s, unsigned id, uint32_t among)
{
	return sched_link_usable(&s->link[id]) && (among >> id & 1);
}

/* The lightest weight among the links taking part (1 if none is). */
static uint32_t weight_min(const struct sched *s, uint32_t among)
{
	uint32_t w = 0;

	for (unsigned i = 0; i < SCHED_MAX_LINKS; i++)
		if (link_usable(s, i, among) && (w == 0 || s->link[i].weight < w))
			w = s->link[i].weight;
	return w ? w : 1;
}

static int64_t link_quantum(const struct sched *s, const struct sched_link *l, uint32_t among)
{
	return (int64_t)l->weight * SCHED_QUANTUM / weight_min(s, among);
}

static int64_t link_cap(const struct sched *s, const struct sched_link *l, uint32_t among)
{
	return link_quantum(s, l, among) + SCHED_PKT_MAX;
}

static void link_visit(const struct sched *s, struct sched_link *l, uint32_t among)
{
	int64_t q = link_quantum(s, l, among);

	/* The deficit is in a public struct; treat anything negative as none
	 * rather than letting it hold the link back forever. */
	if (l->deficit < 0)
		l->deficit = 0;
	l->deficit += q;
	if (l->deficit > q + SCHED_PKT_MAX)
		l->deficit = q + SCHED_PKT_MAX;
}

static bool link_covers(const struct sched_link *l, size_t len)
{
	return l->deficit >= 0 && (uint64_t)l->deficit >= (uint64_t)len;
}

/* Moves the round robin to the next link and visits it if it takes part. */
static void sched_advance(struct sched *s, uint32_t among)
{
	s->cur = (s->cur + 1) % SCHED_MAX_LINKS;
	if (link_usable(s, s->cur, among))
		link_visit(s, &s->link[s->cur], among);
}

int sched_link_set_weight(struct sched *s, unsigned id, uint32_t weight)
{
	struct sched_link *l;

	if (id >= SCHED_MAX_LINKS || !s->link[id].present)
		return -ENOENT;
	if (weight > SCHED_WEIGHT_MAX)
		return -EINVAL;
	l = &s->link[id];
	l->weight = weight;
	/* The new weight sets the next visit's quantum. Credit banked under a
	 * heavier weight is cut to the new cap so that a link turned down
	 * cannot go on sending at its old rate for a long while. */
	if (weight == 0)
		l->deficit = 0;
	else if (l->deficit > link_cap(s, l, SCHED_ALL))
		l->deficit = link_cap(s, l, SCHED_ALL);
	return 0;
}

unsigned sched_dwrr_pick(struct sched *s, size_t len, uint32_t among, unsigned *out)
{
	const unsigned steps_max = SCHED_ROUNDS_MAX * SCHED_MAX_LINKS;
	bool any = false, fits = false;

	for (unsigned i = 0; i < SCHED_MAX_LINKS; i++) {
		const struct sched_link *l = &s->link[i];

		if (link_usable(s, i, among)) {
			any = true;
			if ((uint64_t)link_cap(s, l, among) >= (uint64_t)len)
				fits = true;
		}
	}
	if (!any) {
		/* Live links all of weight 0: weight 0 means "carry no share",
		 * but dropping everything while a link is up would be worse,
		 * so they stand by in failover order. */
		int best = sched_best(s);

		if (best < 0)
			return 0;
		out[0] = (unsigned)best;
		return 1;
	}

	if (fits) {
		for (unsigned step = 0; step < steps_max; step++) {
			struct sched_link *l = &s->link[s->cur];

			if (link_usable(s, s->cur, among)) {
				if (link_covers(l, len)) {
					l->deficit -= (int64_t)len;
					out[0] = s->cur;
					return 1;
				}
			} else {
				l->deficit = 0;
			}
			sched_advance(s, among);
		}
		/* Not reached: a link whose cap covers len saves up enough
		 * within SCHED_ROUNDS_MAX rounds. The bound is a backstop so
		 * that a pick always ends. */
	}

	/* The packet is larger than any link can ever bank (len beyond
	 * SCHED_PKT_MAX). Rounds spent saving up for it would be credit that
	 * no packet was owed, so none are run: it goes on the next usable
	 * link, which spends all its credit, and the round robin moves on so
	 * that such packets rotate over the links rather than all landing on
	 * one. */
	while (!link_usable(s, s->cur, among))
		sched_advance(s, among);
	out[0] = s->cur;
	s->link[s->cur].deficit = 0;
	sched_advance(s, among);
	return 1;
}

