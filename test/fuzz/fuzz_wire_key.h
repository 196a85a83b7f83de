/* The fixed key the wire fuzz harness and its corpus generator share: the
 * session key for DATA/PROBE seeds and the PSK the handshake key comes from.
 * One definition, so a seed the generator seals always opens in the harness. */
#ifndef BRAID_FUZZ_WIRE_KEY_H
#define BRAID_FUZZ_WIRE_KEY_H

#include <stdint.h>

#include "crypto.h"

static const uint8_t fuzz_key[BRAID_KEY_LEN] = {
	0x62, 0x72, 0x61, 0x69, 0x64, 0x2d, 0x66, 0x75,
	0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
	0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x21,
};

/* HS_RESP binds the init's nonce; the seed HS_INIT's nonce is bytes 0..31
 * plus this offset. */
#define FUZZ_INIT_NONCE_BASE 0x40

#endif
