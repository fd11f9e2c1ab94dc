/* tests/unit/netback/test_nicparse.c: `--nic` arguments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "netback/netback.h"

Test(nic_parse, forms)
{
	struct nb_nic_spec s;
	char name[NB_NIC_NAME_MAX + 1], err[200], m[MAC_STR_LEN];

	cr_assert_eq(netback_nic_parse("net=lab-1", &s, name, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.kind, NB_NIC_NET);
	cr_assert_str_eq(s.name, "lab-1");
	cr_assert(!s.has_mac);
	cr_assert_eq(netback_nic_parse("net=lab1,mac=52:54:00:AA:bb:01", &s, name, err,
				       sizeof(err)), 0, "%s", err);
	cr_assert(s.has_mac);
	cr_assert_str_eq(mac_format(s.mac, m), "52:54:00:aa:bb:01");
	cr_assert_eq(netback_nic_parse("tap=mytap0", &s, name, err, sizeof(err)), 0);
	cr_assert_eq(s.kind, NB_NIC_TAP);
	cr_assert_str_eq(s.name, "mytap0");
}

Test(nic_parse, errors)
{
	static const char *const bad[] = {
		"lab1", "net=", "net=Lab_1", "net=lab1,", "net=lab1,mac=01:00:5e:00:00:01",
		"net=lab1,mac=52:54:00:aa:bb", "net=lab1,model=e1000", "tap=",
		"tap=a-very-long-tap-name", "tap=a/b", "bridge=br0",
		"net=abcdefghijabcdefghijabcdefghij12",
	};
	struct nb_nic_spec s;
	char name[NB_NIC_NAME_MAX + 1], err[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(netback_nic_parse(bad[i], &s, name, err, sizeof(err)), -EINVAL,
			     "accepted %s", bad[i]);
		cr_assert(strstr(err, "--nic"), "no reason for %s: '%s'", bad[i], err);
	}
}
