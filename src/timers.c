/* What falls due with time (core_priv.h names the core's other files):
 * core_tick runs the edge's handshake and its retries, draining links'
 * ends, probes and link timeouts, FEC block deadlines, due NACKs and the
 * reorder buffer's deadlines, and says when it next has work. */
#include "core_priv.h"
#include "recover.h"
#include "reorder.h"

/* Longest the core sleeps between ticks when nothing is due sooner. */
#define TICK_MAX_NS (NS_PER_S)

static bool edge_all_down(const struct core *c)
{
	bool any = false;

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct core_link *lk = &c->link[id];

		if (!lk->present)
			continue;
		any = true;
		if (lk->state != LINK_DOWN)
			return false;
	}
	return any;
}

uint64_t core_tick(struct core *c, uint64_t now)
{
	uint64_t next = now + TICK_MAX_NS;

	c->now = now;
	if (c->p.role == ROLE_EDGE) {
		if (!c->ready && !c->hs_pending)
			edge_start_handshake(c);
		/* Every link silent for a while: the hub may have restarted
		 * and lost our session. Ask for a new one (the old one keeps
		 * working meanwhile, should the links come back). */
		if (c->ready && !c->hs_pending && edge_all_down(c)) {
			if (!c->all_down_since)
				c->all_down_since = now;
			else if (now - c->all_down_since >= c->p.probe_interval_ns)
				edge_start_handshake(c);
		} else if (!c->hs_pending) {
			c->all_down_since = 0;
		}
		if (c->hs_pending) {
			if (now >= c->hs_next) {
				/* A retry is a new init: nothing the hub
				 * took before can refuse it. */
				if (c->hs_tries)
					edge_hs_nonce(c);
				send_hs_init(c);
				c->hs_next = now + hs_retry_ns(c, c->hs_tries);
				c->hs_tries++;
			}
			next = min_u64(next, c->hs_next);
		}
	}

	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];

		if (!lk->present || !lk->draining)
			continue;
		if (now >= lk->drain_until)
			link_forget(c, id);
		else
			next = min_u64(next, lk->drain_until);
	}
	if (c->ready && c->confirmed) {
		for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
			struct core_link *lk = &c->link[id];

			if (!lk->present || !lk->has_remote || lk->admin_down || lk->draining)
				continue;
			if (now >= probe_due(c, lk)) {
				send_probe(c, id, now < lk->next_probe);
				if (now >= lk->next_probe)
					lk->next_probe = now + c->p.probe_interval_ns;
			}
			next = min_u64(next, probe_due(c, lk));
			if (lk->state == LINK_UP) {
				uint64_t dead = lk->last_reply + dead_after_ns(c, lk);

				if (now >= dead)
					link_set_state(c, id, LINK_DOWN);
				else
					next = min_u64(next, dead);
			}
		}
	}

	if (c->ready && c->confirmed && recover_fec_on(c->rec)) {
		if (now >= fec_deadline(c))
			fec_close(c);
		next = min_u64(next, fec_deadline(c));
	}
	if (c->ready && c->confirmed) {
		next = min_u64(next, fb_tick(c));
		/* Reports that stopped coming make the delays stale. */
		fb_sched_paths(c);
	}
	c->wake = UINT64_MAX;
	nack_flush(c);
	next = min_u64(next, c->wake);
	next = min_u64(next, reorder_tick(c->ro, now, on_deliver, c));
	sync_reorder_stats(c);
	c->wake = next;
	return next;
}

uint64_t core_next_tick(const struct core *c)
{
	return c->wake;
}
