/* vhd/io.c: reads and block status through a dynamic or differencing
 * layer, and the sector bitmap cache of differencing disks.
 *
 * Reads gather contiguous pieces into runs: consecutive pieces that are
 * contiguous in the file become one pread, consecutive pieces the parent
 * holds become one parent read, so a large sequential read costs one
 * syscall per contiguous run per layer. Dynamic disks ignore bitmaps (an
 * allocated block is data, as QEMU reads them); differencing disks consult
 * the cached bitmap of each allocated block. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhd/vhd_int.h"

/* A pending run: where the bytes come from. */
enum src { SRC_NONE, SRC_FILE, SRC_PARENT, SRC_ZERO };

struct run {
	enum src src;
	uint8_t *buf;
	size_t len;
	uint64_t off;   /* file offset (FILE) or virtual offset (PARENT) */
};

static int run_flush(struct vhd *v, struct run *r)
{
	int ret = 0;

	switch (r->src) {
	case SRC_FILE:
		ret = vhd_pread_full(v->fd, r->buf, r->len, r->off);
		break;
	case SRC_PARENT:
		ret = v->parent->ops->pread(v->parent, r->buf, r->len, r->off);
		break;
	case SRC_ZERO:
		memset(r->buf, 0, r->len);
		break;
	case SRC_NONE:
		break;
	}
	r->src = SRC_NONE;
	r->len = 0;
	return ret;
}

/* Adds @len bytes at @buf from @src (@off: file or virtual offset). */
static int run_add(struct vhd *v, struct run *r, enum src src, uint8_t *buf, size_t len,
		   uint64_t off)
{
	int ret;

	if (src == SRC_PARENT && !v->parent)
		src = SRC_ZERO;
	if (r->src == src && r->buf + r->len == buf &&
	    (src == SRC_ZERO || r->off + r->len == off)) {
		r->len += len;
		return 0;
	}
	ret = run_flush(v, r);
	r->src = src;
	r->buf = buf;
	r->len = len;
	r->off = off;
	return ret;
}

/* True when every sector bit of @bm is set (block sizes of 4 KiB and up;
 * smaller blocks are simply never shared). */
static bool bitmap_full(const struct vhd *v, const uint8_t *bm)
{
	uint32_t bytes = v->block_size / VHD_SECTOR_SIZE / 8;

	return bytes && !memcmp(bm, v->bm_full, bytes);
}

void vhd_bitmap_install(struct vhd *v, uint32_t blk, uint8_t *bm)
{
	uint8_t *old = v->bitmaps[blk];

	if (bm != v->bm_full && bitmap_full(v, bm)) {
		free(bm);
		if (old == bm)
			old = NULL;
		bm = v->bm_full;
	}
	if (old && old != bm && old != v->bm_full)
		free(old);
	v->bitmaps[blk] = bm;
}

int vhd_bitmap_cached(struct vhd *v, uint32_t blk, uint64_t bm_off, uint8_t **out)
{
	uint8_t *bm;
	int ret;

	if (!v->bitmaps[blk]) {
		bm = malloc(v->bitmap_size);
		if (!bm)
			return vhd_err(-ENOMEM, "out of memory for a bitmap");
		ret = vhd_pread_full(v->fd, bm, v->bitmap_size, bm_off);
		if (ret) {
			free(bm);
			return ret;
		}
		vhd_bitmap_install(v, blk, bm);
	}
	*out = v->bitmaps[blk];
	return 0;
}

int vhd_bitmap_read(struct vhd *v, uint32_t blk, uint64_t bm_off, uint32_t s0, uint32_t s1,
		    uint8_t *out)
{
	pthread_mutex_t *lock = &v->bm_lock[blk % VHD_BM_STRIPES];
	uint8_t *bm;
	int ret;

	pthread_mutex_lock(lock);
	ret = vhd_bitmap_cached(v, blk, bm_off, &bm);
	if (!ret)
		memcpy(out, bm + s0 / 8, s1 / 8 - s0 / 8 + 1);
	pthread_mutex_unlock(lock);
	return ret;
}

/* Bitmap bytes examined at a time: the bits of BM_WINDOW * 8 sectors. */
#define BM_WINDOW 512u

/* The end (block byte offset, at most @end) of the run of sectors starting
 * at @in_off whose bits equal that of @in_off's sector, and that bit, for
 * allocated differencing block @blk. Looks at one bitmap window at most. */
static int bit_run(struct vhd *v, uint32_t blk, uint64_t boff, uint64_t in_off, uint64_t end,
		   uint64_t *run_end, bool *set)
{
	uint8_t bm[BM_WINDOW];
	uint32_t s0 = (uint32_t)(in_off / VHD_SECTOR_SIZE), base = s0 & ~7u;
	uint64_t wend = ((uint64_t)base + BM_WINDOW * 8) * VHD_SECTOR_SIZE, e;
	int ret;

	if (end > wend)
		end = wend;
	ret = vhd_bitmap_read(v, blk, boff, s0, (uint32_t)((end - 1) / VHD_SECTOR_SIZE), bm);
	if (ret)
		return ret;
	*set = vhd_bit_test(bm, s0 - base);
	e = (uint64_t)(s0 + 1) * VHD_SECTOR_SIZE;
	while (e < end && vhd_bit_test(bm, (uint32_t)(e / VHD_SECTOR_SIZE) - base) == *set)
		e += VHD_SECTOR_SIZE;
	*run_end = e < end ? e : end;
	return 0;
}

/* Queues the part of allocated differencing block @blk at byte @in_off
 * (@n bytes) run by run as the bitmap says. */
static int read_diff_block(struct vhd *v, struct run *r, uint32_t blk, uint64_t boff,
			   uint8_t *buf, uint64_t in_off, size_t n, uint64_t voff)
{
	uint64_t end = in_off + n, e;
	int ret = 0;
	bool set;

	while (!ret && in_off < end) {
		size_t piece;

		ret = bit_run(v, blk, boff, in_off, end, &e, &set);
		if (ret)
			break;
		piece = (size_t)(e - in_off);
		if (set)
			ret = run_add(v, r, SRC_FILE, buf, piece, boff + v->bitmap_size + in_off);
		else
			ret = run_add(v, r, SRC_PARENT, buf, piece, voff);
		buf += piece;
		in_off += piece;
		voff += piece;
	}
	return ret;
}

int vhd_read_range(struct vhd *v, uint8_t *buf, size_t len, uint64_t off)
{
	struct run r = { .src = SRC_NONE };
	int ret = 0;

	while (len && !ret) {
		uint32_t blk = (uint32_t)(off >> v->block_shift);
		uint64_t in_off = off & (v->block_size - 1);
		size_t n = v->block_size - in_off < len ? (size_t)(v->block_size - in_off) : len;
		uint32_t entry = vhd_bat_get(v, blk);
		uint64_t boff;

		if (entry == VHD_BAT_UNUSED) {
			ret = run_add(v, &r, v->footer.type == VHD_TYPE_DIFF ? SRC_PARENT : SRC_ZERO,
				      buf, n, off);
		} else {
			ret = vhd_block_offset(v, blk, entry, &boff);
			if (ret)
				break;
			if (v->footer.type == VHD_TYPE_DIFF)
				ret = read_diff_block(v, &r, blk, boff, buf, in_off, n, off);
			else
				ret = run_add(v, &r, SRC_FILE, buf, n,
					      boff + v->bitmap_size + in_off);
		}
		buf += n;
		off += n;
		len -= n;
	}
	if (!ret)
		ret = run_flush(v, &r);
	return ret;
}

static int check_range(struct vhd *v, uint64_t off, uint64_t len)
{
	if (off > v->size || len > v->size - off)
		return vhd_err(-EINVAL, "%s: range %llu+%llu is past the end of the disk (%llu bytes)",
			       v->path, (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)v->size);
	return 0;
}

/* The first layer from @v down that may hold [off, off+len): layers of the
 * same chain where that range lies in one unallocated block are skipped
 * without going through their backings (a deep chain costs a BAT lookup
 * per layer, not a call chain). */
static struct vhd *first_holder(struct vhd *v, uint64_t off, size_t len)
{
	while (v->footer.type == VHD_TYPE_DIFF && v->parent && v->parent->vhd &&
	       off + len <= v->parent->size) {
		uint64_t blk = off >> v->block_shift;

		if ((off + len - 1) >> v->block_shift != blk ||
		    vhd_bat_get(v, (uint32_t)blk) != VHD_BAT_UNUSED)
			break;
		v = v->parent->vhd;
	}
	return v;
}

int vhd_pread(struct vhd *v, void *buf, size_t len, uint64_t off)
{
	int ret = check_range(v, off, len);

	if (ret || !len)
		return ret;
	v = first_holder(v, off, len);
	if (v->footer.type == VHD_TYPE_FIXED)
		return vhd_pread_full(v->fd, buf, len, off);
	return vhd_read_range(v, buf, len, off);
}

/* Total bytes of @iov, or UINT64_MAX when it overflows. */
uint64_t vhd_iov_len(const struct iovec *iov, int cnt)
{
	uint64_t len = 0;

	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > UINT64_MAX - len)
			return UINT64_MAX;
		len += iov[i].iov_len;
	}
	return len;
}

int vhd_preadv(struct vhd *v, const struct iovec *iov, int cnt, uint64_t off)
{
	int ret = check_range(v, off, vhd_iov_len(iov, cnt));

	if (ret)
		return ret;
	if (v->footer.type == VHD_TYPE_FIXED)
		return vhd_prwv_full(v->fd, iov, cnt, off, false);
	for (int i = 0; i < cnt; i++) {
		ret = vhd_pread(v, iov[i].iov_base, iov[i].iov_len, off);
		if (ret)
			return ret;
		off += iov[i].iov_len;
	}
	return 0;
}

/* Status of the parent for [off, off+len): depth counted from this layer. */
static int parent_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *pnum,
			 int *depth)
{
	int ret;

	if (!v->parent || v->footer.type != VHD_TYPE_DIFF) {
		*pnum = len;
		*depth = 0;
		return 0;
	}
	ret = v->parent->ops->block_status(v->parent, off, len, pnum, depth);
	if (!ret && *depth)
		(*depth)++;
	return ret;
}

/* Status of the first piece at @off (never crossing a block, except runs
 * of unallocated blocks which are asked of the parent at once). */
static int piece_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *pnum,
			int *depth)
{
	uint32_t blk = (uint32_t)(off >> v->block_shift);
	uint64_t in_off = off & (v->block_size - 1);
	uint64_t n = v->block_size - in_off < len ? v->block_size - in_off : len;
	uint32_t entry = vhd_bat_get(v, blk);
	uint64_t boff, end;
	bool set;
	int ret;

	if (entry == VHD_BAT_UNUSED) {
		while (n < len && vhd_bat_get(v, blk + (uint32_t)((in_off + n) >> v->block_shift)) ==
					  VHD_BAT_UNUSED)
			n += len - n < v->block_size ? len - n : v->block_size;
		return parent_status(v, off, n, pnum, depth);
	}
	ret = vhd_block_offset(v, blk, entry, &boff);
	if (ret)
		return ret;
	if (v->footer.type != VHD_TYPE_DIFF) {
		*pnum = n;
		*depth = 1;
		return 0;
	}
	ret = bit_run(v, blk, boff, in_off, in_off + n, &end, &set);
	if (ret)
		return ret;
	n = end - in_off;
	if (set) {
		*pnum = n;
		*depth = 1;
		return 0;
	}
	return parent_status(v, off, n, pnum, depth);
}

int vhd_block_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *pnum,
		     int *depth)
{
	uint64_t done = 0, n;
	int ret, d;

	ret = check_range(v, off, len);
	if (ret)
		return ret;
	if (!len)
		return vhd_err(-EINVAL, "%s: block status of an empty range", v->path);
	if (v->footer.type == VHD_TYPE_FIXED) {
		*pnum = len;
		*depth = 1;
		return 0;
	}
	while (done < len) {
		ret = piece_status(v, off + done, len - done, &n, &d);
		if (ret)
			return ret;
		if (done && d != *depth)
			break;
		*depth = d;
		done += n;
	}
	*pnum = done;
	return 0;
}
