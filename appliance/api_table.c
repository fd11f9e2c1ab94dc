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
};

const struct api_route *api_routes(size_t *n)
{
	*n = ARRAY_SIZE(routes);
	return routes;
}
