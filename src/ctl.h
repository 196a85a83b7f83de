/* braidd's control protocol, as spoken on its UNIX stream socket.
 *
 * One request per connection: a single line of at most CTL_LINE_MAX bytes,
 * ending in '\n', of at most CTL_ARGS_MAX words separated by single spaces,
 * each word at most CTL_WORD_MAX bytes of printable ASCII. The reply is a
 * status line, "<errno> <name>\n" ("0 ok" on success, e.g. "22 EINVAL"),
 * then the body, then the server closes the connection. A request that
 * breaks any bound gets an error status and nothing else happens.
 *
 * Requests (the body of the reply):
 *   stats          the counters as a table for people
 *   stats json     the counters as the JSON object of the stats line
 *   stats raw      the counters braidctl top needs, for programs (no JSON):
 *                    bond time_ns=N role=edge|hub session=N app_rx_pkts=N
 *                      app_rx_bytes=N delivered_pkts=N delivered_bytes=N lost=N
 *                      late=N duplicates=N reordered=N fec_k=N fec_m=N
 *                      fec_recovered=N nack_sent=N nack_rx=N retransmitted=N
 *                    link NAME tx_bytes=N rx_bytes=N tx_pkts=N rx_pkts=N rtt_us=N
 *                      jitter_us=N loss_ppm=N rate_bps=N owd_rel_us=N queue_us=N
 *                      tx_loss_ppm=N rx_loss_ppm=N weight=N weight_auto=0|1
 *                      admin_down=0|1 draining=0|1 state=up|probing|down
 *                      down_events=N
 *                  one line each (a link line per link), words separated by
 *                  single spaces; time_ns is braidd's monotonic clock
 *   metrics        the counters in the Prometheus text exposition format
 *   link list      one line per link: name, state, weight, rtt, jitter, the
 *                  FEEDBACK estimates, loss
 *   link add NAME KEY=VALUE...
 *                  a new link: the keys of a [link] section (local, remote,
 *                  device, weight, priority) and id=N (default: the lowest
 *                  free id; the two ends must give a link the same id).
 *                  The body names the id.
 *   link del NAME  drains and deletes the link
 *   link set NAME weight=N|auto [state=up|down]
 *   link set NAME state=up|down [weight=N|auto]
 *                  On error these answer one line saying what is wrong.
 *   version        braidd's version
 *
 * This module only parses and names; main.c serves. */
#ifndef BRAID_CTL_H
#define BRAID_CTL_H

#include <stddef.h>

#define CTL_LINE_MAX 1024
#define CTL_ARGS_MAX 16
#define CTL_WORD_MAX 255

enum ctl_cmd {
	CTL_STATS,
	CTL_STATS_JSON,
	CTL_STATS_RAW,
	CTL_METRICS,
	CTL_LINK_LIST,
	CTL_LINK_ADD,
	CTL_LINK_DEL,
	CTL_LINK_SET,
	CTL_VERSION,
};

struct ctl_req {
	enum ctl_cmd cmd;
	unsigned argc;
	const char *argv[CTL_ARGS_MAX];	/* point into the caller's buffer */
};

/* Parses the request in buf (len bytes, the '\n' included), splitting it in
 * place (the spaces and the newline become NULs). 0, or -EMSGSIZE (too long,
 * no newline, a word too long or too many), -EINVAL (empty, a control or
 * non-ASCII byte, doubled or edge spaces), -ENOENT (no such command), -E2BIG
 * (arguments a command does not take). */
int ctl_parse(char *buf, size_t len, struct ctl_req *req);
/* "EINVAL" for EINVAL (positive), "ok" for 0, "E?" for others. */
const char *ctl_errname(int err);

#endif
