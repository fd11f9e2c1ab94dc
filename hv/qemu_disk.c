/* hv/qemu_disk.c: with the NBD transport (the default) each disk of a
 * QEMU guest is an NBD export of our own (`vhd serve`, blkback) on a
 * private Unix socket in the VM's run folder, so that VHD chains are read
 * by our stack, not by QEMU's vpc driver. The vhost-user transport serves
 * them from this process instead (hv/qemu_disk_vu.c). */
#include "hv/qemu_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#define LOG_TAG "disk"
#include "common/log.h"
#include "common/usock.h"
#include "hv/hv_int.h"

#define DISK_READY_MS  15000
#define DISK_SWITCH_MS 120000   /* a switch flushes the old top first */

static bool sock_accepts(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

int qemu_disk_start(struct qemu_disk *qd, const struct vm_disk *d, unsigned index,
		    const char *run_dir, const char *vhd_tool)
{
	const char *argv[10];
	const char *base = strrchr(d->path, '/');
	long long deadline;
	char buf[64];
	int n = 0, r;

	base = base ? base + 1 : d->path;
	qd->pid = 0;
	qd->pidfd = -1;
	qd->read_only = d->read_only;
	if ((size_t)snprintf(qd->sock, sizeof(qd->sock), "%s/disk%u.sock", run_dir, index) >=
		    sizeof(qd->sock) ||
	    strlen(qd->sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		log_err("run folder path too long for a socket: %s", run_dir);
		return -ENAMETOOLONG;
	}
	snprintf(qd->ctl, sizeof(qd->ctl), "%s/disk%u.ctl", run_dir, index);
	if (strlen(base) >= sizeof(qd->export_name) || strchr(base, ',')) {
		log_err("disk '%s': its file name cannot be an NBD export name", d->path);
		return -EINVAL;
	}
	strcpy(qd->export_name, base);

	argv[n++] = vhd_tool;
	argv[n++] = "serve";
	argv[n++] = "--socket";
	argv[n++] = qd->sock;
	argv[n++] = "--control";
	argv[n++] = qd->ctl;
	if (d->read_only)
		argv[n++] = "--read-only";
	if (d->snapshot)
		argv[n++] = "--snapshot";
	argv[n++] = d->path;
	argv[n] = NULL;
	/* SIGTERM on our death: the export flushes and exits. */
	r = hv_spawn(argv, NULL, 0, true, SIGTERM, &qd->pid, &qd->pidfd);
	if (r) {
		log_err("cannot start the disk export '%s serve': %s", vhd_tool, strerror(-r));
		return r;
	}
	deadline = hv_now_ms() + DISK_READY_MS;
	while (!sock_accepts(qd->sock)) {
		struct pollfd p = { .fd = qd->pidfd, .events = POLLIN };

		if (poll(&p, 1, 20) > 0) {
			int st = hv_reap(qd->pid, 1000);

			qd->pid = 0;
			log_err("disk '%s': its NBD export exited (%s) before serving",
				d->path, st >= 0 ? hv_status_str(st, buf, sizeof(buf)) : "?");
			close(qd->pidfd);
			qd->pidfd = -1;
			return -EIO;
		}
		if (hv_now_ms() > deadline) {
			log_err("disk '%s': its NBD export did not come up within %d s",
				d->path, DISK_READY_MS / 1000);
			qemu_disk_stop(qd, 1000);
			return -ETIMEDOUT;
		}
	}
	log_dbg("disk %u '%s' served on %s (pid %d)", index, d->path, qd->sock, (int)qd->pid);
	return 0;
}

int qemu_disk_stop(struct qemu_disk *qd, int timeout_ms)
{
	char buf[64];
	int st, r = 0;

	if (qd->vu)
		r = qemu_disk_stop_vu(qd);
	if (qd->pid > 0) {
		kill(qd->pid, SIGTERM);
		st = hv_reap(qd->pid, timeout_ms);
		if (st == -ETIMEDOUT) {
			log_warn("disk export %d did not stop in time; killing it", (int)qd->pid);
			kill(qd->pid, SIGKILL);
			st = hv_reap(qd->pid, 5000);
		}
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			if (st >= 0)
				log_warn("disk export %d ended with %s", (int)qd->pid,
					 hv_status_str(st, buf, sizeof(buf)));
			r = -EIO;
		}
		qd->pid = 0;
	}
	if (qd->pidfd >= 0) {
		close(qd->pidfd);
		qd->pidfd = -1;
	}
	if (qd->sock[0])
		unlink(qd->sock);
	if (qd->ctl[0])
		unlink(qd->ctl);
	return r;
}

int qemu_disk_switch(struct qemu_disk *qd, const char *file, char *err, size_t errlen)
{
	struct json_object *req, *rep, *v;
	char line[4096];
	int r;

	if (qd->pid <= 0)
		return snprintf(err, errlen, "the disk's export is not running"), -ESRCH;
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("switch"));
	json_object_object_add(req, "file", json_object_new_string(file));
	r = usock_request(qd->ctl, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
			  line, sizeof(line), DISK_SWITCH_MS);
	json_object_put(req);
	if (r) {
		snprintf(err, errlen, "the disk's export does not answer on %s: %s", qd->ctl,
			 strerror(-r));
		return r;
	}
	rep = json_tokener_parse(line);
	if (rep && json_object_object_get_ex(rep, "ok", &v) && json_object_get_boolean(v)) {
		json_object_put(rep);
		return 0;
	}
	if (rep && json_object_object_get_ex(rep, "error", &v))
		snprintf(err, errlen, "%s", json_object_get_string(v));
	else
		snprintf(err, errlen, "the disk's export answered: %.200s", line);
	json_object_put(rep);
	return -EIO;
}
