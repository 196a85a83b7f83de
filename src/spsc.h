/* Lock-free single-producer single-consumer ring of packet slots, for one
 * worker to hand packets to another. The producer copies a packet into a slot
 * and publishes it with a release store; the consumer reads it in place and
 * releases the slot. Head and tail sit on their own cache lines. Memory is
 * allocated once by spsc_create. */
#ifndef BRAID_SPSC_H
#define BRAID_SPSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spsc_msg {
	uint16_t kind;		/* chosen by the user of the ring */
	uint16_t arg;		/* e.g. a link id */
	uint32_t len;		/* bytes used in data */
	uint8_t addr[28];	/* room for a union braid_addr */
	uint8_t data[];
};

struct spsc;

/* slots: power of two, 2..65536; slot_data: bytes of data per slot. */
int spsc_create(struct spsc **out, unsigned slots, size_t slot_data);
void spsc_destroy(struct spsc *q);
/* Producer: the next free slot, or NULL when full. Fill it, then push. */
struct spsc_msg *spsc_reserve(struct spsc *q);
void spsc_push(struct spsc *q);
/* Consumer: the oldest published slot, or NULL when empty. Read it, then pop. */
struct spsc_msg *spsc_peek(struct spsc *q);
void spsc_pop(struct spsc *q);
size_t spsc_slot_data(const struct spsc *q);
bool spsc_empty(const struct spsc *q);

#endif
