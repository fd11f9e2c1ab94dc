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
	/* metrics (api_stats.c; query parameters in api_query.c) */
	{ "GET", API_PREFIX "/vms/{name}/stats", api_vm_stats, API_ROLE_VIEWER, "vmStats",
	  "A VM's metrics: CPU, memory, disk and NIC counters, every second or minute", NULL,
	  NULL },
	{ "GET", API_PREFIX "/host/stats", api_host_stats, API_ROLE_VIEWER, "hostStats",
	  "The host's metrics: CPU, memory, load, storage, every second or minute", NULL, NULL },
};

const struct api_route *api_routes(size_t *n)
{
	*n = ARRAY_SIZE(routes);
	return routes;
}
