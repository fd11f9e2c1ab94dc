/* images/vmrec_copy.c: the resumable layer copy of a snapshot merge.
 *
 * Copies the runs of a source chain held by its top layers into a
 * destination VHD in increasing offset order, so that "everything below
 * offset X is copied" is a meaningful checkpoint: every few MiB the
 * destination is flushed (data, bitmaps and BAT durable) and only then is
 * the checkpoint reported, for the caller's journal.
 */
#include "images/vmrec_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/img_store.h"
#include "vhd/vhd.h"

#define COPY_BUF (1u << 20)

static bool all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

int vmrec_copy_measure(const char *src_path, int max_depth, uint64_t upto,
		       struct vmrec_copy_count *out)
{
	struct vhd *src;
	uint64_t off = 0, size;
	int r;

	memset(out, 0, sizeof(*out));
	r = vhd_open(src_path, &(struct vhd_open_opts){ .flags = VHD_OPEN_NOFOLLOW }, &src);
	if (r)
		return img_fail(r, "%s: %s", src_path, vhd_last_error());
	size = vhd_size(src);
	out->size = size;
	while (off < size) {
		uint64_t pnum;
		int depth;

		r = vhd_block_status(src, off, size - off, &pnum, &depth);
		if (r) {
			img_fail(r, "%s: %s", src_path, vhd_last_error());
			break;
		}
		if (depth >= 1 && depth <= max_depth) {
			out->total += pnum;
			if (off < upto)
				out->below += (upto - off < pnum ? upto - off : pnum);
		}
		off += pnum;
	}
	vhd_close(src);
	return r;
}

/* Flushes @dst and reports offset @off as copied. */
static int checkpoint(struct vhd *dst, const struct vmrec_copy_job *job, uint64_t off)
{
	int r = vhd_flush(dst);

	if (r)
		return img_fail(r, "flushing %s: %s", vhd_path(dst), vhd_last_error());
	return job->checkpoint ? job->checkpoint(job->opaque, off) : 0;
}

int vmrec_copy_run(const char *src_path, const char *dst_path, const struct vmrec_copy_job *job)
{
	struct vhd_open_opts wo = { .flags = VHD_OPEN_RDWR };
	struct vhd *src = NULL, *dst = NULL;
	uint64_t off = job->start, size, since = 0;
	struct vhd_info di;
	uint8_t *buf;
	bool diff;
	int r;

	buf = malloc(COPY_BUF);
	if (!buf)
		return -ENOMEM;
	r = vhd_open(src_path, &(struct vhd_open_opts){ .flags = VHD_OPEN_NOFOLLOW }, &src);
	if (!r)
		r = vhd_open(dst_path, &wo, &dst);
	if (!r)
		r = vhd_get_info(dst, &di);
	if (r) {
		img_fail(r, "%s", vhd_last_error());
		goto out;
	}
	size = vhd_size(src);
	if (di.size != size || off > size) {
		r = img_fail(-EINVAL, "%s: %llu bytes, resuming at %llu, but %s has %llu",
			     dst_path, (unsigned long long)di.size, (unsigned long long)off,
			     src_path, (unsigned long long)size);
		goto out;
	}
	/* In a differencing target zeros must be written: they hide data
	 * of the layers below. In a standalone one they need not be. */
	diff = di.type == VHD_TYPE_DIFF;
	while (!r && off < size) {
		uint64_t pnum, done = 0;
		int depth;

		r = vhd_block_status(src, off, size - off, &pnum, &depth);
		if (r) {
			img_fail(r, "%s: %s", src_path, vhd_last_error());
			break;
		}
		while (depth >= 1 && depth <= job->max_depth && done < pnum) {
			size_t n = pnum - done < COPY_BUF ? (size_t)(pnum - done) : COPY_BUF;

			r = vhd_pread(src, buf, n, off + done);
			if (!r && (diff || !all_zero(buf, n)))
				r = vhd_pwrite(dst, buf, n, off + done);
			if (r) {
				img_fail(r, "copying %s: %s", src_path, vhd_last_error());
				break;
			}
			done += n;
			since += n;
			if (job->advance)
				job->advance(job->opaque, n);
			if (job->every && since >= job->every) {
				r = checkpoint(dst, job, off + done);
				if (r)
					break;
				since = 0;
			}
		}
		off += pnum;
	}
	if (!r)
		r = checkpoint(dst, job, size);
out:
	vhd_close(dst);
	vhd_close(src);
	free(buf);
	return r;
}
