/* tests/tools/nbd_tls_client.c: an NBD client over TLS-PSK that sends
 * reads and does not read the replies (for a while, or ever): what a
 * hostile or stuck client does to a server's memory. Python's ssl module
 * here has no PSK, hence C and GnuTLS.
 *
 *   nbd_tls_client HOST PORT KEYFILE USER EXPORT COUNT LEN SECS [read]
 *
 * Connects, sends NBD_OPT_STARTTLS, does the TLS handshake as USER with
 * USER's key from KEYFILE (lines USER:HEXKEY), NBD_OPT_GO EXPORT, sends
 * COUNT reads of LEN bytes at offset 0 (from a second thread: the server
 * may stop reading them), sleeps SECS seconds; with "read", then reads
 * every reply and checks its cookie and error. Exit 0, or 1 with a
 * message. */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static gnutls_session_t sess;
static unsigned count;
static uint32_t len;

static void die(const char *msg)
{
	fprintf(stderr, "nbd_tls_client: %s\n", msg);
	exit(1);
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static void put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) << 32 | get32(b + 4);
}

/* Plain (before TLS) or TLS I/O of exactly @n bytes. */
static void xfer(int fd, void *buf, size_t n, int send)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r;

		if (sess)
			r = send ? gnutls_record_send(sess, p, n) : gnutls_record_recv(sess, p, n);
		else
			r = send ? write(fd, p, n) : read(fd, p, n);
		if (sess && (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED))
			continue;
		if (r <= 0)
			die(send ? "send failed" : "the server closed the connection");
		p += r;
		n -= (size_t)r;
	}
}

static const uint64_t OPTS_MAGIC = 0x49484156454f5054ull;

/* Sends option @opt with @data, returns the type of the last reply. */
static uint32_t option(int fd, uint32_t opt, const void *data, uint32_t n)
{
	uint8_t hdr[20], *buf = malloc(16 + n);

	if (!buf)
		die("out of memory");
	put64(buf, OPTS_MAGIC);
	put32(buf + 8, opt);
	put32(buf + 12, n);
	if (n)
		memcpy(buf + 16, data, n);
	xfer(fd, buf, 16 + n, 1);
	free(buf);
	for (;;) {
		uint32_t type, plen;

		xfer(fd, hdr, 20, 0);
		if (get64(hdr) != 0x0003e889045565a9ull || get32(hdr + 8) != opt)
			die("bad option reply");
		type = get32(hdr + 12);
		plen = get32(hdr + 16);
		while (plen) {
			uint8_t skip[256];
			uint32_t k = plen < sizeof(skip) ? plen : sizeof(skip);

			xfer(fd, skip, k, 0);
			plen -= k;
		}
		if (type == 1 || (type & 0x80000000u))
			return type;
	}
}

static int key_load(const char *path, const char *user, gnutls_datum_t *key)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	size_t ul = strlen(user);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (strncmp(line, user, ul) || line[ul] != ':')
			continue;
		fclose(f);
		key->data = (unsigned char *)strdup(line + ul + 1);
		key->size = (unsigned)strlen(line + ul + 1);
		return 0;
	}
	fclose(f);
	return -1;
}

static void *sender(void *arg)
{
	int fd = *(int *)arg;

	for (unsigned i = 0; i < count; i++) {
		uint8_t req[28];

		put32(req, 0x25609513u);
		put32(req + 4, 0);              /* flags 0, NBD_CMD_READ */
		put64(req + 8, i);
		put64(req + 16, 0);
		put32(req + 24, len);
		xfer(fd, req, sizeof(req), 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	gnutls_psk_client_credentials_t cred;
	gnutls_datum_t key;
	uint8_t greet[18], flags[4], *go, *data, *seen;
	uint32_t nlen;
	pthread_t th;
	int fd, rc;

	if (argc < 9)
		die("usage: HOST PORT KEYFILE USER EXPORT COUNT LEN SECS [read]");
	count = (unsigned)atoi(argv[6]);
	len = (uint32_t)strtoul(argv[7], NULL, 0);
	if (getaddrinfo(argv[1], argv[2], &hints, &ai))
		die("bad address");
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
		die("cannot connect");
	freeaddrinfo(ai);
	xfer(fd, greet, sizeof(greet), 0);
	put32(flags, 3);                        /* fixed newstyle, no zeroes */
	xfer(fd, flags, 4, 1);
	if (option(fd, 5, NULL, 0) != 1)
		die("STARTTLS refused");
	if (key_load(argv[3], argv[4], &key))
		die("no key for that user");
	gnutls_psk_allocate_client_credentials(&cred);
	if (gnutls_psk_set_client_credentials(cred, argv[4], &key, GNUTLS_PSK_KEY_HEX) < 0)
		die("bad key");
	gnutls_init(&sess, GNUTLS_CLIENT);
	gnutls_priority_set_direct(sess, "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK", NULL);
	gnutls_credentials_set(sess, GNUTLS_CRD_PSK, cred);
	gnutls_transport_set_int(sess, fd);
	do {
		rc = gnutls_handshake(sess);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0)
		die(gnutls_strerror(rc));
	nlen = (uint32_t)strlen(argv[5]);
	go = calloc(1, 6 + nlen);
	if (!go)
		die("out of memory");
	put32(go, nlen);
	memcpy(go + 4, argv[5], nlen);
	if (option(fd, 7, go, 6 + nlen) != 1)
		die("GO refused");
	free(go);
	pthread_create(&th, NULL, sender, &fd);
	sleep((unsigned)atoi(argv[8]));
	if (argc < 10 || strcmp(argv[9], "read"))
		return 0;
	data = malloc(len);
	seen = calloc(count, 1);
	if (!data || !seen)
		die("out of memory");
	for (unsigned i = 0; i < count; i++) {            /* in any order */
		uint8_t rep[16];
		uint64_t cookie;

		xfer(fd, rep, sizeof(rep), 0);
		cookie = get64(rep + 8);
		if (get32(rep) != 0x67446698u || get32(rep + 4) || cookie >= count || seen[cookie])
			die("bad reply (an error, an unknown cookie or a repeated one)");
		seen[cookie] = 1;
		xfer(fd, data, len, 0);
	}
	pthread_join(th, NULL);
	printf("%u replies read\n", count);
	free(seen);
	free(data);
	return 0;
}
