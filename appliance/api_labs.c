/* appliance/api_labs.c: GET /labs, GET /labs/{name}, and POST
 * /labs/{name}/start, /stop and /reset as tasks (appliance/task.h). Starts
 * and stops go through lab_start()/lab_stop() (images/lab.h), the same
 * calls as `vhdvisor lab start|stop`: vmrec_start() per VM, no process of
 * ours re-run. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/api_int.h"
#include "appliance/event.h"
#include "appliance/task.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "images/lab.h"
#include "images/vmrun.h"
#include "images/vmstart.h"

#define LAB_STOP_TIMEOUT_MS 60000

struct vms_ctx {
	json_object *arr;
	unsigned running;
};

static int vm_one(void *opaque, const char *vm)
{
	struct vms_ctx *v = opaque;
	json_object *o = json_object_new_object();
	pid_t pid = vmrec_pid(vm);

	json_object_object_add(o, "name", json_object_new_string(vm));
	json_object_object_add(o, "state", json_object_new_string(pid ? "running" : "stopped"));
	json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_array_add(v->arr, o);
	if (pid)
		v->running++;
	return 0;
}

static json_object *lab_json(struct cat *c, const struct cat_lab *l)
{
	struct vms_ctx v = { .arr = json_object_new_array() };
	json_object *o = json_object_new_object();

	lab_foreach_vm(c, l->name, vm_one, &v);
	json_object_object_add(o, "name", json_object_new_string(l->name));
	json_object_object_add(o, "image", json_object_new_string(l->image));
	json_object_object_add(o, "count", json_object_new_int((int)l->count));
	json_object_object_add(o, "net", l->net[0] ? json_object_new_string(l->net) : NULL);
	json_object_object_add(o, "created", json_object_new_int64(l->created));
	json_object_object_add(o, "running", json_object_new_int((int)v.running));
	json_object_object_add(o, "vms", v.arr);
	return o;
}

struct list_ctx {
	struct cat *c;
	json_object *arr;
};

static int list_one(void *opaque, const struct cat_lab *l)
{
	struct list_ctx *lc = opaque;

	json_object_array_add(lc->arr, lab_json(lc->c, l));
	return 0;
}

void api_labs_list(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct list_ctx lc = { .arr = json_object_new_array() };

	if (api_cat_open(ctx, rep, &lc.c)) {
		json_object_put(lc.arr);
		return;
	}
	if (cat_lab_foreach(lc.c, list_one, &lc)) {
		api_fail(rep, 500, "catalog: %s", cat_errmsg(lc.c));
		json_object_put(lc.arr);
	} else {
		api_ok(rep, lc.arr);
	}
	cat_close(lc.c);
}

/* Lab params[0] as JSON into *@out, or a 404/500 reply. */
static int lab_load(const struct api_ctx *ctx, const struct api_req *req, json_object **out,
		    struct api_reply *rep)
{
	struct cat_lab l;
	struct cat *c;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return -EIO;
	r = cat_lab_get(c, req->params[0], &l);
	if (r == -ENOENT)
		api_fail(rep, 404, "no lab '%s'", req->params[0]);
	else if (r)
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
	else
		*out = lab_json(c, &l);
	cat_close(c);
	return r;
}

void api_lab_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	json_object *j;

	if (!lab_load(ctx, req, &j, rep))
		api_ok(rep, j);
}

/* What a lab task works with: copies, as it outlives the request. */
struct lab_job {
	char state_dir[4096];
	char lab[API_PARAM_MAX];
	char *kernel, *initrd, *append, *boot, *accel;
	json_object *vms;       /* the result: what each VM did */
	unsigned failed;
	char first_error[512];
	struct task *t;
};

static void job_free(void *arg)
{
	struct lab_job *j = arg;

	free(j->kernel);
	free(j->initrd);
	free(j->append);
	free(j->boot);
	free(j->accel);
	json_object_put(j->vms);
	free(j);
}

static int job_step(void *opaque, const struct lab_step *s, bool start)
{
	struct lab_job *j = opaque;
	json_object *o;

	if (s->before) {
		if (task_cancelled(j->t))
			return 1;
		/* as the VM routes: one start or stop at a time in the daemon */
		pthread_mutex_lock(&api_run_lock);
		return 0;
	}
	pthread_mutex_unlock(&api_run_lock);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(s->vm));
	json_object_object_add(o, "ok", json_object_new_boolean(!s->r));
	if (s->r) {
		json_object_object_add(o, "error", json_object_new_string(img_last_error()));
		if (!j->first_error[0])
			snprintf(j->first_error, sizeof(j->first_error), "%s: %s", s->vm,
				 img_last_error());
	} else if (start) {
		json_object_object_add(o, "pid", json_object_new_int(s->pid));
	}
	json_object_array_add(j->vms, o);
	if (!s->r)
		api_event_vm_state(s->vm, start, s->pid);
	task_progress(j->t, s->total ? s->done * 100 / s->total : 100, 0);
	return 0;
}

static int start_step(void *opaque, const struct lab_step *s)
{
	return job_step(opaque, s, true);
}

static int stop_step(void *opaque, const struct lab_step *s)
{
	return job_step(opaque, s, false);
}

static int job_end(struct task *t, struct lab_job *j, int r, const char *what)
{
	json_object *res = json_object_new_object();

	json_object_object_add(res, "lab", json_object_new_string(j->lab));
	json_object_object_add(res, "vms", json_object_get(j->vms));
	task_result(t, res);
	if (r == -EIO && j->failed)
		task_error(t, "%u VM%s of lab %s failed to %s; first: %s", j->failed,
			   j->failed == 1 ? "" : "s", j->lab, what, j->first_error);
	else if (r && r != -ECANCELED)
		task_error(t, "%s", img_last_error()[0] ? img_last_error() : strerror(-r));
	return r;
}

static int run_start(struct task *t, void *arg)
{
	struct lab_job *j = arg;
	struct vmrec_boot b = { .kernel = j->kernel, .initrd = j->initrd, .append = j->append,
				.boot = j->boot, .accel = j->accel };
	int r;

	j->t = t;
	task_progress(t, 0, 0);
	r = lab_start(j->state_dir, j->lab, &b, start_step, j, &j->failed);
	return job_end(t, j, r, "start");
}

static int run_stop(struct task *t, void *arg)
{
	struct lab_job *j = arg;
	int r;

	j->t = t;
	r = lab_stop(j->state_dir, j->lab, LAB_STOP_TIMEOUT_MS, stop_step, j, &j->failed);
	return job_end(t, j, r, "stop");
}

static int run_reset(struct task *t, void *arg)
{
	struct lab_job *j = arg;
	struct cat *c;
	int r;

	j->t = t;
	r = cat_open(j->state_dir, &c);
	if (r) {
		task_error(t, "cannot open the catalog: %s", strerror(-r));
		return r;
	}
	r = lab_reset(c, j->lab);
	if (r)
		task_error(t, "%s", img_last_error()[0] ? img_last_error() : strerror(-r));
	cat_close(c);
	return r;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

/* Checks lab params[0] against what @action needs; a new job, or NULL
 * with a reply. */
static struct lab_job *job_new(const struct api_ctx *ctx, const struct api_req *req,
			       const char *action, struct api_reply *rep)
{
	struct lab_job *j;
	json_object *lab, *v;
	bool oom = false;
	int running, count;

	if (lab_load(ctx, req, &lab, rep))
		return NULL;
	running = json_object_object_get_ex(lab, "running", &v) ? json_object_get_int(v) : 0;
	count = (int)json_object_array_length(json_object_object_get(lab, "vms"));
	json_object_put(lab);
	/* as `vhdvisor lab`: start of a running lab, stop of a stopped one */
	if (!strcmp(action, "start") && count && running == count) {
		api_fail(rep, 409, "lab %s is already running", req->params[0]);
		return NULL;
	}
	if (!strcmp(action, "stop") && !running) {
		api_fail(rep, 409, "lab %s is not running", req->params[0]);
		return NULL;
	}
	if (!strcmp(action, "reset") && running) {
		api_fail(rep, 409, "lab %s has %d VM%s running; stop it first", req->params[0],
			 running, running == 1 ? "" : "s");
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->vms = json_object_new_array())) {
		free(j);
		api_fail(rep, 500, "out of memory");
		return NULL;
	}
	snprintf(j->state_dir, sizeof(j->state_dir), "%s", ctx->state_dir);
	snprintf(j->lab, sizeof(j->lab), "%s", req->params[0]);
	if (req->body) {
		const char *s;

		json_object_object_foreach(req->body, key, val) {
			(void)val;
			s = json_object_get_string(json_object_object_get(req->body, key));
			if (!strcmp(key, "kernel"))
				j->kernel = dup_or_null(s, &oom);
			else if (!strcmp(key, "initrd"))
				j->initrd = dup_or_null(s, &oom);
			else if (!strcmp(key, "append"))
				j->append = dup_or_null(s, &oom);
			else if (!strcmp(key, "boot"))
				j->boot = dup_or_null(s, &oom);
			else if (!strcmp(key, "accel"))
				j->accel = dup_or_null(s, &oom);
		}
	}
	if (oom) {
		job_free(j);
		api_fail(rep, 500, "out of memory");
		return NULL;
	}
	return j;
}

static void lab_task(const struct api_ctx *ctx, const struct api_req *req, const char *action,
		     task_fn fn, struct api_reply *rep)
{
	char id[TASK_ID_LEN + 1], kind[32], target[API_PARAM_MAX + 8];
	struct lab_job *j = job_new(ctx, req, action, rep);
	int r;

	if (!j)
		return;
	snprintf(kind, sizeof(kind), "lab.%s", action);
	snprintf(target, sizeof(target), "lab:%s", req->params[0]);
	r = task_submit(kind, target, req->who, false, req->body, fn, j, job_free, id);
	api_task_reply(rep, r, id, target);
}

void api_lab_start(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct vmrec_boot b;
	struct vm_config *cfg;
	int r;

	if (!api_body_string(req->body, "kernel", &b.kernel, rep) ||
	    !api_body_string(req->body, "initrd", &b.initrd, rep) ||
	    !api_body_string(req->body, "append", &b.append, rep) ||
	    !api_body_string(req->body, "boot", &b.boot, rep) ||
	    !api_body_string(req->body, "accel", &b.accel, rep))
		return;
	/* naming host files to boot is an administrator's choice */
	if ((b.kernel || b.initrd) && req->role < API_ROLE_ADMIN) {
		api_fail(rep, 403, "only admin may choose the kernel or initrd");
		return;
	}
	/* bad overrides are the request's fault, told now, not in the task */
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		api_fail(rep, 500, "out of memory");
		return;
	}
	vm_config_init(cfg);
	r = vmrec_boot_apply(cfg, &b);
	free(cfg);
	if (r) {
		api_fail(rep, 400, "%s", img_last_error());
		return;
	}
	lab_task(ctx, req, "start", run_start, rep);
}

void api_lab_stop(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	lab_task(ctx, req, "stop", run_stop, rep);
}

void api_lab_reset(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	lab_task(ctx, req, "reset", run_reset, rep);
}
