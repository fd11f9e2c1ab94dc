/* tests/unit/virtio/test_virtio_blk.c: virtio-blk's wire formats at the
 * byte offsets of virtio 1.x 5.2.4 (config) and 5.2.6 (requests). */
#include <criterion/criterion.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "virtio/virtio_blk.h"

static uint64_t at64(const uint8_t *b, size_t off) { uint64_t v; memcpy(&v, b + off, 8); return le64toh(v); }
static uint32_t at32(const uint8_t *b, size_t off) { uint32_t v; memcpy(&v, b + off, 4); return le32toh(v); }
static uint16_t at16(const uint8_t *b, size_t off) { uint16_t v; memcpy(&v, b + off, 2); return le16toh(v); }

Test(virtio_blk, config_layout)
{
	struct virtio_blk_config c = {
		.capacity = 0x0102030405060708ull, .size_max = 11, .seg_max = 254,
		.blk_size = 4096, .num_queues = 3, .max_discard_sectors = 0x400000,
		.max_discard_seg = 1, .discard_sector_alignment = 8,
		.max_write_zeroes_sectors = 0x200000, .max_write_zeroes_seg = 2,
		.write_zeroes_may_unmap = 1,
	};
	uint8_t b[VIRTIO_BLK_CONFIG_BYTES];

	memset(b, 0xee, sizeof(b));
	virtio_blk_config_encode(&c, b);
	cr_assert_eq(at64(b, 0), c.capacity);
	cr_assert_eq(at32(b, 8), 11);
	cr_assert_eq(at32(b, 12), 254);
	cr_assert_eq(at32(b, 16), 0);          /* geometry: not offered */
	cr_assert_eq(at32(b, 20), 4096);
	cr_assert_eq(at64(b, 24), 0);          /* topology: not offered */
	cr_assert_eq(b[32], 0);                /* writeback */
	cr_assert_eq(at16(b, 34), 3);
	cr_assert_eq(at32(b, 36), 0x400000);
	cr_assert_eq(at32(b, 40), 1);
	cr_assert_eq(at32(b, 44), 8);
	cr_assert_eq(at32(b, 48), 0x200000);
	cr_assert_eq(at32(b, 52), 2);
	cr_assert_eq(b[56], 1);
	cr_assert_eq(b[57] | b[58] | b[59], 0);
}

Test(virtio_blk, request_header_and_segment)
{
	const uint8_t hdr[16] = { 1, 0, 0, 0, 0x22, 0, 0, 0, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe };
	const uint8_t seg[16] = { 8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0 };
	struct virtio_blk_hdr h;
	struct virtio_blk_seg s;

	virtio_blk_hdr_decode(hdr, &h);
	cr_assert_eq(h.type, VIRTIO_BLK_T_OUT);
	cr_assert_eq(h.ioprio, 0x22);
	cr_assert_eq(h.sector, 0xfedcba9876543210ull);
	virtio_blk_seg_decode(seg, &s);
	cr_assert_eq(s.sector, 8);
	cr_assert_eq(s.num_sectors, 256);
	cr_assert_eq(s.flags, VIRTIO_BLK_WZ_F_UNMAP);
}
