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

struct vfuse_opts {
	bool foreground;   /* stay attached; otherwise daemonize once mounted */
	unsigned workers;  /* I/O engine threads; 0 = default */
};

/* Mounts @img at @dir (absolute path) and serves it until the folder is
 * unmounted (fusermount3 -u, `vhd umount`) or SIGTERM/SIGINT/SIGHUP. Without
 * @o->foreground the process forks once the mount is up and the parent
 * exits 0 inside libfuse (stderr then goes to /dev/null). Flushes @img
 * before returning; the caller closes it. Returns 0 or -errno. */
int vfuse_run(struct bimg *img, const char *dir, const struct vfuse_opts *o);

#endif
