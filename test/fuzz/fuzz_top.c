/* libFuzzer harness for braidctl top's reader of `stats raw` replies
 * (tools/lib/top.c), the one place braidctl parses what braidd says.
 *
 * With -DFUZZ_STANDALONE, main() replays the files it is given (replay.h).
 * Besides "no crash, no sanitizer report", it checks what top_parse
 * promises: one of its documented results, a line number inside the input,
 * and on success links within bounds with valid names; and that a frame
 * drawn from what it read keeps to its width and to the snprintf contract. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct top_snap snap, prev;
static char frame[1 << 17];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct top_view v = { .width = 80, .interval_s = 1 };
	size_t lines = 0, n;
	unsigned line;
	int rc;

	rc = top_parse((const char *)data, size, &snap, &line);
	if (rc != 0 && rc != -EINVAL && rc != -E2BIG)
		abort();
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (line > lines + 1)
		abort();
	if (rc != 0)
		return 0;
	if (snap.nlinks > TOP_LINKS_MAX || memchr(snap.role, '\0', sizeof(snap.role)) == NULL)
		abort();
	for (unsigned i = 0; i < snap.nlinks; i++)
		if (!config_valid_name(snap.links[i].name) ||
		    memchr(snap.links[i].state, '\0', sizeof(snap.links[i].state)) == NULL)
			abort();
	/* Against itself a second later, and against the last good input. */
	prev.time_ns = snap.time_ns - 1000000000ull;
	n = top_render(&prev, &snap, &v, frame, sizeof(frame));
	if (n >= sizeof(frame) || strlen(frame) != n)
		abort();
	for (const char *l = frame; *l; l = strchr(l, '\n') + 1)
		if (strcspn(l, "\n") > v.width || !strchr(l, '\n'))
			abort();
	if (top_render(&prev, &snap, &v, NULL, 0) != n)
		abort();
	prev = snap;
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_HARNESS "fuzz_top"
#include "replay.h"
#endif
