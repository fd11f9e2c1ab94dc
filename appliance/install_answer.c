/* appliance/install_answer.c: the installer's answer file (KEY=VALUE). */
#include "appliance/install.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSWER_MAX (64 * 1024)

static int why_set(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* RFC 1123 host name: dot-separated labels of [a-z0-9-], each 1..63,
 * not starting or ending with '-'; at most 63 bytes in all here. */
static bool hostname_ok(const char *s)
{
	size_t n = strlen(s), lab = 0;

	if (!n || n >= INST_HOSTNAME_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (!lab || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-') || (c == '-' && !lab) || ++lab > 63)
			return false;
	}
	return true;
}

static bool ipv4_ok(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

/* "A.B.C.D/N", N 1..32. */
static bool cidr_ok(const char *s)
{
	char ip[48], *end;
	const char *slash = strchr(s, '/');
	long n;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return false;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	errno = 0;
	n = strtol(slash + 1, &end, 10);
	return ipv4_ok(ip) && slash[1] && !*end && !errno && n >= 1 && n <= 32;
}

/* A disk: "auto", or /dev/NAME[/NAME...] of [A-Za-z0-9._-]. */
static bool disk_ok(const char *s)
{
	if (!strcmp(s, "auto"))
		return true;
	if (strncmp(s, "/dev/", 5) || !s[5] || strstr(s, "..") || strstr(s, "//"))
		return false;
	for (const char *p = s + 5; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("._-/", *p)))
			return false;
	return s[strlen(s) - 1] != '/';
}

/* An API token: 16..128 bytes of [A-Za-z0-9_.-]. */
static bool token_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 16 || n > 128)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("_.-", *s)))
			return false;
	return true;
}

/* A crypt(3) hash: "$ID$..." of the crypt alphabet, nothing else. */
static bool hash_ok(const char *s)
{
	if (s[0] != '$' || strlen(s) < 20)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("$./=,", *s)))
			return false;
	return true;
}

enum key {
	K_DISK, K_HOSTNAME, K_NETWORK, K_ADDRESS, K_GATEWAY, K_DNS, K_TOKEN, K_PWHASH, K_WIPE,
	K_COUNT
};

static const char *const key_names[K_COUNT] = {
	"disk", "hostname", "network", "address", "gateway", "dns", "token", "password_hash",
	"wipe",
};

static bool copy_to(char *dst, size_t len, const char *v)
{
	return (size_t)snprintf(dst, len, "%s", v) < len;
}

/* Stores @v for key @k; false when the value is bad (@why says why). */
static int set_value(struct inst_answer *a, enum key k, const char *v, unsigned line, char *why,
		     size_t wl)
{
	char list[256], *save = NULL;

	switch (k) {
	case K_DISK:
		if (!disk_ok(v) || !copy_to(a->disk, sizeof(a->disk), v))
			return why_set(why, wl, "line %u: disk '%s' is not /dev/NAME or auto", line, v);
		return 0;
	case K_HOSTNAME:
		if (!hostname_ok(v))
			return why_set(why, wl, "line %u: hostname '%s' is not a host name "
				       "(letters, digits, '-' and '.', up to %d bytes)", line, v,
				       INST_HOSTNAME_MAX - 1);
		copy_to(a->hostname, sizeof(a->hostname), v);
		return 0;
	case K_NETWORK:
		if (!strcmp(v, "dhcp"))
			a->net = INST_NET_DHCP;
		else if (!strcmp(v, "static"))
			a->net = INST_NET_STATIC;
		else
			return why_set(why, wl, "line %u: network must be dhcp or static, not '%s'",
				       line, v);
		return 0;
	case K_ADDRESS:
		if (!cidr_ok(v) || !copy_to(a->address, sizeof(a->address), v))
			return why_set(why, wl, "line %u: address '%s' is not A.B.C.D/PREFIX", line, v);
		return 0;
	case K_GATEWAY:
		if (!ipv4_ok(v) || !copy_to(a->gateway, sizeof(a->gateway), v))
			return why_set(why, wl, "line %u: gateway '%s' is not an IPv4 address", line, v);
		return 0;
	case K_DNS:
		if (!copy_to(list, sizeof(list), v))
			return why_set(why, wl, "line %u: dns list too long", line);
		for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
			if (a->ndns == INST_DNS_MAX)
				return why_set(why, wl, "line %u: at most %d dns servers", line,
					       INST_DNS_MAX);
			if (!ipv4_ok(t))
				return why_set(why, wl, "line %u: dns server '%s' is not an IPv4 "
					       "address", line, t);
			copy_to(a->dns[a->ndns++], sizeof(a->dns[0]), t);
		}
		if (!a->ndns)
			return why_set(why, wl, "line %u: dns is empty", line);
		return 0;
	case K_TOKEN:
		if (!token_ok(v))
			return why_set(why, wl, "line %u: token must be 16-128 characters of "
				       "A-Z a-z 0-9 _ . -", line);
		copy_to(a->token, sizeof(a->token), v);
		return 0;
	case K_PWHASH:
		if (!hash_ok(v) || !copy_to(a->password_hash, sizeof(a->password_hash), v))
			return why_set(why, wl, "line %u: password_hash is not a crypt(3) hash "
				       "(make one with: mkpasswd -m sha-512)", line);
		return 0;
	case K_WIPE:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return why_set(why, wl, "line %u: wipe must be yes or no, not '%s'", line, v);
		a->wipe = !strcmp(v, "yes");
		return 0;
	case K_COUNT:
		break;
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* The whole-file rules, once every line was read. */
static int check_whole(const struct inst_answer *a, const unsigned seen[K_COUNT], char *why,
		       size_t wl)
{
	static const enum key required[] = { K_DISK, K_HOSTNAME, K_WIPE };

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!seen[required[i]])
			return why_set(why, wl, "missing %s", key_names[required[i]]);
	if (!a->wipe)
		return why_set(why, wl, "line %u: wipe=no: an unattended install erases %s, "
			       "so it needs wipe=yes", seen[K_WIPE], a->disk);
	if (a->net == INST_NET_STATIC && !seen[K_ADDRESS])
		return why_set(why, wl, "missing address (network=static needs one)");
	if (a->net == INST_NET_DHCP) {
		static const enum key only_static[] = { K_ADDRESS, K_GATEWAY, K_DNS };

		for (size_t i = 0; i < 3; i++)
			if (seen[only_static[i]])
				return why_set(why, wl, "line %u: %s is only for network=static",
					       seen[only_static[i]], key_names[only_static[i]]);
	}
	if (seen[K_TOKEN] && seen[K_PWHASH])
		return why_set(why, wl, "line %u: give token or password_hash, not both",
			       seen[K_TOKEN] > seen[K_PWHASH] ? seen[K_TOKEN] : seen[K_PWHASH]);
	if (!seen[K_TOKEN] && !seen[K_PWHASH])
		return why_set(why, wl, "missing token or password_hash (the admin credential)");
	return 0;
}

int inst_answer_parse(const char *text, size_t len, struct inst_answer *out, char *why,
		      size_t whylen)
{
	unsigned seen[K_COUNT] = { 0 }, line = 0;
	char buf[1024];
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (memchr(text, '\0', len))
		return why_set(why, whylen, "the file holds a NUL byte: not a text file");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = (nl ? (size_t)(nl - text) : len) - pos;
		char *key, *val, *eq;
		int k, r;

		line++;
		if (l >= sizeof(buf))
			return why_set(why, whylen, "line %u: longer than %zu bytes", line,
				       sizeof(buf) - 1);
		memcpy(buf, text + pos, l);
		buf[l] = '\0';
		pos += l + (nl ? 1 : 0);
		key = trim(buf);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq)
			return why_set(why, whylen, "line %u: not KEY=VALUE", line);
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		for (k = 0; k < K_COUNT && strcmp(key, key_names[k]); k++)
			;
		if (k == K_COUNT)
			return why_set(why, whylen, "line %u: unknown key '%.64s'", line, key);
		if (seen[k])
			return why_set(why, whylen, "line %u: %s given again (first on line %u)", line,
				       key, seen[k]);
		if (!*val)
			return why_set(why, whylen, "line %u: %s has no value", line, key);
		seen[k] = line;
		r = set_value(out, (enum key)k, val, line, why, whylen);
		if (r)
			return r;
	}
	return check_whole(out, seen, why, whylen);
}

int inst_answer_load(const char *path, struct inst_answer *out, char *why, size_t whylen)
{
	char *buf;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
		return r;
	}
	buf = malloc(ANSWER_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, ANSWER_MAX + 1 - len);

		if (n < 0) {
			r = -errno;
			snprintf(why, whylen, "%s: %s", path, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > ANSWER_MAX) {
			r = why_set(why, whylen, "%s: larger than %d bytes", path, ANSWER_MAX);
			goto out;
		}
	}
	r = inst_answer_parse(buf, len, out, why, whylen);
out:
	free(buf);
	close(fd);
	return r;
}
