/* libFuzzer harness for the FEC decoder (braid/fec.h, fec/rs.c).
 *
 * A receiver takes K, M, k_used and the shard length from a PARITY header
 * anyone on the path can forge, and the packet lengths from whatever
 * arrived, so braid_fec_decode must keep its contract for any of them. Two
 * modes, chosen by bit 0 of the first byte:
 *
 * Hostile (bit 0 clear): every argument comes from the input, parity bytes
 * included. The harness works out from the header's contract alone which
 * result the call must give (-EINVAL for a bad argument, -ENODATA for fewer
 * than K shards, 0 when nothing is missing, else the number missing or
 * -EBADMSG; never -EIO, which a Cauchy matrix cannot produce) and checks:
 * every out_len written is <= shard_len - 2; out and out_len entries other
 * than the missing packets keep their canaries, and so do the missing ones
 * on -EINVAL, -ENODATA and 0 (the header allows garbage only on -EBADMSG and
 * -EIO); the out pointer array is unchanged; the counters move as
 * braid_fec_stats says.
 *
 * Round trip (bit 0 set): a real block built with braid_fec_encode from the
 * input, up to M of its k_used + M shards erased, decoded, and every rebuilt
 * packet compared with its original. Optionally the parity is also built with
 * braid_fec_encode_add in a shuffled order into unzeroed buffers and must be
 * identical, and optionally M + 1 shards are erased, which must give
 * -ENODATA.
 *
 * Every buffer the decoder is given is a heap block of exactly the size the
 * contract promises (packets of len[i] bytes, parity of shard_len, out of
 * shard_len - 2, the arrays of K or K + M entries), and entries it must not
 * read point at a zero-byte block, so under ASan one byte too many is a
 * report.
 *
 * Input layout (integers big-endian; bytes past the end read as zero):
 *   hostile:    flags, K-1, M-1, k_used, present (u64, little-endian),
 *               shard_len (u16), len[0..K-1] (u16 each), then the bytes of
 *               each present data packet i < k_used, then of each present
 *               parity shard. shard_len is taken mod BRAID_FEC_SHARD_MAX + 4
 *               and k_used mod K + 2 (both raw with FH_RAW); a len with the
 *               top bit set is its low 15 bits, else it is taken mod
 *               shard_len + 1, so lengths just over shard_len - 2 are common.
 *   round trip: flags, K-1, M-1, k_used-1, erasures, pick[M_MAX + 1],
 *               order seed, len[0..k_used-1] (u16, mod
 *               BRAID_FEC_PAYLOAD_MAX + 1), then payload bytes (a fixed
 *               pattern once the input runs out).
 * test/fuzz/gen_fec_corpus.c writes seeds in this layout.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude \
 *     test/fuzz/fuzz_fec.c fec/rs.c $(pkg-config --cflags --libs libisal) -o /tmp/fuzz_fec
 *   /tmp/fuzz_fec -max_total_time=60 /tmp/fec-corpus test/fuzz/corpus/fec
 * With -DFUZZ_STANDALONE main() replays the files (or directories) it is
 * given, once each, as `make` builds it into build/fuzz/fuzz_fec. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "braid/fec.h"

#define K_MAX   BRAID_FEC_K_MAX
#define M_MAX   BRAID_FEC_M_MAX
#define N_MAX   (K_MAX + M_MAX)
#define PRE     BRAID_FEC_PREFIX_LEN

/* Hostile-mode flags (byte 0). */
#define F_ROUND_TRIP  0x01
#define FH_RAW_MASK   0x02	/* present bits at K + M and above kept */
#define FH_NULL_ABSENT 0x04	/* absent shards NULL rather than a trap */
#define FH_NULL_EMPTY 0x08	/* present zero-length packets NULL */
#define FH_OUT_NULL   0x10	/* out == NULL */
#define FH_OUTLEN_NULL 0x20	/* out_len == NULL */
#define FH_MISS_NULL  0x40	/* out[first missing] == NULL */
#define FH_RAW        0x80	/* k_used and shard_len unreduced */
/* Round-trip flags. */
#define FR_ENCODE_ADD 0x02	/* also build the parity packet by packet */
#define FR_OVER       0x04	/* erase M + 1 shards: must give -ENODATA */
#define FR_IGNORED    0x08	/* set the ignored present bits k_used..K-1 */
#define FR_NULL_EMPTY 0x10	/* zero-length packets NULL */
#define FR_NULL_ABSENT 0x20	/* absent shards NULL rather than a trap */

#define CANARY_LEN  0xa5a5u	/* above any shard length */
#define CANARY_BYTE 0xa5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An oracle failure: abort so libFuzzer records the input. */
static void check(int ok)
{
	if (!ok)
		abort();
}

/* --- input ---------------------------------------------------------------- */

struct in {
	const uint8_t *p;
	size_t len, off;
};

static uint8_t in_u8(struct in *in)
{
	return in->off < in->len ? in->p[in->off++] : 0;
}

static uint16_t in_u16(struct in *in)
{
	unsigned hi = in_u8(in);

	return (uint16_t)(hi << 8 | in_u8(in));
}

static uint64_t in_u64le(struct in *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)in_u8(in) << (8 * i);
	return v;
}

/* Copies the next n input bytes to dst; past the end, a pattern that
 * depends on salt, so a long packet needs no long input. */
static void in_fill(struct in *in, uint8_t *dst, size_t n, unsigned salt)
{
	size_t have = in->len - in->off < n ? in->len - in->off : n;

	if (have > 0)
		memcpy(dst, in->p + in->off, have);
	in->off += have;
	for (size_t j = have; j < n; j++)
		dst[j] = (uint8_t)(salt * 131u + j * 7u + 1u);
}

/* --- memory ---------------------------------------------------------------- */

/* A block of exactly n bytes; malloc(0) is a real zero-byte block under
 * both glibc and ASan, which is what the traps rely on. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		abort();
	return p;
}

/* Zero bytes long: handed out for every entry the decoder must not read or
 * write, so under ASan any access to it is a report. */
static uint8_t *trap(void)
{
	static uint8_t *t;

	if (t == NULL)
		t = xmalloc(0);
	return t;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != v)
			return false;
	}
	return true;
}

static uint64_t mask_below(unsigned n)
{
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* One codec per (K, M), made on first use and kept: braid_fec_new is far
 * slower than a decode, and a codec that lives across inputs also has its
 * decode cache exercised across blocks, as in the daemon. */
static struct braid_fec *codec(unsigned k, unsigned m)
{
	static struct braid_fec *c[K_MAX][M_MAX];

	if (c[k - 1][m - 1] == NULL) {
		c[k - 1][m - 1] = braid_fec_new(k, m);
		check(c[k - 1][m - 1] != NULL);
	}
	return c[k - 1][m - 1];
}

/* --- one decode call ------------------------------------------------------ */

/* The arguments of a braid_fec_decode call, every array on the heap at its
 * exact size. */
struct call {
	unsigned k, m;
	uint16_t *len;		/* K */
	const uint8_t **shard;	/* K + M */
	uint8_t **out;		/* K */
	uint8_t **out_copy;	/* K: what out held before the call */
	uint16_t *out_len;	/* K */
	uint8_t *owned[N_MAX];	/* shard buffers to free */
	size_t out_size;	/* bytes of each out buffer */
	bool out_real;		/* out buffers allocated (else traps) */
};

static void call_init(struct call *c, unsigned k, unsigned m)
{
	memset(c, 0, sizeof(*c));
	c->k = k;
	c->m = m;
	c->len = xmalloc(k * sizeof(*c->len));
	c->shard = xmalloc((k + m) * sizeof(*c->shard));
	c->out = xmalloc(k * sizeof(*c->out));
	c->out_copy = xmalloc(k * sizeof(*c->out_copy));
	c->out_len = xmalloc(k * sizeof(*c->out_len));
}

/* Gives shard s its own buffer of n bytes and returns it. */
static uint8_t *call_shard(struct call *c, unsigned s, size_t n)
{
	c->owned[s] = xmalloc(n);
	c->shard[s] = c->owned[s];
	return c->owned[s];
}

/* out[i] for every i < K: a canary-filled buffer of n bytes, or a trap when
 * the shard length is one the decoder must refuse before writing. */
static void call_outputs(struct call *c, bool real, size_t n)
{
	c->out_real = real;
	c->out_size = real ? n : 0;
	for (unsigned i = 0; i < c->k; i++) {
		c->out_len[i] = CANARY_LEN;
		if (real) {
			c->out[i] = xmalloc(n);
			memset(c->out[i], CANARY_BYTE, n);
		} else {
			c->out[i] = trap();
		}
	}
}

static void call_free(struct call *c)
{
	for (unsigned s = 0; s < c->k + c->m; s++)
		free(c->owned[s]);
	for (unsigned i = 0; c->out_real && i < c->k; i++)
		free(c->out[i]);
	free(c->len);
	free(c->shard);
	free(c->out);
	free(c->out_copy);
	free(c->out_len);
}

static int call_decode(struct call *c, unsigned k_used, uint64_t present, size_t shard_len,
		       bool out_null, bool out_len_null, uint64_t missing)
{
	struct braid_fec *f = codec(c->k, c->m);
	struct braid_fec_stats st0, st1;
	uint64_t touchable;
	unsigned nmiss = (unsigned)__builtin_popcountll(missing);
	int ret;

	memcpy(c->out_copy, c->out, c->k * sizeof(*c->out));
	braid_fec_get_stats(f, &st0);
	ret = braid_fec_decode(f, k_used, present, c->shard, c->len, shard_len,
			       out_null ? NULL : c->out, out_len_null ? NULL : c->out_len);
	braid_fec_get_stats(f, &st1);

	/* The pointer array is const to the decoder. */
	check(memcmp(c->out_copy, c->out, c->k * sizeof(*c->out)) == 0);
	/* Only the missing packets' entries may change, and only on success
	 * or -EBADMSG (the header allows garbage there on -EBADMSG/-EIO). */
	touchable = ret > 0 || ret == -EBADMSG ? missing : 0;
	for (unsigned i = 0; i < c->k; i++) {
		bool may = touchable & (1ull << i);

		if (ret > 0 && may)
			check(c->out_len[i] <= shard_len - PRE);
		else if (may)
			check(c->out_len[i] == CANARY_LEN || c->out_len[i] <= shard_len - PRE);
		else
			check(c->out_len[i] == CANARY_LEN);
		if (c->out_real && c->out[i] != NULL && !may)
			check(all_bytes(c->out[i], c->out_size, CANARY_BYTE));
	}

	if (ret > 0) {
		check(st1.decodes == st0.decodes + 1);
		check(st1.recovered == st0.recovered + (uint64_t)ret);
		check(st1.bad_len == st0.bad_len);
	} else if (ret == -EBADMSG) {
		check(st1.decodes == st0.decodes && st1.recovered == st0.recovered);
		check(st1.bad_len > st0.bad_len && st1.bad_len - st0.bad_len <= nmiss);
	} else {
		check(st1.decodes == st0.decodes && st1.recovered == st0.recovered);
		check(st1.bad_len == st0.bad_len);
	}
	return ret;
}

/* --- hostile metadata -------------------------------------------------------- */

static void fuzz_hostile(struct in *in, uint8_t flags)
{
	const unsigned k = in_u8(in) % K_MAX + 1, m = in_u8(in) % M_MAX + 1, n = k + m;
	const uint8_t kb = in_u8(in);
	const unsigned k_used = flags & FH_RAW ? kb : kb % (k + 2);
	uint64_t present = in_u64le(in), missing = 0;
	const uint16_t slv = in_u16(in);
	const size_t shard_len = flags & FH_RAW ? slv : slv % (BRAID_FEC_SHARD_MAX + 4);
	const bool sl_ok = shard_len >= PRE && shard_len <= BRAID_FEC_SHARD_MAX;
	const bool ku_ok = k_used >= 1 && k_used <= k;
	const size_t plen = sl_ok ? shard_len - PRE : 0;
	bool bad, short_ = false, out_null, out_len_null;
	struct call c;
	int ret;

	if (!(flags & FH_RAW_MASK))
		present &= mask_below(n);
	call_init(&c, k, m);
	for (unsigned i = 0; i < k; i++) {
		uint16_t v = in_u16(in);

		c.len[i] = v & 0x8000 ? (uint16_t)(v & 0x7fff) : (uint16_t)(v % (shard_len + 1));
	}
	/* Only present data below k_used and present parity may be read. */
	for (unsigned s = 0; s < n; s++) {
		bool here = present & (1ull << s);

		if (here && s < k && s < k_used) {
			if (c.len[s] == 0 && (flags & FH_NULL_EMPTY))
				c.shard[s] = NULL;
			else
				in_fill(in, call_shard(&c, s, c.len[s]), c.len[s], s);
		} else if (here && s >= k) {
			in_fill(in, call_shard(&c, s, shard_len), shard_len, s);
		} else {
			c.shard[s] = flags & FH_NULL_ABSENT ? NULL : trap();
		}
	}
	call_outputs(&c, sl_ok, plen);

	/* The result the contract calls for. */
	bad = !ku_ok || !sl_ok || (present & ~mask_below(n));
	if (ku_ok) {
		unsigned have = (unsigned)__builtin_popcountll(present & mask_below(k_used)) +
				(unsigned)__builtin_popcountll((present >> k) & mask_below(m)) +
				(k - k_used);

		short_ = have < k;
		missing = mask_below(k_used) & ~present;
		for (unsigned i = 0; i < k_used && sl_ok; i++) {
			if ((present & (1ull << i)) && c.len[i] > plen)
				bad = true;
		}
	}
	out_null = flags & FH_OUT_NULL;
	out_len_null = flags & FH_OUTLEN_NULL;
	if ((flags & FH_MISS_NULL) && missing) {
		unsigned first = (unsigned)__builtin_ctzll(missing);

		if (c.out_real)
			free(c.out[first]);
		c.out[first] = NULL;
	}

	ret = call_decode(&c, k_used, present, shard_len, out_null, out_len_null, missing);

	if (bad)
		check(ret == -EINVAL || (short_ && ret == -ENODATA));
	else if (short_)
		check(ret == -ENODATA);
	else if (missing == 0)
		check(ret == 0);
	else if (out_null || out_len_null || (flags & FH_MISS_NULL))
		check(ret == -EINVAL);
	else
		check(ret == __builtin_popcountll(missing) || ret == -EBADMSG);

	call_free(&c);
}

/* --- round trip ------------------------------------------------------------ */

/* Parity built packet by packet, in an order shuffled by seed, into buffers
 * that start out as garbage, must equal what braid_fec_encode built. */
static void check_encode_add(struct braid_fec *f, unsigned k_used, unsigned m,
			     const uint8_t *const data[], const uint16_t len[], uint8_t seed,
			     uint8_t *const parity[], size_t shard_len)
{
	uint8_t *par[M_MAX];
	unsigned order[K_MAX];
	uint32_t x = 0x9e3779b9u ^ seed;
	struct braid_fec_tx tx = { 0 };

	for (unsigned r = 0; r < m; r++) {
		par[r] = xmalloc(BRAID_FEC_SHARD_MAX);
		memset(par[r], 0x5a, BRAID_FEC_SHARD_MAX);
	}
	for (unsigned i = 0; i < k_used; i++)
		order[i] = i;
	for (unsigned i = k_used; i > 1; i--) {
		unsigned j, t;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		j = x % i;
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < k_used; i++) {
		unsigned p = order[i];

		check(braid_fec_encode_add(f, &tx, p, data[p], len[p], par) == 0);
		if (i == 0) {
			struct braid_fec_tx before = tx;

			/* A packet twice is refused and changes nothing. */
			check(braid_fec_encode_add(f, &tx, p, data[p], len[p], par) == -EEXIST);
			check(tx.added == before.added && tx.shard_len == before.shard_len);
		}
	}
	check(tx.shard_len == shard_len);
	check(tx.added == (uint32_t)mask_below(k_used));
	for (unsigned r = 0; r < m; r++) {
		check(memcmp(par[r], parity[r], shard_len) == 0);
		free(par[r]);
	}
}

static void fuzz_round_trip(struct in *in, uint8_t flags)
{
	const unsigned k = in_u8(in) % K_MAX + 1, m = in_u8(in) % M_MAX + 1;
	const unsigned k_used = in_u8(in) % k + 1;
	const uint8_t eb = in_u8(in);
	const unsigned nerase = flags & FR_OVER ? m + 1 : eb % (m + 1);
	uint8_t pick[M_MAX + 1], seed;
	const uint8_t *data[K_MAX];
	uint8_t *parity[M_MAX];
	unsigned pool[N_MAX], npool = 0;
	uint64_t erased = 0, present, missing;
	size_t shard_len = 0, want_len = PRE;
	struct braid_fec *f = codec(k, m);
	struct call c;
	int ret;

	for (unsigned e = 0; e < M_MAX + 1; e++)
		pick[e] = in_u8(in);
	seed = in_u8(in);

	call_init(&c, k, m);
	for (unsigned i = 0; i < k_used; i++)
		c.len[i] = (uint16_t)(in_u16(in) % (BRAID_FEC_PAYLOAD_MAX + 1));
	for (unsigned i = k_used; i < k; i++)
		c.len[i] = 0;	/* never read: these are known zeros */
	for (unsigned i = 0; i < k_used; i++) {
		if (c.len[i] == 0 && (flags & FR_NULL_EMPTY)) {
			data[i] = NULL;
		} else {
			c.owned[i] = xmalloc(c.len[i]);
			in_fill(in, c.owned[i], c.len[i], i);
			data[i] = c.owned[i];
		}
		if (PRE + (size_t)c.len[i] > want_len)
			want_len = PRE + (size_t)c.len[i];
	}

	for (unsigned r = 0; r < m; r++)
		parity[r] = xmalloc(BRAID_FEC_SHARD_MAX);
	check(braid_fec_encode(f, k_used, data, c.len, parity, &shard_len) == 0);
	check(shard_len == want_len);
	if (flags & FR_ENCODE_ADD)
		check_encode_add(f, k_used, m, data, c.len, seed, parity, shard_len);

	/* Distinct erasures among the shards actually sent. */
	for (unsigned i = 0; i < k_used; i++)
		pool[npool++] = i;
	for (unsigned r = 0; r < m; r++)
		pool[npool++] = k + r;
	for (unsigned e = 0; e < nerase; e++) {
		unsigned j = pick[e] % npool;

		erased |= 1ull << pool[j];
		pool[j] = pool[--npool];
	}
	present = (mask_below(k_used) | mask_below(m) << k) & ~erased;
	if (flags & FR_IGNORED)
		present |= mask_below(k) & ~mask_below(k_used);
	missing = mask_below(k_used) & erased;

	for (unsigned s = 0; s < k + m; s++) {
		if (s < k_used && (present & (1ull << s))) {
			c.shard[s] = data[s];
		} else if (s >= k && (present & (1ull << s))) {
			memcpy(call_shard(&c, s, shard_len), parity[s - k], shard_len);
		} else {
			c.shard[s] = flags & FR_NULL_ABSENT ? NULL : trap();
		}
	}
	for (unsigned r = 0; r < m; r++)
		free(parity[r]);
	call_outputs(&c, true, shard_len - PRE);

	ret = call_decode(&c, k_used, present, shard_len, false, false, missing);
	if (nerase > m) {
		check(ret == -ENODATA);
	} else {
		check(ret == __builtin_popcountll(missing));
		for (unsigned i = 0; i < k_used; i++) {
			if (!(missing & (1ull << i)))
				continue;
			check(c.out_len[i] == c.len[i]);
			if (c.len[i] > 0)
				check(memcmp(c.out[i], data[i], c.len[i]) == 0);
		}
	}
	call_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { .p = data, .len = size, .off = 0 };
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = in_u8(&in);
	if (flags & F_ROUND_TRIP)
		fuzz_round_trip(&in, flags);
	else
		fuzz_hostile(&in, flags);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_HARNESS "fuzz_fec"
#include "replay.h"
#endif
