/* tools/vhd/cmd_resize.c: `vhd resize`: change the virtual size. */
#include <getopt.h>
#include <stdio.h>

#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd_ops.h"

static const char resize_usage[] =
	"resize [--force] FILE SIZE\n"
	"\n"
	"Sets the virtual size of FILE (K/M/G/T suffixes; a multiple of 512).\n"
	"Dynamic and differencing disks grow up to 2040 GiB; fixed disks grow or\n"
	"shrink. Shrinking refuses when the part cut off holds data of FILE,\n"
	"unless --force. The partition table and file systems inside are not\n"
	"touched.";

int cmd_resize(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned flags = 0;
	uint64_t size;
	int c, rc;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'f': flags |= VHD_RESIZE_FORCE; break;
		case 'h':
			printf("usage: vhd %s\n", resize_usage);
			return CLI_OK;
		default:
			return vt_usage(resize_usage);
		}
	}
	if (argc - optind != 2)
		return vt_usage(resize_usage);
	if (vt_size(argv[optind + 1], "size", &size))
		return CLI_USAGE;
	rc = vhd_resize(argv[optind], size, flags);
	if (rc)
		return vt_fail(argv[optind], rc, "resize failed");
	return CLI_OK;
}
