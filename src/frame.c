/* Length framing for the hub's TCP destinations; see frame.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int frame_tx_init(struct frame_tx *t, size_t size)
{
	memset(t, 0, sizeof(*t));
	if (size <= FRAME_HDR)
		return -EINVAL;
	t->buf = malloc(size);
	if (!t->buf)
		return -ENOMEM;
	t->size = size;
	return 0;
}

void frame_tx_free(struct frame_tx *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* Copies n bytes in at the tail, wrapping. */
static void tx_append(struct frame_tx *t, const uint8_t *p, size_t n)
{
	size_t tail = (t->head + t->len) % t->size;
	size_t first = n < t->size - tail ? n : t->size - tail;

	memcpy(t->buf + tail, p, first);
	memcpy(t->buf, p + first, n - first);
	t->len += n;
}

int frame_tx_put(struct frame_tx *t, const uint8_t *data, size_t len)
{
	uint8_t hdr[FRAME_HDR];

	if (len > FRAME_MAX)
		return -EMSGSIZE;
	if (t->size - t->len < FRAME_HDR + len)
		return -ENOBUFS;
	hdr[0] = (uint8_t)(len >> 8);
	hdr[1] = (uint8_t)len;
	tx_append(t, hdr, sizeof(hdr));
	tx_append(t, data, len);
	return 0;
}

unsigned frame_tx_peek(const struct frame_tx *t, const uint8_t *p[2], size_t n[2])
{
	size_t first;

	if (!t->len)
		return 0;
	first = t->len < t->size - t->head ? t->len : t->size - t->head;
	p[0] = t->buf + t->head;
	n[0] = first;
	if (first == t->len)
		return 1;
	p[1] = t->buf;
	n[1] = t->len - first;
	return 2;
}

void frame_tx_consume(struct frame_tx *t, size_t n)
{
	if (n > t->len)
		n = t->len;
	t->head = (t->head + n) % t->size;
	t->len -= n;
	if (!t->len)
		t->head = 0;
}

void frame_tx_reset(struct frame_tx *t)
{
	t->head = 0;
	t->len = 0;
}

size_t frame_tx_queued(const struct frame_tx *t)
{
	return t->len;
}

void frame_rx_init(struct frame_rx *r, size_t max)
{
	r->have = r->want = r->skip = 0;
	r->max = max < 1 ? 1 : max > FRAME_MAX ? FRAME_MAX : max;
	r->messages = r->oversize = 0;
}

void frame_rx_reset(struct frame_rx *r)
{
	r->have = r->want = r->skip = 0;
}

/* The header is in buf[0..2): the message's total length, or skip it. */
static void rx_header(struct frame_rx *r)
{
	size_t len = (size_t)r->buf[0] << 8 | r->buf[1];

	if (len > r->max) {
		r->oversize++;
		r->skip = len;
		r->have = 0;
		return;
	}
	r->want = FRAME_HDR + len;
}

void frame_rx_feed(struct frame_rx *r, const uint8_t *p, size_t n, frame_fn fn, void *ctx)
{
	while (n > 0) {
		size_t take;

		if (r->skip) {
			take = n < r->skip ? n : r->skip;
			r->skip -= take;
			p += take;
			n -= take;
			continue;
		}
		/* Nothing held and a whole message here: hand it on in place. */
		if (r->have == 0 && n >= FRAME_HDR) {
			size_t len = (size_t)p[0] << 8 | p[1];

			if (len <= r->max && n >= FRAME_HDR + len) {
				r->messages++;
				fn(ctx, p + FRAME_HDR, len);
				p += FRAME_HDR + len;
				n -= FRAME_HDR + len;
				continue;
			}
		}
		if (r->have < FRAME_HDR) {
			r->buf[r->have++] = *p++;
			n--;
			if (r->have == FRAME_HDR)
				rx_header(r);
			if (r->have == FRAME_HDR && r->want == FRAME_HDR) {
				r->messages++;
				fn(ctx, r->buf + FRAME_HDR, 0);
				r->have = r->want = 0;
			}
			continue;
		}
		take = r->want - r->have < n ? r->want - r->have : n;
		memcpy(r->buf + r->have, p, take);
		r->have += take;
		p += take;
		n -= take;
		if (r->have == r->want) {
			r->messages++;
			fn(ctx, r->buf + FRAME_HDR, r->want - FRAME_HDR);
			r->have = r->want = 0;
		}
	}
}
