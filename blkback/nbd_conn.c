/* blkback/nbd_conn.c: the transmission phase of one client: requests in,
 * I/O on the engine, replies out. */
#include "blkback/nbd_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blkback/bdev.h"
#include "blkback/bimg.h"
#include "blkback/ioq.h"
#include "blkback/nbd_proto.h"
#include "common/util.h"

#define NBD_MAX_EXTENTS 2048

/* One request in flight: the engine request and its reply. */
struct nbd_io {
	struct bdev_req br;           /* io.op, off, len, iov, flags: the request */
	struct nbd_conn *conn;
	uint64_t cookie;
	uint16_t type;
	uint32_t bytes;               /* counted against the in-flight budget */
	struct nbd_io *next;          /* conn->replies */
	uint8_t hdr[NBD_CHUNK_HDR_LEN + 8];
	struct iovec reply[2];        /* header, READ data */
	int reply_cnt;
	size_t sent;                  /* bytes of the reply already sent */
	struct iovec iov;
	uint8_t data[];               /* READ/WRITE payload */
};

int nbd_recv_full(struct nbd_conn *c, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t r = c->tls ? nbd_tls_recv(c, p, len) : recv(c->fd, p, len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return c->tls ? (int)r : -errno;
		if (r == 0)
			return -ECONNRESET;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Sends @iov (at most 4 parts) from byte *@sent on, advancing it. With
 * MSG_DONTWAIT in @flags returns -EAGAIN when the socket is full (not on
 * TLS, which always blocks). Only the holder of the send token calls it.
 * 0, -EAGAIN, or -errno (the connection is then dead and shut down). */
static int nbd_sendv(struct nbd_conn *c, const struct iovec *iov, int cnt, size_t *sent,
		     int flags)
{
	for (;;) {
		struct iovec v[4];
		size_t skip = *sent;
		struct msghdr msg = { .msg_iov = v };
		ssize_t r;
		int n = 0;

		for (int i = 0; i < cnt && n < 4; i++) {
			if (skip >= iov[i].iov_len) {
				skip -= iov[i].iov_len;
				continue;
			}
			v[n].iov_base = (char *)iov[i].iov_base + skip;
			v[n++].iov_len = iov[i].iov_len - skip;
			skip = 0;
		}
		if (!n)
			return 0;
		if (__atomic_load_n(&c->dead, __ATOMIC_RELAXED))
			return -EPIPE;
		if (c->tls) {           /* blocking: workers never send on TLS */
			r = nbd_tls_send(c, v[0].iov_base, v[0].iov_len);
			if (r < 0)
				errno = EPIPE;
		} else {
			msg.msg_iovlen = (size_t)n;
			r = sendmsg(c->fd, &msg, MSG_NOSIGNAL | flags);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT))
			return -EAGAIN;
		if (r < 0) {
			int rc = -errno;

			__atomic_store_n(&c->dead, true, __ATOMIC_RELAXED);
			shutdown(c->fd, SHUT_RDWR);
			return rc;
		}
		*sent += (size_t)r;
	}
}

int nbd_send_iov(struct nbd_conn *c, struct iovec *iov, int cnt)
{
	size_t sent = 0;
	int rc;

	pthread_mutex_lock(&c->lock);
	while (c->sending)
		pthread_cond_wait(&c->cond, &c->lock);
	c->sending = true;
	pthread_mutex_unlock(&c->lock);
	rc = nbd_sendv(c, iov, cnt, &sent, 0);
	pthread_mutex_lock(&c->lock);
	c->sending = false;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Encodes a reply without payload into @buf: a simple reply, or a
 * structured NONE/ERROR chunk with the DONE flag. Returns its length. */
static size_t nbd_status_encode(const struct nbd_conn *c, uint64_t cookie, int err,
				uint8_t buf[NBD_CHUNK_HDR_LEN + 6])
{
	if (!c->structured) {
		nbd_simple_reply_encode(nbd_errno_encode(err), cookie, buf);
		return NBD_SIMPLE_REPLY_LEN;
	}
	if (!err) {
		nbd_chunk_hdr_encode(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, cookie, 0, buf);
		return NBD_CHUNK_HDR_LEN;
	}
	nbd_chunk_hdr_encode(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, cookie, 6, buf);
	nbd_put32(buf + NBD_CHUNK_HDR_LEN, nbd_errno_encode(err));
	nbd_put16(buf + NBD_CHUNK_HDR_LEN + 4, 0);   /* no message */
	return NBD_CHUNK_HDR_LEN + 6;
}

/* A reply from the reading thread (errors, hints, block status). */
static void nbd_reply_status(struct nbd_conn *c, uint64_t cookie, int err)
{
	uint8_t buf[NBD_CHUNK_HDR_LEN + 6];
	struct iovec iov = { buf, nbd_status_encode(c, cookie, err, buf) };

	nbd_send_iov(c, &iov, 1);
}

/* Builds @io's reply: the data of a successful READ after a simple reply
 * or an OFFSET_DATA chunk header; otherwise a status reply. */
static void nbd_io_reply_build(struct nbd_conn *c, struct nbd_io *io)
{
	io->reply[0].iov_base = io->hdr;
	io->reply_cnt = 1;
	io->sent = 0;
	if (io->type != NBD_CMD_READ || io->br.io.result) {
		io->reply[0].iov_len = nbd_status_encode(c, io->cookie, io->br.io.result, io->hdr);
		return;
	}
	if (!c->structured) {
		nbd_simple_reply_encode(0, io->cookie, io->hdr);
		io->reply[0].iov_len = NBD_SIMPLE_REPLY_LEN;
	} else {
		nbd_chunk_hdr_encode(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, io->cookie,
				     (uint32_t)(8 + io->iov.iov_len), io->hdr);
		nbd_put64(io->hdr + NBD_CHUNK_HDR_LEN, io->br.io.off);
		io->reply[0].iov_len = NBD_CHUNK_HDR_LEN + 8;
	}
	io->reply[1] = io->iov;
	io->reply_cnt = 2;
}

/* Gives back one request of @bytes to the client's and the server's
 * budget (counted by nbd_inflight_get()). */
static void nbd_budget_put(struct nbd_conn *c, uint32_t bytes)
{
	struct nbd_server *s = c->srv;

	pthread_mutex_lock(&s->budget_lock);
	c->inflight--;
	c->inflight_bytes -= bytes;
	s->bytes -= bytes;
	pthread_cond_broadcast(&s->budget_cond);
	pthread_mutex_unlock(&s->budget_lock);
}

/* Gives back @io's share of the budget and frees it. */
static void nbd_io_put(struct nbd_io *io)
{
	nbd_budget_put(io->conn, io->bytes);
	free(io);
}

/* Worker thread: the engine finished @br. When nobody is sending, the
 * worker sends the reply itself without blocking; whatever does not fit
 * in the socket now goes to the sender thread, first in line. Otherwise
 * (and always on TLS, whose records cannot be sent in part) the reply is
 * queued. A worker never waits for a slow client. */
static void nbd_io_done(struct bdev_req *br)
{
	struct nbd_io *io = container_of(br, struct nbd_io, br);
	struct nbd_conn *c = io->conn;
	int rc;

	nbd_io_reply_build(c, io);
	io->next = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->sending || c->replies || c->tls) {
		*c->replies_tail = io;
		c->replies_tail = &io->next;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->sending = true;
	pthread_mutex_unlock(&c->lock);

	rc = nbd_sendv(c, io->reply, io->reply_cnt, &io->sent, MSG_DONTWAIT);
	pthread_mutex_lock(&c->lock);
	if (rc == -EAGAIN) {
		/* Keep the token: the sender finishes this reply first. */
		io->next = c->replies;
		c->replies = io;
		if (!io->next)
			c->replies_tail = &io->next;
		c->handoff = true;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->sending = false;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	nbd_io_put(io);
}

/* The connection's sender thread: sends queued replies (blocking), taking
 * the send token when it is free or handed over. */
static void *nbd_sender(void *arg)
{
	struct nbd_conn *c = arg;
	struct nbd_io *io, *next;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!(c->replies && (!c->sending || c->handoff)) && !c->stopping)
			pthread_cond_wait(&c->cond, &c->lock);
		if (!c->replies)
			break;          /* stopping, and nothing left */
		if (c->sending && !c->handoff) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		c->sending = true;
		c->handoff = false;
		io = c->replies;
		c->replies = NULL;
		c->replies_tail = &c->replies;
		pthread_mutex_unlock(&c->lock);
		for (; io; io = next) {
			next = io->next;
			nbd_sendv(c, io->reply, io->reply_cnt, &io->sent, 0);
			nbd_io_put(io);
		}
		pthread_mutex_lock(&c->lock);
		c->sending = false;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Whether a request of @bytes must wait: the client's own budget (count
 * and bytes) or, beyond the server-wide cap, anything in flight. A
 * client with nothing in flight always gets one request in: the clients
 * whose replies are stuck cannot lock the others out. */
static bool nbd_budget_full(const struct nbd_conn *c, uint64_t bytes)
{
	const struct nbd_server *s = c->srv;

	if (!c->inflight)
		return false;
	return c->inflight >= NBD_MAX_INFLIGHT ||
	       c->inflight_bytes + bytes > s->lim.client_bytes ||
	       s->bytes + bytes > s->lim.total_bytes;
}

/* Waits for room in the budget, then counts @bytes. While it waits, the
 * client's requests stay unread: backpressure on a client that does not
 * read its replies. */
static void nbd_inflight_get(struct nbd_conn *c, uint32_t bytes)
{
	struct nbd_server *s = c->srv;

	pthread_mutex_lock(&s->budget_lock);
	while (nbd_budget_full(c, bytes))
		pthread_cond_wait(&s->budget_cond, &s->budget_lock);
	c->inflight++;
	c->inflight_bytes += bytes;
	s->bytes += bytes;
	pthread_mutex_unlock(&s->budget_lock);
}

static void nbd_inflight_drain(struct nbd_conn *c)
{
	struct nbd_server *s = c->srv;

	pthread_mutex_lock(&s->budget_lock);
	while (c->inflight)
		pthread_cond_wait(&s->budget_cond, &s->budget_lock);
	pthread_mutex_unlock(&s->budget_lock);
}

static bool nbd_range_ok(const struct nbd_conn *c, const struct nbd_request *r)
{
	uint64_t size = c->exp->size;

	return r->offset <= size && r->length <= size - r->offset;
}

/* Maps base:allocation from the image's status. */
static uint32_t nbd_alloc_state(int st, int layer)
{
	uint32_t s = 0;

	if (st & BIMG_STATUS_ZERO)
		s |= NBD_STATE_ZERO;
	if (layer == 0)
		s |= NBD_STATE_HOLE;
	return s;
}

/* One BLOCK_STATUS chunk (without its header's DONE flag yet) for
 * context @m: extents from @r->offset, merged while their values match. On
 * failure before any extent, returns -errno. */
static int nbd_status_chunk(struct bimg *img, const struct nbd_request *r, unsigned m,
			    uint8_t *buf, uint32_t *len)
{
	unsigned max = (r->flags & NBD_CMD_FLAG_REQ_ONE) ? 1 : NBD_MAX_EXTENTS;
	uint64_t off = r->offset, end = r->offset + r->length;
	uint8_t *ext = buf + NBD_CHUNK_HDR_LEN + 4;
	unsigned n = 0;

	while (off < end) {
		uint64_t pnum;
		int layer, st = bimg_block_status(img, off, end - off, &pnum, &layer);
		uint32_t v;

		if (st < 0) {
			if (n)
				break;          /* report what we know */
			return st;
		}
		v = m == NBD_META_BASE_ALLOC ? nbd_alloc_state(st, layer) : (uint32_t)layer;
		if (n && nbd_get32(ext + 8 * (n - 1) + 4) == v) {
			nbd_put32(ext + 8 * (n - 1), nbd_get32(ext + 8 * (n - 1)) + (uint32_t)pnum);
		} else {
			if (n == max)
				break;
			nbd_put32(ext + 8 * n, (uint32_t)pnum);
			nbd_put32(ext + 8 * n + 4, v);
			n++;
		}
		off += pnum;
	}
	nbd_put32(buf + NBD_CHUNK_HDR_LEN, m + 1);
	*len = NBD_CHUNK_HDR_LEN + 4 + 8 * n;
	return 0;
}

/* NBD_CMD_BLOCK_STATUS, answered on the reading thread (metadata only):
 * one chunk per context the client set, the last one flagged DONE. */
static void nbd_block_status(struct nbd_conn *c, const struct nbd_request *r)
{
	const size_t cap = NBD_CHUNK_HDR_LEN + 4 + 8 * NBD_MAX_EXTENTS;
	struct iovec iov[NBD_META_COUNT];
	uint8_t *buf = malloc(cap * NBD_META_COUNT);
	unsigned k = 0, last = 0;
	struct bimg *img;
	int rc = 0;

	if (!buf) {
		nbd_reply_status(c, r->cookie, -ENOMEM);
		return;
	}
	img = bdev_hold(c->exp->dev);
	if (!img)
		rc = -EIO;
	for (unsigned m = 0; m < NBD_META_COUNT; m++)
		if (c->meta & (1u << m))
			last = m;
	for (unsigned m = 0; m < NBD_META_COUNT && !rc; m++) {
		uint8_t *b = buf + cap * k;
		uint32_t len;

		if (!(c->meta & (1u << m)))
			continue;
		rc = nbd_status_chunk(img, r, m, b, &len);
		if (rc)
			break;
		nbd_chunk_hdr_encode(m == last ? NBD_REPLY_FLAG_DONE : 0,
				     NBD_REPLY_TYPE_BLOCK_STATUS, r->cookie,
				     len - NBD_CHUNK_HDR_LEN, b);
		iov[k].iov_base = b;
		iov[k].iov_len = len;
		k++;
	}
	bdev_unhold(c->exp->dev);
	if (rc)
		nbd_reply_status(c, r->cookie, rc);
	else
		nbd_send_iov(c, iov, (int)k);
	free(buf);
}

/* Validates a request against the export; returns the error to reply
 * with (0 = go ahead). */
static int nbd_request_check(const struct nbd_conn *c, const struct nbd_request *r)
{
	bool writes = r->type == NBD_CMD_WRITE || r->type == NBD_CMD_TRIM ||
		      r->type == NBD_CMD_WRITE_ZEROES;

	if (writes && !c->exp->writable)
		return -EPERM;
	if (r->type == NBD_CMD_FLUSH)
		return 0;
	if (!nbd_range_ok(c, r))
		return r->type == NBD_CMD_WRITE ? -ENOSPC : -EINVAL;
	if ((r->type == NBD_CMD_READ || r->type == NBD_CMD_WRITE) && r->length > NBD_MAX_IO)
		return -EINVAL;
	if (r->type == NBD_CMD_BLOCK_STATUS &&
	    (!c->structured || !c->meta || !r->length))
		return -EINVAL;
	return 0;
}

static struct nbd_io *nbd_io_new(struct nbd_conn *c, const struct nbd_request *r,
				 size_t payload)
{
	struct nbd_io *io = malloc(sizeof(*io) + payload);

	if (!io)
		return NULL;
	memset(io, 0, sizeof(*io));
	io->conn = c;
	io->cookie = r->cookie;
	io->type = r->type;
	io->iov.iov_base = io->data;
	io->iov.iov_len = payload;
	io->br.io.off = r->offset;
	io->br.io.len = r->length;
	io->br.done = nbd_io_done;
	if (payload) {
		io->br.io.iov = &io->iov;
		io->br.io.iovcnt = 1;
	}
	if (r->flags & NBD_CMD_FLAG_FUA)
		io->br.io.flags |= IOQ_FUA;
	switch (r->type) {
	case NBD_CMD_READ:
		io->br.io.op = IOQ_READ;
		break;
	case NBD_CMD_WRITE:
		io->br.io.op = IOQ_WRITE;
		break;
	case NBD_CMD_FLUSH:
		io->br.io.op = IOQ_FLUSH;
		break;
	case NBD_CMD_TRIM:
		io->br.io.op = IOQ_DISCARD;
		break;
	default:
		io->br.io.op = IOQ_WRITE_ZEROES;
		if (!(r->flags & NBD_CMD_FLAG_NO_HOLE))
			io->br.io.flags |= IOQ_MAY_UNMAP;
		break;
	}
	return io;
}

/* Reads and discards a WRITE payload we refuse; keeps the stream in step. */
static int nbd_skip_payload(struct nbd_conn *c, uint32_t len)
{
	char buf[4096];

	while (len) {
		uint32_t n = MIN(len, (uint32_t)sizeof(buf));
		int rc = nbd_recv_full(c, buf, n);

		if (rc)
			return rc;
		len -= n;
	}
	return 0;
}

/* Handles one request. Returns 0 to go on, < 0 to disconnect. */
static int nbd_request_handle(struct nbd_conn *c, const struct nbd_request *r)
{
	uint32_t payload = 0;
	struct nbd_io *io;
	int err, rc;

	switch (r->type) {
	case NBD_CMD_DISC:
		return -ECONNRESET;
	case NBD_CMD_WRITE:
		if (r->length > NBD_MAX_IO)
			return -EPROTO;       /* cannot resync on a huge payload */
		payload = r->length;
		break;
	case NBD_CMD_READ:
	case NBD_CMD_FLUSH:
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
	case NBD_CMD_BLOCK_STATUS:
		break;
	case NBD_CMD_CACHE:
		nbd_reply_status(c, r->cookie, 0);   /* a hint; nothing to do */
		return 0;
	default:
		nbd_reply_status(c, r->cookie, -EINVAL);
		return 0;
	}
	err = nbd_request_check(c, r);
	if (err) {
		rc = payload ? nbd_skip_payload(c, payload) : 0;
		nbd_reply_status(c, r->cookie, err);
		return rc;
	}
	if (r->type == NBD_CMD_BLOCK_STATUS) {
		nbd_block_status(c, r);
		return 0;
	}
	if (!r->length && r->type != NBD_CMD_FLUSH) {
		nbd_reply_status(c, r->cookie, 0);    /* nothing to do */
		return 0;
	}
	if (r->type == NBD_CMD_READ)
		payload = r->length;
	nbd_inflight_get(c, payload);   /* before the payload is allocated */
	io = nbd_io_new(c, r, payload);
	if (!io) {
		nbd_budget_put(c, payload);
		rc = r->type == NBD_CMD_WRITE ? nbd_skip_payload(c, payload) : 0;
		nbd_reply_status(c, r->cookie, -ENOMEM);
		return rc;
	}
	io->bytes = payload;
	if (r->type == NBD_CMD_WRITE) {
		rc = nbd_recv_full(c, io->data, payload);
		if (rc) {
			nbd_io_put(io);     /* the client is gone: no reply */
			return rc;
		}
	}
	/* The bdev's gate holds it during a switch; a device that lost its
	 * image fails it with EIO. */
	bdev_submit(c->exp->dev, &io->br);
	return 0;
}

void nbd_transmission(struct nbd_conn *c)
{
	uint8_t buf[NBD_REQUEST_LEN];
	struct nbd_request r;
	pthread_t sender;

	if (pthread_create(&sender, NULL, nbd_sender, c))
		return;
	while (!__atomic_load_n(&c->dead, __ATOMIC_RELAXED)) {
		if (nbd_recv_full(c, buf, sizeof(buf)))
			break;
		nbd_request_decode(buf, &r);
		if (r.magic != NBD_REQUEST_MAGIC)
			break;
		if (nbd_request_handle(c, &r))
			break;
	}
	nbd_inflight_drain(c);
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(sender, NULL);
}
