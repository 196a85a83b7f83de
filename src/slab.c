/* A worker's packet buffers (see slab.h).
 *
 * Besides the free stack that slab.h names, the one calloc'd block behind
 * s->free holds a second array of count entries, the position of each
 * buffer in the stack (SLAB_TAKEN when it is not free). It makes slab_take
 * O(1) and lets slab_put refuse a buffer that is already free, so a double
 * put cannot hand the same buffer out twice. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "slab.h"

#define SLAB_ALIGN 64u
#define SLAB_TAKEN UINT32_MAX

/* Where the free-stack positions live: right after the stack itself. */
static uint32_t *slab_pos(const struct slab *s)
{
	return s->free + s->count;
}

int slab_init(struct slab *s, uint32_t count, uint32_t buf_size)
{
	uint64_t len;
	uint32_t *pos;
	void *mem;

	memset(s, 0, sizeof(*s));
	if (count == 0 || buf_size == 0 || buf_size > UINT32_MAX - (SLAB_ALIGN - 1))
		return -EINVAL;
	buf_size = (buf_size + SLAB_ALIGN - 1) & ~(SLAB_ALIGN - 1);
	/* Both factors fit in 32 bits, so the product fits in 64. */
	len = (uint64_t)count * buf_size;
	if (len != (size_t)len)	/* only on a 32-bit size_t */
		return -ENOMEM;

	/* The region first: it is the request that can be absurdly large, and
	 * mmap refuses that cleanly where calloc might not. */
	/* MAP_POPULATE: no first-touch page faults on the packet path. */
	mem = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	/* Locked buffers never fault on the packet path; without the
	 * privilege or the RLIMIT_MEMLOCK room they still work, so a failure
	 * here is not one. */
	(void)mlock(mem, (size_t)len);

	s->free = calloc((size_t)count * 2, sizeof(*s->free));
	if (s->free == NULL)
		goto err_unmap;

	s->mem = mem;
	s->map_len = (size_t)len;
	s->buf_size = buf_size;
	s->count = count;
	s->nfree = count;
	/* Stack pushed in reverse so the first gets hand out 0, 1, 2, ... */
	pos = slab_pos(s);
	for (uint32_t i = 0; i < count; i++) {
		s->free[i] = count - 1 - i;
		pos[count - 1 - i] = i;
	}
	return 0;

err_unmap:
	munmap(mem, (size_t)len);
	return -ENOMEM;
}

void slab_destroy(struct slab *s)
{
	if (s->mem != NULL)
		munmap(s->mem, s->map_len);	/* also unlocks */
	free(s->free);
	memset(s, 0, sizeof(*s));
}

void *slab_get(struct slab *s)
{
	uint32_t idx;

	if (s->nfree == 0)
		return NULL;
	idx = s->free[--s->nfree];
	slab_pos(s)[idx] = SLAB_TAKEN;
	return s->mem + (size_t)idx * s->buf_size;
}

/* A pointer not at the start of one of this slab's buffers (NULL, another
 * slab's, the middle of a buffer) is ignored: slab.h's put cannot report an
 * error, and pushing such an index would hand one buffer to two owners
 * later. The same goes for a buffer that is already free. */
void slab_put(struct slab *s, void *buf)
{
	uint32_t idx = slab_index(s, buf);
	uint32_t *pos;

	if (idx == UINT32_MAX)
		return;
	pos = slab_pos(s);
	if (pos[idx] != SLAB_TAKEN || s->nfree >= s->count)
		return;
	pos[idx] = s->nfree;
	s->free[s->nfree++] = idx;
}

/* NULL when idx is out of range. */
void *slab_buf(const struct slab *s, uint32_t idx)
{
	if (idx >= s->count)
		return NULL;
	return s->mem + (size_t)idx * s->buf_size;
}

/* UINT32_MAX when buf is not the start of one of this slab's buffers. */
uint32_t slab_index(const struct slab *s, const void *buf)
{
	uintptr_t p = (uintptr_t)buf, base = (uintptr_t)s->mem;
	uintptr_t off;

	if (s->mem == NULL || buf == NULL || p < base || p - base >= s->map_len)
		return UINT32_MAX;
	off = p - base;
	if (off % s->buf_size != 0)
		return UINT32_MAX;
	return (uint32_t)(off / s->buf_size);
}

int slab_take(struct slab *s, uint32_t idx)
{
	uint32_t *pos;
	uint32_t at, last;

	if (idx >= s->count)
		return -EINVAL;
	pos = slab_pos(s);
	at = pos[idx];
	if (at == SLAB_TAKEN)
		return -EINVAL;
	/* Fill the hole with the top of the stack. */
	last = s->free[--s->nfree];
	s->free[at] = last;
	pos[last] = at;
	pos[idx] = SLAB_TAKEN;
	return 0;
}
