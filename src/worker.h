/* braidd's runtime: pinned worker threads, each with its own io_uring ring.
 *
 * Worker 0 runs the bond's core and the application side (the edge's listen
 * socket, or the hub's per-flow sockets to the destination). Every worker owns
 * some of the links (link i goes to worker i % workers): it receives on them
 * and sends on them through its ring. A worker other than 0 hands what it
 * receives to worker 0, and takes what worker 0 sends on its links, through
 * lock-free single-producer single-consumer rings, waking the other with an
 * IORING_OP_MSG_RING. All packet memory is allocated at setup. */
#ifndef BRAID_WORKER_H
#define BRAID_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "core.h"
#include "flow.h"
#include "prefilter.h"
#include "tcpdest.h"

struct io_uring;

struct worker;

/* Counters of one worker, written by it alone (relaxed stores). */
struct worker_stats {
	uint64_t alloc_bytes;	/* bytes this thread allocated since its loop began */
	uint64_t rx_nobufs;	/* the kernel had no provided buffer for a datagram */
	uint64_t tx_errors;	/* failed sends */
	uint64_t ring_full;	/* no submission entry or inter-worker slot */
	uint64_t flows_full;	/* no flow id for a new application sender */
	uint64_t flow_stale;	/* replies for a flow whose slot has passed to another sender */
	uint64_t loops;
	/* Link datagrams this worker dropped before the core saw them, by
	 * cause (prefilter.h; [PF_PASS] stays 0). */
	uint64_t pf_drops[PF_CAUSES];
	/* Link datagrams dropped because their link already held its share of
	 * the ring to worker 0: one busy link cannot take all of it. */
	uint64_t share_full;
};

/* A link id as the main thread sees it. */
enum link_use { LINK_FREE = 0, LINK_ACTIVE = 1, LINK_DRAINING = 2 };

struct braidd {
	struct braid_config cfg;	/* cfg.links[id]: link id's settings */
	struct core *core;
	unsigned nworkers;
	struct worker *w[BRAID_MAX_WORKERS];
	unsigned link_worker[BRAID_MAX_LINKS];

	/* Links changed at run time (braidctl link add/del/set). The main
	 * thread alone changes link_use and cfg.links; it tells the workers
	 * through a command ring each (worker.c) and waits for their answer.
	 * A deleted link drains in the core, then its owner closes its socket
	 * and sets link_gone[id]; the main thread frees the id on seeing it. */
	uint8_t link_use[BRAID_MAX_LINKS];
	int link_gone[BRAID_MAX_LINKS];
	struct io_uring *ctl_ring;	/* main thread: wakes workers (IORING_OP_MSG_RING) */
	uint32_t cmd_seq;
	int stop;			/* set by the main thread, read by workers */
	uint64_t stop_ns;		/* when stop was set (monotonic) */

	struct flow_table flows;	/* edge */
	int app_fd;			/* edge: the listen socket */
	unsigned app_slot;		/* ... its slot in worker 0 */
	int *flow_slot;			/* hub: worker 0's slot of each flow's socket, -1 until used */
	uint8_t *flow_gen;		/* hub: the generation (flow.h) that socket was opened for */

	/* Hub with a tcp:// or dpdk-tcp:// destination: the connection's
	 * framing, state and counters (worker 0 drives it), and for dpdk-tcp://
	 * the DPDK port (dpdk.h). NULL otherwise. */
	struct tcpdest *td;
	struct dpdk_port *dp;
};

/* Sets up everything from d->cfg (which the caller filled): key, core,
 * rings, buffers, sockets. 0, or a negative errno with a sentence in err. */
int braidd_setup(struct braidd *d, char *err, size_t errlen);
/* Starts the workers. 0 or a negative errno (err filled). */
int braidd_start(struct braidd *d, char *err, size_t errlen);
/* Asks the workers to drain and stop, and waits for them. */
void braidd_stop(struct braidd *d);
void braidd_teardown(struct braidd *d);

const struct worker_stats *braidd_worker_stats(const struct braidd *d, unsigned i);

/* Main thread, after braidd_start. Each returns 0 (link_add: the link's
 * id), or a negative errno with a sentence in err:
 *   link_add  a link from lc (config_link_parse) at id, or the lowest free
 *             id if id < 0: its socket is opened and handed to its worker,
 *             then the core probes it and schedules it once answered.
 *             -EEXIST (name or id taken), -EBUSY (a link of that name is
 *             still draining), -ENOSPC (no free id), or the socket's error.
 *   link_del  drains the link (see core_link_drain) and frees its id when
 *             its socket is closed. -ENOENT, -EALREADY (draining).
 *   link_set  weight=N|auto or state=up|down. -ENOENT, -EINVAL.
 * -ETIMEDOUT if a worker does not answer within 2 s. */
int braidd_link_add(struct braidd *d, const struct link_config *lc, int id, char *err,
		    size_t errlen);
int braidd_link_del(struct braidd *d, const char *name, char *err, size_t errlen);
int braidd_link_set(struct braidd *d, const char *name, const char *kv, char *err, size_t errlen);
/* Frees the ids of deleted links whose sockets are closed. */
void braidd_links_reap(struct braidd *d);
/* Link id's name and counters (main thread), or NULL for a free id. */
const char *braidd_link_name(const struct braidd *d, unsigned id);
const struct braid_link_stats *braidd_link_stats(const struct braidd *d, unsigned id,
						 const char **name);
uint64_t braidd_now_ns(void);

#endif
