/* The hub's handshake cookies, after WireGuard's cookie reply: an HS_INIT
 * that does not echo a valid cookie gets an HS_COOKIE back and changes
 * nothing at the hub; one that does proves its sender receives at the
 * address it came from, recently.
 *
 * cookie = BLAKE2b-128 keyed with a random secret, over a label and the
 * source address. The secret is replaced every COOKIE_ROTATE_NS of the
 * hub's own monotonic clock (lazily, at the next init), and the previous
 * one still verifies, so a cookie lives at most 2 * COOKIE_ROTATE_NS after
 * its secret was made. No clock of the edge's is involved.
 *
 * A valid cookie does not make an init new: whoever captured one from the
 * edge's address (on the path) may replay it while its cookie lives. So the
 * hub also remembers the init nonces it took (COOKIE_TAKEN of them, each
 * for as long as a cookie that came with it could still verify) and takes
 * each only once. */
#ifndef BRAID_COOKIE_H
#define BRAID_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "braid/wire.h"
#include "addr.h"

#define COOKIE_SECRET_LEN 32
#define COOKIE_ROTATE_NS  (120ull * 1000000000ull)
#define COOKIE_TAKEN      64

struct cookie_hub {
	uint8_t secret[2][COOKIE_SECRET_LEN];	/* [0] current, [1] previous */
	uint64_t born[2];
	bool have[2];
	struct {
		uint8_t nonce[WIRE_HS_NONCE_LEN];
		uint64_t at;
		bool on;
	} taken[COOKIE_TAKEN];
};

/* True when the current secret is missing or due for replacement: the
 * caller then gives cookie_rotate a fresh random one before using the hub. */
bool cookie_need_secret(const struct cookie_hub *h, uint64_t now);
/* The current secret becomes the previous; fresh is copied (the caller
 * wipes its copy). */
void cookie_rotate(struct cookie_hub *h, const uint8_t fresh[COOKIE_SECRET_LEN], uint64_t now);
/* The cookie for source address a, under the current secret (which must
 * exist: see cookie_need_secret). */
void cookie_make(const struct cookie_hub *h, const union braid_addr *a,
		 uint8_t out[WIRE_HS_COOKIE_LEN]);
/* True if c is a's cookie under the current or a live previous secret. */
bool cookie_valid(const struct cookie_hub *h, const union braid_addr *a,
		  const uint8_t c[WIRE_HS_COOKIE_LEN], uint64_t now);
/* True if nonce was taken within the life of a cookie (so a valid cookie
 * may still come with it). */
bool cookie_nonce_taken(const struct cookie_hub *h, const uint8_t nonce[WIRE_HS_NONCE_LEN],
			uint64_t now);
/* Records nonce as taken; when the table is full the oldest goes (which
 * may let its init, if replayed within its cookie's life, be taken again:
 * that churns the pending handshake at worst, never the session in force). */
void cookie_nonce_take(struct cookie_hub *h, const uint8_t nonce[WIRE_HS_NONCE_LEN], uint64_t now);
/* Forgets every secret and nonce. */
void cookie_wipe(struct cookie_hub *h);

#endif
