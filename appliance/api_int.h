/* appliance/api_int.h: the handlers behind the route table (api_table.c),
 * one file per resource, and helpers they share. */
#ifndef VV_APPLIANCE_API_INT_H
#define VV_APPLIANCE_API_INT_H

#include "appliance/api.h"

struct cat;

#ifndef VHDVISOR_VERSION
#define VHDVISOR_VERSION "0.1.0"
/* images: uploads (api_upload.c), the file (api_download.c), tag, rm and
 * chain (api_image_edit.c) */
void api_upload_create(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep);
void api_upload_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_upload_put(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_upload_commit(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep);
void api_upload_delete(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep);
void api_image_file(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_image_tag(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_image_rm(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_image_chain(const struct api_ctx *ctx, const struct api_req *req,
		     struct api_reply *rep);
/* Matches @method @path and checks @role as api_dispatch() does: true with
 * *@route and @req's params (pointing into @params), or false with @rep
 * filled. */
bool api_resolve(const char *method, const char *path, enum api_role role,
		 char params[][API_PARAM_MAX], struct api_req *req,
		 const struct api_route **route, struct api_reply *rep);
/* Resolves image reference @ref into @id: false with a 404/409/500 reply. */
bool api_image_ref(struct cat *c, const char *ref, char *id, struct api_reply *rep);

#endif

/* api_host.c */
void api_host_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_openapi_get(const struct api_ctx *ctx, const struct api_req *req,
		     struct api_reply *rep);

/* api_images.c */
void api_images_list(const struct api_ctx *ctx, const struct api_req *req,
		     struct api_reply *rep);
void api_image_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);

/* api_vms.c */
void api_vms_list(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_start(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_stop(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);

/* Opens the catalog of @ctx; on failure sets a 500 reply and returns
 * -errno. */
int api_cat_open(const struct api_ctx *ctx, struct api_reply *rep, struct cat **out);

/* The string field @key of @body into *@out (NULL when absent); false
 * with a 400 reply when it is there but not a string. */
bool api_body_string(json_object *body, const char *key, const char **out,
		     struct api_reply *rep);

/* images: uploads (api_upload.c), the file (api_download.c), tag, rm and
 * chain (api_image_edit.c) */
void api_upload_create(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep);
void api_upload_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_upload_put(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_upload_commit(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep);
void api_upload_delete(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep);
void api_image_file(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_image_tag(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_image_rm(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_image_chain(const struct api_ctx *ctx, const struct api_req *req,
		     struct api_reply *rep);
/* Matches @method @path and checks @role as api_dispatch() does: true with
 * *@route and @req's params (pointing into @params), or false with @rep
 * filled. */
bool api_resolve(const char *method, const char *path, enum api_role role,
		 char params[][API_PARAM_MAX], struct api_req *req,
		 const struct api_route **route, struct api_reply *rep);
/* Resolves image reference @ref into @id: false with a 404/409/500 reply. */
bool api_image_ref(struct cat *c, const char *ref, char *id, struct api_reply *rep);

#endif
