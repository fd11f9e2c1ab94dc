/* appliance/api_host.c: GET /host. */
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "appliance/api_int.h"
#include "appliance/tls.h"
#include "hv/accel.h"

void api_host_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	json_object *j = json_object_new_object(), *v = json_object_new_object();
	json_object *st = json_object_new_object();
	char name[256] = "", fp[TLS_FP_LEN + 1];
	struct sysinfo si;
	struct statvfs sv;

	gethostname(name, sizeof(name) - 1);
	json_object_object_add(j, "name", json_object_new_string(name));
	/* the caller's own role and name: the web console hides what it may not do */
	json_object_object_add(j, "role", json_object_new_string(api_role_name(req->role)));
	json_object_object_add(j, "who", json_object_new_string(req->who ? req->who : ""));
	json_object_object_add(j, "cpus", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	if (!sysinfo(&si)) {
		json_object_object_add(j, "memory", json_object_new_int64(
					       (int64_t)si.totalram * si.mem_unit));
		json_object_object_add(j, "memory_free", json_object_new_int64(
					       (int64_t)si.freeram * si.mem_unit));
	}
	/* what hv's "auto" picks: KVM when the CPU shows hardware
	 * virtualization and /dev/kvm opens, else TCG */
	json_object_object_add(j, "accelerator", json_object_new_string(
				       hv_kvm_usable() ? "kvm" : "tcg"));
	json_object_object_add(v, "vhdvisor", json_object_new_string(VHDVISOR_VERSION));
	json_object_object_add(v, "api", json_object_new_string("v1"));
	json_object_object_add(j, "version", json_object_new_string(VHDVISOR_VERSION));
	json_object_object_add(j, "versions", v);
	json_object_object_add(st, "path", json_object_new_string(ctx->state_dir));
	if (!statvfs(ctx->state_dir, &sv)) {
		json_object_object_add(st, "size", json_object_new_int64(
					       (int64_t)(sv.f_blocks * sv.f_frsize)));
		json_object_object_add(st, "free", json_object_new_int64(
					       (int64_t)(sv.f_bavail * sv.f_frsize)));
	}
	json_object_object_add(j, "storage", st);
	/* the daemon's TLS certificate (STATE/tls), which clients pin; null
	 * until vhdvisord first listens on TCP */
	json_object_object_add(j, "tls_fingerprint", api_tls_fingerprint(ctx->state_dir, fp) ?
			       NULL : json_object_new_string(fp));
	api_ok(rep, j);
}
