/* common/spawn.c: fork + exec with explicit descriptors and clean signal
 * state, pidfds to wait on. */
#include "common/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void spawn_opts_init(struct spawn_opts *o, const char *const argv[])
{
	memset(o, 0, sizeof(*o));
	o->argv = argv;
	o->in = o->out = o->err = SPAWN_NULL;
}

/* @prog as a path: itself when it holds '/', else the first executable in
 * $PATH, /usr/sbin, /sbin. 0, -ENOENT or -EACCES. */
static int find_prog(const char *prog, char path[PATH_MAX])
{
	const char *env = getenv("PATH");
	char dirs[4096];
	char *save = NULL;
	int r = -ENOENT;

	if (!*prog)
		return -ENOENT;
	if (strchr(prog, '/')) {
		if ((size_t)snprintf(path, PATH_MAX, "%s", prog) >= PATH_MAX)
			return -ENAMETOOLONG;
		return access(path, X_OK) ? -errno : 0;
	}
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", env && *env ? env : "/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		struct stat st;

		if (snprintf(path, PATH_MAX, "%s/%s", d, prog) >= PATH_MAX)
			continue;
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (!access(path, X_OK))
			return 0;
		r = -EACCES;
	}
	return r;
}

/* One descriptor the child gets: @src (ours) becomes @dst (its). */
struct fdmove {
	int src, dst;
};

/* In the child, between fork and exec: only async-signal-safe calls.
 * Reports errno on @errfd and exits when something fails. */
static void __attribute__((noreturn))
child_main(const struct spawn_opts *o, const char *path, struct fdmove *mv, size_t nmv,
	   pid_t parent, int errfd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int top = 2, e;

	if (o->new_session) {
		if (setsid() < 0)
			goto fail;
	} else if (o->new_pgroup && setpgid(0, 0)) {
		goto fail;
	}
	if (o->deathsig) {
		if (prctl(PR_SET_PDEATHSIG, o->deathsig))
			goto fail;
		if (getppid() != parent)
			_exit(127);     /* the parent died before prctl() */
	}
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	/* glibc's sigaction() refuses the two signals it keeps for itself
	 * (32, 33), but an ignored one is inherited across exec like any
	 * other: reset them with the system call itself. */
	for (int s = 32; s < SIGRTMIN; s++) {
		struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; }
			ksa = { 0 };    /* SIG_DFL, no flags, empty mask */

		syscall(SYS_rt_sigaction, s, &ksa, NULL, sizeof(ksa.mask));
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (o->set_umask)
		umask(o->umask);
	if (o->cwd && chdir(o->cwd))
		goto fail;

	/* Move every source above every target first, so no dup2() below
	 * overwrites a source not yet placed; then mark everything from 3
	 * close-on-exec: only what dup2() places survives the exec. */
	for (size_t i = 0; i < nmv; i++)
		if (mv[i].dst > top)
			top = mv[i].dst;
	for (size_t i = 0; i < nmv; i++) {
		int fd = fcntl(mv[i].src, F_DUPFD_CLOEXEC, top + 1);

		if (fd < 0)
			goto fail;
		mv[i].src = fd;
	}
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC))
		goto fail;
	for (size_t i = 0; i < nmv; i++)
		if (dup2(mv[i].src, mv[i].dst) < 0)
			goto fail;
	execve(path, (char *const *)o->argv,
	       o->envp ? (char *const *)o->envp : environ);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static bool fds_valid(const struct spawn_opts *o)
{
	if (!o->argv || !o->argv[0] || o->nfds > SPAWN_MAX_FDS || (o->nfds && !o->fds))
		return false;
	for (size_t i = 0; i < o->nfds; i++) {
		if (o->fds[i].fd < 0 || o->fds[i].child_fd < 3)
			return false;
		for (size_t j = 0; j < i; j++)
			if (o->fds[j].child_fd == o->fds[i].child_fd)
				return false;
	}
	return o->in >= SPAWN_INHERIT && o->out >= SPAWN_INHERIT && o->err >= SPAWN_INHERIT;
}

int spawn_start(const struct spawn_opts *o, struct spawn_child *c)
{
	struct fdmove mv[3 + SPAWN_MAX_FDS];
	const int std[3] = { o->in, o->out, o->err };
	char path[PATH_MAX];
	int pipefd[2], null = -1, e = 0, r;
	size_t nmv = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	c->pid = 0;
	c->pidfd = -1;
	if (!fds_valid(o))
		return -EINVAL;
	r = find_prog(o->argv[0], path);
	if (r)
		return r;
	if (std[0] == SPAWN_NULL || std[1] == SPAWN_NULL || std[2] == SPAWN_NULL) {
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0)
			return -errno;
	}
	for (int i = 0; i < 3; i++) {
		int src = std[i] == SPAWN_NULL ? null : std[i] == SPAWN_INHERIT ? i : std[i];

		mv[nmv++] = (struct fdmove){ src, i };
	}
	for (size_t i = 0; i < o->nfds; i++)
		mv[nmv++] = (struct fdmove){ o->fds[i].fd, o->fds[i].child_fd };
	if (pipe2(pipefd, O_CLOEXEC)) {
		e = errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		goto out;
	}
	if (pid == 0)
		child_main(o, path, mv, nmv, parent, pipefd[1]);
	close(pipefd[1]);
	do
		n = read(pipefd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == sizeof(e)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	e = 0;
	c->pid = pid;
	c->pidfd = pidfd_open(pid, 0);
	if (c->pidfd < 0) {
		e = errno;
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
out:
	if (null >= 0)
		close(null);
	return -e;
}

int spawn_wait(struct spawn_child *c, int timeout_ms, int *status)
{
	struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
	int st;

	if (c->pid <= 0)
		return -ECHILD;
	for (;;) {
		int n = poll(&p, 1, timeout_ms);

		if (n > 0)
			break;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
	while (waitpid(c->pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	close(c->pidfd);
	c->pidfd = -1;
	c->pid = 0;
	if (status)
		*status = st;
	return 0;
}

int spawn_stop(struct spawn_child *c, int sig, int grace_ms)
{
	int st, r;

	if (c->pid <= 0)
		return -ECHILD;
	pidfd_send_signal(c->pidfd, sig, NULL, 0);
	r = spawn_wait(c, grace_ms, &st);
	if (r == -ETIMEDOUT) {
		pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
		r = spawn_wait(c, -1, &st);
	}
	return r ? r : st;
}

int spawn_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

const char *spawn_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "status 0x%x", status);
	return buf;
}

/* A memory file holding @data, positioned at its start; fd or -errno. */
static int memfd_with(const char *name, const char *data)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	size_t len = data ? strlen(data) : 0, off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void collect(int fd, char *out, size_t outlen)
{
	ssize_t n;

	if (!out || !outlen)
		return;
	n = pread(fd, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
}

/* Starts @o and waits: spawn_code() of its status or -errno. */
static int run_wait(const struct spawn_opts *o)
{
	struct spawn_child c;
	int st, r = spawn_start(o, &c);

	if (r)
		return r;
	r = spawn_wait(&c, -1, &st);
	return r ? r : spawn_code(st);
}

int spawn_run(const char *const argv[], const char *input, char *out, size_t outlen)
{
	struct spawn_opts o;
	int in, res, r;

	if (out && outlen)
		out[0] = '\0';
	in = memfd_with("spawn-in", input);
	if (in < 0)
		return in;
	res = memfd_with("spawn-out", NULL);
	if (res < 0) {
		close(in);
		return res;
	}
	spawn_opts_init(&o, argv);
	o.in = in;
	o.out = o.err = res;
	r = run_wait(&o);
	if (r >= 0)
		collect(res, out, outlen);
	close(in);
	close(res);
	return r;
}

int spawn_run_logged(const char *const argv[], const char *log)
{
	struct spawn_opts o;
	int fd = SPAWN_NULL, r;

	if (log) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
	}
	spawn_opts_init(&o, argv);
	o.out = o.err = fd;
	r = run_wait(&o);
	if (fd >= 0)
		close(fd);
	return r;
}
