/* tests/unit/vhd/test_errors.c: damaged and foreign files give clear
 * errors (checked through vhd_last_error()), damaged footers degrade as
 * documented, locks conflict, refused creates leave nothing behind, and a
 * writer killed with SIGKILL leaves an image that opens with every flushed
 * write intact. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/unit/vhd/vhd_test.h"
#include "vhd/vhd_int.h"
#include "vhd/vhd_ops.h"

TestSuite(errors, .init = vt_setup, .fini = vt_teardown);

static void expect_open_error(const char *path, unsigned flags, int err, const char *text)
{
	struct vhd_open_opts o = { .flags = flags };
	struct vhd *v = NULL;
	int ret = vhd_open(path, &o, &v);

	cr_assert_eq(ret, err, "open %s: got %d (%s), want %d", path, ret, vhd_last_error(), err);
	cr_assert_null(v);
	cr_assert(strstr(vhd_last_error(), text), "message '%s' lacks '%s'", vhd_last_error(),
		  text);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void flip(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	cr_assert_eq(pread(fd, &b, 1, off), 1);
	b ^= 0x40;
	cr_assert_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static off_t fsize(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

static void fill(const char *path, uint8_t val, uint64_t off, size_t len)
{
	struct vhd *v = vt_open(path, VHD_OPEN_RDWR);
	uint8_t *buf = malloc(len);

	memset(buf, val, len);
	cr_assert_eq(vhd_pwrite(v, buf, len, off), 0, "%s", vhd_last_error());
	vhd_close(v);
	free(buf);
}

Test(errors, not_a_vhd)
{
	char text[8192];

	write_file(vt_path("empty"), "", 0);
	expect_open_error(vt_path("empty"), 0, -EINVAL, "file is empty");
	memset(text, 'x', sizeof(text));
	write_file(vt_path("text"), text, sizeof(text));
	expect_open_error(vt_path("text"), 0, -EINVAL, "not a VHD file");
	write_file(vt_path("tiny"), text, 100);
	expect_open_error(vt_path("tiny"), 0, -EINVAL, "too short");
	expect_open_error(vt_path("missing"), 0, -ENOENT, "cannot open");
	expect_open_error(vt_dir, 0, -EISDIR, "is a directory");
}

Test(errors, bad_checksums_and_fields)
{
	const char *f = vt_path("f.vhd"), *d = vt_path("d.vhd");
	struct vhd_footer ft;
	uint8_t buf[512];
	int fd;

	vt_create(f, VHD_TYPE_FIXED, 1 << 20, NULL);
	flip(f, (1 << 20) + 100);
	expect_open_error(f, 0, -EINVAL, "footer checksum mismatch at offset 1048576");

	vt_create(d, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	flip(d, 512 + 700);
	expect_open_error(d, 0, -EINVAL, "dynamic header checksum mismatch at offset 512");
	cr_assert_eq(unlink(d), 0);

	/* unsupported version in both footers */
	vt_create(d, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	fd = open(d, O_RDWR);
	cr_assert_eq(pread(fd, buf, 512, 0), 512);
	vhd_footer_decode(buf, &ft);
	ft.version = 0x00020000;
	vhd_footer_encode(&ft, buf);
	cr_assert_eq(pwrite(fd, buf, 512, 0), 512);
	cr_assert_eq(pwrite(fd, buf, 512, fsize(d) - 512), 512);
	close(fd);
	expect_open_error(d, 0, -ENOTSUP, "unsupported footer version 0x00020000");
}

static void bad_block_size(int fd, struct vhd_header *h)
{
	h->block_size = 3 << 20;
}

Test(errors, block_size_not_power_of_two)
{
	const char *d = vt_path("d.vhd");
	uint8_t hb[1024];
	struct vhd_header h;
	int fd;

	vt_create(d, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	fd = open(d, O_RDWR);
	cr_assert_eq(pread(fd, hb, 1024, 512), 1024);
	vhd_header_decode(hb, &h);
	bad_block_size(fd, &h);
	vhd_header_encode(&h, hb);
	cr_assert_eq(pwrite(fd, hb, 1024, 512), 1024);
	close(fd);
	expect_open_error(d, 0, -EINVAL, "block size 3145728");
}

Test(errors, damaged_trailing_footer_opens_read_only)
{
	const char *d = vt_path("d.vhd");
	struct vhd_info info;
	struct vhd *v;
	uint8_t b;

	vt_create(d, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	fill(d, 0x5a, 0, 4096);
	flip(d, fsize(d) - 300);
	v = vt_open(d, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert(info.footer_damaged);
	cr_assert(info.read_only);
	cr_assert_eq(vhd_pread(v, &b, 1, 100), 0);
	cr_assert_eq(b, 0x5a);
	cr_assert_eq(vhd_pwrite(v, &b, 1, 0), -EROFS);
	vhd_close(v);
}

Test(errors, damaged_footer_copy_is_a_warning)
{
	const char *d = vt_path("d.vhd");
	struct vhd_info info;
	struct vhd *v;

	vt_create(d, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	flip(d, 200);
	v = vt_open(d, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert(info.footer_copy_damaged);
	cr_assert_not(info.footer_damaged);
	cr_assert_not(info.read_only);
	uint8_t b = 1;
	cr_assert_eq(vhd_pwrite(v, &b, 1, 0), 0);
	vhd_close(v);
}

/* Sets current_size of both footers of dynamic image @path to @size. */
static void set_current_size(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR);
	off_t offs[2] = { 0, fsize(path) - 512 };
	struct vhd_footer ft;
	uint8_t buf[512];

	cr_assert_geq(fd, 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(pread(fd, buf, 512, offs[i]), 512);
		vhd_footer_decode(buf, &ft);
		ft.current_size = size;
		vhd_footer_encode(&ft, buf);
		cr_assert_eq(pwrite(fd, buf, 512, offs[i]), 512);
	}
	close(fd);
}

static void count_problem(void *opaque, const struct vhd_check_problem *p)
{
	if (!p->warning && !strcmp(p->name, "header-bat-entries"))
		(*(int *)opaque)++;
}

/* A current_size near 2^64 once wrapped (size + block_size - 1) to a few
 * blocks: the 4-entry BAT passed, reads indexed far past it (SIGSEGV) and
 * writes landed on the dynamic header. */
Test(errors, size_near_2_64_is_refused)
{
	static const uint64_t sizes[] = { UINT64_MAX - 511, UINT64_MAX - (2u << 20) + 1 - 511,
					  (uint64_t)VHD_MAX_BAT_ENTRIES << 21 };
	const char *d = vt_path("d.vhd");
	uint8_t hb[VHD_HEADER_SIZE];
	struct vhd_header h;
	struct vhd_check_result res;
	int fd, bad;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t size = sizes[i] & ~511ull;

		unlink(d);
		vt_create(d, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
		set_current_size(d, size);
		expect_open_error(d, 0, -EINVAL, "BAT has 4 entries");
		expect_open_error(d, VHD_OPEN_RDWR, -EINVAL, "BAT has 4 entries");
		bad = 0;
		cr_assert_eq(vhd_check(d, VHD_CHECK_NO_PARENT, count_problem, &bad, &res), 0);
		cr_assert_eq(bad, 1, "size %llu: header-bat-entries reported %d times",
			     (unsigned long long)size, bad);
		cr_assert_geq(res.errors, 1);
		/* the codec alone, for the same header */
		fd = open(d, O_RDONLY);
		cr_assert_eq(pread(fd, hb, sizeof(hb), 512), (ssize_t)sizeof(hb));
		close(fd);
		cr_assert_eq(vhd_header_parse(hb, 512, size, (uint64_t)fsize(d), &h), -EINVAL);
	}
	/* the exact fit still opens */
	unlink(d);
	vt_create(d, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	set_current_size(d, 8 << 20);
	vhd_close(vt_open(d, VHD_OPEN_RDWR));
}

Test(errors, truncated_images)
{
	const char *d = vt_path("d.vhd"), *f = vt_path("f.vhd");
	struct vhd_info info;
	uint8_t buf[512];
	struct vhd *v;

	/* A dynamic disk cut inside its second block: the trailing footer is
	 * gone, the copy at 0 opens it read-only, the cut block fails. */
	vt_create(d, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	fill(d, 0x11, 0, 4 << 20);
	cr_assert_eq(truncate(d, fsize(d) - (1 << 20)), 0);
	v = vt_open(d, 0);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert(info.footer_damaged);
	cr_assert_eq(v->bad_bat_entries, 1u);
	cr_assert_eq(vhd_pread(v, buf, 512, 0), 0);
	cr_assert_eq(buf[0], 0x11);
	cr_assert_eq(vhd_pread(v, buf, 512, 3 << 20), -EIO);
	cr_assert(strstr(vhd_last_error(), "BAT entry 1"), "%s", vhd_last_error());
	cr_assert(strstr(vhd_last_error(), "past the end of the file"));
	vhd_close(v);

	/* A fixed disk cut short has no footer any more. */
	vt_create(f, VHD_TYPE_FIXED, 1 << 20, NULL);
	cr_assert_eq(truncate(f, 1000), 0);
	expect_open_error(f, 0, -EINVAL, "not a VHD file");
}

static void bat_entry_past_eof(const char *d)
{
	uint8_t e[4];
	int fd = open(d, O_RDWR);

	vhd_put_be32(e, 0x00ffffff);
	cr_assert_eq(pwrite(fd, e, 4, 1536 + 4), 4);
	vhd_put_be32(e, 1);  /* the dynamic header */
	cr_assert_eq(pwrite(fd, e, 4, 1536 + 12), 4);
	close(fd);
}

Test(errors, bat_entry_past_end_is_lazy)
{
	const char *d = vt_path("d.vhd");
	uint8_t buf[512];
	struct vhd *v;

	vt_create(d, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	fill(d, 0x22, 0, 512);
	bat_entry_past_eof(d);
	v = vt_open(d, VHD_OPEN_RDWR);
	cr_assert_eq(v->bad_bat_entries, 2u);
	cr_assert_eq(vhd_pread(v, buf, 512, 0), 0);
	cr_assert_eq(buf[0], 0x22);
	cr_assert_eq(vhd_pwrite(v, buf, 512, 6 << 20), -EIO, "a block over the header");
	cr_assert(strstr(vhd_last_error(), "BAT entry 3 (sector 1)"), "%s", vhd_last_error());
	cr_assert_eq(vhd_pread(v, buf, 512, 2 << 20), -EIO);
	cr_assert(strstr(vhd_last_error(), "BAT entry 1 (sector 16777215) points past the end"),
		  "%s", vhd_last_error());
	cr_assert_eq(vhd_pwrite(v, buf, 512, 2 << 20), -EIO);
	/* other blocks still allocate */
	cr_assert_eq(vhd_pwrite(v, buf, 512, 4 << 20), 0);
	vhd_close(v);
}

Test(errors, old_511_byte_footer)
{
	const char *f = vt_path("f.vhd"), *d = vt_path("d.vhd");
	uint8_t b = 0;
	struct vhd *v;

	vt_create(f, VHD_TYPE_FIXED, 1 << 20, NULL);
	fill(f, 0x31, 0, 1 << 20);
	cr_assert_eq(truncate(f, fsize(f) - 1), 0);
	v = vt_open(f, 0);
	cr_assert_eq(vhd_size(v), 1u << 20);
	cr_assert_eq(vhd_pread(v, &b, 1, (1 << 20) - 1), 0);
	cr_assert_eq(b, 0x31);
	vhd_close(v);

	vt_create(d, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	fill(d, 0x32, 4 << 10, 512);
	cr_assert_eq(truncate(d, fsize(d) - 1), 0);
	v = vt_open(d, VHD_OPEN_RDWR);
	cr_assert_not(v->footer_damaged);
	cr_assert_eq(vhd_pread(v, &b, 1, 4 << 10), 0);
	cr_assert_eq(b, 0x32);
	/* a new block goes past the 511-byte footer, which it replaces */
	b = 0x33;
	cr_assert_eq(vhd_pwrite(v, &b, 1, 3 << 20), 0);
	vhd_close(v);
	cr_assert_eq(fsize(d) % 512, 0);
	v = vt_open(d, 0);
	cr_assert_eq(vhd_pread(v, &b, 1, 3 << 20), 0);
	cr_assert_eq(b, 0x33);
	cr_assert_eq(vhd_pread(v, &b, 1, 4 << 10), 0);
	cr_assert_eq(b, 0x32);
	vhd_close(v);
}

Test(errors, locks_conflict)
{
	const char *d = vt_path("d.vhd");
	struct vhd *w, *r, *r2, *x = NULL;
	struct vhd_open_opts rw = { .flags = VHD_OPEN_RDWR }, ro = { 0 };
	struct vhd_open_opts nolock = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NOLOCK };

	vt_create(d, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	w = vt_open(d, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_open(d, &rw, &x), -EBUSY);
	cr_assert(strstr(vhd_last_error(), "image is in use by another process"));
	cr_assert_eq(vhd_open(d, &ro, &x), -EBUSY, "a reader while a writer holds it");
	cr_assert_eq(vhd_open(d, &nolock, &x), 0);
	vhd_close(x);
	vhd_close(w);

	r = vt_open(d, 0);
	r2 = vt_open(d, 0);
	x = NULL;
	cr_assert_eq(vhd_open(d, &rw, &x), -EBUSY, "a writer while readers hold it");
	vhd_close(r);
	vhd_close(r2);
	w = vt_open(d, VHD_OPEN_RDWR);
	vhd_close(w);
}

/* A force-share reader (-U) reads next to a writer, either one first, and
 * its chain opens too; it cannot write. */
Test(errors, locks_force_share)
{
	const char *p = vt_path("p.vhd"), *c = vt_path("c.vhd");
	struct vhd_open_opts fs = { .flags = VHD_OPEN_FORCE_SHARE }, ro = { 0 };
	struct vhd_open_opts bad = { .flags = VHD_OPEN_RDWR | VHD_OPEN_FORCE_SHARE };
	struct vhd *w, *wp, *r, *x = NULL;

	vt_create(p, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, p);
	cr_assert_eq(vhd_open(c, &bad, &x), -EINVAL);
	w = vt_open(c, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_open(c, &ro, &x), -EBUSY);
	cr_assert_eq(vhd_open(c, &fs, &r), 0, "%s", vhd_last_error());
	vhd_close(r);
	vhd_close(w);

	wp = vt_open(p, VHD_OPEN_RDWR);   /* the parent written elsewhere */
	cr_assert_eq(vhd_open(c, &ro, &x), -EBUSY, "the parent is in use");
	cr_assert_eq(vhd_open(c, &fs, &r), 0, "%s", vhd_last_error());
	w = vt_open(c, VHD_OPEN_RDWR | VHD_OPEN_NO_PARENT);  /* a writer next to -U */
	vhd_close(w);
	vhd_close(r);
	vhd_close(wp);
}

static bool dir_is_empty(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	bool empty = true;

	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(dp);
	return empty;
}

Test(errors, refused_creates_leave_nothing)
{
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = (2041ull << 30) };

	cr_assert_eq(vhd_create(vt_path("big.vhd"), &o), -EFBIG);
	cr_assert(strstr(vhd_last_error(), "2040 GiB"), "%s", vhd_last_error());
	o.type = VHD_TYPE_DIFF;
	o.parent = vt_path("nope.vhd");
	cr_assert_eq(vhd_create(vt_path("c.vhd"), &o), -ENOENT);
	o.type = VHD_TYPE_DYNAMIC;
	o.size = 1000;
	cr_assert_eq(vhd_create(vt_path("odd.vhd"), &o), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "multiple of 512"));
	o.type = VHD_TYPE_FIXED;
	cr_assert_eq(vhd_create(vt_path("odd.vhd"), &o), -EINVAL);
	cr_assert(dir_is_empty(vt_dir), "files left behind");
	/* the limit itself is fine */
	o.type = VHD_TYPE_DYNAMIC;
	o.size = VHD_MAX_DYNAMIC_SIZE;
	cr_assert_eq(vhd_create(vt_path("max.vhd"), &o), 0, "%s", vhd_last_error());
	struct vhd *v = vt_open(vt_path("max.vhd"), VHD_OPEN_RDWR);
	uint8_t b = 9;
	cr_assert_eq(vhd_pwrite(v, &b, 1, VHD_MAX_DYNAMIC_SIZE - 1), 0);
	cr_assert_eq(vhd_pread(v, &b, 1, VHD_MAX_DYNAMIC_SIZE - 1), 0);
	cr_assert_eq(b, 9);
	vhd_close(v);
}

Test(errors, out_of_range_io)
{
	const char *d = vt_path("d.vhd");
	struct vhd *v;
	uint8_t b[2];

	vt_create(d, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	v = vt_open(d, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_pread(v, b, 2, (4 << 20) - 1), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "past the end of the disk"));
	cr_assert_eq(vhd_pwrite(v, b, 1, UINT64_MAX), -EINVAL);
	cr_assert_eq(vhd_pread(v, b, 0, 4 << 20), 0);
	vhd_close(v);
}

/* The child writes block i with pattern i, flushes, reports i; it is
 * killed with SIGKILL at some moment. Everything reported must be there. */
static void crash_run(enum vhd_type type, const char *parent)
{
	const char *d = vt_path(parent ? "c.vhd" : "d.vhd");
	uint8_t *buf = malloc(256 << 10);
	int pfd[2], got = 0, i;
	struct vhd *v;
	pid_t pid;

	vt_create(d, type, 64 << 20, parent);
	cr_assert_eq(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		v = vt_open(d, VHD_OPEN_RDWR);
		for (i = 0;; i = (i + 1) % 400) {
			uint64_t off = (uint64_t)(i * 7919 % 250) * (256 << 10) + 512 * (i % 3);

			memset(buf, 1 + i % 250, 256 << 10);
			if (vhd_pwrite(v, buf, 256 << 10, off) || vhd_flush(v))
				_exit(1);
			if (write(pfd[1], &i, sizeof(i)) != sizeof(i))
				_exit(1);
		}
	}
	close(pfd[1]);
	while (got < 30 && read(pfd[0], &i, sizeof(i)) == sizeof(i))
		got++;
	kill(pid, SIGKILL);
	int last = i;
	while (read(pfd[0], &i, sizeof(i)) == sizeof(i))
		last = i;  /* reports that made it into the pipe before the kill */
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	cr_assert_eq(got, 30, "writer died early");

	v = vt_open(d, VHD_OPEN_RDWR);
	cr_assert_not(v->footer_damaged);
	cr_assert_eq(v->bad_bat_entries, 0u);
	/* Each reported write reads back unless a later reported write to an
	 * overlapping range replaced it; check the last one exactly. */
	uint64_t off = (uint64_t)(last * 7919 % 250) * (256 << 10) + 512 * (last % 3);
	cr_assert_eq(vhd_pread(v, buf, 256 << 10, off), 0);
	for (int k = 0; k < 256 << 10; k++)
		cr_assert_eq(buf[k], 1 + last % 250, "write %d byte %d", last, k);
	/* still writable afterwards */
	cr_assert_eq(vhd_pwrite(v, buf, 512, 63 << 20), 0);
	vhd_close(v);
	free(buf);
}

Test(errors, kill9_dynamic)
{
	crash_run(VHD_TYPE_DYNAMIC, NULL);
}

Test(errors, kill9_differencing)
{
	vt_create(vt_path("b.vhd"), VHD_TYPE_DYNAMIC, 64 << 20, NULL);
	crash_run(VHD_TYPE_DIFF, vt_path("b.vhd"));
}
