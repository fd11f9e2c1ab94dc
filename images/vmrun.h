/* images/vmrun.h: what a catalog VM runs with: the hv/ config built from
 * its record, and the files of its detached runtime in the run directory
 * ($VHDVISOR_RUN, default /run/vhdvisor):
 *
 *   RUN/<name>.vm.pid    pid of the detached `vm start` runtime
 *   RUN/<name>.api       its hv/ JSON control socket
 *   RUN/<name>.console   the guest's serial console (its whole output)
 *   RUN/<name>.console.sock  the same serial port, interactive (0600)
 *   RUN/<name>.log       the runtime's own messages
 *   RUN/<name>/          hv/'s run folder of the VM
 */
#ifndef VV_IMAGES_VMRUN_H
#define VV_IMAGES_VMRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hv/vm_config.h"
#include "images/catalog.h"

/* The run directory: $VHDVISOR_RUN or /run/vhdvisor. */
const char *vmrec_run_dir(void);

/* RUN/<name>.<suffix> into @buf. 0 or -ENAMETOOLONG. */
int vmrec_run_path(const char *name, const char *suffix, char *buf, size_t len);

/* The pid of VM @name's runtime when its pidfile names a live process;
 * 0 otherwise (no pidfile, or a stale one). */
pid_t vmrec_pid(const char *name);

/* True when VM @name has a live runtime. */
bool vmrec_running(const char *name);

/* Fills @cfg (after vm_config_init) for VM @name: its top layer as the
 * boot disk, its data disks after it (disks[1..]), cpus, memory, run
 * directory, console file and API socket above, a NIC on its lab network
 * (when it has one) with its MAC, and its identity on the kernel command
 * line for directly booted guests:
 * "hostname=NAME systemd.machine_id=ID vhdvisor.uuid=UUID", and UEFI
 * firmware (used by firmware boot) when its image says boot=uefi. For a
 * cloud-init VM, or one with credentials (vmrec_cred_set), it (re)builds
 * the NoCloud seed (vmrec_seed_build) and attaches it read-only after the
 * data disks. The console also gets its interactive socket. 0 or -errno (reason in
 * img_last_error()). */
int vmrec_vm_config(struct cat *c, const char *name, struct vm_config *cfg);

/* The guest login of a VM (vmcred.c): kept in STATE/secrets/<name>
 * (0600), never in plaintext, given to the guest by its seed. */
#define VMREC_KEY_MAX 4096
struct vmrec_cred {
	char pw_hash[160];             /* root's crypt(3) SHA-512 hash, "" = none */
	char ssh_key[VMREC_KEY_MAX];   /* one OpenSSH public key line, "" = none */
};

/* VM @name's credentials into @out (all "" when none were set). 0 or
 * -errno. */
int vmrec_cred_get(struct cat *c, const char *name, struct vmrec_cred *out);
/* Sets root's password of VM @name (hashed here with a random salt; NULL
 * keeps the old one) and its SSH key (NULL keeps it, "" removes it).
 * -ENOENT (no such VM), -EINVAL (a bad password or key) or -errno. */
int vmrec_cred_set(struct cat *c, const char *name, const char *password,
		   const char *ssh_key);
/* Forgets VM @name's credentials (none set is fine). 0 or -errno. */
int vmrec_cred_remove(struct cat *c, const char *name);

/* Writes VM @vm's NoCloud seed, an ISO9660 volume labelled "cidata" with
 * meta-data (instance-id: its SMBIOS UUID, local-hostname: its name) and
 * user-data (#cloud-config setting the hostname and /etc/machine-id, and
 * root's password hash and SSH key from @cred when set; NULL: none), to
 * the run directory as NAME.seed.iso (built under a temporary name by
 * genisoimage; the files it was made from stay in NAME.seed/; all 0600);
 * its path into @path (@len bytes). 0, -ENOENT (genisoimage missing) or
 * -errno (reason in img_last_error()). (vmseed.c) */
struct cat_vm;
int vmrec_seed_build(const struct cat_vm *vm, const struct vmrec_cred *cred, char *path,
		     size_t len);

/* The IPv4 address (dotted, into @buf) that the dnsmasq of VM @vm's lab
 * network leased to its MAC, the newest such lease, while the VM runs.
 * 0, or -ENOENT when it has none (no network, not running, no lease). */
int vmrec_vm_ip(const struct cat_vm *vm, char *buf, size_t len);

struct nb_port;

/* Opens, through netback, the tap of every NIC of @cfg on a lab network
 * (records in @state_dir) and puts its fd in the NIC; the ports go to
 * @ports (VM_MAX_NICS slots) for vmrec_detach_nics() after the VM ran.
 * 0 or -errno with the reason in @err. */
int vmrec_attach_nics(const char *state_dir, struct vm_config *cfg, struct nb_port **ports,
		      char *err, size_t errlen);
void vmrec_detach_nics(struct nb_port **ports, unsigned n);

#endif
