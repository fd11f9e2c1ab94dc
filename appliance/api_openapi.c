/* appliance/api_openapi.c: the OpenAPI 3.0 document, generated from the
 * route table so that the two cannot disagree. */
#include "appliance/api.h"

#include <string.h>

#include "appliance/api_int.h"
#include "appliance/api_stream.h"

static json_object *str(const char *s)
{
	return json_object_new_string(s);
}

static json_object *ref(const char *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "$ref", str(r));
	return o;
}

static json_object *json_content(json_object *schema)
{
	json_object *c = json_object_new_object(), *m = json_object_new_object();

	json_object_object_add(m, "schema", schema);
	json_object_object_add(c, "application/json", m);
	return c;
}

static json_object *response(const char *desc, json_object *schema)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "description", str(desc));
	json_object_object_add(r, "content", json_content(schema));
	return r;
}

/* A response without a body. */
static json_object *response_plain(const char *desc)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "description", str(desc));
	return r;
}

/* The {param} segments of @pattern as path parameters. */
static json_object *path_params(const char *pattern)
{
	json_object *arr = json_object_new_array();
	const char *p = pattern;

	while ((p = strchr(p, '{'))) {
		const char *e = strchr(p, '}');
		json_object *prm = json_object_new_object(), *sch = json_object_new_object();

		if (!e)
			break;
		json_object_object_add(prm, "name", json_object_new_string_len(p + 1, (int)(e - p - 1)));
		json_object_object_add(prm, "in", str("path"));
		json_object_object_add(prm, "required", json_object_new_boolean(1));
		json_object_object_add(sch, "type", str("string"));
		json_object_object_add(sch, "pattern", str("^[A-Za-z0-9_:@][A-Za-z0-9._:@-]*$"));
		json_object_object_add(sch, "maxLength", json_object_new_int(API_PARAM_MAX - 1));
		json_object_object_add(prm, "schema", sch);
		json_object_array_add(arr, prm);
		p = e;
	}
	return arr;
}

/* The route's query parameters (api_query_params()) added to @arr. */
static void query_params(const struct api_route *r, json_object *arr)
{
	size_t n;
	const struct api_query_param *q = api_query_params(&n);

	for (size_t i = 0; i < n; i++) {
		json_object *prm, *sch;

		if (strcmp(q[i].op_id, r->op_id))
			continue;
		prm = json_object_new_object();
		sch = json_object_new_object();
		json_object_object_add(prm, "name", str(q[i].name));
		json_object_object_add(prm, "in", str("query"));
		json_object_object_add(prm, "required", json_object_new_boolean(0));
		json_object_object_add(prm, "description", str(q[i].doc));
		json_object_object_add(sch, "type", str(q[i].integer ? "integer" : "string"));
		if (q[i].integer)
			json_object_object_add(sch, "minimum", json_object_new_int(0));
		json_object_object_add(prm, "schema", sch);
		json_object_array_add(arr, prm);
	}
}

static json_object *request_body(const struct api_route *r)
{
	json_object *rb = json_object_new_object(), *sch = json_object_new_object();
	json_object *props = json_object_new_object();
	const char *p = r->body;

	while (*p) {
		size_t n = strcspn(p, " "), name = strcspn(p, ": ");
		json_object *f = json_object_new_object();
		/* "NAME:integer", "NAME:boolean", or a string */
		const char *type = name < n ? strndupa(p + name + 1, n - name - 1) : "string";

		json_object_object_add(f, "type", str(type));
		json_object_object_add_ex(props, strndupa(p, name), f, 0);
		p += n;
		p += strspn(p, " ");
	}
	json_object_object_add(sch, "type", str("object"));
	json_object_object_add(sch, "additionalProperties", json_object_new_boolean(0));
	json_object_object_add(sch, "properties", props);
	if (r->body_doc)
		json_object_object_add(sch, "description", str(r->body_doc));
	json_object_object_add(rb, "required", json_object_new_boolean(0));
	json_object_object_add(rb, "content", json_content(sch));
	return rb;
}

/* Bytes, for the routes of api_stream.h. */
static json_object *binary_content(void)
{
	json_object *c = json_object_new_object(), *m = json_object_new_object();
	json_object *sch = json_object_new_object();

	json_object_object_add(sch, "type", str("string"));
	json_object_object_add(sch, "format", str("binary"));
	json_object_object_add(m, "schema", sch);
	json_object_object_add(c, "application/octet-stream", m);
	return c;
}

static json_object *header_param(const char *name, const char *desc)
{
	json_object *prm = json_object_new_object(), *sch = json_object_new_object();

	json_object_object_add(prm, "name", str(name));
	json_object_object_add(prm, "in", str("header"));
	json_object_object_add(prm, "required", json_object_new_boolean(0));
	json_object_object_add(prm, "description", str(desc));
	json_object_object_add(sch, "type", str("string"));
	json_object_object_add(prm, "schema", sch);
	return prm;
}

/* What a streamed route adds: its header, and its bytes as the request
 * body (upload) or as the 200/206 replies (download). */
static void stream_operation(const struct api_route *r, json_object *op, json_object *params,
			     json_object *resp)
{
	json_object *rb, *ok;

	switch (api_route_stream(r)) {
	case API_STREAM_UPLOAD:
		json_object_array_add(params, header_param("Content-Range",
			"bytes START-END/TOTAL or bytes START-END/*; START must be the "
			"upload's offset"));
		rb = json_object_new_object();
		json_object_object_add(rb, "required", json_object_new_boolean(1));
		json_object_object_add(rb, "content", binary_content());
		json_object_object_add(op, "requestBody", rb);
		break;
	case API_STREAM_DOWNLOAD:
		json_object_array_add(params, header_param("Range",
			"one range: bytes=A-B, bytes=A- or bytes=-N"));
		ok = json_object_new_object();
		json_object_object_add(ok, "description", str("the whole file"));
		json_object_object_add(ok, "content", binary_content());
		json_object_object_add(resp, "200", ok);
		ok = json_object_new_object();
		json_object_object_add(ok, "description", str("the range asked for "
							       "(Content-Range)"));
		json_object_object_add(ok, "content", binary_content());
		json_object_object_add(resp, "206", ok);
		break;
	case API_STREAM_NONE:
		break;
	}
}

static json_object *operation(const struct api_route *r)
{
	json_object *op = json_object_new_object(), *resp = json_object_new_object();
	json_object *obj = json_object_new_object();
	json_object *params = path_params(r->pattern);

	query_params(r, params);
	json_object_object_add(op, "operationId", str(r->op_id));
	json_object_object_add(op, "summary", str(r->summary));
	json_object_object_add(op, "x-vhdvisor-role", str(api_role_name(r->role)));
	stream_operation(r, op, params, resp);
	if (json_object_array_length(params))
		json_object_object_add(op, "parameters", params);
	else
		json_object_put(params);
	if (r->body)
		json_object_object_add(op, "requestBody", request_body(r));
	if (r->role == API_ROLE_NONE)
		json_object_object_add(op, "security", json_object_new_array());
	json_object_object_add(obj, "type", str("object"));
	if (api_route_upgrades(r)) {
		json_object_object_add(resp, "101", response_plain("switching to the WebSocket "
								  "protocol (RFC 6455)"));
		json_object_put(obj);
	} else if (api_route_stream(r) == API_STREAM_DOWNLOAD) {
		json_object_put(obj);
	} else {
		json_object_object_add(resp, api_route_accepts(r) ? "202" : "200",
				       response(api_route_accepts(r) ? "accepted: the task" : "success",
						obj));
	}
	json_object_object_add(resp, "4XX", response("refused: bad request, auth, not found, "
						     "conflict, too large", ref("#/components/schemas/Error")));
	json_object_object_add(resp, "5XX", response("failed", ref("#/components/schemas/Error")));
	json_object_object_add(op, "responses", resp);
	return op;
}

static json_object *components(void)
{
	json_object *c = json_object_new_object(), *schemas = json_object_new_object();
	json_object *err = json_object_new_object(), *props = json_object_new_object();
	json_object *req = json_object_new_array(), *t, *sec = json_object_new_object();
	json_object *bearer = json_object_new_object();

	t = json_object_new_object();
	json_object_object_add(t, "type", str("string"));
	json_object_object_add(props, "error", t);
	t = json_object_new_object();
	json_object_object_add(t, "type", str("integer"));
	json_object_object_add(props, "code", t);
	json_object_array_add(req, str("error"));
	json_object_array_add(req, str("code"));
	json_object_object_add(err, "type", str("object"));
	json_object_object_add(err, "required", req);
	json_object_object_add(err, "properties", props);
	json_object_object_add(schemas, "Error", err);
	json_object_object_add(c, "schemas", schemas);
	json_object_object_add(bearer, "type", str("http"));
	json_object_object_add(bearer, "scheme", str("bearer"));
	json_object_object_add(sec, "bearer", bearer);
	json_object_object_add(c, "securitySchemes", sec);
	return c;
}

json_object *api_openapi(void)
{
	json_object *doc = json_object_new_object(), *info = json_object_new_object();
	json_object *paths = json_object_new_object(), *security = json_object_new_array();
	json_object *b = json_object_new_object();
	size_t n;
	const struct api_route *r = api_routes(&n);

	json_object_object_add(doc, "openapi", str("3.0.3"));
	json_object_object_add(info, "title", str("vhdvisor API"));
	json_object_object_add(info, "version", str(VHDVISOR_VERSION));
	json_object_object_add(doc, "info", info);
	for (size_t i = 0; i < n; i++) {
		json_object *item;
		char m[8];
		size_t k;

		if (!json_object_object_get_ex(paths, r[i].pattern, &item)) {
			item = json_object_new_object();
			json_object_object_add(paths, r[i].pattern, item);
		}
		for (k = 0; r[i].method[k] && k < sizeof(m) - 1; k++)
			m[k] = (char)(r[i].method[k] | 0x20);
		m[k] = '\0';
		json_object_object_add(item, m, operation(&r[i]));
	}
	json_object_object_add(doc, "paths", paths);
	json_object_object_add(doc, "components", components());
	json_object_object_add(b, "bearer", json_object_new_array());
	json_object_array_add(security, b);
	json_object_object_add(doc, "security", security);
	return doc;
}

void api_openapi_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	api_ok(rep, api_openapi());
}
