/* Socket setup for links and the application side; see sock.h. */
#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "log.h"
#include "sock.h"

bool sock_addr_wildcard(const union braid_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
	return false;
}

/* Asks for a buffer size, forcing past rmem_max/wmem_max when we may, and
 * logs what the kernel granted (it doubles the request for bookkeeping). */
static void set_buf(int fd, const char *what, int opt, int force, unsigned want)
{
	int got = 0;
	socklen_t len = sizeof(got);

	if (want == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, force, &want, sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) == 0) {
		if ((unsigned)got < want)
			log_warn("%s: %s is %d bytes, less than the %u asked for (raise net.core.%s)",
				 what, opt == SO_SNDBUF ? "SO_SNDBUF" : "SO_RCVBUF", got, want,
				 opt == SO_SNDBUF ? "wmem_max" : "rmem_max");
		else
			log_debug("%s: %s granted %d bytes", what,
				  opt == SO_SNDBUF ? "SO_SNDBUF" : "SO_RCVBUF", got);
	}
}

int sock_open(const struct sock_opts *o, bool *pktinfo, char *err, size_t errlen)
{
	const union braid_addr *fam = o->bind ? o->bind : o->connect;
	char a[ADDR_STRLEN];
	int fd, one = 1, e;

	*pktinfo = false;
	fd = socket(fam->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "%s: socket: %s", o->what, strerror(errno));
		return e;
	}
	if (o->device && o->device[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->device, (socklen_t)strlen(o->device)) < 0) {
		e = -errno;
		snprintf(err, errlen, "%s: bind to device %s: %s", o->what, o->device, strerror(errno));
		goto err_close;
	}
	set_buf(fd, o->what, SO_SNDBUF, SO_SNDBUFFORCE, o->sndbuf);
	set_buf(fd, o->what, SO_RCVBUF, SO_RCVBUFFORCE, o->rcvbuf);
	if (o->busy_poll_us) {
		int us = (int)o->busy_poll_us;

		if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) < 0)
			log_warn("%s: SO_BUSY_POLL: %s", o->what, strerror(errno));
	}
	if (o->bind) {
		if (sock_addr_wildcard(o->bind)) {
			int r = o->bind->sa.sa_family == AF_INET ?
				setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) :
				setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
			*pktinfo = r == 0;
		}
		unsigned waited = 0;
		int rb;

		while ((rb = bind(fd, &o->bind->sa, addr_len(o->bind))) < 0 && errno == EADDRINUSE &&
		       waited < o->bind_wait_ms) {
			struct timespec ts = { 0, 20 * 1000000 };

			nanosleep(&ts, NULL);
			waited += 20;
		}
		if (rb < 0) {
			e = -errno;
			snprintf(err, errlen, "%s: bind %s: %s", o->what,
				 addr_format(o->bind, a, sizeof(a)), strerror(errno));
			goto err_close;
		}
	}
	if (o->connect && connect(fd, &o->connect->sa, addr_len(o->connect)) < 0) {
		e = -errno;
		snprintf(err, errlen, "%s: connect %s: %s", o->what,
			 addr_format(o->connect, a, sizeof(a)), strerror(errno));
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return e;
}
