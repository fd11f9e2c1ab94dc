/* tools/vhd/cmd_map.c: `vhd map`: allocated ranges and the layer holding them. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd_ops.h"

static const char map_usage[] =
	"map [--json] [-U] FILE\n"
	"\n"
	"Lists the allocated ranges of the virtual disk (byte offset, length)\n"
	"and which layer of the chain holds each: depth 1 is FILE, 2 its parent\n"
	"and so on. --json lists every range, including unallocated ones\n"
	"(depth 0, reading as zeros), like 'qemu-img map --output=json'.\n"
	"-U, --force-share: read even while another process writes the image.";

struct map_out {
	struct vhd *v;
	bool json;
	unsigned n;
};

static int map_print(void *opaque, const struct vhd_extent *e)
{
	struct map_out *o = opaque;
	const char *file = vhd_layer_path(o->v, e->depth);

	if (!o->json) {
		if (e->depth)
			printf("%-16llu %-16llu %-5d %s\n", (unsigned long long)e->start,
			       (unsigned long long)e->length, e->depth, file ? file : "?");
		return 0;
	}
	printf("%s\n  {\"start\": %llu, \"length\": %llu, \"depth\": %d, \"data\": %s, "
	       "\"zero\": %s", o->n++ ? "," : "", (unsigned long long)e->start,
	       (unsigned long long)e->length, e->depth, e->depth ? "true" : "false",
	       e->depth ? "false" : "true");
	if (file) {
		printf(", \"file\": ");
		vt_json_str(stdout, file);
	}
	printf("}");
	return 0;
}

int cmd_map(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force-share", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct map_out o = { 0 };
	unsigned flags = 0;
	int c, rc;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "hU", opts)) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'U': flags |= VHD_OPEN_FORCE_SHARE; break;
		case 'h':
			printf("usage: vhd %s\n", map_usage);
			return CLI_OK;
		default:
			return vt_usage(map_usage);
		}
	}
	if (argc - optind != 1)
		return vt_usage(map_usage);
	if (vt_open_flags(argv[optind], flags, &o.v))
		return CLI_FAIL;
	if (o.json)
		printf("[");
	else
		printf("%-16s %-16s %-5s %s\n", "start", "length", "depth", "file");
	rc = vhd_map(o.v, 0, vhd_size(o.v), map_print, &o);
	if (o.json)
		printf("\n]\n");
	if (rc)
		vt_fail(argv[optind], rc, "map");
	vhd_close(o.v);
	return rc ? CLI_FAIL : CLI_OK;
}
