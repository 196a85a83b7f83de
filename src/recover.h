/* Loss recovery state of one core: FEC blocks going out, parity and recent
 * data coming in, and the retransmit store that answers NACKs.
 *
 * Sans-I/O and clock-free like the core, which owns one of these and does the
 * sending: this module only keeps the bytes and does the arithmetic.
 *
 * FEC data shards. Data packet i of a block is its flow id (2 bytes, big
 * endian) followed by the payload; fec.h puts a 2-byte length in front and
 * pads to the block's shard length. So a parity shard is at most
 * BRAID_PAYLOAD_MAX + WIRE_FEC_SHARD_EXTRA bytes, and a PARITY packet fits a
 * datagram exactly (wire.h).
 *
 * Blocks. The sender opens a block at the first data packet after the last
 * block closed; data packet i of the block has bond seq first + i. The block
 * closes when K packets are in it, or when the core says its timer ran out
 * (recover_tx_close). Both ends must use the same K; M may change from block
 * to block (fec = auto), so the receiver keeps a codec for every M.
 *
 * Every allocation happens in recover_create; the calls on the packet path
 * allocate nothing, take no lock and never abort. One thread. */
#ifndef BRAID_RECOVER_H
#define BRAID_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "braid/fec.h"
#include "braid/wire.h"

#define RECOVER_SHARD_MAX (BRAID_PAYLOAD_MAX + WIRE_FEC_SHARD_EXTRA)

struct recover;

struct recover_cfg {
	unsigned k;		/* 0: no FEC; else 1..BRAID_FEC_K_MAX */
	unsigned m;		/* parity per block when not auto, 1..BRAID_FEC_M_MAX */
	bool fec_auto;		/* m chosen per block by recover_tx_set_m */
	unsigned store;		/* data packets kept each way for decoding and
				 * retransmission: power of two, 0 = no store */
};

/* 0, -EINVAL or -ENOMEM. */
int recover_create(struct recover **out, const struct recover_cfg *cfg);
void recover_destroy(struct recover *r);
/* A new session: forgets every block, stored packet and parity shard. */
void recover_reset(struct recover *r);

/* --- sending FEC ---------------------------------------------------------- */

/* True if FEC is on: the core calls recover_tx_add for each data packet. */
bool recover_fec_on(const struct recover *r);
/* The parity count for blocks opened from now on (fec = auto), 0..M_MAX; 0
 * sends no parity until it is raised again. */
void recover_tx_set_m(struct recover *r, unsigned m);
unsigned recover_tx_m(const struct recover *r);
/* How many data packets blocks opened from now take before they close
 * full (fec = auto: what the sender sends in a quarter of the budget),
 * 1..K; K until set. The receiver learns it from each block's k_used. */
void recover_tx_set_k(struct recover *r, unsigned k);
unsigned recover_tx_k(const struct recover *r);
unsigned recover_k(const struct recover *r);

/* Adds the data packet with bond seq seq, just sent on the links in
 * link_mask, to the open block (opening one at now if none is). Returns 1 if
 * the block is now full and should be closed, 0 if not, -EINVAL if seq does
 * not follow the block's last packet (the block is closed first, as a
 * partial one: the caller closes and adds again). */
int recover_tx_add(struct recover *r, uint32_t seq, uint16_t flow, const uint8_t *data,
		   size_t len, uint32_t link_mask, uint64_t now);
/* When the open block was opened (UINT64_MAX if none is open). */
uint64_t recover_tx_opened(const struct recover *r);

struct recover_parity {
	struct wire_parity hdr;		/* first_seq, k, m, k_used; index set per shard */
	size_t shard_len;
	const uint8_t *shard[BRAID_FEC_M_MAX];
	unsigned link_load[32];		/* data packets of the block per link id */
};
/* Closes the open block. Returns 1 with out filled (valid until the next
 * recover_tx_add) if it has parity to send, 0 if there was no open block or
 * its m is 0. */
int recover_tx_close(struct recover *r, struct recover_parity *out);

/* --- receiving FEC -------------------------------------------------------- */

/* Called for each data packet recovered, in no particular order. */
typedef void (*recover_fn)(void *ctx, uint32_t seq, uint16_t flow, const uint8_t *data,
			   size_t len);

struct recover_rx_stats {
	uint64_t recovered;		/* data packets rebuilt */
	uint64_t unusable;		/* parity for another K, an inconsistent block, or
					 * a block too old for the store */
};

/* Keeps a copy of a data packet that arrived, for decoding. Returns true if
 * FEC had already rebuilt it (the original came after all, late). */
bool recover_rx_data(struct recover *r, uint32_t seq, uint16_t flow, const uint8_t *data,
		     size_t len);
/* A parity shard arrived: keeps it, and rebuilds what its block lacks if it
 * can now, calling fn for each packet rebuilt. Returns the number rebuilt,
 * or a negative errno for parity it cannot use (counted in unusable). */
int recover_rx_parity(struct recover *r, const struct wire_parity *h, const uint8_t *shard,
		      size_t shard_len, recover_fn fn, void *ctx);
/* After recover_rx_data: if seq belongs to a block whose parity came first,
 * tries to rebuild the rest of it. Returns the number rebuilt. */
int recover_rx_retry(struct recover *r, uint32_t seq, recover_fn fn, void *ctx);
const struct recover_rx_stats *recover_rx_stats(const struct recover *r);
/* The block whose parity came with first_seq, if parity alone cannot
 * rebuild it: the data packets it lacks beyond what its parity here covers,
 * earliest first, up to max, written to seqs and counted. 0 if no parity of
 * it came, it is done, or it has enough. */
unsigned recover_rx_need(const struct recover *r, uint32_t first_seq, uint32_t *seqs,
			 unsigned max);

/* --- retransmission ------------------------------------------------------- */

/* Keeps a data packet just sent, so a NACK for it can be answered. */
void recover_retx_put(struct recover *r, uint32_t seq, uint16_t flow, const uint8_t *data,
		      size_t len, uint64_t now);
/* The stored packet for seq if it is no older than max_age_ns and was not
 * retransmitted twice already (a NACK and one retry); counts the
 * retransmission. Returns its length, or -ENOENT. */
int recover_retx_take(struct recover *r, uint32_t seq, uint64_t now, uint64_t max_age_ns,
		      uint16_t *flow, const uint8_t **data);

/* --- choosing M ----------------------------------------------------------- */

/* The smallest M (0..max_m) for which a block of k data packets, each packet
 * lost independently with probability loss_ppm / 1e6, loses data beyond
 * repair with probability at most target; max_m if none does. */
unsigned recover_pick_m(unsigned k, unsigned max_m, uint64_t loss_ppm, double target);

#endif
