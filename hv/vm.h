/* hv/vm.h: one virtual machine and its lifecycle, over an engine.
 *
 *	struct vm_config cfg;            (hv/vm_config.h)
 *	vm_config_init(&cfg); ...fill...
 *	vm_create(&cfg, &vm);            validates, plans the boot, prepares
 *	vm_run(vm, &opts, &res);         runs until the guest is gone
 *	vm_destroy(vm);                  kills leftovers, removes run files
 *
 * Everything a VM creates on the host (its run folder with sockets, pidfile
 * and extracted kernels; the API socket) is removed by vm_destroy(), on
 * every path. Single-threaded: call all of these from one thread.
 */
#ifndef VV_HV_VM_H
#define VV_HV_VM_H

#include <signal.h>
#include <stdbool.h>

#include "hv/engine.h"
#include "hv/vm_config.h"

struct vm;

/* Why vm_run() returned. */
struct vm_result {
	enum vm_exit_reason reason;
	int signo;           /* VM_EXIT_HOST by a signal: its number, else 0 */
	char detail[256];    /* human-readable, may be "" */
};

struct vm_run_opts {
	/* Stop the guest cleanly (disks flushed) on SIGINT, SIGTERM or SIGHUP;
	 * vm_run() blocks those signals while it runs and restores the mask. */
	bool handle_signals;
	/* Called once the guest runs (may be NULL); @st tells the engine pid
	 * and, for a pty console, its path. */
	void (*started)(struct vm *vm, const struct vm_status *st, void *opaque);
	void *opaque;
};

/* Validates @cfg (copied), picks the accelerator, creates the run folder
 * (<run root>/<name>), works out the boot (extracting the kernel from the
 * disk for image boot) and prepares the engine. Nothing runs yet. Returns
 * 0 and the VM, or -errno with the reason in vm_error(NULL) (this thread's
 * last vm_create failure). */
int vm_create(const struct vm_config *cfg, struct vm **out);

/* Opens through netback the taps of NICs given without a tap fd, starts
 * the guest and serves its API socket (cfg.api_path) until the guest is
 * gone: it powered off, rebooted (unless cfg.reboot), panicked,
 * its engine or a disk export died, a handled signal or an API "stop"
 * arrived. Returns 0 with *res filled, or -errno when the VM could not be
 * started (reason in vm_error(vm)). Call once. */
int vm_run(struct vm *vm, const struct vm_run_opts *opts, struct vm_result *res);

/* Stops whatever still runs and removes the VM's files; accepts NULL and a
 * VM whose create or run failed half-way. */
void vm_destroy(struct vm *vm);

/* The reason of the last failure on @vm, or of the last vm_create() in
 * this thread when @vm is NULL. */
const char *vm_error(const struct vm *vm);

/* The validated config the VM runs with; its run folder. */
const struct vm_config *vm_config(const struct vm *vm);
const char *vm_run_dir(const struct vm *vm);

#endif
