/* images/vmrec_journal.c: reading and writing the merge journal
 * (images/vmrec_journal.h). */
#include "images/vmrec_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img_store.h"
#include "images/vmrec_int.h"

#define VMJ_FORMAT  "vhdvisor-merge-journal"
#define VMJ_VERSION 1
#define VMJ_MAX_BYTES (4u << 20)

void vmj_rel(const char *vm, char rel[192])
{
	snprintf(rel, 192, "vms/%s/%s", vm, VMJ_NAME);
}

void vmj_free(struct vmj *j)
{
	free(j->rows);
	free(j->src);
	free(j->files);
	j->rows = NULL;
	j->src = NULL;
	j->files = NULL;
	j->nrows = j->nsrc = j->nfiles = 0;
}

int vmj_ident_of(const char *path, struct vmj_ident *id)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = (uint64_t)st.st_size;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	id->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	return 0;
}

/* ---- encode ---- */

static void put_i64(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void put_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static json_object *encode(const struct vmj *j)
{
	json_object *o = json_object_new_object(), *a;

	put_str(o, "format", VMJ_FORMAT);
	put_i64(o, "version", VMJ_VERSION);
	put_str(o, "vm", j->vm);
	put_str(o, "tag", j->tag);
	put_i64(o, "snap_layer", j->snap_layer);
	put_i64(o, "top", j->top);
	put_str(o, "base", j->base);
	a = json_object_new_array();
	for (unsigned i = 0; i < j->nrows; i++) {
		json_object *e = json_object_new_object();

		put_i64(e, "id", j->rows[i].id);
		put_i64(e, "parent", j->rows[i].parent);
		put_i64(e, "standalone", j->rows[i].standalone);
		put_str(e, "file", j->rows[i].file);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "rows", a);
	a = json_object_new_array();
	for (unsigned i = 0; i < j->nsrc; i++) {
		const struct vmj_ident *id = &j->src[i].id;
		json_object *e = json_object_new_object();

		put_str(e, "file", j->src[i].file);
		put_i64(e, "dev", (int64_t)id->dev);
		put_i64(e, "ino", (int64_t)id->ino);
		put_i64(e, "size", (int64_t)id->size);
		put_i64(e, "mtime_ns", id->mtime_ns);
		put_i64(e, "ctime_ns", id->ctime_ns);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "sources", a);
	a = json_object_new_array();
	for (unsigned i = 0; i < j->nfiles; i++) {
		const struct vmj_file *f = &j->files[i];
		json_object *e = json_object_new_object();

		put_i64(e, "layer", f->layer);
		put_str(e, "old", f->old_file);
		put_str(e, "new", f->new_file);
		put_i64(e, "parent", f->parent);
		put_i64(e, "depth", f->depth);
		put_i64(e, "size", (int64_t)f->size);
		put_i64(e, "done", (int64_t)f->done);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "files", a);
	return o;
}

static int fsync_dir(const char *path)
{
	char dir[VMREC_PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	return img_fsync_path(dir);
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int vmj_save(struct cat *c, const struct vmj *j)
{
	char rel[192], path[VMREC_PATH_MAX], tmp[VMREC_PATH_MAX + 8];
	json_object *o = encode(j);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	int fd, r;

	vmj_rel(j->vm, rel);
	r = cat_path(c, rel, path, sizeof(path));
	if (r)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, text, strlen(text));
	if (!r)
		r = write_all(fd, "\n", 1);
	if (!r && fsync(fd))
		r = -errno;
	close(fd);
	if (!r && rename(tmp, path))
		r = -errno;
	if (!r)
		r = fsync_dir(path);
	if (r)
		unlink(tmp);
out:
	json_object_put(o);
	return r ? img_fail(r, "writing the merge journal %s: %s", rel, strerror(-r)) : 0;
}

void vmj_remove(struct cat *c, const char *vm)
{
	char rel[192], path[VMREC_PATH_MAX];

	vmj_rel(vm, rel);
	if (cat_path(c, rel, path, sizeof(path)))
		return;
	if (!unlink(path))
		fsync_dir(path);
}

/* ---- decode ---- */

static bool get_i64(json_object *o, const char *k, int64_t min, int64_t max, int64_t *v)
{
	json_object *e;

	if (!json_object_object_get_ex(o, k, &e) || !json_object_is_type(e, json_type_int))
		return false;
	errno = 0;
	*v = json_object_get_int64(e);
	return !errno && *v >= min && *v <= max;
}

static bool get_str(json_object *o, const char *k, char *out, size_t len)
{
	json_object *e;
	const char *s;

	if (!json_object_object_get_ex(o, k, &e) || !json_object_is_type(e, json_type_string))
		return false;
	s = json_object_get_string(e);
	if (strlen(s) >= len)
		return false;
	snprintf(out, len, "%s", s);
	return true;
}

bool vmj_layer_name(const char *vm, const char *rel)
{
	size_t n = strlen(vm);

	if (strncmp(rel, "vms/", 4) || strncmp(rel + 4, vm, n) || rel[4 + n] != '/')
		return false;
	rel += 5 + n;
	if (strlen(rel) != 20 || strcmp(rel + 16, ".vhd"))
		return false;
	for (int i = 0; i < 16; i++)
		if (!strchr("0123456789abcdef", rel[i]))
			return false;
	return true;
}

static json_object *get_array(json_object *o, const char *k, unsigned max, unsigned *n)
{
	json_object *a;

	if (!json_object_object_get_ex(o, k, &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > max)
		return NULL;
	*n = (unsigned)json_object_array_length(a);
	return a;
}

static bool decode_rows(json_object *o, struct vmj *j)
{
	json_object *a = get_array(o, "rows", 4096, &j->nrows);

	if (!a || !(j->rows = calloc(j->nrows + 1, sizeof(*j->rows))))
		return false;
	for (unsigned i = 0; i < j->nrows; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct vmj_row *r = &j->rows[i];
		int64_t sa;

		if (!get_i64(e, "id", 1, INT64_MAX, &r->id) ||
		    !get_i64(e, "parent", 0, INT64_MAX, &r->parent) ||
		    !get_i64(e, "standalone", 0, 1, &sa) ||
		    !get_str(e, "file", r->file, sizeof(r->file)))
			return false;
		r->standalone = (int)sa;
	}
	return true;
}

static bool decode_sources(json_object *o, struct vmj *j)
{
	json_object *a = get_array(o, "sources", 4097, &j->nsrc);

	if (!a || !(j->src = calloc(j->nsrc + 1, sizeof(*j->src))))
		return false;
	for (unsigned i = 0; i < j->nsrc; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct vmj_ident *id = &j->src[i].id;
		int64_t dev, ino, size;

		if (!get_str(e, "file", j->src[i].file, sizeof(j->src[i].file)) ||
		    !get_i64(e, "dev", INT64_MIN, INT64_MAX, &dev) ||
		    !get_i64(e, "ino", INT64_MIN, INT64_MAX, &ino) ||
		    !get_i64(e, "size", 0, INT64_MAX, &size) ||
		    !get_i64(e, "mtime_ns", INT64_MIN, INT64_MAX, &id->mtime_ns) ||
		    !get_i64(e, "ctime_ns", INT64_MIN, INT64_MAX, &id->ctime_ns))
			return false;
		id->dev = (uint64_t)dev;
		id->ino = (uint64_t)ino;
		id->size = (uint64_t)size;
	}
	return true;
}

static bool decode_files(json_object *o, struct vmj *j)
{
	json_object *a = get_array(o, "files", 4096, &j->nfiles);

	if (!a || !j->nfiles || !(j->files = calloc(j->nfiles, sizeof(*j->files))))
		return false;
	for (unsigned i = 0; i < j->nfiles; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct vmj_file *f = &j->files[i];
		int64_t parent, depth, size, done;

		if (!get_i64(e, "layer", 1, INT64_MAX, &f->layer) ||
		    !get_str(e, "old", f->old_file, sizeof(f->old_file)) ||
		    !get_str(e, "new", f->new_file, sizeof(f->new_file)) ||
		    !get_i64(e, "parent", -1, (int64_t)i - 1, &parent) ||
		    !get_i64(e, "depth", 1, 2, &depth) ||
		    !get_i64(e, "size", 0, INT64_MAX, &size) ||
		    !get_i64(e, "done", 0, size, &done))
			return false;
		/* the first file sits on the base, every other on a new one */
		if ((i == 0) != (parent == -1) || (i == 0) != (depth == 2))
			return false;
		if (!vmj_layer_name(j->vm, f->old_file) || !vmj_layer_name(j->vm, f->new_file))
			return false;
		f->parent = (int)parent;
		f->depth = (int)depth;
		f->size = (uint64_t)size;
		f->done = (uint64_t)done;
	}
	return true;
}

static bool decode(json_object *o, const char *vm, struct vmj *j)
{
	char fmt[32];
	int64_t v;

	memset(j, 0, sizeof(*j));
	if (!json_object_is_type(o, json_type_object) || !get_str(o, "format", fmt, sizeof(fmt)) ||
	    strcmp(fmt, VMJ_FORMAT) || !get_i64(o, "version", VMJ_VERSION, VMJ_VERSION, &v) ||
	    !get_str(o, "vm", j->vm, sizeof(j->vm)) || strcmp(j->vm, vm) ||
	    !get_str(o, "tag", j->tag, sizeof(j->tag)) ||
	    !get_i64(o, "snap_layer", 1, INT64_MAX, &j->snap_layer) ||
	    !get_i64(o, "top", 1, INT64_MAX, &j->top) ||
	    !get_str(o, "base", j->base, sizeof(j->base)))
		return false;
	return decode_rows(o, j) && decode_sources(o, j) && decode_files(o, j);
}

int vmj_load(struct cat *c, const char *vm, struct vmj *j)
{
	char rel[192], path[VMREC_PATH_MAX];
	json_object *o = NULL;
	struct stat st;
	bool ok;
	int r;

	memset(j, 0, sizeof(*j));
	vmj_rel(vm, rel);
	r = cat_path(c, rel, path, sizeof(path));
	if (r)
		return r;
	if (stat(path, &st))
		return errno == ENOENT ? -ENOENT : img_fail(-errno, "%s: %s", rel, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > VMJ_MAX_BYTES)
		return img_fail(-EINVAL, "%s: not a merge journal", rel);
	o = json_object_from_file(path);
	ok = o && decode(o, vm, j);
	json_object_put(o);
	if (!ok) {
		vmj_free(j);
		return img_fail(-EINVAL, "%s: damaged merge journal", rel);
	}
	return 0;
}
