/* tests/fuzz/fuzz_vring.c: libFuzzer target over virtio/'s split
 * virtqueue parsing. The input is a small header and then guest memory:
 *   byte 0     log2 of the queue size (mod 11: 1..1024 entries)
 *   byte 1     bit 0 INDIRECT_DESC, bit 1 EVENT_IDX negotiated
 *   bytes 2-3  the ring's base index (little-endian)
 * *   the rest   the content of 64 KiB of guest memory, two adjacent
 *              regions of 32 KiB at guest address 0x1000 (separate host
 *              buffers): descriptors at 0x1000, available ring at 0x5800,
 *              used ring at 0x6800.
 * Every chain taken off the ring must lie wholly inside the two buffers
 * (else abort()), pushes and notification checks must not fault; ASan and
 * UBSan catch the rest. Seeds: tests/fuzz/make-corpus-fuzz_vring.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/vring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REGION 0x8000u
#define GPA0   0x1000u

static uint8_t reg_a[REGION] __attribute__((aligned(4096)));
static uint8_t reg_b[REGION] __attribute__((aligned(4096)));

static int fuzz_inside(const struct iovec *v)
{
	const uint8_t *p = v->iov_base;

	return (p >= reg_a && p + v->iov_len <= reg_a + REGION) ||
	       (p >= reg_b && p + v->iov_len <= reg_b + REGION);
}

static void fuzz_check(const struct vring_chain *c)
{
	uint64_t out = 0, in = 0;

	for (unsigned i = 0; i < c->nout + c->nin; i++) {
		if (!fuzz_inside(&c->iov[i]) || !c->iov[i].iov_len)
			abort();
		*(i < c->nout ? &out : &in) += c->iov[i].iov_len;
	}
	if (out != c->out_len || in != c->in_len || c->nout + c->nin > c->max)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmem_region a = { .gpa = GPA0, .size = REGION, .host = reg_a };
	struct vmem_region b = { .gpa = GPA0 + REGION, .size = REGION, .host = reg_b };
	struct iovec iov[256];
	struct vring_chain c = { .iov = iov, .max = 256 };
	struct vmem mem = { 0 };
	struct vring vr;
	const char *why;
	unsigned num;
	uint64_t features = 0;
	uint16_t base;
	size_t n;

	if (size < 4)
		return 0;
	num = 1u << (data[0] % 11);
	if (data[1] & 1)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (data[1] & 2)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	base = (uint16_t)(data[2] | data[3] << 8);
	data += 4;
	size -= 4;
	memset(reg_a, 0, REGION);
	memset(reg_b, 0, REGION);
	n = size < REGION ? size : REGION;
	memcpy(reg_a, data, n);
	if (size > REGION)
		memcpy(reg_b, data + REGION, size - REGION < REGION ? size - REGION : REGION);
	if (vmem_add(&mem, &a) || vmem_add(&mem, &b))
		abort();
	if (vring_init(&vr, &mem, num, GPA0, GPA0 + 0x4800, GPA0 + 0x5800, features, &why))
		abort();   /* the layout above always fits */
	vring_set_base(&vr, base);
	for (unsigned i = 0; i < 2 * num + 4; i++) {
		int rc = vring_pop(&vr, &c, &why);

		if (rc <= 0) {
			if (rc < 0 && !why)
				abort();
			break;
		}
		fuzz_check(&c);
		vring_push(&vr, c.head, (uint32_t)c.in_len);
		vring_need_notify(&vr);
	}
	vring_enable_notify(&vr);
	/* Every head of the table, whatever the available ring says. */
	for (unsigned h = 0; h < num && h < 64; h++) {
		if (!vring_walk(&vr, (uint16_t)h, &c, &why))
			fuzz_check(&c);
	}
	return 0;
}
