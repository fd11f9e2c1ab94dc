/* appliance/metrics_ring.h: the in-memory history of one metrics series
 * (a VM's or the host's): samples of a fixed set of fields, one per
 * second, in a ring of fixed size, and their minute aggregates. Pure data
 * structures, no I/O, no locking (metrics.c locks). A field's value is a
 * double; NAN is a missing value (JSON null). */
#ifndef VV_APPLIANCE_METRICS_RING_H
#define VV_APPLIANCE_METRICS_RING_H

#include <stdint.h>

enum mx_kind {
	MX_COUNTER,     /* grows (bytes, ops, CPU ns): a minute keeps its last value */
	MX_GAUGE,       /* a level (bytes in use, load, %): a minute keeps its mean */
};

struct mx_ring {
	unsigned nfields, cap;
	unsigned head;          /* where the next sample goes */
	unsigned count;         /* samples held, <= cap */
	int64_t *t;             /* cap times */
	double *v;              /* cap * nfields values */
};

/* A ring of @cap samples of @nfields fields. 0 or -ENOMEM/-EINVAL. */
int mx_ring_init(struct mx_ring *r, unsigned nfields, unsigned cap);
void mx_ring_free(struct mx_ring *r);

/* Adds a sample taken at @t (seconds); the oldest goes when the ring is
 * full. A sample at the newest sample's time replaces it; an older one is
 * dropped (-ERANGE: the clock went back). 0 or -ERANGE. */
int mx_ring_push(struct mx_ring *r, int64_t t, const double *v);

/* The @i-th oldest sample (i < count): its values, its time in *@t. */
const double *mx_ring_at(const struct mx_ring *r, unsigned i, int64_t *t);

/* The index (for mx_ring_at) of the oldest sample at or after @since;
 * count when there is none. */
unsigned mx_ring_since(const struct mx_ring *r, int64_t since);

/* Minute aggregation of the samples pushed into it. */
struct mx_agg {
	unsigned nfields;
	int64_t minute;         /* start (seconds) of the minute being summed; -1 none */
	unsigned *n;            /* per field: values summed (not NAN) */
	double *sum, *last;
};

int mx_agg_init(struct mx_agg *a, unsigned nfields);
void mx_agg_free(struct mx_agg *a);

/* Adds a sample at @t. When @t is in a later minute than the samples so
 * far, the finished minute's aggregate goes to *@out_t (the minute's
 * start) and @out (nfields values: counters their last value, gauges
 * their mean, NAN when the minute had no value) and 1 is returned; else
 * 0. A sample older than the minute being summed is ignored (0). */
int mx_agg_add(struct mx_agg *a, const enum mx_kind *kinds, int64_t t, const double *v,
	       int64_t *out_t, double *out);

/* The minute being summed so far, as mx_agg_add() would give it. 1 with
 * *@out_t and @out, or 0 when nothing was added. */
int mx_agg_peek(const struct mx_agg *a, const enum mx_kind *kinds, int64_t *out_t,
		double *out);

#endif
