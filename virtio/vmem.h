/* virtio/vmem.h: a guest's memory as the device sees it: a table of
 * regions, each a range of guest physical addresses mapped somewhere in
 * this process. Every address a guest hands us (ring addresses, descriptor
 * buffers) goes through vmem_translate() or vmem_ptr(), which check it
 * against the table; nothing else turns a guest address into a pointer.
 *
 * The table is plain data filled by its owner (vhost-user's SET_MEM_TABLE,
 * later the own engine's memory setup); vmem does not map or unmap. It must
 * not change while anyone translates through it.
 */
#ifndef VV_VIRTIO_VMEM_H
#define VV_VIRTIO_VMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VMEM_MAX_REGIONS 8

struct vmem_region {
	uint64_t gpa;           /* guest physical address of the first byte */
	uint64_t size;          /* bytes, > 0 */
	uint64_t uva;           /* the front end's own address of it (vhost-user), else 0 */
	void *host;             /* where the first byte is mapped in this process */
};

struct vmem {
	unsigned nregions;
	struct vmem_region r[VMEM_MAX_REGIONS];
};

/* Adds a region. -EINVAL when it is empty, wraps around 2^64 (in gpa or
 * uva) or overlaps a region already there; -ENOSPC when the table is full. */
int vmem_add(struct vmem *m, const struct vmem_region *r);

/* Translates the guest range [@gpa, @gpa+@len) into up to @max iovecs
 * appended at @iov (the range may span adjacent regions). Returns the
 * number of iovecs used (0 for @len 0), -EFAULT when any byte of the
 * range lies outside the table (or the range wraps), -E2BIG when it
 * needs more than @max iovecs. */
int vmem_translate(const struct vmem *m, uint64_t gpa, uint64_t len,
		   struct iovec *iov, unsigned max);

/* The host pointer of [@gpa, @gpa+@len) when the whole range lies inside
 * one region (rings, indirect tables), else NULL. */
void *vmem_ptr(const struct vmem *m, uint64_t gpa, uint64_t len);

/* The guest physical address of the front end's address @uva when
 * [@uva, @uva+@len) lies inside one region: 0 and *@gpa, else -EFAULT. */
int vmem_uva_to_gpa(const struct vmem *m, uint64_t uva, uint64_t len, uint64_t *gpa);

#endif
