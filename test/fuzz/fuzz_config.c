/* libFuzzer harness for the config parser.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       test/fuzz/fuzz_config.c src/config.c src/addr.c sched/dwrr.c -o fuzz_config
 *   ./fuzz_config -max_total_time=30 test/fuzz/corpus/config
 *
 * With -DFUZZ_STANDALONE (any compiler, no libFuzzer) main() runs each file
 * named on the command line through the target once, to replay a crash or
 * the corpus in a plain test run.
 *
 * Besides "no crash, no sanitizer report", it checks what the parser
 * promises: an error is "NAME:LINE: ..." with a line inside the input and
 * leaves cfg alone; a success yields fields inside their documented bounds. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define FUZZ_NAME "fuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ok(const struct braid_config *cfg)
{
	if (cfg->nlinks < 1 || cfg->nlinks > BRAID_MAX_LINKS)
		abort();
	if (cfg->role != ROLE_EDGE && cfg->role != ROLE_HUB)
		abort();
	if (cfg->key_path[0] == '\0')
		abort();
	if (cfg->budget_ns < 1000000ull || cfg->budget_ns > 10000000000ull)
		abort();
	if (cfg->workers < 1 || cfg->workers > BRAID_MAX_WORKERS || cfg->ncpus > cfg->workers)
		abort();
	if (cfg->reorder_window < 64 || cfg->reorder_window > 65536 ||
	    (cfg->reorder_window & (cfg->reorder_window - 1)))
		abort();
	if (cfg->busy_poll_us > 1000000u)
		abort();
	for (unsigned i = 0; i < cfg->nlinks; i++) {
		const struct link_config *l = &cfg->links[i];

		if (!config_valid_name(l->name))
			abort();
		for (unsigned j = 0; j < i; j++)
			if (strcmp(cfg->links[j].name, l->name) == 0)
				abort();
		if (l->weight < 1 || l->weight > SCHED_WEIGHT_MAX || l->priority > 1000)
			abort();
		if (cfg->role == ROLE_EDGE && !l->has_remote)
			abort();
		if (memchr(l->device, '\0', sizeof(l->device)) == NULL)
			abort();
	}
}

static void check_err(const char *err, size_t errlen, size_t size)
{
	const char *p = err + strlen(FUZZ_NAME ":");
	char *end;
	unsigned long line;

	if (memchr(err, '\0', errlen) == NULL)
		abort();
	if (size > (1u << 20)) {	/* refused whole, before any line */
		if (strncmp(err, FUZZ_NAME ": ", strlen(FUZZ_NAME ": ")) != 0)
			abort();
		return;
	}
	if (strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME ":")) != 0)
		abort();
	line = strtoul(p, &end, 10);
	/* Line 1 is the line of an empty input; otherwise a line that exists. */
	if (end == p || *end != ':' || line < 1 || line > size + 1)
		abort();
	if (end[1] != ' ' || end[2] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct braid_config cfg, before;
	char err[256];
	int rc;

	memset(&cfg, 0x5a, sizeof(cfg));
	memcpy(&before, &cfg, sizeof(cfg));
	rc = config_parse((const char *)data, size, FUZZ_NAME, &cfg, err, sizeof(err));
	if (rc == 0) {
		check_ok(&cfg);
	} else {
		if (rc != -EINVAL)
			abort();
		check_err(err, sizeof(err), size);
		if (memcmp(&cfg, &before, sizeof(cfg)) != 0)
			abort();
	}

	/* The value parsers braidctl uses take NUL-terminated strings; feed them
	 * the first line (bounded, so a copy on the stack suffices). */
	{
		char s[64];
		size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
		uint64_t ns;
		unsigned bytes;
		bool b;

		memcpy(s, data, n);
		s[n] = '\0';
		(void)config_parse_duration(s, &ns);
		(void)config_parse_size(s, &bytes);
		(void)config_parse_bool(s, &b);
		(void)config_valid_name(s);
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
int main(int argc, char **argv)
{
	/* As config_load: at most 1 MiB, read one byte more to tell. */
	static uint8_t buf[(1u << 20) + 1];

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (!f) {
			perror(argv[i]);
			return EXIT_FAILURE;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	return EXIT_SUCCESS;
}
#endif
