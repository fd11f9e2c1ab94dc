/* tests/unit/vhd/test_restamp.c: vhd_parent_verify() and
 * vhd_set_parent_timestamp(): the parent link is checked (UUID, the file
 * the locators lead to, type), the timestamp is recorded so that no
 * mismatch warning follows, only the header's first sector changes, and a
 * child in use is refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <utime.h>

#include "tests/unit/vhd/vhd_test.h"
#include "vhd/vhd_int.h"
#include "vhd/vhd_ops.h"

TestSuite(restamp, .init = vt_setup, .fini = vt_teardown);

static char logged[4096];

static void log_cb(enum vhd_log_level level, const char *msg, void *opaque)
{
	if (level <= VHD_LOG_WARN)
		snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%s\n", msg);
}

/* Reads @len bytes of file @path at @off into @buf. */
static void raw_read(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

Test(restamp, records_the_parent_mtime_and_silences_the_warning)
{
	const char *a = vt_path("a.vhd"), *c = vt_path("c.vhd");
	struct utimbuf t = { .actime = 1600000000, .modtime = 1600000000 };
	uint8_t before[VHD_HEADER_SIZE], after[VHD_HEADER_SIZE];
	struct vhd_check_result res;
	struct vhd_info info;
	struct vhd *v;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	cr_assert_eq(utime(a, &t), 0);
	raw_read(c, before, sizeof(before), 512);
	logged[0] = 0;
	vhd_set_log(log_cb, NULL);
	vhd_close(vt_open(c, 0));
	cr_assert(strstr(logged, "timestamp mismatch"), "no warning before: %s", logged);

	cr_assert_eq(vhd_set_parent_timestamp(c, a), 0, "%s", vhd_last_error());
	logged[0] = 0;
	v = vt_open(c, 0);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_eq(info.parent_timestamp, vhd_time_from_unix(1600000000));
	vhd_close(v);
	cr_assert_str_eq(logged, "");
	vhd_set_log(NULL, NULL);

	/* only the first header sector changed: timestamp (56..59), checksum (36..39) */
	raw_read(c, after, sizeof(after), 512);
	cr_assert_neq(memcmp(before + 56, after + 56, 4), 0);
	cr_assert_eq(memcmp(before + 512, after + 512, 512), 0);
	cr_assert_eq(memcmp(before, after, 36), 0);
	cr_assert_eq(memcmp(before + 40, after + 40, 16), 0);
	cr_assert_eq(memcmp(before + 60, after + 60, 512 - 60), 0);
	cr_assert_eq(vhd_check(c, 0, NULL, NULL, &res), 0, "%s", vhd_last_error());
	cr_assert_eq(res.errors, 0);
	cr_assert_eq(res.warnings, 0);
}

Test(restamp, nothing_written_when_it_matches)
{
	const char *a = vt_path("a.vhd"), *c = vt_path("c.vhd");
	struct utimbuf old = { .actime = 1500000000, .modtime = 1500000000 };
	struct stat st;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	cr_assert_eq(utime(c, &old), 0);
	cr_assert_eq(vhd_set_parent_timestamp(c, a), 0, "%s", vhd_last_error());
	cr_assert_eq(stat(c, &st), 0);
	cr_assert_eq(st.st_mtime, 1500000000, "the child was written");
}

Test(restamp, refuses_a_file_that_is_not_the_parent)
{
	const char *a = vt_path("a.vhd"), *b = vt_path("b.vhd"), *c = vt_path("c.vhd");
	const char *copy = vt_path("a-copy.vhd");
	uint8_t before[VHD_HEADER_SIZE], after[VHD_HEADER_SIZE];
	char cmd[1200];

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(b, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", a, copy);
	cr_assert_eq(system(cmd), 0);
	raw_read(c, before, sizeof(before), 512);

	cr_assert_eq(vhd_parent_verify(c, a), 0, "%s", vhd_last_error());
	cr_assert_eq(vhd_parent_verify(c, b), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "UUID mismatch"), "%s", vhd_last_error());
	cr_assert_eq(vhd_set_parent_timestamp(c, b), -EINVAL);
	/* same UUID, another file: the locators lead to a.vhd */
	cr_assert_eq(vhd_parent_verify(c, copy), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "leads to"), "%s", vhd_last_error());
	cr_assert_eq(vhd_set_parent_timestamp(c, copy), -EINVAL);
	/* not a differencing disk */
	cr_assert_eq(vhd_parent_verify(b, a), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "not a differencing"), "%s", vhd_last_error());
	/* missing files */
	cr_assert_eq(vhd_parent_verify(c, vt_path("none.vhd")), -ENOENT);
	cr_assert_eq(vhd_parent_verify(vt_path("none.vhd"), a), -ENOENT);
	/* the parent is gone: its locators lead nowhere */
	cr_assert_eq(rename(a, vt_path("moved.vhd")), 0);
	cr_assert_eq(vhd_parent_verify(c, vt_path("moved.vhd")), -ENOENT);

	raw_read(c, after, sizeof(after), 512);
	cr_assert_eq(memcmp(before, after, sizeof(before)), 0, "a refused child was written");
}

Test(restamp, refuses_a_child_in_use)
{
	const char *a = vt_path("a.vhd"), *c = vt_path("c.vhd");
	struct utimbuf t = { .actime = 1600000000, .modtime = 1600000000 };
	struct vhd *v;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	cr_assert_eq(utime(a, &t), 0);
	v = vt_open(c, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_set_parent_timestamp(c, a), -EBUSY);
	cr_assert_eq(vhd_parent_verify(c, a), 0, "verify takes no lock: %s", vhd_last_error());
	vhd_close(v);
	cr_assert_eq(vhd_set_parent_timestamp(c, a), 0, "%s", vhd_last_error());
}

/* vhd_set_parent(): a child made on one copy of a disk is linked to
 * another copy (another UUID, another folder); no old locator is left
 * leading to the first copy, data stays, sizes must agree. */
Test(restamp, set_parent_links_to_another_copy)
{
	const char *a = vt_path("a.vhd"), *c = vt_path("c.vhd");
	const char *b = vt_path("sub/b.vhd"), *small = vt_path("small.vhd");
	char found[4096], sub[512];
	uint8_t buf[4096], w[4096];
	struct vhd *v;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	v = vt_open(a, VHD_OPEN_RDWR);
	vt_fill(w, sizeof(w), 0, 3);
	cr_assert_eq(vhd_pwrite(v, w, sizeof(w), 8192), 0);
	vhd_close(v);
	snprintf(sub, sizeof(sub), "%s", b);
	*strrchr(sub, '/') = 0;
	cr_assert_eq(mkdir(sub, 0700), 0);
	vt_create(b, VHD_TYPE_DYNAMIC, 4 << 20, NULL);   /* a copy: same data, new UUID */
	v = vt_open(b, VHD_OPEN_RDWR);
	cr_assert_eq(vhd_pwrite(v, w, sizeof(w), 8192), 0);
	vhd_close(v);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	v = vt_open(c, VHD_OPEN_RDWR);
	memset(w, 0x5c, 512);
	cr_assert_eq(vhd_pwrite(v, w, 512, 0), 0);
	vhd_close(v);

	cr_assert_eq(vhd_parent_verify(c, b), -EINVAL);
	cr_assert_eq(vhd_set_parent(c, b), 0, "%s", vhd_last_error());
	cr_assert_eq(vhd_parent_verify(c, b), 0, "%s", vhd_last_error());
	/* the first copy gone, the chain still opens, on b */
	cr_assert_eq(unlink(a), 0);
	v = vt_open(c, 0);
	cr_assert_eq(vhd_parent_find(v, found, sizeof(found)), 0);
	cr_assert(strstr(found, "sub/b.vhd"), "%s", found);
	cr_assert_eq(vhd_pread(v, buf, 4096, 8192), 0);
	vt_fill(w, sizeof(w), 0, 3);
	cr_assert(!memcmp(buf, w, 4096));
	cr_assert_eq(vhd_pread(v, buf, 512, 0), 0);
	cr_assert_eq(buf[0], 0x5c);
	vhd_close(v);
	/* a parent of another size is refused */
	vt_create(small, VHD_TYPE_DYNAMIC, 2 << 20, NULL);
	cr_assert_eq(vhd_set_parent(c, small), -EINVAL);
	cr_assert_eq(vhd_parent_verify(c, b), 0, "the link is unchanged");
}
