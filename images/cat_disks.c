/* images/cat_disks.c: rows of VMs' extra data disks. */
#include "images/cat_int.h"
#include "images/cat_vm.h"

#include <errno.h>
#include <string.h>

int cat_disk_add(struct cat *c, const struct cat_disk *d)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "INSERT INTO disks(vm, idx, file, created) VALUES(?, ?, ?, ?)", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, d->vm);
	sqlite3_bind_int64(st, 2, d->idx);
	cat_bind_text(st, 3, d->file);
	sqlite3_bind_int64(st, 4, d->created);
	return cat_step_write(c, st, false);
}

static void disk_row(sqlite3_stmt *st, struct cat_disk *d)
{
	memset(d, 0, sizeof(*d));
	cat_col_text(st, 0, d->vm, sizeof(d->vm));
	d->idx = (unsigned)sqlite3_column_int64(st, 1);
	cat_col_text(st, 2, d->file, sizeof(d->file));
	d->created = sqlite3_column_int64(st, 3);
}

int cat_disk_get(struct cat *c, const char *vm, unsigned idx, struct cat_disk *out)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "SELECT vm, idx, file, created FROM disks WHERE vm = ? AND idx = ?",
			&st);
	if (r)
		return r;
	cat_bind_text(st, 1, vm);
	sqlite3_bind_int64(st, 2, idx);
	r = cat_step_row(st);
	if (r)
		return r;
	disk_row(st, out);
	sqlite3_finalize(st);
	return 0;
}

int cat_disk_del(struct cat *c, const char *vm, unsigned idx)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "DELETE FROM disks WHERE vm = ? AND idx = ?", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, vm);
	sqlite3_bind_int64(st, 2, idx);
	return cat_step_write(c, st, true);
}

int cat_disk_foreach(struct cat *c, const char *vm,
		     int (*fn)(void *opaque, const struct cat_disk *d), void *opaque)
{
	struct cat_disk d;
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT vm, idx, file, created FROM disks WHERE vm = ? ORDER BY idx",
			&st);
	if (r)
		return r;
	cat_bind_text(st, 1, vm);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		disk_row(st, &d);
		r = fn(opaque, &d);
		if (r)
			break;
	}
	sqlite3_finalize(st);
	return r ? r : cat_sqlerr(rc);
}
