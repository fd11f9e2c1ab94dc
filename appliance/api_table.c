/* appliance/api_table.c: the route table, the one list of what the API
 * does (the daemon dispatches through it, api_openapi() documents it). */
#include "appliance/api.h"

#include "appliance/api_int.h"
#include "common/util.h"

static const struct api_route routes[] = {
	{ "GET", API_PREFIX "/host", api_host_get, API_ROLE_VIEWER, "hostGet",
	  "The host: name, CPUs, memory, accelerator, versions, storage space", NULL, NULL },
	{ "GET", API_PREFIX "/openapi.json", api_openapi_get, API_ROLE_NONE, "openapiGet",
	  "This OpenAPI document", NULL, NULL },
	{ "GET", API_PREFIX "/images", api_images_list, API_ROLE_VIEWER, "imagesList",
	  "Every image of the catalog", NULL, NULL },
	{ "GET", API_PREFIX "/images/{id}", api_image_get, API_ROLE_VIEWER, "imageGet",
	  "One image, by id, unique id prefix (8+ hex digits) or NAME[:VERSION]", NULL, NULL },
	{ "GET", API_PREFIX "/vms", api_vms_list, API_ROLE_VIEWER, "vmsList",
	  "Every VM with its state (running, stopped, creating)", NULL, NULL },
	{ "GET", API_PREFIX "/vms/{name}", api_vm_get, API_ROLE_VIEWER, "vmGet",
	  "One VM with its snapshots", NULL, NULL },
	{ "POST", API_PREFIX "/vms/{name}/start", api_vm_start, API_ROLE_OPERATOR, "vmStart",
	  "Starts a VM's detached runtime; waits until the guest runs",
	  "kernel initrd append boot accel",
	  "kernel, initrd (admin only): boot files; append: kernel arguments added; "
	  "boot: auto|direct|image|firmware; accel: auto|kvm|tcg" },
	{ "POST", API_PREFIX "/vms/{name}/stop", api_vm_stop, API_ROLE_OPERATOR, "vmStop",
	  "Stops a VM (clean shutdown of the engine, killed after 60 s)", NULL, NULL },
	{ "GET", API_PREFIX "/vms/{name}/console", api_vm_console, API_ROLE_OPERATOR, "vmConsole",
	  "The VM's serial console: upgrades to a WebSocket (RFC 6455; Upgrade: websocket, "
	  "Sec-WebSocket-Version: 13) that carries the guest's output to the client as binary "
	  "frames and the payload of the client's text or binary frames to the guest", NULL, NULL },
};

const struct api_route *api_routes(size_t *n)
{
	*n = ARRAY_SIZE(routes);
	return routes;
}
