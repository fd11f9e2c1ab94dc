/* tests/unit/vhd/test_chain.c: differencing chains: reads through several
 * layers, parent lookup (relative after a move, by MacX, by name), raw and
 * fixed parents, the open_parent callback, and the chain errors (missing
 * parent, UUID mismatch, loop, depth limit, timestamp warning). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <utime.h>

#include "tests/unit/vhd/vhd_test.h"
#include "vhd/vhd_int.h"

TestSuite(chain, .init = vt_setup, .fini = vt_teardown);

static void put(const char *path, uint8_t val, uint64_t off, size_t len)
{
	struct vhd *v = vt_open(path, VHD_OPEN_RDWR | VHD_OPEN_RAW_PARENT);
	uint8_t *buf = malloc(len);

	memset(buf, val, len);
	cr_assert_eq(vhd_pwrite(v, buf, len, off), 0, "%s", vhd_last_error());
	vhd_close(v);
	free(buf);
}

static uint8_t get(struct vhd *v, uint64_t off)
{
	uint8_t b;

	cr_assert_eq(vhd_pread(v, &b, 1, off), 0, "%s", vhd_last_error());
	return b;
}

Test(chain, three_layers)
{
	const char *a = vt_path("a.vhd"), *b = vt_path("b.vhd"), *c = vt_path("c.vhd");
	struct vhd_info info;
	struct vhd *v;
	uint64_t n;
	int d;

	vt_create(a, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	put(a, 0xa, 0, 3 << 20);
	vt_create(b, VHD_TYPE_DIFF, 0, a);
	put(b, 0xb, 1 << 20, 512);
	vt_create(c, VHD_TYPE_DIFF, 0, b);
	put(c, 0xc, (1 << 20) + 512, 512);

	v = vt_open(c, 0);
	cr_assert_eq(get(v, 0), 0xa);
	cr_assert_eq(get(v, 1 << 20), 0xb);
	cr_assert_eq(get(v, (1 << 20) + 512), 0xc);
	cr_assert_eq(get(v, (1 << 20) + 1024), 0xa);
	cr_assert_eq(get(v, 5 << 20), 0);
	cr_assert_eq(vhd_block_status(v, 1 << 20, 4096, &n, &d), 0);
	cr_assert(d == 2 && n == 512, "depth %d n %llu", d, (unsigned long long)n);
	cr_assert_eq(vhd_block_status(v, (1 << 20) + 512, 4096, &n, &d), 0);
	cr_assert(d == 1 && n == 512);
	cr_assert_eq(vhd_block_status(v, (1 << 20) + 1024, 8 << 20 >> 1, &n, &d), 0);
	/* a holds whole blocks 0 and 1 (dynamic: allocated = data) */
	cr_assert(d == 3 && n == (4 << 20) - (1 << 20) - 1024, "depth %d n %llu", d,
		  (unsigned long long)n);
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_eq(info.depth, 3u);
	cr_assert_str_eq(info.parent_name, "b.vhd");
	cr_assert_str_eq(info.parent_path, b);
	cr_assert(info.parent_uuid_match);
	cr_assert_not_null(vhd_parent(v));
	cr_assert_eq(vhd_parent(v)->depth, 2u);
	vhd_close(v);
}

Test(chain, locators_as_written)
{
	const char *a = vt_path("base.vhd"), *c = vt_path("c.vhd");
	struct vhd *v;
	char path[4096];

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	v = vt_open(c, VHD_OPEN_NO_PARENT);
	cr_assert_null(vhd_parent(v));
	cr_assert_eq(v->header.loc[0].code, VHD_PLAT_W2RU);
	cr_assert_eq(v->header.loc[1].code, VHD_PLAT_W2KU);
	cr_assert_eq(v->header.loc[0].data_len, 2u * strlen(".\\base.vhd"));
	cr_assert_eq(v->header.loc[0].data_space, 512u, "data space in bytes");
	uint8_t raw[64];
	cr_assert_eq(pread(v->fd, raw, v->header.loc[0].data_len, v->header.loc[0].data_offset),
		     (ssize_t)v->header.loc[0].data_len);
	cr_assert_eq(vhd_utf16_to_utf8(raw, v->header.loc[0].data_len, false, path, sizeof(path)), 0);
	cr_assert_str_eq(path, ".\\base.vhd");
	cr_assert_eq(vhd_parent_find(v, path, sizeof(path)), 0);
	cr_assert_str_eq(path, vt_path("base.vhd"));
	/* without a parent, unallocated reads are zeros */
	cr_assert_eq(get(v, 0), 0);
	vhd_close(v);
}

Test(chain, moved_directory_still_opens)
{
	char from[300], to[300], top[400];
	struct vhd *v;

	snprintf(from, sizeof(from), "%s/one", vt_dir);
	snprintf(to, sizeof(to), "%s/two", vt_dir);
	cr_assert_eq(mkdir(from, 0755), 0);
	cr_assert_eq(mkdir(vt_path("one/base"), 0755), 0);
	cr_assert_eq(mkdir(vt_path("one/vm"), 0755), 0);
	vt_create(vt_path("one/base/b.vhd"), VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	put(vt_path("one/base/b.vhd"), 0x42, 0, 4096);
	vt_create(vt_path("one/vm/c.vhd"), VHD_TYPE_DIFF, 0, vt_path("one/base/b.vhd"));
	cr_assert_eq(rename(from, to), 0);
	snprintf(top, sizeof(top), "%s/vm/c.vhd", to);
	v = vt_open(top, 0);
	cr_assert_eq(get(v, 0), 0x42);
	vhd_close(v);
}

/* Rewrites the child's dynamic header through @edit. */
static void edit_header(const char *path, void (*edit)(int fd, struct vhd_header *h))
{
	uint8_t hb[1024];
	struct vhd_header h;
	int fd = open(path, O_RDWR);

	cr_assert_eq(pread(fd, hb, 1024, 512), 1024);
	vhd_header_decode(hb, &h);
	edit(fd, &h);
	vhd_header_encode(&h, hb);
	cr_assert_eq(pwrite(fd, hb, 1024, 512), 1024);
	close(fd);
}

static void drop_locators(int fd, struct vhd_header *h)
{
	for (int i = 0; i < VHD_NUM_LOCATORS; i++)
		h->loc[i].code = VHD_PLAT_NONE;
}

static char macx_target[512];

static void macx_only(int fd, struct vhd_header *h)
{
	uint8_t data[1024];
	size_t len;

	cr_assert_eq(vhd_locator_encode(VHD_PLAT_MACX, macx_target, data, sizeof(data), &len), 0);
	cr_assert_leq(len, vhd_locator_space(&h->loc[1]));
	cr_assert_eq(pwrite(fd, data, len, h->loc[1].data_offset), (ssize_t)len);
	h->loc[0].code = VHD_PLAT_NONE;
	h->loc[1].code = VHD_PLAT_MACX;
	h->loc[1].data_len = (uint32_t)len;
}

Test(chain, parent_by_name_and_macx)
{
	const char *a = vt_path("base.vhd"), *c = vt_path("c.vhd"), *c2 = vt_path("c2.vhd");
	struct vhd *v;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	put(a, 0x61, 0, 512);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	edit_header(c, drop_locators);
	v = vt_open(c, 0);
	cr_assert_eq(get(v, 0), 0x61);
	vhd_close(v);

	/* MacX: a parent in another directory, only reachable by its URL */
	cr_assert_eq(mkdir(vt_path("sub dir"), 0755), 0);
	snprintf(macx_target, sizeof(macx_target), "%s", vt_path("sub dir/p.vhd"));
	cr_assert_eq(rename(a, macx_target), 0);
	vt_create(c2, VHD_TYPE_DIFF, 0, macx_target);
	edit_header(c2, macx_only);
	v = vt_open(c2, 0);
	cr_assert_eq(get(v, 0), 0x61);
	vhd_close(v);
}

Test(chain, missing_parent)
{
	const char *a = vt_path("base.vhd"), *c = vt_path("c.vhd");
	struct vhd *v = NULL;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	cr_assert_eq(unlink(a), 0);
	cr_assert_eq(vhd_open(c, NULL, &v), -ENOENT);
	cr_assert_null(v);
	cr_assert(strstr(vhd_last_error(), "parent 'base.vhd' not found"), "%s", vhd_last_error());
	/* still inspectable alone */
	v = vt_open(c, VHD_OPEN_NO_PARENT);
	vhd_close(v);
}

Test(chain, wrong_parent_uuid)
{
	const char *a = vt_path("base.vhd"), *c = vt_path("c.vhd");
	struct vhd *v = NULL;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	cr_assert_eq(unlink(a), 0);
	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	cr_assert_eq(vhd_open(c, NULL, &v), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "parent UUID mismatch"), "%s", vhd_last_error());
}

Test(chain, parent_loop)
{
	const char *x = vt_path("x.vhd"), *y = vt_path("y.vhd"), *z = vt_path("z.vhd");
	struct vhd *v = NULL;

	vt_create(x, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(y, VHD_TYPE_DIFF, 0, x);
	vt_create(z, VHD_TYPE_DIFF, 0, y);
	cr_assert_eq(rename(z, x), 0);  /* x is now a child of y: y -> x -> y */
	cr_assert_eq(vhd_open(y, NULL, &v), -ELOOP);
	cr_assert(strstr(vhd_last_error(), "parent loop"), "%s", vhd_last_error());
}

Test(chain, depth_limit)
{
	char name[32], prev[32];
	struct vhd_open_opts o = { .max_depth = 3 };
	struct vhd *v = NULL;

	struct vhd_open_opts deep = { .max_depth = 100 };
	struct vhd_create_opts co = { .type = VHD_TYPE_DIFF, .parent_opts = &deep };

	vt_create(vt_path("l0.vhd"), VHD_TYPE_DYNAMIC, 1 << 20, NULL);
	for (int i = 1; i <= 63; i++) {
		snprintf(prev, sizeof(prev), "l%d.vhd", i - 1);
		snprintf(name, sizeof(name), "l%d.vhd", i);
		vt_create(vt_path(name), VHD_TYPE_DIFF, 0, vt_path(prev));
	}
	/* a 65th layer is refused by default, allowed when asked for */
	co.parent = vt_path("l63.vhd");
	cr_assert_eq(vhd_create(vt_path("l64.vhd"), &(struct vhd_create_opts){
				     .type = VHD_TYPE_DIFF, .parent = co.parent }), -ELOOP);
	cr_assert(strstr(vhd_last_error(), "deeper than 64 layers"), "%s", vhd_last_error());
	cr_assert_eq(access(vt_path("l64.vhd"), F_OK), -1);
	cr_assert_eq(vhd_create(vt_path("l64.vhd"), &co), 0, "%s", vhd_last_error());
	/* 64 layers open by default, 65 do not */
	v = vt_open(vt_path("l63.vhd"), 0);
	cr_assert_eq(v->depth, 64u);
	vhd_close(v);
	v = NULL;
	cr_assert_eq(vhd_open(vt_path("l64.vhd"), NULL, &v), -ELOOP);
	cr_assert(strstr(vhd_last_error(), "chain deeper than 64 layers"), "%s", vhd_last_error());
	cr_assert_eq(vhd_open(vt_path("l5.vhd"), &o, &v), -ELOOP);
	cr_assert(strstr(vhd_last_error(), "chain deeper than 3 layers"), "%s", vhd_last_error());
	o.max_depth = 6;
	cr_assert_eq(vhd_open(vt_path("l5.vhd"), &o, &v), 0, "%s", vhd_last_error());
	vhd_close(v);
}

Test(chain, raw_and_fixed_parents)
{
	const char *raw = vt_path("disk.raw"), *c = vt_path("c.vhd");
	const char *fx = vt_path("f.vhd"), *c2 = vt_path("c2.vhd");
	uint8_t *buf = malloc(4 << 20);
	struct vhd *v;
	uint64_t n;
	int d, fd;

	vt_fill(buf, 4 << 20, 0, 8);
	fd = open(raw, O_CREAT | O_WRONLY, 0644);
	cr_assert_eq(write(fd, buf, 4 << 20), 4 << 20);
	close(fd);
	vt_create(c, VHD_TYPE_DIFF, 0, raw);
	put(c, 0x33, 4096, 100);
	/* a raw parent only when asked for */
	cr_assert_eq(vhd_open(c, NULL, &v), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "is a raw file, not a VHD"), "%s", vhd_last_error());
	v = vt_open(c, VHD_OPEN_RAW_PARENT);
	cr_assert_eq(vhd_size(v), 4u << 20);
	cr_assert_eq(get(v, 4095), vt_byte(4095, 8));
	cr_assert_eq(get(v, 4096), 0x33);
	cr_assert_eq(get(v, 4196), vt_byte(4196, 8));
	cr_assert_eq(get(v, (4 << 20) - 1), vt_byte((4 << 20) - 1, 8));
	cr_assert_eq(vhd_block_status(v, 8192, 1 << 20, &n, &d), 0);
	cr_assert(d == 2 && n == 1 << 20);
	vhd_close(v);
	/* a parent shorter than the child reads zeros past its end */
	cr_assert_eq(truncate(raw, 3 << 20), 0);
	v = vt_open(c, VHD_OPEN_NOWARN_TS | VHD_OPEN_RAW_PARENT);
	cr_assert_eq(get(v, (3 << 20) - 1), vt_byte((3 << 20) - 1, 8));
	cr_assert_eq(get(v, 3 << 20), 0);
	cr_assert_eq(vhd_block_status(v, 3 << 20, 1 << 20, &n, &d), 0);
	cr_assert(d == 0 && n == 1 << 20);
	vhd_close(v);

	vt_create(fx, VHD_TYPE_FIXED, 2 << 20, NULL);
	put(fx, 0x44, 0, 2 << 20);
	vt_create(c2, VHD_TYPE_DIFF, 0, fx);
	v = vt_open(c2, 0);
	cr_assert_eq(get(v, 12345), 0x44);
	cr_assert_eq(v->depth, 2u);
	vhd_close(v);
	/* a child that records a parent UUID never reads a raw file, asked or
	 * not: the fixed parent replaced by raw bytes is a mismatch */
	cr_assert_eq(rename(raw, fx), 0);
	cr_assert_eq(vhd_open(c2, &(struct vhd_open_opts){ .flags = VHD_OPEN_RAW_PARENT }, &v),
		     -EINVAL);
	cr_assert(strstr(vhd_last_error(), "records a parent UUID"), "%s", vhd_last_error());
	free(buf);
}

static int cb_calls;

static int my_open_parent(void *opaque, const char *path, const struct vhd_open_opts *po,
			  struct vhd_backing **out)
{
	cb_calls++;
	cr_assert_eq(opaque, &cb_calls);
	cr_assert_eq(po->open_parent, my_open_parent, "the callback is passed down");
	cr_assert_not_null(po->chain);
	cr_assert_eq(po->flags & VHD_OPEN_RDWR, 0u, "parents are read-only");
	return vhd_backing_open(path, po, out);
}

Test(chain, open_parent_callback)
{
	const char *a = vt_path("a.vhd"), *b = vt_path("b.vhd"), *c = vt_path("c.vhd");
	struct vhd_open_opts o = { .flags = VHD_OPEN_RDWR, .open_parent = my_open_parent,
				   .opaque = &cb_calls };
	struct vhd *v = NULL;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(b, VHD_TYPE_DIFF, 0, a);
	vt_create(c, VHD_TYPE_DIFF, 0, b);
	cr_assert_eq(vhd_open(c, &o, &v), 0, "%s", vhd_last_error());
	cr_assert_eq(cb_calls, 2);
	vhd_close(v);
}

static char logged[4096];

static void log_cb(enum vhd_log_level level, const char *msg, void *opaque)
{
	if (level == VHD_LOG_WARN)
		snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%s\n", msg);
}

Test(chain, timestamp_mismatch_is_a_warning)
{
	const char *a = vt_path("a.vhd"), *c = vt_path("c.vhd");
	struct utimbuf t = { .actime = 1600000000, .modtime = 1600000000 };
	struct vhd_open_opts o = { .flags = VHD_OPEN_NOWARN_TS };
	struct vhd *v = NULL;

	vt_create(a, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	vt_create(c, VHD_TYPE_DIFF, 0, a);
	vhd_set_log(log_cb, NULL);
	v = vt_open(c, 0);
	vhd_close(v);
	cr_assert_str_eq(logged, "");
	cr_assert_eq(utime(a, &t), 0);
	v = vt_open(c, 0);
	vhd_close(v);
	cr_assert(strstr(logged, "timestamp mismatch"), "%s", logged);
	logged[0] = 0;
	cr_assert_eq(vhd_open(c, &o, &v), 0);
	vhd_close(v);
	cr_assert_str_eq(logged, "");
	vhd_set_log(NULL, NULL);
}

Test(chain, wrong_uuid_candidate_is_skipped)
{
	struct vhd_info info;
	struct vhd *v = NULL;
	char cmd[1024];

	cr_assert_eq(mkdir(vt_path("real"), 0755), 0);
	cr_assert_eq(mkdir(vt_path("other"), 0755), 0);
	vt_create(vt_path("real/base.vhd"), VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	put(vt_path("real/base.vhd"), 0x5b, 0, 512);
	vt_create(vt_path("real/c.vhd"), VHD_TYPE_DIFF, 0, vt_path("real/base.vhd"));
	/* a copy of the child beside an unrelated image of the same name */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", vt_path("real/c.vhd"), vt_path("other/c.vhd"));
	cr_assert_eq(system(cmd), 0);
	vt_create(vt_path("other/base.vhd"), VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	v = vt_open(vt_path("other/c.vhd"), 0);
	cr_assert_eq(get(v, 0), 0x5b, "the absolute locator's parent was used");
	cr_assert_eq(vhd_get_info(v, &info), 0);
	cr_assert_str_eq(info.parent_path, vt_path("real/base.vhd"));
	vhd_close(v);
	v = NULL;
	cr_assert_eq(unlink(vt_path("real/base.vhd")), 0);
	cr_assert_eq(vhd_open(vt_path("other/c.vhd"), NULL, &v), -EINVAL);
	cr_assert(strstr(vhd_last_error(), "parent UUID mismatch"), "%s", vhd_last_error());
}
