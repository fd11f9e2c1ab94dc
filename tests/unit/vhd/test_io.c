/* tests/unit/vhd/test_io.c: create, open, read and write of fixed, dynamic
 * and differencing images at unaligned offsets against a shadow copy;
 * allocation rules (zeros allocate nothing, placement after foreign data),
 * bitmaps, block status, threads, and interop with QEMU's vpc driver. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "tests/unit/vhd/vhd_test.h"
#include "vhd/vhd_int.h"

TestSuite(io, .init = vt_setup, .fini = vt_teardown);

static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (rng_state >> 17) % n;
}

/* Whole-disk comparison with @shadow. */
static void compare(struct vhd *v, const uint8_t *shadow, uint64_t size)
{
	uint8_t *buf = malloc(size);

	cr_assert_eq(vhd_pread(v, buf, size, 0), 0, "%s", vhd_last_error());
	for (uint64_t i = 0; i < size; i++)
		cr_assert_eq(buf[i], shadow[i], "byte %llu: %02x != %02x",
			     (unsigned long long)i, buf[i], shadow[i]);
	free(buf);
}

/* Random unaligned writes mirrored into @shadow, compared, reopened,
 * compared again. */
static void random_writes(const char *path, uint8_t *shadow, uint64_t size, unsigned seed)
{
	struct vhd *v = vt_open(path, VHD_OPEN_RDWR);
	uint8_t *buf = malloc(3 << 20);

	rng_state = seed;
	for (int i = 0; i < 60; i++) {
		uint64_t len = 1 + rnd(i % 10 == 0 ? 3 << 20 : 5000);
		uint64_t off = rnd(size - len + 1);

		vt_fill(buf, len, off, seed + (unsigned)i);
		cr_assert_eq(vhd_pwrite(v, buf, len, off), 0, "write %llu+%llu: %s",
			     (unsigned long long)off, (unsigned long long)len, vhd_last_error());
		memcpy(shadow + off, buf, len);
		if (i % 7 == 0) {
			off = rnd(size - 1000);
			cr_assert_eq(vhd_pread(v, buf, 1000, off), 0);
			cr_assert_eq(memcmp(buf, shadow + off, 1000), 0, "read-back at %llu",
				     (unsigned long long)off);
		}
	}
	/* The very end of the disk, unaligned. */
	vt_fill(buf, 777, size - 777, seed);
	cr_assert_eq(vhd_pwrite(v, buf, 777, size - 777), 0, "%s", vhd_last_error());
	memcpy(shadow + size - 777, buf, 777);
	cr_assert_eq(vhd_pwrite(v, buf, 2, size - 1), -EINVAL);
	compare(v, shadow, size);
	cr_assert_eq(vhd_flush(v), 0);
	vhd_close(v);
	v = vt_open(path, 0);
	compare(v, shadow, size);
	cr_assert_eq(vhd_pwrite(v, buf, 1, 0), -EROFS);
	vhd_close(v);
	free(buf);
}

static void round_trip(enum vhd_type type)
{
	uint64_t size = (9ull << 20) + 512;  /* a partial last block */
	const char *p = vt_path("d.vhd");
	uint8_t *shadow = calloc(1, size);
	struct vhd_info info;
	struct vhd *v;

	vt_create(p, type, size, NULL);
	v = vt_open(p, 0);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_eq(info.type, type);
	cr_assert_eq(info.size, size);
	cr_assert_eq(info.current_size, size);
	cr_assert_eq(info.original_size, size);
	cr_assert_str_eq(info.creator_app, "win ");
	cr_assert_eq(info.depth, 1u);
	compare(v, shadow, size);
	vhd_close(v);
	random_writes(p, shadow, size, 1 + type);
	free(shadow);
}

Test(io, fixed_round_trip)
{
	round_trip(VHD_TYPE_FIXED);
}

Test(io, dynamic_round_trip)
{
	round_trip(VHD_TYPE_DYNAMIC);
}

Test(io, differencing_round_trip)
{
	uint64_t size = (9ull << 20) + 512;
	uint8_t *shadow = malloc(size);
	const char *base = vt_path("base.vhd"), *child = vt_path("child.vhd");
	uint8_t *base_data = malloc(size);
	struct vhd *v;

	vt_create(base, VHD_TYPE_DYNAMIC, size, NULL);
	v = vt_open(base, VHD_OPEN_RDWR);
	/* Parent data in blocks 0, 2 and part of 4. */
	vt_fill(shadow, size, 0, 77);
	memset(shadow + (2 << 20), 0, 2 << 20);
	memset(shadow + (6 << 20), 0, size - (6 << 20));
	memset(shadow + (8 << 20) + 4096, 0, size - (8 << 20) - 4096);
	vt_fill(shadow + (8 << 20), 4096, 8 << 20, 77);
	cr_assert_eq(vhd_pwrite(v, shadow, size, 0), 0, "%s", vhd_last_error());
	vhd_close(v);
	memcpy(base_data, shadow, size);

	vt_create(child, VHD_TYPE_DIFF, 0, base);
	v = vt_open(child, 0);
	compare(v, shadow, size);
	vhd_close(v);
	random_writes(child, shadow, size, 5);

	/* The parent is untouched. */
	v = vt_open(base, 0);
	compare(v, base_data, size);
	vhd_close(v);
	free(shadow);
	free(base_data);
}

Test(io, fixed_layout_and_prealloc)
{
	struct vhd_create_opts o = { .type = VHD_TYPE_FIXED, .size = 4 << 20, .prealloc = true };
	const char *p = vt_path("f.vhd");
	struct stat st;
	uint8_t buf[512];
	struct vhd_footer f;
	int fd;

	cr_assert_eq(vhd_create(p, &o), 0, "%s", vhd_last_error());
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_size, (4 << 20) + 512);
	cr_assert_geq(st.st_blocks * 512, 4 << 20, "preallocated");
	fd = open(p, O_RDONLY);
	cr_assert_eq(pread(fd, buf, 512, 4 << 20), 512);
	close(fd);
	cr_assert_eq(vhd_footer_parse(buf, 0, &f), 0);
	cr_assert_eq(f.data_offset, UINT64_MAX);
	cr_assert_eq(f.type, (uint32_t)VHD_TYPE_FIXED);
	cr_assert_eq(f.current_size, 4u << 20);
	/* create refuses to overwrite */
	cr_assert_eq(vhd_create(p, &o), -EEXIST);
}

Test(io, dynamic_layout)
{
	const char *p = vt_path("d.vhd");
	uint8_t a[512], b[512], hb[1024];
	struct vhd_footer f;
	struct vhd_header h;
	struct stat st;
	int fd;

	vt_create(p, VHD_TYPE_DYNAMIC, 127ull << 20, NULL);
	cr_assert_eq(stat(p, &st), 0);
	/* footer copy + header + 64 BAT entries (256 bytes padded) + footer */
	cr_assert_eq(st.st_size, 512 + 1024 + 512 + 512);
	fd = open(p, O_RDONLY);
	cr_assert_eq(pread(fd, a, 512, 0), 512);
	cr_assert_eq(pread(fd, b, 512, st.st_size - 512), 512);
	cr_assert_eq(pread(fd, hb, 1024, 512), 1024);
	close(fd);
	cr_assert_eq(memcmp(a, b, 512), 0, "footer copy at 0");
	cr_assert_eq(vhd_footer_parse(b, 0, &f), 0);
	cr_assert_eq(f.data_offset, 512u);
	cr_assert_eq(f.features, 2u);
	cr_assert_eq(vhd_header_parse(hb, 512, 127ull << 20, st.st_size, &h), 0);
	cr_assert_eq(h.block_size, 2u << 20);
	cr_assert_eq(h.max_bat_entries, 64u);
	cr_assert_eq(h.data_offset, UINT64_MAX);
}

Test(io, block_sizes)
{
	static const uint32_t ok[] = { 512u << 10, 1u << 20, 256u << 20 };
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = 8 << 20 };
	uint8_t buf[4096];
	char name[32];

	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(name, sizeof(name), "b%u.vhd", i);
		o.block_size = ok[i];
		cr_assert_eq(vhd_create(vt_path(name), &o), 0, "%s", vhd_last_error());
		struct vhd *v = vt_open(vt_path(name), VHD_OPEN_RDWR);
		vt_fill(buf, sizeof(buf), 0, i);
		cr_assert_eq(vhd_pwrite(v, buf, sizeof(buf), (1 << 20) - 100), 0);
		memset(buf, 0, sizeof(buf));
		cr_assert_eq(vhd_pread(v, buf, sizeof(buf), (1 << 20) - 100), 0);
		for (unsigned j = 0; j < sizeof(buf); j++)
			cr_assert_eq(buf[j], vt_byte(j, i));
		vhd_close(v);
	}
	o.block_size = 3u << 20;
	cr_assert_eq(vhd_create(vt_path("bad.vhd"), &o), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "power of two"));
	o.block_size = 256u << 10;
	cr_assert_eq(vhd_create(vt_path("bad.vhd"), &o), -EINVAL);
	cr_assert_eq(access(vt_path("bad.vhd"), F_OK), -1);
}

Test(io, zero_writes_allocate_nothing)
{
	const char *p = vt_path("d.vhd"), *c = vt_path("c.vhd");
	uint8_t *zeros = calloc(1, 3 << 20), buf[4096];
	struct vhd_info info;
	struct stat st0, st1;
	struct vhd *v;

	vt_create(p, VHD_TYPE_DYNAMIC, 16 << 20, NULL);
	cr_assert_eq(stat(p, &st0), 0);
	v = vt_open(p, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_pwrite(v, zeros, 3 << 20, 1000), 0);
	cr_assert_eq(vhd_write_zeroes(v, 0, 16 << 20, 0), 0);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_eq(info.allocated_blocks, 0u);
	/* Non-zero data allocates; zeroing it then reads zeros. */
	memset(buf, 0xcd, sizeof(buf));
	cr_assert_eq(vhd_pwrite(v, buf, sizeof(buf), 5 << 20), 0);
	cr_assert_eq(vhd_write_zeroes(v, (5 << 20) + 100, 200, 0), 0);
	cr_assert_eq(vhd_pread(v, buf, sizeof(buf), 5 << 20), 0);
	cr_assert_eq(buf[99], 0xcd);
	cr_assert_eq(buf[100], 0);
	cr_assert_eq(buf[299], 0);
	cr_assert_eq(buf[300], 0xcd);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_eq(info.allocated_blocks, 1u);
	vhd_close(v);
	cr_assert_eq(stat(p, &st1), 0);
	cr_assert_eq(st1.st_size, st0.st_size + 512 + (2 << 20));

	/* In a differencing disk zeros over parent data must be written. */
	v = vt_open(p, VHD_OPEN_RDWR);
	memset(zeros, 0xee, 3 << 20);
	cr_assert_eq(vhd_pwrite(v, zeros, 3 << 20, 0), 0);
	vhd_close(v);
	vt_create(c, VHD_TYPE_DIFF, 0, p);
	v = vt_open(c, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_write_zeroes(v, 512, 1024, 0), 0);
	cr_assert_eq(vhd_pread(v, buf, 2048, 0), 0);
	cr_assert_eq(buf[511], 0xee);
	cr_assert_eq(buf[512], 0);
	cr_assert_eq(buf[1535], 0);
	cr_assert_eq(buf[1536], 0xee);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_eq(info.allocated_blocks, 1u);
	/* ... but not where no layer has data (the parent's blocks 0, 1, 2
	 * hold data, block 3 and beyond hold nothing) */
	cr_assert_eq(vhd_write_zeroes(v, 6 << 20, 10 << 20, 0), 0);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_eq(info.allocated_blocks, 1u);
	cr_assert_eq(vhd_write_zeroes(v, (5 << 20) + 512, 512, 0), 0);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_eq(info.allocated_blocks, 2u);
	cr_assert_eq(vhd_pread(v, buf, 1024, 5 << 20), 0);
	cr_assert_eq(buf[0], 0xcd);
	cr_assert_eq(buf[512], 0);
	vhd_close(v);
	free(zeros);
}

/* Reads the on-disk bitmap of block @blk of @path. */
static void disk_bitmap(const char *path, uint32_t blk, uint8_t *bm, size_t len)
{
	uint8_t hb[1024], e[4];
	struct vhd_header h;
	struct stat st;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(pread(fd, hb, 1024, 512), 1024);
	cr_assert_eq(vhd_header_parse(hb, 512, 0, st.st_size, &h), 0);
	cr_assert_eq(pread(fd, e, 4, h.table_offset + 4 * blk), 4);
	cr_assert_neq(vhd_get_be32(e), VHD_BAT_UNUSED);
	cr_assert_eq(pread(fd, bm, len, (off_t)vhd_get_be32(e) * 512), (ssize_t)len);
	close(fd);
}

Test(io, differencing_bitmap_and_parent_reads)
{
	const char *p = vt_path("base.vhd"), *c = vt_path("c.vhd");
	uint8_t buf[4096], bm[512];
	struct vhd *v;

	vt_create(p, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	v = vt_open(p, VHD_OPEN_RDWR);
	memset(buf, 0x11, sizeof(buf));
	cr_assert_eq(vhd_pwrite(v, buf, sizeof(buf), 0), 0);
	vhd_close(v);
	vt_create(c, VHD_TYPE_DIFF, 0, p);
	v = vt_open(c, VHD_OPEN_RDWR);
	memset(buf, 0x22, 512);
	cr_assert_eq(vhd_pwrite(v, buf, 512, 3 * 512), 0);
	/* A partial sector write keeps the parent's bytes around it. */
	cr_assert_eq(vhd_pwrite(v, buf, 10, 5 * 512 + 100), 0);
	cr_assert_eq(vhd_pread(v, buf, sizeof(buf), 0), 0);
	for (int i = 0; i < 4096; i++) {
		uint8_t want = (i >= 1536 && i < 2048) || (i >= 2660 && i < 2670) ? 0x22 : 0x11;

		cr_assert_eq(buf[i], want, "byte %d", i);
	}
	/* block status: sector-granular runs through the chain */
	uint64_t n;
	int d;
	cr_assert_eq(vhd_block_status(v, 0, 8 << 20, &n, &d), 0);
	cr_assert_eq(d, 2);
	cr_assert_eq(n, 3 * 512u);
	cr_assert_eq(vhd_block_status(v, 3 * 512, 8 << 20, &n, &d), -EINVAL);
	cr_assert_eq(vhd_block_status(v, 3 * 512, 100 * 512, &n, &d), 0);
	cr_assert_eq(d, 1);
	cr_assert_eq(n, 512u);
	cr_assert_eq(vhd_block_status(v, 4 * 512, 100 * 512, &n, &d), 0);
	cr_assert_eq(d, 2);
	cr_assert_eq(n, 512u);
	/* the parent's block 0 is allocated whole (dynamic), the rest nowhere */
	cr_assert_eq(vhd_block_status(v, 8 * 512, (8 << 20) - 8 * 512, &n, &d), 0);
	cr_assert_eq(d, 2);
	cr_assert_eq(n, (2u << 20) - 8 * 512);
	cr_assert_eq(vhd_block_status(v, 2 << 20, 6 << 20, &n, &d), 0);
	cr_assert_eq(d, 0);
	cr_assert_eq(n, 6u << 20);
	vhd_close(v);

	/* sectors 3 and 5 set, MSB first */
	disk_bitmap(c, 0, bm, sizeof(bm));
	cr_assert_eq(bm[0], 0x14);
	for (int i = 1; i < 512; i++)
		cr_assert_eq(bm[i], 0);
	/* dynamic disks get all-ones bitmaps */
	disk_bitmap(p, 0, bm, sizeof(bm));
	for (int i = 0; i < 512; i++)
		cr_assert_eq(bm[i], 0xff);
}

Test(io, block_status_dynamic)
{
	const char *p = vt_path("d.vhd");
	uint8_t buf[512] = { 1 };
	struct vhd *v;
	uint64_t n;
	int d;

	vt_create(p, VHD_TYPE_DYNAMIC, 16 << 20, NULL);
	v = vt_open(p, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_pwrite(v, buf, 512, 4 << 20), 0);
	cr_assert_eq(vhd_pwrite(v, buf, 512, 6 << 20), 0);
	cr_assert_eq(vhd_block_status(v, 0, 16 << 20, &n, &d), 0);
	cr_assert_eq(d, 0);
	cr_assert_eq(n, 4u << 20);
	cr_assert_eq(vhd_block_status(v, 4 << 20, 12 << 20, &n, &d), 0);
	cr_assert_eq(d, 1);
	cr_assert_eq(n, 4u << 20, "two adjacent allocated blocks coalesce");
	cr_assert_eq(vhd_block_status(v, (5 << 20) + 7, 100, &n, &d), 0);
	cr_assert_eq(n, 100u);
	vhd_close(v);
}

Test(io, allocation_after_foreign_region)
{
	const char *p = vt_path("d.vhd");
	uint8_t footer[512], *foreign = malloc(65536), buf[512], e[4];
	struct stat st;
	struct vhd *v;
	off_t old;
	int fd;

	vt_create(p, VHD_TYPE_DYNAMIC, 16 << 20, NULL);
	/* Another tool's area between the BAT and the footer. */
	fd = open(p, O_RDWR);
	cr_assert_eq(fstat(fd, &st), 0);
	old = st.st_size - 512;
	cr_assert_eq(pread(fd, footer, 512, old), 512);
	memset(foreign, 0x5a, 65536);
	cr_assert_eq(pwrite(fd, foreign, 65536, old), 65536);
	cr_assert_eq(pwrite(fd, footer, 512, old + 65536), 512);
	close(fd);

	v = vt_open(p, VHD_OPEN_RDWR);
	memset(buf, 0x77, sizeof(buf));
	cr_assert_eq(vhd_pwrite(v, buf, 512, 0), 0);
	vhd_close(v);

	fd = open(p, O_RDONLY);
	cr_assert_eq(pread(fd, e, 4, 1536), 4);
	cr_assert_geq((off_t)vhd_get_be32(e) * 512, old + 65536, "block placed after the area");
	cr_assert_eq(pread(fd, foreign, 65536, old), 65536);
	for (int i = 0; i < 65536; i++)
		cr_assert_eq(foreign[i], 0x5a, "foreign byte %d overwritten", i);
	close(fd);
	v = vt_open(p, 0);
	cr_assert_eq(vhd_pread(v, buf, 512, 0), 0);
	cr_assert_eq(buf[0], 0x77);
	vhd_close(v);
	free(foreign);
}

struct thr {
	struct vhd *v;
	unsigned id;
};

static void *writer(void *arg)
{
	struct thr *t = arg;
	uint8_t *buf = malloc(64 << 10);

	for (unsigned i = 0; i < 32; i++) {
		/* thread id interleaves 64 KiB chunks; shares blocks with others */
		uint64_t off = ((uint64_t)i * 4 + t->id) * (64 << 10);

		vt_fill(buf, 64 << 10, off, 9);
		if (vhd_pwrite(t->v, buf, 64 << 10, off))
			return (void *)1;
		if (vhd_pread(t->v, buf, 4096, off / 2))
			return (void *)1;
	}
	free(buf);
	return NULL;
}

static void threads_on(enum vhd_type type, const char *parent)
{
	const char *p = vt_path(parent ? "c.vhd" : "t.vhd");
	pthread_t th[4];
	struct thr t[4];
	uint8_t *buf = malloc(8 << 20);
	struct vhd *v;

	vt_create(p, type, 8 << 20, parent);
	v = vt_open(p, VHD_OPEN_RDWR);
	for (unsigned i = 0; i < 4; i++) {
		t[i].v = v;
		t[i].id = i;
		cr_assert_eq(pthread_create(&th[i], NULL, writer, &t[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		void *r;

		pthread_join(th[i], &r);
		cr_assert_null(r, "thread %u failed: %s", i, vhd_last_error());
	}
	vhd_close(v);
	v = vt_open(p, 0);
	cr_assert_eq(vhd_pread(v, buf, 8 << 20, 0), 0);
	for (uint64_t i = 0; i < (8 << 20); i++)
		cr_assert_eq(buf[i], vt_byte(i, 9), "byte %llu", (unsigned long long)i);
	vhd_close(v);
	free(buf);
}

Test(io, concurrent_writers_dynamic)
{
	threads_on(VHD_TYPE_DYNAMIC, NULL);
}

Test(io, concurrent_writers_differencing)
{
	vt_create(vt_path("base.vhd"), VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	threads_on(VHD_TYPE_DIFF, vt_path("base.vhd"));
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

Test(io, qemu_interop)
{
	/* Not a CHS product: QEMU must still see exactly this size. */
	uint64_t size = (64ull << 20) + 512;
	const char *ours = vt_path("ours.vhd"), *raw = vt_path("ours.raw");
	const char *q = vt_path("q.vhd"), *qf = vt_path("qf.vhd");
	uint8_t *buf = malloc(1 << 20), *file = malloc(size);
	struct vhd *v;
	FILE *f;

	if (system("command -v qemu-img >/dev/null && command -v qemu-io >/dev/null"))
		cr_skip_test("qemu-img/qemu-io not installed");
	vt_create(ours, VHD_TYPE_DYNAMIC, size, NULL);
	v = vt_open(ours, VHD_OPEN_RDWR);
	vt_fill(buf, 1 << 20, 0, 3);
	cr_assert_eq(vhd_pwrite(v, buf, 1 << 20, (5 << 20) + 512), 0);
	vhd_close(v);
	cr_assert_eq(sh("qemu-img convert -f vpc -O raw '%s' '%s'", ours, raw), 0);
	f = fopen(raw, "rb");
	cr_assert_eq(fread(file, 1, size, f), size);
	cr_assert_eq(fread(buf, 1, 1, f), 0u, "QEMU sees more than the size");
	fclose(f);
	for (uint64_t i = 0; i < size; i++) {
		uint8_t want = i >= (5 << 20) + 512 && i < (6 << 20) + 512 ?
				       vt_byte(i - (5 << 20) - 512, 3) : 0;

		cr_assert_eq(file[i], want, "qemu reads byte %llu", (unsigned long long)i);
	}

	/* QEMU's images, both size conventions, read through us. */
	cr_assert_eq(sh("qemu-img create -q -f vpc '%s' 64M", q), 0);
	cr_assert_eq(sh("qemu-img create -q -f vpc -o force_size=on '%s' 64M", qf), 0);
	cr_assert_eq(sh("qemu-io -f vpc -c 'write -P 0xab 0 1M' -c 'write -P 0xcd 3M 512' '%s' >/dev/null", q), 0);
	cr_assert_eq(sh("qemu-io -f vpc -c 'write -P 0xab 0 1M' -c 'write -P 0xcd 3M 512' '%s' >/dev/null", qf), 0);
	for (int k = 0; k < 2; k++) {
		v = vt_open(k ? qf : q, 0);
		/* QEMU rounds 64M up to 964/8/17 and sizes 'qemu' images by CHS;
		 * force_size writes 'qem2' with a maxed geometry. */
		cr_assert_eq(vhd_size(v), k ? 64ull << 20 : 964ull * 8 * 17 * 512);
		cr_assert_eq(vhd_pread(v, buf, 1 << 20, 0), 0);
		for (int i = 0; i < 1 << 20; i++)
			cr_assert_eq(buf[i], 0xab);
		cr_assert_eq(vhd_pread(v, buf, 1024, 3 << 20), 0);
		cr_assert_eq(buf[0], 0xcd);
		cr_assert_eq(buf[511], 0xcd);
		cr_assert_eq(buf[512], 0);
		vhd_close(v);
	}
	/* and our writes into QEMU's image read back in QEMU */
	v = vt_open(qf, VHD_OPEN_RDWR);
	memset(buf, 0x5e, 4096);
	cr_assert_eq(vhd_pwrite(v, buf, 4096, 40 << 20), 0);
	vhd_close(v);
	cr_assert_eq(sh("qemu-io -f vpc -c 'read -P 0x5e 40M 4k' -c 'read -P 0xab 0 1M' '%s' | grep -q 'read 4096'", qf), 0);
	cr_assert_eq(sh("qemu-io -f vpc -c 'read -P 0x5e 40M 4k' '%s' | grep -q 'Pattern verification failed'", qf), 256);
	free(buf);
	free(file);
}

Test(io, differencing_full_bitmaps_are_shared)
{
	const char *p = vt_path("base.vhd"), *c = vt_path("c.vhd");
	uint8_t *buf = malloc(2 << 20), bm[512];
	struct vhd *v;

	vt_create(p, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, p);
	v = vt_open(c, VHD_OPEN_RDWR);
	/* block 0 in four pieces, block 1 at once, block 2 partly */
	for (int i = 0; i < 4; i++) {
		vt_fill(buf, 512 << 10, (uint64_t)i * (512 << 10), 4);
		cr_assert_eq(vhd_pwrite(v, buf, 512 << 10, (uint64_t)i * (512 << 10)), 0);
		cr_assert_eq(v->bitmaps[0] == v->bm_full, i == 3, "piece %d", i);
	}
	vt_fill(buf, 2 << 20, 2 << 20, 4);
	cr_assert_eq(vhd_pwrite(v, buf, 2 << 20, 2 << 20), 0);
	cr_assert(v->bitmaps[1] == v->bm_full);
	cr_assert_eq(vhd_pwrite(v, buf, 4096, 4 << 20), 0);
	cr_assert(v->bitmaps[2] != v->bm_full);
	cr_assert_eq(vhd_pwrite(v, buf, 4096, 4 << 20), 0, "rewrite of a full block");
	vhd_close(v);

	disk_bitmap(c, 0, bm, sizeof(bm));
	for (int i = 0; i < 512; i++)
		cr_assert_eq(bm[i], 0xff);
	v = vt_open(c, 0);
	cr_assert_eq(vhd_pread(v, buf, 2 << 20, 0), 0);
	for (int i = 0; i < 2 << 20; i++)
		cr_assert_eq(buf[i], vt_byte(i, 4), "byte %d", i);
	cr_assert(v->bitmaps[0] == v->bm_full, "loaded full bitmaps are shared");
	cr_assert_eq(vhd_pread(v, buf, 8192, 4 << 20), 0);
	for (int i = 0; i < 4096; i++)
		cr_assert_eq(buf[i], vt_byte(i + (2 << 20), 4), "byte %d", i);
	for (int i = 4096; i < 8192; i++)
		cr_assert_eq(buf[i], 0, "byte %d", i);
	vhd_close(v);
	free(buf);
}

Test(io, differencing_big_blocks_span_bitmap_windows)
{
	const char *p = vt_path("base.raw"), *c = vt_path("c.vhd");
	struct vhd_create_opts o = { .type = VHD_TYPE_DIFF, .parent = p,
				     .block_size = 256u << 20 };
	uint64_t size = 300ull << 20, n;
	uint8_t *buf = malloc(8 << 20);
	struct vhd *v;
	int fd, d;

	/* a raw parent: every byte is parent data */
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	for (uint64_t off = 0; off < size; off += 8 << 20) {
		vt_fill(buf, 8 << 20, off, 6);
		cr_assert_eq(pwrite(fd, buf, 8 << 20, off), 8 << 20);
	}
	close(fd);
	cr_assert_eq(vhd_create(c, &o), 0, "%s", vhd_last_error());
	/* a raw parent is refused unless asked for */
	cr_assert_eq(vhd_open(c, NULL, &v), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "raw file"), "%s", vhd_last_error());
	v = vt_open(c, VHD_OPEN_RDWR | VHD_OPEN_RAW_PARENT);
	cr_assert_eq(v->bitmap_size, 64u << 10);
	/* child sectors on both sides of the 2 MiB bitmap windows */
	memset(buf, 0xc1, 4096);
	cr_assert_eq(vhd_pwrite(v, buf, 1024, (2 << 20) - 512), 0);
	cr_assert_eq(vhd_pwrite(v, buf, 512, (6 << 20) + 512), 0);
	cr_assert_eq(vhd_pwrite(v, buf, 512, (256 << 20) + 512), 0);
	vhd_close(v);
	v = vt_open(c, VHD_OPEN_RAW_PARENT);
	cr_assert_eq(vhd_pread(v, buf, 8 << 20, 0), 0);
	for (uint64_t i = 0; i < (8 << 20); i++) {
		bool mine = (i >= (2 << 20) - 512 && i < (2 << 20) + 512) ||
			    (i >= (6 << 20) + 512 && i < (6 << 20) + 1024);

		cr_assert_eq(buf[i], mine ? 0xc1 : vt_byte(i, 6), "byte %llu",
			     (unsigned long long)i);
	}
	cr_assert_eq(vhd_block_status(v, 0, 8 << 20, &n, &d), 0);
	cr_assert(d == 2 && n == (2 << 20) - 512);
	cr_assert_eq(vhd_block_status(v, (2 << 20) - 512, 8 << 20, &n, &d), 0);
	cr_assert(d == 1 && n == 1024, "across a window: %llu", (unsigned long long)n);
	cr_assert_eq(vhd_block_status(v, (2 << 20) + 512, 8 << 20, &n, &d), 0);
	cr_assert(d == 2 && n == (4 << 20), "a parent run across windows: %llu",
		  (unsigned long long)n);
	cr_assert_eq(vhd_pread(v, buf, 4096, 256 << 20), 0);
	cr_assert_eq(buf[511], vt_byte((256 << 20) + 511, 6));
	cr_assert_eq(buf[512], 0xc1);
	cr_assert_eq(buf[1024], vt_byte((256 << 20) + 1024, 6));
	vhd_close(v);
	free(buf);
}

/* Vectored I/O: odd-sized pieces, fixed and dynamic, compared with plain
 * reads. */
static void vectored(enum vhd_type type)
{
	const char *p = vt_path(type == VHD_TYPE_FIXED ? "vf.vhd" : "vd.vhd");
	static uint8_t a[700], b[3000], c[1], d[5000];
	struct iovec iov[4] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) },
				{ d, sizeof(d) } };
	uint8_t *flat = malloc(8701), *back = malloc(8701);
	struct vhd *v;

	vt_create(p, type, 4 << 20, NULL);
	v = vt_open(p, VHD_OPEN_RDWR);
	vt_fill(a, sizeof(a), 0, 21);
	vt_fill(b, sizeof(b), 700, 21);
	vt_fill(c, sizeof(c), 3700, 21);
	vt_fill(d, sizeof(d), 3701, 21);
	vt_fill(flat, 8701, 0, 21);
	cr_assert_eq(vhd_pwritev(v, iov, 4, (2 << 20) - 4000), 0, "%s", vhd_last_error());
	cr_assert_eq(vhd_pread(v, back, 8701, (2 << 20) - 4000), 0);
	cr_assert_eq(memcmp(back, flat, 8701), 0);
	memset(a, 0, sizeof(a));
	memset(d, 0, sizeof(d));
	cr_assert_eq(vhd_preadv(v, iov, 4, (2 << 20) - 4000), 0);
	cr_assert_eq(memcmp(a, flat, sizeof(a)), 0);
	cr_assert_eq(memcmp(d, flat + 3701, sizeof(d)), 0);
	cr_assert_eq(vhd_preadv(v, iov, 4, (4 << 20) - 8700), -EINVAL, "past the end");
	vhd_close(v);
	free(flat);
	free(back);
}

Test(io, vectored_fixed)
{
	vectored(VHD_TYPE_FIXED);
}

Test(io, vectored_dynamic)
{
	vectored(VHD_TYPE_DYNAMIC);
}

Test(io, write_zeroes_fixed)
{
	const char *p = vt_path("f.vhd");
	uint8_t *buf = malloc(1 << 20);
	struct vhd *v;

	vt_create(p, VHD_TYPE_FIXED, 4 << 20, NULL);
	v = vt_open(p, VHD_OPEN_RDWR);
	memset(buf, 0xaa, 1 << 20);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(vhd_pwrite(v, buf, 1 << 20, (uint64_t)i << 20), 0);
	cr_assert_eq(vhd_write_zeroes(v, 1000, 5000, 0), 0);
	cr_assert_eq(vhd_write_zeroes(v, 2 << 20, 1 << 20, VHD_ZERO_MAY_UNMAP), 0);
	cr_assert_eq(vhd_write_zeroes(v, (4 << 20) - 10, 11, 0), -EINVAL);
	vhd_close(v);
	v = vt_open(p, 0);
	cr_assert_eq(vhd_pread(v, buf, 8192, 0), 0);
	for (int i = 0; i < 8192; i++)
		cr_assert_eq(buf[i], i >= 1000 && i < 6000 ? 0 : 0xaa, "byte %d", i);
	cr_assert_eq(vhd_pread(v, buf, 1 << 20, 2 << 20), 0);
	for (int i = 0; i < 1 << 20; i++)
		cr_assert_eq(buf[i], 0, "byte %d", i);
	cr_assert_eq(vhd_pread(v, buf, 1, 3 << 20), 0);
	cr_assert_eq(buf[0], 0xaa);
	vhd_close(v);
	free(buf);
}

Test(io, write_zeroes_in_allocated_blocks)
{
	const char *p = vt_path("d.vhd"), *c = vt_path("c.vhd");
	uint8_t *buf = malloc(2 << 20);
	struct stat st0, st1;
	struct vhd *v;

	vt_create(p, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	v = vt_open(p, VHD_OPEN_RDWR);
	memset(buf, 0x6b, 2 << 20);
	cr_assert_eq(vhd_pwrite(v, buf, 2 << 20, 2 << 20), 0);
	cr_assert_eq(vhd_flush(v), 0);
	cr_assert_eq(fstat(v->fd, &st0), 0);
	/* unaligned edges, an aligned middle punched out */
	cr_assert_eq(vhd_write_zeroes(v, (2 << 20) + 100, (1 << 20) + 1000, VHD_ZERO_MAY_UNMAP), 0);
	cr_assert_eq(vhd_flush(v), 0);
	cr_assert_eq(fstat(v->fd, &st1), 0);
	cr_assert_lt(st1.st_blocks, st0.st_blocks, "host space released");
	cr_assert_eq(vhd_pread(v, buf, 2 << 20, 2 << 20), 0);
	for (int i = 0; i < 2 << 20; i++)
		cr_assert_eq(buf[i], i >= 100 && i < (1 << 20) + 1100 ? 0 : 0x6b, "byte %d", i);
	vhd_close(v);

	/* differencing: zeros hide parent data even where the child block
	 * held only some sectors */
	vt_create(c, VHD_TYPE_DIFF, 0, p);
	v = vt_open(c, VHD_OPEN_RDWR);
	memset(buf, 0x1f, 512);
	cr_assert_eq(vhd_pwrite(v, buf, 512, (3 << 20) + 4096), 0);
	cr_assert_eq(vhd_write_zeroes(v, (3 << 20), 1 << 20, 0), 0);
	vhd_close(v);
	v = vt_open(c, 0);
	cr_assert_eq(vhd_pread(v, buf, 2 << 20, 2 << 20), 0);
	for (int i = 0; i < 2 << 20; i++) {
		uint8_t w = (i >= 100 && i < (1 << 20) + 1100) || (i >= (1 << 20) && i < (2 << 20)) ?
				    0 : 0x6b;

		cr_assert_eq(buf[i], w, "byte %d", i);
	}
	vhd_close(v);
	free(buf);
}
