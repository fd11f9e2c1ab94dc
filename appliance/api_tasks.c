/* appliance/api_tasks.c: GET /tasks, GET /tasks/{id}, POST
 * /tasks/{id}/cancel, and GET /events (the go-ahead for the stream that
 * vhdvisord then serves; appliance/event.h). */
#include <errno.h>
#include <string.h>

#include "appliance/api_int.h"
#include "appliance/event.h"
#include "appliance/task.h"

void api_tasks_list(const struct api_ctx *ctx, const struct api_req *req,
		    struct api_reply *rep)
{
	json_object *arr = task_list_json();

	if (arr)
		api_ok(rep, arr);
	else
		api_fail(rep, 500, "cannot read the tasks (STATE/tasks.db)");
}

void api_task_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	json_object *j;
	int r = task_get_json(req->params[0], &j);

	if (r == -ENOENT)
		api_fail(rep, 404, "no task '%s'", req->params[0]);
	else if (r)
		api_fail(rep, 500, "cannot read the tasks: %s", strerror(-r));
	else
		api_ok(rep, j);
}

void api_task_cancel(const struct api_ctx *ctx, const struct api_req *req,
		     struct api_reply *rep)
{
	int r = task_cancel(req->params[0]);

	if (r == -ENOENT) {
		api_fail(rep, 404, "no task '%s'", req->params[0]);
	} else if (r == -EALREADY) {
		api_fail(rep, 409, "task %s has ended", req->params[0]);
	} else if (r) {
		api_fail(rep, 500, "cannot cancel: %s", strerror(-r));
	} else {
		api_task_get(ctx, req, rep);
		if (rep->status == 200)
			rep->status = 202;      /* asked; it ends when the operation sees it */
	}
}

void api_events_get(const struct api_ctx *ctx, const struct api_req *req,
		    struct api_reply *rep)
{
	json_object *j = json_object_new_object();

	/* the daemon streams text/event-stream on this reply
	 * (api_event_is_stream()); called in-process it only says so */
	json_object_object_add(j, "stream", json_object_new_string("text/event-stream"));
	api_ok(rep, j);
}

void api_task_reply(struct api_reply *rep, int r, const char *id, const char *target)
{
	json_object *j;

	if (r == -EBUSY) {
		api_fail(rep, 409, "a task on %s is already queued or running", target);
	} else if (r == -EAGAIN) {
		api_fail(rep, 503, "too many tasks; try again later");
	} else if (r) {
		api_fail(rep, r == -ESHUTDOWN ? 503 : 500, "cannot start the task: %s",
			 strerror(-r));
	} else if (task_get_json(id, &j)) {
		api_fail(rep, 500, "task %s vanished", id);
	} else {
		api_ok(rep, j);
		rep->status = 202;
	}
}

bool api_route_accepts(const struct api_route *r)
{
	return r->fn == api_lab_start || r->fn == api_lab_stop || r->fn == api_lab_reset ||
	       r->fn == api_task_cancel;
}
