/* hv/engine.h: the engine interface behind the VM model.
 *
 * An engine runs one VM described by a validated struct vm_config plus the
 * boot plan hv/ worked out (struct vm_boot). The QEMU engine (hv/qemu.c)
 * is the only one today; our own KVM engine will be a second ops table.
 * Every op is called from the thread that runs vm_run().
 */
#ifndef VV_HV_ENGINE_H
#define VV_HV_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hv/vm_config.h"

/* What the engine boots, resolved by hv/boot.c from the config. */
struct vm_boot {
	enum vm_boot_mode mode;   /* DIRECT, IMAGE (kernel extracted) or FIRMWARE */
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];    /* "" = none */
	char append[VM_APPEND_MAX];
};

/* Facts the engine needs beyond the config. */
struct vm_engine_env {
	const char *run_dir;      /* the VM's private folder (sockets, temp files) */
	bool use_kvm;             /* resolved accelerator */
};

enum vm_event_type {
	VM_EV_NONE = 0,
	VM_EV_STOPPED,     /* vCPUs paused (pause, or the engine stopped them) */
	VM_EV_RESUMED,
	VM_EV_RESET,       /* the guest rebooted in place (cfg.reboot) */
	VM_EV_PANICKED,    /* the guest reported a panic; VM_EV_EXIT follows */
	VM_EV_EXIT,        /* the engine is gone; see exit */
};

enum vm_exit_reason {
	VM_EXIT_POWEROFF = 0, /* the guest powered off (or a host stop request) */
	VM_EXIT_REBOOT,       /* the guest asked to reboot */
	VM_EXIT_PANIC,        /* the guest panicked */
	VM_EXIT_CRASH,        /* the engine or a disk backend died unexpectedly */
	VM_EXIT_HOST,         /* stopped by vm_stop() */
};

struct vm_event {
	enum vm_event_type type;
	enum vm_exit_reason exit;   /* VM_EV_EXIT */
	char detail[256];           /* human-readable, may be "" */
};

struct vm_status {
	bool running;               /* vCPUs running (false: paused or stopped) */
	char state[32];             /* engine's word: "running", "paused", ... */
	pid_t engine_pid;
	char console[PATH_MAX];     /* pty path for VM_CONSOLE_PTY, else "" */
};

/* One disk's I/O counters as the engine sees them (the guest's requests
 * that finished). @valid false: the engine cannot count this disk. */
struct vm_engine;
struct bdev_stats;

struct vm_engine_ops {
	const char *name;
	/* Prepares everything that can fail before the guest starts (argv,
	 * files, backends not yet started). Returns 0 and the engine, or
	 * -errno with a message logged. */
	int (*create)(const struct vm_config *cfg, const struct vm_boot *boot,
		      const struct vm_engine_env *env, struct vm_engine **out);
	/* Starts the disk backends and the guest. Returns 0 once the guest
	 * runs, or -errno (everything already started is stopped again). */
	int (*start)(struct vm_engine *e);
	/* An fd that becomes readable when wait() has something to report. */
	int (*poll_fd)(struct vm_engine *e);
	/* Waits up to @timeout_ms (0: just look) for the next event. Returns 1
	 * with *ev filled, 0 when nothing happened, or -errno. After a
	 * VM_EV_EXIT every disk backend has flushed and stopped. */
	int (*wait)(struct vm_engine *e, int timeout_ms, struct vm_event *ev);
	/* Stops the guest now (no guest shutdown), flushing its disks; the
	 * engine then reports VM_EV_EXIT with VM_EXIT_HOST. 0 or -errno. */
	int (*stop)(struct vm_engine *e);
	int (*pause)(struct vm_engine *e);
	int (*resume)(struct vm_engine *e);
	/* Asks the guest to shut down (ACPI power button). 0 or -errno. */
	int (*powerdown)(struct vm_engine *e);
	int (*status)(struct vm_engine *e, struct vm_status *st);
	/* Makes @file, a differencing VHD the caller created on the current
	 * top of disk @index, that disk's writable top while the VM lives
	 * (bdev_switch_top() on the disk's bdev: its requests wait, the old
	 * top is flushed and closed; the vCPUs keep running). The old top is
	 * not written again. 0, or -errno with the reason in @err. */
	int (*switch_disk)(struct vm_engine *e, unsigned index, const char *file,
			   char *err, size_t errlen);
	/* The counters of disk @index's block device (blkback/bdev.h). 0 or
	 * -ENOENT (no such disk served). */
	int (*disk_stats)(struct vm_engine *e, unsigned index, struct bdev_stats *out);
	/* New rate limits for disk @index while it is served (effective at
	 * once, for requests waiting too). 0 or -errno (-ENOENT: no such disk
	 * served, -EINVAL: bad limits). */
	int (*disk_limit)(struct vm_engine *e, unsigned index, const struct rl_limits *lim);
	/* Kills whatever still runs, removes the engine's files; accepts NULL
	 * and engines that never started. */
	void (*destroy)(struct vm_engine *e);
};

extern const struct vm_engine_ops vm_qemu_engine;

#endif
