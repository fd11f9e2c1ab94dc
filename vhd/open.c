/* vhd/open.c: opening and closing an image: footers, dynamic header, BAT,
 * locks, and the parent of a differencing disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/vhd_int.h"

static int vhd_alloc(const char *path, struct vhd **out)
{
	struct vhd *v = calloc(1, sizeof(*v));

	if (!v)
		return vhd_err(-ENOMEM, "out of memory");
	v->fd = -1;
	v->path = strdup(path);
	if (!v->path) {
		free(v);
		return vhd_err(-ENOMEM, "out of memory");
	}
	pthread_mutex_init(&v->alloc_lock, NULL);
	pthread_mutex_init(&v->rmw_lock, NULL);
	for (int i = 0; i < VHD_BM_STRIPES; i++)
		pthread_mutex_init(&v->bm_lock[i], NULL);
	*out = v;
	return 0;
}

/* Reads the last 512 bytes of the file into @buf, or the last 511 (old
 * Virtual PC footers) when only those start with the cookie; sets *off to
 * where the footer starts. */
static int read_trailing(struct vhd *v, uint64_t file_size, uint8_t *buf, uint64_t *off)
{
	uint8_t b511[VHD_FOOTER_SIZE] = { 0 };
	int ret;

	memset(buf, 0, VHD_FOOTER_SIZE);
	*off = file_size >= VHD_FOOTER_SIZE ? file_size - VHD_FOOTER_SIZE : 0;
	if (file_size >= VHD_FOOTER_SIZE) {
		ret = vhd_pread_full(v->fd, buf, VHD_FOOTER_SIZE, *off);
		if (ret || !memcmp(buf, "conectix", 8))
			return ret;
	}
	ret = vhd_pread_full(v->fd, b511, VHD_FOOTER_SIZE - 1, file_size - (VHD_FOOTER_SIZE - 1));
	if (!ret && !memcmp(b511, "conectix", 8)) {
		memcpy(buf, b511, VHD_FOOTER_SIZE);
		*off = file_size - (VHD_FOOTER_SIZE - 1);
	}
	return ret;
}

/* Reads the footer: the trailing one, else the copy at offset 0 of a
 * dynamic/differencing disk (v->footer_damaged; @why says what is wrong at
 * the end, *@tail_cookie whether the end carries a footer cookie at all).
 * A bad copy at 0 beside a good trailing footer is only a warning. */
static int vhd_read_footers(struct vhd *v, uint64_t file_size, char *why, size_t cap,
			    bool *tail_cookie)
{
	uint8_t tail[VHD_FOOTER_SIZE], head[VHD_FOOTER_SIZE] = { 0 };
	struct vhd_footer copy;
	bool cookie_tail, cookie_head = false;
	char msg[512] = "";
	uint64_t off;
	int ret, ret0 = -EINVAL;

	if (file_size == 0)
		return vhd_err(-EINVAL, "%s: file is empty (0 bytes), not a VHD", v->path);
	if (file_size < VHD_FOOTER_SIZE - 1)
		return vhd_err(-EINVAL, "%s: file is only %llu bytes, too short for a VHD footer",
			       v->path, (unsigned long long)file_size);
	ret = read_trailing(v, file_size, tail, &off);
	if (ret)
		return ret;
	cookie_tail = !memcmp(tail, "conectix", 8);
	*tail_cookie = cookie_tail;
	ret = vhd_footer_parse(tail, off, &v->footer);
	if (!ret && v->footer.type == VHD_TYPE_FIXED)
		return 0;
	if (ret)
		snprintf(msg, sizeof(msg), "%s", vhd_last_error());

	/* The copy at offset 0 (dynamic and differencing disks only). */
	if (file_size >= 2 * VHD_FOOTER_SIZE) {
		ret0 = vhd_pread_full(v->fd, head, sizeof(head), 0);
		cookie_head = !memcmp(head, "conectix", 8);
		if (!ret0)
			ret0 = vhd_footer_parse(head, 0, &copy);
	}
	if (!ret) {
		if (ret0 || memcmp(copy.uuid, v->footer.uuid, 16) || copy.type != v->footer.type) {
			v->footer_copy_damaged = true;
			vhd_log(VHD_LOG_WARN,
				"%s: footer copy at offset 0 is damaged or differs; using the trailing footer",
				v->path);
		}
		return 0;
	}
	if (!ret0 && copy.type != VHD_TYPE_FIXED) {
		v->footer = copy;
		v->footer_damaged = true;
		snprintf(why, cap, "%s", msg);
		return 0;
	}
	if (!cookie_tail && !cookie_head)
		return vhd_err(-EINVAL,
			       "%s: not a VHD file (no footer cookie 'conectix' at the end or at offset 0)",
			       v->path);
	return vhd_err(ret, "%s: %s", v->path, msg);
}

static int vhd_open_dynamic(struct vhd *v, uint64_t file_size)
{
	uint8_t buf[VHD_HEADER_SIZE];
	uint64_t hoff = v->footer.data_offset;
	int ret;

	if (hoff > file_size || file_size - hoff < VHD_HEADER_SIZE)
		return vhd_err(-EINVAL, "%s: dynamic header offset %llu is past the end of the file",
			       v->path, (unsigned long long)hoff);
	ret = vhd_pread_full(v->fd, buf, sizeof(buf), hoff);
	if (ret)
		return ret;
	ret = vhd_header_parse(buf, hoff, v->size, file_size, &v->header);
	if (ret) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", vhd_last_error());
		return vhd_err(ret, "%s: %s", v->path, msg);
	}
	v->block_size = v->header.block_size;
	v->block_shift = (unsigned)__builtin_ctz(v->block_size);
	v->bitmap_size = ((v->block_size / VHD_SECTOR_SIZE + 7) / 8 + VHD_SECTOR_SIZE - 1) &
			 ~(VHD_SECTOR_SIZE - 1);
	v->bat_entries = v->header.max_bat_entries;
	ret = vhd_bat_load(v, file_size);
	if (ret)
		return ret;
	if (v->footer.type == VHD_TYPE_DIFF) {
		v->bitmaps = calloc(v->bat_entries ? v->bat_entries : 1, sizeof(*v->bitmaps));
		v->bm_full = malloc(v->bitmap_size);
		v->bm_dirty = calloc(v->bat_entries / 8 + 1, 1);
		if (!v->bitmaps || !v->bm_full || !v->bm_dirty)
			return vhd_err(-ENOMEM, "out of memory");
		memset(v->bm_full, 0xff, v->bitmap_size);
	}
	return 0;
}

/* Called when the trailing footer is damaged and the copy at 0 is in use:
 * tells the tail a power loss leaves after an unflushed allocation (no
 * footer cookie at the end, every BAT entry inside the file, the file
 * longer than the published data) from real damage, and on a writable open
 * recovers it: the footer goes at the end of the published data, the file
 * is cut after it, and both are made durable. */
static int vhd_tail_recover(struct vhd *v, uint64_t file_size, bool tail_cookie, bool rw)
{
	uint64_t end = v->published_end;
	int ret;

	if (tail_cookie || v->bad_bat_entries || file_size <= end)
		return 0;
	v->footer_damaged = false;
	v->unpublished_tail = file_size - end;
	vhd_log(VHD_LOG_INFO,
		"%s: %llu bytes of unpublished data after an interrupted allocation%s", v->path,
		(unsigned long long)v->unpublished_tail, rw ? "; recovered" : "");
	if (!rw)
		return 0;
	ret = vhd_footer_write(v, end);
	if (ret)
		return ret;
	if (ftruncate(v->fd, (off_t)(end + VHD_FOOTER_SIZE)) || fdatasync(v->fd))
		return vhd_err(-errno, "%s: cannot recover the footer: %s", v->path,
			       strerror(errno));
	v->data_end = end;
	v->file_end = end + VHD_FOOTER_SIZE;
	v->unpublished_tail = 0;
	return 0;
}

static unsigned chain_len(const struct vhd_chain_link *l)
{
	unsigned n = 0;

	for (; l; l = l->child)
		n++;
	return n;
}

int vhd_open(const char *path, const struct vhd_open_opts *opts, struct vhd **out)
{
	static const struct vhd_open_opts defaults;
	const struct vhd_chain_link *l;
	struct vhd *v = NULL;
	struct stat st;
	uint64_t file_size;
	char why[512] = "";
	off_t end;
	bool rw, tail_cookie = false;
	int ret;

	if (!opts)
		opts = &defaults;
	*out = NULL;
	if ((opts->flags & VHD_OPEN_RDWR) && (opts->flags & VHD_OPEN_FORCE_SHARE))
		return vhd_err(-EINVAL, "%s: force-share is for read-only opens", path);
	ret = vhd_alloc(path, &v);
	if (ret)
		return ret;
	v->flags = opts->flags;
	rw = opts->flags & VHD_OPEN_RDWR;
	v->fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (v->fd < 0) {
		ret = vhd_err(-errno, "%s: cannot open: %s", path, strerror(errno));
		goto err;
	}
	if (fstat(v->fd, &st)) {
		ret = vhd_err(-errno, "%s: stat: %s", path, strerror(errno));
		goto err;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = vhd_err(-EISDIR, "%s: is a directory, not a VHD", path);
		goto err;
	}
	v->dev = st.st_dev;
	v->ino = st.st_ino;
	for (l = opts->chain; l; l = l->child) {
		if (l->dev == st.st_dev && l->ino == st.st_ino) {
			ret = vhd_err(-ELOOP, "parent loop: '%s' is already in the chain", path);
			goto err;
		}
	}
	end = lseek(v->fd, 0, SEEK_END);
	if (end < 0) {
		ret = vhd_err(-errno, "%s: seek: %s", path, strerror(errno));
		goto err;
	}
	file_size = (uint64_t)end;
	ret = vhd_read_footers(v, file_size, why, sizeof(why), &tail_cookie);
	if (ret)
		goto err;
	/* A damaged footer may still be an unpublished tail (decided once the
	 * BAT is read): lock for writing only when it may be one. */
	if (v->footer_damaged && rw && tail_cookie) {
		rw = false;
		v->flags &= ~VHD_OPEN_RDWR;
	}
	v->read_only = !rw;
	if (!(opts->flags & VHD_OPEN_NOLOCK)) {
		ret = vhd_lock(v->fd, vhd_lock_mode_of(v->flags), path);
		if (ret)
			goto err;
	}
	v->size = vhd_footer_size(&v->footer);
	if (v->size % VHD_SECTOR_SIZE) {
		ret = vhd_err(-EINVAL, "%s: virtual size %llu is not a multiple of 512",
			      path, (unsigned long long)v->size);
		goto err;
	}
	v->depth = 1;
	if (v->footer.type == VHD_TYPE_FIXED) {
		uint64_t flen = file_size % VHD_SECTOR_SIZE == VHD_SECTOR_SIZE - 1 ?
				VHD_FOOTER_SIZE - 1 : VHD_FOOTER_SIZE;

		if (file_size - flen < v->size) {
			ret = vhd_err(-EINVAL,
				      "%s: fixed disk is truncated: %llu bytes of data, virtual size %llu",
				      path, (unsigned long long)(file_size - flen),
				      (unsigned long long)v->size);
			goto err;
		}
		v->data_end = v->size;
		v->file_end = file_size;
		*out = v;
		return 0;
	}
	ret = vhd_open_dynamic(v, file_size);
	if (!ret && v->footer_damaged)
		ret = vhd_tail_recover(v, file_size, tail_cookie, rw);
	if (ret)
		goto err;
	if (v->footer_damaged) {
		vhd_log(VHD_LOG_WARN,
			"%s: trailing footer damaged (%s); using the copy at offset 0, read-only",
			path, why);
		if (rw) {
			rw = false;
			v->flags &= ~VHD_OPEN_RDWR;
			v->read_only = true;
			if (!(opts->flags & VHD_OPEN_NOLOCK)) {
				ret = vhd_lock(v->fd, VHD_LOCK_READ, path);  /* down to reader */
				if (ret)
					goto err;
			}
		}
	}
	if (v->footer.type == VHD_TYPE_DIFF && !(opts->flags & VHD_OPEN_NO_PARENT)) {
		unsigned max = opts->max_depth ? opts->max_depth : VHD_DEFAULT_MAX_DEPTH;

		if (max <= 1) {
			ret = vhd_err(-ELOOP, "%s: chain deeper than %u layers", path,
				      chain_len(opts->chain) + max);
			goto err;
		}
		ret = vhd_parent_open(v, opts);
		if (ret)
			goto err;
	}
	*out = v;
	return 0;
err:
	vhd_close(v);
	return ret;
}

void vhd_close(struct vhd *v)
{
	if (!v)
		return;
	if (v->fd >= 0 && !v->read_only && v->dirty)
		vhd_flush(v);
	if (v->parent)
		v->parent->ops->release(v->parent);
	if (v->bitmaps) {
		for (uint32_t i = 0; i < v->bat_entries; i++)
			if (v->bitmaps[i] != v->bm_full)
				free(v->bitmaps[i]);
		free(v->bitmaps);
	}
	free(v->bm_full);
	free(v->bm_dirty);
	if (v->fd >= 0)
		close(v->fd);
	pthread_mutex_destroy(&v->alloc_lock);
	pthread_mutex_destroy(&v->rmw_lock);
	for (int i = 0; i < VHD_BM_STRIPES; i++)
		pthread_mutex_destroy(&v->bm_lock[i]);
	free(v->bat);
	free(v->bad_map);
	free(v->bat_dirty);
	free(v->parent_path);
	free(v->path);
	free(v);
}
