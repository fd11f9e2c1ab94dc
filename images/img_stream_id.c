/* images/img_stream_id.c: the content id of a dynamic VHD computed from
 * its file's bytes as they arrive in file order (an upload), without
 * seeking: footer copy at 0, dynamic header, BAT, then the blocks. It can
 * follow files whose blocks are stored in ascending block order after the
 * BAT, which is how qemu-img, our vhd tool and the catalog write them;
 * for any other file (fixed, differencing, blocks out of order, damaged)
 * it gives up and the id is left to the import's scan. Like vhd_open(),
 * it reads a dynamic disk's blocks whole (sector bitmaps are ignored). */
#include "images/img_hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhd/vhd_ops.h"

#define BAT_MAX (1u << 22)  /* entries followed: 8 TiB of 2 MiB blocks */

enum stage { ST_FOOTER, ST_HEADER, ST_BAT, ST_BITMAP, ST_DATA, ST_DONE, ST_LOST };

struct img_stream_id {
	enum stage st;
	uint64_t pos;                   /* bytes of the file seen */
	uint8_t foot[512], hdr[1024];
	struct vhd_stream_layout l;
	uint8_t *bat;                   /* the BAT as stored */
	uint32_t *blocks;               /* allocated blocks, ascending */
	uint32_t nblocks, next;         /* their count; the one being read */
	uint8_t *chunk;                 /* IMG_CHUNK bytes being filled */
	size_t chunk_len;
	uint64_t chunk_idx;
	struct img_id *id;
	const char *why;                /* why it gave up */
};

int img_stream_id_new(struct img_stream_id **out)
{
	struct img_stream_id *s = calloc(1, sizeof(*s));

	*out = s;
	return s ? 0 : -ENOMEM;
}

void img_stream_id_free(struct img_stream_id *s)
{
	if (!s)
		return;
	free(s->bat);
	free(s->blocks);
	free(s->chunk);
	img_id_free(s->id);
	free(s);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void lose(struct img_stream_id *s, const char *why)
{
	s->st = ST_LOST;
	s->why = why;
}

static uint64_t block_file_off(const struct img_stream_id *s, uint32_t k)
{
	return (uint64_t)be32(s->bat + 4 * (size_t)k) * 512;
}

/* Bytes of block @k inside the virtual disk. */
static uint64_t block_len(const struct img_stream_id *s, uint32_t k)
{
	uint64_t start = (uint64_t)k * s->l.block_size;

	return s->l.size - start < s->l.block_size ? s->l.size - start : s->l.block_size;
}

/* The file range the current stage waits for, and where it goes (NULL:
 * skipped, or the block data handled chunk by chunk). */
static void region(const struct img_stream_id *s, uint64_t *off, uint64_t *len, uint8_t **dest)
{
	uint32_t k = s->st == ST_BITMAP || s->st == ST_DATA ? s->blocks[s->next] : 0;

	*dest = NULL;
	switch (s->st) {
	case ST_FOOTER: *off = 0; *len = 512; *dest = (uint8_t *)s->foot; break;
	case ST_HEADER: *off = s->l.header_offset; *len = 1024; *dest = (uint8_t *)s->hdr; break;
	case ST_BAT:
		*off = s->l.table_offset;
		*len = 4 * (uint64_t)s->l.bat_entries;
		*dest = s->bat;
		break;
	case ST_BITMAP: *off = block_file_off(s, k); *len = s->l.bitmap_size; break;
	case ST_DATA:
		*off = block_file_off(s, k) + s->l.bitmap_size;
		*len = block_len(s, k);
		break;
	default: *off = *len = 0; break;
	}
}

/* The BAT is in: the allocated blocks, which must follow it in ascending
 * order without overlapping. */
static void bat_done(struct img_stream_id *s)
{
	uint64_t need = (s->l.size + s->l.block_size - 1) / s->l.block_size;
	uint64_t end = s->l.table_offset + 4 * (uint64_t)s->l.bat_entries;

	s->blocks = malloc(need * sizeof(*s->blocks) + 1);
	if (!s->blocks) {
		lose(s, "out of memory");
		return;
	}
	for (uint32_t k = 0; k < need; k++) {
		uint64_t off;

		if (be32(s->bat + 4 * (size_t)k) == 0xffffffffu)
			continue;
		off = block_file_off(s, k);
		if (off < end) {
			lose(s, "blocks are not stored in order after the BAT");
			return;
		}
		s->blocks[s->nblocks++] = k;
		end = off + s->l.bitmap_size + s->l.block_size;
	}
	s->st = s->nblocks ? ST_BITMAP : ST_DONE;
}

static void region_done(struct img_stream_id *s)
{
	switch (s->st) {
	case ST_FOOTER:
		if (vhd_stream_footer(s->foot, &s->l) || s->l.type != VHD_TYPE_DYNAMIC) {
			lose(s, "not a dynamic VHD with its footer copy at offset 0");
			return;
		}
		if (img_id_begin(s->l.size, &s->id)) {
			lose(s, "out of memory");
			return;
		}
		s->st = ST_HEADER;
		break;
	case ST_HEADER:
		if (vhd_stream_header(s->hdr, &s->l)) {
			lose(s, "a bad dynamic header");
			return;
		}
		if (s->l.block_size % IMG_CHUNK || s->l.bat_entries > BAT_MAX) {
			lose(s, "blocks smaller than a chunk, or too many");
			return;
		}
		s->bat = malloc(4 * (size_t)s->l.bat_entries + 1);
		s->chunk = malloc(IMG_CHUNK);
		if (!s->bat || !s->chunk) {
			lose(s, "out of memory");
			return;
		}
		s->st = ST_BAT;
		break;
	case ST_BAT:
		bat_done(s);
		break;
	case ST_BITMAP:
		s->chunk_len = 0;
		s->chunk_idx = (uint64_t)s->blocks[s->next] * (s->l.block_size / IMG_CHUNK);
		s->st = ST_DATA;
		break;
	case ST_DATA:
		if (s->chunk_len)
			img_id_chunk(s->id, s->chunk_idx, s->chunk, s->chunk_len);
		s->st = ++s->next == s->nblocks ? ST_DONE : ST_BITMAP;
		break;
	default:
		break;
	}
}

/* @n bytes of the current block's data. */
static void data_bytes(struct img_stream_id *s, const uint8_t *p, size_t n)
{
	while (n) {
		size_t take = IMG_CHUNK - s->chunk_len < n ? IMG_CHUNK - s->chunk_len : n;

		memcpy(s->chunk + s->chunk_len, p, take);
		s->chunk_len += take;
		p += take;
		n -= take;
		if (s->chunk_len == IMG_CHUNK) {
			img_id_chunk(s->id, s->chunk_idx++, s->chunk, IMG_CHUNK);
			s->chunk_len = 0;
		}
	}
}

void img_stream_id_feed(struct img_stream_id *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len && s->st < ST_DONE) {
		uint64_t off, rlen;
		uint8_t *dest;
		size_t n;

		region(s, &off, &rlen, &dest);
		if (s->pos < off) {
			n = off - s->pos < len ? (size_t)(off - s->pos) : len;
		} else if (s->pos >= off + rlen) {
			/* only a region of length 0 (none are) or out of order */
			{ lose(s, "the file's parts are out of order"); return; }
		} else {
			n = off + rlen - s->pos < len ? (size_t)(off + rlen - s->pos) : len;
			if (dest)
				memcpy(dest + (s->pos - off), p, n);
			else if (s->st == ST_DATA)
				data_bytes(s, p, n);
		}
		s->pos += n;
		p += n;
		len -= n;
		if (s->pos == off + rlen) {
			region_done(s);
			if (s->st < ST_DONE) {
				region(s, &off, &rlen, &dest);
				if (off < s->pos)
					lose(s, "the file's parts are out of order");
			}
		}
	}
	s->pos += len;
}

int img_stream_id_get(const struct img_stream_id *s, char id[IMG_HEX_LEN + 1])
{
	if (s->st == ST_LOST)
		return -ENOTSUP;
	if (s->st != ST_DONE)
		return -EAGAIN;
	return img_id_peek(s->id, id);
}
