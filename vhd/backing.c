/* vhd/backing.c: what a differencing disk reads through: a VHD (with its
 * own chain) or a raw file. Both clip requests at their virtual size:
 * ranges past the end read as zeros and report depth 0. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/vhd_int.h"

struct raw_backing {
	struct vhd_backing b;
	int fd;
	char *path;
};

/* Reads the part of [off, off+len) below @size with @rd, zeros the rest. */
static size_t clip(uint64_t size, uint8_t *buf, size_t len, uint64_t off)
{
	size_t in = off >= size ? 0 : (size - off < len ? (size_t)(size - off) : len);

	memset(buf + in, 0, len - in);
	return in;
}

static int vhd_b_pread(struct vhd_backing *b, void *buf, size_t len, uint64_t off)
{
	size_t in = clip(b->size, buf, len, off);

	return in ? vhd_pread(b->vhd, buf, in, off) : 0;
}

static int vhd_b_status(struct vhd_backing *b, uint64_t off, uint64_t len, uint64_t *pnum,
			int *depth)
{
	if (off >= b->size) {
		*pnum = len;
		*depth = 0;
		return 0;
	}
	if (len > b->size - off)
		len = b->size - off;
	return vhd_block_status(b->vhd, off, len, pnum, depth);
}

static void vhd_b_release(struct vhd_backing *b)
{
	vhd_close(b->vhd);
	free(b);
}

static const struct vhd_backing_ops vhd_b_ops = {
	.pread = vhd_b_pread,
	.block_status = vhd_b_status,
	.release = vhd_b_release,
};

int vhd_backing_from_vhd(struct vhd *v, struct vhd_backing **out)
{
	struct vhd_backing *b = calloc(1, sizeof(*b));

	if (!b)
		return vhd_err(-ENOMEM, "out of memory");
	b->ops = &vhd_b_ops;
	b->priv = v;
	b->size = v->size;
	b->path = v->path;
	b->vhd = v;
	b->depth = v->depth;
	*out = b;
	return 0;
}

static int raw_pread(struct vhd_backing *b, void *buf, size_t len, uint64_t off)
{
	struct raw_backing *r = b->priv;
	size_t in = clip(b->size, buf, len, off);

	return in ? vhd_pread_full(r->fd, buf, in, off) : 0;
}

static int raw_status(struct vhd_backing *b, uint64_t off, uint64_t len, uint64_t *pnum,
		      int *depth)
{
	if (off >= b->size) {
		*pnum = len;
		*depth = 0;
	} else {
		*pnum = len < b->size - off ? len : b->size - off;
		*depth = 1;
	}
	return 0;
}

static void raw_release(struct vhd_backing *b)
{
	struct raw_backing *r = b->priv;

	close(r->fd);
	free(r->path);
	free(r);
}

static const struct vhd_backing_ops raw_ops = {
	.pread = raw_pread,
	.block_status = raw_status,
	.release = raw_release,
};

static int raw_open(int fd, const char *path, const struct vhd_open_opts *opts,
		    uint64_t size, struct vhd_backing **out)
{
	struct raw_backing *r;
	int ret;

	if (!(opts->flags & VHD_OPEN_NOLOCK)) {
		ret = vhd_lock(fd, vhd_lock_mode_of(opts->flags), path);
		if (ret)
			return ret;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return vhd_err(-ENOMEM, "out of memory");
	}
	r->fd = fd;
	r->b.ops = &raw_ops;
	r->b.priv = r;
	r->b.size = size;
	r->b.path = r->path;
	r->b.depth = 1;
	*out = &r->b;
	return 0;
}

/* True when @fd holds a VHD footer cookie at its end (512 or 511 bytes
 * from it) or at offset 0. */
static bool has_vhd_cookie(int fd, uint64_t size)
{
	char c[8];

	if (size >= VHD_FOOTER_SIZE && pread(fd, c, 8, (off_t)(size - VHD_FOOTER_SIZE)) == 8 &&
	    !memcmp(c, "conectix", 8))
		return true;
	if (size >= VHD_FOOTER_SIZE - 1 &&
	    pread(fd, c, 8, (off_t)(size - VHD_FOOTER_SIZE + 1)) == 8 &&
	    !memcmp(c, "conectix", 8))
		return true;
	return size >= VHD_FOOTER_SIZE && pread(fd, c, 8, 0) == 8 && !memcmp(c, "conectix", 8);
}

int vhd_backing_open(const char *path, const struct vhd_open_opts *opts,
		     struct vhd_backing **out)
{
	static const struct vhd_open_opts defaults;
	struct vhd *v = NULL;
	struct stat st;
	off_t end;
	int fd, ret;

	if (!opts)
		opts = &defaults;
	*out = NULL;
	if ((opts->flags & VHD_OPEN_RDWR) && (opts->flags & VHD_OPEN_FORCE_SHARE))
		return vhd_err(-EINVAL, "%s: force-share is for read-only opens", path);
	fd = open(path, (opts->flags & VHD_OPEN_RDWR ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return vhd_err(-errno, "%s: cannot open: %s", path, strerror(errno));
	if (!fstat(fd, &st) && S_ISDIR(st.st_mode)) {
		close(fd);
		return vhd_err(-EISDIR, "%s: is a directory, not a disk image", path);
	}
	end = lseek(fd, 0, SEEK_END);
	if (end < 0) {
		ret = vhd_err(-errno, "%s: seek: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	if (!has_vhd_cookie(fd, (uint64_t)end)) {
		ret = raw_open(fd, path, opts, (uint64_t)end, out);
		if (ret)
			close(fd);
		return ret;
	}
	close(fd);
	ret = vhd_open(path, opts, &v);
	if (ret)
		return ret;
	ret = vhd_backing_from_vhd(v, out);
	if (ret)
		vhd_close(v);
	return ret;
}
