/* tools/vhd/main.c: the vhd image tool; one file per subcommand. */
#include "tools/common/cli.h"
#include "tools/vhd/cmds.h"

static const struct cli_cmd vhd_cmds[] = {
	{ "serve", cmd_serve, "serve images over NBD (Unix socket or TCP)" },
	{ "mount", cmd_mount, "mount an image's raw view with FUSE" },
	{ "umount", cmd_umount, "flush and unmount a 'vhd mount'" },
	{ 0 },
};

int main(int argc, char **argv)
{
	return cli_dispatch("vhd", vhd_cmds, argc, argv);
}
