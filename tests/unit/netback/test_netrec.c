/* tests/unit/netback/test_netrec.c: lab network names, bridge names and
 * records (save/load/list/unlink, JSON validation). */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback/labnet.h"

static char dir[64];

static void mkstate(void)
{
	snprintf(dir, sizeof(dir), "/tmp/nbrec.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rmstate(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct labnet sample(const char *name)
{
	struct labnet n = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	labnet_bridge_name(name, n.bridge);
	subnet_parse("10.213.9.0/24", true, &n.subnet);
	n.gateway = subnet_host(&n.subnet, 1);
	mac_generate(n.bridge, 0, n.bridge_mac);
	n.dhcp = true;
	n.dhcp_first = subnet_host(&n.subnet, 128);
	n.dhcp_last = subnet_host(&n.subnet, 254);
	n.nat = true;
	snprintf(n.uplink, sizeof(n.uplink), "eth0");
	return n;
}

Test(labnet, names)
{
	cr_assert(labnet_name_valid("lab1"));
	cr_assert(labnet_name_valid("a-b-c"));
	cr_assert(labnet_name_valid("0"));
	cr_assert(!labnet_name_valid(""));
	cr_assert(!labnet_name_valid("-x"));
	cr_assert(!labnet_name_valid("Lab"));
	cr_assert(!labnet_name_valid("a_b"));
	cr_assert(!labnet_name_valid("a/b"));
	cr_assert(!labnet_name_valid("../x"));
	cr_assert(!labnet_name_valid(NULL));
	cr_assert(labnet_name_valid("abcdefghijabcdefghijabcdefghij1"));
	cr_assert(!labnet_name_valid("abcdefghijabcdefghijabcdefghij12"));
}

Test(labnet, bridge_names_fit_ifnamsiz)
{
	char a[IF_NAMESIZE], b[IF_NAMESIZE];

	labnet_bridge_name("lab1", a);
	cr_assert_str_eq(a, "vvbr-lab1");
	labnet_bridge_name("abcdefghij", a);
	cr_assert_str_eq(a, "vvbr-abcdefghij");
	labnet_bridge_name("abcdefghijk", a);
	cr_assert_eq(strlen(a), IF_NAMESIZE - 1);
	cr_assert_eq(strncmp(a, "vvbr-abcde", 10), 0);
	labnet_bridge_name("abcdefghijl", b);
	cr_assert_str_neq(a, b);
}

Test(labnet, record_roundtrip, .init = mkstate, .fini = rmstate)
{
	struct labnet n = sample("lab-1"), m;

	cr_assert_eq(labnet_load(dir, "lab-1", &m), -ENOENT);
	cr_assert_eq(labnet_save(dir, &n), 0);
	cr_assert_eq(labnet_load(dir, "lab-1", &m), 0);
	cr_assert_str_eq(m.name, n.name);
	cr_assert_str_eq(m.bridge, n.bridge);
	cr_assert_eq(m.subnet.addr, n.subnet.addr);
	cr_assert_eq(m.subnet.prefix, n.subnet.prefix);
	cr_assert_eq(m.gateway, n.gateway);
	cr_assert_arr_eq(m.bridge_mac, n.bridge_mac, MAC_LEN);
	cr_assert(m.dhcp && m.nat);
	cr_assert_eq(m.dhcp_first, n.dhcp_first);
	cr_assert_eq(m.dhcp_last, n.dhcp_last);
	cr_assert_str_eq(m.uplink, "eth0");
	cr_assert_eq(labnet_unlink(dir, "lab-1"), 0);
	cr_assert_eq(labnet_unlink(dir, "lab-1"), -ENOENT);
	cr_assert_eq(labnet_load(dir, "../etc", &m), -ENOENT);
}

Test(labnet, list_sorted_skips_corrupt, .init = mkstate, .fini = rmstate)
{
	struct labnet a = sample("zeta"), b = sample("alpha"), *v;
	char path[128];
	size_t n;
	FILE *f;

	cr_assert_eq(labnet_list(dir, &v, &n), 0);
	cr_assert_eq(n, 0);
	free(v);
	cr_assert_eq(labnet_save(dir, &a), 0);
	cr_assert_eq(labnet_save(dir, &b), 0);
	snprintf(path, sizeof(path), "%s/networks/bad.json", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"name\":\"bad\",\"subnet\":\"nonsense\"}", f);
	fclose(f);
	cr_assert_eq(labnet_list(dir, &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].name, "alpha");
	cr_assert_str_eq(v[1].name, "zeta");
	free(v);
	/* No temporary files are left by the atomic writes. */
	snprintf(path, sizeof(path), "ls %s/networks | grep -q tmp", dir);
	cr_assert_neq(system(path), 0);
}

Test(labnet, json_validation)
{
	struct labnet n = sample("lab1"), m;
	struct json_object *o = labnet_to_json(&n);

	cr_assert_eq(labnet_from_json(o, &m), 0);
	json_object_object_add(o, "subnet", json_object_new_string("10.213.9.1/24"));
	cr_assert_eq(labnet_from_json(o, &m), -EINVAL);
	json_object_object_add(o, "subnet", json_object_new_string("10.213.9.0/24"));
	json_object_object_add(o, "bridge", json_object_new_string("a-name-that-is-too-long"));
	cr_assert_eq(labnet_from_json(o, &m), -EINVAL);
	json_object_object_add(o, "bridge", json_object_new_string("vvbr-lab1"));
	json_object_object_del(o, "uplink");
	cr_assert_eq(labnet_from_json(o, &m), -EINVAL);
	json_object_put(o);
}
