/* hv/qemu.c: the QEMU engine: QEMU as a child process (argv, never a
 * shell), controlled over QMP on a socketpair, disks served over NBD or
 * vhost-user-blk by threads of this process (hv/qemu_disk.c), events
 * turned into struct vm_event. */
#include "hv/qemu_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_TAG "qemu"
#include "common/log.h"
#include "common/spawn.h"
#include "hv/hv_int.h"
#include "hv/qmp.h"
#include "blkback/vub.h"

#define QMP_FD_CHILD   3
#define CON_FD_CHILD   4
#define NIC_FD_CHILD   10
#define QMP_TIMEOUT_MS 30000
#define OVMF_VARS      "/usr/share/OVMF/OVMF_VARS.fd"

enum src { SRC_QMP = 1, SRC_QEMU, SRC_CONSOLE, SRC_DISK0 };

struct vm_engine {
	const struct vm_config *cfg;
	struct vm_boot boot;
	struct vm_engine_env env;
	char run_dir[PATH_MAX];
	struct qemu_disk disks[VM_MAX_DISKS];
	int epfd;
	pid_t pid;
	int pidfd;
	struct qmp *qmp;
	int con_fd;             /* stdio console: read end of QEMU's output pipe */
	char console[PATH_MAX];
	/* what we learned about the end */
	char shutdown_reason[32];
	bool panicked;
	bool host_stop;
	bool disk_died;
	bool exited;
	char detail[256];
};

static int epoll_watch(struct vm_engine *e, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void qemu_destroy(struct vm_engine *e)
{
	if (!e)
		return;
	qmp_destroy(e->qmp);
	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		hv_reap(e->pid, 5000);
	}
	if (e->pidfd >= 0)
		close(e->pidfd);
	if (e->con_fd >= 0)
		close(e->con_fd);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		qemu_disk_stop(&e->disks[i]);
	if (e->epfd >= 0)
		close(e->epfd);
	free(e);
}

static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in, out, r = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
	if (n < 0)
		r = -errno;
	close(in);
	if (close(out) && !r)
		r = -errno;
	return r;
}

static int qemu_create(const struct vm_config *cfg, const struct vm_boot *boot,
		       const struct vm_engine_env *env, struct vm_engine **out)
{
	struct vm_engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->epfd = -1;
	e->pidfd = -1;
	e->con_fd = -1;
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		e->disks[i].dead_fd = -1;
	e->cfg = cfg;
	e->boot = *boot;
	snprintf(e->run_dir, sizeof(e->run_dir), "%s", env->run_dir);
	e->env = *env;
	e->env.run_dir = e->run_dir;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		r = -errno;
		goto err;
	}
	if (boot->mode == VM_BOOT_FIRMWARE && cfg->firmware == VM_FW_UEFI) {
		char vars[PATH_MAX + 16];

		snprintf(vars, sizeof(vars), "%s/OVMF_VARS.fd", e->run_dir);
		r = copy_file(OVMF_VARS, vars);
		if (r) {
			log_err("UEFI firmware: cannot copy %s: %s (is ovmf installed?)",
				OVMF_VARS, strerror(-r));
			goto err;
		}
	}
	*out = e;
	return 0;
err:
	qemu_destroy(e);
	return r;
}

static void find_pty(struct vm_engine *e)
{
	struct json_object *ret = NULL;

	if (qmp_execute(e->qmp, "query-chardev", NULL, &ret, QMP_TIMEOUT_MS) || !ret)
		return;
	for (size_t i = 0; i < json_object_array_length(ret); i++) {
		struct json_object *c = json_object_array_get_idx(ret, i), *label, *fn;

		if (json_object_object_get_ex(c, "label", &label) &&
		    !strcmp(json_object_get_string(label), "con0") &&
		    json_object_object_get_ex(c, "filename", &fn)) {
			const char *s = json_object_get_string(fn);

			if (!strncmp(s, "pty:", 4))
				snprintf(e->console, sizeof(e->console), "%s", s + 4);
		}
	}
	json_object_put(ret);
}

static int start_qemu(struct vm_engine *e)
{
	const struct vm_config *cfg = e->cfg;
	struct hv_fdmap map[2 + VM_MAX_NICS];
	struct qemu_argv a = { 0 };
	int nic_fds[VM_MAX_NICS];
	int sp[2], con[2] = { -1, -1 }, r;
	size_t nmap = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return -errno;
	map[nmap++] = (struct hv_fdmap){ sp[1], QMP_FD_CHILD };
	if (cfg->console == VM_CONSOLE_STDIO) {
		/* QEMU writes the console into a pipe we copy to our stdout:
		 * sharing our stdout would let it switch that to non-blocking
		 * mode, or write at an offset the caller's shell does not see. */
		if (pipe2(con, O_CLOEXEC)) {
			r = -errno;
			goto out;
		}
		map[nmap++] = (struct hv_fdmap){ con[1], CON_FD_CHILD };
	}
	for (unsigned i = 0; i < cfg->nr_nics; i++) {
		nic_fds[i] = NIC_FD_CHILD + (int)i;
		if (cfg->nics[i].tap_fd < 0) {
			log_err("nic %u (%s): no tap was opened for it", i, cfg->nics[i].name);
			r = -EINVAL;
			goto out;
		}
		map[nmap++] = (struct hv_fdmap){ cfg->nics[i].tap_fd, nic_fds[i] };
	}
	r = qemu_argv_build(&a, cfg, &e->boot, &e->env, QMP_FD_CHILD, CON_FD_CHILD, e->disks,
			    nic_fds);
	if (r)
		goto out;
	if (log_get_level() >= LOG_LVL_DBG) {
		for (size_t i = 0; i < a.n; i++)
			log_dbg("argv[%zu] %s", i, a.v[i]);
	}
	r = hv_spawn((const char *const *)a.v, map, nmap, false, SIGKILL, &e->pid, &e->pidfd);
	if (r) {
		log_err("cannot start %s: %s", a.v[0], strerror(-r));
		goto out;
	}
	close(sp[1]);
	sp[1] = -1;
	if (con[0] >= 0) {
		close(con[1]);
		con[1] = -1;
		fcntl(con[0], F_SETFL, O_NONBLOCK);
		e->con_fd = con[0];
		con[0] = -1;
		r = epoll_watch(e, e->con_fd, SRC_CONSOLE);
		if (r)
			goto out;
	}
	r = qmp_create(sp[0], QMP_TIMEOUT_MS, &e->qmp);
	sp[0] = -1;
	if (r) {
		char buf[64];
		int st = hv_reap(e->pid, 5000);

		if (st >= 0) {
			e->pid = 0;
			log_err("QEMU failed to start (%s)", spawn_status_str(st, buf, sizeof(buf)));
		} else {
			log_err("QEMU does not answer on its control socket: %s", strerror(-r));
		}
		goto out;
	}
	r = epoll_watch(e, qmp_fd(e->qmp), SRC_QMP);
	if (!r)
		r = epoll_watch(e, e->pidfd, SRC_QEMU);
	if (!r && cfg->console == VM_CONSOLE_PTY)
		find_pty(e);
	/* QEMU made it under umask 077 (0700); sockets we make are 0600 */
	if (!r && cfg->console_socket[0] && chmod(cfg->console_socket, 0600))
		log_warn("%s: %s", cfg->console_socket, strerror(errno));
out:
	for (int i = 0; i < 2; i++)
		if (con[i] >= 0)
			close(con[i]);
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	qemu_argv_free(&a);
	return r;
}

static int qemu_start(struct vm_engine *e)
{
	int r;

	/* vhost-user: one queue per vCPU, as many as the server has */
	unsigned queues = e->cfg->cpus < VUB_MAX_QUEUES ? e->cfg->cpus : VUB_MAX_QUEUES;

	for (unsigned i = 0; i < e->cfg->nr_disks; i++) {
		r = qemu_disk_start(&e->disks[i], &e->cfg->disks[i], i, e->run_dir,
				    e->cfg->disk_transport, queues);
		if (r)
			goto err;
		r = epoll_watch(e, e->disks[i].dead_fd, SRC_DISK0 + i);
		if (r)
			goto err;
	}
	r = start_qemu(e);
	if (r)
		goto err;
	return 0;
err:
	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		hv_reap(e->pid, 5000);
		e->pid = 0;
	}
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		qemu_disk_stop(&e->disks[i]);
	return r;
}

static int qemu_poll_fd(struct vm_engine *e)
{
	return e->epfd;
}

/* Copies what QEMU wrote to the stdio console to our stdout. */
static void relay_console(struct vm_engine *e)
{
	char buf[16384];
	ssize_t n = -1;

	while (e->con_fd >= 0 && (n = read(e->con_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;  /* our stdout is gone; the guest goes on */
			off += w;
		}
	}
	if (e->con_fd >= 0 && n == 0) {
		/* QEMU closed its end: everything is copied. */
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->con_fd, NULL);
		close(e->con_fd);
		e->con_fd = -1;
	}
}

/* Turns one QMP event into a vm_event; returns 1 when *ev is worth reporting. */
static int on_qmp_event(struct vm_engine *e, struct json_object *msg, struct vm_event *ev)
{
	struct json_object *name, *data = NULL, *v;
	const char *n;

	if (!json_object_object_get_ex(msg, "event", &name))
		return 0;
	n = json_object_get_string(name);
	json_object_object_get_ex(msg, "data", &data);
	log_dbg("event %s", n);
	if (!strcmp(n, "SHUTDOWN")) {
		if (data && json_object_object_get_ex(data, "reason", &v))
			snprintf(e->shutdown_reason, sizeof(e->shutdown_reason), "%s",
				 json_object_get_string(v));
		return 0;
	}
	if (!strcmp(n, "GUEST_PANICKED")) {
		e->panicked = true;
		ev->type = VM_EV_PANICKED;
		return 1;
	}
	if (!strcmp(n, "RESET")) {
		ev->type = VM_EV_RESET;
		return 1;
	}
	if (!strcmp(n, "STOP")) {
		ev->type = VM_EV_STOPPED;
		return 1;
	}
	if (!strcmp(n, "RESUME")) {
		ev->type = VM_EV_RESUMED;
		return 1;
	}
	return 0;
}

static enum vm_exit_reason exit_reason(struct vm_engine *e, int status)
{
	char buf[64];
	const char *r = e->shutdown_reason;

	if (e->disk_died)
		return VM_EXIT_CRASH;
	if (e->panicked || !strcmp(r, "guest-panic")) {
		snprintf(e->detail, sizeof(e->detail), "the guest panicked");
		return VM_EXIT_PANIC;
	}
	if (e->host_stop)
		return VM_EXIT_HOST;
	if (!strcmp(r, "guest-shutdown"))
		return VM_EXIT_POWEROFF;
	if (!strcmp(r, "guest-reset"))
		return VM_EXIT_REBOOT;
	snprintf(e->detail, sizeof(e->detail), "QEMU ended (%s%s%s)",
		 spawn_status_str(status, buf, sizeof(buf)), r[0] ? ", shutdown reason " : "", r);
	if (r[0] && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return VM_EXIT_POWEROFF;
	return VM_EXIT_CRASH;
}

/* QEMU is gone: collect its last events, stop the exports, report. */
static void on_qemu_exit(struct vm_engine *e, struct vm_event *ev)
{
	struct json_object *msg;
	struct vm_event dummy;
	int st, r = 0;

	st = hv_reap(e->pid, 5000);
	e->pid = 0;
	relay_console(e);
	while (e->qmp && qmp_next_event(e->qmp, 0, &msg) > 0) {
		on_qmp_event(e, msg, &dummy);
		json_object_put(msg);
	}
	for (unsigned i = 0; i < e->cfg->nr_disks; i++)
		if (qemu_disk_stop(&e->disks[i]))
			r = -EIO;
	ev->type = VM_EV_EXIT;
	ev->exit = exit_reason(e, st < 0 ? 0 : st);
	if (r && ev->exit != VM_EXIT_CRASH)
		log_warn("a disk export did not stop cleanly; check the image");
	snprintf(ev->detail, sizeof(ev->detail), "%s", e->detail);
	e->exited = true;
}

/* The server of disk @i ended on its own or lost its image: the guest
 * cannot be served, the run ends as a crash. */
static void on_disk_exit(struct vm_engine *e, unsigned i)
{
	struct qemu_disk *qd = &e->disks[i];

	epoll_ctl(e->epfd, EPOLL_CTL_DEL, qd->dead_fd, NULL);
	snprintf(e->detail, sizeof(e->detail), "the server of disk '%s' died",
		 e->cfg->disks[i].path);
	log_err("%s; stopping the VM", e->detail);
	e->disk_died = true;
	if (e->pid > 0 && (!e->qmp || qmp_execute(e->qmp, "quit", NULL, NULL, 5000)))
		kill(e->pid, SIGTERM);
}

static int qemu_wait(struct vm_engine *e, int timeout_ms, struct vm_event *ev)
{
	struct epoll_event evs[8];
	struct json_object *msg;
	int n;

	memset(ev, 0, sizeof(*ev));
	if (e->exited)
		return -ECHILD;
	/* Events queued while a command waited for its reply come first. */
	if (e->qmp && qmp_next_event(e->qmp, 0, &msg) > 0) {
		int r = on_qmp_event(e, msg, ev);

		json_object_put(msg);
		if (r)
			return 1;
	}
	n = epoll_wait(e->epfd, evs, 8, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64;

		if (tag == SRC_CONSOLE)
			relay_console(e);
		else if (tag >= SRC_DISK0 && !e->disk_died)
			on_disk_exit(e, (unsigned)(tag - SRC_DISK0));
	}
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 == SRC_QEMU) {
			on_qemu_exit(e, ev);
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 != SRC_QMP)
			continue;
		switch (qmp_next_event(e->qmp, 0, &msg)) {
		case 1: {
			int r = on_qmp_event(e, msg, ev);

			json_object_put(msg);
			return r;
		}
		case -EPIPE:
			/* QEMU closed QMP: it is exiting; its pidfd will tell. */
			epoll_ctl(e->epfd, EPOLL_CTL_DEL, qmp_fd(e->qmp), NULL);
			break;
		default:
			break;
		}
	}
	return 0;
}

static int qmp_simple(struct vm_engine *e, const char *cmd)
{
	int r;

	if (!e->qmp || e->pid <= 0)
		return -ESRCH;
	r = qmp_execute(e->qmp, cmd, NULL, NULL, QMP_TIMEOUT_MS);
	if (r == -EIO)
		log_err("%s: %s", cmd, qmp_error(e->qmp));
	return r;
}

static int qemu_stop(struct vm_engine *e)
{
	if (e->pid <= 0)
		return -ESRCH;
	e->host_stop = true;
	/* quit makes QEMU drain and flush every block device before exiting. */
	if (qmp_simple(e, "quit"))
		kill(e->pid, SIGTERM);
	return 0;
}

static int qemu_pause(struct vm_engine *e)
{
	return qmp_simple(e, "stop");
}

static int qemu_resume(struct vm_engine *e)
{
	return qmp_simple(e, "cont");
}

static int qemu_powerdown(struct vm_engine *e)
{
	return qmp_simple(e, "system_powerdown");
}

static int qemu_status(struct vm_engine *e, struct vm_status *st)
{
	struct json_object *ret = NULL, *v;
	int r;

	memset(st, 0, sizeof(*st));
	st->engine_pid = e->pid;
	snprintf(st->console, sizeof(st->console), "%s", e->console);
	if (e->pid <= 0) {
		snprintf(st->state, sizeof(st->state), "stopped");
		return 0;
	}
	r = qmp_execute(e->qmp, "query-status", NULL, &ret, QMP_TIMEOUT_MS);
	if (r)
		return r;
	if (json_object_object_get_ex(ret, "running", &v))
		st->running = json_object_get_boolean(v);
	if (json_object_object_get_ex(ret, "status", &v))
		snprintf(st->state, sizeof(st->state), "%s", json_object_get_string(v));
	json_object_put(ret);
	return 0;
}

/* The bdev's gate pauses the disk alone: the guest keeps running. */
static int qemu_switch_disk(struct vm_engine *e, unsigned index, const char *file,
			    char *err, size_t errlen)
{
	if (index >= e->cfg->nr_disks || !qemu_disk_running(&e->disks[index])) {
		snprintf(err, errlen, "no disk %u is being served", index);
		return -ENOENT;
	}
	return qemu_disk_switch(&e->disks[index], file, err, errlen);
}

static int qemu_disk_stats_op(struct vm_engine *e, unsigned index, struct bdev_stats *out)
{
	if (index >= e->cfg->nr_disks)
		return -ENOENT;
	return qemu_disk_stats(&e->disks[index], out);
}

static int qemu_disk_limit_op(struct vm_engine *e, unsigned index, const struct rl_limits *lim)
{
	if (index >= e->cfg->nr_disks)
		return -ENOENT;
	return qemu_disk_limit(&e->disks[index], lim);
}

const struct vm_engine_ops vm_qemu_engine = {
	.name = "qemu",
	.create = qemu_create,
	.start = qemu_start,
	.poll_fd = qemu_poll_fd,
	.wait = qemu_wait,
	.stop = qemu_stop,
	.pause = qemu_pause,
	.resume = qemu_resume,
	.powerdown = qemu_powerdown,
	.status = qemu_status,
	.switch_disk = qemu_switch_disk,
	.disk_stats = qemu_disk_stats_op,
	.disk_limit = qemu_disk_limit_op,
	.destroy = qemu_destroy,
};
