/* hv/qemu_args.c: QEMU's command line for one VM, as an argv vector. */
#include "hv/qemu_int.h"
#include "blkback/vub.h"
#include "netback/netback.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE.fd"

void qemu_argv_add(struct qemu_argv *a, const char *s)
{
	char *dup;

	if (a->err)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **nv = realloc(a->v, cap * sizeof(*nv));

		if (!nv) {
			a->err = -ENOMEM;
			return;
		}
		a->v = nv;
		a->cap = cap;
	}
	dup = strdup(s);
	if (!dup) {
		a->err = -ENOMEM;
		return;
	}
	a->v[a->n++] = dup;
	a->v[a->n] = NULL;
}

void qemu_argv_addf(struct qemu_argv *a, const char *fmt, ...)
{
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->err = -ENOMEM;
		return;
	}
	qemu_argv_add(a, s);
	free(s);
}

void qemu_argv_free(struct qemu_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* QEMU's option syntax doubles commas inside a value. */
static char *opt_escape(const char *s)
{
	size_t n = strlen(s), extra = 0;
	char *out, *p;

	for (size_t i = 0; i < n; i++)
		extra += s[i] == ',';
	out = malloc(n + extra + 1);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < n; i++) {
		*p++ = s[i];
		if (s[i] == ',')
			*p++ = ',';
	}
	*p = '\0';
	return out;
}

static void add_path_opt(struct qemu_argv *a, const char *fmt_prefix, const char *path,
			 const char *suffix)
{
	char *e = opt_escape(path);

	if (!e) {
		a->err = -ENOMEM;
		return;
	}
	qemu_argv_addf(a, "%s%s%s", fmt_prefix, e, suffix);
	free(e);
}

static void add_console(struct qemu_argv *a, const struct vm_config *cfg, int con_fd)
{
	char *sock, *log;

	switch (cfg->console) {
	case VM_CONSOLE_STDIO:
		/* A pipe the engine copies to our stdout (see qemu.c). */
		qemu_argv_add(a, "-chardev");
		qemu_argv_addf(a, "file,id=con0,path=/proc/self/fd/%d", con_fd);
		break;
	case VM_CONSOLE_FILE:
		qemu_argv_add(a, "-chardev");
		if (!cfg->console_socket[0]) {
			add_path_opt(a, "file,id=con0,path=", cfg->console_path, "");
			break;
		}
		/* The socket for an interactive client, the file for the log:
		 * QEMU writes everything to the logfile, connected or not.
		 * The socket is made under the engine's umask 077 (proc.c). */
		sock = opt_escape(cfg->console_socket);
		log = opt_escape(cfg->console_path);
		if (sock && log)
			qemu_argv_addf(a, "socket,id=con0,path=%s,server=on,wait=off,logfile=%s",
				       sock, log);
		else
			a->err = -ENOMEM;
		free(sock);
		free(log);
		break;
	case VM_CONSOLE_PTY:
		qemu_argv_add(a, "-chardev");
		qemu_argv_add(a, "pty,id=con0");
		break;
	case VM_CONSOLE_NONE:
		qemu_argv_add(a, "-chardev");
		qemu_argv_add(a, "null,id=con0");
		break;
	}
	qemu_argv_add(a, "-serial");
	qemu_argv_add(a, "chardev:con0");
}

static void add_boot(struct qemu_argv *a, const struct vm_config *cfg,
		     const struct vm_boot *boot, const struct vm_engine_env *env)
{
	if (boot->mode == VM_BOOT_FIRMWARE) {
		if (cfg->firmware == VM_FW_UEFI) {
			qemu_argv_add(a, "-drive");
			qemu_argv_add(a, "if=pflash,format=raw,unit=0,readonly=on,file=" OVMF_CODE);
			qemu_argv_add(a, "-drive");
			add_path_opt(a, "if=pflash,format=raw,unit=1,file=", env->run_dir,
				     "/OVMF_VARS.fd");
		}
		/* The disk's boot loader may add the command line we were
		 * given: it is the SMBIOS OEM string (type 11) "vv.append=..."
		 * (the tiny templates' grub.cfg reads it). */
		if (cfg->append[0]) {
			qemu_argv_add(a, "-smbios");
			add_path_opt(a, "type=11,value=vv.append=", cfg->append, "");
		}
		return;
	}
	qemu_argv_add(a, "-kernel");
	qemu_argv_add(a, boot->kernel);
	if (boot->initrd[0]) {
		qemu_argv_add(a, "-initrd");
		qemu_argv_add(a, boot->initrd);
	}
	/* Our serial port is the console unless the command line picks one. */
	qemu_argv_add(a, "-append");
	if (strstr(boot->append, "console="))
		qemu_argv_add(a, boot->append);
	else
		qemu_argv_addf(a, "console=ttyS0%s%s", boot->append[0] ? " " : "", boot->append);
}

int qemu_argv_build(struct qemu_argv *a, const struct vm_config *cfg,
		    const struct vm_boot *boot, const struct vm_engine_env *env,
		    int qmp_fd, int con_fd, const struct qemu_disk *disks, const int *nic_fds)
{
	const char *qemu = getenv("VHDVISOR_QEMU");

	qemu_argv_add(a, qemu && *qemu ? qemu : "qemu-system-x86_64");
	qemu_argv_add(a, "-nodefaults");
	qemu_argv_add(a, "-no-user-config");
	qemu_argv_add(a, "-name");
	qemu_argv_addf(a, "%s", cfg->name);
	if (cfg->uuid[0]) {
		qemu_argv_add(a, "-uuid");   /* SMBIOS type 1 system UUID */
		qemu_argv_addf(a, "%s", cfg->uuid);
	}
	qemu_argv_add(a, "-machine");
	if (cfg->disk_transport == VM_DISK_VHOST_USER) {
		/* vhost-user back ends map the guest's RAM: it must be a shared fd */
		qemu_argv_add(a, "q35,memory-backend=mem");
		qemu_argv_add(a, "-object");
		qemu_argv_addf(a, "memory-backend-memfd,id=mem,size=%lluM,share=on",
			       (unsigned long long)(cfg->mem >> 20));
	} else {
		qemu_argv_add(a, "q35");
	}
	qemu_argv_add(a, "-accel");
	if (env->use_kvm) {
		qemu_argv_add(a, "kvm");
		qemu_argv_add(a, "-cpu");
		qemu_argv_add(a, "host");
	} else {
		qemu_argv_add(a, cfg->cpus > 1 ? "tcg,thread=multi" : "tcg");
	}
	qemu_argv_add(a, "-smp");
	qemu_argv_addf(a, "%u", cfg->cpus);
	qemu_argv_add(a, "-m");
	qemu_argv_addf(a, "%lluM", (unsigned long long)(cfg->mem >> 20));
	qemu_argv_add(a, "-display");
	qemu_argv_add(a, "none");
	qemu_argv_add(a, "-chardev");
	qemu_argv_addf(a, "socket,id=qmp,fd=%d", qmp_fd);
	qemu_argv_add(a, "-mon");
	qemu_argv_add(a, "chardev=qmp,mode=control");
	add_console(a, cfg, con_fd);
	/* The guest reports panics; a reboot ends the run unless asked. */
	qemu_argv_add(a, "-device");
	qemu_argv_add(a, "pvpanic-pci");
	qemu_argv_add(a, "-action");
	qemu_argv_add(a, cfg->reboot ? "panic=shutdown" : "panic=shutdown,reboot=shutdown");
	add_boot(a, cfg, boot, env);

	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		char *sock = opt_escape(disks[i].sock);
		const char *bootidx = boot->mode == VM_BOOT_FIRMWARE && i == 0 ? ",bootindex=0" : "";

		if (!sock)
			return -ENOMEM;
		if (cfg->disk_transport == VM_DISK_VHOST_USER) {
			/* read-only is the server's (VIRTIO_BLK_F_RO) */
			qemu_argv_add(a, "-chardev");
			qemu_argv_addf(a, "socket,id=vu%u,path=%s", i, sock);
			free(sock);
			qemu_argv_add(a, "-device");
			qemu_argv_addf(a, "vhost-user-blk-pci,chardev=vu%u,id=vblk%u,num-queues=%u%s",
				       i, i, cfg->cpus < VUB_MAX_QUEUES ? cfg->cpus : VUB_MAX_QUEUES,
				       bootidx);
			continue;
		}
		qemu_argv_add(a, "-blockdev");
		qemu_argv_addf(a, "driver=nbd,server.type=unix,server.path=%s,export=%s,"
			       "node-name=disk%u%s", sock, disks[i].export_name, i,
			       disks[i].read_only ? ",read-only=on" : "");
		free(sock);
		qemu_argv_add(a, "-device");
		qemu_argv_addf(a, "virtio-blk-pci,drive=disk%u,id=vblk%u%s", i, i, bootidx);
	}
	/* vhost-net moves the packet path into the host kernel where the
	 * host has it (not on the build machines: no /dev/vhost-net). */
	bool vhost = cfg->nr_nics && netback_vhost_available();

	for (unsigned i = 0; i < cfg->nr_nics; i++) {
		const uint8_t *m = cfg->nics[i].mac;

		qemu_argv_add(a, "-netdev");
		qemu_argv_addf(a, "tap,id=net%u,fd=%d%s", i, nic_fds[i], vhost ? ",vhost=on" : "");
		qemu_argv_add(a, "-device");
		qemu_argv_addf(a, "virtio-net-pci,netdev=net%u,mac=%02x:%02x:%02x:%02x:%02x:%02x",
			       i, m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	return a->err;
}
