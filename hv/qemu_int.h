/* hv/qemu_int.h: pieces of the QEMU engine shared between its files. */
#ifndef VV_HV_QEMU_INT_H
#define VV_HV_QEMU_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hv/engine.h"

struct qemu_srv;

/* How one disk is served: by threads of this process (hv/qemu_disk.c),
 * an NBD export or a vhost-user-blk device on a private socket. */
struct qemu_disk {
	char sock[PATH_MAX];
	char export_name[256];  /* NBD: the file's base name */
	bool read_only;
	int dead_fd;            /* readable when the server died or lost its
				 * image (owned by srv); -1 = not running */
	struct qemu_srv *srv;   /* NULL = not running */
};

/* Serves @d on "<run_dir>/disk<N>.sock" (0600) over transport @t from
 * threads of this process: opens the image, starts its I/O engine, bdev
 * and front end (vhost-user-blk with @queues queues, or NBD) and the
 * thread that accepts QEMU. The socket listens on return. 0 or -errno
 * (message logged). */
int qemu_disk_start(struct qemu_disk *qd, const struct vm_disk *d, unsigned index,
		    const char *run_dir, enum vm_disk_transport t, unsigned queues);
/* Stops the server thread (the client's requests finish), the engine,
 * and closes the image (flush); removes the socket. Returns 0 when it
 * stopped cleanly, -EIO otherwise (a flush failed, the server had failed,
 * the image was lost). Accepts a disk that never started. */
int qemu_disk_stop(struct qemu_disk *qd);
bool qemu_disk_running(const struct qemu_disk *qd);
/* The disk's bdev counters; -ENOENT when it is not running. */
int qemu_disk_stats(const struct qemu_disk *qd, struct bdev_stats *out);
/* rl_set() on the disk's limiter. 0, -ENOENT when it is not running,
 * -EINVAL for bad limits. */
int qemu_disk_limit(struct qemu_disk *qd, const struct rl_limits *lim);
/* The live snapshot: bdev_switch_top() of the disk to @file (a
 * differencing child of its current top) while the guest runs (the
 * bdev's gate holds its requests). 0, or -errno with the reason in @err.
 * A switch that loses the image makes dead_fd readable. */
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
