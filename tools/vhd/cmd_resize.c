/* tools/vhd/cmd_resize.c: `vhd resize` and `vhd compact`. */
#include <getopt.h>
#include <stdio.h>

#include "common/log.h"
#include "common/util.h"
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
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
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

static const char compact_usage[] =
	"compact FILE\n"
	"\n"
	"Drops the blocks of a dynamic disk that hold only zeros, and those of a\n"
	"differencing disk that hold only what its parent reads anyway, then\n"
	"closes the gaps and shortens the file. What the disk reads is unchanged.";

int cmd_compact(int argc, char **argv)
{
	struct vhd_compact_stats st;
	char a[32], b[32];
	int rc;

	vt_init();
	if (cli_wants_help(argc, argv)) {
		printf("usage: vhd %s\n", compact_usage);
		return CLI_OK;
	}
	if (argc != 2)
		return vt_usage(compact_usage);
	rc = vhd_compact(argv[1], NULL, NULL, &st);
	if (rc)
		return vt_fail(argv[1], rc, "compact failed");
	printf("%s: %u block%s dropped, %u moved; %s -> %s\n", argv[1], st.dropped,
	       st.dropped == 1 ? "" : "s", st.moved,
	       size_format(st.old_file_size, a, sizeof(a)),
	       size_format(st.new_file_size, b, sizeof(b)));
	return CLI_OK;
}
