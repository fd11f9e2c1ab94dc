/* appliance/install_run.c: the install itself (issue 15): executes the
 * partition plan on the target disk with the system's own tools (sfdisk,
 * wipefs, mkfs, LVM's pvcreate/vgcreate/lvcreate), copies the live root,
 * configures it and puts the boot loader on last. Every command and its
 * output go to the caller's log; nothing is printed here.
 */
#include "appliance/install.h"

#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/spawn.h"

#define GPT_BIOS "21686148-6449-6E6F-744E-656564454649"
#define GPT_ESP  "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define GPT_LINUX "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define GPT_LVM  "E6D6D379-F507-44C2-A23C-238F2A3DF928"
#define MAXARGS  24

struct run {
	const struct inst_answer *a;
	const struct inst_run_opts *o;
	char disk[128];
	char part[4][160];      /* bios_grub, esp, boot, lvm */
	char kver[128];
	unsigned sector;
	struct inst_plan plan;
	char *why;
	size_t whylen;
	int nmounts;
	char mounts[4][512];
};

static void logf_(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->o->logfd < 0)
		return;
	va_start(ap, fmt);
	vdprintf(r->o->logfd, fmt, ap);
	va_end(ap);
}

static int fail(struct run *r, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct run *r, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, r->whylen, fmt, ap);
	va_end(ap);
	logf_(r, "error: %s\n", r->why);
	return e;
}

/* Runs argv (NULL-terminated) with stdin from @input (or /dev/null) and
 * stdout+stderr to the log. 0, or -EIO with the reason set. */
static int runv(struct run *r, const char *input, char *const argv[])
{
	int in = -1, st, e;
	struct spawn_opts so;
	struct spawn_child child;

	logf_(r, "+");
	for (int i = 0; argv[i]; i++)
		logf_(r, " %s", argv[i]);
	logf_(r, "\n");
	if (input) {
		/* a memory file, not a pipe: the child reads it at its pace */
		in = memfd_create("install-in", MFD_CLOEXEC);
		if (in < 0 || write(in, input, strlen(input)) != (ssize_t)strlen(input) ||
		    lseek(in, 0, SEEK_SET) < 0) {
			e = errno ? errno : EIO;
			if (in >= 0)
				close(in);
			return fail(r, -e, "input of %s: %s", argv[0], strerror(e));
		}
	}
	spawn_opts_init(&so, (const char *const *)argv);
	if (input)
		so.in = in;
	if (r->o->logfd >= 0)
		so.out = so.err = r->o->logfd;
	e = spawn_start(&so, &child);
	if (in >= 0)
		close(in);
	if (e == -ENOENT || e == -EACCES)
		return fail(r, -ENOENT, "%s: cannot run it (not installed?)", argv[0]);
	if (e)
		return fail(r, e, "cannot run %s: %s", argv[0], strerror(-e));
	e = spawn_wait(&child, -1, &st);
	if (e)
		return fail(r, e, "waiting for %s: %s", argv[0], strerror(-e));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return fail(r, -EIO, "%s failed (%s %d)", argv[0],
		    WIFEXITED(st) ? "status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* run(r, input, "cmd", args..., NULL) */
static int run(struct run *r, const char *input, ...)
{
	char *argv[MAXARGS + 1];
	va_list ap;
	int n = 0;

	va_start(ap, input);
	while (n < MAXARGS && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return runv(r, input, argv);
}

static int write_file(struct run *r, const char *rel, mode_t mode, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int write_file(struct run *r, const char *rel, mode_t mode, const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	FILE *f;
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s%s", r->o->target, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		e = -errno;
		if (fd >= 0)
			close(fd);
		return fail(r, e, "%s: %s", path, strerror(-e));
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fchmod(fd, mode) || ferror(f))
		e = -errno ? -errno : -EIO;
	if (fclose(f) && !e)
		e = -errno;
	logf_(r, "wrote %s\n", path);
	return e ? fail(r, e, "%s: %s", path, strerror(-e)) : 0;
}

static int mkdirs(struct run *r, const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s%s", r->o->target, rel);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return fail(r, -errno, "mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return fail(r, -errno, "mkdir %s: %s", path, strerror(errno));
	return 0;
}

int inst_pick_disk(json_object *report, char *out, size_t outlen, char *why, size_t whylen)
{
	json_object *disks, *d, *v;
	size_t n;

	if (!json_object_object_get_ex(report, "disks", &disks) ||
	    !json_object_is_type(disks, json_type_array)) {
		snprintf(why, whylen, "the hardware report lists no disks");
		return -ENODEV;
	}
	n = json_object_array_length(disks);
	for (size_t i = 0; i < n; i++) {
		d = json_object_array_get_idx(disks, i);
		if (json_object_object_get_ex(d, "removable", &v) && json_object_get_boolean(v))
			continue;
		if (json_object_object_get_ex(d, "holds_data", &v) && json_object_get_boolean(v))
			continue;
		if (!json_object_object_get_ex(d, "size", &v) ||
		    (uint64_t)json_object_get_int64(v) < INST_MIN_DISK)
			continue;
		if (!json_object_object_get_ex(d, "path", &v))
			continue;
		snprintf(out, outlen, "%s", json_object_get_string(v));
		return 0;
	}
	snprintf(why, whylen, "disk=auto: no disk that is fixed, blank and at least %llu GiB; "
		 "name one with disk=/dev/...", (unsigned long long)(INST_MIN_DISK / INST_GiB));
	return -ENODEV;
}

static int step_disk(struct run *r)
{
	json_object *rep = NULL;
	struct stat st;
	size_t l;
	int e;

	if (!strcmp(r->a->disk, "auto")) {
		e = inst_hw_report(NULL, NULL, NULL, false, &rep);
		if (e)
			return fail(r, e, "hardware report: %s", strerror(-e));
		e = inst_pick_disk(rep, r->disk, sizeof(r->disk), r->why, r->whylen);
		json_object_put(rep);
		if (e)
			return e;
	} else {
		snprintf(r->disk, sizeof(r->disk), "%s", r->a->disk);
	}
	if (stat(r->disk, &st))
		return fail(r, -errno, "%s: %s", r->disk, strerror(errno));
	if (!S_ISBLK(st.st_mode))
		return fail(r, -ENOTBLK, "%s is not a block device", r->disk);
	/* /dev/sda -> /dev/sda1; /dev/nvme0n1, /dev/loop0 -> ...p1 */
	l = strlen(r->disk);
	for (int i = 0; i < 4; i++)
		snprintf(r->part[i], sizeof(r->part[i]), "%s%s%d", r->disk,
			 l && r->disk[l - 1] >= '0' && r->disk[l - 1] <= '9' ? "p" : "", i + 1);
	logf_(r, "target disk: %s\n", r->disk);
	return 0;
}

static int step_plan(struct run *r)
{
	uint64_t size = 0;
	int fd, ss = 512, e = 0;

	fd = open(r->disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(r, -errno, "%s: %s", r->disk, strerror(errno));
	if (ioctl(fd, BLKGETSIZE64, &size) || ioctl(fd, BLKSSZGET, &ss))
		e = -errno;
	close(fd);
	if (e)
		return fail(r, e, "%s: size: %s", r->disk, strerror(-e));
	r->sector = (unsigned)ss;
	e = inst_plan_make(size, (unsigned)ss, &r->plan, r->why, r->whylen);
	if (e) {
		char w[512];

		snprintf(w, sizeof(w), "cannot install on %s: %s", r->disk, r->why);
		return fail(r, e, "%s", w);
	}
	return 0;
}

static int step_wipe(struct run *r)
{
	char *lvmpart = r->part[3];
	int e;

	/* Old LVM on the disk would keep its devices busy: deactivate what
	 * we can, then erase every signature (partitions first). */
	(void)run(r, NULL, "vgchange", "-an", "vhdvisor", NULL);
	if (access(lvmpart, F_OK) == 0)
		(void)run(r, NULL, "wipefs", "-a", "-f", lvmpart, NULL);
	e = run(r, NULL, "wipefs", "-a", "-f", r->disk, NULL);
	r->why[0] = '\0';
	return e;
}

static int step_partition(struct run *r)
{
	static const char *const types[] = { GPT_BIOS, GPT_ESP, GPT_LINUX, GPT_LVM };
	char script[1024];
	size_t n = 0;
	unsigned ss = r->sector;
	int e;

	/* sfdisk's sectors are the disk's logical sectors. */
	n += (size_t)snprintf(script + n, sizeof(script) - n, "label: gpt\nunit: sectors\n");
	for (unsigned i = 0; i < r->plan.nparts && i < 4; i++) {
		const struct inst_part *p = &r->plan.parts[i];

		n += (size_t)snprintf(script + n, sizeof(script) - n,
				      "start=%llu, size=%llu, type=%s, name=%s\n",
				      (unsigned long long)(p->start / ss),
				      (unsigned long long)(p->size / ss), types[i], p->name);
	}
	e = run(r, script, "sfdisk", "--no-reread", "--no-tell-kernel", "-q", r->disk, NULL);
	if (e)
		return e;
	e = run(r, NULL, "partx", "-u", r->disk, NULL);
	if (e)
		e = run(r, NULL, "blockdev", "--rereadpt", r->disk, NULL);
	if (e)
		return e;
	(void)run(r, NULL, "udevadm", "settle", NULL);
	for (int i = 0; i < 4; i++)
		if (access(r->part[i], F_OK))
			return fail(r, -ENOENT, "%s did not appear after partitioning", r->part[i]);
	return 0;
}

static int step_filesystems(struct run *r)
{
	int e;

	e = run(r, NULL, "mkfs.vfat", "-F", "32", "-n", "EFI", r->part[1], NULL);
	if (!e)
		e = run(r, NULL, "mkfs.ext4", "-q", "-F", "-L", "boot", r->part[2], NULL);
	return e;
}

static int step_lvm(struct run *r)
{
	const struct inst_plan *p = &r->plan;
	char root[32], pool[32], meta[32], virt[32], ext[32];
	int e;

	snprintf(ext, sizeof(ext), "%llum", (unsigned long long)(p->extent / INST_MiB));
	snprintf(root, sizeof(root), "%llu", (unsigned long long)(p->lvs[0].size / p->extent));
	snprintf(pool, sizeof(pool), "%llu", (unsigned long long)(p->lvs[1].size / p->extent));
	snprintf(meta, sizeof(meta), "%llum", (unsigned long long)(p->pool_meta / INST_MiB));
	snprintf(virt, sizeof(virt), "%llum", (unsigned long long)(p->lvs[2].size / INST_MiB));
	e = run(r, NULL, "pvcreate", "-ff", "-y", r->part[3], NULL);
	if (!e)
		e = run(r, NULL, "vgcreate", "-s", ext, p->vg, r->part[3], NULL);
	if (!e)
		e = run(r, NULL, "lvcreate", "-y", "-n", "root", "-l", root, p->vg, NULL);
	if (!e)
		e = run(r, NULL, "lvcreate", "-y", "--type", "thin-pool", "-n", "pool", "-l", pool,
			"--poolmetadatasize", meta, p->vg, NULL);
	if (!e)
		e = run(r, NULL, "lvcreate", "-y", "-n", "state", "-V", virt, "--thinpool", "pool",
			p->vg, NULL);
	if (!e)
		e = run(r, NULL, "mkfs.ext4", "-q", "-F", "-L", "root", "/dev/vhdvisor/root", NULL);
	if (!e)
		e = run(r, NULL, "mkfs.ext4", "-q", "-F", "-L", "state", "-E", "nodiscard",
			"/dev/vhdvisor/state", NULL);
	return e;
}

static int mount_at(struct run *r, const char *dev, const char *rel, const char *type)
{
	char path[512];
	int e;

	e = mkdirs(r, rel);
	if (e)
		return e;
	snprintf(path, sizeof(path), "%s%s", r->o->target, rel);
	logf_(r, "mount %s %s\n", dev, path);
	if (mount(dev, path, type, 0, NULL))
		return fail(r, -errno, "mount %s on %s: %s", dev, path, strerror(errno));
	snprintf(r->mounts[r->nmounts++], sizeof(r->mounts[0]), "%s", path);
	return 0;
}

static int step_mount(struct run *r)
{
	int e;

	if (mkdir(r->o->target, 0755) && errno != EEXIST)
		return fail(r, -errno, "mkdir %s: %s", r->o->target, strerror(errno));
	e = mount_at(r, "/dev/vhdvisor/root", "", "ext4");
	if (!e)
		e = mount_at(r, r->part[2], "/boot", "ext4");
	if (!e)
		e = mount_at(r, r->part[1], "/boot/efi", "vfat");
	if (!e)
		e = mount_at(r, "/dev/vhdvisor/state", "/var/lib/vhdvisor", "ext4");
	return e;
}

static int step_copy(struct run *r)
{
	char src[1024], dst[1024];
	struct dirent *de;
	DIR *d;
	int e;

	snprintf(src, sizeof(src), "%s/.", r->o->source);
	snprintf(dst, sizeof(dst), "%s/", r->o->target);
	e = run(r, NULL, "cp", "-a", "-T", "--", src, dst, NULL);
	if (e)
		return e;
	snprintf(src, sizeof(src), "%s/boot", r->o->target);
	d = opendir(src);
	if (!d)
		return fail(r, -errno, "%s: %s", src, strerror(errno));
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vmlinuz-", 8))
			snprintf(r->kver, sizeof(r->kver), "%s", de->d_name + 8);
	closedir(d);
	if (!r->kver[0])
		return fail(r, -ENOENT, "no kernel (vmlinuz-*) in %s", src);
	return 0;
}

static int uuid_of(struct run *r, const char *dev, char *out, size_t len)
{
	char *v = blkid_get_tag_value(NULL, "UUID", dev);

	if (!v)
		return fail(r, -ENOENT, "%s: no filesystem UUID", dev);
	snprintf(out, len, "%s", v);
	free(v);
	return 0;
}

/* The management NIC: the first physical NIC with a carrier, else the
 * first physical one. Its MAC in @mac ("" when there is none). */
static void mgmt_nic(char *mac, size_t len)
{
	json_object *rep = NULL, *nics, *n, *v;
	const char *first = NULL;

	mac[0] = '\0';
	if (inst_hw_report(NULL, NULL, NULL, false, &rep))
		return;
	if (json_object_object_get_ex(rep, "nics", &nics)) {
		for (size_t i = 0; i < json_object_array_length(nics); i++) {
			n = json_object_array_get_idx(nics, i);
			if (!json_object_object_get_ex(n, "physical", &v) || !json_object_get_boolean(v))
				continue;
			if (!json_object_object_get_ex(n, "mac", &v))
				continue;
			if (!first)
				first = json_object_get_string(v);
			if (json_object_object_get_ex(n, "carrier", &v) && json_object_get_boolean(v)) {
				first = json_object_get_string(json_object_object_get(n, "mac"));
				break;
			}
		}
	}
	if (first)
		snprintf(mac, len, "%s", first);
	json_object_put(rep);
}

static int step_configure(struct run *r)
{
	static const char *const live_only[] = {
		"/etc/systemd/system/getty@tty1.service.d/vhdvisor-menu.conf",
		"/etc/systemd/system/serial-getty@ttyS0.service.d/vhdvisor-menu.conf",
		"/etc/systemd/system/multi-user.target.wants/vhdvisor-unattended.service",
		"/etc/systemd/system/vhdvisor-unattended.service",
		"/etc/systemd/network/80-live-dhcp.network",
	};
	const struct inst_answer *a = r->a;
	char boot[64], esp[64], mac[32], net[1024], path[1024];
	size_t n = 0;
	int e;

	e = uuid_of(r, r->part[2], boot, sizeof(boot));
	if (!e)
		e = uuid_of(r, r->part[1], esp, sizeof(esp));
	if (e)
		return e;
	for (size_t i = 0; i < sizeof(live_only) / sizeof(live_only[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", r->o->target, live_only[i]);
		if (unlink(path) && errno != ENOENT)
			return fail(r, -errno, "%s: %s", path, strerror(errno));
	}
	e = write_file(r, "/etc/fstab", 0644,
		       "# written by vhdvisor-installer\n"
		       "/dev/mapper/vhdvisor-root / ext4 errors=remount-ro 0 1\n"
		       "UUID=%s /boot ext4 defaults 0 2\n"
		       "UUID=%s /boot/efi vfat umask=0077 0 1\n"
		       "/dev/mapper/vhdvisor-state /var/lib/vhdvisor ext4 defaults 0 2\n", boot, esp);
	if (!e)
		e = write_file(r, "/etc/hostname", 0644, "%s\n", a->hostname);
	if (!e)
		e = write_file(r, "/etc/hosts", 0644, "127.0.0.1 localhost\n127.0.1.1 %s\n"
			       "::1 localhost ip6-localhost ip6-loopback\n", a->hostname);
	/* The management NIC is a port of the bridge br0, which holds the
	 * host's address, so VMs can be bridged to the same network. */
	mgmt_nic(mac, sizeof(mac));
	if (!e)
		e = write_file(r, "/etc/systemd/network/10-br0.netdev", 0644,
			       "[NetDev]\nName=br0\nKind=bridge\n%s%s\n", mac[0] ? "MACAddress=" : "",
			       mac);
	if (!e)
		e = write_file(r, "/etc/systemd/network/20-mgmt.network", 0644,
			       "[Match]\n%s%s\n\n[Network]\nBridge=br0\n",
			       mac[0] ? "MACAddress=" : "Name=en*\n", mac);
	if (a->net == INST_NET_DHCP) {
		n += (size_t)snprintf(net, sizeof(net), "DHCP=yes\n");
	} else {
		n += (size_t)snprintf(net, sizeof(net), "Address=%s\n", a->address);
		if (a->gateway[0])
			n += (size_t)snprintf(net + n, sizeof(net) - n, "Gateway=%s\n", a->gateway);
		for (unsigned i = 0; i < a->ndns; i++)
			n += (size_t)snprintf(net + n, sizeof(net) - n, "DNS=%s\n", a->dns[i]);
	}
	if (!e)
		e = write_file(r, "/etc/systemd/network/30-br0.network", 0644,
			       "[Match]\nName=br0\n\n[Network]\n%s", net);
	if (!e)
		e = mkdirs(r, "/etc/vhdvisor");
	/* The admin credential, for the daemon's first start. */
	if (!e && a->token[0])
		e = write_file(r, "/etc/vhdvisor/install-token", 0600, "%s\n", a->token);
	if (!e && a->password_hash[0])
		e = write_file(r, "/etc/vhdvisor/install-password-hash", 0600, "%s\n",
			       a->password_hash);
	if (!e) {
		snprintf(path, sizeof(path), "%s/etc/systemd/system/multi-user.target.wants/vhdvisord.service",
			 r->o->target);
		unlink(path);
		if (symlink("/usr/local/lib/systemd/system/vhdvisord.service", path))
			return fail(r, -errno, "enable vhdvisord: %s", strerror(errno));
	}
	if (!e) {
		snprintf(path, sizeof(path), "%s/etc/machine-id", r->o->target);
		e = truncate(path, 0) && errno != ENOENT ? fail(r, -errno, "%s: %s", path, strerror(errno)) : 0;
	}
	return e;
}

static int step_bootloader(struct run *r)
{
	char boot[64], bootdir[600], efidir[600];
	int e;

	e = uuid_of(r, r->part[2], boot, sizeof(boot));
	if (!e)
		e = mkdirs(r, "/boot/grub");
	if (!e)
		e = write_file(r, "/boot/grub/grub.cfg", 0644,
			       "# written by vhdvisor-installer\n"
			       "serial --unit=0 --speed=115200\n"
			       "terminal_input serial console\nterminal_output serial console\n"
			       "set timeout=3\n"
			       "insmod part_gpt\ninsmod ext2\n"
			       "search --no-floppy --fs-uuid --set=root %s\n"
			       "menuentry \"vhdvisor\" {\n"
			       "\tlinux /vmlinuz-%s root=/dev/mapper/vhdvisor-root ro "
			       "console=tty1 console=ttyS0,115200n8\n"
			       "\tinitrd /initrd.img-%s\n}\n", boot, r->kver, r->kver);
	if (e)
		return e;
	snprintf(bootdir, sizeof(bootdir), "--boot-directory=%s/boot", r->o->target);
	snprintf(efidir, sizeof(efidir), "--efi-directory=%s/boot/efi", r->o->target);
	e = run(r, NULL, "grub-install", "--target=i386-pc", bootdir, r->disk, NULL);
	if (!e)
		e = run(r, NULL, "grub-install", "--target=x86_64-efi", bootdir, efidir,
			"--removable", "--no-nvram", NULL);
	return e;
}

static int unmount_all(struct run *r)
{
	int e = 0;

	while (r->nmounts > 0) {
		const char *m = r->mounts[--r->nmounts];

		logf_(r, "umount %s\n", m);
		if (umount(m) && !e)
			e = fail(r, -errno, "umount %s: %s", m, strerror(errno));
	}
	sync();
	return e;
}

int inst_run(const struct inst_answer *a, const struct inst_run_opts *o, char *step,
	     size_t steplen, char *why, size_t whylen)
{
	static const struct {
		const char *name;
		int (*fn)(struct run *);
	} steps[] = {
		{ "disk", step_disk },           { "plan", step_plan },
		{ "wipe", step_wipe },           { "partition", step_partition },
		{ "filesystems", step_filesystems }, { "lvm", step_lvm },
		{ "mount", step_mount },         { "copy", step_copy },
		{ "configure", step_configure }, { "bootloader", step_bootloader },
		{ "unmount", unmount_all },
	};
	struct run *r = calloc(1, sizeof(*r));
	int e = 0;

	why[0] = '\0';
	step[0] = '\0';
	if (!r) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r->a = a;
	r->o = o;
	r->why = why;
	r->whylen = whylen;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(step, steplen, "%s", steps[i].name);
		logf_(r, "== step %s\n", steps[i].name);
		e = steps[i].fn(r);
		if (e)
			break;
	}
	if (e) {
		char keep[512];

		snprintf(keep, sizeof(keep), "%s", why);
		(void)unmount_all(r);
		snprintf(why, whylen, "%s", keep);
	} else {
		step[0] = '\0';
		logf_(r, "== done\n");
	}
	free(r);
	return e;
}
