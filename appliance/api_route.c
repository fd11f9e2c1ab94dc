/* appliance/api_route.c: matching a path against the route table, names
 * allowed in paths, roles. */
#include "appliance/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

#define MAX_SEGS 16

int api_role_parse(const char *s, enum api_role *out)
{
	static const char *const names[] = { "none", "viewer", "operator", "admin" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum api_role)i;
			return 0;
		}
	return -EINVAL;
}

const char *api_role_name(enum api_role r)
{
	switch (r) {
	case API_ROLE_VIEWER: return "viewer";
	case API_ROLE_OPERATOR: return "operator";
	case API_ROLE_ADMIN: return "admin";
	default: return "none";
	}
}

bool api_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= API_PARAM_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == ':' || c == '@'))
			return false;
	}
	return true;
}

/* Percent-decodes segment @s (@n bytes) into @out (@len bytes). -EINVAL
 * for a bad escape or an encoded NUL, -ENAMETOOLONG when it does not fit. */
static int seg_decode(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hex_digit(s[i + 1]);
			if (hi < 0 || hex_digit(s[i + 2]) < 0)
				return -EINVAL;
			c = hi * 16 + hex_digit(s[i + 2]);
			if (c == 0)
				return -EINVAL;
			i += 2;
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Splits @path ("/a/b/c") into decoded segments. The count, or -EINVAL. */
static int path_split(const char *path, char segs[][API_PARAM_MAX], int max)
{
	const char *p = path;
	int n = 0;

	if (*p != '/' || strlen(path) > API_PATH_MAX)
		return -EINVAL;
	while (*p == '/') {
		const char *e = strchr(p + 1, '/');
		size_t len = e ? (size_t)(e - p - 1) : strlen(p + 1);

		if (n == max || seg_decode(p + 1, len, segs[n], API_PARAM_MAX))
			return -EINVAL;
		n++;
		p += 1 + len;
	}
	return n;
}

/* Splits a route pattern (never encoded). */
static int pattern_split(const char *pat, const char *segs[], size_t lens[], int max)
{
	int n = 0;

	while (*pat == '/' && n < max) {
		const char *e = strchr(pat + 1, '/');

		segs[n] = pat + 1;
		lens[n] = e ? (size_t)(e - pat - 1) : strlen(pat + 1);
		pat += 1 + lens[n++];
	}
	return n;
}

static bool seg_is_param(const char *s, size_t len)
{
	return len >= 2 && s[0] == '{' && s[len - 1] == '}';
}

enum api_match_result api_match(const struct api_route *routes, size_t n, const char *method,
				const char *path, const struct api_route **route,
				char params[][API_PARAM_MAX], unsigned *nparams,
				char *why, size_t whylen)
{
	static __thread char segs[MAX_SEGS][API_PARAM_MAX];
	int ns = path_split(path, segs, MAX_SEGS);
	bool path_known = false;

	*route = NULL;
	*nparams = 0;
	if (ns < 0) {
		snprintf(why, whylen, "bad path encoding");
		return API_MATCH_BAD_PATH;
	}
	for (size_t i = 0; i < n; i++) {
		const char *ps[MAX_SEGS];
		size_t pl[MAX_SEGS];
		int np = pattern_split(routes[i].pattern, ps, pl, MAX_SEGS);
		bool same = np == ns;

		for (int k = 0; same && k < np; k++)
			if (!seg_is_param(ps[k], pl[k]) &&
			    (strlen(segs[k]) != pl[k] || memcmp(segs[k], ps[k], pl[k])))
				same = false;
		if (!same)
			continue;
		path_known = true;
		if (strcmp(routes[i].method, method))
			continue;
		for (int k = 0; k < np; k++) {
			if (!seg_is_param(ps[k], pl[k]))
				continue;
			if (!api_name_valid(segs[k])) {
				snprintf(why, whylen, "bad %.*s: want 1-%d of A-Z a-z 0-9 . _ : @ -, "
					 "not starting with '.' or '-'", (int)pl[k] - 2, ps[k] + 1,
					 API_PARAM_MAX - 1);
				*nparams = 0;
				return API_MATCH_BAD_PATH;
			}
			if (*nparams == API_MAX_PARAMS)
				return API_MATCH_BAD_PATH;
			memcpy(params[(*nparams)++], segs[k], strlen(segs[k]) + 1);
		}
		*route = &routes[i];
		return API_MATCH_OK;
	}
	if (path_known) {
		snprintf(why, whylen, "method %s not allowed here", method);
		return API_MATCH_BAD_METHOD;
	}
	snprintf(why, whylen, "no such resource");
	return API_MATCH_NOT_FOUND;
}
