/* vhd/map.c: which layer of a chain holds each range of the virtual disk. */
#include <errno.h>

#include "vhd/vhd_ops.h"

/* block_status answers at most this much per call, so a 2040 GiB disk
 * yields a bounded number of calls per allocated run. */
#define MAP_STEP (1ull << 40)

int vhd_map(struct vhd *v, uint64_t off, uint64_t len,
	    int (*fn)(void *opaque, const struct vhd_extent *e), void *opaque)
{
	uint64_t size = vhd_size(v), end;
	struct vhd_extent cur = { .start = off, .length = 0, .depth = -1 };
	int rc;

	if (off > size)
		return 0;
	end = len > size - off ? size : off + len;
	while (off < end) {
		uint64_t pnum = 0;
		int depth = 0;

		rc = vhd_block_status(v, off, end - off < MAP_STEP ? end - off : MAP_STEP,
				      &pnum, &depth);
		if (rc)
			return rc;
		if (!pnum)
			return -EIO;
		if (pnum > end - off)
			pnum = end - off;
		if (cur.length && depth != cur.depth) {
			rc = fn(opaque, &cur);
			if (rc)
				return rc;
			cur.length = 0;
		}
		if (!cur.length) {
			cur.start = off;
			cur.depth = depth;
		}
		cur.length += pnum;
		off += pnum;
	}
	return cur.length ? fn(opaque, &cur) : 0;
}

const char *vhd_layer_path(struct vhd *v, int depth)
{
	if (depth < 1 || !v)
		return NULL;
	if (depth == 1)
		return vhd_path(v);
	for (int d = 2;; d++) {
		struct vhd_backing *p = vhd_parent(v);

		if (!p)
			return NULL;
		if (d == depth)
			return p->path;
		v = p->vhd;
		if (!v)
			return NULL;
	}
}
