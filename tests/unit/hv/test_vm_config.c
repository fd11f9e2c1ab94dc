/* Unit tests of hv/vm_config.c: parsing and the one validation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/vm_config.h"

static struct vm_config cfg;
static char err[512];
static char kernel[] = "/tmp/vv-cfg-kernel.XXXXXX";

static void setup(void)
{
	int fd = mkstemp(kernel);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "x", 1), 1);
	close(fd);
	vm_config_init(&cfg);
	strcpy(cfg.kernel, kernel);
	err[0] = '\0';
}

static void teardown(void)
{
	unlink(kernel);
	strcpy(kernel, "/tmp/vv-cfg-kernel.XXXXXX");
}

TestSuite(vm_config, .init = setup, .fini = teardown);

Test(vm_config, defaults_are_valid)
{
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.cpus, 1);
	cr_assert_eq(cfg.mem, 256ull << 20);
	cr_assert_eq(cfg.nics[0].tap_fd, -1);
}

Test(vm_config, cpus_and_memory)
{
	cfg.cpus = 0;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "vCPUs"));
	cfg.cpus = VM_MAX_CPUS + 1;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cfg.cpus = 4;
	cfg.mem = (256ull << 20) + 1;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "memory"));
	cfg.mem = 32ull << 20;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cfg.mem = 1ull << 30;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
}

Test(vm_config, disk_spec)
{
	struct vm_disk d;

	cr_assert_eq(vm_disk_parse("a.vhd", &d, err, sizeof(err)), 0);
	cr_assert_str_eq(d.path, "a.vhd");
	cr_assert(!d.read_only && !d.snapshot);
	cr_assert_eq(vm_disk_parse("/x/b.vhd,ro,snapshot", &d, err, sizeof(err)), 0);
	cr_assert_str_eq(d.path, "/x/b.vhd");
	cr_assert(d.read_only && d.snapshot);
	cr_assert_eq(vm_disk_parse("c.vhd,rw", &d, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "unknown option 'rw'"));
	cr_assert_eq(vm_disk_parse(",ro", &d, err, sizeof(err)), -EINVAL);
}

Test(vm_config, missing_files)
{
	cfg.nr_disks = 1;
	strcpy(cfg.disks[0].path, "/nonexistent/disk.vhd");
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/disk.vhd"));
	cfg.nr_disks = 0;
	strcpy(cfg.initrd, "/nonexistent/initrd");
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -ENOENT);
}

Test(vm_config, boot_modes)
{
	cfg.boot = VM_BOOT_IMAGE;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "takes no kernel"));
	cfg.kernel[0] = '\0';
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "needs a disk"));
	cfg.boot = VM_BOOT_DIRECT;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "needs a kernel"));
	cfg.boot = VM_BOOT_AUTO;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "nothing to boot"));
}

Test(vm_config, console_and_names)
{
	enum vm_boot_mode m;
	enum vm_accel a;

	cr_assert_eq(vm_console_parse("file:/tmp/c.log", &cfg, err, sizeof(err)), 0);
	cr_assert_eq(cfg.console, VM_CONSOLE_FILE);
	cr_assert_str_eq(cfg.console_path, "/tmp/c.log");
	cr_assert_eq(vm_console_parse("file:", &cfg, err, sizeof(err)), -EINVAL);
	cr_assert_eq(vm_console_parse("pty", &cfg, err, sizeof(err)), 0);
	cr_assert_eq(cfg.console, VM_CONSOLE_PTY);
	cr_assert_eq(vm_boot_mode_parse("firmware", &m), 0);
	cr_assert_eq(m, VM_BOOT_FIRMWARE);
	cr_assert_eq(vm_boot_mode_parse("pxe", &m), -EINVAL);
	cr_assert_eq(vm_accel_parse("tcg", &a), 0);
	cr_assert_eq(a, VM_ACCEL_TCG);
	strcpy(cfg.name, "bad name");
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	strcpy(cfg.name, "lab-1.web_2");
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
}

Test(vm_config, console_socket)
{
	char longp[200];

	strcpy(cfg.console_socket, "/run/vhdvisor/a.console.sock");
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL, "stdio + socket");
	cr_assert(strstr(err, "console file"), "%s", err);
	cr_assert_eq(vm_console_parse("file:/tmp/c.log", &cfg, err, sizeof(err)), 0);
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	strcpy(cfg.console_socket, longp);
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "too long"), "%s", err);
}

Test(vm_config, nics)
{
	cfg.nr_nics = 2;
	cfg.nics[0].kind = VM_NIC_TAP;
	strcpy(cfg.nics[0].name, "vvtap0");
	cr_assert_eq(vm_mac_parse("52:54:00:12:34:56", cfg.nics[0].mac), 0);
	cfg.nics[1].kind = VM_NIC_NET;
	strcpy(cfg.nics[1].name, "lab");
	cr_assert_eq(vm_mac_parse("52:54:00:12:34:56", cfg.nics[1].mac), 0);
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "same MAC"));
	cr_assert_eq(vm_mac_parse("53:54:00:12:34:57", cfg.nics[1].mac), 0);
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "unicast"));
	memset(cfg.nics[1].mac, 0, 6);  /* generated by netback */
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vm_mac_parse("52:54:00:12:34:57", cfg.nics[1].mac), 0);
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	strcpy(cfg.nics[0].name, "a-name-longer-than-ifnamsiz");
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert_eq(vm_mac_parse("52:54:00:12:34", cfg.nics[1].mac), -EINVAL);
	cr_assert_eq(vm_mac_parse("52:54:00:12:34:56:78", cfg.nics[1].mac), -EINVAL);
}

Test(vm_config, disk_transport)
{
	enum vm_disk_transport t = VM_DISK_VHOST_USER;

	cr_assert_eq(cfg.disk_transport, VM_DISK_VHOST_USER, "vhost-user is the default");
	cr_assert_eq(vm_disk_transport_parse("nbd", &t), 0);
	cr_assert_eq(t, VM_DISK_NBD);
	cr_assert_eq(vm_disk_transport_parse("vhost-user", &t), 0);
	cr_assert_eq(t, VM_DISK_VHOST_USER);
	cr_assert_str_eq(vm_disk_transport_name(t), "vhost-user");
	cr_assert_eq(vm_disk_transport_parse("vhost", &t), -EINVAL);
	cr_assert_eq(vm_disk_transport_parse("", &t), -EINVAL);
	cfg.disk_transport = VM_DISK_NBD;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	cfg.disk_transport = (enum vm_disk_transport)7;
	cr_assert_eq(vm_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "disk transport"), "%s", err);
}
