/* vhd/compact.c: dropping blocks that add nothing and closing the gaps
 * they leave, so the file shrinks while the disk reads the same. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhd/ops_int.h"
#include "vhd/vhd_ops.h"

struct cp_blk {
	uint32_t blk;
	uint64_t off;              /* byte offset of its bitmap in the file */
};

/* True (1) when allocated block @blk adds nothing: in a dynamic disk all its
 * data is zero; in a differencing disk every sector it holds equals what
 * the parent reads there. 0 when it matters, or -errno. */
static int cp_useless(struct vhd *v, uint32_t blk, uint64_t boff, uint8_t *data,
		      uint8_t *pdata, uint8_t *bm)
{
	uint64_t base = (uint64_t)blk << v->block_shift;
	size_t len = (size_t)(v->size - base < v->block_size ? v->size - base : v->block_size);
	int ret;

	ret = vhd_pread_full(v->fd, data, len, boff + v->bitmap_size);
	if (ret)
		return ret;
	if (v->footer.type != VHD_TYPE_DIFF)
		return !data[0] && !memcmp(data, data + 1, len - 1);
	ret = vhd_bitmap_read(v, blk, boff, 0, v->block_size / VHD_SECTOR_SIZE - 1, bm);
	if (!ret && v->parent)
		ret = v->parent->ops->pread(v->parent, pdata, len, base);
	else if (!ret)
		memset(pdata, 0, len);
	if (ret)
		return ret;
	for (size_t s = 0; s < len / VHD_SECTOR_SIZE; s++)
		if (vhd_bit_test(bm, (uint32_t)s) &&
		    memcmp(data + s * VHD_SECTOR_SIZE, pdata + s * VHD_SECTOR_SIZE, VHD_SECTOR_SIZE))
			return 0;
	return 1;
}

/* Unallocates every useless block; the BAT is written and flushed once. */
static int cp_drop(struct vhd *v, struct vhd_compact_stats *st, vhd_progress_fn progress,
		   void *opaque)
{
	uint8_t *data = malloc(v->block_size), *pdata = malloc(v->block_size);
	uint8_t *bm = malloc(v->bitmap_size);
	int ret = 0;

	if (!data || !pdata || !bm)
		ret = vhd_err(-ENOMEM, "out of memory");
	for (uint32_t i = 0; !ret && i < v->bat_entries; i++) {
		uint64_t boff;

		if (progress)
			progress(opaque, i + 1, v->bat_entries);
		if (v->bat[i] == VHD_BAT_UNUSED || ((uint64_t)i << v->block_shift) >= v->size)
			continue;
		ret = vhd_block_offset(v, i, v->bat[i], &boff);
		if (!ret)
			ret = cp_useless(v, i, boff, data, pdata, bm);
		if (ret == 1) {
			v->bat[i] = VHD_BAT_UNUSED;
			ops_bitmap_forget(v, i);
			st->dropped++;
			ret = 0;
		}
	}
	if (!ret && st->dropped)
		ret = ops_bat_write_all(v);
	if (!ret && st->dropped)
		ret = ops_sync(v);
	free(data);
	free(pdata);
	free(bm);
	return ret;
}

static int cp_cmp(const void *a, const void *b)
{
	const struct cp_blk *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Copies block @b to @to (never overlapping it), flushes, repoints its BAT
 * entry and flushes again: a crash leaves it at the old or the new place. */
static int cp_move(struct vhd *v, struct cp_blk *b, uint64_t to, uint8_t *buf)
{
	uint64_t bytes = ops_block_bytes(v);
	int ret;

	ret = vhd_pread_full(v->fd, buf, bytes, b->off);
	if (!ret)
		ret = vhd_pwrite_full(v->fd, buf, bytes, to);
	if (!ret)
		ret = ops_sync(v);
	if (!ret)
		ret = vhd_bat_set(v, b->blk, (uint32_t)(to / VHD_SECTOR_SIZE));
	if (!ret)
		ret = ops_sync(v);
	if (!ret)
		b->off = to;
	return ret;
}

/* Moves the last blocks of the file into gaps in front of them (a gap must
 * hold a whole block), then cuts the file after the last block. */
static int cp_pack(struct vhd *v, struct vhd_compact_stats *st)
{
	uint64_t bytes = ops_block_bytes(v), cursor = ops_meta_end(v), end;
	struct cp_blk *a;
	uint8_t *buf;
	size_t n = 0, i = 0, j;
	int ret = 0;

	a = malloc(sizeof(*a) * ((size_t)v->bat_entries + 1));
	buf = malloc(bytes);
	if (!a || !buf) {
		free(a);
		free(buf);
		return vhd_err(-ENOMEM, "out of memory");
	}
	for (uint32_t k = 0; k < v->bat_entries; k++)
		if (v->bat[k] != VHD_BAT_UNUSED)
			a[n++] = (struct cp_blk){ k, (uint64_t)v->bat[k] * VHD_SECTOR_SIZE };
	qsort(a, n, sizeof(*a), cp_cmp);
	for (j = n; i < j && !ret;) {
		if (a[i].off < cursor + bytes) {
			if (a[i].off + bytes > cursor)
				cursor = a[i].off + bytes;
			i++;
			continue;
		}
		/* A whole block fits at cursor, before a[i]: move the last one. */
		ret = cp_move(v, &a[j - 1], cursor, buf);
		cursor += bytes;
		j--;
		st->moved++;
	}
	end = ops_meta_end(v);
	for (size_t k = 0; k < n; k++)
		if (a[k].off + bytes > end)
			end = a[k].off + bytes;
	free(a);
	free(buf);
	if (!ret && end < v->data_end)
		ret = ops_truncate(v, end);
	return ret;
}

int vhd_compact(const char *path, vhd_progress_fn progress, void *opaque,
		struct vhd_compact_stats *stats)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NOWARN_TS };
	struct vhd_compact_stats st = { 0 };
	struct vhd *v;
	int ret;

	ret = vhd_open(path, &o, &v);
	if (ret)
		return ret;
	st.old_file_size = v->file_end;
	if (v->footer.type == VHD_TYPE_FIXED)
		ret = vhd_err(-EINVAL, "%s: a fixed disk has no blocks to drop "
			      "(convert it to a dynamic one)", path);
	else if (v->read_only)
		ret = vhd_err(-EROFS, "%s: damaged footer, opened read-only; run 'vhd check --repair'",
			      path);
	if (!ret)
		ret = cp_drop(v, &st, progress, opaque);
	if (!ret)
		ret = cp_pack(v, &st);
	st.new_file_size = v->file_end;
	vhd_close(v);
	if (stats)
		*stats = st;
	return ret;
}
