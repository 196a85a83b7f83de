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

struct worker;

/* Counters of one worker, written by it alone (relaxed stores). */
struct worker_stats {
	uint64_t alloc_bytes;	/* bytes this thread allocated since its loop began */
	uint64_t rx_nobufs;	/* the kernel had no provided buffer for a datagram */
	uint64_t tx_errors;	/* failed sends */
	uint64_t ring_full;	/* no submission entry or inter-worker slot */
	uint64_t flows_full;	/* no flow id for a new application sender */
	uint64_t loops;
};

struct braidd {
	struct braid_config cfg;
	struct core *core;
	unsigned nworkers;
	struct worker *w[BRAID_MAX_WORKERS];
	unsigned link_worker[BRAID_MAX_LINKS];
	int stop;			/* set by the main thread, read by workers */
	uint64_t stop_ns;		/* when stop was set (monotonic) */

	struct flow_table flows;	/* edge */
	int app_fd;			/* edge: the listen socket */
	unsigned app_slot;		/* ... its slot in worker 0 */
	int *flow_slot;			/* hub: worker 0's slot of each flow's socket, -1 until used */
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
uint64_t braidd_now_ns(void);

#endif
