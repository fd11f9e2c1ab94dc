/* tools/vhd/cmd_commit.c: `vhd commit`: merge a child into its parent. */
#include <getopt.h>
#include <stdio.h>

#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd_ops.h"

static const char commit_usage[] =
	"commit [--drop] CHILD\n"
	"\n"
	"Merges the differencing disk CHILD into its immediate parent. The child\n"
	"stays a valid, empty child of that parent, or is deleted with --drop.\n"
	"The chain reads the same data at every moment; if interrupted, run the\n"
	"command again to finish. Other children of the parent see the change.";

int cmd_commit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "drop", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned flags = 0;
	int c, rc, last = 0;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'd': flags |= VHD_COMMIT_DROP; break;
		case 'h':
			printf("usage: vhd %s\n", commit_usage);
			return CLI_OK;
		default:
			return vt_usage(commit_usage);
		}
	}
	if (argc - optind != 1)
		return vt_usage(commit_usage);
	rc = vhd_commit(argv[optind], flags, vt_progress, &last);
	if (rc)
		return vt_fail(argv[optind], rc, "commit failed");
	return CLI_OK;
}
