/* images/img_hash.h: content ids and file hashes of images, and the
 * sparse-aware scan that copies and hashes in one pass.
 *
 * Content id (version 1), the id of an image in the catalog:
 *
 *   C = 65536 (IMG_CHUNK); the virtual disk of S bytes is cut into chunks
 *   i = 0 .. ceil(S / C) - 1, chunk i = bytes [i*C, min((i+1)*C, S)).
 *   A chunk is a zero chunk when every byte of it reads as 0, whether it is
 *   unallocated (known from the source's status without reading) or
 *   allocated and full of zeros (read and tested).
 *   id = hex(SHA-256( "vhdvisor-content-v1\n" || be64(S) ||
 *                     for each non-zero chunk i, ascending:
 *                         be64(i) || the bytes of chunk i ))
 *
 * So equal guest-visible content gives equal ids whatever the format or
 * the allocation, and a sparse disk hashes in the time of its data.
 */
#ifndef VV_IMAGES_IMG_HASH_H
#define VV_IMAGES_IMG_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMG_CHUNK (64u << 10)
#define IMG_HEX_LEN 64

/* A readable virtual disk. */
struct img_src {
	uint64_t size;  /* virtual size, bytes */
	/* Reads exactly @len bytes at @off (within size). 0 or -errno. */
	int (*pread)(void *opaque, void *buf, size_t len, uint64_t off);
	/* The run at @off of at most @len bytes: *pnum > 0 its length,
	 * *allocated false when it certainly reads as zeros. NULL = every
	 * byte may hold data. 0 or -errno. */
	int (*status)(void *opaque, uint64_t off, uint64_t len, uint64_t *pnum,
		      bool *allocated);
	void *opaque;
};

/* Called with the non-zero data, in ascending order: runs of consecutive
 * non-zero chunks, at most 1 MiB at a time, @len bytes at virtual offset
 * @off (chunk-aligned). 0 or -errno (stops the scan). */
typedef int (*img_sink_fn)(void *opaque, const void *buf, size_t len, uint64_t off);
/* Progress: @done of @total bytes of the virtual disk examined. */
typedef void (*img_progress_fn)(void *opaque, uint64_t done, uint64_t total);

struct img_scan_opts {
	img_sink_fn sink;             /* may be NULL (hash only) */
	void *sink_opaque;
	img_progress_fn progress;     /* may be NULL */
	void *progress_opaque;
	bool no_id;                   /* skip the hashing; the id comes back "" */
};

/* Scans @src once: computes its content id into @id (IMG_HEX_LEN + 1
 * bytes) and hands the non-zero chunks to the sink. @opts may be NULL.
 * @data_bytes (may be NULL) receives the bytes of non-zero chunks.
 * 0 or -errno (the source's, the sink's, or -ENOMEM). */
int img_scan(const struct img_src *src, const struct img_scan_opts *opts,
	     char id[IMG_HEX_LEN + 1], uint64_t *data_bytes);

/* SHA-256 of the whole file at @path (hex into @hex). A file with holes
 * reads its holes as zeros, which is what they are; holes are hashed
 * without being read. 0 or -errno. */
int img_file_sha256(const char *path, char hex[IMG_HEX_LEN + 1]);

/* Opens the regular file or block device at @path as a raw source whose
 * status comes from SEEK_DATA/SEEK_HOLE. Pair with img_src_raw_close().
 * 0 or -errno. */
int img_src_raw_open(const char *path, struct img_src *src);
void img_src_raw_close(struct img_src *src);

/* The content id built step by step, for a disk whose data arrives in
 * order (an upload): its virtual size first, then its chunks by ascending
 * index; an all-zero chunk is left out, as the definition says. */
struct img_id;
/* 0 and *@out, or -ENOMEM. */
int img_id_begin(uint64_t size, struct img_id **out);
/* Chunk @i: IMG_CHUNK bytes (fewer for the last chunk of the disk). */
void img_id_chunk(struct img_id *h, uint64_t i, const void *buf, size_t len);
/* The id of what was given so far into @id (@h goes on). 0 or -EIO. */
int img_id_peek(const struct img_id *h, char id[IMG_HEX_LEN + 1]);
/* Accepts NULL. */
void img_id_free(struct img_id *h);

/* The content id of a dynamic VHD from its file's bytes in file order (an
 * upload), for files whose blocks follow the BAT in ascending order (as
 * qemu-img, `vhd` and the catalog write them); others are given up on.
 * Never judges the file: the import's checks do. */
struct img_stream_id;
int img_stream_id_new(struct img_stream_id **out);          /* 0 or -ENOMEM */
/* The next @len bytes of the file. */
void img_stream_id_feed(struct img_stream_id *s, const void *buf, size_t len);
/* 0 and the id once every block is in; -EAGAIN before; -ENOTSUP when the
 * file is not one it can follow. */
int img_stream_id_get(const struct img_stream_id *s, char id[IMG_HEX_LEN + 1]);
void img_stream_id_free(struct img_stream_id *s);          /* accepts NULL */

#endif
