/* virtio/virtio_blk.h: the virtio-blk device's wire formats (virtio 1.x
 * section 5.2): feature bits, request types and status, the request
 * header and discard/write-zeroes segments (decoded from guest bytes), and
 * the configuration space (encoded for the guest). Front ends that serve a
 * block device (vhost-user-blk now, the own engine later) share these. */
#ifndef VV_VIRTIO_VIRTIO_BLK_H
#define VV_VIRTIO_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_ID_BLOCK 2

/* Feature bits */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_GEOMETRY     4
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_CONFIG_WCE   11
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte */
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR     512u
#define VIRTIO_BLK_HDR_SIZE   16u
#define VIRTIO_BLK_SEG_SIZE   16u   /* discard / write zeroes segment */
#define VIRTIO_BLK_ID_BYTES   20u
#define VIRTIO_BLK_WZ_F_UNMAP 0x1u

struct virtio_blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

struct virtio_blk_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* What the device tells the guest in its configuration space. */
struct virtio_blk_config {
	uint64_t capacity;            /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	uint32_t blk_size;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
};

#define VIRTIO_BLK_CONFIG_BYTES 60u

void virtio_blk_hdr_decode(const uint8_t b[VIRTIO_BLK_HDR_SIZE], struct virtio_blk_hdr *h);
void virtio_blk_seg_decode(const uint8_t b[VIRTIO_BLK_SEG_SIZE], struct virtio_blk_seg *s);
/* Writes the config space (little-endian, virtio 1.x layout) into @b. */
void virtio_blk_config_encode(const struct virtio_blk_config *c, uint8_t b[VIRTIO_BLK_CONFIG_BYTES]);

#endif
