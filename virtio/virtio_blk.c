/* virtio/virtio_blk.c: virtio-blk wire formats. */
#include "virtio/virtio_blk.h"

#include <endian.h>
#include <string.h>

static uint32_t vblk_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t vblk_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }
static void vblk_put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void vblk_put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void vblk_put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

void virtio_blk_hdr_decode(const uint8_t b[VIRTIO_BLK_HDR_SIZE], struct virtio_blk_hdr *h)
{
	h->type = vblk_get32(b);
	h->ioprio = vblk_get32(b + 4);
	h->sector = vblk_get64(b + 8);
}

void virtio_blk_seg_decode(const uint8_t b[VIRTIO_BLK_SEG_SIZE], struct virtio_blk_seg *s)
{
	s->sector = vblk_get64(b);
	s->num_sectors = vblk_get32(b + 8);
	s->flags = vblk_get32(b + 12);
}

void virtio_blk_config_encode(const struct virtio_blk_config *c, uint8_t b[VIRTIO_BLK_CONFIG_BYTES])
{
	memset(b, 0, VIRTIO_BLK_CONFIG_BYTES);
	vblk_put64(b + 0, c->capacity);
	vblk_put32(b + 8, c->size_max);
	vblk_put32(b + 12, c->seg_max);
	/* 16: geometry (not offered) */
	vblk_put32(b + 20, c->blk_size);
	/* 24: topology (not offered); 32: writeback (not offered) */
	vblk_put16(b + 34, c->num_queues);
	vblk_put32(b + 36, c->max_discard_sectors);
	vblk_put32(b + 40, c->max_discard_seg);
	vblk_put32(b + 44, c->discard_sector_alignment);
	vblk_put32(b + 48, c->max_write_zeroes_sectors);
	vblk_put32(b + 52, c->max_write_zeroes_seg);
	b[56] = c->write_zeroes_may_unmap;
}
