/* appliance/api_table.c: the route table, the one list of what the API
 * does (the daemon dispatches through it, api_openapi() documents it). */
#include "appliance/api.h"

#include "appliance/api_int.h"
#include "common/util.h"

static const struct api_route routes[] = {
	{ "GET", API_PREFIX "/host", api_host_get, API_ROLE_VIEWER, "hostGet",
	  "The host: name, CPUs, memory, accelerator, versions, storage space; the caller's role and who", NULL, NULL },
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
	  "kernel initrd append boot accel disk_transport",
	  "kernel, initrd (admin only): boot files; append: kernel arguments added; "
	  "boot: auto|direct|image|firmware; accel: auto|kvm|tcg; "
	  "disk_transport: nbd|vhost-user" },
	{ "POST", API_PREFIX "/vms/{name}/stop", api_vm_stop, API_ROLE_OPERATOR, "vmStop",
	  "Stops a VM (clean shutdown of the engine, killed after 60 s)", NULL, NULL },
	/* ---- VM, network and token writes (api_vm_write.c, api_vm_snap.c,
	 * api_nets.c, api_tokens.c) ---- */
	{ "POST", API_PREFIX "/vms", api_vm_create, API_ROLE_OPERATOR, "vmCreate",
	  "Makes a VM, a linked clone of an image (as `vhdvisor vm create`)",
	  "name image cpus:integer memory",
	  "name (required): the new VM; image (required): NAME[:VERSION] or an id prefix; "
	  "cpus: 1-64 (default 1); memory: 64M to 1T, a plain number is MiB (default 256M)" },
	{ "POST", API_PREFIX "/vms/{name}/clone", api_vm_clone, API_ROLE_OPERATOR, "vmClone",
	  "Clones a stopped VM's current disk into new VMs (as `vhdvisor vm clone`)",
	  "name count:integer full:boolean cpus:integer memory",
	  "name (required): the new VM, or with count the prefix of NAME-1 .. NAME-COUNT; "
	  "count: 1-10000; full: copy the disk instead of linking; cpus, memory: as in vmCreate" },
	{ "PATCH", API_PREFIX "/vms/{name}", api_vm_set, API_ROLE_OPERATOR, "vmSet",
	  "Changes a VM's definition; a running VM gets it at its next start (pending: true)",
	  "cpus:integer memory cloud_init:boolean",
	  "cpus: 1-64; memory: 64M to 1T, a plain number is MiB; cloud_init: attach a NoCloud "
	  "seed at start. At least one." },
	{ "DELETE", API_PREFIX "/vms/{name}", api_vm_delete, API_ROLE_OPERATOR, "vmDelete",
	  "Removes a stopped VM and its disks", NULL, NULL },
	{ "POST", API_PREFIX "/vms/{name}/powerdown", api_vm_powerdown, API_ROLE_OPERATOR,
	  "vmPowerdown", "Presses the ACPI power button and waits for the guest to power off; "
	  "stops it hard after the timeout (forced: true)", "timeout:integer",
	  "timeout: seconds to wait, 1-3600 (default 60)" },
	{ "POST", API_PREFIX "/vms/{name}/pause", api_vm_pause, API_ROLE_OPERATOR, "vmPause",
	  "Pauses a running VM's vCPUs", NULL, NULL },
	{ "POST", API_PREFIX "/vms/{name}/resume", api_vm_resume, API_ROLE_OPERATOR, "vmResume",
	  "Resumes a paused VM", NULL, NULL },
	{ "GET", API_PREFIX "/vms/{name}/snapshots", api_vm_snaps_list, API_ROLE_VIEWER,
	  "vmSnapshotsList", "A VM's snapshots: tag, created", NULL, NULL },
	{ "POST", API_PREFIX "/vms/{name}/snapshots", api_vm_snap_take, API_ROLE_OPERATOR,
	  "vmSnapshotTake", "Takes a snapshot of a VM's disks, also while it runs", "tag",
	  "tag: the snapshot's name (default snap-N)" },
	{ "POST", API_PREFIX "/vms/{name}/snapshots/{tag}/revert", api_vm_snap_revert,
	  API_ROLE_OPERATOR, "vmSnapshotRevert",
	  "Puts a stopped VM back to a snapshot (its current disk state is dropped)", NULL, NULL },
	{ "DELETE", API_PREFIX "/vms/{name}/snapshots/{tag}", api_vm_snap_delete,
	  API_ROLE_OPERATOR, "vmSnapshotDelete",
	  "Drops a stopped VM's snapshot, merging its layer", NULL, NULL },
	{ "GET", API_PREFIX "/vms/{name}/disks", api_vm_disks, API_ROLE_VIEWER, "vmDisksList",
	  "A VM's disks: disk (0 boots), size, file, boot", NULL, NULL },
	{ "GET", API_PREFIX "/vms/{name}/nics", api_vm_nics, API_ROLE_VIEWER, "vmNicsList",
	  "A VM's NICs: nic, mac, network, ip", NULL, NULL },
	{ "GET", API_PREFIX "/networks", api_nets_list, API_ROLE_VIEWER, "networksList",
	  "Every lab network with its state", NULL, NULL },
	{ "POST", API_PREFIX "/networks", api_net_create, API_ROLE_ADMIN, "networkCreate",
	  "Makes a lab network: a bridge, optional DHCP/DNS and NAT",
	  "name subnet dhcp:boolean nat:boolean",
	  "name (required): 1-31 of a-z 0-9 -; subnet: CIDR (default a free /24 of the pool); "
	  "dhcp: serve DHCP and DNS; nat: masquerade out of the uplink" },
	{ "DELETE", API_PREFIX "/networks/{name}", api_net_delete, API_ROLE_ADMIN,
	  "networkDelete", "Removes a lab network (409 while VM NICs use it, unless force)",
	  "force:boolean", "force: remove it even while VM NICs are attached" },
	{ "GET", API_PREFIX "/tokens", api_tokens_list, API_ROLE_ADMIN, "tokensList",
	  "Every API token: name, role, created (never the secret)", NULL, NULL },
	{ "POST", API_PREFIX "/tokens", api_token_new, API_ROLE_ADMIN, "tokenCreate",
	  "Makes a token; its secret is in this reply only", "name role",
	  "name (required): 1-64 of A-Z a-z 0-9 . _ -; role (required): admin|operator|viewer" },
	{ "DELETE", API_PREFIX "/tokens/{name}", api_token_delete, API_ROLE_ADMIN, "tokenRevoke",
	  "Revokes a token: it stops working at once", NULL, NULL },
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
	/* metrics (api_stats.c; query parameters in api_query.c) */
	{ "GET", API_PREFIX "/vms/{name}/stats", api_vm_stats, API_ROLE_VIEWER, "vmStats",
	  "A VM's metrics: CPU, memory, disk and NIC counters, every second or minute", NULL,
	  NULL },
	{ "GET", API_PREFIX "/host/stats", api_host_stats, API_ROLE_VIEWER, "hostStats",
	  "The host's metrics: CPU, memory, load, storage, every second or minute", NULL, NULL },
	/* images: streamed upload and download, tag, rm, chain (api_stream.h);
	 * the upload routes come before /images/{id}/... so that they win */
	{ "POST", API_PREFIX "/images/uploads", api_upload_create, API_ROLE_ADMIN,
	  "imageUploadCreate", "Starts an image upload: an empty file in the catalog's store",
	  "size", "size: the bytes to come (decimal), 507 when they cannot fit the disk" },
	{ "GET", API_PREFIX "/images/uploads/{upload}", api_upload_get, API_ROLE_ADMIN,
	  "imageUploadGet", "An upload: the offset the server has (resume there), "
	  "the SHA-256 of those bytes", NULL, NULL },
	{ "PUT", API_PREFIX "/images/uploads/{upload}", api_upload_put, API_ROLE_ADMIN,
	  "imageUploadPut", "Appends the body (application/octet-stream) at the upload's "
	  "offset; Content-Range: bytes START-END/TOTAL|* with START that offset (409 "
	  "otherwise); 507 and the upload removed when the disk is full", NULL, NULL },
	{ "POST", API_PREFIX "/images/uploads/{upload}/commit", api_upload_commit,
	  API_ROLE_ADMIN, "imageUploadCommit", "Checks the uploaded VHD as `image import` "
	  "does (standalone, undamaged) and imports it into the catalog",
	  "name os arch boot sha256", "name: NAME[:VERSION]; os, arch, boot: metadata; "
	  "sha256: the upload's expected SHA-256 (400 on a mismatch)" },
	{ "DELETE", API_PREFIX "/images/uploads/{upload}", api_upload_delete, API_ROLE_ADMIN,
	  "imageUploadDelete", "Abandons an upload and removes its data", NULL, NULL },
	{ "GET", API_PREFIX "/images/{id}/file", api_image_file, API_ROLE_VIEWER,
	  "imageFileGet", "The image's VHD file (application/octet-stream); Range: "
	  "bytes=A-B gets 206", NULL, NULL },
	{ "POST", API_PREFIX "/images/{id}/tag", api_image_tag, API_ROLE_ADMIN, "imageTag",
	  "Gives the image another name", "name",
	  "name: NAME[:VERSION] (without a version, the next number)" },
	{ "DELETE", API_PREFIX "/images/{id}", api_image_rm, API_ROLE_ADMIN, "imageRm",
	  "Removes an image and its file; 409 while a VM or another image uses it", NULL, NULL },
	{ "GET", API_PREFIX "/images/{id}/chain", api_image_chain, API_ROLE_VIEWER,
	  "imageChain", "The image, the images it derives from (parent first), the images "
	  "derived from it and the VMs using it", NULL, NULL },
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
