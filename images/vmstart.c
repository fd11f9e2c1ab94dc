/* images/vmstart.c: the detached VM runtime: double fork, pidfile,
 * start handshake over a pipe, and stop. */
#include "images/vmstart.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pidfile.h"
#include "hv/vm.h"
#include "images/img_store.h"
#include "images/vmrun.h"

/* The handshake pipe's end in the runtime, after every other inherited
 * descriptor above stderr is closed. */
#define START_FD 3

struct start_ctx {
	int pipe_fd;
	const char *name;
};

int vmrec_boot_apply(struct vm_config *cfg, const struct vmrec_boot *b)
{
	if ((b->kernel && snprintf(cfg->kernel, sizeof(cfg->kernel), "%s", b->kernel) >=
	     (int)sizeof(cfg->kernel)) ||
	    (b->initrd && snprintf(cfg->initrd, sizeof(cfg->initrd), "%s", b->initrd) >=
	     (int)sizeof(cfg->initrd)))
		return img_fail(-ENAMETOOLONG, "path too long");
	if (b->append) {
		size_t n = strlen(cfg->append);

		if (snprintf(cfg->append + n, sizeof(cfg->append) - n, " %s", b->append) >=
		    (int)(sizeof(cfg->append) - n))
			return img_fail(-ENAMETOOLONG, "kernel command line too long");
	}
	if (b->boot && vm_boot_mode_parse(b->boot, &cfg->boot))
		return img_fail(-EINVAL, "--boot '%s': want auto, direct, image or firmware",
				b->boot);
	if (b->accel && vm_accel_parse(b->accel, &cfg->accel))
		return img_fail(-EINVAL, "--accel '%s': want auto, kvm or tcg", b->accel);
	return 0;
}

/* The pidfile, written under a temporary name and renamed into place so
 * that a reader never sees half a pid. */
static void pidfile_write(const char *name)
{
	char path[4200], tmp[4210], buf[32];
	int fd, n;

	if (vmrec_run_path(name, "vm.pid", path, sizeof(path)))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n || fsync(fd))
		log_warn("cannot write %s", tmp);
	close(fd);
	if (rename(tmp, path))
		log_warn("cannot rename %s: %s", tmp, strerror(errno));
}

/* In the runtime, once the guest runs: pidfile, then tell the starter. */
static void on_started(struct vm *vm, const struct vm_status *st, void *opaque)
{
	struct start_ctx *sc = opaque;

	pidfile_write(sc->name);
	if (dprintf(sc->pipe_fd, "ok %d\n", (int)getpid()) < 0)
		log_warn("lost the starting process");
	close(sc->pipe_fd);
	sc->pipe_fd = -1;
}

/* Signals as in a fresh process; standard descriptors to /dev/null and
 * RUN/<name>.log, the pipe to START_FD, everything else closed (a
 * daemon's listening sockets and client connections must not live on in
 * its VMs). */
static void runtime_fds(const char *name, int pipe_fd)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD };
	char path[4200];
	sigset_t none;
	int fd;

	/* a daemon's thread may block or ignore these: the runtime starts
	 * with them as a fresh process would (hv's runtime sets up its own
	 * signalfd either way; this keeps the daemon's mask out of it) */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	if (pipe_fd != START_FD) {
		dup2(pipe_fd, START_FD);
		close(pipe_fd);
	}
	fcntl(START_FD, F_SETFD, FD_CLOEXEC);
	close_range(START_FD + 1, ~0U, 0);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (!vmrec_run_path(name, "log", path, sizeof(path))) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
	}
}

/* The grandchild: becomes the VM's runtime, never returns. */
static void runtime_main(const struct vm_config *cfg, const char *state_dir)
{
	struct nb_port *ports[VM_MAX_NICS] = { 0 };
	char err[256] = "";
	struct start_ctx sc = { .pipe_fd = START_FD, .name = cfg->name };
	struct vm_run_opts opts = { .handle_signals = true, .started = on_started, .opaque = &sc };
	struct vm_config *own = (struct vm_config *)cfg;
	struct vm_result res;
	struct vm *vm = NULL;
	char path[4200];
	int r;

	r = vmrec_attach_nics(state_dir, own, ports, err, sizeof(err));
	if (!r) {
		r = vm_create(own, &vm);
		if (!r)
			r = vm_run(vm, &opts, &res);
		if (r)
			snprintf(err, sizeof(err), "%s", vm_error(vm));
	}
	if (r && sc.pipe_fd >= 0) {
		dprintf(sc.pipe_fd, "%s\n", err);
		close(sc.pipe_fd);
	}
	if (!r)
		log_info("%s stopped: %s", cfg->name, res.detail);
	if (!vmrec_run_path(cfg->name, "vm.pid", path, sizeof(path)))
		unlink(path);
	vm_destroy(vm);
	vmrec_detach_nics(ports, cfg->nr_nics);
	_exit(r ? 1 : 0);
}

/* Reads the runtime's one-line answer: "ok PID" or an error. */
static int start_answer(int fd, const char *name, pid_t *pid)
{
	char msg[512];
	ssize_t n, got = 0;
	int p;

	while ((n = read(fd, msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
		got += n;
	msg[got > 0 ? got : 0] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	if (sscanf(msg, "ok %d", &p) == 1 && p > 1) {
		*pid = p;
		return 0;
	}
	return img_fail(-EIO, "%s did not start: %s", name,
			msg[0] ? msg : "the runtime died");
}

int vmrec_start(const struct vm_config *cfg, const char *state_dir, pid_t *pid)
{
	char path[4200];
	int p[2], r, st;
	pid_t mid;

	if (vmrec_running(cfg->name))
		return img_fail(-EALREADY, "%s is already running", cfg->name);
	if (mkdir(vmrec_run_dir(), 0700) && errno != EEXIST)
		return img_fail(-errno, "%s: %s", vmrec_run_dir(), strerror(errno));
	if (!vmrec_run_path(cfg->name, "console", path, sizeof(path)))
		unlink(path);	/* a fresh console per start */
	if (pipe2(p, O_CLOEXEC))
		return img_fail(-errno, "pipe: %s", strerror(errno));
	fflush(NULL);
	mid = fork();
	if (mid == 0) {
		/* the middle process: a new session, the runtime, and away */
		close(p[0]);
		setsid();
		if (fork() == 0) {
			runtime_fds(cfg->name, p[1]);
			runtime_main(cfg, state_dir);
		}
		_exit(0);
	}
	close(p[1]);
	if (mid < 0) {
		r = -errno;
		close(p[0]);
		return img_fail(r, "fork: %s", strerror(-r));
	}
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	r = start_answer(p[0], cfg->name, pid);
	close(p[0]);
	return r;
}

/* True once @pid has exited (a zombie counts: whoever reaps it is not us). */
static bool proc_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool zombie = false;

	if (!pid_alive(pid))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		zombie = p[2] == 'Z';
	fclose(f);
	return zombie;
}

int vmrec_stop(const char *name, unsigned timeout_ms, bool *killed)
{
	pid_t pid = vmrec_pid(name);
	char path[4200];

	if (killed)
		*killed = false;
	if (!pid)
		return img_fail(-ESRCH, "%s is not running", name);
	/* hv's runtime stops the guest cleanly (disks flushed) on SIGTERM */
	kill(pid, SIGTERM);
	/* the runtime removes its pidfile, then exits */
	for (unsigned t = 0; t < timeout_ms && !proc_gone(pid); t += 50)
		usleep(50000);
	if (!proc_gone(pid)) {
		kill(pid, SIGKILL);
		if (killed)
			*killed = true;
		for (int i = 0; i < 100 && !proc_gone(pid); i++)
			usleep(50000);
	}
	/* a killed runtime leaves its pidfile behind */
	if (proc_gone(pid) && !vmrec_run_path(name, "vm.pid", path, sizeof(path)) &&
	    pidfile_read(path) == pid)
		unlink(path);
	return 0;
}
