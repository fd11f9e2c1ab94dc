/* appliance/api_vms.c: GET /vms, GET /vms/{name}, POST .../start and
 * .../stop. The JSON of a VM is that of `vhdvisor vm show --json`
 * (images/rec_json.h). Start and stop go through the same
 * library calls as `vhdvisor vm start/stop` (images/vmstart.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/api_int.h"
#include "appliance/event.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "images/rec_json.h"
#include "images/vmrec.h"
#include "images/vmrun.h"
#include "images/vmstart.h"

#define STOP_TIMEOUT_MS 60000

/* Starts and stops one at a time: the check "not running yet" and the
 * pidfile the runtime writes must not interleave with another start
 * (lab tasks take it too, around each VM). */
pthread_mutex_t api_run_lock = PTHREAD_MUTEX_INITIALIZER;

void api_vms_list(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct cat *c;
	char *text;
	size_t len;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (vmrec_vms_text(c, &text, &len))
		api_fail(rep, 500, "catalog: %s", cat_errmsg(c));
	else
		api_ok_text(rep, text);
	cat_close(c);
}

void api_vm_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct cat_vm vm;
	struct cat *c;

	if (api_cat_open(ctx, rep, &c))
		return;
	if (!api_vm_find(c, req->params[0], &vm, rep))
		api_ok(rep, vmrec_vm_json(c, &vm, true));
	cat_close(c);
}

static json_object *vm_state(const char *name, const char *state, pid_t pid)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "name", json_object_new_string(name));
	json_object_object_add(j, "state", json_object_new_string(state));
	json_object_object_add(j, "pid", json_object_new_int(pid));
	return j;
}

/* Builds VM params[0]'s config with the request's boot overrides; the
 * catalog is closed before the runtime starts (its lock blocks gc). */
static int start_config(const struct api_ctx *ctx, const struct api_req *req,
			struct vm_config *cfg, struct api_reply *rep)
{
	struct vmrec_boot b;
	struct cat_vm vm;
	struct cat *c;
	const char *transport;
	int r;

	if (!api_body_string(req->body, "kernel", &b.kernel, rep) ||
	    !api_body_string(req->body, "initrd", &b.initrd, rep) ||
	    !api_body_string(req->body, "append", &b.append, rep) ||
	    !api_body_string(req->body, "boot", &b.boot, rep) ||
	    !api_body_string(req->body, "accel", &b.accel, rep) ||
	    !api_body_string(req->body, "disk_transport", &transport, rep))
		return -EINVAL;
	/* naming host files to boot is an administrator's choice */
	if ((b.kernel || b.initrd) && req->role < API_ROLE_ADMIN) {
		api_fail(rep, 403, "only admin may choose the kernel or initrd");
		return -EPERM;
	}
	if (api_cat_open(ctx, rep, &c))
		return -EIO;
	r = api_vm_find(c, req->params[0], &vm, rep);
	if (!r && strcmp(vm.state, CAT_VM_READY)) {
		api_fail(rep, 409, "VM '%s' is %s", vm.name, vm.state);
		r = -EBUSY;
	}
	if (!r) {
		vm_config_init(cfg);
		r = vmrec_vm_config(c, vm.name, cfg);
		if (r)
			api_fail(rep, 500, "%s", img_last_error());
	}
	cat_close(c);
	if (!r && (r = vmrec_boot_apply(cfg, &b)))
		api_fail(rep, 400, "%s", img_last_error());
	if (!r && transport && (r = vm_disk_transport_parse(transport, &cfg->disk_transport)))
		api_fail(rep, 400, "bad disk_transport '%s' (nbd or vhost-user)", transport);
	return r;
}

void api_vm_start(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct vm_config *cfg = malloc(sizeof(*cfg));
	pid_t pid;
	int r;

	if (!cfg) {
		api_fail(rep, 500, "out of memory");
		return;
	}
	pthread_mutex_lock(&api_run_lock);
	if (vmrec_running(req->params[0])) {
		api_fail(rep, 409, "%s is already running", req->params[0]);
		goto out;
	}
	if (start_config(ctx, req, cfg, rep))
		goto out;
	r = vmrec_start(cfg, ctx->state_dir, &pid);
	if (r == -EALREADY)
		api_fail(rep, 409, "%s", img_last_error());
	else if (r)
		api_fail(rep, 500, "%s", img_last_error());
	else
		api_ok(rep, vm_state(req->params[0], "running", pid));
	if (!r)
		api_event_vm_state(req->params[0], true, pid);
out:
	pthread_mutex_unlock(&api_run_lock);
	free(cfg);
}

void api_vm_stop(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct cat_vm vm;
	struct cat *c;
	bool killed;
	json_object *j;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return;
	r = api_vm_find(c, req->params[0], &vm, rep);
	cat_close(c);
	if (r)
		return;
	pthread_mutex_lock(&api_run_lock);
	r = vmrec_stop(vm.name, STOP_TIMEOUT_MS, &killed);
	pthread_mutex_unlock(&api_run_lock);
	if (r == -ESRCH) {
		api_fail(rep, 409, "%s is not running", vm.name);
		return;
	}
	api_event_vm_state(vm.name, false, 0);
	j = vm_state(vm.name, "stopped", 0);
	json_object_object_add(j, "killed", json_object_new_boolean(killed));
	api_ok(rep, j);
}
