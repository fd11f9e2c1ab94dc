/* tools/vhdvisor/main.c: the vhdvisor CLI; one file per subcommand. */
#include <sys/stat.h>

#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

/* The commands with no API route yet refuse a remote host rather than act
 * on this one. */
#define LOCAL_ONLY(fn, name)                                                    \
	static int fn##_here(int argc, char **argv)                             \
	{                                                                       \
		return apicli_remote() ? apicli_local_only(name, NULL) : fn(argc, argv); \
	}
LOCAL_ONLY(cmd_run, "run")
LOCAL_ONLY(cmd_catalog, "catalog")
LOCAL_ONLY(cmd_lab, "lab")

static const struct cli_cmd vhdvisor_cmds[] = {
	{ "net", cmd_net, "lab networks: create, list, show, up, rm" },
	{ "run", cmd_run_here, "run one VM in the foreground (QEMU engine)" },
	{ "image", cmd_image, "image catalog: import, list, show, tag, export, rm, gc" },
	{ "vm", cmd_vm, "VMs from images: create, clone, start, stop, snapshot, revert" },
	{ "catalog", cmd_catalog_here, "the catalog itself: check, recover" },
	{ "lab", cmd_lab_here, "labs of linked clones: create, start, stop, reset, rm, list" },
	{ "token", cmd_token, "API tokens of vhdvisord: create, list, revoke" },
	{ "host", cmd_host, "the host: show (resources, certificate fingerprint)" },
	{ 0 },
};

int main(int argc, char **argv)
{
	/* What we create (images, the catalog, consoles, logs, sockets, and
	 * the files of the programs we start: QEMU, qemu-img, SQLite's
	 * journals) is private to the user who runs us, whatever the
	 * caller's umask; our own open()/mkdir() calls say 0600/0700 too. */
	umask(077);
	return cli_dispatch("vhdvisor", vhdvisor_cmds, CLI_STATE_OPT | CLI_REMOTE_OPT, argc, argv);
}
