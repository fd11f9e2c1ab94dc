/* blkback/bdev.h: a block device: an opened image stack with the I/O
 * engine that runs its requests, the counters the management API reads,
 * a quiesce gate, the live top switch (a snapshot of a running disk), and
 * a hook where a rate limiter sits. Front ends (vhost-user-blk now; NBD
 * and FUSE later, issue 11) submit through it instead of calling the
 * image or the engine directly, so that what every device does is counted,
 * paused and switched in one place.
 *
 * Ownership: the caller opens the image and the engine before
 * bdev_create(). From then on the device's current image is
 * bdev_image(): bdev_switch_top() closes the old top and opens its child
 * in its place. The caller closes bdev_image() (NULL if a failed switch
 * lost it) after the engine and the device are gone.
 *
 * Threads: bdev_submit() from any thread (front-end threads); requests
 * run and finish on the engine's workers. The gate, the switch and
 * bdev_flush() are for a control thread: never from a worker or from a
 * done callback (they wait for requests to finish).
 */
#ifndef VV_BLKBACK_BDEV_H
#define VV_BLKBACK_BDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkback/ioq.h"

struct bimg;
struct bdev;

/* Counted operations, indexed by enum ioq_op. */
#define BDEV_NOPS (IOQ_DISCARD + 1)

/* Latency buckets: lat[0] counts requests that took under 1 us, lat[i]
 * (1 <= i < BDEV_LAT_BUCKETS - 1) those that took [2^(i-1), 2^i) us, the
 * last one everything from 2^(BDEV_LAT_BUCKETS-2) us (about 4 s) up.
 * Latency runs from bdev_submit() to the done callback, time held at a
 * closed gate included. */
#define BDEV_LAT_BUCKETS 24

struct bdev_stats {
	uint64_t ops[BDEV_NOPS];     /* finished requests, by enum ioq_op */
	uint64_t bytes[BDEV_NOPS];   /* their bytes (0 for FLUSH) */
	uint64_t errors;             /* finished with an error */
	uint64_t inflight;           /* submitted, not finished yet (held ones too) */
	uint64_t lat[BDEV_LAT_BUCKETS]; /* finished requests by latency, see above */
};

/* A request to a bdev. Front ends embed it in their own request and fill
 * io.op, io.off, io.len, io.iov, io.iovcnt, io.flags and done; the bdev
 * sets io.img and io.done. */
struct bdev_req {
	struct ioq_req io;
	/* Called once on an engine worker after the request ran, with
	 * io.result set (0 or -errno) and the counters updated. It may free
	 * the request. */
	void (*done)(struct bdev_req *req);
	/* Private to the bdev. */
	struct bdev *dev;
	struct bdev_req *held_next;  /* held at a closed gate */
	uint64_t t0_ns;              /* submitted (CLOCK_MONOTONIC) */
};

/* The rate limiter hook: called by bdev_submit() on the submitting thread
 * for every request before the request takes the gate; it may sleep to
 * delay it (the front end's thread waits: backpressure). @io is the
 * request as the front end filled it; the hook must not change it. */
typedef void bdev_limit_fn(void *opaque, const struct ioq_req *io);

/* A device over @img whose requests run on @q. 0 or -errno. */
int bdev_create(struct bimg *img, struct ioq *q, struct bdev **out);

/* Frees the device; its requests must have finished (bdev_stats.inflight
 * is 0). Does not close bdev_image(). Accepts NULL. */
void bdev_destroy(struct bdev *d);

/* The current image: the one given to bdev_create() until a switch, NULL
 * once a failed switch lost it. Stable except during bdev_switch_top(). */
struct bimg *bdev_image(const struct bdev *d);
uint64_t bdev_size(const struct bdev *d);       /* bytes; fixed at create */
bool bdev_writable(const struct bdev *d);       /* fixed at create */
/* True once a failed switch lost the image: every request gets -EIO. */
bool bdev_failed(const struct bdev *d);

/* Installs the rate limiter (NULL: none). Call before requests flow. */
void bdev_set_limiter(struct bdev *d, bdev_limit_fn *fn, void *opaque);

/* Queues @req on the engine, or holds it while the gate is closed. Any
 * thread but an engine worker's done callback may block in the limiter. */
void bdev_submit(struct bdev *d, struct bdev_req *req);

/* For work on the image outside the engine (NBD block status): waits
 * while the gate is closed, then holds it (a quiesce waits for the hold)
 * and returns the current image, NULL if lost, until bdev_unhold(). Not
 * counted in the stats. Any thread but a worker. */
struct bimg *bdev_hold(struct bdev *d);
void bdev_unhold(struct bdev *d);

/* Closes the gate: new requests are held (not run, not refused), requests
 * already on the engine finish; returns once none runs. One quiesce at a
 * time: a second caller waits until the first resumes. */
void bdev_quiesce(struct bdev *d);
/* Opens the gate: held requests go to the engine, in the order they came. */
void bdev_resume(struct bdev *d);

/* Flushes the image through the engine (counted as a FLUSH) and waits.
 * 0 or -errno. */
int bdev_flush(struct bdev *d);

/* The live snapshot: makes the differencing VHD @child, a child of the
 * current top, the new top. Refused with the device unchanged (-EPERM,
 * -EINVAL, -EBUSY, ... and the reason in @err) unless the device is
 * writable and not a --snapshot image, its top is a VHD, and @child opens
 * read-write, is differencing, has the device's size and records the
 * current top as its parent (vhd_parent_verify()). Then: flush while
 * requests flow, quiesce, flush again, close the old top (its exclusive
 * lock goes), stamp its final mtime into @child as the parent timestamp,
 * open @child read-write (the old top becomes its shared read-only
 * parent), resume. Front ends see nothing but a pause.
 * A failure after the close reopens the old top and returns the error; if
 * even that fails the device has no image: it fails every request with
 * -EIO from then on, bdev_failed() says so, and -EIO is returned with
 * both reasons in @err. Switches of one device run one at a time. */
int bdev_switch_top(struct bdev *d, const char *child, char *err, size_t cap);

/* A consistent-enough snapshot of the counters (each read atomically). */
void bdev_stats_get(const struct bdev *d, struct bdev_stats *out);

#endif
