/* tools/vhd/cmd_info.c: `vhd info`: what an image is and what it links to. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd.h"

static const char info_usage[] =
	"info [--json] [-U] FILE\n"
	"\n"
	"Prints the type, sizes, allocation, geometry, creator, UUID, timestamps\n"
	"and the parent chain of a VHD. --json prints one JSON document. When a\n"
	"parent cannot be opened, the image itself is still described and the\n"
	"exit status is 1, as when FILE itself cannot be opened.\n"
	"-U, --force-share: read even while another process writes the image\n"
	"(like qemu-img -U; what is read may be inconsistent).";

static void info_text(const char *path, const struct vhd_info *in, struct vhd *v,
		      const char *chain_err)
{
	char a[32], b[32], ts[32];
	char uuid[37];

	printf("file:             %s\n", path);
	printf("type:             %s\n", vhd_type_name(in->type));
	printf("virtual size:     %s (%llu bytes)\n", size_format(in->size, a, sizeof(a)),
	       (unsigned long long)in->size);
	if (in->current_size != in->size)
		printf("current size:     %llu bytes (as stored)\n",
		       (unsigned long long)in->current_size);
	printf("file size:        %s (%llu bytes)\n", size_format(in->file_size, a, sizeof(a)),
	       (unsigned long long)in->file_size);
	if (in->type != VHD_TYPE_FIXED) {
		printf("block size:       %s\n", size_format(in->block_size, a, sizeof(a)));
		printf("allocated:        %u of %u blocks (%s)\n", in->allocated_blocks,
		       in->max_bat_entries,
		       size_format((uint64_t)in->allocated_blocks * in->block_size, b, sizeof(b)));
	}
	printf("geometry (CHS):   %u/%u/%u\n", in->cylinders, in->heads, in->sectors_per_track);
	printf("creator:          '%s' %u.%u on '%s'\n", in->creator_app,
	       in->creator_version >> 16, in->creator_version & 0xffff, in->creator_os);
	vhd_uuid_format(in->uuid, uuid);
	printf("uuid:             %s\n", uuid);
	printf("timestamp:        %s\n", vt_time_iso(in->timestamp, ts, sizeof(ts)));
	printf("saved state:      %s\n", in->saved_state ? "yes" : "no");
	if (in->footer_damaged)
		printf("warning:          trailing footer damaged, copy at offset 0 used\n");
	if (in->footer_copy_damaged)
		printf("warning:          footer copy at offset 0 damaged\n");
	if (in->type != VHD_TYPE_DIFF)
		return;
	vhd_uuid_format(in->parent_uuid, uuid);
	printf("parent name:      %s\n", in->parent_name);
	printf("parent uuid:      %s\n", uuid);
	printf("parent timestamp: %s\n", vt_time_iso(in->parent_timestamp, ts, sizeof(ts)));
	if (chain_err) {
		printf("parent path:      (not opened: %s)\n", chain_err);
		return;
	}
	printf("parent path:      %s\n", in->parent_path);
	printf("parent uuid match: %s\n", in->parent_uuid_match ? "yes" : "NO");
	printf("chain:\n");
	for (unsigned d = 1; v; d++) {
		struct vhd_info li;
		struct vhd_backing *p;

		if (vhd_get_info(v, &li))
			break;
		printf("  %2u  %-12s %s\n", d, vhd_type_name(li.type), vhd_path(v));
		p = vhd_parent(v);
		if (p && !p->vhd)
			printf("  %2u  %-12s %s\n", d + 1, "raw", p->path);
		v = p ? p->vhd : NULL;
	}
}

static void json_uuid(const char *key, const uint8_t u[16])
{
	char s[37];

	vhd_uuid_format(u, s);
	printf("\"%s\": \"%s\"", key, s);
}

static void info_json(const char *path, const struct vhd_info *in, struct vhd *v,
		      const char *chain_err)
{
	char ts[32];

	printf("{\n  \"file\": ");
	vt_json_str(stdout, path);
	printf(",\n  \"type\": \"%s\",\n", vhd_type_name(in->type));
	printf("  \"virtual_size\": %llu,\n", (unsigned long long)in->size);
	printf("  \"current_size\": %llu,\n", (unsigned long long)in->current_size);
	printf("  \"original_size\": %llu,\n", (unsigned long long)in->original_size);
	printf("  \"file_size\": %llu,\n", (unsigned long long)in->file_size);
	printf("  \"block_size\": %u,\n", in->block_size);
	printf("  \"max_bat_entries\": %u,\n", in->max_bat_entries);
	printf("  \"allocated_blocks\": %u,\n", in->allocated_blocks);
	printf("  \"allocated_bytes\": %llu,\n",
	       (unsigned long long)in->allocated_blocks * in->block_size);
	printf("  \"geometry\": {\"cylinders\": %u, \"heads\": %u, \"sectors_per_track\": %u},\n",
	       in->cylinders, in->heads, in->sectors_per_track);
	printf("  \"creator\": {\"app\": ");
	vt_json_str(stdout, in->creator_app);
	printf(", \"version\": \"%u.%u\", \"os\": ", in->creator_version >> 16,
	       in->creator_version & 0xffff);
	vt_json_str(stdout, in->creator_os);
	printf("},\n  ");
	json_uuid("uuid", in->uuid);
	printf(",\n  \"timestamp\": \"%s\",\n", vt_time_iso(in->timestamp, ts, sizeof(ts)));
	printf("  \"saved_state\": %s,\n", in->saved_state ? "true" : "false");
	printf("  \"footer_damaged\": %s,\n", in->footer_damaged ? "true" : "false");
	printf("  \"footer_copy_damaged\": %s,\n", in->footer_copy_damaged ? "true" : "false");
	if (in->type == VHD_TYPE_DIFF) {
		printf("  \"parent\": {\"name\": ");
		vt_json_str(stdout, in->parent_name);
		printf(", ");
		json_uuid("uuid", in->parent_uuid);
		printf(", \"timestamp\": \"%s\", ",
		       vt_time_iso(in->parent_timestamp, ts, sizeof(ts)));
		if (chain_err) {
			printf("\"path\": null, \"uuid_match\": null, \"error\": ");
			vt_json_str(stdout, chain_err);
		} else {
			printf("\"path\": ");
			vt_json_str(stdout, in->parent_path);
			printf(", \"uuid_match\": %s", in->parent_uuid_match ? "true" : "false");
		}
		printf("},\n");
	}
	printf("  \"chain\": [");
	for (unsigned d = 1; v; d++) {
		struct vhd_info li;
		struct vhd_backing *p;

		if (vhd_get_info(v, &li))
			break;
		printf("%s\n    {\"depth\": %u, \"type\": \"%s\", \"file\": ", d > 1 ? "," : "",
		       d, vhd_type_name(li.type));
		vt_json_str(stdout, vhd_path(v));
		printf(", ");
		json_uuid("uuid", li.uuid);
		printf("}");
		p = vhd_parent(v);
		if (p && !p->vhd) {
			printf(",\n    {\"depth\": %u, \"type\": \"raw\", \"file\": ", d + 1);
			vt_json_str(stdout, p->path);
			printf("}");
		}
		v = (p && !chain_err) ? p->vhd : NULL;
	}
	printf("\n  ]\n}\n");
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force-share", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vhd_open_opts oo = { 0 };
	char chain_err[512] = "";
	struct vhd_info in;
	struct vhd *v;
	bool json = false;
	const char *path;
	int c, rc;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "hU", opts)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'U': oo.flags |= VHD_OPEN_FORCE_SHARE; break;
		case 'h':
			printf("usage: vhd %s\n", info_usage);
			return CLI_OK;
		default:
			return vt_usage(info_usage);
		}
	}
	if (argc - optind != 1)
		return vt_usage(info_usage);
	path = argv[optind];
	rc = vhd_open(path, &oo, &v);
	if (rc) {
		/* Describe the image itself even when its chain is broken. */
		snprintf(chain_err, sizeof(chain_err), "%s", vhd_last_error());
		oo.flags |= VHD_OPEN_NO_PARENT;
		rc = vhd_open(path, &oo, &v);
		if (rc)
			return vt_fail(path, rc, "cannot open");
		if (!*chain_err)
			snprintf(chain_err, sizeof(chain_err), "%s", "parent not opened");
	}
	rc = vhd_get_info(v, &in);
	if (rc) {
		vhd_close(v);
		return vt_fail(path, rc, "cannot read metadata");
	}
	if (json)
		info_json(path, &in, v, *chain_err ? chain_err : NULL);
	else
		info_text(path, &in, v, *chain_err ? chain_err : NULL);
	vhd_close(v);
	if (*chain_err) {
		log_err("%s: %s", path, chain_err);
		return CLI_FAIL;
	}
	return CLI_OK;
}
