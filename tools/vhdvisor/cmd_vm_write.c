/* tools/vhdvisor/cmd_vm_write.c: the `vhdvisor vm` changes that go through
 * the management API by whichever door apicli.c picks (create, clone, set,
 * rm, shutdown, snapshot, revert, snapshot-rm, disk list): each builds a
 * request, and prints what the reply says as the command always printed. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "appliance/api.h"
#include "common/log.h"
#include "images/catalog.h"
#include "tools/common/cli.h"
#include "tools/common/cli_json.h"
#include "tools/vhdvisor/cmds.h"

#define HARD_STOP_S 60  /* the runtime's hard stop after a forced shutdown */

/* Names the API cannot carry name no VM either (as cmd_vm.c says). */
static bool named_ok(const char *name)
{
	if (api_name_valid(name))
		return true;
	log_err("no VM '%s'", name);
	return false;
}

/* A new VM's name the API cannot carry: the catalog's refusal, as the
 * library words it (images/vmrec.c). */
static bool new_name_ok(const char *name)
{
	if (api_name_valid(name))
		return true;
	log_err("bad VM name '%s' (1-%d of [A-Za-z0-9._-])", name, CAT_NAME_MAX);
	return false;
}

static void add_sizes(json_object *body, unsigned cpus, const char *mem)
{
	if (cpus)
		json_object_object_add(body, "cpus", json_object_new_int((int)cpus));
	if (mem)
		json_object_object_add(body, "memory", json_object_new_string(mem));
}

int vmapi_create(const char *state, const char *name, const char *image, unsigned cpus,
		 const char *mem)
{
	char path[API_PATH_MAX];
	json_object *body, *rep;
	int r;

	if (!new_name_ok(name))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms", NULL))
		return CLI_USAGE;
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(name));
	json_object_object_add(body, "image", json_object_new_string(image));
	add_sizes(body, cpus, mem);
	r = apicli_do(state, "POST", path, body, &rep);
	if (r)
		return r;
	printf("created %s from %.12s\n", cli_jstr(rep, "name"),
	       cli_jstr(rep, "image") ? cli_jstr(rep, "image") : "-");
	json_object_put(rep);
	return CLI_OK;
}

int vmapi_clone(const char *state, const char *src, const char *dst, unsigned count, bool full,
		unsigned cpus, const char *mem)
{
	char path[API_PATH_MAX];
	json_object *body, *rep, *vms;
	size_t n;
	int r;

	if (!named_ok(src) || !new_name_ok(dst))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms/", src, "/clone", NULL))
		return CLI_USAGE;
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(dst));
	if (count)
		json_object_object_add(body, "count", json_object_new_int((int)count));
	if (full)
		json_object_object_add(body, "full", json_object_new_boolean(1));
	add_sizes(body, cpus, mem);
	r = apicli_do(state, "POST", path, body, &rep);
	if (r)
		return r;
	if (!json_object_object_get_ex(rep, "vms", &vms) || !(n = json_object_array_length(vms))) {
		log_err("the reply names no clone");
		json_object_put(rep);
		return CLI_FAIL;
	}
	if (n == 1)
		printf("cloned %s into %s\n", src,
		       json_object_get_string(json_object_array_get_idx(vms, 0)));
	else
		printf("cloned %s into %s .. %s (%zu VMs)\n", src,
		       json_object_get_string(json_object_array_get_idx(vms, 0)),
		       json_object_get_string(json_object_array_get_idx(vms, n - 1)), n);
	json_object_put(rep);
	return CLI_OK;
}

int vmapi_set(const char *state, const char *name, unsigned cpus, const char *mem,
	      int cloud_init, bool *pending)
{
	char path[API_PATH_MAX];
	json_object *body, *rep;
	int r;

	if (!named_ok(name))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms/", name, NULL))
		return CLI_USAGE;
	body = json_object_new_object();
	add_sizes(body, cpus, mem);
	if (cloud_init >= 0)
		json_object_object_add(body, "cloud_init", json_object_new_boolean(cloud_init));
	r = apicli_do(state, "PATCH", path, body, &rep);
	if (r)
		return r;
	*pending = cli_jbool(rep, "pending");
	json_object_put(rep);
	return CLI_OK;
}

int vmapi_rm(const char *state, const char *name)
{
	char path[API_PATH_MAX];
	json_object *rep;
	int r;

	if (!named_ok(name))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms/", name, NULL))
		return CLI_USAGE;
	r = apicli_do(state, "DELETE", path, NULL, &rep);
	json_object_put(rep);
	return r;
}

int vmapi_shutdown(const char *state, const char *name, unsigned timeout_s)
{
	char path[API_PATH_MAX];
	json_object *body, *rep;
	int r;

	if (!named_ok(name))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms/", name, "/powerdown", NULL))
		return CLI_USAGE;
	body = json_object_new_object();
	json_object_object_add(body, "timeout", json_object_new_int((int)timeout_s));
	r = apicli_do(state, "POST", path, body, &rep);
	if (r)
		return r;
	if (!cli_jbool(rep, "forced")) {
		printf("%s shut down\n", name);
	} else {
		log_warn("%s", cli_jstr(rep, "reason") ? cli_jstr(rep, "reason") : "forced");
		if (cli_jbool(rep, "killed"))
			log_warn("%s did not stop in %d s; killed it", name, HARD_STOP_S);
		printf("stopped %s (forced)\n", name);
	}
	json_object_put(rep);
	return CLI_OK;
}

int vmapi_snapshot(const char *state, const char *name, const char *tag)
{
	char path[API_PATH_MAX];
	json_object *body = NULL, *rep;
	int r;

	if (!named_ok(name))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms/", name, "/snapshots", NULL))
		return CLI_USAGE;
	if (tag) {
		body = json_object_new_object();
		json_object_object_add(body, "tag", json_object_new_string(tag));
	}
	r = apicli_do(state, "POST", path, body, &rep);
	if (r)
		return r;
	printf("snapshot %s of %s\n", cli_jstr(rep, "tag"), name);
	json_object_put(rep);
	return CLI_OK;
}

int vmapi_revert(const char *state, const char *name, const char *tag)
{
	char path[API_PATH_MAX];
	json_object *rep;
	int r;

	if (!named_ok(name))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms/", name, "/snapshots/", tag, "/revert", NULL))
		return CLI_USAGE;
	r = apicli_do(state, "POST", path, NULL, &rep);
	json_object_put(rep);
	return r;
}

int vmapi_snapshot_rm(const char *state, const char *name, const char *tag)
{
	char path[API_PATH_MAX];
	json_object *rep;
	int r;

	if (!named_ok(name))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms/", name, "/snapshots/", tag, NULL))
		return CLI_USAGE;
	r = apicli_do(state, "DELETE", path, NULL, &rep);
	if (r)
		return r;
	if (cli_jstr(rep, "note"))	/* a finished or discarded earlier merge */
		log_warn("%s", cli_jstr(rep, "note"));
	json_object_put(rep);
	return CLI_OK;
}

int vmapi_disk_list(const char *state, const char *name, bool json)
{
	char path[API_PATH_MAX];
	json_object *arr;
	int r;

	if (!named_ok(name))
		return CLI_FAIL;
	if (apicli_path(path, sizeof(path), "/vms/", name, "/disks", NULL))
		return CLI_USAGE;
	r = apicli_do(state, "GET", path, NULL, &arr);
	if (r)
		return r;
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	} else {
		printf("DISK\tSIZE\tFILE\n");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *d = json_object_array_get_idx(arr, i), *n, *sz, *f;

			json_object_object_get_ex(d, "disk", &n);
			json_object_object_get_ex(d, "size", &sz);
			json_object_object_get_ex(d, "file", &f);
			printf("%d\t%lld\t%s\n", json_object_get_int(n),
			       (long long)json_object_get_int64(sz), json_object_get_string(f));
		}
	}
	json_object_put(arr);
	return CLI_OK;
}
