/* tests/unit/netback/test_shaper.c: rates as --nic-limit and the API read
 * them (decimal units, bit/s), printing them, and shaper_set()'s checks
 * that need no tc. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "netback/shaper.h"

static uint64_t rate(const char *s)
{
	uint64_t v = 12345;

	cr_assert_eq(shaper_parse_rate(s, &v), 0, "'%s' refused", s);
	return v;
}

Test(shaper, parses_decimal_units)
{
	cr_assert_eq(rate("10M"), 10000000);
	cr_assert_eq(rate("10m"), 10000000);
	cr_assert_eq(rate("10Mbit"), 10000000);
	cr_assert_eq(rate("1.5G"), 1500000000);
	cr_assert_eq(rate("800K"), 800000);
	cr_assert_eq(rate("12345"), 12345);
	cr_assert_eq(rate("100G"), 100000000000ULL);
}

Test(shaper, none_is_zero)
{
	cr_assert_eq(rate("none"), 0);
	cr_assert_eq(rate("off"), 0);
	cr_assert_eq(rate("0"), 0);
}

Test(shaper, refuses_bad_rates)
{
	static const char *const bad[] = { "", "fast", "10Q", "-5M", "1K", "7999",
					   "101G", "10M10", "M", " 10M", "nan", "1e400" };
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(shaper_parse_rate(bad[i], &v), -EINVAL, "'%s' accepted", bad[i]);
}

Test(shaper, formats_rates)
{
	char b[24];

	cr_assert_str_eq(shaper_format_rate(0, b, sizeof(b)), "none");
	cr_assert_str_eq(shaper_format_rate(10000000, b, sizeof(b)), "10M");
	cr_assert_str_eq(shaper_format_rate(2000000000, b, sizeof(b)), "2G");
	cr_assert_str_eq(shaper_format_rate(1500000, b, sizeof(b)), "1500K");
	cr_assert_str_eq(shaper_format_rate(12345, b, sizeof(b)), "12345");
}

Test(shaper, set_checks_name_and_range_first)
{
	char err[256];

	cr_assert_eq(shaper_set("", 10000000, 0, err, sizeof(err)), -EINVAL);
	cr_assert_eq(shaper_set("vvno-such-if0", 10000000, 0, err, sizeof(err)), -ENODEV);
	cr_assert_str_eq(err, "no interface vvno-such-if0");
	cr_assert_eq(shaper_set("lo", 1000, 0, err, sizeof(err)), -EINVAL);
}
