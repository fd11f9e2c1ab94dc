/* tests/unit/netback/test_labnet.c: lab network lifecycle errors and
 * rollback, each test in its own network namespace (see test_nl.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netback/fw.h"
#include "netback/labnet.h"
#include "netback/nl.h"
#include "netback/tap.h"

static struct nl *nl;
static char state[64];
static struct labnet_ctx ctx;

static void setup(void)
{
	if (unshare(CLONE_NEWNET))
		cr_skip_test("cannot unshare a network namespace: %s", strerror(errno));
	if (access("/usr/sbin/nft", X_OK))
		cr_skip_test("nft is not installed");
	cr_assert_eq(nl_open(&nl), 0);
	snprintf(state, sizeof(state), "/tmp/nblab.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
	labnet_ctx_init(&ctx, state, state);
}

static void teardown(void)
{
	char cmd[128];

	nl_close(nl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	if (state[0] && system(cmd))
		cr_log_warn("could not remove %s", state);
}

TestSuite(labnet_ns, .init = setup, .fini = teardown);

static int create(const char *name, const char *subnet, bool dhcp, bool nat)
{
	struct subnet sn;
	struct labnet_opts o = { .name = name, .dhcp = dhcp, .nat = nat };

	if (subnet) {
		cr_assert_eq(subnet_parse(subnet, true, &sn), 0);
		o.subnet = &sn;
	}
	return labnet_create(&ctx, &o, NULL);
}

/* No bridge, nftables table or record of @name exists. */
static void assert_nothing_of(const char *name)
{
	struct labnet net = { 0 };
	char br[IF_NAMESIZE];

	labnet_bridge_name(name, br);
	cr_assert_eq(nl_link_index(nl, br), -ENODEV, "bridge %s left behind", br);
	snprintf(net.name, sizeof(net.name), "%s", name);
	cr_assert(!fw_present(&net), "nftables table of %s left behind", name);
	cr_assert_eq(labnet_load(state, name, &net), -ENOENT);
}

Test(labnet_ns, create_remove)
{
	struct labnet net;
	struct labnet_status st;

	cr_assert_eq(create("lab1", NULL, false, false), 0, "%s", ctx.err);
	cr_assert_eq(labnet_load(state, "lab1", &net), 0);
	labnet_status(&ctx, &net, &st);
	cr_assert(st.bridge && st.bridge_up && st.firewall);
	cr_assert_eq(st.dnsmasq_pid, 0);
	cr_assert_eq(labnet_remove(&ctx, "lab1", false), 0, "%s", ctx.err);
	assert_nothing_of("lab1");
	cr_assert_eq(labnet_remove(&ctx, "lab1", false), -ENOENT);
	cr_assert(strstr(ctx.err, "no network named 'lab1'"), "%s", ctx.err);
}

Test(labnet_ns, duplicate_and_bad_names)
{
	cr_assert_eq(create("lab1", NULL, false, false), 0, "%s", ctx.err);
	cr_assert_eq(create("lab1", NULL, false, false), -EEXIST);
	cr_assert(strstr(ctx.err, "already exists"), "%s", ctx.err);
	cr_assert_eq(create("Bad_Name", NULL, false, false), -EINVAL);
	cr_assert_eq(labnet_remove(&ctx, "lab1", false), 0);
}

Test(labnet_ns, subnet_overlaps)
{
	cr_assert_eq(create("lab1", "10.50.0.0/24", false, false), 0, "%s", ctx.err);
	cr_assert_eq(create("lab2", "10.50.0.128/25", false, false), -EADDRINUSE);
	cr_assert(strstr(ctx.err, "overlaps network 'lab1'"), "%s", ctx.err);
	cr_assert_eq(system("ip link add vvtestd type bridge && ip link set vvtestd up && "
			    "ip addr add 10.213.0.5/16 dev vvtestd"), 0);
	cr_assert_eq(create("lab3", "10.213.7.0/24", false, false), -EADDRINUSE);
	cr_assert(strstr(ctx.err, "overlaps the route to 10.213.0.0/16"), "%s", ctx.err);
	/* The automatic choice avoids the route: the pool is exhausted. */
	cr_assert_eq(create("lab3", NULL, false, false), -ENOSPC);
	cr_assert(strstr(ctx.err, "no free /24"), "%s", ctx.err);
	assert_nothing_of("lab2");
	assert_nothing_of("lab3");
	cr_assert_eq(labnet_remove(&ctx, "lab1", false), 0);
}

Test(labnet_ns, pool_exhausted)
{
	subnet_parse("10.213.0.0/23", true, &ctx.pool);
	cr_assert_eq(create("a", NULL, false, false), 0, "%s", ctx.err);
	cr_assert_eq(create("b", NULL, false, false), 0, "%s", ctx.err);
	cr_assert_eq(create("c", NULL, false, false), -ENOSPC);
	assert_nothing_of("c");
	cr_assert_eq(labnet_remove(&ctx, "a", false), 0);
	cr_assert_eq(create("c", NULL, false, false), 0, "%s", ctx.err);
	cr_assert_eq(labnet_remove(&ctx, "b", false), 0);
	cr_assert_eq(labnet_remove(&ctx, "c", false), 0);
}

Test(labnet_ns, nat_needs_a_default_route)
{
	cr_assert_eq(create("lab1", NULL, false, true), -ENETUNREACH);
	cr_assert(strstr(ctx.err, "default route"), "%s", ctx.err);
	assert_nothing_of("lab1");
}

Test(labnet_ns, bridge_name_taken)
{
	cr_assert_eq(system("ip link add vvbr-lab1 type bridge"), 0);
	cr_assert_eq(create("lab1", NULL, false, false), -EEXIST);
	cr_assert(strstr(ctx.err, "vvbr-lab1 already exists"), "%s", ctx.err);
	cr_assert_eq(labnet_load(state, "lab1", &(struct labnet){ 0 }), -ENOENT);
}

Test(labnet_ns, dnsmasq_failure_rolls_back)
{
	char bin[128], path[256];
	FILE *f;

	snprintf(bin, sizeof(bin), "%s/bin", state);
	cr_assert_eq(mkdir(bin, 0755), 0);
	snprintf(path, sizeof(path), "%s/dnsmasq", bin);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("#!/bin/sh\necho 'dnsmasq: fake failure for the test' >&2\nexit 2\n", f);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", bin);
	setenv("PATH", path, 1);
	cr_assert_eq(create("lab1", NULL, true, false), -EIO);
	cr_assert(strstr(ctx.err, "fake failure"), "%s", ctx.err);
	assert_nothing_of("lab1");
}

Test(labnet_ns, up_repairs)
{
	struct labnet net;
	struct labnet_status st;
	char msg[200];

	cr_assert_eq(create("lab1", NULL, false, false), 0, "%s", ctx.err);
	cr_assert_eq(labnet_load(state, "lab1", &net), 0);
	cr_assert_eq(nl_link_delete(nl, nl_link_index(nl, net.bridge)), 0);
	cr_assert_eq(fw_remove(&net, msg, sizeof(msg)), 0);
	labnet_status(&ctx, &net, &st);
	cr_assert(!st.bridge && !st.firewall);
	cr_assert_eq(labnet_up(&ctx, "lab1"), 0, "%s", ctx.err);
	labnet_status(&ctx, &net, &st);
	cr_assert(st.bridge && st.bridge_up && st.firewall);
	cr_assert_eq(labnet_remove(&ctx, "lab1", false), 0);
}

Test(labnet_ns, rm_refuses_while_taps_are_attached)
{
	struct labnet net;
	char name[IF_NAMESIZE];
	int fd;

	cr_assert_eq(create("lab1", NULL, false, false), 0, "%s", ctx.err);
	cr_assert_eq(labnet_load(state, "lab1", &net), 0);
	fd = tap_open(TAP_NAME_TEMPLATE, name);
	cr_assert_geq(fd, 0);
	cr_assert_eq(nl_link_set_master(nl, nl_link_index(nl, name),
					nl_link_index(nl, net.bridge)), 0);
	cr_assert_eq(labnet_remove(&ctx, "lab1", false), -EBUSY);
	cr_assert(strstr(ctx.err, name) && strstr(ctx.err, "--force"), "%s", ctx.err);
	cr_assert_gt(nl_link_index(nl, net.bridge), 0, "the bridge went anyway");
	cr_assert_eq(labnet_load(state, "lab1", &net), 0);
	cr_assert_eq(labnet_remove(&ctx, "lab1", true), 0, "%s", ctx.err);
	assert_nothing_of("lab1");
	close(fd);
}
