/* Keys and authenticated encryption for tunnel packets (libsodium).
 *
 * The pre-shared key (PSK) never encrypts a packet itself. A handshake key,
 * derived from the PSK, authenticates HS_INIT/HS_RESP with a keyed BLAKE2b
 * MAC (no nonce, so nothing can be reused). Each session gets two fresh
 * ChaCha20-Poly1305-IETF keys, one per direction, derived from the PSK, both
 * sides' random handshake nonces and the session id: a restart on either side
 * gives new keys, so a (key, counter) nonce pair never repeats. */
#ifndef BRAID_CRYPTO_H
#define BRAID_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define BRAID_KEY_LEN 32

/* Calls sodium_init(); 0 or -EIO. */
int crypto_init(void);

/* Reads a key file: one line, the base64 of 32 bytes (as `head -c 32 /dev/urandom | base64`
 * writes). Refuses a file readable or writable by group or others. On error
 * returns a negative errno and writes a sentence naming the file into err. */
int crypto_key_load(const char *path, uint8_t psk[BRAID_KEY_LEN], char *err, size_t errlen);
/* Writes a fresh key as base64 plus newline into buf (>= 64 bytes). */
void crypto_key_generate(char *buf, size_t len);

void crypto_derive_hs_key(const uint8_t psk[BRAID_KEY_LEN], uint8_t hs_key[BRAID_KEY_LEN]);
/* is_edge picks which derived key is tx and which rx. */
void crypto_derive_session(const uint8_t psk[BRAID_KEY_LEN],
			   const uint8_t edge_nonce[32], const uint8_t hub_nonce[32],
			   uint32_t session, int is_edge,
			   uint8_t tx[BRAID_KEY_LEN], uint8_t rx[BRAID_KEY_LEN]);

/* pkt holds the 16-byte outer header, then plain_len bytes of plaintext.
 * Encrypts the plaintext in place, appends the tag, and returns the datagram
 * length (WIRE_OUTER_LEN + plain_len + WIRE_TAG_LEN). The outer header is the
 * associated data; `counter` must be the one written in it. */
size_t crypto_seal(const uint8_t key[BRAID_KEY_LEN], uint64_t counter, uint8_t *pkt, size_t plain_len);
/* Verifies and decrypts a datagram of len bytes in place. Returns the
 * plaintext length (the plaintext starts at pkt + WIRE_OUTER_LEN) or -EBADMSG. */
int crypto_open(const uint8_t key[BRAID_KEY_LEN], uint64_t counter, uint8_t *pkt, size_t len);

/* Handshake MAC over the outer header and body at pkt (the body's length is
 * the packet type's: WIRE_HS_COOKIE_LEN for HS_COOKIE, else WIRE_HS_BODY_LEN)
 * and, when bind is not NULL, the 32 bytes at bind (HS_RESP and HS_COOKIE
 * bind the init's nonce). hs_seal appends the 16-byte MAC and returns the
 * packet's length; hs_verify returns 0 or -EBADMSG (also for a length that
 * is not the type's), in constant time. */
size_t crypto_hs_seal(const uint8_t hs_key[BRAID_KEY_LEN], uint8_t *pkt, const uint8_t *bind);
int crypto_hs_verify(const uint8_t hs_key[BRAID_KEY_LEN], const uint8_t *pkt, size_t len, const uint8_t *bind);

/* Zeroes secrets in a way the compiler cannot drop. */
void crypto_wipe(void *p, size_t n);

#endif
