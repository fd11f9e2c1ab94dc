/* tests/unit/blkback/test_bdev_switch.c: the live top switch of a bdev
 * on real VHD files: what was written before the switch stays in the old
 * top, which never changes again; writes afterwards land in the child;
 * writers running during the switch lose nothing; switches that cannot
 * work are refused with the device unchanged. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkback/bdev.h"
#include "blkback/bimg.h"
#include "blkback/ioq.h"
#include "vhd/vhd.h"

#define MiB (1u << 20)
#define SIZE (16 * MiB)

static char dir[] = "/tmp/bdevswitch.XXXXXX";
static char top[256], child[256];
static struct bimg *img;
static struct ioq *q;
static struct bdev *dev;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

/* A differencing child of @parent whose parent is opened without a lock
 * (the served top holds an exclusive one), as hv does. */
static void make_child(const char *path, const char *parent)
{
	struct vhd_open_opts po = { .flags = VHD_OPEN_NOLOCK };
	struct vhd_create_opts co = { .type = VHD_TYPE_DIFF, .parent = parent,
				      .parent_opts = &po };

	cr_assert_eq(vhd_create(path, &co), 0, "%s", vhd_last_error());
}

static void setup(void)
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = SIZE };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(top, sizeof(top), "%s/base.vhd", dir);
	snprintf(child, sizeof(child), "%s/snap1.vhd", dir);
	cr_assert_eq(vhd_create(top, &co), 0, "%s", vhd_last_error());
	cr_assert_eq(bimg_open(top, BIMG_OPEN_RDWR, &img), 0, "%s", bimg_last_error());
	cr_assert_eq(ioq_create(2, &q), 0);
	cr_assert_eq(bdev_create(img, q, &dev), 0);
}

static void teardown(void)
{
	char cmd[300];

	ioq_destroy(q);
	img = bdev_image(dev);
	bdev_destroy(dev);
	bimg_close(img);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

struct sync_req {
	struct bdev_req r;
	bool done;
};

static void sync_done(struct bdev_req *r)
{
	pthread_mutex_lock(&lock);
	((struct sync_req *)r)->done = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static int rw(enum ioq_op op, void *buf, size_t len, uint64_t off)
{
	struct iovec v = { buf, len };
	struct sync_req s = { .r = { .io = { .op = op, .off = off, .iov = &v, .iovcnt = 1 },
				     .done = sync_done } };

	bdev_submit(dev, &s.r);
	pthread_mutex_lock(&lock);
	while (!s.done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return s.r.io.result;
}

static void fill(char *buf, size_t len, char c)
{
	memset(buf, c, len);
}

/* Reads @len bytes at @off of the VHD chain at @path (opened read-only,
 * shared with whoever holds it). */
static void vhd_read_at(const char *path, void *buf, size_t len, uint64_t off)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_FORCE_SHARE };
	struct vhd *v;

	cr_assert_eq(vhd_open(path, &o, &v), 0, "%s", vhd_last_error());
	cr_assert_eq(vhd_pread(v, buf, len, off), 0);
	vhd_close(v);
}

TestSuite(bdev_switch, .init = setup, .fini = teardown);

Test(bdev_switch, child_becomes_the_top_and_the_old_top_is_frozen)
{
	static char a[65536], b[65536], got[65536];
	char err[1024] = "";
	struct stat st0, st1;

	fill(a, sizeof(a), 'A');
	cr_assert_eq(rw(IOQ_WRITE, a, sizeof(a), MiB), 0);
	make_child(child, top);
	cr_assert_eq(bdev_switch_top(dev, child, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(bimg_path(bdev_image(dev)), child);
	cr_assert_not(bdev_failed(dev));
	cr_assert_eq(stat(top, &st0), 0);
	/* Writes now land in the child: over A, and somewhere new. */
	fill(b, sizeof(b), 'B');
	cr_assert_eq(rw(IOQ_WRITE, b, sizeof(b), MiB), 0);
	cr_assert_eq(rw(IOQ_WRITE, b, sizeof(b), 8 * MiB), 0);
	cr_assert_eq(bdev_flush(dev), 0);
	cr_assert_eq(rw(IOQ_READ, got, sizeof(got), MiB), 0);
	cr_assert_eq(memcmp(got, b, sizeof(b)), 0);
	/* The old top still holds A and nothing at 8 MiB, and was not touched. */
	vhd_read_at(top, got, sizeof(got), MiB);
	cr_assert_eq(memcmp(got, a, sizeof(a)), 0);
	vhd_read_at(top, got, sizeof(got), 8 * MiB);
	fill(a, sizeof(a), 0);
	cr_assert_eq(memcmp(got, a, sizeof(a)), 0);
	cr_assert_eq(stat(top, &st1), 0);
	cr_assert_eq(st0.st_mtim.tv_sec, st1.st_mtim.tv_sec);
	cr_assert_eq(st0.st_mtim.tv_nsec, st1.st_mtim.tv_nsec);
	cr_assert_eq(st0.st_size, st1.st_size);
}

/* A second switch stacks another layer on the first child. */
Test(bdev_switch, switches_stack)
{
	char child2[300], err[1024] = "";

	snprintf(child2, sizeof(child2), "%s/snap2.vhd", dir);
	make_child(child, top);
	cr_assert_eq(bdev_switch_top(dev, child, err, sizeof(err)), 0, "%s", err);
	make_child(child2, child);
	cr_assert_eq(bdev_switch_top(dev, child2, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(bimg_path(bdev_image(dev)), child2);
}

/* Writers keep going through the switch; every write completes with
 * success and reads back afterwards. */
struct writer {
	unsigned id;
	int errors;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	char buf[4096];

	for (unsigned i = 0; i < 200; i++) {
		uint64_t off = ((uint64_t)w->id * 256 + i) * sizeof(buf);

		memset(buf, (int)(w->id * 31 + i) | 1, sizeof(buf));
		if (rw(IOQ_WRITE, buf, sizeof(buf), off))
			w->errors++;
	}
	return NULL;
}

Test(bdev_switch, no_write_lost_across_the_switch)
{
	struct writer w[4];
	pthread_t t[4];
	char err[1024] = "", buf[4096], want[4096];

	make_child(child, top);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct writer){ .id = i };
		cr_assert_eq(pthread_create(&t[i], NULL, writer_thread, &w[i]), 0);
	}
	usleep(10 * 1000);
	cr_assert_eq(bdev_switch_top(dev, child, err, sizeof(err)), 0, "%s", err);
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].errors, 0);
	}
	for (unsigned id = 0; id < 4; id++)
		for (unsigned i = 0; i < 200; i++) {
			memset(want, (int)(id * 31 + i) | 1, sizeof(want));
			cr_assert_eq(rw(IOQ_READ, buf, sizeof(buf), ((uint64_t)id * 256 + i) * 4096), 0);
			cr_assert_eq(memcmp(buf, want, sizeof(buf)), 0, "writer %u write %u lost", id, i);
		}
}

static void assert_unchanged(void)
{
	static char a[4096];

	cr_assert_str_eq(bimg_path(bdev_image(dev)), top);
	cr_assert_not(bdev_failed(dev));
	cr_assert_eq(rw(IOQ_WRITE, a, sizeof(a), 0), 0);
}

Test(bdev_switch, refuses_what_cannot_work)
{
	struct vhd_create_opts dyn = { .type = VHD_TYPE_DYNAMIC, .size = SIZE };
	struct vhd_create_opts big = { .type = VHD_TYPE_DYNAMIC, .size = 2 * SIZE };
	char other[300], stray[300], err[1024];

	/* missing file */
	cr_assert_lt(bdev_switch_top(dev, child, err, sizeof(err)), 0);
	assert_unchanged();
	/* not differencing */
	cr_assert_eq(vhd_create(child, &dyn), 0, "%s", vhd_last_error());
	cr_assert_eq(bdev_switch_top(dev, child, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "not a differencing"), "%s", err);
	assert_unchanged();
	/* a child of another parent */
	snprintf(other, sizeof(other), "%s/other.vhd", dir);
	snprintf(stray, sizeof(stray), "%s/stray.vhd", dir);
	cr_assert_eq(vhd_create(other, &big), 0, "%s", vhd_last_error());
	make_child(stray, other);
	cr_assert_lt(bdev_switch_top(dev, stray, err, sizeof(err)), 0);
	assert_unchanged();
	/* empty name */
	cr_assert_eq(bdev_switch_top(dev, "", err, sizeof(err)), -EINVAL);
	assert_unchanged();
}

Test(bdev_switch, refuses_read_only_and_raw_devices)
{
	struct bdev *ro;
	struct bimg *rimg;
	char raw[300], err[1024];
	int fd;

	make_child(child, top);
	/* read-only over the same file: a second bdev over a shared open */
	ioq_destroy(q);
	img = bdev_image(dev);
	bdev_destroy(dev);
	bimg_close(img);
	cr_assert_eq(bimg_open(top, 0, &img), 0, "%s", bimg_last_error());
	cr_assert_eq(ioq_create(1, &q), 0);
	cr_assert_eq(bdev_create(img, q, &dev), 0);
	cr_assert_eq(bdev_switch_top(dev, child, err, sizeof(err)), -EPERM);
	cr_assert_not_null(strstr(err, "read-only"), "%s", err);
	/* a raw file */
	snprintf(raw, sizeof(raw), "%s/disk.raw", dir);
	fd = open(raw, O_CREAT | O_RDWR, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, SIZE), 0);
	close(fd);
	cr_assert_eq(bimg_open(raw, BIMG_OPEN_RDWR, &rimg), 0, "%s", bimg_last_error());
	cr_assert_eq(bdev_create(rimg, q, &ro), 0);
	cr_assert_eq(bdev_switch_top(ro, child, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "not a VHD"), "%s", err);
	cr_assert_eq(bdev_image(ro), rimg);
	bdev_destroy(ro);
	bimg_close(rimg);
}
