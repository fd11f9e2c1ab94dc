/* appliance/api_console.c: GET /vms/{name}/console. Over HTTP the daemon
 * upgrades this request to a WebSocket bridged to the console socket
 * (tools/vhdvisord/console.c, appliance/ws_bridge.h); the handler decides
 * whether there is a console to join: the VM exists (404) and runs (409).
 * Its reply names the socket, for callers in this process. */
#include <errno.h>

#include "appliance/api_int.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/vmrun.h"

void api_vm_console(const struct api_ctx *ctx, const struct api_req *req,
		    struct api_reply *rep)
{
	char path[4200];
	struct cat_vm vm;
	struct cat *c;
	json_object *j;
	int r;

	if (api_cat_open(ctx, rep, &c))
		return;
	r = api_vm_find(c, req->params[0], &vm, rep);
	cat_close(c);
	if (r)
		return;
	if (!vmrec_running(vm.name)) {
		api_fail(rep, 409, "%s is not running", vm.name);
		return;
	}
	if (vmrec_run_path(vm.name, "console.sock", path, sizeof(path))) {
		api_fail(rep, 500, "%s: console socket path too long", vm.name);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(vm.name));
	json_object_object_add(j, "socket", json_object_new_string(path));
	api_ok(rep, j);
}

bool api_route_upgrades(const struct api_route *r)
{
	return r->fn == api_vm_console;
}
