/* appliance/api_nets.c: lab networks: GET /networks, POST /networks,
 * DELETE /networks/{name}, through the calls of `vhdvisor net
 * list/create/rm` (netback/labnet.h). Networks are host objects
 * (bridges, nftables tables, dnsmasq) in the daemon's network namespace;
 * changing them is an administrator's business. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/api_int.h"
#include "netback/labnet.h"

static void ctx_setup(const struct api_ctx *ctx, struct labnet_ctx *lc)
{
	labnet_ctx_init(lc, ctx->state_dir, NULL);
	labnet_pool_env(lc);	/* a bad $VHDVISOR_NET_POOL keeps the default */
	lc->err[0] = '\0';
}

/* A labnet call's failure @r as the reply, with the reason in @lc. */
static void fail_net(struct api_reply *rep, int r, const struct labnet_ctx *lc)
{
	if (r == -EADDRINUSE || r == -ENOSPC)
		api_fail(rep, 409, "%s", lc->err[0] ? lc->err : strerror(-r));
	else
		api_fail_errno(rep, r, lc->err);
}

void api_nets_list(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct labnet_ctx lc;
	struct labnet *nets;
	json_object *arr;
	size_t n;
	int r;

	ctx_setup(ctx, &lc);
	r = labnet_list(lc.state_dir, &nets, &n);
	if (r) {
		api_fail(rep, 500, "%s/networks: %s", lc.state_dir, strerror(-r));
		return;
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, labnet_json(&lc, &nets[i]));
	free(nets);
	api_ok(rep, arr);
}

void api_net_create(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct labnet_opts o = { 0 };
	struct labnet_ctx lc;
	struct labnet net;
	struct subnet sn;
	const char *subnet;
	int r;

	if (!(o.name = api_body_name(req->body, "name", rep)) ||
	    !api_body_string(req->body, "subnet", &subnet, rep))
		return;
	if (subnet) {
		if (subnet_parse(subnet, true, &sn)) {
			api_fail(rep, 400, "subnet '%.64s': not a subnet in CIDR form with zero "
				 "host bits (e.g. 10.50.0.0/24)", subnet);
			return;
		}
		o.subnet = &sn;
	}
	api_body_bool(req->body, "dhcp", &o.dhcp);
	api_body_bool(req->body, "nat", &o.nat);
	ctx_setup(ctx, &lc);
	r = labnet_create(&lc, &o, &net);
	if (r)
		fail_net(rep, r, &lc);
	else
		api_ok(rep, labnet_json(&lc, &net));
}

void api_net_delete(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	struct labnet_ctx lc;
	bool force = false;
	json_object *j;
	int r;

	api_body_bool(req->body, "force", &force);
	ctx_setup(ctx, &lc);
	r = labnet_remove(&lc, req->params[0], force);
	if (r == -ENOENT) {	/* the library's words, as the CLI prints them */
		api_fail(rep, 404, "%s", lc.err[0] ? lc.err : "no such network");
		return;
	}
	if (r) {
		fail_net(rep, r, &lc);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(req->params[0]));
	json_object_object_add(j, "deleted", json_object_new_boolean(1));
	api_ok(rep, j);
}
