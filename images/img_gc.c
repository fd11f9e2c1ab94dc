/* images/img_gc.c: removing what interrupted operations left behind, and
 * nothing the catalog cannot account for (unless forced). */
#include "images/cat_int.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrec_int.h"
#include "images/vmrec_journal.h"
#include "vhd/vhd.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gc {
	struct cat *c;
	const struct img_gc_opts *o;
	struct img_gc_result *res;
	char (*known)[CAT_NAME_MAX + 1];  /* every VM the catalog had */
	unsigned nknown;
	uint8_t (*parents)[16];           /* parent UUIDs of files under vms/ */
	unsigned nparents;
};

/* True when a row of @table has @rel as its file (or on errors: keep it). */
static bool referenced(struct cat *c, const char *sql, const char *rel)
{
	sqlite3_stmt *st;
	int rc;

	if (cat_prepare(c, sql, &st))
		return true;
	sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc != SQLITE_DONE;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static bool kept(char (*keep)[192], unsigned nkeep, const char *rel)
{
	for (unsigned i = 0; i < nkeep; i++)
		if (!strcmp(keep[i], rel))
			return true;
	return false;
}

static bool is_dot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* Removes the files of folder @rel_dir that no row names and @keep does
 * not list (everything, folders included, when @sql is NULL). Returns how
 * many entries went. */
static unsigned sweep(struct cat *c, const char *rel_dir, const char *sql, char (*keep)[192],
		      unsigned nkeep)
{
	char dir[4300], rel[4400], path[4600];
	unsigned n = 0;
	struct dirent *de;
	DIR *d;

	if (cat_path(c, rel_dir, dir, sizeof(dir)) || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		if (is_dot(de->d_name))
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", rel_dir, de->d_name);
		if (sql && (referenced(c, sql, rel) || kept(keep, nkeep, rel)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!sql && de->d_type == DT_DIR) {
			nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);	/* an unpacked bundle */
			n++;
		} else if (!unlink(path)) {
			n++;
		}
	}
	closedir(d);
	return n;
}

/* A file or folder gc cannot account for: removed with --force, else
 * reported and kept. */
static void unaccounted(struct gc *g, const char *rel, const char *why)
{
	char path[4600];

	if (!g->o || !g->o->force) {
		g->res->kept++;
		if (g->o && g->o->kept)
			g->o->kept(g->o->opaque, rel, why);
		return;
	}
	if (cat_path(g->c, rel, path, sizeof(path)))
		return;
	if (!nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		g->res->forced_removed++;
}

static int note_vm(void *opaque, const struct cat_vm *vm)
{
	struct gc *g = opaque;
	void *p = realloc(g->known, (g->nknown + 1) * sizeof(*g->known));

	if (!p)
		return -ENOMEM;
	g->known = p;
	snprintf(g->known[g->nknown++], CAT_NAME_MAX + 1, "%s", vm->name);
	return 0;
}

static bool vm_known(const struct gc *g, const char *name)
{
	for (unsigned i = 0; i < g->nknown; i++)
		if (!strcmp(g->known[i], name))
			return true;
	return false;
}

static int drop_creating(void *opaque, const struct cat_vm *vm)
{
	struct gc *g = opaque;

	if (strcmp(vm->state, CAT_VM_CREATING))
		return 0;
	if (!cat_vm_del(g->c, vm->name))
		g->res->vms_removed++;
	return 0;
}

/* Collects the parent UUIDs of every differencing VHD under vms/. */
static int note_parents(struct gc *g)
{
	char vms[4300], sub[4600], path[4900];
	struct dirent *de, *fe;
	DIR *d, *f;

	if (cat_path(g->c, "vms", vms, sizeof(vms)) || !(d = opendir(vms)))
		return 0;
	while ((de = readdir(d))) {
		if (is_dot(de->d_name))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", vms, de->d_name);
		if (!(f = opendir(sub)))
			continue;
		while ((fe = readdir(f))) {
			struct cat_file_ident id;
			void *p;

			snprintf(path, sizeof(path), "%s/%s", sub, fe->d_name);
			if (is_dot(fe->d_name) || cat_file_ident(path, &id) || id.type != VHD_TYPE_DIFF)
				continue;
			p = realloc(g->parents, (g->nparents + 1) * sizeof(*g->parents));
			if (!p) {
				closedir(f);
				closedir(d);
				return -ENOMEM;
			}
			g->parents = p;
			memcpy(g->parents[g->nparents++], id.parent_uuid, 16);
		}
		closedir(f);
	}
	closedir(d);
	return 0;
}

static bool is_parent(const struct gc *g, const uint8_t uuid[16])
{
	for (unsigned i = 0; i < g->nparents; i++)
		if (!memcmp(g->parents[i], uuid, 16))
			return true;
	return false;
}

/* images/: a file no row names is the leftover of an interrupted import
 * or removal when it is named like an image and no VM layer on disk
 * chains to it; anything else there is not ours to remove. */
static void gc_images(struct gc *g)
{
	char dir[4300], rel[4400], path[4700];
	struct dirent *de;
	DIR *d;

	if (cat_path(g->c, "images", dir, sizeof(dir)) || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		struct cat_file_ident id;

		if (is_dot(de->d_name))
			continue;
		snprintf(rel, sizeof(rel), "images/%s", de->d_name);
		if (referenced(g->c, "SELECT 1 FROM images WHERE file = ?", rel))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!cat_name_is_id_file(de->d_name) || cat_file_ident(path, &id))
			unaccounted(g, rel, "not an image file");
		else if (is_parent(g, id.uuid))
			unaccounted(g, rel, "an image no row names, but VM layers on disk need it");
		else if (!unlink(path))
			g->res->files_removed++;
	}
	closedir(d);
}

/* True when entry @de of folder @dir is a folder (not following links). */
static bool entry_is_dir(const char *dir, const struct dirent *de)
{
	char path[4600];
	struct stat stb;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
	return !lstat(path, &stb) && S_ISDIR(stb.st_mode);
}

/* True when the folder of VM @vm, which the catalog does not know, holds
 * nothing but a merge journal and the new files it names: what a merge
 * left when its VM was removed. */
static bool merge_leftovers(struct gc *g, const char *vm)
{
	char dir[4400], rel[4700];
	struct dirent *de;
	bool ours = true;
	struct vmj j;
	DIR *d;

	snprintf(rel, sizeof(rel), "vms/%s", vm);
	if (cat_path(g->c, rel, dir, sizeof(dir)) || vmj_load(g->c, vm, &j))
		return false;
	if (!(d = opendir(dir))) {
		vmj_free(&j);
		return false;
	}
	while (ours && (de = readdir(d))) {
		bool named = !strcmp(de->d_name, VMJ_NAME);

		if (is_dot(de->d_name))
			continue;
		snprintf(rel, sizeof(rel), "vms/%s/%s", vm, de->d_name);
		for (unsigned i = 0; !named && i < j.nfiles; i++)
			named = !strcmp(j.files[i].new_file, rel);
		ours = named;
	}
	closedir(d);
	vmj_free(&j);
	return ours;
}

struct vfile {
	char rel[192];
	struct cat_file_ident id;
	bool below_top;      /* its chain reaches the VM's top layer */
};

/* Unreferenced files of known VM @vm that sit on its top layer (by parent
 * UUID, through other such files) where any of them holds data: layers
 * newer than the catalog (an older catalog than the files, e.g. a WAL
 * lost after a checkpoint), not leftovers (an interrupted snapshot leaves
 * an empty layer). Added to @keep and reported as unaccounted. */
static int newer_than_catalog(struct gc *g, const char *vm, char (**keep)[192], unsigned *nkeep)
{
	static const char layer_sql[] = "SELECT 1 FROM layers WHERE file = ?1"
					   " UNION ALL SELECT 1 FROM disks WHERE file = ?1";
	char dir[4400], path[4700], rel[4700];
	struct cat_file_ident top;
	struct vfile *f = NULL;
	struct cat_layer l;
	struct cat_vm v;
	struct dirent *de;
	bool data = false;
	unsigned n = 0;
	int r = 0;
	DIR *d;

	if (cat_vm_get(g->c, vm, &v) || cat_layer_get(g->c, v.top, &l) ||
	    cat_path(g->c, l.file, path, sizeof(path)) || cat_file_ident(path, &top))
		return 0;
	snprintf(rel, sizeof(rel), "vms/%s", vm);
	if (cat_path(g->c, rel, dir, sizeof(dir)) || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		struct vfile *p;

		snprintf(rel, sizeof(rel), "vms/%s/%s", vm, de->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (is_dot(de->d_name) || strlen(rel) >= 192 || referenced(g->c, layer_sql, rel))
			continue;
		if (!(p = realloc(f, (n + 1) * sizeof(*f)))) {
			r = -ENOMEM;
			break;
		}
		f = p;
		memset(&f[n], 0, sizeof(f[n]));
		snprintf(f[n].rel, sizeof(f[n].rel), "%s", rel);
		if (!cat_file_ident(path, &f[n].id) && f[n].id.type == VHD_TYPE_DIFF)
			n++;
	}
	closedir(d);
	for (unsigned i = 0; !r && i < n; i++) {
		const struct cat_file_ident *cur = &f[i].id;

		for (unsigned steps = 0; steps <= n; steps++) {
			unsigned k;

			if (!memcmp(cur->parent_uuid, top.uuid, 16)) {
				f[i].below_top = true;
				data = data || f[i].id.allocated;
				break;
			}
			for (k = 0; k < n && memcmp(f[k].id.uuid, cur->parent_uuid, 16); k++)
				;
			if (k == n)
				break;
			cur = &f[k].id;
		}
	}
	for (unsigned i = 0; !r && data && i < n; i++) {
		void *p;

		if (!f[i].below_top)
			continue;
		unaccounted(g, f[i].rel, "a layer on the VM's top that holds data: newer than"
			    " the catalog");
		if (g->o && g->o->force)
			continue;
		if (!(p = realloc(*keep, (*nkeep + 1) * 192))) {
			r = -ENOMEM;
			break;
		}
		*keep = p;
		snprintf((*keep)[(*nkeep)++], 192, "%s", f[i].rel);
	}
	free(f);
	return r;
}

/* vms/: files of the VMs the catalog knows that no row names are what
 * their interrupted operations left; a folder of a VM it does not know is
 * not accounted for unless it holds only a merge's leftovers. */
static void gc_vms(struct gc *g)
{
	static const char layer_sql[] = "SELECT 1 FROM layers WHERE file = ?1"
					   " UNION ALL SELECT 1 FROM disks WHERE file = ?1";
	char vms[4300], sub[4400], path[4600];
	struct dirent *de;
	DIR *d;

	if (cat_path(g->c, "vms", vms, sizeof(vms)) || !(d = opendir(vms)))
		return;
	while ((de = readdir(d))) {
		char (*keep)[192];
		unsigned nkeep;
		bool isdir;

		if (is_dot(de->d_name))
			continue;
		snprintf(sub, sizeof(sub), "vms/%s", de->d_name);
		isdir = entry_is_dir(vms, de);
		if (isdir && !vm_known(g, de->d_name) &&
		    merge_leftovers(g, de->d_name)) {
			g->res->files_removed += sweep(g->c, sub, NULL, NULL, 0);
			snprintf(path, sizeof(path), "%s/%s", vms, de->d_name);
			rmdir(path);
			continue;
		}
		if (!isdir || !vm_known(g, de->d_name)) {
			unaccounted(g, sub, isdir ? "the folder of a VM the"
				    " catalog does not know" : "not a VM folder");
			continue;
		}
		/* an interrupted snapshot-rm that can still resume keeps its
		 * journal and new files; any other journal is swept */
		if (vmrec_merge_keep(g->c, de->d_name, &keep, &nkeep))
			continue;
		if (newer_than_catalog(g, de->d_name, &keep, &nkeep)) {
			free(keep);
			continue;
		}
		g->res->files_removed += sweep(g->c, sub, layer_sql, keep, nkeep);
		free(keep);
		snprintf(path, sizeof(path), "%s/%s", vms, de->d_name);
		rmdir(path);	/* only when empty */
	}
	closedir(d);
}

int img_gc(struct cat *c, const struct img_gc_opts *o, struct img_gc_result *res)
{
	struct gc g = { .c = c, .o = o, .res = res };
	int r;

	memset(res, 0, sizeof(*res));
	r = cat_lock_exclusive(c);
	if (r)
		return img_fail(r, "cannot lock the state directory: %s", strerror(-r));
	/* Rows first (one transaction), then every file no row names. The
	 * VMs dropped here still count as known: their files are theirs. */
	r = cat_begin(c);
	if (!r)
		r = cat_vm_foreach(c, NULL, NULL, note_vm, &g);
	if (!r)
		r = cat_vm_foreach(c, NULL, NULL, drop_creating, &g);
	if (!r)
		r = cat_commit(c);
	if (!r)
		r = note_parents(&g);
	if (r) {
		cat_rollback(c);
		free(g.known);
		free(g.parents);
		return img_fail(r, "catalog: %s", r == -ENOMEM ? strerror(ENOMEM) : cat_errmsg(c));
	}
	res->tmp_removed = sweep(c, "tmp", NULL, NULL, 0);
	gc_images(&g);
	gc_vms(&g);
	free(g.known);
	free(g.parents);
	return 0;
}
