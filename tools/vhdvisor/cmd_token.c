/* tools/vhdvisor/cmd_token.c: `vhdvisor token`: API tokens of vhdvisord.
 *
 *   vhdvisor token create NAME --role admin|operator|viewer
 *   vhdvisor token list [--json]
 *   vhdvisor token revoke NAME
 *
 * Every form takes --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 */
#include <errno.h>
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

static const struct cli_action token_actions[] = {
	{ "create", "NAME --role admin|operator|viewer",
	  "Makes token NAME and prints it, only this once; only its SHA-256 is kept.\n"
	  "  --role ROLE     viewer reads; operator also starts and stops VMs;\n"
	  "                  admin may do everything",
	  NULL, 1, 1 },
	{ "list", "[--json]", "Lists the tokens: name, role, creation time.\n"
	  "  --json          one JSON document", "ls", 0, 0 },
	{ "revoke", "NAME", "Removes token NAME: it stops working at once.", "rm", 1, 1 },
	{ 0 },
};

static const char token_about[] =
	"Tokens let clients use vhdvisord's API over TCP ('Authorization: Bearer\n"
	"TOKEN'); they are kept hashed in STATE/tokens (0600).";

static const char token_common[] =
	"Every action takes --state DIR (default $VHDVISOR_STATE or\n"
	"/var/lib/vhdvisor), -q (only errors) and -v (debug messages).";

static int print_token(void *opaque, const struct api_token *t)
{
	json_object *arr = opaque;
	char when[32];
	struct tm tm;

	if (arr) {
		json_object_array_add(arr, api_token_json(t));
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
	const char *state = NULL, *role_s = NULL, *act, *name;
	char secret[TOKEN_SECRET_LEN + 1];
	enum api_role role = API_ROLE_NONE;
	const struct cli_action *ca;
	bool json = false;
	int ch, r;

	r = cli_family_begin("vhdvisor token", token_actions, token_about, token_common, argc,
			     argv);
	if (r >= 0)
		return r;
	ca = cli_action_find(token_actions, argv[1]);
	act = ca->name;
	argc--;
	argv++;
	optind = 1;
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'r': role_s = optarg; break;
		case 'j': json = true; break;
		default:
			cli_action_usage(stderr, "vhdvisor token", ca, false, NULL);
			return CLI_USAGE;
		}
	}
	if (!cli_action_arity_ok("vhdvisor token", ca, argc - optind) ||
	    (!strcmp(act, "create") && !role_s)) {
		if (!strcmp(act, "create") && !role_s)
			log_err("token create needs --role");
		cli_action_usage(stderr, "vhdvisor token", ca, false, NULL);
		return CLI_USAGE;
	}
	name = argv[optind];
	if (!state)
		state = cat_default_state_dir();
	if (!strcmp(act, "create")) {
		if (api_role_parse(role_s, &role) || role == API_ROLE_NONE) {
			log_err("bad --role '%s' (admin, operator or viewer)", role_s);
			return CLI_USAGE;
		}
		if (mkdir(state, 0700) && errno != EEXIST) {
			log_err("%s: %s", state, strerror(errno));
			return CLI_FAIL;
		}
		r = api_token_create(state, name, role, secret);
		if (r == -EINVAL) {
			log_err("bad token name '%s' (1-%d of A-Z a-z 0-9 . _ -, starting with a "
				"letter or digit)", name, TOKEN_NAME_MAX);
			return CLI_USAGE;
		}
		if (r) {
			log_err("token %s: %s", name,
				r == -EEXIST ? "that name is taken" : strerror(-r));
			return CLI_FAIL;
		}
		printf("%s\n", secret);
		if (!cli_quiet())
			fprintf(stderr, "token %s (%s) created; it is shown only this once\n", name,
				api_role_name(role));
		return CLI_OK;
	}
	if (!strcmp(act, "list")) {
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
	r = api_token_revoke(state, name);
	if (r) {
		log_err("token %s: %s", name, r == -ENOENT ? "no such token" : strerror(-r));
		return CLI_FAIL;
	}
	printf("revoked %s\n", name);
	return CLI_OK;
}
