/* appliance/api.h: the management API as library code. Each operation is
 * one handler: a parsed request in, an HTTP status and a JSON reply out.
 * The route table (method, path pattern, handler, minimum role) is the one
 * source of truth: the daemon dispatches through it and the OpenAPI
 * document (api_openapi()) is generated from it, so they cannot drift.
 *
 * Errors are replies too: {"error": "what went wrong", "code": STATUS}.
 * Handlers may run on several threads at once; each opens the catalog for
 * itself. They never print; mutating requests go to the audit log.
 */
#ifndef VV_APPLIANCE_API_H
#define VV_APPLIANCE_API_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define API_PREFIX "/api/v1"
#define API_MAX_PARAMS 4
#define API_PARAM_MAX 130       /* a {param} path segment, decoded */
#define API_PATH_MAX 2048
#define API_BODY_MAX (1 << 20)  /* request bodies larger than this get 413 */
#define API_JSON_DEPTH 16       /* deeper request JSON gets 400 */

/* Roles, each allowed what the ones below it are. */
enum api_role {
	API_ROLE_NONE = 0,      /* unauthenticated */
	API_ROLE_VIEWER,        /* reads */
	API_ROLE_OPERATOR,      /* runs VMs and labs */
	API_ROLE_ADMIN,         /* everything */
};

/* "viewer", "operator", "admin" (and "none"); -EINVAL for others. */
int api_role_parse(const char *s, enum api_role *out);
const char *api_role_name(enum api_role r);

/* Where the handlers work: the state directory (catalog, tokens, audit
 * log). The run directory is vmrec_run_dir() ($VHDVISOR_RUN). */
struct metrics;
struct api_ctx {
	const char *state_dir;
	struct metrics *metrics;        /* the daemon's sampler; NULL: none runs */
};

/* Who asks: a token's name, or "local:uid=N" on the Unix socket. */
struct api_req {
	const char *method;
	const char *params[API_MAX_PARAMS];     /* the {param} segments, decoded */
	unsigned nparams;
	json_object *body;                      /* an object, or NULL */
	/* The query string's parameters, decoded: an object of strings, only
	 * names api_query_params() lists for the route, each once, integers
	 * checked to be integers; NULL when the request had none. */
	json_object *query;
	enum api_role role;
	const char *who;
};

struct api_reply {
	int status;             /* HTTP status */
	json_object *body;      /* owned by the reply; api_reply_clear() */
};

typedef void (*api_handler_fn)(const struct api_ctx *ctx, const struct api_req *req,
			       struct api_reply *rep);

struct api_route {
	const char *method;     /* "GET", "POST", ... */
	const char *pattern;    /* "/api/v1/vms/{name}/start" */
	api_handler_fn fn;
	enum api_role role;     /* the least role allowed */
	const char *op_id;      /* OpenAPI operationId */
	const char *summary;
	/* The request body's fields, space-separated ("kernel initrd"), or
	 * NULL for a route without a body. A field is a string unless it ends
	 * in ":integer" or ":boolean" ("cpus:integer"). api_dispatch()
	 * refuses (400) other fields, other types and bodies where NULL. */
	const char *body;
	const char *body_doc;   /* what the fields mean, for the document */
};

/* The route table, @n entries. */
const struct api_route *api_routes(size_t *n);

/* A query parameter a route takes (api_query.c): ?NAME=VALUE. */
struct api_query_param {
	const char *op_id;      /* the route's operationId */
	const char *name;
	bool integer;           /* a decimal integer, 0 .. 10^18-1; else any string */
	const char *doc;
};

/* The query parameters of all routes, @n entries. */
const struct api_query_param *api_query_params(size_t *n);

/* Parses @qs (the raw query string after '?', percent-encoded, '+' a
 * space) against @route's parameters into *@out (an object of strings,
 * NULL for an empty @qs). False with a 400 reply for an unknown or
 * repeated name, a bad encoding or a value that is not what the
 * parameter takes. */
bool api_query_parse(const struct api_route *route, const char *qs, json_object **out,
		     struct api_reply *rep);

/* The integer query parameter @name of @req into *@out; false when
 * absent (*@out unchanged). */
bool api_query_int(const struct api_req *req, const char *name, long long *out);

/* Sets @rep to status @status and {"error": MESSAGE, "code": status}
 * (replacing an earlier body). */
void api_fail(struct api_reply *rep, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets @rep to 200 and @body (owned by the reply now). */
void api_ok(struct api_reply *rep, json_object *body);
/* Sets @rep to 200 and the JSON text @text (malloc'd, owned by the reply
 * now), for large replies written without a json-c tree: the body
 * serializes to @text, but as a tree it is an empty array (callers in
 * this process parse its string). */
void api_ok_text(struct api_reply *rep, char *text);
void api_reply_clear(struct api_reply *rep);

/* True when @s may name a VM, an image reference or a token in a path:
 * 1..API_PARAM_MAX-1 bytes of [A-Za-z0-9._:@-], not starting with '.'
 * or '-' (so no '/', no "..", no control characters). */
bool api_name_valid(const char *s);

/* Matching a request's path (raw, still percent-encoded, no query). */
enum api_match_result {
	API_MATCH_OK = 0,
	API_MATCH_NOT_FOUND,    /* 404: no route has this path */
	API_MATCH_BAD_METHOD,   /* 405: routes have the path, not the method */
	API_MATCH_BAD_PATH,     /* 400: bad encoding, or a bad {param} */
};

/* Finds the route of @method @path in @routes (@n entries); on
 * API_MATCH_OK, *@route and the decoded {param} segments in @params
 * (API_MAX_PARAMS buffers of API_PARAM_MAX bytes), their count in
 * *@nparams. A short reason for the caller's error goes to @why. */
enum api_match_result api_match(const struct api_route *routes, size_t n, const char *method,
				const char *path, const struct api_route **route,
				char params[][API_PARAM_MAX], unsigned *nparams,
				char *why, size_t whylen);

/* One whole request: matches @method @path (raw; a "?QUERY" at its end
 * is split off and parsed by api_query_parse()) against the route table,
 * checks @role (403 when too low; 401 when API_ROLE_NONE and a role is
 * needed), parses @body (@len bytes; empty or a JSON object, at most
 * API_JSON_DEPTH deep), runs the handler, and writes an audit line for
 * every request that is not a GET. Always fills @rep. */
void api_dispatch(const struct api_ctx *ctx, const char *method, const char *path,
		  const char *body, size_t len, enum api_role role, const char *who,
		  struct api_reply *rep);

/* True when @r upgrades to a WebSocket over HTTP (the VM console): its
 * handler only checks that there is something to join; the HTTP server
 * does the handshake (101) and runs the session (appliance/ws_bridge.h). */
bool api_route_upgrades(const struct api_route *r);

/* The OpenAPI 3.0 document of the route table (a new object). */
json_object *api_openapi(void);

/* Appends "TIME WHO METHOD PATH STATUS" to STATE/audit.log (0600). 0 or
 * -errno. */
int api_audit(const struct api_ctx *ctx, const char *who, const char *method,
	      const char *path, int status);

#endif
