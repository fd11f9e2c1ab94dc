/* blkback/bdev.h: a block device: an opened image stack with the I/O
 * engine that runs its requests and the counters the management API
 * reads. Front ends (vhost-user-blk now; NBD and FUSE later, issue 11)
 * submit through it instead of calling the image or the engine directly,
 * so that what every device does is counted in one place, and so that the
 * quiesce gate, the live top switch and a rate limiter (issue 11, later
 * slices) have one place to sit.
 *
 * The bdev does not own the image or the engine: the caller opens them
 * before bdev_create() and closes them after bdev_destroy().
 */
#ifndef VV_BLKBACK_BDEV_H
#define VV_BLKBACK_BDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "blkback/ioq.h"

struct bimg;
struct bdev;

/* Counted operations, indexed by enum ioq_op. */
#define BDEV_NOPS (IOQ_DISCARD + 1)

struct bdev_stats {
	uint64_t ops[BDEV_NOPS];     /* finished requests, by enum ioq_op */
	uint64_t bytes[BDEV_NOPS];   /* their bytes (0 for FLUSH) */
	uint64_t errors;             /* finished with an error */
	uint64_t inflight;           /* submitted, not finished yet */
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
	struct bdev *dev;            /* set by bdev_submit() */
};

/* A device over @img whose requests run on @q. 0 or -errno. */
int bdev_create(struct bimg *img, struct ioq *q, struct bdev **out);

/* Frees the device; its requests must have finished (bdev_stats.inflight
 * is 0). Accepts NULL. */
void bdev_destroy(struct bdev *d);

struct bimg *bdev_image(const struct bdev *d);
uint64_t bdev_size(const struct bdev *d);       /* bytes */
bool bdev_writable(const struct bdev *d);

/* Queues @req on the engine. Any thread. */
void bdev_submit(struct bdev *d, struct bdev_req *req);

/* A consistent-enough snapshot of the counters (each read atomically). */
void bdev_stats_get(const struct bdev *d, struct bdev_stats *out);

#endif
