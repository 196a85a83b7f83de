/* Earliest predicted arrival (see braid/sched.h): EDPF (Chebrolu & Rao,
 * IEEE TMC 2006) over the links' estimates, with the peer's reports of
 * each link's queue closing the loop.
 *
 * A link is a FIFO. A packet given to it at `now` starts when what it was
 * given before has left (free_at), takes len / rate to serialize, then the
 * link's one-way delay:
 *
 *     arrival = max(now, free_at) + len / rate + delay
 *
 * The packet goes on the usable link with the earliest arrival. On FIFO
 * links this keeps send order: if packet k took link i, every link's
 * prediction for packet k + 1 is at least packet k's, so in-order delivery
 * waits for nothing. Over links of 10, 5 and 2 Mbit/s at 20, 40 and 80 ms,
 * 8 Mbit/s goes to the first alone (DWRR's 10:5:2 holds every datagram
 * behind the slow link's share: 80 ms instead of 21), and 12 Mbit/s splits
 * about 80/20 over the first two, the least any split can do.
 *
 * Links whose predictions lie within SCHED_TIE_NS of the earliest are
 * ties, and DWRR splits the ties by weight: equal links share as they
 * always did, and noise in their delay estimates does not pile everything
 * on one of them.
 *
 * A link whose rate is unknown has no serialization time: it looks as if
 * it could take anything. That is the right guess for a link that has never
 * queued (it took all it was given), and the peer's reports correct it when
 * it is wrong: a queue the prediction did not have pushes free_at out by
 * the error, so the next packets go elsewhere until it has drained. The
 * same reports keep a known rate honest: over-estimating a link's rate
 * fills its queue without bound, so while the peer sees more queue than
 * predicted, the rate used is cut by 1/16 a report, and it grows back once
 * predictions hold. Under-estimating it only moves a little traffic to a
 * slower link. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "braid/sched.h"
#include "sched_int.h"

#define NS_PER_S 1000000000ull
/* A queue error smaller than this is noise (the peer's figure is the least
 * transit of a 10-20 ms interval, so jitter mostly cancels). */
#define QUEUE_SLACK_NS 2000000ull
/* The rate used is never cut below this fraction (of 1024) of the
 * estimate: the estimate itself moves when the link's rate does. */
#define RATE_SCALE_MIN 512u

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* How long len bytes take to leave link l, by the rate in use. */
static uint64_t serialize_ns(const struct sched_link *l, size_t len)
{
	uint64_t rate = l->rate_Bps * l->rate_scale / 1024;

	if (l->rate_Bps == 0)
		return 0;
	if (rate == 0)
		rate = 1;
	return (uint64_t)((unsigned __int128)len * NS_PER_S / rate);
}

static uint64_t predict(const struct sched_link *l, size_t len, uint64_t now)
{
	return add_sat(add_sat(max_u64(now, l->free_at), serialize_ns(l, len)), l->delay_ns);
}

void sched_arrival_charge(struct sched_link *l, size_t len, uint64_t now)
{
	uint64_t start = max_u64(now, l->free_at);
	unsigned last = (l->hist_next + SCHED_HIST - 1) % SCHED_HIST;

	/* What this packet waits behind, remembered (one sample per
	 * SCHED_HIST_NS) to hold against what the peer will see of it. */
	if (l->hist[last].at == 0 || now >= l->hist[last].at + SCHED_HIST_NS) {
		l->hist[l->hist_next].at = now ? now : 1;
		l->hist[l->hist_next].wait = start - now;
		l->hist_next = (l->hist_next + 1) % SCHED_HIST;
	}
	l->free_at = add_sat(start, serialize_ns(l, len));
}

/* The least wait predicted for what was sent in (from, t]: the samples
 * taken then, and the one at or before t less what has drained since. 0
 * without any (nothing was queued then, as far as we knew). The peer's
 * figure is the least of the packets it saw since its last report, so the
 * least of ours over the same sends is what it is held against. */
static uint64_t predicted_wait(const struct sched_link *l, uint64_t from, uint64_t t)
{
	uint64_t at = 0, wait = 0, least = UINT64_MAX;

	for (unsigned i = 0; i < SCHED_HIST; i++) {
		const uint64_t a = l->hist[i].at;

		if (a == 0 || a > t)
			continue;
		if (a > from && l->hist[i].wait < least)
			least = l->hist[i].wait;
		if (a > at) {
			at = a;
			wait = l->hist[i].wait;
		}
	}
	if (at == 0)
		return 0;
	wait = wait > t - at ? wait - (t - at) : 0;
	return wait < least ? wait : least;
}

unsigned sched_arrival_pick(struct sched *s, size_t len, uint64_t now, unsigned *out)
{
	uint64_t at[SCHED_MAX_LINKS], best = UINT64_MAX;
	uint32_t usable = 0, ties = 0;
	unsigned n;

	for (unsigned i = 0; i < SCHED_MAX_LINKS; i++) {
		const struct sched_link *l = &s->link[i];

		if (!sched_link_usable(l))
			continue;
		if (!l->have_delay) {
			/* Until every link has its estimates, fixed shares. */
			usable = 0;
			break;
		}
		usable |= 1u << i;
		at[i] = predict(l, len, now);
		if (at[i] < best)
			best = at[i];
	}
	if (usable == 0) {
		n = sched_dwrr_pick(s, len, SCHED_ALL, out);
	} else {
		for (unsigned i = 0; i < SCHED_MAX_LINKS; i++)
			if ((usable >> i & 1) && at[i] <= add_sat(best, SCHED_TIE_NS))
				ties |= 1u << i;
		if ((ties & (ties - 1)) == 0) {
			out[0] = (unsigned)__builtin_ctz(ties);
			n = 1;
		} else {
			n = sched_dwrr_pick(s, len, ties, out);
		}
	}
	if (n == 1)
		sched_arrival_charge(&s->link[out[0]], len, now);
	return n;
}

int sched_link_set_path(struct sched *s, unsigned id, bool have_delay, uint64_t delay_ns,
			uint64_t rate_Bps)
{
	struct sched_link *l;

	if (id >= SCHED_MAX_LINKS || !s->link[id].present)
		return -ENOENT;
	l = &s->link[id];
	l->have_delay = have_delay;
	l->delay_ns = have_delay ? delay_ns : 0;
	l->rate_Bps = rate_Bps;
	return 0;
}

int sched_link_observe(struct sched *s, unsigned id, uint64_t sent_at, uint64_t queue_ns,
		       uint64_t now)
{
	struct sched_link *l;
	uint64_t pred;

	if (id >= SCHED_MAX_LINKS || !s->link[id].present)
		return -ENOENT;
	l = &s->link[id];
	/* What left before the last correction shows the error corrected
	 * then; what is said to have left in the future is nonsense. */
	if (sent_at < l->fix_at || sent_at > now)
		return 0;
	pred = predicted_wait(l, l->obs_sent, sent_at);
	l->obs_sent = sent_at;
	if (queue_ns > pred + QUEUE_SLACK_NS) {
		/* More queue than predicted: as much more is still in front of
		 * what we send now, and the rate is likely too high. */
		l->free_at = add_sat(max_u64(now, l->free_at), queue_ns - pred);
		l->fix_at = now;
		if (l->rate_Bps && l->rate_scale > RATE_SCALE_MIN)
			l->rate_scale -= l->rate_scale / 16;
	} else if (pred > queue_ns + QUEUE_SLACK_NS) {
		/* Less: the link drains faster than we thought (its rate is
		 * estimated low on purpose), and a queue predicted that is
		 * not there sends to slower links what they need not carry. */
		uint64_t less = pred - queue_ns;

		l->free_at = l->free_at > now + less ? l->free_at - less : now;
		l->fix_at = now;
	} else if (l->rate_scale < 1024) {
		/* As predicted: the rate holds, and a trim grows back. */
		l->rate_scale += (1024 - l->rate_scale + 7) / 8;
	}
	return 0;
}

int sched_link_charge(struct sched *s, unsigned id, size_t len, uint64_t now)
{
	if (id >= SCHED_MAX_LINKS || !s->link[id].present)
		return -ENOENT;
	sched_arrival_charge(&s->link[id], len, now);
	return 0;
}

uint64_t sched_predict(const struct sched *s, unsigned id, size_t len, uint64_t now)
{
	if (id >= SCHED_MAX_LINKS || !s->link[id].present || !s->link[id].have_delay)
		return UINT64_MAX;
	return predict(&s->link[id], len, now);
}
