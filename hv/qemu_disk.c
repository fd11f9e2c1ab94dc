/* hv/qemu_disk.c: every disk of a QEMU guest is served by this process
 * (the VM's runtime), so that VHD chains are read by our stack, not by
 * QEMU's vpc driver, and no `vhd` program runs: per disk blkback's image,
 * an I/O engine, a bdev and a front end on a private Unix socket in the
 * run folder (0600): an NBD server (transport nbd: QEMU's NBD client) or
 * a vhost-user-blk server (transport vhost-user). One thread of ours runs
 * the front end's accept loop (nbd_server_run / vub_server_run); the
 * front end's own threads and the engine's workers run beside it. A live
 * snapshot is bdev_switch_top() on the disk's bdev, called on the thread
 * running vm_run() (which answers the API). */
#include "hv/qemu_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG_TAG "disk"
#include "blkback/bdev.h"
#include "blkback/bimg.h"
#include "blkback/ioq.h"
#include "blkback/nbd_server.h"
#include "blkback/ratelimit.h"
#include "blkback/vub.h"
#include "common/log.h"
#include "common/usock.h"

struct qemu_srv {
	struct bimg *img;
	struct ioq *q;
	struct bdev *dev;
	struct rl *rl;           /* the bdev's limiter (unlimited: free) */
	struct vub_server *vub;  /* vhost-user */
	struct nbd_server *nbd;  /* nbd */
	int lfd;                /* vhost-user: the listening socket */
	int stop_fd;            /* eventfd: written to stop the server thread */
	int dead_fd;            /* eventfd: written when the thread ends on its own */
	pthread_t thread;
	bool running;           /* the thread was started and not joined */
	bool stopping;          /* we asked it to end (atomic) */
	int result;             /* the front end's run()'s */
	char serial[21];
};

static void *srv_thread(void *arg)
{
	struct qemu_srv *s = arg;
	uint64_t one = 1;

	if (s->vub)
		s->result = vub_server_run(s->vub, s->lfd, s->stop_fd);
	else
		s->result = nbd_server_run(s->nbd, s->stop_fd);
	if (s->result)
		log_err("disk server stopped: %s", strerror(-s->result));
	if (!__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE) &&
	    write(s->dead_fd, &one, sizeof(one)) != sizeof(one))
		log_err("cannot report the disk server's end: %s", strerror(errno));
	return NULL;
}

/* Frees what qemu_disk_start() made; 0, or -EIO when the image did not
 * close cleanly (its flush failed), the server had failed or the disk
 * lost its image in a switch. */
static int srv_free(struct qemu_srv *s, const char *what)
{
	int r = 0, cr;

	if (!s)
		return 0;
	if (s->rl) {                    /* nobody stays asleep in the limiter */
		struct rl_limits none = { 0 };

		rl_set(s->rl, &none);
	}
	if (s->running) {
		uint64_t one = 1;

		__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
		if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
			log_warn("cannot wake the disk server: %s", strerror(errno));
		pthread_join(s->thread, NULL);
		s->running = false;
		if (s->result)
			r = -EIO;
	}
	vub_server_destroy(s->vub);
	nbd_server_destroy(s->nbd);     /* removes its socket */
	ioq_destroy(s->q);              /* runs what is still queued */
	if (s->dev) {                   /* a live snapshot replaced the top */
		if (bdev_failed(s->dev))
			r = -EIO;
		s->img = bdev_image(s->dev);
	}
	bdev_destroy(s->dev);
	rl_destroy(s->rl);
	if (s->img) {
		cr = bimg_close(s->img);        /* flushes */
		if (cr) {
			log_err("disk '%s': flush on close failed: %s", what, strerror(-cr));
			r = -EIO;
		}
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->dead_fd >= 0)
		close(s->dead_fd);
	free(s);
	return r;
}

/* The front end for @d on qd->sock. 0 or -errno (logged). */
static int srv_listen(struct qemu_disk *qd, struct qemu_srv *s, const struct vm_disk *d,
		      enum vm_disk_transport t, unsigned queues)
{
	int r;

	if (t == VM_DISK_VHOST_USER) {
		struct vub_opts vo = { .num_queues = queues, .read_only = d->read_only,
				       .serial = s->serial };

		r = vub_server_create(s->dev, &vo, &s->vub);
		if (r)
			return r;
		s->lfd = usock_listen(qd->sock, 4, 0);
		r = s->lfd < 0 ? s->lfd : 0;
	} else {
		r = nbd_server_create(&s->nbd);
		if (r)
			return r;
		r = nbd_server_add_export(s->nbd, qd->export_name, s->dev);
		if (!r)
			r = nbd_server_listen_unix(s->nbd, qd->sock);
	}
	if (r)
		log_err("disk '%s': cannot listen on %s: %s", d->path, qd->sock,
			usock_listen_strerror(r));
	return r;
}

int qemu_disk_start(struct qemu_disk *qd, const struct vm_disk *d, unsigned index,
		    const char *run_dir, enum vm_disk_transport t, unsigned queues)
{
	/* a read-only disk needs no throwaway child */
	unsigned flags = d->read_only ? 0 : d->snapshot ? BIMG_OPEN_SNAPSHOT : BIMG_OPEN_RDWR;
	const char *base = strrchr(d->path, '/');
	struct qemu_srv *s;
	int r;

	qd->read_only = d->read_only;
	qd->dead_fd = -1;
	base = base ? base + 1 : d->path;
	if ((size_t)snprintf(qd->sock, sizeof(qd->sock), "%s/disk%u.sock", run_dir, index) >=
		    sizeof(qd->sock) ||
	    strlen(qd->sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		log_err("run folder path too long for a socket: %s", run_dir);
		qd->sock[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (strlen(base) >= sizeof(qd->export_name) || strchr(base, ',')) {
		log_err("disk '%s': its file name cannot be an NBD export name", d->path);
		qd->sock[0] = '\0';
		return -EINVAL;
	}
	strcpy(qd->export_name, base);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lfd = s->stop_fd = s->dead_fd = -1;
	/* vhost-user GET_ID: up to 20 bytes of the file's name */
	memcpy(s->serial, base, strnlen(base, sizeof(s->serial) - 1));
	r = bimg_open(d->path, flags, &s->img);
	if (r) {
		const char *why = bimg_last_error();

		s->img = NULL;
		if (*why)
			log_err("disk '%s': %s", d->path, why);
		else
			log_err("disk '%s': cannot open: %s", d->path, strerror(-r));
		goto err;
	}
	r = ioq_create(0, &s->q);
	if (!r)
		r = bdev_create(s->img, s->q, &s->dev);
	if (!r)
		r = rl_create(&d->limits, NULL, &s->rl);
	if (!r)
		bdev_set_limiter(s->dev, rl_limit, s->rl);
	if (r) {
		log_err("disk '%s': cannot start its server: %s", d->path, strerror(-r));
		goto err;
	}
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->dead_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0 || s->dead_fd < 0) {
		r = -errno;
		goto err;
	}
	r = srv_listen(qd, s, d, t, queues);
	if (r)
		goto err;
	r = -pthread_create(&s->thread, NULL, srv_thread, s);
	if (r) {
		log_err("disk '%s': cannot start a thread: %s", d->path, strerror(-r));
		goto err;
	}
	s->running = true;
	qd->srv = s;
	qd->dead_fd = s->dead_fd;
	log_dbg("disk %u '%s' served over %s on %s", index, d->path,
		t == VM_DISK_VHOST_USER ? "vhost-user-blk" : "NBD", qd->sock);
	return 0;
err:
	if (s->lfd >= 0)
		unlink(qd->sock);
	qd->sock[0] = '\0';
	srv_free(s, d->path);
	return r;
}

int qemu_disk_stop(struct qemu_disk *qd)
{
	int r = srv_free(qd->srv, qd->sock);

	qd->srv = NULL;
	qd->dead_fd = -1;
	if (qd->sock[0])
		unlink(qd->sock);
	return r;
}

bool qemu_disk_running(const struct qemu_disk *qd)
{
	return qd->srv != NULL;
}

int qemu_disk_stats(const struct qemu_disk *qd, struct bdev_stats *out)
{
	if (!qd->srv)
		return -ENOENT;
	bdev_stats_get(qd->srv->dev, out);
	return 0;
}

int qemu_disk_limit(struct qemu_disk *qd, const struct rl_limits *lim)
{
	if (!qd->srv)
		return -ENOENT;
	return rl_set(qd->srv->rl, lim);
}

int qemu_disk_switch(struct qemu_disk *qd, const char *file, char *err, size_t errlen)
{
	struct qemu_srv *s = qd->srv;
	int r;

	if (!s)
		return snprintf(err, errlen, "the disk is not being served"), -ESRCH;
	r = bdev_switch_top(s->dev, file, err, errlen);
	if (!r) {
		log_info("disk %s: top is now %s", qd->sock, file);
	} else if (bdev_failed(s->dev)) {
		uint64_t one = 1;

		log_err("disk %s lost its image in a failed switch: %s", qd->sock, err);
		/* the guest gets I/O errors; the runtime ends it as a crash */
		if (write(s->dead_fd, &one, sizeof(one)) != sizeof(one))
			log_err("cannot report the lost disk: %s", strerror(errno));
	}
	return r;
}
