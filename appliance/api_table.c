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
	/* ---- tasks, events, labs ---- */
	{ "GET", API_PREFIX "/tasks", api_tasks_list, API_ROLE_VIEWER, "tasksList",
	  "The newest 200 tasks, newest first (a task ran or runs a long operation)",
	  NULL, NULL },
	{ "GET", API_PREFIX "/tasks/{id}", api_task_get, API_ROLE_VIEWER, "taskGet",
	  "One task: state (queued, running, done, failed, cancelled), percent, bytes, "
	  "result or error", NULL, NULL },
	{ "POST", API_PREFIX "/tasks/{id}/cancel", api_task_cancel, API_ROLE_OPERATOR,
	  "taskCancel", "Asks a queued or running task to stop (202); 409 once it ended",
	  NULL, NULL },
	{ "GET", API_PREFIX "/events", api_events_get, API_ROLE_VIEWER, "eventsGet",
	  "The event stream (text/event-stream): vm.state, task, image.added, "
	  "image.removed", NULL, NULL },
	{ "GET", API_PREFIX "/labs", api_labs_list, API_ROLE_VIEWER, "labsList",
	  "Every lab with its VMs and how many run", NULL, NULL },
	{ "GET", API_PREFIX "/labs/{name}", api_lab_get, API_ROLE_VIEWER, "labGet",
	  "One lab with its VMs and their states", NULL, NULL },
	{ "POST", API_PREFIX "/labs/{name}/start", api_lab_start, API_ROLE_OPERATOR, "labStart",
	  "Starts the lab's stopped VMs, one by one, as a task (202 and the task)",
	  "kernel initrd append boot accel",
	  "as for vmStart, for each VM: kernel, initrd (admin only), append, boot, accel" },
	{ "POST", API_PREFIX "/labs/{name}/stop", api_lab_stop, API_ROLE_OPERATOR, "labStop",
	  "Stops the lab's running VMs as a task (202 and the task)", NULL, NULL },
	{ "POST", API_PREFIX "/labs/{name}/reset", api_lab_reset, API_ROLE_OPERATOR, "labReset",
	  "Puts every VM of the (stopped) lab back to its image, as a task (202 and the task)",
	  NULL, NULL },
	/* ---- end of tasks, events, labs ---- */
};

const struct api_route *api_routes(size_t *n)
{
	*n = ARRAY_SIZE(routes);
	return routes;
}
