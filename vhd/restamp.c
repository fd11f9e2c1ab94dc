/* vhd/restamp.c: checking that a differencing disk's parent link names a
 * given file, and recording that file's current modification time as the
 * parent timestamp (after its parent changed on purpose, e.g. when a live
 * export moves its writes to a new child and the old top becomes the
 * parent). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/vhd_int.h"
#include "vhd/vhd_ops.h"

/* Checks the link of open differencing disk @c to the file @parent (a
 * VHD): same UUID as recorded, and the parent lookup's first existing
 * candidate is that very file. On success *@st holds @parent's stat. */
static int rst_check_link(struct vhd *c, const char *parent, struct stat *st)
{
	struct vhd_open_opts po = { .flags = VHD_OPEN_NO_PARENT | VHD_OPEN_NOLOCK };
	char found[4096], want[37], have[37];
	struct stat fst;
	struct vhd *p = NULL;
	int ret;

	if (c->footer.type != VHD_TYPE_DIFF)
		return vhd_err(-EINVAL, "%s: not a differencing disk (%s)", c->path,
			       vhd_type_name(c->footer.type));
	if (stat(parent, st))
		return vhd_err(-errno, "%s: %s", parent, strerror(errno));
	ret = vhd_open(parent, &po, &p);
	if (ret)
		return ret;
	if (memcmp(p->footer.uuid, c->header.parent_uuid, 16)) {
		vhd_uuid_format(c->header.parent_uuid, want);
		vhd_uuid_format(p->footer.uuid, have);
		vhd_close(p);
		return vhd_err(-EINVAL, "%s: parent UUID mismatch: it records %s, '%s' has %s",
			       c->path, want, parent, have);
	}
	vhd_close(p);
	ret = vhd_parent_find(c, found, sizeof(found));
	if (ret)
		return ret;
	if (stat(found, &fst))
		return vhd_err(-errno, "%s: %s", found, strerror(errno));
	if (fst.st_dev != st->st_dev || fst.st_ino != st->st_ino)
		return vhd_err(-EINVAL, "%s: its parent locator leads to '%s', not to '%s'",
			       c->path, found, parent);
	return 0;
}

int vhd_parent_verify(const char *child, const char *parent)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_NO_PARENT | VHD_OPEN_NOLOCK };
	struct vhd *c = NULL;
	struct stat st;
	int ret;

	ret = vhd_open(child, &o, &c);
	if (ret)
		return ret;
	ret = rst_check_link(c, parent, &st);
	vhd_close(c);
	return ret;
}

/* Writes the dynamic header of @c from c->header. When only its first
 * sector changes (parent timestamp and checksum live there), only that
 * sector is written, which the disk writes whole; otherwise all of it. */
static int rst_header_write(struct vhd *c)
{
	uint8_t old[VHD_HEADER_SIZE], buf[VHD_HEADER_SIZE];
	size_t len = VHD_HEADER_SIZE;
	int ret;

	ret = vhd_pread_full(c->fd, old, sizeof(old), c->footer.data_offset);
	if (ret)
		return ret;
	vhd_header_encode(&c->header, buf);
	if (!memcmp(old + VHD_SECTOR_SIZE, buf + VHD_SECTOR_SIZE,
		    VHD_HEADER_SIZE - VHD_SECTOR_SIZE))
		len = VHD_SECTOR_SIZE;
	ret = vhd_pwrite_full(c->fd, buf, len, c->footer.data_offset);
	if (!ret && fsync(c->fd))
		ret = vhd_err(-errno, "%s: fsync: %s", c->path, strerror(errno));
	return ret;
}

int vhd_set_parent_timestamp(const char *child, const char *parent)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NO_PARENT };
	struct vhd *c = NULL;
	struct stat st;
	uint32_t ts;
	int ret;

	ret = vhd_open(child, &o, &c);
	if (ret)
		return ret;
	if (c->read_only) {
		ret = vhd_err(-EROFS, "%s: damaged footer, cannot be written (repair it first)",
			      child);
		goto out;
	}
	ret = rst_check_link(c, parent, &st);
	if (ret)
		goto out;
	ts = vhd_time_from_unix(st.st_mtime);
	if (c->header.parent_timestamp == ts)
		goto out;
	c->header.parent_timestamp = ts;
	ret = rst_header_write(c);
out:
	vhd_close(c);
	return ret;
}

/* Rewrites the locators of @c to lead to @abs (absolute, normalized): each
 * W2ru/W2ku/MacX entry gets the new path where it fits in its reserved
 * space, else is cleared; every other entry is cleared. At least the
 * relative one must fit (-ENOSPC). */
static int rst_locators_set(struct vhd *c, const char *abs)
{
	char dir[4096], cabs[4096], rel[4096];
	uint8_t *data;
	size_t len;
	bool rel_ok = false;
	int ret = 0;

	if (!realpath(c->path, cabs))
		return vhd_err(-errno, "%s: %s", c->path, strerror(errno));
	snprintf(dir, sizeof(dir), "%s", cabs);
	*strrchr(dir, '/') = '\0';
	ret = vhd_relative_path(dir[0] ? dir : "/", abs, rel, sizeof(rel));
	if (ret)
		return ret;
	data = malloc(4 * 4096);
	if (!data)
		return vhd_err(-ENOMEM, "out of memory");
	for (int i = 0; i < VHD_NUM_LOCATORS && !ret; i++) {
		struct vhd_locator *l = &c->header.loc[i];
		uint64_t space = vhd_locator_space(l);
		bool is_rel = l->code == VHD_PLAT_W2RU;

		if ((l->code != VHD_PLAT_W2RU && l->code != VHD_PLAT_W2KU &&
		     l->code != VHD_PLAT_MACX) ||
		    vhd_locator_encode(l->code, is_rel ? rel : abs, data, 4 * 4096, &len) ||
		    len > space || l->data_offset + space > c->file_end) {
			memset(l, 0, sizeof(*l));
			continue;
		}
		memset(data + len, 0, space > 4 * 4096 ? 0 : space - len);
		ret = vhd_pwrite_full(c->fd, data, space > 4 * 4096 ? len : space,
				      l->data_offset);
		l->data_len = (uint32_t)len;
		rel_ok |= is_rel;
	}
	free(data);
	if (!ret && !rel_ok)
		ret = vhd_err(-ENOSPC, "%s: no room for a relative parent locator", c->path);
	return ret;
}

int vhd_set_parent(const char *child, const char *parent)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NO_PARENT };
	struct vhd_open_opts po = { .flags = VHD_OPEN_NO_PARENT | VHD_OPEN_NOLOCK };
	char abs[4096];
	const char *base;
	struct vhd *c = NULL, *p = NULL;
	struct stat st;
	size_t len;
	int ret;

	if (!realpath(parent, abs) || stat(abs, &st))
		return vhd_err(-errno, "%s: %s", parent, strerror(errno));
	ret = vhd_open(abs, &po, &p);
	if (ret)
		return ret;
	ret = vhd_open(child, &o, &c);
	if (ret)
		goto out;
	if (c->read_only || c->footer.type != VHD_TYPE_DIFF) {
		ret = vhd_err(c->read_only ? -EROFS : -EINVAL, "%s: %s", child, c->read_only ?
			      "damaged footer, cannot be written (repair it first)" :
			      "not a differencing disk");
		goto out;
	}
	if (vhd_size(p) != vhd_size(c)) {
		ret = vhd_err(-EINVAL, "%s: %llu bytes, but '%s' has %llu", child,
			      (unsigned long long)vhd_size(c), parent,
			      (unsigned long long)vhd_size(p));
		goto out;
	}
	ret = rst_locators_set(c, abs);
	if (ret)
		goto out;
	memcpy(c->header.parent_uuid, p->footer.uuid, 16);
	c->header.parent_timestamp = vhd_time_from_unix(st.st_mtime);
	base = strrchr(abs, '/') + 1;
	memset(c->header.parent_name, 0, sizeof(c->header.parent_name));
	ret = vhd_utf8_to_utf16(base, c->header.parent_name, VHD_PARENT_NAME_SIZE, true, &len);
	if (ret)
		ret = vhd_err(ret, "parent file name '%s' is too long for the header", base);
	if (!ret)
		ret = rst_header_write(c);
out:
	vhd_close(c);
	vhd_close(p);
	return ret;
}
