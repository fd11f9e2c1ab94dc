/* vhd/locator.c: text encodings and paths of parent locators: UTF-16 (BE
 * for the Parent Unicode Name, LE for W2ru/W2ku), MacX file:// URLs and
 * the relative path from a child's directory to its parent. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vhd/vhd_int.h"

static void put16(uint8_t *p, uint16_t u, bool be)
{
	p[be ? 0 : 1] = (uint8_t)(u >> 8);
	p[be ? 1 : 0] = (uint8_t)u;
}

static uint16_t get16(const uint8_t *p, bool be)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

/* Decodes one UTF-8 sequence at *s; returns the code point or -1. */
static long utf8_next(const char **s)
{
	const uint8_t *p = (const uint8_t *)*s;
	long cp;
	int n;

	if (p[0] < 0x80) {
		cp = p[0];
		n = 0;
	} else if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		n = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		n = 2;
	} else if ((p[0] & 0xf8) == 0xf0) {
		cp = p[0] & 0x07;
		n = 3;
	} else {
		return -1;
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*s += n + 1;
	return cp;
}

int vhd_utf8_to_utf16(const char *s, uint8_t *out, size_t cap, bool be, size_t *len)
{
	size_t o = 0;

	while (*s) {
		long cp = utf8_next(&s);

		if (cp < 0)
			return vhd_err(-EINVAL, "invalid UTF-8 in a path");
		if (cp >= 0x10000) {
			if (o + 4 > cap)
				return vhd_err(-ENAMETOOLONG, "path too long for a locator");
			cp -= 0x10000;
			put16(out + o, (uint16_t)(0xd800 | (cp >> 10)), be);
			put16(out + o + 2, (uint16_t)(0xdc00 | (cp & 0x3ff)), be);
			o += 4;
		} else {
			if (o + 2 > cap)
				return vhd_err(-ENAMETOOLONG, "path too long for a locator");
			put16(out + o, (uint16_t)cp, be);
			o += 2;
		}
	}
	*len = o;
	return 0;
}

int vhd_utf16_to_utf8(const uint8_t *in, size_t len, bool be, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		uint32_t cp = get16(in + i, be);
		uint8_t tmp[4];
		int n;

		if (!cp)
			break;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			uint32_t lo = i + 3 < len ? get16(in + i + 2, be) : 0;

			if (lo < 0xdc00 || lo > 0xdfff)
				return vhd_err(-EINVAL, "unpaired UTF-16 surrogate in a name");
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			return vhd_err(-EINVAL, "unpaired UTF-16 surrogate in a name");
		}
		if (cp < 0x80) {
			tmp[0] = (uint8_t)cp;
			n = 1;
		} else if (cp < 0x800) {
			tmp[0] = (uint8_t)(0xc0 | cp >> 6);
			tmp[1] = (uint8_t)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			tmp[0] = (uint8_t)(0xe0 | cp >> 12);
			tmp[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			tmp[2] = (uint8_t)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			tmp[0] = (uint8_t)(0xf0 | cp >> 18);
			tmp[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
			tmp[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			tmp[3] = (uint8_t)(0x80 | (cp & 0x3f));
			n = 4;
		}
		if (o + (size_t)n + 1 > cap)
			return vhd_err(-ENAMETOOLONG, "name too long");
		memcpy(out + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	if (!cap)
		return vhd_err(-ENAMETOOLONG, "name too long");
	out[o] = 0;
	return 0;
}

/* Length of the path component starting at @p (up to '/' or NUL). */
static size_t comp_len(const char *p)
{
	return strcspn(p, "/");
}

static const char *skip_slashes(const char *p)
{
	while (*p == '/')
		p++;
	return p;
}

int vhd_relative_path(const char *from_dir, const char *to, char *out, size_t cap)
{
	const char *a = skip_slashes(from_dir), *b = skip_slashes(to);
	size_t o = 0, up = 0;
	int n;

	if (*from_dir != '/' || *to != '/')
		return vhd_err(-EINVAL, "relative path needs absolute paths");
	/* Drop the common leading components. */
	while (*a && *b) {
		size_t la = comp_len(a), lb = comp_len(b);

		if (la != lb || memcmp(a, b, la) || !b[lb])
			break;
		a = skip_slashes(a + la);
		b = skip_slashes(b + lb);
	}
	for (const char *p = a; *p; p = skip_slashes(p + comp_len(p)))
		up++;
	if (!up) {
		n = snprintf(out, cap, "./");
		o = (size_t)n;
	}
	for (size_t i = 0; i < up; i++) {
		if (o + 3 >= cap)
			return vhd_err(-ENAMETOOLONG, "relative path too long");
		memcpy(out + o, "../", 3);
		o += 3;
	}
	n = snprintf(out + o, cap - o, "%s", b);
	if (n < 0 || (size_t)n >= cap - o)
		return vhd_err(-ENAMETOOLONG, "relative path too long");
	return 0;
}

static bool url_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

int vhd_locator_encode(uint32_t code, const char *path, uint8_t *out, size_t cap,
		       size_t *len)
{
	char win[4096];
	size_t o;

	switch (code) {
	case VHD_PLAT_W2RU:
	case VHD_PLAT_W2KU:
		if (strlen(path) >= sizeof(win))
			return vhd_err(-ENAMETOOLONG, "path too long for a locator");
		for (o = 0; path[o]; o++)
			win[o] = path[o] == '/' ? '\\' : path[o];
		win[o] = 0;
		return vhd_utf8_to_utf16(win, out, cap, false, len);
	case VHD_PLAT_MACX:
		if (path[0] != '/')
			return vhd_err(-EINVAL, "a MacX locator needs an absolute path");
		o = 0;
		if (cap < 7)
			return vhd_err(-ENAMETOOLONG, "path too long for a locator");
		memcpy(out, "file://", 7);
		o = 7;
		for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
			if (o + 3 > cap)
				return vhd_err(-ENAMETOOLONG, "path too long for a locator");
			if (url_plain(*p)) {
				out[o++] = *p;
			} else {
				snprintf((char *)out + o, 4, "%%%02X", *p);
				o += 3;
			}
		}
		*len = o;
		return 0;
	default:
		return vhd_err(-EINVAL, "unsupported locator code 0x%08x", code);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int macx_decode(const uint8_t *data, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (len && !data[len - 1])
		len--;
	if (len < 7 || memcmp(data, "file://", 7))
		return vhd_err(-EINVAL, "MacX locator is not a file:// URL");
	i = 7;
	if (len - i >= 9 && !memcmp(data + i, "localhost", 9))
		i += 9;
	if (i >= len || data[i] != '/')
		return vhd_err(-EINVAL, "MacX locator URL has no absolute path");
	for (; i < len; i++) {
		int c = data[i];

		if (!c)
			return vhd_err(-EINVAL, "NUL inside a MacX locator");
		if (c == '%') {
			int hi = i + 2 < len ? hexval((char)data[i + 1]) : -1;
			int lo = i + 2 < len ? hexval((char)data[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (!hi && !lo))
				return vhd_err(-EINVAL, "bad %% escape in a MacX locator");
			c = hi << 4 | lo;
			i += 2;
		}
		if (o + 2 > cap)
			return vhd_err(-ENAMETOOLONG, "MacX locator path too long");
		out[o++] = (char)c;
	}
	out[o] = 0;
	return 0;
}

int vhd_locator_decode(uint32_t code, const uint8_t *data, size_t len, char *out,
		       size_t cap)
{
	int ret;

	switch (code) {
	case VHD_PLAT_W2RU:
	case VHD_PLAT_W2KU:
		ret = vhd_utf16_to_utf8(data, len, false, out, cap);
		if (ret)
			return ret;
		for (char *p = out; *p; p++)
			if (*p == '\\')
				*p = '/';
		/* "C:/dir/x.vhd": the drive means nothing here. */
		if (((out[0] | 0x20) >= 'a' && (out[0] | 0x20) <= 'z') && out[1] == ':')
			memmove(out, out + 2, strlen(out + 2) + 1);
		if (!out[0])
			return vhd_err(-EINVAL, "empty path in a parent locator");
		return 0;
	case VHD_PLAT_MACX:
		return macx_decode(data, len, out, cap);
	default:
		return vhd_err(-EINVAL, "unsupported locator code 0x%08x", code);
	}
}
