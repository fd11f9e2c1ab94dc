/* appliance/ws_bridge.c: one WebSocket session bridged to a stream
 * socket, on the caller's thread, with poll(). */
#include "appliance/ws_bridge.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "appliance/ws.h"

#define RX_CAP (WS_HEAD_MAX + WS_FRAME_MAX)
#define CON_CHUNK 16384

struct bridge {
	int ws, con, stop;
	uint8_t *rx;            /* client bytes not yet parsed */
	size_t rx_len;
	struct ws_rx rules;
	uint16_t sent;          /* close code we sent, 0 none */
};

/* Writes all of @buf to @fd without blocking the session for good: waits
 * for room with poll(), gives up after @timeout_ms without progress (-1:
 * never) and when the daemon stops (-ECANCELED). */
static int send_all(struct bridge *b, int fd, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;

	while (len) {
		struct pollfd pf[2] = {
			{ .fd = fd, .events = POLLOUT },
			{ .fd = b->stop, .events = POLLIN },
		};
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int k;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return n == 0 ? -EPIPE : -errno;
		k = poll(pf, b->stop >= 0 ? 2 : 1, timeout_ms);
		if (k < 0 && errno != EINTR)
			return -errno;
		if (k == 0)
			return -ETIMEDOUT;
		if (k > 0 && b->stop >= 0 && pf[1].revents)
			return -ECANCELED;
	}
	return 0;
}

static int send_ws(struct bridge *b, const void *buf, size_t len)
{
	return send_all(b, b->ws, buf, len, WS_BRIDGE_SEND_TIMEOUT_S * 1000);
}

static int send_frame(struct bridge *b, uint8_t op, const void *payload, size_t len)
{
	uint8_t head[WS_HEAD_MAX];
	size_t h = ws_frame_head(head, op, true, len);
	int r = send_ws(b, head, h);

	return r ? r : send_ws(b, payload, len);
}

/* Sends a close with @code (and ends the session: the caller returns). */
static int send_close(struct bridge *b, uint16_t code)
{
	uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	b->sent = code;
	return send_frame(b, WS_OP_CLOSE, p, code == 1005 ? 0 : 2);
}

/* Handles one whole frame; 1 when the session is over. */
static int on_frame(struct bridge *b, const struct ws_frame *f)
{
	uint16_t code;
	int r;

	if (ws_rx_frame(&b->rules, f, &code)) {
		r = send_close(b, code);
		return r ? r : 1;
	}
	switch (f->opcode) {
	case WS_OP_PING:
		return send_frame(b, WS_OP_PONG, f->payload, f->len);
	case WS_OP_PONG:
		return 0;
	case WS_OP_CLOSE:
		/* echo the client's code (1005 "none" goes back empty) */
		r = send_close(b, ws_close_payload_code(f));
		return r ? r : 1;
	default:
		/* the guest takes input at its own pace: no timeout */
		return send_all(b, b->con, f->payload, f->len, -1);
	}
}

/* Parses and handles the whole frames in the buffer; 1 when over. */
static int on_client_bytes(struct bridge *b)
{
	size_t off = 0;
	int r = 0;

	while (off < b->rx_len) {
		struct ws_frame f;
		size_t used;
		uint16_t code;

		r = ws_frame_parse(b->rx + off, b->rx_len - off, &f, &used, &code);
		if (r == -EAGAIN) {
			r = 0;
			break;
		}
		if (r) {
			r = send_close(b, code);
			r = r ? r : 1;
			break;
		}
		off += used;
		r = on_frame(b, &f);
		if (r)
			break;
	}
	memmove(b->rx, b->rx + off, b->rx_len - off);
	b->rx_len -= off;
	return r;
}

static int from_client(struct bridge *b)
{
	ssize_t n = recv(b->ws, b->rx + b->rx_len, RX_CAP - b->rx_len, 0);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 1;       /* gone without a close */
	b->rx_len += (size_t)n;
	return on_client_bytes(b);
}

static int from_console(struct bridge *b)
{
	uint8_t buf[CON_CHUNK];
	ssize_t n = recv(b->con, buf, sizeof(buf), 0);
	int r;

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0) {
		r = send_close(b, WS_CLOSE_NORMAL);
		return r ? r : 1;
	}
	return send_frame(b, WS_OP_BINARY, buf, (size_t)n);
}

int ws_bridge_run(int ws, int con, int stop_fd, const void *pre, size_t npre, uint16_t *sent)
{
	struct bridge b = { .ws = ws, .con = con, .stop = stop_fd };
	int r = 0;

	*sent = 0;
	b.rx = malloc(RX_CAP);
	if (!b.rx)
		return -ENOMEM;
	ws_rx_init(&b.rules);
	if (npre) {
		if (npre > RX_CAP) {
			r = send_close(&b, WS_CLOSE_TOO_BIG);
			goto out;
		}
		memcpy(b.rx, pre, npre);
		b.rx_len = npre;
		r = on_client_bytes(&b);
	}
	while (!r) {
		struct pollfd p[3] = {
			{ .fd = ws, .events = POLLIN },
			{ .fd = con, .events = POLLIN },
			{ .fd = stop_fd, .events = POLLIN },
		};

		if (poll(p, stop_fd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (stop_fd >= 0 && p[2].revents) {
			r = send_close(&b, WS_CLOSE_GOING_AWAY);
			break;
		}
		if (p[0].revents)
			r = from_client(&b);
		if (!r && p[1].revents)
			r = from_console(&b);
	}
out:
	if (r == -ECANCELED && !b.sent) {
		/* stopped while waiting to write: a best-effort goodbye */
		uint8_t f[4] = { 0x88, 2, WS_CLOSE_GOING_AWAY >> 8, WS_CLOSE_GOING_AWAY & 0xff };

		if (send(ws, f, sizeof(f), MSG_NOSIGNAL | MSG_DONTWAIT) == sizeof(f))
			b.sent = WS_CLOSE_GOING_AWAY;
		r = 0;
	}
	*sent = b.sent;
	free(b.rx);
	return r < 0 ? r : 0;
}
