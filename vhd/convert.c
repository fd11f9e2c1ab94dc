/* vhd/convert.c: copy a virtual disk (VHD chain or raw file) into a new
 * raw, dynamic or fixed image, reading only what the source holds and
 * allocating nothing for zeros.
 *
 * The source is read in chunks of up to CV_CHUNK bytes, aligned to the
 * target's block size, by a reader thread; the calling thread writes them,
 * so reading and writing overlap. The target lives under a temporary name
 * until it is complete and flushed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/vhd_int.h"
#include "vhd/vhd_ops.h"

#define CV_CHUNK  (4u << 20)
#define CV_QUEUE  4              /* buffers in flight between the threads */
#define CV_MIB    (1ull << 20)
#define CV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CV_KICK   (64ull << 20)  /* start writeback after this many bytes */

/* ---- the source: a VHD chain or a raw file ---- */

struct cv_src {
	struct vhd *v;           /* VHD source, or NULL */
	int fd;                  /* raw source, or -1 */
	uint64_t size;
};

/* True when the file has a VHD footer cookie at its end or at offset 0. */
static bool cv_is_vhd(int fd)
{
	struct stat st;
	uint8_t buf[VHD_FOOTER_SIZE + 1];

	if (fstat(fd, &st) || st.st_size < (off_t)VHD_FOOTER_SIZE)
		return false;
	if (pread(fd, buf, 8, 0) == 8 && !memcmp(buf, "conectix", 8))
		return true;
	if (pread(fd, buf, sizeof(buf), st.st_size - (off_t)sizeof(buf)) != (ssize_t)sizeof(buf))
		return false;
	return !memcmp(buf + 1, "conectix", 8) || !memcmp(buf, "conectix", 8);
}

static int cv_src_open(const char *path, bool force_share, struct cv_src *s)
{
	struct vhd_open_opts oo = { .flags = force_share ? VHD_OPEN_FORCE_SHARE : 0 };
	struct stat st;
	int fd;

	s->v = NULL;
	s->fd = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vhd_err(-errno, "%s: %s", path, strerror(errno));
	if (cv_is_vhd(fd)) {
		close(fd);
		return vhd_open(path, &oo, &s->v) ?: (s->size = vhd_size(s->v), 0);
	}
	if (fstat(fd, &st)) {
		close(fd);
		return vhd_err(-errno, "%s: %s", path, strerror(errno));
	}
	s->fd = fd;
	s->size = (uint64_t)st.st_size;
	return 0;
}

static void cv_src_close(struct cv_src *s)
{
	vhd_close(s->v);
	if (s->fd >= 0)
		close(s->fd);
}

/* Sets *pnum to the length of the run at @off that holds data (*data true)
 * or certainly reads as zeros (*data false). */
static int cv_src_status(struct cv_src *s, uint64_t off, uint64_t len, uint64_t *pnum,
			 bool *data)
{
	off_t d, h;

	if (s->v) {
		int depth = 0, rc = vhd_block_status(s->v, off, len, pnum, &depth);

		*data = depth > 0;
		return rc;
	}
	d = lseek(s->fd, (off_t)off, SEEK_DATA);
	if (d < 0 && errno == ENXIO) {
		*data = false;
		*pnum = len;
		return 0;
	}
	if (d < 0) {            /* no SEEK_DATA here: everything is data */
		*data = true;
		*pnum = len;
		return 0;
	}
	if ((uint64_t)d > off) {
		*data = false;
		*pnum = CV_MIN((uint64_t)d - off, len);
		return 0;
	}
	h = lseek(s->fd, (off_t)off, SEEK_HOLE);
	*data = true;
	*pnum = len;
	if (h > (off_t)off)
		*pnum = CV_MIN((uint64_t)h - off, len);
	return 0;
}

static int cv_src_read(struct cv_src *s, void *buf, size_t len, uint64_t off)
{
	if (s->v)
		return vhd_pread(s->v, buf, len, off);
	return vhd_pread_full(s->fd, buf, len, off);
}

/* ---- the target ---- */

struct cv_dst {
	const struct vhd_convert_opts *o;
	char *tmp;               /* temporary path, renamed to the final one */
	struct vhd *v;           /* VHD target */
	int fd;                  /* raw target, or -1 */
	uint64_t size;
	uint32_t unit;           /* zero-detection granule: the block size */
	uint64_t unkicked;       /* bytes written since writeback was started */
};

static int cv_dst_open(struct cv_dst *d, const char *path, uint64_t size)
{
	const struct vhd_convert_opts *o = d->o;
	struct vhd_create_opts co = { 0 };
	struct vhd_open_opts oo = { .flags = VHD_OPEN_RDWR };
	size_t n = strlen(path) + 32;
	int rc;

	d->fd = -1;
	d->v = NULL;
	d->tmp = malloc(n);
	if (!d->tmp)
		return vhd_err(-ENOMEM, "out of memory");
	snprintf(d->tmp, n, "%s.part-%ld", path, (long)getpid());
	if (!access(path, F_OK))
		return vhd_err(-EEXIST, "%s exists; not overwriting it", path);
	d->size = size;
	if (o->format != VHD_CONVERT_RAW)   /* a VHD holds whole sectors */
		d->size = (size + VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1);
	if (o->format == VHD_CONVERT_FIXED && o->azure)
		d->size = (size + CV_MIB - 1) & ~(CV_MIB - 1);
	d->unit = o->block_size ? o->block_size : VHD_DEFAULT_BLOCK_SIZE;
	if (o->format == VHD_CONVERT_RAW) {
		d->fd = open(d->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (d->fd < 0)
			return vhd_err(-errno, "%s: %s", d->tmp, strerror(errno));
		if (ftruncate(d->fd, (off_t)d->size))
			return vhd_err(-errno, "%s: %s", d->tmp, strerror(errno));
		return 0;
	}
	co.type = o->format == VHD_CONVERT_FIXED ? VHD_TYPE_FIXED : VHD_TYPE_DYNAMIC;
	co.size = d->size;
	co.block_size = o->block_size;
	if (co.type == VHD_TYPE_DYNAMIC && d->size > VHD_MAX_DYNAMIC_SIZE)
		return vhd_err(-EFBIG, "%llu bytes is above the 2040 GiB limit of dynamic VHDs",
			       (unsigned long long)d->size);
	if (!d->size)
		return vhd_err(-EINVAL, "the source is empty");
	rc = vhd_create(d->tmp, &co);
	if (rc)
		return rc;
	return vhd_open(d->tmp, &oo, &d->v);
}

/* Writes, and every CV_KICK bytes starts writeback of the target, so the
 * final flush does not wait for gigabytes of dirty pages at once. */
static int cv_dst_write(struct cv_dst *d, const void *buf, size_t len, uint64_t off)
{
	int ret;

	if (d->v)
		ret = vhd_pwrite(d->v, buf, len, off);
	else
		ret = vhd_pwrite_full(d->fd, buf, len, off);
	d->unkicked += len;
	if (!ret && d->unkicked >= CV_KICK) {
		sync_file_range(d->v ? d->v->fd : d->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		d->unkicked = 0;
	}
	return ret;
}

/* Flushes and renames into place (@ok), or removes the temporary file. */
static int cv_dst_finish(struct cv_dst *d, const char *path, bool ok)
{
	int rc = 0;

	if (d->v) {
		if (ok)
			rc = vhd_flush(d->v);
		vhd_close(d->v);
	} else if (d->fd >= 0) {
		if (ok && fsync(d->fd))
			rc = vhd_err(-errno, "%s: fsync: %s", d->tmp, strerror(errno));
		close(d->fd);
	}
	if (!d->tmp)
		return rc;
	if (ok && !rc && rename(d->tmp, path))
		rc = vhd_err(-errno, "rename to %s: %s", path, strerror(errno));
	if (!ok || rc)
		unlink(d->tmp);
	free(d->tmp);
	return rc;
}

static bool cv_is_zero(const uint8_t *p, size_t len)
{
	size_t head = len < 16 ? len : 16;

	for (size_t i = 0; i < head; i++)
		if (p[i])
			return false;
	return len <= 16 || !memcmp(p, p + 16, len - 16);
}

/* ---- the pipeline: a reader thread fills chunks, the caller writes ---- */

struct cv_chunk {
	uint8_t *buf;
	uint64_t off;
	size_t len;
};

struct cv_pipe {
	struct cv_src *src;
	struct cv_dst *dst;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct cv_chunk q[CV_QUEUE + 1]; /* as many as there are buffers */
	unsigned head, count;    /* filled chunks waiting for the writer */
	bool done;               /* the reader has queued everything */
	bool stop;               /* the writer failed: the reader gives up */
	int err;                 /* the reader's error */
	char errmsg[1024];
	uint8_t *all[CV_QUEUE + 1]; /* every buffer, for freeing */
	uint8_t *bufs[CV_QUEUE + 1]; /* the free ones: bufs[0..free_bufs) */
	unsigned free_bufs;
};

static uint8_t *cv_get_buf(struct cv_pipe *p)
{
	uint8_t *b = NULL;

	pthread_mutex_lock(&p->lock);
	while (!p->free_bufs && !p->stop)
		pthread_cond_wait(&p->cond, &p->lock);
	if (!p->stop)
		b = p->bufs[--p->free_bufs];
	pthread_mutex_unlock(&p->lock);
	return b;
}

static void cv_put_buf(struct cv_pipe *p, uint8_t *b)
{
	pthread_mutex_lock(&p->lock);
	p->bufs[p->free_bufs++] = b;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void cv_queue(struct cv_pipe *p, uint8_t *buf, uint64_t off, size_t len)
{
	pthread_mutex_lock(&p->lock);
	p->q[(p->head + p->count) % (CV_QUEUE + 1)] = (struct cv_chunk){ buf, off, len };
	p->count++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Reads every data run of the source in chunks aligned to the target unit. */
static int cv_read_all(struct cv_pipe *p)
{
	struct cv_src *s = p->src;
	uint64_t off = 0;

	while (off < s->size) {
		uint64_t pnum, lim = s->size - off;
		bool data;
		int rc = cv_src_status(s, off, lim, &pnum, &data);

		if (rc)
			return rc;
		if (!pnum)
			return vhd_err(-EIO, "source reports an empty run at %llu",
				       (unsigned long long)off);
		if (!data) {
			off += pnum;
			continue;
		}
		for (uint64_t end = off + pnum; off < end;) {
			uint64_t next = (off / CV_CHUNK + 1) * CV_CHUNK;
			size_t len = (size_t)(CV_MIN(next, end) - off);
			uint8_t *buf = cv_get_buf(p);

			if (!buf)
				return -ECANCELED;
			rc = cv_src_read(s, buf, len, off);
			if (rc) {
				cv_put_buf(p, buf);
				return rc;
			}
			cv_queue(p, buf, off, len);
			off += len;
		}
	}
	return 0;
}

static void *cv_reader(void *arg)
{
	struct cv_pipe *p = arg;
	int rc = cv_read_all(p);

	pthread_mutex_lock(&p->lock);
	if (rc && rc != -ECANCELED) {
		p->err = rc;
		snprintf(p->errmsg, sizeof(p->errmsg), "%s", vhd_last_error());
	}
	p->done = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Writes the non-zero target units of one chunk. */
static int cv_write_chunk(struct cv_dst *d, const struct cv_chunk *c)
{
	uint64_t off = c->off;
	size_t pos = 0;

	while (pos < c->len) {
		uint64_t next = (off / d->unit + 1) * d->unit;
		size_t n = (size_t)CV_MIN(next - off, (uint64_t)(c->len - pos));
		size_t run = 0;
		int rc;

		/* Coalesce neighbouring non-zero units into one write. */
		while (pos + run < c->len && !cv_is_zero(c->buf + pos + run, n)) {
			run += n;
			n = (size_t)CV_MIN((uint64_t)d->unit, (uint64_t)(c->len - pos - run));
		}
		if (run) {
			rc = cv_dst_write(d, c->buf + pos, run, off);
			if (rc)
				return rc;
		} else {
			run = n;
		}
		pos += run;
		off += run;
	}
	return 0;
}

static int cv_write_all(struct cv_pipe *p, uint64_t total)
{
	const struct vhd_convert_opts *o = p->dst->o;
	int rc = 0;

	for (;;) {
		struct cv_chunk c;

		pthread_mutex_lock(&p->lock);
		while (!p->count && !p->done)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->count) {
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
		c = p->q[p->head];
		p->head = (p->head + 1) % (CV_QUEUE + 1);
		p->count--;
		pthread_mutex_unlock(&p->lock);
		rc = cv_write_chunk(p->dst, &c);
		cv_put_buf(p, c.buf);
		if (rc)
			return rc;
		if (o->progress)
			o->progress(o->opaque, c.off + c.len, total);
	}
}

static int cv_copy(struct cv_src *s, struct cv_dst *d)
{
	struct cv_pipe p = { .src = s, .dst = d };
	pthread_t th;
	int rc;

	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	for (; p.free_bufs < CV_QUEUE + 1; p.free_bufs++) {
		p.all[p.free_bufs] = p.bufs[p.free_bufs] = malloc(CV_CHUNK);
		if (!p.bufs[p.free_bufs]) {
			rc = vhd_err(-ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = -pthread_create(&th, NULL, cv_reader, &p);
	if (rc) {
		vhd_err(rc, "cannot start the reader thread");
		goto out;
	}
	rc = cv_write_all(&p, s->size);
	pthread_mutex_lock(&p.lock);
	p.stop = rc != 0;
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.lock);
	pthread_join(th, NULL);
	if (!rc && p.err)
		rc = vhd_err(p.err, "%s", p.errmsg);
out:
	for (unsigned i = 0; i < CV_QUEUE + 1; i++)
		free(p.all[i]);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
	return rc;
}

int vhd_convert(const char *src, const char *dst, const struct vhd_convert_opts *o)
{
	struct cv_src s;
	struct cv_dst d = { .o = o };
	int rc;

	rc = cv_src_open(src, o->force_share, &s);
	if (rc)
		return rc;
	rc = cv_dst_open(&d, dst, s.size);
	if (!rc)
		rc = cv_copy(&s, &d);
	rc = cv_dst_finish(&d, dst, rc == 0) ?: rc;
	cv_src_close(&s);
	return rc;
}
