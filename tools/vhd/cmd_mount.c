/* tools/vhd/cmd_mount.c: `vhd mount`: the raw view of an image via FUSE. */
#include <stdio.h>

#include "tools/common/cli.h"
#include "tools/vhd/cmds.h"

int cmd_mount(int argc, char **argv)
{
	fputs("vhd mount: not implemented yet\n", stderr);
	return CLI_FAIL;
}
