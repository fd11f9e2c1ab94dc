/* hv/qmp.h: a small client of QEMU's machine protocol (QMP), private to the
 * QEMU engine; nothing above hv/ speaks QMP.
 *
 * One connection per struct qmp; single-threaded. Commands are synchronous;
 * events that arrive while waiting for a reply are queued and handed out by
 * qmp_next_event() in order.
 */
#ifndef VV_HV_QMP_H
#define VV_HV_QMP_H

#include <json-c/json.h>

struct qmp;

/* Takes ownership of @fd, a connected stream socket to QEMU's QMP monitor;
 * reads the greeting and negotiates capabilities within @timeout_ms.
 * Returns 0 and the client, or -errno (fd closed either way on failure). */
int qmp_create(int fd, int timeout_ms, struct qmp **out);
/* Closes the connection; accepts NULL. */
void qmp_destroy(struct qmp *q);
/* The socket, to poll for readability (events or EOF). */
int qmp_fd(const struct qmp *q);

/* Runs @cmd with @args (a JSON object or NULL; ownership taken). Waits up
 * to @timeout_ms for the reply. Returns 0 and, when @ret is not NULL, the
 * "return" value (caller puts it); -EIO when QEMU answered with an error
 * (its description in qmp_error()), -ETIMEDOUT, -EPIPE when QEMU went away. */
int qmp_execute(struct qmp *q, const char *cmd, struct json_object *args,
		struct json_object **ret, int timeout_ms);

/* The next event (a JSON object with "event" and maybe "data"): waits up to
 * @timeout_ms. Returns 1 and *ev (caller puts), 0 when none came, -EPIPE at
 * end of stream, or -errno. */
int qmp_next_event(struct qmp *q, int timeout_ms, struct json_object **ev);

/* The description of the last error reply. */
const char *qmp_error(const struct qmp *q);

#endif
