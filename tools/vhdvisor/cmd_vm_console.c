/* tools/vhdvisor/cmd_vm_console.c: `vhdvisor vm console NAME [--follow|--dump]`.
 *
 * The runtime of a started VM serves its serial port on
 * RUN/NAME.console.sock (0600, one client at a time) and logs everything
 * the guest printed to RUN/NAME.console (images/vmrun.h). On a terminal
 * `vm console NAME` attaches to the socket: the terminal goes to raw mode,
 * keys go to the guest, Ctrl-] detaches (the guest keeps running).
 * Otherwise, or with --dump, it prints the log; --follow prints the log
 * and then what the guest prints next, until the VM stops or Ctrl-C.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "images/vmrun.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

#define CONSOLE_DETACH 0x1d        /* Ctrl-] */
#define FOLLOW_POLL_MS 200

/* Writes all of @buf to @fd (a socket: no SIGPIPE); false when it failed. */
static bool write_all(int fd, const char *buf, size_t len, bool sock)
{
	while (len) {
		ssize_t n = sock ? send(fd, buf, len, MSG_NOSIGNAL) : write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Copies what is left of @fd to stdout; false when stdout failed. */
static bool drain(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (!write_all(STDOUT_FILENO, buf, (size_t)n, false))
			return false;
	return true;
}

static int open_log(const char *name, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		log_err("no console of %s (%s): %s", name, path, strerror(errno));
	return fd;
}

/* The log, then (follow) what comes next while the VM runs. A new start
 * of the VM makes a new log file: follow moves on to it. */
static int console_log(const char *name, bool follow)
{
	char path[4200];
	struct stat now, cur;
	int fd;

	if (vmrec_run_path(name, "console", path, sizeof(path)))
		return CLI_FAIL;
	fd = open_log(name, path);
	if (fd < 0)
		return CLI_FAIL;
	for (;;) {
		bool running = follow && vmrec_running(name);

		if (!drain(fd))
			break;
		if (!running)
			break;	/* drained after it stopped: all of it */
		if (!stat(path, &now) && !fstat(fd, &cur) && now.st_ino != cur.st_ino) {
			int nfd = open(path, O_RDONLY | O_CLOEXEC);

			if (nfd >= 0) {
				drain(fd);
				close(fd);
				fd = nfd;
				continue;
			}
		}
		poll(NULL, 0, FOLLOW_POLL_MS);
	}
	close(fd);
	return CLI_OK;
}

static int connect_console(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (vmrec_run_path(name, "console.sock", sa.sun_path, sizeof(sa.sun_path))) {
		log_err("%s: console socket path too long", name);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	if (!vmrec_running(name))
		log_err("%s is not running", name);
	else
		log_err("cannot attach to the console of %s (%s): %s (its log: "
			"vhdvisor vm console %s --dump)", name, sa.sun_path, strerror(errno), name);
	close(fd);
	return -1;
}

/* Relays between the terminal and the console socket @sock until Ctrl-]
 * (returns 1), the end of stdin (1) or the VM closing the console (0). */
static int relay(int sock)
{
	struct pollfd p[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = sock, .events = POLLIN },
	};
	char buf[4096];

	for (;;) {
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents) {
			n = read(sock, buf, sizeof(buf));
			if (n <= 0)
				return 0;
			if (!write_all(STDOUT_FILENO, buf, (size_t)n, false))
				return -1;
		}
		if (p[0].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				return 1;
			esc = memchr(buf, CONSOLE_DETACH, (size_t)n);
			if (!write_all(sock, buf, esc ? (size_t)(esc - buf) : (size_t)n, true))
				return 0;
			if (esc)
				return 1;
		}
	}
}

static int console_attach(const char *name)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved);
	int sock, r;

	sock = connect_console(name);
	if (sock < 0)
		return CLI_FAIL;
	fprintf(stderr, "Connected to %s (detach: Ctrl-])\r\n", name);
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	r = relay(sock);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	close(sock);
	if (r < 0) {
		log_err("console of %s: %s", name, strerror(errno));
		return CLI_FAIL;
	}
	fprintf(stderr, r ? "\nDetached from %s\n" : "\n%s stopped\n", name);
	return CLI_OK;
}

int cmd_vm_console(const char *name, bool follow, bool dump)
{
	if (follow && dump) {
		log_err("vm console: --follow or --dump, not both");
		return CLI_USAGE;
	}
	if (dump || follow || !isatty(STDOUT_FILENO))
		return console_log(name, follow);
	return console_attach(name);
}
