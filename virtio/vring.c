/* virtio/vring.c: split virtqueues, read defensively. Guest memory is
 * shared with a guest that may change it at any moment: each field is
 * loaded once (atomics for ring indices, a copy plus a compiler barrier
 * for descriptors) and only the local copy is checked and used. */
#include "virtio/vring.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

/* The compiler may not reuse loads of guest memory across this. */
#define vring_barrier() __asm__ __volatile__("" ::: "memory")

struct vring_desc_local {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

uint64_t vring_desc_bytes(unsigned num) { return (uint64_t)VRING_DESC_SIZE * num; }
uint64_t vring_avail_bytes(unsigned num) { return 4 + 2 * (uint64_t)num + 2; }
uint64_t vring_used_bytes(unsigned num) { return 4 + 8 * (uint64_t)num + 2; }

bool vring_size_ok(unsigned num)
{
	return num && num <= VRING_MAX_SIZE && !(num & (num - 1));
}

static uint16_t vring_load16(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE));
}

static void vring_store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELEASE);
}

/* Maps one ring part; NULL with *why on failure. */
static uint8_t *vring_map(const struct vmem *mem, uint64_t gpa, uint64_t len,
			  unsigned align, const char *what, const char **why)
{
	uint8_t *p;

	if (gpa & (align - 1)) {
		*why = what;
		return NULL;
	}
	p = vmem_ptr(mem, gpa, len);
	if (!p || ((uintptr_t)p & (align - 1))) {
		*why = what;
		return NULL;
	}
	return p;
}

int vring_init(struct vring *vr, const struct vmem *mem, unsigned num,
	       uint64_t desc, uint64_t avail, uint64_t used, uint64_t features,
	       const char **why)
{
	struct vring v = {
		.mem = mem,
		.num = num,
		.event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX),
		.indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC),
	};

	if (!vring_size_ok(num)) {
		*why = "queue size is not a power of two between 1 and 32768";
		return -EINVAL;
	}
	v.desc = vring_map(mem, desc, vring_desc_bytes(num), 16,
			   "descriptor table misaligned or outside guest memory", why);
	if (v.desc)
		v.avail = vring_map(mem, avail, vring_avail_bytes(num), 2,
				    "available ring misaligned or outside guest memory", why);
	if (v.avail)
		v.used = vring_map(mem, used, vring_used_bytes(num), 4,
				   "used ring misaligned or outside guest memory", why);
	if (!v.used)
		return -EINVAL;
	*vr = v;
	return 0;
}

void vring_set_base(struct vring *vr, uint16_t idx)
{
	vr->last_avail = idx;
	vr->used_idx = idx;
	vr->signalled_valid = false;
}

static void vring_desc_read(const uint8_t *p, struct vring_desc_local *d)
{
	uint8_t raw[VRING_DESC_SIZE];

	memcpy(raw, p, sizeof(raw));
	vring_barrier();
	memcpy(&d->addr, raw, 8);
	memcpy(&d->len, raw + 8, 4);
	memcpy(&d->flags, raw + 12, 2);
	memcpy(&d->next, raw + 14, 2);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/* Adds the buffer of @d to @c. */
static int vring_add_buf(const struct vring *vr, const struct vring_desc_local *d,
			 struct vring_chain *c, const char **why)
{
	bool write = d->flags & VRING_DESC_F_WRITE;
	unsigned used = c->nout + c->nin;
	uint64_t *total = write ? &c->in_len : &c->out_len;
	int n;

	if (!write && c->nin) {
		*why = "a device-readable descriptor follows a device-writable one";
		return -EIO;
	}
	if (*total + d->len > UINT32_MAX) {
		*why = "descriptor chain longer than 4 GiB";
		return -EIO;
	}
	if (!d->len)
		return 0;           /* nothing to transfer: no segment */
	n = vmem_translate(vr->mem, d->addr, d->len, c->iov + used, c->max - used);
	if (n < 0) {
		*why = n == -E2BIG ? "descriptor chain has too many segments"
				   : "descriptor buffer outside guest memory";
		return -EIO;
	}
	*total += d->len;
	if (write)
		c->nin += (unsigned)n;
	else
		c->nout += (unsigned)n;
	return 0;
}

int vring_walk(const struct vring *vr, uint16_t head, struct vring_chain *c, const char **why)
{
	const uint8_t *table = vr->desc;
	unsigned table_n = vr->num, count = 0;
	bool in_indirect = false;
	uint16_t idx = head;
	struct vring_desc_local d;

	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	if (head >= vr->num) {
		*why = "chain head outside the descriptor table";
		return -EIO;
	}
	for (;;) {
		/* A chain visits each descriptor of its table at most once. */
		if (count++ >= table_n) {
			*why = "descriptor chain loops (longer than its table)";
			return -EIO;
		}
		vring_desc_read(table + (size_t)idx * VRING_DESC_SIZE, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vr->indirect) {
				*why = "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
				return -EIO;
			}
			if (in_indirect) {
				*why = "nested indirect descriptor";
				return -EIO;
			}
			if (count != 1 || (d.flags & VRING_DESC_F_NEXT)) {
				*why = "indirect descriptor that is not alone in its chain";
				return -EIO;
			}
			if (!d.len || d.len % VRING_DESC_SIZE ||
			    d.len / VRING_DESC_SIZE > VRING_MAX_SIZE) {
				*why = "indirect table length not a multiple of 16 (or 0, or too long)";
				return -EIO;
			}
			table = vmem_ptr(vr->mem, d.addr, d.len);
			if (!table) {
				*why = "indirect table outside guest memory";
				return -EIO;
			}
			table_n = d.len / VRING_DESC_SIZE;
			in_indirect = true;
			idx = 0;
			count = 0;
			continue;
		}
		if (vring_add_buf(vr, &d, c, why))
			return -EIO;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		idx = d.next;
		if (idx >= table_n) {
			*why = "next descriptor index outside its table";
			return -EIO;
		}
	}
}

int vring_pop(struct vring *vr, struct vring_chain *c, const char **why)
{
	uint16_t avail_idx = vring_load16(vr->avail + 2);
	uint16_t pending = (uint16_t)(avail_idx - vr->last_avail);
	uint16_t head;

	if (!pending)
		return 0;
	if (pending > vr->num) {
		*why = "available index ran ahead by more than the queue size";
		return -EIO;
	}
	/* The acquire load of idx orders the entry read after it. */
	head = vring_load16(vr->avail + 4 + 2 * (size_t)(vr->last_avail & (vr->num - 1)));
	if (vring_walk(vr, head, c, why))
		return -EIO;
	vr->last_avail++;
	return 1;
}

void vring_push(struct vring *vr, uint16_t head, uint32_t len)
{
	uint8_t *e = vr->used + 4 + 8 * (size_t)(vr->used_idx & (vr->num - 1));
	uint32_t id = htole32(head), l = htole32(len);

	__atomic_store_n((uint32_t *)(void *)e, id, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(void *)(e + 4), l, __ATOMIC_RELAXED);
	vr->used_idx++;
	vring_store16(vr->used + 2, vr->used_idx);   /* release: entry first */
}

bool vring_need_notify(struct vring *vr)
{
	uint16_t old = vr->signalled_used, new_idx = vr->used_idx;
	bool valid = vr->signalled_valid;

	/* The used index store must be visible before we read the driver's
	 * wishes, or an interrupt can be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vr->event_idx)
		return !(vring_load16(vr->avail) & VRING_AVAIL_F_NO_INTERRUPT);
	vr->signalled_used = new_idx;
	vr->signalled_valid = true;
	if (!valid)
		return true;
	return vring_need_event(vring_load16(vr->avail + 4 + 2 * (size_t)vr->num), new_idx, old);
}

bool vring_enable_notify(struct vring *vr)
{
	if (vr->event_idx)
		vring_store16(vr->used + 4 + 8 * (size_t)vr->num, vr->last_avail);
	else
		vring_store16(vr->used, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vring_load16(vr->avail + 2) != vr->last_avail;
}

void vring_disable_notify(struct vring *vr)
{
	if (!vr->event_idx)
		vring_store16(vr->used, VRING_USED_F_NO_NOTIFY);
}

size_t vring_iov_to_buf(const struct iovec *iov, unsigned cnt, size_t skip, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - skip;
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, (char *)iov[i].iov_base + skip, n);
		vring_barrier();
		done += n;
		skip = 0;
	}
	return done;
}

size_t vring_iov_from_buf(const struct iovec *iov, unsigned cnt, size_t skip, const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - skip;
		if (n > len - done)
			n = len - done;
		memcpy((char *)iov[i].iov_base + skip, (const char *)buf + done, n);
		done += n;
		skip = 0;
	}
	return done;
}
