/* blkback/ratelimit.h: a disk rate limiter: token buckets for bytes/s and
 * requests/s, each with a burst, separately for reads and writes. It plugs
 * into bdev_set_limiter() (rl_limit() is a bdev_limit_fn) and makes the
 * submitting thread wait until its request fits.
 *
 * What counts: READ is a read (bytes and one op). WRITE is a write (bytes
 * and one op). WRITE_ZEROES and DISCARD are write ops but carry no bytes
 * (they move no data; counting their length would make a 1 GiB discard
 * take a minute). FLUSH is not limited.
 *
 * A rate of 0 is unlimited; a direction with all rates 0 costs one atomic
 * load per request. A burst of 0 takes the default: a tenth of a second at
 * the rate (at least one 1 MiB request's bytes, at least one op). A request
 * larger than the burst goes once the bucket is full and leaves it in
 * debt, so the long-run rate holds for any request size.
 *
 * Limits change at any time (rl_set()): waiters wake and recompute under
 * the new rates at once, so nobody waits longer than the new rate needs.
 * Thread-safe. */
#ifndef VHDVISOR_BLKBACK_RATELIMIT_H
#define VHDVISOR_BLKBACK_RATELIMIT_H

#include <stdint.h>

#include "blkback/ioq.h"

enum rl_dir { RL_READ, RL_WRITE, RL_NDIRS };

struct rl_dir_limits {
	uint64_t bps;         /* bytes per second, 0 = unlimited */
	uint64_t iops;        /* requests per second, 0 = unlimited */
	uint64_t bps_burst;   /* bytes, 0 = default */
	uint64_t iops_burst;  /* requests, 0 = default */
};

struct rl_limits {
	struct rl_dir_limits dir[RL_NDIRS];
};

/* A fake clock for tests: now() in nanoseconds; sleep() is called without
 * the limiter's lock held and should advance now() by about @ns. */
struct rl_clock {
	uint64_t (*now)(void *opaque);
	void (*sleep)(void *opaque, uint64_t ns);
	void *opaque;
};

struct rl;

/* A limiter with @lim (NULL: unlimited). @clock NULL: CLOCK_MONOTONIC and
 * real waits. 0 or -errno (-EINVAL for a burst given without its rate). */
int rl_create(const struct rl_limits *lim, const struct rl_clock *clock, struct rl **out);
void rl_destroy(struct rl *r);  /* no waiters left; accepts NULL */

/* New limits, effective for waiting and future requests at once. 0 or
 * -EINVAL (nothing changed). */
int rl_set(struct rl *r, const struct rl_limits *lim);
/* The limits as set (bursts as given, 0 = default). */
void rl_get(struct rl *r, struct rl_limits *out);

/* Waits until an @op of @bytes fits, then takes its tokens. */
void rl_acquire(struct rl *r, enum ioq_op op, uint64_t bytes);

/* bdev_limit_fn: @opaque is a struct rl. */
void rl_limit(void *opaque, const struct ioq_req *io);

/* Parses "rbps=20M,wbps=20M,riops=500,wiops=500,rbps_burst=4M,..." (keys:
 * rbps wbps riops wiops, each optionally with _burst; sizes take K M G
 * suffixes, powers of 1024) into @lim, starting from its current content.
 * 0 or -EINVAL with @err filled. */
int rl_parse(const char *s, struct rl_limits *lim, char *err, size_t cap);

#endif
