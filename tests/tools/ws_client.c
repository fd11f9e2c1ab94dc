/* tests/tools/ws_client.c: a WebSocket client (RFC 6455) driven by a
 * script, written apart from appliance/ws.c so that each checks the other.
 *
 *   ws_client unix:SOCKET PATH          (on vhdvisord's Unix socket)
 *   ws_client tls:HOST:PORT:CAFILE PATH (HTTPS; $WS_TOKEN as bearer token)
 *
 * Sends the handshake for PATH, checks the 101 and Sec-WebSocket-Accept,
 * then runs the commands on stdin, one a line (TEXT takes \r, \n, \xHH):
 *   expect TEXT      the guest's output (all data frames so far, from the
 *                    end of the last match) shows TEXT within 120 s
 *   send TEXT        one masked text frame
 *   sendfrag TEXT    TEXT in three fragments (text, continuation,
 *                    continuation) with a ping between them; the pong
 *                    must come back
 *   ping DATA        a ping; its pong must come back with DATA
 *   raw HEX          these bytes as they are (a broken frame)
 *   closed CODE      the server's next control frame is a close with CODE
 *                    and then the connection ends
 *   close CODE       sends a close with CODE; the server's must echo it
 * Data frames go to stdout as they come. Exit 0, or 1 with a message. */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 120

static int fd = -1;
static gnutls_session_t tls;
static gnutls_certificate_credentials_t creds;
static uint8_t in[1 << 20];
static size_t in_len;
static char *out;               /* data received */
static size_t out_len, out_seen;

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	fprintf(stderr, "ws_client: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void put(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = tls ? gnutls_record_send(tls, p, len) : send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			die("send failed");
		p += n;
		len -= (size_t)n;
	}
}

/* More bytes into in[]; 0 at end of stream. */
static size_t get_more(time_t deadline)
{
	ssize_t n;

	if (!tls || !gnutls_record_check_pending(tls)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		time_t now = time(NULL);

		if (now >= deadline || poll(&p, 1, (int)(deadline - now) * 1000) <= 0)
			die("timed out");
	}
	if (in_len == sizeof(in))
		die("frame too large");
	n = tls ? gnutls_record_recv(tls, in + in_len, sizeof(in) - in_len)
		: recv(fd, in + in_len, sizeof(in) - in_len, 0);
	if (n < 0)
		die("recv failed");
	in_len += (size_t)n;
	return (size_t)n;
}

static void connect_to(const char *where)
{
	if (!strncmp(where, "unix:", 5)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", where + 5);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			die("cannot connect to %s", where + 5);
	} else if (!strncmp(where, "tls:", 4)) {
		char host[256], port[16], ca[4096];
		struct addrinfo *ai;

		if (sscanf(where + 4, "%255[^:]:%15[^:]:%4095s", host, port, ca) != 3)
			die("bad tls:HOST:PORT:CAFILE");
		if (getaddrinfo(host, port, NULL, &ai))
			die("cannot resolve %s", host);
		fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
			die("cannot connect to %s:%s", host, port);
		freeaddrinfo(ai);
		if (gnutls_certificate_allocate_credentials(&creds) ||
		    gnutls_certificate_set_x509_trust_file(creds, ca, GNUTLS_X509_FMT_PEM) <= 0 ||
		    gnutls_init(&tls, GNUTLS_CLIENT) || gnutls_set_default_priority(tls) ||
		    gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, creds))
			die("TLS setup failed");
		gnutls_session_set_verify_cert(tls, NULL, 0);
		gnutls_transport_set_int(tls, fd);
		if (gnutls_handshake(tls) < 0)
			die("TLS handshake failed (certificate?)");
	} else {
		die("where: unix:SOCKET or tls:HOST:PORT:CAFILE");
	}
}

static void handshake(const char *path)
{
	static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
	const char *tok = getenv("WS_TOKEN");
	char req[4096], want[64], cat[128];
	unsigned char md[SHA_DIGEST_LENGTH];
	char *end, *acc;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
		 "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n"
		 "Sec-WebSocket-Key: %s\r\n%s%s%s\r\n", path, key,
		 tok ? "Authorization: Bearer " : "", tok ? tok : "", tok ? "\r\n" : "");
	put(req, strlen(req));
	while (!(end = memmem(in, in_len, "\r\n\r\n", 4)))
		if (!get_more(time(NULL) + WAIT_S))
			die("connection closed during the handshake");
	*end = '\0';
	if (strncmp((char *)in, "HTTP/1.1 101", 12))
		die("no 101: %s", (char *)in);
	snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((unsigned char *)cat, strlen(cat), md);
	EVP_EncodeBlock((unsigned char *)want, md, SHA_DIGEST_LENGTH);
	acc = strcasestr((char *)in, "\r\nSec-WebSocket-Accept: ");
	if (!acc || strncmp(acc + 24, want, strlen(want)))
		die("bad or no Sec-WebSocket-Accept (want %s)", want);
	in_len -= (size_t)(end + 4 - (char *)in);
	memmove(in, end + 4, in_len);
	printf("[101]\n");
	fflush(stdout);
}

/* Sends one masked frame. */
static void frame(uint8_t op, int fin, const void *data, size_t len)
{
	uint8_t h[14], mask[4] = { 0x12, 0x9a, 0x5c, 0xe7 }, *m = malloc(len + 1);
	size_t n = 0, i;

	h[n++] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		h[n++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		h[n++] = 0x80 | 126;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else {
		h[n++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[n++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	}
	memcpy(h + n, mask, 4);
	n += 4;
	for (i = 0; i < len; i++)
		m[i] = ((const uint8_t *)data)[i] ^ mask[i & 3];
	put(h, n);
	put(m, len);
	free(m);
}

/* Reads the next frame (the server's are never masked); data frames are
 * kept and printed. Returns its opcode; the payload in @pl. */
static uint8_t next_frame(uint8_t *pl, size_t *plen, time_t deadline)
{
	for (;;) {
		size_t h = 2, len;
		uint8_t op;

		if (in_len >= 2) {
			len = in[1] & 0x7f;
			if (in[1] & 0x80)
				die("the server masked a frame");
			if (len == 126 && in_len >= 4) {
				len = (size_t)in[2] << 8 | in[3];
				h = 4;
			} else if (len == 127 && in_len >= 10) {
				len = 0;
				for (int i = 2; i < 10; i++)
					len = len << 8 | in[i];
				h = 10;
			}
			if (len < 126 || h > 2) {
				if (in_len >= h + len) {
					op = in[0] & 0x0f;
					if (op < 8) {
						out = realloc(out, out_len + len + 1);
						memcpy(out + out_len, in + h, len);
						out_len += len;
						out[out_len] = '\0';
						fwrite(in + h, 1, len, stdout);
						fflush(stdout);
					} else if (pl) {
						memcpy(pl, in + h, len);
						*plen = len;
					}
					in_len -= h + len;
					memmove(in, in + h + len, in_len);
					return op;
				}
			}
		}
		if (!get_more(deadline))
			die("connection closed by the server");
	}
}

/* Decodes \r \n \\ \xHH of @s into @buf; its length. */
static size_t unescape(const char *s, char *buf)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] == 'r') {
			buf[n++] = '\r';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'n') {
			buf[n++] = '\n';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = { s[2], s[3], 0 };

			buf[n++] = (char)strtoul(hex, NULL, 16);
			s += 4;
		} else {
			buf[n++] = *s++;
		}
	}
	return n;
}

/* Waits for the control frame @want (pong or close) with payload @p. */
static void wait_control(uint8_t want, const void *p, size_t len)
{
	time_t deadline = time(NULL) + WAIT_S;
	uint8_t pl[126];
	size_t plen = 0;
	uint8_t op;

	while ((op = next_frame(pl, &plen, deadline)) < 8)
		;
	if (op != want)
		die("control frame 0x%x, wanted 0x%x", op, want);
	if (plen != len || memcmp(pl, p, len)) {
		if (want == 0x8 && plen >= 2)
			die("close code %u, wanted %u", pl[0] << 8 | pl[1],
			    len >= 2 ? ((const uint8_t *)p)[0] << 8 | ((const uint8_t *)p)[1] : 0);
		die("control payload differs");
	}
}

static void wait_eof(void)
{
	time_t deadline = time(NULL) + WAIT_S;

	in_len = 0;
	while (get_more(deadline))
		in_len = 0;
}

int main(int argc, char **argv)
{
	char line[8192], arg[8192];

	if (argc != 3)
		die("usage: ws_client unix:SOCKET|tls:HOST:PORT:CAFILE PATH < script");
	connect_to(argv[1]);
	handshake(argv[2]);
	while (fgets(line, sizeof(line), stdin)) {
		char *sp = strchr(line, ' ');
		size_t n;

		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		n = sp ? unescape(sp + 1, arg) : 0;
		arg[n] = '\0';
		if (!strncmp(line, "expect ", 7)) {
			time_t deadline = time(NULL) + WAIT_S;
			char *hit;

			while (!out || !(hit = strstr(out + out_seen, arg)))
				if (next_frame(NULL, NULL, deadline) >= 8)
					die("control frame while waiting for '%s'", arg);
			out_seen = (size_t)(hit - out) + n;
		} else if (!strncmp(line, "send ", 5)) {
			frame(0x1, 1, arg, n);
		} else if (!strncmp(line, "sendfrag ", 9)) {
			size_t a = n / 3, b = 2 * n / 3;

			frame(0x1, 0, arg, a);
			frame(0x9, 1, "mid", 3);
			frame(0x0, 0, arg + a, b - a);
			frame(0x0, 1, arg + b, n - b);
			wait_control(0xa, "mid", 3);
		} else if (!strncmp(line, "ping ", 5)) {
			frame(0x9, 1, arg, n);
			wait_control(0xa, arg, n);
		} else if (!strncmp(line, "raw ", 4)) {
			uint8_t raw[4096];
			size_t k;

			for (k = 0; k * 2 + 1 < strlen(arg) && k < sizeof(raw); k++) {
				char hex[3] = { arg[2 * k], arg[2 * k + 1], 0 };

				raw[k] = (uint8_t)strtoul(hex, NULL, 16);
			}
			put(raw, k);
		} else if (!strncmp(line, "closed ", 7) || !strncmp(line, "close ", 6)) {
			unsigned code = (unsigned)atoi(arg);
			uint8_t c[2] = { (uint8_t)(code >> 8), (uint8_t)code };

			if (line[5] == ' ')
				frame(0x8, 1, c, 2);
			wait_control(0x8, c, 2);
			wait_eof();
			printf("\n[closed %u]\n", code);
		} else {
			die("unknown command: %s", line);
		}
	}
	return 0;
}
