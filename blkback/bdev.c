/* blkback/bdev.c: a block device: image + engine + counters, the gate,
 * flush and the live top switch. */
#define LOG_TAG "bdev"
#include "blkback/bdev.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blkback/bimg.h"
#include "common/log.h"
#include "vhd/vhd.h"
#include "vhd/vhd_ops.h"

struct bdev {
	struct ioq *q;
	uint64_t size;
	bool writable;
	bdev_limit_fn *limit;
	void *limit_opaque;

	/* The gate. img changes only with the gate closed and no request on
	 * the engine; every request reads it under the lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* active reached 0, or the gate opened */
	struct bimg *img;            /* NULL: lost in a failed switch */
	bool failed;
	bool closed;                 /* a quiesce holds the gate */
	unsigned active;             /* requests on the engine, bdev_hold()s */
	struct bdev_req *held, **held_tail;

	pthread_mutex_t switch_lock; /* one switch at a time */
	struct bdev_stats st;        /* updated with __atomic builtins */
};

int bdev_create(struct bimg *img, struct ioq *q, struct bdev **out)
{
	struct bdev *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->img = img;
	d->q = q;
	d->size = bimg_size(img);
	d->writable = bimg_writable(img);
	d->held_tail = &d->held;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	pthread_mutex_init(&d->switch_lock, NULL);
	*out = d;
	return 0;
}

void bdev_destroy(struct bdev *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->switch_lock);
	free(d);
}

struct bimg *bdev_image(const struct bdev *d)
{
	struct bdev *m = (struct bdev *)d;      /* the lock only */
	struct bimg *img;

	pthread_mutex_lock(&m->lock);
	img = d->img;
	pthread_mutex_unlock(&m->lock);
	return img;
}

uint64_t bdev_size(const struct bdev *d) { return d->size; }
bool bdev_writable(const struct bdev *d) { return d->writable; }

bool bdev_failed(const struct bdev *d)
{
	return __atomic_load_n(&d->failed, __ATOMIC_ACQUIRE);
}

void bdev_set_limiter(struct bdev *d, bdev_limit_fn *fn, void *opaque)
{
	d->limit = fn;
	d->limit_opaque = opaque;
}

static uint64_t bdev_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned bdev_lat_bucket(uint64_t us)
{
	unsigned b;

	if (!us)
		return 0;
	b = 64u - (unsigned)__builtin_clzll(us);       /* 2^(b-1) <= us < 2^b */
	return b < BDEV_LAT_BUCKETS ? b : BDEV_LAT_BUCKETS - 1;
}

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
	uint64_t us = (bdev_now_ns() - r->t0_ns) / 1000u;

	if (op < BDEV_NOPS) {
		__atomic_add_fetch(&d->st.ops[op], 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&d->st.bytes[op], bdev_req_bytes(io), __ATOMIC_RELAXED);
	}
	if (io->result)
		__atomic_add_fetch(&d->st.errors, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&d->st.lat[bdev_lat_bucket(us)], 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&d->lock);
	if (!--d->active)
		pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	__atomic_sub_fetch(&d->st.inflight, 1, __ATOMIC_RELEASE);
	r->done(r);
}

void bdev_submit(struct bdev *d, struct bdev_req *req)
{
	req->dev = d;
	req->io.done = bdev_req_done;
	req->t0_ns = bdev_now_ns();
	__atomic_add_fetch(&d->st.inflight, 1, __ATOMIC_RELAXED);
	if (d->limit)
		d->limit(d->limit_opaque, &req->io);
	pthread_mutex_lock(&d->lock);
	if (d->closed) {
		req->held_next = NULL;
		*d->held_tail = req;
		d->held_tail = &req->held_next;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	req->io.img = d->img;           /* NULL (lost): the engine fails it, -EIO */
	d->active++;
	pthread_mutex_unlock(&d->lock);
	ioq_submit(d->q, &req->io);
}

struct bimg *bdev_hold(struct bdev *d)
{
	struct bimg *img;

	pthread_mutex_lock(&d->lock);
	while (d->closed)
		pthread_cond_wait(&d->cond, &d->lock);
	d->active++;
	img = d->img;
	pthread_mutex_unlock(&d->lock);
	return img;
}

void bdev_unhold(struct bdev *d)
{
	pthread_mutex_lock(&d->lock);
	if (!--d->active)
		pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

void bdev_quiesce(struct bdev *d)
{
	pthread_mutex_lock(&d->lock);
	while (d->closed)               /* another quiesce */
		pthread_cond_wait(&d->cond, &d->lock);
	d->closed = true;
	while (d->active)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
}

void bdev_resume(struct bdev *d)
{
	struct bdev_req *r, *next;

	pthread_mutex_lock(&d->lock);
	r = d->held;
	d->held = NULL;
	d->held_tail = &d->held;
	d->closed = false;
	for (struct bdev_req *h = r; h; h = h->held_next) {
		h->io.img = d->img;
		d->active++;
	}
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (; r; r = next) {
		next = r->held_next;    /* r may be freed once submitted */
		ioq_submit(d->q, &r->io);
	}
}

/* ---- flush ---- */

struct bdev_sync {
	struct bdev_req r;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void bdev_sync_done(struct bdev_req *r)
{
	struct bdev_sync *s = (struct bdev_sync *)r;

	pthread_mutex_lock(&s->lock);
	s->done = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

int bdev_flush(struct bdev *d)
{
	struct bdev_sync s = { .r.io.op = IOQ_FLUSH, .r.done = bdev_sync_done };

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	bdev_submit(d, &s.r);
	pthread_mutex_lock(&s.lock);
	while (!s.done)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	return s.r.io.result;
}

/* ---- the live top switch ---- */

static int bdev_refuse(char *err, size_t cap, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bdev_refuse(char *err, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return rc;
}

/* Refuses a switch of @img to @child that cannot work, before anything
 * pauses. 0 or -errno with the reason in @err. */
static int bdev_switch_check(const struct bdev *d, struct bimg *img, const char *child,
			     char *err, size_t cap)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NO_PARENT };
	struct vhd_info info;
	struct vhd *v = NULL;
	uint64_t size;
	int rc;

	if (!img)
		return bdev_refuse(err, cap, -EIO, "the device lost its image in a failed switch");
	if (!d->writable)
		return bdev_refuse(err, cap, -EPERM, "%s is served read-only", bimg_path(img));
	if (bimg_is_snapshot(img))
		return bdev_refuse(err, cap, -EPERM, "%s is served with --snapshot (its writes "
				   "go to a throwaway child)", bimg_path(img));
	if (strcmp(bimg_driver_name(img), "vhd"))
		return bdev_refuse(err, cap, -EINVAL, "%s is not a VHD (%s image)",
				   bimg_path(img), bimg_driver_name(img));
	if (!*child)
		return bdev_refuse(err, cap, -EINVAL, "no file to switch to");
	/* Opening it for writing also tells whether another user holds it. */
	rc = vhd_open(child, &o, &v);
	if (rc)
		return bdev_refuse(err, cap, rc, "%s", vhd_last_error());
	rc = vhd_get_info(v, &info);
	size = vhd_size(v);
	vhd_close(v);
	if (rc)
		return bdev_refuse(err, cap, rc, "%s", vhd_last_error());
	if (info.type != VHD_TYPE_DIFF)
		return bdev_refuse(err, cap, -EINVAL, "%s: not a differencing VHD (%s)", child,
				   vhd_type_name(info.type));
	if (info.read_only)
		return bdev_refuse(err, cap, -EROFS, "%s: damaged footer, cannot be written",
				   child);
	if (size != d->size)
		return bdev_refuse(err, cap, -EINVAL,
				   "%s: virtual size %llu differs from the device's %llu", child,
				   (unsigned long long)size, (unsigned long long)d->size);
	rc = vhd_parent_verify(child, bimg_path(img));
	if (rc)
		return bdev_refuse(err, cap, rc, "%s (the device's top is '%s')",
				   vhd_last_error(), bimg_path(img));
	return 0;
}

/* With the gate closed and nothing running: the old top @old (path
 * @top) goes, @child comes. Returns the image to serve (NULL: none) and
 * sets *rc. */
static struct bimg *bdev_switch_locked(struct bdev *d, struct bimg *old, const char *top,
				       const char *child, int *rc, char *err, size_t cap)
{
	struct bimg *img = NULL;
	int r, br;

	r = bimg_flush(old);
	if (r) {
		*rc = bdev_refuse(err, cap, r, "%s: flush failed: %s; nothing switched", top,
				  strerror(-r));
		return old;
	}
	r = bimg_close(old);
	if (r) {
		bdev_refuse(err, cap, r, "%s: flush at close failed: %s", top, strerror(-r));
		goto back;
	}
	r = vhd_set_parent_timestamp(child, top);
	if (r) {
		bdev_refuse(err, cap, r, "%s", vhd_last_error());
		goto back;
	}
	r = bimg_open(child, BIMG_OPEN_RDWR, &img);
	if (r) {
		bdev_refuse(err, cap, r, "%s", bimg_last_error());
		goto back;
	}
	if (bimg_size(img) != d->size || !bimg_writable(img)) {
		bimg_close(img);
		r = bdev_refuse(err, cap, -EINVAL, "%s: opened with another size or read-only",
				child);
		goto back;
	}
	*rc = 0;
	return img;
back:
	*rc = r;
	br = bimg_open(top, BIMG_OPEN_RDWR, &img);
	if (!br)
		return img;
	{
		size_t n = strlen(err);

		snprintf(err + n, cap - n, "; the old top %s cannot be reopened either (%s): "
			 "the device fails every request", top, bimg_last_error());
	}
	log_err("switching %s to %s: %s", top, child, err);
	*rc = -EIO;
	return NULL;
}

int bdev_switch_top(struct bdev *d, const char *child, char *err, size_t cap)
{
	struct bimg *img;
	char *top;
	int rc;

	pthread_mutex_lock(&d->switch_lock);
	img = bdev_image(d);
	rc = bdev_switch_check(d, img, child, err, cap);
	if (rc)
		goto out;
	top = strdup(bimg_path(img));
	if (!top) {
		rc = bdev_refuse(err, cap, -ENOMEM, "out of memory");
		goto out;
	}
	/* A flush while requests still flow leaves less to flush paused (under
	 * random writes 13-90 ms instead of 170-310 ms); a failure shows
	 * again in the flush below. */
	bimg_flush(img);
	bdev_quiesce(d);
	img = bdev_switch_locked(d, img, top, child, &rc, err, cap);
	pthread_mutex_lock(&d->lock);
	d->img = img;
	if (!img)
		__atomic_store_n(&d->failed, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&d->lock);
	bdev_resume(d);
	free(top);
out:
	pthread_mutex_unlock(&d->switch_lock);
	return rc;
}

void bdev_stats_get(const struct bdev *d, struct bdev_stats *out)
{
	for (unsigned i = 0; i < BDEV_NOPS; i++) {
		out->ops[i] = __atomic_load_n(&d->st.ops[i], __ATOMIC_RELAXED);
		out->bytes[i] = __atomic_load_n(&d->st.bytes[i], __ATOMIC_RELAXED);
	}
	for (unsigned i = 0; i < BDEV_LAT_BUCKETS; i++)
		out->lat[i] = __atomic_load_n(&d->st.lat[i], __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&d->st.errors, __ATOMIC_RELAXED);
	out->inflight = __atomic_load_n(&d->st.inflight, __ATOMIC_ACQUIRE);
}
