/* appliance/api_int.h: the handlers behind the route table (api_table.c),
 * one file per resource, and helpers they share. */
#ifndef VV_APPLIANCE_API_INT_H
#define VV_APPLIANCE_API_INT_H

#include "appliance/api.h"

struct cat;

#ifndef VHDVISOR_VERSION
#define VHDVISOR_VERSION "0.1.0"
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

/* api_console.c */
void api_vm_console(const struct api_ctx *ctx, const struct api_req *req,
		    struct api_reply *rep);

/* Opens the catalog of @ctx; on failure sets a 500 reply and returns
 * -errno. */
int api_cat_open(const struct api_ctx *ctx, struct api_reply *rep, struct cat **out);

/* The string field @key of @body into *@out (NULL when absent); false
 * with a 400 reply when it is there but not a string. */
bool api_body_string(json_object *body, const char *key, const char **out,
		     struct api_reply *rep);

#endif
