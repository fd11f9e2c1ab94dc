/* hv/api.c: the VM control socket (JSON lines over a Unix socket). */
#include "hv/api.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG_TAG "api"
#include "common/log.h"
#include "common/usock.h"

#define API_MAX_CLIENTS 16
#define API_LINE_MAX    4096

struct api_client {
	int fd;             /* -1 = free slot */
	char buf[API_LINE_MAX];
	size_t len;
};

struct vm_api {
	int listen_fd;
	int epfd;
	char path[108];
	vm_api_handler fn;
	void *opaque;
	struct api_client clients[API_MAX_CLIENTS];
};

int vm_api_fd(const struct vm_api *api)
{
	return api->epfd;
}

static void client_close(struct vm_api *api, struct api_client *c)
{
	epoll_ctl(api->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

void vm_api_destroy(struct vm_api *api)
{
	if (!api)
		return;
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		if (api->clients[i].fd >= 0)
			client_close(api, &api->clients[i]);
	if (api->listen_fd >= 0) {
		close(api->listen_fd);
		unlink(api->path);
	}
	if (api->epfd >= 0)
		close(api->epfd);
	free(api);
}

int vm_api_create(const char *path, vm_api_handler fn, void *opaque, struct vm_api **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct vm_api *api;
	int r;

	if (strlen(path) >= sizeof(api->path))
		return -ENAMETOOLONG;
	api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->listen_fd = -1;
	api->fn = fn;
	api->opaque = opaque;
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		api->clients[i].fd = -1;
	api->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (api->epfd < 0) {
		r = -errno;
		goto err;
	}
	r = usock_listen(path, 8, USOCK_NONBLOCK);
	if (r < 0)
		goto err;
	api->listen_fd = r;
	snprintf(api->path, sizeof(api->path), "%s", path);
	if (epoll_ctl(api->epfd, EPOLL_CTL_ADD, api->listen_fd, &ev)) {
		r = -errno;
		goto err;
	}
	*out = api;
	return 0;
err:
	vm_api_destroy(api);
	return r;
}

static void api_accept(struct vm_api *api)
{
	for (;;) {
		int fd = accept4(api->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct api_client *c = NULL;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return;
		for (int i = 0; i < API_MAX_CLIENTS; i++) {
			if (api->clients[i].fd < 0) {
				c = &api->clients[i];
				break;
			}
		}
		if (!c) {
			log_warn("too many API connections; refusing one");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		ev.data.ptr = c;
		if (epoll_ctl(api->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			c->fd = -1;
		}
	}
}

static void reply_error(struct json_object *reply, const char *msg)
{
	json_object_object_add(reply, "ok", json_object_new_boolean(0));
	json_object_object_add(reply, "error", json_object_new_string(msg));
}

/* Answers one line; false when the connection should close. */
static bool api_answer(struct vm_api *api, struct api_client *c, const char *line)
{
	struct json_object *req = json_tokener_parse(line);
	struct json_object *reply = json_object_new_object();
	const char *text;
	size_t len, off = 0;
	bool ok = true;

	if (!req || !json_object_is_type(req, json_type_object))
		reply_error(reply, "request is not a JSON object");
	else
		api->fn(req, reply, api->opaque);
	text = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
					       JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	/* Replies are small; a client that does not read them is dropped. */
	while (off < len) {
		ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n <= 0) {
			ok = false;
			break;
		}
		off += (size_t)n;
	}
	if (ok && send(c->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		ok = false;
	json_object_put(req);
	json_object_put(reply);
	return ok;
}

static void api_read(struct vm_api *api, struct api_client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(api, c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t used = (size_t)(nl - c->buf) + 1;

		*nl = '\0';
		if (!api_answer(api, c, c->buf)) {
			client_close(api, c);
			return;
		}
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	if (c->len == sizeof(c->buf) - 1) {
		log_warn("API request longer than %d bytes; closing", API_LINE_MAX);
		client_close(api, c);
	}
}

void vm_api_serve(struct vm_api *api)
{
	struct epoll_event evs[8];
	int n = epoll_wait(api->epfd, evs, 8, 0);

	for (int i = 0; i < n; i++) {
		struct api_client *c = evs[i].data.ptr;

		if (!c)
			api_accept(api);
		else if (c->fd >= 0)
			api_read(api, c);
	}
}
