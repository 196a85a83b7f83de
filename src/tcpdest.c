/* The TCP destinations' framing, state and reconnect schedule; see tcpdest.h. */
#include <errno.h>
#include <string.h>

#include "braid/stats.h"
#include "tcpdest.h"

int tcpdest_init(struct tcpdest *td, size_t buffer, size_t max_msg, uint64_t min_ns,
		 uint64_t max_ns)
{
	int r;

	memset(td, 0, sizeof(*td));
	if (max_msg == 0 || max_msg > FRAME_MAX || min_ns == 0 || min_ns > max_ns)
		return -EINVAL;
	r = frame_tx_init(&td->tx, buffer);
	if (r < 0)
		return r;
	frame_rx_init(&td->rx, max_msg);
	td->min_ns = min_ns;
	td->max_ns = max_ns;
	td->backoff_ns = min_ns;
	td->st = TD_DOWN;
	td->next_try_ns = 0;
	return 0;
}

void tcpdest_free(struct tcpdest *td)
{
	frame_tx_free(&td->tx);
}

static void set_state(struct tcpdest *td, enum tcpdest_state st, uint64_t now)
{
	td->st = st;
	stat_set(td->stats.state, (uint64_t)st);
	stat_set(td->stats.state_since_ns, now);
}

bool tcpdest_due(const struct tcpdest *td, uint64_t now)
{
	return td->st == TD_DOWN && now >= td->next_try_ns;
}

uint64_t tcpdest_next_ns(const struct tcpdest *td)
{
	return td->st == TD_DOWN ? td->next_try_ns : UINT64_MAX;
}

void tcpdest_connecting(struct tcpdest *td, uint64_t now)
{
	stat_add(td->stats.connects, 1);
	set_state(td, TD_CONNECTING, now);
}

void tcpdest_up(struct tcpdest *td, uint64_t now)
{
	/* A new stream starts empty both ways: tcpdest_lost emptied what the
	 * last one left, and nothing is queued while the connection is not up. */
	td->backoff_ns = td->min_ns;
	stat_add(td->stats.established, 1);
	set_state(td, TD_UP, now);
}

void tcpdest_lost(struct tcpdest *td, int err, uint64_t now)
{
	if (td->st == TD_DOWN)
		return;
	if (td->st == TD_UP)
		stat_add(td->stats.disconnects, 1);
	stat_add(td->stats.dropped_queued, frame_tx_queued(&td->tx));
	frame_tx_reset(&td->tx);
	frame_rx_reset(&td->rx);
	stat_set(td->stats.last_error, (uint64_t)(err < 0 ? -err : 0));
	td->next_try_ns = now + td->backoff_ns;
	td->backoff_ns = td->backoff_ns > td->max_ns / 2 ? td->max_ns : td->backoff_ns * 2;
	set_state(td, TD_DOWN, now);
}

int tcpdest_put(struct tcpdest *td, uint16_t flow, const uint8_t *data, size_t len)
{
	int r;

	if (td->st != TD_UP) {
		stat_add(td->stats.dropped_down, 1);
		return -ENOTCONN;
	}
	r = frame_tx_put(&td->tx, data, len);
	if (r == -ENOBUFS) {
		stat_add(td->stats.dropped_full, 1);
		return r;
	}
	if (r < 0) {
		stat_add(td->stats.dropped_oversize, 1);
		return r;
	}
	td->flow = flow;
	stat_add(td->stats.msgs_out, 1);
	stat_add(td->stats.bytes_out, len);
	return 0;
}

struct feed_ctx {
	struct tcpdest *td;
	tcpdest_fn fn;
	void *ctx;
};

static void on_message(void *arg, const uint8_t *msg, size_t len)
{
	struct feed_ctx *f = arg;

	stat_add(f->td->stats.msgs_in, 1);
	stat_add(f->td->stats.bytes_in, len);
	f->fn(f->ctx, f->td->flow, msg, len);
}

void tcpdest_feed(struct tcpdest *td, const uint8_t *p, size_t n, tcpdest_fn fn, void *ctx)
{
	struct feed_ctx f = { .td = td, .fn = fn, .ctx = ctx };

	frame_rx_feed(&td->rx, p, n, on_message, &f);
	stat_set(td->stats.oversize_in, td->rx.oversize);
}

const char *tcpdest_state_name(enum tcpdest_state s)
{
	switch (s) {
	case TD_DOWN:
		return "down";
	case TD_CONNECTING:
		return "connecting";
	case TD_UP:
		return "up";
	}
	return "unknown";
}
