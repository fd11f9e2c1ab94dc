/* netback/labnet_json.c: a network as `vhdvisor net list --json` and the
 * API show it, and the pool of automatic subnets from the environment
 * (netback/labnet.h). */
#include "netback/labnet.h"

#include <errno.h>
#include <stdlib.h>

struct json_object *labnet_json(struct labnet_ctx *ctx, const struct labnet *net)
{
	struct json_object *o = labnet_to_json(net), *st;
	struct labnet_status s;

	if (!o)
		return NULL;
	labnet_status(ctx, net, &s);
	st = json_object_new_object();
	json_object_object_add(st, "bridge", json_object_new_boolean(s.bridge));
	json_object_object_add(st, "bridge_up", json_object_new_boolean(s.bridge_up));
	json_object_object_add(st, "firewall", json_object_new_boolean(s.firewall));
	if (net->dhcp)
		json_object_object_add(st, "dnsmasq_pid", json_object_new_int(s.dnsmasq_pid));
	json_object_object_add(o, "status", st);
	return o;
}

int labnet_pool_env(struct labnet_ctx *ctx)
{
	const char *pool = getenv("VHDVISOR_NET_POOL");

	if (pool && *pool && subnet_parse(pool, true, &ctx->pool))
		return -EINVAL;
	return 0;
}
