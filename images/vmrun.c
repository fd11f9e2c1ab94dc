/* images/vmrun.c: the hv/ config of catalog VMs and their run files. */
#include "images/vmrun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/pidfile.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrec.h"
#include "netback/dnsmasq.h"
#include "netback/labnet.h"
#include "netback/netback.h"
#include "netback/subnet.h"

const char *vmrec_run_dir(void)
{
	const char *e = getenv("VHDVISOR_RUN");

	return e && *e ? e : "/run/vhdvisor";
}

int vmrec_run_path(const char *name, const char *suffix, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.%s", vmrec_run_dir(), name, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

pid_t vmrec_pid(const char *name)
{
	char path[4200];
	pid_t pid;

	if (vmrec_run_path(name, "vm.pid", path, sizeof(path)))
		return 0;
	pid = pidfile_read(path);
	return pid_alive(pid) ? pid : 0;
}

bool vmrec_running(const char *name)
{
	return vmrec_pid(name) != 0;
}

struct disk_ctx {
	struct cat *c;
	struct vm_config *cfg;
};

static int add_disk(void *opaque, const struct cat_disk *d)
{
	struct disk_ctx *dc = opaque;
	struct vm_config *cfg = dc->cfg;

	if (cfg->nr_disks == VM_MAX_DISKS)
		return -E2BIG;
	return cat_path(dc->c, d->file, cfg->disks[cfg->nr_disks++].path,
			sizeof(cfg->disks[0].path));
}

/* Firmware boot of a VM whose template image says boot=uefi uses OVMF. A
 * flattened VM (no image any more) keeps the default (SeaBIOS). */
static int pick_firmware(struct cat *c, const struct cat_vm *vm, struct vm_config *cfg)
{
	struct cat_image img;
	int r;

	if (!vm->image[0])
		return 0;
	r = cat_image_get(c, vm->image, &img);
	if (r == -ENOENT)
		return 0;
	if (r)
		return img_fail(r, "VM '%s': its image: %s", vm->name, cat_errmsg(c));
	if (!strcmp(img.boot, "uefi"))
		cfg->firmware = VM_FW_UEFI;
	return 0;
}

int vmrec_vm_config(struct cat *c, const char *name, struct vm_config *cfg)
{
	struct vmrec_cred cred;
	struct cat_vm vm;
	int r;

	r = cat_vm_get(c, name, &vm);
	if (r)
		return img_fail(r, "no VM '%s'", name);
	if (strcmp(vm.state, CAT_VM_READY))
		return img_fail(-EBUSY, "VM '%s' is still being created", name);
	if (strlen(vm.name) >= sizeof(cfg->name) || strlen(vm.net) >= sizeof(cfg->nics[0].name))
		return img_fail(-ENAMETOOLONG, "VM '%s': name or network name too long to run",
				name);
	memcpy(cfg->name, vm.name, strlen(vm.name) + 1);
	r = pick_firmware(c, &vm, cfg);
	if (r)
		return r;
	cfg->cpus = vm.cpus;
	cfg->mem = vm.mem;
	r = vmrec_disk_path(c, name, cfg->disks[0].path, sizeof(cfg->disks[0].path));
	if (r)
		return r;
	cfg->nr_disks = 1;
	r = cat_disk_foreach(c, name, add_disk, &(struct disk_ctx){ .c = c, .cfg = cfg });
	if (r)
		return img_fail(r, "VM '%s': its extra disks: %s", name, cat_errmsg(c));
	r = vmrec_cred_get(c, name, &cred);
	if (r)
		return r;
	if (vm.cloud_init || cred.pw_hash[0] || cred.ssh_key[0]) {
		struct vm_disk *seed = &cfg->disks[cfg->nr_disks];

		if (cfg->nr_disks == VM_MAX_DISKS)
			return img_fail(-E2BIG, "VM '%s': no room for the seed disk", name);
		r = vmrec_seed_build(&vm, &cred, seed->path, sizeof(seed->path));
		explicit_bzero(&cred, sizeof(cred));
		if (r)
			return r;
		seed->read_only = true;
		cfg->nr_disks++;
	}
	if (vm.net[0]) {
		struct vm_nic *nic = &cfg->nics[cfg->nr_nics++];

		nic->kind = VM_NIC_NET;
		memcpy(nic->name, vm.net, strlen(vm.net) + 1);
		if (vm_mac_parse(vm.mac, nic->mac))
			return img_fail(-EINVAL, "VM '%s' has a bad MAC %s", name, vm.mac);
		nic->tap_fd = -1;
	}
	snprintf(cfg->append, sizeof(cfg->append),
		 "hostname=%s systemd.machine_id=%s vhdvisor.uuid=%s", vm.name, vm.machine_id,
		 vm.uuid);
	if (strlen(vm.uuid) < sizeof(cfg->uuid))
		memcpy(cfg->uuid, vm.uuid, strlen(vm.uuid) + 1);
	snprintf(cfg->run_dir, sizeof(cfg->run_dir), "%s", vmrec_run_dir());
	cfg->console = VM_CONSOLE_FILE;
	if (vmrec_run_path(name, "console", cfg->console_path, sizeof(cfg->console_path)) ||
	    vmrec_run_path(name, "console.sock", cfg->console_socket,
			   sizeof(cfg->console_socket)) ||
	    vmrec_run_path(name, "api", cfg->api_path, sizeof(cfg->api_path)))
		return img_fail(-ENAMETOOLONG, "run directory path too long");
	return 0;
}

int vmrec_vm_ip(const struct cat_vm *vm, char *buf, size_t len)
{
	struct labnet_ctx ctx;
	struct dnsm_lease *leases = NULL;
	long long newest = -1;
	char dir[4200];
	size_t n = 0;

	buf[0] = '\0';
	if (!vm->net[0] || !vmrec_running(vm->name))
		return -ENOENT;
	labnet_ctx_init(&ctx, NULL, vmrec_run_dir());
	labnet_run_dir(&ctx, vm->net, dir, sizeof(dir));
	if (dnsm_leases(dir, &leases, &n))
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(leases[i].mac, vm->mac) || leases[i].expiry <= newest)
			continue;
		newest = leases[i].expiry;
		ip4_format(leases[i].ip, buf, len);
	}
	free(leases);
	return buf[0] ? 0 : -ENOENT;
}

int vmrec_attach_nics(const char *state_dir, struct vm_config *cfg, struct nb_port **ports,
		      char *err, size_t errlen)
{
	for (unsigned i = 0; i < cfg->nr_nics; i++) {
		struct vm_nic *nic = &cfg->nics[i];
		struct nb_nic_spec spec = { .kind = NB_NIC_NET, .name = nic->name, .has_mac = true };
		int r;

		ports[i] = NULL;
		if (nic->kind != VM_NIC_NET || nic->tap_fd >= 0)
			continue;
		memcpy(spec.mac, nic->mac, MAC_LEN);
		r = netback_nic_attach(state_dir, &spec, cfg->name, i, &ports[i], err, errlen);
		if (r) {
			vmrec_detach_nics(ports, i);
			return r;
		}
		nic->tap_fd = nb_port_fd(ports[i]);
	}
	return 0;
}

void vmrec_detach_nics(struct nb_port **ports, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		nb_port_destroy(ports[i]);
		ports[i] = NULL;
	}
}
