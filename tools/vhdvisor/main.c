/* tools/vhdvisor/main.c: the vhdvisor CLI; one file per subcommand. */
#include <sys/stat.h>

#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

static const struct cli_cmd vhdvisor_cmds[] = {
	{ "net", cmd_net, "lab networks: create, list, show, up, rm" },
	{ "run", cmd_run, "run one VM in the foreground (QEMU engine)" },
	{ "image", cmd_image, "image catalog: import, list, show, tag, export, rm, gc" },
	{ "vm", cmd_vm, "VMs from images: create, clone, start, stop, snapshot, revert" },
	{ "catalog", cmd_catalog, "the catalog itself: check, recover" },
	{ "lab", cmd_lab, "labs of linked clones: create, start, stop, reset, rm, list" },
	{ "token", cmd_token, "API tokens of vhdvisord: create, list, revoke" },
	{ 0 },
};

int main(int argc, char **argv)
{
	/* What we create (images, the catalog, consoles, logs, sockets, and
	 * the files of the programs we start: QEMU, qemu-img, SQLite's
	 * journals) is private to the user who runs us, whatever the
	 * caller's umask; our own open()/mkdir() calls say 0600/0700 too. */
	umask(077);
	return cli_dispatch("vhdvisor", vhdvisor_cmds, CLI_STATE_OPT, argc, argv);
}
