/* Unit tests for appliance/ws.c (RFC 6455 framing) and ws_bridge.c (a
 * session over socketpairs). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "appliance/ws.h"
#include "appliance/ws_bridge.h"

Test(ws, accept_key_rfc_example)
{
	char out[WS_ACCEPT_LEN + 1];

	/* RFC 6455 section 1.3 */
	cr_assert_eq(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

Test(ws, accept_key_refuses_bad_keys)
{
	char out[WS_ACCEPT_LEN + 1];

	cr_assert_eq(ws_accept_key(NULL, out), -EINVAL);
	cr_assert_eq(ws_accept_key("", out), -EINVAL);
	cr_assert_eq(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out), -EINVAL);     /* 23 */
	cr_assert_eq(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==x", out), -EINVAL);
	cr_assert_eq(ws_accept_key("dGhlIHNhbXBsZSBub25jZ!==", out), -EINVAL);
	cr_assert_eq(ws_accept_key("dGhlIHNhbXBsZSBub25jZR==", out), -EINVAL);    /* 17 bits */
	cr_assert_eq(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=A", out), -EINVAL);
}

/* RFC 6455 5.7: a masked "Hello". */
static const uint8_t hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };

Test(ws, parse_masked_hello_and_every_prefix)
{
	uint8_t buf[sizeof(hello)];
	struct ws_frame f;
	size_t used, n;
	uint16_t code;

	for (n = 0; n < sizeof(hello); n++) {
		memcpy(buf, hello, sizeof(hello));
		cr_assert_eq(ws_frame_parse(buf, n, &f, &used, &code), -EAGAIN, "prefix %zu", n);
		cr_assert_eq(memcmp(buf, hello, sizeof(hello)), 0, "a prefix changed the buffer");
	}
	cr_assert_eq(ws_frame_parse(buf, sizeof(buf), &f, &used, &code), 0);
	cr_assert_eq(used, sizeof(hello));
	cr_assert(f.fin);
	cr_assert_eq(f.opcode, WS_OP_TEXT);
	cr_assert_eq(f.len, 5);
	cr_assert_eq(memcmp(f.payload, "Hello", 5), 0);
}

/* A masked frame (mask 0) of @len payload bytes @fill into @buf, with the
 * length encoded in @form bytes (1, 2 or 8, to test non-minimal forms). */
static size_t mkframe(uint8_t *buf, uint8_t b0, size_t len, int form, uint8_t fill)
{
	size_t n = 0;
	int i;

	buf[n++] = b0;
	if (form == 1) {
		buf[n++] = (uint8_t)(0x80 | len);
	} else if (form == 2) {
		buf[n++] = 0x80 | 126;
		buf[n++] = (uint8_t)(len >> 8);
		buf[n++] = (uint8_t)len;
	} else {
		buf[n++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			buf[n++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	}
	memset(buf + n, 0, 4);
	n += 4;
	memset(buf + n, fill, len);
	return n + len;
}

static int parse(uint8_t *buf, size_t len, struct ws_frame *f, uint16_t *code)
{
	size_t used;

	return ws_frame_parse(buf, len, f, &used, code);
}

Test(ws, parse_lengths_and_their_forms)
{
	static uint8_t buf[WS_HEAD_MAX + WS_FRAME_MAX + 1];
	struct ws_frame f;
	uint16_t code;
	size_t n;

	n = mkframe(buf, 0x82, 300, 2, 7);
	cr_assert_eq(parse(buf, n, &f, &code), 0);
	cr_assert_eq(f.len, 300);
	cr_assert_eq(f.payload[299], 7);
	n = mkframe(buf, 0x82, WS_FRAME_MAX, 8, 1);      /* 65536: the 64-bit form */
	cr_assert_eq(parse(buf, n, &f, &code), 0);
	/* non-minimal lengths */
	n = mkframe(buf, 0x82, 100, 2, 1);
	cr_assert_eq(parse(buf, n, &f, &code), -EPROTO);
	cr_assert_eq(code, WS_CLOSE_PROTOCOL);
	n = mkframe(buf, 0x82, 1000, 8, 1);
	cr_assert_eq(parse(buf, n, &f, &code), -EPROTO);
	/* too large, refused from the header alone */
	n = mkframe(buf, 0x82, WS_FRAME_MAX + 1, 8, 1);
	cr_assert_eq(parse(buf, 10, &f, &code), -EMSGSIZE);
	cr_assert_eq(code, WS_CLOSE_TOO_BIG);
	/* the top bit of a 64-bit length */
	memcpy(buf, (uint8_t[]){ 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1 }, 10);
	cr_assert_eq(parse(buf, 10, &f, &code), -EPROTO);
	memcpy(buf, (uint8_t[]){ 0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 10);
	cr_assert_eq(parse(buf, 10, &f, &code), -EPROTO);
}

Test(ws, parse_refuses_header_rules)
{
	uint8_t buf[256];
	struct ws_frame f;
	uint16_t code;
	size_t n;

	n = mkframe(buf, 0x81, 3, 1, 'a');
	buf[1] &= 0x7f;                                 /* unmasked */
	cr_assert_eq(parse(buf, n, &f, &code), -EPROTO);
	cr_assert_eq(code, WS_CLOSE_PROTOCOL);
	for (uint8_t rsv = 0x10; rsv <= 0x40; rsv <<= 1) {
		n = mkframe(buf, 0x81 | rsv, 3, 1, 'a');
		cr_assert_eq(parse(buf, n, &f, &code), -EPROTO);
	}
	for (uint8_t op = 3; op <= 0xf; op++) {
		if (op >= 8 && op <= 0xa)
			continue;
		n = mkframe(buf, 0x80 | op, 1, 1, 'a');
		cr_assert_eq(parse(buf, n, &f, &code), -EPROTO, "opcode %u", op);
	}
	n = mkframe(buf, WS_OP_PING, 1, 1, 'a');        /* control without fin */
	cr_assert_eq(parse(buf, n, &f, &code), -EPROTO);
	n = mkframe(buf, 0x80 | WS_OP_PING, 126, 2, 'a');       /* control > 125 */
	cr_assert_eq(parse(buf, n, &f, &code), -EPROTO);
	n = mkframe(buf, 0x80 | WS_OP_PING, 125, 1, 'a');
	cr_assert_eq(parse(buf, n, &f, &code), 0);
}

Test(ws, parse_random_bytes_never_overrun)
{
	static uint8_t buf[4096];
	struct ws_frame f;
	size_t used;
	uint16_t code;
	int i, r;

	srand(12345);
	for (i = 0; i < 200000; i++) {
		size_t len = (size_t)rand() % 64, k;

		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)rand();
		r = ws_frame_parse(buf, len, &f, &used, &code);
		cr_assert(r == 0 || r == -EAGAIN || r == -EPROTO || r == -EMSGSIZE);
		if (!r)
			cr_assert(used <= len && f.payload + f.len <= buf + len);
		else if (r != -EAGAIN)
			cr_assert(code == WS_CLOSE_PROTOCOL || code == WS_CLOSE_TOO_BIG);
	}
}

static struct ws_frame fr(uint8_t op, bool fin, const char *s, size_t len)
{
	return (struct ws_frame){ .fin = fin, .opcode = op, .len = len, .payload = (uint8_t *)s };
}

Test(ws, rx_fragmentation_rules)
{
	struct ws_rx rx;
	struct ws_frame f;
	uint16_t code = 0;

	ws_rx_init(&rx);
	f = fr(WS_OP_CONT, true, "a", 1);               /* nothing to continue */
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), -EPROTO);
	cr_assert_eq(code, WS_CLOSE_PROTOCOL);

	ws_rx_init(&rx);
	f = fr(WS_OP_TEXT, false, "ab", 2);
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	f = fr(WS_OP_PING, true, "p", 1);               /* control between fragments */
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	f = fr(WS_OP_BINARY, true, "x", 1);             /* a new message before fin */
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), -EPROTO);

	ws_rx_init(&rx);
	f = fr(WS_OP_TEXT, false, "ab", 2);
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	f = fr(WS_OP_CONT, false, "cd", 2);
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	f = fr(WS_OP_CONT, true, "e", 1);
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	cr_assert_eq(rx.msg_op, 0);
	f = fr(WS_OP_BINARY, true, "\xff", 1);          /* binary: any bytes */
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
}

Test(ws, rx_message_size_limit_across_fragments)
{
	static char big[WS_FRAME_MAX];
	struct ws_rx rx;
	struct ws_frame f;
	uint16_t code = 0;
	size_t i;

	ws_rx_init(&rx);
	f = fr(WS_OP_BINARY, false, big, sizeof(big));
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	f.opcode = WS_OP_CONT;
	for (i = 1; i < WS_MESSAGE_MAX / WS_FRAME_MAX; i++)
		cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	f = fr(WS_OP_CONT, true, big, 1);
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), -EPROTO);
	cr_assert_eq(code, WS_CLOSE_TOO_BIG);
}

static int text(const char *const *parts, size_t n)
{
	struct ws_rx rx;
	struct ws_frame f;
	uint16_t code = 0;
	size_t i;
	int r = 0;

	ws_rx_init(&rx);
	for (i = 0; i < n && !r; i++) {
		f = fr(i ? WS_OP_CONT : WS_OP_TEXT, i == n - 1, parts[i], strlen(parts[i]));
		r = ws_rx_frame(&rx, &f, &code);
	}
	if (r)
		cr_assert_eq(code, WS_CLOSE_BAD_DATA);
	return r;
}

Test(ws, rx_text_utf8)
{
	cr_assert_eq(text((const char *[]){ "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" }, 1), 0);
	/* a character split over fragments */
	cr_assert_eq(text((const char *[]){ "\xe2", "\x82", "\xac" }, 3), 0);
	cr_assert_eq(text((const char *[]){ "\xf0\x9f", "\x98\x80" }, 2), 0);
	cr_assert_eq(text((const char *[]){ "\xff" }, 1), -EPROTO);
	cr_assert_eq(text((const char *[]){ "\xc0\x80" }, 1), -EPROTO);         /* overlong */
	cr_assert_eq(text((const char *[]){ "\xe0\x80\x80" }, 1), -EPROTO);
	cr_assert_eq(text((const char *[]){ "\xed\xa0\x80" }, 1), -EPROTO);     /* surrogate */
	cr_assert_eq(text((const char *[]){ "\xf4\x90\x80\x80" }, 1), -EPROTO); /* > U+10FFFF */
	cr_assert_eq(text((const char *[]){ "a\xe2\x82" }, 1), -EPROTO);        /* cut at fin */
	cr_assert_eq(text((const char *[]){ "a\xe2", "\x82" }, 2), -EPROTO);
	cr_assert_eq(text((const char *[]){ "\x80" }, 1), -EPROTO);
}

Test(ws, rx_close_payloads)
{
	struct ws_rx rx;
	struct ws_frame f;
	uint16_t code = 0;

	ws_rx_init(&rx);
	f = fr(WS_OP_CLOSE, true, "", 0);
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	cr_assert_eq(ws_close_payload_code(&f), 1005);
	f = fr(WS_OP_CLOSE, true, "\x03\xe8" "bye", 5);
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
	cr_assert_eq(ws_close_payload_code(&f), 1000);
	f = fr(WS_OP_CLOSE, true, "\x03", 1);
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), -EPROTO);
	cr_assert_eq(code, WS_CLOSE_PROTOCOL);
	f = fr(WS_OP_CLOSE, true, "\x03\xed", 2);       /* 1005 is never sent */
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), -EPROTO);
	f = fr(WS_OP_CLOSE, true, "\x03\xe8\xff", 3);   /* reason not UTF-8 */
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), -EPROTO);
	cr_assert_eq(code, WS_CLOSE_BAD_DATA);
	f = fr(WS_OP_CLOSE, true, "\x0f\xa0", 2);       /* 4000: private use */
	cr_assert_eq(ws_rx_frame(&rx, &f, &code), 0);
}

Test(ws, frame_head_forms)
{
	uint8_t h[WS_HEAD_MAX];

	cr_assert_eq(ws_frame_head(h, WS_OP_BINARY, true, 125), 2);
	cr_assert_eq(h[0], 0x82);
	cr_assert_eq(h[1], 125);
	cr_assert_eq(ws_frame_head(h, WS_OP_TEXT, false, 126), 4);
	cr_assert_eq(h[0], 0x01);
	cr_assert_eq(h[1], 126);
	cr_assert_eq(h[2] << 8 | h[3], 126);
	cr_assert_eq(ws_frame_head(h, WS_OP_BINARY, true, 65536), 10);
	cr_assert_eq(h[1], 127);
	cr_assert_eq(h[7], 1);
	cr_assert_eq(h[8] | h[9], 0);
}

/* ---- the bridge over socketpairs ---- */

struct run {
	int ws, con, stop;
	const void *pre;
	size_t npre;
	uint16_t sent;
	int ret;
};

static void *run_bridge(void *arg)
{
	struct run *r = arg;

	r->ret = ws_bridge_run(r->ws, r->con, r->stop, r->pre, r->npre, &r->sent);
	return NULL;
}

struct pair {
	int client, guest, stop_w;
	struct run run;
	pthread_t t;
};

static void start(struct pair *p, const void *pre, size_t npre)
{
	int a[2], b[2], s[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	cr_assert_eq(pipe(s), 0);
	p->client = a[0];
	p->guest = b[0];
	p->stop_w = s[1];
	p->run = (struct run){ .ws = a[1], .con = b[1], .stop = s[0], .pre = pre, .npre = npre };
	cr_assert_eq(pthread_create(&p->t, NULL, run_bridge, &p->run), 0);
}

static void finish(struct pair *p)
{
	pthread_join(p->t, NULL);
	close(p->client);
	close(p->guest);
	close(p->stop_w);
	close(p->run.ws);
	close(p->run.con);
	close(p->run.stop);
}

/* Reads exactly @len bytes (5 s at most). */
static void read_exact(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		cr_assert_eq(poll(&pf, 1, 5000), 1, "nothing to read");
		n = read(fd, p, len);
		cr_assert_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
}

static void expect_close(int fd, uint16_t code)
{
	uint8_t f[4];

	read_exact(fd, f, 4);
	cr_assert_eq(f[0], 0x88);
	cr_assert_eq(f[1], 2);
	cr_assert_eq(f[2] << 8 | f[3], code);
}

Test(ws_bridge, both_ways_ping_and_close)
{
	struct pair p;
	uint8_t buf[64], ping[] = { 0x89, 0x81, 1, 2, 3, 4, 'q' ^ 1 };
	uint8_t close_f[] = { 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8 };

	/* the handshake's extra bytes: the masked "Hello" */
	start(&p, hello, sizeof(hello));
	read_exact(p.guest, buf, 5);
	cr_assert_eq(memcmp(buf, "Hello", 5), 0);
	cr_assert_eq(write(p.guest, "out", 3), 3);
	read_exact(p.client, buf, 5);
	cr_assert_eq(memcmp(buf, "\x82\x03out", 5), 0);
	cr_assert_eq(write(p.client, ping, sizeof(ping)), (ssize_t)sizeof(ping));
	read_exact(p.client, buf, 3);
	cr_assert_eq(memcmp(buf, "\x8a\x01q", 3), 0);
	cr_assert_eq(write(p.client, close_f, sizeof(close_f)), (ssize_t)sizeof(close_f));
	expect_close(p.client, 1000);
	finish(&p);
	cr_assert_eq(p.run.ret, 0);
	cr_assert_eq(p.run.sent, 1000);
}

Test(ws_bridge, bad_frame_gets_its_code)
{
	struct pair p;
	uint8_t bad[] = { 0x81, 0x01, 'x' };    /* unmasked */

	start(&p, NULL, 0);
	cr_assert_eq(write(p.client, bad, sizeof(bad)), (ssize_t)sizeof(bad));
	expect_close(p.client, WS_CLOSE_PROTOCOL);
	finish(&p);
	cr_assert_eq(p.run.sent, WS_CLOSE_PROTOCOL);
}

Test(ws_bridge, frame_split_byte_by_byte)
{
	struct pair p;
	uint8_t buf[8];
	size_t i;

	start(&p, NULL, 0);
	for (i = 0; i < sizeof(hello); i++) {
		cr_assert_eq(write(p.client, hello + i, 1), 1);
		usleep(1000);
	}
	read_exact(p.guest, buf, 5);
	cr_assert_eq(memcmp(buf, "Hello", 5), 0);
	shutdown(p.guest, SHUT_WR);             /* the console ends: 1000 */
	expect_close(p.client, WS_CLOSE_NORMAL);
	finish(&p);
}

Test(ws_bridge, stop_closes_with_going_away)
{
	struct pair p;

	start(&p, NULL, 0);
	cr_assert_eq(write(p.stop_w, "x", 1), 1);
	expect_close(p.client, WS_CLOSE_GOING_AWAY);
	finish(&p);
	cr_assert_eq(p.run.sent, WS_CLOSE_GOING_AWAY);
}

Test(ws_bridge, client_gone_without_close)
{
	struct pair p;

	start(&p, NULL, 0);
	shutdown(p.client, SHUT_WR);
	finish(&p);
	cr_assert_eq(p.run.ret, 0);
	cr_assert_eq(p.run.sent, 0);
}

/* The guest reads nothing (a slow UART): the client's input fills every
 * buffer and the bridge waits to write; stopping the daemon still ends
 * the session at once, with 1001. */
Test(ws_bridge, stop_while_the_guest_reads_nothing, .timeout = 20)
{
	static uint8_t big[WS_HEAD_MAX + 60000];
	struct pair p;
	size_t n = mkframe(big, 0x82, 60000, 2, 'z'), off = 0;
	int rounds;

	start(&p, NULL, 0);
	cr_assert_eq(fcntl(p.client, F_SETFL, O_NONBLOCK), 0);
	for (rounds = 0; rounds < 3; rounds++) {
		/* whole frames, until the socket takes no more */
		for (;;) {
			ssize_t w = send(p.client, big + off, n - off, MSG_NOSIGNAL);

			if (w < 0)
				break;
			off = (off + (size_t)w) % n;
		}
		usleep(100000);
	}
	cr_assert_eq(write(p.stop_w, "x", 1), 1);
	pthread_join(p.t, NULL);
	cr_assert_eq(p.run.ret, 0);
	cr_assert_eq(p.run.sent, WS_CLOSE_GOING_AWAY);
	close(p.client);
	close(p.guest);
	close(p.stop_w);
	close(p.run.ws);
	close(p.run.con);
	close(p.run.stop);
}
