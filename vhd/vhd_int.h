/* vhd/vhd_int.h: declarations shared by the files of the VHD library and by
 * the operations built on it (check, commit, resize, compact, convert, map).
 * Not installed; programs outside vhd/ use vhd/vhd.h only.
 *
 * On-disk layout reminders (all integers big-endian):
 *   fixed:   [data: size bytes][footer 512]
 *   dynamic/differencing:
 *            [footer copy 512][dynamic header 1024][BAT, padded to 512]
 *            [locator data][blocks: bitmap + data, any order][footer 512]
 * A BAT entry is the sector offset of a block's sector bitmap; the block's
 * data follows the bitmap. VHD_BAT_UNUSED = not allocated.
 *
 * Errors: functions here that return int return 0 or -errno and set the
 * thread's vhd_last_error() message (via vhd_err()) on failure.
 */
#ifndef VHD_VHD_INT_H
#define VHD_VHD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "vhd/vhd.h"

#define VHD_FOOTER_SIZE   512u
#define VHD_HEADER_SIZE   1024u
#define VHD_HEADER_OFFSET 512u     /* where we put the dynamic header */
#define VHD_BAT_UNUSED    0xFFFFFFFFu
#define VHD_NUM_LOCATORS  8
#define VHD_VERSION       0x00010000u
#define VHD_FEATURES      0x00000002u  /* the "reserved" bit, always set */
#define VHD_FIXED_OFFSET  0xFFFFFFFFFFFFFFFFull  /* data_offset of a fixed disk */
#define VHD_TIME_EPOCH    946684800    /* 2000-01-01 00:00:00 UTC, Unix time */
#define VHD_PARENT_NAME_SIZE 512u      /* bytes of UTF-16BE in the header */
/* The creator application we write. QEMU trusts current_size only for the
 * creators it knows ('win ', 'qem2', 'd2v ', 'tap\0', 'CTXS') and sizes all
 * others by the CHS product, which silently cuts the tail off most sizes.
 * We write what Hyper-V writes, since our images follow its conventions
 * (exact current_size, geometry by the spec algorithm), so that QEMU,
 * Hyper-V and Azure all see the exact size. */
#define VHD_CREATOR_APP   "win "
#define VHD_CREATOR_OS    "Wi2k"       /* what Hyper-V and most tools write */
#define VHD_CREATOR_VERSION 0x00010000u
#define VHD_MAX_CHS_SECTORS (65535ull * 16 * 255)
/* BAT entries we accept (a 64 MiB table: 32 TiB of 2 MiB blocks, far past
 * the format's 2040 GiB), so that a damaged header cannot make us allocate
 * and read gigabytes. */
/* The largest fixed disk: its data and footer must fit in an off_t. */
#define VHD_MAX_FIXED_SIZE (((uint64_t)INT64_MAX - VHD_FOOTER_SIZE) & ~(uint64_t)511)
#define VHD_MAX_BAT_ENTRIES (16u << 20)

/* Parent locator platform codes. */
#define VHD_PLAT_NONE 0x00000000u
#define VHD_PLAT_W2RU 0x57327275u  /* "W2ru": relative Windows path, UTF-16LE */
#define VHD_PLAT_W2KU 0x57326B75u  /* "W2ku": absolute Windows path, UTF-16LE */
#define VHD_PLAT_MACX 0x4D616358u  /* "MacX": file:// URL, UTF-8 */
#define VHD_PLAT_WI2R 0x57693272u  /* "Wi2r": deprecated, not read */
#define VHD_PLAT_WI2K 0x5769326Bu  /* "Wi2k": deprecated, not read */

/* ---- errors and logging (error.c) ---- */

/* Sets this thread's vhd_last_error() text and returns @err (a -errno). */
int vhd_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends a message to the log callback installed by vhd_set_log(), if any. */
void vhd_log(enum vhd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- footer and dynamic header (footer.c) ---- */

/* The 512-byte footer, decoded. */
struct vhd_footer {
	uint8_t cookie[8];          /* "conectix" */
	uint32_t features;
	uint32_t version;
	uint64_t data_offset;       /* dynamic header offset; all ones for fixed */
	uint32_t timestamp;         /* seconds since 2000-01-01 UTC */
	uint8_t creator_app[4];
	uint32_t creator_version;
	uint8_t creator_os[4];
	uint64_t original_size;
	uint64_t current_size;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors_per_track;
	uint32_t type;              /* enum vhd_type */
	uint32_t checksum;          /* as stored (decode) */
	uint8_t uuid[16];
	uint8_t saved_state;
};

/* One parent locator entry of the dynamic header. */
struct vhd_locator {
	uint32_t code;              /* VHD_PLAT_* */
	uint32_t data_space;        /* as stored: bytes, or sectors when < 512 */
	uint32_t data_len;          /* bytes of path data */
	uint64_t data_offset;       /* byte offset of the data in the file */
};

/* The 1024-byte dynamic disk header, decoded. */
struct vhd_header {
	uint8_t cookie[8];          /* "cxsparse" */
	uint64_t data_offset;       /* unused, all ones */
	uint64_t table_offset;      /* byte offset of the BAT */
	uint32_t version;
	uint32_t max_bat_entries;
	uint32_t block_size;
	uint32_t checksum;          /* as stored (decode) */
	uint8_t parent_uuid[16];
	uint32_t parent_timestamp;
	uint8_t parent_name[VHD_PARENT_NAME_SIZE]; /* UTF-16BE, NUL padded */
	struct vhd_locator loc[VHD_NUM_LOCATORS];
};

/* One's complement of the byte sum of @buf[0..len) with the 4 bytes at
 * @csum_off counted as zero. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t csum_off);

/* Byte <-> struct conversions. Decode copies fields without judging them;
 * encode writes every field and the checksum it computes (the checksum
 * member is updated to match). */
void vhd_footer_decode(const uint8_t buf[VHD_FOOTER_SIZE], struct vhd_footer *f);
void vhd_footer_encode(struct vhd_footer *f, uint8_t buf[VHD_FOOTER_SIZE]);
void vhd_header_decode(const uint8_t buf[VHD_HEADER_SIZE], struct vhd_header *h);
void vhd_header_encode(struct vhd_header *h, uint8_t buf[VHD_HEADER_SIZE]);

/* Decodes and validates a footer read from file offset @off (used only in
 * messages): cookie, checksum, version, disk type, data offset, size.
 * Returns 0, -EINVAL (bad cookie/checksum/type/field) or -ENOTSUP
 * (unsupported version), with a message naming the problem and @off. */
int vhd_footer_parse(const uint8_t buf[VHD_FOOTER_SIZE], uint64_t off,
		     struct vhd_footer *f);
/* Same for the dynamic header at @off: cookie, checksum, version, block size
 * (power of two, >= 512), BAT entry count vs @size (the virtual size), BAT
 * and header inside @file_size, table-size overflow. */
int vhd_header_parse(const uint8_t buf[VHD_HEADER_SIZE], uint64_t off,
		     uint64_t size, uint64_t file_size, struct vhd_header *h);

/* Bytes reserved for a locator's data: data_space in bytes, or times 512
 * when the stored value is below 512 (sectors, as the spec says). */
uint64_t vhd_locator_space(const struct vhd_locator *l);

/* A fresh footer for a new image: every field set, random UUID, timestamp
 * now, geometry from vhd_geometry(), current = original = @size. */
int vhd_footer_init(struct vhd_footer *f, enum vhd_type type, uint64_t size);

/* A fresh dynamic header: cookie, next offset all ones, version, @entries
 * BAT entries of @block_size at @table_offset; no parent, no locators. */
void vhd_header_init(struct vhd_header *h, uint32_t entries, uint32_t block_size,
		     uint64_t table_offset);

/* Seconds since 2000-01-01 UTC for a Unix time (clamped to 32 bits). */
uint32_t vhd_time_from_unix(int64_t t);

/* ---- geometry and size rules (geometry.c) ---- */

/* CHS geometry for @size bytes by the VHD specification's algorithm
 * (size is capped at 65535*16*255 sectors; the product rounds down). */
void vhd_geometry(uint64_t size, uint16_t *cyl, uint8_t *heads, uint8_t *spt);
/* True when the footer's creator is known to size disks by CHS (and the
 * geometry is not the maxed 65535/16/255), as QEMU decides. */
bool vhd_size_uses_chs(const struct vhd_footer *f);
/* The virtual size the footer describes: the CHS product or current_size. */
uint64_t vhd_footer_size(const struct vhd_footer *f);
/* Blocks of @bs bytes (nonzero) that cover @size bytes, for any @size: no
 * (size + bs - 1), which a size near 2^64 wraps to a handful of blocks. */
static inline uint64_t vhd_blocks_for(uint64_t size, uint32_t bs)
{
	return size / bs + (size % bs != 0);
}

/* ---- text, paths and locators (locator.c) ---- */

/* UTF-8 @s to UTF-16 (@be: big-endian, else little-endian) in @out (at most
 * @cap bytes, no terminator). Sets *len to the bytes written. -EINVAL on
 * bad UTF-8, -ENAMETOOLONG when it does not fit. */
int vhd_utf8_to_utf16(const char *s, uint8_t *out, size_t cap, bool be, size_t *len);
/* UTF-16 @in (@len bytes; stops at a NUL unit) to NUL-terminated UTF-8 in
 * @out (@cap bytes). -EINVAL on bad surrogates, -ENAMETOOLONG. */
int vhd_utf16_to_utf8(const uint8_t *in, size_t len, bool be, char *out, size_t cap);

/* The path from directory @from_dir to file @to, both absolute and
 * normalized, as "./a" or "../../b/c" with '/' separators. */
int vhd_relative_path(const char *from_dir, const char *to, char *out, size_t cap);

/* Encodes @path (a POSIX path) as the payload of a locator of @code:
 * W2ru/W2ku: UTF-16LE with '\' separators; MacX: file:// URL (absolute
 * paths only). Sets *len. -EINVAL for an unknown code. */
int vhd_locator_encode(uint32_t code, const char *path, uint8_t *out, size_t cap,
		       size_t *len);
/* Decodes a locator payload to a POSIX path ('\' becomes '/', a "C:" drive
 * prefix is dropped, a MacX URL loses "file://[localhost]" and %XX escapes).
 * -EINVAL for unknown codes or bad text. */
int vhd_locator_decode(uint32_t code, const uint8_t *data, size_t len, char *out,
		       size_t cap);

/* ---- OFD locks (lock.c) ---- */

/* What an open file does with an image, in QEMU's lock terms (lock.c,
 * docs/locking.md). */
enum vhd_lock_mode {
	VHD_LOCK_READ,    /* reads; refuses writers */
	VHD_LOCK_WRITE,   /* reads, writes, resizes; refuses writers and readers */
	VHD_LOCK_SHARED,  /* reads; refuses nobody (force-share, -U) */
};

/* The mode for VHD_OPEN_* @open_flags: RDWR writes, FORCE_SHARE shares. */
enum vhd_lock_mode vhd_lock_mode_of(unsigned open_flags);

/* Sets the OFD locks of @fd to @mode (replacing any it held, so a writer
 * can step down to READ) in QEMU's byte layout, then tests for conflicts
 * with other open files. -EBUSY ("image is in use by another process")
 * on a conflict, with the locks of @fd released. */
int vhd_lock(int fd, enum vhd_lock_mode mode, const char *path);

/* ---- an open image ---- */

#define VHD_BM_STRIPES 64   /* bitmap locks, striped by block number */

struct vhd {
	int fd;
	char *path;
	unsigned flags;              /* VHD_OPEN_* as used (RDWR cleared when forced RO) */
	bool read_only;
	bool footer_damaged;         /* trailing footer bad: copy at 0 in use, RO */
	bool footer_copy_damaged;
	bool parent_uuid_match;
	struct vhd_footer footer;    /* the valid footer in use */
	struct vhd_header header;    /* dynamic/differencing only */
	uint64_t size;               /* virtual size presented (vhd_footer_size) */
	dev_t dev;
	ino_t ino;

	/* dynamic/differencing: */
	uint32_t block_size;
	unsigned block_shift;        /* log2(block_size) */
	uint32_t bitmap_size;        /* bytes, padded to 512 */
	uint32_t bat_entries;        /* header.max_bat_entries */
	uint32_t *bat;               /* native order; use vhd_bat_get/vhd_bat_set */
	uint32_t bad_bat_entries;    /* entries found invalid at open */
	uint8_t *bad_map;            /* bit per entry: invalid at open (-EIO on use) */
	/* BAT entries set in memory but not yet on disk (see write.c): a bit
	 * per 512-byte sector of the table, written by vhd_flush(). Under
	 * alloc_lock. */
	uint8_t *bat_dirty;
	bool bat_dirty_any;
	/* The end of what the on-disk BAT and metadata reference (header,
	 * BAT, locators, every valid block): where the trailing footer belongs
	 * when nothing unpublished follows. Set by vhd_bat_load. */
	uint64_t published_end;
	/* Bytes past published_end found at open when the file ended in an
	 * interrupted allocation (no footer at the end, copy at 0 valid);
	 * 0 otherwise, and after a writable open truncated them. */
	uint64_t unpublished_tail;
	/* Where the next block goes and the trailing footer lives: past every
	 * used region (metadata, locators, valid blocks, old end of data),
	 * sector aligned (blocks are not aligned further). Under alloc_lock. */
	uint64_t data_end;
	uint64_t file_end;           /* current file size (under alloc_lock) */
	pthread_mutex_t alloc_lock;  /* block allocation, footer rewrite */
	pthread_mutex_t rmw_lock;    /* read-modify-write of partial sectors */
	/* differencing: cached sector bitmaps (NULL = not loaded; bm_full,
	 * shared, when every sector is set, so fully written blocks cost no
	 * copy); each block's cache entry and on-disk bitmap are guarded by
	 * bm_lock[block % VHD_BM_STRIPES]. */
	uint8_t **bitmaps;
	uint8_t *bm_full;
	pthread_mutex_t bm_lock[VHD_BM_STRIPES];
	/* differencing: a bit per block whose cached bitmap has bits set since
	 * the last flush and not yet written (vhd_flush writes them once the
	 * data they cover is durable). Bits change atomically (a byte spans
	 * stripes) under the block's bm_lock; bm_dirty_any is atomic. */
	uint8_t *bm_dirty;
	bool bm_dirty_any;

	struct vhd_backing *parent;  /* differencing, unless VHD_OPEN_NO_PARENT */
	char *parent_path;
	unsigned depth;              /* layers including this one */
	bool dirty;                  /* written since the last flush */
};

/* ---- BAT and blocks (bat.c) ---- */

/* Reads the BAT of @v (header.table_offset, bat_entries) into v->bat, marks
 * entries pointing past the end of the file or into metadata (bad_map,
 * bad_bat_entries, one warning) and computes v->data_end and v->file_end.
 * Called by open, after the footer and header are decoded. */
int vhd_bat_load(struct vhd *v, uint64_t file_size);
/* The entry for block @blk (sector offset or VHD_BAT_UNUSED); any thread. */
uint32_t vhd_bat_get(const struct vhd *v, uint32_t blk);
/* Writes entry @blk = @sector to the file (the 4 bytes of that entry) and
 * then publishes it in memory (clearing any "past the end" mark). Caller
 * holds alloc_lock. */
int vhd_bat_set(struct vhd *v, uint32_t blk, uint32_t sector);
/* Sets entry @blk = @sector in memory only (this process reads the block
 * at once) and marks its BAT sector for vhd_bat_write_dirty(). Caller holds
 * alloc_lock and has written the block's bitmap and data. */
void vhd_bat_stage(struct vhd *v, uint32_t blk, uint32_t sector);
/* Writes the BAT sectors holding staged entries and clears the marks. The
 * caller has made the blocks they point at durable first. Caller holds
 * alloc_lock (or has the image to itself). */
int vhd_bat_write_dirty(struct vhd *v);
/* Byte offset of block @blk's sector bitmap. BAT entries are validated
 * lazily: an entry found at open pointing past the end of the file or into
 * the footer copy, dynamic header or BAT (see bad_map) gives -EIO "BAT entry
 * N (sector S) points past the end of the file or into metadata", so that
 * such an image still opens (for check/repair) and only I/O touching the
 * bad block fails. Caller passes an entry from vhd_bat_get, not UNUSED. */
int vhd_block_offset(struct vhd *v, uint32_t blk, uint32_t entry, uint64_t *off);
/* Writes the trailing footer (v->footer) at byte @off. */
int vhd_footer_write(struct vhd *v, uint64_t off);

/* ---- I/O internals (io.c, write.c) ---- */

/* Reads from this layer only: @len bytes at @off within the virtual size,
 * falling through to the parent (or zeros) where this layer holds nothing. */
int vhd_read_range(struct vhd *v, uint8_t *buf, size_t len, uint64_t off);
/* Copies the bitmap bytes holding the bits of sectors [@s0, @s1] of
 * allocated block @blk (bitmap at file offset @bm_off) to @out: byte s0/8
 * lands in out[0], so sector s is bit s - (s0 & ~7) of @out. Loads and
 * caches the bitmap. Differencing disks only. */
int vhd_bitmap_read(struct vhd *v, uint32_t blk, uint64_t bm_off, uint32_t s0, uint32_t s1,
		    uint8_t *out);

/* The cached sector bitmap of allocated differencing block @blk (bitmap at
 * file offset @bm_off), loaded on first use. Caller holds the block's
 * bm_lock and must not write to it when it is v->bm_full. */
int vhd_bitmap_cached(struct vhd *v, uint32_t blk, uint64_t bm_off, uint8_t **out);
/* Makes @bm (malloc'd, bitmap_size bytes; may be the current entry) the
 * cached bitmap of @blk, or v->bm_full instead (freeing @bm) when every
 * sector is set; frees the entry it replaces. Caller holds the block's
 * bm_lock. */
void vhd_bitmap_install(struct vhd *v, uint32_t blk, uint8_t *bm);

/* Total length of an I/O vector (UINT64_MAX on overflow). */
uint64_t vhd_iov_len(const struct iovec *iov, int cnt);

/* Bit @i (sector i of a block) of a sector bitmap: MSB of byte 0 first. */
static inline bool vhd_bit_test(const uint8_t *bm, uint32_t i)
{
	return bm[i >> 3] & (0x80u >> (i & 7));
}

static inline void vhd_bit_set(uint8_t *bm, uint32_t i)
{
	bm[i >> 3] |= (uint8_t)(0x80u >> (i & 7));
}

/* ---- chains (open.c, backing.c) ---- */

/* Opens the parent of differencing disk @v as set up by vhd_open. */
int vhd_parent_open(struct vhd *v, const struct vhd_open_opts *opts);
/* Finds the parent's file: W2ru relative to the child's directory, W2ku,
 * MacX, then the Parent Unicode Name beside the child. Writes the path to
 * @out. -ENOENT with "parent 'NAME' not found (tried ...)". */
int vhd_parent_find(struct vhd *v, char *out, size_t cap);

/* Big-endian helpers. */
static inline uint16_t vhd_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vhd_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t vhd_get_be64(const uint8_t *p)
{
	return (uint64_t)vhd_get_be32(p) << 32 | vhd_get_be32(p + 4);
}

static inline void vhd_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void vhd_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void vhd_put_be64(uint8_t *p, uint64_t v)
{
	vhd_put_be32(p, (uint32_t)(v >> 32));
	vhd_put_be32(p + 4, (uint32_t)v);
}

/* Whole-buffer pread/pwrite retrying short transfers and EINTR. A read
 * past the end of the file is -EIO. 0 or -errno (message set). */
int vhd_pread_full(int fd, void *buf, size_t len, uint64_t off);
int vhd_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* The same for a vector (@write: pwritev, else preadv); @iov is not changed. */
int vhd_prwv_full(int fd, const struct iovec *iov, int cnt, uint64_t off, bool write);

#endif
