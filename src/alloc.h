/* What the allocator can tell about the packet path. */
#ifndef BRAID_ALLOC_H
#define BRAID_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

/* A pointer to the calling thread's running count of bytes allocated, kept by
 * jemalloc (thread.allocatedp), or NULL when jemalloc is not the allocator
 * (the sanitizer build). Reading it costs a load, so a worker can prove, in
 * steady state, that it allocates nothing. */
const uint64_t *alloc_thread_counter(void);
/* The process's bytes allocated and resident by jemalloc's count (it
 * refreshes its statistics first); false without jemalloc. */
bool alloc_process_bytes(uint64_t *allocated, uint64_t *resident);

#endif
