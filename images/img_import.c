/* images/img_import.c: bringing images into the catalog. */
#include "images/img_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/spawn.h"
#include "images/cat_int.h"
#include "vhd/vhd.h"
#include "vhd/vhd_ops.h"


static int sink_vhd(void *opaque, const void *buf, size_t len, uint64_t off)
{
	return vhd_pwrite(opaque, buf, len, off);
}

/* Copies @src into a new dynamic VHD at @path, hashing on the way. */
static int copy_to_vhd(const struct img_src *src, const char *path,
		       const struct img_import_opts *o, char id[IMG_HEX_LEN + 1],
		       uint64_t *data)
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = src->size };
	struct vhd_open_opts oo = { .flags = VHD_OPEN_RDWR };
	struct img_scan_opts so = {
		.sink = sink_vhd,
		.progress = o->progress,
		.progress_opaque = o->progress_opaque,
	};
	struct vhd *v;
	int r;

	r = vhd_create(path, &co);
	if (r)
		return img_fail(r, "cannot create %s: %s", path, vhd_last_error());
	r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(r, "cannot open %s: %s", path, vhd_last_error());
	so.sink_opaque = v;
	r = img_scan(src, &so, id, data);
	if (r) {
		vhd_close(v);
		return img_fail(r, "copy failed: %s", vhd_last_error()[0] ?
				vhd_last_error() : strerror(-r));
	}
	r = vhd_flush(v);
	vhd_close(v);
	if (r)
		return img_fail(r, "flush failed: %s", strerror(-r));
	r = img_fsync_path(path);
	return r ? img_fail(r, "fsync %s: %s", path, strerror(-r)) : 0;
}

/* Moves the finished file in and records it, in one short transaction. */
static int commit_image(struct cat *c, const char *tmp, const struct img_import_opts *o,
			struct img_import_result *res)
{
	char dest[4300], rel[128];
	struct cat_image *img = &res->img;
	char name[CAT_NAME_MAX + 1], ver[CAT_NAME_MAX + 1] = "";
	int r;

	if (o->ref && cat_ref_split(o->ref, name, ver))
		return img_fail(-EINVAL, "bad name '%s' (NAME[:VERSION], [A-Za-z0-9._-])", o->ref);
	snprintf(rel, sizeof(rel), "images/%s.vhd", img->id);
	r = cat_path(c, rel, dest, sizeof(dest));
	if (r)
		return r;
	r = cat_begin(c);
	if (r)
		return img_fail(r, "catalog busy: %s", cat_errmsg(c));
	r = cat_image_get(c, img->id, img);
	if (r == 0) {
		res->existed = true;
		unlink(tmp);
	} else if (r == -ENOENT) {
		struct cat_image parent;

		snprintf(img->file, sizeof(img->file), "%s", rel);
		/* an image derived from a cloud-init image is one too */
		img->cloud_init = o->parent && !cat_image_get(c, o->parent, &parent) &&
				  parent.cloud_init;
		if (rename(tmp, dest)) {
			r = img_fail(-errno, "rename to %s: %s", dest, strerror(errno));
			goto err;
		}
		r = cat_image_add(c, img);
	}
	if (r) {
		img_fail(r, "catalog: %s", cat_errmsg(c));
		goto err;
	}
	if (o->ref) {
		r = cat_name_set(c, name, ver, img->id, res->version);
		if (r) {
			img_fail(r, "catalog: cannot name %s: %s", o->ref, cat_errmsg(c));
			goto err;
		}
	}
	r = cat_commit(c);
	if (r)
		return img_fail(r, "catalog commit: %s", cat_errmsg(c));
	return 0;
err:
	cat_rollback(c);
	return r;
}

int img_import_src(struct cat *c, const struct img_src *src, const struct img_import_opts *o,
		   struct img_import_result *res)
{
	struct cat_image *img = &res->img;
	char rel[128], tmp[4300];
	struct stat stb;
	int r;

	memset(res, 0, sizeof(*res));
	if (src->size == 0 || src->size % VHD_SECTOR_SIZE)
		return img_fail(-EINVAL, "virtual size %llu is not a positive multiple of 512",
				(unsigned long long)src->size);
	if (src->size > VHD_MAX_DYNAMIC_SIZE)
		return img_fail(-EFBIG, "virtual size %llu is over the VHD limit of 2040 GiB",
				(unsigned long long)src->size);
	r = img_tmp_name("vhd", rel, sizeof(rel));
	if (!r)
		r = cat_path(c, rel, tmp, sizeof(tmp));
	if (r)
		return r;
	r = copy_to_vhd(src, tmp, o, img->id, &res->data_bytes);
	if (!r)
		r = img_file_sha256(tmp, img->file_sha256);
	if (!r && stat(tmp, &stb))
		r = -errno;
	if (r) {
		unlink(tmp);
		return r == -ENOSPC ? img_fail(r, "no space left in %s", cat_dir(c)) : r;
	}
	img->virtual_size = src->size;
	img->file_size = (uint64_t)stb.st_size;
	snprintf(img->os, sizeof(img->os), "%s", o->os ? o->os : "");
	snprintf(img->arch, sizeof(img->arch), "%s", o->arch ? o->arch : "x86_64");
	snprintf(img->boot, sizeof(img->boot), "%s", o->boot ? o->boot : "");
	img->min_mem = o->min_mem;
	img->min_disk = o->min_disk;
	snprintf(img->source, sizeof(img->source), "%s", o->source ? o->source : "");
	snprintf(img->parent, sizeof(img->parent), "%s", o->parent ? o->parent : "");
	img->created = time(NULL);
	r = commit_image(c, tmp, o, res);
	if (r)
		unlink(tmp);
	return r;
}

/* Converts a foreign image with qemu-img into a sparse raw file at @out. */
static int qemu_to_raw(struct cat *c, const char *path, enum img_format fmt, const char *out)
{
	const char *argv[] = { "qemu-img", "convert", "-q", "-f", img_format_name(fmt),
			       "-O", "raw", path, out, NULL };
	struct spawn_opts so;
	struct spawn_child child;
	char logrel[128], log[4300], msg[256] = "";
	int status, r, fd;

	r = img_tmp_name("log", logrel, sizeof(logrel));
	if (!r)
		r = cat_path(c, logrel, log, sizeof(log));
	if (r)
		return r;
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return img_fail(-errno, "%s: %s", log, strerror(errno));
	spawn_opts_init(&so, argv);
	so.err = fd;
	r = spawn_start(&so, &child);
	close(fd);
	if (r) {
		unlink(log);
		if (r == -ENOENT)
			return img_fail(-ENOTSUP, "%s images need qemu-img, which is not installed",
					img_format_name(fmt));
		return img_fail(r, "cannot run qemu-img: %s", strerror(-r));
	}
	r = spawn_wait(&child, -1, &status);
	if (r) {
		unlink(log);
		return img_fail(r, "waiting for qemu-img: %s", strerror(-r));
	}
	fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, msg, sizeof(msg) - 1);

		msg[n > 0 ? n : 0] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		close(fd);
	}
	unlink(log);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return img_fail(-EINVAL, "qemu-img cannot read %s as %s: %s", path,
				img_format_name(fmt), msg);
	return 0;
}

static void first_problem(void *opaque, const struct vhd_check_problem *p)
{
	char *msg = opaque;

	if (!p->warning && !p->repaired && !msg[0])
		snprintf(msg, 300, "%.200s (%.40s at offset %llu)", p->detail, p->name,
			 (unsigned long long)p->offset);
}

int img_vhd_verify(const char *path, const char *what, unsigned check_flags)
{
	struct vhd_check_result res;
	char msg[300] = "";
	int r;

	r = vhd_check(path, check_flags, first_problem, msg, &res);
	if (r)
		return img_fail(r, "%s: %s", what, vhd_last_error()[0] ? vhd_last_error() :
				strerror(-r));
	if (res.errors)
		return img_fail(-EINVAL, "%s is damaged: %u problem%s, first: %s", what,
				res.errors, res.errors == 1 ? "" : "s", msg);
	return 0;
}

static int verify_vhd(const char *path)
{
	char what[4200];
	int r;

	snprintf(what, sizeof(what), "not imported: %s", path);
	r = img_vhd_verify(path, what, 0);
	return r;
}

int img_import(struct cat *c, const char *path, const struct img_import_opts *o,
	       struct img_import_result *res)
{
	struct img_import_opts opts = *o;
	char rawrel[128], raw[4300] = "", abspath[4096];
	enum img_format fmt;
	struct img_src src;
	int r;

	r = img_probe(path, &fmt);
	if (r)
		return r;
	if (o->format_given) {
		fmt = o->format;
	} else if (fmt == IMG_FMT_RAW) {
		size_t n = strlen(path);

		if (n >= 4 && !strcasecmp(path + n - 4, ".vhd"))
			return img_fail(-EINVAL, "not imported: %s is named .vhd but is not a VHD"
					" (no footer)", path);
		return img_fail(-EINVAL, "not imported: %s is not a VHD, qcow2, vmdk, vdi or"
				" vhdx image; to import it as a raw disk, say --format raw",
				path);
	}
	if (!opts.source)
		opts.source = realpath(path, abspath) ? abspath : path;
	if (fmt == IMG_FMT_VHD) {
		r = verify_vhd(path);
		if (r)
			return r;
		r = img_src_vhd_open(path, &src);
		if (r)
			return img_fail(r, "not imported: %s", img_last_error());
		r = img_import_src(c, &src, &opts, res);
		img_src_vhd_close(&src);
		return r;
	}
	if (fmt != IMG_FMT_RAW) {
		r = img_tmp_name("raw", rawrel, sizeof(rawrel));
		if (!r)
			r = cat_path(c, rawrel, raw, sizeof(raw));
		if (!r)
			r = qemu_to_raw(c, path, fmt, raw);
		if (r) {
			unlink(raw);
			return r;
		}
		path = raw;
	}
	r = img_src_raw_open(path, &src);
	if (r) {
		img_fail(r, "%s: %s", path, strerror(-r));
	} else {
		/* a disk is made of sectors: a partial one is not a disk image */
		if (fmt == IMG_FMT_RAW && src.size % VHD_SECTOR_SIZE)
			r = img_fail(-EINVAL, "not imported: %s is %llu bytes, not a whole number"
				     " of 512-byte sectors", path, (unsigned long long)src.size);
		else
			r = img_import_src(c, &src, &opts, res);
		img_src_raw_close(&src);
	}
	if (raw[0])
		unlink(raw);
	return r;
}
