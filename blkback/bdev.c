/* blkback/bdev.c: a block device: image + engine + counters. */
#include "blkback/bdev.h"

#include <errno.h>
#include <stdlib.h>

#include "blkback/bimg.h"

struct bdev {
	struct bimg *img;
	struct ioq *q;
	struct bdev_stats st;        /* updated with __atomic builtins */
};

int bdev_create(struct bimg *img, struct ioq *q, struct bdev **out)
{
	struct bdev *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->img = img;
	d->q = q;
	*out = d;
	return 0;
}

void bdev_destroy(struct bdev *d)
{
	free(d);
}

struct bimg *bdev_image(const struct bdev *d) { return d->img; }
uint64_t bdev_size(const struct bdev *d) { return bimg_size(d->img); }
bool bdev_writable(const struct bdev *d) { return bimg_writable(d->img); }

static uint64_t bdev_req_bytes(const struct ioq_req *io)
{
	uint64_t n = 0;

	switch (io->op) {
	case IOQ_READ:
	case IOQ_WRITE:
		for (int i = 0; i < io->iovcnt; i++)
			n += io->iov[i].iov_len;
		return n;
	case IOQ_WRITE_ZEROES:
	case IOQ_DISCARD:
		return io->len;
	default:
		return 0;
	}
}

static void bdev_req_done(struct ioq_req *io)
{
	struct bdev_req *r = (struct bdev_req *)io;
	struct bdev *d = r->dev;
	unsigned op = (unsigned)io->op;

	if (op < BDEV_NOPS) {
		__atomic_add_fetch(&d->st.ops[op], 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&d->st.bytes[op], bdev_req_bytes(io), __ATOMIC_RELAXED);
	}
	if (io->result)
		__atomic_add_fetch(&d->st.errors, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&d->st.inflight, 1, __ATOMIC_RELEASE);
	r->done(r);
}

void bdev_submit(struct bdev *d, struct bdev_req *req)
{
	req->dev = d;
	req->io.img = d->img;
	req->io.done = bdev_req_done;
	__atomic_add_fetch(&d->st.inflight, 1, __ATOMIC_RELAXED);
	ioq_submit(d->q, &req->io);
}

void bdev_stats_get(const struct bdev *d, struct bdev_stats *out)
{
	for (unsigned i = 0; i < BDEV_NOPS; i++) {
		out->ops[i] = __atomic_load_n(&d->st.ops[i], __ATOMIC_RELAXED);
		out->bytes[i] = __atomic_load_n(&d->st.bytes[i], __ATOMIC_RELAXED);
	}
	out->errors = __atomic_load_n(&d->st.errors, __ATOMIC_RELAXED);
	out->inflight = __atomic_load_n(&d->st.inflight, __ATOMIC_ACQUIRE);
}
