/* tests/unit/netback/test_subnet.c: CIDR parsing, overlap, picking a free
 * subnet from a pool. */
#include <criterion/criterion.h>
#include <errno.h>

#include "netback/subnet.h"

static struct subnet sn(const char *s)
{
	struct subnet r;

	cr_assert_eq(subnet_parse(s, true, &r), 0, "%s", s);
	return r;
}

Test(subnet, parse_format)
{
	struct subnet s;
	char buf[SUBNET_STR_LEN];

	cr_assert_eq(subnet_parse("10.213.4.0/24", true, &s), 0);
	cr_assert_eq(s.addr, 0x0ad50400);
	cr_assert_eq(s.prefix, 24);
	cr_assert_str_eq(subnet_format(&s, buf, sizeof(buf)), "10.213.4.0/24");
	cr_assert_eq(subnet_parse("10.213.4.1/24", true, &s), -EINVAL);
	cr_assert_eq(subnet_parse("10.213.4.1/24", false, &s), 0);
	cr_assert_eq(s.addr, 0x0ad50400);
	cr_assert_eq(subnet_parse("10.213.4.0/33", true, &s), -EINVAL);
	cr_assert_eq(subnet_parse("10.213.4.0/", true, &s), -EINVAL);
	cr_assert_eq(subnet_parse("10.213.4.0", true, &s), -EINVAL);
	cr_assert_eq(subnet_parse("10.213.400.0/24", true, &s), -EINVAL);
	cr_assert_eq(subnet_parse("10.213.4.0/2x", true, &s), -EINVAL);
	cr_assert_eq(subnet_parse("0.0.0.0/0", true, &s), 0);
}

Test(subnet, overlap)
{
	struct subnet a = sn("10.0.0.0/8"), b = sn("10.213.0.0/24"),
		      c = sn("10.213.1.0/24"), d = sn("10.213.0.128/25");

	cr_assert(subnet_overlaps(&a, &b));
	cr_assert(subnet_overlaps(&b, &a));
	cr_assert(!subnet_overlaps(&b, &c));
	cr_assert(subnet_overlaps(&b, &d));
	cr_assert(!subnet_overlaps(&c, &d));
}

Test(subnet, hosts)
{
	struct subnet s = sn("192.168.7.0/24");

	cr_assert_eq(subnet_host(&s, 1), 0xc0a80701);
	cr_assert_eq(subnet_usable(24), 254);
	cr_assert_eq(subnet_usable(30), 2);
	cr_assert_eq(subnet_usable(31), 0);
	cr_assert_eq(subnet_mask(24), 0xffffff00);
	cr_assert_eq(subnet_mask(0), 0);
}

Test(subnet, pick_skips_taken_and_routes)
{
	struct subnet pool = sn("10.213.0.0/16"), out;
	struct subnet taken[] = {
		sn("10.213.0.0/24"),   /* another lab network */
		sn("10.213.1.64/26"),  /* part of a /24 is enough to skip it */
		sn("10.213.2.7/32"),
		sn("192.168.0.0/16"),  /* unrelated route */
	};
	char buf[SUBNET_STR_LEN];

	cr_assert_eq(subnet_pick(&pool, 24, taken, 4, &out), 0);
	cr_assert_str_eq(subnet_format(&out, buf, sizeof(buf)), "10.213.3.0/24");
	cr_assert_eq(subnet_pick(&pool, 24, NULL, 0, &out), 0);
	cr_assert_eq(out.addr, pool.addr);
}

Test(subnet, pick_exhausted)
{
	struct subnet pool = sn("10.213.0.0/23"), out;
	struct subnet taken[] = { sn("10.213.0.0/24"), sn("10.213.1.0/24") };
	struct subnet wide[] = { sn("10.0.0.0/8") };

	cr_assert_eq(subnet_pick(&pool, 24, taken, 2, &out), -ENOSPC);
	cr_assert_eq(subnet_pick(&pool, 24, wide, 1, &out), -ENOSPC);
	cr_assert_eq(subnet_pick(&pool, 22, NULL, 0, &out), -EINVAL);
}
