/* tools/vhdvisor/cmd_host.c: `vhdvisor host`: the host the API runs on.
 *
 *   vhdvisor host show [--json]
 *
 * GET /api/v1/host by whichever door (apicli.c): name, CPUs, memory,
 * accelerator, versions, storage and the SHA-256 fingerprint of
 * vhdvisord's TLS certificate, the one clients pin with --fingerprint.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "appliance/api.h"
#include "appliance/client.h"
#include "common/log.h"
#include "common/util.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

static const struct cli_action host_actions[] = {
	{ "show", "[--json]",
	  "Shows the host: name, CPUs, memory, accelerator, versions, storage, the\n"
	  "SHA-256 fingerprint of vhdvisord's TLS certificate (what clients pin with\n"
	  "--fingerprint) and which door the API answered by.\n"
	  "  --json         one JSON document (GET /api/v1/host)", NULL, 0, 0 },
	{ 0 },
};

static const char host_about[] = "The host that runs the VMs (or the one --host names).";

static const char host_common[] =
	"Every action takes --state DIR (default $VHDVISOR_STATE or /var/lib/vhdvisor),\n"
	"-q (only errors) and -v (debug messages).";

static json_object *get(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v ? json_object_get_string(v) : "-";
}

static const char *size(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *v = get(o, key);

	return v ? size_format((uint64_t)json_object_get_int64(v), buf, len) : "-";
}

static int do_show(const char *state, bool json)
{
	struct api_client *cl;
	json_object *h, *st, *v;
	char a[32], b[32];
	int r;

	r = apicli_open(state, &cl);
	if (r)
		return r;
	r = apicli_call(cl, "GET", API_PREFIX "/host", NULL, &h);
	if (r) {
		api_client_close(cl);
		return r;
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(h, JSON_C_TO_STRING_PRETTY));
	} else {
		st = get(h, "storage");
		v = get(h, "versions");
		printf("%-12s %s\n", "name", str(h, "name"));
		printf("%-12s %s\n", "cpus", str(h, "cpus"));
		printf("%-12s %s (%s free)\n", "memory", size(h, "memory", a, sizeof(a)),
		       size(h, "memory_free", b, sizeof(b)));
		printf("%-12s %s\n", "accelerator", str(h, "accelerator"));
		printf("%-12s %s (API %s)\n", "version", str(h, "version"),
		       v ? str(v, "api") : "-");
		printf("%-12s %s (%s free of %s)\n", "storage", st ? str(st, "path") : "-",
		       st ? size(st, "free", a, sizeof(a)) : "-",
		       st ? size(st, "size", b, sizeof(b)) : "-");
		if (get(h, "tls_fingerprint"))
			printf("%-12s SHA-256 %s\n", "certificate", str(h, "tls_fingerprint"));
		else
			printf("%-12s none yet (vhdvisord makes it when it first listens on TCP)\n",
			       "certificate");
		printf("%-12s %s%s%s\n", "api", apicli_door_name(cl),
		       cl->door == API_DOOR_EMBEDDED ? "" : " at ",
		       cl->door == API_DOOR_EMBEDDED ? "" : cl->where);
	}
	json_object_put(h);
	api_client_close(cl);
	return CLI_OK;
}

int cmd_host(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	const char *state = NULL;
	bool json = false;
	int r, ch;

	r = cli_family_begin("vhdvisor host", host_actions, host_about, host_common, argc, argv);
	if (r >= 0)
		return r;
	argc--;
	argv++;
	optind = 1;
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'j': json = true; break;
		default:
			cli_action_usage(stderr, "vhdvisor host", host_actions, false, NULL);
			return CLI_USAGE;
		}
	}
	if (!cli_action_arity_ok("vhdvisor host", host_actions, argc - optind)) {
		cli_action_usage(stderr, "vhdvisor host", host_actions, false, NULL);
		return CLI_USAGE;
	}
	return do_show(state, json);
}
