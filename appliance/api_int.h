/* appliance/api_int.h: the handlers behind the route table (api_table.c),
 * one file per resource, and helpers they share. */
#ifndef VV_APPLIANCE_API_INT_H
#define VV_APPLIANCE_API_INT_H

#include <pthread.h>
#include <stdint.h>

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

/* ---- tasks, events, labs (api_tasks.c, api_labs.c) ---- */
void api_tasks_list(const struct api_ctx *ctx, const struct api_req *req,
		    struct api_reply *rep);
void api_task_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_task_cancel(const struct api_ctx *ctx, const struct api_req *req,
		     struct api_reply *rep);
void api_events_get(const struct api_ctx *ctx, const struct api_req *req,
		    struct api_reply *rep);
void api_labs_list(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_lab_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_lab_start(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_lab_stop(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_lab_reset(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
/* The reply of a route that started task @id on @target (task_submit()
 * returned @r): 202 and the task, or the error (409 busy, 503 ...). */
void api_task_reply(struct api_reply *rep, int r, const char *id, const char *target);
/* VM starts and stops, one at a time in the process (api_vms.c). */
extern pthread_mutex_t api_run_lock;
/* True for a route that answers 202 (it started or cancels a task). */
bool api_route_accepts(const struct api_route *r);
/* ---- end of tasks, events, labs ---- */
/* api_stats.c: metrics (issue 12) */
void api_vm_stats(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_host_stats(const struct api_ctx *ctx, const struct api_req *req,
		    struct api_reply *rep);
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

/* ---- write routes for VMs, networks, tokens (api_vm_write.c,
 * api_vm_snap.c, api_nets.c, api_tokens.c) ---- */
struct cat_vm;
void api_vm_create(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_clone(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_set(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_delete(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_powerdown(const struct api_ctx *ctx, const struct api_req *req,
		      struct api_reply *rep);
void api_vm_pause(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_resume(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_snaps_list(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep);
void api_vm_snap_take(const struct api_ctx *ctx, const struct api_req *req,
		      struct api_reply *rep);
void api_vm_snap_revert(const struct api_ctx *ctx, const struct api_req *req,
			struct api_reply *rep);
void api_vm_snap_delete(const struct api_ctx *ctx, const struct api_req *req,
			struct api_reply *rep);
void api_vm_disks(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_vm_nics(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_nets_list(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_net_create(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_net_delete(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_tokens_list(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_token_new(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep);
void api_token_delete(const struct api_ctx *ctx, const struct api_req *req,
		      struct api_reply *rep);

/* Sets the reply of a failed library call @r (-errno) with its reason
 * @why: 400 -EINVAL, 404 -ENOENT, 409 -EEXIST/-EBUSY/-EALREADY/-ESRCH
 * (state conflicts), 500 otherwise. */
void api_fail_errno(struct api_reply *rep, int r, const char *why);
/* The integer field @key into *@out when present (else *@out is left);
 * false with a 400 reply when it is outside @lo..@hi. */
bool api_body_int(json_object *body, const char *key, int64_t lo, int64_t hi, int64_t *out,
		  struct api_reply *rep);
/* The boolean field @key into *@out when present. */
void api_body_bool(json_object *body, const char *key, bool *out);
/* The string field @key, required and a valid name (api_name_valid()):
 * NULL with a 400 reply otherwise. */
const char *api_body_name(json_object *body, const char *key, struct api_reply *rep);
/* Loads VM @name, or a 404 (no such VM) or 500 reply and -errno. */
int api_vm_find(struct cat *c, const char *name, struct cat_vm *vm, struct api_reply *rep);

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
