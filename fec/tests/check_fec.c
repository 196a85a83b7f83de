/* Check suite for the Reed-Solomon codec (fec/rs.c).
 *
 * The codec (ISA-L's SIMD code plus our scalar prefix column) is checked
 * against a slow reference written here from the definitions alone: GF(2^8)
 * by shift and add with the polynomial 0x11d, the Cauchy generator as ISA-L's
 * gf_gen_cauchy1_matrix defines it (identity on top, then 1 / (i ^ j) for
 * rows i = k .. k+m-1, columns j = 0 .. k-1), and Gauss-Jordan elimination.
 * The reference builds the padded, prefixed shards the codec never builds,
 * and decodes from the *last* K shards present where the codec takes the
 * first K, so the two never share a submatrix by accident.
 *
 * Which erasure patterns (E = erased shards among the k_used + M that are
 * sent; a pattern with more than M is checked to fail with -ENODATA):
 *   (4,2), (8,2), (8,4): every pattern of up to M + 1 erasures, packets up
 *     to BRAID_FEC_PAYLOAD_MAX bytes;
 *   (16,4): every pattern of up to 5 erasures (6196 decodable), packets up
 *     to 300 bytes so the reference stays within a second;
 *   (32,8): every pattern of up to 8 among 40 is 1.2e8, far too many, so
 *     the structured worst cases (every burst of 8, the first and last 8
 *     data, every single and every pair of data losses, strided losses)
 *     plus 2000 fixed-seed random patterns of 1 to 9 erasures;
 *   partial blocks: (4,2) and (8,4) every k_used < K with every pattern,
 *     (32,8) k_used of 1 (every pattern) and 2, 17, 31 (sampled).
 *
 * Packets are copied into heap buffers of exactly their length, and the
 * rebuilt ones go to buffers of exactly shard_len - 2 bytes, so under ASan a
 * codec that touches one byte too many fails loudly. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <isa-l/erasure_code.h>

#include "braid/fec.h"
#include "braid/rng.h"

#define K_MAX   BRAID_FEC_K_MAX
#define M_MAX   BRAID_FEC_M_MAX
#define N_MAX   (K_MAX + M_MAX)
#define PRE     BRAID_FEC_PREFIX_LEN
#define PAY_MAX BRAID_FEC_PAYLOAD_MAX
#define SHARD_MAX BRAID_FEC_SHARD_MAX

/* --- reference GF(2^8) ---------------------------------------------------- */

static uint8_t gf_mul_tab[256][256];
static uint8_t gf_inv_tab[256];

static uint8_t ref_mul_slow(uint8_t a, uint8_t b)
{
	uint8_t p = 0;

	while (b) {
		if (b & 1)
			p ^= a;
		b >>= 1;
		a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1d : 0));
	}
	return p;
}

/* Tables from the slow multiply, so the reference is quick enough to run
 * on every pattern; the inverse by search. Run once, before the fork. */
static void ref_init(void)
{
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			gf_mul_tab[a][b] = ref_mul_slow((uint8_t)a, (uint8_t)b);
	for (unsigned a = 1; a < 256; a++)
		for (unsigned b = 1; b < 256; b++)
			if (gf_mul_tab[a][b] == 1)
				gf_inv_tab[a] = (uint8_t)b;
}

#define MUL(a, b) gf_mul_tab[(a)][(b)]

/* (k + m) x k: identity, then 1 / (i ^ j). */
static void ref_gen(unsigned k, unsigned m, uint8_t g[N_MAX][K_MAX])
{
	memset(g, 0, sizeof(uint8_t[N_MAX][K_MAX]));
	for (unsigned i = 0; i < k; i++)
		g[i][i] = 1;
	for (unsigned i = k; i < k + m; i++)
		for (unsigned j = 0; j < k; j++)
			g[i][j] = gf_inv_tab[i ^ j];
}

/* Gauss-Jordan on n x n a (destroyed) into inv; false if singular. */
static bool ref_invert(unsigned n, uint8_t a[K_MAX][K_MAX], uint8_t inv[K_MAX][K_MAX])
{
	memset(inv, 0, sizeof(uint8_t[K_MAX][K_MAX]));
	for (unsigned i = 0; i < n; i++)
		inv[i][i] = 1;
	for (unsigned c = 0; c < n; c++) {
		unsigned p = c;
		uint8_t s;

		while (p < n && a[p][c] == 0)
			p++;
		if (p == n)
			return false;
		for (unsigned j = 0; j < n; j++) {
			uint8_t t = a[c][j];

			a[c][j] = a[p][j];
			a[p][j] = t;
			t = inv[c][j];
			inv[c][j] = inv[p][j];
			inv[p][j] = t;
		}
		s = gf_inv_tab[a[c][c]];
		for (unsigned j = 0; j < n; j++) {
			a[c][j] = MUL(a[c][j], s);
			inv[c][j] = MUL(inv[c][j], s);
		}
		for (unsigned r = 0; r < n; r++) {
			uint8_t f = a[r][c];

			if (r == c || f == 0)
				continue;
			for (unsigned j = 0; j < n; j++) {
				a[r][j] ^= MUL(f, a[c][j]);
				inv[r][j] ^= MUL(f, inv[c][j]);
			}
		}
	}
	return true;
}

/* --- a block of packets, encoded by both ---------------------------------- */

struct block {
	unsigned k, m, k_used;
	size_t shard_len;
	uint16_t len[K_MAX];
	uint8_t *data[K_MAX];		/* exactly len[i] bytes; NULL when 0 */
	uint8_t *parity[M_MAX];		/* the codec's, exactly shard_len bytes */
	uint8_t *out[K_MAX];		/* exactly shard_len - 2 bytes */
	uint8_t g[N_MAX][K_MAX];
	uint8_t shard[N_MAX][SHARD_MAX];	/* the reference's shards */
};

static struct block blk;
static struct rng rng;

static unsigned rnd(unsigned n)
{
	return (unsigned)(rng_next(&rng) % n);
}

static uint8_t *exact_alloc(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* The reference encoder: prefixed, padded data shards (zeros from k_used
 * on), parity as plain dot products over them. */
static void ref_encode(struct block *b)
{
	size_t max = 0;

	for (unsigned i = 0; i < b->k_used; i++)
		if (b->len[i] > max)
			max = b->len[i];
	b->shard_len = PRE + max;
	memset(b->shard, 0, sizeof(b->shard));
	for (unsigned i = 0; i < b->k_used; i++) {
		b->shard[i][0] = (uint8_t)(b->len[i] >> 8);
		b->shard[i][1] = (uint8_t)b->len[i];
		if (b->len[i])
			memcpy(&b->shard[i][PRE], b->data[i], b->len[i]);
	}
	for (unsigned r = 0; r < b->m; r++) {
		uint8_t *p = b->shard[b->k + r];

		for (unsigned j = 0; j < b->k; j++) {
			uint8_t c = b->g[b->k + r][j];

			for (size_t x = 0; x < b->shard_len; x++)
				p[x] ^= MUL(c, b->shard[j][x]);
		}
	}
}

static void block_free(struct block *b)
{
	for (unsigned i = 0; i < K_MAX; i++) {
		free(b->data[i]);
		free(b->out[i]);
		b->data[i] = b->out[i] = NULL;
	}
	for (unsigned r = 0; r < M_MAX; r++) {
		free(b->parity[r]);
		b->parity[r] = NULL;
	}
}

/* Fills the block with lengths from len_of (or random up to maxlen, with a
 * 0 and a maxlen among them) and random bytes, encodes it with the codec
 * into garbage-filled buffers and with the reference, and checks that the
 * parity agrees byte for byte. */
static void block_make(struct block *b, struct braid_fec *f, unsigned k, unsigned m,
		       unsigned k_used, size_t maxlen, const uint16_t *len_of)
{
	static uint8_t par[M_MAX][SHARD_MAX];
	uint8_t *pp[M_MAX];
	size_t shard_len = 0;
	int rc;

	block_free(b);
	b->k = k;
	b->m = m;
	b->k_used = k_used;
	ref_gen(k, m, b->g);
	for (unsigned i = 0; i < k_used; i++) {
		if (len_of)
			b->len[i] = len_of[i];
		else
			b->len[i] = (uint16_t)(rng_next(&rng) % (maxlen + 1));
	}
	if (!len_of) {
		b->len[rnd(k_used)] = 0;
		b->len[rnd(k_used)] = (uint16_t)maxlen;
	}
	for (unsigned i = 0; i < k_used; i++) {
		if (b->len[i] == 0)
			continue;
		b->data[i] = exact_alloc(b->len[i]);
		for (unsigned x = 0; x < b->len[i]; x++)
			b->data[i][x] = (uint8_t)rng_next(&rng);
	}
	ref_encode(b);

	for (unsigned r = 0; r < m; r++) {
		memset(par[r], 0xa5, SHARD_MAX);
		pp[r] = par[r];
	}
	rc = braid_fec_encode(f, k_used, (const uint8_t *const *)b->data, b->len, pp, &shard_len);
	if (rc != 0 || shard_len != b->shard_len)
		ck_abort_msg("(%u,%u) k_used %u: encode %d, shard_len %zu, want %zu",
			     k, m, k_used, rc, shard_len, b->shard_len);
	for (unsigned r = 0; r < m; r++) {
		if (memcmp(par[r], b->shard[k + r], shard_len) != 0)
			ck_abort_msg("(%u,%u) k_used %u: parity %u differs from the reference",
				     k, m, k_used, r);
		b->parity[r] = exact_alloc(shard_len);
		memcpy(b->parity[r], par[r], shard_len);
	}
	for (unsigned i = 0; i < k_used; i++)
		b->out[i] = exact_alloc(shard_len - PRE);
}

/* The reference decoder, from the last k shards present (eff counts the
 * known zeros): checks that every erased packet comes back as it was. */
static void ref_decode(const struct block *b, uint64_t eff)
{
	static uint8_t a[K_MAX][K_MAX], inv[K_MAX][K_MAX], sh[SHARD_MAX];
	unsigned surv[K_MAX], n = 0;

	for (int s = (int)(b->k + b->m) - 1; s >= 0 && n < b->k; s--)
		if (eff & (1ull << s))
			surv[b->k - 1 - n++] = (unsigned)s;
	for (unsigned j = 0; j < b->k; j++)
		memcpy(a[j], b->g[surv[j]], b->k);
	if (!ref_invert(b->k, a, inv))
		ck_abort_msg("(%u,%u): reference submatrix singular", b->k, b->m);
	for (unsigned d = 0; d < b->k_used; d++) {
		size_t l;

		if (eff & (1ull << d))
			continue;
		memset(sh, 0, b->shard_len);
		for (unsigned j = 0; j < b->k; j++) {
			uint8_t c = inv[d][j];

			for (size_t x = 0; x < b->shard_len; x++)
				sh[x] ^= MUL(c, b->shard[surv[j]][x]);
		}
		l = (size_t)sh[0] << 8 | sh[1];
		if (l != b->len[d] || (l && memcmp(&sh[PRE], b->data[d], l) != 0))
			ck_abort_msg("(%u,%u): reference decode of packet %u wrong", b->k, b->m, d);
	}
}

/* Decodes the block with the shards in erased (bits over K + M) missing and
 * checks the result: the packets rebuilt exactly, nothing else touched, or
 * -ENODATA when too many are gone. Runs the reference too when asked.
 * Returns 1 if the pattern was decodable. */
static unsigned check_pattern(struct braid_fec *f, struct block *b, uint64_t erased, bool ref)
{
	const uint8_t *sh[N_MAX];
	uint16_t out_len[K_MAX];
	uint64_t present = 0, eff;
	unsigned nmiss = 0, navail;
	int rc;

	for (unsigned i = 0; i < b->k_used; i++) {
		sh[i] = b->data[i];
		if (!(erased & (1ull << i)))
			present |= 1ull << i;
		else
			nmiss++;
	}
	for (unsigned i = b->k_used; i < b->k; i++)
		sh[i] = NULL;
	for (unsigned r = 0; r < b->m; r++) {
		sh[b->k + r] = b->parity[r];
		if (!(erased & (1ull << (b->k + r))))
			present |= 1ull << (b->k + r);
	}
	eff = present | (((1ull << b->k) - 1) & ~((1ull << b->k_used) - 1));
	/* The codec must ignore what the caller says of the known zeros. */
	if (erased & 1)
		present |= eff;
	navail = (unsigned)__builtin_popcountll(eff);
	memset(out_len, 0xff, sizeof(out_len));

	rc = braid_fec_decode(f, b->k_used, present, sh, b->len, b->shard_len, b->out, out_len);
	if (navail < b->k) {
		if (rc != -ENODATA)
			ck_abort_msg("(%u,%u) k_used %u erased %#llx: %d with %u shards, want -ENODATA",
				     b->k, b->m, b->k_used, (unsigned long long)erased, rc, navail);
		return 0;
	}
	if (rc != (int)nmiss)
		ck_abort_msg("(%u,%u) k_used %u erased %#llx: decode %d, want %u",
			     b->k, b->m, b->k_used, (unsigned long long)erased, rc, nmiss);
	for (unsigned i = 0; i < b->k; i++) {
		bool miss = i < b->k_used && (erased & (1ull << i));

		if (!miss && out_len[i] != 0xffff)
			ck_abort_msg("erased %#llx: out_len[%u] touched", (unsigned long long)erased, i);
		if (miss && (out_len[i] != b->len[i] ||
			     (b->len[i] && memcmp(b->out[i], b->data[i], b->len[i]) != 0)))
			ck_abort_msg("(%u,%u) k_used %u erased %#llx: packet %u: len %u want %u or bytes differ",
				     b->k, b->m, b->k_used, (unsigned long long)erased, i,
				     out_len[i], b->len[i]);
	}
	if (ref)
		ref_decode(b, eff);
	return 1;
}

/* The shards a block sends: data 0 .. k_used-1 and parity K .. K+M-1. */
static unsigned sent_positions(const struct block *b, unsigned pos[N_MAX])
{
	unsigned n = 0;

	for (unsigned i = 0; i < b->k_used; i++)
		pos[n++] = i;
	for (unsigned r = 0; r < b->m; r++)
		pos[n++] = b->k + r;
	return n;
}

/* Every pattern of up to max_erased erasures among the shards sent.
 * Returns the number of decodable patterns checked. */
static unsigned sweep_all(struct braid_fec *f, struct block *b, unsigned max_erased, bool ref)
{
	unsigned pos[N_MAX], n = sent_positions(b, pos), done = 0;

	ck_assert_uint_le(n, 24);
	for (uint32_t x = 0; x < (1u << n); x++) {
		uint64_t erased = 0;

		if ((unsigned)__builtin_popcount(x) > max_erased)
			continue;
		for (unsigned i = 0; i < n; i++)
			if (x & (1u << i))
				erased |= 1ull << pos[i];
		done += check_pattern(f, b, erased, ref);
	}
	return done;
}

/* count random patterns of 1 .. max_erased erasures among the shards sent. */
static unsigned sweep_random(struct braid_fec *f, struct block *b, unsigned count,
			     unsigned max_erased, bool ref)
{
	unsigned pos[N_MAX], n = sent_positions(b, pos), done = 0;

	for (unsigned t = 0; t < count; t++) {
		unsigned e = 1 + rnd(max_erased < n ? max_erased : n);
		uint64_t erased = 0;

		while ((unsigned)__builtin_popcountll(erased) < e)
			erased |= 1ull << pos[rnd(n)];
		done += check_pattern(f, b, erased, ref);
	}
	return done;
}

static struct braid_fec *new_ok(unsigned k, unsigned m)
{
	struct braid_fec *f = braid_fec_new(k, m);

	ck_assert_ptr_nonnull(f);
	return f;
}

/* --- the reference itself ------------------------------------------------- */

/* The reference must be the field and the matrix ISA-L uses, or agreeing
 * with it would prove nothing. */
START_TEST(test_reference_matches_isal_definitions)
{
	static uint8_t g[N_MAX][K_MAX], a[N_MAX * K_MAX];

	for (unsigned x = 0; x < 256; x++) {
		for (unsigned y = 0; y < 256; y++)
			if (gf_mul_tab[x][y] != gf_mul((uint8_t)x, (uint8_t)y))
				ck_abort_msg("mul %u %u", x, y);
		if (x && gf_inv_tab[x] != gf_inv((uint8_t)x))
			ck_abort_msg("inv %u", x);
	}
	for (unsigned k = 1; k <= K_MAX; k++) {
		for (unsigned m = 1; m <= M_MAX; m++) {
			ref_gen(k, m, g);
			gf_gen_cauchy1_matrix(a, (int)(k + m), (int)k);
			for (unsigned i = 0; i < k + m; i++)
				for (unsigned j = 0; j < k; j++)
					if (a[i * k + j] != g[i][j])
						ck_abort_msg("(%u,%u) generator [%u][%u]", k, m, i, j);
		}
	}
}
END_TEST

/* --- encode ---------------------------------------------------------------- */

START_TEST(test_encode_matches_reference)
{
	static const unsigned km[][2] = {
		{ 1, 1 }, { 4, 2 }, { 8, 2 }, { 8, 4 }, { 16, 4 }, { 32, 8 }, { 5, 3 }, { 32, 1 },
	};

	rng_init(&rng, 0xfec0001);
	for (size_t c = 0; c < sizeof(km) / sizeof(km[0]); c++) {
		struct braid_fec *f = new_ok(km[c][0], km[c][1]);

		for (unsigned t = 0; t < 12; t++) {
			unsigned k_used = t < 6 ? km[c][0] : 1 + rnd(km[c][0]);
			/* Short and full-size packets: ISA-L takes scalar,
			 * SIMD and SIMD-plus-tail paths by length. */
			size_t maxlen = t % 3 == 0 ? PAY_MAX : t % 3 == 1 ? 70 : 1 + rnd(PAY_MAX);

			block_make(&blk, f, km[c][0], km[c][1], k_used, maxlen, NULL);
		}
		braid_fec_free(f);
	}
	block_free(&blk);
}
END_TEST

/* Packets added one at a time, in any order, into buffers full of garbage,
 * give the parity of the one-shot encode. */
START_TEST(test_encode_incremental)
{
	const unsigned k = 16, m = 4;
	struct braid_fec *f = new_ok(k, m);
	static uint8_t par[M_MAX][SHARD_MAX];
	uint8_t *pp[M_MAX];
	unsigned order[K_MAX];

	rng_init(&rng, 0xfec0002);
	for (unsigned t = 0; t < 20; t++) {
		unsigned k_used = t < 10 ? k : 1 + rnd(k);
		struct braid_fec_tx tx = { 0 };

		block_make(&blk, f, k, m, k_used, t & 1 ? PAY_MAX : 200, NULL);
		for (unsigned r = 0; r < m; r++) {
			memset(par[r], (int)(0x11 * (r + t)), SHARD_MAX);
			pp[r] = par[r];
		}
		for (unsigned i = 0; i < k_used; i++)
			order[i] = i;
		for (unsigned i = k_used; i > 1; i--) {
			unsigned j = rnd(i), x = order[i - 1];

			order[i - 1] = order[j];
			order[j] = x;
		}
		for (unsigned i = 0; i < k_used; i++)
			ck_assert_int_eq(braid_fec_encode_add(f, &tx, order[i], blk.data[order[i]],
							      blk.len[order[i]], pp), 0);
		ck_assert_uint_eq(tx.shard_len, blk.shard_len);
		ck_assert_uint_eq(tx.added, k_used == 32 ? ~0u : (1u << k_used) - 1);
		for (unsigned r = 0; r < m; r++)
			ck_assert(memcmp(par[r], blk.parity[r], blk.shard_len) == 0);

		/* A packet already in the block is refused and changes
		 * nothing. */
		{
			struct braid_fec_tx before = tx;
			unsigned i = rnd(k_used);

			ck_assert_int_eq(braid_fec_encode_add(f, &tx, i, blk.data[i], blk.len[i], pp),
					 -EEXIST);
			ck_assert(memcmp(&before, &tx, sizeof(tx)) == 0);
			for (unsigned r = 0; r < m; r++)
				ck_assert(memcmp(par[r], blk.parity[r], blk.shard_len) == 0);
		}
	}
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

/* --- decode over erasure patterns ------------------------------------------ */

START_TEST(test_erasures_all_small)
{
	static const unsigned km[][2] = { { 4, 2 }, { 8, 2 }, { 8, 4 } };

	rng_init(&rng, 0xfec0003);
	for (size_t c = 0; c < 3; c++) {
		unsigned k = km[c][0], m = km[c][1];
		struct braid_fec *f = new_ok(k, m);
		unsigned n;

		block_make(&blk, f, k, m, k, PAY_MAX, NULL);
		n = sweep_all(f, &blk, m + 1, true);
		fprintf(stderr, "(%u,%u): %u decodable patterns\n", k, m, n);
		braid_fec_free(f);
	}
	block_free(&blk);
}
END_TEST

START_TEST(test_erasures_all_16_4)
{
	struct braid_fec *f = new_ok(16, 4);
	unsigned n;

	rng_init(&rng, 0xfec0004);
	block_make(&blk, f, 16, 4, 16, 300, NULL);
	n = sweep_all(f, &blk, 5, true);
	ck_assert_uint_eq(n, 1 + 20 + 190 + 1140 + 4845);
	fprintf(stderr, "(16,4): %u decodable patterns\n", n);
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

START_TEST(test_erasures_32_8)
{
	const unsigned k = 32, m = 8;
	struct braid_fec *f = new_ok(k, m);
	unsigned n = 0;

	rng_init(&rng, 0xfec0005);
	block_make(&blk, f, k, m, k, 300, NULL);

	/* Bursts of 8 at every offset, from all-data to all-parity. */
	for (unsigned s = 0; s + 8 <= k + m; s++)
		n += check_pattern(f, &blk, 0xffull << s, true);
	/* Every single and every pair of data losses. */
	for (unsigned i = 0; i < k; i++) {
		n += check_pattern(f, &blk, 1ull << i, true);
		for (unsigned j = i + 1; j < k; j++)
			n += check_pattern(f, &blk, 1ull << i | 1ull << j, i + j == k);
	}
	/* Strided: every fourth packet, at each phase. */
	for (unsigned p = 0; p < 4; p++) {
		uint64_t e = 0;

		for (unsigned i = p; i < k; i += 4)
			e |= 1ull << i;
		n += check_pattern(f, &blk, e, true);
	}
	/* Eight data lost with one parity too: one too many. */
	ck_assert_uint_eq(check_pattern(f, &blk, 0xffull | 1ull << k, false), 0);
	n += sweep_random(f, &blk, 2000, m + 1, true);
	fprintf(stderr, "(32,8): %u decodable patterns\n", n);

	/* Full-size packets, worst case and a sample. */
	block_make(&blk, f, k, m, k, PAY_MAX, NULL);
	n = check_pattern(f, &blk, 0xffull, true);
	n += check_pattern(f, &blk, 0xffull << 24, true);
	n += sweep_random(f, &blk, 100, m, true);
	ck_assert_uint_eq(n, 102);
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

/* Blocks closed early by their timer: data past k_used are known zeros. */
START_TEST(test_partial_blocks)
{
	static const unsigned km[][2] = { { 4, 2 }, { 8, 4 } };
	static const unsigned big_used[] = { 2, 17, 31 };
	struct braid_fec *f;

	rng_init(&rng, 0xfec0006);
	for (size_t c = 0; c < 2; c++) {
		unsigned k = km[c][0], m = km[c][1];

		f = new_ok(k, m);
		for (unsigned k_used = 1; k_used < k; k_used++) {
			block_make(&blk, f, k, m, k_used, k_used & 1 ? PAY_MAX : 100, NULL);
			sweep_all(f, &blk, m + 1, true);
		}
		braid_fec_free(f);
	}

	f = new_ok(32, 8);
	block_make(&blk, f, 32, 8, 1, PAY_MAX, NULL);
	ck_assert_uint_eq(sweep_all(f, &blk, 9, true), 511);
	for (size_t u = 0; u < 3; u++) {
		block_make(&blk, f, 32, 8, big_used[u], 300, NULL);
		sweep_random(f, &blk, 300, 9, true);
		/* All the parity standing in for lost data. */
		ck_assert_uint_eq(check_pattern(f, &blk, (1ull << (big_used[u] < 8 ? big_used[u] : 8)) - 1,
						true), 1);
	}
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

/* Lengths at the edges: all empty (shards of the prefix alone), all full,
 * one full among empties, one byte. */
START_TEST(test_lengths_edges)
{
	static uint16_t lens[4][8];
	struct braid_fec *f = new_ok(8, 2);

	for (unsigned i = 0; i < 8; i++) {
		lens[0][i] = 0;
		lens[1][i] = PAY_MAX;
		lens[2][i] = i == 5 ? PAY_MAX : 0;
		lens[3][i] = i == 2 ? 1 : 0;
	}
	rng_init(&rng, 0xfec0007);
	for (unsigned t = 0; t < 4; t++) {
		block_make(&blk, f, 8, 2, 8, 0, lens[t]);
		ck_assert_uint_eq(blk.shard_len, PRE + lens[t][t == 2 ? 5 : 2]);
		ck_assert_uint_eq(sweep_all(f, &blk, 2, true), 56);
	}
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

/* Nothing missing: nothing to do, and the cache is not touched. */
START_TEST(test_decode_nothing_missing)
{
	struct braid_fec *f = new_ok(8, 4);
	struct braid_fec_stats st;

	rng_init(&rng, 0xfec0008);
	block_make(&blk, f, 8, 4, 8, 500, NULL);
	/* Every parity pattern with all data present. */
	for (unsigned e = 0; e < 16; e++)
		ck_assert_uint_eq(check_pattern(f, &blk, (uint64_t)e << 8, false), 1);
	braid_fec_get_stats(f, &st);
	ck_assert_uint_eq(st.decodes, 0);
	ck_assert_uint_eq(st.cache_hits + st.cache_misses, 0);
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

/* --- the decode cache ------------------------------------------------------ */

START_TEST(test_decode_cache)
{
	const unsigned k = 8, m = 2;
	struct braid_fec *f = new_ok(k, m);
	struct braid_fec_stats st;
	uint64_t pat[64];
	unsigned np = 0;

	rng_init(&rng, 0xfec0009);
	block_make(&blk, f, k, m, k, 400, NULL);

	check_pattern(f, &blk, 1ull << 3, false);
	braid_fec_get_stats(f, &st);
	ck_assert_uint_eq(st.cache_misses, 1);
	ck_assert_uint_eq(st.cache_hits, 0);
	/* The same loss again: a hit. So is the same loss with the spare
	 * parity gone, since the codec decodes from the same K shards. */
	check_pattern(f, &blk, 1ull << 3, false);
	check_pattern(f, &blk, 1ull << 3 | 1ull << (k + 1), false);
	braid_fec_get_stats(f, &st);
	ck_assert_uint_eq(st.cache_misses, 1);
	ck_assert_uint_eq(st.cache_hits, 2);
	ck_assert_uint_eq(st.decodes, 3);
	ck_assert_uint_eq(st.recovered, 3);

	/* Every pattern of two erasures that loses data: 44 different sets
	 * of K shards, more than the cache holds. */
	for (unsigned a = 0; a < k + m; a++)
		for (unsigned b = a + 1; b < k + m; b++)
			if (a < k)
				pat[np++] = 1ull << a | 1ull << b;
	ck_assert_uint_eq(np, 44);
	ck_assert_uint_gt(np, BRAID_FEC_CACHE_SLOTS);

	braid_fec_free(f);
	f = new_ok(k, m);
	/* Fill the cache, touch the first, add one more: the second, least
	 * recently used, goes. */
	for (unsigned i = 0; i < BRAID_FEC_CACHE_SLOTS; i++)
		check_pattern(f, &blk, pat[i], false);
	check_pattern(f, &blk, pat[0], false);
	check_pattern(f, &blk, pat[BRAID_FEC_CACHE_SLOTS], false);
	braid_fec_get_stats(f, &st);
	ck_assert_uint_eq(st.cache_misses, BRAID_FEC_CACHE_SLOTS + 1);
	ck_assert_uint_eq(st.cache_hits, 1);
	check_pattern(f, &blk, pat[0], false);
	check_pattern(f, &blk, pat[2], false);
	braid_fec_get_stats(f, &st);
	ck_assert_uint_eq(st.cache_hits, 3);
	check_pattern(f, &blk, pat[1], false);
	braid_fec_get_stats(f, &st);
	ck_assert_uint_eq(st.cache_misses, BRAID_FEC_CACHE_SLOTS + 2);

	/* Cycling through more patterns than slots keeps decoding right
	 * while slots are rebuilt under it. */
	for (unsigned t = 0; t < 3; t++)
		for (unsigned i = 0; i < np; i++)
			ck_assert_uint_eq(check_pattern(f, &blk, pat[(i * 7 + t) % np], false), 1);
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

/* --- negative cases -------------------------------------------------------- */

START_TEST(test_new_bad_args)
{
	static const unsigned bad[][2] = {
		{ 0, 1 }, { 1, 0 }, { 0, 0 }, { K_MAX + 1, 1 }, { 1, M_MAX + 1 },
		{ UINT32_MAX, 2 }, { 4, UINT32_MAX },
	};
	struct braid_fec *f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_ptr_null(braid_fec_new(bad[i][0], bad[i][1]));
		ck_assert_int_eq(errno, EINVAL);
	}
	f = new_ok(K_MAX, M_MAX);
	braid_fec_free(f);
	f = new_ok(1, 1);
	braid_fec_free(f);
	braid_fec_free(NULL);
	braid_fec_get_stats(NULL, NULL);
}
END_TEST

START_TEST(test_encode_bad_args)
{
	const unsigned k = 4, m = 2;
	struct braid_fec *f = new_ok(k, m);
	static uint8_t par[M_MAX][SHARD_MAX], buf[K_MAX][PAY_MAX + 1];
	uint8_t *pp[M_MAX] = { par[0], par[1] }, *pnull[M_MAX] = { par[0], NULL };
	const uint8_t *d[K_MAX] = { buf[0], buf[1], buf[2], buf[3] };
	const uint8_t *dnull[K_MAX] = { buf[0], NULL, buf[2], buf[3] };
	uint16_t len[K_MAX] = { 10, 20, 30, 40 };
	uint16_t len_big[K_MAX] = { 10, PAY_MAX + 1, 30, 40 };
	uint16_t len_zero[K_MAX] = { 10, 0, 30, 40 };
	size_t sl = 12345;
	struct braid_fec_tx tx = { 0 };

	memset(par, 0x5a, sizeof(par));
	ck_assert_int_eq(braid_fec_encode(NULL, k, d, len, pp, &sl), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, 0, d, len, pp, &sl), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, k + 1, d, len, pp, &sl), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, UINT32_MAX, d, len, pp, &sl), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, k, NULL, len, pp, &sl), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, k, d, NULL, pp, &sl), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, k, d, len, NULL, &sl), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, k, d, len, pnull, &sl), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, k, d, len, pp, NULL), -EINVAL);
	ck_assert_int_eq(braid_fec_encode(f, k, d, len_big, pp, &sl), -EMSGSIZE);
	ck_assert_int_eq(braid_fec_encode(f, k, dnull, len, pp, &sl), -EINVAL);
	/* A refused block wrote nothing, even after packets that were fine. */
	ck_assert_uint_eq(sl, 12345);
	for (size_t x = 0; x < sizeof(par); x++)
		if (((uint8_t *)par)[x] != 0x5a)
			ck_abort_msg("parity byte %zu written by a refused encode", x);
	/* NULL is a fine pointer to no bytes; a refused packet past k_used
	 * is not looked at. */
	ck_assert_int_eq(braid_fec_encode(f, k, dnull, len_zero, pp, &sl), 0);
	ck_assert_int_eq(braid_fec_encode(f, 1, d, len_big, pp, &sl), 0);
	ck_assert_uint_eq(sl, PRE + 10);

	/* Incremental. */
	ck_assert_int_eq(braid_fec_encode_add(NULL, &tx, 0, buf[0], 10, pp), -EINVAL);
	ck_assert_int_eq(braid_fec_encode_add(f, NULL, 0, buf[0], 10, pp), -EINVAL);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, 0, buf[0], 10, NULL), -EINVAL);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, 0, buf[0], 10, pnull), -EINVAL);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, k, buf[0], 10, pp), -EINVAL);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, UINT32_MAX, buf[0], 10, pp), -EINVAL);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, 0, NULL, 10, pp), -EINVAL);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, 0, buf[0], PAY_MAX + 1, pp), -EMSGSIZE);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, 0, buf[0], SIZE_MAX, pp), -EMSGSIZE);
	ck_assert_uint_eq(tx.added, 0);
	ck_assert_uint_eq(tx.shard_len, 0);
	/* Block states that cannot have come from the codec. */
	{
		static const struct braid_fec_tx bad_tx[] = {
			{ .added = 0, .shard_len = 5 },
			{ .added = 1, .shard_len = 0 },
			{ .added = 1, .shard_len = 1 },
			{ .added = 1, .shard_len = SHARD_MAX + 1 },
			{ .added = 1, .shard_len = SIZE_MAX },
			{ .added = 1u << 4, .shard_len = 10 },
			{ .added = 1u << 31, .shard_len = 10 },
		};

		for (size_t i = 0; i < sizeof(bad_tx) / sizeof(bad_tx[0]); i++) {
			tx = bad_tx[i];
			ck_assert_int_eq(braid_fec_encode_add(f, &tx, 1, buf[0], 10, pp), -EINVAL);
			ck_assert(memcmp(&tx, &bad_tx[i], sizeof(tx)) == 0);
		}
	}
	tx = (struct braid_fec_tx){ 0 };
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, 0, NULL, 0, pp), 0);
	ck_assert_uint_eq(tx.shard_len, PRE);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, 0, NULL, 0, pp), -EEXIST);
	ck_assert_int_eq(braid_fec_encode_add(f, &tx, 3, buf[3], PAY_MAX, pp), 0);
	ck_assert_uint_eq(tx.shard_len, SHARD_MAX);
	braid_fec_free(f);
}
END_TEST

START_TEST(test_decode_bad_args)
{
	const unsigned k = 4, m = 2;
	struct braid_fec *f = new_ok(k, m);
	const uint8_t *sh[N_MAX];
	const uint8_t *sh_null_data[N_MAX], *sh_null_par[N_MAX];
	uint8_t *out[K_MAX], *out_null[K_MAX];
	uint16_t out_len[K_MAX], len[K_MAX], len_long[K_MAX];
	uint64_t p;	/* data 1 lost, the rest here */
	size_t sl;
	struct braid_fec_stats st;

	rng_init(&rng, 0xfec000a);
	block_make(&blk, f, k, m, k, 100, NULL);
	for (unsigned i = 0; i < k; i++) {
		blk.len[i] = (uint16_t)(10 + i);	/* and nonzero, for the NULL cases */
		free(blk.data[i]);
		blk.data[i] = exact_alloc(blk.len[i]);
		memset(blk.data[i], (int)i, blk.len[i]);
	}
	ref_encode(&blk);
	sl = blk.shard_len;
	for (unsigned i = 0; i < k; i++) {
		sh[i] = sh_null_data[i] = sh_null_par[i] = blk.data[i];
		out[i] = out_null[i] = blk.out[i];
		len[i] = len_long[i] = blk.len[i];
	}
	for (unsigned r = 0; r < m; r++)
		sh[k + r] = sh_null_data[k + r] = sh_null_par[k + r] = blk.shard[k + r];
	sh_null_data[2] = NULL;
	sh_null_par[k + 1] = NULL;
	out_null[1] = NULL;
	len_long[2] = (uint16_t)(sl - PRE + 1);
	p = 0x3full & ~(1ull << 1);

	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, sl, out, out_len), 1);
	ck_assert_uint_eq(out_len[1], blk.len[1]);
	ck_assert(memcmp(out[1], blk.data[1], blk.len[1]) == 0);

	ck_assert_int_eq(braid_fec_decode(NULL, k, p, sh, len, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, 0, p, sh, len, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k + 1, p, sh, len, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, UINT32_MAX, p, sh, len, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p | 1ull << (k + m), sh, len, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p | 1ull << 63, sh, len, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, NULL, len, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, NULL, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, sl, NULL, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, sl, out, NULL), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, sl, out_null, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh_null_data, len, sl, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh_null_par, len, sl, out, out_len), -EINVAL);
	/* Shard lengths: none, the prefix cut short, too long, absurd, and
	 * too short for a packet that arrived. */
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, 0, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, 1, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, SHARD_MAX + 1, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, SIZE_MAX, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len, PRE + 12, out, out_len), -EINVAL);
	ck_assert_int_eq(braid_fec_decode(f, k, p, sh, len_long, sl, out, out_len), -EINVAL);

	/* What is not needed is not checked: NULLs for shards not present,
	 * out and len for what needs no rebuilding. */
	ck_assert_int_eq(braid_fec_decode(f, k, p & ~(1ull << 2), sh_null_data, len, sl, out, out_len), 2);
	ck_assert_int_eq(braid_fec_decode(f, k, p & ~(1ull << (k + 1)), sh_null_par, len, sl,
					  out, out_len), 1);
	ck_assert_int_eq(braid_fec_decode(f, k, 0x3f, sh, len, sl, NULL, NULL), 0);
	ck_assert_int_eq(braid_fec_decode(f, k, 0x30, sh, NULL, sl, out, out_len), -ENODATA);
	/* A partial block rebuilt from parity alone needs no lengths. */
	{
		static uint8_t par[M_MAX][SHARD_MAX];
		uint8_t *pp[M_MAX] = { par[0], par[1] };
		const uint8_t *shp[N_MAX] = { NULL, NULL, NULL, NULL, par[0], par[1] };
		size_t sl2;

		ck_assert_int_eq(braid_fec_encode(f, 2, (const uint8_t *const *)blk.data, blk.len,
						  pp, &sl2), 0);
		ck_assert_uint_eq(sl2, PRE + blk.len[1]);
		ck_assert_int_eq(braid_fec_decode(f, 2, 0x30, shp, NULL, sl2, out, out_len), 2);
		for (unsigned i = 0; i < 2; i++) {
			ck_assert_uint_eq(out_len[i], blk.len[i]);
			ck_assert(memcmp(out[i], blk.data[i], blk.len[i]) == 0);
		}
	}

	braid_fec_get_stats(f, &st);
	ck_assert_uint_eq(st.decodes, 4);
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

/* Fewer than K shards, counting the known zeros of a partial block. */
START_TEST(test_too_few_shards)
{
	struct braid_fec *f = new_ok(8, 2);
	const uint8_t *sh[N_MAX] = { 0 };
	uint8_t *out[K_MAX];
	uint16_t out_len[K_MAX], len[K_MAX] = { 0 };
	static uint8_t bufs[K_MAX][SHARD_MAX];

	for (unsigned i = 0; i < K_MAX; i++)
		out[i] = bufs[i];
	for (unsigned i = 0; i < N_MAX; i++)
		sh[i] = bufs[0];
	ck_assert_int_eq(braid_fec_decode(f, 8, 0, sh, len, 10, out, out_len), -ENODATA);
	/* 7 data; 6 data and a parity; parity alone. */
	ck_assert_int_eq(braid_fec_decode(f, 8, 0x07f, sh, len, 10, out, out_len), -ENODATA);
	ck_assert_int_eq(braid_fec_decode(f, 8, 0x13f, sh, len, 10, out, out_len), -ENODATA);
	ck_assert_int_eq(braid_fec_decode(f, 8, 0x300, sh, len, 10, out, out_len), -ENODATA);
	/* k_used 5: zeros 5..7 count; 2 data and 2 parity make 7. */
	ck_assert_int_eq(braid_fec_decode(f, 5, 0x303, sh, len, 10, out, out_len), -ENODATA);
	/* ... and the caller claiming the zeros does not help. */
	ck_assert_int_eq(braid_fec_decode(f, 5, 0x3e3, sh, len, 10, out, out_len), -ENODATA);
	braid_fec_free(f);
}
END_TEST

/* A parity shard corrupted (or from another block) can rebuild a length
 * longer than the shard: refused, never copied past the caller's buffer. */
START_TEST(test_corrupt_length_prefix)
{
	const unsigned k = 8, m = 2;
	struct braid_fec *f = new_ok(k, m);
	const uint8_t *sh[N_MAX];
	uint16_t out_len[K_MAX];
	struct braid_fec_stats st;
	unsigned bad = 0, ok = 0;
	uint8_t save0, save1;

	rng_init(&rng, 0xfec000b);
	block_make(&blk, f, k, m, k, 300, NULL);
	for (unsigned i = 0; i < k; i++)
		sh[i] = blk.data[i];
	for (unsigned r = 0; r < m; r++)
		sh[k + r] = blk.parity[r];
	save0 = blk.parity[0][0];
	save1 = blk.parity[0][1];

	/* Every value of the prefix of parity 0, data 3 lost. */
	for (unsigned v = 0; v < 65536; v++) {
		int rc;

		blk.parity[0][0] = (uint8_t)(v >> 8);
		blk.parity[0][1] = (uint8_t)v;
		out_len[3] = 0xffff;
		rc = braid_fec_decode(f, k, 0x3ff & ~(1ull << 3), sh, blk.len, blk.shard_len,
				      blk.out, out_len);
		if (rc == -EBADMSG && out_len[3] == 0xffff)
			bad++;
		else if (rc == 1 && out_len[3] <= blk.shard_len - PRE)
			ok++;
		else
			ck_abort_msg("prefix %#x: decode %d, len %u", v, rc, out_len[3]);
	}
	/* One coefficient maps the prefix one-to-one onto the length: every
	 * length that fits is reached exactly once. */
	ck_assert_uint_eq(ok, blk.shard_len - PRE + 1);
	ck_assert_uint_eq(bad, 65536 - ok);
	blk.parity[0][0] = save0;
	blk.parity[0][1] = save1;
	braid_fec_get_stats(f, &st);
	ck_assert_uint_eq(st.bad_len, bad);

	/* Whole parity shards of garbage, several packets lost. */
	for (unsigned t = 0; t < 2000; t++) {
		uint64_t lost = 0;
		int rc;

		for (unsigned r = 0; r < m; r++)
			for (size_t x = 0; x < blk.shard_len; x++)
				blk.parity[r][x] = (uint8_t)rng_next(&rng);
		while (__builtin_popcountll(lost) < 1 + (int)(t & 1))
			lost |= 1ull << rnd(k);
		memset(out_len, 0xff, sizeof(out_len));
		rc = braid_fec_decode(f, k, 0x3ff & ~lost, sh, blk.len, blk.shard_len, blk.out, out_len);
		if (rc == -EBADMSG)
			continue;
		if (rc != __builtin_popcountll(lost))
			ck_abort_msg("garbage %u: decode %d", t, rc);
		for (unsigned i = 0; i < k; i++)
			if ((lost & (1ull << i)) && out_len[i] > blk.shard_len - PRE)
				ck_abort_msg("garbage %u: length %u past the shard", t, out_len[i]);
	}
	braid_fec_free(f);
	block_free(&blk);
}
END_TEST

static Suite *fec_suite(void)
{
	Suite *su = suite_create("fec");
	TCase *tc = tcase_create("rs");
	TCase *tc_neg = tcase_create("negative");

	/* The sweeps take a few seconds under the sanitizers on a busy
	 * machine; the default 4 s would cut them short. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_reference_matches_isal_definitions);
	tcase_add_test(tc, test_encode_matches_reference);
	tcase_add_test(tc, test_encode_incremental);
	tcase_add_test(tc, test_erasures_all_small);
	tcase_add_test(tc, test_erasures_all_16_4);
	tcase_add_test(tc, test_erasures_32_8);
	tcase_add_test(tc, test_partial_blocks);
	tcase_add_test(tc, test_lengths_edges);
	tcase_add_test(tc, test_decode_nothing_missing);
	tcase_add_test(tc, test_decode_cache);
	suite_add_tcase(su, tc);

	tcase_set_timeout(tc_neg, 60);
	tcase_add_test(tc_neg, test_new_bad_args);
	tcase_add_test(tc_neg, test_encode_bad_args);
	tcase_add_test(tc_neg, test_decode_bad_args);
	tcase_add_test(tc_neg, test_too_few_shards);
	tcase_add_test(tc_neg, test_corrupt_length_prefix);
	suite_add_tcase(su, tc_neg);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(fec_suite());
	int failed;

	ref_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
