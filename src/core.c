/* The bond's protocol core: handshake, sequencing, scheduling, reorder,
 * loss recovery, probes and link state. No I/O and no clock reads; see
 * core.h. This file creates and destroys a core and answers what it tells
 * of itself (readiness, counters, link names); core_priv.h names the files
 * that hold the rest. */
#include <errno.h>
#include <stdlib.h>

#include "braid/sched.h"
#include "core_priv.h"
#include "crypto.h"
#include "prefilter.h"
#include "ratelimit.h"
#include "recover.h"
#include "reorder.h"
#include "replay.h"

/* Data packets kept each way for FEC decoding and retransmission. */
#define RECOVER_STORE 2048

int core_create(struct core **out, const struct core_params *p, const struct core_io *io)
{
	struct reorder_cfg rc = {
		.window = p->reorder_window,
		.budget_ns = p->budget_ns,
		.unordered = p->unordered,
	};
	struct core *c;
	int err;

	if (!io->tx_alloc || !io->tx_send || !io->deliver || !io->random ||
	    p->probe_interval_ns == 0 || p->budget_ns == 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = reorder_create(&c->ro, &rc);
	if (err < 0)
		goto err_free;
	err = recover_create(&c->rec, &(struct recover_cfg){
		.k = p->fec_k,
		.m = p->fec_m,
		.fec_auto = p->fec_auto,
		.store = p->fec_k || p->nack ? RECOVER_STORE : 0,
	});
	if (err < 0)
		goto err_ro;
	c->p = *p;
	c->io = *io;
	sched_init(&c->sched, p->mode);
	sched_set_algo(&c->sched, p->algo);
	c->replay = (struct replay_links){ .n = BRAID_MAX_LINKS, .win = c->rx_win };
	replay_links_init(&c->replay);
	crypto_derive_hs_key(p->psk, c->hs_key);
	prefilter_view_init(&c->pf, p->role == ROLE_HUB);
	if (p->role == ROLE_HUB) {
		uint8_t key[RATELIMIT_KEY_LEN];

		io->random(io->ctx, key, sizeof(key));
		ratelimit_init(&c->rl, key, RATELIMIT_RATE, RATELIMIT_BURST);
		crypto_wipe(key, sizeof(key));
	}
	*out = c;
	return 0;

err_ro:
	reorder_destroy(c->ro);
err_free:
	free(c);
	return err;
}

void core_destroy(struct core *c)
{
	if (!c)
		return;
	reorder_destroy(c->ro);
	recover_destroy(c->rec);
	crypto_wipe(c, sizeof(*c));
	free(c);
}

void core_count_oversize(struct core *c)
{
	stat_add(c->st.oversize, 1);
}

const struct prefilter_view *core_prefilter_view(const struct core *c)
{
	return &c->pf;
}

bool core_ready(const struct core *c)
{
	return c->ready;
}

const struct braid_bond_stats *core_bond_stats(const struct core *c)
{
	return &c->st;
}

const struct braid_link_stats *core_link_stats(const struct core *c, unsigned id)
{
	if (id >= BRAID_MAX_LINKS || !c->link[id].present)
		return NULL;
	return &c->link[id].st;
}

const struct braid_link_stats *core_link_stats_any(const struct core *c, unsigned id)
{
	return id < BRAID_MAX_LINKS ? &c->link[id].st : NULL;
}

const char *core_link_name(const struct core *c, unsigned id)
{
	if (id >= BRAID_MAX_LINKS || !c->link[id].present)
		return NULL;
	return c->link[id].name;
}
