/* vhd/ops_int.h: helpers shared by the whole-image operations (commit,
 * flatten, resize, compact) that rewrite metadata of an open image. All of
 * them work on a dynamic or differencing struct vhd opened read-write, with
 * no I/O running on it concurrently. 0 or -errno (message set). */
#ifndef VHD_OPS_INT_H
#define VHD_OPS_INT_H

#include <stdint.h>

#include "vhd/vhd_int.h"

/* End of the metadata of @v (header, BAT, locator data), sector aligned:
 * where the first block of a compact file starts. */
uint64_t ops_meta_end(const struct vhd *v);

/* Bytes one block occupies in the file: bitmap plus data. */
uint64_t ops_block_bytes(const struct vhd *v);

/* Writes the whole in-memory BAT of @v (v->bat) to the table on disk, the
 * padding up to the next sector as unused entries (after a vhd_flush() when
 * writes through @v left BAT entries or bitmaps to write). */
int ops_bat_write_all(struct vhd *v);

/* Writes footer and header of @v to disk in a crash-safe order: trailing
 * footer at v->data_end (fsynced: the commit point), then the copy at 0 and
 * the header, fsynced again. Encodes from v->footer and v->header. */
int ops_meta_commit(struct vhd *v);

/* Makes the file end at @end: writes the trailing footer there, truncates
 * after it and fsyncs. @end must lie past every used region. */
int ops_truncate(struct vhd *v, uint64_t end);

/* Drops the cached sector bitmap of block @blk (differencing disks), e.g.
 * after the block was unallocated. */
void ops_bitmap_forget(struct vhd *v, uint32_t blk);

/* fsync with a message. */
int ops_sync(struct vhd *v);

#endif
