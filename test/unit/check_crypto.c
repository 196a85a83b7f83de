/* Crypto: AEAD seal/open and its failure on any tampering, the session and
 * handshake key derivations (checked against a from-scratch reference built
 * on libsodium directly, so the documented construction is pinned), the
 * handshake MAC, and key files, good and bad. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "braid/wire.h"
#include "crypto.h"

static const uint8_t key_a[BRAID_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* A temporary directory per test (Check forks each test, and the checked
 * fixture runs in that child). */
static char tmpdir[64];

static void crypto_setup(void)
{
	ck_assert_int_eq(crypto_init(), 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_crypto.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void crypto_teardown(void)
{
	/* Depth first and without following links: only our mkdtemp tree. */
	if (nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* --- AEAD ------------------------------------------------------------------ */

#define PLAIN_LEN 40
#define SEALED_LEN (WIRE_OUTER_LEN + PLAIN_LEN + WIRE_TAG_LEN)
#define TEST_COUNTER 0x0102030405060708ULL

static void fill_plain(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13 + 5);
}

/* A sealed DATA-like packet: outer header, PLAIN_LEN bytes, tag. */
static void make_sealed(uint8_t pkt[SEALED_LEN])
{
	const struct wire_outer o = {
		.version = BRAID_WIRE_VERSION, .type = WIRE_DATA,
		.session = 0xcafef00d, .counter = TEST_COUNTER,
	};

	wire_put_outer(pkt, &o);
	fill_plain(pkt + WIRE_OUTER_LEN, PLAIN_LEN);
	ck_assert_uint_eq(crypto_seal(key_a, TEST_COUNTER, pkt, PLAIN_LEN), SEALED_LEN);
}

START_TEST(seal_open_roundtrip)
{
	static const size_t lens[] = { 0, 1, 16, 100, BRAID_PKT_MAX - WIRE_MIN_LEN };
	static uint8_t pkt[BRAID_PKT_MAX], want[BRAID_PKT_MAX];
	const size_t plain_len = lens[_i];
	const struct wire_outer o = {
		.version = BRAID_WIRE_VERSION, .type = WIRE_DATA,
		.session = 1, .counter = 99,
	};
	size_t n;

	wire_put_outer(pkt, &o);
	fill_plain(pkt + WIRE_OUTER_LEN, plain_len);
	memcpy(want, pkt, WIRE_OUTER_LEN + plain_len);
	n = crypto_seal(key_a, 99, pkt, plain_len);
	ck_assert_uint_eq(n, WIRE_OUTER_LEN + plain_len + WIRE_TAG_LEN);
	/* The header stays in the clear; the body does not. */
	ck_assert_mem_eq(pkt, want, WIRE_OUTER_LEN);
	if (plain_len >= 16)
		ck_assert_int_ne(memcmp(pkt + WIRE_OUTER_LEN, want + WIRE_OUTER_LEN,
					plain_len), 0);
	ck_assert_int_eq(crypto_open(key_a, 99, pkt, n), (int)plain_len);
	ck_assert_mem_eq(pkt, want, WIRE_OUTER_LEN + plain_len);
}
END_TEST

/* The nonce is four zero bytes and the big-endian counter, and the tag
 * follows the ciphertext: decrypt with libsodium directly to pin that. */
START_TEST(seal_layout_matches_spec)
{
	const uint8_t nonce[12] = { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t pkt[SEALED_LEN], plain[PLAIN_LEN], want[PLAIN_LEN];

	make_sealed(pkt);
	fill_plain(want, PLAIN_LEN);
	ck_assert_int_eq(crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		plain, NULL, pkt + WIRE_OUTER_LEN, PLAIN_LEN,
		pkt + WIRE_OUTER_LEN + PLAIN_LEN, pkt, WIRE_OUTER_LEN,
		nonce, key_a), 0);
	ck_assert_mem_eq(plain, want, PLAIN_LEN);
}
END_TEST

/* Every single byte of header, ciphertext and tag, each with a low and a
 * high bit flipped, makes open fail. */
START_TEST(open_fails_on_any_tampered_byte)
{
	static const uint8_t masks[] = { 0x01, 0x80 };
	uint8_t orig[SEALED_LEN], pkt[SEALED_LEN];

	make_sealed(orig);
	for (size_t i = 0; i < SEALED_LEN; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			memcpy(pkt, orig, SEALED_LEN);
			pkt[i] ^= masks[m];
			if (crypto_open(key_a, TEST_COUNTER, pkt, SEALED_LEN) != -EBADMSG)
				ck_abort_msg("tampered byte %zu (mask %#x) accepted",
					     i, masks[m]);
		}
	}
	/* The untampered packet still opens: the loop above was not vacuous. */
	memcpy(pkt, orig, SEALED_LEN);
	ck_assert_int_eq(crypto_open(key_a, TEST_COUNTER, pkt, SEALED_LEN), PLAIN_LEN);
}
END_TEST

START_TEST(open_fails_on_wrong_counter)
{
	static const uint64_t wrong[] = {
		TEST_COUNTER + 1, TEST_COUNTER - 1, TEST_COUNTER ^ (1ULL << 63), 0,
		/* The counter bytes swapped: catches a little-endian nonce. */
		0x0807060504030201ULL,
	};
	uint8_t orig[SEALED_LEN], pkt[SEALED_LEN];

	make_sealed(orig);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		memcpy(pkt, orig, SEALED_LEN);
		ck_assert_int_eq(crypto_open(key_a, wrong[i], pkt, SEALED_LEN), -EBADMSG);
	}
}
END_TEST

START_TEST(open_fails_on_wrong_key)
{
	uint8_t orig[SEALED_LEN], pkt[SEALED_LEN], key_b[BRAID_KEY_LEN];

	make_sealed(orig);
	for (size_t i = 0; i < BRAID_KEY_LEN; i += 7) {
		memcpy(key_b, key_a, BRAID_KEY_LEN);
		key_b[i] ^= 0x20;
		memcpy(pkt, orig, SEALED_LEN);
		ck_assert_int_eq(crypto_open(key_b, TEST_COUNTER, pkt, SEALED_LEN), -EBADMSG);
	}
}
END_TEST

START_TEST(open_fails_on_bad_length)
{
	uint8_t orig[SEALED_LEN], pkt[SEALED_LEN];

	make_sealed(orig);
	for (size_t len = 0; len < WIRE_MIN_LEN; len++) {
		uint8_t *p = malloc(len ? len : 1);

		ck_assert_ptr_nonnull(p);
		memcpy(p, orig, len);
		ck_assert_int_eq(crypto_open(key_a, TEST_COUNTER, p, len), -EBADMSG);
		free(p);
	}
	/* One byte short or long moves the tag: fails. */
	memcpy(pkt, orig, SEALED_LEN);
	ck_assert_int_eq(crypto_open(key_a, TEST_COUNTER, pkt, SEALED_LEN - 1), -EBADMSG);
	ck_assert_int_eq(crypto_open(key_a, TEST_COUNTER, pkt, BRAID_PKT_MAX + 1), -EBADMSG);
}
END_TEST

/* --- key derivation -------------------------------------------------------- */

static void nonces(uint8_t e[32], uint8_t h[32], uint8_t seed)
{
	for (int i = 0; i < 32; i++) {
		e[i] = (uint8_t)(seed + i);
		h[i] = (uint8_t)(seed * 3 + 100 + i);
	}
}

START_TEST(session_keys_pair_up)
{
	uint8_t en[32], hn[32];
	uint8_t etx[32], erx[32], htx[32], hrx[32];

	nonces(en, hn, 1);
	crypto_derive_session(key_a, en, hn, 42, 1, etx, erx);
	crypto_derive_session(key_a, en, hn, 42, 0, htx, hrx);
	ck_assert_mem_eq(etx, hrx, 32);
	ck_assert_mem_eq(erx, htx, 32);
	ck_assert_int_ne(memcmp(etx, erx, 32), 0);
	ck_assert_int_ne(memcmp(etx, key_a, 32), 0);

	/* What the edge seals, the hub opens, and not the other way round with
	 * the same key. */
	{
		uint8_t pkt[SEALED_LEN] = { 1, WIRE_DATA };
		size_t n = crypto_seal(etx, 5, pkt, PLAIN_LEN);

		ck_assert_int_eq(crypto_open(hrx, 5, pkt, n), PLAIN_LEN);
		n = crypto_seal(etx, 6, pkt, PLAIN_LEN);
		ck_assert_int_eq(crypto_open(htx, 6, pkt, n), -EBADMSG);
	}
}
END_TEST

/* Changing any one input changes both keys. */
START_TEST(session_keys_depend_on_every_input)
{
	uint8_t en[32], hn[32], psk_b[32];
	uint8_t tx0[32], rx0[32], tx[32], rx[32];

	nonces(en, hn, 1);
	crypto_derive_session(key_a, en, hn, 42, 1, tx0, rx0);

	for (int which = 0; which < 4; which++) {
		uint8_t e2[32], h2[32];
		uint32_t sid = 42;

		memcpy(e2, en, 32);
		memcpy(h2, hn, 32);
		memcpy(psk_b, key_a, 32);
		switch (which) {
		case 0: e2[31] ^= 1; break;
		case 1: h2[0] ^= 1; break;
		case 2: sid = 43; break;
		default: psk_b[16] ^= 1; break;
		}
		crypto_derive_session(psk_b, e2, h2, sid, 1, tx, rx);
		if (memcmp(tx, tx0, 32) == 0 || memcmp(rx, rx0, 32) == 0)
			ck_abort_msg("input %d did not change the session keys", which);
	}
	/* Swapping the nonces' roles gives different keys too. */
	crypto_derive_session(key_a, hn, en, 42, 1, tx, rx);
	ck_assert_int_ne(memcmp(tx, tx0, 32), 0);
}
END_TEST

/* The construction as documented, built from libsodium calls here. */
START_TEST(session_keys_match_reference)
{
	const char label[] = "braid v1 session";
	const uint8_t sid[4] = { 0x12, 0x34, 0x56, 0x78 };
	uint8_t en[32], hn[32], master[32], e2h[32], h2e[32], tx[32], rx[32];
	crypto_generichash_state st;

	nonces(en, hn, 9);
	crypto_generichash_init(&st, key_a, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, en, 32);
	crypto_generichash_update(&st, hn, 32);
	crypto_generichash_update(&st, sid, 4);
	crypto_generichash_final(&st, master, 32);
	crypto_kdf_derive_from_key(e2h, 32, 1, "braidses", master);
	crypto_kdf_derive_from_key(h2e, 32, 2, "braidses", master);

	crypto_derive_session(key_a, en, hn, 0x12345678, 1, tx, rx);
	ck_assert_mem_eq(tx, e2h, 32);
	ck_assert_mem_eq(rx, h2e, 32);
}
END_TEST

START_TEST(hs_key_matches_reference)
{
	const char label[] = "braid v1 handshake";
	uint8_t want[32], got[32], psk_b[32];

	crypto_generichash(want, 32, (const uint8_t *)label, strlen(label), key_a, 32);
	crypto_derive_hs_key(key_a, got);
	ck_assert_mem_eq(got, want, 32);
	ck_assert_int_ne(memcmp(got, key_a, 32), 0);

	memcpy(psk_b, key_a, 32);
	psk_b[0] ^= 1;
	crypto_derive_hs_key(psk_b, got);
	ck_assert_int_ne(memcmp(got, want, 32), 0);
}
END_TEST

/* --- handshake MAC ----------------------------------------------------------- */

static void make_hs(uint8_t pkt[WIRE_HS_LEN], uint8_t type)
{
	const struct wire_outer o = {
		.version = BRAID_WIRE_VERSION, .type = type, .session = 7, .counter = 0,
	};
	struct wire_hs hs;

	for (int i = 0; i < WIRE_HS_NONCE_LEN; i++)
		hs.nonce[i] = (uint8_t)(0xc0 ^ i);
	for (int i = 0; i < WIRE_HS_COOKIE_LEN; i++)
		hs.cookie[i] = type == WIRE_HS_INIT ? (uint8_t)(0x5a + i) : 0;
	wire_put_outer(pkt, &o);
	wire_put_hs(pkt + WIRE_OUTER_LEN, &hs);
}

START_TEST(hs_mac_verify_and_tamper)
{
	uint8_t hs_key[32], orig[WIRE_HS_LEN], pkt[WIRE_HS_LEN];

	crypto_derive_hs_key(key_a, hs_key);
	make_hs(orig, WIRE_HS_INIT);
	ck_assert_uint_eq(crypto_hs_seal(hs_key, orig, NULL), WIRE_HS_LEN);
	ck_assert_int_eq(crypto_hs_verify(hs_key, orig, WIRE_HS_LEN, NULL), 0);

	for (size_t i = 0; i < WIRE_HS_LEN; i++) {
		memcpy(pkt, orig, WIRE_HS_LEN);
		pkt[i] ^= 0x04;
		if (crypto_hs_verify(hs_key, pkt, WIRE_HS_LEN, NULL) != -EBADMSG)
			ck_abort_msg("tampered handshake byte %zu accepted", i);
	}
	/* Wrong key. */
	ck_assert_int_eq(crypto_hs_verify(key_a, orig, WIRE_HS_LEN, NULL), -EBADMSG);
	/* Wrong lengths, even with a valid MAC in place. */
	ck_assert_int_eq(crypto_hs_verify(hs_key, orig, WIRE_HS_LEN - 1, NULL), -EBADMSG);
	ck_assert_int_eq(crypto_hs_verify(hs_key, orig, WIRE_HS_LEN + 1, NULL), -EBADMSG);
	ck_assert_int_eq(crypto_hs_verify(hs_key, orig, 0, NULL), -EBADMSG);
}
END_TEST

START_TEST(hs_mac_bind)
{
	uint8_t hs_key[32], pkt[WIRE_HS_LEN], bind[32], other[32];

	crypto_derive_hs_key(key_a, hs_key);
	for (int i = 0; i < 32; i++) {
		bind[i] = (uint8_t)i;
		other[i] = (uint8_t)i;
	}
	other[31] ^= 1;

	make_hs(pkt, WIRE_HS_RESP);
	crypto_hs_seal(hs_key, pkt, bind);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_LEN, bind), 0);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_LEN, other), -EBADMSG);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_LEN, NULL), -EBADMSG);

	/* Sealed without a bind, verified with one: refused too. */
	make_hs(pkt, WIRE_HS_RESP);
	crypto_hs_seal(hs_key, pkt, NULL);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_LEN, bind), -EBADMSG);
}
END_TEST

static void make_cookie(uint8_t pkt[WIRE_HS_COOKIE_PKT_LEN])
{
	const struct wire_outer o = {
		.version = BRAID_WIRE_VERSION, .type = WIRE_HS_COOKIE, .session = 7,
	};
	struct wire_hs_cookie ck;

	for (int i = 0; i < WIRE_HS_COOKIE_LEN; i++)
		ck.cookie[i] = (uint8_t)(0xa0 + i);
	wire_put_outer(pkt, &o);
	wire_put_hs_cookie(pkt + WIRE_OUTER_LEN, &ck);
}

/* HS_COOKIE: a shorter body, the same MAC, bound to the init's nonce. Its
 * length is the type's: neither an init's length nor any other verifies. */
START_TEST(hs_mac_cookie)
{
	uint8_t hs_key[32], orig[WIRE_HS_COOKIE_PKT_LEN], pkt[WIRE_HS_LEN], bind[32];

	crypto_derive_hs_key(key_a, hs_key);
	memset(bind, 0x77, sizeof(bind));
	make_cookie(orig);
	ck_assert_uint_eq(crypto_hs_seal(hs_key, orig, bind), WIRE_HS_COOKIE_PKT_LEN);
	ck_assert_uint_eq(WIRE_HS_COOKIE_PKT_LEN, 48);
	ck_assert_int_eq(crypto_hs_verify(hs_key, orig, WIRE_HS_COOKIE_PKT_LEN, bind), 0);
	ck_assert_int_eq(crypto_hs_verify(hs_key, orig, WIRE_HS_COOKIE_PKT_LEN, NULL), -EBADMSG);
	for (size_t i = 0; i < WIRE_HS_COOKIE_PKT_LEN; i++) {
		memcpy(pkt, orig, WIRE_HS_COOKIE_PKT_LEN);
		pkt[i] ^= 0x10;
		if (crypto_hs_verify(hs_key, pkt, WIRE_HS_COOKIE_PKT_LEN, bind) != -EBADMSG)
			ck_abort_msg("tampered cookie byte %zu accepted", i);
	}
	memcpy(pkt, orig, WIRE_HS_COOKIE_PKT_LEN);
	memset(pkt + WIRE_HS_COOKIE_PKT_LEN, 0, WIRE_HS_LEN - WIRE_HS_COOKIE_PKT_LEN);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_COOKIE_PKT_LEN - 1, bind), -EBADMSG);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_COOKIE_PKT_LEN + 1, bind), -EBADMSG);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_LEN, bind), -EBADMSG);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_MIN_LEN - 1, bind), -EBADMSG);
	/* An init's MAC over a cookie packet's first bytes: the type byte
	 * differs, so one can never pass for the other. */
	make_hs(pkt, WIRE_HS_INIT);
	crypto_hs_seal(hs_key, pkt, NULL);
	pkt[1] = WIRE_HS_COOKIE;
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_LEN, NULL), -EBADMSG);
	ck_assert_int_eq(crypto_hs_verify(hs_key, pkt, WIRE_HS_COOKIE_PKT_LEN, NULL), -EBADMSG);
}
END_TEST

START_TEST(hs_mac_matches_reference)
{
	uint8_t hs_key[32], pkt[WIRE_HS_LEN], bind[32], want[16];
	crypto_generichash_state st;

	crypto_derive_hs_key(key_a, hs_key);
	memset(bind, 0x3c, sizeof(bind));
	make_hs(pkt, WIRE_HS_RESP);
	crypto_hs_seal(hs_key, pkt, bind);

	crypto_generichash_init(&st, hs_key, 32, 16);
	crypto_generichash_update(&st, pkt, WIRE_OUTER_LEN + WIRE_HS_BODY_LEN);
	crypto_generichash_update(&st, bind, 32);
	crypto_generichash_final(&st, want, 16);
	ck_assert_mem_eq(pkt + WIRE_OUTER_LEN + WIRE_HS_BODY_LEN, want, 16);

	/* HS_COOKIE: outer header and cookie, then the bind. */
	make_cookie(pkt);
	crypto_hs_seal(hs_key, pkt, bind);
	crypto_generichash_init(&st, hs_key, 32, 16);
	crypto_generichash_update(&st, pkt, WIRE_OUTER_LEN + WIRE_HS_COOKIE_LEN);
	crypto_generichash_update(&st, bind, 32);
	crypto_generichash_final(&st, want, 16);
	ck_assert_mem_eq(pkt + WIRE_OUTER_LEN + WIRE_HS_COOKIE_LEN, want, 16);
}
END_TEST

/* --- key files ---------------------------------------------------------------- */

static const char key_a_b64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	/* fchmod, not the open mode, so the umask cannot interfere. */
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

static char *tmp_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Loads path and expects failure with ret, an error naming the file and
 * containing `word`, and psk left zeroed. */
static void expect_load_fails(const char *path, int ret, const char *word)
{
	uint8_t psk[BRAID_KEY_LEN], zero[BRAID_KEY_LEN] = { 0 };
	char err[256] = "";

	memset(psk, 0xaa, sizeof(psk));
	ck_assert_int_eq(crypto_key_load(path, psk, err, sizeof(err)), ret);
	ck_assert_mem_eq(psk, zero, sizeof(psk));
	if (!strstr(err, path))
		ck_abort_msg("error does not name the file: \"%s\"", err);
	if (word && !strstr(err, word))
		ck_abort_msg("error lacks \"%s\": \"%s\"", word, err);
}

START_TEST(key_load_good)
{
	static const char *const texts[] = {
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"  \tAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n\n",
	};
	uint8_t psk[BRAID_KEY_LEN];
	char err[256];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *path = tmp_path("good.key");

		write_file(path, texts[i], 0600);
		memset(psk, 0, sizeof(psk));
		ck_assert_int_eq(crypto_key_load(path, psk, err, sizeof(err)), 0);
		ck_assert_mem_eq(psk, key_a, BRAID_KEY_LEN);
	}
	/* Read-only for the owner is fine too. */
	write_file(tmp_path("ro.key"), key_a_b64, 0400);
	ck_assert_int_eq(crypto_key_load(tmp_path("ro.key"), psk, err, sizeof(err)), 0);
	ck_assert_mem_eq(psk, key_a, BRAID_KEY_LEN);
}
END_TEST

START_TEST(key_load_refuses_open_modes)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0620, 0602, 0660, 0601, 0610, 0666 };
	char want[32];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *path = tmp_path("open.key");

		write_file(path, key_a_b64, modes[i]);
		expect_load_fails(path, -EACCES, "chmod");
		snprintf(want, sizeof(want), "mode %04o", (unsigned)modes[i]);
		expect_load_fails(path, -EACCES, want);
	}
}
END_TEST

START_TEST(key_load_refuses_bad_contents)
{
	static const struct {
		const char *text;
		const char *word;
	} bad[] = {
		{ "not base64 at all!!\n", "base64" },
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", "base64" },	/* no padding */
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX GBkaGxwdHh8=\n", "base64" },	/* space inside */
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nextra\n", "base64" },
		{ "AAECAwQFBgcICQoLDA0ODw==\n", "16 bytes" },			/* 16 bytes */
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n", "33 bytes" },	/* 33 bytes */
		{ "", "empty" },
		{ " \n\n", "empty" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *path = tmp_path("bad.key");

		write_file(path, bad[i].text, 0600);
		expect_load_fails(path, -EINVAL, bad[i].word);
	}
}
END_TEST

START_TEST(key_load_refuses_long_file)
{
	char text[400];
	const char *path = tmp_path("long.key");

	memset(text, 'A', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	write_file(path, text, 0600);
	expect_load_fails(path, -EINVAL, "too long");
}
END_TEST

START_TEST(key_load_refuses_missing_dir_symlink)
{
	const char *dir = tmp_path("dir");
	char target[128], link[128];

	expect_load_fails(tmp_path("missing.key"), -ENOENT, "No such file");

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	expect_load_fails(dir, -EINVAL, "not a regular file");

	snprintf(target, sizeof(target), "%s", tmp_path("target.key"));
	snprintf(link, sizeof(link), "%s", tmp_path("link.key"));
	write_file(target, key_a_b64, 0600);
	ck_assert_int_eq(symlink(target, link), 0);
	expect_load_fails(link, -ELOOP, "symbolic link");
}
END_TEST

START_TEST(key_load_tolerates_tiny_err_buffer)
{
	uint8_t psk[BRAID_KEY_LEN];
	char err[8];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(crypto_key_load(tmp_path("missing.key"), psk, err, sizeof(err)),
			 -ENOENT);
	ck_assert_uint_lt(strlen(err), sizeof(err));
	ck_assert_int_eq(crypto_key_load(tmp_path("missing.key"), psk, NULL, 0), -ENOENT);
}
END_TEST

START_TEST(key_generate_load_roundtrip)
{
	char text[64], text2[64], err[256];
	uint8_t psk[BRAID_KEY_LEN], bin[BRAID_KEY_LEN];
	size_t bin_len = 0;
	char path[128];
	int fd;

	crypto_key_generate(text, sizeof(text));
	ck_assert_uint_eq(strlen(text), 45);
	ck_assert_int_eq(text[44], '\n');
	ck_assert_int_eq(sodium_base642bin(bin, sizeof(bin), text, 44, NULL, &bin_len,
					   NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(bin_len, BRAID_KEY_LEN);

	snprintf(path, sizeof(path), "%s/gen.XXXXXX", tmpdir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0600), 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(crypto_key_load(path, psk, err, sizeof(err)), 0);
	ck_assert_mem_eq(psk, bin, BRAID_KEY_LEN);

	crypto_key_generate(text2, sizeof(text2));
	ck_assert_str_ne(text, text2);
}
END_TEST

START_TEST(key_generate_small_buffer)
{
	char buf[45];

	memset(buf, 'x', sizeof(buf));
	crypto_key_generate(buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc;

	tc = tcase_create("aead");
	tcase_add_checked_fixture(tc, crypto_setup, crypto_teardown);
	tcase_add_loop_test(tc, seal_open_roundtrip, 0, 5);
	tcase_add_test(tc, seal_layout_matches_spec);
	tcase_add_test(tc, open_fails_on_any_tampered_byte);
	tcase_add_test(tc, open_fails_on_wrong_counter);
	tcase_add_test(tc, open_fails_on_wrong_key);
	tcase_add_test(tc, open_fails_on_bad_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("derive");
	tcase_add_checked_fixture(tc, crypto_setup, crypto_teardown);
	tcase_add_test(tc, session_keys_pair_up);
	tcase_add_test(tc, session_keys_depend_on_every_input);
	tcase_add_test(tc, session_keys_match_reference);
	tcase_add_test(tc, hs_key_matches_reference);
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake");
	tcase_add_checked_fixture(tc, crypto_setup, crypto_teardown);
	tcase_add_test(tc, hs_mac_verify_and_tamper);
	tcase_add_test(tc, hs_mac_bind);
	tcase_add_test(tc, hs_mac_cookie);
	tcase_add_test(tc, hs_mac_matches_reference);
	suite_add_tcase(s, tc);

	tc = tcase_create("keyfile");
	tcase_add_checked_fixture(tc, crypto_setup, crypto_teardown);
	tcase_add_test(tc, key_load_good);
	tcase_add_test(tc, key_load_refuses_open_modes);
	tcase_add_test(tc, key_load_refuses_bad_contents);
	tcase_add_test(tc, key_load_refuses_long_file);
	tcase_add_test(tc, key_load_refuses_missing_dir_symlink);
	tcase_add_test(tc, key_load_tolerates_tiny_err_buffer);
	tcase_add_test(tc, key_generate_load_roundtrip);
	tcase_add_test(tc, key_generate_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(crypto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
