/* tools/vhdvisor/cmd_vm_shutdown.c: `vhdvisor vm shutdown NAME [--timeout S]`.
 *
 * The graceful stop: asks the guest to shut down through the ACPI power
 * button (the runtime's API "powerdown", QMP system_powerdown) and waits
 * for the guest to power off; after S seconds (default 60) it stops the
 * VM the hard way, as `vm stop` does (the runtime stops QEMU, disks
 * flushed, the guest's own shutdown never ran).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/log.h"
#include "hv/vm_client.h"
#include "images/vmrun.h"
#include "images/vmstart.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

#define SHUTDOWN_POLL_MS  100
#define API_TIMEOUT_MS    5000
#define HARD_STOP_S       60

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

static int ask_powerdown(const char *name, char *err, size_t errlen)
{
	struct json_object *req = json_object_new_object();
	char api[4200];
	int r;

	if (vmrec_run_path(name, "api", api, sizeof(api))) {
		json_object_put(req);
		snprintf(err, errlen, "API socket path too long");
		return -ENAMETOOLONG;
	}
	json_object_object_add(req, "cmd", json_object_new_string("powerdown"));
	r = vm_client_request(api, req, NULL, API_TIMEOUT_MS, err, errlen);
	json_object_put(req);
	return r;
}

int cmd_vm_shutdown(const char *name, unsigned timeout_s)
{
	char err[256] = "";
	pid_t pid = vmrec_pid(name);
	bool killed;

	if (!pid) {
		log_err("%s is not running", name);
		return CLI_FAIL;
	}
	if (ask_powerdown(name, err, sizeof(err)))
		log_warn("%s: cannot press its power button (%s)", name, err);
	else if (wait_gone(name, pid, (long long)timeout_s * 1000)) {
		printf("%s shut down\n", name);
		return CLI_OK;
	} else {
		log_warn("%s did not shut down in %u s", name, timeout_s);
	}
	/* the hard stop of `vm stop` */
	if (vmrec_stop(name, HARD_STOP_S * 1000u, &killed)) {
		if (!wait_gone(name, pid, 0)) {
			log_err("%s: cannot stop it", name);
			return CLI_FAIL;
		}
		printf("%s shut down\n", name);	/* it went away just now */
		return CLI_OK;
	}
	if (killed)
		log_warn("%s did not stop in %d s; killed it", name, HARD_STOP_S);
	printf("stopped %s (forced)\n", name);
	return CLI_OK;
}
