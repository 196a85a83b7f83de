/* Lock-free single-producer single-consumer ring (see spsc.h).
 *
 * head counts slots published by the producer, tail slots released by the
 * consumer; both run freely and wrap at 2^32, which a power-of-two ring of
 * at most 65536 slots divides, so head - tail is always the fill level. Each
 * side owns one cache line: its own index plus its last view of the other
 * side's, so it reads the other line only when its cached view says the
 * ring is full (producer) or empty (consumer). */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spsc.h"

#define SPSC_LINE      64u
#define SPSC_SLOTS_MAX 65536u
/* Slots carry packets; anything near this is a caller's mistake, and the
 * bound keeps slots * stride far from overflow. */
#define SPSC_DATA_MAX  (16u << 20)

struct spsc {
	/* Producer's line. */
	alignas(SPSC_LINE) _Atomic uint32_t head;
	uint32_t tail_seen;		/* producer's last view of tail */

	/* Consumer's line. */
	alignas(SPSC_LINE) _Atomic uint32_t tail;
	uint32_t head_seen;		/* consumer's last view of head */

	/* Read-only after create, shared by both. */
	alignas(SPSC_LINE) uint8_t *slots;
	size_t stride;
	size_t slot_data;
	uint32_t mask;
	uint32_t nslots;
};

static struct spsc_msg *spsc_slot(const struct spsc *q, uint32_t i)
{
	return (struct spsc_msg *)(q->slots + (size_t)(i & q->mask) * q->stride);
}

int spsc_create(struct spsc **out, unsigned slots, size_t slot_data)
{
	struct spsc *q;
	size_t stride;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (slots < 2 || slots > SPSC_SLOTS_MAX || (slots & (slots - 1)) != 0)
		return -EINVAL;
	if (slot_data > SPSC_DATA_MAX)
		return -EINVAL;
	stride = (sizeof(struct spsc_msg) + slot_data + SPSC_LINE - 1) & ~(size_t)(SPSC_LINE - 1);

	q = aligned_alloc(SPSC_LINE, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->slots = aligned_alloc(SPSC_LINE, (size_t)slots * stride);
	if (q->slots == NULL)
		goto err_free_q;
	/* Touch every slot now rather than fault on the packet path. */
	memset(q->slots, 0, (size_t)slots * stride);
	q->stride = stride;
	q->slot_data = slot_data;
	q->mask = slots - 1;
	q->nslots = slots;
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
	*out = q;
	return 0;

err_free_q:
	free(q);
	return -ENOMEM;
}

void spsc_destroy(struct spsc *q)
{
	if (q == NULL)
		return;
	free(q->slots);
	free(q);
}

struct spsc_msg *spsc_reserve(struct spsc *q)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);

	if (h - q->tail_seen >= q->nslots) {
		/* Acquire: the consumer's reads of the slot we are about to
		 * overwrite happened before it moved tail past it. */
		q->tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
		if (h - q->tail_seen >= q->nslots)
			return NULL;
	}
	return spsc_slot(q, h);
}

/* Publishes the slot spsc_reserve returned. A push with the ring full (no
 * slot could have been reserved) is ignored rather than overwrite a slot the
 * consumer has not released. A len larger than the slot is cut to the slot
 * so the consumer, which trusts len, never reads past it. */
void spsc_push(struct spsc *q)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	struct spsc_msg *m;

	if (h - q->tail_seen >= q->nslots) {
		q->tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
		if (h - q->tail_seen >= q->nslots)
			return;
	}
	m = spsc_slot(q, h);
	if (m->len > q->slot_data)
		m->len = (uint32_t)q->slot_data;
	/* Release: the slot's contents are visible before the new head. */
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
}

struct spsc_msg *spsc_peek(struct spsc *q)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);

	if (t == q->head_seen) {
		/* Acquire: pairs with the release in spsc_push. */
		q->head_seen = atomic_load_explicit(&q->head, memory_order_acquire);
		if (t == q->head_seen)
			return NULL;
	}
	return spsc_slot(q, t);
}

/* Releases the slot spsc_peek returned; with the ring empty it does
 * nothing, so a stray pop cannot run tail past head. */
void spsc_pop(struct spsc *q)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);

	if (t == q->head_seen) {
		q->head_seen = atomic_load_explicit(&q->head, memory_order_acquire);
		if (t == q->head_seen)
			return;
	}
	/* Release: our reads of the slot finish before the producer may
	 * reuse it. */
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
}

size_t spsc_slot_data(const struct spsc *q)
{
	return q->slot_data;
}

/* Exact only from the consumer's side (or when neither side is moving);
 * from the producer it may say non-empty for a ring being drained. */
bool spsc_empty(const struct spsc *q)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
	uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);

	return h == t;
}
