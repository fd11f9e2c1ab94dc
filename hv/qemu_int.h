/* hv/qemu_int.h: pieces of the QEMU engine shared between its files. */
#ifndef VV_HV_QEMU_INT_H
#define VV_HV_QEMU_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hv/engine.h"

struct qemu_vu;

/* How one disk is served: an NBD export (a `vhd serve` process on a
 * private socket) or, with @vu set, a vhost-user-blk server on threads
 * of this process (hv/qemu_disk_vu.c). */
struct qemu_disk {
	char sock[PATH_MAX];
	char ctl[PATH_MAX];     /* the export's control socket (NBD) */
	char export_name[256];
	pid_t pid;              /* NBD: 0 = not running */
	int pidfd;              /* NBD: -1 = none */
	bool read_only;
	struct qemu_vu *vu;     /* vhost-user: the in-process server, NULL = none */
};

/* Starts `@vhd_tool serve` for @d on "<run_dir>/disk<N>.sock" and waits
 * until it accepts connections. Returns 0 or -errno (message logged). */
int qemu_disk_start(struct qemu_disk *qd, const struct vm_disk *d, unsigned index,
		    const char *run_dir, const char *vhd_tool);
/* Serves @d as a vhost-user-blk device with @queues queues on
 * "<run_dir>/disk<N>.sock" (0600) from threads of this process: opens the
 * image, starts its I/O engine and the server thread. The socket listens
 * on return. 0 or -errno (message logged). */
int qemu_disk_start_vu(struct qemu_disk *qd, const struct vm_disk *d, unsigned index,
		       const char *run_dir, unsigned queues);
/* The vhost-user qemu_disk_switch(): bdev_switch_top() on the disk's
 * bdev while the guest runs (the bdev's gate holds its requests; no
 * pause needed). 0, or -errno with the reason in @err. */
int qemu_disk_switch_vu(struct qemu_disk *qd, const char *file, char *err, size_t errlen);
/* The vhost-user half of qemu_disk_stop() (the socket stays). */
int qemu_disk_stop_vu(struct qemu_disk *qd);
/* NBD: asks the export to flush and exit (SIGTERM), waits up to
 * @timeout_ms, then kills it. vhost-user: stops the server thread (the
 * client's requests finish), stops the engine and closes the image
 * (flush). Returns 0 when it stopped cleanly, -EIO otherwise. Accepts a
 * disk that never started. */
int qemu_disk_stop(struct qemu_disk *qd, int timeout_ms);
/* Tells the running export to make @file (a differencing child of its
 * current top) its writable top; the caller has paused the guest. 0, or
 * -errno with the export's reason in @err. */
int qemu_disk_switch(struct qemu_disk *qd, const char *file, char *err, size_t errlen);

/* Argument vector under construction; strings are owned by it. */
struct qemu_argv {
	char **v;
	size_t n, cap;
	int err;                /* first allocation failure, reported at the end */
};

void qemu_argv_add(struct qemu_argv *a, const char *s);
__attribute__((format(printf, 2, 3)))
void qemu_argv_addf(struct qemu_argv *a, const char *fmt, ...);
void qemu_argv_free(struct qemu_argv *a);

/* Builds QEMU's command line for @cfg/@boot: QMP on (child) fd @qmp_fd,
 * a stdio console written to fd @con_fd, the disks' exports @disks, NIC
 * tap fds at @nic_fds[i]. 0 or -errno. */
int qemu_argv_build(struct qemu_argv *a, const struct vm_config *cfg,
		    const struct vm_boot *boot, const struct vm_engine_env *env,
		    int qmp_fd, int con_fd, const struct qemu_disk *disks, const int *nic_fds);

#endif
