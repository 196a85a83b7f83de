/* The hub's handshake cookies and the init nonces it took; see cookie.h. */
#include <string.h>

#include <sodium.h>

#include "cookie.h"

static const char cookie_label[] = "braid v1 cookie";

/* A cookie outlives its secret's term as current by one more term. */
#define COOKIE_LIFE_NS (2 * COOKIE_ROTATE_NS)

bool cookie_need_secret(const struct cookie_hub *h, uint64_t now)
{
	return !h->have[0] || now - h->born[0] >= COOKIE_ROTATE_NS;
}

void cookie_rotate(struct cookie_hub *h, const uint8_t fresh[COOKIE_SECRET_LEN], uint64_t now)
{
	/* The old current secret stays usable only while its cookies may
	 * still live: after a long quiet spell nothing it made is good. */
	h->have[1] = h->have[0] && now - h->born[0] < COOKIE_LIFE_NS;
	memcpy(h->secret[1], h->secret[0], COOKIE_SECRET_LEN);
	h->born[1] = h->born[0];
	memcpy(h->secret[0], fresh, COOKIE_SECRET_LEN);
	h->born[0] = now;
	h->have[0] = true;
}

static void mac(const uint8_t secret[COOKIE_SECRET_LEN], const union braid_addr *a,
		uint8_t out[WIRE_HS_COOKIE_LEN])
{
	crypto_generichash_state st;
	uint8_t k[ADDR_KEY_LEN];

	addr_key(a, k);
	crypto_generichash_init(&st, secret, COOKIE_SECRET_LEN, WIRE_HS_COOKIE_LEN);
	crypto_generichash_update(&st, (const uint8_t *)cookie_label, sizeof(cookie_label) - 1);
	crypto_generichash_update(&st, k, sizeof(k));
	crypto_generichash_final(&st, out, WIRE_HS_COOKIE_LEN);
	sodium_memzero(&st, sizeof(st));
}

void cookie_make(const struct cookie_hub *h, const union braid_addr *a,
		 uint8_t out[WIRE_HS_COOKIE_LEN])
{
	mac(h->secret[0], a, out);
}

bool cookie_valid(const struct cookie_hub *h, const union braid_addr *a,
		  const uint8_t c[WIRE_HS_COOKIE_LEN], uint64_t now)
{
	uint8_t want[WIRE_HS_COOKIE_LEN];
	bool ok = false;

	for (unsigned i = 0; i < 2; i++) {
		if (!h->have[i] || now - h->born[i] >= COOKIE_LIFE_NS)
			continue;
		mac(h->secret[i], a, want);
		if (sodium_memcmp(want, c, WIRE_HS_COOKIE_LEN) == 0)
			ok = true;
	}
	sodium_memzero(want, sizeof(want));
	return ok;
}

bool cookie_nonce_taken(const struct cookie_hub *h, const uint8_t nonce[WIRE_HS_NONCE_LEN],
			uint64_t now)
{
	for (unsigned i = 0; i < COOKIE_TAKEN; i++)
		if (h->taken[i].on && now - h->taken[i].at < COOKIE_LIFE_NS &&
		    memcmp(h->taken[i].nonce, nonce, WIRE_HS_NONCE_LEN) == 0)
			return true;
	return false;
}

void cookie_nonce_take(struct cookie_hub *h, const uint8_t nonce[WIRE_HS_NONCE_LEN], uint64_t now)
{
	unsigned i = 0;

	/* A slot whose nonce can no longer come with a valid cookie, else the
	 * oldest. */
	for (unsigned j = 0; j < COOKIE_TAKEN; j++) {
		if (!h->taken[j].on || now - h->taken[j].at >= COOKIE_LIFE_NS) {
			i = j;
			break;
		}
		if (h->taken[j].at < h->taken[i].at)
			i = j;
	}
	memcpy(h->taken[i].nonce, nonce, WIRE_HS_NONCE_LEN);
	h->taken[i].at = now;
	h->taken[i].on = true;
}

void cookie_wipe(struct cookie_hub *h)
{
	sodium_memzero(h, sizeof(*h));
}
