/* vhd/vhd.h: the VHD format library: fixed, dynamic and differencing images.
 *
 * A library other programs can link on their own: it includes nothing of
 * vhdvisor, never prints and never exits. Every action returns 0 or -errno;
 * a human-readable reason for the last failure in the calling thread is in
 * vhd_last_error(). Warnings (a damaged footer copy, a parent timestamp
 * mismatch) go to the log callback.
 *
 * Threads: one struct vhd may be used by several threads at once for
 * vhd_pread/vhd_block_status; writes that allocate blocks are serialized
 * inside the library, writes to different allocated blocks run in parallel.
 *
 * Error codes: -EINVAL a malformed image or argument (bad cookie, checksum,
 * type, field, size, range), -ENOTSUP an unsupported format version, -EIO a
 * BAT entry pointing past the end of the file (reported when that block is
 * read or written, not at open, so `check` can open such images), -EBUSY
 * a lock conflict, -ENOENT a missing file or parent, -ELOOP a parent loop
 * or a chain deeper than max_depth, -EROFS a write to a read-only image,
 * -EFBIG a dynamic/differencing size over 2040 GiB, -EEXIST create over an
 * existing file; others are the errno of a failed system call.
 *
 * Images we create: creator application "win " and creator OS "Wi2k" (as
 * Hyper-V writes them), CHS geometry by the specification's algorithm and
 * current_size = original_size = the exact requested size. The creator is
 * Hyper-V's because QEMU trusts current_size only for creators it knows and
 * would size any other (e.g. "vhdv") by the CHS product, silently cutting
 * off the tail of most disks. Reading, the size is current_size except for
 * creators known to mean the CHS product ('vpc ', 'qemu'), as QEMU does.
 */
#ifndef VHD_VHD_H
#define VHD_VHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define VHD_SECTOR_SIZE        512u
#define VHD_DEFAULT_BLOCK_SIZE (2u << 20)
#define VHD_MIN_BLOCK_SIZE     (512u << 10)  /* smallest we create; any power of two reads */
#define VHD_MAX_BLOCK_SIZE     (256u << 20)
#define VHD_MAX_DYNAMIC_SIZE   (0xFF000000ull * 512)  /* 2040 GiB */
#define VHD_DEFAULT_MAX_DEPTH  64

enum vhd_type {
	VHD_TYPE_NONE = 0,
	VHD_TYPE_FIXED = 2,
	VHD_TYPE_DYNAMIC = 3,
	VHD_TYPE_DIFF = 4,
};

/* ---- logging and errors ---- */

enum vhd_log_level { VHD_LOG_ERR, VHD_LOG_WARN, VHD_LOG_INFO, VHD_LOG_DBG };

/* Installs the process-wide log callback (NULL: messages are dropped).
 * Call before opening images; @fn may be called from any thread. */
void vhd_set_log(void (*fn)(enum vhd_log_level level, const char *msg, void *opaque),
		 void *opaque);

/* The reason for the last failed call in this thread ("footer checksum
 * mismatch at offset 1048064", "parent 'base.vhd' not found"), or "" . */
const char *vhd_last_error(void);

/* Locks @fd, an image file (VHD or raw) the caller opened, the way
 * vhd_open() locks with @flags (VHD_OPEN_RDWR: writer; VHD_OPEN_FORCE_SHARE:
 * force-share reader; else reader): OFD locks in QEMU's byte layout
 * (docs/locking.md), so QEMU and we see each other's use. 0; -EBUSY when
 * another process's use conflicts ("image is in use by another process");
 * -errno. The message is in vhd_last_error(). */
int vhd_lock_file(int fd, unsigned flags, const char *path);

/* ---- backings: what a differencing disk reads through ---- */

struct vhd;
struct vhd_backing;

struct vhd_backing_ops {
	/* Reads @len bytes at byte @off of the backing's virtual disk. Ranges
	 * past the end read as zeros. Any thread, concurrently. 0 or -errno. */
	int (*pread)(struct vhd_backing *b, void *buf, size_t len, uint64_t off);
	/* Status of the run starting at @off (at most @len bytes): sets *pnum
	 * (> 0) to its length and *depth to the layer that holds it, counted
	 * from this backing's top layer as 1; 0 means allocated nowhere (reads
	 * as zeros). Returns 0 or -errno. */
	int (*block_status)(struct vhd_backing *b, uint64_t off, uint64_t len,
			    uint64_t *pnum, int *depth);
	/* Drops the reference the child held. */
	void (*release)(struct vhd_backing *b);
};

struct vhd_backing {
	const struct vhd_backing_ops *ops;
	void *priv;
	uint64_t size;          /* virtual size in bytes */
	const char *path;       /* the file it was opened from */
	struct vhd *vhd;        /* the VHD when the backing is one; NULL for raw */
	unsigned depth;         /* layers in this backing: 1 for raw */
};

/* One layer already on the chain being opened, for loop detection. */
struct vhd_chain_link {
	dev_t dev;
	ino_t ino;
	const struct vhd_chain_link *child;
};

/* Locks: OFD locks in QEMU's layout (docs/locking.md). A writer conflicts
 * with writers and readers (-EBUSY, "image is in use by another process"),
 * ours or QEMU's; readers coexist. Parents are always opened read-only
 * with a reader's lock (NOLOCK is not passed down; FORCE_SHARE is). */
#define VHD_OPEN_RDWR       0x01u  /* open for writing (writer's lock) */
#define VHD_OPEN_NOLOCK     0x02u  /* take no OFD lock (caller holds one) */
#define VHD_OPEN_NO_PARENT  0x04u  /* open this layer alone (info/check of a broken chain);
				       * unallocated data then reads as zeros, depth 0 */
#define VHD_OPEN_NOWARN_TS  0x08u  /* do not warn on a parent timestamp mismatch */
#define VHD_OPEN_FORCE_SHARE 0x10u /* read even while another process writes (qemu-img
				       * -U): refuse nobody; not with RDWR (-EINVAL) */

struct vhd_open_opts {
	unsigned flags;               /* VHD_OPEN_* */
	unsigned max_depth;           /* layers allowed including this one; 0 = default */
	const struct vhd_chain_link *chain; /* layers above this one (NULL for the top) */
	/* Optional: opens the parent at @path (resolved, exists) read-only.
	 * @parent_opts is what the library would use itself (flags, reduced
	 * depth, chain with this layer added, the same callback): pass it to
	 * vhd_open()/vhd_backing_open() when the parent is a VHD. Returns 0 and
	 * a backing the child then owns one reference to, or -errno. */
	int (*open_parent)(void *opaque, const char *path,
			   const struct vhd_open_opts *parent_opts,
			   struct vhd_backing **out);
	void *opaque;
};

/* Opens the file at @path as a backing: a VHD (with its chain) when it has
 * a VHD footer, otherwise a raw image. @opts may be NULL. */
int vhd_backing_open(const char *path, const struct vhd_open_opts *opts,
		     struct vhd_backing **out);
/* Wraps an open VHD as a backing; the backing owns @v from then on. */
int vhd_backing_from_vhd(struct vhd *v, struct vhd_backing **out);

/* ---- open, close, I/O ---- */

/* Opens a VHD with its whole chain. @opts may be NULL (read-only, default
 * depth, the library opens parents). The parent is looked up relative to
 * the child's directory (W2ru), then absolute (W2ku), then MacX, then by the
 * Parent Unicode Name beside the child; the first existing file whose UUID
 * matches is used (a raw file always matches; when only wrong UUIDs are
 * found: -EINVAL "parent UUID mismatch"); a timestamp mismatch is only a
 * warning. A damaged trailing
 * footer with a good copy at offset 0 opens read-only (info.read_only,
 * info.footer_damaged) even when RDWR was asked, except the tail a power
 * loss leaves after an unflushed block allocation (no footer cookie at the
 * end, the file longer than the data the BAT references): that opens
 * normally, and a writable open truncates the unpublished tail and writes
 * the footer (made durable) before returning. */
int vhd_open(const char *path, const struct vhd_open_opts *opts, struct vhd **out);
/* Flushes (for writable images) and closes; accepts NULL. */
void vhd_close(struct vhd *v);

/* Byte-granular I/O within the virtual size (any offset and length; a
 * request past the end is -EINVAL). Reads of unallocated ranges return the
 * parent's data (differencing) or zeros. */
int vhd_pread(struct vhd *v, void *buf, size_t len, uint64_t off);
int vhd_pwrite(struct vhd *v, const void *buf, size_t len, uint64_t off);
int vhd_preadv(struct vhd *v, const struct iovec *iov, int cnt, uint64_t off);
int vhd_pwritev(struct vhd *v, const struct iovec *iov, int cnt, uint64_t off);
/* Makes every completed write durable (data, bitmaps, BAT, footer):
 * fdatasync, then (dynamic/differencing) the BAT entries of blocks
 * allocated since the last flush are written and fdatasynced. Until then
 * such blocks are readable through this handle only; after a crash they
 * read as before the write (see vhd/write.c). Any thread; allocations wait
 * for it. */
int vhd_flush(struct vhd *v);

#define VHD_ZERO_MAY_UNMAP 0x1u  /* host space may be released (hole punched) */
/* Makes [off, off+len) read as zeros. Unallocated blocks of a dynamic disk
 * stay unallocated; in a differencing disk zeros are written over parent
 * data. Sector-aligned ranges of allocated blocks (and of fixed disks) are
 * zeroed with fallocate, punching holes with VHD_ZERO_MAY_UNMAP; blocks
 * stay allocated (the file never grows from a zeroing of them). */
int vhd_write_zeroes(struct vhd *v, uint64_t off, uint64_t len, unsigned flags);

/* Status of the run at @off (at most @len): *pnum its length (> 0), *depth
 * the layer holding it (1 = this image, 2 = its parent, ...; 0 = nowhere,
 * reads as zeros). Fixed disks report everything as layer 1. 0 or -errno. */
int vhd_block_status(struct vhd *v, uint64_t off, uint64_t len,
		     uint64_t *pnum, int *depth);

/* ---- metadata ---- */

struct vhd_info {
	enum vhd_type type;
	uint64_t size;            /* virtual size the library presents, bytes */
	uint64_t current_size;    /* footer fields as stored */
	uint64_t original_size;
	uint64_t file_size;
	uint32_t block_size;      /* 0 for fixed */
	uint32_t max_bat_entries;
	uint32_t allocated_blocks;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors_per_track;
	char creator_app[5];      /* NUL-terminated, may contain spaces/NULs replaced by ' ' */
	uint32_t creator_version;
	char creator_os[5];
	uint8_t uuid[16];
	uint32_t timestamp;       /* seconds since 2000-01-01 UTC */
	bool saved_state;
	bool read_only;           /* opened read-only (asked, or forced by damage) */
	bool footer_damaged;      /* trailing footer bad, copy at 0 used */
	bool footer_copy_damaged; /* copy at offset 0 bad, trailing footer used */
	unsigned depth;           /* layers in the chain, this one included */
	/* differencing only: */
	uint8_t parent_uuid[16];
	uint32_t parent_timestamp;
	char parent_name[512];    /* Parent Unicode Name, as UTF-8 */
	char parent_path[4096];   /* the path the parent was opened from, or "" */
	bool parent_uuid_match;
};

int vhd_get_info(struct vhd *v, struct vhd_info *out);
/* The parent of a differencing disk, or NULL. Owned by @v. */
struct vhd_backing *vhd_parent(struct vhd *v);
const char *vhd_path(struct vhd *v);
uint64_t vhd_size(struct vhd *v);

/* ---- create ---- */

struct vhd_create_opts {
	enum vhd_type type;      /* FIXED, DYNAMIC (default when NONE) or DIFF */
	uint64_t size;           /* bytes, exact; ignored for DIFF (the parent's) */
	uint32_t block_size;     /* dynamic/diff; 0 = VHD_DEFAULT_BLOCK_SIZE */
	bool prealloc;           /* fixed: allocate the data space (fallocate) */
	const char *parent;      /* DIFF: the parent's path */
	const struct vhd_open_opts *parent_opts; /* how to open the parent; may be NULL */
};

/* Creates a new image at @path; refuses (-EEXIST) to overwrite. The image
 * is built under a temporary name and renamed into place when complete, so
 * a failure leaves nothing behind. Sizes must be positive multiples of 512
 * (-EINVAL); block sizes powers of two from 512 KiB to 256 MiB. A
 * differencing child records the parent's UUID, its mtime as the parent
 * timestamp, its file name (Parent Unicode Name) and two locators: W2ru
 * (".\base.vhd", relative to the child's directory) and W2ku (the absolute
 * path), both UTF-16LE with backslash separators. The parent is opened read-only
 * (shared lock) with @parent_opts, or defaults when NULL; a parent chain
 * already as deep as its max_depth (default 64) is refused (-ELOOP). */
int vhd_create(const char *path, const struct vhd_create_opts *opts);

/* Helpers exposed for tools and tests. */
const char *vhd_type_name(enum vhd_type t);   /* "fixed", "dynamic", "differencing" */
void vhd_uuid_format(const uint8_t uuid[16], char out[37]);

#endif
