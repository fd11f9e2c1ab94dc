/* Unit tests for common/size.c: size parsing with binary suffixes. */
#include <criterion/criterion.h>
#include <errno.h>

#include "common/util.h"

Test(size, plain_and_suffixes)
{
	uint64_t v;

	cr_assert_eq(size_parse("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(size_parse("512", &v), 0);
	cr_assert_eq(v, 512);
	cr_assert_eq(size_parse("1K", &v), 0);
	cr_assert_eq(v, 1024);
	cr_assert_eq(size_parse("2k", &v), 0);
	cr_assert_eq(v, 2048);
	cr_assert_eq(size_parse("127M", &v), 0);
	cr_assert_eq(v, 127ull << 20);
	cr_assert_eq(size_parse("2040G", &v), 0);
	cr_assert_eq(v, 2040ull << 30);
	cr_assert_eq(size_parse("3T", &v), 0);
	cr_assert_eq(v, 3ull << 40);
	cr_assert_eq(size_parse("1GiB", &v), 0);
	cr_assert_eq(v, 1ull << 30);
	cr_assert_eq(size_parse("4MB", &v), 0);
	cr_assert_eq(v, 4ull << 20);
}

Test(size, rejects_garbage)
{
	uint64_t v = 77;

	cr_assert_eq(size_parse("", &v), -EINVAL);
	cr_assert_eq(size_parse("-1", &v), -EINVAL);
	cr_assert_eq(size_parse("M", &v), -EINVAL);
	cr_assert_eq(size_parse("12Q", &v), -EINVAL);
	cr_assert_eq(size_parse("12Mx", &v), -EINVAL);
	cr_assert_eq(size_parse("1.5G", &v), -EINVAL);
	cr_assert_eq(size_parse(NULL, &v), -EINVAL);
	cr_assert_eq(v, 77, "output untouched on error");
}

Test(size, overflow)
{
	uint64_t v;

	cr_assert_eq(size_parse("16E", &v), -ERANGE);
	cr_assert_eq(size_parse("99999999999999999999", &v), -ERANGE);
	cr_assert_eq(size_parse("16777216T", &v), -ERANGE);
	cr_assert_eq(size_parse("16777215T", &v), 0);
}

Test(size, format)
{
	char buf[32];

	cr_assert_str_eq(size_format(512, buf, sizeof(buf)), "512 B");
	cr_assert_str_eq(size_format(1024, buf, sizeof(buf)), "1 KiB");
	cr_assert_str_eq(size_format(127ull << 20, buf, sizeof(buf)), "127 MiB");
	cr_assert_str_eq(size_format(3ull << 29, buf, sizeof(buf)), "1.5 GiB");
	cr_assert_str_eq(size_format(2040ull << 30, buf, sizeof(buf)), "1.99 TiB");
	cr_assert_str_eq(size_format(1536, buf, sizeof(buf)), "1.5 KiB");
}

Test(u64, parse)
{
	uint64_t v;

	cr_assert_eq(u64_parse("0x10", &v), 0);
	cr_assert_eq(v, 16);
	cr_assert_eq(u64_parse("18446744073709551615", &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(u64_parse("18446744073709551616", &v), -ERANGE);
	cr_assert_eq(u64_parse("12x", &v), -EINVAL);
	cr_assert_eq(u64_parse("-3", &v), -EINVAL);
	cr_assert_eq(u64_parse(" 3", &v), -EINVAL);
}
