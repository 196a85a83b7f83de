/* braid wire format v1: the bounds-checked reader, the writers and the
 * parsers. The layouts are documented in include/braid/wire.h.
 *
 * Every parser reads through struct wire_reader, so a length mistake here
 * turns into err set and a rejected packet, never an out-of-bounds read. */
#include <errno.h>
#include <string.h>

#include "braid/wire.h"

/* The largest inner plaintext a valid datagram can carry. */
#define WIRE_INNER_MAX (BRAID_PKT_MAX - WIRE_OUTER_LEN - WIRE_TAG_LEN)

void wire_reader_init(struct wire_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->err = 0;
}

size_t wire_reader_left(const struct wire_reader *r)
{
	return r->len - r->off;
}

/* The one place that checks a read against the end. off <= len always holds,
 * so len - off cannot wrap; once err is set every later read fails too. */
static const uint8_t *reader_take(struct wire_reader *r, size_t n)
{
	const uint8_t *q;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	/* A zero-length read of an empty (NULL) buffer is not an error, but
	 * NULL + 0 is undefined, so it yields NULL with err clear. */
	q = r->p ? r->p + r->off : NULL;
	r->off += n;
	return q;
}

uint8_t wire_read_u8(struct wire_reader *r)
{
	const uint8_t *q = reader_take(r, 1);

	return q ? q[0] : 0;
}

uint16_t wire_read_u16(struct wire_reader *r)
{
	const uint8_t *q = reader_take(r, 2);

	if (!q)
		return 0;
	return (uint16_t)((unsigned)q[0] << 8 | q[1]);
}

uint32_t wire_read_u32(struct wire_reader *r)
{
	const uint8_t *q = reader_take(r, 4);

	if (!q)
		return 0;
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
	       (uint32_t)q[2] << 8 | q[3];
}

uint64_t wire_read_u64(struct wire_reader *r)
{
	const uint8_t *q = reader_take(r, 8);
	uint64_t v = 0;

	if (!q)
		return 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | q[i];
	return v;
}

void wire_read_bytes(struct wire_reader *r, void *dst, size_t n)
{
	const uint8_t *q = reader_take(r, n);

	if (n == 0)
		return;
	if (q)
		memcpy(dst, q, n);
	else
		memset(dst, 0, n);
}

const uint8_t *wire_read_ptr(struct wire_reader *r, size_t n)
{
	return reader_take(r, n);
}

/* --- writers ------------------------------------------------------------ */

static uint8_t *put_u8(uint8_t *p, uint8_t v)
{
	p[0] = v;
	return p + 1;
}

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	p = put_u32(p, (uint32_t)(v >> 32));
	return put_u32(p, (uint32_t)v);
}

size_t wire_put_outer(uint8_t *p, const struct wire_outer *o)
{
	uint8_t *q = p;

	q = put_u8(q, o->version);
	q = put_u8(q, o->type);
	q = put_u16(q, 0);
	q = put_u32(q, o->session);
	q = put_u64(q, o->counter);
	return (size_t)(q - p);
}

size_t wire_put_data(uint8_t *p, const struct wire_data *d)
{
	uint8_t *q = p;

	q = put_u32(q, d->bond_seq);
	q = put_u32(q, d->link_seq);
	q = put_u32(q, d->tx_us);
	q = put_u16(q, d->flow);
	q = put_u8(q, d->link_id);
	q = put_u8(q, d->flags);
	return (size_t)(q - p);
}

size_t wire_put_probe(uint8_t *p, const struct wire_probe *pr, int reply)
{
	uint8_t *q = p;

	q = put_u8(q, pr->link_id);
	q = put_u8(q, reply ? 0 : pr->flags);
	q = put_u16(q, 0);
	q = put_u32(q, pr->probe_seq);
	q = put_u64(q, pr->tx_ns);
	q = put_u32(q, pr->rx_pkts);
	q = put_u32(q, pr->rx_lost);
	if (reply)
		q = put_u32(q, pr->jitter_us);
	return (size_t)(q - p);
}

size_t wire_put_parity(uint8_t *p, const struct wire_parity *h)
{
	uint8_t *q = p;

	q = put_u32(q, h->first_seq);
	q = put_u32(q, h->link_seq);
	q = put_u32(q, h->tx_us);
	q = put_u8(q, (uint8_t)((h->k - 1) << 3 | (h->m - 1)));
	q = put_u8(q, h->k_used);
	q = put_u8(q, h->index);
	q = put_u8(q, h->link_id);
	return (size_t)(q - p);
}

size_t wire_put_nack(uint8_t *p, const struct wire_nack *n)
{
	uint8_t *q = p;

	q = put_u8(q, n->count);
	q = put_u8(q, n->link_id);
	q = put_u16(q, 0);
	for (unsigned i = 0; i < n->count && i < WIRE_NACK_MAX; i++) {
		q = put_u32(q, n->e[i].base_seq);
		q = put_u64(q, n->e[i].bits);
	}
	return (size_t)(q - p);
}

size_t wire_put_feedback(uint8_t *p, const struct wire_feedback *fb)
{
	uint8_t *q = p;

	q = put_u8(q, fb->count);
	q = put_u8(q, 0);
	q = put_u16(q, 0);
	for (unsigned i = 0; i < fb->count && i < WIRE_FEEDBACK_MAX; i++) {
		const struct wire_feedback_entry *e = &fb->e[i];

		q = put_u8(q, e->link_id);
		q = put_u8(q, e->flags);
		q = put_u16(q, 0);
		q = put_u32(q, e->tx_us);
		q = put_u32(q, e->owd_rel_us);
		q = put_u32(q, e->queue_us);
		q = put_u32(q, e->rate);
		q = put_u32(q, e->rx_pkts);
		q = put_u32(q, e->rx_lost);
	}
	return (size_t)(q - p);
}

size_t wire_put_hs(uint8_t *p, const struct wire_hs *hs)
{
	uint8_t *q = p;

	memcpy(q, hs->nonce, WIRE_HS_NONCE_LEN);
	q += WIRE_HS_NONCE_LEN;
	memcpy(q, hs->cookie, WIRE_HS_COOKIE_LEN);
	q += WIRE_HS_COOKIE_LEN;
	return (size_t)(q - p);
}

size_t wire_put_hs_cookie(uint8_t *p, const struct wire_hs_cookie *ck)
{
	memcpy(p, ck->cookie, WIRE_HS_COOKIE_LEN);
	return WIRE_HS_COOKIE_LEN;
}

/* --- parsers -------------------------------------------------------------- */

int wire_parse_outer(const uint8_t *pkt, size_t len, struct wire_outer *o)
{
	struct wire_reader r;
	uint16_t reserved;

	if (len < WIRE_MIN_LEN || len > BRAID_PKT_MAX)
		return -EMSGSIZE;
	wire_reader_init(&r, pkt, len);
	o->version = wire_read_u8(&r);
	o->type = wire_read_u8(&r);
	reserved = wire_read_u16(&r);
	o->session = wire_read_u32(&r);
	o->counter = wire_read_u64(&r);
	if (r.err)
		return -EMSGSIZE;
	if (o->version != BRAID_WIRE_VERSION || o->type == 0 ||
	    o->type > WIRE_TYPE_MAX || reserved != 0)
		return -EBADMSG;
	if ((o->type == WIRE_HS_INIT || o->type == WIRE_HS_RESP) &&
	    len != WIRE_HS_LEN)
		return -EMSGSIZE;
	if (o->type == WIRE_HS_COOKIE && len != WIRE_HS_COOKIE_PKT_LEN)
		return -EMSGSIZE;
	return 0;
}

int wire_parse_data(const uint8_t *p, size_t len, struct wire_data *d)
{
	struct wire_reader r;

	if (len < WIRE_DATA_HDR_LEN || len > WIRE_INNER_MAX)
		return -EMSGSIZE;
	wire_reader_init(&r, p, len);
	d->bond_seq = wire_read_u32(&r);
	d->link_seq = wire_read_u32(&r);
	d->tx_us = wire_read_u32(&r);
	d->flow = wire_read_u16(&r);
	d->link_id = wire_read_u8(&r);
	d->flags = wire_read_u8(&r);
	if (r.err)
		return -EMSGSIZE;
	if (len - WIRE_DATA_HDR_LEN > BRAID_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (d->flags & ~WIRE_DATA_RETX)
		return -EBADMSG;
	return 0;
}

/* The longest parity shard: a 2-byte length, the flow and the payload. */
#define WIRE_SHARD_MAX (BRAID_PAYLOAD_MAX + WIRE_FEC_SHARD_EXTRA)

int wire_parse_parity(const uint8_t *p, size_t len, struct wire_parity *h)
{
	struct wire_reader r;
	uint8_t code;

	if (len < WIRE_PARITY_HDR_LEN + 2 || len > WIRE_PARITY_HDR_LEN + WIRE_SHARD_MAX)
		return -EMSGSIZE;
	wire_reader_init(&r, p, len);
	h->first_seq = wire_read_u32(&r);
	h->link_seq = wire_read_u32(&r);
	h->tx_us = wire_read_u32(&r);
	code = wire_read_u8(&r);
	h->k_used = wire_read_u8(&r);
	h->index = wire_read_u8(&r);
	h->link_id = wire_read_u8(&r);
	if (r.err)
		return -EMSGSIZE;
	h->k = (uint8_t)((code >> 3) + 1);
	h->m = (uint8_t)((code & 7) + 1);
	if (h->k_used == 0 || h->k_used > h->k || h->index >= h->m)
		return -EBADMSG;
	return 0;
}

int wire_parse_nack(const uint8_t *p, size_t len, struct wire_nack *n)
{
	struct wire_reader r;
	uint16_t reserved;

	if (len < WIRE_NACK_HDR_LEN + WIRE_NACK_ENTRY_LEN)
		return -EMSGSIZE;
	wire_reader_init(&r, p, len);
	n->count = wire_read_u8(&r);
	n->link_id = wire_read_u8(&r);
	reserved = wire_read_u16(&r);
	if (n->count == 0 || n->count > WIRE_NACK_MAX || reserved != 0)
		return -EBADMSG;
	if (len != WIRE_NACK_HDR_LEN + (size_t)n->count * WIRE_NACK_ENTRY_LEN)
		return -EMSGSIZE;
	for (unsigned i = 0; i < n->count; i++) {
		n->e[i].base_seq = wire_read_u32(&r);
		n->e[i].bits = wire_read_u64(&r);
		if (!(n->e[i].bits & 1))
			return -EBADMSG;
	}
	if (r.err)
		return -EMSGSIZE;
	return 0;
}

/* One FEEDBACK entry; the length is the caller's to have checked. */
static int parse_feedback_entry(struct wire_reader *r, struct wire_feedback_entry *e)
{
	const uint8_t known = WIRE_FB_QUEUED | WIRE_FB_DELAY;
	uint16_t reserved;

	e->link_id = wire_read_u8(r);
	e->flags = wire_read_u8(r);
	reserved = wire_read_u16(r);
	e->tx_us = wire_read_u32(r);
	e->owd_rel_us = wire_read_u32(r);
	e->queue_us = wire_read_u32(r);
	e->rate = wire_read_u32(r);
	e->rx_pkts = wire_read_u32(r);
	e->rx_lost = wire_read_u32(r);
	if (reserved != 0 || e->link_id >= WIRE_FEEDBACK_MAX || (e->flags & ~known))
		return -EBADMSG;
	/* One encoding for each meaning: a figure that is not valid is zero,
	 * and a capacity needs a rate and the delays it was judged from. */
	if (!(e->flags & WIRE_FB_DELAY) &&
	    (e->tx_us || e->owd_rel_us || e->queue_us || (e->flags & WIRE_FB_QUEUED)))
		return -EBADMSG;
	if ((e->flags & WIRE_FB_QUEUED) && e->rate == 0)
		return -EBADMSG;
	return 0;
}

_Static_assert(WIRE_FEEDBACK_MAX <= 32, "the seen set is 32 bits");

int wire_parse_feedback(const uint8_t *p, size_t len, struct wire_feedback *fb)
{
	struct wire_reader r;
	uint32_t seen = 0;
	uint8_t r0;
	uint16_t r1;

	if (len < WIRE_FEEDBACK_HDR_LEN + WIRE_FEEDBACK_ENTRY_LEN)
		return -EMSGSIZE;
	wire_reader_init(&r, p, len);
	fb->count = wire_read_u8(&r);
	r0 = wire_read_u8(&r);
	r1 = wire_read_u16(&r);
	if (fb->count == 0 || fb->count > WIRE_FEEDBACK_MAX || r0 != 0 || r1 != 0)
		return -EBADMSG;
	if (len != WIRE_FEEDBACK_HDR_LEN + (size_t)fb->count * WIRE_FEEDBACK_ENTRY_LEN)
		return -EMSGSIZE;
	for (unsigned i = 0; i < fb->count; i++) {
		struct wire_feedback_entry *e = &fb->e[i];

		if (parse_feedback_entry(&r, e) < 0 || (seen & 1u << e->link_id))
			return -EBADMSG;
		seen |= 1u << e->link_id;
	}
	if (r.err)
		return -EMSGSIZE;
	return 0;
}

int wire_parse_probe(const uint8_t *p, size_t len, struct wire_probe *pr, int reply)
{
	struct wire_reader r;
	uint16_t pad;

	if (len != (reply ? WIRE_PROBE_REPLY_LEN : WIRE_PROBE_LEN))
		return -EMSGSIZE;
	wire_reader_init(&r, p, len);
	pr->link_id = wire_read_u8(&r);
	pr->flags = wire_read_u8(&r);
	pad = wire_read_u16(&r);
	pr->probe_seq = wire_read_u32(&r);
	pr->tx_ns = wire_read_u64(&r);
	pr->rx_pkts = wire_read_u32(&r);
	pr->rx_lost = wire_read_u32(&r);
	pr->jitter_us = reply ? wire_read_u32(&r) : 0;
	if (r.err)
		return -EMSGSIZE;
	/* Padding is zero on send, like every reserved field: a non-zero pad
	 * or an unknown flag means a sender we do not understand, so refuse
	 * rather than guess. */
	if (pad != 0 || (pr->flags & ~(reply ? 0 : WIRE_PROBE_BYE)))
		return -EBADMSG;
	return 0;
}

int wire_parse_hs(const uint8_t *p, size_t len, struct wire_hs *hs)
{
	struct wire_reader r;

	if (len != WIRE_HS_BODY_LEN)
		return -EMSGSIZE;
	wire_reader_init(&r, p, len);
	wire_read_bytes(&r, hs->nonce, WIRE_HS_NONCE_LEN);
	wire_read_bytes(&r, hs->cookie, WIRE_HS_COOKIE_LEN);
	return r.err ? -EMSGSIZE : 0;
}

int wire_parse_hs_cookie(const uint8_t *p, size_t len, struct wire_hs_cookie *ck)
{
	struct wire_reader r;

	if (len != WIRE_HS_COOKIE_LEN)
		return -EMSGSIZE;
	wire_reader_init(&r, p, len);
	wire_read_bytes(&r, ck->cookie, WIRE_HS_COOKIE_LEN);
	return r.err ? -EMSGSIZE : 0;
}
