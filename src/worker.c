/* braidd's io_uring workers; see worker.h. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <liburing.h>
#include <sodium.h>

#include "braid/wire.h"
#include "alloc.h"
#include "core.h"
#include "crypto.h"
#include "log.h"
#include "slab.h"
#include "sock.h"
#include "spsc.h"
#include "worker.h"
#ifdef BRAID_DPDK
#include "dpdk.h"
#include "tcp.h"
#endif

#define RING_ENTRIES	1024
#define CQ_ENTRIES	8192
#define RX_BUFS		1024		/* provided buffers per worker (power of two) */
#define TX_BUFS		4096		/* send buffers per worker */
#define CMSG_ROOM	64
/* A provided buffer holds the recvmsg header, the source address, room for
 * IP_PKTINFO, and a full-size datagram; a larger one comes back MSG_TRUNC. */
#define RX_BUF_SIZE	2304
#define XFER_SLOTS	2048		/* inter-worker ring slots */
/* The most slots of the ring to worker 0 one link may hold at a time: a
 * flood on one link (junk that looks right: a current session, a bad tag)
 * leaves the rest to the worker's other links. */
#define XFER_LINK_SHARE	(XFER_SLOTS / 2)
#define XFER_DATA	(BRAID_PKT_MAX + sizeof(union braid_addr) + 8)
#define WAIT_MAX_NS	(100ull * 1000000ull)
/* The timer is moved earlier only when that gains more than this. */
#define TIMER_SLACK_NS	(20ull * 1000ull)
/* Period of the pulse that bounds any wait counting on send completions. */
#define PULSE_NS	(10ull * 1000000ull)
#ifndef IORING_TIMEOUT_MULTISHOT
#define IORING_TIMEOUT_MULTISHOT (1U << 6)	/* kernel 6.4; liburing 2.3 predates it */
#endif
#define DRAIN_MAX_NS	(1000ull * 1000000ull)
/* At start-up, how long a bind waits for a port still held by the braidd
 * that ran before (see sock_opts.bind_wait_ms). */
#define BIND_WAIT_MS	1000
/* tcp:// destination: the receive buffer, and how long a connect may take
 * before it counts as failed (the kernel would try a silent peer for two
 * minutes). */
#define TCP_RXBUF	(64u << 10)
#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS	44	/* Linux 6.15 uapi; Debian 12's headers predate it */
#endif
#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US	45
#endif
#define TCP_CONNECT_TIMEOUT_NS (3000ull * 1000000ull)
/* How often worker 0 copies the DPDK connection's counters into the stats. */
#define DPDK_STATS_NS	(10ull * 1000000ull)

enum ud_kind { UD_RECV = 1, UD_SEND = 2, UD_WAKE = 3, UD_TIMER = 4, UD_TIMER_UPDATE = 5,
	       UD_PULSE = 6, UD_CANCEL = 7, UD_TCP_CONNECT = 8, UD_TCP_SEND = 9, UD_TCP_RECV = 10,
	       UD_TCP_TIMEOUT = 11 };
#define UD(kind, idx)	(((uint64_t)(kind) << 56) | (uint64_t)(idx))
#define UD_KIND(ud)	((unsigned)((ud) >> 56))
#define UD_IDX(ud)	((uint32_t)(ud))

enum sock_kind { SK_LINK = 1, SK_APP = 2, SK_FLOW = 3 };
enum xfer_kind { XF_RX = 1, XF_TX = 2, XF_CLOSE = 3 };
#define XF_HAS_LOCAL 0x8000u

/* A socket a worker polls. Its slot is also its index in the ring's
 * registered file table, so no operation looks the fd up (fget) again. */
struct wsock {
	int fd;
	uint8_t kind;		/* 0: a free slot */
	bool pktinfo;
	bool connected;		/* send without an address (IORING_OP_SEND) */
	bool closing;		/* a deleted link's, or a reused flow's: its receive is being cancelled */
	uint16_t index;		/* link id or flow id (slot and generation) */
};

/* A command from the main thread (braidctl link ...), through w->cmd. */
enum wcmd_kind { WC_SOCK_ADD = 1, WC_SOCK_CLOSE, WC_LINK_ADD, WC_LINK_DRAIN, WC_LINK_WEIGHT,
		 WC_LINK_ADMIN };
struct wcmd {
	uint32_t seq;
	enum wcmd_kind kind;
	unsigned link;
	int fd;			/* WC_SOCK_ADD */
	bool pktinfo, connected;
	uint32_t weight;	/* WC_LINK_ADD, WC_LINK_WEIGHT */
	bool weight_auto;
	bool down;		/* WC_LINK_ADMIN */
};
#define CMD_SLOTS 8
#define CMD_WAIT_NS (2000ull * 1000000ull)

/* What a send needs to stay valid until it completes, one per tx buffer. */
struct tx_ctx {
	struct msghdr msg;
	struct iovec iov;
	union braid_addr to;
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_ROOM];
	} cmsg;
};

struct worker {
	unsigned id;
	struct braidd *d;
	struct io_uring ring;
	bool ring_ok;
	bool disabled;		/* created R_DISABLED: enable from the worker thread */
	pthread_t thread;
	bool started;
	int cpu;

	struct slab rx;			/* provided to the kernel through br */
	struct io_uring_buf_ring *br;
	size_t br_len;
	uint16_t bgid;
	struct msghdr rx_msg;		/* layout template for multishot recvmsg */

	struct slab tx;
	struct tx_ctx *txc;
	unsigned tx_inflight;

	/* The worker's one timer: an absolute IORING_OP_TIMEOUT in the ring,
	 * moved only when the next deadline moves earlier. */
	bool timer_armed;
	uint64_t timer_at;
	struct __kernel_timespec timer_ts;

	/* Sends in the SQ not yet submitted. Each is MSG_DONTWAIT, so each
	 * posts its completion while it is submitted; the wait asks for one
	 * event beyond them, instead of returning for those completions and
	 * entering the kernel a second time per packet. Only with the pulse
	 * running (a multishot timeout that posts every PULSE_NS), so that a
	 * completion that does not come can stall a wait, never hang it. */
	unsigned tx_unsubmitted;
	bool pulse;
	struct __kernel_timespec pulse_ts;

	struct wsock *socks;
	unsigned nsocks, maxsocks;
	int link_slot[BRAID_MAX_LINKS];	/* slot of each link this worker owns, or -1 */

	/* Worker k > 0: `up` carries to worker 0, `down` from it. */
	struct spsc *up, *down;
	bool wake[BRAID_MAX_WORKERS];
	/* Slots of `up` each link has filled, counted by this worker, and
	 * emptied, counted by worker 0 (on a line of its own): the difference
	 * is what the link holds now (XFER_LINK_SHARE). */
	uint32_t up_pushed[BRAID_MAX_LINKS];
	struct {
		uint32_t n[BRAID_MAX_LINKS];
	} up_popped __attribute__((aligned(64)));
	const struct prefilter_view *pf;	/* the core's, read without a lock */

	/* Commands from the main thread; cmd_done is the seq of the last one
	 * carried out and cmd_result its result. */
	struct spsc *cmd;
	uint32_t cmd_done;
	int cmd_result;
	uint32_t close_pending;		/* worker 0: links whose XF_CLOSE found no room */

	/* Worker 0 of a hub with a tcp:// destination: the connection's
	 * socket (-1: none) and its generation, which completions carry so
	 * that those of a closed socket are told apart; one send and one
	 * receive in flight at a time. */
	int tcp_fd;
	uint32_t tcp_gen;
	bool tcp_sending;
	uint8_t *tcp_rxbuf;
	struct __kernel_timespec tcp_connect_ts;
	uint64_t now;			/* this loop's time, for callbacks that get none */
	uint64_t dpdk_stats_at;

	const uint64_t *alloc_ctr;
	uint64_t alloc_base;
	struct worker_stats st;
} __attribute__((aligned(64)));

uint64_t braidd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct io_uring_sqe *get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		io_uring_submit(&w->ring);
		w->tx_unsubmitted = 0;
		sqe = io_uring_get_sqe(&w->ring);
		if (!sqe)
			stat_add(w->st.ring_full, 1);
	}
	return sqe;
}

static void arm_recv(struct worker *w, unsigned slot)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return;
	io_uring_prep_recvmsg_multishot(sqe, (int)slot, &w->rx_msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT | IOSQE_FIXED_FILE;
	sqe->buf_group = w->bgid;
	io_uring_sqe_set_data64(sqe, UD(UD_RECV, slot));
}

static int add_sock(struct worker *w, int fd, enum sock_kind kind, unsigned index, bool pktinfo,
		    bool connected)
{
	struct wsock *s;
	int r;

	unsigned slot = w->nsocks;

	/* A slot a deleted link left, else a new one. */
	for (unsigned i = 0; i < w->nsocks; i++) {
		if (w->socks[i].kind == 0) {
			slot = i;
			break;
		}
	}
	if (slot == w->maxsocks)
		return -ENOSPC;
	r = io_uring_register_files_update(&w->ring, slot, &fd, 1);
	if (r < 0)
		return r;
	s = &w->socks[slot];
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->kind = (uint8_t)kind;
	s->index = (uint16_t)index;
	s->pktinfo = pktinfo;
	s->connected = connected;
	if (kind == SK_LINK && index < BRAID_MAX_LINKS)
		w->link_slot[index] = (int)slot;
	if (slot == w->nsocks)
		w->nsocks++;
	return (int)slot;
}

/* The last of a closing socket: out of the file table, closed, its slot
 * free, and for a deleted link the main thread told. */
static void close_finish(struct worker *w, unsigned slot)
{
	struct wsock *s = &w->socks[slot];
	int none = -1;

	if (!s->closing)
		return;
	io_uring_register_files_update(&w->ring, slot, &none, 1);
	close(s->fd);
	if (s->kind == SK_LINK)
		__atomic_store_n(&w->d->link_gone[s->index], 1, __ATOMIC_RELEASE);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Stops receiving on the socket in slot and closes it once the receive is
 * cancelled (close_finish); the slot stays taken until then, so no new
 * socket gets completions meant for this one. What was sent on it before
 * has been submitted already: sends go in order through this worker. */
static void close_sock(struct worker *w, unsigned slot)
{
	struct io_uring_sqe *sqe;

	w->socks[slot].closing = true;
	sqe = get_sqe(w);
	if (!sqe) {
		close_finish(w, slot);
		return;
	}
	io_uring_prep_cancel_fd(sqe, (int)slot, IORING_ASYNC_CANCEL_ALL);
	sqe->cancel_flags |= IORING_ASYNC_CANCEL_FD_FIXED;
	io_uring_sqe_set_data64(sqe, UD(UD_CANCEL, slot));
}

static void close_link(struct worker *w, unsigned link)
{
	int slot = link < BRAID_MAX_LINKS ? w->link_slot[link] : -1;

	if (slot < 0) {
		__atomic_store_n(&w->d->link_gone[link], 1, __ATOMIC_RELEASE);
		return;
	}
	w->link_slot[link] = -1;
	close_sock(w, (unsigned)slot);
}

/* Makes a send carry one control message (len <= CMSG_ROOM less its header). */
static void put_cmsg(struct tx_ctx *t, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *cm = &t->cmsg.align;

	memset(&t->cmsg, 0, sizeof(t->cmsg));
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	t->msg.msg_control = t->cmsg.buf;
	t->msg.msg_controllen = CMSG_SPACE(len);
}

/* Sends len bytes of buf (a buffer of w->tx) on the socket in slot; to is
 * ignored on a connected socket. The buffer goes back to the slab when the
 * send completes. */
static void submit_send(struct worker *w, unsigned slot, uint8_t *buf, size_t len,
			const union braid_addr *to, const union braid_addr *local)
{
	uint32_t idx = slab_index(&w->tx, buf);
	struct tx_ctx *t = &w->txc[idx];
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe) {
		slab_put(&w->tx, buf);
		return;
	}
	if (w->socks[slot].connected && !local) {
		/* No address to pass: the plain send skips the msghdr copy. */
		io_uring_prep_send(sqe, (int)slot, buf, len, MSG_DONTWAIT);
		goto queued;
	}
	memset(&t->msg, 0, sizeof(t->msg));
	t->iov.iov_base = buf;
	t->iov.iov_len = len;
	t->msg.msg_iov = &t->iov;
	t->msg.msg_iovlen = 1;
	if (to) {
		t->to = *to;
		t->msg.msg_name = &t->to;
		t->msg.msg_namelen = addr_len(to);
	}
	/* Answer from the address the peer reached (wildcard-bound hub). */
	if (local && local->sa.sa_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = local->in.sin_addr };

		put_cmsg(t, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	} else if (local && local->sa.sa_family == AF_INET6) {
		struct in6_pktinfo pi = { .ipi6_addr = local->in6.sin6_addr };

		put_cmsg(t, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	/* MSG_DONTWAIT: a full socket buffer is a counted drop now, not a
	 * send parked in the kernel holding our buffer. */
	io_uring_prep_sendmsg(sqe, (int)slot, &t->msg, MSG_DONTWAIT);
queued:
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(UD_SEND, idx));
	w->tx_inflight++;
	w->tx_unsubmitted++;
}

/* The slot of link's socket in this worker, or -1. */
static int link_slot(const struct worker *w, unsigned link)
{
	return link < BRAID_MAX_LINKS ? w->link_slot[link] : -1;
}

/* --- the core's callbacks (worker 0) ------------------------------------------ */

static uint8_t *cb_tx_alloc(void *ctx, unsigned link)
{
	struct worker *w = ctx;

	(void)link;
	return slab_get(&w->tx);
}

static void cb_tx_send(void *ctx, unsigned link, uint8_t *buf, size_t len, const struct core_path *path)
{
	struct worker *w = ctx;
	struct braidd *d = w->d;
	unsigned owner = d->link_worker[link];
	const union braid_addr *local = path->has_local ? &path->local : NULL;

	if (owner == 0) {
		int slot = link_slot(w, link);

		if (slot < 0) {
			slab_put(&w->tx, buf);
			return;
		}
		submit_send(w, (unsigned)slot, buf, len, &path->remote, local);
		return;
	}
	/* Another worker owns the link: copy the packet over and wake it. */
	struct worker *o = d->w[owner];
	struct spsc_msg *m = spsc_reserve(o->down);

	if (!m) {
		stat_add(w->st.ring_full, 1);
		slab_put(&w->tx, buf);
		return;
	}
	m->kind = XF_TX;
	m->arg = (uint16_t)(link | (local ? XF_HAS_LOCAL : 0));
	memcpy(m->addr, &path->remote, sizeof(path->remote));
	if (local)
		memcpy(m->data, local, sizeof(*local));
	memcpy(m->data + sizeof(union braid_addr), buf, len);
	m->len = (uint32_t)len;
	spsc_push(o->down);
	slab_put(&w->tx, buf);
	w->wake[owner] = true;
}

/* The worker slot of flow's socket to the destination, opened on first use
 * and opened again when the flow's generation changes (the edge gave its
 * slot to another sender); -1 if it cannot be. */
static int hub_flow_slot(struct worker *w, uint16_t flow)
{
	struct braidd *d = w->d;
	unsigned fs = flow_slot(flow);
	char err[256];
	bool pktinfo;
	int fd, slot;

	if (fs >= d->cfg.max_flows)
		return -1;
	if (d->flow_slot[fs] >= 0) {
		if (d->flow_gen[fs] == flow_gen(flow))
			return d->flow_slot[fs];
		/* Another sender: the destination must not see it under the
		 * old one's address, nor answer it with what it meant for the
		 * old one. What reaches the old socket from now on is dropped
		 * (on_recv counts it; once closed, the kernel refuses it). The
		 * bond delivers in order, so an older generation never comes
		 * after a newer one. */
		close_sock(w, (unsigned)d->flow_slot[fs]);
		d->flow_slot[fs] = -1;
	}
	/* A new flow: its own socket, so the destination's replies come back
	 * to this flow alone. Rare, so the syscalls are fine here. */
	struct sock_opts so = {
		.what = "flow",
		.connect = &d->cfg.app_dest,
		.sndbuf = d->cfg.sndbuf,
		.rcvbuf = d->cfg.rcvbuf,
		.busy_poll_us = d->cfg.busy_poll_us,
	};
	fd = sock_open(&so, &pktinfo, err, sizeof(err));
	if (fd < 0) {
		log_warn("%s", err);
		return -1;
	}
	slot = add_sock(w, fd, SK_FLOW, flow, false, true);
	if (slot < 0) {
		close(fd);
		return -1;
	}
	d->flow_slot[fs] = slot;
	d->flow_gen[fs] = (uint8_t)flow_gen(flow);
	arm_recv(w, (unsigned)slot);
	return slot;
}

static void cb_deliver(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct worker *w = ctx;
	struct braidd *d = w->d;
	uint8_t *buf;

	if (d->cfg.role == ROLE_EDGE) {
		const union braid_addr *to = flow_addr(&d->flows, flow);

		if (!to) {
			/* For a sender whose slot has gone to another (or that
			 * this edge never had): never to whoever holds it now. */
			stat_add(w->st.flow_stale, 1);
			return;
		}
		if (!(buf = slab_get(&w->tx))) {
			stat_add(w->st.flows_full, 1);
			return;
		}
		memcpy(buf, data, len);
		submit_send(w, d->app_slot, buf, len, to, NULL);
	} else if (d->td) {
		/* Queued for the connection (tcp_pump sends it), or counted. */
		tcpdest_put(d->td, flow, data, len);
	} else {
		int slot = hub_flow_slot(w, flow);

		if (slot < 0 || !(buf = slab_get(&w->tx))) {
			stat_add(w->st.flows_full, 1);
			return;
		}
		memcpy(buf, data, len);
		submit_send(w, (unsigned)slot, buf, len, NULL, NULL);
	}
}

static void cb_random(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}


static void cb_link_state(void *ctx, unsigned link, enum link_state st)
{
	struct worker *w = ctx;
	static const char *const names[] = { "down", "probing", "up" };

	log_info("link %s is %s", core_link_name(w->d->core, link), names[st]);
}

/* A deleted link has drained: its owner closes its socket. */
static bool send_close(struct worker *w, unsigned link)
{
	unsigned owner = w->d->link_worker[link];
	struct worker *o = w->d->w[owner];
	struct spsc_msg *m;

	if (owner == 0) {
		close_link(w, link);
		return true;
	}
	m = spsc_reserve(o->down);
	if (!m)
		return false;
	m->kind = XF_CLOSE;
	m->arg = (uint16_t)link;
	m->len = 0;
	spsc_push(o->down);
	w->wake[owner] = true;
	return true;
}

static void cb_link_gone(void *ctx, unsigned link)
{
	struct worker *w = ctx;

	log_info("link %u drained", link);
	if (!send_close(w, link))
		w->close_pending |= 1u << link;
}

/* Whether worker id busy-polls instead of sleeping in the kernel: with
 * spin = yes, and worker 0 when it polls a DPDK port (dpdk-tcp://). */
static bool worker_spins(const struct braidd *d, unsigned id)
{
	return d->cfg.spin || (id == 0 && d->cfg.dest_kind == DEST_DPDK_TCP);
}

/* --- the hub's TCP destination (worker 0) --------------------------------------- */

/* A whole message from the server: into the bond, to the flow that sent
 * last (tcpdest.h). */
static void tcp_msg(void *ctx, uint16_t flow, const uint8_t *msg, size_t len)
{
	struct worker *w = ctx;

	core_rx_app(w->d->core, flow, msg, len, w->now);
}

static void tcp_log_lost(struct worker *w, int err)
{
	const struct braid_config *cfg = &w->d->cfg;
	char a[ADDR_STRLEN];

	const char *scheme = config_dest_scheme(cfg->dest_kind);

	addr_format(&cfg->app_dest, a, sizeof(a));
	/* Once per change: a server that stays away is not logged at every
	 * retry. */
	if (w->d->td->st == TD_UP)
		log_warn("destination %s://%s: connection lost: %s", scheme, a,
			 err ? strerror(-err) : "closed by the server");
	else if ((uint64_t)(err < 0 ? -err : 0) != stat_get(w->d->td->stats.last_error) ||
		 stat_get(w->d->td->stats.connects) == 1)
		log_warn("destination %s://%s: cannot connect: %s (retrying, backing off up to "
			 "%llu ms)", scheme, a, err ? strerror(-err) : "closed by the server",
			 (unsigned long long)(cfg->reconnect_max_ns / 1000000ull));
}

static void tcp_log_up(const struct worker *w)
{
	const struct braid_config *cfg = &w->d->cfg;
	char a[ADDR_STRLEN];

	addr_format(&cfg->app_dest, a, sizeof(a));
	log_info("destination %s://%s: connected", config_dest_scheme(cfg->dest_kind), a);
}

/* tcp://: the connection failed or ended. */
static void ktcp_lost(struct worker *w, int err, uint64_t now)
{
	if (w->tcp_fd >= 0) {
		/* Ends the receive (and any send) still in flight on it; their
		 * completions carry the old generation. */
		shutdown(w->tcp_fd, SHUT_RDWR);
		close(w->tcp_fd);
		w->tcp_fd = -1;
	}
	w->tcp_gen++;
	w->tcp_sending = false;
	tcp_log_lost(w, err);
	tcpdest_lost(w->d->td, err, now);
}

static void ktcp_arm_recv(struct worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe) {
		ktcp_lost(w, -ENOBUFS, w->now);
		return;
	}
	io_uring_prep_recv(sqe, w->tcp_fd, w->tcp_rxbuf, TCP_RXBUF, 0);
	io_uring_sqe_set_data64(sqe, UD(UD_TCP_RECV, w->tcp_gen));
}

static void ktcp_connect(struct worker *w, uint64_t now)
{
	const struct braid_config *cfg = &w->d->cfg;
	struct io_uring_sqe *sqe;
	int one = 1, idle = 5, intvl = 1, cnt = 5;
	unsigned user_timeout = 10000;
	int fd;

	tcpdest_connecting(w->d->td, now);
	/* A blocking socket: io_uring waits for readiness itself. */
	fd = socket(cfg->app_dest.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		ktcp_lost(w, -errno, now);
		return;
	}
	/* Each datagram leaves at once; a dead server is found within
	 * seconds, with data outstanding (user timeout) or without
	 * (keepalive). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	/* The same least RTO and RTO cap as dpdk-tcp://: the kernel's own
	 * (200 ms and 120 s) are for the Internet, not a server next door.
	 * Linux 6.15 and later; elsewhere the kernel's stand. */
	{
		int rto_min_us = (int)(cfg->tcp_rto_min_ns / 1000u), rto_max_ms = 1000;

		if ((setsockopt(fd, IPPROTO_TCP, TCP_RTO_MIN_US, &rto_min_us, sizeof(int)) < 0 ||
		     setsockopt(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &rto_max_ms, sizeof(int)) < 0) &&
		    stat_get(w->d->td->stats.connects) == 1)
			log_info("destination: this kernel cannot set a connection's RTO "
				 "(TCP_RTO_MIN_US, Linux 6.15+): %s; rto-min applies to dpdk-tcp:// "
				 "only", strerror(errno));
	}
	w->tcp_fd = fd;
	w->tcp_gen++;
	sqe = get_sqe(w);
	if (!sqe) {
		ktcp_lost(w, -ENOBUFS, now);
		return;
	}
	io_uring_prep_connect(sqe, fd, &cfg->app_dest.sa, addr_len(&cfg->app_dest));
	io_uring_sqe_set_data64(sqe, UD(UD_TCP_CONNECT, w->tcp_gen));
	sqe->flags |= IOSQE_IO_LINK;
	sqe = get_sqe(w);
	if (!sqe)
		return;	/* no timeout then: the kernel's own SYN retries bound it */
	w->tcp_connect_ts.tv_sec = (long long)(TCP_CONNECT_TIMEOUT_NS / 1000000000ull);
	w->tcp_connect_ts.tv_nsec = 0;
	io_uring_prep_link_timeout(sqe, &w->tcp_connect_ts, 0);
	io_uring_sqe_set_data64(sqe, UD(UD_TCP_TIMEOUT, w->tcp_gen));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* Completions of the tcp:// connection's operations. */
static void ktcp_cqe(struct worker *w, struct io_uring_cqe *cqe, uint64_t now)
{
	struct tcpdest *td = w->d->td;
	unsigned kind = UD_KIND(cqe->user_data);

	if (!td || UD_IDX(cqe->user_data) != w->tcp_gen || w->tcp_fd < 0)
		return;		/* a closed socket's, or the link timeout's */
	switch (kind) {
	case UD_TCP_CONNECT:
		if (cqe->res < 0) {
			ktcp_lost(w, cqe->res == -ECANCELED ? -ETIMEDOUT : cqe->res, now);
			return;
		}
		tcpdest_up(td, now);
		tcp_log_up(w);
		ktcp_arm_recv(w);
		return;
	case UD_TCP_RECV:
		if (cqe->res <= 0) {
			ktcp_lost(w, cqe->res, now);
			return;
		}
		tcpdest_feed(td, w->tcp_rxbuf, (size_t)cqe->res, tcp_msg, w);
		if (w->tcp_fd >= 0)
			ktcp_arm_recv(w);
		return;
	case UD_TCP_SEND:
		w->tcp_sending = false;
		if (cqe->res <= 0) {
			ktcp_lost(w, cqe->res < 0 ? cqe->res : -EPIPE, now);
			return;
		}
		frame_tx_consume(&td->tx, (size_t)cqe->res);
		return;
	}
}

#ifdef BRAID_DPDK
static void dpdk_rx_data(void *ctx, const uint8_t *data, size_t len)
{
	struct worker *w = ctx;

	tcpdest_feed(w->d->td, data, len, tcp_msg, w);
}

static void dpdk_state(void *ctx, bool up, int err)
{
	struct worker *w = ctx;

	if (up) {
		tcp_log_up(w);
		tcpdest_up(w->d->td, w->now);
		return;
	}
	tcp_log_lost(w, err);
	tcpdest_lost(w->d->td, err, w->now);
}

/* The DPDK connection's counters, where the main thread may read them. */
static void dpdk_copy_stats(struct worker *w)
{
	struct tcpdest_stats *ts = &w->d->td->stats;
	const struct tcp_counters *tc = tcp_counters(dpdk_tcp(w->d->dp));
	struct dpdk_stats ds;

	dpdk_get_stats(w->d->dp, &ds);
	stat_set(ts->retransmits, tc->retransmits);
	stat_set(ts->rto_timeouts, tc->rto_timeouts);
	stat_set(ts->fast_retransmits, tc->fast_retransmits);
	stat_set(ts->dup_acks, tc->dup_acks);
	stat_set(ts->bad_csum, tc->bad_csum);
	stat_set(ts->malformed, tc->malformed + ds.malformed);
	stat_set(ts->out_of_order, tc->out_of_order);
	stat_set(ts->arp_requests_out, ds.arp_requests_out);
	stat_set(ts->arp_replies_in, ds.arp_replies_in);
	stat_set(ts->rx_frames, ds.rx_frames);
	stat_set(ts->tx_frames, ds.tx_frames);
	stat_set(ts->tx_nombuf, ds.tx_nombuf);
}
#endif

/* Worker 0, each loop: connects when due, and hands the connection what
 * is queued for it. */
static void tcp_pump(struct worker *w, uint64_t now)
{
	struct braidd *d = w->d;
	struct tcpdest *td = d->td;
	const uint8_t *p[2];
	size_t n[2];

#ifdef BRAID_DPDK
	if (d->dp) {
		if (tcpdest_due(td, now)) {
			tcpdest_connecting(td, now);
			if (dpdk_connect(d->dp, now) < 0)
				dpdk_state(w, false, -EISCONN);
		}
		while (td->st == TD_UP && frame_tx_peek(&td->tx, p, n) > 0) {
			ssize_t r = dpdk_send(d->dp, p[0], n[0], now);

			if (r <= 0)
				break;
			frame_tx_consume(&td->tx, (size_t)r);
			if ((size_t)r < n[0])
				break;
		}
		dpdk_poll(d->dp, now);
		if (now - w->dpdk_stats_at >= DPDK_STATS_NS) {
			w->dpdk_stats_at = now;
			dpdk_copy_stats(w);
		}
		return;
	}
#endif
	if (tcpdest_due(td, now))
		ktcp_connect(w, now);
	if (td->st == TD_UP && !w->tcp_sending && frame_tx_peek(&td->tx, p, n) > 0) {
		struct io_uring_sqe *sqe = get_sqe(w);

		if (!sqe)
			return;
		/* The bytes stay in the ring until the send completes; new
		 * messages only go behind them. */
		io_uring_prep_send(sqe, w->tcp_fd, p[0], n[0], MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, UD(UD_TCP_SEND, w->tcp_gen));
		w->tcp_sending = true;
	}
}

/* --- receiving ------------------------------------------------------------------ */

static void recycle_rx(struct worker *w, unsigned bid)
{
	io_uring_buf_ring_add(w->br, slab_buf(&w->rx, bid), w->rx.buf_size, (unsigned short)bid,
			      io_uring_buf_ring_mask(RX_BUFS), 0);
	io_uring_buf_ring_advance(w->br, 1);
}

static void path_from_msg(struct worker *w, const struct wsock *s, struct io_uring_recvmsg_out *out,
			  struct core_path *path)
{
	struct cmsghdr *cm;

	memset(path, 0, sizeof(*path));
	addr_from_sockaddr(&path->remote, io_uring_recvmsg_name(out),
			   out->namelen > sizeof(union braid_addr) ? sizeof(union braid_addr) : out->namelen);
	if (!s->pktinfo)
		return;
	for (cm = io_uring_recvmsg_cmsg_firsthdr(out, &w->rx_msg); cm;
	     cm = io_uring_recvmsg_cmsg_nexthdr(out, &w->rx_msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			path->local.in.sin_family = AF_INET;
			path->local.in.sin_addr = pi.ipi_addr;
			path->has_local = true;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			path->local.in6.sin6_family = AF_INET6;
			path->local.in6.sin6_addr = pi.ipi6_addr;
			path->has_local = true;
		}
	}
}

/* Worker k > 0: copies a link's datagram (which passed the prefilter) into
 * the ring to worker 0, within the link's share of it. */
static void xfer_up(struct worker *w, unsigned link, const struct core_path *path,
		    const uint8_t *pkt, size_t len)
{
	uint32_t held = w->up_pushed[link] -
			__atomic_load_n(&w->up_popped.n[link], __ATOMIC_RELAXED);
	struct spsc_msg *m;

	if (held >= XFER_LINK_SHARE) {
		stat_add(w->st.share_full, 1);
		return;
	}
	m = spsc_reserve(w->up);
	if (!m) {
		stat_add(w->st.ring_full, 1);
		return;
	}
	m->kind = XF_RX;
	m->arg = (uint16_t)(link | (path->has_local ? XF_HAS_LOCAL : 0));
	memcpy(m->addr, &path->remote, sizeof(path->remote));
	memcpy(m->data, &path->local, sizeof(path->local));
	memcpy(m->data + sizeof(union braid_addr), pkt, len);
	m->len = (uint32_t)len;
	spsc_push(w->up);
	w->up_pushed[link]++;
	w->wake[0] = true;
}

static void on_recv(struct worker *w, struct io_uring_cqe *cqe, uint64_t now)
{
	unsigned slot = UD_IDX(cqe->user_data);
	struct braidd *d = w->d;
	struct wsock *s;
	struct io_uring_recvmsg_out *out;
	struct core_path path;
	unsigned bid;
	uint8_t *buf, *payload;
	size_t plen;
	bool trunc;

	if (slot >= w->nsocks)
		return;
	s = &w->socks[slot];
	if (s->kind == 0 || s->closing) {
		/* A deleted link's last datagrams, after its drain, or replies
		 * to a flow whose slot has passed to another sender: dropped. */
		if (cqe->flags & IORING_CQE_F_BUFFER) {
			if (s->kind == SK_FLOW && cqe->res > 0)
				stat_add(w->st.flow_stale, 1);
			recycle_rx(w, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		}
		if (!(cqe->flags & IORING_CQE_F_MORE))
			close_finish(w, slot);
		return;
	}
	if (!(cqe->flags & IORING_CQE_F_MORE) && !__atomic_load_n(&d->stop, __ATOMIC_RELAXED))
		arm_recv(w, slot);
	if (cqe->res < 0) {
		if (cqe->res == -ENOBUFS)
			stat_add(w->st.rx_nobufs, 1);
		return;
	}
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return;
	bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	buf = slab_buf(&w->rx, bid);
	out = io_uring_recvmsg_validate(buf, cqe->res, &w->rx_msg);
	if (!out) {
		recycle_rx(w, bid);
		return;
	}
	payload = io_uring_recvmsg_payload(out, &w->rx_msg);
	plen = io_uring_recvmsg_payload_length(out, cqe->res, &w->rx_msg);
	trunc = out->flags & MSG_TRUNC;
	path_from_msg(w, s, out, &path);

	switch (s->kind) {
	case SK_LINK: {
		/* Junk stops here, on the worker it came to, not on worker 0. */
		enum prefilter_cause pc = prefilter_check(payload, trunc ? BRAID_PKT_MAX + 1 : plen,
							  w->pf);

		if (pc != PF_PASS)
			stat_add(w->st.pf_drops[pc], 1);
		else if (w->id != 0)
			xfer_up(w, s->index, &path, payload, plen);
		else
			core_rx_link(d->core, s->index, &path, payload, plen, now);
		break;
	}
	case SK_APP: {
		int flow;

		if (trunc) {
			core_count_oversize(d->core);
			break;
		}
		flow = flow_lookup(&d->flows, &path.remote, now);
		if (flow < 0) {
			stat_add(w->st.flows_full, 1);
			break;
		}
		core_rx_app(d->core, (uint16_t)flow, payload, plen, now);
		break;
	}
	case SK_FLOW:
		if (trunc)
			core_count_oversize(d->core);
		else
			core_rx_app(d->core, s->index, payload, plen, now);
		break;
	}
	recycle_rx(w, bid);
}

/* Worker 0: packets other workers received. */
static void drain_up(struct worker *w0, struct worker *k, uint64_t now)
{
	struct spsc_msg *m;

	while ((m = spsc_peek(k->up))) {
		struct core_path path;
		unsigned link = m->arg & ~XF_HAS_LOCAL;

		memset(&path, 0, sizeof(path));
		memcpy(&path.remote, m->addr, sizeof(path.remote));
		if (m->arg & XF_HAS_LOCAL) {
			memcpy(&path.local, m->data, sizeof(path.local));
			path.has_local = true;
		}
		core_rx_link(w0->d->core, link, &path, m->data + sizeof(union braid_addr), m->len,
			     now);
		spsc_pop(k->up);
		/* xfer_up sent only link ids below BRAID_MAX_LINKS. */
		if (link < BRAID_MAX_LINKS)
			__atomic_store_n(&k->up_popped.n[link], k->up_popped.n[link] + 1,
					 __ATOMIC_RELAXED);
	}
}

/* Worker k > 0: packets worker 0 wants sent on k's links. */
static void drain_down(struct worker *w)
{
	struct spsc_msg *m;

	while ((m = spsc_peek(w->down))) {
		unsigned link = m->arg & ~XF_HAS_LOCAL;
		int slot = link_slot(w, link);
		uint8_t *buf;
		union braid_addr to, local;

		if (m->kind == XF_CLOSE) {
			if (link < BRAID_MAX_LINKS)
				close_link(w, link);
			spsc_pop(w->down);
			continue;
		}
		buf = slab_get(&w->tx);
		if (slot >= 0 && buf) {
			memcpy(&to, m->addr, sizeof(to));
			memcpy(&local, m->data, sizeof(local));
			memcpy(buf, m->data + sizeof(union braid_addr), m->len);
			submit_send(w, (unsigned)slot, buf, m->len, &to,
				    (m->arg & XF_HAS_LOCAL) ? &local : NULL);
		} else {
			if (buf)
				slab_put(&w->tx, buf);
			stat_add(w->st.ring_full, 1);
		}
		spsc_pop(w->down);
	}
}

/* Carries out one command from the main thread; returns its result. */
static int run_cmd(struct worker *w, const struct wcmd *c, uint64_t now)
{
	struct braidd *d = w->d;
	const struct link_config *lc = &d->cfg.links[c->link];
	int r;

	switch (c->kind) {
	case WC_SOCK_ADD:
		r = add_sock(w, c->fd, SK_LINK, c->link, c->pktinfo, c->connected);
		if (r < 0)
			return r;
		arm_recv(w, (unsigned)r);
		return 0;
	case WC_SOCK_CLOSE:
		close_link(w, c->link);
		return 0;
	case WC_LINK_ADD: {
		struct core_link_params lp = {
			.id = c->link,
			.name = lc->name,
			.weight = c->weight,
			.weight_auto = c->weight_auto,
			.priority = lc->priority,
			.rate_Bps = lc->rate_Bps,
			.remote = lc->has_remote ? &lc->remote : NULL,
		};

		/* The core learns the time from every call; give it now so
		 * the new link probes at once. */
		core_tick(d->core, now);
		return core_link_add(d->core, &lp);
	}
	case WC_LINK_DRAIN:
		core_tick(d->core, now);
		return core_link_drain(d->core, c->link);
	case WC_LINK_WEIGHT:
		return core_link_set_weight(d->core, c->link, c->weight, c->weight_auto);
	case WC_LINK_ADMIN:
		core_tick(d->core, now);
		return core_link_set_admin(d->core, c->link, c->down);
	}
	return -EINVAL;
}

static void drain_cmds(struct worker *w, uint64_t now)
{
	struct spsc_msg *m;

	while ((m = spsc_peek(w->cmd))) {
		struct wcmd c;

		memcpy(&c, m->data, sizeof(c));
		spsc_pop(w->cmd);
		w->cmd_result = c.link < BRAID_MAX_LINKS ? run_cmd(w, &c, now) : -EINVAL;
		__atomic_store_n(&w->cmd_done, c.seq, __ATOMIC_RELEASE);
	}
}

static void handle_cqe(struct worker *w, struct io_uring_cqe *cqe, uint64_t now)
{
	switch (UD_KIND(cqe->user_data)) {
	case UD_RECV:
		on_recv(w, cqe, now);
		break;
	case UD_SEND:
		slab_put(&w->tx, slab_buf(&w->tx, UD_IDX(cqe->user_data)));
		w->tx_inflight--;
		if (cqe->res < 0)
			stat_add(w->st.tx_errors, 1);
		break;
	case UD_TIMER:
		/* Fired, or cancelled: either way it is no longer armed. */
		w->timer_armed = false;
		break;
	case UD_PULSE:
		if (cqe->res != -ETIME || !(cqe->flags & IORING_CQE_F_MORE)) {
			/* Not supported here (or ended): stop counting on
			 * send completions. */
			w->pulse = false;
		}
		break;
	case UD_CANCEL:
		/* Nothing was armed to cancel: close now. Otherwise the
		 * receive's last completion does (on_recv). */
		if (cqe->res <= 0 && UD_IDX(cqe->user_data) < w->nsocks)
			close_finish(w, UD_IDX(cqe->user_data));
		break;
	case UD_TCP_CONNECT:
	case UD_TCP_SEND:
	case UD_TCP_RECV:
	case UD_TCP_TIMEOUT:
		ktcp_cqe(w, cqe, now);
		break;
	case UD_WAKE:
	case UD_TIMER_UPDATE:	/* an update that lost the race with the firing */
	default:
		break;
	}
}

/* Makes sure the ring's timer fires no later than `at`. Waiting with a
 * timeout argument would arm and cancel a kernel hrtimer on every wait; on
 * a virtual machine each of those reprograms the timer, which profiling
 * showed as the largest cost per packet beyond a bare forwarder. */
static void timer_ensure(struct worker *w, uint64_t at)
{
	struct io_uring_sqe *sqe;

	if (w->timer_armed && w->timer_at <= at + TIMER_SLACK_NS)
		return;
	sqe = get_sqe(w);
	if (!sqe)
		return;
	w->timer_ts.tv_sec = (long long)(at / 1000000000ull);
	w->timer_ts.tv_nsec = (long long)(at % 1000000000ull);
	if (w->timer_armed) {
		io_uring_prep_timeout_update(sqe, &w->timer_ts, UD(UD_TIMER, 0), IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(sqe, UD(UD_TIMER_UPDATE, 0));
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	} else {
		io_uring_prep_timeout(sqe, &w->timer_ts, 0, IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(sqe, UD(UD_TIMER, 0));
		w->timer_armed = true;
	}
	w->timer_at = at;
}

static void send_wakes(struct worker *w)
{
	for (unsigned i = 0; i < w->d->nworkers; i++) {
		struct io_uring_sqe *sqe;

		if (!w->wake[i])
			continue;
		w->wake[i] = false;
		sqe = get_sqe(w);
		if (!sqe)
			continue;
		io_uring_prep_msg_ring(sqe, w->d->w[i]->ring.ring_fd, 0, UD(UD_WAKE, 0), 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	}
}

/* io_uring_enable_rings() is declared by liburing 2.3 but missing from its
 * shared library's symbol map, so make the register call ourselves. */
static int ring_enable(struct io_uring *ring)
{
	return (int)syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct braidd *d = w->d;
	uint64_t next_tick = 0, now;
	bool spin = worker_spins(d, w->id);

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			log_warn("worker %u: cannot pin to CPU %d", w->id, w->cpu);
	}
	if (w->disabled && ring_enable(&w->ring) < 0)
		log_err("worker %u: cannot enable its ring", w->id);
	/* Running as `user`: the main thread kept CAP_NET_BIND_SERVICE for
	 * itself, and this thread inherited it; a worker needs none. */
	if (d->cfg.user[0] && getuid() != 0) {
		struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct none[2] = { { 0 } };

		if (syscall(SYS_capset, &hdr, none) < 0)
			log_warn("worker %u: dropping capabilities: %s", w->id, strerror(errno));
	}
	for (unsigned i = 0; i < w->nsocks; i++)
		arm_recv(w, i);
	if (!spin) {
		struct io_uring_sqe *sqe = get_sqe(w);

		if (sqe) {
			w->pulse_ts.tv_nsec = (long long)PULSE_NS;
			io_uring_prep_timeout(sqe, &w->pulse_ts, 0, IORING_TIMEOUT_MULTISHOT);
			io_uring_sqe_set_data64(sqe, UD(UD_PULSE, 0));
			w->pulse = true;
		}
	}
	w->pf = core_prefilter_view(d->core);
	w->alloc_ctr = alloc_thread_counter();
	w->alloc_base = w->alloc_ctr ? *w->alloc_ctr : 0;

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		bool stopping = __atomic_load_n(&d->stop, __ATOMIC_ACQUIRE);

		now = braidd_now_ns();
		if (stopping) {
			/* Drain: let what is in flight on the links land and the
			 * last sends complete, then leave. */
			uint64_t end = d->stop_ns + d->cfg.budget_ns + 2 * d->cfg.probe_interval_ns;

			if ((now >= end && w->tx_inflight == 0) || now >= d->stop_ns + DRAIN_MAX_NS)
				break;
		}
		if (!spin) {
			uint64_t at = now + WAIT_MAX_NS;
			unsigned want = 1 + (w->pulse ? w->tx_unsubmitted : 0);

			if (w->id == 0 && next_tick < at)
				at = next_tick;
			if (w->id == 0 && d->td && tcpdest_next_ns(d->td) < at)
				at = tcpdest_next_ns(d->td);
			if (at > now) {
				timer_ensure(w, at);
				w->tx_unsubmitted = 0;
				io_uring_submit_and_wait(&w->ring, want);
			} else {
				w->tx_unsubmitted = 0;
				io_uring_submit(&w->ring);
			}
		} else {
			w->tx_unsubmitted = 0;
			io_uring_submit(&w->ring);
		}
		now = braidd_now_ns();
		w->now = now;
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			handle_cqe(w, cqe, now);
			n++;
		}
		io_uring_cq_advance(&w->ring, n);

		drain_cmds(w, now);
		if (w->id == 0 && d->td)
			tcp_pump(w, now);
		if (w->id == 0) {
			for (unsigned i = 1; i < d->nworkers; i++)
				drain_up(w, d->w[i], now);
			for (uint32_t p = w->close_pending; p; p &= p - 1) {
				unsigned link = (unsigned)__builtin_ctz(p);

				if (send_close(w, link))
					w->close_pending &= ~(1u << link);
			}
			if (now >= core_next_tick(d->core))
				core_tick(d->core, now);
			next_tick = core_next_tick(d->core);
		} else {
			drain_down(w);
		}
		send_wakes(w);
		stat_add(w->st.loops, 1);
		if (w->alloc_ctr)
			stat_set(w->st.alloc_bytes, *w->alloc_ctr - w->alloc_base);
	}
	io_uring_submit(&w->ring);
	return NULL;
}

/* --- setup ---------------------------------------------------------------------- */

static int worker_create(struct braidd *d, unsigned id, char *err, size_t errlen)
{
	struct io_uring_params p = { 0 };
	struct io_uring_buf_reg reg = { 0 };
	struct worker *w;
	int r;

	w = aligned_alloc(64, sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w, 0, sizeof(*w));
	d->w[id] = w;
	w->id = id;
	w->d = d;
	w->cpu = id < d->cfg.ncpus ? d->cfg.cpus[id] : -1;
	w->bgid = (uint16_t)id;
	for (unsigned i = 0; i < BRAID_MAX_LINKS; i++)
		w->link_slot[i] = -1;
	w->tcp_fd = -1;

	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = CQ_ENTRIES;
	if (d->cfg.sqpoll) {
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 1000;
		if (d->cfg.sqpoll_cpu >= 0) {
			p.flags |= IORING_SETUP_SQ_AFF;
			p.sq_thread_cpu = (unsigned)d->cfg.sqpoll_cpu;
		}
		/* One SQ thread for the whole process, not one per ring. */
		if (id > 0) {
			p.flags |= IORING_SETUP_ATTACH_WQ;
			p.wq_fd = (unsigned)d->w[0]->ring.ring_fd;
		}
	} else if (!worker_spins(d, id)) {
		/* Completions run only when the worker waits for them: no
		 * task-work interrupts while it is busy, one fewer reschedule
		 * per packet. The ring belongs to the worker thread, so it is
		 * created disabled and enabled from there. */
		p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			   IORING_SETUP_R_DISABLED;
	}
	r = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
	if (r == -EINVAL && (p.flags & IORING_SETUP_DEFER_TASKRUN)) {
		log_info("worker %u: kernel lacks IORING_SETUP_DEFER_TASKRUN; using plain task work", id);
		p.flags &= ~(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			     IORING_SETUP_R_DISABLED);
		r = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
	}
	w->disabled = p.flags & IORING_SETUP_R_DISABLED;
	if (r < 0) {
		snprintf(err, errlen, "worker %u: io_uring setup%s: %s", id,
			 d->cfg.sqpoll ? " with SQPOLL" : "", strerror(-r));
		return r;
	}
	w->ring_ok = true;

	r = slab_init(&w->rx, RX_BUFS, RX_BUF_SIZE);
	if (r == 0)
		r = slab_init(&w->tx, TX_BUFS, BRAID_PKT_MAX);
	if (r < 0) {
		snprintf(err, errlen, "worker %u: packet buffers: %s", id, strerror(-r));
		return r;
	}
	w->txc = calloc(TX_BUFS, sizeof(*w->txc));
	/* Worker 0 of a hub: a socket per flow, and room for as many more
	 * still closing after their flow passed to another sender. */
	w->maxsocks = BRAID_MAX_LINKS + 1 + (id == 0 ? 2 * d->cfg.max_flows : 0);
	w->socks = calloc(w->maxsocks, sizeof(*w->socks));
	if (!w->txc || !w->socks) {
		snprintf(err, errlen, "worker %u: out of memory", id);
		return -ENOMEM;
	}
	r = io_uring_register_files_sparse(&w->ring, w->maxsocks);
	if (r < 0) {
		snprintf(err, errlen, "worker %u: registering a file table: %s", id, strerror(-r));
		return r;
	}

	/* The receive slab becomes the ring's provided-buffer group: the
	 * kernel picks a buffer per datagram, we hand it back once done. */
	w->br_len = RX_BUFS * sizeof(struct io_uring_buf);
	w->br = mmap(NULL, w->br_len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (w->br == MAP_FAILED) {
		w->br = NULL;
		snprintf(err, errlen, "worker %u: buffer ring: %s", id, strerror(errno));
		return -ENOMEM;
	}
	io_uring_buf_ring_init(w->br);
	reg.ring_addr = (unsigned long)w->br;
	reg.ring_entries = RX_BUFS;
	reg.bgid = w->bgid;
	r = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (r < 0) {
		snprintf(err, errlen, "worker %u: provided buffer ring (kernel 5.19+): %s", id, strerror(-r));
		return r;
	}
	for (unsigned i = 0; i < RX_BUFS; i++) {
		slab_take(&w->rx, i);
		io_uring_buf_ring_add(w->br, slab_buf(&w->rx, i), RX_BUF_SIZE, (unsigned short)i,
				      io_uring_buf_ring_mask(RX_BUFS), (int)i);
	}
	io_uring_buf_ring_advance(w->br, RX_BUFS);

	/* Register the send slab too, so sends can later use fixed buffers;
	 * not fatal where the memlock limit forbids it. */
	{
		struct iovec iov = { .iov_base = w->tx.mem, .iov_len = w->tx.map_len };

		r = io_uring_register_buffers(&w->ring, &iov, 1);
		if (r < 0)
			log_debug("worker %u: registering send buffers: %s", id, strerror(-r));
	}

	w->rx_msg.msg_namelen = sizeof(union braid_addr);
	w->rx_msg.msg_controllen = CMSG_ROOM;

	r = spsc_create(&w->cmd, CMD_SLOTS, sizeof(struct wcmd));
	if (r < 0) {
		snprintf(err, errlen, "worker %u: command ring: %s", id, strerror(-r));
		return r;
	}
	if (id > 0) {
		r = spsc_create(&w->up, XFER_SLOTS, XFER_DATA);
		if (r == 0)
			r = spsc_create(&w->down, XFER_SLOTS, XFER_DATA);
		if (r < 0) {
			snprintf(err, errlen, "worker %u: inter-worker rings: %s", id, strerror(-r));
			return r;
		}
	}
	return 0;
}

static void worker_destroy(struct worker *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->nsocks; i++)
		if (w->socks[i].kind)
			close(w->socks[i].fd);
	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);
	if (w->br)
		munmap(w->br, w->br_len);
	slab_destroy(&w->rx);
	slab_destroy(&w->tx);
	spsc_destroy(w->up);
	spsc_destroy(w->down);
	spsc_destroy(w->cmd);
	if (w->tcp_fd >= 0)
		close(w->tcp_fd);
	free(w->tcp_rxbuf);
	free(w->txc);
	free(w->socks);
	free(w);
}

/* A link's socket, bound (and on the edge connected) as lc says. */
static int link_sock_open(const struct braidd *d, const struct link_config *lc, bool *pktinfo,
			  bool *connected, unsigned bind_wait_ms, char *err, size_t errlen)
{
	const struct braid_config *cfg = &d->cfg;
	char what[64];
	/* The edge's links have one peer: connecting filters strangers out
	 * in the kernel and lets sends carry no address. */
	bool connect_remote = cfg->role == ROLE_EDGE && lc->has_remote;
	struct sock_opts so = {
		.what = what,
		.bind = &lc->local,
		.connect = connect_remote ? &lc->remote : NULL,
		.device = lc->device,
		.sndbuf = cfg->sndbuf,
		.rcvbuf = cfg->rcvbuf,
		.busy_poll_us = cfg->busy_poll_us,
		.bind_wait_ms = bind_wait_ms,
	};

	snprintf(what, sizeof(what), "link %s", lc->name);
	*connected = connect_remote;
	return sock_open(&so, pktinfo, err, errlen);
}

/* The hub's tcp:// or dpdk-tcp:// destination: framing and counters, and
 * the receive buffer or the DPDK port. The connection itself is worker 0's
 * to open, once it runs. */
static int tcp_dest_setup(struct braidd *d, char *err, size_t errlen)
{
	const struct braid_config *cfg = &d->cfg;
	int r;

	d->td = malloc(sizeof(*d->td));
	if (!d->td) {
		snprintf(err, errlen, "destination: out of memory");
		return -ENOMEM;
	}
	r = tcpdest_init(d->td, cfg->tcp_buffer, BRAID_PAYLOAD_MAX, cfg->reconnect_min_ns,
			 cfg->reconnect_max_ns);
	if (r < 0) {
		free(d->td);
		d->td = NULL;
		snprintf(err, errlen, "destination: %s", strerror(-r));
		return r;
	}
	if (cfg->dest_kind == DEST_TCP) {
		d->w[0]->tcp_rxbuf = malloc(TCP_RXBUF);
		if (!d->w[0]->tcp_rxbuf) {
			snprintf(err, errlen, "destination: out of memory");
			return -ENOMEM;
		}
		return 0;
	}
#ifdef BRAID_DPDK
	{
		struct dpdk_params dp = {
			.eal = cfg->dpdk.eal,
			.port_id = (uint16_t)cfg->dpdk.port,
			.addr = cfg->dpdk.addr,
			.prefix = (uint8_t)cfg->dpdk.prefix,
			.gateway = cfg->dpdk.gateway,
			.remote = ntohl(cfg->app_dest.in.sin_addr.s_addr),
			.remote_port = ntohs(cfg->app_dest.in.sin_port),
			.local_port = (uint16_t)cfg->dpdk.local_port,
			.sndbuf = cfg->tcp_buffer,
			.keepalive_idle_ns = 5000ull * 1000000ull,
			.rto_min_ns = cfg->tcp_rto_min_ns,
			/* Back off on the path's congestion marks (RFC 3168)
			 * rather than on its losses, where the server agrees. */
			.ecn = true,
		};
		struct dpdk_events ev = {
			.ctx = d->w[0],
			.rx_data = dpdk_rx_data,
			.state = dpdk_state,
		};

		return dpdk_port_open(&d->dp, &dp, &ev, err, errlen);
	}
#else
	snprintf(err, errlen, "dpdk-tcp:// needs a braidd built with DPDK (libdpdk-dev, and "
		 "not WITH_DPDK=0); this one was built without it");
	return -ENOTSUP;
#endif
}

int braidd_setup(struct braidd *d, char *err, size_t errlen)
{
	struct braid_config *cfg = &d->cfg;
	struct core_params cp = {
		.role = cfg->role,
		.mode = cfg->mode,
		.algo = cfg->scheduler,
		.budget_ns = cfg->budget_ns,
		.unordered = cfg->unordered,
		.probe_interval_ns = cfg->probe_interval_ns,
		.reorder_window = cfg->reorder_window,
		.fec_k = cfg->fec_k,
		.fec_m = cfg->fec_m,
		.fec_auto = cfg->fec_auto,
		.nack = cfg->nack,
	};
	struct core_io io;
	bool pktinfo;
	int r;

	d->app_fd = -1;
	if (crypto_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	r = crypto_key_load(cfg->key_path, cp.psk, err, errlen);
	if (r < 0)
		return r;

	d->nworkers = cfg->workers;
	if (cfg->nlinks > 2 * d->nworkers)
		log_warn("%u links on %u worker(s): more than two links per worker", cfg->nlinks,
			 d->nworkers);
	for (unsigned i = 0; i < d->nworkers; i++) {
		r = worker_create(d, i, err, errlen);
		if (r < 0)
			goto err_key;
	}

	io = (struct core_io){
		.ctx = d->w[0],
		.tx_alloc = cb_tx_alloc,
		.tx_send = cb_tx_send,
		.deliver = cb_deliver,
		.random = cb_random,
		.link_state = cb_link_state,
		.link_gone = cb_link_gone,
	};
	r = core_create(&d->core, &cp, &io);
	crypto_wipe(cp.psk, sizeof(cp.psk));
	if (r < 0) {
		snprintf(err, errlen, "creating the bond: %s", strerror(-r));
		return r;
	}

	for (unsigned i = 0; i < cfg->nlinks; i++) {
		const struct link_config *lc = &cfg->links[i];
		struct worker *w = d->w[i % d->nworkers];
		bool connect_remote;
		struct core_link_params lp = {
			.id = i,
			.name = lc->name,
			.weight = lc->weight,
			.weight_auto = lc->weight_auto,
			.priority = lc->priority,
			.rate_Bps = lc->rate_Bps,
			.remote = lc->has_remote ? &lc->remote : NULL,
		};
		int fd = link_sock_open(d, lc, &pktinfo, &connect_remote, BIND_WAIT_MS, err, errlen);

		if (fd < 0)
			return fd;
		d->link_worker[i] = w->id;
		r = add_sock(w, fd, SK_LINK, i, pktinfo, connect_remote);
		if (r < 0) {
			close(fd);
			snprintf(err, errlen, "link %s: registering its socket: %s", lc->name, strerror(-r));
			return r;
		}
		r = core_link_add(d->core, &lp);
		if (r < 0) {
			snprintf(err, errlen, "link %s: %s", lc->name, strerror(-r));
			return r;
		}
		d->link_use[i] = LINK_ACTIVE;
	}

	if (cfg->role == ROLE_EDGE) {
		struct sock_opts so = {
			.what = "app listen",
			.bind = &cfg->app_listen,
			.sndbuf = cfg->sndbuf,
			.rcvbuf = cfg->rcvbuf,
			.busy_poll_us = cfg->busy_poll_us,
			.bind_wait_ms = BIND_WAIT_MS,
		};

		r = flow_table_init(&d->flows, cfg->max_flows);
		if (r < 0) {
			snprintf(err, errlen, "flow table: %s", strerror(-r));
			return r;
		}
		d->flows.idle_ns = cfg->flow_idle_ns;
		d->app_fd = sock_open(&so, &pktinfo, err, errlen);
		if (d->app_fd < 0)
			return d->app_fd;
		r = add_sock(d->w[0], d->app_fd, SK_APP, 0, false, false);
		if (r < 0) {
			snprintf(err, errlen, "app socket: registering it: %s", strerror(-r));
			return r;
		}
		d->app_slot = (unsigned)r;
	} else {
		d->flow_slot = malloc(cfg->max_flows * sizeof(*d->flow_slot));
		d->flow_gen = calloc(cfg->max_flows, sizeof(*d->flow_gen));
		if (!d->flow_slot || !d->flow_gen) {
			snprintf(err, errlen, "flow table: out of memory");
			return -ENOMEM;
		}
		for (unsigned i = 0; i < cfg->max_flows; i++)
			d->flow_slot[i] = -1;
		if (cfg->dest_kind != DEST_UDP) {
			r = tcp_dest_setup(d, err, errlen);
			if (r < 0)
				return r;
		}
	}

	/* The main thread's own small ring, only to wake a worker when it
	 * has a command for it. Without it a worker still finds the command
	 * within its pulse (10 ms) or wait (100 ms). */
	d->ctl_ring = malloc(sizeof(*d->ctl_ring));
	if (d->ctl_ring && io_uring_queue_init(8, d->ctl_ring, 0) < 0) {
		free(d->ctl_ring);
		d->ctl_ring = NULL;
	}
	return 0;

err_key:
	crypto_wipe(cp.psk, sizeof(cp.psk));
	return r;
}

int braidd_start(struct braidd *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->nworkers; i++) {
		int r = pthread_create(&d->w[i]->thread, NULL, worker_main, d->w[i]);

		if (r != 0) {
			snprintf(err, errlen, "starting worker %u: %s", i, strerror(r));
			braidd_stop(d);
			return -r;
		}
		d->w[i]->started = true;
	}
	return 0;
}

void braidd_stop(struct braidd *d)
{
	d->stop_ns = braidd_now_ns();
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < d->nworkers; i++) {
		if (d->w[i] && d->w[i]->started) {
			pthread_join(d->w[i]->thread, NULL);
			d->w[i]->started = false;
		}
	}
}

void braidd_teardown(struct braidd *d)
{
	if (d->ctl_ring) {
		io_uring_queue_exit(d->ctl_ring);
		free(d->ctl_ring);
		d->ctl_ring = NULL;
	}
#ifdef BRAID_DPDK
	/* First: closing resets the connection, which reports to worker 0. */
	if (d->dp) {
		dpdk_port_close(d->dp);
		d->dp = NULL;
	}
#endif
	for (unsigned i = 0; i < BRAID_MAX_WORKERS; i++) {
		worker_destroy(d->w[i]);
		d->w[i] = NULL;
	}
	if (d->td) {
		tcpdest_free(d->td);
		free(d->td);
		d->td = NULL;
	}
	free(d->flow_slot);
	d->flow_slot = NULL;
	free(d->flow_gen);
	d->flow_gen = NULL;
	flow_table_destroy(&d->flows);
	core_destroy(d->core);
	d->core = NULL;
}

const struct worker_stats *braidd_worker_stats(const struct braidd *d, unsigned i)
{
	if (i >= d->nworkers || !d->w[i])
		return NULL;
	return &d->w[i]->st;
}

/* --- links changed at run time (main thread) ------------------------------------ */

/* Sends one command to worker i and waits for its result. */
static int cmd_run(struct braidd *d, unsigned i, struct wcmd *c)
{
	struct worker *w = d->w[i];
	struct spsc_msg *m = spsc_reserve(w->cmd);
	uint64_t deadline = braidd_now_ns() + CMD_WAIT_NS;

	if (!m)
		return -ETIMEDOUT;	/* an earlier command is still not taken */
	c->seq = ++d->cmd_seq;
	memcpy(m->data, c, sizeof(*c));
	m->len = sizeof(*c);
	spsc_push(w->cmd);
	if (d->ctl_ring) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(d->ctl_ring);

		if (sqe) {
			io_uring_prep_msg_ring(sqe, w->ring.ring_fd, 0, UD(UD_WAKE, 0), 0);
			io_uring_submit(d->ctl_ring);
		}
		/* Reap our own completions so the ring never fills. */
		{
			struct io_uring_cqe *cqe;

			while (io_uring_peek_cqe(d->ctl_ring, &cqe) == 0)
				io_uring_cqe_seen(d->ctl_ring, cqe);
		}
	}
	while (__atomic_load_n(&w->cmd_done, __ATOMIC_ACQUIRE) != c->seq) {
		struct timespec ts = { 0, 100000 };

		if (braidd_now_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	return w->cmd_result;
}

static int find_link(const struct braidd *d, const char *name, int use)
{
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++)
		if (d->link_use[id] == use && strcmp(d->cfg.links[id].name, name) == 0)
			return (int)id;
	return -1;
}

void braidd_links_reap(struct braidd *d)
{
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		if (d->link_use[id] != LINK_DRAINING ||
		    !__atomic_load_n(&d->link_gone[id], __ATOMIC_ACQUIRE))
			continue;
		d->link_use[id] = LINK_FREE;
		log_info("link %s deleted", d->cfg.links[id].name);
	}
}

int braidd_link_add(struct braidd *d, const struct link_config *lc, int id, char *err,
		    size_t errlen)
{
	struct braid_config *cfg = &d->cfg;
	struct link_config *slot;
	struct wcmd c;
	bool pktinfo, connect_remote;
	unsigned owner, prio = 0;
	int fd, r;

	braidd_links_reap(d);
	if (find_link(d, lc->name, LINK_ACTIVE) >= 0) {
		snprintf(err, errlen, "link %s exists already", lc->name);
		return -EEXIST;
	}
	if (find_link(d, lc->name, LINK_DRAINING) >= 0) {
		snprintf(err, errlen, "link %s is still draining; try again in a moment", lc->name);
		return -EBUSY;
	}
	if (id >= BRAID_MAX_LINKS) {
		snprintf(err, errlen, "link id %d out of range 0..%d", id, BRAID_MAX_LINKS - 1);
		return -EINVAL;
	}
	if (id >= 0 && d->link_use[id] != LINK_FREE) {
		snprintf(err, errlen, "link id %d is taken by %s", id, cfg->links[id].name);
		return -EEXIST;
	}
	for (unsigned i = 0; id < 0 && i < BRAID_MAX_LINKS; i++)
		if (d->link_use[i] == LINK_FREE)
			id = (int)i;
	if (id < 0) {
		snprintf(err, errlen, "no free link id: at most %d links", BRAID_MAX_LINKS);
		return -ENOSPC;
	}
	for (unsigned i = 0; i < BRAID_MAX_LINKS; i++)
		if (d->link_use[i] != LINK_FREE && cfg->links[i].priority >= prio)
			prio = cfg->links[i].priority + 1;

	fd = link_sock_open(d, lc, &pktinfo, &connect_remote, 0, err, errlen);
	if (fd < 0)
		return fd;

	owner = (unsigned)id % d->nworkers;
	slot = &cfg->links[id];
	*slot = *lc;
	if (lc->priority == CONFIG_PRIORITY_LAST)
		slot->priority = prio;
	d->link_worker[id] = owner;
	__atomic_store_n(&d->link_gone[id], 0, __ATOMIC_RELAXED);

	c = (struct wcmd){ .kind = WC_SOCK_ADD, .link = (unsigned)id, .fd = fd,
			   .pktinfo = pktinfo, .connected = connect_remote };
	r = cmd_run(d, owner, &c);
	if (r < 0) {
		close(fd);
		snprintf(err, errlen, "link %s: its worker cannot take the socket: %s", lc->name,
			 strerror(-r));
		return r;
	}
	c = (struct wcmd){ .kind = WC_LINK_ADD, .link = (unsigned)id, .weight = lc->weight,
			   .weight_auto = lc->weight_auto };
	r = cmd_run(d, 0, &c);
	if (r < 0) {
		struct wcmd cl = { .kind = WC_SOCK_CLOSE, .link = (unsigned)id };

		cmd_run(d, owner, &cl);
		snprintf(err, errlen, "link %s: %s", lc->name, strerror(-r));
		d->link_use[id] = LINK_DRAINING;	/* freed once the socket is closed */
		return r;
	}
	d->link_use[id] = LINK_ACTIVE;
	cfg->nlinks++;
	log_info("link %s added as id %d", lc->name, id);
	return id;
}

int braidd_link_del(struct braidd *d, const char *name, char *err, size_t errlen)
{
	struct wcmd c;
	int id, r;

	braidd_links_reap(d);
	id = find_link(d, name, LINK_ACTIVE);
	if (id < 0) {
		if (find_link(d, name, LINK_DRAINING) >= 0) {
			snprintf(err, errlen, "link %s is being deleted already", name);
			return -EALREADY;
		}
		snprintf(err, errlen, "no link %s", name);
		return -ENOENT;
	}
	c = (struct wcmd){ .kind = WC_LINK_DRAIN, .link = (unsigned)id };
	r = cmd_run(d, 0, &c);
	if (r < 0) {
		snprintf(err, errlen, "link %s: %s", name, strerror(-r));
		return r;
	}
	d->link_use[id] = LINK_DRAINING;
	d->cfg.nlinks--;
	log_info("link %s draining", name);
	return 0;
}

int braidd_link_set(struct braidd *d, const char *name, const char *kv, char *err, size_t errlen)
{
	struct link_config *lc;
	struct wcmd c = { 0 };
	const char *v = strchr(kv, '=');
	int id, r;

	id = find_link(d, name, LINK_ACTIVE);
	if (id < 0) {
		snprintf(err, errlen, "no link %s", name);
		return -ENOENT;
	}
	lc = &d->cfg.links[id];
	c.link = (unsigned)id;
	if (v && (size_t)(v - kv) == 6 && strncmp(kv, "weight", 6) == 0) {
		if (config_weight_parse(v + 1, &c.weight, &c.weight_auto) < 0) {
			snprintf(err, errlen, "weight '%.32s' must be auto or 0..%u (0: standby)",
				 v + 1, SCHED_WEIGHT_MAX);
			return -EINVAL;
		}
		c.kind = WC_LINK_WEIGHT;
	} else if (v && (size_t)(v - kv) == 5 && strncmp(kv, "state", 5) == 0 &&
		   (strcmp(v + 1, "up") == 0 || strcmp(v + 1, "down") == 0)) {
		c.kind = WC_LINK_ADMIN;
		c.down = v[1] == 'd';
	} else {
		snprintf(err, errlen, "expected weight=N|auto or state=up|down, got '%.32s'", kv);
		return -EINVAL;
	}
	r = cmd_run(d, 0, &c);
	if (r < 0) {
		snprintf(err, errlen, "link %s: %s", name, strerror(-r));
		return r;
	}
	if (c.kind == WC_LINK_WEIGHT) {
		lc->weight = c.weight;
		lc->weight_auto = c.weight_auto;
	}
	return 0;
}

const char *braidd_link_name(const struct braidd *d, unsigned id)
{
	return id < BRAID_MAX_LINKS && d->link_use[id] != LINK_FREE ? d->cfg.links[id].name : NULL;
}

const struct braid_link_stats *braidd_link_stats(const struct braidd *d, unsigned id,
						 const char **name)
{
	if (id >= BRAID_MAX_LINKS || d->link_use[id] == LINK_FREE)
		return NULL;
	if (name)
		*name = d->cfg.links[id].name;
	return core_link_stats_any(d->core, id);
}
