/* tests/unit/netback/test_nl.c: bridges, taps and NIC ports for real, each
 * test in its own network namespace (Criterion runs every test in a child
 * process, which unshares its namespace; nothing reaches the host's). */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback/labnet.h"
#include "netback/netback.h"
#include "netback/nl.h"
#include "netback/tap.h"

static struct nl *nl;
static char state[64];

static void netns_setup(void)
{
	if (unshare(CLONE_NEWNET))
		cr_skip_test("cannot unshare a network namespace: %s", strerror(errno));
	if (access("/dev/net/tun", R_OK | W_OK))
		cr_skip_test("/dev/net/tun is not usable");
	cr_assert_eq(nl_open(&nl), 0);
	snprintf(state, sizeof(state), "/tmp/nbnl.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
}

static void netns_teardown(void)
{
	char cmd[128];

	nl_close(nl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	if (state[0] && system(cmd))
		cr_log_warn("could not remove %s", state);
}

TestSuite(nl, .init = netns_setup, .fini = netns_teardown);

Test(nl, bridge_lifecycle)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	struct nl_link_info info;
	int idx;

	cr_assert_eq(nl_link_index(nl, "vvbr-t1"), -ENODEV);
	cr_assert_eq(nl_bridge_create(nl, "vvbr-t1", mac), 0);
	cr_assert_eq(nl_bridge_create(nl, "vvbr-t1", mac), -EEXIST);
	cr_assert_eq(nl_link_get(nl, "vvbr-t1", &info), 0);
	cr_assert_str_eq(info.kind, "bridge");
	cr_assert_arr_eq(info.mac, mac, 6);
	cr_assert(!info.up);
	idx = info.index;
	cr_assert_eq(nl_addr_add(nl, idx, 0x0ad50701, 24), 0);
	cr_assert_eq(nl_link_set_up(nl, idx, true), 0);
	cr_assert_eq(nl_link_get(nl, "vvbr-t1", &info), 0);
	cr_assert(info.up);
	cr_assert_eq(nl_link_delete(nl, idx), 0);
	cr_assert_eq(nl_link_index(nl, "vvbr-t1"), -ENODEV);
	cr_assert_eq(nl_link_delete(nl, idx), -ENODEV);
}

Test(nl, routes_and_default_route)
{
	struct subnet *r, want;
	char dev[IF_NAMESIZE];
	size_t n;
	bool found = false;
	int idx;

	cr_assert_eq(nl_default_route_dev(nl, dev), -ENETUNREACH);
	cr_assert_eq(nl_bridge_create(nl, "vvbr-up", NULL), 0);
	idx = nl_link_index(nl, "vvbr-up");
	cr_assert_eq(nl_addr_add(nl, idx, 0xc0a83201, 24), 0); /* 192.168.50.1 */
	cr_assert_eq(nl_link_set_up(nl, idx, true), 0);
	cr_assert_eq(system("ip route add default via 192.168.50.254 dev vvbr-up onlink"), 0);
	cr_assert_eq(nl_default_route_dev(nl, dev), 0);
	cr_assert_str_eq(dev, "vvbr-up");
	cr_assert_eq(nl_route_list(nl, &r, &n), 0);
	subnet_parse("192.168.50.0/24", true, &want);
	for (size_t i = 0; i < n; i++) {
		cr_assert_neq(r[i].prefix, 0, "default route listed");
		if (r[i].addr == want.addr && r[i].prefix == 24)
			found = true;
	}
	free(r);
	cr_assert(found, "the bridge's connected route is missing");
}

Test(nl, tap_enslaved_and_gone_when_closed)
{
	struct nl_link_info info;
	char name[IF_NAMESIZE];
	int br, fd;

	cr_assert_eq(nl_bridge_create(nl, "vvbr-t2", NULL), 0);
	br = nl_link_index(nl, "vvbr-t2");
	fd = tap_open(TAP_NAME_TEMPLATE, name);
	cr_assert_geq(fd, 0, "tap_open: %s", strerror(-fd));
	cr_assert_eq(strncmp(name, "vvtap", 5), 0, "name %s", name);
	cr_assert_eq(nl_link_get(nl, name, &info), 0);
	cr_assert_str_eq(info.kind, "tun");
	cr_assert_eq(nl_link_set_master(nl, info.index, br), 0);
	cr_assert_eq(nl_link_get(nl, name, &info), 0);
	cr_assert_eq(info.master, br);
	close(fd);
	cr_assert_eq(nl_link_index(nl, name), -ENODEV);
}

Test(nl, tap_taken_and_not_a_tap)
{
	char name[IF_NAMESIZE];
	int fd, fd2;

	fd = tap_open("vvtapbusy", name);
	cr_assert_geq(fd, 0);
	fd2 = tap_open("vvtapbusy", name);
	cr_assert_eq(fd2, -EBUSY);
	close(fd);
	cr_assert_eq(nl_bridge_create(nl, "vvbr-t3", NULL), 0);
	cr_assert_eq(tap_open("vvbr-t3", name), -EINVAL);
}

static void make_net(const char *name, struct labnet *out)
{
	struct labnet_ctx ctx;
	struct labnet_opts o = { .name = name };

	labnet_ctx_init(&ctx, state, state);
	cr_assert_eq(labnet_create(&ctx, &o, out), 0, "labnet_create: %s", ctx.err);
}

Test(nl, port_on_a_lab_network)
{
	struct nb_nic_spec spec = { .kind = NB_NIC_NET, .name = "lab1" };
	struct nl_link_info info;
	struct nb_port *p, *q;
	struct labnet net;
	uint8_t want[MAC_LEN];
	char err[256], ifname[IF_NAMESIZE];
	int br;

	make_net("lab1", &net);
	br = nl_link_index(nl, net.bridge);
	cr_assert_gt(br, 0);
	cr_assert_eq(netback_nic_attach(state, &spec, "vm-a", 0, &p, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(nl_link_get(nl, nb_port_ifname(p), &info), 0);
	cr_assert_eq(info.master, br);
	cr_assert(info.up);
	mac_generate("vm-a", 0, want);
	cr_assert_arr_eq(nb_port_mac(p), want, MAC_LEN);
	cr_assert_eq(strlen(nb_port_mac_str(p)), MAC_STR_LEN - 1);

	/* A given MAC wins; a second port gets another tap. */
	spec.has_mac = true;
	cr_assert_eq(mac_parse("52:54:00:12:34:56", spec.mac), 0);
	cr_assert_eq(netback_nic_attach(state, &spec, "vm-a", 1, &q, err, sizeof(err)), 0);
	cr_assert_str_eq(nb_port_mac_str(q), "52:54:00:12:34:56");
	cr_assert_str_neq(nb_port_ifname(p), nb_port_ifname(q));

	snprintf(ifname, sizeof(ifname), "%s", nb_port_ifname(p));
	nb_port_destroy(p);
	cr_assert_eq(nl_link_index(nl, ifname), -ENODEV);
	nb_port_destroy(q);
	nb_port_destroy(NULL);
}

Test(nl, port_errors)
{
	struct nb_nic_spec spec = { .kind = NB_NIC_NET, .name = "nope" };
	struct nb_port *p = NULL, *q = NULL;
	struct labnet net;
	char err[256];

	cr_assert_eq(netback_nic_attach(state, &spec, "vm", 0, &p, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "no network named 'nope'"), "%s", err);

	/* The record exists, the bridge does not (another namespace, a reboot). */
	make_net("lab2", &net);
	cr_assert_eq(nl_link_delete(nl, nl_link_index(nl, net.bridge)), 0);
	spec.name = "lab2";
	cr_assert_eq(netback_nic_attach(state, &spec, "vm", 0, &p, err, sizeof(err)), -ENODEV);
	cr_assert(strstr(err, "net up lab2"), "%s", err);

	spec.kind = NB_NIC_TAP;
	spec.name = "usertap0";
	cr_assert_eq(netback_nic_attach(state, &spec, "vm", 0, &p, err, sizeof(err)), -ENODEV);
	cr_assert_eq(system("ip tuntap add usertap0 mode tap vnet_hdr"), 0);
	cr_assert_eq(netback_nic_attach(state, &spec, "vm", 0, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(netback_nic_attach(state, &spec, "vm", 1, &q, err, sizeof(err)), -EBUSY);
	cr_assert(strstr(err, "in use"), "%s", err);
	nb_port_destroy(p);
	/* A user's persistent tap stays after we let go of it. */
	cr_assert_gt(nl_link_index(nl, "usertap0"), 0);

	spec.name = "lo";
	cr_assert_eq(netback_nic_attach(state, &spec, "vm", 0, &p, err, sizeof(err)), -EINVAL);
}
