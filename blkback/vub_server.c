/* blkback/vub_server.c: the vhost-user-blk server: accepting clients one
 * at a time, reading messages (header, payload, fds), checking each one
 * strictly and applying it to the connection's queues.
 *
 * Every size and index in a message is checked before use. A message
 * that breaks the framing (payload too big, truncated, more fds than
 * SET_MEM_TABLE may carry) ends the connection; one that is well framed
 * but wrong gets a failing REPLY_ACK when the client asked for one, and
 * ends the connection otherwise. Either way a log line says why, and the
 * server accepts the next client. */
#define LOG_TAG "vhost-user-blk"
#include "blkback/vub_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blkback/bdev.h"
#include "common/log.h"
#include "virtio/virtio_blk.h"

#define VUB_SEG_MAX 254u

static const struct timeval vub_io_timeout = { .tv_sec = 10 };

struct vub_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[VHOST_USER_MAX_PAYLOAD];
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;
};

int vub_server_create(struct bdev *dev, const struct vub_opts *o, struct vub_server **out)
{
	struct vub_server *srv;

	if (o->num_queues > VUB_MAX_QUEUES)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->dev = dev;
	srv->o = *o;
	if (!srv->o.num_queues)
		srv->o.num_queues = 1;
	srv->read_only = o->read_only || !bdev_writable(dev);
	srv->capacity = bdev_size(dev) / VIRTIO_BLK_SECTOR;
	if (o->serial)
		snprintf(srv->serial, sizeof(srv->serial), "%s", o->serial);
	*out = srv;
	return 0;
}

void vub_server_destroy(struct vub_server *srv)
{
	free(srv);
}

static uint32_t vub_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t vub_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void vub_msg_close_fds(struct vub_msg *m)
{
	for (unsigned i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

/* Reads exactly @len bytes. 0, -ECONNRESET at EOF, or -errno. */
static int vub_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Receives one message. 0, or -errno (the connection ends; logged unless
 * it is a plain EOF). */
static int vub_msg_recv(int fd, struct vub_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	uint8_t hdr[VHOST_USER_HDR_SIZE];
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;
	int rc;

	m->nfds = 0;
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return -errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned k = (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));

		for (unsigned i = 0; i < k && m->nfds < VHOST_USER_MAX_FDS; i++)
			memcpy(&m->fds[m->nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		log_err("message with more than %u file descriptors; dropping the client",
			VHOST_USER_MAX_FDS);
		vub_msg_close_fds(m);
		return -EPROTO;
	}
	if ((size_t)n < sizeof(hdr)) {
		rc = vub_read_full(fd, hdr + n, sizeof(hdr) - (size_t)n);
		if (rc) {
			vub_msg_close_fds(m);
			return rc;
		}
	}
	m->request = vub_get32(hdr);
	m->flags = vub_get32(hdr + 4);
	m->size = vub_get32(hdr + 8);
	if ((m->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    m->size > VHOST_USER_MAX_PAYLOAD) {
		log_err("message %u with version %u or size %u we cannot take; dropping the client",
			m->request, m->flags & VHOST_USER_VERSION_MASK, m->size);
		vub_msg_close_fds(m);
		return -EPROTO;
	}
	rc = vub_read_full(fd, m->payload, m->size);
	if (rc)
		vub_msg_close_fds(m);
	return rc;
}

static int vub_send_reply(struct vub_conn *c, const struct vub_msg *m, const void *payload,
			  uint32_t size)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_CONFIG_HDR + VHOST_USER_CONFIG_MAX];
	uint32_t flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	size_t len = VHOST_USER_HDR_SIZE + size, done = 0;

	memcpy(buf, &m->request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	memcpy(buf + VHOST_USER_HDR_SIZE, payload, size);
	while (done < len) {
		ssize_t n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		done += (size_t)n;
	}
	return 0;
}

static int vub_reply_u64(struct vub_conn *c, const struct vub_msg *m, uint64_t v)
{
	return vub_send_reply(c, m, &v, sizeof(v));
}

/* Queue index of a message's first u32 or u64 (low byte for fd messages). */
static struct vub_queue *vub_msg_queue(struct vub_conn *c, uint32_t index, const char **why)
{
	if (index >= c->srv->o.num_queues) {
		*why = "queue index out of range";
		return NULL;
	}
	return &c->q[index];
}

static void vub_mem_unmap(struct vub_conn *c)
{
	for (unsigned i = 0; i < VMEM_MAX_REGIONS; i++) {
		if (c->maps[i].addr)
			munmap(c->maps[i].addr, c->maps[i].len);
		c->maps[i].addr = NULL;
	}
	memset(&c->mem, 0, sizeof(c->mem));
}

/* A region's fd must hold all of [0, @end): touching a mapping past the
 * end of its file raises SIGBUS. The file must also not shrink later: we
 * seal it (F_SEAL_SHRINK) when the client allows sealing, as QEMU's
 * memory-backend-memfd does itself; otherwise we can only warn. */
static int vub_region_fd_check(int fd, uint64_t end, const char **why)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		*why = "memory region fd is not a regular file (memfd, tmpfs, hugetlbfs)";
		return -EINVAL;
	}
	if ((uint64_t)st.st_size < end) {
		*why = "memory region reaches past the end of its file";
		return -EINVAL;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && !(seals & F_SEAL_SHRINK) && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		seals = -1;
	if (seals < 0)
		log_warn("memory region fd cannot be sealed against shrinking: a client that "
			 "truncates it can crash this server (SIGBUS)");
	return 0;
}

/* SET_MEM_TABLE: every queue stops (its requests finish) while the table
 * changes, then the complete ones start again over the new table. */
static int vub_set_mem_table(struct vub_conn *c, struct vub_msg *m, const char **why)
{
	struct vub_mapping maps[VMEM_MAX_REGIONS] = { 0 };
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	bool was[VUB_MAX_QUEUES];
	struct vmem mem = { 0 };
	uint32_t n;
	int rc = -EINVAL;

	if (m->size < 8 || (n = vub_get32(m->payload)) > VMEM_MAX_REGIONS || !n ||
	    m->size != 8 + 32 * n || m->nfds != n) {
		*why = "memory table with a bad region count, size or number of fds";
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = m->payload + 8 + 32 * i;
		uint64_t gpa = vub_get64(p), size = vub_get64(p + 8);
		uint64_t uva = vub_get64(p + 16), off = vub_get64(p + 24);
		uint64_t skip = off % page;     /* mmap wants a page-aligned offset */
		struct vmem_region r;
		void *a;

		if (!size || off + size < off || off + size > INT64_MAX) {
			*why = "memory region with a bad size or offset";
			goto fail;
		}
		rc = vub_region_fd_check(m->fds[i], off + size, why);
		if (rc)
			goto fail;
		rc = -EINVAL;
		a = mmap(NULL, (size_t)(skip + size), PROT_READ | PROT_WRITE, MAP_SHARED,
			 m->fds[i], (off_t)(off - skip));
		if (a == MAP_FAILED) {
			*why = "memory region cannot be mapped";
			rc = -errno;
			goto fail;
		}
		maps[i] = (struct vub_mapping){ a, (size_t)(skip + size) };
		r = (struct vmem_region){ .gpa = gpa, .size = size, .uva = uva,
					  .host = (char *)a + skip };
		if (vmem_add(&mem, &r)) {
			*why = "memory regions overlap or wrap";
			goto fail;
		}
		log_dbg("memory region %u of %u: guest 0x%llx, %llu MiB, file offset 0x%llx", i + 1, n,
			(unsigned long long)gpa, (unsigned long long)(size >> 20),
			(unsigned long long)off);
	}
	for (unsigned i = 0; i < c->srv->o.num_queues; i++) {
		was[i] = c->q[i].running;
		vub_queue_stop(&c->q[i]);
	}
	vub_mem_unmap(c);
	memcpy(c->maps, maps, sizeof(maps));
	c->mem = mem;
	for (unsigned i = 0; i < c->srv->o.num_queues; i++)
		if (was[i])
			vub_queue_maybe_start(&c->q[i]);
	vub_msg_close_fds(m);
	return 0;
fail:
	for (unsigned i = 0; i < VMEM_MAX_REGIONS; i++)
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);
	return rc;
}

/* SET_VRING_KICK / CALL / ERR */
static int vub_set_vring_fd(struct vub_conn *c, struct vub_msg *m, const char **why)
{
	struct vub_queue *vq;
	uint64_t v;
	bool nofd;
	int fd;

	if (m->size != 8) {
		*why = "vring fd message of the wrong size";
		return -EINVAL;
	}
	v = vub_get64(m->payload);
	nofd = v & VHOST_USER_VRING_NOFD;
	if ((v & ~(uint64_t)(VHOST_USER_VRING_IDX | VHOST_USER_VRING_NOFD)) ||
	    m->nfds != (nofd ? 0u : 1u)) {
		*why = "vring fd message with bad flags or number of fds";
		return -EINVAL;
	}
	vq = vub_msg_queue(c, (uint32_t)(v & VHOST_USER_VRING_IDX), why);
	if (!vq)
		return -EINVAL;
	fd = nofd ? -1 : m->fds[0];
	m->nfds = 0;                    /* taken */
	/* Never block on a client's fd: a pipe given as the call fd would
	 * stall the engine's workers once full (QEMU's eventfds already are
	 * non-blocking). */
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK)) {
			close(fd);
			*why = "vring fd cannot be made non-blocking";
			return -EINVAL;
		}
	}
	if (m->request == VHOST_USER_SET_VRING_KICK) {
		if (nofd) {
			*why = "polling mode (no kick fd) is not supported";
			return -EINVAL;
		}
		vub_queue_stop(vq);
		if (vq->kick_fd >= 0)
			close(vq->kick_fd);
		vq->kick_fd = fd;
		/* Without protocol features a ring starts enabled once kicked. */
		if (!(c->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
			vq->enabled = true;
		vub_queue_maybe_start(vq);
	} else {
		int *slot = m->request == VHOST_USER_SET_VRING_CALL ? &vq->call_fd : &vq->err_fd;

		pthread_mutex_lock(&vq->lock);
		if (*slot >= 0)
			close(*slot);
		*slot = fd;
		pthread_mutex_unlock(&vq->lock);
	}
	return 0;
}

static int vub_get_config(struct vub_conn *c, struct vub_msg *m, bool *replied, const char **why)
{
	struct vub_server *srv = c->srv;
	uint8_t cfg[VHOST_USER_CONFIG_MAX] = { 0 };
	uint8_t reply[VHOST_USER_CONFIG_HDR + VHOST_USER_CONFIG_MAX];
	struct virtio_blk_config bc = {
		.capacity = srv->capacity,
		.seg_max = VUB_SEG_MAX,
		.blk_size = VIRTIO_BLK_SECTOR,
		.num_queues = (uint16_t)srv->o.num_queues,
		.max_discard_sectors = srv->read_only ? 0 : 1u << 22,
		.max_discard_seg = srv->read_only ? 0 : 1,
		.discard_sector_alignment = 1,
		.max_write_zeroes_sectors = srv->read_only ? 0 : 1u << 22,
		.max_write_zeroes_seg = srv->read_only ? 0 : 1,
		.write_zeroes_may_unmap = 1,
	};
	uint32_t off, size;

	if (m->size < VHOST_USER_CONFIG_HDR) {
		*why = "GET_CONFIG shorter than its header";
		return -EINVAL;
	}
	off = vub_get32(m->payload);
	size = vub_get32(m->payload + 4);
	if (m->size != VHOST_USER_CONFIG_HDR + size || off > VHOST_USER_CONFIG_MAX ||
	    size > VHOST_USER_CONFIG_MAX - off) {
		*why = "GET_CONFIG with a bad offset or size";
		return -EINVAL;
	}
	virtio_blk_config_encode(&bc, cfg);
	memcpy(reply, m->payload, VHOST_USER_CONFIG_HDR);
	memcpy(reply + VHOST_USER_CONFIG_HDR, cfg + off, size);
	*replied = true;
	return vub_send_reply(c, m, reply, VHOST_USER_CONFIG_HDR + size);
}

static void vub_conn_reset(struct vub_conn *c)
{
	for (unsigned i = 0; i < VUB_MAX_QUEUES; i++)
		vub_queue_reset(&c->q[i]);
	vub_mem_unmap(c);
	c->features = 0;
}

/* Applies one message. Returns 0, or -errno with *why; *replied when it
 * sent its own reply. A -EPIPE means the socket is gone. */
static int vub_msg_handle(struct vub_conn *c, struct vub_msg *m, bool *replied, const char **why)
{
	struct vub_server *srv = c->srv;
	struct vub_queue *vq;
	uint64_t v;

	*replied = false;
	switch (m->request) {
	case VHOST_USER_GET_FEATURES:
		*replied = true;
		return vub_reply_u64(c, m, vub_device_features(srv) |
				     1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		*replied = true;
		return vub_reply_u64(c, m, 1ull << VHOST_USER_PROTOCOL_F_MQ |
				     1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
				     1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	case VHOST_USER_GET_QUEUE_NUM:
		*replied = true;
		return vub_reply_u64(c, m, srv->o.num_queues);
	case VHOST_USER_GET_CONFIG:
		return vub_get_config(c, m, replied, why);
	case VHOST_USER_SET_OWNER:
		c->owner = true;
		return 0;
	case VHOST_USER_RESET_OWNER:
		vub_conn_reset(c);
		return 0;
	case VHOST_USER_SET_MEM_TABLE:
		return vub_set_mem_table(c, m, why);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return vub_set_vring_fd(c, m, why);
	default:
		break;
	}
	/* The rest take fixed payloads and no fds. */
	if (m->nfds) {
		*why = "file descriptors with a message that takes none";
		return -EINVAL;
	}
	switch (m->request) {
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (m->size != 8) {
			*why = "feature message of the wrong size";
			return -EINVAL;
		}
		v = vub_get64(m->payload);
		if (m->request == VHOST_USER_SET_PROTOCOL_FEATURES) {
			c->protocol_features = v;
			return 0;
		}
		if (v & ~(vub_device_features(srv) | 1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
			*why = "SET_FEATURES with features we did not offer";
			return -EINVAL;
		}
		for (unsigned i = 0; i < srv->o.num_queues; i++) {
			if (c->q[i].running) {
				*why = "SET_FEATURES while queues run";
				return -EBUSY;
			}
		}
		c->features = v;
		return 0;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		if (m->size != 8) {
			*why = "vring state message of the wrong size";
			return -EINVAL;
		}
		vq = vub_msg_queue(c, vub_get32(m->payload), why);
		if (!vq)
			return -EINVAL;
		v = vub_get32(m->payload + 4);
		if (m->request == VHOST_USER_GET_VRING_BASE) {
			uint8_t st[8];
			uint32_t idx = vq->index, base;

			vub_queue_stop(vq);
			base = vq->base;
			memcpy(st, &idx, 4);
			memcpy(st + 4, &base, 4);
			/* The ring is stopped until kicked again. */
			if (vq->kick_fd >= 0)
				close(vq->kick_fd);
			vq->kick_fd = -1;
			vq->broken = false;
			log_dbg("queue %u: stopped at %u after %llu requests", vq->index, base,
				(unsigned long long)vq->requests);
			*replied = true;
			return vub_send_reply(c, m, st, sizeof(st));
		}
		if (m->request == VHOST_USER_SET_VRING_ENABLE) {
			if (v > 1) {
				*why = "SET_VRING_ENABLE with neither 0 nor 1";
				return -EINVAL;
			}
			vq->enabled = v;
			if (v)
				return vub_queue_maybe_start(vq) == -ENOMEM ? -ENOMEM : 0;
			vub_queue_stop(vq);
			return 0;
		}
		if (vq->running) {
			*why = "ring size or base changed while the queue runs";
			return -EBUSY;
		}
		if (m->request == VHOST_USER_SET_VRING_NUM) {
			if (!vring_size_ok((unsigned)v)) {
				*why = "queue size not a power of two between 1 and 32768";
				return -EINVAL;
			}
			vq->num = (unsigned)v;
		} else {
			if (v > UINT16_MAX) {
				*why = "ring base above 65535";
				return -EINVAL;
			}
			vq->base = (uint16_t)v;
		}
		return 0;
	case VHOST_USER_SET_VRING_ADDR:
		if (m->size != 40) {
			*why = "SET_VRING_ADDR of the wrong size";
			return -EINVAL;
		}
		vq = vub_msg_queue(c, vub_get32(m->payload), why);
		if (!vq)
			return -EINVAL;
		if (vq->running) {
			*why = "ring addresses changed while the queue runs";
			return -EBUSY;
		}
		vq->desc_uva = vub_get64(m->payload + 8);
		vq->used_uva = vub_get64(m->payload + 16);
		vq->avail_uva = vub_get64(m->payload + 24);
		vq->addr_set = true;
		vq->broken = false;
		return 0;
	case VHOST_USER_SET_CONFIG:
		*why = "the configuration space is read-only";
		return -EPERM;
	default:
		*why = "unknown or unsupported request";
		return -EOPNOTSUPP;
	}
}

/* Serves one client until it leaves, breaks the framing or @stop_fd fires.
 * Returns true when @stop_fd fired. */
static bool vub_serve_client(struct vub_conn *c, int stop_fd)
{
	struct vub_msg *m = malloc(sizeof(*m));
	bool stop = false;

	if (!m) {
		log_err("out of memory");
		return false;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN } };
		const char *why = "";
		bool replied, ack;
		int rc;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			stop = true;
			break;
		}
		rc = vub_msg_recv(c->fd, m);
		if (rc) {
			if (rc != -ECONNRESET && rc != -EPROTO)
				log_warn("client: %s; dropping it", strerror(-rc));
			break;
		}
		ack = (m->flags & VHOST_USER_NEED_REPLY) &&
		      (c->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
		rc = vub_msg_handle(c, m, &replied, &why);
		vub_msg_close_fds(m);      /* any the handler did not take */
		if (rc == -EPIPE)
			break;
		if (rc)
			log_warn("message %u: %s (%s)", m->request, why, strerror(-rc));
		if (!replied && ack) {
			if (vub_reply_u64(c, m, rc ? 1 : 0))
				break;
		} else if (rc && !replied) {
			log_warn("dropping the client after a bad message it expects no answer to");
			break;
		}
	}
	free(m);
	return stop;
}

static void vub_log_stats(const struct vub_server *srv)
{
	struct bdev_stats st;

	bdev_stats_get(srv->dev, &st);
	log_info("device so far: %llu reads (%llu bytes), %llu writes (%llu bytes), %llu flushes, "
		 "%llu write zeroes, %llu discards, %llu errors",
		 (unsigned long long)st.ops[IOQ_READ], (unsigned long long)st.bytes[IOQ_READ],
		 (unsigned long long)st.ops[IOQ_WRITE], (unsigned long long)st.bytes[IOQ_WRITE],
		 (unsigned long long)st.ops[IOQ_FLUSH], (unsigned long long)st.ops[IOQ_WRITE_ZEROES],
		 (unsigned long long)st.ops[IOQ_DISCARD], (unsigned long long)st.errors);
}

int vub_server_run(struct vub_server *srv, int listen_fd, int stop_fd)
{
	struct vub_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->srv = srv;
	for (unsigned i = 0; i < VUB_MAX_QUEUES; i++)
		vub_queue_init(&c->q[i], c, i);
	for (;;) {
		struct pollfd p[2] = { { .fd = listen_fd, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN } };
		bool stop;
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			free(c);
			return -errno;
		}
		if (p[1].revents)
			break;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
				continue;
			log_err("accept: %s", strerror(errno));
			continue;
		}
		log_info("client connected");
		/* A client that stops halfway through a message, or stops
		 * reading replies, is dropped rather than holding us. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &vub_io_timeout, sizeof(vub_io_timeout));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &vub_io_timeout, sizeof(vub_io_timeout));
		c->fd = fd;
		c->owner = false;
		c->protocol_features = 0;
		stop = vub_serve_client(c, stop_fd);
		for (unsigned i = 0; i < srv->o.num_queues; i++)
			vub_queue_stop(&c->q[i]);     /* its requests finish */
		for (unsigned i = 0; i < srv->o.num_queues; i++)
			if (c->q[i].requests)
				log_info("queue %u: %llu requests", i,
					 (unsigned long long)c->q[i].requests);
		vub_conn_reset(c);
		vub_log_stats(srv);
		close(fd);
		log_info("client gone");
		if (stop)
			break;
	}
	for (unsigned i = 0; i < VUB_MAX_QUEUES; i++) {
		pthread_mutex_destroy(&c->q[i].lock);
		pthread_cond_destroy(&c->q[i].idle);
	}
	free(c);
	return 0;
}
