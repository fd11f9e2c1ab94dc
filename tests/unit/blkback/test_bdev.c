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
#include <time.h>
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

/* Every finished request lands in exactly one latency bucket. */
Test(bdev, latency_histogram_counts_every_request)
{
	static char buf[4096];
	struct iovec v = { buf, sizeof(buf) };
	struct bdev_req r = { 0 };
	struct bdev_stats st;
	uint64_t sum = 0, ops = 0;

	for (int i = 0; i < 10; i++) {
		r.io = (struct ioq_req){ .op = i % 2 ? IOQ_READ : IOQ_WRITE, .off = 4096u * i,
					 .iov = &v, .iovcnt = 1 };
		cr_assert_eq(run(&r), 0);
	}
	cr_assert_eq(bdev_flush(dev), 0);
	bdev_stats_get(dev, &st);
	for (unsigned i = 0; i < BDEV_LAT_BUCKETS; i++)
		sum += st.lat[i];
	for (unsigned i = 0; i < BDEV_NOPS; i++)
		ops += st.ops[i];
	cr_assert_eq(ops, 11);
	cr_assert_eq(st.ops[IOQ_FLUSH], 1);
	cr_assert_eq(sum, 11);
	/* Nothing takes 4 s here: the last bucket is empty. */
	cr_assert_eq(st.lat[BDEV_LAT_BUCKETS - 1], 0);
}

/* A closed gate holds new requests (neither run nor refused) and lets
 * them run when it opens. */
Test(bdev, closed_gate_holds_requests_until_resume)
{
	static char wbuf[3][4096], rbuf[4096];
	struct iovec w[3], rd = { rbuf, sizeof(rbuf) };
	struct bdev_req r[3], rr = { 0 };
	struct bdev_stats st;

	bdev_quiesce(dev);
	pthread_mutex_lock(&lock);
	finished = 0;
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < 3; i++) {
		memset(wbuf[i], 'a' + i, sizeof(wbuf[i]));
		w[i] = (struct iovec){ wbuf[i], sizeof(wbuf[i]) };
		/* all three to the same place: the last one wins if kept in order */
		r[i] = (struct bdev_req){ .io = { .op = IOQ_WRITE, .off = 0, .iov = &w[i],
						  .iovcnt = 1 }, .done = done };
		bdev_submit(dev, &r[i]);
	}
	usleep(50 * 1000);
	bdev_stats_get(dev, &st);
	cr_assert_eq(st.inflight, 3);
	cr_assert_eq(st.ops[IOQ_WRITE], 0, "a write ran through a closed gate");
	pthread_mutex_lock(&lock);
	cr_assert_eq(finished, 0);
	pthread_mutex_unlock(&lock);
	/* Resuming hands them to the engine (2 workers: in any order). */
	bdev_resume(dev);
	pthread_mutex_lock(&lock);
	while (finished < 3)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	bdev_stats_get(dev, &st);
	cr_assert_eq(st.ops[IOQ_WRITE], 3);
	cr_assert_eq(st.inflight, 0);
	rr.io = (struct ioq_req){ .op = IOQ_READ, .off = 0, .iov = &rd, .iovcnt = 1 };
	cr_assert_eq(run(&rr), 0);
	cr_assert(rbuf[0] >= 'a' && rbuf[0] <= 'c');
}

/* bdev_quiesce() returns only once every request already on the engine
 * has run. */
Test(bdev, quiesce_drains_requests_in_flight)
{
	enum { N = 64 };
	static char buf[N][65536];
	static struct iovec v[N];
	static struct bdev_req r[N];
	struct bdev_stats st;

	pthread_mutex_lock(&lock);
	finished = 0;
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < N; i++) {
		v[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		r[i] = (struct bdev_req){ .io = { .op = IOQ_WRITE, .off = 65536u * (i % 16),
						  .iov = &v[i], .iovcnt = 1, .flags = IOQ_FUA },
					  .done = done };
		bdev_submit(dev, &r[i]);
	}
	bdev_quiesce(dev);
	bdev_stats_get(dev, &st);
	cr_assert_eq(st.ops[IOQ_WRITE], N, "quiesce returned with writes still running");
	bdev_resume(dev);
	pthread_mutex_lock(&lock);
	while (finished < N)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

/* A trivial limiter: counts what it sees and delays each request by
 * 20 ms; five requests take at least 100 ms. */
struct limiter {
	unsigned calls;
	uint64_t bytes;
};

static void slow_limiter(void *opaque, const struct ioq_req *io)
{
	struct limiter *l = opaque;

	l->calls++;
	for (int i = 0; i < io->iovcnt; i++)
		l->bytes += io->iov[i].iov_len;
	usleep(20 * 1000);
}

Test(bdev, limiter_sees_and_delays_every_request)
{
	static char buf[4096];
	struct iovec v = { buf, sizeof(buf) };
	struct bdev_req r = { 0 };
	struct limiter l = { 0 };
	struct timespec a, b;
	double ms;

	bdev_set_limiter(dev, slow_limiter, &l);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 5; i++) {
		r.io = (struct ioq_req){ .op = IOQ_WRITE, .off = 4096u * i, .iov = &v, .iovcnt = 1 };
		cr_assert_eq(run(&r), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	cr_assert_eq(l.calls, 5);
	cr_assert_eq(l.bytes, 5 * 4096);
	cr_assert_geq(ms, 100.0, "5 requests delayed 20 ms each took %.1f ms", ms);
	bdev_set_limiter(dev, NULL, NULL);
	cr_assert_eq(bdev_flush(dev), 0);
	cr_assert_eq(l.calls, 5);
}

/* A hold (work on the image outside the engine) waits for a closed gate
 * and makes a quiesce wait for it. */
static void *hold_thread(void *arg)
{
	struct bimg **got = arg;

	*got = bdev_hold(dev);
	bdev_unhold(dev);
	return NULL;
}

struct quiescer {
	pthread_t t;
	bool returned;
};

static void *quiesce_thread(void *arg)
{
	struct quiescer *qz = arg;

	bdev_quiesce(dev);
	__atomic_store_n(&qz->returned, true, __ATOMIC_RELEASE);
	return NULL;
}

Test(bdev, holds_wait_for_the_gate_and_quiesce_waits_for_holds)
{
	struct bimg *got = NULL;
	struct quiescer qz = { 0 };
	pthread_t t;

	cr_assert_eq(bdev_hold(dev), img);
	cr_assert_eq(pthread_create(&qz.t, NULL, quiesce_thread, &qz), 0);
	usleep(50 * 1000);
	cr_assert_not(__atomic_load_n(&qz.returned, __ATOMIC_ACQUIRE),
		      "quiesce returned while the image was held");
	bdev_unhold(dev);
	pthread_join(qz.t, NULL);
	cr_assert(qz.returned);
	/* the gate is closed now: a new hold waits for the resume */
	cr_assert_eq(pthread_create(&t, NULL, hold_thread, &got), 0);
	usleep(50 * 1000);
	cr_assert_null(got, "a hold went through a closed gate");
	bdev_resume(dev);
	pthread_join(t, NULL);
	cr_assert_eq(got, img);
}
