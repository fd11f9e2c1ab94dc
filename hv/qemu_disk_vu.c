/* hv/qemu_disk_vu.c: a disk served to QEMU over vhost-user-blk by this
 * process (`--disk-transport vhost-user`): blkback's image, I/O engine,
 * bdev and vhost-user-blk server (blkback/vub.h) as library calls, the
 * server's accept/message loop on one thread of ours, its queue threads
 * and the engine's workers beside it. No `vhd` program is run. */
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
#include "blkback/vub.h"
#include "common/log.h"
#include "common/usock.h"

struct qemu_vu {
	struct bimg *img;
	struct ioq *q;
	struct bdev *dev;
	struct vub_server *srv;
	int lfd;                /* the listening socket */
	int stop_fd;            /* eventfd: written to stop the server thread */
	pthread_t thread;
	bool running;           /* the thread was started and not joined */
	int result;             /* vub_server_run()'s */
	char serial[21];
};

static void *vu_thread(void *arg)
{
	struct qemu_vu *vu = arg;

	vu->result = vub_server_run(vu->srv, vu->lfd, vu->stop_fd);
	if (vu->result)
		log_err("vhost-user-blk server stopped: %s", strerror(-vu->result));
	return NULL;
}

/* Frees what qemu_disk_start_vu() made; 0, or -EIO when the image did
 * not close cleanly (its flush failed) or the server had failed. */
static int vu_free(struct qemu_vu *vu, const char *what)
{
	int r = 0, cr;

	if (!vu)
		return 0;
	if (vu->running) {
		uint64_t one = 1;

		if (write(vu->stop_fd, &one, sizeof(one)) != sizeof(one))
			log_warn("cannot wake the vhost-user server: %s", strerror(errno));
		pthread_join(vu->thread, NULL);
		vu->running = false;
		if (vu->result)
			r = -EIO;
	}
	vub_server_destroy(vu->srv);
	ioq_destroy(vu->q);     /* runs what is still queued */
	if (vu->dev)            /* a live snapshot replaced the top */
		vu->img = bdev_image(vu->dev);
	bdev_destroy(vu->dev);
	if (vu->img) {
		cr = bimg_close(vu->img);   /* flushes */
		if (cr) {
			log_err("disk '%s': flush on close failed: %s", what, strerror(-cr));
			r = -EIO;
		}
	}
	if (vu->lfd >= 0)
		close(vu->lfd);
	if (vu->stop_fd >= 0)
		close(vu->stop_fd);
	free(vu);
	return r;
}

int qemu_disk_start_vu(struct qemu_disk *qd, const struct vm_disk *d, unsigned index,
		       const char *run_dir, unsigned queues)
{
	struct vub_opts vo = { .num_queues = queues, .read_only = d->read_only };
	unsigned flags = d->snapshot ? BIMG_OPEN_SNAPSHOT : d->read_only ? 0 : BIMG_OPEN_RDWR;
	const char *base = strrchr(d->path, '/');
	struct qemu_vu *vu;
	int r;

	qd->pid = 0;
	qd->pidfd = -1;
	qd->ctl[0] = '\0';
	qd->read_only = d->read_only;
	if ((size_t)snprintf(qd->sock, sizeof(qd->sock), "%s/disk%u.sock", run_dir, index) >=
		    sizeof(qd->sock) ||
	    strlen(qd->sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		log_err("run folder path too long for a socket: %s", run_dir);
		qd->sock[0] = '\0';
		return -ENAMETOOLONG;
	}
	vu = calloc(1, sizeof(*vu));
	if (!vu)
		return -ENOMEM;
	vu->lfd = -1;
	vu->stop_fd = -1;
	base = base ? base + 1 : d->path;
	/* GET_ID: up to 20 bytes of the file's name */
	memcpy(vu->serial, base, strnlen(base, sizeof(vu->serial) - 1));
	vo.serial = vu->serial;
	r = bimg_open(d->path, flags, &vu->img);
	if (r) {
		const char *why = bimg_last_error();

		vu->img = NULL;
		if (*why)
			log_err("disk '%s': %s", d->path, why);
		else
			log_err("disk '%s': cannot open: %s", d->path, strerror(-r));
		goto err;
	}
	r = ioq_create(0, &vu->q);
	if (!r)
		r = bdev_create(vu->img, vu->q, &vu->dev);
	if (!r)
		r = vub_server_create(vu->dev, &vo, &vu->srv);
	if (r) {
		log_err("disk '%s': cannot start its vhost-user-blk server: %s", d->path,
			strerror(-r));
		goto err;
	}
	vu->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vu->stop_fd < 0) {
		r = -errno;
		goto err;
	}
	vu->lfd = usock_listen(qd->sock, 4, 0);
	if (vu->lfd < 0) {
		r = vu->lfd;
		log_err("disk '%s': cannot listen on %s: %s", d->path, qd->sock,
			usock_listen_strerror(r));
		goto err;
	}
	r = -pthread_create(&vu->thread, NULL, vu_thread, vu);
	if (r) {
		log_err("disk '%s': cannot start a thread: %s", d->path, strerror(-r));
		goto err;
	}
	vu->running = true;
	qd->vu = vu;
	log_dbg("disk %u '%s' served over vhost-user-blk on %s (%u queues)", index, d->path,
		qd->sock, queues);
	return 0;
err:
	if (vu->lfd >= 0)
		unlink(qd->sock);
	qd->sock[0] = '\0';
	vu_free(vu, d->path);
	return r;
}

int qemu_disk_switch_vu(struct qemu_disk *qd, const char *file, char *err, size_t errlen)
{
	struct qemu_vu *vu = qd->vu;
	int r;

	if (!vu || !vu->dev)
		return snprintf(err, errlen, "the disk is not being served"), -ESRCH;
	r = bdev_switch_top(vu->dev, file, err, errlen);
	if (!r)
		log_info("disk %s: top is now %s", qd->sock, file);
	else if (bdev_failed(vu->dev))
		log_err("disk %s lost its image in a failed switch; the guest gets I/O errors: "
			"%s", qd->sock, err);
	return r;
}

int qemu_disk_stop_vu(struct qemu_disk *qd)
{
	int r = vu_free(qd->vu, qd->sock);

	qd->vu = NULL;
	return r;
}
