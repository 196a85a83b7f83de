/* Loss recovery state of one core (see recover.h for the contract).
 *
 * Three stores, each sized once in recover_create:
 *  - rx: the last `store` data packets that arrived, slot seq & (store - 1),
 *    as flow + payload, for decoding;
 *  - tx: the last `store` data packets sent, the same way, for
 *    retransmission (and, while its block is open, nothing else: parity is
 *    folded in as packets leave, so encoding never reads the store);
 *  - blocks: the parity of the last RX_BLOCKS blocks heard of, oldest out.
 * A slot remembers its seq, so a slot overwritten by a later packet is seen
 * as missing, never mistaken for the packet asked for. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "recover.h"

#define RX_BLOCKS 32
/* Times one datagram may be sent again: once for each of the receiver's
 * asks (NACK_ASKS in core_priv.h), each made when the answer before it is
 * overdue. */
#define RETX_MAX 3

struct slot {
	uint32_t seq;
	bool present;
	uint8_t retx;		/* tx: times retransmitted */
	bool rebuilt;		/* rx: rebuilt from parity */
	uint16_t len;		/* flow + payload */
	uint64_t at;		/* tx: when sent */
	uint8_t data[2 + BRAID_PAYLOAD_MAX];
};

struct rx_block {
	bool used, done;
	uint32_t first_seq;
	uint8_t k, m, k_used;
	uint32_t have;		/* bit r: parity shard r is here */
	size_t shard_len;
	uint64_t age;		/* insertion order, for eviction */
	uint8_t *parity[BRAID_FEC_M_MAX];
};

struct recover {
	struct recover_cfg cfg;
	uint32_t mask;				/* store - 1 */
	struct braid_fec *codec[BRAID_FEC_M_MAX + 1];	/* by M, for K = cfg.k */

	/* The block being sent. */
	bool tx_open;
	unsigned tx_m;				/* M for blocks opened from now */
	unsigned tx_k;				/* K for blocks opened from now */
	unsigned blk_m;				/* M of the open block */
	unsigned blk_k;				/* K of the open block: it closes full */
	uint32_t tx_first;
	unsigned tx_n;
	uint64_t tx_opened;
	struct braid_fec_tx tx;
	uint8_t *tx_parity[BRAID_FEC_M_MAX];
	unsigned tx_load[32];

	struct slot *rx, *txs;
	struct rx_block blk[RX_BLOCKS];
	uint64_t blk_age;
	uint8_t *out[BRAID_FEC_K_MAX];		/* decode output */
	uint8_t scratch[2 + BRAID_PAYLOAD_MAX];
	struct recover_rx_stats rs;
};

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static struct slot *slot_put(struct slot *s, uint32_t mask, uint32_t seq, uint16_t flow,
			     const uint8_t *data, size_t len)
{
	struct slot *sl = &s[seq & mask];

	sl->seq = seq;
	sl->present = true;
	sl->retx = 0;
	sl->rebuilt = false;
	sl->len = (uint16_t)(2 + len);
	put_be16(sl->data, flow);
	if (len)
		memcpy(sl->data + 2, data, len);
	return sl;
}

static const struct slot *slot_get(const struct slot *s, uint32_t mask, uint32_t seq)
{
	const struct slot *sl = &s[seq & mask];

	return sl->present && sl->seq == seq ? sl : NULL;
}

bool recover_fec_on(const struct recover *r)
{
	return r->cfg.k > 0;
}

unsigned recover_k(const struct recover *r)
{
	return r->cfg.k;
}

void recover_tx_set_m(struct recover *r, unsigned m)
{
	r->tx_m = m > BRAID_FEC_M_MAX ? BRAID_FEC_M_MAX : m;
}

void recover_tx_set_k(struct recover *r, unsigned k)
{
	r->tx_k = k == 0 ? 1 : k > r->cfg.k ? r->cfg.k : k;
}

unsigned recover_tx_k(const struct recover *r)
{
	return r->tx_k;
}

unsigned recover_tx_m(const struct recover *r)
{
	return r->tx_m;
}

uint64_t recover_tx_opened(const struct recover *r)
{
	return r->tx_open ? r->tx_opened : UINT64_MAX;
}

int recover_tx_add(struct recover *r, uint32_t seq, uint16_t flow, const uint8_t *data,
		   size_t len, uint32_t link_mask, uint64_t now)
{
	int err;

	if (!r->cfg.k || len > BRAID_PAYLOAD_MAX)
		return -EINVAL;
	if (!r->tx_open) {
		r->tx_open = true;
		r->tx_first = seq;
		r->tx_n = 0;
		r->tx_opened = now;
		r->blk_m = r->tx_m;
		r->blk_k = r->tx_k;
		memset(&r->tx, 0, sizeof(r->tx));
		memset(r->tx_load, 0, sizeof(r->tx_load));
	} else if (seq != r->tx_first + r->tx_n) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < 32; i++)
		if (link_mask & (1u << i))
			r->tx_load[i]++;
	if (r->blk_m) {
		put_be16(r->scratch, flow);
		if (len)
			memcpy(r->scratch + 2, data, len);
		err = braid_fec_encode_add(r->codec[r->blk_m], &r->tx, r->tx_n, r->scratch,
					   2 + len, r->tx_parity);
		if (err < 0)
			return err;
	}
	r->tx_n++;
	return r->tx_n >= r->blk_k;
}

int recover_tx_close(struct recover *r, struct recover_parity *out)
{
	if (!r->tx_open)
		return 0;
	r->tx_open = false;
	if (!r->blk_m || !r->tx_n)
		return 0;
	memset(out, 0, sizeof(*out));
	out->hdr.first_seq = r->tx_first;
	out->hdr.k = (uint8_t)r->cfg.k;
	out->hdr.m = (uint8_t)r->blk_m;
	out->hdr.k_used = (uint8_t)r->tx_n;
	out->shard_len = r->tx.shard_len;
	for (unsigned i = 0; i < r->blk_m; i++)
		out->shard[i] = r->tx_parity[i];
	memcpy(out->link_load, r->tx_load, sizeof(out->link_load));
	return 1;
}

/* --- receiving ------------------------------------------------------------ */

bool recover_rx_data(struct recover *r, uint32_t seq, uint16_t flow, const uint8_t *data,
		     size_t len)
{
	const struct slot *sl;

	if (!r->rx || len > BRAID_PAYLOAD_MAX)
		return false;
	sl = slot_get(r->rx, r->mask, seq);
	if (sl && sl->rebuilt)
		return true;
	slot_put(r->rx, r->mask, seq, flow, data, len);
	return false;
}

/* True if seq is data packet i of block b (0 <= i < k_used). */
static bool in_block(const struct rx_block *b, uint32_t seq)
{
	return seq - b->first_seq < b->k_used;
}

/* Rebuilds what block b lacks, if enough of it is here. */
static int try_decode(struct recover *r, struct rx_block *b, recover_fn fn, void *ctx)
{
	const uint8_t *shard[BRAID_FEC_K_MAX + BRAID_FEC_M_MAX];
	uint16_t len[BRAID_FEC_K_MAX + BRAID_FEC_M_MAX];
	uint16_t out_len[BRAID_FEC_K_MAX];
	uint64_t present = 0;
	unsigned have = 0, missing = 0;
	int n;

	if (b->done)
		return 0;
	memset(len, 0, sizeof(len));
	for (unsigned i = 0; i < BRAID_FEC_K_MAX + BRAID_FEC_M_MAX; i++)
		shard[i] = NULL;
	for (unsigned i = 0; i < b->k_used; i++) {
		const struct slot *sl = slot_get(r->rx, r->mask, b->first_seq + i);

		if (sl && (size_t)sl->len + BRAID_FEC_PREFIX_LEN <= b->shard_len) {
			shard[i] = sl->data;
			len[i] = sl->len;
			present |= 1ull << i;
			have++;
		} else {
			shard[i] = NULL;
			missing++;
		}
	}
	if (!missing) {
		b->done = true;
		return 0;
	}
	for (unsigned j = 0; j < b->m; j++) {
		if (!(b->have & (1u << j)))
			continue;
		shard[b->k + j] = b->parity[j];
		present |= 1ull << (b->k + j);
		have++;
	}
	if (have < b->k_used)
		return 0;
	n = braid_fec_decode(r->codec[b->m], b->k_used, present, shard, len, b->shard_len,
			     r->out, out_len);
	b->done = true;
	if (n < 0) {
		r->rs.unusable++;
		return n;
	}
	for (unsigned i = 0; i < b->k_used; i++) {
		uint32_t seq = b->first_seq + i;

		if (present & (1ull << i))
			continue;
		if (out_len[i] < 2) {
			r->rs.unusable++;
			continue;
		}
		slot_put(r->rx, r->mask, seq, get_be16(r->out[i]), r->out[i] + 2,
			 (size_t)out_len[i] - 2)->rebuilt = true;
		r->rs.recovered++;
		if (fn)
			fn(ctx, seq, get_be16(r->out[i]), r->out[i] + 2, (size_t)out_len[i] - 2);
	}
	return n;
}

int recover_rx_parity(struct recover *r, const struct wire_parity *h, const uint8_t *shard,
		      size_t shard_len, recover_fn fn, void *ctx)
{
	struct rx_block *b = NULL, *oldest = NULL;

	if (!r->rx || h->k != r->cfg.k || h->m == 0 || h->m > BRAID_FEC_M_MAX ||
	    h->index >= h->m || h->k_used == 0 || h->k_used > h->k || shard_len < 2 ||
	    shard_len > RECOVER_SHARD_MAX) {
		r->rs.unusable++;
		return -EINVAL;
	}
	for (unsigned i = 0; i < RX_BLOCKS; i++) {
		struct rx_block *e = &r->blk[i];

		if (e->used && e->first_seq == h->first_seq) {
			b = e;
			break;
		}
		if (!oldest || !e->used || (oldest->used && e->age < oldest->age))
			oldest = e;
	}
	if (b && (b->m != h->m || b->k_used != h->k_used || b->shard_len != shard_len)) {
		/* The same block cannot change its code or size: not ours to
		 * trust. */
		r->rs.unusable++;
		return -EINVAL;
	}
	if (!b) {
		b = oldest;
		b->used = true;
		b->done = false;
		b->first_seq = h->first_seq;
		b->k = h->k;
		b->m = h->m;
		b->k_used = h->k_used;
		b->have = 0;
		b->shard_len = shard_len;
		b->age = ++r->blk_age;
	}
	if (b->done || (b->have & (1u << h->index)))
		return 0;
	memcpy(b->parity[h->index], shard, shard_len);
	b->have |= 1u << h->index;
	return try_decode(r, b, fn, ctx);
}

int recover_rx_retry(struct recover *r, uint32_t seq, recover_fn fn, void *ctx)
{
	for (unsigned i = 0; i < RX_BLOCKS; i++) {
		struct rx_block *b = &r->blk[i];

		if (b->used && !b->done && b->have && in_block(b, seq))
			return try_decode(r, b, fn, ctx);
	}
	return 0;
}

unsigned recover_rx_need(const struct recover *r, uint32_t first_seq, uint32_t *seqs,
			 unsigned max)
{
	const struct rx_block *b = NULL;
	unsigned have = 0, missing = 0, need, n = 0;

	for (unsigned i = 0; i < RX_BLOCKS && !b; i++)
		if (r->blk[i].used && r->blk[i].first_seq == first_seq)
			b = &r->blk[i];
	if (!b || b->done)
		return 0;
	for (unsigned j = 0; j < b->m; j++)
		have += (b->have >> j) & 1;
	for (unsigned i = 0; i < b->k_used; i++)
		missing += !slot_get(r->rx, r->mask, b->first_seq + i);
	if (missing <= have)
		return 0;
	need = missing - have;
	for (unsigned i = 0; i < b->k_used && n < need && n < max; i++)
		if (!slot_get(r->rx, r->mask, b->first_seq + i))
			seqs[n++] = b->first_seq + i;
	return n;
}

const struct recover_rx_stats *recover_rx_stats(const struct recover *r)
{
	return &r->rs;
}

/* --- retransmission ------------------------------------------------------- */

void recover_retx_put(struct recover *r, uint32_t seq, uint16_t flow, const uint8_t *data,
		      size_t len, uint64_t now)
{
	if (!r->txs || len > BRAID_PAYLOAD_MAX)
		return;
	slot_put(r->txs, r->mask, seq, flow, data, len)->at = now;
}

int recover_retx_take(struct recover *r, uint32_t seq, uint64_t now, uint64_t max_age_ns,
		      uint16_t *flow, const uint8_t **data)
{
	struct slot *sl;

	if (!r->txs)
		return -ENOENT;
	sl = &r->txs[seq & r->mask];
	if (!sl->present || sl->seq != seq || sl->retx >= RETX_MAX || now - sl->at > max_age_ns)
		return -ENOENT;
	sl->retx++;
	*flow = get_be16(sl->data);
	*data = sl->data + 2;
	return sl->len - 2;
}

/* --- choosing M ----------------------------------------------------------- */

unsigned recover_pick_m(unsigned k, unsigned max_m, uint64_t loss_ppm, double target)
{
	double p = (double)loss_ppm / 1e6;

	if (p <= 0)
		return 0;
	if (p >= 1)
		return max_m;
	for (unsigned m = 0; m <= max_m; m++) {
		unsigned n = k + m;
		double pmf[BRAID_FEC_K_MAX + BRAID_FEC_M_MAX + 1], tail = 0;

		if (n >= sizeof(pmf) / sizeof(pmf[0]))
			break;
		/* Binomial(n, p), each term from the one before. */
		pmf[0] = pow(1 - p, (double)n);
		for (unsigned x = 0; x < n; x++)
			pmf[x + 1] = pmf[x] * (double)(n - x) / (double)(x + 1) * p / (1 - p);
		/* P(more than m of n lost), summed without cancellation. */
		for (unsigned x = n; x > m; x--)
			tail += pmf[x];
		if (tail <= target)
			return m;
	}
	return max_m;
}

/* --- setup ---------------------------------------------------------------- */

void recover_reset(struct recover *r)
{
	r->tx_open = false;
	if (r->rx)
		for (uint32_t i = 0; i <= r->mask; i++)
			r->rx[i].present = false;
	if (r->txs)
		for (uint32_t i = 0; i <= r->mask; i++)
			r->txs[i].present = false;
	for (unsigned i = 0; i < RX_BLOCKS; i++)
		r->blk[i].used = false;
}

void recover_destroy(struct recover *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i <= BRAID_FEC_M_MAX; i++)
		braid_fec_free(r->codec[i]);
	for (unsigned i = 0; i < BRAID_FEC_M_MAX; i++)
		free(r->tx_parity[i]);
	for (unsigned i = 0; i < RX_BLOCKS; i++)
		for (unsigned j = 0; j < BRAID_FEC_M_MAX; j++)
			free(r->blk[i].parity[j]);
	for (unsigned i = 0; i < BRAID_FEC_K_MAX; i++)
		free(r->out[i]);
	free(r->rx);
	free(r->txs);
	free(r);
}

int recover_create(struct recover **out, const struct recover_cfg *cfg)
{
	struct recover *r;

	*out = NULL;
	if (cfg->k > BRAID_FEC_K_MAX || (cfg->k && !cfg->fec_auto &&
					 (cfg->m < 1 || cfg->m > BRAID_FEC_M_MAX)) ||
	    (cfg->store & (cfg->store - 1)) || (cfg->k && cfg->store < 2 * BRAID_FEC_K_MAX))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	r->mask = cfg->store ? cfg->store - 1 : 0;
	r->tx_m = cfg->fec_auto ? 0 : cfg->m;
	r->tx_k = cfg->k;
	if (cfg->store) {
		r->rx = calloc(cfg->store, sizeof(*r->rx));
		r->txs = calloc(cfg->store, sizeof(*r->txs));
		if (!r->rx || !r->txs)
			goto nomem;
		alloc_prefault(r->rx, cfg->store * sizeof(*r->rx));
		alloc_prefault(r->txs, cfg->store * sizeof(*r->txs));
	}
	if (cfg->k) {
		for (unsigned m = 1; m <= BRAID_FEC_M_MAX; m++) {
			r->codec[m] = braid_fec_new(cfg->k, m);
			if (!r->codec[m])
				goto nomem;
		}
		for (unsigned i = 0; i < BRAID_FEC_M_MAX; i++) {
			r->tx_parity[i] = malloc(BRAID_FEC_SHARD_MAX);
			if (!r->tx_parity[i])
				goto nomem;
		}
		for (unsigned i = 0; i < RX_BLOCKS; i++) {
			for (unsigned j = 0; j < BRAID_FEC_M_MAX; j++) {
				r->blk[i].parity[j] = malloc(RECOVER_SHARD_MAX);
				if (!r->blk[i].parity[j])
					goto nomem;
			}
		}
		for (unsigned i = 0; i < BRAID_FEC_K_MAX; i++) {
			r->out[i] = malloc(BRAID_FEC_SHARD_MAX);
			if (!r->out[i])
				goto nomem;
		}
	}
	*out = r;
	return 0;

nomem:
	recover_destroy(r);
	return -ENOMEM;
}
