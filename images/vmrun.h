/* images/vmrun.h: what a catalog VM runs with: the hv/ config built from
 * its record, and the files of its detached runtime in the run directory
 * ($VHDVISOR_RUN, default /run/vhdvisor):
 *
 *   RUN/<name>.vm.pid    pid of the detached `vm start` runtime
 *   RUN/<name>.api       its hv/ JSON control socket
 *   RUN/<name>.console   the guest's serial console
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
 * cloud-init VM it (re)builds the NoCloud seed (vmrec_seed_build) and
 * attaches it read-only after the data disks. 0 or -errno (reason in
 * img_last_error()). */
int vmrec_vm_config(struct cat *c, const char *name, struct vm_config *cfg);

/* Writes VM @vm's NoCloud seed, an ISO9660 volume labelled "cidata" with
 * meta-data (instance-id: its SMBIOS UUID, local-hostname: its name) and
 * user-data (#cloud-config setting the hostname and /etc/machine-id), to
 * the run directory as NAME.seed.iso (built under a temporary name by
 * genisoimage; the files it was made from stay in NAME.seed/); its path
 * into @path (@len bytes). 0, -ENOENT (genisoimage missing) or -errno
 * (reason in img_last_error()). (vmseed.c) */
struct cat_vm;
int vmrec_seed_build(const struct cat_vm *vm, char *path, size_t len);

struct nb_port;

/* Opens, through netback, the tap of every NIC of @cfg on a lab network
 * (records in @state_dir) and puts its fd in the NIC; the ports go to
 * @ports (VM_MAX_NICS slots) for vmrec_detach_nics() after the VM ran.
 * 0 or -errno with the reason in @err. */
int vmrec_attach_nics(const char *state_dir, struct vm_config *cfg, struct nb_port **ports,
		      char *err, size_t errlen);
void vmrec_detach_nics(struct nb_port **ports, unsigned n);

#endif
