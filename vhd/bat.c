/* vhd/bat.c: the block allocation table: load, lookup, update, and the
 * end-of-data computation that decides where new blocks go. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhd/vhd_int.h"

static uint64_t round_up512(uint64_t x)
{
	return (x + VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1);
}

/* Bytes of block @blk that lie inside the virtual size (the last block may
 * be partial). */
static uint64_t block_used(const struct vhd *v, uint32_t blk)
{
	uint64_t start = (uint64_t)blk << v->block_shift;
	uint64_t left = v->size > start ? v->size - start : 0;

	return left < v->block_size ? left : v->block_size;
}

/* True when [a, a_end) and [b, b + len) share a byte. */
static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t len)
{
	return a < b + len && b < a_end;
}

int vhd_bat_load(struct vhd *v, uint64_t file_size)
{
	const struct vhd_header *h = &v->header;
	uint64_t table_bytes = (uint64_t)v->bat_entries * 4;
	uint64_t footer_off, end;
	uint8_t *raw;
	int ret;

	raw = malloc(table_bytes ? table_bytes : 1);
	v->bat = malloc((table_bytes ? table_bytes : 1));
	v->bad_map = calloc(v->bat_entries / 8 + 1, 1);
	v->bat_dirty = calloc(table_bytes / VHD_SECTOR_SIZE / 8 + 1, 1);
	if (!raw || !v->bat || !v->bad_map || !v->bat_dirty) {
		free(raw);
		return vhd_err(-ENOMEM, "out of memory for a BAT of %u entries", v->bat_entries);
	}
	ret = vhd_pread_full(v->fd, raw, table_bytes, h->table_offset);
	if (ret) {
		free(raw);
		return ret;
	}
	for (uint32_t i = 0; i < v->bat_entries; i++)
		v->bat[i] = vhd_get_be32(raw + 4 * (uint64_t)i);
	free(raw);

	/* The end of data: past every region anyone may use. The trailing
	 * footer starts at file_size - 512 (or - 511 for old Virtual PC).
	 * published_end leaves out the file size: the end of what metadata
	 * and the BAT reference. */
	footer_off = file_size >= VHD_FOOTER_SIZE ? file_size - VHD_FOOTER_SIZE : 0;
	if (file_size % VHD_SECTOR_SIZE == VHD_SECTOR_SIZE - 1)
		footer_off = file_size - (VHD_SECTOR_SIZE - 1);
	end = v->footer.data_offset + VHD_HEADER_SIZE;
	if (end < round_up512(h->table_offset + table_bytes))
		end = round_up512(h->table_offset + table_bytes);
	for (int i = 0; i < VHD_NUM_LOCATORS; i++) {
		const struct vhd_locator *l = &h->loc[i];
		uint64_t lend = l->data_offset + vhd_locator_space(l);

		if (l->code == VHD_PLAT_NONE || lend < l->data_offset || lend > file_size)
			continue;
		if (end < round_up512(lend))
			end = round_up512(lend);
	}
	for (uint32_t i = 0; i < v->bat_entries; i++) {
		uint64_t off, bend;

		if (v->bat[i] == VHD_BAT_UNUSED)
			continue;
		off = (uint64_t)v->bat[i] * VHD_SECTOR_SIZE;
		bend = off + v->bitmap_size + block_used(v, i);
		if (bend > footer_off || off < VHD_FOOTER_SIZE ||
		    overlaps(off, bend, v->footer.data_offset, VHD_HEADER_SIZE) ||
		    overlaps(off, bend, h->table_offset, table_bytes)) {
			v->bad_map[i / 8] |= (uint8_t)(1u << (i % 8));
			v->bad_bat_entries++;
			continue;
		}
		bend = off + v->bitmap_size + v->block_size;
		if (end < bend)
			end = bend;
	}
	if (v->bad_bat_entries)
		vhd_log(VHD_LOG_WARN,
			"%s: %u BAT entries point past the end of the file or into metadata",
			v->path, v->bad_bat_entries);
	v->published_end = round_up512(end);
	v->data_end = round_up512(footer_off) > end ? round_up512(footer_off) : end;
	v->file_end = file_size;
	return 0;
}

uint32_t vhd_bat_get(const struct vhd *v, uint32_t blk)
{
	return __atomic_load_n(&v->bat[blk], __ATOMIC_ACQUIRE);
}

int vhd_bat_set(struct vhd *v, uint32_t blk, uint32_t sector)
{
	uint8_t be[4];
	int ret;

	vhd_put_be32(be, sector);
	ret = vhd_pwrite_full(v->fd, be, 4, v->header.table_offset + 4 * (uint64_t)blk);
	if (ret)
		return ret;
	__atomic_and_fetch(&v->bad_map[blk / 8], (uint8_t)~(1u << (blk % 8)), __ATOMIC_RELAXED);
	__atomic_store_n(&v->bat[blk], sector, __ATOMIC_RELEASE);
	__atomic_store_n(&v->dirty, true, __ATOMIC_RELAXED);
	return 0;
}

void vhd_bat_stage(struct vhd *v, uint32_t blk, uint32_t sector)
{
	uint32_t sec = blk / (VHD_SECTOR_SIZE / 4);

	v->bat_dirty[sec / 8] |= (uint8_t)(1u << (sec % 8));
	v->bat_dirty_any = true;
	__atomic_and_fetch(&v->bad_map[blk / 8], (uint8_t)~(1u << (blk % 8)), __ATOMIC_RELAXED);
	__atomic_store_n(&v->bat[blk], sector, __ATOMIC_RELEASE);
	__atomic_store_n(&v->dirty, true, __ATOMIC_RELAXED);
}

int vhd_bat_write_dirty(struct vhd *v)
{
	uint32_t per = VHD_SECTOR_SIZE / 4, secs = (v->bat_entries + per - 1) / per;
	uint8_t raw[VHD_SECTOR_SIZE];
	int ret;

	if (!v->bat_dirty_any)
		return 0;
	for (uint32_t sec = 0; sec < secs; sec++) {
		if (!(v->bat_dirty[sec / 8] & (1u << (sec % 8))))
			continue;
		/* Entries past the table's end pad the sector as unused. */
		memset(raw, 0xff, sizeof(raw));
		for (uint32_t i = 0; i < per && sec * per + i < v->bat_entries; i++)
			vhd_put_be32(raw + 4 * i, vhd_bat_get(v, sec * per + i));
		ret = vhd_pwrite_full(v->fd, raw, sizeof(raw),
				      v->header.table_offset + (uint64_t)sec * VHD_SECTOR_SIZE);
		if (ret)
			return ret;
		v->bat_dirty[sec / 8] &= (uint8_t)~(1u << (sec % 8));
	}
	v->bat_dirty_any = false;
	return 0;
}

int vhd_block_offset(struct vhd *v, uint32_t blk, uint32_t entry, uint64_t *off)
{
	if (__atomic_load_n(&v->bad_map[blk / 8], __ATOMIC_RELAXED) & (1u << (blk % 8)))
		return vhd_err(-EIO,
			       "%s: BAT entry %u (sector %u) points past the end of the file or into metadata",
			       v->path, blk, entry);
	*off = (uint64_t)entry * VHD_SECTOR_SIZE;
	return 0;
}

int vhd_footer_write(struct vhd *v, uint64_t off)
{
	uint8_t buf[VHD_FOOTER_SIZE];

	vhd_footer_encode(&v->footer, buf);
	return vhd_pwrite_full(v->fd, buf, sizeof(buf), off);
}
