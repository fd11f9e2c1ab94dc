/* images/bundle_read.c: importing bundles (images/bundle.h): extract into
 * STATE/tmp, verify everything, then move into place and record. */
#include "images/bundle_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "images/cat_vm.h"
#include "images/img_store.h"

#define MAX_FILES 256
#define MAX_MANIFEST (16u << 20)

struct xfile {
	char rel[192];
	uint64_t size;
	char sha[IMG_HEX_LEN + 1];
	bool listed;
};

struct br {
	struct cat *c;
	char dir[4300];            /* the extraction folder, absolute */
	char dir_rel[128];
	struct xfile files[MAX_FILES];
	unsigned n;
	char *manifest;
	json_object *man;
	uint64_t bundle_size;      /* for progress */
};

bool bundle_probe(const char *path)
{
	char b[263];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes;

	if (fd < 0)
		return false;
	yes = pread(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b) && !memcmp(b + 257, "ustar", 5);
	close(fd);
	return yes;
}

/* Accepts only "manifest.json", "images/<64 hex>.vhd" and
 * "vms/<name>/<name>.vhd" made of [A-Za-z0-9._-], no "..". */
static bool path_ok(const char *p)
{
	const char *s;
	int slashes = 0;

	if (!strcmp(p, "manifest.json"))
		return true;
	if (strlen(p) >= 192 || strstr(p, "..") || (strncmp(p, "images/", 7) &&
						    strncmp(p, "vms/", 4)))
		return false;
	for (s = p; *s; s++) {
		if (*s == '/')
			slashes++;
		else if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	}
	s = strrchr(p, '.');
	return s && !strcmp(s, ".vhd") && slashes == (p[0] == 'i' ? 1 : 2);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void br_free(struct br *b)
{
	if (!b)
		return;
	if (b->dir[0])
		nftw(b->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	json_object_put(b->man);
	free(b->manifest);
	free(b);
}

static int mkparents(const char *path)
{
	char buf[4600];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* Writes the entry's data to @rel under the extraction folder, hashing. */
static int extract_file(struct br *b, struct archive *a, struct archive_entry *e,
			const char *rel)
{
	struct xfile *f = &b->files[b->n];
	uint8_t md[EVP_MAX_MD_SIZE];
	char path[4600];
	EVP_MD_CTX *ctx;
	const void *buf;
	size_t len;
	la_int64_t off;
	unsigned mdlen;
	int fd, r = 0, ar;

	if (b->n == MAX_FILES)
		return img_fail(-E2BIG, "bundle: more than %d files", MAX_FILES);
	snprintf(path, sizeof(path), "%s/%s", b->dir, rel);
	if (mkparents(path))
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return img_fail(-errno, "bundle: %s: %s", rel, errno == EEXIST ?
				"listed twice" : strerror(errno));
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	f->size = 0;
	while ((ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		/* the stream must be contiguous: hash what the file will hold */
		if ((uint64_t)off != f->size || pwrite(fd, buf, len, off) != (ssize_t)len) {
			r = img_fail((uint64_t)off != f->size ? -EINVAL : -errno,
				     "bundle: %s: %s", rel, (uint64_t)off != f->size ?
				     "sparse tar entries are not accepted" : strerror(errno));
			break;
		}
		EVP_DigestUpdate(ctx, buf, len);
		f->size += len;
		if (bundle_progress.fn)
			bundle_progress.fn(bundle_progress.opaque,
					   (uint64_t)archive_filter_bytes(a, -1), b->bundle_size);
	}
	if (!r && ar != ARCHIVE_EOF)
		r = img_fail(-EIO, "bundle: %s: %s", rel, archive_error_string(a));
	if (!r && fsync(fd))
		r = img_fail(-errno, "bundle: %s: %s", rel, strerror(errno));
	if (!r) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { archive_entry_mtime(e), 0 } };

		/* the mtime a child recorded of its parent stays true */
		futimens(fd, ts);
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		for (unsigned i = 0; i < mdlen; i++)
			sprintf(f->sha + 2 * i, "%02x", md[i]);
		snprintf(f->rel, sizeof(f->rel), "%s", rel);
		b->n++;
	}
	EVP_MD_CTX_free(ctx);
	close(fd);
	return r;
}

static int read_manifest(struct br *b, struct archive *a, struct archive_entry *e)
{
	la_int64_t size = archive_entry_size(e);
	la_ssize_t n;

	if (b->manifest || size <= 0 || size > MAX_MANIFEST)
		return img_fail(-EINVAL, "bundle: bad or second manifest.json");
	b->manifest = calloc(1, (size_t)size + 1);
	if (!b->manifest)
		return -ENOMEM;
	n = archive_read_data(a, b->manifest, (size_t)size);
	if (n != size)
		return img_fail(-EIO, "bundle: manifest.json: %s", archive_error_string(a));
	b->man = json_tokener_parse(b->manifest);
	if (!b->man)
		return img_fail(-EINVAL, "bundle: manifest.json is not JSON");
	return 0;
}

static int extract(struct br *b, const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct stat st;
	int r = 0, ar;

	if (!a)
		return -ENOMEM;
	archive_read_support_format_tar(a);
	if (!stat(path, &st))
		b->bundle_size = (uint64_t)st.st_size;
	if (archive_read_open_filename(a, path, 1 << 20) != ARCHIVE_OK) {
		r = img_fail(-EINVAL, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	while (!r && (ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (name && archive_entry_filetype(e) == AE_IFDIR && !strstr(name, "..") &&
		    (!strncmp(name, "images", 6) || !strncmp(name, "vms", 3)))
			continue;	/* folders other tar writers list: made as needed */
		if (archive_entry_filetype(e) != AE_IFREG || !name || !path_ok(name))
			r = img_fail(-EINVAL, "bundle: unexpected entry '%s'", name ? name : "?");
		else if (!strcmp(name, "manifest.json"))
			r = read_manifest(b, a, e);
		else
			r = extract_file(b, a, e, name);
	}
	if (!r && ar != ARCHIVE_EOF)
		r = img_fail(-EINVAL, "%s: %s", path, archive_error_string(a));
	if (!r && !b->man)
		r = img_fail(-EINVAL, "bundle: no manifest.json");
out:
	archive_read_free(a);
	return r;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : "";
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static struct xfile *find_file(struct br *b, const char *rel)
{
	for (unsigned i = 0; i < b->n; i++)
		if (!strcmp(b->files[i].rel, rel))
			return &b->files[i];
	return NULL;
}

/* Every listed file is there with its size and hash; nothing else is. */
static int verify_files(struct br *b)
{
	json_object *files;
	size_t n;

	if (strcmp(jstr(b->man, "format"), "vhdvisor-bundle"))
		return img_fail(-EINVAL, "bundle: not a vhdvisor bundle");
	if (jint(b->man, "version") < BUNDLE_VERSION_PLAIN ||
	    jint(b->man, "version") > BUNDLE_VERSION)
		return img_fail(-EPROTO, "bundle: format version %lld; this vhdvisor reads"
				" versions %d to %d", (long long)jint(b->man, "version"),
				BUNDLE_VERSION_PLAIN, BUNDLE_VERSION);
	if (!json_object_object_get_ex(b->man, "files", &files) ||
	    !json_object_is_type(files, json_type_array))
		return img_fail(-EINVAL, "bundle: manifest lists no files");
	n = json_object_array_length(files);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(files, i);
		struct xfile *f = find_file(b, jstr(o, "path"));

		if (!f)
			return img_fail(-EINVAL, "bundle: %s is missing", jstr(o, "path"));
		if ((int64_t)f->size != jint(o, "size") || strcmp(f->sha, jstr(o, "sha256")))
			return img_fail(-EBADMSG, "bundle: %s: SHA-256 or size mismatch"
					" (damaged or altered)", f->rel);
		f->listed = true;
	}
	for (unsigned i = 0; i < b->n; i++)
		if (!b->files[i].listed)
			return img_fail(-EINVAL, "bundle: %s is not in the manifest", b->files[i].rel);
	return 0;
}

/* Each image's content id is what the manifest says. */
static int verify_images(struct br *b, json_object *imgs)
{
	char rel[192], path[4600], id[IMG_HEX_LEN + 1];
	struct img_src src;
	int r;

	for (size_t i = 0; i < json_object_array_length(imgs); i++) {
		json_object *o = json_object_array_get_idx(imgs, i);

		snprintf(rel, sizeof(rel), "images/%s.vhd", jstr(o, "id"));
		if (!find_file(b, rel))
			return img_fail(-EINVAL, "bundle: no file for image %s", jstr(o, "id"));
		snprintf(path, sizeof(path), "%s/%s", b->dir, rel);
		r = img_src_vhd_open(path, &src);
		if (r)
			return r;
		r = img_scan(&src, NULL, id, NULL);
		img_src_vhd_close(&src);
		if (r)
			return img_fail(r, "bundle: %s: %s", rel, strerror(-r));
		if (strcmp(id, jstr(o, "id")))
			return img_fail(-EBADMSG, "bundle: image %.12s has other content (%.12s)",
					jstr(o, "id"), id);
	}
	return 0;
}

/* Moves one verified image in and records it (unless known). */
static int adopt_image(struct br *b, json_object *o, struct bundle_result *res)
{
	struct cat_image img = { 0 };
	char src[4600], dst[4300];
	json_object *names;
	int r;

	snprintf(img.id, sizeof(img.id), "%s", jstr(o, "id"));
	if (!res->first_id[0])
		snprintf(res->first_id, sizeof(res->first_id), "%s", img.id);
	snprintf(img.file, sizeof(img.file), "images/%s.vhd", img.id);
	snprintf(src, sizeof(src), "%s/%s", b->dir, img.file);
	r = cat_path(b->c, img.file, dst, sizeof(dst));
	if (r)
		return r;
	snprintf(img.file_sha256, sizeof(img.file_sha256), "%s", find_file(b, img.file)->sha);
	img.virtual_size = (uint64_t)jint(o, "virtual_size");
	img.file_size = find_file(b, img.file)->size;
	snprintf(img.os, sizeof(img.os), "%s", jstr(o, "os"));
	snprintf(img.arch, sizeof(img.arch), "%s", jstr(o, "arch"));
	snprintf(img.boot, sizeof(img.boot), "%s", jstr(o, "boot"));
	img.min_mem = (uint64_t)jint(o, "min_mem");
	img.min_disk = (uint64_t)jint(o, "min_disk");
	snprintf(img.source, sizeof(img.source), "%s", jstr(o, "source"));
	img.created = jint(o, "created");
	img.cloud_init = json_object_get_boolean(json_object_object_get(o, "cloud_init"));
	r = cat_begin(b->c);
	if (r)
		return img_fail(r, "catalog: %s", cat_errmsg(b->c));
	if (cat_image_get(b->c, img.id, &img) == 0) {
		res->images_known++;
	} else {
		r = rename(src, dst) ? img_fail(-errno, "%s: %s", dst, strerror(errno)) : 0;
		if (!r)
			r = cat_image_add(b->c, &img);
		if (!r)
			res->images_new++;
	}
	json_object_object_get_ex(o, "names", &names);
	for (size_t i = 0; !r && names && i < json_object_array_length(names); i++) {
		char n[CAT_NAME_MAX + 1], v[CAT_NAME_MAX + 1];

		/* names that exist here already keep pointing where they point */
		if (!cat_ref_split(json_object_get_string(json_object_array_get_idx(names, i)), n, v)
		    && cat_image_resolve(b->c, json_object_get_string(
			    json_object_array_get_idx(names, i)), (char[CAT_ID_LEN + 1]){ 0 }))
			r = cat_name_set(b->c, n, v, img.id, NULL);
	}
	if (!r)
		r = cat_commit(b->c);
	if (r) {
		cat_rollback(b->c);
		return img_last_error()[0] ? r : img_fail(r, "catalog: %s", cat_errmsg(b->c));
	}
	return 0;
}

int bundle_import(struct cat *c, const char *path, const char *vm_name,
		  struct bundle_result *res)
{
	struct br *b = calloc(1, sizeof(*b));
	json_object *imgs, *vmj;
	int r;

	memset(res, 0, sizeof(*res));
	if (!b)
		return -ENOMEM;
	b->c = c;
	r = img_tmp_name("bundle", b->dir_rel, sizeof(b->dir_rel));
	if (!r)
		r = cat_path(c, b->dir_rel, b->dir, sizeof(b->dir));
	if (!r && mkdir(b->dir, 0700))
		r = img_fail(-errno, "%s: %s", b->dir, strerror(errno));
	if (r) {
		b->dir[0] = '\0';
		goto out;
	}
	r = extract(b, path);
	if (!r && bundle_progress.fn)
		bundle_progress.fn(bundle_progress.opaque, b->bundle_size, b->bundle_size);
	if (!r)
		r = verify_files(b);
	if (!r && (!json_object_object_get_ex(b->man, "images", &imgs) ||
		   !json_object_is_type(imgs, json_type_array)))
		r = img_fail(-EINVAL, "bundle: manifest lists no images");
	if (!r)
		r = verify_images(b, imgs);
	if (!r && json_object_object_get_ex(b->man, "vm", &vmj))
		r = bundle_vm_verify(b->dir, vmj);
	/* everything verified: from here on it only enters the catalog */
	for (size_t i = 0; !r && i < json_object_array_length(imgs); i++)
		r = adopt_image(b, json_object_array_get_idx(imgs, i), res);
	if (!r && json_object_object_get_ex(b->man, "vm", &vmj))
		r = bundle_vm_adopt(c, b->dir, vmj, vm_name, res->vm);
out:
	br_free(b);
	return r;
}
