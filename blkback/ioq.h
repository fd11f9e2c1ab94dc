/* blkback/ioq.h: the I/O engine: a request queue served by worker threads.
 *
 * Front ends (NBD, FUSE) fill a struct ioq_req, submit it and get a
 * completion callback on a worker thread. Requests run in parallel on the
 * workers, in no particular order: a front end that needs ordering (NBD
 * flush after the writes it covers) waits for completions before submitting.
 */
#ifndef VV_BLKBACK_IOQ_H
#define VV_BLKBACK_IOQ_H

#include <stdint.h>
#include <sys/uio.h>

struct bimg;
struct ioq;

enum ioq_op {
	IOQ_READ,
	IOQ_WRITE,
	IOQ_FLUSH,
	IOQ_WRITE_ZEROES,
	IOQ_DISCARD,
};

#define IOQ_FUA        0x1u  /* WRITE, WRITE_ZEROES: durable before completion */
#define IOQ_MAY_UNMAP  0x2u  /* WRITE_ZEROES: storage may be deallocated */

struct ioq_req {
	/* Set by the submitter; untouched by the engine. */
	enum ioq_op op;
	struct bimg *img;
	uint64_t off;
	uint64_t len;                /* WRITE_ZEROES, DISCARD */
	const struct iovec *iov;     /* READ, WRITE */
	int iovcnt;
	unsigned flags;              /* IOQ_* */
	/* Called once on a worker thread after the request ran, with
	 * ->result set (0 or -errno). It may free or resubmit the request. */
	void (*done)(struct ioq_req *req);
	void *opaque;                /* the submitter's */
	/* Set by the engine. */
	int result;
	struct ioq_req *next;        /* private: queue link */
};

/* Starts @workers threads (0 = a default for this machine). Returns 0 and
 * the engine (freed by ioq_destroy()), or -errno. */
int ioq_create(unsigned workers, struct ioq **out);
/* Runs every request already submitted, stops and joins the workers, and
 * frees the engine; accepts NULL. Must not be called from a worker. */
void ioq_destroy(struct ioq *q);

/* Queues @req; any thread (including workers, from a done callback). The
 * request must stay valid until its done callback. */
void ioq_submit(struct ioq *q, struct ioq_req *req);

/* Runs @req on the calling thread (no queue) and returns its result; done
 * is not called. A request with no image fails with -EIO. For callers that already are a pool of threads. */
int ioq_exec(struct ioq_req *req);

#endif
