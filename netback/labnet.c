/* netback/labnet.c: creating, repairing and removing lab networks. The
 * record is written last on create and removed last on remove, so a
 * network is listed only when all of it was set up. */
#include "netback/labnet.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback/dnsmasq.h"
#include "netback/fw.h"
#include "netback/nl.h"

static int __attribute__((format(printf, 3, 4)))
fail(struct labnet_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return err;
}

static int nl_fail(struct labnet_ctx *ctx, int err, const char *what)
{
	if (err == -EPERM || err == -EACCES)
		return fail(ctx, -EPERM, "%s: permission denied (needs CAP_NET_ADMIN, run as root)", what);
	return fail(ctx, err, "%s: %s", what, strerror(-err));
}

const char *labnet_default_state_dir(void)
{
	const char *s = getenv("VHDVISOR_STATE");

	return s && *s ? s : "/var/lib/vhdvisor";
}

const char *labnet_default_run_dir(void)
{
	const char *s = getenv("VHDVISOR_RUN");

	return s && *s ? s : "/run/vhdvisor";
}

void labnet_ctx_init(struct labnet_ctx *ctx, const char *state_dir,
		     const char *run_dir)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->state_dir = state_dir ? state_dir : labnet_default_state_dir();
	ctx->run_dir = run_dir ? run_dir : labnet_default_run_dir();
	subnet_parse(LABNET_DEFAULT_POOL, true, &ctx->pool);
}

void labnet_run_dir(const struct labnet_ctx *ctx, const char *name, char *buf,
		    size_t len)
{
	snprintf(buf, len, "%s/net/%s", ctx->run_dir, name);
}

/* Chooses or checks the subnet: no overlap with any route of this
 * namespace nor with another network's subnet. */
static int choose_subnet(struct labnet_ctx *ctx, struct nl *nl,
			 const struct labnet_opts *opts, const struct labnet *nets,
			 size_t n_nets, struct subnet *out)
{
	struct subnet *taken, *routes = NULL;
	size_t n_routes = 0, n;
	char a[SUBNET_STR_LEN], b[SUBNET_STR_LEN];
	int err;

	err = nl_route_list(nl, &routes, &n_routes);
	if (err)
		return nl_fail(ctx, err, "reading the routing table");
	/* Networks first, so that an overlap names the network rather than
	 * the route of its bridge. */
	taken = malloc((n_nets + n_routes + 1) * sizeof(*taken));
	if (!taken) {
		free(routes);
		return fail(ctx, -ENOMEM, "out of memory");
	}
	for (n = 0; n < n_nets; n++)
		taken[n] = nets[n].subnet;
	if (n_routes)
		memcpy(taken + n, routes, n_routes * sizeof(*routes));
	n += n_routes;
	free(routes);

	if (opts->subnet) {
		err = 0;
		if (opts->subnet->prefix < 8 || opts->subnet->prefix > 30)
			err = fail(ctx, -EINVAL, "subnet %s: the prefix must be 8..30",
				   subnet_format(opts->subnet, a, sizeof(a)));
		for (size_t i = 0; !err && i < n; i++) {
			if (!subnet_overlaps(opts->subnet, &taken[i]))
				continue;
			subnet_format(opts->subnet, a, sizeof(a));
			subnet_format(&taken[i], b, sizeof(b));
			if (i < n_nets)
				err = fail(ctx, -EADDRINUSE,
					   "subnet %s overlaps network '%s' (%s)", a,
					   nets[i].name, b);
			else
				err = fail(ctx, -EADDRINUSE,
					   "subnet %s overlaps the route to %s on this host", a, b);
		}
		if (!err)
			*out = *opts->subnet;
	} else {
		err = subnet_pick(&ctx->pool, LABNET_DEFAULT_PREFIX, taken, n, out);
		if (err == -ENOSPC)
			fail(ctx, err, "no free /%d left in %s (every one overlaps a route or a network)",
			     LABNET_DEFAULT_PREFIX, subnet_format(&ctx->pool, a, sizeof(a)));
		else if (err)
			fail(ctx, err, "pool %s cannot hold a /%d",
			     subnet_format(&ctx->pool, a, sizeof(a)), LABNET_DEFAULT_PREFIX);
	}
	free(taken);
	return err;
}

/* Creates the bridge of @net with its address, up. Deletes it again on
 * failure. */
static int bridge_setup(struct labnet_ctx *ctx, struct nl *nl,
			const struct labnet *net)
{
	int err, idx;

	err = nl_bridge_create(nl, net->bridge, net->bridge_mac);
	if (err == -EEXIST)
		return fail(ctx, -EEXIST, "interface %s already exists", net->bridge);
	if (err)
		return nl_fail(ctx, err, "creating bridge");
	idx = nl_link_index(nl, net->bridge);
	if (idx < 0)
		return nl_fail(ctx, idx, "finding the new bridge");
	err = nl_addr_add(nl, idx, net->gateway, net->subnet.prefix);
	if (err) {
		nl_fail(ctx, err, "setting the bridge address");
		goto err_delete;
	}
	err = nl_link_set_up(nl, idx, true);
	if (err) {
		nl_fail(ctx, err, "bringing the bridge up");
		goto err_delete;
	}
	return 0;

err_delete:
	nl_link_delete(nl, idx);
	return err;
}

static void bridge_delete(struct nl *nl, const struct labnet *net)
{
	int idx = nl_link_index(nl, net->bridge);

	if (idx > 0)
		nl_link_delete(nl, idx);
}

/* Everything of @net on the host except the record: bridge, nftables,
 * dnsmasq; undone in reverse order on failure. */
static int labnet_setup(struct labnet_ctx *ctx, struct nl *nl,
			const struct labnet *net)
{
	char dir[4200], msg[200];
	int err;

	err = bridge_setup(ctx, nl, net);
	if (err)
		return err;
	if (net->nat) {
		err = fw_enable_forwarding();
		if (err) {
			fail(ctx, err, "turning on IPv4 forwarding: %s", strerror(-err));
			goto err_bridge;
		}
	}
	err = fw_apply(net, msg, sizeof(msg));
	if (err) {
		fail(ctx, err, "installing nftables rules: %s", msg);
		goto err_bridge;
	}
	if (net->dhcp) {
		labnet_run_dir(ctx, net->name, dir, sizeof(dir));
		err = dnsm_start(net, dir, msg, sizeof(msg));
		if (err) {
			fail(ctx, err, "starting dnsmasq: %s", msg);
			goto err_fw;
		}
	}
	return 0;

err_fw:
	fw_remove(net, msg, sizeof(msg));
err_bridge:
	bridge_delete(nl, net);
	return err;
}

int labnet_create(struct labnet_ctx *ctx, const struct labnet_opts *opts,
		  struct labnet *out)
{
	struct labnet net = { 0 }, *nets = NULL;
	size_t n_nets = 0;
	struct nl *nl = NULL;
	char dir[4200];
	int lock, err;

	ctx->err[0] = '\0';
	if (!labnet_name_valid(opts->name))
		return fail(ctx, -EINVAL,
			    "bad network name '%s': use 1..%d of a-z 0-9 '-', not starting with '-'",
			    opts->name, LABNET_NAME_MAX);
	lock = labnet_lock(ctx->state_dir);
	if (lock < 0)
		return fail(ctx, lock, "locking %s/networks: %s", ctx->state_dir,
			    strerror(-lock));
	err = labnet_load(ctx->state_dir, opts->name, &net);
	if (err != -ENOENT) {
		if (!err)
			err = fail(ctx, -EEXIST, "network '%s' already exists", opts->name);
		else
			fail(ctx, err, "reading network '%s': %s", opts->name, strerror(-err));
		goto out;
	}
	memset(&net, 0, sizeof(net));
	snprintf(net.name, sizeof(net.name), "%s", opts->name);
	labnet_bridge_name(net.name, net.bridge);
	err = labnet_list(ctx->state_dir, &nets, &n_nets);
	if (err) {
		fail(ctx, err, "listing networks: %s", strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < n_nets; i++) {
		if (!strcmp(nets[i].bridge, net.bridge)) {
			err = fail(ctx, -EEXIST, "network '%s' already uses bridge %s",
				   nets[i].name, net.bridge);
			goto out;
		}
	}
	err = nl_open(&nl);
	if (err) {
		nl_fail(ctx, err, "opening rtnetlink");
		goto out;
	}
	err = choose_subnet(ctx, nl, opts, nets, n_nets, &net.subnet);
	if (err)
		goto out;
	net.gateway = subnet_host(&net.subnet, 1);
	mac_generate(net.bridge, 0, net.bridge_mac);
	net.dhcp = opts->dhcp;
	if (net.dhcp) {
		uint32_t hosts = subnet_usable(net.subnet.prefix);

		net.dhcp_first = subnet_host(&net.subnet, hosts / 2 + 1);
		net.dhcp_last = subnet_host(&net.subnet, hosts);
		if (net.dhcp_first <= net.gateway) {
			err = fail(ctx, -EINVAL, "subnet too small for DHCP");
			goto out;
		}
	}
	net.nat = opts->nat;
	if (net.nat) {
		err = nl_default_route_dev(nl, net.uplink);
		if (err == -ENETUNREACH) {
			fail(ctx, err, "--nat: this host has no IPv4 default route to use as uplink");
			goto out;
		} else if (err) {
			nl_fail(ctx, err, "finding the uplink");
			goto out;
		}
	}
	err = labnet_setup(ctx, nl, &net);
	if (err)
		goto out;
	err = labnet_save(ctx->state_dir, &net);
	if (err) {
		char msg[200];

		fail(ctx, err, "writing the record of '%s': %s", net.name, strerror(-err));
		labnet_run_dir(ctx, net.name, dir, sizeof(dir));
		dnsm_stop(dir);
		fw_remove(&net, msg, sizeof(msg));
		bridge_delete(nl, &net);
		goto out;
	}
	if (out)
		*out = net;
out:
	nl_close(nl);
	free(nets);
	close(lock);
	return err;
}

/* -EBUSY when VM taps are ports of @net's bridge (none: 0). */
static int check_unused(struct labnet_ctx *ctx, struct nl *nl,
			const struct labnet *net)
{
	char ports[8][IF_NAMESIZE], list[8 * (IF_NAMESIZE + 1)] = "";
	int idx = nl_link_index(nl, net->bridge), n, taps = 0;

	if (idx < 0)
		return 0;
	n = nl_link_ports(nl, idx, ports, 8);
	if (n < 0)
		return nl_fail(ctx, n, "listing the bridge's ports");
	for (int i = 0; i < n && i < 8; i++) {
		if (strncmp(ports[i], "vvtap", 5))
			continue;
		taps++;
		strcat(list, list[0] ? " " : "");
		strcat(list, ports[i]);
	}
	if (!taps)
		return 0;
	return fail(ctx, -EBUSY, "%d VM NIC%s attached (%s): stop the VM%s first, or use --force",
		    taps, taps > 1 ? "s" : "", list, taps > 1 ? "s" : "");
}

/* The start of labnet_remove()/labnet_up(): takes the records' lock,
 * loads network @name and opens rtnetlink. Returns the lock fd with *net
 * and *nl set, or -errno with the reason in ctx->err and nothing held. */
static int op_begin(struct labnet_ctx *ctx, const char *name, struct labnet *net,
		    struct nl **nl)
{
	int lock, err;

	ctx->err[0] = '\0';
	lock = labnet_lock(ctx->state_dir);
	if (lock < 0)
		return fail(ctx, lock, "locking %s/networks: %s", ctx->state_dir,
			    strerror(-lock));
	err = labnet_load(ctx->state_dir, name, net);
	if (err) {
		if (err == -ENOENT)
			fail(ctx, err, "no network named '%s'", name);
		else
			fail(ctx, err, "reading network '%s': %s", name, strerror(-err));
	} else {
		err = nl_open(nl);
		if (err)
			nl_fail(ctx, err, "opening rtnetlink");
	}
	if (err) {
		close(lock);
		return err;
	}
	return lock;
}

int labnet_remove(struct labnet_ctx *ctx, const char *name, bool force)
{
	struct labnet net;
	struct nl *nl = NULL;
	char dir[4200], path[4300], msg[200];
	int lock, err, idx;

	lock = op_begin(ctx, name, &net, &nl);
	if (lock < 0)
		return lock;
	if (!force) {
		err = check_unused(ctx, nl, &net);
		if (err)
			goto out;
	}
	labnet_run_dir(ctx, name, dir, sizeof(dir));
	err = dnsm_stop(dir);
	if (err) {
		fail(ctx, err, "stopping dnsmasq: %s", strerror(-err));
		goto out;
	}
	err = fw_remove(&net, msg, sizeof(msg));
	if (err) {
		fail(ctx, err, "removing nftables rules: %s", msg);
		goto out;
	}
	idx = nl_link_index(nl, net.bridge);
	if (idx > 0)
		err = nl_link_delete(nl, idx);
	else if (idx != -ENODEV)
		err = idx;
	if (err) {
		nl_fail(ctx, err, "deleting the bridge");
		goto out;
	}
	/* The leases and the log go with the network. */
	snprintf(path, sizeof(path), "%s/leases", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dnsmasq.log", dir);
	unlink(path);
	rmdir(dir);
	err = labnet_unlink(ctx->state_dir, name);
	if (err)
		fail(ctx, err, "removing the record: %s", strerror(-err));
out:
	nl_close(nl);
	close(lock);
	return err;
}

int labnet_up(struct labnet_ctx *ctx, const char *name)
{
	struct labnet net;
	struct nl *nl = NULL;
	char dir[4200], msg[200];
	int lock, err, idx;

	lock = op_begin(ctx, name, &net, &nl);
	if (lock < 0)
		return lock;
	idx = nl_link_index(nl, net.bridge);
	if (idx == -ENODEV) {
		/* Recreate everything, dnsmasq included (it lost its socket). */
		labnet_run_dir(ctx, name, dir, sizeof(dir));
		dnsm_stop(dir);
		err = labnet_setup(ctx, nl, &net);
		goto out;
	}
	if (idx < 0) {
		err = nl_fail(ctx, idx, "finding the bridge");
		goto out;
	}
	err = nl_link_set_up(nl, idx, true);
	if (err) {
		nl_fail(ctx, err, "bringing the bridge up");
		goto out;
	}
	if (!fw_present(&net)) {
		if (net.nat)
			fw_enable_forwarding();
		err = fw_apply(&net, msg, sizeof(msg));
		if (err) {
			fail(ctx, err, "installing nftables rules: %s", msg);
			goto out;
		}
	}
	labnet_run_dir(ctx, name, dir, sizeof(dir));
	if (net.dhcp && !dnsm_pid(dir)) {
		err = dnsm_start(&net, dir, msg, sizeof(msg));
		if (err)
			fail(ctx, err, "starting dnsmasq: %s", msg);
	}
out:
	nl_close(nl);
	close(lock);
	return err;
}

void labnet_status(struct labnet_ctx *ctx, const struct labnet *net,
		   struct labnet_status *st)
{
	struct nl_link_info info;
	struct nl *nl;
	char dir[4200];

	memset(st, 0, sizeof(*st));
	if (nl_open(&nl) == 0) {
		if (nl_link_get(nl, net->bridge, &info) == 0) {
			st->bridge = true;
			st->bridge_up = info.up;
		}
		nl_close(nl);
	}
	labnet_run_dir(ctx, net->name, dir, sizeof(dir));
	st->dnsmasq_pid = net->dhcp ? dnsm_pid(dir) : 0;
	st->firewall = fw_present(net);
}
