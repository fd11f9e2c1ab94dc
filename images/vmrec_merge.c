/* images/vmrec_merge.c: deleting a snapshot and merging the layer it
 * freed into its only child.
 *
 * VHD children name their parent by UUID, so a layer cannot be spliced
 * out in place. Instead the child C is rebuilt as C' on the freed layer
 * L's parent, holding C's view of every range L or C held, and each layer
 * above C is rebuilt on its new parent with its own data (normally just
 * the VM's top). The new files get fresh names; one transaction then
 * deletes the snapshot and L and points the rows at the new files, and
 * only after that are the old files removed. An interrupted merge leaves
 * the old state in the catalog and unreferenced new files (for gc);
 * running snapshot-rm again does the whole merge again.
 */
#include "images/vmrec_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/img_store.h"
#include "vhd/vhd.h"

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

/* The rebuild plan: old layer index -> new relative file. */
struct plan {
	struct layers all;
	char (*newf)[192];     /* per index of all.l; "" = unchanged */
	char (*oldf)[192];     /* files to remove after commit */
	unsigned nold;
};

static int path_of(struct cat *c, const char *rel, char *out)
{
	return cat_path(c, rel, out, VMREC_PATH_MAX);
}

/* Rebuilds every layer above index @pi (whose new file is newf[pi]),
 * depth-first, each with its own data only. */
static int rebuild_above(struct cat *c, struct plan *p, unsigned pi)
{
	char parent[VMREC_PATH_MAX], src[VMREC_PATH_MAX], dst[VMREC_PATH_MAX];
	int r;

	for (unsigned i = 0; i < p->all.n; i++) {
		if (p->all.l[i].parent != p->all.l[pi].id)
			continue;
		r = path_of(c, p->newf[pi], parent);
		if (!r)
			r = vmrec_layer_file(c, p->all.l[i].vm, parent, 0, p->newf[i]);
		if (!r)
			r = path_of(c, p->all.l[i].file, src);
		if (!r)
			r = path_of(c, p->newf[i], dst);
		if (!r)
			r = vmrec_copy_layers(src, dst, 1);
		if (!r)
			r = rebuild_above(c, p, i);
		if (r)
			return r;
	}
	return 0;
}

static void drop_new(struct cat *c, struct plan *p)
{
	vmrec_unlink_files(c, p->newf, p->all.n);
}

/* The switch, in one transaction. */
static int switch_rows(struct cat *c, struct plan *p, const char *vm, const char *tag,
		       unsigned li, unsigned ci)
{
	struct cat_layer *L = &p->all.l[li];
	int r;

	r = cat_begin(c);
	if (r)
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	r = cat_snap_del(c, vm, tag);
	for (unsigned i = 0; !r && i < p->all.n; i++) {
		struct cat_layer nl = p->all.l[i];

		if (!p->newf[i][0])
			continue;
		snprintf(p->oldf[p->nold++], 192, "%s", nl.file);
		snprintf(nl.file, sizeof(nl.file), "%s", p->newf[i]);
		if (i == ci) {
			nl.parent = L->parent;
			nl.standalone = L->standalone;
		}
		r = cat_layer_update(c, &nl);
	}
	if (!r)
		r = cat_layer_del(c, L->id);
	if (!r) {
		snprintf(p->oldf[p->nold++], 192, "%s", L->file);
		r = cat_commit(c);
	}
	if (r) {
		img_fail(r, "catalog: %s", cat_errmsg(c));
		cat_rollback(c);
		p->nold = 0;
	}
	return r;
}

/* Deletes only the snapshot row, and layers nothing needs any more. */
static int drop_snapshot_only(struct cat *c, struct plan *p, const char *vm, const char *tag,
			      unsigned li, int nchildren)
{
	struct cat_layer l = p->all.l[li];
	int r;

	r = cat_begin(c);
	if (!r)
		r = cat_snap_del(c, vm, tag);
	/* a childless frozen layer nothing else names: remove it and the
	 * ancestors it alone kept */
	while (!r && nchildren == 0) {
		int64_t snaps, kids, parent = l.parent;

		r = cat_layer_del(c, l.id);
		if (r == -EBUSY) {
			r = 0;
			break;
		}
		if (r)
			break;
		snprintf(p->oldf[p->nold++], 192, "%s", l.file);
		if (!parent || cat_layer_refs(c, parent, &kids, &snaps) || kids || snaps ||
		    cat_layer_get(c, parent, &l))
			break;
	}
	if (!r)
		r = cat_commit(c);
	if (r) {
		img_fail(r, "catalog: %s", cat_errmsg(c));
		cat_rollback(c);
		p->nold = 0;
	}
	return r;
}

int vmrec_snapshot_rm(struct cat *c, const char *name, const char *tag,
		      img_progress_fn progress, void *opaque)
{
	char parent[VMREC_PATH_MAX], src[VMREC_PATH_MAX], dst[VMREC_PATH_MAX];
	struct plan p = { 0 };
	struct cat_snapshot s;
	int64_t kids, snaps;
	unsigned li = 0, ci = 0;
	struct cat_vm vm;
	int nchildren, r;

	r = vmrec_get_idle(c, name, &vm);
	if (r)
		return r;
	r = cat_snap_get(c, name, tag, &s);
	if (r)
		return img_fail(r, "VM '%s' has no snapshot '%s'", name, tag);
	r = cat_layer_foreach(c, name, collect, &p.all);
	if (!r)
		r = cat_layer_refs(c, s.layer, &kids, &snaps);
	if (r)
		goto out;
	p.newf = calloc(p.all.n + 1, 192);
	p.oldf = calloc(p.all.n + 1, 192);
	if (!p.newf || !p.oldf) {
		r = -ENOMEM;
		goto out;
	}
	for (li = 0; li < p.all.n && p.all.l[li].id != s.layer; li++)
		;
	if (li == p.all.n) {
		r = img_fail(-EIO, "snapshot '%s' names a missing layer", tag);
		goto out;
	}
	nchildren = children_of(&p.all, s.layer, &ci);
	if (snaps > 1 || nchildren != 1) {
		r = drop_snapshot_only(c, &p, name, tag, li, snaps > 1 ? 1 : nchildren);
		goto done;
	}
	/* one child: rebuild it on L's parent, then everything above it */
	{
		struct cat_layer *L = &p.all.l[li], *C = &p.all.l[ci];
		uint64_t size = 0;

		parent[0] = '\0';
		r = vmrec_parent_path(c, &vm, L, parent, sizeof(parent));
		if (!r)
			r = path_of(c, C->file, src);
		if (!r && !parent[0]) {
			struct img_src is;

			r = img_src_vhd_open(src, &is);
			size = is.size;
			if (!r)
				img_src_vhd_close(&is);
		}
		if (!r)
			r = vmrec_layer_file(c, name, parent, size, p.newf[ci]);
		if (!r)
			r = path_of(c, p.newf[ci], dst);
		if (!r)
			r = vmrec_copy_layers(src, dst, 2);
		if (progress)
			progress(opaque, 1, 2);
		if (!r)
			r = rebuild_above(c, &p, ci);
		if (!r)
			r = switch_rows(c, &p, name, tag, li, ci);
		if (r)
			drop_new(c, &p);
		if (progress)
			progress(opaque, 2, 2);
	}
done:
	if (!r)
		vmrec_unlink_files(c, p.oldf, p.nold);
out:
	free(p.all.l);
	free(p.newf);
	free(p.oldf);
	return r;
}
