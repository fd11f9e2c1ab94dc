/* vhd/vhd_ops.h: whole-image operations of the VHD library: check and
 * repair, allocation maps, commit and flatten of chains, resize, compact and
 * convert.
 *
 * Same rules as vhd/vhd.h: 0 or -errno, the reason in vhd_last_error(), no
 * printing. Long operations take a progress callback, called from the
 * calling thread with monotonically growing @done (same unit as @total,
 * bytes unless a function says otherwise); it may be NULL.
 */
#ifndef VHD_VHD_OPS_H
#define VHD_VHD_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "vhd/vhd.h"

typedef void (*vhd_progress_fn)(void *opaque, uint64_t done, uint64_t total);

/* ---- check and repair (check.c) ---- */

/* One problem found by vhd_check(). */
struct vhd_check_problem {
	const char *name;     /* stable identifier: "footer-checksum", "bat-past-eof", ... */
	uint64_t offset;      /* byte offset in the file where the problem is */
	char detail[256];     /* one line for humans */
	bool warning;         /* worth telling, but the image is usable as it is */
	bool repaired;        /* VHD_CHECK_REPAIR fixed it on disk */
};

struct vhd_check_result {
	unsigned errors;      /* problems that remain (not warnings, not repaired) */
	unsigned warnings;
	unsigned repaired;
};

#define VHD_CHECK_REPAIR    0x1u  /* fix what needs no guessing */
#define VHD_CHECK_NO_PARENT 0x2u  /* do not open the parent chain */
#define VHD_CHECK_FORCE_SHARE 0x4u /* check an image another process writes (as
				     * VHD_OPEN_FORCE_SHARE); not with REPAIR (-EINVAL) */

/* Checks the structure of the VHD at @path from its raw bytes (it need not
 * open with vhd_open): footer and its copy, dynamic header, BAT, blocks,
 * bitmaps, locators and the parent link, as vhd-util check does. Calls
 * @report (may be NULL) once per problem, in file order as far as possible.
 * With VHD_CHECK_REPAIR it rewrites, and flushes, a footer from its valid
 * copy, checksums of otherwise valid structures, BAT entries pointing past
 * the end of the file (made unallocated) and a missing trailing footer.
 * Returns 0 when the check ran (*res tells the outcome) or -errno when the
 * file cannot be read or is not a VHD at all. */
int vhd_check(const char *path, unsigned flags,
	      void (*report)(void *opaque, const struct vhd_check_problem *p),
	      void *opaque, struct vhd_check_result *res);

/* ---- allocation map (map.c) ---- */

/* A run of the virtual disk held by one layer of the chain. */
struct vhd_extent {
	uint64_t start;       /* bytes */
	uint64_t length;      /* bytes, > 0 */
	int depth;            /* 1 = @v itself, 2 = its parent, ...; 0 = nowhere (zeros) */
};

/* Calls @fn for consecutive maximal runs covering [@off, @off + @len) of
 * the virtual disk (clamped to its size), merging neighbours with the same
 * depth. A non-zero return from @fn stops the walk and is returned. */
int vhd_map(struct vhd *v, uint64_t off, uint64_t len,
	    int (*fn)(void *opaque, const struct vhd_extent *e), void *opaque);

/* The path of layer @depth (1 = @v) of the chain of @v, or NULL when the
 * chain is shorter. */
const char *vhd_layer_path(struct vhd *v, int depth);

/* ---- commit and flatten (commit.c) ---- */

#define VHD_COMMIT_DROP 0x1u  /* remove the child afterwards */

/* Merges the differencing disk @child into its immediate parent: every
 * sector the child holds is written into the parent, the parent flushed,
 * then the child emptied (all blocks unallocated, file shortened, its
 * record of the parent's timestamp refreshed) or, with VHD_COMMIT_DROP,
 * deleted. At every moment the chain reads the same data; an interrupted
 * commit is finished by running it again. Both files are locked
 * exclusively; -EBUSY when another process uses either. Progress counts
 * child blocks. */
int vhd_commit(const char *child, unsigned flags, vhd_progress_fn progress, void *opaque);

/* Pulls the data of every parent of the differencing disk @path into it and
 * drops the parent link: it becomes a dynamic disk reading the same data.
 * Parent data is copied first (the chain reads the same throughout) and
 * flushed; then the footer (type dynamic) is written and flushed, which is
 * the switch-over, then the footer copy and the header without parent
 * fields. An interrupted flatten is finished by running it again. Progress
 * counts blocks. */
int vhd_flatten(const char *path, vhd_progress_fn progress, void *opaque);

/* ---- resize (resize.c) ---- */

#define VHD_RESIZE_FORCE 0x1u  /* shrink even if it discards data */

/* Sets the virtual size of the image at @path to @size bytes (a multiple of
 * 512; at most 2040 GiB for dynamic and differencing disks). Growing a
 * dynamic or differencing disk extends its BAT in place when the room after
 * it is free, or else writes a larger BAT past the end of the data and
 * points the header at it; growing a fixed disk extends its data. Shrinking
 * refuses with -ENOTEMPTY when the range cut off holds non-zero data of
 * this layer, unless VHD_RESIZE_FORCE; blocks past the new end are then
 * unallocated and the cut part of the last block cleared. Each metadata
 * step is flushed before the next, so a crash leaves the old or the new
 * size, both readable. The footer's creator is set to ours when the old one
 * made readers size the disk by its geometry. */
int vhd_resize(const char *path, uint64_t size, unsigned flags);

/* ---- compact (compact.c) ---- */

struct vhd_compact_stats {
	uint32_t dropped;         /* blocks unallocated (zeros, or same as the parent) */
	uint32_t moved;           /* blocks moved down to close gaps */
	uint64_t old_file_size;
	uint64_t new_file_size;
};

/* Shrinks the dynamic or differencing image at @path without changing what
 * it reads: unallocates blocks that hold only zeros (dynamic) or only what
 * the parent reads anyway (differencing), moves blocks from the end of the
 * file into gaps (copy, flush, then repoint the BAT entry, flush) and cuts
 * the file after the last block. Crash-safe at every step. @stats may be
 * NULL. Progress counts blocks examined. */
int vhd_compact(const char *path, vhd_progress_fn progress, void *opaque,
		struct vhd_compact_stats *stats);

/* ---- convert (convert.c) ---- */

enum vhd_convert_format {
	VHD_CONVERT_DYNAMIC = 0,  /* a dynamic VHD (sparse) */
	VHD_CONVERT_FIXED,        /* a fixed VHD */
	VHD_CONVERT_RAW,          /* a raw image (sparse file) */
};

struct vhd_convert_opts {
	enum vhd_convert_format format;
	uint32_t block_size;      /* dynamic target; 0 = VHD_DEFAULT_BLOCK_SIZE */
	bool azure;               /* fixed target whose size is rounded up to a MiB */
	bool force_share;         /* read a VHD @src even while another process
				   * writes it (VHD_OPEN_FORCE_SHARE, -U) */
	bool raw_parent;          /* the source chain may read a raw parent
				   * (VHD_OPEN_RAW_PARENT) */
	vhd_progress_fn progress; /* bytes of the virtual disk done */
	void *opaque;
};

/* Copies the virtual disk of @src into a new image @dst. @src is a VHD
 * (read through its whole chain: a chain becomes one flat image) or, when
 * it has no VHD footer, a raw image. Ranges the source does not hold (its
 * block status, or holes found with SEEK_DATA/SEEK_HOLE) are not read, and
 * all-zero ranges allocate nothing in a dynamic or raw target. A VHD
 * target's size is the source's rounded up to a sector (to a MiB with
 * @azure). The target is written under a temporary name beside @dst,
 * flushed and renamed into place only when complete; -EEXIST when @dst
 * exists. */
int vhd_convert(const char *src, const char *dst, const struct vhd_convert_opts *o);

/* ---- parent link (restamp.c) ---- */

/* Checks that the differencing disk @child is a child of the VHD @parent:
 * it records @parent's UUID, and its parent lookup (see vhd_open()) finds
 * @parent first (the same file: device and inode). Both are only read;
 * no locks are taken. 0, -EINVAL (not differencing, UUID mismatch, the
 * locators lead elsewhere), -ENOENT (no candidate exists) or -errno. */
int vhd_parent_verify(const char *child, const char *parent);

/* After vhd_parent_verify()'s checks, records @parent's current
 * modification time as @child's parent timestamp, so that opening @child
 * gives no timestamp-mismatch warning. For a parent changed on purpose
 * (the old top of a live chain that just got a new child). @child is
 * opened read-write (exclusive lock: -EBUSY when in use); the header is
 * rewritten (only its first sector when nothing else differs) and
 * fsynced. Nothing is written when the timestamp already matches. */
int vhd_set_parent_timestamp(const char *child, const char *parent);

/* Points the differencing disk @child at the VHD @parent: records its
 * UUID, its modification time, its file name, and locators leading to it
 * (relative, and absolute where the child's reserved locator space holds
 * it; every other locator is cleared). The data is not touched: the caller
 * vouches that @parent reads what the child was made on (e.g. the same
 * content id). Both must have the same virtual size. @child is locked
 * exclusively; the header is rewritten and fsynced. 0, -EINVAL (not
 * differencing, sizes differ), -ENOSPC (no room for a relative locator),
 * -EBUSY or -errno. */
int vhd_set_parent(const char *child, const char *parent);

/* ---- layout from the first bytes (stream.c) ---- */

/* A dynamic or differencing VHD as its footer copy (offset 0) and dynamic
 * header tell it, for a reader that gets the file in order and cannot
 * seek (an upload): what vhd_open() would take from the same fields. */
struct vhd_stream_layout {
	enum vhd_type type;
	uint64_t size;              /* the virtual size vhd_open() presents */
	uint64_t header_offset;     /* the dynamic header (1024 bytes) */
	uint64_t table_offset;      /* the BAT: bat_entries big-endian sectors */
	uint32_t bat_entries;
	uint32_t block_size;
	uint32_t bitmap_size;       /* the sector bitmap before each block's data */
};

/* From the 512 bytes at offset 0: type, size, header_offset. 0, -EINVAL
 * (not a valid footer), -ENOTSUP (a fixed disk: no copy at 0). */
int vhd_stream_footer(const uint8_t foot[512], struct vhd_stream_layout *l);
/* Then from the 1024 bytes at l->header_offset: the rest. 0 or -errno
 * (-ENOTSUP when the BAT comes before the header's end). */
int vhd_stream_header(const uint8_t hdr[1024], struct vhd_stream_layout *l);

#endif
