/* udpfwd: a bare user-space UDP forwarder, the latency floor a relay cannot
 * beat.
 *
 *   udpfwd LISTEN_ADDR TARGET_ADDR
 *
 * Datagrams from a client to LISTEN_ADDR go to TARGET_ADDR from a second
 * socket connected to it; replies from the target go back to the most recent
 * client. Two threads, each a blocking recvfrom/sendto loop: nothing is
 * batched or polled, so a datagram costs one wake-up and two system calls per
 * hop, which is the least a relay can do. The benchmark sets braid beside a
 * pair of these. SIGTERM or SIGINT ends it with exit status 0. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"

#define FWD_BUF  65536
#define FWD_SOCKBUF (4 << 20)

struct fwd {
	int lfd;			/* bound to LISTEN_ADDR, talks to clients */
	int tfd;			/* connected to TARGET_ADDR */
	/* The most recent client. Written by the forward thread only when it
	 * changes, under lock; the reply thread copies it when gen moves, so
	 * the steady state takes no lock on either path. */
	pthread_mutex_t lock;
	union braid_addr client;
	atomic_uint gen;
	atomic_uint_fast64_t fwd_pkts, fwd_bytes, rep_pkts, rep_bytes;
	atomic_uint_fast64_t errors, no_client;
};

static void die(const char *what)
{
	fprintf(stderr, "udpfwd: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Socket buffers big enough that a throughput run measures the relay, not
 * the default 208 KiB queue; failure only costs throughput, so it is not
 * fatal. */
static void set_bufs(int fd)
{
	int v = FWD_SOCKBUF;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static void *fwd_forward(void *arg)
{
	struct fwd *f = arg;
	static uint8_t buf[FWD_BUF];
	union braid_addr last, from;
	struct sockaddr_storage ss;
	socklen_t flen;
	ssize_t n;

	memset(&last, 0, sizeof(last));
	for (;;) {
		flen = sizeof(ss);
		n = recvfrom(f->lfd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &flen);
		if (n < 0) {
			if (errno != EINTR)
				atomic_fetch_add_explicit(&f->errors, 1, memory_order_relaxed);
			continue;
		}
		if (addr_from_sockaddr(&from, (struct sockaddr *)&ss, flen) < 0)
			continue;
		if (!addr_equal(&from, &last)) {
			last = from;
			pthread_mutex_lock(&f->lock);
			f->client = from;
			pthread_mutex_unlock(&f->lock);
			atomic_fetch_add_explicit(&f->gen, 1, memory_order_release);
		}
		/* ECONNREFUSED here is the ICMP of an earlier datagram the
		 * target did not take; this one was not sent either. Count it
		 * and go on, like a router would. */
		if (send(f->tfd, buf, (size_t)n, 0) < 0) {
			atomic_fetch_add_explicit(&f->errors, 1, memory_order_relaxed);
			continue;
		}
		atomic_fetch_add_explicit(&f->fwd_pkts, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&f->fwd_bytes, (uint64_t)n, memory_order_relaxed);
	}
	return NULL;
}

static void *fwd_reply(void *arg)
{
	struct fwd *f = arg;
	static uint8_t buf[FWD_BUF];
	union braid_addr client;
	unsigned seen = 0, g;
	ssize_t n;

	memset(&client, 0, sizeof(client));
	for (;;) {
		n = recv(f->tfd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno != EINTR)
				atomic_fetch_add_explicit(&f->errors, 1, memory_order_relaxed);
			continue;
		}
		g = atomic_load_explicit(&f->gen, memory_order_acquire);
		if (g != seen) {
			pthread_mutex_lock(&f->lock);
			client = f->client;
			pthread_mutex_unlock(&f->lock);
			seen = g;
		}
		if (addr_len(&client) == 0) {
			atomic_fetch_add_explicit(&f->no_client, 1, memory_order_relaxed);
			continue;
		}
		if (sendto(f->lfd, buf, (size_t)n, 0, &client.sa, addr_len(&client)) < 0) {
			atomic_fetch_add_explicit(&f->errors, 1, memory_order_relaxed);
			continue;
		}
		atomic_fetch_add_explicit(&f->rep_pkts, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&f->rep_bytes, (uint64_t)n, memory_order_relaxed);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	union braid_addr listen_a, target_a;
	char lbuf[ADDR_STRLEN], tbuf[ADDR_STRLEN];
	static struct fwd f;
	pthread_t t1, t2;
	sigset_t set;
	int sig, err;

	if (argc != 3 || addr_parse(argv[1], &listen_a) < 0 ||
	    addr_parse(argv[2], &target_a) < 0) {
		fprintf(stderr, "usage: udpfwd LISTEN_ADDR TARGET_ADDR\n"
			"  addresses are IPv4:PORT or [IPv6]:PORT\n");
		return 2;
	}

	f.lfd = socket(listen_a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f.lfd < 0)
		die("socket");
	set_bufs(f.lfd);
	if (bind(f.lfd, &listen_a.sa, addr_len(&listen_a)) < 0)
		die(addr_format(&listen_a, lbuf, sizeof(lbuf)));
	f.tfd = socket(target_a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f.tfd < 0)
		die("socket");
	set_bufs(f.tfd);
	if (connect(f.tfd, &target_a.sa, addr_len(&target_a)) < 0)
		die(addr_format(&target_a, tbuf, sizeof(tbuf)));
	pthread_mutex_init(&f.lock, NULL);

	/* The threads inherit the blocked set, so only sigwait() below sees
	 * SIGTERM/SIGINT and the loops never need to check a flag. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	err = pthread_create(&t1, NULL, fwd_forward, &f);
	if (!err)
		err = pthread_create(&t2, NULL, fwd_reply, &f);
	if (err) {
		fprintf(stderr, "udpfwd: pthread_create: %s\n", strerror(err));
		return 1;
	}
	fprintf(stderr, "udpfwd: %s -> %s\n", addr_format(&listen_a, lbuf, sizeof(lbuf)),
		addr_format(&target_a, tbuf, sizeof(tbuf)));

	do {
		err = sigwait(&set, &sig);
	} while (err == EINTR);

	/* The threads sit in blocking calls; the process exit ends them. */
	fprintf(stderr, "udpfwd: exit on signal %d: forwarded %llu pkts %llu bytes, "
		"replied %llu pkts %llu bytes, errors %llu, replies before any client %llu\n",
		sig,
		(unsigned long long)atomic_load(&f.fwd_pkts),
		(unsigned long long)atomic_load(&f.fwd_bytes),
		(unsigned long long)atomic_load(&f.rep_pkts),
		(unsigned long long)atomic_load(&f.rep_bytes),
		(unsigned long long)atomic_load(&f.errors),
		(unsigned long long)atomic_load(&f.no_client));
	return 0;
}
