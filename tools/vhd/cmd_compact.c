/* tools/vhd/cmd_compact.c: `vhd compact`: drop blocks that add nothing and
 * shorten the file. */
#include <stdio.h>

#include "common/util.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd_ops.h"

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
	if (vt_plain_args(&argc, &argv, compact_usage))
		return CLI_USAGE;
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
