/* Link state (core_priv.h names the core's other files): a link probing, up
 * or down, its weight when weight = auto, links added, deleted (draining
 * first) and taken out of service, and the BYE that tells the peer so. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "braid/sched.h"
#include "braid/wire.h"
#include "core_priv.h"

/* weight = auto: the weight of a link as good as the best, and the loss
 * above the best link's that halves a link's share. */
#define AUTO_WEIGHT_FULL CORE_AUTO_WEIGHT
#define AUTO_LOSS_HALF_PPM 50000u
#define AUTO_LOSS_NOISE_PPM 5000u
#define AUTO_RTT_NOISE_NS (1 * NS_PER_MS)

/* How long a link may go without a probe answer before it leaves the
 * schedule: two probe intervals plus the round trip and its variance, so a
 * slow link is not declared dead for being slow. On links faster than the
 * probe interval this is within three intervals. */
uint64_t dead_after_ns(const struct core *c, const struct core_link *lk)
{
	uint64_t t = 2 * c->p.probe_interval_ns;

	if (lk->have_rtt)
		t += lk->srtt_ns + 4 * lk->rttvar_ns;
	else
		t += c->p.probe_interval_ns / 2;
	return t;
}

void link_set_state(struct core *c, unsigned id, enum link_state st)
{
	struct core_link *lk = &c->link[id];

	if (lk->state == st)
		return;
	lk->state = st;
	stat_set(lk->st.state, (uint64_t)st);
	stat_set(lk->st.state_since_ns, c->now);
	if (st == LINK_DOWN)
		stat_add(lk->st.down_events, 1);
	if (st == LINK_UP && !lk->rx_bond_at)
		lk->fresh_at = c->now;
	sched_link_set_live(&c->sched, id, st == LINK_UP);
	auto_weights(c);
	if (c->io.link_state)
		c->io.link_state(c->io.ctx, id, st);
}

/* weight = auto. Each such link's weight is AUTO_WEIGHT_FULL scaled down by
 * how far its loss and round trip are above the best live link's:
 *
 *   loss:  1 / (1 + excess / 5%)             5% more loss halves the share
 *   rtt:   1 / (1 + excess / max(budget/8, 2 ms))
 *
 * each excess less 0.5% of loss or 1 ms of round trip (so that equal
 * links' noise does not make their weights wander), and 0 (probes only)
 * once the round trip is more than twice the budget above the best, where
 * a datagram sent on it would come after the others had given up on it. A
 * link whose loss grows because it is full loses share until its loss
 * falls: the weights find the links' capacity through their loss. The
 * weight moves a quarter of the way to its target per update (every probe
 * answer and state change), so one bad probe does not swing it. Links with
 * a number for a weight keep it. */
void auto_weights(struct core *c)
{
	uint64_t rtt_min = UINT64_MAX, loss_min = UINT64_MAX, rtt_scale;
	bool any = false;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (!lk->present || lk->state != LINK_UP || !lk->have_rtt)
			continue;
		rtt_min = min_u64(rtt_min, lk->srtt_ns);
		loss_min = min_u64(loss_min, stat_get(lk->st.loss_ppm));
		any |= lk->weight_auto;
	}
	if (!any)
		return;
	rtt_scale = max_u64(c->p.budget_ns / 8, 2 * NS_PER_MS);
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];
		uint64_t d_loss, d_rtt, w, cur;
		double f;

		if (!lk->present || !lk->weight_auto || lk->state != LINK_UP || !lk->have_rtt)
			continue;
		d_loss = stat_get(lk->st.loss_ppm) - loss_min;
		d_rtt = lk->srtt_ns - rtt_min;
		if (d_rtt > 2 * c->p.budget_ns) {
			w = 0;
		} else {
			d_loss = d_loss > AUTO_LOSS_NOISE_PPM ? d_loss - AUTO_LOSS_NOISE_PPM : 0;
			d_rtt = d_rtt > AUTO_RTT_NOISE_NS ? d_rtt - AUTO_RTT_NOISE_NS : 0;
			f = 1.0 / (1.0 + (double)d_loss / AUTO_LOSS_HALF_PPM);
			f /= 1.0 + (double)d_rtt / (double)rtt_scale;
			w = (uint64_t)(AUTO_WEIGHT_FULL * f + 0.5);
			if (w == 0)
				w = 1;
		}
		cur = stat_get(lk->st.weight);
		/* A quarter of the way, but always at least one step. */
		if (w > cur)
			w = cur + max_u64((w - cur) / 4, 1);
		else if (w < cur)
			w = cur - max_u64((cur - w) / 4, 1);
		if (w != cur) {
			sched_link_set_weight(&c->sched, id, (uint32_t)w);
			stat_set(lk->st.weight, w);
		}
	}
}

void link_heard(struct core *c, unsigned id)
{
	struct core_link *lk = &c->link[id];

	lk->last_reply = c->now;
	if (!lk->admin_down && !lk->draining)
		link_set_state(c, id, LINK_UP);
}

/* Tells the peer that link `id` is out of service: a BYE probe on the link
 * itself and a copy on the fastest other live link, so one loss does not
 * leave the peer sending into a closed socket until its probes time out. */
static void send_bye(struct core *c, unsigned id)
{
	unsigned via[2] = { id, fastest_link(c, id) };

	if (!c->ready || !c->confirmed)
		return;
	for (unsigned i = 0; i < 2; i++) {
		struct wire_probe pr = { .link_id = (uint8_t)id, .flags = WIRE_PROBE_BYE };
		struct core_link *out = &c->link[via[i]];
		uint8_t *buf;

		if ((i == 1 && via[1] == id) || !out->has_remote)
			continue;
		buf = pkt_alloc(c, via[i]);
		if (!buf)
			return;
		wire_put_probe(buf + WIRE_OUTER_LEN, &pr, 0);
		stat_add(out->st.probes_sent, 1);
		pkt_seal_send(c, via[i], buf, WIRE_PROBE, WIRE_PROBE_LEN, &out->path);
	}
}

/* The peer took link `id` out of service: stop sending on it now rather
 * than when its probes time out. It comes back when a probe sent from now
 * on is answered. */
void on_bye(struct core *c, unsigned id)
{
	struct core_link *lk;

	if (id >= BRAID_MAX_LINKS || !c->link[id].present) {
		stat_add(c->st.malformed, 1);
		return;
	}
	lk = &c->link[id];
	lk->peer_bye = c->now;
	if (lk->state != LINK_DOWN)
		link_set_state(c, id, LINK_DOWN);
}

int core_link_add(struct core *c, const struct core_link_params *lp)
{
	struct core_link *lk;
	int err;

	if (lp->id >= BRAID_MAX_LINKS || !lp->name || !config_valid_name(lp->name))
		return -EINVAL;
	lk = &c->link[lp->id];
	if (lk->present)
		return -EEXIST;
	err = sched_link_add(&c->sched, lp->id, lp->weight, lp->priority);
	if (err < 0)
		return err;
	memset(lk, 0, sizeof(*lk));
	lk->present = true;
	lk->weight_auto = lp->weight_auto;
	lk->rate_cfg = lp->rate_Bps;
	stat_set(lk->st.weight_auto, lp->weight_auto);
	snprintf(lk->name, sizeof(lk->name), "%s", lp->name);
	if (lp->remote) {
		lk->path.remote = *lp->remote;
		lk->has_remote = true;
	}
	lk->state = LINK_PROBING;
	lk->next_probe = c->now;
	c->wake = c->now;
	stat_set(lk->st.state, LINK_PROBING);
	stat_set(lk->st.state_since_ns, c->now);
	stat_set(lk->st.weight, lp->weight);
	return 0;
}

/* Forgets link id at once. Its counters stay as they were (another thread
 * may be reading them) until the id is added again. */
void link_forget(struct core *c, unsigned id)
{
	struct core_link *lk = &c->link[id];

	sched_link_del(&c->sched, id);
	memset(lk, 0, offsetof(struct core_link, st));
	stat_set(lk->st.draining, 0);
	if (c->io.link_gone)
		c->io.link_gone(c->io.ctx, id);
}

int core_link_del(struct core *c, unsigned id)
{
	if (id >= BRAID_MAX_LINKS || !c->link[id].present)
		return -ENOENT;
	link_forget(c, id);
	return 0;
}

/* How long a deleted link keeps receiving: what the peer sent before our
 * BYE reached it arrives within about a round trip; twice that, its
 * variance and 10 ms cover jitter, at most a second. Without a round trip
 * measured, one probe interval. */
static uint64_t drain_ns(const struct core *c, const struct core_link *lk)
{
	if (!lk->have_rtt || lk->state != LINK_UP)
		return min_u64(c->p.probe_interval_ns, NS_PER_S);
	return min_u64(2 * lk->srtt_ns + 4 * lk->rttvar_ns + 10 * NS_PER_MS, NS_PER_S);
}

int core_link_drain(struct core *c, unsigned id)
{
	struct core_link *lk;

	if (id >= BRAID_MAX_LINKS || !c->link[id].present)
		return -ENOENT;
	lk = &c->link[id];
	if (lk->draining)
		return -EALREADY;
	lk->drain_until = c->now + drain_ns(c, lk);
	lk->draining = true;
	stat_set(lk->st.draining, 1);
	/* Out of the schedule before the peer hears of it, so nothing new
	 * goes its way; the peer's BYE copy goes on another link. */
	link_set_state(c, id, LINK_DOWN);
	sched_link_del(&c->sched, id);
	send_bye(c, id);
	c->wake = min_u64(c->wake, lk->drain_until);
	return 0;
}

int core_link_set_admin(struct core *c, unsigned id, bool down)
{
	struct core_link *lk;

	if (id >= BRAID_MAX_LINKS || !c->link[id].present || c->link[id].draining)
		return -ENOENT;
	lk = &c->link[id];
	if (lk->admin_down == down)
		return 0;
	lk->admin_down = down;
	stat_set(lk->st.admin_down, down);
	if (down) {
		link_set_state(c, id, LINK_DOWN);
		send_bye(c, id);
	} else {
		/* Back in service once a probe is answered, as when added. */
		link_set_state(c, id, LINK_PROBING);
		lk->next_probe = c->now;
		c->wake = c->now;
	}
	return 0;
}

int core_link_set_weight(struct core *c, unsigned id, uint32_t weight, bool is_auto)
{
	struct core_link *lk;
	int err;

	if (id >= BRAID_MAX_LINKS || !c->link[id].present || c->link[id].draining)
		return -ENOENT;
	lk = &c->link[id];
	if (is_auto) {
		lk->weight_auto = true;
		stat_set(lk->st.weight_auto, 1);
		auto_weights(c);
		return 0;
	}
	err = sched_link_set_weight(&c->sched, id, weight);
	if (err == 0) {
		lk->weight_auto = false;
		stat_set(lk->st.weight_auto, 0);
		stat_set(lk->st.weight, weight);
	}
	return err;
}
