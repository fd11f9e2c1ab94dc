/* blkback/bimg_int.h: what the image drivers of blkback/ share with the
 * framework (bimg.c). Not for front ends. */
#ifndef VV_BLKBACK_BIMG_INT_H
#define VV_BLKBACK_BIMG_INT_H

#include <stdint.h>

#include "blkback/bimg.h"

struct bimg {
	const struct bimg_ops *ops;
	char *path;
	unsigned flags;            /* BIMG_OPEN_* */
	uint64_t size;             /* virtual size in bytes */
	void *priv;                /* ops->priv_size bytes, zeroed */
	char *snap_child;          /* BIMG_OPEN_SNAPSHOT: the throwaway child */
	char *snap_dir;            /* and its folder, both removed at close */
};

static inline void *bimg_priv(struct bimg *img)
{
	return img->priv;
}

static inline void bimg_set_size(struct bimg *img, uint64_t size)
{
	img->size = size;
}

/* Records the reason for a failing open in this thread's
 * bimg_last_error(). */
void bimg_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct vhd_backing;
struct vhd_open_opts;

/* vhd/'s open_parent callback (bimg_parents.c): opens the parent at @path
 * read-only, or takes one more reference to it when this process has it
 * open already. Any thread. 0 or -errno. */
int bimg_parent_open(void *opaque, const char *path, const struct vhd_open_opts *popts,
		     struct vhd_backing **out);

/* Creates a throwaway differencing child of @path in a new temporary
 * folder (bimg_vhd.c). Sets *child and *dir (malloc'd; the caller removes
 * both and frees them). 0 or -errno with bimg_last_error() set. */
int bimg_snapshot_create(const char *path, char **child, char **dir);

/* The drivers, in probe order (bimg.c lists them). */
extern const struct bimg_ops bimg_raw_ops;
extern const struct bimg_ops bimg_vhd_ops;

#endif
