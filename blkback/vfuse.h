/* blkback/vfuse.h: the FUSE front end: a folder with one file, "disk",
 * the raw view of a block image, that programs can read, write, mkfs,
 * fsck and loop-mount. */
#ifndef VV_BLKBACK_VFUSE_H
#define VV_BLKBACK_VFUSE_H

#include <stdbool.h>

struct bimg;

/* The extended attribute of "disk" that holds the serving process's pid
 * (decimal), so that `vhd umount` can wait for it to finish. */
#define VFUSE_XATTR_PID "user.vhdvisor.pid"

struct vfuse;

struct vfuse_opts {
	bool foreground;   /* stay attached; otherwise daemonize once mounted */
	unsigned workers;  /* I/O engine threads; 0 = default */
};

/* Mounts @img (not owned; it must outlive the mount) at @dir, an absolute
 * path. Without @o->foreground the process then forks: the parent exits 0
 * inside libfuse and the child returns here (stderr goes to /dev/null), so
 * create threads only afterwards. Returns 0 and the mount, or -errno. */
int vfuse_create(struct bimg *img, const char *dir, const struct vfuse_opts *o,
		 struct vfuse **out);
/* Serves requests until the kernel ends the mount (fusermount3 -u, `vhd
 * umount`), then flushes the image. Call once, on the thread that called
 * vfuse_create(). Returns 0 or -errno. Installs no signal handlers: the
 * caller handles signals (see vfuse_stop()). */
int vfuse_run(struct vfuse *vf);
/* From another thread (e.g. one taking SIGTERM): waits for requests in
 * progress, refuses new ones, flushes the image and detaches the mount.
 * vfuse_run() may stay blocked until the kernel ends the connection, which
 * a copy of the mount in another mount namespace can delay for as long as
 * that namespace lives: the caller should exit the process after this.
 * Returns the flush result (0 or -errno); later calls return 0. */
int vfuse_stop(struct vfuse *vf);
/* Unmounts if still mounted and frees; accepts NULL. Not concurrently with
 * vfuse_run(). */
void vfuse_destroy(struct vfuse *vf);

#endif
