/* appliance/ws.h: WebSocket framing (RFC 6455) for the server's side of a
 * connection: the handshake's accept key, the frames a client sends
 * (always masked) parsed and unmasked in place, the rules across frames
 * (fragmentation, control frames, UTF-8 of text messages, size limits),
 * and the headers of the frames we send (never masked). No I/O here: the
 * bridge (ws_bridge.h) moves the bytes. A frame that breaks a rule gets
 * a close code (WS_CLOSE_*), never a crash.
 */
#ifndef VV_APPLIANCE_WS_H
#define VV_APPLIANCE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_ACCEPT_LEN 28        /* base64 of a SHA-1 */
#define WS_HEAD_MAX 14          /* 2 + 8 (length) + 4 (mask) */
#define WS_CONTROL_MAX 125      /* a control frame's payload */
#define WS_FRAME_MAX (64 * 1024)        /* a client frame's payload */
#define WS_MESSAGE_MAX (1024 * 1024)    /* a client message, all fragments */

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_BAD_DATA = 1007,       /* a text message that is not UTF-8 */
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

/* Sec-WebSocket-Accept for the client's Sec-WebSocket-Key @key: base64 of
 * SHA-1(key + the RFC's GUID), into @out (WS_ACCEPT_LEN + 1 bytes). The
 * key must be the base64 of 16 bytes (24 characters); -EINVAL otherwise. */
int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* One frame from a client. */
struct ws_frame {
	bool fin;
	uint8_t opcode;
	size_t len;
	uint8_t *payload;       /* inside the parsed buffer, unmasked */
};

/* Parses the frame at the start of @buf (@len bytes) and unmasks its
 * payload in place. 0 with *@used (the frame's size) and @f filled;
 * -EAGAIN when the buffer holds only part of a frame (read more; no
 * byte of @buf changed); -EPROTO when the frame breaks a rule that shows
 * in its header (reserved bits, unknown opcode, no mask, a control frame
 * fragmented or over 125 bytes, a length not in its shortest form or with
 * the top bit set), -EMSGSIZE when its payload exceeds WS_FRAME_MAX: the
 * close code to send is in *@code. */
int ws_frame_parse(uint8_t *buf, size_t len, struct ws_frame *f, size_t *used, uint16_t *code);

/* The rules across a client's frames: a fragmented message is one data
 * frame and continuations up to the one with fin; control frames may
 * come between them. */
struct ws_rx {
	uint8_t msg_op;         /* opcode of the message in progress, 0 none */
	size_t msg_len;         /* its bytes so far */
	uint8_t utf8_need;      /* continuation bytes the text still owes */
	uint8_t utf8_lo, utf8_hi;       /* bounds of the next one */
};

void ws_rx_init(struct ws_rx *rx);

/* Checks @f (from ws_frame_parse()) against the frames before it: 0 when
 * it is fine (data frames: their payload is the message's next bytes);
 * -EPROTO with a close code in *@code otherwise (a continuation without
 * a message, a new message before the last one's fin, text that is not
 * UTF-8 (1007), a message over WS_MESSAGE_MAX (1009), a close frame with
 * a one-byte payload, a code not allowed on the wire or a reason that is
 * not UTF-8). */
int ws_rx_frame(struct ws_rx *rx, const struct ws_frame *f, uint16_t *code);

/* The close code of a close frame's payload (1005 "none" when empty);
 * call after ws_rx_frame() accepted it. */
uint16_t ws_close_payload_code(const struct ws_frame *f);

/* Writes the header of a server frame (unmasked) with @opcode, @fin and a
 * payload of @len bytes to @out; returns its size (2, 4 or 10). */
size_t ws_frame_head(uint8_t out[WS_HEAD_MAX], uint8_t opcode, bool fin, uint64_t len);

/* True when @s (@len bytes) is whole, valid UTF-8. */
bool ws_utf8_valid(const uint8_t *s, size_t len);

#endif
