/* images/img_gc.c: removing what interrupted operations left behind. */
#include "images/cat_int.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrec_int.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
					     (de->d_name[1] == '.' && !de->d_name[2])))
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

static int drop_creating(void *opaque, const struct cat_vm *vm)
{
	struct cat *c = ((void **)opaque)[0];
	unsigned *n = ((void **)opaque)[1];

	if (strcmp(vm->state, CAT_VM_CREATING))
		return 0;
	if (!cat_vm_del(c, vm->name))
		(*n)++;
	return 0;
}

int img_gc(struct cat *c, struct img_gc_result *res)
{
	static const char layer_sql[] = "SELECT 1 FROM layers WHERE file = ?1"
					   " UNION ALL SELECT 1 FROM disks WHERE file = ?1";
	char vms[4300], sub[4400], path[4600];
	void *ctx[2] = { c, &res->vms_removed };
	struct dirent *de;
	DIR *d;
	int r;

	memset(res, 0, sizeof(*res));
	r = cat_lock_exclusive(c);
	if (r)
		return img_fail(r, "cannot lock the state directory: %s", strerror(-r));
	/* Rows first (one transaction), then every file no row names. */
	r = cat_begin(c);
	if (!r)
		r = cat_vm_foreach(c, NULL, NULL, drop_creating, ctx);
	if (!r)
		r = cat_commit(c);
	if (r) {
		cat_rollback(c);
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	}
	res->tmp_removed = sweep(c, "tmp", NULL, NULL, 0);
	res->files_removed = sweep(c, "images", "SELECT 1 FROM images WHERE file = ?", NULL, 0);
	if (cat_path(c, "vms", vms, sizeof(vms)) || !(d = opendir(vms)))
		return 0;
	while ((de = readdir(d))) {
		char (*keep)[192];
		unsigned nkeep;

		if (de->d_name[0] == '.')
			continue;
		/* an interrupted snapshot-rm that can still resume keeps its
		 * journal and new files; any other journal is swept */
		if (vmrec_merge_keep(c, de->d_name, &keep, &nkeep))
			continue;
		snprintf(sub, sizeof(sub), "vms/%s", de->d_name);
		res->files_removed += sweep(c, sub, layer_sql, keep, nkeep);
		free(keep);
		snprintf(path, sizeof(path), "%s/%s", vms, de->d_name);
		rmdir(path);	/* only when empty */
	}
	closedir(d);
	return 0;
}
