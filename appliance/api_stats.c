/* appliance/api_stats.c: GET /vms/{name}/stats and GET /host/stats: the
 * metrics the daemon's sampler keeps (appliance/metrics.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "appliance/api_int.h"
#include "appliance/metrics.h"
#include "images/cat_vm.h"
#include "images/catalog.h"

#define DEFAULT_WINDOW 300      /* seconds shown without ?since= */

/* ?since= and ?step= with their defaults; false with a 400 reply. */
static bool window(const struct api_req *req, long long *since, long long *step,
		   struct api_reply *rep)
{
	long long now = (long long)time(NULL);

	*since = now - DEFAULT_WINDOW;
	api_query_int(req, "since", since);
	*step = *since >= now - METRICS_RING_SECONDS ? 1 : 60;
	if (api_query_int(req, "step", step) && *step != 1 && *step != 60) {
		api_fail(rep, 400, "step must be 1 (seconds, the last hour) or 60 (minutes, "
			 "a week)");
		return false;
	}
	return true;
}

/* The reply for series @series: {"since", "step", "running"?, info...,
 * "points": [...]}. */
static void stats_reply(const struct api_ctx *ctx, const char *series, long long since,
			long long step, json_object *top, struct api_reply *rep)
{
	json_object *points = NULL, *info = NULL;
	char err[512];

	json_object_object_add(top, "since", json_object_new_int64(since));
	json_object_object_add(top, "step", json_object_new_int((int)step));
	if (step == 1) {
		if (!ctx->metrics) {
			json_object_put(top);
			api_fail(rep, 503, "no metrics sampler runs here (vhdvisord keeps them)");
			return;
		}
		metrics_query(ctx->metrics, series, since, &points, &info);
	} else {
		points = json_object_new_array();
		if (metrics_db_query(ctx->state_dir, ctx->metrics, series, since, points, err,
				     sizeof(err))) {
			json_object_put(points);
			json_object_put(top);
			api_fail(rep, 500, "metrics: %s", err);
			return;
		}
		if (ctx->metrics) {
			json_object *unused = NULL;

			metrics_query(ctx->metrics, series, (long long)time(NULL) + 1, &unused,
				      &info);
			json_object_put(unused);
		}
	}
	if (info) {
		json_object_object_foreach(info, k, v)
			json_object_object_add(top, k, json_object_get(v));
		json_object_put(info);
	}
	json_object_object_add(top, "points", points ? points : json_object_new_array());
	api_ok(rep, top);
}

void api_vm_stats(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	char series[160];
	long long since, step;
	struct cat_vm vm;
	struct cat *c;
	json_object *top;
	int r;

	if (!window(req, &since, &step, rep) || api_cat_open(ctx, rep, &c))
		return;
	r = api_vm_find(c, req->params[0], &vm, rep);
	cat_close(c);
	if (r)
		return;
	top = json_object_new_object();
	json_object_object_add(top, "name", json_object_new_string(req->params[0]));
	json_object_object_add(top, "running", json_object_new_boolean(0));
	snprintf(series, sizeof(series), "vm:%s", req->params[0]);
	stats_reply(ctx, series, since, step, top, rep);
}

void api_host_stats(const struct api_ctx *ctx, const struct api_req *req,
		    struct api_reply *rep)
{
	long long since, step;

	if (window(req, &since, &step, rep))
		stats_reply(ctx, "host", since, step, json_object_new_object(), rep);
}
