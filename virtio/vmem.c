/* virtio/vmem.c: the guest memory table: bounds-checked translation. */
#include "virtio/vmem.h"

#include <errno.h>

/* [a, a+alen) and [b, b+blen) intersect (no wrap: checked by callers). */
static bool vmem_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int vmem_add(struct vmem *m, const struct vmem_region *r)
{
	if (!r->size || r->gpa + r->size < r->gpa || r->uva + r->size < r->uva || !r->host)
		return -EINVAL;
	for (unsigned i = 0; i < m->nregions; i++) {
		if (vmem_overlap(r->gpa, r->size, m->r[i].gpa, m->r[i].size))
			return -EINVAL;
	}
	if (m->nregions >= VMEM_MAX_REGIONS)
		return -ENOSPC;
	m->r[m->nregions++] = *r;
	return 0;
}

/* The region holding @gpa, or NULL. */
static const struct vmem_region *vmem_find(const struct vmem *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nregions; i++) {
		if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].size)
			return &m->r[i];
	}
	return NULL;
}

int vmem_translate(const struct vmem *m, uint64_t gpa, uint64_t len,
		   struct iovec *iov, unsigned max)
{
	unsigned n = 0;

	if (gpa + len < gpa)
		return -EFAULT;
	while (len) {
		const struct vmem_region *r = vmem_find(m, gpa);
		uint64_t off, chunk;

		if (!r)
			return -EFAULT;
		if (n >= max)
			return -E2BIG;
		off = gpa - r->gpa;
		chunk = r->size - off;
		if (chunk > len)
			chunk = len;
		iov[n].iov_base = (char *)r->host + off;
		iov[n].iov_len = (size_t)chunk;
		n++;
		gpa += chunk;
		len -= chunk;
	}
	return (int)n;
}

void *vmem_ptr(const struct vmem *m, uint64_t gpa, uint64_t len)
{
	const struct vmem_region *r = vmem_find(m, gpa);

	if (!r || gpa + len < gpa || len > r->size - (gpa - r->gpa))
		return NULL;
	return (char *)r->host + (gpa - r->gpa);
}

int vmem_uva_to_gpa(const struct vmem *m, uint64_t uva, uint64_t len, uint64_t *gpa)
{
	for (unsigned i = 0; i < m->nregions; i++) {
		const struct vmem_region *r = &m->r[i];

		if (uva >= r->uva && uva - r->uva < r->size &&
		    uva + len >= uva && len <= r->size - (uva - r->uva)) {
			*gpa = r->gpa + (uva - r->uva);
			return 0;
		}
	}
	return -EFAULT;
}
