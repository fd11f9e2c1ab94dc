/* tests/unit/virtio/test_vring.c: split virtqueues against a guest that
 * lies: sizes that are not powers of two, rings outside memory or
 * misaligned, chains that loop or leave their table, buffers outside
 * memory, readable after writable, indirect tables (good, without the
 * feature, nested, bad lengths, outside memory, looping), an available
 * index that runs ahead; and the event idx / notification rules. */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "virtio/vring.h"

#define GPA   0x100000ull
#define MEMSZ 65536u
#define QSZ   8u
#define DESC  (GPA + 0x0)
#define AVAIL (GPA + 0x1000)
#define USED  (GPA + 0x2000)
#define DATA  (GPA + 0x4000)

static uint8_t mem_buf[MEMSZ] __attribute__((aligned(4096)));
static struct vmem mem;
static struct vring vr;
static struct iovec iov[64];
static struct vring_chain ch;
static const char *why;

static uint8_t *host(uint64_t gpa) { return mem_buf + (gpa - GPA); }

static void put16(uint64_t gpa, uint16_t v) { v = htole16(v); memcpy(host(gpa), &v, 2); }
static uint16_t get16(uint64_t gpa) { uint16_t v; memcpy(&v, host(gpa), 2); return le16toh(v); }
static uint32_t get32(uint64_t gpa) { uint32_t v; memcpy(&v, host(gpa), 4); return le32toh(v); }

/* Writes descriptor @i of the table at @table. */
static void desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = host(table + 16 * i);
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(p, &a, 8);
	memcpy(p + 8, &l, 4);
	memcpy(p + 12, &f, 2);
	memcpy(p + 14, &n, 2);
}

/* Makes chain @head available (entry avail idx, idx+1). */
static void offer(uint16_t head)
{
	uint16_t idx = get16(AVAIL + 2);

	put16(AVAIL + 4 + 2 * (idx % QSZ), head);
	put16(AVAIL + 2, (uint16_t)(idx + 1));
}

static void setup(uint64_t features)
{
	struct vmem_region r = { .gpa = GPA, .size = MEMSZ, .host = mem_buf };

	memset(mem_buf, 0, sizeof(mem_buf));
	mem = (struct vmem){ 0 };
	cr_assert_eq(vmem_add(&mem, &r), 0);
	cr_assert_eq(vring_init(&vr, &mem, QSZ, DESC, AVAIL, USED, features, &why), 0);
	ch = (struct vring_chain){ .iov = iov, .max = 64 };
}

static void setup_plain(void) { setup(0); }
static void setup_indirect(void) { setup(1ull << VIRTIO_RING_F_INDIRECT_DESC); }

TestSuite(vring, .init = setup_plain);

Test(vring, sizes)
{
	unsigned bad[] = { 0, 3, 6, 100, 32769, 65536 };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_not(vring_size_ok(bad[i]));
		cr_assert_eq(vring_init(&vr, &mem, bad[i], DESC, AVAIL, USED, 0, &why), -EINVAL);
	}
	cr_assert(vring_size_ok(1) && vring_size_ok(256) && vring_size_ok(32768));
}

Test(vring, rings_outside_or_misaligned)
{
	cr_assert_eq(vring_init(&vr, &mem, QSZ, DESC + 8, AVAIL, USED, 0, &why), -EINVAL);
	cr_assert_eq(vring_init(&vr, &mem, QSZ, DESC, AVAIL + 1, USED, 0, &why), -EINVAL);
	cr_assert_eq(vring_init(&vr, &mem, QSZ, DESC, AVAIL, USED + 2, 0, &why), -EINVAL);
	cr_assert_eq(vring_init(&vr, &mem, QSZ, GPA + MEMSZ - 64, AVAIL, USED, 0, &why), -EINVAL);
	cr_assert_eq(vring_init(&vr, &mem, QSZ, DESC, GPA + MEMSZ - 8, USED, 0, &why), -EINVAL);
	cr_assert_eq(vring_init(&vr, &mem, QSZ, DESC, AVAIL, 0, 0, &why), -EINVAL);
	/* 32768 entries: 512 KiB of descriptors do not fit in 64 KiB */
	cr_assert_eq(vring_init(&vr, &mem, 32768, DESC, AVAIL, USED, 0, &why), -EINVAL);
}

Test(vring, empty_then_one_chain)
{
	cr_assert_eq(vring_pop(&vr, &ch, &why), 0);
	desc(DESC, 2, DATA, 16, VRING_DESC_F_NEXT, 5);
	desc(DESC, 5, DATA + 0x100, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	desc(DESC, 1, DATA + 0x400, 1, VRING_DESC_F_WRITE, 0);
	offer(2);
	cr_assert_eq(vring_pop(&vr, &ch, &why), 1);
	cr_assert_eq(ch.head, 2);
	cr_assert_eq(ch.nout, 1);
	cr_assert_eq(ch.nin, 2);
	cr_assert_eq(ch.out_len, 16);
	cr_assert_eq(ch.in_len, 513);
	cr_assert_eq(iov[0].iov_base, host(DATA));
	cr_assert_eq(iov[2].iov_base, host(DATA + 0x400));
	cr_assert_eq(vring_pop(&vr, &ch, &why), 0);
	cr_assert_eq(vr.last_avail, 1);
}

Test(vring, zero_length_descriptor_adds_no_segment)
{
	desc(DESC, 0, DATA, 0, VRING_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 8, 0, 0);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), 1);
	cr_assert_eq(ch.nout, 1);
	cr_assert_eq(ch.out_len, 8);
}

Test(vring, loop_is_caught)
{
	desc(DESC, 0, DATA, 16, VRING_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 16, VRING_DESC_F_NEXT, 0);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
	cr_assert_str_eq(why, "descriptor chain loops (longer than its table)");
	cr_assert_eq(vr.last_avail, 0);   /* not consumed */
	/* a descriptor pointing at itself */
	desc(DESC, 0, DATA, 16, VRING_DESC_F_NEXT, 0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
}

Test(vring, indices_out_of_range)
{
	desc(DESC, 0, DATA, 16, VRING_DESC_F_NEXT, QSZ);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
	cr_assert_str_eq(why, "next descriptor index outside its table");
	setup_plain();
	offer(QSZ);   /* head past the table */
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
	setup_plain();
	put16(AVAIL + 2, QSZ + 1);   /* more available than the ring holds */
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
}

Test(vring, readable_after_writable)
{
	desc(DESC, 0, DATA, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 16, 0, 0);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
	cr_assert_str_eq(why, "a device-readable descriptor follows a device-writable one");
}

Test(vring, buffers_outside_memory)
{
	uint64_t bad[][2] = {
		{ GPA - 16, 16 }, { GPA + MEMSZ - 8, 16 }, { 0, 16 },
		{ DATA, UINT32_MAX }, { UINT64_MAX - 8, 16 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup_plain();
		desc(DESC, 0, bad[i][0], (uint32_t)bad[i][1], 0, 0);
		offer(0);
		cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO, "case %u", i);
	}
}

Test(vring, too_many_segments)
{
	ch.max = 2;
	desc(DESC, 0, DATA, 16, VRING_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 16, VRING_DESC_F_NEXT, 2);
	desc(DESC, 2, DATA, 16, 0, 0);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
}

Test(vring, indirect_without_feature)
{
	desc(DESC, 0, DATA, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
}

Test(vring, indirect_good, .init = setup_indirect)
{
	uint64_t table = GPA + 0x3000;

	desc(table, 0, DATA, 16, VRING_DESC_F_NEXT, 2);
	desc(table, 2, DATA + 0x200, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	desc(table, 1, DATA + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	desc(DESC, 3, table, 48, VRING_DESC_F_INDIRECT, 0);
	offer(3);
	cr_assert_eq(vring_pop(&vr, &ch, &why), 1);
	cr_assert_eq(ch.head, 3);
	cr_assert_eq(ch.out_len, 16);
	cr_assert_eq(ch.in_len, 4097);
}

Test(vring, indirect_bad, .init = setup_indirect)
{
	uint64_t table = GPA + 0x3000;
	struct { uint64_t addr; uint32_t len; uint16_t flags; const char *what; } c[] = {
		{ table, 20, VRING_DESC_F_INDIRECT, "length not a multiple of 16" },
		{ table, 0, VRING_DESC_F_INDIRECT, "length 0" },
		{ GPA + MEMSZ - 16, 32, VRING_DESC_F_INDIRECT, "table past memory" },
		{ table, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, "indirect with next" },
		{ table, (VRING_MAX_SIZE + 1) * 16, VRING_DESC_F_INDIRECT, "table too long" },
	};

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		setup_indirect();
		desc(table, 0, DATA, 16, 0, 0);
		desc(DESC, 0, c[i].addr, c[i].len, c[i].flags, 1);
		offer(0);
		cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO, "%s", c[i].what);
	}
	/* nested */
	setup_indirect();
	desc(table, 0, table, 16, VRING_DESC_F_INDIRECT, 0);
	desc(DESC, 0, table, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
	cr_assert_str_eq(why, "nested indirect descriptor");
	/* a loop inside the table, and a next past its end */
	setup_indirect();
	desc(table, 0, DATA, 16, VRING_DESC_F_NEXT, 1);
	desc(table, 1, DATA, 16, VRING_DESC_F_NEXT, 0);
	desc(DESC, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
	desc(table, 1, DATA, 16, VRING_DESC_F_NEXT, 2);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
	/* an indirect descriptor in the middle of a chain */
	setup_indirect();
	desc(table, 0, DATA, 16, 0, 0);
	desc(DESC, 0, DATA, 16, VRING_DESC_F_NEXT, 1);
	desc(DESC, 1, table, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), -EIO);
}

Test(vring, push_and_notify_without_event_idx)
{
	vring_push(&vr, 5, 77);
	cr_assert_eq(get16(USED + 2), 1);
	cr_assert_eq(get32(USED + 4), 5);
	cr_assert_eq(get32(USED + 8), 77);
	cr_assert(vring_need_notify(&vr));
	put16(AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
	vring_push(&vr, 6, 1);
	cr_assert_not(vring_need_notify(&vr));
	vring_disable_notify(&vr);
	cr_assert_eq(get16(USED), VRING_USED_F_NO_NOTIFY);
	cr_assert_not(vring_enable_notify(&vr));
	cr_assert_eq(get16(USED), 0);
	offer(0);
	cr_assert(vring_enable_notify(&vr));   /* work arrived meanwhile */
}

Test(vring, event_idx)
{
	setup(1ull << VIRTIO_RING_F_EVENT_IDX);
	/* The driver wants an interrupt when used idx passes 2. */
	put16(AVAIL + 4 + 2 * QSZ, 2);
	vring_push(&vr, 0, 1);
	cr_assert(vring_need_notify(&vr));      /* first time: always */
	vring_push(&vr, 1, 1);                  /* used idx 2: event 2 not passed */
	cr_assert_not(vring_need_notify(&vr));
	vring_push(&vr, 2, 1);                  /* used idx 3: passes 2 */
	cr_assert(vring_need_notify(&vr));
	vring_push(&vr, 3, 1);
	cr_assert_not(vring_need_notify(&vr));
	/* avail_event follows last_avail */
	offer(0);
	desc(DESC, 0, DATA, 16, 0, 0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), 1);
	cr_assert_not(vring_enable_notify(&vr));
	cr_assert_eq(get16(USED + 4 + 8 * QSZ), 1);
}

Test(vring, need_event_wraps)
{
	cr_assert(vring_need_event(0xffff, 0x0001, 0xfffe));
	cr_assert_not(vring_need_event(0x0002, 0x0001, 0xfffe));
	cr_assert(vring_need_event(5, 6, 5));
	cr_assert_not(vring_need_event(6, 6, 5));
}

Test(vring, set_base_resumes)
{
	vring_set_base(&vr, 65535);
	put16(AVAIL + 2, 0);          /* one entry: 65535 -> 0 */
	put16(AVAIL + 4 + 2 * (65535 % QSZ), 4);
	desc(DESC, 4, DATA, 16, 0, 0);
	cr_assert_eq(vring_pop(&vr, &ch, &why), 1);
	cr_assert_eq(ch.head, 4);
	vring_push(&vr, 4, 0);
	cr_assert_eq(get16(USED + 2), 0);
}

Test(vring, iov_copy)
{
	struct iovec v[2] = { { host(DATA), 3 }, { host(DATA + 100), 5 } };
	uint8_t out[8], in[8] = "abcdefgh";

	cr_assert_eq(vring_iov_from_buf(v, 2, 1, in, 8), 7);
	cr_assert_eq(vring_iov_to_buf(v, 2, 2, out, 8), 6);
	cr_assert_eq(memcmp(out, "bcdefg", 6), 0);
}
