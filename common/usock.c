/* common/usock.c: line request/reply over a Unix stream socket. */
#include "common/usock.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
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
