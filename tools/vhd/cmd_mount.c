/* tools/vhd/cmd_mount.c: `vhd mount`: the raw view of an image via FUSE. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkback/bimg.h"
#include "blkback/vfuse.h"
#include "common/log.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmds.h"

static const char mount_usage[] =
	"usage: vhd mount [--read-only] [--foreground] FILE DIR\n"
	"Shows the image (with its whole chain) as DIR/disk. Detach with\n"
	"'vhd umount DIR' (flushes) or fusermount3 -u DIR.\n";

/* Takes SIGTERM/SIGINT/SIGHUP: flush, detach, exit. libfuse's own loop
 * only ends when the kernel ends the connection, which a copy of the mount
 * in another mount namespace can delay for a long time. */
static void *mount_sig_thread(void *arg)
{
	struct vfuse *vf = arg;
	sigset_t sigs;
	int sig;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	if (sigwait(&sigs, &sig))
		return NULL;
	_exit(vfuse_stop(vf) ? CLI_FAIL : CLI_OK);
}

int cmd_mount(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "read-only", no_argument, NULL, 'r' },
		{ "foreground", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct vfuse_opts o = { 0 };
	struct vfuse *vf;
	pthread_t th;
	sigset_t sigs;
	char dir[PATH_MAX];
	bool ro = false;
	struct bimg *img;
	int c, rc;

	if (cli_wants_help(argc, argv)) {
		fputs(mount_usage, stdout);
		return CLI_OK;
	}
	optind = 1;
	while ((c = cli_getopt(argc, argv, "rf", lopts)) != -1) {
		switch (c) {
		case 'r': ro = true; break;
		case 'f': o.foreground = true; break;
		default: fputs(mount_usage, stderr); return CLI_USAGE;
		}
	}
	if (argc - optind != 2) {
		fputs(mount_usage, stderr);
		return CLI_USAGE;
	}
	if (!realpath(argv[optind + 1], dir)) {
		log_err("%s: no such folder", argv[optind + 1]);
		return CLI_USAGE;
	}
	rc = bimg_open(argv[optind], ro ? 0 : BIMG_OPEN_RDWR, &img);
	if (rc) {
		const char *why = bimg_last_error();

		if (*why)
			log_err("%s", why);   /* names the file already */
		else
			log_err("%s: cannot open: %s", argv[optind], strerror(-rc));
		return CLI_FAIL;
	}
	/* Blocked in every thread; mount_sig_thread takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	rc = vfuse_create(img, dir, &o, &vf);    /* may fork: threads after it */
	if (!rc) {
		rc = pthread_create(&th, NULL, mount_sig_thread, vf) ? -EAGAIN : 0;
		if (!rc)
			rc = vfuse_run(vf);
		vfuse_destroy(vf);
	}
	if (rc)
		log_err("%s: %s", dir, strerror(-rc));
	if (bimg_close(img) && !rc)
		rc = -EIO;
	return rc ? CLI_FAIL : CLI_OK;
}
