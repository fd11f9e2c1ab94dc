/* vhd/stream.c: a VHD's layout from its first bytes, for code that sees the
 * file as a stream in file order (an upload) and cannot seek. */
#include "vhd/vhd_ops.h"

#include <errno.h>
#include <string.h>

#include "vhd/vhd_int.h"

int vhd_stream_footer(const uint8_t foot[512], struct vhd_stream_layout *l)
{
	struct vhd_footer f;
	int r;

	memset(l, 0, sizeof(*l));
	r = vhd_footer_parse(foot, 0, &f);
	if (r)
		return r;
	l->type = (enum vhd_type)f.type;
	l->size = vhd_footer_size(&f);
	if (l->type != VHD_TYPE_DYNAMIC && l->type != VHD_TYPE_DIFF)
		return vhd_err(-ENOTSUP, "a fixed VHD has no footer copy at offset 0");
	if (f.data_offset < VHD_FOOTER_SIZE || f.data_offset % VHD_SECTOR_SIZE ||
	    f.data_offset > UINT64_MAX - VHD_HEADER_SIZE)
		return vhd_err(-EINVAL, "dynamic header offset %llu is not after the footer copy",
			       (unsigned long long)f.data_offset);
	l->header_offset = f.data_offset;
	return 0;
}

int vhd_stream_header(const uint8_t hdr[1024], struct vhd_stream_layout *l)
{
	struct vhd_header h;
	int r;

	r = vhd_header_parse(hdr, l->header_offset, l->size, UINT64_MAX, &h);
	if (r)
		return r;
	if (h.table_offset < l->header_offset + VHD_HEADER_SIZE)
		return vhd_err(-ENOTSUP, "the BAT (offset %llu) is before the dynamic header's end",
			       (unsigned long long)h.table_offset);
	l->table_offset = h.table_offset;
	l->bat_entries = h.max_bat_entries;
	l->block_size = h.block_size;
	l->bitmap_size = (uint32_t)((((uint64_t)h.block_size / VHD_SECTOR_SIZE + 7) / 8 +
				     VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1));
	return 0;
}
