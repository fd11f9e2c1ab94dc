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
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/pidfile.h"

long long hv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_setup(const char *const argv[], struct hv_fdmap *map, size_t nmap,
			bool quiet, int deathsig, pid_t parent, int errpipe)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;
	int null, e;

	setpgid(0, 0);
	if (deathsig) {
		prctl(PR_SET_PDEATHSIG, deathsig);
		if (getppid() != parent)
			_exit(127);
	}
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* What the engine makes (console log, console socket, NBD sockets)
	 * is for the VM's owner alone. */
	umask(077);

	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		goto fail;
	if (dup2(null, 0) < 0 || (quiet && dup2(null, 1) < 0))
		goto fail;
	/* Move sources out of the way of the target numbers first. */
	for (size_t i = 0; i < nmap; i++) {
		int fd = fcntl(map[i].fd, F_DUPFD_CLOEXEC, 100);

		if (fd < 0)
			goto fail;
		map[i].fd = fd;
	}
	for (size_t i = 0; i < nmap; i++)
		if (dup2(map[i].fd, map[i].child_fd) < 0)
			goto fail;
	execvp(argv[0], (char *const *)argv);
fail:
	e = errno;
	if (write(errpipe, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

int hv_spawn(const char *const argv[], const struct hv_fdmap *map, size_t nmap,
	     bool quiet, int deathsig, pid_t *pidp, int *pidfdp)
{
	struct hv_fdmap local[8];
	int pipefd[2], e = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	if (nmap > sizeof(local) / sizeof(local[0]))
		return -EINVAL;
	if (nmap)
		memcpy(local, map, nmap * sizeof(*map));
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return -e;
	}
	if (pid == 0) {
		close(pipefd[0]);
		child_setup(argv, local, nmap, quiet, deathsig, parent, pipefd[1]);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == sizeof(e)) {
		waitpid(pid, NULL, 0);
		return -e;
	}
	*pidp = pid;
	if (pidfdp) {
		*pidfdp = pidfd_open(pid, 0);
		if (*pidfdp < 0) {
			e = errno;
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -e;
		}
	}
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

const char *hv_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "status 0x%x", status);
	return buf;
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
