/* Writes the seed corpus for fuzz_fec.c, reproducibly, in the input layout
 * its header describes. Nothing here is random, so rerunning it gives
 * identical files.
 *
 * Round-trip seeds only name the block's shape and lengths; the harness
 * builds the block. Hostile seeds carry their own shard bytes: most are real
 * blocks encoded here (so a mutation starts from a decodable block rather
 * than from parity noise that fails the length check), a few are arbitrary
 * bytes or deliberately broken metadata.
 *
 *   cc -std=gnu11 -D_GNU_SOURCE -Iinclude test/fuzz/gen_fec_corpus.c fec/rs.c \
 *     $(pkg-config --cflags --libs libisal) -o /tmp/gen_fec_corpus
 *   /tmp/gen_fec_corpus test/fuzz/corpus/fec
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "braid/fec.h"

/* The harness's flag bits (fuzz_fec.c). */
#define F_ROUND_TRIP   0x01
#define FH_RAW_MASK    0x02
#define FH_NULL_ABSENT 0x04
#define FH_NULL_EMPTY  0x08
#define FH_OUT_NULL    0x10
#define FH_MISS_NULL   0x40
#define FH_RAW         0x80
#define FR_ENCODE_ADD  0x02
#define FR_OVER        0x04
#define FR_IGNORED     0x08
#define FR_NULL_EMPTY  0x10
#define FR_NULL_ABSENT 0x20

#define K_MAX BRAID_FEC_K_MAX
#define M_MAX BRAID_FEC_M_MAX
#define SEED_MAX 4096

static const char *outdir;

struct seed {
	uint8_t b[SEED_MAX];
	size_t n;
};

static void put8(struct seed *s, unsigned v)
{
	if (s->n >= SEED_MAX) {
		fprintf(stderr, "gen_fec_corpus: seed too long\n");
		exit(EXIT_FAILURE);
	}
	s->b[s->n++] = (uint8_t)v;
}

static void put16(struct seed *s, unsigned v)
{
	put8(s, v >> 8);
	put8(s, v & 0xff);
}

static void put64le(struct seed *s, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		put8(s, (unsigned)(v >> (8 * i)) & 0xff);
}

static void put_bytes(struct seed *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(s, p[i]);
}

static int write_seed(const char *name, const struct seed *s)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, s->b, s->n) != (ssize_t)s->n) {
		fprintf(stderr, "gen_fec_corpus: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	printf("%s (%zu bytes)\n", path, s->n);
	return 0;
}

/* A round-trip seed: the erasure picks and lengths; payload bytes are left
 * to the harness's pattern, except for a few so the seed is not all header. */
static int round_trip(const char *name, unsigned flags, unsigned k, unsigned m,
		      unsigned k_used, unsigned nerase, const uint8_t pick[M_MAX + 1],
		      unsigned order_seed, const uint16_t *len, size_t payload)
{
	struct seed s = { .n = 0 };

	put8(&s, F_ROUND_TRIP | flags);
	put8(&s, k - 1);
	put8(&s, m - 1);
	put8(&s, k_used - 1);
	put8(&s, nerase);
	for (unsigned e = 0; e < M_MAX + 1; e++)
		put8(&s, pick[e]);
	put8(&s, order_seed);
	for (unsigned i = 0; i < k_used; i++)
		put16(&s, len[i]);
	for (size_t j = 0; j < payload; j++)
		put8(&s, (unsigned)(j * 37 + 11) & 0xff);
	return write_seed(name, &s);
}

/* A hostile seed holding a real block of k_used packets of the given
 * lengths, with the shards in present. */
static int hostile_block(const char *name, unsigned flags, unsigned k, unsigned m,
			 unsigned k_used, uint64_t present, const uint16_t *len)
{
	static uint8_t pkt[K_MAX][BRAID_FEC_PAYLOAD_MAX];
	static uint8_t par[M_MAX][BRAID_FEC_SHARD_MAX];
	const uint8_t *data[K_MAX];
	uint8_t *parity[M_MAX];
	struct seed s = { .n = 0 };
	struct braid_fec *f = braid_fec_new(k, m);
	size_t shard_len;
	int ret;

	if (f == NULL)
		return -1;
	for (unsigned i = 0; i < k_used; i++) {
		for (unsigned j = 0; j < len[i]; j++)
			pkt[i][j] = (uint8_t)(i * 29 + j * 3 + 5);
		data[i] = pkt[i];
	}
	for (unsigned r = 0; r < m; r++)
		parity[r] = par[r];
	ret = braid_fec_encode(f, k_used, data, len, parity, &shard_len);
	braid_fec_free(f);
	if (ret < 0)
		return -1;

	put8(&s, flags);
	put8(&s, k - 1);
	put8(&s, m - 1);
	put8(&s, k_used);
	put64le(&s, present);
	put16(&s, (unsigned)shard_len);
	for (unsigned i = 0; i < k; i++)
		put16(&s, i < k_used ? len[i] : 0);
	for (unsigned i = 0; i < k_used; i++) {
		if (present & (1ull << i))
			put_bytes(&s, pkt[i], len[i]);
	}
	for (unsigned r = 0; r < m; r++) {
		if (present & (1ull << (k + r)))
			put_bytes(&s, par[r], shard_len);
	}
	return write_seed(name, &s);
}

/* A hostile seed from raw header values and arbitrary shard bytes. */
static int hostile_raw(const char *name, unsigned flags, unsigned k, unsigned m,
		       unsigned k_used, uint64_t present, unsigned shard_len,
		       const uint16_t *len, size_t nbytes)
{
	struct seed s = { .n = 0 };

	put8(&s, flags);
	put8(&s, k - 1);
	put8(&s, m - 1);
	put8(&s, k_used);
	put64le(&s, present);
	put16(&s, shard_len);
	for (unsigned i = 0; i < k; i++)
		put16(&s, len[i]);
	for (size_t j = 0; j < nbytes; j++)
		put8(&s, (unsigned)(j * 61 + 7) & 0xff);
	return write_seed(name, &s);
}

int main(int argc, char **argv)
{
	static const uint8_t pick0[M_MAX + 1] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t pick1[M_MAX + 1] = { 3, 250, 17, 9, 100, 42, 7, 1, 200 };
	uint16_t len[K_MAX];
	int bad = 0;

	outdir = argc > 1 ? argv[1] : "test/fuzz/corpus/fec";

	/* --- round trips ---------------------------------------------------- */
	{
		const uint16_t l[4] = { 20, 61, 0, 33 };

		bad |= round_trip("rt-4-2-two-data", 0, 4, 2, 4, 2, pick0, 0, l, 40);
		bad |= round_trip("rt-4-2-over", FR_OVER, 4, 2, 4, 0, pick1, 0, l, 0);
	}
	{
		const uint16_t l[5] = { 100, 3, 250, 1, 77 };

		/* Partial block: 5 of 8, one data and two parity erased. */
		bad |= round_trip("rt-8-4-partial", FR_IGNORED, 8, 4, 5, 3, pick1, 0, l, 16);
	}
	for (unsigned i = 0; i < K_MAX; i++)
		len[i] = (uint16_t)(i % 7 * 3);
	bad |= round_trip("rt-32-8-eight", FR_NULL_EMPTY | FR_NULL_ABSENT, 32, 8, 32, 8,
			  pick1, 0, len, 0);
	{
		const uint16_t l[1] = { 9 };

		bad |= round_trip("rt-1-1", 0, 1, 1, 1, 1, pick0, 0, l, 9);
	}
	for (unsigned i = 0; i < 16; i++)
		len[i] = (uint16_t)(10 + i * 13);
	bad |= round_trip("rt-16-3-encode-add", FR_ENCODE_ADD, 16, 3, 16, 3, pick1, 0x77,
			  len, 0);
	{
		const uint16_t l[3] = { BRAID_FEC_PAYLOAD_MAX, 0, 1 };

		bad |= round_trip("rt-6-2-max-len", FR_ENCODE_ADD | FR_IGNORED, 6, 2, 3, 2,
				  pick0, 3, l, 0);
	}
	{
		const uint16_t l[2] = { 0, 0 };

		bad |= round_trip("rt-2-1-empty", FR_NULL_EMPTY, 2, 1, 2, 1, pick0, 0, l, 0);
	}

	/* --- hostile, from real blocks --------------------------------------- */
	{
		const uint16_t l[4] = { 20, 61, 0, 33 };

		/* Data 2 lost, parity 0 there: decodes. */
		bad |= hostile_block("h-4-2-real", 0, 4, 2, 4, 0x0b | 1ull << 4, l);
		/* Only three shards of four needed. */
		bad |= hostile_block("h-4-2-too-few", 0, 4, 2, 4, 0x03 | 1ull << 5, l);
	}
	{
		const uint16_t l[3] = { 40, 12, 25 };

		/* Partial block (3 of 8), ignored bits for 3..7 set, data 0
		 * and 2 lost, parity 1 and 2 there; absent shards NULL. */
		bad |= hostile_block("h-8-3-partial", FH_NULL_ABSENT, 8, 3, 3,
				     0xfa | 1ull << 9 | 1ull << 10, l);
	}
	for (unsigned i = 0; i < K_MAX; i++)
		len[i] = (uint16_t)(i % 5);
	/* Every parity shard and 24 data packets of 32. */
	bad |= hostile_block("h-32-8-real", 0, 32, 8, 32,
			     0x00ffffffull | 0xffull << 32, len);
	{
		const uint16_t l[4] = { 20, 61, 0, 33 };

		/* out == NULL with a packet missing: -EINVAL. */
		bad |= hostile_block("h-4-2-out-null", FH_OUT_NULL | FH_NULL_EMPTY, 4, 2, 4,
				     0x0e | 1ull << 4, l);
		/* out[missing] == NULL: -EINVAL. */
		bad |= hostile_block("h-4-2-miss-null", FH_MISS_NULL, 4, 2, 4,
				     0x0d | 1ull << 5, l);
	}

	/* --- hostile, broken metadata --------------------------------------- */
	{
		/* shard_len 12 (10 bytes of packet), one packet claims 11 and
		 * one 12 (the mod shard_len + 1 mapping), one is zero. */
		const uint16_t l[4] = { 11, 12, 0, 10 };

		bad |= hostile_raw("h-len-over", 0, 4, 2, 4, 0x0f | 1ull << 4, 12, l, 80);
	}
	{
		/* A packet of 0x7fff bytes against a shard of 34. */
		const uint16_t l[2] = { 0xffff, 5 };

		bad |= hostile_raw("h-len-huge", 0, 2, 1, 2, 0x3, 34, l, 64);
	}
	{
		const uint16_t l[8] = { 3, 3, 3, 3, 3, 3, 3, 3 };

		/* Bits above K + M (raw mask). */
		bad |= hostile_raw("h-mask-high", FH_RAW_MASK, 8, 2, 8,
				   0xffull | 1ull << 40, 5, l, 40);
		/* k_used K + 1 (0 is one mutation away). */
		bad |= hostile_raw("h-kused-over", 0, 8, 2, 9, 0x3ff, 5, l, 40);
		/* shard_len one past BRAID_FEC_SHARD_MAX (raw). */
		bad |= hostile_raw("h-shardlen-max1", FH_RAW, 8, 2, 8, 0x2fd,
				   BRAID_FEC_SHARD_MAX + 1, l, 40);
	}
	{
		/* Arbitrary parity bytes: rebuilt lengths will not fit. */
		const uint16_t l[3] = { 7, 0, 30 };

		bad |= hostile_raw("h-noise", FH_NULL_EMPTY, 3, 2, 3, 0x06 | 1ull << 3 | 1ull << 4,
				   40, l, 200);
	}

	return bad ? EXIT_FAILURE : EXIT_SUCCESS;
}
