/* blkback/bimg.c: the image framework: probing, driver state, range checks. */
#include "blkback/bimg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define PROBE_LEN 4096

/* Explicit table, in order of preference when scores tie. */
static const struct bimg_ops *const bimg_drivers[] = {
	&bimg_vhd_ops,
	&bimg_raw_ops,
};

static __thread char last_error[512];

void bimg_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *bimg_last_error(void)
{
	return last_error;
}

/* Reads the head and tail of @path for the probes. */
static int bimg_read_probe(const char *path, char *head, size_t *head_len,
			   char *tail, size_t *tail_len)
{
	struct stat st;
	ssize_t n, m;
	uint64_t size;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		bimg_set_error("%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);

		size = end < 0 ? 0 : (uint64_t)end;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		bimg_set_error("%s: not a regular file or block device", path);
		rc = -EINVAL;
		goto out_close;
	}
	n = pread(fd, head, MIN(size, (uint64_t)PROBE_LEN), 0);
	m = pread(fd, tail, MIN(size, (uint64_t)PROBE_LEN),
		  size > PROBE_LEN ? (off_t)(size - PROBE_LEN) : 0);
	if (n < 0 || m < 0) {
		rc = -errno;
		bimg_set_error("%s: %s", path, strerror(errno));
		goto out_close;
	}
	*head_len = (size_t)n;
	*tail_len = (size_t)m;
out_close:
	close(fd);
	return rc;
}

/* Picks the driver whose probe scores highest for @path. */
static int bimg_probe(const char *path, const struct bimg_ops **out)
{
	char *hbuf = malloc(PROBE_LEN), *tbuf = malloc(PROBE_LEN);
	size_t hlen = 0, tlen = 0;
	int best_score = 0, rc = -ENOMEM;

	*out = NULL;
	if (!hbuf || !tbuf)
		goto out_free;
	rc = bimg_read_probe(path, hbuf, &hlen, tbuf, &tlen);
	if (rc)
		goto out_free;
	for (size_t i = 0; i < ARRAY_SIZE(bimg_drivers); i++) {
		int score = bimg_drivers[i]->probe(hbuf, hlen, tbuf, tlen);

		if (score > best_score) {
			best_score = score;
			*out = bimg_drivers[i];
		}
	}
	if (!*out) {
		bimg_set_error("%s: unknown image format", path);
		rc = -EINVAL;
	}
out_free:
	free(hbuf);
	free(tbuf);
	return rc;
}

static void bimg_free(struct bimg *img)
{
	if (img->snap_child)
		unlink(img->snap_child);
	if (img->snap_dir)
		rmdir(img->snap_dir);
	free(img->snap_child);
	free(img->snap_dir);
	free(img->priv);
	free(img->path);
	free(img);
}

int bimg_open(const char *path, unsigned flags, struct bimg **out)
{
	const struct bimg_ops *ops;
	const char *file = path;
	struct bimg *img;
	int rc;

	*out = NULL;
	last_error[0] = '\0';
	if ((flags & BIMG_OPEN_FORCE_SHARE) && (flags & (BIMG_OPEN_RDWR | BIMG_OPEN_SNAPSHOT))) {
		bimg_set_error("%s: force-share is for read-only opens", path);
		return -EINVAL;
	}
	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	if (flags & BIMG_OPEN_SNAPSHOT) {
		/* the throwaway child's parent is the file named: it may be raw */
		rc = bimg_probe(path, &ops);
		if (rc)
			goto err_free;
		if (!strcmp(ops->name, "raw"))
			flags |= BIMG_OPEN_RAW_PARENT;
		flags |= BIMG_OPEN_RDWR;
		rc = bimg_snapshot_create(path, &img->snap_child, &img->snap_dir);
		if (rc)
			goto err_free;
		file = img->snap_child;
	}
	rc = bimg_probe(file, &ops);
	if (rc)
		goto err_free;
	rc = -ENOMEM;
	img->ops = ops;
	img->flags = flags;
	img->path = strdup(path);
	img->priv = calloc(1, ops->priv_size ? ops->priv_size : 1);
	if (!img->path || !img->priv)
		goto err_free;
	rc = ops->open(img, file, flags);
	if (rc)
		goto err_free;
	*out = img;
	return 0;

err_free:
	bimg_free(img);
	return rc;
}

int bimg_close(struct bimg *img)
{
	int rc = 0;

	if (!img)
		return 0;
	if ((img->flags & BIMG_OPEN_RDWR) && !img->snap_child)
		rc = img->ops->flush(img);
	img->ops->close(img);
	bimg_free(img);
	return rc;
}

uint64_t bimg_size(const struct bimg *img)
{
	return img->size;
}

bool bimg_writable(const struct bimg *img)
{
	return img->flags & BIMG_OPEN_RDWR;
}

const char *bimg_path(const struct bimg *img)
{
	return img->path;
}

bool bimg_is_snapshot(const struct bimg *img)
{
	return img->snap_child != NULL;
}

const char *bimg_driver_name(const struct bimg *img)
{
	return img->ops->name;
}

static int bimg_check_range(const struct bimg *img, uint64_t off, uint64_t len)
{
	if (off > img->size || len > img->size - off)
		return -EINVAL;
	return 0;
}

static uint64_t iov_total(const struct iovec *iov, int cnt)
{
	uint64_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

int bimg_preadv(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt)
{
	int rc = bimg_check_range(img, off, iov_total(iov, cnt));

	return rc ? rc : img->ops->preadv(img, off, iov, cnt);
}

int bimg_pwritev(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt)
{
	int rc;

	if (!bimg_writable(img))
		return -EPERM;
	rc = bimg_check_range(img, off, iov_total(iov, cnt));
	return rc ? rc : img->ops->pwritev(img, off, iov, cnt);
}

int bimg_pread(struct bimg *img, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return bimg_preadv(img, off, &iov, 1);
}

int bimg_pwrite(struct bimg *img, const void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return bimg_pwritev(img, off, &iov, 1);
}

int bimg_flush(struct bimg *img)
{
	if (!bimg_writable(img))
		return 0;
	return img->ops->flush(img);
}

int bimg_write_zeroes(struct bimg *img, uint64_t off, uint64_t len, unsigned flags)
{
	int rc;

	if (!bimg_writable(img))
		return -EPERM;
	rc = bimg_check_range(img, off, len);
	if (rc || !len)
		return rc;
	return img->ops->write_zeroes(img, off, len, flags);
}

int bimg_discard(struct bimg *img, uint64_t off, uint64_t len)
{
	int rc;

	if (!bimg_writable(img))
		return -EPERM;
	rc = bimg_check_range(img, off, len);
	if (rc || !len || !img->ops->discard)
		return rc;
	return img->ops->discard(img, off, len);
}

int bimg_block_status(struct bimg *img, uint64_t off, uint64_t len,
		      uint64_t *pnum, int *layer)
{
	int rc = bimg_check_range(img, off, len);

	if (rc)
		return rc;
	if (!len)
		return -EINVAL;
	rc = img->ops->block_status(img, off, len, pnum, layer);
	if (rc >= 0 && (*pnum == 0 || *pnum > len))
		return -EIO;
	return rc;
}
