/* hv/boot_cfg.c: the default entry of grub.cfg and extlinux.conf. */
#include "hv/boot_cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_WORDS 64
#define LINE_MAX_LEN 4096

/* One line split into words, quotes removed (GRUB shell rules, simplified:
 * '...' literal, "..." with backslash escapes, # starts a comment). */
struct words {
	char buf[LINE_MAX_LEN];
	char *w[MAX_WORDS];
	int n;
};

static void split_words(const char *line, size_t len, struct words *ws)
{
	char *o = ws->buf, *end = ws->buf + sizeof(ws->buf) - 1;
	size_t i = 0;

	ws->n = 0;
	while (i < len) {
		char q = 0;

		while (i < len && isspace((unsigned char)line[i]))
			i++;
		if (i >= len || line[i] == '#' || ws->n == MAX_WORDS)
			break;
		ws->w[ws->n++] = o;
		while (i < len && o < end) {
			char c = line[i];

			if (q) {
				if (c == q) {
					q = 0;
				} else if (q == '"' && c == '\\' && i + 1 < len) {
					*o++ = line[++i];
				} else {
					*o++ = c;
				}
			} else if (c == '\'' || c == '"') {
				q = c;
			} else if (isspace((unsigned char)c)) {
				break;
			} else if (c == '\\' && i + 1 < len) {
				*o++ = line[++i];
			} else {
				*o++ = c;
			}
			i++;
		}
		if (o < end)
			*o++ = '\0';
	}
	*end = '\0';
}

/* Joins words [from, n) with spaces into @out. */
static void join_words(const struct words *ws, int from, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (int i = from; i < ws->n && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s", off ? " " : "", ws->w[i]);
}

/* "(hd0,msdos1)/boot/vmlinuz" -> "/boot/vmlinuz" */
static void set_path(char *dst, size_t len, const char *src)
{
	if (src[0] == '(') {
		const char *close = strchr(src, ')');

		if (close)
			src = close + 1;
	}
	snprintf(dst, len, "%s", src);
}

static const char *next_line(const char *p, size_t *len)
{
	const char *nl = strchr(p, '\n');

	*len = nl ? (size_t)(nl - p) : strlen(p);
	return nl ? nl + 1 : p + *len;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int brace_delta(const struct words *ws)
{
	int d = 0;

	for (int i = 0; i < ws->n; i++) {
		size_t wl = strlen(ws->w[i]);

		if (wl && ws->w[i][wl - 1] == '{')
			d++;
		else if (wl && strspn(ws->w[i], "}") == wl)
			d -= (int)wl;
	}
	return d;
}

static bool is_word(const char *w, const char *a, const char *b, const char *c)
{
	return !strcmp(w, a) || !strcmp(w, b) || !strcmp(w, c);
}

int boot_cfg_grub(const char *text, struct boot_entry *out)
{
	struct words *ws = malloc(sizeof(*ws));
	struct boot_entry *cur = calloc(1, sizeof(*cur)), *first = calloc(1, sizeof(*first));
	char def[256] = "0";
	const char *p;
	int depth = 0, index = 0, r = -ENOENT;
	bool in_entry = false, have_first = false, default_empty = false, by_index;

	if (!ws || !cur || !first) {
		r = -ENOMEM;
		goto out;
	}
	for (p = text; *p;) {
		size_t len;
		const char *line = p;

		p = next_line(p, &len);
		split_words(line, len, ws);
		/* "${saved_entry}" and friends: GRUB falls back to entry 0. */
		if (ws->n >= 2 && !strcmp(ws->w[0], "set") && !strncmp(ws->w[1], "default=", 8))
			snprintf(def, sizeof(def), "%s",
				 strchr(ws->w[1], '$') || !ws->w[1][8] ? "0" : ws->w[1] + 8);
	}
	by_index = all_digits(def);
	for (p = text; *p;) {
		size_t len;
		const char *line = p;

		p = next_line(p, &len);
		split_words(line, len, ws);
		if (!ws->n)
			continue;
		if (depth == 0 && !strcmp(ws->w[0], "menuentry") && ws->n >= 2) {
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->title, sizeof(cur->title), "%s", ws->w[1]);
			in_entry = true;
		} else if (depth == 0 && !strcmp(ws->w[0], "submenu")) {
			index++;  /* one entry; its contents are not entered */
		} else if (in_entry && depth == 1 && ws->n >= 2 &&
			   is_word(ws->w[0], "linux", "linux16", "linuxefi")) {
			set_path(cur->kernel, sizeof(cur->kernel), ws->w[1]);
			join_words(ws, 2, cur->append, sizeof(cur->append));
		} else if (in_entry && depth == 1 && ws->n >= 2 &&
			   is_word(ws->w[0], "initrd", "initrd16", "initrdefi")) {
			set_path(cur->initrd, sizeof(cur->initrd), ws->w[1]);
		}
		depth += brace_delta(ws);
		if (depth < 0)
			depth = 0;
		if (!in_entry || depth > 0)
			continue;
		in_entry = false;
		if (cur->kernel[0] && !have_first) {
			*first = *cur;
			have_first = true;
		}
		if (by_index ? atoi(def) == index : !strcmp(def, cur->title)) {
			if (cur->kernel[0]) {
				*out = *cur;
				r = 0;
				goto out;
			}
			default_empty = true;
		}
		index++;
	}
	/* Like GRUB: a default that names no entry falls back to the first. */
	if (have_first && default_empty) {
		r = -EINVAL;
	} else if (have_first) {
		*out = *first;
		r = 0;
	}
out:
	free(ws);
	free(cur);
	free(first);
	return r;
}

/* Moves "initrd=PATH" out of an APPEND line. */
static void take_initrd_arg(struct boot_entry *e)
{
	char *a = e->append, *s = a;

	while ((s = strstr(s, "initrd="))) {
		size_t wl = strcspn(s, " ");
		char *rest = s + wl;

		if (s != a && s[-1] != ' ') {
			s = rest;
			continue;
		}
		if (!e->initrd[0])
			snprintf(e->initrd, sizeof(e->initrd), "%.*s", (int)(wl - 7), s + 7);
		while (*rest == ' ')
			rest++;
		memmove(s, rest, strlen(rest) + 1);
	}
	for (size_t n = strlen(a); n && a[n - 1] == ' '; n--)
		a[n - 1] = '\0';
}

int boot_cfg_extlinux(const char *text, struct boot_entry *out)
{
	struct words *ws = malloc(sizeof(*ws));
	struct boot_entry *cur = calloc(1, sizeof(*cur)), *first = calloc(1, sizeof(*first));
	char def[256] = "";
	const char *p = text;
	bool have = false, have_first = false, menu_default = false;
	int r = -ENOENT;

	if (!ws || !cur || !first) {
		r = -ENOMEM;
		goto out;
	}
	while (*p) {
		size_t len;
		const char *line = p;

		p = next_line(p, &len);
		split_words(line, len, ws);
		if (ws->n >= 2 && !strcasecmp(ws->w[0], "default"))
			snprintf(def, sizeof(def), "%s", ws->w[1]);
	}
	for (p = text;;) {
		size_t len;
		const char *line = p;
		bool eof = !*p;

		if (!eof) {
			p = next_line(p, &len);
			split_words(line, len, ws);
		}
		if (eof || (ws->n >= 2 && !strcasecmp(ws->w[0], "label"))) {
			if (have && cur->kernel[0]) {
				take_initrd_arg(cur);
				if (!have_first) {
					*first = *cur;
					have_first = true;
				}
				if (menu_default || (def[0] && !strcmp(def, cur->title))) {
					*out = *cur;
					r = 0;
					goto out;
				}
			}
			if (eof)
				break;
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->title, sizeof(cur->title), "%s", ws->w[1]);
			have = true;
			menu_default = false;
			continue;
		}
		if (!have || !ws->n)
			continue;
		if ((!strcasecmp(ws->w[0], "kernel") || !strcasecmp(ws->w[0], "linux")) &&
		    ws->n >= 2)
			set_path(cur->kernel, sizeof(cur->kernel), ws->w[1]);
		else if (!strcasecmp(ws->w[0], "initrd") && ws->n >= 2)
			set_path(cur->initrd, sizeof(cur->initrd), ws->w[1]);
		else if (!strcasecmp(ws->w[0], "append"))
			join_words(ws, 1, cur->append, sizeof(cur->append));
		else if (ws->n >= 2 && !strcasecmp(ws->w[0], "menu") &&
			 !strcasecmp(ws->w[1], "default"))
			menu_default = true;
	}
	if (!have_first)
		r = -ENOENT;
	else if (def[0])
		r = -EINVAL;
	else {
		*out = *first;
		r = 0;
	}
out:
	free(ws);
	free(cur);
	free(first);
	return r;
}
