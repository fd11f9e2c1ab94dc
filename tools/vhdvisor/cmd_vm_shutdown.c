/* tools/vhdvisor/cmd_vm_shutdown.c: `vhdvisor vm shutdown NAME [--timeout S]`.
 *
 * The graceful stop: asks the guest to shut down through the ACPI power
 * button (the runtime's API "powerdown", QMP system_powerdown) and waits
 * for the guest to power off; after S seconds (default 60) it stops the
 * VM the hard way, as `vm stop` does (the runtime stops QEMU, disks
 * flushed, the guest's own shutdown never ran): vmrec_shutdown()
 * (images/vmctl.h), which the API's powerdown calls too.
 */
#include <stdio.h>

#include "common/log.h"
#include "images/img_store.h"
#include "images/vmctl.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

#define HARD_STOP_S 60

int cmd_vm_shutdown(const char *name, unsigned timeout_s)
{
	struct vmrec_shutdown_result res;

	if (vmrec_shutdown(name, timeout_s * 1000u, &res)) {
		log_err("%s", img_last_error());
		return CLI_FAIL;
	}
	if (!res.forced) {
		printf("%s shut down\n", name);
		return CLI_OK;
	}
	log_warn("%s", res.why);
	if (res.killed)
		log_warn("%s did not stop in %d s; killed it", name, HARD_STOP_S);
	printf("stopped %s (forced)\n", name);
	return CLI_OK;
}
