/* blkback/bimg_vhd.c: VHD images (fixed, dynamic, differencing) through
 * the vhd/ library, which owns chain semantics; we hand it shared parents
 * (bimg_parents.c). Also makes --snapshot's throwaway children. */
#include "blkback/bimg_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "vhd/vhd.h"

struct vhd_priv {
	struct vhd *v;
	enum vhd_type type;
	uint32_t block_size;
};

static bool is_cookie(const void *p)
{
	return !memcmp(p, "conectix", 8);
}

/* The footer is the last 512 bytes (511 for some old creators); dynamic
 * disks also keep a copy at offset 0. */
static int vhdi_probe(const void *head, size_t head_len, const void *tail, size_t tail_len)
{
	const char *t = tail;

	if (tail_len >= 512 && is_cookie(t + tail_len - 512))
		return 100;
	if (tail_len >= 511 && is_cookie(t + tail_len - 511))
		return 100;
	if (head_len >= 512 && is_cookie(head))
		return 90;
	return 0;
}

static int vhdi_open(struct bimg *img, const char *path, unsigned flags)
{
	struct vhd_priv *p = bimg_priv(img);
	struct vhd_open_opts o = {
		.flags = ((flags & BIMG_OPEN_RDWR) ? VHD_OPEN_RDWR : 0) |
			 ((flags & BIMG_OPEN_NOLOCK) ? VHD_OPEN_NOLOCK : 0) |
			 ((flags & BIMG_OPEN_FORCE_SHARE) ? VHD_OPEN_FORCE_SHARE : 0),
		.open_parent = bimg_parent_open,
	};
	struct vhd_info info;
	int rc;

	rc = vhd_open(path, &o, &p->v);
	if (rc) {
		bimg_set_error("%s", vhd_last_error());
		return rc;
	}
	rc = vhd_get_info(p->v, &info);
	if (rc) {
		bimg_set_error("%s", vhd_last_error());
		goto err_close;
	}
	if ((flags & BIMG_OPEN_RDWR) && info.read_only) {
		bimg_set_error("%s: damaged footer, the image can only be opened read-only "
			       "(repair it first)", path);
		rc = -EROFS;
		goto err_close;
	}
	p->type = info.type;
	p->block_size = info.block_size;
	bimg_set_size(img, vhd_size(p->v));
	return 0;

err_close:
	vhd_close(p->v);
	return rc;
}

static void vhdi_close(struct bimg *img)
{
	struct vhd_priv *p = bimg_priv(img);

	vhd_close(p->v);
}

static int vhdi_preadv(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt)
{
	struct vhd_priv *p = bimg_priv(img);

	return vhd_preadv(p->v, iov, cnt, off);
}

static int vhdi_pwritev(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt)
{
	struct vhd_priv *p = bimg_priv(img);

	return vhd_pwritev(p->v, iov, cnt, off);
}

static int vhdi_flush(struct bimg *img)
{
	struct vhd_priv *p = bimg_priv(img);

	return vhd_flush(p->v);
}

static int vhdi_write_zeroes(struct bimg *img, uint64_t off, uint64_t len, unsigned flags)
{
	struct vhd_priv *p = bimg_priv(img);

	return vhd_write_zeroes(p->v, off, len,
				(flags & BIMG_ZERO_MAY_UNMAP) ? VHD_ZERO_MAY_UNMAP : 0);
}

/* Only whole blocks of a dynamic disk can be given back; in a
 * differencing disk discarding would have to mask the parent, so it is a
 * no-op there (allowed: discarded contents are unspecified). */
static int vhdi_discard(struct bimg *img, uint64_t off, uint64_t len)
{
	struct vhd_priv *p = bimg_priv(img);
	uint64_t bs = p->block_size, start, end;

	if (p->type != VHD_TYPE_DYNAMIC || !bs)
		return 0;
	start = DIV_ROUND_UP(off, bs) * bs;
	end = (off + len) / bs * bs;
	if (end <= start)
		return 0;
	return vhd_write_zeroes(p->v, start, end - start, VHD_ZERO_MAY_UNMAP);
}

static int vhdi_block_status(struct bimg *img, uint64_t off, uint64_t len,
			     uint64_t *pnum, int *layer)
{
	struct vhd_priv *p = bimg_priv(img);
	int rc = vhd_block_status(p->v, off, len, pnum, layer);

	if (rc)
		return rc;
	return *layer ? BIMG_STATUS_DATA : BIMG_STATUS_ZERO;
}

const struct bimg_ops bimg_vhd_ops = {
	.name = "vhd",
	.priv_size = sizeof(struct vhd_priv),
	.probe = vhdi_probe,
	.open = vhdi_open,
	.close = vhdi_close,
	.preadv = vhdi_preadv,
	.pwritev = vhdi_pwritev,
	.flush = vhdi_flush,
	.write_zeroes = vhdi_write_zeroes,
	.discard = vhdi_discard,
	.block_status = vhdi_block_status,
};

int bimg_snapshot_create(const char *path, char **child, char **dir)
{
	const char *tmp = getenv("TMPDIR");
	struct vhd_open_opts popts = { .open_parent = bimg_parent_open };
	struct vhd_create_opts co = { .type = VHD_TYPE_DIFF, .parent_opts = &popts };
	char abs[PATH_MAX], *d, *c = NULL, *base;
	int rc;

	*child = *dir = NULL;
	if (!realpath(path, abs)) {
		rc = -errno;
		bimg_set_error("%s: %s", path, strerror(errno));
		return rc;
	}
	if (asprintf(&d, "%s/vhd-snapshot.XXXXXX", tmp && *tmp ? tmp : "/var/tmp") < 0)
		return -ENOMEM;
	if (!mkdtemp(d)) {
		rc = -errno;
		bimg_set_error("cannot make a snapshot folder %s: %s", d, strerror(errno));
		free(d);
		return rc;
	}
	base = strrchr(abs, '/') + 1;
	if (asprintf(&c, "%s/%s.snapshot.vhd", d, base) < 0) {
		rc = -ENOMEM;
		goto err_rmdir;
	}
	co.parent = abs;
	rc = vhd_create(c, &co);
	if (rc) {
		bimg_set_error("%s: cannot create a snapshot child: %s", path, vhd_last_error());
		goto err_rmdir;
	}
	*child = c;
	*dir = d;
	return 0;

err_rmdir:
	free(c);
	rmdir(d);
	free(d);
	return rc;
}
