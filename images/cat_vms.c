/* images/cat_vms.c: rows of VMs, layers, snapshots and labs. */
#include "images/cat_int.h"
#include "images/cat_vm.h"

#include <errno.h>
#include <string.h>

/* ---- VMs ---- */

#define VM_COLS "name, state, image, cpus, mem, mac, uuid, machine_id, top, lab, net, created," \
		" cloud_init"

static void vm_from_row(sqlite3_stmt *st, struct cat_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	cat_col_text(st, 0, vm->name, sizeof(vm->name));
	cat_col_text(st, 1, vm->state, sizeof(vm->state));
	cat_col_text(st, 2, vm->image, sizeof(vm->image));
	vm->cpus = (unsigned)sqlite3_column_int(st, 3);
	vm->mem = (uint64_t)sqlite3_column_int64(st, 4);
	cat_col_text(st, 5, vm->mac, sizeof(vm->mac));
	cat_col_text(st, 6, vm->uuid, sizeof(vm->uuid));
	cat_col_text(st, 7, vm->machine_id, sizeof(vm->machine_id));
	vm->top = sqlite3_column_int64(st, 8);
	cat_col_text(st, 9, vm->lab, sizeof(vm->lab));
	cat_col_text(st, 10, vm->net, sizeof(vm->net));
	vm->created = sqlite3_column_int64(st, 11);
	vm->cloud_init = sqlite3_column_int(st, 12);
}

int cat_vm_add(struct cat *c, const struct cat_vm *vm)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "INSERT INTO vms(" VM_COLS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, vm->name);
	cat_bind_text(st, 2, vm->state);
	if (vm->image[0])
		cat_bind_text(st, 3, vm->image);
	sqlite3_bind_int(st, 4, (int)vm->cpus);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)vm->mem);
	cat_bind_text(st, 6, vm->mac);
	cat_bind_text(st, 7, vm->uuid);
	cat_bind_text(st, 8, vm->machine_id);
	sqlite3_bind_int64(st, 9, vm->top);
	cat_bind_text(st, 10, vm->lab);
	cat_bind_text(st, 11, vm->net);
	sqlite3_bind_int64(st, 12, vm->created);
	sqlite3_bind_int(st, 13, vm->cloud_init);
	return cat_step_write(c, st, false);
}

int cat_vm_get(struct cat *c, const char *name, struct cat_vm *out)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "SELECT " VM_COLS " FROM vms WHERE name = ?", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, name);
	r = cat_step_row(st);
	if (r)
		return r;
	vm_from_row(st, out);
	sqlite3_finalize(st);
	return 0;
}

int cat_vm_update(struct cat *c, const struct cat_vm *vm)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "UPDATE vms SET state = ?2, cpus = ?3, mem = ?4, top = ?5,"
			" lab = ?6, net = ?7, image = ?8, cloud_init = ?9 WHERE name = ?1", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, vm->name);
	cat_bind_text(st, 2, vm->state);
	sqlite3_bind_int(st, 3, (int)vm->cpus);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)vm->mem);
	sqlite3_bind_int64(st, 5, vm->top);
	cat_bind_text(st, 6, vm->lab);
	cat_bind_text(st, 7, vm->net);
	if (vm->image[0])
		cat_bind_text(st, 8, vm->image);
	sqlite3_bind_int(st, 9, vm->cloud_init);
	return cat_step_write(c, st, true);
}

int cat_vm_del(struct cat *c, const char *name)
{
	static const char *const sqls[] = {
		"DELETE FROM snapshots WHERE vm = ?",
		"DELETE FROM disks WHERE vm = ?",
		/* children before parents: clear the tree's links first */
		"UPDATE layers SET parent = NULL WHERE vm = ?",
		"DELETE FROM layers WHERE vm = ?",
	};
	sqlite3_stmt *st;
	int own, r = 0;

	own = cat_auto_begin(c);
	if (own < 0)
		return own;
	for (size_t i = 0; !r && i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		r = cat_prepare(c, sqls[i], &st);
		if (!r) {
			cat_bind_text(st, 1, name);
			r = cat_step_write(c, st, false);
		}
	}
	if (!r)
		r = cat_prepare(c, "DELETE FROM vms WHERE name = ?", &st);
	if (!r) {
		cat_bind_text(st, 1, name);
		r = cat_step_write(c, st, true);
	}
	return cat_auto_end(c, own, r);
}

int cat_vm_foreach(struct cat *c, const char *image, const char *lab,
		   int (*fn)(void *opaque, const struct cat_vm *vm), void *opaque)
{
	struct cat_vm vm;
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT " VM_COLS " FROM vms WHERE (?1 IS NULL OR image = ?1)"
			" AND (?2 IS NULL OR lab = ?2) ORDER BY name", &st);
	if (r)
		return r;
	if (image)
		cat_bind_text(st, 1, image);
	if (lab)
		cat_bind_text(st, 2, lab);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		vm_from_row(st, &vm);
		r = fn(opaque, &vm);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	return r;
}

int cat_vm_foreach_top(struct cat *c,
		       int (*fn)(void *opaque, const struct cat_vm *vm, const char *top_file),
		       void *opaque)
{
	char file[sizeof(((struct cat_layer *)0)->file)];
	struct cat_vm vm;
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT " VM_COLS ", (SELECT file FROM layers WHERE id = vms.top)"
			" FROM vms ORDER BY name", &st);
	if (r)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		vm_from_row(st, &vm);
		cat_col_text(st, 13, file, sizeof(file));
		r = fn(opaque, &vm, file);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	return r;
}

/* ---- layers ---- */

#define LAYER_COLS "id, vm, file, parent, standalone, created"

static void layer_from_row(sqlite3_stmt *st, struct cat_layer *l)
{
	memset(l, 0, sizeof(*l));
	l->id = sqlite3_column_int64(st, 0);
	cat_col_text(st, 1, l->vm, sizeof(l->vm));
	cat_col_text(st, 2, l->file, sizeof(l->file));
	l->parent = sqlite3_column_int64(st, 3);	/* NULL reads as 0 */
	l->standalone = sqlite3_column_int(st, 4);
	l->created = sqlite3_column_int64(st, 5);
}

static void bind_layer_ref(sqlite3_stmt *st, int i, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

int cat_layer_add(struct cat *c, const struct cat_layer *l, int64_t *id)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "INSERT INTO layers(vm, file, parent, standalone, created)"
			" VALUES(?,?,?,?,?)", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, l->vm);
	cat_bind_text(st, 2, l->file);
	bind_layer_ref(st, 3, l->parent);
	sqlite3_bind_int(st, 4, l->standalone);
	sqlite3_bind_int64(st, 5, l->created);
	r = cat_step_write(c, st, false);
	if (!r)
		*id = sqlite3_last_insert_rowid(c->db);
	return r;
}

int cat_layer_get(struct cat *c, int64_t id, struct cat_layer *out)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "SELECT " LAYER_COLS " FROM layers WHERE id = ?", &st);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = cat_step_row(st);
	if (r)
		return r;
	layer_from_row(st, out);
	sqlite3_finalize(st);
	return 0;
}

int cat_layer_update(struct cat *c, const struct cat_layer *l)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "UPDATE layers SET parent = ?2, standalone = ?3, file = ?4"
			" WHERE id = ?1", &st);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, l->id);
	bind_layer_ref(st, 2, l->parent);
	sqlite3_bind_int(st, 3, l->standalone);
	cat_bind_text(st, 4, l->file);
	return cat_step_write(c, st, true);
}

static int count1(struct cat *c, const char *sql, int64_t id, int64_t *n)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, sql, &st);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = cat_step_row(st);
	if (r)
		return r;
	*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int cat_layer_refs(struct cat *c, int64_t id, int64_t *children, int64_t *snapshots)
{
	int r = count1(c, "SELECT count(*) FROM layers WHERE parent = ?", id, children);

	if (!r)
		r = count1(c, "SELECT count(*) FROM snapshots WHERE layer = ?", id, snapshots);
	return r;
}

int cat_layer_del(struct cat *c, int64_t id)
{
	int64_t children = 0, snaps = 0, tops = 0;
	sqlite3_stmt *st;
	int own, r;

	own = cat_auto_begin(c);
	if (own < 0)
		return own;
	r = cat_layer_refs(c, id, &children, &snaps);
	if (!r)
		r = count1(c, "SELECT count(*) FROM vms WHERE top = ?", id, &tops);
	if (!r && (children || snaps || tops))
		r = -EBUSY;
	if (!r)
		r = cat_prepare(c, "DELETE FROM layers WHERE id = ?", &st);
	if (!r) {
		sqlite3_bind_int64(st, 1, id);
		r = cat_step_write(c, st, true);
	}
	return cat_auto_end(c, own, r);
}

int cat_layer_foreach(struct cat *c, const char *vm,
		      int (*fn)(void *opaque, const struct cat_layer *l), void *opaque)
{
	struct cat_layer l;
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT " LAYER_COLS " FROM layers WHERE ?1 IS NULL OR vm = ?1"
			" ORDER BY id", &st);
	if (r)
		return r;
	if (vm)
		cat_bind_text(st, 1, vm);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		layer_from_row(st, &l);
		r = fn(opaque, &l);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	return r;
}

/* ---- snapshots ---- */

int cat_snap_add(struct cat *c, const struct cat_snapshot *s)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "INSERT INTO snapshots(vm, tag, layer, created) VALUES(?,?,?,?)", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, s->vm);
	cat_bind_text(st, 2, s->tag);
	sqlite3_bind_int64(st, 3, s->layer);
	sqlite3_bind_int64(st, 4, s->created);
	return cat_step_write(c, st, false);
}

static void snap_from_row(sqlite3_stmt *st, struct cat_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	cat_col_text(st, 0, s->vm, sizeof(s->vm));
	cat_col_text(st, 1, s->tag, sizeof(s->tag));
	s->layer = sqlite3_column_int64(st, 2);
	s->created = sqlite3_column_int64(st, 3);
}

int cat_snap_get(struct cat *c, const char *vm, const char *tag, struct cat_snapshot *out)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "SELECT vm, tag, layer, created FROM snapshots"
			" WHERE vm = ? AND tag = ?", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, vm);
	cat_bind_text(st, 2, tag);
	r = cat_step_row(st);
	if (r)
		return r;
	snap_from_row(st, out);
	sqlite3_finalize(st);
	return 0;
}

int cat_snap_del(struct cat *c, const char *vm, const char *tag)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "DELETE FROM snapshots WHERE vm = ? AND tag = ?", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, vm);
	cat_bind_text(st, 2, tag);
	return cat_step_write(c, st, true);
}

int cat_snap_foreach(struct cat *c, const char *vm,
		     int (*fn)(void *opaque, const struct cat_snapshot *s), void *opaque)
{
	struct cat_snapshot s;
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT vm, tag, layer, created FROM snapshots WHERE vm = ?"
			" ORDER BY created, rowid", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, vm);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snap_from_row(st, &s);
		r = fn(opaque, &s);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	return r;
}

/* ---- labs ---- */

int cat_lab_add(struct cat *c, const struct cat_lab *l)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "INSERT INTO labs(name, image, count, net, created)"
			" VALUES(?,?,?,?,?)", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, l->name);
	cat_bind_text(st, 2, l->image);
	sqlite3_bind_int(st, 3, (int)l->count);
	cat_bind_text(st, 4, l->net);
	sqlite3_bind_int64(st, 5, l->created);
	return cat_step_write(c, st, false);
}

static void lab_from_row(sqlite3_stmt *st, struct cat_lab *l)
{
	memset(l, 0, sizeof(*l));
	cat_col_text(st, 0, l->name, sizeof(l->name));
	cat_col_text(st, 1, l->image, sizeof(l->image));
	l->count = (unsigned)sqlite3_column_int(st, 2);
	cat_col_text(st, 3, l->net, sizeof(l->net));
	l->created = sqlite3_column_int64(st, 4);
}

int cat_lab_get(struct cat *c, const char *name, struct cat_lab *out)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "SELECT name, image, count, net, created FROM labs WHERE name = ?", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, name);
	r = cat_step_row(st);
	if (r)
		return r;
	lab_from_row(st, out);
	sqlite3_finalize(st);
	return 0;
}

int cat_lab_del(struct cat *c, const char *name)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "DELETE FROM labs WHERE name = ?", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, name);
	return cat_step_write(c, st, true);
}

int cat_lab_foreach(struct cat *c, int (*fn)(void *opaque, const struct cat_lab *l),
		    void *opaque)
{
	struct cat_lab l;
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT name, image, count, net, created FROM labs ORDER BY name", &st);
	if (r)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		lab_from_row(st, &l);
		r = fn(opaque, &l);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	return r;
}
