/* tools/vhdvisor/cmd_token.c: `vhdvisor token`: API tokens of vhdvisord.
 *
 *   vhdvisor token create NAME --role admin|operator|viewer
 *   vhdvisor token list [--json]
 *   vhdvisor token revoke NAME
 *
 * Every form takes --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "appliance/token.h"
#include "common/log.h"
#include "images/catalog.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

static void token_usage(FILE *f)
{
	fprintf(f,
		"usage: vhdvisor token create NAME --role admin|operator|viewer\n"
		"       vhdvisor token list [--json]\n"
		"       vhdvisor token revoke NAME\n"
		"\n"
		"Tokens let clients use vhdvisord's API over TCP ('Authorization: Bearer\n"
		"TOKEN'). create prints the token once; only its SHA-256 is kept, in\n"
		"STATE/tokens. viewer reads; operator also starts and stops VMs; admin\n"
		"may do everything. A revoked token stops working at once.\n"
		"  --state DIR   state directory (default $VHDVISOR_STATE or /var/lib/vhdvisor)\n"
		"  --role ROLE   the token's role\n"
		"  --json        one JSON document\n");
}

static int print_token(void *opaque, const struct api_token *t)
{
	json_object *arr = opaque;
	char when[32];
	struct tm tm;

	if (arr) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(t->name));
		json_object_object_add(o, "role", json_object_new_string(api_role_name(t->role)));
		json_object_object_add(o, "created", json_object_new_int64(t->created));
		json_object_array_add(arr, o);
		return 0;
	}
	localtime_r(&(time_t){ t->created }, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-24s %-9s %s\n", t->name, api_role_name(t->role), when);
	return 0;
}

int cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "role", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	const char *state = NULL, *role_s = NULL, *act;
	char secret[TOKEN_SECRET_LEN + 1];
	enum api_role role = API_ROLE_NONE;
	bool json = false;
	int ch, n, r;

	if (argc < 2 || cli_wants_help(argc, argv)) {
		token_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	act = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'r': role_s = optarg; break;
		case 'j': json = true; break;
		default: token_usage(stderr); return CLI_USAGE;
		}
	}
	n = argc - optind;
	if (!state)
		state = cat_default_state_dir();
	if (!strcmp(act, "create") && n == 1 && role_s) {
		if (api_role_parse(role_s, &role) || role == API_ROLE_NONE) {
			log_err("bad --role '%s' (admin, operator or viewer)", role_s);
			return CLI_USAGE;
		}
		if (mkdir(state, 0700) && errno != EEXIST) {
			log_err("%s: %s", state, strerror(errno));
			return CLI_FAIL;
		}
		r = api_token_create(state, argv[optind], role, secret);
		if (r == -EINVAL) {
			log_err("bad token name '%s' (1-%d of A-Z a-z 0-9 . _ -, starting with a "
				"letter or digit)", argv[optind], TOKEN_NAME_MAX);
			return CLI_USAGE;
		}
		if (r) {
			log_err("token %s: %s", argv[optind],
				r == -EEXIST ? "that name is taken" : strerror(-r));
			return CLI_FAIL;
		}
		printf("%s\n", secret);
		fprintf(stderr, "token %s (%s) created; it is shown only this once\n",
			argv[optind], api_role_name(role));
		return CLI_OK;
	}
	if (!strcmp(act, "list") && n == 0) {
		json_object *arr = json ? json_object_new_array() : NULL;

		if (!json)
			printf("%-24s %-9s %s\n", "NAME", "ROLE", "CREATED");
		r = api_token_foreach(state, print_token, arr);
		if (json)
			printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(arr);
		if (r) {
			log_err("%s/tokens: %s", state, strerror(-r));
			return CLI_FAIL;
		}
		return CLI_OK;
	}
	if (!strcmp(act, "revoke") && n == 1) {
		r = api_token_revoke(state, argv[optind]);
		if (r) {
			log_err("token %s: %s", argv[optind],
				r == -ENOENT ? "no such token" : strerror(-r));
			return CLI_FAIL;
		}
		printf("revoked %s\n", argv[optind]);
		return CLI_OK;
	}
	token_usage(stderr);
	return CLI_USAGE;
}
