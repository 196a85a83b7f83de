/* UDP sockets as braidd sets them up: bound, optionally to a device, with
 * buffers sized from the config (and the size the kernel granted logged),
 * optional SO_BUSY_POLL, and IP_PKTINFO when bound to a wildcard address so
 * replies leave from the address the peer reached. */
#ifndef BRAID_SOCK_H
#define BRAID_SOCK_H

#include <stdbool.h>

#include "addr.h"

struct sock_opts {
	const char *what;		/* for messages: "link lte1", "app" */
	const union braid_addr *bind;	/* NULL: an ephemeral port of connect's family */
	const union braid_addr *connect;	/* NULL: unconnected */
	const char *device;		/* NULL or "": none */
	unsigned sndbuf, rcvbuf;
	unsigned busy_poll_us;
	/* A bind that finds its port in use is tried again every 20 ms for
	 * this long: a braidd restarted at once after being killed finds its
	 * old sockets still closing for a few tens of ms (io_uring releases
	 * them after the process). 0: fail at once. */
	unsigned bind_wait_ms;
};

/* Returns the fd or a negative errno; on error writes a sentence to err. Sets
 * *pktinfo when IP(V6)_PKTINFO is on (wildcard bind). */
int sock_open(const struct sock_opts *o, bool *pktinfo, char *err, size_t errlen);
/* True for 0.0.0.0 and ::. */
bool sock_addr_wildcard(const union braid_addr *a);

#endif
