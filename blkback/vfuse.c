/* blkback/vfuse.c: the FUSE front end (libfuse3 high-level API). */
#define FUSE_USE_VERSION 35
#define LOG_TAG "fuse"
#include "blkback/vfuse.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blkback/bimg.h"
#include "blkback/bdev.h"
#include "blkback/ioq.h"
#include "common/log.h"

#define VFUSE_FILE "disk"

struct vfuse {
	struct bimg *img;
	struct ioq *q;
	struct bdev *dev;             /* requests go through it */
	unsigned workers;
	struct timespec mtime;
	struct fuse *f;
	struct fuse_args args;
	bool mounted;
	pthread_rwlock_t stop_lock;   /* read: a request runs; write: stopping */
	bool stopped;                 /* under stop_lock */
};

/* One request waited for by a FUSE thread. */
struct vfuse_wait {
	struct bdev_req br;           /* br.io: the request */
	sem_t done;
};

static struct vfuse *vfuse_self(void)
{
	return fuse_get_context()->private_data;
}

static void vfuse_req_done(struct bdev_req *br)
{
	struct vfuse_wait *w = (struct vfuse_wait *)br;

	sem_post(&w->done);
}

/* Runs @w on the bdev and waits for it (any FUSE thread). After
 * vfuse_stop() requests fail with -EIO. */
static int vfuse_submit(struct vfuse *vf, struct vfuse_wait *w)
{
	pthread_rwlock_rdlock(&vf->stop_lock);
	if (vf->stopped || !vf->dev) {
		pthread_rwlock_unlock(&vf->stop_lock);
		return -EIO;
	}
	w->br.done = vfuse_req_done;
	sem_init(&w->done, 0, 0);
	bdev_submit(vf->dev, &w->br);
	while (sem_wait(&w->done) < 0 && errno == EINTR)
		;
	sem_destroy(&w->done);
	pthread_rwlock_unlock(&vf->stop_lock);
	return w->br.io.result;
}

static bool is_disk(const char *path)
{
	return !strcmp(path, "/" VFUSE_FILE);
}

static void *vfuse_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct vfuse *vf = vfuse_self();
	int rc;

	cfg->use_ino = 1;
	cfg->attr_timeout = 1.0;
	cfg->entry_timeout = 1.0;
	/* Threads start here, after libfuse daemonized (fork keeps none). */
	rc = ioq_create(vf->workers, &vf->q);
	if (!rc)
		rc = bdev_create(vf->img, vf->q, &vf->dev);
	if (rc) {
		log_err("cannot start I/O threads: %s", strerror(-rc));
		fuse_exit(fuse_get_context()->fuse);
	}
	return vf;
}

static void vfuse_op_destroy(void *priv)
{
	struct vfuse *vf = priv;

	ioq_destroy(vf->q);
	bdev_destroy(vf->dev);
	vf->q = NULL;
	vf->dev = NULL;
}

static int vfuse_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct vfuse *vf = vfuse_self();

	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_mtim = st->st_ctim = st->st_atim = vf->mtime;
	if (!strcmp(path, "/")) {
		st->st_ino = 1;
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (!is_disk(path))
		return -ENOENT;
	st->st_ino = 2;
	st->st_mode = S_IFREG | (bimg_writable(vf->img) ? 0644 : 0444);
	st->st_nlink = 1;
	st->st_size = (off_t)bimg_size(vf->img);
	st->st_blksize = 4096;
	st->st_blocks = st->st_size / 512;
	return 0;
}

static int vfuse_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
			 struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	if (strcmp(path, "/"))
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, VFUSE_FILE, NULL, 0, 0);
	return 0;
}

static int vfuse_open(const char *path, struct fuse_file_info *fi)
{
	struct vfuse *vf = vfuse_self();

	if (!is_disk(path))
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY && !bimg_writable(vf->img))
		return -EROFS;
	return 0;
}

/* Clips a transfer to the image; returns the bytes that fit. */
static size_t vfuse_clip(struct vfuse *vf, size_t len, off_t off)
{
	uint64_t size = bimg_size(vf->img);

	if (off < 0 || (uint64_t)off >= size)
		return 0;
	return len > size - (uint64_t)off ? (size_t)(size - (uint64_t)off) : len;
}

static int vfuse_read(const char *path, char *buf, size_t len, off_t off,
		      struct fuse_file_info *fi)
{
	struct vfuse *vf = vfuse_self();
	struct vfuse_wait w = { .br.io = { .op = IOQ_READ } };
	struct iovec iov = { buf, vfuse_clip(vf, len, off) };
	int rc;

	if (!iov.iov_len)
		return 0;
	w.br.io.off = (uint64_t)off;
	w.br.io.iov = &iov;
	w.br.io.iovcnt = 1;
	rc = vfuse_submit(vf, &w);
	return rc ? rc : (int)iov.iov_len;
}

static int vfuse_write(const char *path, const char *buf, size_t len, off_t off,
		       struct fuse_file_info *fi)
{
	struct vfuse *vf = vfuse_self();
	struct vfuse_wait w = { .br.io = { .op = IOQ_WRITE } };
	struct iovec iov = { (void *)buf, vfuse_clip(vf, len, off) };
	int rc;

	if (!iov.iov_len)
		return len ? -ENOSPC : 0;
	w.br.io.off = (uint64_t)off;
	w.br.io.iov = &iov;
	w.br.io.iovcnt = 1;
	rc = vfuse_submit(vf, &w);
	return rc ? rc : (int)iov.iov_len;
}

static int vfuse_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct vfuse *vf = vfuse_self();
	struct vfuse_wait w = { .br.io = { .op = IOQ_FLUSH } };

	return vfuse_submit(vf, &w);
}

static int vfuse_fallocate(const char *path, int mode, off_t off, off_t len,
			   struct fuse_file_info *fi)
{
	struct vfuse *vf = vfuse_self();
	struct vfuse_wait w = { .br.io = { .op = IOQ_WRITE_ZEROES } };
	size_t n = vfuse_clip(vf, (size_t)len, off);

	if (!(mode & FALLOC_FL_KEEP_SIZE) && !(mode & FALLOC_FL_ZERO_RANGE)) {
		/* Plain allocation: the image is already its full size. */
		return mode == 0 && n == (size_t)len ? 0 : -EOPNOTSUPP;
	}
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if (!n)
		return 0;
	w.br.io.off = (uint64_t)off;
	w.br.io.len = n;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		w.br.io.flags = IOQ_MAY_UNMAP;
	return vfuse_submit(vf, &w);
}

static int vfuse_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct vfuse *vf = vfuse_self();

	if (!is_disk(path))
		return -ENOENT;
	return (uint64_t)size == bimg_size(vf->img) ? 0 : -EPERM;
}

static int vfuse_utimens(const char *path, const struct timespec tv[2],
			 struct fuse_file_info *fi)
{
	return 0;
}

static int vfuse_getxattr(const char *path, const char *name, char *value, size_t size)
{
	char buf[32];
	int n;

	if (!is_disk(path) || strcmp(name, VFUSE_XATTR_PID))
		return -ENODATA;
	n = snprintf(buf, sizeof(buf), "%d", (int)getpid());
	if (size == 0)
		return n;
	if (size < (size_t)n)
		return -ERANGE;
	memcpy(value, buf, (size_t)n);
	return n;
}

static const struct fuse_operations vfuse_ops = {
	.init = vfuse_init,
	.destroy = vfuse_op_destroy,
	.getattr = vfuse_getattr,
	.readdir = vfuse_readdir,
	.open = vfuse_open,
	.read = vfuse_read,
	.write = vfuse_write,
	.fsync = vfuse_fsync,
	.fallocate = vfuse_fallocate,
	.truncate = vfuse_truncate,
	.utimens = vfuse_utimens,
	.getxattr = vfuse_getxattr,
};

int vfuse_create(struct bimg *img, const char *dir, const struct vfuse_opts *o,
		 struct vfuse **out)
{
	struct vfuse *vf = calloc(1, sizeof(*vf));
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	pthread_rwlockattr_t attr;
	int rc = -ENOMEM;

	*out = NULL;
	if (!vf)
		return -ENOMEM;
	vf->img = img;
	vf->workers = o->workers;
	vf->args = args;
	/* A stream of requests must not starve vfuse_stop(). */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&vf->stop_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	clock_gettime(CLOCK_REALTIME, &vf->mtime);
	if (fuse_opt_add_arg(&vf->args, "vhd") || fuse_opt_add_arg(&vf->args, "-o") ||
	    fuse_opt_add_arg(&vf->args, bimg_writable(img) ? "fsname=vhd,subtype=vhd"
							  : "fsname=vhd,subtype=vhd,ro"))
		goto err;
	vf->f = fuse_new(&vf->args, &vfuse_ops, sizeof(vfuse_ops), vf);
	if (!vf->f) {
		rc = -EINVAL;
		goto err;
	}
	if (fuse_mount(vf->f, dir)) {
		log_err("%s: cannot mount", dir);
		rc = -EIO;
		goto err;
	}
	vf->mounted = true;
	if (fuse_daemonize(o->foreground)) {
		rc = -EIO;
		goto err;
	}
	*out = vf;
	return 0;

err:
	vfuse_destroy(vf);
	return rc;
}

int vfuse_run(struct vfuse *vf)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int rc, frc;

	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	fuse_loop_cfg_set_max_threads(cfg, 16);
	rc = fuse_loop_mt(vf->f, cfg) ? -EIO : 0;
	fuse_loop_cfg_destroy(cfg);
	pthread_rwlock_wrlock(&vf->stop_lock);
	vf->stopped = true;
	pthread_rwlock_unlock(&vf->stop_lock);
	frc = bimg_flush(vf->img);
	return rc ? rc : frc;
}

int vfuse_stop(struct vfuse *vf)
{
	int rc = 0;

	pthread_rwlock_wrlock(&vf->stop_lock);
	if (!vf->stopped) {
		vf->stopped = true;
		rc = bimg_flush(vf->img);
		fuse_exit(vf->f);
		fuse_unmount(vf->f);
		vf->mounted = false;
	}
	pthread_rwlock_unlock(&vf->stop_lock);
	return rc;
}

void vfuse_destroy(struct vfuse *vf)
{
	if (!vf)
		return;
	if (vf->f) {
		if (vf->mounted)
			fuse_unmount(vf->f);
		fuse_destroy(vf->f);   /* calls destroy: stops the engine */
	}
	fuse_opt_free_args(&vf->args);
	pthread_rwlock_destroy(&vf->stop_lock);
	free(vf);
}
