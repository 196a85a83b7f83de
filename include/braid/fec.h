/* Forward error correction: systematic Reed-Solomon over GF(2^8) (ISA-L).
 *
 * A block is K data packets and M parity shards; any K of the K + M let the
 * receiver rebuild every data packet. The generator is ISA-L's Cauchy matrix
 * (identity on top, then 1 / (i ^ j)), which is MDS for every K + M <= 256,
 * unlike its Vandermonde one.
 *
 * Shards. Data shard i is its packet with a 2-byte big-endian length in
 * front, zero-padded to the block's shard length: the largest
 * BRAID_FEC_PREFIX_LEN + len in the block. Parity shards are that long and
 * cover the prefixed data shards, so a rebuilt packet comes back with its
 * exact length. The prefixed data shards are never built in memory: the
 * sender passes the packets as they are and gets parity; the receiver passes
 * the packets it has as they are, and the parity shards as they came.
 *
 * Partial blocks. A block may close with k_used < K packets (its timer
 * fired). Data shards k_used .. K-1 are then all-zero shards (length 0) that
 * both ends know about without sending them: the sender leaves them out of
 * the parity, and the receiver counts them as present. So a partial block
 * still needs only k_used + (number of parity shards) >= K shards that
 * actually arrived, i.e. it tolerates up to M losses among k_used + M. The
 * receiver learns k_used from the parity packet's header (the caller's
 * business) and passes it to braid_fec_decode.
 *
 * Memory. braid_fec_new allocates everything a codec will ever use,
 * including a cache of BRAID_FEC_CACHE_SLOTS decode tables (least recently
 * used out first); encoding and decoding never allocate, never lock, never
 * abort, and check every argument. A codec is used by one thread at a time:
 * decoding updates its cache and counters. */
#ifndef BRAID_FEC_H
#define BRAID_FEC_H

#include <stddef.h>
#include <stdint.h>

#define BRAID_FEC_K_MAX        32	/* data packets per block */
#define BRAID_FEC_M_MAX        8	/* parity shards per block */
#define BRAID_FEC_PAYLOAD_MAX  2048	/* largest packet in a block */
#define BRAID_FEC_PREFIX_LEN   2	/* the big-endian length in front of each data shard */
#define BRAID_FEC_SHARD_MAX    (BRAID_FEC_PAYLOAD_MAX + BRAID_FEC_PREFIX_LEN)
#define BRAID_FEC_CACHE_SLOTS  32	/* decode tables kept, one per erasure pattern */

struct braid_fec;

/* One block being encoded, owned by the caller. Zero it to start a block. */
struct braid_fec_tx {
	uint32_t added;		/* bit i: data packet i is in the parity */
	size_t   shard_len;	/* length of each parity shard so far; 0 before the first packet */
};

struct braid_fec_stats {
	uint64_t decodes;	/* braid_fec_decode calls that rebuilt at least one packet */
	uint64_t recovered;	/* data packets rebuilt */
	uint64_t cache_hits;	/* decodes that found their tables in the cache */
	uint64_t cache_misses;	/* decodes that had to invert a matrix */
	uint64_t bad_len;	/* rebuilt length prefixes that did not fit the shard */
};

/* A codec for blocks of k data packets and m parity shards, 1 <= k <=
 * BRAID_FEC_K_MAX, 1 <= m <= BRAID_FEC_M_MAX. Returns NULL with errno EINVAL
 * (k or m out of range) or ENOMEM. The caller frees it with braid_fec_free. */
struct braid_fec *braid_fec_new(unsigned k, unsigned m);
/* Frees a codec and everything it allocated; NULL is a no-op. */
void braid_fec_free(struct braid_fec *f);

/* Adds data packet i (0 <= i < K) of len bytes to the parity of the block
 * tx, so that a sender can send each packet at once, recycle its buffer, and
 * send the parity when the block closes. parity[0..M-1] are the caller's
 * buffers of BRAID_FEC_SHARD_MAX bytes each, the same ones for every packet
 * of the block; they need no clearing beforehand. When the block closes,
 * parity[r][0 .. tx->shard_len) is parity shard r, whatever order the packets
 * came in; packets never added count as zero-length (see partial blocks).
 * data may be NULL if len is 0. The packet is only read during the call.
 * Returns 0; -EINVAL for a NULL pointer, i >= K or a tx that is not a block
 * in progress; -EMSGSIZE if len > BRAID_FEC_PAYLOAD_MAX; -EEXIST if packet i
 * is already in the block. On error tx and parity are unchanged. */
int braid_fec_encode_add(const struct braid_fec *f, struct braid_fec_tx *tx, unsigned i,
			 const uint8_t *data, size_t len, uint8_t *const parity[]);

/* Encodes a whole block at once: data[0..k_used-1] of len[0..k_used-1]
 * bytes (1 <= k_used <= K; data[i] may be NULL if len[i] is 0) into
 * parity[0..M-1] (BRAID_FEC_SHARD_MAX bytes each), and sets *shard_len to the
 * length of each parity shard. Returns 0, -EINVAL (NULL pointer, k_used out
 * of range) or -EMSGSIZE (a len above BRAID_FEC_PAYLOAD_MAX); on error
 * nothing is written. */
int braid_fec_encode(const struct braid_fec *f, unsigned k_used,
		     const uint8_t *const data[], const uint16_t len[],
		     uint8_t *const parity[], size_t *shard_len);

/* Rebuilds the data packets of a block that did not arrive.
 *
 * present: bit i (i < K) says data packet i arrived; bit K + r says parity
 * shard r arrived. Bits for data k_used .. K-1 are ignored (those shards are
 * known zeros); bits at K + M and above are an error.
 * shard[0..K+M-1]: for an arrived data packet i, its bytes (len[i] of them;
 * NULL allowed if len[i] is 0); for an arrived parity shard r, at
 * shard[K + r], its shard_len bytes. Entries not present are not read.
 * shard_len: the length of the block's parity shards, 2 ..
 * BRAID_FEC_SHARD_MAX; every arrived packet must fit it (len[i] + 2 <=
 * shard_len).
 * out[i], for every data packet i < k_used that did not arrive: a caller's
 * buffer of at least shard_len - BRAID_FEC_PREFIX_LEN bytes that receives the
 * rebuilt packet, whose length goes to out_len[i]; bytes of out[i] past that
 * length are scratch. No other entry of out or out_len is touched. Nothing is
 * kept after the call.
 *
 * Returns the number of packets rebuilt (0 if none was missing), or
 * -EINVAL for a bad argument, -ENODATA if fewer than K shards (counting the
 * known zeros) are present, -EBADMSG if a rebuilt length does not fit the
 * shard (the shards do not belong together: a corrupted or mixed-up block),
 * -EIO if the matrix could not be inverted (cannot happen with a Cauchy
 * matrix; checked rather than trusted). On -EBADMSG and -EIO the out buffers
 * hold garbage. */
int braid_fec_decode(struct braid_fec *f, unsigned k_used, uint64_t present,
		     const uint8_t *const shard[], const uint16_t len[], size_t shard_len,
		     uint8_t *const out[], uint16_t out_len[]);

/* Copies the codec's counters. */
void braid_fec_get_stats(const struct braid_fec *f, struct braid_fec_stats *st);

#endif
