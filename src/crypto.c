/* Keys and authenticated encryption for tunnel packets; see crypto.h for the
 * scheme. All primitives come from libsodium. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "braid/wire.h"
#include "crypto.h"

/* A key file holds 44 characters of base64 and a newline; anything much
 * longer is not a key file, and reading it whole would be pointless. */
#define KEY_FILE_MAX 256

static const char hs_label[] = "braid v1 handshake";
static const char session_label[] = "braid v1 session";
/* crypto_kdf contexts are exactly crypto_kdf_CONTEXTBYTES (8) characters. */
static const char session_kdf_ctx[crypto_kdf_CONTEXTBYTES + 1] = "braidses";

enum { SUBKEY_EDGE_TO_HUB = 1, SUBKEY_HUB_TO_EDGE = 2 };

int crypto_init(void)
{
	/* 1 means "already initialised", which is fine. */
	return sodium_init() < 0 ? -EIO : 0;
}

void crypto_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Reads up to max bytes; returns the count or a negative errno. Stops early
 * only at end of file. */
static ssize_t read_upto(int fd, char *buf, size_t max)
{
	size_t got = 0;

	while (got < max) {
		ssize_t n = read(fd, buf + got, max - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\v' || c == '\f';
}

int crypto_key_load(const char *path, uint8_t psk[BRAID_KEY_LEN], char *err, size_t errlen)
{
	/* One byte more than we accept, to tell "too long" from "exactly max". */
	char buf[KEY_FILE_MAX + 1];
	uint8_t bin[KEY_FILE_MAX];
	size_t bin_len = 0;
	struct stat st;
	ssize_t n;
	char *s, *e;
	int fd, ret;

	crypto_wipe(psk, BRAID_KEY_LEN);
	/* O_NONBLOCK so a FIFO in the key's place cannot hang start-up before
	 * fstat refuses it; it changes nothing for a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			set_err(err, errlen, "key file %s is a symbolic link; "
				"point the config at the file itself", path);
		else
			set_err(err, errlen, "cannot open key file %s: %s",
				path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		set_err(err, errlen, "cannot stat key file %s: %s",
			path, strerror(-ret));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		set_err(err, errlen, "key file %s is not a regular file", path);
		goto err_close;
	}
	if (st.st_mode & 077) {
		ret = -EACCES;
		set_err(err, errlen, "key file %s is readable or writable by group or others "
			"(mode %04o); chmod 600 it", path,
			(unsigned)(st.st_mode & 07777));
		goto err_close;
	}
	n = read_upto(fd, buf, sizeof(buf));
	if (n < 0) {
		ret = (int)n;
		set_err(err, errlen, "cannot read key file %s: %s",
			path, strerror(-ret));
		goto err_wipe;
	}
	if ((size_t)n > KEY_FILE_MAX) {
		ret = -EINVAL;
		set_err(err, errlen, "key file %s is too long to be a key "
			"(over %d bytes); expected one line of base64",
			path, KEY_FILE_MAX);
		goto err_wipe;
	}

	s = buf;
	e = buf + n;
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	if (s == e) {
		ret = -EINVAL;
		set_err(err, errlen, "key file %s is empty; create one with "
			"`braidctl genkey`", path);
		goto err_wipe;
	}
	/* Decode into a buffer larger than a key so a wrong length is reported
	 * as such rather than as bad base64. No characters are ignored: a key
	 * with anything inside it but base64 is a mistake worth naming. */
	if (sodium_base642bin(bin, sizeof(bin), s, (size_t)(e - s), NULL,
			      &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		ret = -EINVAL;
		set_err(err, errlen, "key file %s does not hold valid base64", path);
		goto err_wipe;
	}
	if (bin_len != BRAID_KEY_LEN) {
		ret = -EINVAL;
		set_err(err, errlen, "key file %s holds %zu bytes, expected %d; "
			"create one with `braidctl genkey`", path, bin_len,
			BRAID_KEY_LEN);
		goto err_wipe;
	}
	memcpy(psk, bin, BRAID_KEY_LEN);
	ret = 0;

err_wipe:
	crypto_wipe(buf, sizeof(buf));
	crypto_wipe(bin, sizeof(bin));
err_close:
	close(fd);
	return ret;
}

void crypto_key_generate(char *buf, size_t len)
{
	uint8_t key[BRAID_KEY_LEN];
	const size_t b64 = sodium_base64_ENCODED_LEN(BRAID_KEY_LEN,
						     sodium_base64_VARIANT_ORIGINAL);
	size_t n;

	/* b64 counts the NUL; the newline needs one more byte. */
	if (len < b64 + 1) {
		if (len)
			buf[0] = '\0';
		return;
	}
	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(buf, len, key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
	crypto_wipe(key, sizeof(key));
	n = strlen(buf);
	buf[n] = '\n';
	buf[n + 1] = '\0';
}

void crypto_derive_hs_key(const uint8_t psk[BRAID_KEY_LEN], uint8_t hs_key[BRAID_KEY_LEN])
{
	crypto_generichash(hs_key, BRAID_KEY_LEN,
			   (const uint8_t *)hs_label, sizeof(hs_label) - 1,
			   psk, BRAID_KEY_LEN);
}

void crypto_derive_session(const uint8_t psk[BRAID_KEY_LEN],
			   const uint8_t edge_nonce[32], const uint8_t hub_nonce[32],
			   uint32_t session, int is_edge,
			   uint8_t tx[BRAID_KEY_LEN], uint8_t rx[BRAID_KEY_LEN])
{
	crypto_generichash_state st;
	uint8_t master[crypto_kdf_KEYBYTES];
	const uint8_t sid[4] = {
		(uint8_t)(session >> 24), (uint8_t)(session >> 16),
		(uint8_t)(session >> 8), (uint8_t)session,
	};

	crypto_generichash_init(&st, psk, BRAID_KEY_LEN, sizeof(master));
	crypto_generichash_update(&st, (const uint8_t *)session_label,
				  sizeof(session_label) - 1);
	crypto_generichash_update(&st, edge_nonce, 32);
	crypto_generichash_update(&st, hub_nonce, 32);
	crypto_generichash_update(&st, sid, sizeof(sid));
	crypto_generichash_final(&st, master, sizeof(master));
	crypto_wipe(&st, sizeof(st));

	crypto_kdf_derive_from_key(is_edge ? tx : rx, BRAID_KEY_LEN,
				   SUBKEY_EDGE_TO_HUB, session_kdf_ctx, master);
	crypto_kdf_derive_from_key(is_edge ? rx : tx, BRAID_KEY_LEN,
				   SUBKEY_HUB_TO_EDGE, session_kdf_ctx, master);
	crypto_wipe(master, sizeof(master));
}

/* The 96-bit IETF nonce: four zero bytes, then the 64-bit counter. */
static void make_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES],
		       uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

size_t crypto_seal(const uint8_t key[BRAID_KEY_LEN], uint64_t counter, uint8_t *pkt, size_t plain_len)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	uint8_t *body = pkt + WIRE_OUTER_LEN;

	make_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		body, body + plain_len, NULL, body, plain_len,
		pkt, WIRE_OUTER_LEN, NULL, nonce, key);
	return WIRE_OUTER_LEN + plain_len + WIRE_TAG_LEN;
}

int crypto_open(const uint8_t key[BRAID_KEY_LEN], uint64_t counter, uint8_t *pkt, size_t len)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	uint8_t *body = pkt + WIRE_OUTER_LEN;
	size_t clen;

	/* The upper bound keeps the returned length inside an int; no valid
	 * datagram is longer. */
	if (len < WIRE_MIN_LEN || len > BRAID_PKT_MAX)
		return -EBADMSG;
	clen = len - WIRE_MIN_LEN;
	make_nonce(nonce, counter);
	/* libsodium checks the tag before decrypting; on failure it zeroes the
	 * ciphertext in place, which is harmless since the packet is dropped. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		    body, NULL, body, clen, body + clen,
		    pkt, WIRE_OUTER_LEN, nonce, key) != 0)
		return -EBADMSG;
	return (int)clen;
}

/* The body a handshake packet's MAC covers, by its type: HS_COOKIE's is
 * the cookie, HS_INIT's and HS_RESP's struct wire_hs. */
static size_t hs_body_len(const uint8_t *pkt)
{
	return pkt[1] == WIRE_HS_COOKIE ? WIRE_HS_COOKIE_LEN : WIRE_HS_BODY_LEN;
}

static void hs_mac(const uint8_t hs_key[BRAID_KEY_LEN], const uint8_t *pkt,
		   const uint8_t *bind, uint8_t mac[WIRE_TAG_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, hs_key, BRAID_KEY_LEN, WIRE_TAG_LEN);
	crypto_generichash_update(&st, pkt, WIRE_OUTER_LEN + hs_body_len(pkt));
	if (bind)
		crypto_generichash_update(&st, bind, WIRE_HS_NONCE_LEN);
	crypto_generichash_final(&st, mac, WIRE_TAG_LEN);
	crypto_wipe(&st, sizeof(st));
}

size_t crypto_hs_seal(const uint8_t hs_key[BRAID_KEY_LEN], uint8_t *pkt, const uint8_t *bind)
{
	size_t body = hs_body_len(pkt);

	hs_mac(hs_key, pkt, bind, pkt + WIRE_OUTER_LEN + body);
	return WIRE_OUTER_LEN + body + WIRE_TAG_LEN;
}

int crypto_hs_verify(const uint8_t hs_key[BRAID_KEY_LEN], const uint8_t *pkt, size_t len, const uint8_t *bind)
{
	uint8_t mac[WIRE_TAG_LEN];
	size_t body;
	int ret;

	if (len < WIRE_MIN_LEN)
		return -EBADMSG;
	body = hs_body_len(pkt);
	if (len != WIRE_OUTER_LEN + body + WIRE_TAG_LEN)
		return -EBADMSG;
	hs_mac(hs_key, pkt, bind, mac);
	ret = sodium_memcmp(mac, pkt + WIRE_OUTER_LEN + body, WIRE_TAG_LEN) == 0 ? 0 : -EBADMSG;
	crypto_wipe(mac, sizeof(mac));
	return ret;
}
