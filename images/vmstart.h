/* images/vmstart.h: starting and stopping a catalog VM's detached runtime
 * (the process `vhdvisor vm start` leaves behind and vhdvisord supervises).
 * The CLI, labs and the daemon's API handlers all go through these calls.
 *
 * A runtime is never a child of its caller: it is forked twice, runs in a
 * session of its own with every inherited descriptor closed, so it outlives
 * the CLI, the daemon (kill -9 included) and their listening sockets. Its
 * files are those of images/vmrun.h (RUN/<name>.vm.pid, .log, .console).
 */
#ifndef VV_IMAGES_VMSTART_H
#define VV_IMAGES_VMSTART_H

#include <stdbool.h>
#include <sys/types.h>

#include "hv/vm_config.h"

/* Overrides of a VM's stored boot settings for one start; NULL fields keep
 * what vmrec_vm_config() chose. @append is added after its command line. */
struct vmrec_boot {
	const char *kernel, *initrd, *append;
	const char *boot;   /* auto|direct|image|firmware */
	const char *accel;  /* auto|kvm|tcg */
};

/* Applies @b to @cfg. 0, -ENAMETOOLONG (a path) or -EINVAL (a bad boot
 * mode or accelerator); the reason in img_last_error(). */
int vmrec_boot_apply(struct vm_config *cfg, const struct vmrec_boot *b);

/* Starts the runtime of @cfg (built by vmrec_vm_config(); the caller
 * should have closed its catalog, whose lock the runtime must not hold)
 * detached, with lab NICs found through the network records under
 * @state_dir, and waits until the guest runs or the start failed.
 * 0 and the runtime's pid in *@pid; -EALREADY when the VM already runs;
 * another -errno with the reason (the runtime's own error when it said
 * one) in img_last_error(). Callers that may start the same VM from two
 * threads at once serialize the calls themselves. May be called from a
 * multithreaded process (vhdvisord): the runtime uses only what is safe
 * after fork there (glibc's malloc and stdio, its own config copy, no
 * catalog). Waits as long as hv takes to report the guest started. */
int vmrec_start(const struct vm_config *cfg, const char *state_dir, pid_t *pid);

/* Stops VM @name's runtime: SIGTERM (hv stops the guest cleanly, disks
 * flushed), then SIGKILL when it still runs after @timeout_ms; returns
 * once the process is gone (its pidfile removed). 0, with
 * *@killed (may be NULL) telling whether it had to be killed; -ESRCH when
 * it was not running. */
int vmrec_stop(const char *name, unsigned timeout_ms, bool *killed);

#endif
