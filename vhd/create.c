/* vhd/create.c: creating fixed, dynamic and differencing images.
 *
 * Layout we write for dynamic and differencing disks:
 *   0     footer copy
 *   512   dynamic header
 *   1536  BAT (entries * 4, padded to 512, all 0xFF)
 *   then  differencing: W2ru locator data, W2ku locator data (each padded
 *         to 512; data_space stored in bytes, as most tools write it)
 *   then  the trailing footer (blocks are added before it as they fill).
 * The image is built under a temporary name in the target directory,
 * fsynced, and renamed into place without replacing anything. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/vhd_int.h"

#define BAT_OFFSET (VHD_HEADER_OFFSET + VHD_HEADER_SIZE)

static uint64_t pad512(uint64_t x)
{
	return (x + VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1);
}

struct parent_info {
	struct vhd_backing *b;
	char abs[PATH_MAX];
	struct stat st;
};

/* Writes the parent fields and locators of a differencing header; locator
 * data goes at *end, which advances. */
static int write_parent(int fd, const char *child, struct parent_info *p,
			struct vhd_header *h, uint64_t *end)
{
	static const uint32_t codes[] = { VHD_PLAT_W2RU, VHD_PLAT_W2KU };
	char dir[PATH_MAX], tmp[PATH_MAX], rel[PATH_MAX];
	const char *base = strrchr(p->abs, '/') + 1;
	uint8_t *data;
	size_t len;
	char *slash;
	int ret = 0;

	if (p->b->vhd)
		memcpy(h->parent_uuid, p->b->vhd->footer.uuid, 16);
	h->parent_timestamp = vhd_time_from_unix(p->st.st_mtime);
	ret = vhd_utf8_to_utf16(base, h->parent_name, VHD_PARENT_NAME_SIZE, true, &len);
	if (ret)
		return vhd_err(ret, "parent file name '%s' is too long for the header", base);

	snprintf(tmp, sizeof(tmp), "%s", child);
	slash = strrchr(tmp, '/');
	if (slash)
		*(slash == tmp ? slash + 1 : slash) = 0;
	if (!realpath(slash ? tmp : ".", dir))
		return vhd_err(-errno, "cannot resolve the directory of '%s': %s", child,
			       strerror(errno));
	ret = vhd_relative_path(dir, p->abs, rel, sizeof(rel));
	if (ret)
		return ret;
	data = malloc(2 * PATH_MAX * 2);
	if (!data)
		return vhd_err(-ENOMEM, "out of memory");
	for (int i = 0; i < 2 && !ret; i++) {
		ret = vhd_locator_encode(codes[i], i ? p->abs : rel, data, 4 * PATH_MAX, &len);
		if (ret)
			break;
		h->loc[i].code = codes[i];
		h->loc[i].data_len = (uint32_t)len;
		h->loc[i].data_space = (uint32_t)pad512(len);
		h->loc[i].data_offset = *end;
		memset(data + len, 0, pad512(len) - len);
		ret = vhd_pwrite_full(fd, data, pad512(len), *end);
		*end += pad512(len);
	}
	free(data);
	return ret;
}

static int build_dynamic(int fd, const char *path, const struct vhd_create_opts *o,
			 struct vhd_footer *f, struct parent_info *p)
{
	uint32_t bs = o->block_size ? o->block_size : VHD_DEFAULT_BLOCK_SIZE;
	uint32_t entries = (uint32_t)((f->current_size + bs - 1) / bs);
	uint64_t bat_bytes = pad512((uint64_t)entries * 4), end = BAT_OFFSET + bat_bytes;
	uint8_t fbuf[VHD_FOOTER_SIZE], hbuf[VHD_HEADER_SIZE];
	struct vhd_header h;
	uint8_t *bat;
	int ret;

	vhd_header_init(&h, entries, bs, BAT_OFFSET);
	bat = malloc(bat_bytes);
	if (!bat)
		return vhd_err(-ENOMEM, "out of memory");
	memset(bat, 0xff, bat_bytes);
	ret = vhd_pwrite_full(fd, bat, bat_bytes, BAT_OFFSET);
	free(bat);
	if (!ret && p)
		ret = write_parent(fd, path, p, &h, &end);
	if (ret)
		return ret;
	vhd_header_encode(&h, hbuf);
	vhd_footer_encode(f, fbuf);
	ret = vhd_pwrite_full(fd, hbuf, sizeof(hbuf), VHD_HEADER_OFFSET);
	if (!ret)
		ret = vhd_pwrite_full(fd, fbuf, sizeof(fbuf), 0);
	if (!ret)
		ret = vhd_pwrite_full(fd, fbuf, sizeof(fbuf), end);
	return ret;
}

static int build_fixed(int fd, const struct vhd_create_opts *o, struct vhd_footer *f)
{
	uint8_t fbuf[VHD_FOOTER_SIZE];
	int err;

	if (o->prealloc && f->current_size) {
		err = posix_fallocate(fd, 0, (off_t)f->current_size);
		if (err)
			return vhd_err(-err, "cannot preallocate %llu bytes: %s",
				       (unsigned long long)f->current_size, strerror(err));
	}
	vhd_footer_encode(f, fbuf);
	return vhd_pwrite_full(fd, fbuf, sizeof(fbuf), f->current_size);
}

static int check_opts(const struct vhd_create_opts *o, enum vhd_type type, uint64_t size)
{
	uint32_t bs = o->block_size ? o->block_size : VHD_DEFAULT_BLOCK_SIZE;

	if (!size || size % VHD_SECTOR_SIZE)
		return vhd_err(-EINVAL, "size %llu is not a positive multiple of 512 bytes",
			       (unsigned long long)size);
	if (type == VHD_TYPE_FIXED && size > VHD_MAX_FIXED_SIZE)
		return vhd_err(-EFBIG, "size %llu exceeds the largest fixed VHD (%llu bytes)",
			       (unsigned long long)size, (unsigned long long)VHD_MAX_FIXED_SIZE);
	if (type == VHD_TYPE_FIXED)
		return 0;
	if (size > VHD_MAX_DYNAMIC_SIZE)
		return vhd_err(-EFBIG,
			       "size %llu exceeds the 2040 GiB limit of dynamic and differencing VHDs",
			       (unsigned long long)size);
	if (bs < VHD_MIN_BLOCK_SIZE || bs > VHD_MAX_BLOCK_SIZE || (bs & (bs - 1)))
		return vhd_err(-EINVAL,
			       "block size %u is not a power of two between 512 KiB and 256 MiB", bs);
	return 0;
}

/* Moves the finished temporary file into place without replacing. */
static int publish(const char *tmp, const char *path)
{
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return vhd_err(-errno, "cannot create '%s': %s", path, strerror(errno));
	if (link(tmp, path))
		return vhd_err(-errno, "cannot create '%s': %s", path, strerror(errno));
	unlink(tmp);
	return 0;
}

static void fsync_dir(const char *tmp)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", tmp);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int vhd_create(const char *path, const struct vhd_create_opts *o)
{
	enum vhd_type type = o->type == VHD_TYPE_NONE ? VHD_TYPE_DYNAMIC : o->type;
	static const struct vhd_open_opts ro;
	struct parent_info *p = NULL;
	struct vhd_footer f;
	char tmp[PATH_MAX];
	const char *slash;
	uint64_t size = o->size;
	unsigned max;
	int fd = -1, ret;

	if (type != VHD_TYPE_FIXED && type != VHD_TYPE_DYNAMIC && type != VHD_TYPE_DIFF)
		return vhd_err(-EINVAL, "unknown image type %d", (int)type);
	if (!access(path, F_OK))
		return vhd_err(-EEXIST, "'%s' already exists", path);
	if (type == VHD_TYPE_DIFF) {
		if (!o->parent)
			return vhd_err(-EINVAL, "a differencing image needs a parent");
		p = calloc(1, sizeof(*p));
		if (!p)
			return vhd_err(-ENOMEM, "out of memory");
		ret = vhd_backing_open(o->parent, o->parent_opts ? o->parent_opts : &ro, &p->b);
		if (ret)
			goto out;
		if (!realpath(o->parent, p->abs) || stat(p->abs, &p->st)) {
			ret = vhd_err(-errno, "cannot resolve parent '%s': %s", o->parent,
				      strerror(errno));
			goto out;
		}
		size = p->b->size;
		max = o->parent_opts && o->parent_opts->max_depth ? o->parent_opts->max_depth :
								    VHD_DEFAULT_MAX_DEPTH;
		if (p->b->depth >= max) {
			ret = vhd_err(-ELOOP,
				      "'%s' has %u layers: a child would make the chain deeper than %u layers",
				      o->parent, p->b->depth, max);
			goto out;
		}
	}
	ret = check_opts(o, type, size);
	if (ret)
		goto out;
	ret = vhd_footer_init(&f, type, size);
	if (ret)
		goto out;
	slash = strrchr(path, '/');
	ret = snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", slash ? (int)(slash - path + 1) : 0,
		       path, slash ? slash + 1 : path);
	if (ret < 0 || (size_t)ret >= sizeof(tmp)) {
		ret = vhd_err(-ENAMETOOLONG, "path '%s' too long", path);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = vhd_err(-errno, "cannot create a file beside '%s': %s", path, strerror(errno));
		goto out;
	}
	fchmod(fd, 0600);  /* mkostemp's mode, said outright: images are private */
	if (type == VHD_TYPE_FIXED)
		ret = build_fixed(fd, o, &f);
	else
		ret = build_dynamic(fd, path, o, &f, p);
	if (!ret && fsync(fd))
		ret = vhd_err(-errno, "fsync of '%s': %s", tmp, strerror(errno));
	if (!ret)
		ret = publish(tmp, path);
	if (ret)
		unlink(tmp);
	else
		fsync_dir(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (p && p->b)
		p->b->ops->release(p->b);
	free(p);
	return ret;
}
