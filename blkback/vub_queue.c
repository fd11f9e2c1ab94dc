/* blkback/vub_queue.c: the queue threads of vhost-user-blk and the
 * virtio-blk requests they take off their rings.
 *
 * Each started queue has one thread: it sleeps on the kick eventfd (and
 * its stop eventfd), takes every available chain, checks the request and
 * submits it to the bdev (blkback/bdev.h). The engine's worker finishes
 * it: writes the status byte, puts the chain on the used ring and signals the call
 * eventfd when the driver wants it (all under the queue's lock). A guest
 * that corrupts its ring gets the queue stopped (broken) with one log
 * line; a malformed request gets VIRTIO_BLK_S_IOERR (or, with no status
 * byte to write, the chain back with nothing written). */
#define LOG_TAG "vhost-user-blk"
#include "blkback/vub_int.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blkback/bdev.h"
#include "common/log.h"
#include "virtio/virtio_blk.h"

#define VUB_MAX_IOV     1024u   /* segments of one request (IOV_MAX) */
#define VUB_SEG_MAX     254u    /* what the guest may put in one request */
#define VUB_WARN_MAX    8u      /* bad requests logged per queue and client */

struct vub_req {
	struct bdev_req br;           /* first: the engine hands it back */
	struct vub_queue *vq;
	uint16_t head;
	uint8_t *status;              /* in guest memory; NULL = none */
	uint32_t used_len;            /* bytes written to the guest */
	struct iovec iov[VUB_MAX_IOV];
};

uint64_t vub_device_features(const struct vub_server *srv)
{
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 |
		     1ull << VIRTIO_RING_F_EVENT_IDX |
		     1ull << VIRTIO_RING_F_INDIRECT_DESC |
		     1ull << VIRTIO_BLK_F_SEG_MAX |
		     1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_FLUSH |
		     1ull << VIRTIO_BLK_F_MQ;

	if (srv->read_only)
		f |= 1ull << VIRTIO_BLK_F_RO;
	else
		f |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

void vub_queue_init(struct vub_queue *vq, struct vub_conn *c, unsigned index)
{
	memset(vq, 0, sizeof(*vq));
	vq->conn = c;
	vq->index = index;
	vq->kick_fd = vq->call_fd = vq->err_fd = vq->stop_fd = -1;
	pthread_mutex_init(&vq->lock, NULL);
	pthread_cond_init(&vq->idle, NULL);
}

static void vub_req_warn(struct vub_queue *vq, const char *why)
{
	if (vq->warned++ < VUB_WARN_MAX)
		log_warn("queue %u: bad request: %s%s", vq->index, why,
			 vq->warned == VUB_WARN_MAX ? " (no more such messages for this client)" : "");
}

/* Hands the request back to the guest and frees it. Any thread. */
static void vub_req_complete(struct vub_req *r, uint8_t status)
{
	struct vub_queue *vq = r->vq;

	if (r->status) {
		__atomic_store_n(r->status, status, __ATOMIC_RELAXED);
		r->used_len++;
	}
	pthread_mutex_lock(&vq->lock);
	vring_push(&vq->vr, r->head, r->used_len);
	if (vring_need_notify(&vq->vr) && vq->call_fd >= 0) {
		uint64_t one = 1;

		if (write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_dbg("queue %u: call: %s", vq->index, strerror(errno));
	}
	if (!--vq->inflight)
		pthread_cond_broadcast(&vq->idle);
	pthread_mutex_unlock(&vq->lock);
	free(r);
}

static void vub_req_done(struct bdev_req *br)
{
	struct vub_req *r = (struct vub_req *)br;
	struct ioq_req *io = &br->io;

	if (io->result) {
		log_dbg("queue %u: I/O at %llu: %s", r->vq->index,
			(unsigned long long)io->off, strerror(-io->result));
		r->used_len = 0;
	}
	vub_req_complete(r, io->result ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* Drops the first @n bytes of iov[0, *cnt) in place (moves the array). */
static void vub_iov_skip(struct iovec *iov, unsigned *cnt, size_t n)
{
	unsigned i = 0;

	while (i < *cnt && n >= iov[i].iov_len)
		n -= iov[i++].iov_len;
	if (i < *cnt && n) {
		iov[i].iov_base = (char *)iov[i].iov_base + n;
		iov[i].iov_len -= n;
	}
	memmove(iov, iov + i, (*cnt - i) * sizeof(*iov));
	*cnt -= i;
}

/* Checks that [sector, +bytes) is whole sectors inside the disk. */
static bool vub_range_ok(const struct vub_server *srv, uint64_t sector, uint64_t bytes)
{
	return !(bytes % VIRTIO_BLK_SECTOR) && sector <= srv->capacity &&
	       bytes / VIRTIO_BLK_SECTOR <= srv->capacity - sector;
}

/* A DISCARD or WRITE_ZEROES request: one segment after the header. */
static int vub_req_segment(struct vub_req *r, const struct vring_chain *c,
			   struct virtio_blk_hdr *h, const char **why)
{
	struct vub_server *srv = r->vq->conn->srv;
	uint8_t raw[VIRTIO_BLK_SEG_SIZE];
	struct virtio_blk_seg s;
	bool zeroes = h->type == VIRTIO_BLK_T_WRITE_ZEROES;

	if (c->out_len - VIRTIO_BLK_HDR_SIZE != VIRTIO_BLK_SEG_SIZE) {
		*why = "discard/write zeroes with other than one segment";
		return -EINVAL;
	}
	vring_iov_to_buf(c->iov, c->nout, VIRTIO_BLK_HDR_SIZE, raw, sizeof(raw));
	virtio_blk_seg_decode(raw, &s);
	if ((s.flags & ~(zeroes ? VIRTIO_BLK_WZ_F_UNMAP : 0u)) ||
	    !vub_range_ok(srv, s.sector, (uint64_t)s.num_sectors * VIRTIO_BLK_SECTOR)) {
		*why = "discard/write zeroes segment with bad flags or past the end";
		return -EINVAL;
	}
	r->br.io.op = zeroes ? IOQ_WRITE_ZEROES : IOQ_DISCARD;
	r->br.io.off = s.sector * VIRTIO_BLK_SECTOR;
	r->br.io.len = (uint64_t)s.num_sectors * VIRTIO_BLK_SECTOR;
	r->br.io.flags = zeroes && (s.flags & VIRTIO_BLK_WZ_F_UNMAP) ? IOQ_MAY_UNMAP : 0;
	return 0;
}

/* Fills r->io from the chain, or answers the request at once. Returns 1
 * when the request goes to the engine, 0 when it is complete (and freed). */
static int vub_req_parse(struct vub_req *r, struct vring_chain *c)
{
	struct vub_queue *vq = r->vq;
	struct vub_server *srv = vq->conn->srv;
	uint8_t raw[VIRTIO_BLK_HDR_SIZE];
	struct virtio_blk_hdr h;
	const char *why = NULL;
	unsigned nout = c->nout, nin = c->nin;
	struct iovec *in = r->iov + nout;
	uint64_t data;

	/* The status byte: the last device-writable byte. */
	if (!c->in_len) {
		vub_req_warn(vq, "no device-writable status byte");
		vub_req_complete(r, 0);         /* handed back with nothing written */
		return 0;
	}
	r->status = (uint8_t *)in[nin - 1].iov_base + in[nin - 1].iov_len - 1;
	if (!--in[nin - 1].iov_len)
		nin--;
	if (c->out_len < VIRTIO_BLK_HDR_SIZE) {
		vub_req_warn(vq, "request header not in device-readable descriptors");
		goto ioerr;
	}
	vring_iov_to_buf(r->iov, nout, 0, raw, sizeof(raw));
	virtio_blk_hdr_decode(raw, &h);
	r->br.done = vub_req_done;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		data = c->in_len - 1;
		if (!vub_range_ok(srv, h.sector, data)) {
			why = "read of partial sectors or past the end";
			goto bad;
		}
		if (!data)
			break;
		r->br.io.op = IOQ_READ;
		r->br.io.off = h.sector * VIRTIO_BLK_SECTOR;
		r->br.io.iov = in;
		r->br.io.iovcnt = (int)nin;
		r->used_len = (uint32_t)data;
		return 1;
	case VIRTIO_BLK_T_OUT:
		if (srv->read_only)
			goto ioerr;
		data = c->out_len - VIRTIO_BLK_HDR_SIZE;
		if (!vub_range_ok(srv, h.sector, data)) {
			why = "write of partial sectors or past the end";
			goto bad;
		}
		if (!data)
			break;
		vub_iov_skip(r->iov, &nout, VIRTIO_BLK_HDR_SIZE);
		r->br.io.op = IOQ_WRITE;
		r->br.io.off = h.sector * VIRTIO_BLK_SECTOR;
		r->br.io.iov = r->iov;
		r->br.io.iovcnt = (int)nout;
		return 1;
	case VIRTIO_BLK_T_FLUSH:
		r->br.io.op = IOQ_FLUSH;
		return 1;
	case VIRTIO_BLK_T_GET_ID: {
		char id[VIRTIO_BLK_ID_BYTES] = { 0 };

		memcpy(id, srv->serial, strnlen(srv->serial, sizeof(id)));
		r->used_len = (uint32_t)vring_iov_from_buf(in, nin, 0, id, sizeof(id));
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (srv->read_only)
			goto ioerr;
		if (vub_req_segment(r, c, &h, &why))
			goto bad;
		return 1;
	default:
		vub_req_complete(r, VIRTIO_BLK_S_UNSUPP);
		return 0;
	}
	vub_req_complete(r, VIRTIO_BLK_S_OK);
	return 0;
bad:
	vub_req_warn(vq, why);
ioerr:
	r->used_len = 0;
	vub_req_complete(r, VIRTIO_BLK_S_IOERR);
	return 0;
}

/* Stops serving a queue the guest broke, and tells the front end through
 * the error eventfd when it gave one. Queue thread. */
static void vub_queue_break(struct vub_queue *vq)
{
	uint64_t one = 1;

	vq->broken = true;
	pthread_mutex_lock(&vq->lock);
	if (vq->err_fd >= 0 && write(vq->err_fd, &one, sizeof(one)) < 0)
		log_dbg("queue %u: err fd: %s", vq->index, strerror(errno));
	pthread_mutex_unlock(&vq->lock);
}

/* Takes every available chain. Returns false when the ring is broken. */
static bool vub_queue_drain(struct vub_queue *vq)
{
	struct vub_server *srv = vq->conn->srv;

	for (;;) {
		struct vring_chain c;
		struct vub_req *r = malloc(sizeof(*r));
		const char *why;
		int rc;

		if (!r) {
			log_err("queue %u: out of memory; retrying at the next kick", vq->index);
			return true;
		}
		memset(r, 0, offsetof(struct vub_req, iov));
		r->vq = vq;
		c.iov = r->iov;
		c.max = VUB_MAX_IOV;
		rc = vring_pop(&vq->vr, &c, &why);
		if (rc <= 0) {
			free(r);
			if (rc < 0) {
				log_err("queue %u: the guest broke the ring (%s); the queue stops "
					"until the device is reset", vq->index, why);
				vub_queue_break(vq);
				return false;
			}
			return true;
		}
		r->head = c.head;
		pthread_mutex_lock(&vq->lock);
		if (vq->inflight >= vq->num) {
			/* A driver has only num heads to offer: more in flight means
			 * it offered chains we still hold. */
			pthread_mutex_unlock(&vq->lock);
			free(r);
			log_err("queue %u: the guest offered more chains than its queue holds; "
				"the queue stops until the device is reset", vq->index);
			vub_queue_break(vq);
			return false;
		}
		vq->inflight++;
		vq->requests++;
		pthread_mutex_unlock(&vq->lock);
		if (vub_req_parse(r, &c))
			bdev_submit(srv->dev, &r->br);
	}
}

static void *vub_queue_thread(void *arg)
{
	struct vub_queue *vq = arg;
	struct pollfd p[2] = {
		{ .fd = vq->stop_fd, .events = POLLIN },
		{ .fd = vq->kick_fd, .events = POLLIN },
	};
	bool ok = true;

	/* Work may be waiting from before we started (a resumed queue). */
	for (;;) {
		if (ok) {
			do {
				vring_disable_notify(&vq->vr);
				ok = vub_queue_drain(vq);
			} while (ok && vring_enable_notify(&vq->vr));
		}
		if (poll(p, ok ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			uint64_t v;

			if (read(vq->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				break;
		} else if (p[1].revents) {
			break;                    /* the kick fd went bad */
		}
	}
	return NULL;
}

int vub_queue_maybe_start(struct vub_queue *vq)
{
	struct vub_conn *c = vq->conn;
	uint64_t desc, avail, used;
	const char *why;
	int rc;

	if (vq->running || vq->broken || !vq->enabled || vq->kick_fd < 0 || !vq->num ||
	    !vq->addr_set || !c->mem.nregions)
		return 0;
	if (vmem_uva_to_gpa(&c->mem, vq->desc_uva, vring_desc_bytes(vq->num), &desc) ||
	    vmem_uva_to_gpa(&c->mem, vq->avail_uva, vring_avail_bytes(vq->num), &avail) ||
	    vmem_uva_to_gpa(&c->mem, vq->used_uva, vring_used_bytes(vq->num), &used)) {
		log_err("queue %u: ring addresses outside the memory table; queue broken", vq->index);
		vq->broken = true;
		return -EFAULT;
	}
	rc = vring_init(&vq->vr, &c->mem, vq->num, desc, avail, used, c->features, &why);
	if (rc) {
		log_err("queue %u: %s; queue broken", vq->index, why);
		vq->broken = true;
		return rc;
	}
	vring_set_base(&vq->vr, vq->base);
	vq->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->stop_fd < 0)
		return -errno;
	rc = pthread_create(&vq->thread, NULL, vub_queue_thread, vq);
	if (rc) {
		close(vq->stop_fd);
		vq->stop_fd = -1;
		log_err("queue %u: cannot start its thread: %s", vq->index, strerror(rc));
		return -rc;
	}
	vq->running = true;
	log_dbg("queue %u: started (size %u, base %u)", vq->index, vq->num, vq->base);
	return 0;
}

void vub_queue_stop(struct vub_queue *vq)
{
	uint64_t one = 1;

	if (!vq->running)
		return;
	if (write(vq->stop_fd, &one, sizeof(one)) < 0)
		log_err("queue %u: cannot stop its thread: %s", vq->index, strerror(errno));
	pthread_join(vq->thread, NULL);
	close(vq->stop_fd);
	vq->stop_fd = -1;
	pthread_mutex_lock(&vq->lock);
	while (vq->inflight)
		pthread_cond_wait(&vq->idle, &vq->lock);
	pthread_mutex_unlock(&vq->lock);
	vq->base = vq->vr.last_avail;
	vq->running = false;
}

static void vub_fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vub_queue_reset(struct vub_queue *vq)
{
	vub_queue_stop(vq);
	vub_fd_close(&vq->kick_fd);
	vub_fd_close(&vq->call_fd);
	vub_fd_close(&vq->err_fd);
	vq->num = 0;
	vq->addr_set = false;
	vq->base = 0;
	vq->enabled = false;
	vq->broken = false;
	vq->requests = 0;
	vq->warned = 0;
}
