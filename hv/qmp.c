/* hv/qmp.c: QMP client: greeting, capabilities, synchronous commands,
 * queued events. Messages are one JSON object per line. */
#include "hv/qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hv/hv_int.h"

#define QMP_LINE_MAX (1u << 20)
#define QMP_QUEUE_MAX 256

struct qmp {
	int fd;
	bool eof;
	char *buf;              /* bytes read, not yet split into lines */
	size_t len, cap;
	struct json_object *queue[QMP_QUEUE_MAX]; /* events, oldest first */
	unsigned qhead, qlen;
	unsigned long next_id;
	char error[256];
};

int qmp_fd(const struct qmp *q)
{
	return q->fd;
}

const char *qmp_error(const struct qmp *q)
{
	return q->error;
}

void qmp_destroy(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	while (q->qlen) {
		json_object_put(q->queue[q->qhead]);
		q->qhead = (q->qhead + 1) % QMP_QUEUE_MAX;
		q->qlen--;
	}
	free(q->buf);
	free(q);
}

/* Reads what the socket has, waiting up to @timeout_ms for something.
 * 1 = got bytes, 0 = timeout, -EPIPE = EOF, -errno. */
static int qmp_fill(struct qmp *q, int timeout_ms)
{
	struct pollfd p = { .fd = q->fd, .events = POLLIN };
	ssize_t n;
	int r;

	if (q->eof)
		return -EPIPE;
	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return 0;
	if (q->cap - q->len < 4096) {
		size_t cap = q->cap ? q->cap * 2 : 16384;
		char *nb;

		if (cap > QMP_LINE_MAX)
			return -EPROTO;
		nb = realloc(q->buf, cap);
		if (!nb)
			return -ENOMEM;
		q->buf = nb;
		q->cap = cap;
	}
	n = read(q->fd, q->buf + q->len, q->cap - q->len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		q->eof = true;
		return -EPIPE;
	}
	q->len += (size_t)n;
	return 1;
}

/* Takes one complete line out of the buffer and parses it: 1 and *msg,
 * 0 when no full line is buffered, -EPROTO on bad JSON. */
static int qmp_take_line(struct qmp *q, struct json_object **msg)
{
	char *nl = memchr(q->buf, '\n', q->len);
	size_t n;

	if (!nl)
		return 0;
	*nl = '\0';
	n = (size_t)(nl - q->buf) + 1;
	*msg = json_tokener_parse(q->buf);
	memmove(q->buf, q->buf + n, q->len - n);
	q->len -= n;
	if (!*msg || !json_object_is_type(*msg, json_type_object)) {
		json_object_put(*msg);
		return -EPROTO;
	}
	return 1;
}

/* The next message, waiting until @deadline (ms, monotonic). */
static int qmp_read_msg(struct qmp *q, long long deadline, struct json_object **msg)
{
	for (;;) {
		long long left;
		int r = q->buf ? qmp_take_line(q, msg) : 0;

		if (r)
			return r;
		left = deadline - hv_now_ms();
		if (left < 0)
			left = 0;
		r = qmp_fill(q, (int)left);
		if (r < 0)
			return r;
		if (r == 0 && left == 0)
			return -ETIMEDOUT;
	}
}

static int qmp_queue_event(struct qmp *q, struct json_object *ev)
{
	if (q->qlen == QMP_QUEUE_MAX) {
		json_object_put(ev);
		return -ENOBUFS;
	}
	q->queue[(q->qhead + q->qlen) % QMP_QUEUE_MAX] = ev;
	q->qlen++;
	return 0;
}

int qmp_execute(struct qmp *q, const char *cmd, struct json_object *args,
		struct json_object **ret, int timeout_ms)
{
	long long deadline = hv_now_ms() + timeout_ms;
	struct json_object *req = json_object_new_object();
	struct json_object *msg, *v;
	unsigned long id = ++q->next_id;
	const char *text;
	size_t len, off = 0;
	int r;

	json_object_object_add(req, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "arguments", args);
	json_object_object_add(req, "id", json_object_new_int64((int64_t)id));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	while (off < len) {
		ssize_t n = send(q->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			json_object_put(req);
			return -EPIPE;
		}
		off += (size_t)n;
	}
	json_object_put(req);
	if (send(q->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return -EPIPE;

	for (;;) {
		r = qmp_read_msg(q, deadline, &msg);
		if (r < 0)
			return r;
		if (json_object_object_get_ex(msg, "event", NULL)) {
			qmp_queue_event(q, msg);
			continue;
		}
		if (!json_object_object_get_ex(msg, "id", &v) ||
		    (unsigned long)json_object_get_int64(v) != id) {
			json_object_put(msg);
			continue;
		}
		if (json_object_object_get_ex(msg, "error", &v)) {
			struct json_object *desc;

			snprintf(q->error, sizeof(q->error), "%s",
				 json_object_object_get_ex(v, "desc", &desc) ?
				 json_object_get_string(desc) : "unknown error");
			json_object_put(msg);
			return -EIO;
		}
		if (ret) {
			*ret = NULL;
			if (json_object_object_get_ex(msg, "return", &v))
				*ret = json_object_get(v);
		}
		json_object_put(msg);
		return 0;
	}
}

int qmp_next_event(struct qmp *q, int timeout_ms, struct json_object **ev)
{
	long long deadline = hv_now_ms() + timeout_ms;
	struct json_object *msg;
	int r;

	for (;;) {
		if (q->qlen) {
			*ev = q->queue[q->qhead];
			q->qhead = (q->qhead + 1) % QMP_QUEUE_MAX;
			q->qlen--;
			return 1;
		}
		r = qmp_read_msg(q, deadline, &msg);
		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0)
			return r;
		if (json_object_object_get_ex(msg, "event", NULL))
			qmp_queue_event(q, msg);
		else
			json_object_put(msg);  /* a stray reply */
	}
}

int qmp_create(int fd, int timeout_ms, struct qmp **out)
{
	struct qmp *q = calloc(1, sizeof(*q));
	struct json_object *greeting;
	int r;

	if (!q) {
		close(fd);
		return -ENOMEM;
	}
	q->fd = fd;
	r = qmp_read_msg(q, hv_now_ms() + timeout_ms, &greeting);
	if (r < 0)
		goto err;
	r = json_object_object_get_ex(greeting, "QMP", NULL) ? 0 : -EPROTO;
	json_object_put(greeting);
	if (r)
		goto err;
	r = qmp_execute(q, "qmp_capabilities", NULL, NULL, timeout_ms);
	if (r)
		goto err;
	*out = q;
	return 0;
err:
	qmp_destroy(q);
	return r;
}
