/* tests/unit/vhd/test_foreign.c: images laid out the way other creators
 * write them, built by hand here: 512 KiB blocks in reverse file order with
 * blktap-style page alignment and a gap after the BAT, a differencing child
 * with sector-counted locator space and partial bitmaps, a Virtual PC disk
 * sized by CHS; and random corruption that must never crash the reader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "tests/unit/vhd/vhd_test.h"
#include "vhd/vhd_int.h"

TestSuite(foreign, .init = vt_setup, .fini = vt_teardown);

#define BS (512u << 10)
#define NBLK 7u
#define FSIZE ((uint64_t)NBLK * BS - 64 * 1024)  /* partial last block */

static void pw(int fd, const void *buf, size_t len, uint64_t off)
{
	cr_assert_eq(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
}

/* Writes footer copy, header, BAT and trailing footer at @end. */
static void finish(int fd, struct vhd_footer *f, struct vhd_header *h, const uint32_t *bat,
		   uint64_t end)
{
	uint8_t fb[512], hb[1024], eb[4];

	vhd_footer_encode(f, fb);
	vhd_header_encode(h, hb);
	pw(fd, fb, 512, 0);
	pw(fd, hb, 1024, 512);
	for (uint32_t i = 0; i < h->max_bat_entries; i++) {
		vhd_put_be32(eb, bat[i]);
		pw(fd, eb, 4, h->table_offset + 4 * i);
	}
	pw(fd, fb, 512, end);
}

/* A dynamic image as blktap/Azure might write it; block i (except 3) holds
 * pattern i. Returns the file's end of data. */
static uint64_t build_dynamic(const char *path, struct vhd_footer *f)
{
	uint8_t *data = malloc(BS), bm[512];
	uint32_t bat[NBLK];
	struct vhd_header h;
	uint64_t off = 64 << 10;  /* BAT at 4096, then a gap */
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);

	cr_assert_eq(vhd_footer_init(f, VHD_TYPE_DYNAMIC, FSIZE), 0);
	memcpy(f->creator_app, "tap\0", 4);
	vhd_header_init(&h, NBLK, BS, 4096);
	memset(bm, 0xff, sizeof(bm));
	for (int i = NBLK - 1; i >= 0; i--) {
		if (i == 3) {
			bat[i] = VHD_BAT_UNUSED;
			continue;
		}
		/* data page aligned: bitmap in the last sector of a page */
		off = ((off + 4095) & ~4095ull) + 4096 - 512;
		bat[i] = (uint32_t)(off / 512);
		vt_fill(data, BS, (uint64_t)i * BS, 100 + i);
		pw(fd, bm, 512, off);
		pw(fd, data, BS, off + 512);
		off += 512 + BS;
	}
	finish(fd, f, &h, bat, off);
	close(fd);
	free(data);
	return off;
}

static uint8_t want_dyn(uint64_t i)
{
	uint32_t blk = (uint32_t)(i / BS);

	return blk == 3 ? 0 : vt_byte(i, 100 + blk);
}

Test(foreign, blktap_style_dynamic)
{
	const char *p = vt_path("tap.vhd");
	uint8_t *buf = malloc(FSIZE);
	struct vhd_footer f;
	uint64_t end = build_dynamic(p, &f), n;
	struct vhd *v;
	int d;

	v = vt_open(p, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_size(v), FSIZE);
	cr_assert_eq(vhd_pread(v, buf, FSIZE, 0), 0, "%s", vhd_last_error());
	for (uint64_t i = 0; i < FSIZE; i++)
		cr_assert_eq(buf[i], want_dyn(i), "byte %llu", (unsigned long long)i);
	cr_assert_eq(vhd_block_status(v, 2 * BS + 5, FSIZE - 2 * BS - 5, &n, &d), 0);
	cr_assert(d == 1 && n == BS - 5);
	/* a new block lands past everything, the others stay intact */
	memset(buf, 0x99, 4096);
	cr_assert_eq(vhd_pwrite(v, buf, 4096, 3 * BS + 4096), 0);
	cr_assert_geq((uint64_t)vhd_bat_get(v, 3) * 512, end);
	vhd_close(v);
	v = vt_open(p, 0);
	cr_assert_eq(vhd_pread(v, buf, FSIZE, 0), 0);
	for (uint64_t i = 0; i < FSIZE; i++) {
		uint8_t w = i >= 3 * BS + 4096 && i < 3 * BS + 8192 ? 0x99 : want_dyn(i);

		cr_assert_eq(buf[i], w, "byte %llu", (unsigned long long)i);
	}
	vhd_close(v);
	free(buf);
}

Test(foreign, child_with_sector_locators_and_partial_bitmaps)
{
	const char *p = vt_path("tap.vhd"), *c = vt_path("kid.vhd");
	struct vhd_footer pf, f;
	struct vhd_header h;
	uint8_t *data = malloc(BS), bm[512] = { 0 }, loc[512] = { 0 };
	uint32_t bat[NBLK];
	size_t len;
	int fd;

	build_dynamic(p, &pf);
	cr_assert_eq(vhd_footer_init(&f, VHD_TYPE_DIFF, FSIZE), 0);
	memcpy(f.creator_app, "win ", 4);
	vhd_header_init(&h, NBLK, BS, 1536);
	memcpy(h.parent_uuid, pf.uuid, 16);
	cr_assert_eq(vhd_utf8_to_utf16("tap.vhd", h.parent_name, 512, true, &len), 0);
	/* W2ru data at 8192, space counted in sectors (1), as the spec says */
	cr_assert_eq(vhd_locator_encode(VHD_PLAT_W2RU, "./tap.vhd", loc, sizeof(loc), &len), 0);
	h.loc[3].code = VHD_PLAT_W2RU;
	h.loc[3].data_space = 1;
	h.loc[3].data_len = (uint32_t)len;
	h.loc[3].data_offset = 8192;
	for (unsigned i = 0; i < NBLK; i++)
		bat[i] = VHD_BAT_UNUSED;
	/* block 5: sectors 0-7 and 100 are the child's (pattern 200) */
	bm[0] = 0xff;
	vhd_bit_set(bm, 100);
	vt_fill(data, BS, 5ull * BS, 200);
	fd = open(c, O_CREAT | O_TRUNC | O_RDWR, 0644);
	pw(fd, loc, 512, 8192);
	bat[5] = 103;  /* after the locator data, not sector aligned to anything */
	pw(fd, bm, 512, (uint64_t)bat[5] * 512);
	pw(fd, data, BS, (uint64_t)bat[5] * 512 + 512);
	finish(fd, &f, &h, bat, (uint64_t)bat[5] * 512 + 512 + BS);
	close(fd);

	struct vhd *v = vt_open(c, 0);
	uint8_t *buf = malloc(FSIZE);
	cr_assert_eq(vhd_pread(v, buf, FSIZE, 0), 0, "%s", vhd_last_error());
	for (uint64_t i = 0; i < FSIZE; i++) {
		uint64_t s = (i - 5ull * BS) / 512;
		bool mine = i / BS == 5 && (s < 8 || s == 100);

		cr_assert_eq(buf[i], mine ? vt_byte(i, 200) : want_dyn(i), "byte %llu",
			     (unsigned long long)i);
	}
	vhd_close(v);
	free(buf);
	free(data);
}

Test(foreign, virtual_pc_chs_size)
{
	const char *p = vt_path("vpc.vhd");
	struct vhd_footer f;
	uint8_t fb[512];
	uint64_t chs;
	int fd;

	/* Virtual PC: 100 MiB requested, the disk is the CHS product. */
	cr_assert_eq(vhd_footer_init(&f, VHD_TYPE_FIXED, 100ull << 20), 0);
	memcpy(f.creator_app, "vpc ", 4);
	chs = (uint64_t)f.cylinders * f.heads * f.sectors_per_track * 512;
	cr_assert_lt(chs, 100ull << 20);
	vhd_footer_encode(&f, fb);
	fd = open(p, O_CREAT | O_TRUNC | O_RDWR, 0644);
	pw(fd, fb, 512, 100ull << 20);
	close(fd);
	struct vhd *v = vt_open(p, 0);
	cr_assert_eq(vhd_size(v), chs);
	vhd_close(v);
}

Test(foreign, random_corruption_never_crashes)
{
	const char *base = vt_path("b.vhd"), *c = vt_path("c.vhd"), *x = vt_path("x.vhd");
	uint8_t *img, *buf = malloc(4 << 20);
	uint64_t rng = 12345;
	struct stat st;
	int fd, opened = 0;

	vt_create(base, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, base);
	struct vhd *v = vt_open(c, VHD_OPEN_RDWR);
	vt_fill(buf, 3 << 20, 0, 1);
	cr_assert_eq(vhd_pwrite(v, buf, 512 * 3, 1000), 0);
	cr_assert_eq(vhd_pwrite(v, buf, 1 << 20, 2 << 20), 0);
	vhd_close(v);
	cr_assert_eq(stat(c, &st), 0);
	img = malloc(st.st_size);
	fd = open(c, O_RDONLY);
	cr_assert_eq(read(fd, img, st.st_size), st.st_size);
	close(fd);

	for (int it = 0; it < 300; it++) {
		uint8_t *copy = malloc(st.st_size);
		struct vhd_open_opts o = { .flags = it % 2 ? VHD_OPEN_NO_PARENT : 0 };
		uint64_t n;
		int d;

		memcpy(copy, img, st.st_size);
		for (int k = 0; k < 1 + it % 4; k++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			/* metadata: the first 6 KiB, bitmaps and the trailing footer */
			uint64_t r = rng >> 20, off;

			switch (r % 3) {
			case 0:
				off = (r >> 2) % 6144;
				break;
			case 1:
				off = st.st_size - 512 + (r >> 2) % 512;
				break;
			default:
				off = (r >> 2) % st.st_size;
			}
			copy[off] ^= (uint8_t)(1u << ((r >> 40) % 8));
			if (it % 5 == 0)  /* and fix the checksums up sometimes */
				copy[off] = (uint8_t)(r >> 48);
		}
		if (it % 5 == 0) {
			struct vhd_footer f;
			struct vhd_header h;

			vhd_footer_decode(copy + st.st_size - 512, &f);
			vhd_footer_encode(&f, copy + st.st_size - 512);
			vhd_header_decode(copy + 512, &h);
			vhd_header_encode(&h, copy + 512);
		}
		unlink(x);
		fd = open(x, O_CREAT | O_WRONLY, 0644);
		cr_assert_eq(write(fd, copy, st.st_size), st.st_size);
		close(fd);
		free(copy);
		v = NULL;
		if (vhd_open(x, &o, &v))
			continue;
		opened++;
		uint64_t size = vhd_size(v);
		for (uint64_t off = 0; off < size; off += 1 << 20) {
			uint64_t len = size - off < (1 << 20) ? size - off : 1 << 20;

			vhd_pread(v, buf, len, off);
			vhd_block_status(v, off, len, &n, &d);
			if (off > (64u << 20))
				break;
		}
		vhd_close(v);
	}
	cr_assert_gt(opened, 0, "no corrupted image opened at all");
	free(img);
	free(buf);
}

/* A differencing disk with tiny blocks (@bs bytes) over a raw parent, found
 * by its Parent Unicode Name only; blocks 1 and 5 are allocated with only
 * their first sector set in the bitmap. */
static void tiny_blocks(uint32_t bs)
{
	const char *p = vt_path("p.raw"), *c = vt_path("tiny.vhd");
	uint32_t nblk = (64u << 10) / bs, *bat = malloc(nblk * 4);
	uint8_t *data = malloc(64 << 10), bm[512] = { 0x80 }, *sec = malloc(bs), w7a[1000];
	uint64_t end = 1536 + ((nblk * 4 + 511) & ~511u);
	struct vhd_footer f;
	struct vhd_header h;
	size_t len;
	int fd;

	vt_fill(data, 64 << 10, 0, 12);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	pw(fd, data, 64 << 10, 0);
	close(fd);

	cr_assert_eq(vhd_footer_init(&f, VHD_TYPE_DIFF, 64 << 10), 0);
	vhd_header_init(&h, nblk, bs, 1536);
	cr_assert_eq(vhd_utf8_to_utf16("p.raw", h.parent_name, 512, true, &len), 0);
	memset(sec, 0xe5, bs);
	fd = open(c, O_CREAT | O_TRUNC | O_RDWR, 0644);
	for (uint32_t i = 0; i < nblk; i++)
		bat[i] = VHD_BAT_UNUSED;
	for (uint32_t i = 1; i < nblk; i += 4) {
		bat[i] = (uint32_t)(end / 512);
		pw(fd, bm, 512, end);
		pw(fd, sec, bs, end + 512);
		end += 512 + bs;
	}
	finish(fd, &f, &h, bat, end);
	close(fd);

	struct vhd *v = vt_open(c, VHD_OPEN_RAW_PARENT);
	cr_assert_eq(vhd_pread(v, data, 64 << 10, 0), 0, "%s", vhd_last_error());
	for (uint32_t i = 0; i < (64u << 10); i++) {
		bool mine = (i / bs) % 4 == 1 && i % bs < 512;

		cr_assert_eq(data[i], mine ? 0xe5 : vt_byte(i, 12), "bs %u byte %u", bs, i);
	}
	vhd_close(v);
	/* and writes land right */
	v = vt_open(c, VHD_OPEN_RDWR | VHD_OPEN_RAW_PARENT);
	memset(w7a, 0x7a, sizeof(w7a));
	cr_assert_eq(vhd_pwrite(v, w7a, 1000, 3 * bs - 300), 0, "%s", vhd_last_error());
	cr_assert_eq(vhd_pread(v, data, 64 << 10, 0), 0);
	for (uint32_t i = 0; i < (64u << 10); i++) {
		bool mine = (i / bs) % 4 == 1 && i % bs < 512;
		uint8_t w = mine ? 0xe5 : vt_byte(i, 12);

		if (i >= 3 * bs - 300 && i < 3 * bs + 700)
			w = 0x7a;
		cr_assert_eq(data[i], w, "bs %u byte %u after write", bs, i);
	}
	vhd_close(v);
	unlink(c);
	unlink(p);
	free(bat);
	free(data);
	free(sec);
}

Test(foreign, tiny_blocks_any_power_of_two)
{
	tiny_blocks(512);
	tiny_blocks(4096);
}
