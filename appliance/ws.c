/* appliance/ws.c: WebSocket framing, RFC 6455 sections 4.2.2 (accept key),
 * 5.2 (frame layout), 5.4 (fragmentation), 5.5 (control frames), 7.4
 * (close codes) and 8.1 (UTF-8 of text). */
#include "appliance/ws.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN 24           /* base64 of 16 bytes, "==" at the end */

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char cat[WS_KEY_LEN + sizeof(WS_GUID)];
	unsigned char md[SHA_DIGEST_LENGTH];
	size_t i;

	if (!key || strlen(key) != WS_KEY_LEN || strcmp(key + 22, "=="))
		return -EINVAL;
	for (i = 0; i < 22; i++)
		if (!b64_char(key[i]))
			return -EINVAL;
	/* 16 bytes end at the 4 high bits of the 22nd character */
	if (!strchr("AQgw", key[21]))
		return -EINVAL;
	memcpy(cat, key, WS_KEY_LEN);
	memcpy(cat + WS_KEY_LEN, WS_GUID, sizeof(WS_GUID) - 1);
	SHA1(cat, WS_KEY_LEN + sizeof(WS_GUID) - 1, md);
	if (EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH) != WS_ACCEPT_LEN)
		return -EIO;
	return 0;
}

static bool op_known(uint8_t op)
{
	return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

static int refuse(uint16_t *code, uint16_t c, int err)
{
	*code = c;
	return err;
}

int ws_frame_parse(uint8_t *buf, size_t len, struct ws_frame *f, size_t *used, uint16_t *code)
{
	uint64_t plen;
	size_t head = 2, i;
	uint8_t *mask;

	if (len < 2)
		return -EAGAIN;
	f->fin = buf[0] & 0x80;
	f->opcode = buf[0] & 0x0f;
	if (buf[0] & 0x70)
		return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);   /* no extension agreed */
	if (!op_known(f->opcode))
		return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);
	if (!(buf[1] & 0x80))
		return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);   /* clients mask */
	plen = buf[1] & 0x7f;
	if ((f->opcode & 0x8) && (!f->fin || plen > WS_CONTROL_MAX))
		return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);
	if (plen == 126) {
		if (len < 4)
			return -EAGAIN;
		plen = (uint64_t)buf[2] << 8 | buf[3];
		head = 4;
		if (plen < 126)
			return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);
	} else if (plen == 127) {
		if (len < 10)
			return -EAGAIN;
		plen = 0;
		for (i = 2; i < 10; i++)
			plen = plen << 8 | buf[i];
		head = 10;
		if (plen >> 63 || plen <= 0xffff)
			return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);
	}
	if (plen > WS_FRAME_MAX)
		return refuse(code, WS_CLOSE_TOO_BIG, -EMSGSIZE);
	if (len < head + 4 + plen)
		return -EAGAIN;
	mask = buf + head;
	f->payload = buf + head + 4;
	f->len = (size_t)plen;
	for (i = 0; i < f->len; i++)
		f->payload[i] ^= mask[i & 3];
	*used = head + 4 + f->len;
	return 0;
}

void ws_rx_init(struct ws_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

/* Feeds @len bytes of text to the UTF-8 state of @rx (a sequence may
 * span frames); false at the first byte that cannot be there. */
static bool utf8_feed(struct ws_rx *rx, const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t b = s[i];

		if (rx->utf8_need) {
			if (b < rx->utf8_lo || b > rx->utf8_hi)
				return false;
			rx->utf8_need--;
			rx->utf8_lo = 0x80;
			rx->utf8_hi = 0xbf;
			continue;
		}
		rx->utf8_lo = 0x80;
		rx->utf8_hi = 0xbf;
		if (b < 0x80)
			continue;
		if (b >= 0xc2 && b <= 0xdf) {
			rx->utf8_need = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			rx->utf8_need = 2;
			if (b == 0xe0)
				rx->utf8_lo = 0xa0;     /* overlong */
			else if (b == 0xed)
				rx->utf8_hi = 0x9f;     /* surrogates */
		} else if (b >= 0xf0 && b <= 0xf4) {
			rx->utf8_need = 3;
			if (b == 0xf0)
				rx->utf8_lo = 0x90;     /* overlong */
			else if (b == 0xf4)
				rx->utf8_hi = 0x8f;     /* past U+10FFFF */
		} else {
			return false;
		}
	}
	return true;
}

bool ws_utf8_valid(const uint8_t *s, size_t len)
{
	struct ws_rx rx;

	ws_rx_init(&rx);
	return utf8_feed(&rx, s, len) && !rx.utf8_need;
}

/* Codes a peer may send (7.4.1, 7.4.2): 1000-1003, 1007-1011, 3000-4999. */
static bool close_code_ok(uint16_t c)
{
	return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) || (c >= 3000 && c <= 4999);
}

uint16_t ws_close_payload_code(const struct ws_frame *f)
{
	return f->len >= 2 ? (uint16_t)(f->payload[0] << 8 | f->payload[1]) : 1005;
}

static int rx_control(const struct ws_frame *f, uint16_t *code)
{
	if (f->opcode != WS_OP_CLOSE || !f->len)
		return 0;
	if (f->len == 1 || !close_code_ok(ws_close_payload_code(f)))
		return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);
	if (!ws_utf8_valid(f->payload + 2, f->len - 2))
		return refuse(code, WS_CLOSE_BAD_DATA, -EPROTO);
	return 0;
}

int ws_rx_frame(struct ws_rx *rx, const struct ws_frame *f, uint16_t *code)
{
	if (f->opcode & 0x8)
		return rx_control(f, code);
	if (f->opcode == WS_OP_CONT) {
		if (!rx->msg_op)
			return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);
	} else {
		if (rx->msg_op)
			return refuse(code, WS_CLOSE_PROTOCOL, -EPROTO);
		rx->msg_op = f->opcode;
		rx->msg_len = 0;
		rx->utf8_need = 0;
	}
	if (f->len > WS_MESSAGE_MAX - rx->msg_len)
		return refuse(code, WS_CLOSE_TOO_BIG, -EPROTO);
	rx->msg_len += f->len;
	if (rx->msg_op == WS_OP_TEXT &&
	    (!utf8_feed(rx, f->payload, f->len) || (f->fin && rx->utf8_need)))
		return refuse(code, WS_CLOSE_BAD_DATA, -EPROTO);
	if (f->fin)
		rx->msg_op = 0;
	return 0;
}

size_t ws_frame_head(uint8_t out[WS_HEAD_MAX], uint8_t opcode, bool fin, uint64_t len)
{
	int i;

	out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}
