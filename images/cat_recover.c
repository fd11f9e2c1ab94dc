/* images/cat_recover.c: rebuilding the catalog from the files of the
 * state directory (images/cat_recover.h). */
#include "images/cat_recover.h"
#include "images/cat_int.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "netback/mac.h"
#include "vhd/vhd.h"

#define VHD_EPOCH 946684800   /* 2000-01-01 UTC, the VHD timestamps' zero */
#define NEW_DB "catalog.db.recover"

struct rimage {
	char id[CAT_ID_LEN + 1];
	uint8_t uuid[16];
};

/* One VHD of a VM folder. */
struct rfile {
	char rel[192];
	struct cat_file_ident id;
	int parent;          /* index in the folder, -1: none/the image */
	int image;           /* index of the image it sits on (via its chain), -1 */
	int root;            /* index of the chain's bottom file in the folder */
	unsigned depth;      /* files below it in the folder's chain */
	int children;
	bool ok;             /* readable, parent found */
	int64_t layer;       /* row id once inserted */
};

struct rec {
	struct cat *c;
	const struct cat_recover_opts *o;
	struct cat_recover_result *res;
	struct rimage *imgs;
	unsigned nimgs;
	char (*lost)[192];   /* relative paths to move to lost+found */
	unsigned nlost;
};

__attribute__((format(printf, 2, 3)))
static void note(struct rec *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!r->o || !r->o->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->o->note(r->o->opaque, msg);
}

static bool is_dot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

static int lose(struct rec *r, const char *rel, const char *why)
{
	void *p = realloc(r->lost, (r->nlost + 1) * sizeof(*r->lost));

	if (!p)
		return -ENOMEM;
	r->lost = p;
	snprintf(r->lost[r->nlost++], 192, "%s", rel);
	r->res->lost++;
	note(r, "%s: %s: %s lost+found/", rel, why,
	     r->o && r->o->dry_run ? "would be moved to" : "moved to");
	return 0;
}

/* ---- images ---- */

static int image_recover(struct rec *r, const char *name)
{
	struct cat_image img = { 0 };
	struct cat_file_ident fid;
	char path[4400], id[IMG_HEX_LEN + 1];
	struct img_src src;
	struct stat stb;
	void *p;
	int e;

	if (strlen(name) > 100) {
		note(r, "images/%.60s...: not an image file; name too long to move, left in place",
		     name);
		return 0;
	}
	snprintf(img.file, sizeof(img.file), "images/%.100s", name);
	e = cat_path(r->c, img.file, path, sizeof(path));
	if (e)
		return e;
	if (!cat_name_is_id_file(name) || cat_file_ident(path, &fid) || lstat(path, &stb))
		return lose(r, img.file, "not an image file");
	if (fid.type == VHD_TYPE_DIFF)
		return lose(r, img.file, "a differencing VHD, not an image");
	if (img_src_vhd_open(path, &src))
		return lose(r, img.file, "cannot be read as a VHD");
	e = img_scan(&src, NULL, id, NULL);
	img.virtual_size = src.size;
	img_src_vhd_close(&src);
	if (e || strncmp(id, name, CAT_ID_LEN))
		return lose(r, img.file, e ? "cannot be read" :
			    "its content does not match its name (damaged)");
	e = img_file_sha256(path, img.file_sha256);
	if (e)
		return lose(r, img.file, "cannot be read");
	snprintf(img.id, sizeof(img.id), "%s", id);
	img.file_size = (uint64_t)stb.st_size;
	img.created = stb.st_mtime;
	snprintf(img.source, sizeof(img.source), "recovered");
	e = cat_image_add(r->c, &img);
	if (e)
		return img_fail(e, "catalog: %s", cat_errmsg(r->c));
	p = realloc(r->imgs, (r->nimgs + 1) * sizeof(*r->imgs));
	if (!p)
		return -ENOMEM;
	r->imgs = p;
	snprintf(r->imgs[r->nimgs].id, sizeof(r->imgs[0].id), "%s", id);
	memcpy(r->imgs[r->nimgs++].uuid, fid.uuid, 16);
	r->res->images++;
	note(r, "image %.12s: recovered (%llu bytes)", id,
	     (unsigned long long)img.virtual_size);
	return 0;
}

static int images_recover(struct rec *r)
{
	char dir[4300];
	struct dirent *de;
	int e = 0;
	DIR *d;

	if (cat_path(r->c, "images", dir, sizeof(dir)) || !(d = opendir(dir)))
		return 0;
	while (!e && (de = readdir(d)))
		if (!is_dot(de->d_name))
			e = image_recover(r, de->d_name);
	closedir(d);
	return e;
}

/* ---- VMs ---- */

/* Orders files by age: footer timestamp (seconds), then depth in the
 * chain (a parent is older than its child), then mtime, then name. */
static int age_cmp(const struct rfile *a, const struct rfile *b)
{
	if (a->id.timestamp != b->id.timestamp)
		return a->id.timestamp < b->id.timestamp ? -1 : 1;
	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	if (a->id.mtime_ns != b->id.mtime_ns)
		return a->id.mtime_ns < b->id.mtime_ns ? -1 : 1;
	return strcmp(a->rel, b->rel);
}

/* Orders leaves by how recently they were made or written: footer
 * timestamp, then mtime (a revert's new top is written after the
 * snapshot layers it leaves behind), then depth, then name. */
static int leaf_cmp(const struct rfile *a, const struct rfile *b)
{
	if (a->id.timestamp != b->id.timestamp)
		return a->id.timestamp < b->id.timestamp ? -1 : 1;
	if (a->id.mtime_ns != b->id.mtime_ns)
		return a->id.mtime_ns < b->id.mtime_ns ? -1 : 1;
	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	return strcmp(a->rel, b->rel);
}

static int image_of_uuid(const struct rec *r, const uint8_t uuid[16])
{
	for (unsigned i = 0; i < r->nimgs; i++)
		if (!memcmp(r->imgs[i].uuid, uuid, 16))
			return (int)i;
	return -1;
}

/* True when the parent the VHD library resolves for @rel (by its
 * locators, UUID checked) is the file at @want_rel: the chain the catalog
 * records is the one every later open reads. */
static bool parent_is(struct rec *r, const char *rel, const char *want_rel)
{
	char path[4400], want[4400], real_want[PATH_MAX], got[PATH_MAX];

	if (cat_path(r->c, rel, path, sizeof(path)) ||
	    cat_path(r->c, want_rel, want, sizeof(want)) || !realpath(want, real_want) ||
	    cat_file_parent(path, got, sizeof(got)))
		return false;
	return !strcmp(got, real_want);
}

/* Links the files by parent UUID and finds each one's root; files whose
 * chain does not end at a file of the folder or an image, or whose parent
 * locators lead elsewhere, are not ok. */
static void vm_link(struct rec *r, struct rfile *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		f[i].parent = -1;
		f[i].image = -1;
		if (f[i].id.type != VHD_TYPE_DIFF)
			continue;
		for (unsigned k = 0; k < n; k++)
			if (k != i && !memcmp(f[k].id.uuid, f[i].id.parent_uuid, 16))
				f[i].parent = (int)k;
		if (f[i].parent < 0) {
			char rel[192];

			f[i].image = image_of_uuid(r, f[i].id.parent_uuid);
			if (f[i].image >= 0)
				snprintf(rel, sizeof(rel), "images/%s.vhd", r->imgs[f[i].image].id);
			f[i].ok = f[i].image >= 0 && parent_is(r, f[i].rel, rel);
		} else if (!parent_is(r, f[i].rel, f[f[i].parent].rel)) {
			f[i].parent = -1;
			f[i].ok = false;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		int k = (int)i;
		unsigned steps = 0;

		while (f[k].parent >= 0 && steps++ <= n)
			k = f[k].parent;
		f[i].root = k;
		f[i].depth = steps;
		if (steps > n)
			f[i].ok = false;          /* a loop */
		else if (k != (int)i) {
			f[i].ok = f[k].ok;
			f[i].image = f[k].image;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (f[i].ok && f[i].parent >= 0)
			f[f[i].parent].children++;
}

/* Which chain tree file @i belongs to: its image (all layers on one image
 * form one tree, whatever their bottom layer) or its bottom file. */
static int tree_key(const struct rfile *f, unsigned i)
{
	return f[i].image >= 0 ? -2 - f[i].image : f[i].root;
}

/* VM disk 0's top: the newest differencing leaf (its tree holds disk 0);
 * -1 when there is no differencing layer. */
static int pick_top(const struct rfile *f, unsigned n)
{
	int top = -1;

	for (unsigned i = 0; i < n; i++) {
		if (!f[i].ok || f[i].children || f[i].id.type != VHD_TYPE_DIFF)
			continue;
		if (top < 0 || leaf_cmp(&f[top], &f[i]) < 0)
			top = (int)i;
	}
	return top;
}

static void vm_identity(struct cat_vm *vm)
{
	uint8_t u[16], m[16], mac[MAC_LEN];
	char buf[MAC_STR_LEN];

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u) ||
	    getrandom(m, sizeof(m), 0) != (ssize_t)sizeof(m)) {
		memset(u, 0x5a, sizeof(u));
		memset(m, 0xa5, sizeof(m));
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	m[6] = (uint8_t)((m[6] & 0x0f) | 0x40);
	m[8] = (uint8_t)((m[8] & 0x3f) | 0x80);
	vhd_uuid_format(u, vm->uuid);
	for (int i = 0; i < 16; i++)
		sprintf(vm->machine_id + 2 * i, "%02x", m[i]);
	mac_generate(vm->name, 0, mac);
	snprintf(vm->mac, sizeof(vm->mac), "%s", mac_format(mac, buf));
}

static int by_age(const void *a, const void *b)
{
	return age_cmp(*(struct rfile *const *)a, *(struct rfile *const *)b);
}

/* Inserts the layers of tree @key parents first; the snapshots for every
 * layer but @top. */
static int vm_layers_add(struct rec *r, struct cat_vm *vm, struct rfile *f, unsigned n,
			 int key, int top)
{
	struct rfile **order;
	unsigned m = 0, snaps = 0;
	bool progress = true;
	int e = 0;

	order = calloc(n, sizeof(*order));
	if (!order)
		return -ENOMEM;
	while (progress && !e) {
		progress = false;
		for (unsigned i = 0; i < n && !e; i++) {
			struct cat_layer l = { 0 };

			if (!f[i].ok || f[i].layer || tree_key(f, i) != key ||
			    (f[i].parent >= 0 && !f[f[i].parent].layer))
				continue;
			snprintf(l.vm, sizeof(l.vm), "%s", vm->name);
			snprintf(l.file, sizeof(l.file), "%s", f[i].rel);
			l.parent = f[i].parent >= 0 ? f[f[i].parent].layer : 0;
			l.standalone = f[i].id.type != VHD_TYPE_DIFF;
			l.created = (int64_t)f[i].id.timestamp + VHD_EPOCH;
			e = cat_layer_add(r->c, &l, &f[i].layer);
			order[m++] = &f[i];
			progress = true;
		}
	}
	qsort(order, m, sizeof(*order), by_age);
	for (unsigned i = 0; i < m && !e; i++) {
		struct cat_snapshot s = { 0 };

		if (order[i] == &f[top])
			continue;
		snprintf(s.vm, sizeof(s.vm), "%s", vm->name);
		snprintf(s.tag, sizeof(s.tag), "recovered-%u", ++snaps);
		s.layer = order[i]->layer;
		s.created = (int64_t)order[i]->id.timestamp + VHD_EPOCH;
		e = cat_snap_add(r->c, &s);
	}
	free(order);
	r->res->layers += m;
	r->res->snapshots += snaps;
	if (snaps)
		note(r, "VM %s: %u snapshots recovered as recovered-1..%u", vm->name, snaps,
		     snaps);
	return e;
}

/* Extra disks: standalone files outside the disk-0 tree that no layer
 * sits on, oldest first. */
static int vm_disks_add(struct rec *r, const struct cat_vm *vm, struct rfile *f, unsigned n)
{
	struct rfile **order;
	unsigned m = 0;
	int e = 0;

	order = calloc(n, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		if (f[i].ok && !f[i].layer && f[i].id.type != VHD_TYPE_DIFF && !f[i].children)
			order[m++] = &f[i];
	qsort(order, m, sizeof(*order), by_age);
	for (unsigned i = 0; i < m && !e; i++) {
		struct cat_disk d = { 0 };

		if (i >= VMREC_MAX_DISKS) {
			e = lose(r, order[i]->rel, "more extra disks than a VM can have");
			continue;
		}
		snprintf(d.vm, sizeof(d.vm), "%s", vm->name);
		d.idx = i + 1;
		snprintf(d.file, sizeof(d.file), "%s", order[i]->rel);
		d.created = (int64_t)order[i]->id.timestamp + VHD_EPOCH;
		e = cat_disk_add(r->c, &d);
		order[i]->layer = -1;   /* placed */
		r->res->disks++;
	}
	free(order);
	return e;
}

static int vm_build(struct rec *r, const char *name, struct rfile *f, unsigned n)
{
	struct cat_vm vm = { 0 };
	int top, key, e;

	vm_link(r, f, n);
	top = pick_top(f, n);
	if (top < 0) {
		/* no differencing layer: the oldest standalone file is disk 0 */
		for (unsigned i = 0; i < n; i++)
			if (f[i].ok && f[i].id.type != VHD_TYPE_DIFF &&
			    (top < 0 || age_cmp(&f[i], &f[top]) < 0))
				top = (int)i;
		if (top >= 0 && n > 1)
			note(r, "VM %s: no differencing layer; took the oldest VHD, %s, as its"
			     " disk (a guess)", name, f[top].rel);
	}
	if (top < 0) {
		note(r, "VM %s: no usable disk", name);
		for (unsigned i = 0; i < n; i++)
			if ((e = lose(r, f[i].rel, "no usable disk chain")))
				return e;
		return 0;
	}
	key = tree_key(f, (unsigned)top);
	snprintf(vm.name, sizeof(vm.name), "%.64s", name);
	snprintf(vm.state, sizeof(vm.state), "%s", CAT_VM_READY);
	if (f[top].image >= 0)
		snprintf(vm.image, sizeof(vm.image), "%s", r->imgs[f[top].image].id);
	vm.cpus = VMREC_DEFAULT_CPUS;
	vm.mem = VMREC_DEFAULT_MEM;
	vm.created = (int64_t)f[f[top].root].id.timestamp + VHD_EPOCH;
	vm_identity(&vm);
	e = cat_vm_add(r->c, &vm);
	if (!e)
		e = vm_layers_add(r, &vm, f, n, key, top);
	if (!e) {
		vm.top = f[top].layer;
		e = cat_vm_update(r->c, &vm);
	}
	if (!e)
		e = vm_disks_add(r, &vm, f, n);
	if (e)
		return img_fail(e, "catalog: %s", cat_errmsg(r->c));
	for (unsigned i = 0; i < n && !e; i++)
		if (!f[i].layer)
			e = lose(r, f[i].rel, f[i].ok ? "not on the VM's disk chain" :
				 "its parent is not found");
	r->res->vms++;
	note(r, "VM %s: recovered on %.12s", name,
	     vm.image[0] ? vm.image : "its own standalone disk");
	return e;
}

static int vm_recover(struct rec *r, const char *name)
{
	char dir[4400], rel[4700], path[4800], n1[CAT_NAME_MAX + 1], n2[CAT_NAME_MAX + 1];
	struct rfile *f = NULL;
	struct dirent *de;
	unsigned n = 0;
	int e = 0;
	DIR *d;

	snprintf(rel, sizeof(rel), "vms/%s", name);
	if (cat_ref_split(name, n1, n2) || n2[0] || strlen(rel) > 150)
		return lose(r, rel, "not a VM name");
	if (cat_path(r->c, rel, dir, sizeof(dir)) || !(d = opendir(dir)))
		return lose(r, rel, "not a VM folder");
	while (!e && (de = readdir(d))) {
		struct rfile *p;

		if (is_dot(de->d_name))
			continue;
		snprintf(rel, sizeof(rel), "vms/%s/%s", name, de->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		p = realloc(f, (n + 1) * sizeof(*f));
		if (!p) {
			e = -ENOMEM;
			break;
		}
		f = p;
		memset(&f[n], 0, sizeof(f[n]));
		snprintf(f[n].rel, sizeof(f[n].rel), "%s", rel);
		if (strlen(rel) >= sizeof(f[n].rel) || cat_file_ident(path, &f[n].id))
			e = lose(r, rel, "not a VHD");
		else
			f[n++].ok = true;
	}
	closedir(d);
	if (!e && n)
		e = vm_build(r, name, f, n);
	free(f);
	return e;
}

static int vms_recover(struct rec *r)
{
	char dir[4300];
	struct dirent *de;
	int e = 0;
	DIR *d;

	if (cat_path(r->c, "vms", dir, sizeof(dir)) || !(d = opendir(dir)))
		return 0;
	while (!e && (de = readdir(d)))
		if (!is_dot(de->d_name))
			e = vm_recover(r, de->d_name);
	closedir(d);
	return e;
}

/* ---- moving and switching files ---- */

/* Renames @from to @to, or to "@to.N" when @to exists (never replaces
 * anything). 0 or -1 with errno. */
static int rename_new(const char *from, char *to, size_t len)
{
	size_t n = strlen(to);

	for (unsigned i = 1; i < 1000; i++) {
		if (!renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE))
			return 0;
		if (errno != EEXIST || n + 5 >= len)
			return -1;
		snprintf(to + n, len - n, ".%u", i);
	}
	return -1;
}

static int move_lost(struct rec *r)
{
	char from[4400], to[4600], dir[4600];

	for (unsigned i = 0; i < r->nlost; i++) {
		if (cat_path(r->c, r->lost[i], from, sizeof(from)))
			continue;
		snprintf(to, sizeof(to), "%s/lost+found/%s", r->c->dir, r->lost[i]);
		snprintf(dir, sizeof(dir), "%s", to);
		*strrchr(dir, '/') = '\0';
		if (fs_mkdir_p(dir) || rename_new(from, to, sizeof(to)))
			return img_fail(-errno, "cannot move %s to %s: %s", from, to,
					strerror(errno));
	}
	return 0;
}

/* Copies the old database files, as they are, into a new folder
 * STATE/catalog-damaged-<time>/ (kept). */
static int keep_old(struct rec *r)
{
	static const char *const olds[] = { "catalog.db", "catalog.db-wal", "catalog.db-shm" };
	char aside[4300], from[4300], to[4500], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	bool any = false;
	int e;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	e = cat_path(r->c, "catalog-damaged-", aside, sizeof(aside) - 40);
	if (e)
		return e;
	strcat(aside, stamp);
	for (size_t i = 0; i < sizeof(olds) / sizeof(olds[0]); i++) {
		cat_path(r->c, olds[i], from, sizeof(from));
		if (access(from, F_OK))
			continue;
		if (!any) {
			size_t n = strlen(aside);

			/* a new folder: another recovery may have used this second */
			for (unsigned k = 1; mkdir(aside, 0700); k++) {
				if (errno != EEXIST || k > 99)
					return img_fail(-errno, "%s: %s", aside, strerror(errno));
				snprintf(aside + n, sizeof(aside) - n, "-%u", k);
			}
		}
		any = true;
		snprintf(to, sizeof(to), "%s/%s", aside, olds[i]);
		e = cat_copy_file(from, to);
		if (e)
			return img_fail(e, "cannot keep %s as %s: %s", from, to, strerror(-e));
	}
	if (any) {
		img_fsync_path(aside);
		snprintf(r->res->aside, sizeof(r->res->aside), "%s", aside);
	}
	return 0;
}

/* Folds the WAL of a catalog that opens into its database (no change to
 * what it says), so that removing the WAL next loses nothing. */
static int fold_wal(struct rec *r)
{
	char path[4300];
	sqlite3 *db;
	int rc;

	cat_path(r->c, "catalog.db", path, sizeof(path));
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close_v2(db);
	return rc == SQLITE_OK ? 0 : img_fail(cat_sqlerr(rc), "cannot checkpoint %s", path);
}

/* Keeps a copy of the old database files, folds the WAL of a catalog that
 * opens (@readable), removes the old -wal and -shm (a stale WAL must never
 * meet the new database; a damaged catalog without them is as refused as
 * with them), then renames the new database over the old one: the one
 * step that switches. */
static int switch_in(struct rec *r, bool readable)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	char from[4300], to[4300];
	int e;

	e = keep_old(r);
	if (!e && readable)
		e = fold_wal(r);
	if (e)
		return e;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(from, sizeof(from), "%s/catalog.db%s", r->c->dir, sfx[i]);
		if (unlink(from) && errno != ENOENT)
			return img_fail(-errno, "%s: %s", from, strerror(errno));
	}
	cat_path(r->c, NEW_DB, from, sizeof(from));
	cat_path(r->c, "catalog.db", to, sizeof(to));
	e = img_fsync_path(from);
	if (!e && rename(from, to))
		e = -errno;
	if (e)
		return img_fail(e, "cannot switch the catalog: %s", strerror(-e));
	return img_fsync_path(r->c->dir);
}

static void remove_new(struct cat *c)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char path[4300];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", c->dir, NEW_DB, sfx[i]);
		unlink(path);
	}
}

/* Builds the new database: every row in one transaction, then out of WAL
 * mode so that it is one self-contained file. */
static int build(struct rec *r)
{
	int e;

	remove_new(r->c);
	e = cat_db_open(r->c, NEW_DB, 0);
	if (e)
		return img_fail(e, "cannot create %s: %s", NEW_DB, cat_errmsg(r->c));
	e = cat_begin(r->c);
	if (!e)
		e = images_recover(r);
	if (!e)
		e = vms_recover(r);
	if (!e) {
		note(r, "what only the catalog knew (image names, labels and metadata; VM cpus,"
		     " memory, lab, network, UUID and machine-id; snapshot tags) is lost, except"
		     " what is kept from the old catalog");
		e = cat_salvage(r->c, r->o ? r->o->note : NULL, r->o ? r->o->opaque : NULL);
	}
	if (!e)
		e = cat_commit(r->c);
	else
		cat_rollback(r->c);
	if (!e)
		e = cat_exec(r->c, "PRAGMA journal_mode=DELETE");
	sqlite3_close_v2(r->c->db);
	r->c->db = NULL;
	return e;
}

int cat_recover(const char *dir, const struct cat_recover_opts *o,
		struct cat_recover_result *res)
{
	struct rec r = { .o = o, .res = res };
	char path[4300];
	struct cat *h;
	int e, lock_fd = -1;
	bool readable;

	memset(res, 0, sizeof(*res));
	img_fail(0, "%s", "");
	e = cat_open(dir, &h);
	readable = !e;
	if (!e)
		cat_close(h);
	if ((!e || e == -EPROTO) && !(o && o->force))
		return img_fail(-EEXIST, e ? "the catalog was made by a newer vhdvisor" :
				"the catalog opens fine; nothing to recover (--force rebuilds it"
				" from the files anyway)");
	r.c = calloc(1, sizeof(*r.c));
	if (!r.c)
		return -ENOMEM;
	r.c->lock_fd = -1;
	if (!realpath(dir, r.c->dir)) {
		e = img_fail(-errno, "%s: %s", dir, strerror(errno));
		goto out;
	}
	e = cat_path(r.c, "lock", path, sizeof(path));
	if (e)
		goto out;
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX)) {
		e = img_fail(-errno, "cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	e = build(&r);
	if (e || (o && o->dry_run)) {
		remove_new(r.c);
		goto out;
	}
	e = move_lost(&r);
	if (!e)
		e = switch_in(&r, readable);
	if (e)
		remove_new(r.c);
out:
	if (lock_fd >= 0)
		close(lock_fd);
	free(r.imgs);
	free(r.lost);
	cat_close(r.c);
	return e;
}
