/* tests/unit/virtio/test_vmem.c: the guest memory table: translations
 * inside one region, across adjacent regions, partly or wholly outside,
 * wrapping around 2^64; table rules (overlap, empty, full); uva lookup. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "virtio/vmem.h"

static uint8_t bufa[4096], bufb[4096];

/* Two regions: [0x10000, +4096) at bufa and [0x11000, +4096) at bufb
 * (adjacent in guest space, apart in ours), uva 0x7000_0000 and +0x1000. */
static void two_regions(struct vmem *m)
{
	struct vmem_region a = { .gpa = 0x10000, .size = 4096, .uva = 0x70000000, .host = bufa };
	struct vmem_region b = { .gpa = 0x11000, .size = 4096, .uva = 0x70001000, .host = bufb };

	*m = (struct vmem){ 0 };
	cr_assert_eq(vmem_add(m, &a), 0);
	cr_assert_eq(vmem_add(m, &b), 0);
}

Test(vmem, inside_one_region)
{
	struct vmem m;
	struct iovec iov[4];

	two_regions(&m);
	cr_assert_eq(vmem_translate(&m, 0x10010, 100, iov, 4), 1);
	cr_assert_eq(iov[0].iov_base, bufa + 0x10);
	cr_assert_eq(iov[0].iov_len, 100);
	cr_assert_eq(vmem_translate(&m, 0x10000, 0, iov, 4), 0);
	cr_assert_eq(vmem_ptr(&m, 0x11ff0, 16), bufb + 0xff0);
}

Test(vmem, spans_adjacent_regions)
{
	struct vmem m;
	struct iovec iov[4];

	two_regions(&m);
	cr_assert_eq(vmem_translate(&m, 0x10f00, 0x200, iov, 4), 2);
	cr_assert_eq(iov[0].iov_base, bufa + 0xf00);
	cr_assert_eq(iov[0].iov_len, 0x100);
	cr_assert_eq(iov[1].iov_base, bufb);
	cr_assert_eq(iov[1].iov_len, 0x100);
	/* one iovec is not enough */
	cr_assert_eq(vmem_translate(&m, 0x10f00, 0x200, iov, 1), -E2BIG);
	/* a single pointer never spans regions */
	cr_assert_null(vmem_ptr(&m, 0x10f00, 0x200));
}

Test(vmem, outside)
{
	struct vmem m;
	struct iovec iov[4];

	two_regions(&m);
	cr_assert_eq(vmem_translate(&m, 0x0, 16, iov, 4), -EFAULT);
	cr_assert_eq(vmem_translate(&m, 0xfff8, 16, iov, 4), -EFAULT);      /* starts before */
	cr_assert_eq(vmem_translate(&m, 0x11ff8, 16, iov, 4), -EFAULT);     /* ends after */
	cr_assert_eq(vmem_translate(&m, 0x10000, 0x2001, iov, 4), -EFAULT);
	cr_assert_eq(vmem_translate(&m, 0x10000, UINT64_MAX, iov, 4), -EFAULT);  /* wraps */
	cr_assert_eq(vmem_translate(&m, UINT64_MAX - 4, 16, iov, 4), -EFAULT);
	cr_assert_null(vmem_ptr(&m, 0x12000, 1));
	cr_assert_null(vmem_ptr(&m, 0x10000, UINT64_MAX));
	cr_assert_null(vmem_ptr(&m, 0x11fff, 2));
}

Test(vmem, table_rules)
{
	struct vmem m;
	struct vmem_region r = { .gpa = 0x10800, .size = 4096, .host = bufa };

	two_regions(&m);
	cr_assert_eq(vmem_add(&m, &r), -EINVAL);                 /* overlaps */
	r = (struct vmem_region){ .gpa = 0x20000, .size = 0, .host = bufa };
	cr_assert_eq(vmem_add(&m, &r), -EINVAL);                 /* empty */
	r = (struct vmem_region){ .gpa = UINT64_MAX - 10, .size = 4096, .host = bufa };
	cr_assert_eq(vmem_add(&m, &r), -EINVAL);                 /* wraps */
	for (unsigned i = 2; i < VMEM_MAX_REGIONS; i++) {
		r = (struct vmem_region){ .gpa = 0x100000 * (i + 1), .size = 16, .host = bufa };
		cr_assert_eq(vmem_add(&m, &r), 0);
	}
	r = (struct vmem_region){ .gpa = 0x10000000, .size = 16, .host = bufa };
	cr_assert_eq(vmem_add(&m, &r), -ENOSPC);
}

Test(vmem, uva_to_gpa)
{
	struct vmem m;
	uint64_t gpa;

	two_regions(&m);
	cr_assert_eq(vmem_uva_to_gpa(&m, 0x70001010, 16, &gpa), 0);
	cr_assert_eq(gpa, 0x11010);
	cr_assert_eq(vmem_uva_to_gpa(&m, 0x70000ff0, 32, &gpa), -EFAULT);   /* spans */
	cr_assert_eq(vmem_uva_to_gpa(&m, 0x6fffffff, 1, &gpa), -EFAULT);
	cr_assert_eq(vmem_uva_to_gpa(&m, 0x70000000, UINT64_MAX, &gpa), -EFAULT);
}
