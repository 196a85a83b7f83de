/* jemalloc introspection; see alloc.h. */
#include <stddef.h>
#include <unistd.h>

#include "alloc.h"

/* Weak, so builds without jemalloc (ASan owns malloc there) still link. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
	__attribute__((weak));

bool alloc_process_bytes(uint64_t *allocated, uint64_t *resident)
{
	uint64_t epoch = 1;
	size_t a = 0, r = 0, len = sizeof(size_t);

	if (!mallctl || mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)) != 0)
		return false;
	if (mallctl("stats.allocated", &a, &len, NULL, 0) != 0 ||
	    mallctl("stats.resident", &r, &len, NULL, 0) != 0)
		return false;
	*allocated = a;
	*resident = r;
	return true;
}

const uint64_t *alloc_thread_counter(void)
{
	uint64_t *p = NULL;
	size_t len = sizeof(p);

	if (!mallctl || mallctl("thread.allocatedp", &p, &len, NULL, 0) != 0)
		return NULL;
	return p;
}

void alloc_prefault(void *p, size_t len)
{
	volatile uint8_t *b = p;
	long page = sysconf(_SC_PAGESIZE);
	size_t step = page > 0 ? (size_t)page : 4096;

	for (size_t i = 0; i < len; i += step)
		b[i] = b[i];
	if (len)
		b[len - 1] = b[len - 1];
}
