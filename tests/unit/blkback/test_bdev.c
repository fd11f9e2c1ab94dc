/* tests/unit/blkback/test_bdev.c: the block device object: requests go
 * through the engine to the image and come back through the front end's
 * done callback; every kind is counted with its bytes, failures are
 * counted as errors, and nothing stays in flight. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkback/bdev.h"
#include "blkback/bimg.h"
#include "blkback/ioq.h"

static char dir[] = "/tmp/bdevtest.XXXXXX";
static struct bimg *img;
static struct ioq *q;
static struct bdev *dev;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned finished;

static void setup(void)
{
	char path[256];
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk.raw", dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	cr_assert_eq(bimg_open(path, BIMG_OPEN_RDWR, &img), 0);
	cr_assert_eq(ioq_create(2, &q), 0);
	cr_assert_eq(bdev_create(img, q, &dev), 0);
}

static void teardown(void)
{
	char cmd[300];

	ioq_destroy(q);
	bdev_destroy(dev);
	bimg_close(img);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static void done(struct bdev_req *r)
{
	(void)r;
	pthread_mutex_lock(&lock);
	finished++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

/* Submits @r and waits for its done callback; returns its result. */
static int run(struct bdev_req *r)
{
	unsigned want;

	pthread_mutex_lock(&lock);
	want = finished + 1;
	pthread_mutex_unlock(&lock);
	r->done = done;
	bdev_submit(dev, r);
	pthread_mutex_lock(&lock);
	while (finished < want)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return r->io.result;
}

TestSuite(bdev, .init = setup, .fini = teardown);

Test(bdev, requests_are_counted)
{
	static char wbuf[8192], rbuf[8192];
	struct iovec w = { wbuf, sizeof(wbuf) }, rd = { rbuf, sizeof(rbuf) };
	struct bdev_req r = { 0 };
	struct bdev_stats st;

	memset(wbuf, 0xa5, sizeof(wbuf));
	cr_assert_eq(bdev_size(dev), 1 << 20);
	cr_assert(bdev_writable(dev));
	r.io = (struct ioq_req){ .op = IOQ_WRITE, .off = 4096, .iov = &w, .iovcnt = 1 };
	cr_assert_eq(run(&r), 0);
	r.io = (struct ioq_req){ .op = IOQ_READ, .off = 4096, .iov = &rd, .iovcnt = 1 };
	cr_assert_eq(run(&r), 0);
	cr_assert_eq(memcmp(wbuf, rbuf, sizeof(rbuf)), 0);
	r.io = (struct ioq_req){ .op = IOQ_FLUSH };
	cr_assert_eq(run(&r), 0);
	r.io = (struct ioq_req){ .op = IOQ_WRITE_ZEROES, .off = 4096, .len = 512 };
	cr_assert_eq(run(&r), 0);
	r.io = (struct ioq_req){ .op = IOQ_DISCARD, .off = 0, .len = 65536 };
	cr_assert_eq(run(&r), 0);
	r.io = (struct ioq_req){ .op = IOQ_READ, .off = 1 << 20, .iov = &rd, .iovcnt = 1 };
	cr_assert_eq(run(&r), -EINVAL);     /* past the end */
	bdev_stats_get(dev, &st);
	cr_assert_eq(st.ops[IOQ_WRITE], 1);
	cr_assert_eq(st.bytes[IOQ_WRITE], 8192);
	cr_assert_eq(st.ops[IOQ_READ], 2);
	cr_assert_eq(st.bytes[IOQ_READ], 16384);
	cr_assert_eq(st.ops[IOQ_FLUSH], 1);
	cr_assert_eq(st.ops[IOQ_WRITE_ZEROES], 1);
	cr_assert_eq(st.bytes[IOQ_WRITE_ZEROES], 512);
	cr_assert_eq(st.ops[IOQ_DISCARD], 1);
	cr_assert_eq(st.bytes[IOQ_DISCARD], 65536);
	cr_assert_eq(st.errors, 1);
	cr_assert_eq(st.inflight, 0);
	cr_assert_eq(bdev_image(dev), img);
}
