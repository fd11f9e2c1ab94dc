/* blkback/ratelimit.c: token buckets for a disk (see ratelimit.h).
 *
 * Each direction has two buckets (bytes, ops). A bucket holds tokens up to
 * its burst and refills at its rate; a request goes when every bucket of
 * its direction holds min(cost, burst) and then takes its full cost (a
 * bucket may go negative: debt paid back at the rate). Waiters sleep on a
 * condition variable for the time the largest deficit needs at the current
 * rate; rl_set() wakes them to recompute. */
#include "blkback/ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>

#define RL_NS 1000000000.0
#define RL_MAX_WAIT_NS 100000000u  /* recheck at least every 100 ms */

struct rl_bucket {
	double rate;    /* tokens per second, 0 = unlimited */
	double burst;
	double tokens;
};

struct rl {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct rl_clock clock;
	bool fake;
	struct rl_limits lim;
	struct rl_bucket b[RL_NDIRS][2];  /* [dir][0 bytes, 1 ops] */
	uint64_t last_ns;
	int limited[RL_NDIRS];            /* atomic: any rate in the direction */
};

static uint64_t rl_mono_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int rl_check(const struct rl_limits *lim)
{
	for (int d = 0; d < RL_NDIRS; d++) {
		const struct rl_dir_limits *l = &lim->dir[d];

		if ((l->bps_burst && !l->bps) || (l->iops_burst && !l->iops))
			return -EINVAL;
	}
	return 0;
}

/* Brings every bucket to @now at its current rate. Lock held. */
static void rl_refill(struct rl *r, uint64_t now)
{
	double dt = now > r->last_ns ? (double)(now - r->last_ns) / RL_NS : 0;

	r->last_ns = now > r->last_ns ? now : r->last_ns;
	for (int d = 0; d < RL_NDIRS; d++)
		for (int k = 0; k < 2; k++) {
			struct rl_bucket *b = &r->b[d][k];

			if (!b->rate)
				continue;
			b->tokens += b->rate * dt;
			if (b->tokens > b->burst)
				b->tokens = b->burst;
		}
}

/* Installs @lim at @now. Lock held. */
static void rl_apply(struct rl *r, const struct rl_limits *lim, uint64_t now)
{
	rl_refill(r, now);
	r->lim = *lim;
	for (int d = 0; d < RL_NDIRS; d++) {
		const struct rl_dir_limits *l = &lim->dir[d];
		double rate[2] = { (double)l->bps, (double)l->iops };
		double burst[2] = { (double)l->bps_burst, (double)l->iops_burst };
		double floor[2] = { 1048576.0, 1.0 };

		for (int k = 0; k < 2; k++) {
			struct rl_bucket *b = &r->b[d][k];
			bool was = b->rate != 0;

			if (!burst[k]) {
				burst[k] = rate[k] / 10;
				if (burst[k] < floor[k])
					burst[k] = floor[k];
			}
			b->rate = rate[k];
			b->burst = burst[k];
			if (!was || b->tokens > b->burst)
				b->tokens = b->burst;   /* newly limited: start full */
		}
		__atomic_store_n(&r->limited[d], l->bps || l->iops, __ATOMIC_RELEASE);
	}
}

int rl_create(const struct rl_limits *lim, const struct rl_clock *clock, struct rl **out)
{
	struct rl_limits none = { 0 };
	struct rl *r;

	if (!lim)
		lim = &none;
	if (rl_check(lim))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&r->changed, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (clock) {
		r->clock = *clock;
		r->fake = true;
	} else {
		r->clock.now = rl_mono_ns;
	}
	r->last_ns = r->clock.now(r->clock.opaque);
	rl_apply(r, lim, r->last_ns);
	*out = r;
	return 0;
}

void rl_destroy(struct rl *r)
{
	if (!r)
		return;
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int rl_set(struct rl *r, const struct rl_limits *lim)
{
	if (rl_check(lim))
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	rl_apply(r, lim, r->clock.now(r->clock.opaque));
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void rl_get(struct rl *r, struct rl_limits *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->lim;
	pthread_mutex_unlock(&r->lock);
}

/* Nanoseconds until @cost fits @b (0: now). */
static uint64_t rl_wait_ns(const struct rl_bucket *b, double cost)
{
	double need = cost < b->burst ? cost : b->burst;

	if (!b->rate || b->tokens >= need)
		return 0;
	return (uint64_t)((need - b->tokens) / b->rate * RL_NS) + 1;
}

static void rl_sleep(struct rl *r, uint64_t ns)
{
	struct timespec ts;
	uint64_t at;

	if (r->fake) {
		pthread_mutex_unlock(&r->lock);
		r->clock.sleep(r->clock.opaque, ns);
		pthread_mutex_lock(&r->lock);
		return;
	}
	at = rl_mono_ns(NULL) + ns;
	ts.tv_sec = (time_t)(at / 1000000000u);
	ts.tv_nsec = (long)(at % 1000000000u);
	pthread_cond_timedwait(&r->changed, &r->lock, &ts);
}

void rl_acquire(struct rl *r, enum ioq_op op, uint64_t bytes)
{
	enum rl_dir d;
	double cost[2];

	switch (op) {
	case IOQ_READ:
		d = RL_READ;
		break;
	case IOQ_WRITE:
		d = RL_WRITE;
		break;
	case IOQ_WRITE_ZEROES:
	case IOQ_DISCARD:
		d = RL_WRITE;
		bytes = 0;
		break;
	default:
		return;
	}
	if (!__atomic_load_n(&r->limited[d], __ATOMIC_ACQUIRE))
		return;
	cost[0] = (double)bytes;
	cost[1] = 1;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		uint64_t w = 0;

		rl_refill(r, r->clock.now(r->clock.opaque));
		for (int k = 0; k < 2; k++) {
			uint64_t wk = rl_wait_ns(&r->b[d][k], cost[k]);

			w = wk > w ? wk : w;
		}
		if (!w)
			break;
		rl_sleep(r, w < RL_MAX_WAIT_NS ? w : RL_MAX_WAIT_NS);
	}
	for (int k = 0; k < 2; k++)
		if (r->b[d][k].rate)
			r->b[d][k].tokens -= cost[k];
	pthread_mutex_unlock(&r->lock);
}

void rl_limit(void *opaque, const struct ioq_req *io)
{
	uint64_t n = 0;

	if (io->op == IOQ_READ || io->op == IOQ_WRITE)
		for (int i = 0; i < io->iovcnt; i++)
			n += io->iov[i].iov_len;
	rl_acquire(opaque, io->op, n);
}
