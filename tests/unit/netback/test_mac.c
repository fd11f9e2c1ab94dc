/* tests/unit/netback/test_mac.c: generated MACs (stable per name, distinct
 * between names, locally administered unicast), parsing and printing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netback/mac.h"

Test(mac, generate_is_stable_for_a_name)
{
	uint8_t a[MAC_LEN], b[MAC_LEN];

	mac_generate("web-1", 0, a);
	mac_generate("web-1", 0, b);
	cr_assert_arr_eq(a, b, MAC_LEN);
}

Test(mac, generate_is_local_unicast)
{
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t m[MAC_LEN];
		char name[32];

		snprintf(name, sizeof(name), "vm%u", i);
		mac_generate(name, i % 4, m);
		cr_assert_eq(m[0] & 0x01, 0, "multicast bit set for %s", name);
		cr_assert_eq(m[0] & 0x02, 0x02, "not locally administered: %s", name);
	}
}

Test(mac, generate_differs_between_names_and_nics)
{
	enum { N = 5000 };
	static uint8_t seen[2 * N][MAC_LEN];
	char name[32];

	for (unsigned i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "clone-%u", i);
		mac_generate(name, 0, seen[2 * i]);
		mac_generate(name, 1, seen[2 * i + 1]);
	}
	for (unsigned i = 0; i < 2 * N; i++)
		for (unsigned j = i + 1; j < 2 * N; j++)
			cr_assert(memcmp(seen[i], seen[j], MAC_LEN),
				  "collision between %u and %u", i, j);
}

Test(mac, generate_known_value)
{
	/* Frozen: a VM keeps its MAC across vhdvisor versions. */
	uint8_t m[MAC_LEN];
	char s[MAC_STR_LEN];

	mac_generate("template", 0, m);
	mac_format(m, s);
	cr_assert_str_eq(s, "52:6b:01:41:b5:76");
}

Test(mac, parse_and_format)
{
	uint8_t m[MAC_LEN];
	char s[MAC_STR_LEN];

	cr_assert_eq(mac_parse("52:54:00:AB:cd:0F", m), 0);
	cr_assert_str_eq(mac_format(m, s), "52:54:00:ab:cd:0f");
	cr_assert_eq(mac_parse("52-54-00-ab-cd-0f", m), 0);
	cr_assert_eq(mac_parse("01:00:5e:00:00:01", m), -EINVAL); /* multicast */
	cr_assert_eq(mac_parse("ff:ff:ff:ff:ff:ff", m), -EINVAL);
	cr_assert_eq(mac_parse("00:00:00:00:00:00", m), -EINVAL);
	cr_assert_eq(mac_parse("52:54:00:ab:cd", m), -EINVAL);
	cr_assert_eq(mac_parse("52:54:00:ab:cd:0g", m), -EINVAL);
	cr_assert_eq(mac_parse("52:54:00:ab:cd:0f:", m), -EINVAL);
	cr_assert_eq(mac_parse("52.54.00.ab.cd.0f", m), -EINVAL);
	cr_assert_eq(mac_parse(NULL, m), -EINVAL);
}
