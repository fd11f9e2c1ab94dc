/* images/vmctl.c: a VM's definition changes and requests to its running
 * runtime (images/vmctl.h). */
#include "images/vmctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "common/util.h"
#include "hv/vm_client.h"
#include "hv/vm_config.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "images/vmrun.h"
#include "images/vmstart.h"

#define RUNTIME_TIMEOUT_MS 5000
#define SHUTDOWN_POLL_MS   100
#define HARD_STOP_MS       60000u

int vmrec_mem_parse(const char *s, uint64_t *mem)
{
	uint64_t v;

	if (size_parse(s, &v) || v > VM_MAX_MEM)
		return img_fail(-EINVAL, "64M to 1T");
	if (strspn(s, "0123456789") == strlen(s))
		v = v > VM_MAX_MEM >> 20 ? VM_MAX_MEM + 1 : v << 20;	/* a plain number: MiB */
	if (v < VM_MIN_MEM || v > VM_MAX_MEM || v % (1u << 20))
		return img_fail(-EINVAL, "memory is a whole number of MiB from 64M to 1T");
	*mem = v;
	return 0;
}

int vmrec_set(struct cat *c, const char *name, const struct vmrec_set *s)
{
	struct cat_vm vm;
	int r;

	if (s->cpus > 64)
		return img_fail(-EINVAL, "bad vCPU count %u (1-64)", s->cpus);
	if (s->mem && (s->mem < VM_MIN_MEM || s->mem > VM_MAX_MEM || s->mem % (1u << 20)))
		return img_fail(-EINVAL, "bad memory size (64M to 1T, whole MiB)");
	r = cat_vm_get(c, name, &vm);
	if (r == -ENOENT)
		return img_fail(r, "no VM '%s'", name);
	if (r)
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	if (s->cpus)
		vm.cpus = s->cpus;
	if (s->mem)
		vm.mem = s->mem;
	if (s->cloud_init >= 0)
		vm.cloud_init = !!s->cloud_init;
	r = cat_vm_update(c, &vm);
	if (r)
		return img_fail(r, "catalog: %s", cat_errmsg(c));
	return 0;
}

/* Asks VM @name's runtime @cmd; its reply to *@reply when not NULL. */
static int ask(const char *name, const char *cmd, json_object **reply)
{
	json_object *req;
	char api[4200], err[256] = "";
	int r;

	if (!vmrec_running(name))
		return img_fail(-ESRCH, "%s is not running", name);
	if (vmrec_run_path(name, "api", api, sizeof(api)))
		return img_fail(-ENAMETOOLONG, "%s: API socket path too long", name);
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	r = vm_client_request(api, req, reply, RUNTIME_TIMEOUT_MS, err, sizeof(err));
	json_object_put(req);
	if (r == -ENOENT || r == -ECONNREFUSED)
		return img_fail(-ESRCH, "%s is not running", name);
	if (r)
		return img_fail(r, "%s: %s: %s", name, cmd, err);
	return 0;
}

int vmrec_runtime_cmd(const char *name, const char *cmd)
{
	return ask(name, cmd, NULL);
}

int vmrec_runtime_state(const char *name, char *state, size_t len)
{
	json_object *reply = NULL, *st;
	int r = ask(name, "status", &reply);

	if (r)
		return r;
	if (!json_object_object_get_ex(reply, "state", &st))
		r = img_fail(-EIO, "%s: its runtime gave no state", name);
	else
		snprintf(state, len, "%s", json_object_get_string(st));
	json_object_put(reply);
	return r;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to @ms for the runtime @pid of VM @name to be gone. */
static bool wait_gone(const char *name, pid_t pid, long long ms)
{
	long long end = now_ms() + ms;

	while (vmrec_pid(name) == pid) {
		if (now_ms() >= end)
			return false;
		poll(NULL, 0, SHUTDOWN_POLL_MS);
	}
	return true;
}

int vmrec_shutdown(const char *name, unsigned timeout_ms, struct vmrec_shutdown_result *res)
{
	pid_t pid = vmrec_pid(name);
	int r;

	memset(res, 0, sizeof(*res));
	if (!pid)
		return img_fail(-ESRCH, "%s is not running", name);
	r = ask(name, "powerdown", NULL);
	if (r == -ESRCH && wait_gone(name, pid, 0))
		return 0;	/* it went away just now */
	if (r)
		snprintf(res->why, sizeof(res->why), "%s: cannot press its power button (%s)",
			 name, img_last_error());
	else if (wait_gone(name, pid, timeout_ms))
		return 0;
	else
		snprintf(res->why, sizeof(res->why), "%s did not shut down in %u s", name,
			 timeout_ms / 1000);
	/* the hard stop of `vm stop` */
	r = vmrec_stop(name, HARD_STOP_MS, &res->killed);
	if (r) {
		if (!wait_gone(name, pid, 0))
			return img_fail(-EIO, "%s: cannot stop it", name);
		res->killed = false;
		return 0;	/* it powered off just now */
	}
	res->forced = true;
	return 0;
}
