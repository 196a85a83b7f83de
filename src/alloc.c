/* jemalloc introspection; see alloc.h. */
#include <stddef.h>

#include "alloc.h"

/* Weak, so builds without jemalloc (ASan owns malloc there) still link. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
	__attribute__((weak));

const uint64_t *alloc_thread_counter(void)
{
	uint64_t *p = NULL;
	size_t len = sizeof(p);

	if (!mallctl || mallctl("thread.allocatedp", &p, &len, NULL, 0) != 0)
		return NULL;
	return p;
}
