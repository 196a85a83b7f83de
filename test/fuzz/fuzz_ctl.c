/* libFuzzer harness for the control protocol parser (src/ctl.c).
 *
 * With -DFUZZ_STANDALONE, main() replays the files it is given (replay.h).
 * Besides "no crash, no sanitizer report", it checks what ctl_parse
 * promises: one of its documented results, and on success a known command
 * whose words are non-empty, printable, within bounds and inside the buffer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req r;
	char *buf = malloc(size ? size : 1);
	int rc;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	rc = ctl_parse(buf, size, &r);
	if (rc != 0 && rc != -EMSGSIZE && rc != -EINVAL && rc != -ENOENT && rc != -E2BIG)
		abort();
	if (rc == 0) {
		if (r.argc < 1 || r.argc > CTL_ARGS_MAX || r.cmd > CTL_VERSION)
			abort();
		for (unsigned i = 0; i < r.argc; i++) {
			size_t n = strlen(r.argv[i]);

			if (r.argv[i] < buf || r.argv[i] + n >= buf + size || n == 0 ||
			    n > CTL_WORD_MAX)
				abort();
			for (size_t k = 0; k < n; k++)
				if (r.argv[i][k] < 0x21 || r.argv[i][k] > 0x7e)
					abort();
		}
	}
	free(buf);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_HARNESS "fuzz_ctl"
#include "replay.h"
#endif
