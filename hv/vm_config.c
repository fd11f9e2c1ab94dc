/* hv/vm_config.c: defaults, parsing of the small text forms, and the one
 * validation of a VM's description. */
#include "hv/vm_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

static const char *const boot_names[] = {
	[VM_BOOT_AUTO] = "auto",
	[VM_BOOT_DIRECT] = "direct",
	[VM_BOOT_IMAGE] = "image",
	[VM_BOOT_FIRMWARE] = "firmware",
};

static const char *const accel_names[] = {
	[VM_ACCEL_AUTO] = "auto",
	[VM_ACCEL_KVM] = "kvm",
	[VM_ACCEL_TCG] = "tcg",
};

__attribute__((format(printf, 3, 4)))
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = 1;
	cfg->mem = 256ull << 20;
	cfg->boot = VM_BOOT_AUTO;
	cfg->console = VM_CONSOLE_STDIO;
	cfg->accel = VM_ACCEL_AUTO;
	for (unsigned i = 0; i < VM_MAX_NICS; i++)
		cfg->nics[i].tap_fd = -1;
}

const char *vm_boot_mode_name(enum vm_boot_mode m)
{
	return (unsigned)m < ARRAY_SIZE(boot_names) ? boot_names[m] : "?";
}

int vm_boot_mode_parse(const char *s, enum vm_boot_mode *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(boot_names); i++) {
		if (!strcmp(s, boot_names[i])) {
			*out = (enum vm_boot_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

int vm_accel_parse(const char *s, enum vm_accel *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(accel_names); i++) {
		if (!strcmp(s, accel_names[i])) {
			*out = (enum vm_accel)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const transport_names[] = {
	[VM_DISK_NBD] = "nbd",
	[VM_DISK_VHOST_USER] = "vhost-user",
};

int vm_disk_transport_parse(const char *s, enum vm_disk_transport *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(transport_names); i++) {
		if (!strcmp(s, transport_names[i])) {
			*out = (enum vm_disk_transport)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *vm_disk_transport_name(enum vm_disk_transport t)
{
	return (unsigned)t < ARRAY_SIZE(transport_names) ? transport_names[t] : "?";
}

static int copy_str(char *dst, size_t dstlen, const char *src, size_t n)
{
	if (n >= dstlen)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int vm_disk_parse(const char *spec, struct vm_disk *disk, char *err, size_t errlen)
{
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);

	memset(disk, 0, sizeof(*disk));
	if (!n)
		return seterr(err, errlen, "disk '%s': no file name", spec);
	if (copy_str(disk->path, sizeof(disk->path), spec, n))
		return seterr(err, errlen, "disk '%s': path too long", spec);
	while (comma) {
		const char *opt = comma + 1;

		comma = strchr(opt, ',');
		n = comma ? (size_t)(comma - opt) : strlen(opt);
		if (n == 2 && !strncmp(opt, "ro", 2))
			disk->read_only = true;
		else if (n == 8 && !strncmp(opt, "snapshot", 8))
			disk->snapshot = true;
		else
			return seterr(err, errlen, "disk '%s': unknown option '%.*s' (ro, snapshot)",
				      spec, (int)n, opt);
	}
	return 0;
}

int vm_console_parse(const char *spec, struct vm_config *cfg, char *err, size_t errlen)
{
	if (!strcmp(spec, "stdio")) {
		cfg->console = VM_CONSOLE_STDIO;
	} else if (!strcmp(spec, "pty")) {
		cfg->console = VM_CONSOLE_PTY;
	} else if (!strcmp(spec, "none")) {
		cfg->console = VM_CONSOLE_NONE;
	} else if (!strncmp(spec, "file:", 5) && spec[5]) {
		if (copy_str(cfg->console_path, sizeof(cfg->console_path), spec + 5,
			     strlen(spec + 5)))
			return seterr(err, errlen, "console path too long");
		cfg->console = VM_CONSOLE_FILE;
	} else {
		return seterr(err, errlen, "console '%s': want stdio, file:PATH, pty or none", spec);
	}
	return 0;
}

int vm_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &tail) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* A file the VM will read: exists, regular, readable. */
static int check_file(const char *what, const char *path, bool writable, char *err,
		      size_t errlen)
{
	struct stat st;

	if (stat(path, &st)) {
		int e = errno;

		seterr(err, errlen, "%s '%s': %s", what, path, strerror(e));
		return e == ENOENT ? -ENOENT : -EINVAL;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return seterr(err, errlen, "%s '%s': not a regular file", what, path);
	if (access(path, writable ? R_OK | W_OK : R_OK))
		return seterr(err, errlen, "%s '%s': %s", what, path, strerror(errno));
	return 0;
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n >= max || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int validate_nic(const struct vm_config *cfg, unsigned i, char *err, size_t errlen)
{
	const struct vm_nic *nic = &cfg->nics[i];
	static const uint8_t zero[6];

	if (nic->kind != VM_NIC_TAP && nic->kind != VM_NIC_NET)
		return seterr(err, errlen, "nic %u: unknown kind", i);
	if (!name_ok(nic->name, nic->kind == VM_NIC_TAP ? 16 : sizeof(nic->name)))
		return seterr(err, errlen, "nic %u: bad %s name '%s'", i,
			      nic->kind == VM_NIC_TAP ? "tap" : "network", nic->name);
	if (!memcmp(nic->mac, zero, 6))
		return 0;  /* netback generates one */
	if (nic->mac[0] & 1)
		return seterr(err, errlen, "nic %u: MAC must be unicast", i);
	for (unsigned j = 0; j < i; j++)
		if (!memcmp(cfg->nics[j].mac, nic->mac, 6))
			return seterr(err, errlen, "nics %u and %u have the same MAC", j, i);
	return 0;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", hex digits, NUL-terminated. */
static bool uuid_ok(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[36] == '\0';
}

int vm_config_validate(const struct vm_config *cfg, char *err, size_t errlen)
{
	int r;

	if (cfg->name[0] && !name_ok(cfg->name, sizeof(cfg->name)))
		return seterr(err, errlen, "bad VM name '%s' (letters, digits, . _ -)", cfg->name);
	if (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS)
		return seterr(err, errlen, "vCPUs must be 1..%d, not %u", VM_MAX_CPUS, cfg->cpus);
	if (cfg->mem < VM_MIN_MEM || cfg->mem > VM_MAX_MEM || cfg->mem % (1u << 20))
		return seterr(err, errlen,
			      "memory must be a multiple of 1 MiB between 64 MiB and 1 TiB");
	if (cfg->uuid[0] && !uuid_ok(cfg->uuid))
		return seterr(err, errlen, "bad SMBIOS UUID '%s' (want 8-4-4-4-12 hex digits)",
			      cfg->uuid);
	if (cfg->nr_disks > VM_MAX_DISKS || cfg->nr_nics > VM_MAX_NICS)
		return seterr(err, errlen, "too many disks or NICs");
	if ((unsigned)cfg->disk_transport >= ARRAY_SIZE(transport_names))
		return seterr(err, errlen, "unknown disk transport %d", (int)cfg->disk_transport);
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct vm_disk *d = &cfg->disks[i];

		if (!d->path[0])
			return seterr(err, errlen, "disk %u: no file name", i);
		r = check_file("disk", d->path, !d->read_only && !d->snapshot, err, errlen);
		if (r)
			return r;
	}
	for (unsigned i = 0; i < cfg->nr_nics; i++) {
		r = validate_nic(cfg, i, err, errlen);
		if (r)
			return r;
	}
	switch (cfg->boot) {
	case VM_BOOT_AUTO:
		break;
	case VM_BOOT_DIRECT:
		if (!cfg->kernel[0])
			return seterr(err, errlen, "direct boot needs a kernel (--kernel)");
		break;
	case VM_BOOT_IMAGE:
	case VM_BOOT_FIRMWARE:
		if (cfg->kernel[0] || cfg->initrd[0])
			return seterr(err, errlen, "%s boot takes no kernel or initrd",
				      vm_boot_mode_name(cfg->boot));
		if (!cfg->nr_disks)
			return seterr(err, errlen, "%s boot needs a disk",
				      vm_boot_mode_name(cfg->boot));
		break;
	default:
		return seterr(err, errlen, "unknown boot mode");
	}
	/* The firmware is that of firmware boot (asked, or auto finding no
	 * kernel and no boot config); image boot loads the kernel itself. */
	if ((cfg->boot == VM_BOOT_DIRECT || cfg->kernel[0]) && cfg->firmware != VM_FW_BIOS)
		return seterr(err, errlen, "UEFI firmware needs firmware boot, not a kernel");
	if (!cfg->kernel[0] && cfg->initrd[0])
		return seterr(err, errlen, "an initrd needs a kernel");
	if (!cfg->kernel[0] && cfg->boot == VM_BOOT_AUTO && !cfg->nr_disks)
		return seterr(err, errlen, "nothing to boot: give a kernel or a disk");
	if (cfg->kernel[0]) {
		r = check_file("kernel", cfg->kernel, false, err, errlen);
		if (r)
			return r;
	}
	if (cfg->initrd[0]) {
		r = check_file("initrd", cfg->initrd, false, err, errlen);
		if (r)
			return r;
	}
	if (strlen(cfg->append) >= VM_APPEND_MAX)
		return seterr(err, errlen, "kernel command line too long");
	if (cfg->console == VM_CONSOLE_FILE && !cfg->console_path[0])
		return seterr(err, errlen, "console file: no path");
	if (cfg->console > VM_CONSOLE_NONE)
		return seterr(err, errlen, "unknown console kind");
	if (cfg->console_socket[0] && cfg->console != VM_CONSOLE_FILE)
		return seterr(err, errlen, "a console socket needs a console file");
	if (strlen(cfg->console_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return seterr(err, errlen, "console socket path too long (%zu bytes)",
			      strlen(cfg->console_socket));
	if (cfg->accel > VM_ACCEL_TCG)
		return seterr(err, errlen, "unknown accelerator");
	return 0;
}
