/* vhd/resize.c: changing the virtual size of fixed, dynamic and
 * differencing images. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhd/ops_int.h"
#include "vhd/vhd_ops.h"

#define RS_CHUNK (1u << 20)

static uint64_t rs_round512(uint64_t x)
{
	return (x + VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1);
}

/* True (1) when this layer holds non-zero data in [from, to), 0 when not,
 * or -errno. */
static int rs_has_data(struct vhd *v, uint64_t from, uint64_t to)
{
	uint8_t *buf = malloc(RS_CHUNK);
	int ret = 0;

	if (!buf)
		return vhd_err(-ENOMEM, "out of memory");
	while (from < to && !ret) {
		uint64_t pnum;
		int depth;

		ret = vhd_block_status(v, from, to - from, &pnum, &depth);
		if (ret)
			break;
		for (uint64_t o = from; depth == 1 && o < from + pnum && !ret;) {
			size_t n = (size_t)(from + pnum - o < RS_CHUNK ? from + pnum - o : RS_CHUNK);

			ret = vhd_pread(v, buf, n, o);
			if (!ret && (buf[0] || memcmp(buf, buf + 1, n - 1)))
				ret = 1;
			o += n;
		}
		from += pnum;
	}
	free(buf);
	return ret;
}

/* The new footer fields for @size. libvhdi presents original_size, so both
 * sizes change, as QEMU and blktap do. */
static void rs_footer_size(struct vhd *v, uint64_t size)
{
	struct vhd_footer *f = &v->footer;

	if (vhd_size_uses_chs(f))
		memcpy(f->creator_app, VHD_CREATOR_APP, 4);
	f->current_size = size;
	f->original_size = size;
	vhd_geometry(size, &f->cylinders, &f->heads, &f->sectors_per_track);
}

static int rs_write_zeros(struct vhd *v, uint64_t off, uint64_t len)
{
	uint8_t *z = calloc(1, RS_CHUNK);
	int ret = 0;

	if (!z)
		return vhd_err(-ENOMEM, "out of memory");
	while (len && !ret) {
		size_t n = (size_t)(len < RS_CHUNK ? len : RS_CHUNK);

		ret = vhd_pwrite_full(v->fd, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return ret;
}

static int rs_fixed(struct vhd *v, uint64_t size)
{
	uint64_t old = v->size;
	int ret;

	rs_footer_size(v, size);
	ret = vhd_footer_write(v, size);      /* the new end, valid on its own */
	if (!ret)
		ret = ops_sync(v);
	if (!ret && size > old)               /* the old footer becomes data: zeros */
		ret = rs_write_zeros(v, old, size - old < VHD_FOOTER_SIZE ?
				     size - old : VHD_FOOTER_SIZE);
	if (!ret && ftruncate(v->fd, (off_t)(size + VHD_FOOTER_SIZE)))
		ret = vhd_err(-errno, "%s: truncate: %s", v->path, strerror(errno));
	return ret ?: ops_sync(v);
}

/* Start of the first used region after the BAT (locator data, blocks, the
 * trailing footer): how far the BAT may grow in place. */
static uint64_t rs_bat_room_end(struct vhd *v)
{
	const struct vhd_header *h = &v->header;
	uint64_t end = v->data_end;

	if (v->footer.data_offset > h->table_offset && v->footer.data_offset < end)
		end = v->footer.data_offset;
	for (int i = 0; i < VHD_NUM_LOCATORS; i++) {
		const struct vhd_locator *l = &h->loc[i];

		if (l->code != VHD_PLAT_NONE && l->data_offset > h->table_offset &&
		    l->data_offset < end)
			end = l->data_offset;
	}
	for (uint32_t i = 0; i < v->bat_entries; i++) {
		uint64_t off = (uint64_t)vhd_bat_get(v, i) * VHD_SECTOR_SIZE;

		if (vhd_bat_get(v, i) != VHD_BAT_UNUSED && off > h->table_offset && off < end)
			end = off;
	}
	return end;
}

/* Writes a BAT of @entries (the current ones, then unused) at @off. */
static int rs_bat_write(struct vhd *v, uint32_t entries, uint64_t off)
{
	uint64_t bytes = rs_round512((uint64_t)entries * 4);
	uint8_t *raw = malloc(bytes);
	int ret;

	if (!raw)
		return vhd_err(-ENOMEM, "out of memory for a BAT of %u entries", entries);
	memset(raw, 0xff, bytes);
	for (uint32_t i = 0; i < entries && i < v->bat_entries; i++)
		vhd_put_be32(raw + 4 * (uint64_t)i, vhd_bat_get(v, i));
	ret = vhd_pwrite_full(v->fd, raw, bytes, off);
	free(raw);
	return ret;
}

/* Grows the BAT to @entries: in place when the room after it is free,
 * otherwise at the end of the data (the footer moves after it). Then the
 * header, flushed: the image still has its old size and a valid BAT. */
static int rs_grow_bat(struct vhd *v, uint32_t entries)
{
	struct vhd_header *h = &v->header;
	uint64_t bytes = rs_round512((uint64_t)entries * 4);
	uint8_t hbuf[VHD_HEADER_SIZE];
	int ret;

	if (h->table_offset + bytes <= rs_bat_room_end(v)) {
		ret = rs_bat_write(v, entries, h->table_offset);
	} else {
		uint64_t off = rs_round512(v->data_end);

		ret = rs_bat_write(v, entries, off);
		if (!ret)
			ret = vhd_footer_write(v, off + bytes);
		if (!ret) {
			h->table_offset = off;
			v->data_end = off + bytes;
		}
	}
	if (!ret)
		ret = ops_sync(v);
	if (ret)
		return ret;
	h->max_bat_entries = entries;
	vhd_header_encode(h, hbuf);
	ret = vhd_pwrite_full(v->fd, hbuf, sizeof(hbuf), v->footer.data_offset);
	return ret ?: ops_sync(v);
}

/* Forgets what lies past @size: unallocates whole blocks and clears the
 * tail of the last one (zeros in a dynamic disk, bitmap bits in a
 * differencing one, so that growing again reads zeros or the parent). */
static int rs_cut(struct vhd *v, uint64_t size)
{
	uint32_t first = (uint32_t)((size + v->block_size - 1) >> v->block_shift);
	uint64_t in = size & (v->block_size - 1);
	bool bat_changed = false;
	int ret = 0;

	for (uint32_t i = first; i < v->bat_entries; i++) {
		if (v->bat[i] != VHD_BAT_UNUSED) {
			v->bat[i] = VHD_BAT_UNUSED;
			bat_changed = true;
		}
	}
	if (bat_changed)
		ret = ops_bat_write_all(v);
	if (!ret && in && v->bat[first - 1] != VHD_BAT_UNUSED) {
		uint32_t blk = first - 1;
		uint64_t boff;

		ret = vhd_block_offset(v, blk, v->bat[blk], &boff);
		if (!ret && v->footer.type == VHD_TYPE_DYNAMIC) {
			ret = rs_write_zeros(v, boff + v->bitmap_size + in, v->block_size - in);
		} else if (!ret) {
			uint8_t *bm = malloc(v->bitmap_size);

			ret = bm ? vhd_pread_full(v->fd, bm, v->bitmap_size, boff) :
				   vhd_err(-ENOMEM, "out of memory");
			for (uint32_t s = (uint32_t)(in / VHD_SECTOR_SIZE);
			     !ret && s < v->block_size / VHD_SECTOR_SIZE; s++)
				bm[s >> 3] &= (uint8_t)~(0x80u >> (s & 7));
			if (!ret)
				ret = vhd_pwrite_full(v->fd, bm, v->bitmap_size, boff);
			free(bm);
		}
	}
	return ret ?: ops_sync(v);
}

static int rs_dynamic(struct vhd *v, uint64_t size)
{
	uint32_t entries = (uint32_t)((size + v->block_size - 1) >> v->block_shift);
	int ret = 0;

	if (size > VHD_MAX_DYNAMIC_SIZE)
		return vhd_err(-EFBIG, "%s: %llu bytes is above the 2040 GiB limit of %s disks",
			       v->path, (unsigned long long)size,
			       vhd_type_name(v->footer.type));
	if (size > v->size && entries > v->bat_entries)
		ret = rs_grow_bat(v, entries);
	if (ret)
		return ret;
	rs_footer_size(v, size);
	ret = ops_meta_commit(v);
	if (!ret && size < v->size)
		ret = rs_cut(v, size);
	return ret;
}

int vhd_resize(const char *path, uint64_t size, unsigned flags)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NO_PARENT };
	struct vhd *v;
	int ret;

	if (!size || size % VHD_SECTOR_SIZE)
		return vhd_err(-EINVAL, "size %llu is not a positive multiple of 512 bytes",
			       (unsigned long long)size);
	ret = vhd_open(path, &o, &v);
	if (ret)
		return ret;
	if (v->read_only) {
		ret = vhd_err(-EROFS, "%s: damaged footer, opened read-only; run 'vhd check --repair'",
			      path);
		goto out;
	}
	if (size == v->size)
		goto out;
	if (size < v->size && !(flags & VHD_RESIZE_FORCE)) {
		ret = rs_has_data(v, size, v->size);
		if (ret == 1)
			ret = vhd_err(-ENOTEMPTY, "%s: shrinking to %llu bytes would discard data "
				      "this image holds past that point (use --force)", path,
				      (unsigned long long)size);
		if (ret)
			goto out;
	}
	if (v->footer.type == VHD_TYPE_FIXED && size > VHD_MAX_FIXED_SIZE)
		ret = vhd_err(-EFBIG, "%s: size %llu exceeds the largest fixed VHD (%llu bytes)",
			      path, (unsigned long long)size,
			      (unsigned long long)VHD_MAX_FIXED_SIZE);
	else if (v->footer.type == VHD_TYPE_FIXED)
		ret = rs_fixed(v, size);
	else
		ret = rs_dynamic(v, size);
out:
	vhd_close(v);
	return ret;
}
