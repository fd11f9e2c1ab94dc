/* appliance/metrics_ring.c: see metrics_ring.h. */
#include "appliance/metrics_ring.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int mx_ring_init(struct mx_ring *r, unsigned nfields, unsigned cap)
{
	memset(r, 0, sizeof(*r));
	if (!cap || !nfields)
		return -EINVAL;
	r->t = calloc(cap, sizeof(*r->t));
	r->v = calloc((size_t)cap * nfields, sizeof(*r->v));
	if (!r->t || !r->v) {
		mx_ring_free(r);
		return -ENOMEM;
	}
	r->nfields = nfields;
	r->cap = cap;
	return 0;
}

void mx_ring_free(struct mx_ring *r)
{
	free(r->t);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int mx_ring_push(struct mx_ring *r, int64_t t, const double *v)
{
	unsigned slot = r->head;

	if (r->count) {
		unsigned newest = (r->head + r->cap - 1) % r->cap;

		if (t < r->t[newest])
			return -ERANGE;
		if (t == r->t[newest])
			slot = newest;
	}
	r->t[slot] = t;
	memcpy(r->v + (size_t)slot * r->nfields, v, r->nfields * sizeof(*v));
	if (slot == r->head) {
		r->head = (r->head + 1) % r->cap;
		if (r->count < r->cap)
			r->count++;
	}
	return 0;
}

const double *mx_ring_at(const struct mx_ring *r, unsigned i, int64_t *t)
{
	unsigned slot = (r->head + r->cap - r->count + i) % r->cap;

	*t = r->t[slot];
	return r->v + (size_t)slot * r->nfields;
}

unsigned mx_ring_since(const struct mx_ring *r, int64_t since)
{
	unsigned lo = 0, hi = r->count;

	while (lo < hi) {       /* times only grow: binary search */
		unsigned mid = lo + (hi - lo) / 2;
		int64_t t;

		mx_ring_at(r, mid, &t);
		if (t < since)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int mx_agg_init(struct mx_agg *a, unsigned nfields)
{
	memset(a, 0, sizeof(*a));
	a->n = calloc(nfields, sizeof(*a->n));
	a->sum = calloc(nfields, sizeof(*a->sum));
	a->last = calloc(nfields, sizeof(*a->last));
	if (!nfields || !a->n || !a->sum || !a->last) {
		mx_agg_free(a);
		return nfields ? -ENOMEM : -EINVAL;
	}
	a->nfields = nfields;
	a->minute = -1;
	return 0;
}

void mx_agg_free(struct mx_agg *a)
{
	free(a->n);
	free(a->sum);
	free(a->last);
	memset(a, 0, sizeof(*a));
}

int mx_agg_peek(const struct mx_agg *a, const enum mx_kind *kinds, int64_t *out_t,
		double *out)
{
	if (a->minute < 0)
		return 0;
	*out_t = a->minute;
	for (unsigned i = 0; i < a->nfields; i++) {
		if (!a->n[i])
			out[i] = NAN;
		else
			out[i] = kinds[i] == MX_COUNTER ? a->last[i] : a->sum[i] / a->n[i];
	}
	return 1;
}

int mx_agg_add(struct mx_agg *a, const enum mx_kind *kinds, int64_t t, const double *v,
	       int64_t *out_t, double *out)
{
	int64_t minute = t - ((t % 60) + 60) % 60;
	int done = 0;

	if (a->minute >= 0 && minute < a->minute)
		return 0;
	if (a->minute >= 0 && minute > a->minute) {
		done = mx_agg_peek(a, kinds, out_t, out);
		a->minute = -1;
	}
	if (a->minute < 0) {
		a->minute = minute;
		memset(a->n, 0, a->nfields * sizeof(*a->n));
		memset(a->sum, 0, a->nfields * sizeof(*a->sum));
	}
	for (unsigned i = 0; i < a->nfields; i++) {
		if (isnan(v[i]))
			continue;
		a->n[i]++;
		a->sum[i] += v[i];
		a->last[i] = v[i];
	}
	return done;
}
