/* vhd/write.c: writes, block allocation, zeroing and flush.
 *
 * Allocation order (crash consistency, kill -9 and power loss). Under
 * alloc_lock, a new block goes at data_end (past every used region, sector
 * aligned) and:
 *   1. the footer is written at the block's end, extending the file;
 *   2. the sector bitmap and the data are written into the block (and any
 *      stale bytes the block overlaps, such as the old footer, are zeroed);
 *   3. the BAT entry is set in memory only (this process reads the block at
 *      once) and its BAT sector marked dirty.
 * vhd_flush() then fdatasyncs (blocks, bitmaps, footer durable), writes the
 * dirty BAT sectors and fdatasyncs again. So the BAT on disk only ever
 * points at durable blocks, whatever subset of unflushed writes a power
 * loss keeps. What such a loss may leave is a file ending in unpublished
 * block data with no footer at its end (step 1 lost, or the old footer
 * overwritten by step 2): the copy at offset 0 describes it, open.c
 * recognises that tail (file longer than the published data) and a
 * writable open truncates it. Until a flush, writes that allocated blocks
 * (and, in a differencing disk, writes to sectors of a block the bitmap
 * does not mark yet) survive neither a power loss nor the death of the
 * process (kill -9): after either they read as before, as with a volatile
 * disk cache, and the space of such blocks stays unreferenced (a leak that
 * compact reclaims). Other writes land in place.
 *
 * Writes to allocated blocks: data in place; (differencing only) the bits
 * of the cached bitmap are set under the block's bitmap stripe lock and the
 * bitmap is written by vhd_flush() after the data is durable, so a sector
 * never reads as written (the block's stale content) before its data is.
 * Dynamic disks get all-ones bitmaps at allocation, as QEMU writes them,
 * and never touch the bitmap again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vhd/vhd_int.h"

static const uint8_t vhd_zero_buf[65536];

static bool all_zero(const uint8_t *p, size_t len)
{
	size_t n;

	while (len) {
		n = len < sizeof(vhd_zero_buf) ? len : sizeof(vhd_zero_buf);
		if (memcmp(p, vhd_zero_buf, n))
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static int write_zeros_at(int fd, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < sizeof(vhd_zero_buf) ? (size_t)len : sizeof(vhd_zero_buf);
		int ret = vhd_pwrite_full(fd, vhd_zero_buf, n, off);

		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

/* Sets the bits of sectors [in_off, in_off+n) of @bm; true if any changed. */
static bool bits_set(uint8_t *bm, uint64_t in_off, uint64_t n)
{
	bool changed = false;

	for (uint64_t s = in_off / VHD_SECTOR_SIZE; s < (in_off + n) / VHD_SECTOR_SIZE; s++) {
		if (!vhd_bit_test(bm, (uint32_t)s)) {
			vhd_bit_set(bm, (uint32_t)s);
			changed = true;
		}
	}
	return changed;
}

/* Writes a new block's bitmap at @boff and @n bytes of data at @doff, in
 * one pwritev when the data directly follows the bitmap. */
static int write_bitmap_data(struct vhd *v, const uint8_t *bm, uint64_t boff,
			     const uint8_t *buf, size_t n, uint64_t doff)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)bm, .iov_len = v->bitmap_size },
		{ .iov_base = (void *)buf, .iov_len = n },
	};
	int ret;

	if (doff == boff + v->bitmap_size &&
	    pwritev(v->fd, iov, 2, (off_t)boff) == (ssize_t)(v->bitmap_size + n))
		return 0;
	ret = vhd_pwrite_full(v->fd, bm, v->bitmap_size, boff);
	return ret ? ret : vhd_pwrite_full(v->fd, buf, n, doff);
}

/* Allocates block @blk and writes @n bytes at @in_off into it. Caller holds
 * alloc_lock and has seen the entry unused. */
static int alloc_block(struct vhd *v, uint32_t blk, const uint8_t *buf, uint64_t in_off,
		       size_t n)
{
	uint64_t boff = (v->data_end + VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1);
	uint64_t dstart = boff + v->bitmap_size, bend = dstart + v->block_size;
	uint64_t old_end = v->file_end, zend;
	uint8_t *bm;
	int ret;

	if (boff / VHD_SECTOR_SIZE >= VHD_BAT_UNUSED)
		return vhd_err(-ENOSPC, "%s: file too large for 32-bit BAT offsets", v->path);
	ret = vhd_footer_write(v, bend);
	if (ret)
		return ret;
	v->data_end = bend;
	v->file_end = bend + VHD_FOOTER_SIZE;

	bm = calloc(1, v->bitmap_size);
	if (!bm)
		return vhd_err(-ENOMEM, "out of memory for a bitmap");
	if (v->footer.type == VHD_TYPE_DIFF)
		bits_set(bm, in_off, n);
	else
		memset(bm, 0xff, v->bitmap_size);
	/* Stale bytes of the old file inside the new block's data area. */
	zend = old_end < bend ? old_end : bend;
	if (zend > dstart && in_off > 0)
		ret = write_zeros_at(v->fd, dstart,
				     (zend < dstart + in_off ? zend : dstart + in_off) - dstart);
	if (!ret && zend > dstart + in_off + n)
		ret = write_zeros_at(v->fd, dstart + in_off + n, zend - (dstart + in_off + n));
	if (!ret)
		ret = write_bitmap_data(v, bm, boff, buf, n, dstart + in_off);
	/* The cached bitmap goes in before the entry is set: once other
	 * writers see the block, they update this copy. */
	if (!ret && v->footer.type == VHD_TYPE_DIFF) {
		pthread_mutex_lock(&v->bm_lock[blk % VHD_BM_STRIPES]);
		vhd_bitmap_install(v, blk, bm);
		bm = NULL;
		pthread_mutex_unlock(&v->bm_lock[blk % VHD_BM_STRIPES]);
	}
	if (!ret)
		vhd_bat_stage(v, blk, (uint32_t)(boff / VHD_SECTOR_SIZE));
	free(bm);
	return ret;
}

/* Sets the bitmap bits for a write into allocated differencing block @blk
 * in the cached bitmap; vhd_flush() writes it once the data is durable. */
static int bitmap_update(struct vhd *v, uint32_t blk, uint64_t boff, uint64_t in_off, size_t n)
{
	pthread_mutex_t *lock = &v->bm_lock[blk % VHD_BM_STRIPES];
	uint8_t *bm;
	int ret = 0;

	pthread_mutex_lock(lock);
	ret = vhd_bitmap_cached(v, blk, boff, &bm);
	if (!ret && bm != v->bm_full && bits_set(bm, in_off, n)) {
		vhd_bitmap_install(v, blk, bm);
		__atomic_or_fetch(&v->bm_dirty[blk / 8], (uint8_t)(1u << (blk % 8)),
				  __ATOMIC_RELAXED);
		__atomic_store_n(&v->bm_dirty_any, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(lock);
	return ret;
}

/* Writes sector-aligned @len bytes at @off of a dynamic/differencing disk. */
static int write_aligned(struct vhd *v, const uint8_t *buf, size_t len, uint64_t off)
{
	int ret = 0;

	while (len && !ret) {
		uint32_t blk = (uint32_t)(off >> v->block_shift);
		uint64_t in_off = off & (v->block_size - 1);
		size_t n = v->block_size - in_off < len ? (size_t)(v->block_size - in_off) : len;
		uint32_t entry = vhd_bat_get(v, blk);
		uint64_t boff;

		if (entry == VHD_BAT_UNUSED) {
			if (v->footer.type == VHD_TYPE_DYNAMIC && all_zero(buf, n))
				goto next;
			pthread_mutex_lock(&v->alloc_lock);
			entry = vhd_bat_get(v, blk);
			if (entry == VHD_BAT_UNUSED) {
				ret = alloc_block(v, blk, buf, in_off, n);
				pthread_mutex_unlock(&v->alloc_lock);
				goto next;
			}
			pthread_mutex_unlock(&v->alloc_lock);
		}
		ret = vhd_block_offset(v, blk, entry, &boff);
		if (!ret)
			ret = vhd_pwrite_full(v->fd, buf, n, boff + v->bitmap_size + in_off);
		if (!ret && v->footer.type == VHD_TYPE_DIFF)
			ret = bitmap_update(v, blk, boff, in_off, n);
next:
		buf += n;
		off += n;
		len -= n;
	}
	__atomic_store_n(&v->dirty, true, __ATOMIC_RELAXED);
	return ret;
}

/* Writes a partial sector: reads the sector through the chain, merges
 * @len bytes at byte @skip of it, writes it back. */
static int write_partial(struct vhd *v, const uint8_t *buf, size_t skip, size_t len,
			 uint64_t sector_off)
{
	uint8_t sec[VHD_SECTOR_SIZE];
	int ret;

	pthread_mutex_lock(&v->rmw_lock);
	ret = vhd_read_range(v, sec, sizeof(sec), sector_off);
	if (!ret) {
		memcpy(sec + skip, buf, len);
		ret = write_aligned(v, sec, sizeof(sec), sector_off);
	}
	pthread_mutex_unlock(&v->rmw_lock);
	return ret;
}

int vhd_pwrite(struct vhd *v, const void *data, size_t len, uint64_t off)
{
	const uint8_t *buf = data;
	size_t head, n;
	int ret;

	if (v->read_only)
		return vhd_err(-EROFS, "%s: image is open read-only", v->path);
	if (off > v->size || len > v->size - off)
		return vhd_err(-EINVAL, "%s: range %llu+%zu is past the end of the disk (%llu bytes)",
			       v->path, (unsigned long long)off, len,
			       (unsigned long long)v->size);
	if (v->footer.type == VHD_TYPE_FIXED) {
		__atomic_store_n(&v->dirty, true, __ATOMIC_RELAXED);
		return vhd_pwrite_full(v->fd, buf, len, off);
	}
	head = off % VHD_SECTOR_SIZE;
	if (head && len) {
		n = VHD_SECTOR_SIZE - head < len ? VHD_SECTOR_SIZE - head : len;
		ret = write_partial(v, buf, head, n, off - head);
		if (ret)
			return ret;
		buf += n;
		off += n;
		len -= n;
	}
	n = len / VHD_SECTOR_SIZE * VHD_SECTOR_SIZE;
	if (n) {
		ret = write_aligned(v, buf, n, off);
		if (ret)
			return ret;
		buf += n;
		off += n;
		len -= n;
	}
	if (len)
		return write_partial(v, buf, 0, len, off);
	return 0;
}

int vhd_pwritev(struct vhd *v, const struct iovec *iov, int cnt, uint64_t off)
{
	uint64_t len = vhd_iov_len(iov, cnt);
	bool aligned = true;
	uint8_t *bounce, *p;
	int ret;

	if (v->read_only)
		return vhd_err(-EROFS, "%s: image is open read-only", v->path);
	if (off > v->size || len > v->size - off)
		return vhd_err(-EINVAL, "%s: range %llu+%llu is past the end of the disk (%llu bytes)",
			       v->path, (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)v->size);
	if (v->footer.type == VHD_TYPE_FIXED) {
		__atomic_store_n(&v->dirty, true, __ATOMIC_RELAXED);
		return vhd_prwv_full(v->fd, iov, cnt, off, true);
	}
	for (int i = 0; i < cnt; i++)
		aligned = aligned && iov[i].iov_len % VHD_SECTOR_SIZE == 0;
	if (aligned || cnt == 1) {
		for (int i = 0; i < cnt; i++) {
			ret = vhd_pwrite(v, iov[i].iov_base, iov[i].iov_len, off);
			if (ret)
				return ret;
			off += iov[i].iov_len;
		}
		return 0;
	}
	/* Pieces that split sectors: one write of a gathered copy instead of
	 * a read-modify-write per piece. */
	bounce = malloc(len ? len : 1);
	if (!bounce)
		return vhd_err(-ENOMEM, "out of memory for a %llu-byte write",
			       (unsigned long long)len);
	p = bounce;
	for (int i = 0; i < cnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	ret = vhd_pwrite(v, bounce, len, off);
	free(bounce);
	return ret;
}

/* Zeroes sector-aligned [in_off, in_off+n) of allocated block @blk in
 * place with fallocate (punching a hole when @unmap), setting the bitmap
 * bits of a differencing disk so the zeros hide the parent. -EOPNOTSUPP
 * when the file system cannot; the caller then writes zeros. */
static int zero_in_block(struct vhd *v, uint32_t blk, uint32_t entry, uint64_t in_off,
			 uint64_t n, bool unmap)
{
	int mode = unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;
	uint64_t boff;
	int ret;

	ret = vhd_block_offset(v, blk, entry, &boff);
	if (ret)
		return ret;
	if (fallocate(v->fd, mode, (off_t)(boff + v->bitmap_size + in_off), (off_t)n))
		return -EOPNOTSUPP;
	__atomic_store_n(&v->dirty, true, __ATOMIC_RELAXED);
	if (v->footer.type == VHD_TYPE_DIFF)
		return bitmap_update(v, blk, boff, in_off, (size_t)n);
	return 0;
}

int vhd_write_zeroes(struct vhd *v, uint64_t off, uint64_t len, unsigned flags)
{
	bool unmap = flags & VHD_ZERO_MAY_UNMAP;

	if (v->read_only)
		return vhd_err(-EROFS, "%s: image is open read-only", v->path);
	if (off > v->size || len > v->size - off)
		return vhd_err(-EINVAL, "%s: range %llu+%llu is past the end of the disk (%llu bytes)",
			       v->path, (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)v->size);
	if (v->footer.type == VHD_TYPE_FIXED && len) {
		int mode = unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;

		__atomic_store_n(&v->dirty, true, __ATOMIC_RELAXED);
		if (!fallocate(v->fd, mode, (off_t)off, (off_t)len))
			return 0;
		/* not supported here: write zeros below */
	}
	while (len) {
		uint64_t n = len < sizeof(vhd_zero_buf) ? len : sizeof(vhd_zero_buf);
		bool write = true;
		int ret = 0, d;

		if (v->footer.type != VHD_TYPE_FIXED) {
			uint32_t blk = (uint32_t)(off >> v->block_shift);
			uint32_t entry = vhd_bat_get(v, blk);
			uint64_t in_off = off & (v->block_size - 1), left = v->block_size - in_off;
			uint64_t whole;

			n = left < len ? left : len;
			whole = n / VHD_SECTOR_SIZE * VHD_SECTOR_SIZE;
			if (entry == VHD_BAT_UNUSED) {
				/* Unallocated parts of a dynamic disk already read as
				 * zeros, as do those of a differencing disk that no
				 * parent holds. */
				write = false;
				if (v->footer.type == VHD_TYPE_DIFF && v->parent) {
					ret = v->parent->ops->block_status(v->parent, off, n, &n, &d);
					write = d != 0;
				}
			} else if (off % VHD_SECTOR_SIZE) {
				/* the partial head sector: written (read-modify-write) */
				if (n > VHD_SECTOR_SIZE - off % VHD_SECTOR_SIZE)
					n = VHD_SECTOR_SIZE - off % VHD_SECTOR_SIZE;
			} else if (whole) {
				ret = zero_in_block(v, blk, entry, in_off, whole, unmap);
				n = whole;
				write = ret == -EOPNOTSUPP;
				if (write)
					ret = 0;
			}
			if (ret)
				return ret;
			if (write && n > sizeof(vhd_zero_buf))
				n = sizeof(vhd_zero_buf);
		}
		if (write) {
			ret = vhd_pwrite(v, vhd_zero_buf, (size_t)n, off);
			if (ret)
				return ret;
		}
		off += n;
		len -= n;
	}
	return 0;
}

static int flush_sync(struct vhd *v)
{
	if (fdatasync(v->fd))
		return vhd_err(-errno, "%s: fdatasync: %s", v->path, strerror(errno));
	return 0;
}

/* Bitmaps copied for one round of a flush. */
#define FLUSH_BM_BATCH 1024u

/* Writes the dirty bitmaps of a differencing disk, each only after the data
 * its new bits cover is durable: a batch of bitmaps is copied (and marked
 * clean) first, then fdatasync, then the copies are written, so bits set by
 * writes racing with the flush wait for the next one. Sets *@synced when
 * everything written before the call is durable. Caller holds alloc_lock. */
static int flush_bitmaps(struct vhd *v, bool *synced)
{
	uint32_t bytes = v->block_size / VHD_SECTOR_SIZE / 8, next = 0;
	uint32_t blks[FLUSH_BM_BATCH];
	uint8_t *copy;
	int ret = 0;

	if (!__atomic_exchange_n(&v->bm_dirty_any, false, __ATOMIC_ACQUIRE))
		return 0;
	copy = malloc((size_t)FLUSH_BM_BATCH * v->bitmap_size);
	if (!copy) {
		__atomic_store_n(&v->bm_dirty_any, true, __ATOMIC_RELAXED);
		return vhd_err(-ENOMEM, "out of memory for flushing bitmaps");
	}
	while (!ret && next < v->bat_entries) {
		uint32_t n = 0;

		for (; next < v->bat_entries && n < FLUSH_BM_BATCH; next++) {
			pthread_mutex_t *lock = &v->bm_lock[next % VHD_BM_STRIPES];
			uint8_t *dst = copy + (size_t)n * v->bitmap_size;

			if (!(__atomic_load_n(&v->bm_dirty[next / 8], __ATOMIC_RELAXED) &
			      (1u << (next % 8))))
				continue;
			pthread_mutex_lock(lock);
			__atomic_and_fetch(&v->bm_dirty[next / 8], (uint8_t)~(1u << (next % 8)),
					   __ATOMIC_RELAXED);
			memcpy(dst, v->bitmaps[next], v->bitmap_size);
			if (v->bitmaps[next] == v->bm_full)  /* padding past the block: 0 */
				memset(dst + bytes, 0, v->bitmap_size - bytes);
			pthread_mutex_unlock(lock);
			blks[n++] = next;
		}
		if (!n)
			break;
		ret = flush_sync(v);
		*synced = !ret;
		for (uint32_t i = 0; !ret && i < n; i++)
			ret = vhd_pwrite_full(v->fd, copy + (size_t)i * v->bitmap_size,
					      v->bitmap_size,
					      (uint64_t)vhd_bat_get(v, blks[i]) * VHD_SECTOR_SIZE);
		if (ret) {   /* written again by the next flush */
			for (uint32_t i = 0; i < n; i++) {
				pthread_mutex_lock(&v->bm_lock[blks[i] % VHD_BM_STRIPES]);
				__atomic_or_fetch(&v->bm_dirty[blks[i] / 8],
						  (uint8_t)(1u << (blks[i] % 8)), __ATOMIC_RELAXED);
				pthread_mutex_unlock(&v->bm_lock[blks[i] % VHD_BM_STRIPES]);
			}
		}
	}
	if (ret)
		__atomic_store_n(&v->bm_dirty_any, true, __ATOMIC_RELAXED);
	free(copy);
	return ret;
}

int vhd_flush(struct vhd *v)
{
	bool synced = false;
	int ret;

	if (v->read_only)
		return 0;
	/* Cleared first: a write racing with this flush sets it again. */
	__atomic_store_n(&v->dirty, false, __ATOMIC_RELAXED);
	if (v->footer.type == VHD_TYPE_FIXED) {
		ret = flush_sync(v);
		goto out;
	}
	pthread_mutex_lock(&v->alloc_lock);
	ret = v->bm_dirty ? flush_bitmaps(v, &synced) : 0;
	if (!ret && v->bat_dirty_any && !synced)
		ret = flush_sync(v);
	if (!ret && v->bat_dirty_any)
		ret = vhd_bat_write_dirty(v);
	if (!ret)
		ret = flush_sync(v);
	pthread_mutex_unlock(&v->alloc_lock);
out:
	if (ret)
		__atomic_store_n(&v->dirty, true, __ATOMIC_RELAXED);
	return ret;
}
