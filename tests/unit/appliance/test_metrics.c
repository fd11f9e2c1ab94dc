/* Unit tests for appliance/metrics_ring.c (the in-memory seconds and the
 * minute aggregates), appliance/api_query.c (query parameters) and the
 * stats routes through api_dispatch() without a sampler, metrics.db. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "appliance/api.h"
#include "appliance/metrics.h"
#include "appliance/metrics_ring.h"

Test(mx_ring, wraps_and_filters_by_time)
{
	struct mx_ring r;
	double v[2];
	int64_t t;

	cr_assert_eq(mx_ring_init(&r, 2, 4), 0);
	cr_assert_eq(mx_ring_since(&r, 0), 0, "empty");
	for (int i = 0; i < 6; i++) {       /* t = 100..105; 100 and 101 fall out */
		v[0] = i;
		v[1] = -i;
		cr_assert_eq(mx_ring_push(&r, 100 + i, v), 0);
	}
	cr_assert_eq(r.count, 4);
	for (unsigned i = 0; i < 4; i++) {
		const double *p = mx_ring_at(&r, i, &t);

		cr_assert_eq(t, 102 + i);
		cr_assert_eq(p[0], 2 + i);
		cr_assert_eq(p[1], -(double)(2 + i));
	}
	cr_assert_eq(mx_ring_since(&r, 0), 0);
	cr_assert_eq(mx_ring_since(&r, 102), 0);
	cr_assert_eq(mx_ring_since(&r, 104), 2);
	cr_assert_eq(mx_ring_since(&r, 105), 3);
	cr_assert_eq(mx_ring_since(&r, 106), 4, "nothing that new");
	mx_ring_free(&r);
}

Test(mx_ring, same_second_replaces_older_is_refused)
{
	struct mx_ring r;
	double a = 1, b = 2, c = 3;
	int64_t t;

	cr_assert_eq(mx_ring_init(&r, 1, 8), 0);
	cr_assert_eq(mx_ring_push(&r, 50, &a), 0);
	cr_assert_eq(mx_ring_push(&r, 50, &b), 0);
	cr_assert_eq(r.count, 1, "same second: replaced");
	cr_assert_eq(*mx_ring_at(&r, 0, &t), 2);
	cr_assert_eq(mx_ring_push(&r, 49, &c), -ERANGE, "the clock went back");
	cr_assert_eq(r.count, 1);
	cr_assert_eq(*mx_ring_at(&r, 0, &t), 2);
	/* gaps are fine: since finds the first sample at or after */
	cr_assert_eq(mx_ring_push(&r, 70, &c), 0);
	cr_assert_eq(mx_ring_since(&r, 51), 1);
	mx_ring_free(&r);
	cr_assert_eq(mx_ring_init(&r, 0, 8), -EINVAL);
}

Test(mx_ring, a_full_hour)
{
	struct mx_ring r;
	int64_t t;

	cr_assert_eq(mx_ring_init(&r, 3, 3600), 0);
	for (int64_t s = 0; s < 3 * 3600 + 17; s++) {
		double v[3] = { (double)s, NAN, 1 };

		cr_assert_eq(mx_ring_push(&r, 1000000 + s, v), 0);
	}
	cr_assert_eq(r.count, 3600);
	cr_assert_eq(mx_ring_at(&r, 0, &t)[0], 2 * 3600 + 17);
	cr_assert_eq(t, 1000000 + 2 * 3600 + 17);
	cr_assert(isnan(mx_ring_at(&r, 3599, &t)[1]));
	cr_assert_eq(mx_ring_since(&r, 1000000 + 3 * 3600), 3600 - 17);
	mx_ring_free(&r);
}

Test(mx_agg, minutes_keep_counters_last_and_gauges_mean)
{
	static const enum mx_kind kinds[] = { MX_COUNTER, MX_GAUGE, MX_GAUGE };
	struct mx_agg a;
	double out[3];
	int64_t ot = -1;

	cr_assert_eq(mx_agg_init(&a, 3), 0);
	cr_assert_eq(mx_agg_peek(&a, kinds, &ot, out), 0, "nothing yet");
	/* minute 600..659: counter 10, 20, 30; gauge 1, 2, 6; third field never known */
	for (int i = 0; i < 3; i++) {
		double v[3] = { 10.0 * (i + 1), i == 2 ? 6 : i + 1, NAN };

		cr_assert_eq(mx_agg_add(&a, kinds, 600 + 20 * i, v, &ot, out), 0);
	}
	cr_assert_eq(mx_agg_peek(&a, kinds, &ot, out), 1);
	cr_assert_eq(ot, 600);
	cr_assert_eq(out[0], 30);
	cr_assert_eq(out[1], 3);
	cr_assert(isnan(out[2]));
	{
		double v[3] = { 40, NAN, 5 };   /* 661: the next minute closes 600 */

		cr_assert_eq(mx_agg_add(&a, kinds, 661, v, &ot, out), 1);
		cr_assert_eq(ot, 600);
		cr_assert_eq(out[0], 30);
		cr_assert_eq(out[1], 3);
		cr_assert(isnan(out[2]));
		/* an older sample is ignored */
		cr_assert_eq(mx_agg_add(&a, kinds, 599, v, &ot, out), 0);
		cr_assert_eq(mx_agg_peek(&a, kinds, &ot, out), 1);
		cr_assert_eq(ot, 660);
		cr_assert_eq(out[0], 40);
		cr_assert(isnan(out[1]), "no gauge value in this minute");
		cr_assert_eq(out[2], 5);
		/* a gap of minutes: the minute summed so far comes out, once */
		cr_assert_eq(mx_agg_add(&a, kinds, 900, v, &ot, out), 1);
		cr_assert_eq(ot, 660);
		cr_assert_eq(mx_agg_peek(&a, kinds, &ot, out), 1);
		cr_assert_eq(ot, 900);
	}
	mx_agg_free(&a);
}

/* ---- query parameters ---- */

static const struct api_route stats_route = {
	"GET", "/api/v1/vms/{name}/stats", NULL, API_ROLE_VIEWER, "vmStats", "s", NULL, NULL
};

static int parse(const char *qs, json_object **q, char *err, size_t len)
{
	struct api_reply rep = { 0 };
	int status = 0;

	if (!api_query_parse(&stats_route, qs, q, &rep)) {
		json_object *e;

		status = rep.status;
		cr_assert(json_object_object_get_ex(rep.body, "error", &e));
		snprintf(err, len, "%s", json_object_get_string(e));
	}
	api_reply_clear(&rep);
	return status;
}

Test(api_query, parses_and_refuses)
{
	struct api_req req = { 0 };
	char err[512];
	long long v = -1;
	json_object *q;

	cr_assert_eq(parse("", &q, err, sizeof(err)), 0);
	cr_assert_null(q);
	cr_assert_eq(parse("since=%31%32&step=60&", &q, err, sizeof(err)), 0);
	req.query = q;
	cr_assert(api_query_int(&req, "since", &v));
	cr_assert_eq(v, 12);
	cr_assert(api_query_int(&req, "step", &v));
	cr_assert_eq(v, 60);
	json_object_put(q);
	req.query = NULL;
	cr_assert_not(api_query_int(&req, "since", &v), "absent");

	cr_assert_eq(parse("since=x", &q, err, sizeof(err)), 400);
	cr_assert(strstr(err, "since"), "%s", err);
	cr_assert_eq(parse("since=-1", &q, err, sizeof(err)), 400);
	cr_assert_eq(parse("since=", &q, err, sizeof(err)), 400);
	cr_assert_eq(parse("since", &q, err, sizeof(err)), 400);
	cr_assert_eq(parse("since=1234567890123456789", &q, err, sizeof(err)), 400, "19 digits");
	cr_assert_eq(parse("since=1&since=1", &q, err, sizeof(err)), 400);
	cr_assert(strstr(err, "twice"), "%s", err);
	cr_assert_eq(parse("other=1", &q, err, sizeof(err)), 400);
	cr_assert(strstr(err, "unknown"), "%s", err);
	cr_assert_eq(parse("since=%4", &q, err, sizeof(err)), 400, "short escape");
	cr_assert_eq(parse("since=%0a1", &q, err, sizeof(err)), 400, "control byte");
	cr_assert_eq(parse("%73ince=5", &q, err, sizeof(err)), 0, "an encoded name");
	json_object_put(q);
}

Test(api_query, every_parameter_names_a_route)
{
	size_t n, nr;
	const struct api_query_param *p = api_query_params(&n);
	const struct api_route *r = api_routes(&nr);

	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t k = 0; k < nr; k++)
			found |= !strcmp(r[k].op_id, p[i].op_id) && !strcmp(r[k].method, "GET");
		cr_assert(found, "query parameter %s of unknown route %s", p[i].name, p[i].op_id);
	}
}

/* ---- the stats routes without a sampler (the CLI's in-process door) ---- */

static char state[64];

static void mkstate(void)
{
	snprintf(state, sizeof(state), "/tmp/vvmx.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
}

static void rmstate(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
	cr_assert_eq(system(cmd), 0);
}

static int get(const char *path, json_object **body)
{
	struct api_ctx ctx = { .state_dir = state };
	struct api_reply rep;
	int status;

	api_dispatch(&ctx, "GET", path, "", 0, API_ROLE_VIEWER, "test", &rep);
	status = rep.status;
	*body = json_object_get(rep.body);
	api_reply_clear(&rep);
	return status;
}

Test(api_stats, without_a_sampler, .init = mkstate, .fini = rmstate)
{
	json_object *b, *p;

	cr_assert_eq(get("/api/v1/host/stats", &b), 503, "seconds live in the daemon");
	json_object_put(b);
	cr_assert_eq(get("/api/v1/host/stats?step=60&since=0", &b), 200, "minutes: no file yet");
	cr_assert(json_object_object_get_ex(b, "points", &p));
	cr_assert_eq(json_object_array_length(p), 0);
	json_object_put(b);
	cr_assert_eq(get("/api/v1/host/stats?step=7", &b), 400);
	json_object_put(b);
	cr_assert_eq(get("/api/v1/host/stats?since=1&bogus", &b), 400);
	json_object_put(b);
	cr_assert_eq(get("/api/v1/host?since=1", &b), 400, "a route without parameters");
	json_object_put(b);
	cr_assert_eq(get("/api/v1/host", &b), 200);
	json_object_put(b);
}

/* ---- metrics.db: minutes stored, read back in order, pruned ---- */

static json_object *minute(int64_t t, int v)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "t", json_object_new_int64(t));
	json_object_object_add(p, "x", json_object_new_int(v));
	return p;
}

Test(metrics_db, put_query_prune, .init = mkstate, .fini = rmstate)
{
	char err[512], path[128];
	json_object *pts, *p;
	struct stat st;
	sqlite3 *db;

	cr_assert_eq(metrics_db_open(state, &db, err, sizeof(err)), 0, "%s", err);
	snprintf(path, sizeof(path), "%s/%s", state, METRICS_DB);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	for (int i = 0; i < 5; i++) {
		p = minute(6000 + 60 * (4 - i), i);      /* written newest first */
		cr_assert_eq(metrics_db_put(db, "host", 6000 + 60 * (4 - i), p), 0);
		json_object_put(p);
	}
	p = minute(6000, 99);
	cr_assert_eq(metrics_db_put(db, "vm:a", 6000, p), 0);
	json_object_put(p);
	p = minute(6060, 7);                             /* the same minute again: replaced */
	cr_assert_eq(metrics_db_put(db, "host", 6060, p), 0);
	json_object_put(p);

	pts = json_object_new_array();
	cr_assert_eq(metrics_db_query(state, NULL, "host", 6060, pts, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(json_object_array_length(pts), 4);
	for (size_t i = 0; i < 4; i++) {
		json_object *t;

		cr_assert(json_object_object_get_ex(json_object_array_get_idx(pts, i), "t", &t));
		cr_assert_eq(json_object_get_int64(t), 6060 + 60 * (int64_t)i, "in time order");
	}
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(pts, 0), "x", &p));
	cr_assert_eq(json_object_get_int(p), 7);
	json_object_put(pts);

	cr_assert_eq(metrics_db_prune(db, 6120), 0);
	pts = json_object_new_array();
	cr_assert_eq(metrics_db_query(state, NULL, "host", 0, pts, err, sizeof(err)), 0);
	cr_assert_eq(json_object_array_length(pts), 3, "6000 and 6060 pruned");
	json_object_put(pts);
	pts = json_object_new_array();
	cr_assert_eq(metrics_db_query(state, NULL, "vm:a", 0, pts, err, sizeof(err)), 0);
	cr_assert_eq(json_object_array_length(pts), 0, "pruned across series");
	json_object_put(pts);
	sqlite3_close(db);
}
