/* blkback/bimg_parents.c: read-only parents shared between chains.
 *
 * vhd/ opens a differencing disk's parent through our open_parent
 * callback. Each parent file (keyed by device and inode) is opened once
 * per process; every child gets the same backing and holds one reference.
 * The backing handed out wraps the one vhd/ opened, forwarding its reads
 * and block status; the last release closes it.
 */
#include "blkback/bimg_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/util.h"
#include "vhd/vhd.h"

struct parent_entry {
	struct vhd_backing wrap;        /* what children hold */
	struct vhd_backing *inner;      /* what vhd/ opened */
	dev_t dev;
	ino_t ino;
	unsigned refs;
	struct parent_entry *up;        /* its own parent, when shared too */
	struct parent_entry *next;
};

static pthread_mutex_t parents_lock = PTHREAD_MUTEX_INITIALIZER;
static struct parent_entry *parents;
static unsigned parents_n;

static int wrap_pread(struct vhd_backing *b, void *buf, size_t len, uint64_t off)
{
	struct parent_entry *e = b->priv;

	return e->inner->ops->pread(e->inner, buf, len, off);
}

static int wrap_status(struct vhd_backing *b, uint64_t off, uint64_t len,
		       uint64_t *pnum, int *depth)
{
	struct parent_entry *e = b->priv;

	return e->inner->ops->block_status(e->inner, off, len, pnum, depth);
}

static void wrap_release(struct vhd_backing *b)
{
	struct parent_entry *e = b->priv, **pp;
	bool last;

	pthread_mutex_lock(&parents_lock);
	last = --e->refs == 0;
	if (last) {
		for (pp = &parents; *pp; pp = &(*pp)->next) {
			if (*pp == e) {
				*pp = e->next;
				break;
			}
		}
		parents_n--;
	}
	pthread_mutex_unlock(&parents_lock);
	if (last) {
		e->inner->ops->release(e->inner);   /* releases its own parents */
		free(e);
	}
}

static const struct vhd_backing_ops wrap_ops = {
	.pread = wrap_pread,
	.block_status = wrap_status,
	.release = wrap_release,
};

static struct parent_entry *parent_find(dev_t dev, ino_t ino)
{
	for (struct parent_entry *e = parents; e; e = e->next)
		if (e->dev == dev && e->ino == ino)
			return e;
	return NULL;
}

/* A shared parent may be used only where it makes no loop and fits the
 * depth still allowed. Caller holds parents_lock. */
static int parent_check(const struct parent_entry *e, const struct vhd_open_opts *o,
			const char *path)
{
	unsigned max = o->max_depth ? o->max_depth : VHD_DEFAULT_MAX_DEPTH;

	for (const struct parent_entry *p = e; p; p = p->up)
		for (const struct vhd_chain_link *l = o->chain; l; l = l->child)
			if (l->dev == p->dev && l->ino == p->ino) {
				bimg_set_error("parent loop at '%s'", path);
				return -ELOOP;
			}
	if (e->inner->depth > max) {
		bimg_set_error("'%s': chain deeper than %u layers", path, max);
		return -ELOOP;
	}
	return 0;
}

int bimg_parent_open(void *opaque, const char *path, const struct vhd_open_opts *popts,
		     struct vhd_backing **out)
{
	struct parent_entry *e, *other;
	struct vhd_backing *inner, *up;
	struct stat st;
	int rc;

	*out = NULL;
	if (stat(path, &st) < 0)
		return -errno;
	pthread_mutex_lock(&parents_lock);
	e = parent_find(st.st_dev, st.st_ino);
	if (e) {
		rc = parent_check(e, popts, path);
		if (!rc) {
			e->refs++;
			*out = &e->wrap;
		}
		pthread_mutex_unlock(&parents_lock);
		return rc;
	}
	pthread_mutex_unlock(&parents_lock);

	/* Not open yet: open it unlocked (its own parents come back here). */
	rc = vhd_backing_open(path, popts, &inner);
	if (rc)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e) {
		inner->ops->release(inner);
		return -ENOMEM;
	}
	e->inner = inner;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->refs = 1;
	e->wrap = (struct vhd_backing){
		.ops = &wrap_ops, .priv = e, .size = inner->size, .path = inner->path,
		.vhd = inner->vhd, .depth = inner->depth,
	};
	up = inner->vhd ? vhd_parent(inner->vhd) : NULL;
	if (up && up->ops == &wrap_ops)
		e->up = up->priv;

	pthread_mutex_lock(&parents_lock);
	other = parent_find(st.st_dev, st.st_ino);
	if (other) {
		/* Another thread opened it meanwhile: use theirs. */
		other->refs++;
		pthread_mutex_unlock(&parents_lock);
		inner->ops->release(inner);
		free(e);
		*out = &other->wrap;
		return 0;
	}
	e->next = parents;
	parents = e;
	parents_n++;
	pthread_mutex_unlock(&parents_lock);
	*out = &e->wrap;
	return 0;
}

unsigned bimg_parents_count(void)
{
	unsigned n;

	pthread_mutex_lock(&parents_lock);
	n = parents_n;
	pthread_mutex_unlock(&parents_lock);
	return n;
}
