/* tools/vhd/serve_control.h: `vhd serve --control PATH`: a Unix socket
 * taking newline-delimited JSON requests, one reply line each:
 *
 *   {"cmd":"switch","file":F[,"export":NAME]}  the export's writes move to
 *        F, a differencing child of its current top (which becomes F's
 *        read-only parent); -> {"ok":true,"file":F}
 *   {"cmd":"flush"}  flushes every export  -> {"ok":true}
 *   {"cmd":"info"}   -> {"ok":true,"exports":[{"name":N,"file":F,"writable":B}]}
 *   failures         -> {"ok":false,"error":"reason"}
 *
 * Requests run one at a time on the control thread; several connections
 * may be open at once.
 */
#ifndef VV_TOOLS_VHD_SERVE_CONTROL_H
#define VV_TOOLS_VHD_SERVE_CONTROL_H

#include <stdbool.h>

struct bdev;
struct serve_ctl;

/* One export as `vhd serve` set it up. */
struct serve_ctl_export {
	const char *name;      /* the export name (copied) */
	const char *path;      /* the file it serves (copied) */
	struct bdev *dev;      /* the export's device: a switch is
				* bdev_switch_top() on it; the caller closes
				* bdev_image() once serve_ctl_stop() returned */
	bool read_only;        /* --read-only */
	bool snapshot;         /* --snapshot: writes go to a throwaway child */
};

/* Listens on @path (mode 0600; bound under a temporary name and renamed,
 * so @path accepts as soon as it exists; an existing file is replaced)
 * and starts the control thread for the @n exports. The thread may call
 * bdev_switch_top() on their devices until serve_ctl_stop(). When a
 * switch fails and even the old top cannot be reopened, it logs why,
 * marks the control failed and sends SIGTERM to the process. Returns 0
 * or -errno (logged). */
int serve_ctl_start(const char *path, const struct serve_ctl_export *exps, unsigned n,
		    struct serve_ctl **out);

/* Stops and joins the control thread (a request being served finishes
 * first), removes the socket and frees; accepts NULL. Returns -EIO when
 * a switch left an export without an image (the process should exit
 * with a failure), else 0. */
int serve_ctl_stop(struct serve_ctl *ctl);

#endif
