/* images/vmrec_merge.c: deleting a snapshot and merging the layer it
 * freed into its only child, crash-safe and resumable.
 *
 * VHD children name their parent by UUID, so a layer cannot be spliced
 * out in place. Instead the child C is rebuilt as C' on the freed layer
 * L's parent, holding C's view of every range L or C held, and each layer
 * above C is rebuilt on its new parent with its own data (normally just
 * the VM's top). The new files get fresh names; one transaction then
 * deletes the snapshot and L and points the rows at the new files, and
 * only after that are the old files removed.
 *
 * The merge keeps a journal (images/vmrec_journal.h) from before the
 * first new file exists until the old files are gone: the layer rows and
 * source file identities it started from, the new files, and how far each
 * copy is durable (a checkpoint every VMREC_MERGE_CHECKPOINT bytes, after
 * a flush of the new file). A rerun of the same snapshot-rm continues from
 * the checkpoints when the rows and every source are unchanged and the new
 * files are what the journal says; it finishes the cleanup when the
 * switch was already committed; anything else (another tag, a changed
 * source such as a top the VM wrote into, a damaged journal) is discarded
 * with its new files and the merge starts over. A failure the process
 * sees itself (e.g. no space) removes the new files and the journal. image
 * gc keeps the files of a journal that can still resume (vmrec_merge_keep).
 *
 * Reporting: the first progress call gives the bytes already copied (> 0
 * only when resuming); on success img_last_error() holds a note about a
 * journal that was finished or discarded, or "".
 */
#include "images/vmrec_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img_store.h"
#include "images/vmrec_journal.h"
#include "vhd/vhd.h"

#define VMREC_MERGE_CHECKPOINT (32ull << 20)

struct layers {
	struct cat_layer *l;
	unsigned n, cap;
};

static int collect(void *opaque, const struct cat_layer *l)
{
	struct layers *s = opaque;

	if (s->n == s->cap) {
		unsigned cap = s->cap ? 2 * s->cap : 16;
		void *p = realloc(s->l, cap * sizeof(*s->l));

		if (!p)
			return -ENOMEM;
		s->l = p;
		s->cap = cap;
	}
	s->l[s->n++] = *l;
	return 0;
}

static int children_of(const struct layers *s, int64_t id, unsigned *first)
{
	int n = 0;

	for (unsigned i = 0; i < s->n; i++) {
		if (s->l[i].parent == id) {
			if (!n)
				*first = i;
			n++;
		}
	}
	return n;
}

static int path_of(struct cat *c, const char *rel, char *out)
{
	return cat_path(c, rel, out, VMREC_PATH_MAX);
}

static bool ident_eq(const struct vmj_ident *a, const struct vmj_ident *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* ---- judging a journal against the catalog and the files ---- */

enum jstate { J_STALE, J_RESUMABLE, J_COMMITTED };

struct file_ref {
	const char *file;
	bool found;
};

static int find_file(void *opaque, const struct cat_layer *l)
{
	struct file_ref *f = opaque;

	f->found |= !strcmp(l->file, f->file);
	return 0;
}

static int find_disk(void *opaque, const struct cat_disk *d)
{
	struct file_ref *f = opaque;

	f->found |= !strcmp(d->file, f->file);
	return 0;
}

/* True when a row names @rel (or when that cannot be told: keep it). */
static bool referenced(struct cat *c, const char *vm, const char *rel)
{
	struct file_ref f = { .file = rel };

	if (cat_layer_foreach(c, NULL, find_file, &f) || cat_disk_foreach(c, vm, find_disk, &f))
		return true;
	return f.found;
}

static bool rows_match(const struct vmj *j, const struct layers *now)
{
	if (now->n != j->nrows)
		return false;
	for (unsigned i = 0; i < now->n; i++) {
		const struct cat_layer *l = &now->l[i];
		const struct vmj_row *r = &j->rows[i];

		if (l->id != r->id || l->parent != r->parent || l->standalone != r->standalone ||
		    strcmp(l->file, r->file))
			return false;
	}
	return true;
}

static bool sources_match(struct cat *c, const struct vmj *j, char *why, size_t len)
{
	char path[VMREC_PATH_MAX];
	struct vmj_ident id;

	for (unsigned i = 0; i < j->nsrc; i++) {
		if (path_of(c, j->src[i].file, path) || vmj_ident_of(path, &id) ||
		    !ident_eq(&id, &j->src[i].id)) {
			snprintf(why, len, "%s changed since", j->src[i].file);
			return false;
		}
	}
	return true;
}

static bool committed(struct cat *c, const struct vmj *j)
{
	struct cat_layer l;

	if (cat_layer_get(c, j->snap_layer, &l) != -ENOENT)
		return false;
	for (unsigned i = 0; i < j->nfiles; i++)
		if (cat_layer_get(c, j->files[i].layer, &l) || strcmp(l.file, j->files[i].new_file))
			return false;
	return true;
}

/* Where @j stands; for J_STALE the reason goes to @why. */
static enum jstate judge(struct cat *c, const struct vmj *j, char *why, size_t len)
{
	struct layers now = { 0 };
	struct cat_snapshot s;
	struct cat_vm vm;
	enum jstate st = J_STALE;

	snprintf(why, len, "the VM's layers changed since");
	if (cat_vm_get(c, j->vm, &vm)) {
		snprintf(why, len, "the VM is gone");
		return J_STALE;
	}
	switch (cat_snap_get(c, j->vm, j->tag, &s)) {
	case 0:
		break;
	case -ENOENT:
		return committed(c, j) ? J_COMMITTED : J_STALE;
	default:
		snprintf(why, len, "catalog: %s", cat_errmsg(c));
		return J_STALE;
	}
	if (s.layer != j->snap_layer || vm.top != j->top ||
	    cat_layer_foreach(c, j->vm, collect, &now) || !rows_match(j, &now))
		goto out;
	if (sources_match(c, j, why, len))
		st = J_RESUMABLE;
out:
	free(now.l);
	return st;
}

/* Absolute path of the file new file @i sits on ("" when standalone). */
static int parent_of(struct cat *c, const struct vmj *j, unsigned i, char *out)
{
	const char *rel = j->files[i].parent < 0 ? j->base : j->files[j->files[i].parent].new_file;

	out[0] = '\0';
	return rel[0] ? path_of(c, rel, out) : 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The new files a resume continues: each started one opens as a VHD of
 * the right size on the right parent. */
static bool new_files_ok(struct cat *c, const struct vmj *j, char *why, size_t len)
{
	char path[VMREC_PATH_MAX], parent[VMREC_PATH_MAX];
	struct vhd_info *info = malloc(sizeof(*info));
	bool ok = info != NULL;

	for (unsigned i = 0; ok && i < j->nfiles; i++) {
		const struct vmj_file *f = &j->files[i];
		struct vhd *v;

		if (!f->done)
			continue;	/* made afresh */
		ok = !path_of(c, f->new_file, path) && !parent_of(c, j, i, parent) &&
		     !vhd_open(path, NULL, &v);
		if (ok) {
			ok = !vhd_get_info(v, info) && info->size == f->size &&
			     (parent[0] ? info->type == VHD_TYPE_DIFF &&
					  info->parent_uuid_match &&
					  same_file(info->parent_path, parent)
					: info->type == VHD_TYPE_DYNAMIC);
			vhd_close(v);
		}
		if (!ok)
			snprintf(why, len, "its new file %s is missing or not what it names",
				 f->new_file);
	}
	if (!info)
		snprintf(why, len, "out of memory");
	free(info);
	return ok;
}

/* Removes every file @j names that no row refers to (new files of an
 * unfinished merge, old ones of a committed one), then @j itself. */
static void discard(struct cat *c, const struct vmj *j)
{
	char one[1][192];

	for (unsigned i = 0; i < j->nfiles; i++) {
		const char *f[2] = { j->files[i].new_file, j->files[i].old_file };

		for (int k = 0; k < 2; k++) {
			if (referenced(c, j->vm, f[k]))
				continue;
			snprintf(one[0], sizeof(one[0]), "%s", f[k]);
			vmrec_unlink_files(c, one, 1);
		}
	}
	for (unsigned i = 0; i < j->nrows; i++) {
		/* L's file, when it is a layer name of this VM's folder */
		if (j->rows[i].id != j->snap_layer || !vmj_layer_name(j->vm, j->rows[i].file) ||
		    referenced(c, j->vm, j->rows[i].file))
			continue;
		snprintf(one[0], sizeof(one[0]), "%s", j->rows[i].file);
		vmrec_unlink_files(c, one, 1);
	}
	vmj_remove(c, j->vm);
}

int vmrec_merge_keep(struct cat *c, const char *vm, char (**keep)[192], unsigned *n)
{
	char why[256];
	struct vmj j;
	int r;

	*keep = NULL;
	*n = 0;
	r = vmj_load(c, vm, &j);
	if (r)
		return r == -ENOENT || r == -EINVAL ? 0 : r;
	if (judge(c, &j, why, sizeof(why)) == J_RESUMABLE) {
		*keep = calloc(j.nfiles + 1, 192);
		if (!*keep) {
			vmj_free(&j);
			return -ENOMEM;
		}
		vmj_rel(vm, (*keep)[0]);
		for (unsigned i = 0; i < j.nfiles; i++)
			snprintf((*keep)[i + 1], 192, "%s", j.files[i].new_file);
		*n = j.nfiles + 1;
	}
	vmj_free(&j);
	return 0;
}

/* ---- running a journaled merge ---- */

struct run {
	struct cat *c;
	struct vmj *j;
	unsigned i;                /* file being copied */
	uint64_t done, total;      /* bytes, for progress */
	img_progress_fn progress;
	void *opaque;
};

static int on_checkpoint(void *opaque, uint64_t off)
{
	struct run *run = opaque;

	run->j->files[run->i].done = off;
	return vmj_save(run->c, run->j);
}

static void on_advance(void *opaque, uint64_t bytes)
{
	struct run *run = opaque;

	run->done += bytes;
	if (run->progress)
		run->progress(run->opaque, run->done, run->total);
}

/* Makes new file @i afresh (an earlier attempt may have left it). */
static int new_file(struct cat *c, const struct vmj *j, unsigned i)
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = j->files[i].size };
	char path[VMREC_PATH_MAX], parent[VMREC_PATH_MAX];
	int r;

	r = path_of(c, j->files[i].new_file, path);
	if (!r)
		r = parent_of(c, j, i, parent);
	if (r)
		return r;
	if (unlink(path) && errno != ENOENT)
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	if (parent[0]) {
		co.type = VHD_TYPE_DIFF;
		co.parent = parent;
	}
	r = vhd_create(path, &co);
	return r ? img_fail(r, "cannot create %s: %s", path, vhd_last_error()) : 0;
}

/* The switch, in one transaction: the snapshot and L go, the rebuilt
 * layers point at their new files. */
static int switch_rows(struct cat *c, const struct vmj *j, const struct cat_layer *L)
{
	int r;

	r = cat_begin(c);
	if (r)
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	r = cat_snap_del(c, j->vm, j->tag);
	for (unsigned i = 0; !r && i < j->nfiles; i++) {
		struct cat_layer nl;

		r = cat_layer_get(c, j->files[i].layer, &nl);
		if (r)
			break;
		snprintf(nl.file, sizeof(nl.file), "%s", j->files[i].new_file);
		if (i == 0) {
			nl.parent = L->parent;
			nl.standalone = L->standalone;
		}
		r = cat_layer_update(c, &nl);
	}
	if (!r)
		r = cat_layer_del(c, L->id);
	if (!r)
		r = cat_commit(c);
	if (r) {
		img_fail(r, "catalog: %s", cat_errmsg(c));
		cat_rollback(c);
	}
	return r;
}

/* Copies what is left of every new file, switches, removes the old files
 * and the journal. A failure this process sees (no space, a bad source,
 * a busy catalog) removes the new files and the journal, so that nothing
 * holds space; only a crash leaves a journal to resume. */
static int run_merge(struct cat *c, struct vmj *j, img_progress_fn progress, void *opaque)
{
	struct run run = { .c = c, .j = j, .progress = progress, .opaque = opaque };
	char src[VMREC_PATH_MAX], dst[VMREC_PATH_MAX];
	struct vmrec_copy_count cnt;
	struct cat_layer L;
	int r = 0;

	for (unsigned i = 0; !r && i < j->nfiles; i++) {
		r = path_of(c, j->files[i].old_file, src);
		if (!r)
			r = vmrec_copy_measure(src, j->files[i].depth, j->files[i].done, &cnt);
		if (!r) {
			run.total += cnt.total;
			run.done += cnt.below;
		}
	}
	if (r)
		goto fail;
	if (progress)
		progress(opaque, run.done, run.total);
	for (unsigned i = 0; !r && i < j->nfiles; i++) {
		struct vmj_file *f = &j->files[i];
		struct vmrec_copy_job job = {
			.max_depth = f->depth, .start = f->done, .every = VMREC_MERGE_CHECKPOINT,
			.checkpoint = on_checkpoint, .advance = on_advance, .opaque = &run,
		};

		if (f->done == f->size)
			continue;
		run.i = i;
		r = path_of(c, f->old_file, src);
		if (!r)
			r = path_of(c, f->new_file, dst);
		if (!r && !f->done)
			r = new_file(c, j, i);
		if (!r)
			r = vmrec_copy_run(src, dst, &job);
	}
	if (!r)
		r = cat_layer_get(c, j->snap_layer, &L);
	if (!r)
		r = switch_rows(c, j, &L);
	if (r)
		goto fail;
	if (progress)
		progress(opaque, run.total, run.total);
	discard(c, j);	/* now: the old files and the journal */
	return 0;
fail:
	discard(c, j);	/* the new files and the journal */
	return r;
}

/* ---- planning a fresh merge ---- */

static int add_source(struct cat *c, struct vmj *j, const char *rel)
{
	char path[VMREC_PATH_MAX];
	struct vmj_src *s = &j->src[j->nsrc];
	int r;

	snprintf(s->file, sizeof(s->file), "%s", rel);
	r = path_of(c, rel, path);
	if (!r)
		r = vmj_ident_of(path, &s->id);
	if (r)
		return img_fail(r, "%s: %s", rel, strerror(-r));
	j->nsrc++;
	return 0;
}

/* Adds layer @li of @s as new file on new file @parent, then everything
 * above it, depth-first. */
static int plan_add(struct cat *c, struct vmj *j, const struct layers *s, unsigned li,
		    int parent)
{
	char path[VMREC_PATH_MAX];
	struct vmrec_copy_count cnt;
	struct vmj_file *f = &j->files[j->nfiles];
	unsigned me = j->nfiles;
	int r;

	f->layer = s->l[li].id;
	f->parent = parent;
	f->depth = parent < 0 ? 2 : 1;
	snprintf(f->old_file, sizeof(f->old_file), "%s", s->l[li].file);
	r = vmrec_file_name(c, j->vm, f->new_file, path, sizeof(path));
	if (!r)
		r = path_of(c, f->old_file, path);
	if (!r)
		r = vmrec_copy_measure(path, f->depth, 0, &cnt);
	if (r)
		return r;
	f->size = cnt.size;
	j->nfiles++;
	for (unsigned i = 0; !r && i < s->n; i++)
		if (s->l[i].parent == s->l[li].id)
			r = plan_add(c, j, s, i, (int)me);
	return r;
}

/* The journal of a fresh merge of layer @li into its child @ci. */
static int plan(struct cat *c, const struct cat_vm *vm, const char *tag, const struct layers *s,
		unsigned li, unsigned ci, struct vmj *j)
{
	const struct cat_layer *L = &s->l[li];
	struct cat_layer p;
	struct cat_image img;
	int r = 0;

	memset(j, 0, sizeof(*j));
	snprintf(j->vm, sizeof(j->vm), "%s", vm->name);
	snprintf(j->tag, sizeof(j->tag), "%s", tag);
	j->snap_layer = L->id;
	j->top = vm->top;
	if (L->parent) {
		r = cat_layer_get(c, L->parent, &p);
		snprintf(j->base, sizeof(j->base), "%s", p.file);
	} else if (!L->standalone) {
		r = cat_image_get(c, vm->image, &img);
		snprintf(j->base, sizeof(j->base), "%s", img.file);
	}
	if (r)
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	j->rows = calloc(s->n + 1, sizeof(*j->rows));
	j->src = calloc(s->n + 1, sizeof(*j->src));
	j->files = calloc(s->n + 1, sizeof(*j->files));
	if (!j->rows || !j->src || !j->files)
		return -ENOMEM;
	for (unsigned i = 0; !r && i < s->n; i++) {
		struct vmj_row *row = &j->rows[j->nrows++];

		row->id = s->l[i].id;
		row->parent = s->l[i].parent;
		row->standalone = s->l[i].standalone;
		snprintf(row->file, sizeof(row->file), "%s", s->l[i].file);
		r = add_source(c, j, s->l[i].file);
	}
	if (!r && j->base[0])
		r = add_source(c, j, j->base);
	if (!r)
		r = plan_add(c, j, s, ci, -1);
	return r;
}

/* Deletes only the snapshot row, and layers nothing needs any more. */
static int drop_snapshot_only(struct cat *c, const struct layers *s, const char *vm,
			      const char *tag, unsigned li, int nchildren)
{
	char (*gone)[192] = calloc(s->n + 1, 192);
	struct cat_layer l = s->l[li];
	unsigned ngone = 0;
	int r;

	if (!gone)
		return -ENOMEM;
	r = cat_begin(c);
	if (!r)
		r = cat_snap_del(c, vm, tag);
	/* a childless frozen layer nothing else names: remove it and the
	 * ancestors it alone kept */
	while (!r && nchildren == 0 && ngone < s->n) {
		int64_t snaps, kids, parent = l.parent;

		r = cat_layer_del(c, l.id);
		if (r == -EBUSY) {
			r = 0;
			break;
		}
		if (r)
			break;
		snprintf(gone[ngone++], 192, "%s", l.file);
		if (!parent || cat_layer_refs(c, parent, &kids, &snaps) || kids || snaps ||
		    cat_layer_get(c, parent, &l))
			break;
	}
	if (!r)
		r = cat_commit(c);
	if (r) {
		img_fail(r, "catalog: %s", cat_errmsg(c));
		cat_rollback(c);
	} else {
		vmrec_unlink_files(c, gone, ngone);
	}
	free(gone);
	return r;
}

/* A fresh snapshot-rm: no journal (left) for this VM. */
static int fresh(struct cat *c, const struct cat_vm *vm, const char *tag,
		 img_progress_fn progress, void *opaque)
{
	struct layers s = { 0 };
	struct cat_snapshot snap;
	int64_t kids, snaps;
	unsigned li, ci = 0;
	struct vmj j = { 0 };
	int nchildren, r;

	r = cat_snap_get(c, vm->name, tag, &snap);
	if (r)
		return img_fail(r, "VM '%s' has no snapshot '%s'", vm->name, tag);
	r = cat_layer_foreach(c, vm->name, collect, &s);
	if (!r)
		r = cat_layer_refs(c, snap.layer, &kids, &snaps);
	if (r) {
		img_fail(r, "catalog: %s", cat_errmsg(c));
		goto out;
	}
	for (li = 0; li < s.n && s.l[li].id != snap.layer; li++)
		;
	if (li == s.n) {
		r = img_fail(-EIO, "snapshot '%s' names a missing layer", tag);
		goto out;
	}
	nchildren = children_of(&s, snap.layer, &ci);
	if (snaps > 1 || nchildren != 1) {
		r = drop_snapshot_only(c, &s, vm->name, tag, li, snaps > 1 ? 1 : nchildren);
		goto out;
	}
	/* one child: rebuild it on L's parent, then everything above it */
	r = plan(c, vm, tag, &s, li, ci, &j);
	if (!r)
		r = vmj_save(c, &j);
	if (!r)
		r = run_merge(c, &j, progress, opaque);
out:
	vmj_free(&j);
	free(s.l);
	return r;
}

/* Serializes merges of one VM: an exclusive flock on its folder. */
static int lock_vm(struct cat *c, const char *vm, int *fd)
{
	char rel[192], path[VMREC_PATH_MAX];
	int r;

	snprintf(rel, sizeof(rel), "vms/%s", vm);
	r = path_of(c, rel, path);
	if (r)
		return r;
	if (mkdir(path, 0700) && errno != EEXIST)
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB)) {
		close(*fd);
		*fd = -1;
		return img_fail(-EBUSY, "another snapshot-rm of VM '%s' is running", vm);
	}
	return 0;
}

int vmrec_snapshot_rm(struct cat *c, const char *name, const char *tag,
		      img_progress_fn progress, void *opaque)
{
	char why[256], note[512] = "";
	struct cat_vm vm;
	struct vmj j;
	int fd = -1, r;

	r = vmrec_get_idle(c, name, &vm);
	if (!r)
		r = lock_vm(c, name, &fd);
	if (r)
		return r;
	r = vmj_load(c, name, &j);
	if (r == -EINVAL) {
		snprintf(note, sizeof(note), "%s: discarded it (image gc removes its files)",
			 img_last_error());
		vmj_remove(c, name);
	} else if (!r) {
		enum jstate st = judge(c, &j, why, sizeof(why));
		bool same = !strcmp(j.tag, tag);

		if (same && st == J_RESUMABLE && new_files_ok(c, &j, why, sizeof(why))) {
			r = run_merge(c, &j, progress, opaque);
			goto out;
		}
		if (same && st == J_COMMITTED) {
			discard(c, &j);
			snprintf(note, sizeof(note), "finished the interrupted removal of snapshot"
				 " '%s'", tag);
			goto out;
		}
		if (st == J_COMMITTED)
			snprintf(note, sizeof(note), "finished the cleanup of the merge of"
				 " snapshot '%s'", j.tag);
		else
			snprintf(note, sizeof(note), "discarded the interrupted merge of snapshot"
				 " '%s': %s", j.tag, same ? why : "another snapshot is removed now");
		discard(c, &j);
	} else if (r != -ENOENT) {
		goto out;
	}
	vmj_free(&j);
	r = fresh(c, &vm, tag, progress, opaque);
out:
	vmj_free(&j);
	close(fd);
	return r ? r : img_fail(0, "%s", note);
}
