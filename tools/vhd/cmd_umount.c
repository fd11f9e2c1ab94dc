/* tools/vhd/cmd_umount.c: `vhd umount`: flush and detach a `vhd mount`. */
#include <stdio.h>

#include "tools/common/cli.h"
#include "tools/vhd/cmds.h"

int cmd_umount(int argc, char **argv)
{
	fputs("vhd umount: not implemented yet\n", stderr);
	return CLI_FAIL;
}
