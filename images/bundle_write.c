/* images/bundle_write.c: writing image and VM bundles (images/bundle.h). */
#include "images/bundle_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrun.h"
#include "vhd/vhd.h"

#define MAX_FILES 256

struct bfile {
	char rel[192];       /* path in the bundle = path under the state dir */
	uint64_t size;
	time_t mtime;
	char sha[IMG_HEX_LEN + 1];
};

_Thread_local struct bundle_progress bundle_progress;

void bundle_set_progress(img_progress_fn fn, void *opaque)
{
	bundle_progress.fn = fn;
	bundle_progress.opaque = opaque;
}

struct bw {
	struct cat *c;
	uint64_t done, total;   /* bytes of files written to the tar, for progress */
	struct bfile files[MAX_FILES];
	unsigned n;
	json_object *man;
};

static int add_file(struct bw *w, const char *rel)
{
	char path[4300];
	struct bfile *f;
	struct stat st;
	int r;

	if (w->n == MAX_FILES)
		return img_fail(-E2BIG, "more than %d files", MAX_FILES);
	f = &w->files[w->n];
	snprintf(f->rel, sizeof(f->rel), "%s", rel);
	r = cat_path(w->c, rel, path, sizeof(path));
	if (!r && stat(path, &st))
		r = -errno;
	if (!r)
		r = img_file_sha256(path, f->sha);
	if (r)
		return img_fail(r, "%s: %s", path, strerror(-r));
	f->size = (uint64_t)st.st_size;
	f->mtime = st.st_mtime;
	w->n++;
	return 0;
}

static int name_json(void *opaque, const char *name, const char *version)
{
	char ref[2 * CAT_NAME_MAX + 2];

	snprintf(ref, sizeof(ref), "%s:%s", name, version);
	json_object_array_add(opaque, json_object_new_string(ref));
	return 0;
}

static int add_image(struct bw *w, const char *id)
{
	json_object *imgs, *o = json_object_new_object(), *names = json_object_new_array();
	struct cat_image img;
	int r;

	r = cat_image_get(w->c, id, &img);
	if (r)
		return img_fail(r, "no image %s", id);
	json_object_object_get_ex(w->man, "images", &imgs);
	json_object_object_add(o, "id", json_object_new_string(img.id));
	json_object_object_add(o, "virtual_size", json_object_new_int64((int64_t)img.virtual_size));
	json_object_object_add(o, "os", json_object_new_string(img.os));
	json_object_object_add(o, "arch", json_object_new_string(img.arch));
	json_object_object_add(o, "boot", json_object_new_string(img.boot));
	json_object_object_add(o, "min_mem", json_object_new_int64((int64_t)img.min_mem));
	json_object_object_add(o, "min_disk", json_object_new_int64((int64_t)img.min_disk));
	json_object_object_add(o, "source", json_object_new_string(img.source));
	json_object_object_add(o, "created", json_object_new_int64(img.created));
	json_object_object_add(o, "parent", json_object_new_string(img.parent));
	json_object_object_add(o, "cloud_init", json_object_new_boolean(img.cloud_init));
	cat_name_foreach(w->c, img.id, name_json, names);
	json_object_object_add(o, "names", names);
	json_object_array_add(imgs, o);
	return add_file(w, img.file);
}

static int layer_json(void *opaque, const struct cat_layer *l)
{
	struct bw *w = opaque;
	json_object *vm, *layers, *o = json_object_new_object();

	json_object_object_get_ex(w->man, "vm", &vm);
	json_object_object_get_ex(vm, "layers", &layers);
	json_object_object_add(o, "id", json_object_new_int64(l->id));
	json_object_object_add(o, "file", json_object_new_string(l->file));
	json_object_object_add(o, "parent", json_object_new_int64(l->parent));
	json_object_object_add(o, "standalone", json_object_new_boolean(l->standalone));
	json_object_array_add(layers, o);
	return add_file(w, l->file);
}

static int snap_json(void *opaque, const struct cat_snapshot *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "tag", json_object_new_string(s->tag));
	json_object_object_add(o, "layer", json_object_new_int64(s->layer));
	json_object_object_add(o, "created", json_object_new_int64(s->created));
	json_object_array_add(opaque, o);
	return 0;
}

/* A data disk: its index, file and virtual size in "disks", its file in
 * "files". */
static int disk_json(void *opaque, const struct cat_disk *d)
{
	struct vhd_open_opts oo = { .flags = VHD_OPEN_NO_PARENT };
	struct bw *w = opaque;
	json_object *vm, *disks, *o;
	char path[4300];
	struct vhd *v;
	uint64_t size;
	int r;

	r = cat_path(w->c, d->file, path, sizeof(path));
	if (!r)
		r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(r, "disk %u: %s: %s", d->idx, path, vhd_last_error());
	size = vhd_size(v);
	vhd_close(v);
	json_object_object_get_ex(w->man, "vm", &vm);
	json_object_object_get_ex(vm, "disks", &disks);
	o = json_object_new_object();
	json_object_object_add(o, "idx", json_object_new_int((int)d->idx));
	json_object_object_add(o, "file", json_object_new_string(d->file));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
	json_object_array_add(disks, o);
	return add_file(w, d->file);
}

static int write_entry(struct archive *a, const char *name, uint64_t size, time_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_mtime(e, mtime, 0);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : img_fail(-EIO, "tar: %s", archive_error_string(a));
}

static int write_file(struct bw *w, struct archive *a, const struct bfile *f)
{
	char path[4300], *buf;
	uint64_t done = 0;
	ssize_t n;
	int fd, r;

	r = cat_path(w->c, f->rel, path, sizeof(path));
	if (r)
		return r;
	r = write_entry(a, f->rel, f->size, f->mtime);
	if (r)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	buf = malloc(1 << 20);
	if (fd < 0 || !buf) {
		r = img_fail(fd < 0 ? -errno : -ENOMEM, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (done < f->size && (n = read(fd, buf, 1 << 20)) > 0) {
		if (archive_write_data(a, buf, (size_t)n) != n) {
			r = img_fail(-EIO, "tar: %s", archive_error_string(a));
			goto out;
		}
		done += (uint64_t)n;
		w->done += (uint64_t)n;
		if (bundle_progress.fn)
			bundle_progress.fn(bundle_progress.opaque, w->done, w->total);
	}
	if (done != f->size)
		r = img_fail(-EIO, "%s changed while being written", path);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

/* Manifest first, then every file, into @dest.part, renamed at the end. */
static int write_bundle(struct bw *w, const char *dest)
{
	json_object *files = json_object_new_array();
	char tmp[4200];
	struct archive *a;
	const char *man;
	int r = 0, fd;

	if (!access(dest, F_OK))
		return img_fail(-EEXIST, "%s exists; not overwritten", dest);
	for (unsigned i = 0; i < w->n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "path", json_object_new_string(w->files[i].rel));
		json_object_object_add(o, "size", json_object_new_int64((int64_t)w->files[i].size));
		json_object_object_add(o, "sha256", json_object_new_string(w->files[i].sha));
		json_object_array_add(files, o);
	}
	json_object_object_add(w->man, "files", files);
	man = json_object_to_json_string_ext(w->man, JSON_C_TO_STRING_PRETTY);
	snprintf(tmp, sizeof(tmp), "%s.part", dest);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return img_fail(-errno, "%s: %s", tmp, strerror(errno));
	a = archive_write_new();
	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		r = img_fail(-EIO, "%s: %s", tmp, a ? archive_error_string(a) : "no memory");
		goto out;
	}
	r = write_entry(a, "manifest.json", strlen(man), time(NULL));
	if (!r && archive_write_data(a, man, strlen(man)) != (la_ssize_t)strlen(man))
		r = img_fail(-EIO, "tar: %s", archive_error_string(a));
	for (unsigned i = 0; i < w->n; i++)
		w->total += w->files[i].size;
	if (!r && bundle_progress.fn)
		bundle_progress.fn(bundle_progress.opaque, 0, w->total);
	for (unsigned i = 0; !r && i < w->n; i++)
		r = write_file(w, a, &w->files[i]);
	if (!r && archive_write_close(a) != ARCHIVE_OK)
		r = img_fail(-EIO, "%s: %s", tmp, archive_error_string(a));
	if (!r && link(tmp, dest))
		r = img_fail(-errno, "%s: %s", dest, strerror(errno));
out:
	archive_write_free(a);
	close(fd);
	unlink(tmp);
	return r;
}

static struct bw *bw_new(struct cat *c)
{
	struct bw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->c = c;
	w->man = json_object_new_object();
	json_object_object_add(w->man, "format", json_object_new_string("vhdvisor-bundle"));
	json_object_object_add(w->man, "version", json_object_new_int(BUNDLE_VERSION_PLAIN));
	json_object_object_add(w->man, "created", json_object_new_int64(time(NULL)));
	json_object_object_add(w->man, "images", json_object_new_array());
	return w;
}

static void bw_free(struct bw *w)
{
	if (!w)
		return;
	json_object_put(w->man);
	free(w);
}

int bundle_export_image(struct cat *c, const char *id, const char *dest)
{
	struct bw *w = bw_new(c);
	int r;

	if (!w)
		return -ENOMEM;
	r = add_image(w, id);
	if (!r)
		r = write_bundle(w, dest);
	bw_free(w);
	return r;
}

int bundle_export_vm(struct cat *c, const char *name, const char *dest)
{
	json_object *vmj = json_object_new_object(), *snaps = json_object_new_array();
	struct bw *w = bw_new(c);
	struct cat_vm vm;
	int r;

	if (!w) {
		json_object_put(vmj);
		json_object_put(snaps);
		return -ENOMEM;
	}
	json_object_object_add(w->man, "vm", vmj);
	json_object_object_add(vmj, "snapshots", snaps);
	r = cat_vm_get(c, name, &vm);
	if (r) {
		r = img_fail(r, "no VM '%s'", name);
		goto out;
	}
	if (vmrec_running(name)) {
		r = img_fail(-EBUSY, "VM '%s' is running; stop it first", name);
		goto out;
	}
	json_object_object_add(vmj, "name", json_object_new_string(vm.name));
	json_object_object_add(vmj, "image", json_object_new_string(vm.image));
	json_object_object_add(vmj, "cpus", json_object_new_int((int)vm.cpus));
	json_object_object_add(vmj, "mem", json_object_new_int64((int64_t)vm.mem));
	json_object_object_add(vmj, "mac", json_object_new_string(vm.mac));
	json_object_object_add(vmj, "uuid", json_object_new_string(vm.uuid));
	json_object_object_add(vmj, "machine_id", json_object_new_string(vm.machine_id));
	json_object_object_add(vmj, "cloud_init", json_object_new_boolean(vm.cloud_init));
	json_object_object_add(vmj, "top", json_object_new_int64(vm.top));
	json_object_object_add(vmj, "layers", json_object_new_array());
	json_object_object_add(vmj, "disks", json_object_new_array());
	r = vm.image[0] ? add_image(w, vm.image) : 0;
	if (!r)
		r = cat_layer_foreach(c, name, layer_json, w);
	if (!r)
		r = cat_snap_foreach(c, name, snap_json, snaps);
	if (!r)
		r = cat_disk_foreach(c, name, disk_json, w);
	/* readers that do not know data disks must refuse the bundle */
	if (!r && json_object_array_length(json_object_object_get(vmj, "disks")))
		json_object_object_add(w->man, "version", json_object_new_int(BUNDLE_VERSION));
	if (!r)
		r = write_bundle(w, dest);
out:
	bw_free(w);
	return r;
}
