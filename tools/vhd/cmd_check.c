/* tools/vhd/cmd_check.c: `vhd check`: structural check and repair. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/log.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd_ops.h"

static const char check_usage[] =
	"check [--json] [--repair | -U] FILE\n"
	"\n"
	"Checks the structure of a VHD: footer and its copy, dynamic header, BAT,\n"
	"blocks, bitmaps, parent locators and the parent link. Each problem is\n"
	"printed by name with its file offset. --repair fixes what needs no\n"
	"guessing (a footer from its valid copy, checksums, BAT entries past the\n"
	"end of the file, a missing trailing footer) and says what it changed.\n"
	"Exit status: 0 clean or fully repaired, 1 problems remain, 2 the file\n"
	"cannot be opened or is not a VHD.\n"
	"-U, --force-share: check even while another process writes the image\n"
	"(without --repair; problems may then be a write in progress).";

struct check_out {
	bool json;
	unsigned n;
};

static void check_report(void *opaque, const struct vhd_check_problem *p)
{
	struct check_out *o = opaque;
	const char *state = p->warning ? "warning" : p->repaired ? "repaired" : "error";

	if (!o->json) {
		printf("%-8s %-24s at %-12llu %s\n", state, p->name,
		       (unsigned long long)p->offset, p->detail);
		return;
	}
	printf("%s\n    {\"name\": \"%s\", \"offset\": %llu, \"severity\": \"%s\", "
	       "\"repaired\": %s, \"detail\": ", o->n ? "," : "", p->name,
	       (unsigned long long)p->offset, p->warning ? "warning" : "error",
	       p->repaired ? "true" : "false");
	vt_json_str(stdout, p->detail);
	printf("}");
	o->n++;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "repair", no_argument, NULL, 'r' },
		{ "force-share", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct check_out out = { 0 };
	struct vhd_check_result res;
	unsigned flags = 0;
	const char *path;
	int c, rc;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "hU", opts)) != -1) {
		switch (c) {
		case 'j': out.json = true; break;
		case 'r': flags |= VHD_CHECK_REPAIR; break;
		case 'U': flags |= VHD_CHECK_FORCE_SHARE; break;
		case 'h':
			printf("usage: vhd %s\n", check_usage);
			return CLI_OK;
		default:
			return vt_usage(check_usage);
		}
	}
	if (argc - optind != 1 ||
	    ((flags & VHD_CHECK_REPAIR) && (flags & VHD_CHECK_FORCE_SHARE)))
		return vt_usage(check_usage);
	path = argv[optind];
	if (out.json) {
		printf("{\n  \"file\": ");
		vt_json_str(stdout, path);
		printf(",\n  \"problems\": [");
	}
	rc = vhd_check(path, flags, check_report, &out, &res);
	if (out.json) {
		printf("\n  ],\n");
		if (rc) {
			printf("  \"error\": ");
			vt_json_str(stdout, vhd_last_error());
			printf(",\n  \"clean\": false\n}\n");
		} else {
			printf("  \"errors\": %u, \"warnings\": %u, \"repaired\": %u,\n"
			       "  \"clean\": %s\n}\n", res.errors, res.warnings, res.repaired,
			       res.errors ? "false" : "true");
		}
	}
	if (rc) {
		vt_fail(path, rc, "cannot check");
		return CLI_USAGE;
	}
	if (!out.json) {
		if (res.errors)
			printf("%s: %u problem%s remain%s\n", path, res.errors,
			       res.errors == 1 ? "" : "s", res.errors == 1 ? "s" : "");
		else if (res.repaired)
			printf("%s: repaired %u problem%s; the image is now clean\n", path,
			       res.repaired, res.repaired == 1 ? "" : "s");
		else
			printf("%s: clean\n", path);
	}
	return res.errors ? CLI_FAIL : CLI_OK;
}
