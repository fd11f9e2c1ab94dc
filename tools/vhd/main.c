/* tools/vhd/main.c: the vhd image tool; one file per subcommand. */
#include "tools/common/cli.h"
#include "tools/vhd/cmds.h"

static const struct cli_cmd vhd_cmds[] = {
	{ 0 },
};

int main(int argc, char **argv)
{
	return cli_dispatch("vhd", vhd_cmds, argc, argv);
}
