/* Unit tests for the installer's decisions (appliance/install_*.c): the
 * answer file (every field, good and bad, unknown keys with their line
 * number) and the partition plan (several disk sizes, alignment, no
 * overlap, everything inside the disk, small disks refused). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "appliance/install.h"

static struct inst_answer a;
static char why[256];

static int parse(const char *text)
{
	return inst_answer_parse(text, strlen(text), &a, why, sizeof(why));
}

#define BASE "disk=/dev/vda\nhostname=host1\nwipe=yes\ntoken=abcdefghijklmnop0123\n"

Test(answer, minimal_dhcp)
{
	cr_assert_eq(parse(BASE), 0, "%s", why);
	cr_expect_str_eq(a.disk, "/dev/vda");
	cr_expect_str_eq(a.hostname, "host1");
	cr_expect_eq(a.net, INST_NET_DHCP);
	cr_expect(a.wipe);
	cr_expect_str_eq(a.token, "abcdefghijklmnop0123");
	cr_expect_str_eq(a.password_hash, "");
}

Test(answer, every_field_static_with_comments_and_spaces)
{
	const char *t =
		"# unattended install of the lab host\n"
		"\n"
		"  disk = /dev/disk/by-id/ata-QEMU_HARDDISK_QM00001  \r\n"
		"hostname=lab-01.example.org\n"
		"network=static\n"
		"address=192.168.7.10/24\n"
		"gateway=192.168.7.1\n"
		"dns=192.168.7.1, 9.9.9.9,1.1.1.1\n"
		"password_hash=$6$salt$abcdefghijklmnopqrstuvwxyz./0123456789\n"
		"wipe=yes";     /* no final newline */

	cr_assert_eq(parse(t), 0, "%s", why);
	cr_expect_str_eq(a.disk, "/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001");
	cr_expect_str_eq(a.hostname, "lab-01.example.org");
	cr_expect_eq(a.net, INST_NET_STATIC);
	cr_expect_str_eq(a.address, "192.168.7.10/24");
	cr_expect_str_eq(a.gateway, "192.168.7.1");
	cr_expect_eq(a.ndns, 3);
	cr_expect_str_eq(a.dns[0], "192.168.7.1");
	cr_expect_str_eq(a.dns[2], "1.1.1.1");
	cr_expect_str_eq(a.password_hash, "$6$salt$abcdefghijklmnopqrstuvwxyz./0123456789");
	cr_expect_str_eq(a.token, "");
}

Test(answer, disk_auto)
{
	cr_assert_eq(parse("disk=auto\nhostname=h\nwipe=yes\ntoken=abcdefghijklmnop0123\n"), 0,
		     "%s", why);
	cr_expect_str_eq(a.disk, "auto");
}

/* Each bad file: the error names the line (or the missing key). */
static void bad(const char *text, const char *expect)
{
	cr_expect_eq(parse(text), -EINVAL, "accepted: %s", text);
	cr_expect(strstr(why, expect) != NULL, "'%s' lacks '%s'", why, expect);
}

Test(answer, unknown_and_repeated_keys_with_line_numbers)
{
	bad(BASE "\n# ok\ncolour=blue\n", "line 7: unknown key 'colour'");
	bad("disk=/dev/vda\nhostname=a\nhostname=b\n", "line 3: hostname given again (first on line 2)");
	bad("disk=/dev/vda\njust text\n", "line 2: not KEY=VALUE");
	bad("disk=\n", "line 1: disk has no value");
}

Test(answer, bad_values)
{
	bad("disk=sda\n", "line 1: disk 'sda'");
	bad("disk=/dev/../etc/passwd\n", "line 1: disk");
	bad("disk=/dev/vda;rm\n", "line 1: disk");
	bad("disk=/dev/vda\nhostname=-bad\n", "line 2: hostname");
	bad("disk=/dev/vda\nhostname=a..b\n", "line 2: hostname");
	bad("disk=/dev/vda\nhostname=under_score\n", "line 2: hostname");
	bad("network=bridge\n", "line 1: network must be dhcp or static");
	bad("address=10.0.0.1\n", "line 1: address");
	bad("address=10.0.0.1/33\n", "line 1: address");
	bad("address=10.0.0.256/24\n", "line 1: address");
	bad("gateway=gw\n", "line 1: gateway");
	bad("dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4\n", "line 1: at most 3 dns");
	bad("dns=1.1.1.1,x\n", "line 1: dns server 'x'");
	bad("token=short\n", "line 1: token");
	bad("token=abcdefghijklmnop0123 space\n", "line 1: token");
	bad("password_hash=plaintext-password\n", "line 1: password_hash");
	bad("wipe=maybe\n", "line 1: wipe must be yes or no");
}

Test(answer, whole_file_rules)
{
	bad("hostname=h\nwipe=yes\ntoken=abcdefghijklmnop0123\n", "missing disk");
	bad("disk=/dev/vda\nwipe=yes\ntoken=abcdefghijklmnop0123\n", "missing hostname");
	bad("disk=/dev/vda\nhostname=h\ntoken=abcdefghijklmnop0123\n", "missing wipe");
	bad("disk=/dev/vda\nhostname=h\nwipe=no\ntoken=abcdefghijklmnop0123\n",
	    "line 3: wipe=no");
	bad("disk=/dev/vda\nhostname=h\nwipe=yes\n", "missing token or password_hash");
	bad(BASE "password_hash=$6$salt$abcdefghijklmnopqrstuvwxyz\n",
	    "line 5: give token or password_hash, not both");
	bad(BASE "network=static\n", "missing address");
	bad(BASE "gateway=10.0.0.1\n", "line 5: gateway is only for network=static");
	bad(BASE "dns=10.0.0.1\n", "line 5: dns is only for network=static");
}

Test(answer, not_text)
{
	static const char nul[] = "disk=/dev/vda\0hostname=h\n";

	cr_expect_eq(inst_answer_parse(nul, sizeof(nul) - 1, &a, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "NUL") != NULL, "%s", why);
	char longline[2048];

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	bad(longline, "line 1: longer than");
}

Test(answer, load_missing_file)
{
	cr_expect_eq(inst_answer_load("/nonexistent/answer", &a, why, sizeof(why)), -ENOENT);
	cr_expect(strstr(why, "/nonexistent/answer") != NULL, "%s", why);
}

/* Invariants every plan keeps. */
static void check_plan(uint64_t size, unsigned sector)
{
	struct inst_plan p;
	uint64_t end = 0, lvm_size;

	cr_assert_eq(inst_plan_make(size, sector, &p, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(p.nparts, 4);
	cr_expect_str_eq(p.parts[0].name, "bios_grub");
	cr_expect_str_eq(p.parts[3].name, "lvm");
	cr_expect_eq(p.parts[0].start, INST_MiB);
	for (unsigned i = 0; i < p.nparts; i++) {
		cr_expect_eq(p.parts[i].start % INST_MiB, 0);
		cr_expect_eq(p.parts[i].size % INST_MiB, 0);
		cr_expect_geq(p.parts[i].start, end, "partition %u overlaps", i);
		end = p.parts[i].start + p.parts[i].size;
	}
	/* The backup GPT: 33 sectors of 512 or 5 of 4096 after the last one. */
	cr_expect_leq(end + 33 * 512, size, "size %llu", (unsigned long long)size);
	lvm_size = p.parts[3].size;
	cr_expect_leq(p.vg_size, lvm_size - INST_MiB);
	cr_expect_eq(p.vg_size % p.extent, 0);
	cr_expect_eq(p.nlvs, 3);
	cr_expect_str_eq(p.lvs[0].mount, "/");
	cr_expect_geq(p.lvs[0].size, 4 * INST_GiB);
	cr_expect_leq(p.lvs[0].size, 16 * INST_GiB);
	cr_expect_str_eq(p.lvs[1].kind, "thin-pool");
	cr_expect_str_eq(p.lvs[2].mount, "/var/lib/vhdvisor");
	cr_expect_geq(p.lvs[1].size, 2 * INST_GiB);
	/* root + pool + metadata + spare fit in the group, in whole extents. */
	cr_expect_leq(p.lvs[0].size + p.lvs[1].size + 2 * p.pool_meta, p.vg_size);
	cr_expect_eq(p.lvs[0].size % p.extent, 0);
	cr_expect_eq(p.pool_meta % p.extent, 0);
	cr_expect_eq(p.lvs[2].size, p.lvs[1].size);
}

Test(plan, several_sizes)
{
	check_plan(INST_MIN_DISK, 512);
	check_plan(16 * INST_GiB, 512);
	check_plan(16 * INST_GiB + 12345 * 512, 512);      /* not MiB-aligned */
	check_plan(100 * INST_GiB, 4096);
	check_plan(500 * INST_GiB, 512);
	check_plan(4096 * INST_GiB, 512);
	check_plan(64 * 1024 * INST_GiB, 4096);
}

Test(plan, root_grows_to_its_cap)
{
	struct inst_plan p;

	cr_assert_eq(inst_plan_make(16 * INST_GiB, 512, &p, why, sizeof(why)), 0);
	cr_expect_eq(p.lvs[0].size, 4 * INST_GiB);
	cr_assert_eq(inst_plan_make(64 * INST_GiB, 512, &p, why, sizeof(why)), 0);
	cr_expect_gt(p.lvs[0].size, 4 * INST_GiB);
	cr_assert_eq(inst_plan_make(2048 * INST_GiB, 512, &p, why, sizeof(why)), 0);
	cr_expect_eq(p.lvs[0].size, 16 * INST_GiB);
	/* Thin metadata is about 0.1% of the pool (LVM caps it at 16 GiB). */
	cr_expect_geq(p.pool_meta, p.lvs[1].size / 1000);
}

Test(plan, small_disks_refused)
{
	struct inst_plan p;

	cr_expect_eq(inst_plan_make(INST_MIN_DISK - INST_MiB, 512, &p, why, sizeof(why)), -ENOSPC);
	cr_expect(strstr(why, "needs at least 8 GiB") != NULL, "%s", why);
	cr_expect(strstr(why, "8191 MiB") != NULL, "%s", why);
	cr_expect_eq(inst_plan_make(0, 512, &p, why, sizeof(why)), -ENOSPC);
	cr_expect_eq(inst_plan_make(16 * INST_GiB, 520, &p, why, sizeof(why)), -EINVAL);
}
