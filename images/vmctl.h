/* images/vmctl.h: changing a catalog VM's definition and talking to its
 * running runtime: what `vhdvisor vm set/shutdown` and the API's
 * set/powerdown/pause/resume share.
 *
 * 0 or -errno; the reason in img_last_error() (images/img_store.h).
 */
#ifndef VV_IMAGES_VMCTL_H
#define VV_IMAGES_VMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cat;

/* A memory size as `--mem` takes it: SIZE with a unit (K, M, G, T) or a
 * plain number of MiB; a whole number of MiB within VM_MIN_MEM..VM_MAX_MEM
 * (hv/vm_config.h). 0 and the bytes in *@mem, or -EINVAL. */
int vmrec_mem_parse(const char *s, uint64_t *mem);

/* What vmrec_set() changes; 0 (cpus, mem) or -1 (cloud_init) leaves it. */
struct vmrec_set {
	unsigned cpus;          /* 1..64 */
	uint64_t mem;           /* bytes, as vmrec_mem_parse() gives */
	int cloud_init;         /* 0 off, 1 on */
};

/* Changes VM @name's definition; a running VM gets it at its next start.
 * -ENOENT (no such VM), -EINVAL (a value out of range) or -errno. */
int vmrec_set(struct cat *c, const char *name, const struct vmrec_set *s);

/* Sends @cmd ("pause", "resume", "powerdown") to VM @name's runtime
 * (hv/api.h). -ESRCH when it does not run, -EIO when the runtime
 * refused, another -errno when it could not be asked. */
int vmrec_runtime_cmd(const char *name, const char *cmd);

/* The runtime's own word for the guest's state ("running", "paused",
 * ...) into @state (@len bytes). -ESRCH when it does not run. */
int vmrec_runtime_state(const char *name, char *state, size_t len);

struct vmrec_shutdown_result {
	bool forced;            /* the guest did not power off: stopped hard */
	bool killed;            /* ... and the runtime had to be killed */
	char why[256];          /* when forced: why ("did not shut down in 4 s") */
};

/* The graceful stop: presses VM @name's ACPI power button and waits up
 * to @timeout_ms for the runtime to end; then stops it the hard way, as
 * vmrec_stop() (images/vmstart.h). 0 (how in *@res), -ESRCH when it was
 * not running, another -errno when it could not be stopped. */
int vmrec_shutdown(const char *name, unsigned timeout_ms, struct vmrec_shutdown_result *res);

#endif
