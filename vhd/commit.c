/* vhd/commit.c: merging a differencing disk into its parent (commit) and
 * pulling a chain's data into its top layer (flatten).
 *
 * Both only ever copy data towards where the chain already reads it from,
 * and change which layer is consulted only after that copy is durable, so a
 * crash (kill -9, power loss, a full disk) at any point leaves images that
 * open and read the same data; running the operation again finishes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/ops_int.h"
#include "vhd/vhd_ops.h"

/* Bytes of block @blk inside the virtual size of @v. */
static size_t cm_block_len(const struct vhd *v, uint32_t blk)
{
	uint64_t start = (uint64_t)blk << v->block_shift;
	uint64_t left = v->size > start ? v->size - start : 0;

	return (size_t)(left < v->block_size ? left : v->block_size);
}

static bool cm_is_zero(const uint8_t *p, size_t len)
{
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

/* ---- commit ---- */

/* Copies the sectors child block @blk holds (bitmap bits set) into @parent. */
static int cm_copy_block(struct vhd *c, struct vhd *parent, uint32_t blk, uint8_t *bm,
			 uint8_t *data)
{
	uint32_t entry = vhd_bat_get(c, blk);
	size_t len = cm_block_len(c, blk);
	uint64_t boff, base = (uint64_t)blk << c->block_shift;
	uint32_t secs = (uint32_t)(len / VHD_SECTOR_SIZE);
	int ret;

	if (entry == VHD_BAT_UNUSED || !len)
		return 0;
	ret = vhd_block_offset(c, blk, entry, &boff);
	if (!ret)
		ret = vhd_bitmap_read(c, blk, boff, 0, c->block_size / VHD_SECTOR_SIZE - 1, bm);
	if (!ret)
		ret = vhd_pread_full(c->fd, data, len, boff + c->bitmap_size);
	for (uint32_t s = 0; !ret && s < secs;) {
		uint32_t e = s;

		if (!vhd_bit_test(bm, s)) {
			s++;
			continue;
		}
		while (e < secs && vhd_bit_test(bm, e))
			e++;
		ret = vhd_pwrite(parent, data + (size_t)s * VHD_SECTOR_SIZE,
				 (size_t)(e - s) * VHD_SECTOR_SIZE,
				 base + (uint64_t)s * VHD_SECTOR_SIZE);
		s = e;
	}
	return ret;
}

/* Empties the child: unallocates every block (the commit point for the
 * child), records the parent's new timestamp, shortens the file. */
static int cm_empty_child(struct vhd *c, const char *parent_path)
{
	struct stat st;
	int ret;

	for (uint32_t i = 0; i < c->bat_entries; i++)
		c->bat[i] = VHD_BAT_UNUSED;
	ret = ops_bat_write_all(c);
	if (!ret)
		ret = ops_sync(c);
	if (ret)
		return ret;
	if (!stat(parent_path, &st)) {
		uint8_t hbuf[VHD_HEADER_SIZE];

		c->header.parent_timestamp = vhd_time_from_unix(st.st_mtime);
		vhd_header_encode(&c->header, hbuf);
		ret = vhd_pwrite_full(c->fd, hbuf, sizeof(hbuf), c->footer.data_offset);
		if (ret)
			return ret;
	}
	for (uint32_t i = 0; i < c->bat_entries; i++)
		ops_bitmap_forget(c, i);
	return ops_truncate(c, ops_meta_end(c));
}

int vhd_commit(const char *child, unsigned flags, vhd_progress_fn progress, void *opaque)
{
	struct vhd_open_opts co = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NO_PARENT };
	struct vhd_open_opts po = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NOWARN_TS };
	struct vhd *c = NULL, *p = NULL;
	char *ppath = malloc(4096);
	uint8_t *bm = NULL, *data = NULL;
	int ret;

	if (!ppath)
		return vhd_err(-ENOMEM, "out of memory");
	ret = vhd_open(child, &co, &c);
	if (ret)
		goto out;
	if (c->footer.type != VHD_TYPE_DIFF) {
		ret = vhd_err(-EINVAL, "%s: not a differencing disk; nothing to commit into", child);
		goto out;
	}
	if (c->read_only) {
		ret = vhd_err(-EROFS, "%s: damaged footer, opened read-only; run 'vhd check --repair'",
			      child);
		goto out;
	}
	ret = vhd_parent_find(c, ppath, 4096);
	if (!ret)
		ret = vhd_open(ppath, &po, &p);
	if (ret)
		goto out;
	if (memcmp(p->footer.uuid, c->header.parent_uuid, 16)) {
		ret = vhd_err(-EINVAL, "%s: parent '%s' has another UUID than the child records",
			      child, ppath);
		goto out;
	}
	if (p->read_only) {
		ret = vhd_err(-EROFS, "%s: parent opened read-only (damaged footer)", ppath);
		goto out;
	}
	if (p->size < c->size && c->bat_entries) {
		ret = vhd_err(-EINVAL, "%s: parent '%s' is smaller than the child", child, ppath);
		goto out;
	}
	bm = malloc(c->bitmap_size);
	data = malloc(c->block_size);
	if (!bm || !data) {
		ret = vhd_err(-ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; !ret && i < c->bat_entries; i++) {
		ret = cm_copy_block(c, p, i, bm, data);
		if (progress)
			progress(opaque, i + 1, c->bat_entries);
	}
	if (!ret)
		ret = vhd_flush(p);    /* the parent now holds everything durably */
	if (ret)
		goto out;
	if (flags & VHD_COMMIT_DROP) {
		if (unlink(child))
			ret = vhd_err(-errno, "%s: cannot remove: %s", child, strerror(errno));
	} else {
		ret = cm_empty_child(c, ppath);
	}
out:
	free(bm);
	free(data);
	vhd_close(p);
	vhd_close(c);
	free(ppath);
	return ret;
}

/* ---- flatten ---- */

/* Makes block @blk of @v hold every sector it reads: an unallocated block
 * gets the chain's data (unless all zeros), an allocated one gets the
 * chain's data written into the sectors its bitmap leaves to the parents. */
static int fl_fill_block(struct vhd *v, uint32_t blk, uint8_t *data)
{
	uint64_t base = (uint64_t)blk << v->block_shift, off;
	size_t len = cm_block_len(v, blk);
	int ret;

	if (!len)
		return 0;
	if (vhd_bat_get(v, blk) == VHD_BAT_UNUSED) {
		ret = vhd_pread(v, data, len, base);
		if (ret || cm_is_zero(data, len))
			return ret;
		return vhd_pwrite(v, data, len, base);
	}
	for (off = base; off < base + len;) {
		uint64_t pnum;
		int depth;

		ret = vhd_block_status(v, off, base + len - off, &pnum, &depth);
		if (ret)
			return ret;
		if (depth != 1) {
			ret = vhd_pread(v, data, (size_t)pnum, off);
			if (!ret)
				ret = vhd_pwrite(v, data, (size_t)pnum, off);
			if (ret)
				return ret;
		}
		off += pnum;
	}
	return 0;
}

int vhd_flatten(const char *path, vhd_progress_fn progress, void *opaque)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NOWARN_TS };
	struct vhd *v = NULL;
	uint8_t *data = NULL;
	int ret;

	ret = vhd_open(path, &o, &v);
	if (ret)
		return ret;
	if (v->footer.type != VHD_TYPE_DIFF) {
		ret = vhd_err(-EINVAL, "%s: not a differencing disk; nothing to flatten", path);
		goto out;
	}
	if (v->read_only) {
		ret = vhd_err(-EROFS, "%s: damaged footer, opened read-only; run 'vhd check --repair'",
			      path);
		goto out;
	}
	data = malloc(v->block_size);
	if (!data) {
		ret = vhd_err(-ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; !ret && i < v->bat_entries; i++) {
		ret = fl_fill_block(v, i, data);
		if (progress)
			progress(opaque, i + 1, v->bat_entries);
	}
	if (!ret)
		ret = vhd_flush(v);
	if (ret)
		goto out;
	/* Switch-over: a dynamic disk needs no parent fields; clear them. */
	v->footer.type = VHD_TYPE_DYNAMIC;
	memset(v->header.parent_uuid, 0, sizeof(v->header.parent_uuid));
	memset(v->header.parent_name, 0, sizeof(v->header.parent_name));
	memset(v->header.loc, 0, sizeof(v->header.loc));
	v->header.parent_timestamp = 0;
	ret = ops_meta_commit(v);
out:
	free(data);
	vhd_close(v);
	return ret;
}
