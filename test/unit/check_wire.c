/* Wire format: layouts byte for byte, round trips, and every malformed or
 * truncated input the parsers must refuse.
 *
 * Inputs for the negative cases are copied into heap buffers of exactly the
 * length under test, so under ASan a parser that reads one byte too far fails
 * loudly instead of reading stale bytes from a larger buffer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "braid/wire.h"

/* Runs a parser-like call on a private exact-length copy of src[0..len). */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

static int parse_outer_exact(const uint8_t *src, size_t len)
{
	struct wire_outer o;
	uint8_t *p = exact_copy(src, len);
	int ret = wire_parse_outer(p, len, &o);

	free(p);
	return ret;
}

/* A valid outer header of the given type in a BRAID_PKT_MAX buffer. */
static void make_outer(uint8_t *pkt, uint8_t type)
{
	struct wire_outer o = {
		.version = BRAID_WIRE_VERSION, .type = type,
		.session = 0xdeadbeef, .counter = 0x0102030405060708ULL,
	};

	memset(pkt, 0xa5, BRAID_PKT_MAX);
	ck_assert_uint_eq(wire_put_outer(pkt, &o), WIRE_OUTER_LEN);
}

static size_t valid_len(uint8_t type)
{
	if (type == WIRE_HS_COOKIE)
		return WIRE_HS_COOKIE_PKT_LEN;
	return (type == WIRE_HS_INIT || type == WIRE_HS_RESP) ? WIRE_HS_LEN : 100;
}

/* --- reader ------------------------------------------------------------- */

START_TEST(reader_reads_big_endian_to_the_end)
{
	const uint8_t buf[] = {
		0x01,
		0x02, 0x03,
		0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0xaa, 0xbb, 0xcc,
	};
	uint8_t two[2];
	struct wire_reader r;
	const uint8_t *q;

	wire_reader_init(&r, buf, sizeof(buf));
	ck_assert_uint_eq(wire_reader_left(&r), sizeof(buf));
	ck_assert_uint_eq(wire_read_u8(&r), 0x01);
	ck_assert_uint_eq(wire_read_u16(&r), 0x0203);
	ck_assert_uint_eq(wire_read_u32(&r), 0x04050607);
	ck_assert_uint_eq(wire_read_u64(&r), 0x08090a0b0c0d0e0fULL);
	wire_read_bytes(&r, two, 2);
	ck_assert_uint_eq(two[0], 0xaa);
	ck_assert_uint_eq(two[1], 0xbb);
	q = wire_read_ptr(&r, 1);
	ck_assert_ptr_eq(q, buf + sizeof(buf) - 1);
	ck_assert_uint_eq(wire_reader_left(&r), 0);
	ck_assert_int_eq(r.err, 0);
	/* A zero-length read at the very end is not an error. */
	wire_read_bytes(&r, two, 0);
	ck_assert_int_eq(r.err, 0);
}
END_TEST

/* One entry per read width: a buffer one byte short of it fails. */
START_TEST(reader_past_end_sets_err_and_returns_zero)
{
	const uint8_t ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const size_t width = (size_t[]){ 1, 2, 4, 8 }[_i];
	struct wire_reader r;
	uint8_t *p = exact_copy(ff, width - 1);
	uint64_t v;

	wire_reader_init(&r, p, width - 1);
	switch (width) {
	case 1: v = wire_read_u8(&r); break;
	case 2: v = wire_read_u16(&r); break;
	case 4: v = wire_read_u32(&r); break;
	default: v = wire_read_u64(&r); break;
	}
	ck_assert_uint_eq(v, 0);
	ck_assert_int_ne(r.err, 0);
	/* A failed read consumes nothing. */
	ck_assert_uint_eq(wire_reader_left(&r), width - 1);
	free(p);
}
END_TEST

START_TEST(reader_err_is_sticky)
{
	const uint8_t buf[4] = { 1, 2, 3, 4 };
	struct wire_reader r;

	wire_reader_init(&r, buf, sizeof(buf));
	ck_assert_uint_eq(wire_read_u64(&r), 0);
	ck_assert_int_ne(r.err, 0);
	/* These would fit, but after an error nothing reads. */
	ck_assert_uint_eq(wire_read_u8(&r), 0);
	ck_assert_uint_eq(wire_read_u16(&r), 0);
	ck_assert_ptr_null(wire_read_ptr(&r, 1));
	ck_assert_int_ne(r.err, 0);
}
END_TEST

START_TEST(reader_short_bytes_zeroes_dst)
{
	const uint8_t buf[3] = { 1, 2, 3 };
	uint8_t dst[4];
	struct wire_reader r;

	memset(dst, 0x77, sizeof(dst));
	wire_reader_init(&r, buf, sizeof(buf));
	wire_read_bytes(&r, dst, sizeof(dst));
	ck_assert_int_ne(r.err, 0);
	for (size_t i = 0; i < sizeof(dst); i++)
		ck_assert_uint_eq(dst[i], 0);
}
END_TEST

START_TEST(reader_huge_ptr_does_not_wrap)
{
	const uint8_t buf[4] = { 1, 2, 3, 4 };
	struct wire_reader r;

	wire_reader_init(&r, buf, sizeof(buf));
	ck_assert_uint_eq(wire_read_u8(&r), 1);
	/* off + n would wrap to a small number with naive arithmetic. */
	ck_assert_ptr_null(wire_read_ptr(&r, SIZE_MAX));
	ck_assert_int_ne(r.err, 0);
	ck_assert_uint_eq(wire_reader_left(&r), 3);
}
END_TEST

START_TEST(reader_empty)
{
	struct wire_reader r;

	wire_reader_init(&r, NULL, 0);
	ck_assert_uint_eq(wire_reader_left(&r), 0);
	ck_assert_uint_eq(wire_read_u8(&r), 0);
	ck_assert_int_ne(r.err, 0);
}
END_TEST

/* --- writers: exact layouts --------------------------------------------- */

START_TEST(put_outer_layout)
{
	const struct wire_outer o = {
		.version = 1, .type = WIRE_PROBE_REPLY,
		.session = 0x11223344, .counter = 0x5566778899aabbccULL,
	};
	const uint8_t want[WIRE_OUTER_LEN] = {
		0x01, 0x03, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44,
		0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
	};
	uint8_t buf[WIRE_OUTER_LEN + 1];

	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_outer(buf, &o), 16);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(buf[WIRE_OUTER_LEN], 0xee);
}
END_TEST

START_TEST(put_data_layout)
{
	const struct wire_data d = {
		.bond_seq = 0x01020304, .link_seq = 0x05060708,
		.tx_us = 0x090a0b0c, .flow = 0x0d0e, .link_id = 0x0f, .flags = 0,
	};
	const uint8_t want[WIRE_DATA_HDR_LEN] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0,
	};
	uint8_t buf[WIRE_DATA_HDR_LEN + 1];

	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_data(buf, &d), 16);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(buf[WIRE_DATA_HDR_LEN], 0xee);
}
END_TEST

START_TEST(put_probe_layout)
{
	const struct wire_probe pr = {
		.link_id = 0x42, .probe_seq = 0x01020304,
		.tx_ns = 0x05060708090a0b0cULL, .rx_pkts = 0x0d0e0f10,
		.rx_lost = 0x11121314, .jitter_us = 0x15161718,
	};
	const uint8_t want[WIRE_PROBE_REPLY_LEN] = {
		0x42, 0, 0, 0, 1, 2, 3, 4,
		5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16, 17, 18, 19, 20,
		21, 22, 23, 24,
	};
	uint8_t buf[WIRE_PROBE_REPLY_LEN + 1];

	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_probe(buf, &pr, 0), 24);
	ck_assert_mem_eq(buf, want, WIRE_PROBE_LEN);
	ck_assert_uint_eq(buf[WIRE_PROBE_LEN], 0xee);

	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_probe(buf, &pr, 1), 28);
	ck_assert_mem_eq(buf, want, WIRE_PROBE_REPLY_LEN);
	ck_assert_uint_eq(buf[WIRE_PROBE_REPLY_LEN], 0xee);
}
END_TEST

START_TEST(put_hs_layout)
{
	struct wire_hs hs;
	struct wire_hs_cookie ck;
	uint8_t want[WIRE_HS_BODY_LEN] = { 0 };
	uint8_t buf[WIRE_HS_BODY_LEN + 1];

	for (int i = 0; i < WIRE_HS_NONCE_LEN; i++)
		hs.nonce[i] = want[i] = (uint8_t)(0x80 + i);
	for (int i = 0; i < WIRE_HS_COOKIE_LEN; i++)
		hs.cookie[i] = want[32 + i] = ck.cookie[i] = (uint8_t)(i + 1);
	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_hs(buf, &hs), 48);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(buf[WIRE_HS_BODY_LEN], 0xee);

	/* HS_COOKIE's body is the cookie alone. */
	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_hs_cookie(buf, &ck), 16);
	ck_assert_mem_eq(buf, want + 32, WIRE_HS_COOKIE_LEN);
	ck_assert_uint_eq(buf[WIRE_HS_COOKIE_LEN], 0xee);
}
END_TEST

/* --- round trips ---------------------------------------------------------- */

START_TEST(outer_roundtrip_every_type)
{
	const uint8_t type = (uint8_t)(WIRE_DATA + _i);
	uint8_t pkt[BRAID_PKT_MAX];
	struct wire_outer in = {
		.version = BRAID_WIRE_VERSION, .type = type,
		.session = 0x80000001u + _i, .counter = UINT64_MAX - (uint64_t)_i,
	};
	struct wire_outer out;

	memset(pkt, 0, sizeof(pkt));
	ck_assert_uint_eq(wire_put_outer(pkt, &in), WIRE_OUTER_LEN);
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(parse_outer_exact(pkt, valid_len(type)), 0);
	ck_assert_int_eq(wire_parse_outer(pkt, valid_len(type), &out), 0);
	ck_assert_uint_eq(out.version, in.version);
	ck_assert_uint_eq(out.type, in.type);
	ck_assert_uint_eq(out.session, in.session);
	ck_assert_uint_eq(out.counter, in.counter);
}
END_TEST

START_TEST(data_roundtrip)
{
	const struct wire_data in = {
		.bond_seq = 0xfffffffe, .link_seq = 7, .tx_us = 0x80000000,
		.flow = 0xffff, .link_id = 255, .flags = 0,
	};
	struct wire_data out;
	uint8_t buf[WIRE_DATA_HDR_LEN + 5];

	ck_assert_uint_eq(wire_put_data(buf, &in), WIRE_DATA_HDR_LEN);
	memcpy(buf + WIRE_DATA_HDR_LEN, "hello", 5);
	/* Header only, and header plus payload, both parse. */
	for (size_t len = WIRE_DATA_HDR_LEN; len <= sizeof(buf); len += 5) {
		uint8_t *p = exact_copy(buf, len);

		memset(&out, 0x55, sizeof(out));
		ck_assert_int_eq(wire_parse_data(p, len, &out), 0);
		ck_assert_uint_eq(out.bond_seq, in.bond_seq);
		ck_assert_uint_eq(out.link_seq, in.link_seq);
		ck_assert_uint_eq(out.tx_us, in.tx_us);
		ck_assert_uint_eq(out.flow, in.flow);
		ck_assert_uint_eq(out.link_id, in.link_id);
		ck_assert_uint_eq(out.flags, 0);
		free(p);
	}
}
END_TEST

START_TEST(probe_roundtrip)
{
	const int reply = _i;
	const struct wire_probe in = {
		.link_id = 3, .probe_seq = 0xabcdef01,
		.tx_ns = 0xfedcba9876543210ULL, .rx_pkts = 1000000,
		.rx_lost = 17, .jitter_us = 4321,
	};
	struct wire_probe out;
	uint8_t buf[WIRE_PROBE_REPLY_LEN];
	size_t n = wire_put_probe(buf, &in, reply);
	uint8_t *p = exact_copy(buf, n);

	ck_assert_uint_eq(n, reply ? WIRE_PROBE_REPLY_LEN : WIRE_PROBE_LEN);
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(wire_parse_probe(p, n, &out, reply), 0);
	ck_assert_uint_eq(out.link_id, in.link_id);
	ck_assert_uint_eq(out.probe_seq, in.probe_seq);
	ck_assert_uint_eq(out.tx_ns, in.tx_ns);
	ck_assert_uint_eq(out.rx_pkts, in.rx_pkts);
	ck_assert_uint_eq(out.rx_lost, in.rx_lost);
	ck_assert_uint_eq(out.jitter_us, reply ? in.jitter_us : 0);
	free(p);
}
END_TEST

START_TEST(hs_roundtrip)
{
	struct wire_hs in, out;
	uint8_t buf[WIRE_HS_BODY_LEN];
	uint8_t *p;

	for (int i = 0; i < WIRE_HS_NONCE_LEN; i++)
		in.nonce[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < WIRE_HS_COOKIE_LEN; i++)
		in.cookie[i] = (uint8_t)(0xf0 ^ i);
	ck_assert_uint_eq(wire_put_hs(buf, &in), WIRE_HS_BODY_LEN);
	p = exact_copy(buf, sizeof(buf));
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(wire_parse_hs(p, sizeof(buf), &out), 0);
	ck_assert_mem_eq(out.nonce, in.nonce, WIRE_HS_NONCE_LEN);
	ck_assert_mem_eq(out.cookie, in.cookie, WIRE_HS_COOKIE_LEN);
	free(p);
}
END_TEST

START_TEST(hs_cookie_roundtrip)
{
	struct wire_hs_cookie in, out;
	uint8_t buf[WIRE_HS_COOKIE_LEN];
	uint8_t *p;

	for (int i = 0; i < WIRE_HS_COOKIE_LEN; i++)
		in.cookie[i] = (uint8_t)(i * 13 + 5);
	ck_assert_uint_eq(wire_put_hs_cookie(buf, &in), WIRE_HS_COOKIE_LEN);
	p = exact_copy(buf, sizeof(buf));
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(wire_parse_hs_cookie(p, sizeof(buf), &out), 0);
	ck_assert_mem_eq(out.cookie, in.cookie, WIRE_HS_COOKIE_LEN);
	free(p);
}
END_TEST

/* --- outer header: malformed ---------------------------------------------- */

START_TEST(outer_truncated_every_length)
{
	uint8_t pkt[BRAID_PKT_MAX];

	make_outer(pkt, WIRE_DATA);
	for (size_t len = 0; len < WIRE_MIN_LEN; len++)
		ck_assert_int_eq(parse_outer_exact(pkt, len), -EMSGSIZE);
	ck_assert_int_eq(parse_outer_exact(pkt, WIRE_MIN_LEN), 0);
}
END_TEST

START_TEST(outer_size_limits)
{
	uint8_t *big = calloc(1, BRAID_PKT_MAX + 1);
	struct wire_outer o;

	ck_assert_ptr_nonnull(big);
	make_outer(big, WIRE_DATA);
	ck_assert_int_eq(parse_outer_exact(big, BRAID_PKT_MAX + 1), -EMSGSIZE);
	ck_assert_int_eq(wire_parse_outer(big, SIZE_MAX, &o), -EMSGSIZE);
	ck_assert_int_eq(parse_outer_exact(big, BRAID_PKT_MAX), 0);
	free(big);
}
END_TEST

START_TEST(outer_wrong_version)
{
	static const uint8_t versions[] = { 0, 2, 0x81, 255 };
	uint8_t pkt[BRAID_PKT_MAX];

	for (size_t i = 0; i < sizeof(versions); i++) {
		make_outer(pkt, WIRE_DATA);
		pkt[0] = versions[i];
		ck_assert_int_eq(parse_outer_exact(pkt, 100), -EBADMSG);
	}
}
END_TEST

START_TEST(outer_bad_types)
{
	static const uint8_t types[] = { 0, WIRE_TYPE_MAX + 1, 10, 0x80, 255 };
	uint8_t pkt[BRAID_PKT_MAX];

	for (size_t i = 0; i < sizeof(types); i++) {
		make_outer(pkt, types[i]);
		ck_assert_int_eq(parse_outer_exact(pkt, 100), -EBADMSG);
		ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_LEN), -EBADMSG);
	}
}
END_TEST

/* Each of the sixteen reserved bits on its own makes the packet malformed. */
START_TEST(outer_reserved_bits)
{
	uint8_t pkt[BRAID_PKT_MAX];

	make_outer(pkt, WIRE_DATA);
	pkt[2 + _i / 8] = (uint8_t)(1u << (_i % 8));
	ck_assert_int_eq(parse_outer_exact(pkt, 100), -EBADMSG);
}
END_TEST

START_TEST(outer_hs_length_exact)
{
	static const uint8_t types[] = { WIRE_HS_INIT, WIRE_HS_RESP };
	uint8_t pkt[BRAID_PKT_MAX];

	for (size_t i = 0; i < sizeof(types); i++) {
		make_outer(pkt, types[i]);
		ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_LEN), 0);
		ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_LEN - 1), -EMSGSIZE);
		ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_LEN + 1), -EMSGSIZE);
		ck_assert_int_eq(parse_outer_exact(pkt, WIRE_MIN_LEN), -EMSGSIZE);
		ck_assert_int_eq(parse_outer_exact(pkt, BRAID_PKT_MAX), -EMSGSIZE);
	}
	/* HS_COOKIE is held to its own, shorter, length. */
	make_outer(pkt, WIRE_HS_COOKIE);
	ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_COOKIE_PKT_LEN), 0);
	ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_COOKIE_PKT_LEN - 1), -EMSGSIZE);
	ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_COOKIE_PKT_LEN + 1), -EMSGSIZE);
	ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_LEN), -EMSGSIZE);
	ck_assert_int_eq(parse_outer_exact(pkt, WIRE_MIN_LEN), -EMSGSIZE);
	ck_assert_int_eq(parse_outer_exact(pkt, BRAID_PKT_MAX), -EMSGSIZE);
	/* Other types are not held to the handshake length. */
	make_outer(pkt, WIRE_DATA);
	ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_LEN - 1), 0);
	ck_assert_int_eq(parse_outer_exact(pkt, WIRE_HS_LEN + 1), 0);
}
END_TEST

/* --- inner parsers: malformed -------------------------------------------- */

START_TEST(data_truncated_and_oversize)
{
	const size_t inner_max = WIRE_DATA_HDR_LEN + BRAID_PAYLOAD_MAX;
	uint8_t *buf = calloc(1, inner_max + 1);
	struct wire_data d;

	ck_assert_ptr_nonnull(buf);
	for (size_t len = 0; len < WIRE_DATA_HDR_LEN; len++) {
		uint8_t *p = exact_copy(buf, len);

		ck_assert_int_eq(wire_parse_data(p, len, &d), -EMSGSIZE);
		free(p);
	}
	ck_assert_int_eq(wire_parse_data(buf, inner_max, &d), 0);
	ck_assert_int_eq(wire_parse_data(buf, inner_max + 1, &d), -EMSGSIZE);
	free(buf);
}
END_TEST

/* Only the retransmission flag is defined; every other bit is refused. */
START_TEST(data_flags_nonzero)
{
	struct wire_data d = { .flags = 0 };
	uint8_t buf[WIRE_DATA_HDR_LEN];

	for (unsigned bit = 0; bit < 8; bit++) {
		d.flags = (uint8_t)(1u << bit);
		wire_put_data(buf, &d);
		ck_assert_int_eq(wire_parse_data(buf, sizeof(buf), &d),
				 d.flags == WIRE_DATA_RETX ? 0 : -EBADMSG);
	}
}
END_TEST

START_TEST(put_parity_layout)
{
	const struct wire_parity h = {
		.first_seq = 0x01020304, .link_seq = 0x05060708, .tx_us = 0x090a0b0c,
		.k = 32, .m = 8, .k_used = 13, .index = 7, .link_id = 0x0f,
	};
	const uint8_t want[WIRE_PARITY_HDR_LEN] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xff, 13, 7, 15,
	};
	uint8_t buf[WIRE_PARITY_HDR_LEN + 1];

	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_parity(buf, &h), WIRE_PARITY_HDR_LEN);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(buf[WIRE_PARITY_HDR_LEN], 0xee);
}
END_TEST

/* Every code, k_used and index in range round-trips; one past is refused. */
START_TEST(parity_roundtrip_and_ranges)
{
	uint8_t buf[WIRE_PARITY_HDR_LEN + 2];
	struct wire_parity in = { .first_seq = 0xfffffff0, .link_seq = 1, .tx_us = 2,
				  .link_id = 3 }, out;

	memset(buf, 0, sizeof(buf));
	for (unsigned k = 1; k <= 32; k++) {
		for (unsigned m = 1; m <= 8; m++) {
			in.k = (uint8_t)k;
			in.m = (uint8_t)m;
			in.k_used = (uint8_t)k;
			in.index = (uint8_t)(m - 1);
			wire_put_parity(buf, &in);
			ck_assert_int_eq(wire_parse_parity(buf, sizeof(buf), &out), 0);
			ck_assert_uint_eq(out.first_seq, in.first_seq);
			ck_assert_uint_eq(out.k, k);
			ck_assert_uint_eq(out.m, m);
			ck_assert_uint_eq(out.k_used, k);
			ck_assert_uint_eq(out.index, m - 1);
			ck_assert_uint_eq(out.link_id, 3);
			buf[13] = (uint8_t)(k + 1);		/* k_used > k */
			ck_assert_int_eq(wire_parse_parity(buf, sizeof(buf), &out), -EBADMSG);
			buf[13] = 0;				/* k_used 0 */
			ck_assert_int_eq(wire_parse_parity(buf, sizeof(buf), &out), -EBADMSG);
			wire_put_parity(buf, &in);
			buf[14] = (uint8_t)m;			/* index == m */
			ck_assert_int_eq(wire_parse_parity(buf, sizeof(buf), &out), -EBADMSG);
		}
	}
}
END_TEST

START_TEST(parity_lengths)
{
	const size_t max = WIRE_PARITY_HDR_LEN + BRAID_PAYLOAD_MAX + WIRE_FEC_SHARD_EXTRA;
	const struct wire_parity in = { .k = 8, .m = 2, .k_used = 8 };
	uint8_t *buf = calloc(1, max + 1);
	struct wire_parity out;

	ck_assert_ptr_nonnull(buf);
	wire_put_parity(buf, &in);
	/* No shard, or a 1-byte one (shorter than the length prefix). */
	for (size_t len = 0; len < WIRE_PARITY_HDR_LEN + 2; len++) {
		uint8_t *p = exact_copy(buf, len);

		ck_assert_int_eq(wire_parse_parity(p, len, &out), -EMSGSIZE);
		free(p);
	}
	ck_assert_int_eq(wire_parse_parity(buf, max, &out), 0);
	ck_assert_int_eq(wire_parse_parity(buf, max + 1, &out), -EMSGSIZE);
	/* The largest parity packet is exactly the largest datagram. */
	ck_assert_uint_eq(WIRE_OUTER_LEN + max + WIRE_TAG_LEN, BRAID_PKT_MAX);
	free(buf);
}
END_TEST

START_TEST(nack_roundtrip_and_layout)
{
	struct wire_nack in = { .count = 2, .link_id = 9 }, out;
	const uint8_t want[WIRE_NACK_HDR_LEN + 2 * WIRE_NACK_ENTRY_LEN] = {
		2, 9, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 3,
	};
	uint8_t buf[sizeof(want) + 1];

	in.e[0].base_seq = 0xffffffff;
	in.e[0].bits = 0x8000000000000001ull;
	in.e[1].base_seq = 5;
	in.e[1].bits = 3;
	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_nack(buf, &in), sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(wire_parse_nack(buf, sizeof(want), &out), 0);
	ck_assert_uint_eq(out.count, 2);
	ck_assert_uint_eq(out.link_id, 9);
	ck_assert_uint_eq(out.e[0].base_seq, 0xffffffff);
	ck_assert(out.e[0].bits == 0x8000000000000001ull);
	ck_assert_uint_eq(out.e[1].base_seq, 5);
	ck_assert(out.e[1].bits == 3);
}
END_TEST

START_TEST(nack_malformed)
{
	struct wire_nack in = { .count = 1 }, out;
	uint8_t buf[WIRE_NACK_HDR_LEN + (WIRE_NACK_MAX + 1) * WIRE_NACK_ENTRY_LEN];
	const size_t one = WIRE_NACK_HDR_LEN + WIRE_NACK_ENTRY_LEN;

	memset(buf, 0, sizeof(buf));
	in.e[0].bits = 1;
	wire_put_nack(buf, &in);
	ck_assert_int_eq(wire_parse_nack(buf, one, &out), 0);
	/* Truncated, or longer than the count says. */
	for (size_t len = 0; len < one; len++) {
		uint8_t *p = exact_copy(buf, len);

		ck_assert_int_eq(wire_parse_nack(p, len, &out), -EMSGSIZE);
		free(p);
	}
	ck_assert_int_eq(wire_parse_nack(buf, one + 1, &out), -EMSGSIZE);
	ck_assert_int_eq(wire_parse_nack(buf, one + WIRE_NACK_ENTRY_LEN, &out), -EMSGSIZE);
	/* Bit 0 clear: the entry's base is not asked for. */
	buf[one - 1] = 2;
	ck_assert_int_eq(wire_parse_nack(buf, one, &out), -EBADMSG);
	buf[one - 1] = 1;
	/* Count 0, count above the maximum, reserved bits. */
	buf[0] = 0;
	ck_assert_int_eq(wire_parse_nack(buf, one, &out), -EBADMSG);
	buf[0] = WIRE_NACK_MAX + 1;
	ck_assert_int_eq(wire_parse_nack(buf, sizeof(buf), &out), -EBADMSG);
	buf[0] = 1;
	buf[3] = 1;
	ck_assert_int_eq(wire_parse_nack(buf, one, &out), -EBADMSG);
}
END_TEST

START_TEST(probe_wrong_lengths)
{
	static const size_t bad_probe[] = { 0, 1, 23, 25, 27, 28, 29 };
	static const size_t bad_reply[] = { 0, 1, 23, 24, 27, 29, 100 };
	uint8_t buf[128] = { 0 };
	struct wire_probe pr;

	for (size_t i = 0; i < sizeof(bad_probe) / sizeof(bad_probe[0]); i++) {
		uint8_t *p = exact_copy(buf, bad_probe[i]);

		ck_assert_int_eq(wire_parse_probe(p, bad_probe[i], &pr, 0), -EMSGSIZE);
		free(p);
	}
	for (size_t i = 0; i < sizeof(bad_reply) / sizeof(bad_reply[0]); i++) {
		uint8_t *p = exact_copy(buf, bad_reply[i]);

		ck_assert_int_eq(wire_parse_probe(p, bad_reply[i], &pr, 1), -EMSGSIZE);
		free(p);
	}
}
END_TEST

START_TEST(probe_pad_nonzero)
{
	const struct wire_probe in = { .link_id = 1 };
	struct wire_probe out;
	uint8_t buf[WIRE_PROBE_REPLY_LEN];

	for (int off = 1; off <= 3; off++) {
		wire_put_probe(buf, &in, 1);
		buf[off] = 0x10;
		ck_assert_int_eq(wire_parse_probe(buf, WIRE_PROBE_REPLY_LEN, &out, 1), -EBADMSG);
		ck_assert_int_eq(wire_parse_probe(buf, WIRE_PROBE_LEN, &out, 0), -EBADMSG);
	}
}
END_TEST

/* The BYE flag goes in a probe and comes back out; a reply never carries
 * it, and a reply or probe with it (or any other flag bit) is refused. */
START_TEST(probe_bye_flag)
{
	const struct wire_probe in = { .link_id = 5, .flags = WIRE_PROBE_BYE, .probe_seq = 9 };
	struct wire_probe out;
	uint8_t buf[WIRE_PROBE_REPLY_LEN];

	ck_assert_uint_eq(wire_put_probe(buf, &in, 0), WIRE_PROBE_LEN);
	ck_assert_uint_eq(buf[1], WIRE_PROBE_BYE);
	ck_assert_int_eq(wire_parse_probe(buf, WIRE_PROBE_LEN, &out, 0), 0);
	ck_assert_uint_eq(out.flags, WIRE_PROBE_BYE);
	ck_assert_uint_eq(out.link_id, 5);

	ck_assert_uint_eq(wire_put_probe(buf, &in, 1), WIRE_PROBE_REPLY_LEN);
	ck_assert_uint_eq(buf[1], 0);
	buf[1] = WIRE_PROBE_BYE;
	ck_assert_int_eq(wire_parse_probe(buf, WIRE_PROBE_REPLY_LEN, &out, 1), -EBADMSG);

	for (unsigned bit = 1; bit < 8; bit++) {
		wire_put_probe(buf, &in, 0);
		buf[1] = (uint8_t)(1u << bit);
		ck_assert_int_eq(wire_parse_probe(buf, WIRE_PROBE_LEN, &out, 0), -EBADMSG);
	}
}
END_TEST

START_TEST(hs_wrong_lengths)
{
	static const size_t bad[] = { 0, 1, 32, 40, 47, 49, 64, WIRE_HS_LEN };
	uint8_t buf[128] = { 0 };
	struct wire_hs hs;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p = exact_copy(buf, bad[i]);

		ck_assert_int_eq(wire_parse_hs(p, bad[i], &hs), -EMSGSIZE);
		free(p);
	}
	ck_assert_int_eq(wire_parse_hs(buf, WIRE_HS_BODY_LEN, &hs), 0);
}
END_TEST

/* The cookie body: exactly 16 bytes, truncated or long refused (from an
 * exact-size copy, so a read past the end is ASan's to see). */
START_TEST(hs_cookie_wrong_lengths)
{
	static const size_t bad[] = { 0, 1, 8, 15, 17, 32, WIRE_HS_BODY_LEN, WIRE_HS_COOKIE_PKT_LEN };
	uint8_t buf[64] = { 0 };
	struct wire_hs_cookie ck;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p = exact_copy(buf, bad[i]);

		ck_assert_int_eq(wire_parse_hs_cookie(p, bad[i], &ck), -EMSGSIZE);
		free(p);
	}
	ck_assert_int_eq(wire_parse_hs_cookie(buf, WIRE_HS_COOKIE_LEN, &ck), 0);
}
END_TEST

/* --- FEEDBACK -------------------------------------------------------------- */

#define FB_LEN(n) (WIRE_FEEDBACK_HDR_LEN + (size_t)(n) * WIRE_FEEDBACK_ENTRY_LEN)

/* A valid FEEDBACK of n entries for links n-1 .. 0, every field distinct. */
static void make_feedback(struct wire_feedback *fb, unsigned n)
{
	memset(fb, 0, sizeof(*fb));
	fb->count = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		struct wire_feedback_entry *e = &fb->e[i];

		e->link_id = (uint8_t)(n - 1 - i);
		e->flags = i % 3 == 0 ? WIRE_FB_DELAY | WIRE_FB_QUEUED :
			   i % 3 == 1 ? WIRE_FB_DELAY : 0;
		if (e->flags & WIRE_FB_DELAY) {
			e->tx_us = 0xf0000000u + i;
			e->owd_rel_us = 1000u * i;
			e->queue_us = 0x80000000u + i;
		}
		e->rate = i % 3 == 2 ? 0 : 0xfffffff0u - i;
		e->rx_pkts = 0x01000000u * i + 7;
		e->rx_lost = UINT32_MAX - i;
	}
}

static int parse_feedback_exact(const uint8_t *src, size_t len, struct wire_feedback *out)
{
	uint8_t *p = exact_copy(src, len);
	int ret = wire_parse_feedback(p, len, out);

	free(p);
	return ret;
}

START_TEST(feedback_layout)
{
	const struct wire_feedback fb = {
		.count = 1,
		.e[0] = {
			.link_id = 0x0f, .flags = WIRE_FB_QUEUED | WIRE_FB_DELAY,
			.tx_us = 0x01020304, .owd_rel_us = 0x05060708, .queue_us = 0x090a0b0c,
			.rate = 0x0d0e0f10, .rx_pkts = 0x11121314, .rx_lost = 0x15161718,
		},
	};
	const uint8_t want[FB_LEN(1)] = {
		1, 0, 0, 0,
		0x0f, 0x03, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
	};
	uint8_t buf[FB_LEN(1) + 1];

	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(wire_put_feedback(buf, &fb), sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(buf[sizeof(want)], 0xee);
}
END_TEST

/* Every count from 1 to the maximum, with every valid flag combination. */
START_TEST(feedback_roundtrip)
{
	const unsigned n = 1 + (unsigned)_i;
	struct wire_feedback in, out;
	uint8_t buf[FB_LEN(WIRE_FEEDBACK_MAX)];

	make_feedback(&in, n);
	ck_assert_uint_eq(wire_put_feedback(buf, &in), FB_LEN(n));
	memset(&out, 0x55, sizeof(out));
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(n), &out), 0);
	ck_assert_uint_eq(out.count, n);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(out.e[i].link_id, in.e[i].link_id);
		ck_assert_uint_eq(out.e[i].flags, in.e[i].flags);
		ck_assert_uint_eq(out.e[i].tx_us, in.e[i].tx_us);
		ck_assert_uint_eq(out.e[i].owd_rel_us, in.e[i].owd_rel_us);
		ck_assert_uint_eq(out.e[i].queue_us, in.e[i].queue_us);
		ck_assert_uint_eq(out.e[i].rate, in.e[i].rate);
		ck_assert_uint_eq(out.e[i].rx_pkts, in.e[i].rx_pkts);
		ck_assert_uint_eq(out.e[i].rx_lost, in.e[i].rx_lost);
	}
}
END_TEST

START_TEST(feedback_lengths)
{
	struct wire_feedback in, out;
	uint8_t buf[FB_LEN(WIRE_FEEDBACK_MAX + 1)];

	memset(buf, 0, sizeof(buf));
	make_feedback(&in, 2);
	wire_put_feedback(buf, &in);
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(2), &out), 0);
	/* Truncated anywhere, or longer than the count says. */
	for (size_t len = 0; len < FB_LEN(2); len++)
		ck_assert_int_eq(parse_feedback_exact(buf, len, &out), -EMSGSIZE);
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(2) + 1, &out), -EMSGSIZE);
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(3), &out), -EMSGSIZE);
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(1), &out), -EMSGSIZE);
	/* Count 0 (an entry after it) and one above the maximum (with the
	 * length that many entries would have). */
	buf[0] = 0;
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(1), &out), -EBADMSG);
	make_feedback(&in, WIRE_FEEDBACK_MAX);
	wire_put_feedback(buf, &in);
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(WIRE_FEEDBACK_MAX), &out), 0);
	buf[0] = WIRE_FEEDBACK_MAX + 1;
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(WIRE_FEEDBACK_MAX + 1), &out), -EBADMSG);
	buf[0] = 255;
	ck_assert_int_eq(parse_feedback_exact(buf, FB_LEN(WIRE_FEEDBACK_MAX + 1), &out), -EBADMSG);
}
END_TEST

/* Each reserved bit, of the header's three bytes and of an entry's two, on
 * its own makes the packet malformed. */
START_TEST(feedback_reserved_bits)
{
	struct wire_feedback in, out;
	uint8_t buf[FB_LEN(2)];
	const size_t entry1 = FB_LEN(1);

	make_feedback(&in, 2);
	for (unsigned bit = 0; bit < 24; bit++) {
		wire_put_feedback(buf, &in);
		buf[1 + bit / 8] = (uint8_t)(1u << (bit % 8));
		ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), -EBADMSG);
	}
	for (unsigned bit = 0; bit < 16; bit++) {
		wire_put_feedback(buf, &in);
		buf[entry1 + 2 + bit / 8] = (uint8_t)(1u << (bit % 8));
		ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), -EBADMSG);
	}
}
END_TEST

START_TEST(feedback_bad_entries)
{
	struct wire_feedback in, out;
	uint8_t buf[FB_LEN(3)];

	make_feedback(&in, 3);
	/* Unknown flag bits. */
	for (unsigned bit = 2; bit < 8; bit++) {
		struct wire_feedback b = in;

		b.e[1].flags |= (uint8_t)(1u << bit);
		wire_put_feedback(buf, &b);
		ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), -EBADMSG);
	}
	/* Link ids out of range, and a link listed twice. */
	{
		static const uint8_t ids[] = { WIRE_FEEDBACK_MAX, WIRE_FEEDBACK_MAX + 1, 0x80, 255 };

		for (size_t i = 0; i < sizeof(ids); i++) {
			struct wire_feedback b = in;

			b.e[2].link_id = ids[i];
			wire_put_feedback(buf, &b);
			ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), -EBADMSG);
		}
	}
	for (unsigned a = 0; a < 3; a++) {
		for (unsigned b = 0; b < 3; b++) {
			struct wire_feedback d = in;

			if (a == b)
				continue;
			d.e[b].link_id = d.e[a].link_id;
			wire_put_feedback(buf, &d);
			ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), -EBADMSG);
		}
	}
	/* The largest link id is fine. */
	{
		struct wire_feedback b = in;

		b.e[0].link_id = WIRE_FEEDBACK_MAX - 1;
		wire_put_feedback(buf, &b);
		ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), 0);
	}
}
END_TEST

/* QUEUED needs DELAY and a rate; without DELAY the delay fields are zero. */
START_TEST(feedback_flag_rules)
{
	struct wire_feedback in, out;
	uint8_t buf[FB_LEN(1)];
	struct wire_feedback_entry *e = &in.e[0];

	make_feedback(&in, 1);
	ck_assert_uint_eq(e->flags, WIRE_FB_DELAY | WIRE_FB_QUEUED);
	wire_put_feedback(buf, &in);
	ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), 0);

	e->rate = 0;
	wire_put_feedback(buf, &in);
	ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), -EBADMSG);
	e->rate = 1;
	wire_put_feedback(buf, &in);
	ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), 0);

	/* QUEUED without DELAY, even with the delay fields zero. */
	e->flags = WIRE_FB_QUEUED;
	e->tx_us = e->owd_rel_us = e->queue_us = 0;
	wire_put_feedback(buf, &in);
	ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), -EBADMSG);

	/* Counts alone: valid; any delay field set without DELAY is not. */
	e->flags = 0;
	wire_put_feedback(buf, &in);
	ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), 0);
	ck_assert_uint_eq(out.e[0].flags, 0);
	for (unsigned f = 0; f < 3; f++) {
		struct wire_feedback b = in;
		uint32_t *field = f == 0 ? &b.e[0].tx_us : f == 1 ? &b.e[0].owd_rel_us
								  : &b.e[0].queue_us;

		*field = 1;
		wire_put_feedback(buf, &b);
		ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), -EBADMSG);
		b.e[0].flags = WIRE_FB_DELAY;
		wire_put_feedback(buf, &b);
		ck_assert_int_eq(parse_feedback_exact(buf, sizeof(buf), &out), 0);
	}
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc;

	tc = tcase_create("reader");
	tcase_add_test(tc, reader_reads_big_endian_to_the_end);
	tcase_add_loop_test(tc, reader_past_end_sets_err_and_returns_zero, 0, 4);
	tcase_add_test(tc, reader_err_is_sticky);
	tcase_add_test(tc, reader_short_bytes_zeroes_dst);
	tcase_add_test(tc, reader_huge_ptr_does_not_wrap);
	tcase_add_test(tc, reader_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("layout");
	tcase_add_test(tc, put_outer_layout);
	tcase_add_test(tc, put_data_layout);
	tcase_add_test(tc, put_probe_layout);
	tcase_add_test(tc, put_hs_layout);
	tcase_add_test(tc, put_parity_layout);
	tcase_add_test(tc, nack_roundtrip_and_layout);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_add_loop_test(tc, outer_roundtrip_every_type, 0, WIRE_TYPE_MAX);
	tcase_add_test(tc, data_roundtrip);
	tcase_add_loop_test(tc, probe_roundtrip, 0, 2);
	tcase_add_test(tc, hs_roundtrip);
	tcase_add_test(tc, hs_cookie_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_test(tc, outer_truncated_every_length);
	tcase_add_test(tc, outer_size_limits);
	tcase_add_test(tc, outer_wrong_version);
	tcase_add_test(tc, outer_bad_types);
	tcase_add_loop_test(tc, outer_reserved_bits, 0, 16);
	tcase_add_test(tc, outer_hs_length_exact);
	tcase_add_test(tc, data_truncated_and_oversize);
	tcase_add_test(tc, data_flags_nonzero);
	tcase_add_test(tc, parity_roundtrip_and_ranges);
	tcase_add_test(tc, parity_lengths);
	tcase_add_test(tc, nack_malformed);
	tcase_add_test(tc, probe_wrong_lengths);
	tcase_add_test(tc, probe_pad_nonzero);
	tcase_add_test(tc, probe_bye_flag);
	tcase_add_test(tc, hs_wrong_lengths);
	tcase_add_test(tc, hs_cookie_wrong_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("feedback");
	tcase_add_test(tc, feedback_layout);
	tcase_add_loop_test(tc, feedback_roundtrip, 0, WIRE_FEEDBACK_MAX);
	tcase_add_test(tc, feedback_lengths);
	tcase_add_test(tc, feedback_reserved_bits);
	tcase_add_test(tc, feedback_bad_entries);
	tcase_add_test(tc, feedback_flag_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wire_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
