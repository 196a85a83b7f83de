/* A worker's packet buffers: one mmap'd region cut into fixed-size buffers,
 * with a LIFO free list (the most recently freed buffer is the one still in
 * cache). Allocated and locked in memory once at setup; get and put are O(1),
 * never allocate, and are for the owning thread only. */
#ifndef BRAID_SLAB_H
#define BRAID_SLAB_H

#include <stddef.h>
#include <stdint.h>

struct slab {
	uint8_t *mem;
	size_t map_len;
	uint32_t buf_size;	/* multiple of 64 */
	uint32_t count;
	uint32_t nfree;
	uint32_t *free;		/* stack of free indexes */
};

/* count buffers of buf_size bytes (rounded up to 64). 0, -EINVAL or -ENOMEM.
 * Tries mlock; failing that is not an error. */
int slab_init(struct slab *s, uint32_t count, uint32_t buf_size);
void slab_destroy(struct slab *s);
/* A free buffer, or NULL when all are taken. */
void *slab_get(struct slab *s);
/* Returns a buffer to the slab. buf must have come from slab_get or
 * slab_buf on this slab and not be free already. */
void slab_put(struct slab *s, void *buf);
void *slab_buf(const struct slab *s, uint32_t idx);
uint32_t slab_index(const struct slab *s, const void *buf);
/* Takes buffer idx off the free list (for buffers handed to the kernel by
 * index). 0, or -EINVAL if idx is out of range or not free. */
int slab_take(struct slab *s, uint32_t idx);

#endif
