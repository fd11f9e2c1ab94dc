/* tools/vhd/serve_control.c: `vhd serve --control`: the control socket,
 * its requests, and the live switch of an export's top layer. */
#define LOG_TAG "control"
#include "tools/vhd/serve_control.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "blkback/bdev.h"
#include "common/log.h"
#include "common/usock.h"

#define CTL_MAX_LINE      (64u << 10)   /* longer request lines: an error, skipped */
#define CTL_MAX_CONNS     16            /* open control connections at once */
#define CTL_SEND_TIMEOUT_S 5            /* a client that does not read is dropped */

struct ctl_export {
	char *name;
	char *path;                     /* the current top */
	struct bdev *dev;
	bool read_only;
	bool snapshot;
};

struct ctl_conn {
	int fd;                         /* -1: slot free */
	char *buf;                      /* CTL_MAX_LINE bytes */
	size_t len;
	bool skipping;                  /* in an overlong line: drop up to '\n' */
};

struct serve_ctl {
	struct ctl_export *exps;
	unsigned nexps;
	char *path;                     /* the socket, removed at stop */
	int lfd;
	int stop[2];                    /* a byte in stop[1] ends the thread */
	pthread_t thread;
	bool running;
	bool failed;                    /* an export lost its image */
	struct ctl_conn conns[CTL_MAX_CONNS];
};

/* ---- replies ---- */

static struct json_object *ctl_ok(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

static struct json_object *ctl_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static struct json_object *ctl_error(const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* ---- switch ---- */

static struct ctl_export *ctl_export_find(struct serve_ctl *ctl, const char *name)
{
	if (!name)
		return ctl->nexps ? &ctl->exps[0] : NULL;
	for (unsigned i = 0; i < ctl->nexps; i++)
		if (!strcmp(ctl->exps[i].name, name))
			return &ctl->exps[i];
	return NULL;
}

static double ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct json_object *ctl_switch(struct serve_ctl *ctl, struct json_object *req)
{
	struct json_object *jf, *jx, *rep;
	const char *name = NULL, *file;
	struct ctl_export *e;
	char err[1024], *path;
	double t0;
	int rc;

	if (!json_object_object_get_ex(req, "file", &jf) || !json_object_is_type(jf, json_type_string))
		return ctl_error("switch: \"file\" (a string) is missing");
	if (json_object_object_get_ex(req, "export", &jx)) {
		if (!json_object_is_type(jx, json_type_string))
			return ctl_error("switch: \"export\" is not a string");
		name = json_object_get_string(jx);
	}
	file = json_object_get_string(jf);
	e = ctl_export_find(ctl, name);
	if (!e)
		return ctl_error("switch: no export named '%s'", name ? name : "");
	if (!*file)
		return ctl_error("switch: \"file\" is empty");
	if (ctl->failed)
		return ctl_error("an export lost its image; exiting");
	if (e->snapshot)
		return ctl_error("export '%s' is a --snapshot export (its writes go to a "
				 "throwaway child)", e->name);
	if (e->read_only)
		return ctl_error("export '%s' is read-only", e->name);
	path = strdup(file);
	if (!path)
		return ctl_error("out of memory");
	t0 = ctl_now_ms();
	rc = bdev_switch_top(e->dev, file, err, sizeof(err));
	if (rc && bdev_failed(e->dev)) {
		free(path);
		ctl->failed = true;
		kill(getpid(), SIGTERM);        /* main() exits with a failure */
		return ctl_error("export '%s': %s: exiting", e->name, err);
	}
	if (rc) {
		free(path);
		log_warn("export '%s': switch to %s failed, still on %s: %s", e->name, file,
			 e->path, err);
		return ctl_error("%s", err);
	}
	log_info("export '%s': top %s -> %s (%.1f ms)", e->name, e->path, path,
		 ctl_now_ms() - t0);
	free(e->path);
	e->path = path;
	rep = ctl_ok();
	json_object_object_add(rep, "file", json_object_new_string(path));
	return rep;
}

/* ---- other requests ---- */

static struct json_object *ctl_flush(struct serve_ctl *ctl)
{
	for (unsigned i = 0; i < ctl->nexps; i++) {
		struct ctl_export *e = &ctl->exps[i];
		int rc = bdev_flush(e->dev);

		if (rc)
			return ctl_error("export '%s': flush failed: %s", e->name, strerror(-rc));
	}
	return ctl_ok();
}

static struct json_object *ctl_info(struct serve_ctl *ctl)
{
	struct json_object *rep = ctl_ok(), *arr = json_object_new_array();

	for (unsigned i = 0; i < ctl->nexps; i++) {
		struct ctl_export *e = &ctl->exps[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_object_add(o, "file", json_object_new_string(e->path));
		json_object_object_add(o, "writable",
				       json_object_new_boolean(!e->read_only && !bdev_failed(e->dev) &&
							       bdev_writable(e->dev)));
		json_object_array_add(arr, o);
	}
	json_object_object_add(rep, "exports", arr);
	return rep;
}

/* Parses one request line (@len bytes, no newline) and runs it. */
static struct json_object *ctl_request(struct serve_ctl *ctl, const char *line, size_t len)
{
	struct json_tokener *tok;
	struct json_object *req, *jc, *rep;
	enum json_tokener_error jerr;
	const char *cmd;
	size_t end;

	if (memchr(line, 0, len))
		return ctl_error("malformed request: NUL byte");
	tok = json_tokener_new();
	if (!tok)
		return ctl_error("out of memory");
	req = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!req || jerr != json_tokener_success) {
		json_object_put(req);
		return ctl_error("malformed request: %s", jerr == json_tokener_continue ?
				 "incomplete JSON" : json_tokener_error_desc(jerr));
	}
	for (; end < len; end++) {
		if (!strchr(" \t\r", line[end])) {
			json_object_put(req);
			return ctl_error("malformed request: data after the JSON object");
		}
	}
	if (!json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return ctl_error("malformed request: not a JSON object");
	}
	if (!json_object_object_get_ex(req, "cmd", &jc) || !json_object_is_type(jc, json_type_string))
		rep = ctl_error("malformed request: no \"cmd\" string");
	else if (!strcmp(cmd = json_object_get_string(jc), "switch"))
		rep = ctl_switch(ctl, req);
	else if (!strcmp(cmd, "flush"))
		rep = ctl_flush(ctl);
	else if (!strcmp(cmd, "info"))
		rep = ctl_info(ctl);
	else
		rep = ctl_error("unknown cmd '%.200s' (switch, flush, info)", cmd);
	json_object_put(req);
	return rep;
}

/* ---- connections ---- */

/* Sends @rep and a newline; frees @rep. 0 or -errno. */
static int ctl_send(int fd, struct json_object *rep)
{
	const char *s = json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s), off = 0;
	char *buf = malloc(len + 1);
	int rc = 0;

	if (!buf) {
		json_object_put(rep);
		return -ENOMEM;
	}
	memcpy(buf, s, len);
	buf[len++] = '\n';
	json_object_put(rep);
	while (off < len) {
		ssize_t r = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)r;
	}
	free(buf);
	return rc;
}

static void ctl_conn_close(struct ctl_conn *c)
{
	close(c->fd);
	free(c->buf);
	*c = (struct ctl_conn){ .fd = -1 };
}

/* Reads what @c sent and answers every complete line (blank lines are
 * skipped). A line longer than CTL_MAX_LINE is answered with an error
 * once and dropped up to its newline. False when the connection is to be
 * closed: EOF, or an error. */
static bool ctl_conn_input(struct serve_ctl *ctl, struct ctl_conn *c)
{
	ssize_t r = recv(c->fd, c->buf + c->len, CTL_MAX_LINE - c->len, 0);
	char *nl;
	int rc = 0;

	if (r < 0 && errno == EINTR)
		return true;
	if (r <= 0)
		return false;
	c->len += (size_t)r;
	while (!rc && (nl = memchr(c->buf, '\n', c->len))) {
		size_t n = (size_t)(nl - c->buf), blank = strspn(c->buf, " \t\r");

		if (c->skipping)
			c->skipping = false;        /* the end of the overlong line */
		else if (blank < n)
			rc = ctl_send(c->fd, ctl_request(ctl, c->buf, n));
		c->len -= n + 1;
		memmove(c->buf, nl + 1, c->len);
	}
	if (!rc && c->len == CTL_MAX_LINE) {
		if (!c->skipping)
			rc = ctl_send(c->fd, ctl_error("request line longer than %u bytes",
						       CTL_MAX_LINE));
		c->skipping = true;
		c->len = 0;
	}
	return !rc;
}

static void ctl_accept(struct serve_ctl *ctl)
{
	struct timeval tv = { .tv_sec = CTL_SEND_TIMEOUT_S };
	struct ctl_conn *c = NULL;
	int fd = accept4(ctl->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (unsigned i = 0; i < CTL_MAX_CONNS && !c; i++)
		if (ctl->conns[i].fd < 0)
			c = &ctl->conns[i];
	if (c)
		c->buf = malloc(CTL_MAX_LINE);
	if (!c || !c->buf) {
		log_warn("control: too many connections; refusing one");
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->len = 0;
}

static void *ctl_thread(void *arg)
{
	struct serve_ctl *ctl = arg;
	struct pollfd pfd[2 + CTL_MAX_CONNS];
	struct ctl_conn *map[2 + CTL_MAX_CONNS];

	for (;;) {
		unsigned n = 2, used = 0;

		pfd[0] = (struct pollfd){ .fd = ctl->stop[0], .events = POLLIN };
		for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
			if (ctl->conns[i].fd < 0)
				continue;
			map[n] = &ctl->conns[i];
			pfd[n++] = (struct pollfd){ .fd = ctl->conns[i].fd, .events = POLLIN };
			used++;
		}
		/* Full: new clients wait in the listen backlog. */
		pfd[1] = (struct pollfd){ .fd = ctl->lfd,
					  .events = used < CTL_MAX_CONNS ? POLLIN : 0 };
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("control: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		for (unsigned i = 2; i < n; i++)
			if (pfd[i].revents && !ctl_conn_input(ctl, map[i]))
				ctl_conn_close(map[i]);
		if (pfd[1].revents & POLLIN)
			ctl_accept(ctl);
	}
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++)
		if (ctl->conns[i].fd >= 0)
			ctl_conn_close(&ctl->conns[i]);
	return NULL;
}

/* ---- start and stop ---- */

static void ctl_free(struct serve_ctl *ctl)
{
	for (unsigned i = 0; i < ctl->nexps; i++) {
		free(ctl->exps[i].name);
		free(ctl->exps[i].path);
	}
	free(ctl->exps);
	if (ctl->lfd >= 0) {
		close(ctl->lfd);
		unlink(ctl->path);
	}
	if (ctl->stop[0] >= 0) {
		close(ctl->stop[0]);
		close(ctl->stop[1]);
	}
	free(ctl->path);
	free(ctl);
}

int serve_ctl_start(const char *path, const struct serve_ctl_export *exps, unsigned n,
		    struct serve_ctl **out)
{
	struct serve_ctl *ctl = calloc(1, sizeof(*ctl));
	int rc = -ENOMEM;

	*out = NULL;
	if (!ctl)
		goto err_log;
	ctl->lfd = ctl->stop[0] = ctl->stop[1] = -1;
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++)
		ctl->conns[i].fd = -1;
	ctl->exps = calloc(n ? n : 1, sizeof(*ctl->exps));
	ctl->path = strdup(path);
	if (!ctl->exps || !ctl->path)
		goto err;
	for (; ctl->nexps < n; ctl->nexps++) {
		struct ctl_export *e = &ctl->exps[ctl->nexps];

		e->name = strdup(exps[ctl->nexps].name);
		e->path = strdup(exps[ctl->nexps].path);
		e->dev = exps[ctl->nexps].dev;
		e->read_only = exps[ctl->nexps].read_only;
		e->snapshot = exps[ctl->nexps].snapshot;
		if (!e->name || !e->path) {
			ctl->nexps++;
			goto err;
		}
	}
	if (pipe2(ctl->stop, O_CLOEXEC) < 0) {
		rc = -errno;
		ctl->stop[0] = ctl->stop[1] = -1;
		goto err;
	}
	rc = usock_listen(path, 16, 0);
	if (rc < 0)
		goto err;
	ctl->lfd = rc;
	rc = -pthread_create(&ctl->thread, NULL, ctl_thread, ctl);
	if (rc)
		goto err;
	ctl->running = true;
	*out = ctl;
	return 0;
err:
	ctl_free(ctl);
err_log:
	log_err("cannot listen for control on %s: %s", path, usock_listen_strerror(rc));
	return rc;
}

int serve_ctl_stop(struct serve_ctl *ctl)
{
	bool failed;

	if (!ctl)
		return 0;
	if (ctl->running) {
		if (write(ctl->stop[1], "x", 1) != 1)
			log_err("control: cannot stop the thread: %s", strerror(errno));
		pthread_join(ctl->thread, NULL);
	}
	failed = ctl->failed;
	ctl_free(ctl);
	return failed ? -EIO : 0;
}
