/* images/img_export.c: writing images out as VHD (dynamic, fixed, Azure)
 * or raw, and removing images. */
#include "images/img_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/cat_vm.h"
#include "vhd/vhd.h"

#define MIB (1ull << 20)

int img_export_format_parse(const char *s, enum img_export_format *out)
{
	static const struct {
		const char *name;
		enum img_export_format fmt;
	} names[] = {
		{ "vhd", IMG_EXPORT_VHD }, { "vhd-dynamic", IMG_EXPORT_VHD },
		{ "vhd-fixed", IMG_EXPORT_VHD_FIXED }, { "raw", IMG_EXPORT_RAW },
		{ "azure", IMG_EXPORT_AZURE },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i].name)) {
			*out = names[i].fmt;
			return 0;
		}
	}
	return -EINVAL;
}

static int sink_vhd(void *opaque, const void *buf, size_t len, uint64_t off)
{
	return vhd_pwrite(opaque, buf, len, off);
}

static int sink_raw(void *opaque, const void *buf, size_t len, uint64_t off)
{
	int fd = *(int *)opaque;
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* The export itself into @tmp (which must not exist). */
static int export_to(const struct img_src *src, const char *tmp, enum img_export_format fmt,
		     struct img_scan_opts *so, char id[IMG_HEX_LEN + 1])
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = src->size };
	struct vhd_open_opts oo = { .flags = VHD_OPEN_RDWR };
	struct vhd *v;
	int fd, r, r2;

	if (fmt == IMG_EXPORT_RAW) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return img_fail(-errno, "%s: %s", tmp, strerror(errno));
		r = ftruncate(fd, (off_t)src->size) ? -errno : 0;
		so->sink = sink_raw;
		so->sink_opaque = &fd;
		if (!r)
			r = img_scan(src, so, id, NULL);
		if (!r && fsync(fd))
			r = -errno;
		close(fd);
		return r ? img_fail(r, "writing %s: %s", tmp, strerror(-r)) : 0;
	}
	if (fmt == IMG_EXPORT_VHD_FIXED || fmt == IMG_EXPORT_AZURE)
		co.type = VHD_TYPE_FIXED;
	if (fmt == IMG_EXPORT_AZURE)
		co.size = (src->size + MIB - 1) / MIB * MIB;
	r = vhd_create(tmp, &co);
	if (r)
		return img_fail(r, "cannot create %s: %s", tmp, vhd_last_error());
	r = vhd_open(tmp, &oo, &v);
	if (r)
		return img_fail(r, "cannot open %s: %s", tmp, vhd_last_error());
	so->sink = sink_vhd;
	so->sink_opaque = v;
	r = img_scan(src, so, id, NULL);
	r2 = vhd_flush(v);
	vhd_close(v);
	if (!r)
		r = r2;
	return r ? img_fail(r, "writing %s: %s", tmp, vhd_last_error()[0] ?
			    vhd_last_error() : strerror(-r)) : 0;
}

int img_export_src(const struct img_src *src, const char *dest, enum img_export_format fmt,
		   const char *want_id, img_progress_fn progress, void *opaque)
{
	struct img_scan_opts so = {
		.progress = progress, .progress_opaque = opaque, .no_id = !want_id,
	};
	char tmp[4200], id[IMG_HEX_LEN + 1];
	struct stat stb;
	int r;

	if (!lstat(dest, &stb))
		return img_fail(-EEXIST, "%s exists; not overwritten", dest);
	if (snprintf(tmp, sizeof(tmp), "%s.part", dest) >= (int)sizeof(tmp))
		return img_fail(-ENAMETOOLONG, "%s: name too long", dest);
	unlink(tmp);	/* a leftover of an earlier, interrupted export */
	r = export_to(src, tmp, fmt, &so, id);
	if (!r && want_id && strcmp(id, want_id))
		r = img_fail(-EIO, "content of the image does not match its id %.12s (got %.12s):"
			     " the stored file is damaged", want_id, id);
	if (!r && link(tmp, dest))
		r = img_fail(-errno, "%s: %s", dest, strerror(errno));
	unlink(tmp);
	return r;
}

int img_export(struct cat *c, const char *id, const char *dest, enum img_export_format fmt,
	       bool verify, img_progress_fn progress, void *opaque)
{
	struct cat_image img;
	struct img_src src;
	char path[4300];
	int r;

	r = cat_image_get(c, id, &img);
	if (r)
		return img_fail(r, "no image %s", id);
	r = cat_path(c, img.file, path, sizeof(path));
	if (!r)
		r = img_src_vhd_open(path, &src);
	if (r)
		return r;
	r = img_export_src(&src, dest, fmt, verify ? img.id : NULL, progress, opaque);
	img_src_vhd_close(&src);
	return r;
}

static int list_dependant(void *opaque, const struct cat_vm *vm)
{
	char *buf = opaque;
	size_t n = strlen(buf);

	if (n < 400)
		snprintf(buf + n, 512 - n, "%s%s", n ? ", " : "", vm->name);
	return 0;
}

int img_remove(struct cat *c, const char *id)
{
	char path[4300], users[512] = "";
	struct cat_image img;
	int r;

	r = cat_image_get(c, id, &img);
	if (r)
		return img_fail(r, "no image %s", id);
	r = cat_path(c, img.file, path, sizeof(path));
	if (r)
		return r;
	r = cat_image_del(c, id);
	if (r == -EBUSY) {
		cat_vm_foreach(c, id, NULL, list_dependant, users);
		return img_fail(r, "image %.12s is used by VMs: %s%s", id, users,
				users[0] ? "" : "(another image derives from it)");
	}
	if (r)
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	/* The row is gone: the file is unreachable; gc would remove it too. */
	if (unlink(path) && errno != ENOENT)
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	return 0;
}
