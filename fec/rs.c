/* Systematic Reed-Solomon codec over GF(2^8) on ISA-L (see braid/fec.h).
 *
 * The bulk work is ISA-L's ec_encode_data_update, which folds one source
 * buffer into every output at a time. Working one source at a time is what
 * lets packets of different lengths go in as they are: a source only covers
 * its own bytes, and the zero padding up to the shard length would add
 * nothing, so it is never built. Measured against copying each packet into a
 * padded shard and calling ec_encode_data, it is as fast or faster for every
 * shipped (K, M) (the copy alone halves the throughput at small M), and it
 * lets the sender fold in each packet as it leaves.
 *
 * The 2-byte length prefixes are a column of their own, done with scalar
 * GF(2^8) arithmetic from our own log tables, so nothing here depends on the
 * layout of ISA-L's expanded tables (which changes between its SIMD
 * back ends).
 *
 * Decoding picks the first K present shards (data, known zeros, then parity
 * in index order), inverts the K x K submatrix of the generator for them,
 * and keeps the rows for the missing data packets, expanded by
 * ec_init_tables, in a small fully associative cache keyed by that choice of
 * K shards. A parity shard that arrives beyond the K needed does not change
 * the key, so the common patterns (one or two packets lost) stay few. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/erasure_code.h>

#include "braid/fec.h"
#include "braid/wire.h"

_Static_assert(BRAID_PAYLOAD_MAX <= BRAID_FEC_PAYLOAD_MAX,
	       "a tunnel payload must fit a FEC shard");
_Static_assert(BRAID_FEC_PAYLOAD_MAX <= 0xffff, "lengths travel in 16 bits");
_Static_assert(BRAID_FEC_K_MAX <= 32, "braid_fec_tx.added is 32 bits");
_Static_assert(BRAID_FEC_K_MAX + BRAID_FEC_M_MAX <= 64, "shard masks are 64 bits");

/* Bytes of ISA-L's expanded table per coefficient (ec_init_tables). */
#define FEC_TBL 32

#define K_MAX BRAID_FEC_K_MAX
#define M_MAX BRAID_FEC_M_MAX

struct fec_slot {
	uint64_t key;		/* the K shards decoded from; 0 when empty */
	uint64_t used;		/* LRU stamp */
	uint8_t *rows;		/* nmiss x K decoding coefficients */
	uint8_t *tbls;		/* the same, expanded for ISA-L */
};

struct braid_fec {
	unsigned k, m;
	uint64_t tick;
	struct braid_fec_stats st;
	uint8_t gf_log[256];
	uint8_t gf_exp[510];	/* doubled so that log a + log b needs no modulo */
	uint8_t gen[(K_MAX + M_MAX) * K_MAX];	/* (k + m) x k generator */
	uint8_t inv_in[K_MAX * K_MAX];		/* scratch for a cache miss */
	uint8_t inv_out[K_MAX * K_MAX];
	uint8_t *enc_tbls;	/* the parity rows of gen, expanded */
	struct fec_slot slot[BRAID_FEC_CACHE_SLOTS];
	uint8_t mem[] __attribute__((aligned(64)));
};

static uint8_t fec_mul(const struct braid_fec *f, uint8_t a, uint8_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return f->gf_exp[f->gf_log[a] + f->gf_log[b]];
}

/* GF(2^8) with the polynomial 0x11d, generator 2: the field ISA-L uses. */
static void gf_tables_init(struct braid_fec *f)
{
	unsigned x = 1;

	for (unsigned i = 0; i < 255; i++) {
		f->gf_exp[i] = (uint8_t)x;
		f->gf_exp[i + 255] = (uint8_t)x;
		f->gf_log[x] = (uint8_t)i;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
	}
}

static uint64_t mask_below(unsigned n)
{
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

struct braid_fec *braid_fec_new(unsigned k, unsigned m)
{
	struct braid_fec *f;
	size_t tbl_len, rows_len, total;
	uint8_t *p;
	void *mem;

	if (k < 1 || k > K_MAX || m < 1 || m > M_MAX) {
		errno = EINVAL;
		return NULL;
	}
	/* Sized for this k and m, not the maxima: a (4,2) codec takes 14 KB
	 * in all, a (32,8) one 284 KB, nearly all of it decode cache. */
	tbl_len = (size_t)m * k * FEC_TBL;
	rows_len = (size_t)m * k;
	total = sizeof(*f) + tbl_len * (1 + BRAID_FEC_CACHE_SLOTS) + rows_len * BRAID_FEC_CACHE_SLOTS;
	if (posix_memalign(&mem, 64, total) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	f = mem;
	memset(f, 0, total);
	f->k = k;
	f->m = m;
	gf_tables_init(f);

	p = f->mem;
	f->enc_tbls = p;
	p += tbl_len;
	for (unsigned s = 0; s < BRAID_FEC_CACHE_SLOTS; s++) {
		f->slot[s].tbls = p;
		p += tbl_len;
	}
	for (unsigned s = 0; s < BRAID_FEC_CACHE_SLOTS; s++) {
		f->slot[s].rows = p;
		p += rows_len;
	}

	gf_gen_cauchy1_matrix(f->gen, (int)(k + m), (int)k);
	ec_init_tables((int)k, (int)m, &f->gen[k * k], f->enc_tbls);
	return f;
}

void braid_fec_free(struct braid_fec *f)
{
	free(f);
}

/* A caller's block state that could not have come from us (the struct is
 * theirs) is refused rather than trusted with the parity buffers. */
static bool tx_valid(const struct braid_fec *f, const struct braid_fec_tx *tx)
{
	if (tx->added & ~mask_below(f->k))
		return false;
	if (tx->added == 0)
		return tx->shard_len == 0;
	return tx->shard_len >= BRAID_FEC_PREFIX_LEN && tx->shard_len <= BRAID_FEC_SHARD_MAX;
}

/* Folds packet i into the parity; arguments already checked. */
static void encode_one(const struct braid_fec *f, struct braid_fec_tx *tx, unsigned i,
		       const uint8_t *data, size_t len, uint8_t *const parity[])
{
	uint8_t *dst[M_MAX];
	size_t need = BRAID_FEC_PREFIX_LEN + len;
	uint8_t hi = (uint8_t)(len >> 8), lo = (uint8_t)len;

	for (unsigned r = 0; r < f->m; r++) {
		uint8_t c = f->gen[(f->k + r) * f->k + i];

		/* Parity past the longest packet so far was never written:
		 * clear it only now that a packet reaches it. */
		if (need > tx->shard_len)
			memset(parity[r] + tx->shard_len, 0, need - tx->shard_len);
		parity[r][0] ^= fec_mul(f, c, hi);
		parity[r][1] ^= fec_mul(f, c, lo);
		dst[r] = parity[r] + BRAID_FEC_PREFIX_LEN;
	}
	/* ISA-L does not write its sources; its prototype just lacks const. */
	if (len > 0)
		ec_encode_data_update((int)len, (int)f->k, (int)f->m, (int)i, f->enc_tbls,
				      (unsigned char *)data, dst);
	tx->added |= 1u << i;
	if (need > tx->shard_len)
		tx->shard_len = need;
}

int braid_fec_encode_add(const struct braid_fec *f, struct braid_fec_tx *tx, unsigned i,
			 const uint8_t *data, size_t len, uint8_t *const parity[])
{
	if (f == NULL || tx == NULL || parity == NULL || i >= f->k || !tx_valid(f, tx))
		return -EINVAL;
	if (len > BRAID_FEC_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (data == NULL && len > 0)
		return -EINVAL;
	for (unsigned r = 0; r < f->m; r++) {
		if (parity[r] == NULL)
			return -EINVAL;
	}
	if (tx->added & (1u << i))
		return -EEXIST;
	encode_one(f, tx, i, data, len, parity);
	return 0;
}

int braid_fec_encode(const struct braid_fec *f, unsigned k_used,
		     const uint8_t *const data[], const uint16_t len[],
		     uint8_t *const parity[], size_t *shard_len)
{
	struct braid_fec_tx tx = { 0 };

	if (f == NULL || data == NULL || len == NULL || parity == NULL || shard_len == NULL)
		return -EINVAL;
	if (k_used < 1 || k_used > f->k)
		return -EINVAL;
	for (unsigned r = 0; r < f->m; r++) {
		if (parity[r] == NULL)
			return -EINVAL;
	}
	/* All checked before the first write, so a refused block leaves the
	 * parity buffers as they were. */
	for (unsigned i = 0; i < k_used; i++) {
		if (len[i] > BRAID_FEC_PAYLOAD_MAX)
			return -EMSGSIZE;
		if (data[i] == NULL && len[i] > 0)
			return -EINVAL;
	}
	for (unsigned i = 0; i < k_used; i++)
		encode_one(f, &tx, i, data[i], len[i], parity);
	*shard_len = tx.shard_len;
	return 0;
}

/* The decoding rows for the K shards in key, from the cache or built into
 * the least recently used slot. NULL if the submatrix is singular, which a
 * Cauchy generator never gives; the slot is then left empty. */
static const struct fec_slot *fec_tables(struct braid_fec *f, uint64_t key)
{
	const unsigned k = f->k;
	struct fec_slot *sl = &f->slot[0];
	unsigned j = 0, r = 0;

	for (unsigned s = 0; s < BRAID_FEC_CACHE_SLOTS; s++) {
		if (f->slot[s].key == key) {
			f->slot[s].used = ++f->tick;
			f->st.cache_hits++;
			return &f->slot[s];
		}
		if (f->slot[s].used < sl->used)
			sl = &f->slot[s];
	}
	f->st.cache_misses++;
	sl->key = 0;
	sl->used = 0;

	/* Row j of the submatrix is the generator row of the j-th shard we
	 * decode from; its inverse maps those shards back to the data. */
	for (unsigned s = 0; s < k + f->m; s++) {
		if (key & (1ull << s))
			memcpy(&f->inv_in[j++ * k], &f->gen[s * k], k);
	}
	if (gf_invert_matrix(f->inv_in, f->inv_out, (int)k) != 0)
		return NULL;
	for (unsigned d = 0; d < k; d++) {
		if (!(key & (1ull << d)))
			memcpy(&sl->rows[r++ * k], &f->inv_out[d * k], k);
	}
	ec_init_tables((int)k, (int)r, sl->rows, sl->tbls);
	sl->key = key;
	sl->used = ++f->tick;
	return sl;
}

int braid_fec_decode(struct braid_fec *f, unsigned k_used, uint64_t present,
		     const uint8_t *const shard[], const uint16_t len[], size_t shard_len,
		     uint8_t *const out[], uint16_t out_len[])
{
	const struct fec_slot *sl;
	uint8_t *dst[M_MAX];
	uint8_t pre[M_MAX][BRAID_FEC_PREFIX_LEN];
	unsigned miss[M_MAX];
	uint64_t have, key = 0;
	unsigned k, m, nmiss = 0, j = 0;
	size_t plen;

	if (f == NULL || shard == NULL)
		return -EINVAL;
	k = f->k;
	m = f->m;
	if (k_used < 1 || k_used > k || (present & ~mask_below(k + m)))
		return -EINVAL;
	if (shard_len < BRAID_FEC_PREFIX_LEN || shard_len > BRAID_FEC_SHARD_MAX)
		return -EINVAL;
	plen = shard_len - BRAID_FEC_PREFIX_LEN;
	for (unsigned i = 0; i < k_used; i++) {
		if (!(present & (1ull << i)))
			continue;
		if (len == NULL || len[i] > plen || (shard[i] == NULL && len[i] > 0))
			return -EINVAL;
	}
	for (unsigned r = 0; r < m; r++) {
		if ((present & (1ull << (k + r))) && shard[k + r] == NULL)
			return -EINVAL;
	}

	/* Data shards past k_used are known zeros: present whatever the
	 * caller says. */
	have = (present & ~mask_below(k)) | (present & mask_below(k_used)) |
	       (mask_below(k) & ~mask_below(k_used));
	if (__builtin_popcountll(have) < (int)k)
		return -ENODATA;
	for (unsigned i = 0; i < k_used; i++) {
		if (have & (1ull << i))
			continue;
		if (out == NULL || out_len == NULL || out[i] == NULL)
			return -EINVAL;
		miss[nmiss++] = i;
	}
	if (nmiss == 0)
		return 0;

	for (unsigned s = 0; s < k + m && j < k; s++) {
		if (have & (1ull << s)) {
			key |= 1ull << s;
			j++;
		}
	}
	sl = fec_tables(f, key);
	if (sl == NULL)
		return -EIO;

	for (unsigned r = 0; r < nmiss; r++) {
		dst[r] = out[miss[r]];
		memset(dst[r], 0, plen);
		pre[r][0] = pre[r][1] = 0;
	}
	j = 0;
	for (unsigned s = 0; s < k + m; s++) {
		const uint8_t *src;
		uint8_t hi, lo;
		size_t n;

		if (!(key & (1ull << s)))
			continue;
		if (s >= k_used && s < k) {
			j++;	/* a known zero adds nothing */
			continue;
		}
		if (s < k) {
			n = len[s];
			src = shard[s];
			hi = (uint8_t)(n >> 8);
			lo = (uint8_t)n;
		} else {
			n = plen;
			src = shard[s] + BRAID_FEC_PREFIX_LEN;
			hi = shard[s][0];
			lo = shard[s][1];
		}
		for (unsigned r = 0; r < nmiss; r++) {
			uint8_t c = sl->rows[r * k + j];

			pre[r][0] ^= fec_mul(f, c, hi);
			pre[r][1] ^= fec_mul(f, c, lo);
		}
		if (n > 0)
			ec_encode_data_update((int)n, (int)k, (int)nmiss, (int)j, sl->tbls,
					      (unsigned char *)src, dst);
		j++;
	}

	/* A length that does not fit the shard means the shards were not
	 * one block; the caller must not read past its buffer for it. */
	for (unsigned r = 0; r < nmiss; r++) {
		if (((size_t)pre[r][0] << 8 | pre[r][1]) > plen) {
			f->st.bad_len++;
			return -EBADMSG;
		}
	}
	for (unsigned r = 0; r < nmiss; r++)
		out_len[miss[r]] = (uint16_t)(pre[r][0] << 8 | pre[r][1]);
	f->st.decodes++;
	f->st.recovered += nmiss;
	return (int)nmiss;
}

void braid_fec_get_stats(const struct braid_fec *f, struct braid_fec_stats *st)
{
	if (f == NULL || st == NULL)
		return;
	*st = f->st;
}
