/* The keyless checks on a link's datagram; see prefilter.h. The core makes
 * the same checks again (and more): this only keeps junk off worker 0. */
#include "braid/wire.h"
#include "prefilter.h"

/* Length bounds of each type's whole datagram: outer header, body, tag. */
#define SEALED(body)	(WIRE_OUTER_LEN + (body) + WIRE_TAG_LEN)
#define NACK_MIN	SEALED(WIRE_NACK_HDR_LEN + WIRE_NACK_ENTRY_LEN)
#define NACK_MAX	SEALED(WIRE_NACK_HDR_LEN + WIRE_NACK_MAX * WIRE_NACK_ENTRY_LEN)
#define FB_MIN		SEALED(WIRE_FEEDBACK_HDR_LEN + WIRE_FEEDBACK_ENTRY_LEN)
#define FB_MAX		SEALED(WIRE_FEEDBACK_HDR_LEN + WIRE_FEEDBACK_MAX * WIRE_FEEDBACK_ENTRY_LEN)

static const char *const cause_names[PF_CAUSES] = {
	[PF_VERSION] = "version",
	[PF_TYPE] = "type",
	[PF_LENGTH] = "length",
	[PF_SESSION] = "session",
};

const char *prefilter_cause_name(enum prefilter_cause c)
{
	return (unsigned)c < PF_CAUSES ? cause_names[c] : NULL;
}

void prefilter_view_init(struct prefilter_view *v, bool hub)
{
	v->hub = hub;
	__atomic_store_n(&v->sessions, 0, __ATOMIC_RELAXED);
}

void prefilter_publish(struct prefilter_view *v, uint32_t current, uint32_t pending)
{
	__atomic_store_n(&v->sessions, (uint64_t)current << 32 | pending, __ATOMIC_RELAXED);
}

static bool length_ok(uint8_t type, size_t len)
{
	switch (type) {
	case WIRE_HS_INIT:
	case WIRE_HS_RESP:
		return len == WIRE_HS_LEN;
	case WIRE_HS_COOKIE:
		return len == WIRE_HS_COOKIE_PKT_LEN;
	case WIRE_PROBE:
		return len == SEALED(WIRE_PROBE_LEN);
	case WIRE_PROBE_REPLY:
		return len == SEALED(WIRE_PROBE_REPLY_LEN);
	case WIRE_DATA:
		return len >= SEALED(WIRE_DATA_HDR_LEN) && len <= BRAID_PKT_MAX;
	case WIRE_PARITY:
		/* A shard is at least its 2-byte length. */
		return len >= SEALED(WIRE_PARITY_HDR_LEN + 2) && len <= BRAID_PKT_MAX;
	case WIRE_NACK:
		return len >= NACK_MIN && len <= NACK_MAX &&
		       (len - NACK_MIN) % WIRE_NACK_ENTRY_LEN == 0;
	case WIRE_FEEDBACK:
		return len >= FB_MIN && len <= FB_MAX &&
		       (len - FB_MIN) % WIRE_FEEDBACK_ENTRY_LEN == 0;
	}
	return false;
}

enum prefilter_cause prefilter_check(const uint8_t *pkt, size_t len,
				     const struct prefilter_view *v)
{
	struct wire_reader r;
	uint64_t s;
	uint32_t session;
	uint16_t reserved;
	uint8_t version, type;

	if (len < WIRE_OUTER_LEN || len > BRAID_PKT_MAX)
		return PF_LENGTH;
	wire_reader_init(&r, pkt, len);
	version = wire_read_u8(&r);
	type = wire_read_u8(&r);
	reserved = wire_read_u16(&r);
	session = wire_read_u32(&r);
	if (r.err)
		return PF_LENGTH;
	if (version != BRAID_WIRE_VERSION || reserved != 0)
		return PF_VERSION;
	/* The hub takes inits only, the edge cookies and answers. */
	if (type == 0 || type > WIRE_TYPE_MAX ||
	    (v->hub ? type == WIRE_HS_RESP || type == WIRE_HS_COOKIE : type == WIRE_HS_INIT))
		return PF_TYPE;
	if (!length_ok(type, len))
		return PF_LENGTH;
	if (session == 0)
		return PF_SESSION;
	/* The hub cannot know a new session's id before its init: any init
	 * goes on to be authenticated. */
	if (type == WIRE_HS_INIT)
		return PF_PASS;
	s = __atomic_load_n(&v->sessions, __ATOMIC_RELAXED);
	if (session != (uint32_t)(s >> 32) && session != (uint32_t)s)
		return PF_SESSION;
	return PF_PASS;
}
