/* tests/unit/vhd/test_codec.c: on-disk codecs of vhd/: footer and dynamic
 * header round trips and checksums, the CHS algorithm against values worked
 * out by hand from the specification, creator size rules, UTF-16 and
 * locator encodings, relative paths, bitmap bit order. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vhd/vhd_int.h"

static void sample_footer(struct vhd_footer *f)
{
	cr_assert_eq(vhd_footer_init(f, VHD_TYPE_DYNAMIC, 127ull << 20), 0);
	f->timestamp = 0x12345678;
}

Test(footer, round_trip_and_checksum)
{
	struct vhd_footer f, g;
	uint8_t buf[512], again[512];

	sample_footer(&f);
	vhd_footer_encode(&f, buf);
	cr_assert_eq(memcmp(buf, "conectix", 8), 0);
	cr_assert_eq(vhd_get_be32(buf + 8), 2u, "features");
	cr_assert_eq(vhd_get_be32(buf + 12), 0x00010000u, "version");
	cr_assert_eq(vhd_get_be64(buf + 16), 512u, "data offset");
	cr_assert_eq(vhd_get_be32(buf + 24), 0x12345678u);
	cr_assert_eq(memcmp(buf + 28, "win ", 4), 0);
	cr_assert_eq(memcmp(buf + 36, "Wi2k", 4), 0);
	cr_assert_eq(vhd_get_be64(buf + 40), 127ull << 20);
	cr_assert_eq(vhd_get_be64(buf + 48), 127ull << 20);
	cr_assert_eq(vhd_get_be32(buf + 60), 3u);
	cr_assert_eq(buf[84], 0);
	/* Checksum by hand: one's complement of the byte sum without it. */
	uint32_t sum = 0;
	for (int i = 0; i < 512; i++)
		if (i < 64 || i >= 68)
			sum += buf[i];
	cr_assert_eq(vhd_get_be32(buf + 64), ~sum);

	cr_assert_eq(vhd_footer_parse(buf, 0, &g), 0, "%s", vhd_last_error());
	cr_assert_eq(memcmp(g.uuid, f.uuid, 16), 0);
	cr_assert_eq(g.cylinders, f.cylinders);
	cr_assert_eq(g.heads, f.heads);
	cr_assert_eq(g.sectors_per_track, f.sectors_per_track);
	vhd_footer_encode(&g, again);
	cr_assert_eq(memcmp(buf, again, 512), 0);
	/* RFC 4122 version 4 UUID. */
	cr_assert_eq(f.uuid[6] >> 4, 4);
}

Test(footer, parse_rejects_damage)
{
	struct vhd_footer f, g;
	uint8_t buf[512];

	sample_footer(&f);
	vhd_footer_encode(&f, buf);
	buf[100] ^= 1;
	cr_assert_eq(vhd_footer_parse(buf, 4096, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "checksum mismatch at offset 4096"), "%s",
		  vhd_last_error());

	f.version = 0x00020000;
	vhd_footer_encode(&f, buf);
	cr_assert_eq(vhd_footer_parse(buf, 0, &g), -ENOTSUP);
	cr_assert(strstr(vhd_last_error(), "unsupported footer version"));

	sample_footer(&f);
	f.type = 5;
	vhd_footer_encode(&f, buf);
	cr_assert_eq(vhd_footer_parse(buf, 0, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "bad disk type 5"));

	memset(buf, 0, sizeof(buf));
	cr_assert_eq(vhd_footer_parse(buf, 7, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "conectix"));
}

Test(header, round_trip_and_checks)
{
	struct vhd_header h, g;
	uint8_t buf[1024], again[1024];
	uint64_t size = 127ull << 20;

	vhd_header_init(&h, 64, 2u << 20, 1536);
	h.parent_timestamp = 99;
	h.loc[1].code = VHD_PLAT_W2KU;
	h.loc[1].data_space = 512;
	h.loc[1].data_len = 30;
	h.loc[1].data_offset = 2048;
	vhd_header_encode(&h, buf);
	cr_assert_eq(memcmp(buf, "cxsparse", 8), 0);
	cr_assert_eq(vhd_get_be64(buf + 8), UINT64_MAX, "next offset all ones");
	cr_assert_eq(vhd_get_be64(buf + 16), 1536u);
	cr_assert_eq(vhd_get_be32(buf + 24), 0x00010000u);
	cr_assert_eq(vhd_get_be32(buf + 28), 64u);
	cr_assert_eq(vhd_get_be32(buf + 32), 2u << 20);
	cr_assert_eq(vhd_get_be32(buf + 576 + 24), VHD_PLAT_W2KU);
	cr_assert_eq(vhd_get_be64(buf + 576 + 24 + 16), 2048u);
	cr_assert_eq(vhd_get_be32(buf + 36), vhd_checksum(buf, 1024, 36));
	cr_assert_eq(vhd_header_parse(buf, 512, size, 1 << 20, &g), 0, "%s", vhd_last_error());
	cr_assert_eq(g.loc[1].data_len, 30u);
	vhd_header_encode(&g, again);
	cr_assert_eq(memcmp(buf, again, 1024), 0);

	buf[600] ^= 0x10;
	cr_assert_eq(vhd_header_parse(buf, 512, size, 1 << 20, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "dynamic header checksum mismatch at offset 512"));

	h.block_size = 3u << 20;
	vhd_header_encode(&h, buf);
	cr_assert_eq(vhd_header_parse(buf, 512, size, 1 << 20, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "not a power of two"));

	h.block_size = 2u << 20;
	h.max_bat_entries = 63;  /* 127 MiB needs 64 entries of 2 MiB */
	vhd_header_encode(&h, buf);
	cr_assert_eq(vhd_header_parse(buf, 512, size, 1 << 20, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "needs 64"));

	h.max_bat_entries = 64;
	vhd_header_encode(&h, buf);
	cr_assert_eq(vhd_header_parse(buf, 512, size, 1536 + 100, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "past the end of the file"));

	h.table_offset = UINT64_MAX - 511;
	h.max_bat_entries = 1000;  /* 4000 bytes: past 2^64 */
	vhd_header_encode(&h, buf);
	cr_assert_eq(vhd_header_parse(buf, 512, size, 1 << 20, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "overflow"), "%s", vhd_last_error());

	h.table_offset = 1536;
	h.max_bat_entries = UINT32_MAX;
	vhd_header_encode(&h, buf);
	cr_assert_eq(vhd_header_parse(buf, 512, size, UINT64_MAX, &g), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "too large"), "%s", vhd_last_error());
}

Test(header, locator_space_bytes_or_sectors)
{
	struct vhd_locator l = { .data_space = 1 };

	cr_assert_eq(vhd_locator_space(&l), 512u);
	l.data_space = 511;
	cr_assert_eq(vhd_locator_space(&l), 511u * 512);
	l.data_space = 512;
	cr_assert_eq(vhd_locator_space(&l), 512u);
	l.data_space = 4096;
	cr_assert_eq(vhd_locator_space(&l), 4096u);
}

static void chs(uint64_t size, unsigned c, unsigned h, unsigned s)
{
	uint16_t cc;
	uint8_t hh, ss;

	vhd_geometry(size, &cc, &hh, &ss);
	cr_expect(cc == c && hh == h && ss == s, "size %llu: got %u/%u/%u, want %u/%u/%u",
		  (unsigned long long)size, cc, hh, ss, c, h, s);
}

Test(geometry, spec_algorithm)
{
	/* 127 MiB = 260096 sectors: 17 spt, cth 15299, heads 15, cyl 1019. */
	chs(127ull << 20, 1019, 15, 17);
	/* 1 GiB = 2097152 sectors: 17 spt gives 121 heads, 31 spt gives
	 * cth 67650 >= 16384, so 63 spt: cth 33288, cyl 2080. */
	chs(1ull << 30, 2080, 16, 63);
	/* 2040 GiB is capped at 65535*16*255 sectors. */
	chs(VHD_MAX_DYNAMIC_SIZE, 65535, 16, 255);
	/* The cap itself and beyond. */
	chs(65535ull * 16 * 255 * 512, 65535, 16, 255);
	chs(4ull << 40, 65535, 16, 255);
	/* Exactly 65535*16*63 sectors switches to 255 spt: cth 259056. */
	chs(65535ull * 16 * 63 * 512, 16191, 16, 255);
	/* 10 MiB = 20480 sectors: 17 spt, cth 1204, heads 4 (2 raised to 4), cyl 301. */
	chs(10ull << 20, 301, 4, 17);
	/* 64 MiB = 131072 sectors: cth 7710, heads 8, cyl 963. */
	chs(64ull << 20, 963, 8, 17);
}

Test(geometry, creator_size_rules)
{
	struct vhd_footer f;

	cr_assert_eq(vhd_footer_init(&f, VHD_TYPE_DYNAMIC, 1ull << 30), 0);
	/* ours: current_size */
	cr_assert_eq(vhd_footer_size(&f), 1ull << 30);
	memcpy(f.creator_app, "vpc ", 4);
	cr_assert_eq(vhd_footer_size(&f), 2080ull * 16 * 63 * 512);
	memcpy(f.creator_app, "qemu", 4);
	cr_assert(vhd_size_uses_chs(&f));
	static const char *cur[] = { "win ", "qem2", "d2v ", "CTXS", "abcd" };
	for (unsigned i = 0; i < sizeof(cur) / sizeof(cur[0]); i++) {
		memcpy(f.creator_app, cur[i], 4);
		cr_expect_eq(vhd_footer_size(&f), 1ull << 30, "creator %s", cur[i]);
	}
	memcpy(f.creator_app, "tap\0", 4);
	cr_assert_not(vhd_size_uses_chs(&f));
	/* A maxed geometry means current_size even for Virtual PC. */
	memcpy(f.creator_app, "vpc ", 4);
	f.cylinders = 65535;
	f.heads = 16;
	f.sectors_per_track = 255;
	f.current_size = 3ull << 40;
	cr_assert_eq(vhd_footer_size(&f), 3ull << 40);
}

Test(text, utf16_both_orders_and_surrogates)
{
	/* "aé€𝄞": 1-, 2-, 3- and 4-byte UTF-8 */
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";
	static const uint8_t be[] = { 0, 'a', 0, 0xe9, 0x20, 0xac, 0xd8, 0x34, 0xdd, 0x1e };
	uint8_t out[32];
	char back[32];
	size_t len;

	cr_assert_eq(vhd_utf8_to_utf16(s, out, sizeof(out), true, &len), 0);
	cr_assert_eq(len, sizeof(be));
	cr_assert_eq(memcmp(out, be, len), 0);
	cr_assert_eq(vhd_utf16_to_utf8(out, len, true, back, sizeof(back)), 0);
	cr_assert_str_eq(back, s);

	cr_assert_eq(vhd_utf8_to_utf16(s, out, sizeof(out), false, &len), 0);
	cr_assert_eq(out[0], 'a');
	cr_assert_eq(out[1], 0);
	cr_assert_eq(out[6], 0x34);
	cr_assert_eq(out[7], 0xd8);
	cr_assert_eq(vhd_utf16_to_utf8(out, len, false, back, sizeof(back)), 0);
	cr_assert_str_eq(back, s);

	cr_assert_eq(vhd_utf8_to_utf16("\xc3", out, sizeof(out), true, &len), -EINVAL);
	cr_assert_eq(vhd_utf8_to_utf16("abc", out, 4, true, &len), -ENAMETOOLONG);
	static const uint8_t lone[] = { 0xdc, 0x00 };
	cr_assert_eq(vhd_utf16_to_utf8(lone, 2, true, back, sizeof(back)), -EINVAL);
}

Test(text, relative_paths)
{
	char out[256];

	cr_assert_eq(vhd_relative_path("/a/b", "/a/b/base.vhd", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "./base.vhd");
	cr_assert_eq(vhd_relative_path("/a/b", "/a/c/d.vhd", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "../c/d.vhd");
	cr_assert_eq(vhd_relative_path("/x/y/z", "/p.vhd", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "../../../p.vhd");
	cr_assert_eq(vhd_relative_path("/", "/p.vhd", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "./p.vhd");
	cr_assert_eq(vhd_relative_path("/ab", "/a/q.vhd", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "../a/q.vhd");
	cr_assert_eq(vhd_relative_path("a", "/q", out, sizeof(out)), -EINVAL);
}

Test(locator, w2ru_w2ku_macx)
{
	uint8_t data[512];
	char out[256];
	size_t len;

	cr_assert_eq(vhd_locator_encode(VHD_PLAT_W2RU, "./base.vhd", data, sizeof(data), &len), 0);
	/* ".\base.vhd" in UTF-16LE */
	cr_assert_eq(len, 20u);
	cr_assert_eq(data[0], '.');
	cr_assert_eq(data[1], 0);
	cr_assert_eq(data[2], '\\');
	cr_assert_eq(data[3], 0);
	cr_assert_eq(vhd_locator_decode(VHD_PLAT_W2RU, data, len, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "./base.vhd");

	cr_assert_eq(vhd_locator_encode(VHD_PLAT_W2KU, "/srv/v/b.vhd", data, sizeof(data), &len), 0);
	cr_assert_eq(data[0], '\\');
	cr_assert_eq(vhd_locator_decode(VHD_PLAT_W2KU, data, len, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/srv/v/b.vhd");

	/* A Windows absolute path loses its drive letter. */
	cr_assert_eq(vhd_utf8_to_utf16("C:\\vms\\base.vhd", data, sizeof(data), false, &len), 0);
	cr_assert_eq(vhd_locator_decode(VHD_PLAT_W2KU, data, len, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/vms/base.vhd");

	cr_assert_eq(vhd_locator_encode(VHD_PLAT_MACX, "/v m/b%.vhd", data, sizeof(data), &len), 0);
	cr_assert_eq(len, strlen("file:///v%20m/b%25.vhd"));
	cr_assert_eq(memcmp(data, "file:///v%20m/b%25.vhd", len), 0);
	cr_assert_eq(vhd_locator_decode(VHD_PLAT_MACX, data, len, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/v m/b%.vhd");

	const char *url = "file://localhost/Users/x/base.vhd";
	cr_assert_eq(vhd_locator_decode(VHD_PLAT_MACX, (const uint8_t *)url, strlen(url) + 1,
					out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/Users/x/base.vhd");
	cr_assert_eq(vhd_locator_decode(VHD_PLAT_MACX, (const uint8_t *)"http://x", 8, out,
					sizeof(out)), -EINVAL);
	cr_assert_eq(vhd_locator_decode(0x12345678, data, len, out, sizeof(out)), -EINVAL);
}

Test(bitmap, msb_first)
{
	uint8_t bm[2] = { 0, 0 };

	vhd_bit_set(bm, 0);
	cr_assert_eq(bm[0], 0x80);
	vhd_bit_set(bm, 9);
	cr_assert_eq(bm[1], 0x40);
	cr_assert(vhd_bit_test(bm, 0));
	cr_assert_not(vhd_bit_test(bm, 1));
	cr_assert(vhd_bit_test(bm, 9));
}
