/* tools/vhd/cmd_flatten.c: `vhd flatten`: pull the parents' data into a
 * child and drop its parent link. */
#include <stdio.h>

#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd_ops.h"

static const char flatten_usage[] =
	"flatten FILE\n"
	"\n"
	"Copies the data of every parent of the differencing disk FILE into it\n"
	"and drops the parent link: FILE becomes a dynamic disk with the same\n"
	"content. If interrupted, run the command again to finish.";

int cmd_flatten(int argc, char **argv)
{
	int rc, last = 0;

	vt_init();
	if (cli_wants_help(argc, argv)) {
		printf("usage: vhd %s\n", flatten_usage);
		return CLI_OK;
	}
	if (vt_plain_args(&argc, &argv, flatten_usage))
		return CLI_USAGE;
	if (argc != 2)
		return vt_usage(flatten_usage);
	rc = vhd_flatten(argv[1], vt_progress, &last);
	if (rc)
		return vt_fail(argv[1], rc, "flatten failed");
	return CLI_OK;
}
