/* tests/unit/blkback/test_bimg.c: the image stack: raw driver, VHD driver,
 * parents shared between chains, --snapshot children, the I/O engine. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkback/bimg.h"
#include "blkback/ioq.h"
#include "vhd/vhd.h"

#define MiB (1024u * 1024u)

static char dir[] = "/tmp/bimgtest.XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static char *path_in(const char *name)
{
	static __thread char bufs[4][256];
	static __thread int i;
	char *p = bufs[i++ % 4];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static void make_raw(const char *path, uint64_t size)
{
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

/* A dynamic VHD with @pat over [1 MiB, 2 MiB). */
static void make_parent(const char *path)
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = 16 * MiB };
	struct vhd_open_opts oo = { .flags = VHD_OPEN_RDWR };
	char *buf = malloc(MiB);
	struct vhd *v;

	cr_assert_eq(vhd_create(path, &co), 0, "%s", vhd_last_error());
	cr_assert_eq(vhd_open(path, &oo, &v), 0, "%s", vhd_last_error());
	memset(buf, 0xA5, MiB);
	cr_assert_eq(vhd_pwrite(v, buf, MiB, MiB), 0);
	vhd_close(v);
	free(buf);
}

static void make_child(const char *path, const char *parent)
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DIFF, .parent = parent };

	cr_assert_eq(vhd_create(path, &co), 0, "%s", vhd_last_error());
}

static bool all_bytes(const char *buf, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != c)
			return false;
	return true;
}

TestSuite(bimg, .init = setup, .fini = teardown);

Test(bimg, raw_io_status_and_limits)
{
	struct bimg *img, *ro;
	char buf[8192];
	uint64_t pnum;
	int layer, st;

	make_raw(path_in("r.img"), 4 * MiB);
	cr_assert_eq(bimg_open(path_in("r.img"), BIMG_OPEN_RDWR, &img), 0);
	cr_assert_str_eq(bimg_driver_name(img), "raw");
	cr_assert_eq(bimg_size(img), 4 * MiB);
	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(bimg_pwrite(img, buf, sizeof(buf), MiB), 0);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(bimg_pread(img, buf, sizeof(buf), MiB), 0);
	cr_assert(all_bytes(buf, sizeof(buf), 'x'));
	cr_assert_eq(bimg_pread(img, buf, 2, 4 * MiB - 1), -EINVAL, "read past the end");
	cr_assert_eq(bimg_pwrite(img, buf, 1, 4 * MiB), -EINVAL, "write past the end");

	st = bimg_block_status(img, 0, 4 * MiB, &pnum, &layer);
	cr_assert_eq(st, BIMG_STATUS_ZERO, "sparse head is a hole");
	cr_assert_eq(layer, 0);
	cr_assert_eq(pnum, MiB);
	st = bimg_block_status(img, MiB, 3 * MiB, &pnum, &layer);
	cr_assert_eq(st, BIMG_STATUS_DATA);
	cr_assert_eq(layer, 1);

	cr_assert_eq(bimg_write_zeroes(img, MiB, 4096, BIMG_ZERO_MAY_UNMAP), 0);
	cr_assert_eq(bimg_pread(img, buf, 8192, MiB), 0);
	cr_assert(all_bytes(buf, 4096, 0) && all_bytes(buf + 4096, 4096, 'x'));

	/* a second writer is refused while we hold it */
	cr_assert_eq(bimg_open(path_in("r.img"), BIMG_OPEN_RDWR, &ro), -EBUSY);
	cr_assert(strstr(bimg_last_error(), "in use"));
	cr_assert_eq(bimg_close(img), 0);

	cr_assert_eq(bimg_open(path_in("r.img"), 0, &ro), 0);
	cr_assert_eq(bimg_pwrite(ro, buf, 512, 0), -EPERM);
	cr_assert_eq(bimg_write_zeroes(ro, 0, 512, 0), -EPERM);
	bimg_close(ro);
	cr_assert_eq(bimg_close(NULL), 0);
}

Test(bimg, missing_and_corrupt_images_fail_with_a_reason)
{
	struct bimg *img = (void *)1;
	int fd;

	cr_assert_lt(bimg_open(path_in("nope.vhd"), 0, &img), 0);
	cr_assert_null(img);
	cr_assert(strstr(bimg_last_error(), "nope.vhd"));

	make_parent(path_in("bad.vhd"));
	fd = open(path_in("bad.vhd"), O_RDWR);
	cr_assert_geq(fd, 0);
	/* clobber the dynamic header's cookie */
	cr_assert_eq(pwrite(fd, "garbage!", 8, 512), 8);
	close(fd);
	cr_assert_lt(bimg_open(path_in("bad.vhd"), 0, &img), 0);
	cr_assert_neq(bimg_last_error()[0], '\0', "no reason given");
}

Test(bimg, twenty_children_share_one_parent)
{
	struct bimg *kids[20];
	char *buf = malloc(MiB), *pbuf = malloc(MiB), name[32];
	struct bimg *p;
	uint64_t pnum;
	int layer;

	make_parent(path_in("base.vhd"));
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "kid%d.vhd", i);
		make_child(path_in(name), path_in("base.vhd"));
	}
	cr_assert_eq(bimg_parents_count(), 0);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "kid%d.vhd", i);
		cr_assert_eq(bimg_open(path_in(name), BIMG_OPEN_RDWR, &kids[i]), 0, "%s",
			     bimg_last_error());
		cr_assert_str_eq(bimg_driver_name(kids[i]), "vhd");
	}
	cr_assert_eq(bimg_parents_count(), 1, "20 children should share 1 parent");

	/* each child reads the parent's data and writes only its own layer */
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(bimg_pread(kids[i], buf, MiB, MiB), 0);
		cr_assert(all_bytes(buf, MiB, (char)0xA5));
		memset(buf, i, 4096);
		cr_assert_eq(bimg_pwrite(kids[i], buf, 4096, MiB), 0);
	}
	cr_assert_eq(bimg_block_status(kids[3], MiB, MiB, &pnum, &layer), BIMG_STATUS_DATA);
	cr_assert_eq(layer, 1, "written block is in the child");
	cr_assert_eq(bimg_block_status(kids[3], 8 * MiB, MiB, &pnum, &layer), BIMG_STATUS_ZERO);
	cr_assert_eq(layer, 0);
	cr_assert_eq(bimg_pread(kids[7], buf, 8192, MiB), 0);
	cr_assert(all_bytes(buf, 4096, 7) && all_bytes(buf + 4096, 4096, (char)0xA5));

	/* the parent is read-only: a writer on it is refused while shared */
	cr_assert_lt(bimg_open(path_in("base.vhd"), BIMG_OPEN_RDWR, &p), 0);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(bimg_close(kids[i]), 0);
	cr_assert_eq(bimg_parents_count(), 0, "the last child closes the parent");
	cr_assert_eq(bimg_open(path_in("base.vhd"), 0, &p), 0);
	cr_assert_eq(bimg_pread(p, pbuf, MiB, MiB), 0);
	cr_assert(all_bytes(pbuf, MiB, (char)0xA5), "parent changed");
	bimg_close(p);
	free(buf);
	free(pbuf);
}

Test(bimg, raw_file_as_parent)
{
	struct bimg *kid;
	char buf[4096];
	int fd;

	make_raw(path_in("base.raw"), 8 * MiB);
	fd = open(path_in("base.raw"), O_RDWR);
	memset(buf, 'r', sizeof(buf));
	cr_assert_eq(pwrite(fd, buf, sizeof(buf), 2 * MiB), (ssize_t)sizeof(buf));
	close(fd);
	make_child(path_in("kid.vhd"), path_in("base.raw"));
	/* refused unless asked for */
	cr_assert_eq(bimg_open(path_in("kid.vhd"), BIMG_OPEN_RDWR, &kid), -EINVAL);
	cr_assert(strstr(bimg_last_error(), "raw file"), "%s", bimg_last_error());
	cr_assert_eq(bimg_parents_count(), 0);
	cr_assert_eq(bimg_open(path_in("kid.vhd"), BIMG_OPEN_RDWR | BIMG_OPEN_RAW_PARENT, &kid),
		     0, "%s", bimg_last_error());
	cr_assert_eq(bimg_parents_count(), 1);
	cr_assert_eq(bimg_size(kid), 8 * MiB);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(bimg_pread(kid, buf, sizeof(buf), 2 * MiB), 0);
	cr_assert(all_bytes(buf, sizeof(buf), 'r'));
	bimg_close(kid);
	cr_assert_eq(bimg_parents_count(), 0);
}

Test(bimg, snapshot_leaves_the_image_untouched)
{
	struct bimg *img;
	char buf[4096], before[65], after[65], cmd[512];
	FILE *f;

	make_parent(path_in("base.vhd"));
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path_in("base.vhd"));
	f = popen(cmd, "r");
	cr_assert(fgets(before, sizeof(before), f));
	pclose(f);
	setenv("TMPDIR", dir, 1);
	cr_assert_eq(bimg_open(path_in("base.vhd"), BIMG_OPEN_SNAPSHOT, &img), 0, "%s",
		     bimg_last_error());
	cr_assert(bimg_writable(img));
	memset(buf, 'S', sizeof(buf));
	cr_assert_eq(bimg_pwrite(img, buf, sizeof(buf), 0), 0);
	cr_assert_eq(bimg_pread(img, buf, sizeof(buf), MiB), 0);
	cr_assert(all_bytes(buf, sizeof(buf), (char)0xA5), "snapshot reads the image");
	bimg_close(img);
	unsetenv("TMPDIR");
	f = popen(cmd, "r");
	cr_assert(fgets(after, sizeof(after), f));
	pclose(f);
	cr_assert_str_eq(before, after, "image changed under --snapshot");
	snprintf(cmd, sizeof(cmd), "ls %s | grep -c vhd-snapshot", dir);
	f = popen(cmd, "r");
	cr_assert(fgets(after, sizeof(after), f));
	pclose(f);
	cr_assert_str_eq(after, "0\n", "snapshot folder left behind");
}

struct count {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, errors;
};

static void count_done(struct ioq_req *req)
{
	struct count *c = req->opaque;

	pthread_mutex_lock(&c->lock);
	c->done++;
	c->errors += req->result != 0;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

Test(bimg, ioq_runs_many_requests_in_parallel)
{
	enum { N = 256 };
	static struct ioq_req reqs[N];
	static struct iovec iov[N];
	static char bufs[N][4096];
	struct count c = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct bimg *img;
	struct ioq *q;

	make_raw(path_in("q.img"), N * 4096);
	cr_assert_eq(bimg_open(path_in("q.img"), BIMG_OPEN_RDWR, &img), 0);
	cr_assert_eq(ioq_create(4, &q), 0);
	for (int i = 0; i < N; i++) {
		memset(bufs[i], i, 4096);
		iov[i] = (struct iovec){ bufs[i], 4096 };
		reqs[i] = (struct ioq_req){ .op = IOQ_WRITE, .img = img, .off = (uint64_t)i * 4096,
					    .iov = &iov[i], .iovcnt = 1, .done = count_done,
					    .opaque = &c, .flags = i % 64 == 0 ? IOQ_FUA : 0 };
		ioq_submit(q, &reqs[i]);
	}
	pthread_mutex_lock(&c.lock);
	while (c.done < N)
		pthread_cond_wait(&c.cond, &c.lock);
	pthread_mutex_unlock(&c.lock);
	cr_assert_eq(c.errors, 0);
	/* a flush, a read, and a request outside the image */
	reqs[0] = (struct ioq_req){ .op = IOQ_FLUSH, .img = img };
	cr_assert_eq(ioq_exec(&reqs[0]), 0);
	for (int i = 0; i < N; i++) {
		char b[4096];

		cr_assert_eq(bimg_pread(img, b, 4096, (uint64_t)i * 4096), 0);
		cr_assert(all_bytes(b, 4096, (char)i), "block %d", i);
	}
	reqs[0] = (struct ioq_req){ .op = IOQ_READ, .img = img, .off = N * 4096,
				    .iov = &iov[0], .iovcnt = 1 };
	cr_assert_eq(ioq_exec(&reqs[0]), -EINVAL);
	ioq_destroy(q);
	ioq_destroy(NULL);
	bimg_close(img);
}
