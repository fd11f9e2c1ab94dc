/* common/usock.c: claiming a Unix socket path for a server; line
 * request/reply over a Unix stream socket. */
#include "common/usock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for @events on @fd until @deadline. 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r)
			return r;
	}
	return 0;
}

static int recv_line(int fd, char *reply, size_t len, long long deadline)
{
	size_t got = 0;

	for (;;) {
		ssize_t n;
		char *nl;
		int r;

		if (got + 1 >= len)
			return -EMSGSIZE;
		n = recv(fd, reply + got, len - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
			r = wait_fd(fd, POLLIN, deadline);
			if (r)
				return r;
			continue;
		}
		got += (size_t)n;
		reply[got] = '\0';
		nl = memchr(reply + got - (size_t)n, '\n', (size_t)n);
		if (nl) {
			*nl = '\0';
			return 0;
		}
	}
}

int usock_request(const char *path, const char *req, char *reply, size_t len,
		  int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	size_t rl = strlen(req);
	int fd, r;

	if (len < 2)
		return -EMSGSIZE;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a local connect either succeeds or fails at once */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		close(fd);
		return r;
	}
	r = send_all(fd, req, rl, deadline);
	if (!r && (rl == 0 || req[rl - 1] != '\n'))
		r = send_all(fd, "\n", 1, deadline);
	if (!r)
		r = recv_line(fd, reply, len, deadline);
	close(fd);
	return r;
}

/* ---- the server side ---- */

static int usock_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Makes room at @path: 0 when nothing is there (any more), -EEXIST when
 * something other than a socket is, -EADDRINUSE when a server accepts on
 * the socket. A socket that refuses connections is stale and removed. */
static int usock_clear_stale(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	r = usock_addr(&sa, path);
	if (r)
		return r;
	/* non-blocking: a live server with a full backlog answers EAGAIN */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	close(fd);
	if (r == ENOENT)
		return 0;
	if (r != ECONNREFUSED)
		return r == EACCES || r == EPERM ? -r : -EADDRINUSE;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Moves the listening socket @tmp to @path without replacing anything
 * there; 0, -EEXIST (something is there) or -errno. */
static int usock_place(const char *tmp, const char *path)
{
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	/* a file system without RENAME_NOREPLACE: link() never replaces */
	if (link(tmp, path))
		return -errno;
	unlink(tmp);
	return 0;
}

/* Binds @fd under a fresh temporary name beside @path (written to @tmp,
 * @cap bytes), never one that exists already. 0, -ENAMETOOLONG, -errno. */
static int usock_bind_tmp(int fd, const char *path, char *tmp, size_t cap)
{
	struct sockaddr_un sa;
	int r = -EADDRINUSE;

	for (unsigned i = 0; i < 64 && r == -EADDRINUSE; i++) {
		if ((size_t)snprintf(tmp, cap, "%s.%d.%u.tmp", path, (int)getpid(), i) >= cap)
			return -ENAMETOOLONG;
		r = usock_addr(&sa, tmp);
		if (r)
			return r;
		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	}
	return r;
}

int usock_listen(const char *path, int backlog, unsigned flags)
{
	struct sockaddr_un sa;
	char tmp[sizeof(sa.sun_path)];
	int fd, r;

	r = usock_addr(&sa, path);
	if (r)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
			     (flags & USOCK_NONBLOCK ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	r = usock_bind_tmp(fd, path, tmp, sizeof(tmp));
	if (r == -ENAMETOOLONG) {
		/* no room for a temporary name: bind at @path itself (bind
		 * never replaces a file); it listens a moment later */
		r = usock_clear_stale(path);
		if (!r)
			r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
		if (!r && (chmod(path, 0600) || listen(fd, backlog))) {
			r = -errno;
			unlink(path);
		}
		goto out;
	}
	if (r)
		goto out;
	/* nobody can connect before listen(): the mode is set in time */
	if (chmod(tmp, 0600) || listen(fd, backlog)) {
		r = -errno;
		goto out_unlink;
	}
	for (int tries = 0; tries < 8; tries++) {
		r = usock_place(tmp, path);
		if (r != -EEXIST)
			break;
		r = usock_clear_stale(path);
		if (r)
			break;
		r = -EEXIST;
	}
	if (!r)
		return fd;
out_unlink:
	unlink(tmp);
out:
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

const char *usock_listen_strerror(int err)
{
	if (err == -EEXIST)
		return "something that is not a socket is in the way (not replaced)";
	if (err == -EADDRINUSE)
		return "a server is already listening on that socket";
	return strerror(-err);
}
