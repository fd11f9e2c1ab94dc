/* appliance/api_vm_write.c: the API's VM changes: POST /vms (create from
 * an image), POST /vms/{name}/clone, PATCH /vms/{name} (set), DELETE
 * /vms/{name}, and the runtime's POST .../powerdown, .../pause,
 * .../resume. Each calls what the matching `vhdvisor vm` command calls
 * (images/vmrec.h, images/vmctl.h), so the two cannot differ; and the
 * helpers the write handlers share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/api_int.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "images/rec_json.h"
#include "images/vmctl.h"
#include "images/vmrec.h"
#include "images/vmrun.h"

#define CLONE_MAX_COUNT 10000   /* as `vm clone --count` */
#define POWERDOWN_DEFAULT_S 60

void api_fail_errno(struct api_reply *rep, int r, const char *why)
{
	int status = 500;

	switch (r) {
	case -EINVAL: status = 400; break;
	case -ENOENT: status = 404; break;
	case -EEXIST: case -EBUSY: case -EALREADY: case -ESRCH: status = 409; break;
	}
	api_fail(rep, status, "%s", why && why[0] ? why : strerror(-r));
}

bool api_body_int(json_object *body, const char *key, int64_t lo, int64_t hi, int64_t *out,
		  struct api_reply *rep)
{
	json_object *v;
	int64_t n;

	if (!body || !json_object_object_get_ex(body, key, &v))
		return true;
	n = json_object_get_int64(v);	/* api_dispatch() checked it is an integer */
	if (n < lo || n > hi) {
		api_fail(rep, 400, "field '%s' must be from %lld to %lld", key, (long long)lo,
			 (long long)hi);
		return false;
	}
	*out = n;
	return true;
}

void api_body_bool(json_object *body, const char *key, bool *out)
{
	json_object *v;

	if (body && json_object_object_get_ex(body, key, &v))
		*out = json_object_get_boolean(v);
}

const char *api_body_name(json_object *body, const char *key, struct api_reply *rep)
{
	const char *s;

	if (!api_body_string(body, key, &s, rep))
		return NULL;
	if (!s) {
		api_fail(rep, 400, "field '%s' is required", key);
		return NULL;
	}
	if (!api_name_valid(s)) {
		api_fail(rep, 400, "bad %s '%.64s' (1-%d of A-Z a-z 0-9 . _ : @ -, not "
			 "starting with . or -)", key, s, API_PARAM_MAX - 1);
		return NULL;
	}
	return s;
}

int api_vm_find(struct cat *c, const char *name, struct cat_vm *vm, struct api_reply *rep)
{
	int r = cat_vm_get(c, name, vm);

	if (r == -ENOENT)
		api_fail(rep, 404, "no VM '%s'", name);
	else if (r)
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
	return r;
}

/* cpus and memory of a create or clone body into @o. */
static bool sizes(const struct api_req *req, struct vmrec_opts *o, struct api_reply *rep)
{
	int64_t cpus = 0;
	const char *mem;

	if (!api_body_int(req->body, "cpus", 1, 64, &cpus, rep) ||
	    !api_body_string(req->body, "memory", &mem, rep))
		return false;
	o->cpus = (unsigned)cpus;
	if (mem && vmrec_mem_parse(mem, &o->mem)) {
		api_fail(rep, 400, "bad memory '%.64s': %s", mem, img_last_error());
		return false;
	}
	return true;
}

/* The VM @name's JSON as the reply, or a 500. */
static void reply_vm(struct cat *c, const char *name, struct api_reply *rep)
{
	struct cat_vm vm;

	if (!api_vm_find(c, name, &vm, rep))
		api_ok(rep, vmrec_vm_json(c, &vm, false));
}

void api_vm_create(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct vmrec_opts o = { 0 };
	char id[CAT_ID_LEN + 1];
	const char *name, *image;
	struct cat *c;
	int r;

	if (!(name = api_body_name(req->body, "name", rep)) ||
	    !(image = api_body_name(req->body, "image", rep)) || !sizes(req, &o, rep))
		return;
	if (api_cat_open(ctx, rep, &c))
		return;
	r = cat_image_resolve(c, image, id);
	if (r == -ENOENT)
		api_fail(rep, 404, "no image '%s'", image);
	else if (r == -EEXIST)
		api_fail(rep, 409, "'%s' matches several images; give more of the id", image);
	else if (r)
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
	else if ((r = vmrec_create(c, id, &name, 1, &o)))
		api_fail_errno(rep, r, img_last_error());
	else
		reply_vm(c, name, rep);
	cat_close(c);
}

void api_vm_clone(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct vmrec_opts o = { 0 };
	char (*buf)[CAT_NAME_MAX + 1] = NULL;
	const char **names = NULL;
	int64_t count = 0;
	bool full = false;
	json_object *arr;
	const char *name;
	struct cat_vm vm;
	struct cat *c;
	unsigned n;
	int r;

	if (!(name = api_body_name(req->body, "name", rep)) ||
	    !api_body_int(req->body, "count", 1, CLONE_MAX_COUNT, &count, rep) ||
	    !sizes(req, &o, rep))
		return;
	api_body_bool(req->body, "full", &full);
	n = count ? (unsigned)count : 1;
	buf = calloc(n, sizeof(*buf));
	names = calloc(n, sizeof(*names));
	if (!buf || !names) {
		api_fail(rep, 500, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		/* with a count, NAME-1 .. NAME-N, as `vm clone --count` */
		if ((count ? snprintf(buf[i], sizeof(buf[i]), "%s-%u", name, i + 1) :
			     snprintf(buf[i], sizeof(buf[i]), "%s", name)) >= (int)sizeof(buf[i])) {
			api_fail(rep, 400, "name '%.64s' too long for its clones", name);
			goto out;
		}
		names[i] = buf[i];
	}
	if (api_cat_open(ctx, rep, &c))
		goto out;
	if (!api_vm_find(c, req->params[0], &vm, rep)) {
		r = vmrec_clone(c, vm.name, names, n, full, &o, NULL, NULL);
		if (r) {
			api_fail_errno(rep, r, img_last_error());
		} else {
			json_object *j = json_object_new_object();

			arr = json_object_new_array();
			for (unsigned i = 0; i < n; i++)
				json_object_array_add(arr, json_object_new_string(names[i]));
			json_object_object_add(j, "source", json_object_new_string(vm.name));
			json_object_object_add(j, "vms", arr);
			api_ok(rep, j);
		}
	}
	cat_close(c);
out:
	free(buf);
	free(names);
}

void api_vm_set(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct vmrec_set s = { .cloud_init = -1 };
	struct vmrec_opts o = { 0 };
	bool ci = false;
	struct cat *c;
	int r;

	if (!req->body || !json_object_object_length(req->body)) {
		api_fail(rep, 400, "nothing to change (cpus, memory, cloud_init)");
		return;
	}
	if (!sizes(req, &o, rep))
		return;
	s.cpus = o.cpus;
	s.mem = o.mem;
	if (json_object_object_get_ex(req->body, "cloud_init", NULL)) {
		api_body_bool(req->body, "cloud_init", &ci);
		s.cloud_init = ci;
	}
	if (api_cat_open(ctx, rep, &c))
		return;
	r = vmrec_set(c, req->params[0], &s);
	if (r) {
		api_fail_errno(rep, r, img_last_error());
	} else {
		reply_vm(c, req->params[0], rep);
		/* a running VM gets it at its next start, as the CLI warns */
		if (rep->status == 200)
			json_object_object_add(rep->body, "pending",
					       json_object_new_boolean(vmrec_running(req->params[0])));
	}
	cat_close(c);
}

void api_vm_delete(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct cat_vm vm;
	struct cat *c;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_vm_find(c, req->params[0], &vm, rep)) {
		r = vmrec_remove(c, vm.name);
		if (r) {
			api_fail_errno(rep, r, img_last_error());
		} else {
			json_object *j = json_object_new_object();

			json_object_object_add(j, "name", json_object_new_string(vm.name));
			json_object_object_add(j, "deleted", json_object_new_boolean(1));
			api_ok(rep, j);
		}
	}
	cat_close(c);
}

/* Fails with 404 unless VM params[0] exists (the runtime calls need no
 * catalog otherwise). */
static bool vm_exists(const struct api_ctx *ctx, const struct api_req *req,
		      struct api_reply *rep)
{
	struct cat_vm vm;
	struct cat *c;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return false;
	r = api_vm_find(c, req->params[0], &vm, rep);
	cat_close(c);
	return !r;
}

void api_vm_powerdown(const struct api_ctx *ctx, const struct api_req *req,
		      struct api_reply *rep)
{
	struct vmrec_shutdown_result res;
	int64_t timeout = POWERDOWN_DEFAULT_S;
	json_object *j;
	int r;

	if (!api_body_int(req->body, "timeout", 1, 3600, &timeout, rep) ||
	    !vm_exists(ctx, req, rep))
		return;
	r = vmrec_shutdown(req->params[0], (unsigned)timeout * 1000u, &res);
	if (r) {
		api_fail_errno(rep, r, img_last_error());
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(req->params[0]));
	json_object_object_add(j, "state", json_object_new_string("stopped"));
	json_object_object_add(j, "forced", json_object_new_boolean(res.forced));
	json_object_object_add(j, "killed", json_object_new_boolean(res.killed));
	if (res.forced)
		json_object_object_add(j, "reason", json_object_new_string(res.why));
	api_ok(rep, j);
}

/* pause and resume: the request, then the runtime's word for the state. */
static void runtime_cmd(const struct api_ctx *ctx, const struct api_req *req,
			struct api_reply *rep, const char *cmd)
{
	char state[32];
	json_object *j;
	int r;

	if (!vm_exists(ctx, req, rep))
		return;
	r = vmrec_runtime_cmd(req->params[0], cmd);
	if (!r)
		r = vmrec_runtime_state(req->params[0], state, sizeof(state));
	if (r) {
		api_fail_errno(rep, r, img_last_error());
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(req->params[0]));
	json_object_object_add(j, "state", json_object_new_string(state));
	api_ok(rep, j);
}

void api_vm_pause(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	runtime_cmd(ctx, req, rep, "pause");
}

void api_vm_resume(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	runtime_cmd(ctx, req, rep, "resume");
}
