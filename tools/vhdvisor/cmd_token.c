/* tools/vhdvisor/cmd_token.c: `vhdvisor token`: API tokens of vhdvisord.
 *
 *   vhdvisor token create NAME --role admin|operator|viewer
 *   vhdvisor token list [--json]
 *   vhdvisor token revoke NAME
 *
 * Every form takes --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 * They go through the management API (GET/POST /tokens, DELETE
 * /tokens/{name}) by any of its doors (apicli.c) and only format replies.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "appliance/api.h"
#include "appliance/client.h"
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

/* A refusal the commands do not word themselves: the server's. */
static int token_refused(int status, json_object *rep)
{
	json_object *e;

	if (!json_object_object_get_ex(rep, "error", &e))
		e = NULL;
	log_err("%s%s(HTTP %d)", e ? json_object_get_string(e) : "", e ? " " : "", status);
	json_object_put(rep);
	return CLI_FAIL;
}

static int token_create(const char *state, const char *name, const char *role_s)
{
	char path[API_PATH_MAX];
	enum api_role role = API_ROLE_NONE;
	json_object *body, *rep = NULL, *sec;
	int r, status = 400;

	if (api_role_parse(role_s, &role) || role == API_ROLE_NONE) {
		log_err("bad --role '%s' (admin, operator or viewer)", role_s);
		return CLI_USAGE;
	}
	/* a name the API cannot carry is refused as a bad name (status 400) */
	if (apicli_path(path, sizeof(path), "/tokens", NULL))
		return CLI_USAGE;
	if (!apicli_remote()) {	/* the embedded door writes here */
		if (!state)
			state = cat_default_state_dir();
		if (mkdir(state, 0700) && errno != EEXIST) {
			log_err("%s: %s", state, strerror(errno));
			return CLI_FAIL;
		}
	}
	if (api_name_valid(name)) {
		body = json_object_new_object();
		json_object_object_add(body, "name", json_object_new_string(name));
		json_object_object_add(body, "role", json_object_new_string(api_role_name(role)));
		r = apicli_req(state, "POST", path, body, &status, &rep);
		if (r)
			return r;
	}
	if (status == 400) {
		json_object_put(rep);
		log_err("bad token name '%s' (1-%d of A-Z a-z 0-9 . _ -, starting with a "
			"letter or digit)", name, TOKEN_NAME_MAX);
		return CLI_USAGE;
	}
	if (status == 409) {
		json_object_put(rep);
		log_err("token %s: that name is taken", name);
		return CLI_FAIL;
	}
	if (status != 200 || !json_object_object_get_ex(rep, "secret", &sec))
		return token_refused(status, rep);
	printf("%s\n", json_object_get_string(sec));
	json_object_put(rep);
	if (!cli_quiet())
		fprintf(stderr, "token %s (%s) created; it is shown only this once\n", name,
			api_role_name(role));
	return CLI_OK;
}

static int token_list(const char *state, bool json)
{
	json_object *arr;
	char when[32];
	struct tm tm;
	int r;

	r = apicli_get(state, "/tokens", NULL, &arr);
	if (r)
		return r;
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(arr);
		return CLI_OK;
	}
	printf("%-24s %-9s %s\n", "NAME", "ROLE", "CREATED");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *t = json_object_array_get_idx(arr, i), *n, *ro, *c;

		json_object_object_get_ex(t, "name", &n);
		json_object_object_get_ex(t, "role", &ro);
		json_object_object_get_ex(t, "created", &c);
		localtime_r(&(time_t){ json_object_get_int64(c) }, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%-24s %-9s %s\n", json_object_get_string(n), json_object_get_string(ro),
		       when);
	}
	json_object_put(arr);
	return CLI_OK;
}

static int token_revoke(const char *state, const char *name)
{
	char path[API_PATH_MAX];
	json_object *rep;
	int r, status = 404;

	/* a name the API cannot carry names no token */
	if (api_name_valid(name)) {
		if (apicli_path(path, sizeof(path), "/tokens/", name, NULL))
			return CLI_USAGE;
		r = apicli_req(state, "DELETE", path, NULL, &status, &rep);
		if (r)
			return r;
		if (status != 200 && status != 404)
			return token_refused(status, rep);
		json_object_put(rep);
	}
	if (status == 404) {
		log_err("token %s: no such token", name);
		return CLI_FAIL;
	}
	printf("revoked %s\n", name);
	return CLI_OK;
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
	if (!strcmp(act, "create"))
		return token_create(state, name, role_s);
	if (!strcmp(act, "list"))
		return token_list(state, json);
	return token_revoke(state, name);
}
