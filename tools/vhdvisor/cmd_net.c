/* tools/vhdvisor/cmd_net.c: `vhdvisor net`: lab networks (netback/labnet.h).
 *
 *   vhdvisor net create NAME [--subnet CIDR] [--dhcp] [--nat]
 *   vhdvisor net list [--json]
 *   vhdvisor net show NAME [--json]
 *   vhdvisor net up NAME
 *   vhdvisor net rm NAME [--force]
 *
 * Every form takes --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 * The run directory is $VHDVISOR_RUN (default /run/vhdvisor); the pool of
 * automatic subnets is $VHDVISOR_NET_POOL (default 10.213.0.0/16). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "appliance/api.h"
#include "common/log.h"
#include "common/util.h"
#include "netback/dnsmasq.h"
#include "netback/labnet.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

struct net_args {
	const char *state;
	const char *subnet;
	bool dhcp, nat, json, force;
	int first;      /* index of the first positional argument */
};

static const struct cli_action net_actions[] = {
	{ "create", "NAME [--subnet CIDR] [--dhcp] [--nat]",
	  "Makes the lab network NAME: a bridge, optional DHCP/DNS and NAT.\n"
	  "  --subnet CIDR   e.g. 10.50.0.0/24 (default: a free /24 from\n"
	  "                  $VHDVISOR_NET_POOL or " LABNET_DEFAULT_POOL ")\n"
	  "  --dhcp          serve DHCP and DNS on the network (dnsmasq)\n"
	  "  --nat           masquerade the network out of the uplink (nftables)",
	  NULL, 1, 1 },
	{ "list", "[--json]", "Lists the networks and whether each is up.\n"
	  "  --json          one JSON document", "ls", 0, 0 },
	{ "show", "NAME [--json]", "Shows a network, its state and DHCP leases.\n"
	  "  --json          one JSON document", NULL, 1, 1 },
	{ "up", "NAME", "Recreates a missing bridge or rules and restarts a dead dnsmasq.",
	  NULL, 1, 1 },
	{ "rm", "NAME [--force]", "Removes a network.\n"
	  "  --force         even while VM NICs are attached (they lose the network)",
	  NULL, 1, 1 },
	{ 0 },
};

static const char net_about[] =
	"Isolated lab networks: one bridge each, optional DHCP/DNS (dnsmasq)\n"
	"and NAT to the default-route interface (nftables).";

static const char net_common[] =
	"Every action takes --state DIR (records; default $VHDVISOR_STATE or\n"
	"/var/lib/vhdvisor), -q (only errors) and -v (debug messages).";

static void net_usage(FILE *f, const char *act)
{
	cli_action_usage(f, "vhdvisor net", cli_action_find(net_actions, act), false, NULL);
}

/* Parses options after the action name (argv[0]). Returns 0 or CLI_USAGE. */
static int net_parse(int argc, char **argv, struct net_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "subnet", required_argument, NULL, 'n' },
		{ "dhcp", no_argument, NULL, 'd' },
		{ "nat", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 's': a->state = optarg; break;
		case 'n': a->subnet = optarg; break;
		case 'd': a->dhcp = true; break;
		case 'a': a->nat = true; break;
		case 'j': a->json = true; break;
		case 'f': a->force = true; break;
		default: return CLI_USAGE;
		}
	}
	a->first = optind;
	return 0;
}

static void ctx_setup(struct labnet_ctx *ctx, const struct net_args *a)
{
	labnet_ctx_init(ctx, a->state, NULL);
	if (labnet_pool_env(ctx))
		log_warn("ignoring VHDVISOR_NET_POOL=%s: not a CIDR subnet",
			 getenv("VHDVISOR_NET_POOL"));
}

/* One positional NAME, no more. */
static const char *one_name(int argc, char **argv, const struct net_args *a)
{
	if (argc - a->first != 1) {
		net_usage(stderr, argv[0]);
		return NULL;
	}
	return argv[a->first];
}

/* A refusal of the API, as these commands always worded it. */
static int net_refused(const char *act, const char *name, json_object *rep)
{
	if (name)
		log_err("net %s %s: %s", act, name, apicli_error(rep));
	else
		log_err("net %s: %s", act, apicli_error(rep));
	json_object_put(rep);
	return CLI_FAIL;
}

/* create, list and rm go through the API (POST/GET /networks, DELETE
 * /networks/{name}) by any door (apicli.c). */
static int net_create(int argc, char **argv, struct net_args *a)
{
	char path[API_PATH_MAX], buf[SUBNET_STR_LEN];
	json_object *body, *rep, *v;
	const char *name;
	struct subnet sn;
	int r, status;

	if (!(name = one_name(argc, argv, a)))
		return CLI_USAGE;
	if (a->subnet && subnet_parse(a->subnet, true, &sn)) {
		log_err("--subnet %s: not a subnet in CIDR form with zero host bits (e.g. 10.50.0.0/24)",
			a->subnet);
		return CLI_USAGE;
	}
	if (!api_name_valid(name)) {	/* the library's words: the API cannot carry it */
		log_err("net create %s: bad network name '%s': use 1..%d of a-z 0-9 '-', not "
			"starting with '-'", name, name, LABNET_NAME_MAX);
		return CLI_FAIL;
	}
	if (apicli_path(path, sizeof(path), "/networks", NULL))
		return CLI_USAGE;
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(name));
	if (a->subnet)
		json_object_object_add(body, "subnet", json_object_new_string(
					       subnet_format(&sn, buf, sizeof(buf))));
	json_object_object_add(body, "dhcp", json_object_new_boolean(a->dhcp));
	json_object_object_add(body, "nat", json_object_new_boolean(a->nat));
	r = apicli_req(a->state, "POST", path, body, &status, &rep);
	if (r)
		return r;
	if (status != 200)
		return net_refused("create", name, rep);
	printf("%s", name);
	if (json_object_object_get_ex(rep, "bridge", &v))
		printf(" %s", json_object_get_string(v));
	if (json_object_object_get_ex(rep, "subnet", &v))
		printf(" %s", json_object_get_string(v));
	printf("\n");
	json_object_put(rep);
	return CLI_OK;
}

static bool jtrue(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static int net_list(int argc, char **argv, struct net_args *a)
{
	char path[API_PATH_MAX];
	json_object *arr;
	int r, status;

	if (argc != a->first) {
		net_usage(stderr, "list");
		return CLI_USAGE;
	}
	if (apicli_path(path, sizeof(path), "/networks", NULL))
		return CLI_USAGE;
	r = apicli_req(a->state, "GET", path, NULL, &status, &arr);
	if (r)
		return r;
	if (status != 200)
		return net_refused("list", NULL, arr);
	if (a->json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(arr);
		return CLI_OK;
	}
	printf("%-24s %-15s %-18s %-4s %-4s %s\n", "NAME", "BRIDGE", "SUBNET", "DHCP", "NAT",
	       "STATE");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *l = json_object_array_get_idx(arr, i), *n, *b, *sn, *st, *pid;
		bool dhcp = jtrue(l, "dhcp"), ok;

		json_object_object_get_ex(l, "name", &n);
		json_object_object_get_ex(l, "bridge", &b);
		json_object_object_get_ex(l, "subnet", &sn);
		json_object_object_get_ex(l, "status", &st);
		ok = jtrue(st, "bridge") && jtrue(st, "bridge_up") && jtrue(st, "firewall") &&
		     (!dhcp || (json_object_object_get_ex(st, "dnsmasq_pid", &pid) &&
				json_object_get_int(pid) > 0));
		printf("%-24s %-15s %-18s %-4s %-4s %s\n", json_object_get_string(n),
		       json_object_get_string(b), json_object_get_string(sn), dhcp ? "yes" : "no",
		       jtrue(l, "nat") ? "yes" : "no", ok ? "up" : "degraded");
	}
	json_object_put(arr);
	return CLI_OK;
}

static int net_show(int argc, char **argv, struct net_args *a)
{
	struct labnet_ctx ctx;
	struct labnet net;
	struct dnsm_lease *leases = NULL;
	size_t n_leases = 0;
	struct json_object *o, *arr;
	char dir[4200], buf[SUBNET_STR_LEN];
	const char *name;
	int err;

	if (!(name = one_name(argc, argv, a)))
		return CLI_USAGE;
	ctx_setup(&ctx, a);
	err = labnet_load(ctx.state_dir, name, &net);
	if (err) {
		if (err == -ENOENT)
			log_err("net show: no network named '%s' in %s", name, ctx.state_dir);
		else
			log_err("net show %s: %s", name, strerror(-err));
		return CLI_FAIL;
	}
	labnet_run_dir(&ctx, name, dir, sizeof(dir));
	if (net.dhcp)
		dnsm_leases(dir, &leases, &n_leases);
	o = labnet_json(&ctx, &net);
	arr = json_object_new_array();
	for (size_t i = 0; i < n_leases; i++) {
		struct json_object *l = json_object_new_object();

		json_object_object_add(l, "mac", json_object_new_string(leases[i].mac));
		json_object_object_add(l, "ip", json_object_new_string(
			ip4_format(leases[i].ip, buf, sizeof(buf))));
		json_object_object_add(l, "hostname", json_object_new_string(leases[i].hostname));
		json_object_object_add(l, "expiry", json_object_new_int64(leases[i].expiry));
		json_object_array_add(arr, l);
	}
	if (net.dhcp)
		json_object_object_add(o, "leases", arr);
	else
		json_object_put(arr);
	if (a->json) {
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	} else {
		json_object_object_foreach(o, key, val) {
			if (json_object_is_type(val, json_type_object)) {
				json_object_object_foreach(val, k2, v2)
					printf("%s.%s: %s\n", key, k2, json_object_get_string(v2));
			} else if (json_object_is_type(val, json_type_array)) {
				for (size_t i = 0; i < json_object_array_length(val); i++) {
					struct json_object *l = json_object_array_get_idx(val, i);

					printf("lease: %s\n", json_object_to_json_string(l));
				}
			} else {
				printf("%s: %s\n", key, json_object_get_string(val));
			}
		}
	}
	json_object_put(o);
	free(leases);
	return CLI_OK;
}

static int net_rm(int argc, char **argv, struct net_args *a)
{
	char path[API_PATH_MAX];
	json_object *body = NULL, *rep;
	const char *name;
	int r, status;

	if (!(name = one_name(argc, argv, a)))
		return CLI_USAGE;
	if (!api_name_valid(name)) {	/* names no network */
		log_err("net rm %s: no network named '%s'", name, name);
		return CLI_FAIL;
	}
	if (apicli_path(path, sizeof(path), "/networks/", name, NULL))
		return CLI_USAGE;
	if (a->force) {
		body = json_object_new_object();
		json_object_object_add(body, "force", json_object_new_boolean(1));
	}
	r = apicli_req(a->state, "DELETE", path, body, &status, &rep);
	if (r)
		return r;
	if (status != 200)
		return net_refused("rm", name, rep);
	json_object_put(rep);
	return CLI_OK;
}

static int net_up(int argc, char **argv, struct net_args *a)
{
	struct labnet_ctx ctx;
	const char *name;

	if (!(name = one_name(argc, argv, a)))
		return CLI_USAGE;
	ctx_setup(&ctx, a);
	if (labnet_up(&ctx, name)) {
		log_err("net up %s: %s", name, ctx.err);
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cmd_net(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv, struct net_args *a);
	} actions[] = {
		{ "create", net_create },
		{ "list", net_list },
		{ "show", net_show },
		{ "up", net_up },
		{ "rm", net_rm },
	};
	struct net_args a = { 0 };
	const char *act;
	int r;

	r = cli_family_begin("vhdvisor net", net_actions, net_about, net_common, argc, argv);
	if (r >= 0)
		return r;
	act = cli_action_find(net_actions, argv[1])->name;
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(act, actions[i].name))
			continue;
		if (net_parse(argc - 1, argv + 1, &a)) {
			net_usage(stderr, act);
			return CLI_USAGE;
		}
		/* the routes' actions: warn here about a bad $VHDVISOR_NET_POOL,
		 * as show and up (ctx_setup) do */
		if (strcmp(act, "show") && strcmp(act, "up") && !apicli_remote()) {
			struct labnet_ctx ctx;

			ctx_setup(&ctx, &a);
		}
		/* show and up have no route: this host only */
		if ((!strcmp(act, "show") || !strcmp(act, "up")) && apicli_remote())
			return apicli_local_only("net", act);
		return actions[i].run(argc - 1, argv + 1, &a);
	}
	return CLI_USAGE;
}
