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

/* The drivers, in probe order (bimg.c lists them). */
extern const struct bimg_ops bimg_raw_ops;
extern const struct bimg_ops bimg_vhd_ops;

#endif
