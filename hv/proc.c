/* hv/proc.c: child processes (argv vectors, never a shell) and the run
 * directory of VMs. */
#include "hv/hv_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/pidfile.h"
#include "common/spawn.h"

long long hv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hv_spawn(const char *const argv[], const struct hv_fdmap *map, size_t nmap,
	     bool quiet, int deathsig, pid_t *pidp, int *pidfdp)
{
	struct spawn_fd fds[SPAWN_MAX_FDS];
	struct spawn_opts o;
	struct spawn_child c;
	int r;

	if (nmap > SPAWN_MAX_FDS)
		return -EINVAL;
	for (size_t i = 0; i < nmap; i++)
		fds[i] = (struct spawn_fd){ map[i].fd, map[i].child_fd };
	spawn_opts_init(&o, argv);
	o.out = quiet ? SPAWN_NULL : SPAWN_INHERIT;
	o.err = SPAWN_INHERIT;
	o.fds = fds;
	o.nfds = nmap;
	o.new_pgroup = true;
	o.deathsig = deathsig;
	/* What the engine makes (console log, console socket) is for the
	 * VM's owner alone. */
	o.set_umask = true;
	o.umask = 077;
	r = spawn_start(&o, &c);
	if (r)
		return r;
	*pidp = c.pid;
	if (pidfdp)
		*pidfdp = c.pidfd;
	else
		close(c.pidfd);
	return 0;
}

int hv_reap(pid_t pid, int timeout_ms)
{
	long long end = hv_now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (hv_now_ms() >= end)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

const char *hv_run_root(char *buf, size_t len)
{
	const char *env = getenv("VHDVISOR_RUN");

	snprintf(buf, len, "%s", env && *env ? env : "/run/vhdvisor");
	return buf;
}

/* The pid recorded in DIR/pid, if that process still exists. */
static bool run_dir_live(const char *dir)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/pid", dir);
	return pid_alive(pidfile_read(path));
}

int hv_run_dir_create(const char *root, const char *name, char *out, size_t outlen)
{
	char pidbuf[32], path[PATH_MAX + 8];
	int fd, n, e;

	if (mkdir(root, 0700) && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(out, outlen, "%s/%s", root, name) >= outlen)
		return -ENAMETOOLONG;
	if (mkdir(out, 0700)) {
		if (errno != EEXIST)
			return -errno;
		if (run_dir_live(out))
			return -EEXIST;
		/* Left over by a VM that died without cleaning up. */
		hv_run_dir_remove(out);
		if (mkdir(out, 0700))
			return -errno;
	}
	n = snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)getpid());
	snprintf(path, sizeof(path), "%s/pid", out);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, pidbuf, (size_t)n) != n) {
		e = fd < 0 ? errno : EIO;
		if (fd >= 0)
			close(fd);
		hv_run_dir_remove(out);
		return -e;
	}
	close(fd);
	return 0;
}

void hv_run_dir_remove(const char *dir)
{
	DIR *d;
	struct dirent *de;

	if (!dir || !dir[0])
		return;
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			unlinkat(dirfd(d), de->d_name, 0);
		}
		closedir(d);
	}
	rmdir(dir);
}
