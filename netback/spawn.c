/* netback/spawn.c: fork + exec of helper programs with memfd stdio. */
#include "netback/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

/* Finds @prog in $PATH, /usr/sbin, /sbin. Returns 0 or -ENOENT. */
static int spawn_find(const char *prog, char path[PATH_MAX])
{
	const char *env = getenv("PATH");
	char dirs[4096];
	char *save = NULL;

	if (strchr(prog, '/')) {
		snprintf(path, PATH_MAX, "%s", prog);
		return access(path, X_OK) ? -ENOENT : 0;
	}
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", env ? env : "/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (snprintf(path, PATH_MAX, "%s/%s", d, prog) >= PATH_MAX)
			continue;
		if (!access(path, X_OK))
			return 0;
	}
	return -ENOENT;
}

/* A memory file holding @data, positioned at its start. */
static int spawn_memfd(const char *name, const char *data)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	size_t len = data ? strlen(data) : 0, off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		off += n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void spawn_collect(int fd, char *out, size_t outlen)
{
	ssize_t n;

	if (!out || !outlen)
		return;
	out[0] = '\0';
	n = pread(fd, out, outlen - 1, 0);
	if (n <= 0)
		return;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
}

int spawn_run(const char *const argv[], const char *input, char *out,
	      size_t outlen)
{
	char path[PATH_MAX];
	int in_fd, out_fd, status, err;
	pid_t pid;

	if (out && outlen)
		out[0] = '\0';
	err = spawn_find(argv[0], path);
	if (err)
		return err;
	in_fd = spawn_memfd("spawn-in", input);
	if (in_fd < 0)
		return in_fd;
	out_fd = spawn_memfd("spawn-out", NULL);
	if (out_fd < 0) {
		close(in_fd);
		return out_fd;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out_close;
	}
	if (pid == 0) {
		static const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD };
		sigset_t none;

		/* A caller that blocks or ignores signals (a VMM with a
		 * signalfd) must not pass that on: dnsmasq has to die on
		 * SIGTERM. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
			signal(sigs[i], SIG_DFL);
		if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
			_exit(126);
		close_range(3, ~0U, 0);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			err = -errno;
			goto out_close;
		}
	}
	spawn_collect(out_fd, out, outlen);
	if (WIFEXITED(status))
		err = WEXITSTATUS(status);
	else
		err = 128 + WTERMSIG(status);
out_close:
	close(in_fd);
	close(out_fd);
	return err;
}
