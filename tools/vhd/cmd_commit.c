/* tools/vhd/cmd_commit.c: `vhd commit` and `vhd flatten`. */
#include <getopt.h>
#include <stdio.h>

#include "common/log.h"
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

static void commit_progress(void *opaque, uint64_t done, uint64_t total)
{
	int *last = opaque;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (pct / 10 != *last / 10)
		log_info("%d%%", pct);
	*last = pct;
}

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
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
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
	rc = vhd_commit(argv[optind], flags, commit_progress, &last);
	if (rc)
		return vt_fail(argv[optind], rc, "commit failed");
	return CLI_OK;
}

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
	if (argc != 2)
		return vt_usage(flatten_usage);
	rc = vhd_flatten(argv[1], commit_progress, &last);
	if (rc)
		return vt_fail(argv[1], rc, "flatten failed");
	return CLI_OK;
}
