/* tools/vhd/cmd_create.c: `vhd create` and its alias `vhd snapshot`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd.h"

static const char create_usage[] =
	"create [--fixed|--dynamic] [--block-size N] [--prealloc] FILE SIZE\n"
	"       vhd create --parent PARENT FILE\n"
	"\n"
	"Creates a VHD image. SIZE takes binary suffixes (K, M, G, T). Dynamic\n"
	"(sparse) is the default; --fixed writes raw data plus a footer\n"
	"(--prealloc allocates its space). --parent makes a differencing child\n"
	"of PARENT (same as 'vhd snapshot PARENT FILE'). Never overwrites FILE.";

static int create_run(const char *path, const struct vhd_create_opts *o)
{
	int rc = vhd_create(path, o);

	if (rc)
		return vt_fail(path, rc, "cannot create");
	return CLI_OK;
}

int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fixed", no_argument, NULL, 'f' },
		{ "dynamic", no_argument, NULL, 'd' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "prealloc", no_argument, NULL, 'p' },
		{ "parent", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC };
	uint64_t bs = 0;
	int c;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'f': o.type = VHD_TYPE_FIXED; break;
		case 'd': o.type = VHD_TYPE_DYNAMIC; break;
		case 'p': o.prealloc = true; break;
		case 'P': o.parent = optarg; o.type = VHD_TYPE_DIFF; break;
		case 'b':
			if (vt_size(optarg, "block size", &bs))
				return CLI_USAGE;
			if (bs > UINT32_MAX || bs < VHD_MIN_BLOCK_SIZE || bs > VHD_MAX_BLOCK_SIZE ||
			    (bs & (bs - 1))) {
				log_err("block size must be a power of two from 512K to 256M");
				return CLI_USAGE;
			}
			o.block_size = (uint32_t)bs;
			break;
		case 'h':
			printf("usage: vhd %s\n", create_usage);
			return CLI_OK;
		default:
			return vt_usage(create_usage);
		}
	}
	if (o.type == VHD_TYPE_DIFF) {
		if (argc - optind != 1)
			return vt_usage(create_usage);
		return create_run(argv[optind], &o);
	}
	if (argc - optind != 2)
		return vt_usage(create_usage);
	if (vt_size(argv[optind + 1], "size", &o.size))
		return CLI_USAGE;
	if (o.type == VHD_TYPE_FIXED && o.block_size) {
		log_err("--block-size applies to dynamic images only");
		return CLI_USAGE;
	}
	return create_run(argv[optind], &o);
}

static const char snapshot_usage[] =
	"snapshot PARENT FILE\n"
	"\n"
	"Creates FILE, a differencing VHD whose parent is PARENT (an alias of\n"
	"'vhd create --parent PARENT FILE'). PARENT should not change afterwards.";

int cmd_snapshot(int argc, char **argv)
{
	struct vhd_create_opts o = { .type = VHD_TYPE_DIFF };

	vt_init();
	if (cli_wants_help(argc, argv)) {
		printf("usage: vhd %s\n", snapshot_usage);
		return CLI_OK;
	}
	if (argc != 3)
		return vt_usage(snapshot_usage);
	o.parent = argv[1];
	return create_run(argv[2], &o);
}
