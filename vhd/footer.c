/* vhd/footer.c: the footer and the dynamic disk header: decode, encode,
 * checksum and validation. Layouts are from the VHD specification v1.0;
 * every field is big-endian. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "vhd/vhd_int.h"

/* Footer field offsets. */
enum {
	FT_COOKIE = 0, FT_FEATURES = 8, FT_VERSION = 12, FT_DATA_OFFSET = 16,
	FT_TIMESTAMP = 24, FT_CREATOR_APP = 28, FT_CREATOR_VER = 32,
	FT_CREATOR_OS = 36, FT_ORIG_SIZE = 40, FT_CUR_SIZE = 48, FT_CYL = 56,
	FT_HEADS = 58, FT_SPT = 59, FT_TYPE = 60, FT_CHECKSUM = 64, FT_UUID = 68,
	FT_SAVED = 84,
};

/* Dynamic header field offsets; locator entries are 24 bytes each. */
enum {
	HD_COOKIE = 0, HD_DATA_OFFSET = 8, HD_TABLE_OFFSET = 16, HD_VERSION = 24,
	HD_MAX_ENTRIES = 28, HD_BLOCK_SIZE = 32, HD_CHECKSUM = 36,
	HD_PARENT_UUID = 40, HD_PARENT_TS = 56, HD_PARENT_NAME = 64,
	HD_LOCATORS = 576, LOC_SIZE = 24,
};

static const char vhd_footer_cookie[8] = { 'c', 'o', 'n', 'e', 'c', 't', 'i', 'x' };
static const char vhd_header_cookie[8] = { 'c', 'x', 's', 'p', 'a', 'r', 's', 'e' };

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t csum_off)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++) {
		if (i >= csum_off && i < csum_off + 4)
			continue;
		sum += buf[i];
	}
	return ~sum;
}

void vhd_footer_decode(const uint8_t buf[VHD_FOOTER_SIZE], struct vhd_footer *f)
{
	memcpy(f->cookie, buf + FT_COOKIE, 8);
	f->features = vhd_get_be32(buf + FT_FEATURES);
	f->version = vhd_get_be32(buf + FT_VERSION);
	f->data_offset = vhd_get_be64(buf + FT_DATA_OFFSET);
	f->timestamp = vhd_get_be32(buf + FT_TIMESTAMP);
	memcpy(f->creator_app, buf + FT_CREATOR_APP, 4);
	f->creator_version = vhd_get_be32(buf + FT_CREATOR_VER);
	memcpy(f->creator_os, buf + FT_CREATOR_OS, 4);
	f->original_size = vhd_get_be64(buf + FT_ORIG_SIZE);
	f->current_size = vhd_get_be64(buf + FT_CUR_SIZE);
	f->cylinders = vhd_get_be16(buf + FT_CYL);
	f->heads = buf[FT_HEADS];
	f->sectors_per_track = buf[FT_SPT];
	f->type = vhd_get_be32(buf + FT_TYPE);
	f->checksum = vhd_get_be32(buf + FT_CHECKSUM);
	memcpy(f->uuid, buf + FT_UUID, 16);
	f->saved_state = buf[FT_SAVED];
}

void vhd_footer_encode(struct vhd_footer *f, uint8_t buf[VHD_FOOTER_SIZE])
{
	memset(buf, 0, VHD_FOOTER_SIZE);
	memcpy(buf + FT_COOKIE, f->cookie, 8);
	vhd_put_be32(buf + FT_FEATURES, f->features);
	vhd_put_be32(buf + FT_VERSION, f->version);
	vhd_put_be64(buf + FT_DATA_OFFSET, f->data_offset);
	vhd_put_be32(buf + FT_TIMESTAMP, f->timestamp);
	memcpy(buf + FT_CREATOR_APP, f->creator_app, 4);
	vhd_put_be32(buf + FT_CREATOR_VER, f->creator_version);
	memcpy(buf + FT_CREATOR_OS, f->creator_os, 4);
	vhd_put_be64(buf + FT_ORIG_SIZE, f->original_size);
	vhd_put_be64(buf + FT_CUR_SIZE, f->current_size);
	vhd_put_be16(buf + FT_CYL, f->cylinders);
	buf[FT_HEADS] = f->heads;
	buf[FT_SPT] = f->sectors_per_track;
	vhd_put_be32(buf + FT_TYPE, f->type);
	memcpy(buf + FT_UUID, f->uuid, 16);
	buf[FT_SAVED] = f->saved_state;
	f->checksum = vhd_checksum(buf, VHD_FOOTER_SIZE, FT_CHECKSUM);
	vhd_put_be32(buf + FT_CHECKSUM, f->checksum);
}

void vhd_header_decode(const uint8_t buf[VHD_HEADER_SIZE], struct vhd_header *h)
{
	memcpy(h->cookie, buf + HD_COOKIE, 8);
	h->data_offset = vhd_get_be64(buf + HD_DATA_OFFSET);
	h->table_offset = vhd_get_be64(buf + HD_TABLE_OFFSET);
	h->version = vhd_get_be32(buf + HD_VERSION);
	h->max_bat_entries = vhd_get_be32(buf + HD_MAX_ENTRIES);
	h->block_size = vhd_get_be32(buf + HD_BLOCK_SIZE);
	h->checksum = vhd_get_be32(buf + HD_CHECKSUM);
	memcpy(h->parent_uuid, buf + HD_PARENT_UUID, 16);
	h->parent_timestamp = vhd_get_be32(buf + HD_PARENT_TS);
	memcpy(h->parent_name, buf + HD_PARENT_NAME, VHD_PARENT_NAME_SIZE);
	for (int i = 0; i < VHD_NUM_LOCATORS; i++) {
		const uint8_t *p = buf + HD_LOCATORS + i * LOC_SIZE;

		h->loc[i].code = vhd_get_be32(p);
		h->loc[i].data_space = vhd_get_be32(p + 4);
		h->loc[i].data_len = vhd_get_be32(p + 8);
		h->loc[i].data_offset = vhd_get_be64(p + 16);
	}
}

void vhd_header_encode(struct vhd_header *h, uint8_t buf[VHD_HEADER_SIZE])
{
	memset(buf, 0, VHD_HEADER_SIZE);
	memcpy(buf + HD_COOKIE, h->cookie, 8);
	vhd_put_be64(buf + HD_DATA_OFFSET, h->data_offset);
	vhd_put_be64(buf + HD_TABLE_OFFSET, h->table_offset);
	vhd_put_be32(buf + HD_VERSION, h->version);
	vhd_put_be32(buf + HD_MAX_ENTRIES, h->max_bat_entries);
	vhd_put_be32(buf + HD_BLOCK_SIZE, h->block_size);
	memcpy(buf + HD_PARENT_UUID, h->parent_uuid, 16);
	vhd_put_be32(buf + HD_PARENT_TS, h->parent_timestamp);
	memcpy(buf + HD_PARENT_NAME, h->parent_name, VHD_PARENT_NAME_SIZE);
	for (int i = 0; i < VHD_NUM_LOCATORS; i++) {
		uint8_t *p = buf + HD_LOCATORS + i * LOC_SIZE;

		vhd_put_be32(p, h->loc[i].code);
		vhd_put_be32(p + 4, h->loc[i].data_space);
		vhd_put_be32(p + 8, h->loc[i].data_len);
		vhd_put_be64(p + 16, h->loc[i].data_offset);
	}
	h->checksum = vhd_checksum(buf, VHD_HEADER_SIZE, HD_CHECKSUM);
	vhd_put_be32(buf + HD_CHECKSUM, h->checksum);
}

int vhd_footer_parse(const uint8_t buf[VHD_FOOTER_SIZE], uint64_t off,
		     struct vhd_footer *f)
{
	unsigned long long o = off;
	uint32_t sum;

	vhd_footer_decode(buf, f);
	if (memcmp(f->cookie, vhd_footer_cookie, 8))
		return vhd_err(-EINVAL, "no VHD footer cookie 'conectix' at offset %llu", o);
	sum = vhd_checksum(buf, VHD_FOOTER_SIZE, FT_CHECKSUM);
	if (sum != f->checksum)
		return vhd_err(-EINVAL,
			       "footer checksum mismatch at offset %llu (stored 0x%08x, computed 0x%08x)",
			       o, f->checksum, sum);
	if (f->version >> 16 != 1)
		return vhd_err(-ENOTSUP, "unsupported footer version 0x%08x at offset %llu",
			       f->version, o);
	if (f->type != VHD_TYPE_FIXED && f->type != VHD_TYPE_DYNAMIC &&
	    f->type != VHD_TYPE_DIFF)
		return vhd_err(-EINVAL, "bad disk type %u in footer at offset %llu", f->type, o);
	if (f->type != VHD_TYPE_FIXED &&
	    (f->data_offset == VHD_FIXED_OFFSET || f->data_offset % VHD_SECTOR_SIZE))
		return vhd_err(-EINVAL, "bad dynamic header offset 0x%llx in footer at offset %llu",
			       (unsigned long long)f->data_offset, o);
	return 0;
}

int vhd_header_parse(const uint8_t buf[VHD_HEADER_SIZE], uint64_t off,
		     uint64_t size, uint64_t file_size, struct vhd_header *h)
{
	unsigned long long o = off;
	uint64_t need, table_bytes;
	uint32_t sum;

	vhd_header_decode(buf, h);
	if (memcmp(h->cookie, vhd_header_cookie, 8))
		return vhd_err(-EINVAL, "no dynamic header cookie 'cxsparse' at offset %llu", o);
	sum = vhd_checksum(buf, VHD_HEADER_SIZE, HD_CHECKSUM);
	if (sum != h->checksum)
		return vhd_err(-EINVAL,
			       "dynamic header checksum mismatch at offset %llu (stored 0x%08x, computed 0x%08x)",
			       o, h->checksum, sum);
	if (h->version >> 16 != 1)
		return vhd_err(-ENOTSUP, "unsupported dynamic header version 0x%08x at offset %llu",
			       h->version, o);
	if (h->block_size < VHD_SECTOR_SIZE || (h->block_size & (h->block_size - 1)))
		return vhd_err(-EINVAL,
			       "block size %u in dynamic header at offset %llu is not a power of two >= 512",
			       h->block_size, o);
	need = vhd_blocks_for(size, h->block_size);
	if (h->max_bat_entries < need)
		return vhd_err(-EINVAL,
			       "BAT has %u entries, the virtual size of %llu bytes needs %llu (header at offset %llu)",
			       h->max_bat_entries, (unsigned long long)size,
			       (unsigned long long)need, o);
	if (h->max_bat_entries > VHD_MAX_BAT_ENTRIES)
		return vhd_err(-EINVAL,
			       "BAT of %u entries in the dynamic header at offset %llu is too large (limit %u)",
			       h->max_bat_entries, o, VHD_MAX_BAT_ENTRIES);
	table_bytes = (uint64_t)h->max_bat_entries * 4;
	if (h->table_offset % VHD_SECTOR_SIZE)
		return vhd_err(-EINVAL, "BAT offset %llu is not sector aligned",
			       (unsigned long long)h->table_offset);
	if (h->table_offset > UINT64_MAX - table_bytes)
		return vhd_err(-EINVAL, "BAT offset 0x%llx with %u entries: table-size overflow",
			       (unsigned long long)h->table_offset, h->max_bat_entries);
	if (h->table_offset + table_bytes > file_size)
		return vhd_err(-EINVAL,
			       "BAT at offset %llu (%llu bytes) extends past the end of the file (%llu bytes)",
			       (unsigned long long)h->table_offset,
			       (unsigned long long)table_bytes, (unsigned long long)file_size);
	return 0;
}

uint64_t vhd_locator_space(const struct vhd_locator *l)
{
	if (l->data_space < VHD_SECTOR_SIZE)
		return (uint64_t)l->data_space * VHD_SECTOR_SIZE;
	return l->data_space;
}

uint32_t vhd_time_from_unix(int64_t t)
{
	t -= VHD_TIME_EPOCH;
	if (t < 0)
		return 0;
	if (t > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)t;
}

int vhd_footer_init(struct vhd_footer *f, enum vhd_type type, uint64_t size)
{
	ssize_t n;

	memset(f, 0, sizeof(*f));
	memcpy(f->cookie, vhd_footer_cookie, 8);
	f->features = VHD_FEATURES;
	f->version = VHD_VERSION;
	f->data_offset = type == VHD_TYPE_FIXED ? VHD_FIXED_OFFSET : VHD_HEADER_OFFSET;
	f->timestamp = vhd_time_from_unix(time(NULL));
	memcpy(f->creator_app, VHD_CREATOR_APP, 4);
	f->creator_version = VHD_CREATOR_VERSION;
	memcpy(f->creator_os, VHD_CREATOR_OS, 4);
	f->original_size = size;
	f->current_size = size;
	vhd_geometry(size, &f->cylinders, &f->heads, &f->sectors_per_track);
	f->type = type;
	n = getrandom(f->uuid, sizeof(f->uuid), 0);
	if (n != (ssize_t)sizeof(f->uuid))
		return vhd_err(n < 0 ? -errno : -EIO, "getrandom failed for the image UUID");
	f->uuid[6] = (uint8_t)((f->uuid[6] & 0x0f) | 0x40);  /* RFC 4122 version 4 */
	f->uuid[8] = (uint8_t)((f->uuid[8] & 0x3f) | 0x80);
	return 0;
}

void vhd_header_init(struct vhd_header *h, uint32_t entries, uint32_t block_size,
		     uint64_t table_offset)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->cookie, vhd_header_cookie, 8);
	h->data_offset = UINT64_MAX;
	h->table_offset = table_offset;
	h->version = VHD_VERSION;
	h->max_bat_entries = entries;
	h->block_size = block_size;
}
