/* vhd/ops_util.c: metadata rewrites shared by commit, flatten, resize and
 * compact. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhd/ops_int.h"

static uint64_t ops_round512(uint64_t x)
{
	return (x + VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1);
}

uint64_t ops_meta_end(const struct vhd *v)
{
	const struct vhd_header *h = &v->header;
	uint64_t end = v->footer.data_offset + VHD_HEADER_SIZE;
	uint64_t bat_end = ops_round512(h->table_offset + (uint64_t)v->bat_entries * 4);

	if (end < bat_end)
		end = bat_end;
	for (int i = 0; i < VHD_NUM_LOCATORS; i++) {
		const struct vhd_locator *l = &h->loc[i];
		uint64_t lend = l->data_offset + vhd_locator_space(l);

		if (l->code != VHD_PLAT_NONE && lend > end && lend <= v->file_end)
			end = lend;
	}
	return ops_round512(end);
}

uint64_t ops_block_bytes(const struct vhd *v)
{
	return (uint64_t)v->bitmap_size + v->block_size;
}

void ops_bitmap_forget(struct vhd *v, uint32_t blk)
{
	if (!v->bitmaps)
		return;
	if (v->bitmaps[blk] != v->bm_full)
		free(v->bitmaps[blk]);
	v->bitmaps[blk] = NULL;
}

int ops_sync(struct vhd *v)
{
	if (fsync(v->fd))
		return vhd_err(-errno, "%s: fsync: %s", v->path, strerror(errno));
	return 0;
}

int ops_bat_write_all(struct vhd *v)
{
	uint64_t bytes = ops_round512((uint64_t)v->bat_entries * 4);
	uint8_t *raw;
	int ret;

	/* Entries and bitmaps staged by writes through @v go out first, in
	 * their order (see write.c). */
	if (v->bat_dirty_any || __atomic_load_n(&v->bm_dirty_any, __ATOMIC_RELAXED)) {
		ret = vhd_flush(v);
		if (ret)
			return ret;
	}
	raw = malloc(bytes ? bytes : 1);
	if (!raw)
		return vhd_err(-ENOMEM, "out of memory for the BAT");
	memset(raw, 0xff, bytes);
	for (uint32_t i = 0; i < v->bat_entries; i++)
		vhd_put_be32(raw + 4 * (uint64_t)i, v->bat[i]);
	ret = vhd_pwrite_full(v->fd, raw, bytes, v->header.table_offset);
	free(raw);
	return ret;
}

int ops_meta_commit(struct vhd *v)
{
	uint8_t fbuf[VHD_FOOTER_SIZE], hbuf[VHD_HEADER_SIZE];
	int ret;

	vhd_footer_encode(&v->footer, fbuf);
	vhd_header_encode(&v->header, hbuf);
	ret = vhd_pwrite_full(v->fd, fbuf, sizeof(fbuf), v->data_end);
	if (!ret)
		ret = ops_sync(v);
	if (!ret)
		ret = vhd_pwrite_full(v->fd, fbuf, sizeof(fbuf), 0);
	if (!ret)
		ret = vhd_pwrite_full(v->fd, hbuf, sizeof(hbuf), v->footer.data_offset);
	if (!ret)
		ret = ops_sync(v);
	return ret;
}

int ops_truncate(struct vhd *v, uint64_t end)
{
	int ret;

	end = ops_round512(end);
	ret = vhd_footer_write(v, end);
	if (!ret && ftruncate(v->fd, (off_t)(end + VHD_FOOTER_SIZE)))
		ret = vhd_err(-errno, "%s: truncate: %s", v->path, strerror(errno));
	if (!ret)
		ret = ops_sync(v);
	if (!ret) {
		v->data_end = end;
		v->file_end = end + VHD_FOOTER_SIZE;
	}
	return ret;
}
