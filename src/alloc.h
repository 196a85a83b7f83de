/* What the allocator can tell about the packet path. */
#ifndef BRAID_ALLOC_H
#define BRAID_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A pointer to the calling thread's running count of bytes allocated, kept by
 * jemalloc (thread.allocatedp), or NULL when jemalloc is not the allocator
 * (the sanitizer build). Reading it costs a load, so a worker can prove, in
 * steady state, that it allocates nothing. */
const uint64_t *alloc_thread_counter(void);
/* The process's bytes allocated and resident by jemalloc's count (it
 * refreshes its statistics first); false without jemalloc. */
bool alloc_process_bytes(uint64_t *allocated, uint64_t *resident);
/* Touches every page of p[0..len) now, so that the packet path never takes
 * the page fault of a first write (calloc'd memory is often the shared zero
 * page until then), and resident memory is what it will be from the start. */
void alloc_prefault(void *p, size_t len);

#endif
