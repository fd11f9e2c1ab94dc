/* appliance/api_query.c: query string parameters: the list of what each
 * route takes (documented in the OpenAPI document as "in: query") and
 * their parsing for api_dispatch(). Routes not listed take none. */
#include "appliance/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const struct api_query_param params[] = {
	{ "vmStats", "since", true,
	  "Unix time (seconds): only samples taken at or after it (default: the last 5 minutes)" },
	{ "vmStats", "step", true,
	  "1: every second, for the last hour (in memory); 60: every minute, for a week "
	  "(metrics.db); default 1 when since is within the last hour, else 60" },
	{ "hostStats", "since", true,
	  "Unix time (seconds): only samples taken at or after it (default: the last 5 minutes)" },
	{ "hostStats", "step", true,
	  "1: every second, for the last hour (in memory); 60: every minute, for a week "
	  "(metrics.db); default 1 when since is within the last hour, else 60" },
};

const struct api_query_param *api_query_params(size_t *n)
{
	*n = ARRAY_SIZE(params);
	return params;
}

#define QUERY_MAX 1024          /* a whole query string, encoded */
#define QUERY_VALUE_MAX 256     /* one decoded name or value */

/* Decodes @n bytes at @s ('%XX', '+' a space) into @out (@len bytes).
 * -EINVAL on a bad escape or a control byte, -ENAMETOOLONG. */
static int qs_decode(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -EINVAL;
			h = hex_digit(s[i + 1]);
			l = hex_digit(s[i + 2]);
			if (h < 0 || l < 0)
				return -EINVAL;
			c = h * 16 + l;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return -EINVAL;
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static const struct api_query_param *param_find(const struct api_route *route, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(params); i++)
		if (!strcmp(params[i].op_id, route->op_id) && !strcmp(params[i].name, name))
			return &params[i];
	return NULL;
}

static bool is_integer(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n && n <= 18 && !v[n];
}

bool api_query_parse(const struct api_route *route, const char *qs, json_object **out,
		     struct api_reply *rep)
{
	char name[QUERY_VALUE_MAX], val[QUERY_VALUE_MAX];
	json_object *q = NULL;
	const char *p = qs;

	*out = NULL;
	if (!qs || !*qs)
		return true;
	if (strlen(qs) > QUERY_MAX) {
		api_fail(rep, 400, "query string longer than %d bytes", QUERY_MAX);
		return false;
	}
	q = json_object_new_object();
	while (*p) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		size_t kn = eq ? (size_t)(eq - p) : n;
		const struct api_query_param *prm;

		if (!n) {               /* "a=1&&b=2", a trailing '&' */
			p++;
			continue;
		}
		if (qs_decode(p, kn, name, sizeof(name)) ||
		    qs_decode(eq ? eq + 1 : p + n, eq ? n - kn - 1 : 0, val, sizeof(val))) {
			api_fail(rep, 400, "bad encoding in the query string");
			goto bad;
		}
		prm = param_find(route, name);
		if (!prm) {
			api_fail(rep, 400, "unknown query parameter '%.64s' for %s %s", name,
				 route->method, route->pattern);
			goto bad;
		}
		if (json_object_object_get_ex(q, name, NULL)) {
			api_fail(rep, 400, "query parameter '%s' given twice", name);
			goto bad;
		}
		if (prm->integer && !is_integer(val)) {
			api_fail(rep, 400, "query parameter '%s' must be a non-negative integer, "
				 "not '%.64s'", name, val);
			goto bad;
		}
		json_object_object_add(q, name, json_object_new_string(val));
		p += n;
		if (*p)
			p++;
	}
	*out = q;
	return true;
bad:
	json_object_put(q);
	return false;
}

bool api_query_int(const struct api_req *req, const char *name, long long *out)
{
	json_object *v;

	if (!req->query || !json_object_object_get_ex(req->query, name, &v))
		return false;
	*out = strtoll(json_object_get_string(v), NULL, 10);
	return true;
}
