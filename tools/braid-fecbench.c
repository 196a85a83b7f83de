/* braid-fecbench: throughput of the FEC codec (fec/rs.c) beside memcpy.
 *
 *   braid-fecbench [--seconds S] [--json FILE]
 *
 * For each (K, M) braid ships, on full blocks of 1400-byte packets: memcpy of
 * the block's K packets, encode of the block, and decode with M data packets
 * lost (the worst case: every parity shard is used), each for S seconds.
 * Throughput is the block's data bytes (K * 1400) per second, in GB/s
 * (10^9 bytes), so the three columns compare directly. The decode tables are
 * in the codec's cache after the first call, as in steady state; what a
 * cache miss costs (the matrix inversion) is timed apart, per call.
 *
 * Every packet is checked after the decode runs: a fast wrong answer is not
 * a result. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <isa-l/erasure_code.h>

#include "braid/fec.h"
#include "braid/rng.h"

#define PKT_LEN      1400
#define MISS_SAMPLES 200

static const unsigned cases[][2] = { { 4, 2 }, { 8, 2 }, { 16, 4 }, { 32, 8 } };
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct result {
	unsigned k, m;
	double memcpy_gbps, encode_gbps, decode_gbps;
	double miss_us;		/* mean time of a decode that misses the cache */
};

static uint8_t pkt[BRAID_FEC_K_MAX][PKT_LEN];
static uint8_t copy[BRAID_FEC_K_MAX][PKT_LEN];
static uint8_t par[BRAID_FEC_M_MAX][BRAID_FEC_SHARD_MAX];
static uint8_t rebuilt[BRAID_FEC_K_MAX][BRAID_FEC_PAYLOAD_MAX];

static void usage(FILE *f)
{
	fprintf(f,
		"usage: braid-fecbench [--seconds S] [--json FILE]\n"
		"  Encode and decode throughput of braid's Reed-Solomon FEC (ISA-L) for\n"
		"  (K,M) = (4,2) (8,2) (16,4) (32,8) on %d-byte packets, beside memcpy of the\n"
		"  same bytes. Decode loses M data packets (worst case). GB/s = 10^9 data\n"
		"  bytes (K * %d per block) per second.\n"
		"  --seconds S   time per measurement (default 0.5, at most 60)\n"
		"  --json FILE   also write the results as JSON to FILE ('-': stdout, and the\n"
		"                table goes to stderr)\n"
		"  --help        this text\n",
		PKT_LEN, PKT_LEN);
}

static void die(const char *msg)
{
	fprintf(stderr, "braid-fecbench: %s\n", msg);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keeps the compiler from dropping or merging copies nobody reads. */
static void clobber(void)
{
	__asm__ volatile("" ::: "memory");
}

enum op { OP_MEMCPY, OP_ENCODE, OP_DECODE };

struct bench_ctx {
	struct braid_fec *f;
	unsigned k, m;
	const uint8_t *data[BRAID_FEC_K_MAX];
	uint16_t len[BRAID_FEC_K_MAX];
	uint8_t *parity[BRAID_FEC_M_MAX];
	const uint8_t *shard[BRAID_FEC_K_MAX + BRAID_FEC_M_MAX];
	uint8_t *out[BRAID_FEC_K_MAX];
	uint16_t out_len[BRAID_FEC_K_MAX];
	uint64_t present;	/* data 0 .. m-1 lost */
	size_t shard_len;
};

static void run_op(struct bench_ctx *c, enum op op)
{
	int rc = 0;

	switch (op) {
	case OP_MEMCPY:
		for (unsigned i = 0; i < c->k; i++)
			memcpy(copy[i], pkt[i], PKT_LEN);
		clobber();
		return;
	case OP_ENCODE:
		rc = braid_fec_encode(c->f, c->k, c->data, c->len, c->parity, &c->shard_len);
		break;
	case OP_DECODE:
		rc = braid_fec_decode(c->f, c->k, c->present, c->shard, c->len, c->shard_len,
				      c->out, c->out_len);
		if (rc == (int)c->m)
			rc = 0;
		break;
	}
	if (rc != 0)
		die("codec call failed");
}

/* Runs op for about `seconds` and returns data GB/s. The clock is read
 * every batch, sized so that reading it costs nothing measurable. */
static double measure(struct bench_ctx *c, enum op op, double seconds)
{
	unsigned batch = 64;
	uint64_t n = 0;
	double t0, t;

	for (unsigned i = 0; i < 16; i++)	/* warm caches and tables */
		run_op(c, op);
	t0 = now_s();
	do {
		for (unsigned i = 0; i < batch; i++)
			run_op(c, op);
		n += batch;
		t = now_s();
	} while (t - t0 < seconds);
	return (double)n * c->k * PKT_LEN / (t - t0) / 1e9;
}

/* Mean time of the first decode on a fresh codec: always a cache miss, so
 * it carries the K x K inversion and the table expansion. */
static double measure_miss(struct bench_ctx *c)
{
	double sum = 0;

	for (unsigned s = 0; s < MISS_SAMPLES; s++) {
		struct braid_fec *f = braid_fec_new(c->k, c->m);
		double t0;

		if (f == NULL)
			die("out of memory");
		c->f = f;
		t0 = now_s();
		run_op(c, OP_DECODE);
		sum += now_s() - t0;
		braid_fec_free(f);
	}
	c->f = NULL;
	return sum / MISS_SAMPLES * 1e6;
}

static void bench_case(unsigned k, unsigned m, double seconds, struct result *res)
{
	struct bench_ctx c = { .k = k, .m = m };

	c.f = braid_fec_new(k, m);
	if (c.f == NULL)
		die("braid_fec_new failed");
	for (unsigned i = 0; i < k; i++) {
		c.data[i] = pkt[i];
		c.len[i] = PKT_LEN;
		c.shard[i] = pkt[i];
		c.out[i] = rebuilt[i];
	}
	for (unsigned r = 0; r < m; r++) {
		c.parity[r] = par[r];
		c.shard[k + r] = par[r];
	}
	c.present = ((1ull << (k + m)) - 1) & ~((1ull << m) - 1);

	res->k = k;
	res->m = m;
	res->memcpy_gbps = measure(&c, OP_MEMCPY, seconds);
	res->encode_gbps = measure(&c, OP_ENCODE, seconds);
	res->decode_gbps = measure(&c, OP_DECODE, seconds);
	for (unsigned i = 0; i < m; i++) {
		if (c.out_len[i] != PKT_LEN || memcmp(rebuilt[i], pkt[i], PKT_LEN) != 0)
			die("decode gave wrong packets");
	}
	braid_fec_free(c.f);
	res->miss_us = measure_miss(&c);
}

/* Which of its back ends ISA-L picked for ec_encode_data_update, the call
 * the codec spends its time in. ISA-L does not say. Its entry point is a stub
 * `endbr64; jmp *ptr(%rip)` whose pointer, once the first call has run,
 * holds the choice: the back end itself or the library's own PLT entry for
 * it, another `jmp *ptr(%rip)`. So the jumps are followed, a few at most,
 * until one lands on a back end ISA-L exports. Anything else reads as
 * "unknown", never a guess. */
#if defined(__x86_64__)
/* Exported by ISA-L builds with AVX-512 but missing from its header; weak,
 * so a build without it still links and the entry reads as NULL. */
void ec_encode_data_update_avx512(int len, int k, int rows, int vec_i, unsigned char *g_tbls,
				  unsigned char *data, unsigned char **coding)
	__attribute__((weak));

/* Where an indirect `jmp *disp32(%rip)` at p (after an optional endbr64
 * and bnd prefix) goes, or 0 if p holds no such jump. */
static uintptr_t jmp_target(const uint8_t *p)
{
	uintptr_t target;
	int32_t disp;

	if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
		p += 4;
	if (p[0] == 0xf2)
		p++;
	if (p[0] != 0xff || p[1] != 0x25)
		return 0;
	memcpy(&disp, p + 2, sizeof(disp));
	memcpy(&target, p + 6 + disp, sizeof(target));
	return target;
}

static const char *isal_dispatch(void)
{
	static const struct {
		const char *name;
		void (*fn)(int, int, int, int, unsigned char *, unsigned char *, unsigned char **);
	} impl[] = {
		{ "avx512", ec_encode_data_update_avx512 },
		{ "avx2", ec_encode_data_update_avx2 },
		{ "avx", ec_encode_data_update_avx },
		{ "sse", ec_encode_data_update_sse },
		{ "base", ec_encode_data_update_base },
	};
	uintptr_t p = jmp_target((const uint8_t *)(uintptr_t)ec_encode_data_update);

	for (unsigned hop = 0; hop < 3 && p != 0; hop++) {
		for (size_t i = 0; i < sizeof(impl) / sizeof(impl[0]); i++) {
			if (impl[i].fn != NULL && p == (uintptr_t)impl[i].fn)
				return impl[i].name;
		}
		p = jmp_target((const uint8_t *)p);
	}
	return "unknown";
}
#else
static const char *isal_dispatch(void)
{
	return "unknown";
}
#endif

struct cpu_info {
	char model[128];
	bool avx2, avx512f, gfni;
};

static bool has_flag(const char *flags, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = flags; (p = strstr(p, name)) != NULL; p += n) {
		if ((p == flags || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* The first CPU's model name and flags, from /proc/cpuinfo. */
static void cpu_read(struct cpu_info *ci)
{
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "r");
	bool model = false, flags = false;

	snprintf(ci->model, sizeof(ci->model), "unknown");
	if (f == NULL)
		return;
	while ((!model || !flags) && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (v == NULL)
			continue;
		v += 1 + (v[1] == ' ');
		if (!model && strncmp(line, "model name", 10) == 0) {
			v[strcspn(v, "\n")] = '\0';
			snprintf(ci->model, sizeof(ci->model), "%s", v);
			model = true;
		} else if (!flags && strncmp(line, "flags", 5) == 0) {
			ci->avx2 = has_flag(v, "avx2");
			ci->avx512f = has_flag(v, "avx512f");
			ci->gfni = has_flag(v, "gfni");
			flags = true;
		}
	}
	fclose(f);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Writes the results to f and closes it unless it is stdout. */
static int write_json(FILE *f, const struct cpu_info *ci, const char *dispatch,
		      double seconds, const struct result *res, size_t n)
{
	int err;

	fprintf(f, "{\n  \"tool\": \"braid-fecbench\",\n  \"packet_bytes\": %d,\n"
		"  \"seconds_per_measurement\": %.3f,\n  \"unit\": \"GB/s of data, 1e9 bytes\",\n",
		PKT_LEN, seconds);
	fprintf(f, "  \"cpu\": { \"model\": ");
	json_string(f, ci->model);
	fprintf(f, ", \"avx2\": %s, \"avx512f\": %s, \"gfni\": %s },\n",
		ci->avx2 ? "true" : "false", ci->avx512f ? "true" : "false",
		ci->gfni ? "true" : "false");
	fprintf(f, "  \"isal_dispatch\": \"%s\",\n  \"decode_cache_slots\": %d,\n  \"cases\": [\n",
		dispatch, BRAID_FEC_CACHE_SLOTS);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "    { \"k\": %u, \"m\": %u, \"shard_bytes\": %d, \"decode_lost\": %u, "
			"\"memcpy_gbps\": %.3f, \"encode_gbps\": %.3f, \"decode_gbps\": %.3f, "
			"\"decode_miss_us\": %.2f }%s\n",
			res[i].k, res[i].m, PKT_LEN + BRAID_FEC_PREFIX_LEN, res[i].m,
			res[i].memcpy_gbps, res[i].encode_gbps, res[i].decode_gbps, res[i].miss_us,
			i + 1 < n ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (f == stdout)
		return fflush(f) == 0 ? 0 : -errno;
	err = ferror(f);
	if (fclose(f) != 0 || err)
		return -EIO;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct result res[NCASES];
	struct cpu_info ci = { 0 };
	const char *json = NULL, *dispatch;
	FILE *json_f = NULL, *txt = stdout;
	double seconds = 0.5;
	struct rng rng;
	int c, rc;

	while ((c = getopt_long(argc, argv, "s:j:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			errno = 0;
			seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(seconds) ||
			    seconds <= 0 || seconds > 60)
				die("--seconds: a number of seconds, > 0 and at most 60");
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	/* Opened first, so that a bad path fails before the run, not after. */
	if (json) {
		json_f = strcmp(json, "-") == 0 ? stdout : fopen(json, "w");
		if (json_f == NULL) {
			fprintf(stderr, "braid-fecbench: %s: %s\n", json, strerror(errno));
			return 1;
		}
		/* JSON on stdout: the table moves to stderr out of its way. */
		if (json_f == stdout)
			txt = stderr;
	}

	rng_init(&rng, 0xfecbe);
	for (unsigned i = 0; i < BRAID_FEC_K_MAX; i++)
		for (unsigned x = 0; x < PKT_LEN; x++)
			pkt[i][x] = (uint8_t)rng_next(&rng);
	cpu_read(&ci);

	fprintf(txt, "braid-fecbench: %d-byte packets, %.2f s per measurement, GB/s of data\n",
		PKT_LEN, seconds);
	fprintf(txt, "%-7s %10s %10s %10s %12s\n", "(K,M)", "memcpy", "encode", "decode", "miss (us)");
	for (size_t i = 0; i < NCASES; i++) {
		char label[16];

		bench_case(cases[i][0], cases[i][1], seconds, &res[i]);
		snprintf(label, sizeof(label), "(%u,%u)", res[i].k, res[i].m);
		fprintf(txt, "%-7s %10.2f %10.2f %10.2f %12.1f\n", label, res[i].memcpy_gbps,
			res[i].encode_gbps, res[i].decode_gbps, res[i].miss_us);
		fflush(txt);
	}
	dispatch = isal_dispatch();
	fprintf(txt, "decode: M data packets lost; miss: first decode of a pattern (inversion)\n");
	fprintf(txt, "ISA-L back end: %s; cpu: %s (avx2 %s, avx512f %s, gfni %s)\n", dispatch,
		ci.model, ci.avx2 ? "yes" : "no", ci.avx512f ? "yes" : "no", ci.gfni ? "yes" : "no");

	if (json) {
		rc = write_json(json_f, &ci, dispatch, seconds, res, NCASES);
		if (rc < 0) {
			fprintf(stderr, "braid-fecbench: %s: %s\n", json, strerror(-rc));
			return 1;
		}
	}
	return 0;
}
