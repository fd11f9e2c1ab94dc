/* blkback/bimg_raw.c: raw images: regular files and block devices. */
#include "blkback/bimg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

#include "common/util.h"
#include "vhd/vhd.h"

#define RAW_ZERO_CHUNK (1u << 20)

struct raw_priv {
	int fd;
	bool blockdev;
};

/* Raw is the fallback: anything is a raw image. */
static int raw_probe(const void *head, size_t head_len, const void *tail, size_t tail_len)
{
	return 1;
}

/* The locks vhd/ takes, in QEMU's layout (docs/locking.md). */
static int raw_lock(int fd, unsigned flags, const char *path)
{
	int rc = vhd_lock_file(fd, ((flags & BIMG_OPEN_RDWR) ? VHD_OPEN_RDWR : 0) |
				   ((flags & BIMG_OPEN_FORCE_SHARE) ? VHD_OPEN_FORCE_SHARE : 0),
			       path);

	if (rc)
		bimg_set_error("%s", vhd_last_error());
	return rc;
}

static int raw_open(struct bimg *img, const char *path, unsigned flags)
{
	struct raw_priv *p = bimg_priv(img);
	bool rw = flags & BIMG_OPEN_RDWR;
	struct stat st;
	int rc;

	p->fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (p->fd < 0) {
		rc = -errno;
		bimg_set_error("%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(p->fd, &st) < 0) {
		rc = -errno;
		goto err_close;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz;

		if (ioctl(p->fd, BLKGETSIZE64, &sz) < 0) {
			rc = -errno;
			bimg_set_error("%s: cannot get device size: %s", path, strerror(errno));
			goto err_close;
		}
		p->blockdev = true;
		bimg_set_size(img, sz);
	} else {
		bimg_set_size(img, (uint64_t)st.st_size);
	}
	if (!(flags & BIMG_OPEN_NOLOCK)) {
		rc = raw_lock(p->fd, flags, path);
		if (rc)
			goto err_close;
	}
	return 0;

err_close:
	close(p->fd);
	return rc;
}

static void raw_close(struct bimg *img)
{
	struct raw_priv *p = bimg_priv(img);

	close(p->fd);
}

/* Transfers all of one buffer, resuming after short transfers. */
static int raw_rw1(int fd, uint64_t off, char *buf, size_t len, bool write)
{
	while (len) {
		ssize_t r = write ? pwrite(fd, buf, len, (off_t)off)
				  : pread(fd, buf, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;    /* the file shrank under us */
		buf += r;
		off += (uint64_t)r;
		len -= (size_t)r;
	}
	return 0;
}

/* Transfers the whole vector: one syscall in the common case, buffer by
 * buffer after a short or failed vectored transfer. */
static int raw_rw(int fd, uint64_t off, const struct iovec *iov, int cnt, bool write)
{
	uint64_t total = 0, done;
	ssize_t r;

	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	r = cnt <= IOV_MAX ? (write ? pwritev(fd, iov, cnt, (off_t)off)
				    : preadv(fd, iov, cnt, (off_t)off)) : 0;
	if (r >= 0 && (uint64_t)r == total)
		return 0;
	done = r > 0 ? (uint64_t)r : 0;
	for (int i = 0; i < cnt; i++) {
		size_t len = iov[i].iov_len, skip = (size_t)MIN(done, (uint64_t)len);
		int rc;

		done -= skip;
		off += skip;
		rc = raw_rw1(fd, off, (char *)iov[i].iov_base + skip, len - skip, write);
		if (rc)
			return rc;
		off += len - skip;
	}
	return 0;
}

static int raw_preadv(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt)
{
	struct raw_priv *p = bimg_priv(img);

	return raw_rw(p->fd, off, iov, cnt, false);
}

static int raw_pwritev(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt)
{
	struct raw_priv *p = bimg_priv(img);

	return raw_rw(p->fd, off, iov, cnt, true);
}

static int raw_flush(struct bimg *img)
{
	struct raw_priv *p = bimg_priv(img);

	return fdatasync(p->fd) < 0 ? -errno : 0;
}

static int raw_write_zero_buf(int fd, uint64_t off, uint64_t len)
{
	char *zero = calloc(1, RAW_ZERO_CHUNK);
	int rc = 0;

	if (!zero)
		return -ENOMEM;
	while (len && !rc) {
		struct iovec iov = { zero, MIN(len, (uint64_t)RAW_ZERO_CHUNK) };

		rc = raw_rw(fd, off, &iov, 1, true);
		off += iov.iov_len;
		len -= iov.iov_len;
	}
	free(zero);
	return rc;
}

static int raw_write_zeroes(struct bimg *img, uint64_t off, uint64_t len, unsigned flags)
{
	struct raw_priv *p = bimg_priv(img);

	if (p->blockdev) {
		uint64_t range[2] = { off, len };

		if (ioctl(p->fd, BLKZEROOUT, range) == 0)
			return 0;
	} else {
		int mode = (flags & BIMG_ZERO_MAY_UNMAP)
			? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
			: FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;

		if (fallocate(p->fd, mode, (off_t)off, (off_t)len) == 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
			return -errno;
	}
	return raw_write_zero_buf(p->fd, off, len);
}

static int raw_discard(struct bimg *img, uint64_t off, uint64_t len)
{
	struct raw_priv *p = bimg_priv(img);

	if (p->blockdev)
		return 0;
	if (fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	return (errno == EOPNOTSUPP || errno == ENOSYS) ? 0 : -errno;
}

/* Holes of sparse files read as zeros and belong to no layer. */
static int raw_block_status(struct bimg *img, uint64_t off, uint64_t len,
			    uint64_t *pnum, int *layer)
{
	struct raw_priv *p = bimg_priv(img);
	off_t data, hole;

	*pnum = len;
	*layer = 1;
	if (p->blockdev)
		return BIMG_STATUS_DATA;
	data = lseek(p->fd, (off_t)off, SEEK_DATA);
	if (data < 0) {
		if (errno == ENXIO) {           /* only a hole up to EOF */
			*layer = 0;
			return BIMG_STATUS_ZERO;
		}
		return BIMG_STATUS_DATA;        /* no SEEK_DATA here: all data */
	}
	if ((uint64_t)data > off) {
		*pnum = MIN(len, (uint64_t)data - off);
		*layer = 0;
		return BIMG_STATUS_ZERO;
	}
	hole = lseek(p->fd, (off_t)off, SEEK_HOLE);
	if (hole > (off_t)off)
		*pnum = MIN(len, (uint64_t)hole - off);
	return BIMG_STATUS_DATA;
}

const struct bimg_ops bimg_raw_ops = {
	.name = "raw",
	.priv_size = sizeof(struct raw_priv),
	.probe = raw_probe,
	.open = raw_open,
	.close = raw_close,
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.write_zeroes = raw_write_zeroes,
	.discard = raw_discard,
	.block_status = raw_block_status,
};
