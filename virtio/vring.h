/* virtio/vring.h: split virtqueues (virtio 1.x, section 2.7) as a device
 * sees them: taking descriptor chains off the available ring, putting
 * finished ones on the used ring, and deciding when to notify the driver.
 *
 * Nothing the guest writes is trusted: every ring index, descriptor field
 * and buffer address is read once into a local, checked, and only then
 * used; buffers are translated through the vmem table (virtio/vmem.h).
 * A queue whose rings the guest corrupted reports -EIO with a reason and
 * should be treated as broken (the caller stops serving it).
 *
 * Threads: one thread pops (the queue's owner); pushes and notification
 * checks may come from other threads when the caller serializes them
 * (vring_push() and vring_need_notify() together under one lock).
 */
#ifndef VV_VIRTIO_VRING_H
#define VV_VIRTIO_VRING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/vmem.h"

/* Feature bits of the transport (virtio 1.x section 6). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

/* Descriptor and ring flags. */
#define VRING_DESC_F_NEXT          0x1
#define VRING_DESC_F_WRITE         0x2
#define VRING_DESC_F_INDIRECT      0x4
#define VRING_AVAIL_F_NO_INTERRUPT 0x1
#define VRING_USED_F_NO_NOTIFY     0x1

#define VRING_MAX_SIZE 32768u
#define VRING_DESC_SIZE 16u

struct vring {
	const struct vmem *mem;
	unsigned num;              /* queue size, a power of two */
	bool event_idx;            /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;             /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint8_t *desc, *avail, *used;  /* host pointers, checked by vring_init */
	uint16_t last_avail;       /* the next available entry to take */
	uint16_t used_idx;         /* the next used entry to fill */
	uint16_t signalled_used;   /* used_idx at the last notification */
	bool signalled_valid;
};

/* A descriptor chain as taken off the ring: iov[0, nout) is what the
 * device reads (driver -> device), iov[nout, nout+nin) what it writes. The
 * caller provides iov and max; chain lengths per direction are < 4 GiB. */
struct vring_chain {
	struct iovec *iov;
	unsigned max;
	uint16_t head;             /* the id to hand back to vring_push() */
	unsigned nout, nin;
	uint64_t out_len, in_len;
};

/* Sizes in bytes of the three parts of a ring of @num entries. */
uint64_t vring_desc_bytes(unsigned num);
uint64_t vring_avail_bytes(unsigned num);  /* with used_event */
uint64_t vring_used_bytes(unsigned num);   /* with avail_event */

/* true when @num is a valid queue size: a power of two, 1..32768. */
bool vring_size_ok(unsigned num);

/* Sets @vr up over the guest rings at the given guest physical addresses,
 * for the negotiated @features (VIRTIO_RING_F_* bits). Indices start at 0
 * (vring_set_base() changes them). Returns 0, or -EINVAL with *@why set
 * for a bad size, misaligned rings or rings not wholly inside one region
 * of @mem. @mem must outlive the ring. */
int vring_init(struct vring *vr, const struct vmem *mem, unsigned num,
	       uint64_t desc, uint64_t avail, uint64_t used, uint64_t features,
	       const char **why);

/* Starts both indices at @idx (vhost-user SET_VRING_BASE, a resumed queue). */
void vring_set_base(struct vring *vr, uint16_t idx);

/* Takes the next available chain into @c. Returns 1 with @c filled, 0 when
 * the ring is empty, or -EIO with *@why set when the guest broke the ring
 * or the chain (the entry is not consumed; the queue should stop). */
int vring_pop(struct vring *vr, struct vring_chain *c, const char **why);

/* Walks the chain starting at descriptor @head (already range-checked
 * against nothing: this checks it). Exposed for tests and the fuzzer;
 * vring_pop() uses it. 0 or -EIO with *@why. */
int vring_walk(const struct vring *vr, uint16_t head, struct vring_chain *c, const char **why);

/* Puts chain @head on the used ring with @len bytes written by the device. */
void vring_push(struct vring *vr, uint16_t head, uint32_t len);

/* After pushes: true when the driver wants an interrupt now (honours
 * VRING_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX). */
bool vring_need_notify(struct vring *vr);

/* Asks the driver for kicks again (VRING_USED_F_NO_NOTIFY cleared, or
 * avail_event set to last_avail with EVENT_IDX). Returns true when new
 * entries arrived meanwhile (the caller must look again before sleeping). */
bool vring_enable_notify(struct vring *vr);

/* Tells the driver kicks are not needed while the device is polling. */
void vring_disable_notify(struct vring *vr);

/* The rule of virtio 1.x 2.7.7.2: notify when @event lies in (old, new]. */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* iovec helpers for chains: copy out of / into an iovec list starting at
 * byte @skip; return the number of bytes copied (less when the list ends). */
size_t vring_iov_to_buf(const struct iovec *iov, unsigned cnt, size_t skip, void *buf, size_t len);
size_t vring_iov_from_buf(const struct iovec *iov, unsigned cnt, size_t skip, const void *buf, size_t len);

#endif
