/* appliance/api_dispatch.c: one request through the route table: match,
 * role, body, handler, audit. */
#include "appliance/api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appliance/api_int.h"
#include "images/catalog.h"
#include "images/img_store.h"

void api_reply_clear(struct api_reply *rep)
{
	json_object_put(rep->body);
	rep->body = NULL;
	rep->status = 0;
}

void api_fail(struct api_reply *rep, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_object *o = json_object_new_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "code", json_object_new_int(status));
	api_reply_clear(rep);
	rep->status = status;
	rep->body = o;
}

void api_ok(struct api_reply *rep, json_object *body)
{
	api_reply_clear(rep);
	rep->status = 200;
	rep->body = body;
}

void api_ok_text(struct api_reply *rep, char *text)
{
	json_object *raw = json_object_new_array();

	/* json-c's own way to carry preformatted JSON: the object serializes
	 * to @text, which it frees with the object */
	json_object_set_serializer(raw, json_object_userdata_to_json_string, text,
				   json_object_free_userdata);
	api_ok(rep, raw);
}

int api_cat_open(const struct api_ctx *ctx, struct api_reply *rep, struct cat **out)
{
	int r = cat_open(ctx->state_dir, out);

	if (r == -EUCLEAN)
		api_fail(rep, 503, "catalog missing or damaged; see `vhdvisor catalog recover`");
	else if (r)
		api_fail(rep, 500, "cannot open the catalog: %s", strerror(-r));
	img_error_clear();
	return r;
}

bool api_body_string(json_object *body, const char *key, const char **out,
		     struct api_reply *rep)
{
	json_object *v;

	*out = NULL;
	if (!body || !json_object_object_get_ex(body, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_string)) {
		api_fail(rep, 400, "field '%s' must be a string", key);
		return false;
	}
	*out = json_object_get_string(v);
	return true;
}

int api_audit(const struct api_ctx *ctx, const char *who, const char *method,
	      const char *path, int status)
{
	char file[4200], when[32], line[2600];
	struct tm tm;
	time_t now = time(NULL);
	int fd, n, r = 0;

	if (snprintf(file, sizeof(file), "%s/audit.log", ctx->state_dir) >= (int)sizeof(file))
		return -ENAMETOOLONG;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* the path is already known printable up to its parameters; cut it */
	n = snprintf(line, sizeof(line), "%s %s %s %.2048s %d\n", when, who, method, path, status);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	for (int i = 0; i < n - 1; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n)	/* one write: lines never interleave */
		r = -EIO;
	close(fd);
	return r;
}

/* Parses a request body: nothing, or one JSON object. NULL in *@out for
 * an empty body. False with a 400 reply otherwise. */
static bool body_parse(const char *body, size_t len, json_object **out, struct api_reply *rep)
{
	struct json_tokener *tok;
	json_object *o;
	size_t used;

	*out = NULL;
	while (len && (body[len - 1] == ' ' || body[len - 1] == '\n' || body[len - 1] == '\r' ||
		       body[len - 1] == '\t'))
		len--;
	if (!len)
		return true;
	if (len > API_BODY_MAX) {
		api_fail(rep, 413, "request body larger than %d bytes", API_BODY_MAX);
		return false;
	}
	if (memchr(body, '\0', len)) {
		api_fail(rep, 400, "request body is not JSON (a NUL byte)");
		return false;
	}
	tok = json_tokener_new_ex(API_JSON_DEPTH);
	if (!tok) {
		api_fail(rep, 500, "out of memory");
		return false;
	}
	o = json_tokener_parse_ex(tok, body, (int)len);
	used = json_tokener_get_parse_end(tok);
	if (!o || json_tokener_get_error(tok) != json_tokener_success || used != len) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		api_fail(rep, 400, "request body is not JSON: %s",
			 !o && e == json_tokener_continue ? "it ends too early" :
			 o ? "text after the document" : json_tokener_error_desc(e));
		json_object_put(o);
		json_tokener_free(tok);
		return false;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		api_fail(rep, 400, "request body must be a JSON object");
		return false;
	}
	*out = o;
	return true;
}

/* The type of field @key in @route's body list ("NAME" or "NAME:TYPE",
 * space-separated): json_type_string, _int, _boolean, or json_type_null
 * when the route has no such field. */
static json_type body_field_type(const struct api_route *route, const char *key)
{
	size_t n = strlen(key);
	const char *p = route->body;

	while (n && *p) {
		size_t len = strcspn(p, " "), name = strcspn(p, ": ");

		if (name == n && !strncmp(p, key, n)) {
			if (len - n == 8 && !strncmp(p + n, ":integer", 8))
				return json_type_int;
			if (len - n == 8 && !strncmp(p + n, ":boolean", 8))
				return json_type_boolean;
			return json_type_string;
		}
		p += len;
		p += strspn(p, " ");
	}
	return json_type_null;
}

/* True when every field of @body is one of @route's, of its type. */
static bool body_check(const struct api_route *route, json_object *body, struct api_reply *rep)
{
	if (!route->body && json_object_object_length(body)) {
		api_fail(rep, 400, "%s %s takes no request body", route->method, route->pattern);
		return false;
	}
	json_object_object_foreach(body, key, val) {
		json_type t = body_field_type(route, key);

		if (t == json_type_null) {
			api_fail(rep, 400, "unknown field '%.64s' (known: %s)", key, route->body);
			return false;
		}
		if (!json_object_is_type(val, t)) {
			api_fail(rep, 400, "field '%s' must be %s", key,
				 t == json_type_int ? "an integer" :
				 t == json_type_boolean ? "true or false" : "a string");
			return false;
		}
	}
	return true;
}

bool api_resolve(const char *method, const char *path, enum api_role role,
		 char params[][API_PARAM_MAX], struct api_req *req,
		 const struct api_route **route, struct api_reply *rep)
{
	char why[256];
	size_t n;
	const struct api_route *routes = api_routes(&n);

	switch (api_match(routes, n, method, path, route, params, &req->nparams, why,
			  sizeof(why))) {
	case API_MATCH_OK: break;
	case API_MATCH_NOT_FOUND: api_fail(rep, 404, "%s", why); return false;
	case API_MATCH_BAD_METHOD: api_fail(rep, 405, "%s", why); return false;
	case API_MATCH_BAD_PATH: api_fail(rep, 400, "%s", why); return false;
	}
	if (role < (*route)->role) {
		if (role == API_ROLE_NONE)
			api_fail(rep, 401, "a token is needed (Authorization: Bearer TOKEN)");
		else
			api_fail(rep, 403, "role %s may not %s %s (needs %s)", api_role_name(role),
				 method, (*route)->pattern, api_role_name((*route)->role));
		return false;
	}
	for (unsigned i = 0; i < req->nparams; i++)
		req->params[i] = params[i];
	return true;
}

void api_dispatch(const struct api_ctx *ctx, const char *method, const char *path,
		  const char *body, size_t len, enum api_role role, const char *who,
		  struct api_reply *rep)
{
	char params[API_MAX_PARAMS][API_PARAM_MAX], bare[API_PATH_MAX];
	const char *qs = strchr(path, '?');
	const struct api_route *route;
	struct api_req req = { .method = method, .role = role, .who = who };

	rep->status = 0;
	rep->body = NULL;
	if (qs) {               /* the path without its query */
		if ((size_t)(qs - path) >= sizeof(bare)) {
			api_fail(rep, 400, "path longer than %d bytes", API_PATH_MAX - 1);
			goto audit;
		}
		memcpy(bare, path, (size_t)(qs - path));
		bare[qs - path] = '\0';
		qs++;
	}
	if (!api_resolve(method, qs ? bare : path, role, params, &req, &route, rep))
		goto audit;
	if (!api_query_parse(route, qs, &req.query, rep))
		goto audit;
	if (!body_parse(body, len, &req.body, rep)) {
		json_object_put(req.query);
		goto audit;
	}
	if (req.body && !body_check(route, req.body, rep)) {
		json_object_put(req.body);
		json_object_put(req.query);
		goto audit;
	}
	route->fn(ctx, &req, rep);
	json_object_put(req.body);
	json_object_put(req.query);
	if (!rep->body)
		api_fail(rep, 500, "the handler gave no reply");
audit:
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		api_audit(ctx, who ? who : "-", method, path, rep->status);
}
