/* tests/unit/blkback/test_ratelimit.c: the disk rate limiter on a fake
 * clock (sleeping advances it): rates, bursts, debt for large requests,
 * what counts as a write, changes while a request waits, 0 = unlimited,
 * the option parser; and one real-clock check that rl_set() wakes a
 * waiter. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blkback/ratelimit.h"

static uint64_t now_ns;
static unsigned sleeps;
static struct rl *hook_rl;
static struct rl_limits hook_lim;

static uint64_t fake_now(void *o) { (void)o; return now_ns; }

static void fake_sleep(void *o, uint64_t ns)
{
	(void)o;
	sleeps++;
	if (hook_rl && sleeps == 1) {
		now_ns += ns / 4;  /* a quarter of the way, the limit changes */
		cr_assert_eq(rl_set(hook_rl, &hook_lim), 0);
		return;
	}
	now_ns += ns;
}

static const struct rl_clock fake = { fake_now, fake_sleep, NULL };

static struct rl *mk(const char *spec)
{
	struct rl_limits lim = { 0 };
	char err[128];
	struct rl *r;

	now_ns = 1000000000ull;
	sleeps = 0;
	hook_rl = NULL;
	cr_assert_eq(rl_parse(spec, &lim, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rl_create(&lim, &fake, &r), 0);
	return r;
}

static double elapsed_s(void) { return (double)(now_ns - 1000000000ull) / 1e9; }

Test(ratelimit, unlimited_never_waits)
{
	struct rl *r;

	now_ns = 0;
	sleeps = 0;
	cr_assert_eq(rl_create(NULL, &fake, &r), 0);
	for (int i = 0; i < 100000; i++) {
		rl_acquire(r, IOQ_WRITE, 1 << 20);
		rl_acquire(r, IOQ_READ, 1 << 20);
	}
	cr_assert_eq(sleeps, 0);
	cr_assert_eq(now_ns, 0);
	rl_destroy(r);
}

Test(ratelimit, bytes_rate)
{
	struct rl *r = mk("wbps=20M");

	/* default burst 2 MiB: 2 go at once, then 20 MiB/s */
	for (int i = 0; i < 2 + 200; i++)
		rl_acquire(r, IOQ_WRITE, 1 << 20);
	cr_assert(elapsed_s() > 9.99 && elapsed_s() < 10.01, "%f", elapsed_s());
	rl_acquire(r, IOQ_READ, 100 << 20);   /* reads are not limited */
	cr_assert(elapsed_s() < 10.01);
	rl_destroy(r);
}

Test(ratelimit, ops_rate_4k)
{
	struct rl *r = mk("wiops=500");

	/* default burst 50 ops */
	for (int i = 0; i < 50 + 1000; i++)
		rl_acquire(r, IOQ_WRITE, 4096);
	cr_assert(elapsed_s() > 1.99 && elapsed_s() < 2.01, "%f", elapsed_s());
	rl_destroy(r);
}

Test(ratelimit, both_buckets_the_slower_wins)
{
	struct rl *r = mk("rbps=1M,riops=1000,rbps_burst=64K,riops_burst=1");

	/* 64 KiB reads: the byte rate allows 16/s, ops 1000/s */
	for (int i = 0; i < 1 + 160; i++)
		rl_acquire(r, IOQ_READ, 65536);
	cr_assert(elapsed_s() > 9.99 && elapsed_s() < 10.01, "%f", elapsed_s());
	rl_destroy(r);
}

Test(ratelimit, burst_goes_at_once_then_rate)
{
	struct rl *r = mk("wiops=100,wiops_burst=20");

	for (int i = 0; i < 20; i++)
		rl_acquire(r, IOQ_WRITE, 512);
	cr_assert_eq(sleeps, 0);
	cr_assert_eq(elapsed_s(), 0);
	rl_acquire(r, IOQ_WRITE, 512);
	cr_assert(elapsed_s() > 0.0099 && elapsed_s() < 0.0101, "%f", elapsed_s());
	/* idle refills to the burst, not beyond */
	now_ns += 10ull * 1000000000u;
	for (int i = 0; i < 20; i++)
		rl_acquire(r, IOQ_WRITE, 512);
	cr_assert(elapsed_s() < 10.02);
	rl_acquire(r, IOQ_WRITE, 512);
	cr_assert(elapsed_s() > 10.019, "%f", elapsed_s());
	rl_destroy(r);
}

Test(ratelimit, larger_than_burst_goes_into_debt)
{
	struct rl *r = mk("wbps=1M,wbps_burst=1M");

	rl_acquire(r, IOQ_WRITE, 10 << 20);   /* full bucket: goes */
	cr_assert_eq(elapsed_s(), 0);
	rl_acquire(r, IOQ_WRITE, 4096);       /* waits the 9 MiB of debt off */
	cr_assert(elapsed_s() > 9.0 && elapsed_s() < 9.01, "%f", elapsed_s());
	rl_destroy(r);
}

Test(ratelimit, what_counts)
{
	struct rl *r = mk("wbps=1M,wiops=10,wiops_burst=1,wbps_burst=1M");

	/* discard and write-zeroes: ops, no bytes; flush: free */
	for (int i = 0; i < 100; i++)
		rl_acquire(r, IOQ_FLUSH, 0);
	cr_assert_eq(elapsed_s(), 0);
	rl_acquire(r, IOQ_DISCARD, 1ull << 30);
	rl_acquire(r, IOQ_WRITE_ZEROES, 1ull << 30);
	cr_assert(elapsed_s() > 0.099 && elapsed_s() < 0.101, "%f", elapsed_s());
	rl_acquire(r, IOQ_WRITE_ZEROES, 1ull << 30);
	cr_assert(elapsed_s() > 0.199 && elapsed_s() < 0.201, "%f", elapsed_s());
	rl_destroy(r);
}

Test(ratelimit, change_while_waiting_takes_effect_at_once)
{
	struct rl *r = mk("wiops=1,wiops_burst=1");
	char err[64];

	rl_acquire(r, IOQ_WRITE, 512);        /* empties the bucket */
	hook_rl = r;
	memset(&hook_lim, 0, sizeof(hook_lim));
	cr_assert_eq(rl_parse("wiops=1000,wiops_burst=1", &hook_lim, err, sizeof(err)), 0);
	rl_acquire(r, IOQ_WRITE, 512);
	/* at 1/s it would be 1 s; the change came at 0.1 s (a quarter of the
	 * first 100 ms nap) with 0.025 tokens, the rest at 1000/s */
	cr_assert(elapsed_s() < 0.027, "%f", elapsed_s());
	hook_rl = NULL;
	for (int i = 0; i < 1000; i++)
		rl_acquire(r, IOQ_WRITE, 512);
	cr_assert(elapsed_s() > 1.0 && elapsed_s() < 1.03, "%f", elapsed_s());
	rl_destroy(r);
}

Test(ratelimit, change_to_slower_and_to_unlimited)
{
	struct rl *r = mk("rbps=10M,rbps_burst=1M");
	struct rl_limits lim = { 0 };

	for (int i = 0; i < 1 + 10; i++)
		rl_acquire(r, IOQ_READ, 1 << 20);
	cr_assert(elapsed_s() > 0.99 && elapsed_s() < 1.01);
	lim.dir[RL_READ].bps = 1 << 20;
	lim.dir[RL_READ].bps_burst = 1 << 20;
	cr_assert_eq(rl_set(r, &lim), 0);
	for (int i = 0; i < 5; i++)
		rl_acquire(r, IOQ_READ, 1 << 20);
	cr_assert(elapsed_s() > 5.9 && elapsed_s() < 6.01, "%f", elapsed_s());
	memset(&lim, 0, sizeof(lim));
	cr_assert_eq(rl_set(r, &lim), 0);
	sleeps = 0;
	for (int i = 0; i < 1000; i++)
		rl_acquire(r, IOQ_READ, 1 << 20);
	cr_assert_eq(sleeps, 0);
	rl_get(r, &lim);
	cr_assert_eq(lim.dir[RL_READ].bps, 0);
	rl_destroy(r);
}

Test(ratelimit, parse)
{
	struct rl_limits lim = { 0 };
	char err[128];

	cr_assert_eq(rl_parse("rbps=20M,wbps=1G,riops=500,wiops=7,wbps_burst=4k", &lim,
			      err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(lim.dir[RL_READ].bps, 20u << 20);
	cr_assert_eq(lim.dir[RL_WRITE].bps, 1u << 30);
	cr_assert_eq(lim.dir[RL_READ].iops, 500);
	cr_assert_eq(lim.dir[RL_WRITE].iops, 7);
	cr_assert_eq(lim.dir[RL_WRITE].bps_burst, 4096);
	const char *bad[] = { "", "rbps", "rbps=", "rbps=x", "xbps=1", "rbps=1T",
			      "rbps=1,", "wiops=0,wiops_burst=5", "rbps=-1",
			      "rbps=99999999999999999999" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rl_limits before = lim;

		cr_assert_eq(rl_parse(bad[i], &lim, err, sizeof(err)), -EINVAL, "%s", bad[i]);
		cr_assert(err[0]);
		cr_assert_eq(memcmp(&before, &lim, sizeof(lim)), 0);
	}
	lim = (struct rl_limits){ 0 };
	lim.dir[RL_READ].bps_burst = 5;
	struct rl *r;
	cr_assert_eq(rl_create(&lim, NULL, &r), -EINVAL);
}

static void *unlimit_later(void *arg)
{
	struct rl_limits none = { 0 };

	usleep(100000);
	rl_set(arg, &none);
	return NULL;
}

Test(ratelimit, real_clock_set_wakes_a_waiter)
{
	struct rl_limits lim = { 0 };
	struct timespec a, b;
	pthread_t t;
	struct rl *r;

	lim.dir[RL_WRITE].iops = 1;
	lim.dir[RL_WRITE].iops_burst = 1;
	cr_assert_eq(rl_create(&lim, NULL, &r), 0);
	rl_acquire(r, IOQ_WRITE, 1);
	clock_gettime(CLOCK_MONOTONIC, &a);
	pthread_create(&t, NULL, unlimit_later, r);
	rl_acquire(r, IOQ_WRITE, 1);          /* would wait 1 s at 1/s */
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_join(t, NULL);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	cr_assert(s >= 0.09 && s < 0.7, "%f", s);
	rl_destroy(r);
}
