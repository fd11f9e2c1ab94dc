/* tools/vhd/cmd_umount.c: `vhd umount`: flush and detach a `vhd mount`. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "blkback/vfuse.h"
#include "common/log.h"
#include "common/spawn.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"

#define UMOUNT_GRACE_MS 2000
#define UMOUNT_WAIT_MS 30000

/* Flushes DIR/disk and returns the pid serving it (0 if unknown). */
static pid_t umount_prepare(const char *dir)
{
	char path[4096], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/disk", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fsync(fd) < 0)
		log_warn("%s: flush failed: %s", path, strerror(errno));
	n = fgetxattr(fd, VFUSE_XATTR_PID, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

static int umount_run_fusermount(const char *dir)
{
	const char *argv[] = { "fusermount3", "-u", dir, NULL };
	struct spawn_opts so;
	struct spawn_child child;
	int status, r;

	spawn_opts_init(&so, argv);
	so.err = SPAWN_INHERIT;		/* fusermount3 says why it failed */
	r = spawn_start(&so, &child);
	if (!r)
		r = spawn_wait(&child, -1, &status);
	if (r)
		return r;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static const char umount_usage[] =
	"umount DIR\n"
	"Flushes and detaches a 'vhd mount', then waits for its server to finish.";

int cmd_umount(int argc, char **argv)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	pid_t pid;

	if (cli_wants_help(argc, argv)) {
		printf("usage: vhd %s\n", umount_usage);
		return CLI_OK;
	}
	if (vt_plain_args(&argc, &argv, umount_usage))
		return CLI_USAGE;
	if (argc != 2)
		return vt_usage(umount_usage);
	pid = umount_prepare(argv[1]);
	if (umount_run_fusermount(argv[1])) {
		log_err("%s: cannot unmount", argv[1]);
		return CLI_FAIL;
	}
	/* The server flushes and closes the image once the kernel ends the
	 * connection; a copy of the mount in another mount namespace delays
	 * that, so after a grace period SIGTERM makes it flush and exit. */
	for (int ms = 0; pid > 0 && ms < UMOUNT_WAIT_MS; ms += 10) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return CLI_OK;
		if (ms == UMOUNT_GRACE_MS)
			kill(pid, SIGTERM);
		nanosleep(&ts, NULL);
	}
	if (pid > 0) {
		log_err("%s: server %d still running", argv[1], (int)pid);
		return CLI_FAIL;
	}
	return CLI_OK;
}
