/* Unit tests for appliance/: the route matcher, the name check, request
 * bodies and roles through api_dispatch(), the OpenAPI document against
 * the route table, and tokens. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/api.h"
#include "appliance/token.h"

static void noop(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "n", json_object_new_int((int)req->nparams));
	api_ok(rep, o);
}

static const struct api_route table[] = {
	{ "GET", "/api/v1/vms", noop, API_ROLE_VIEWER, "a", "a", NULL, NULL },
	{ "GET", "/api/v1/vms/{name}", noop, API_ROLE_VIEWER, "b", "b", NULL, NULL },
	{ "POST", "/api/v1/vms/{name}/start", noop, API_ROLE_OPERATOR, "c", "c", "x", NULL },
	{ "GET", "/api/v1/images/{id}/tags/{tag}", noop, API_ROLE_VIEWER, "d", "d", NULL, NULL },
};

static enum api_match_result m(const char *method, const char *path, const struct api_route **r,
			       char params[][API_PARAM_MAX], unsigned *np)
{
	char why[256];

	return api_match(table, 4, method, path, r, params, np, why, sizeof(why));
}

Test(api_match, literal_and_params)
{
	char p[API_MAX_PARAMS][API_PARAM_MAX];
	const struct api_route *r;
	unsigned n;

	cr_assert_eq(m("GET", "/api/v1/vms", &r, p, &n), API_MATCH_OK);
	cr_assert_eq(r, &table[0]);
	cr_assert_eq(n, 0);
	cr_assert_eq(m("GET", "/api/v1/vms/web-1", &r, p, &n), API_MATCH_OK);
	cr_assert_eq(r, &table[1]);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(p[0], "web-1");
	cr_assert_eq(m("POST", "/api/v1/vms/db.2/start", &r, p, &n), API_MATCH_OK);
	cr_assert_eq(r, &table[2]);
	cr_assert_eq(m("GET", "/api/v1/images/deb:12/tags/t%5Fx", &r, p, &n), API_MATCH_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(p[0], "deb:12");
	cr_assert_str_eq(p[1], "t_x", "segments are percent-decoded");
}

Test(api_match, not_found_and_method)
{
	char p[API_MAX_PARAMS][API_PARAM_MAX];
	const struct api_route *r;
	unsigned n;

	cr_assert_eq(m("GET", "/api/v1/nope", &r, p, &n), API_MATCH_NOT_FOUND);
	cr_assert_eq(m("GET", "/api/v1/vms/", &r, p, &n), API_MATCH_BAD_PATH, "an empty name");
	cr_assert_eq(m("GET", "/api/v1/vms/a/b/c", &r, p, &n), API_MATCH_NOT_FOUND);
	cr_assert_eq(m("GET", "/api/v2/vms", &r, p, &n), API_MATCH_NOT_FOUND);
	cr_assert_eq(m("GET", "", &r, p, &n), API_MATCH_BAD_PATH);
	cr_assert_eq(m("DELETE", "/api/v1/vms", &r, p, &n), API_MATCH_BAD_METHOD);
	cr_assert_eq(m("GET", "/api/v1/vms/x/start", &r, p, &n), API_MATCH_BAD_METHOD);
	cr_assert_null(r);
	/* the literal parts match exactly, not as prefixes */
	cr_assert_eq(m("GET", "/api/v1/vmsx", &r, p, &n), API_MATCH_NOT_FOUND);
	cr_assert_eq(m("GET", "/api/v1/vm", &r, p, &n), API_MATCH_NOT_FOUND);
}

Test(api_match, bad_names_are_400)
{
	static const char *const bad[] = {
		"/api/v1/vms/a%2Fb", "/api/v1/vms/..", "/api/v1/vms/.", "/api/v1/vms/.hidden",
		"/api/v1/vms/a%00b", "/api/v1/vms/a%01b", "/api/v1/vms/a%0Ab", "/api/v1/vms/a%7Fb",
		"/api/v1/vms/a%zzb", "/api/v1/vms/a%4", "/api/v1/vms/%", "/api/v1/vms/-x",
		"/api/v1/vms/a%20b", "/api/v1/vms/a%C3%A9",
	};
	char p[API_MAX_PARAMS][API_PARAM_MAX], longname[400];
	const struct api_route *r;
	unsigned n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(m("GET", bad[i], &r, p, &n), API_MATCH_BAD_PATH, "%s", bad[i]);
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "/api/v1/vms/", 12);
	longname[12 + API_PARAM_MAX - 1] = '\0';
	cr_assert_eq(m("GET", longname, &r, p, &n), API_MATCH_OK, "the longest name");
	longname[12 + API_PARAM_MAX - 1] = 'a';
	longname[12 + API_PARAM_MAX] = '\0';
	cr_assert_eq(m("GET", longname, &r, p, &n), API_MATCH_BAD_PATH, "one byte longer");
}

Test(api_name, valid)
{
	cr_assert(api_name_valid("web-1"));
	cr_assert(api_name_valid("debian:12"));
	cr_assert(api_name_valid("a.b_c@d"));
	cr_assert(api_name_valid("0123456789abcdef"));
	cr_assert_not(api_name_valid(""));
	cr_assert_not(api_name_valid(".."));
	cr_assert_not(api_name_valid("a/b"));
	cr_assert_not(api_name_valid("a\nb"));
	cr_assert_not(api_name_valid("a\tb"));
	cr_assert_not(api_name_valid("a\x7f"));
	cr_assert_not(api_name_valid("-rf"));
	cr_assert_not(api_name_valid("a b"));
}

/* ---- through api_dispatch with the real table ---- */

static char state[64];

static void mkstate(void)
{
	snprintf(state, sizeof(state), "/tmp/vvapi.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
}

static void rmstate(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
	cr_assert_eq(system(cmd), 0);
}

static int code_of(const char *method, const char *path, const char *body,
		   enum api_role role, char *err, size_t errlen)
{
	struct api_ctx ctx = { .state_dir = state };
	struct api_reply rep;
	json_object *e, *c;
	int status;

	api_dispatch(&ctx, method, path, body, strlen(body), role, "test", &rep);
	status = rep.status;
	cr_assert_not_null(rep.body);
	if (status != 200) {
		cr_assert(json_object_object_get_ex(rep.body, "error", &e), "error shape");
		cr_assert(json_object_object_get_ex(rep.body, "code", &c), "error shape");
		cr_assert_eq(json_object_get_int(c), status);
		if (err)
			snprintf(err, errlen, "%s", json_object_get_string(e));
	}
	api_reply_clear(&rep);
	return status;
}

Test(api_dispatch, statuses, .init = mkstate, .fini = rmstate)
{
	char deep[200] = "", err[512];

	cr_assert_eq(code_of("GET", "/api/v1/vms", "", API_ROLE_VIEWER, NULL, 0), 200);
	cr_assert_eq(code_of("GET", "/api/v1/vms", "", API_ROLE_NONE, NULL, 0), 401);
	cr_assert_eq(code_of("GET", "/api/v1/openapi.json", "", API_ROLE_NONE, NULL, 0), 200);
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "", API_ROLE_VIEWER, NULL, 0), 403);
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "", API_ROLE_OPERATOR, NULL, 0), 404);
	cr_assert_eq(code_of("GET", "/api/v1/vms/nope", "", API_ROLE_ADMIN, NULL, 0), 404);
	cr_assert_eq(code_of("PUT", "/api/v1/vms", "", API_ROLE_ADMIN, NULL, 0), 405);
	cr_assert_eq(code_of("GET", "/api/v1/vms/a%2F..", "", API_ROLE_ADMIN, NULL, 0), 400);
	/* bodies: not JSON, not an object, unknown field, wrong type, too deep,
	 * trailing text, a body where none is taken */
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "{", API_ROLE_ADMIN, err,
			     sizeof(err)), 400);
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "[1]", API_ROLE_ADMIN, NULL, 0), 400);
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "{\"bogus\":\"1\"}", API_ROLE_ADMIN,
			     err, sizeof(err)), 400);
	cr_assert(strstr(err, "unknown field 'bogus'"), "%s", err);
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "{\"boot\":1}", API_ROLE_ADMIN,
			     err, sizeof(err)), 400);
	cr_assert(strstr(err, "must be a string"), "%s", err);
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", deep, API_ROLE_ADMIN, NULL, 0), 400);
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "{} x", API_ROLE_ADMIN, NULL, 0), 400);
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/stop", "{\"x\":\"1\"}", API_ROLE_ADMIN, NULL,
			     0), 400);
	/* a known field gets through to the handler, which finds no VM */
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "{\"boot\":\"auto\"}",
			     API_ROLE_ADMIN, NULL, 0), 404);
	/* an operator may not pick host files to boot */
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/start", "{\"kernel\":\"/etc/shadow\"}",
			     API_ROLE_OPERATOR, NULL, 0), 403);
}

Test(api_dispatch, audit_lines, .init = mkstate, .fini = rmstate)
{
	char path[128], line[512];
	struct stat st;
	FILE *f;
	int n = 0;

	code_of("GET", "/api/v1/vms", "", API_ROLE_VIEWER, NULL, 0);
	code_of("POST", "/api/v1/vms/x/stop", "", API_ROLE_OPERATOR, NULL, 0);
	code_of("POST", "/api/v1/vms/x/start", "", API_ROLE_VIEWER, NULL, 0);
	snprintf(path, sizeof(path), "%s/audit.log", state);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	while (fgets(line, sizeof(line), f)) {
		cr_assert(strstr(line, " test POST /api/v1/vms/x/st"), "%s", line);
		n++;
	}
	fclose(f);
	cr_assert_eq(n, 2, "one line per mutating request, none for GET");
}

Test(api_openapi, matches_the_table)
{
	json_object *doc = api_openapi(), *paths, *item, *op, *id;
	size_t n, ops = 0;
	const struct api_route *r = api_routes(&n);

	cr_assert(json_object_object_get_ex(doc, "paths", &paths));
	for (size_t i = 0; i < n; i++) {
		char m[8] = "";

		for (size_t k = 0; r[i].method[k]; k++)
			m[k] = (char)(r[i].method[k] | 0x20);
		cr_assert(json_object_object_get_ex(paths, r[i].pattern, &item), "%s", r[i].pattern);
		cr_assert(json_object_object_get_ex(item, m, &op), "%s %s", m, r[i].pattern);
		cr_assert(json_object_object_get_ex(op, "operationId", &id));
		cr_assert_str_eq(json_object_get_string(id), r[i].op_id);
	}
	json_object_object_foreach(paths, key, val) {
		(void)key;
		ops += (size_t)json_object_object_length(val);
	}
	cr_assert_eq(ops, n, "no operation the table lacks");
	json_object_put(doc);
}

Test(token, create_check_revoke, .init = mkstate, .fini = rmstate)
{
	char s1[TOKEN_SECRET_LEN + 1], s2[TOKEN_SECRET_LEN + 1], s3[TOKEN_SECRET_LEN + 1];
	char path[128];
	struct api_token t;
	struct stat st;
	FILE *f;
	char buf[4096];
	size_t len;

	cr_assert_eq(api_token_create(state, "ci", API_ROLE_OPERATOR, s1), 0);
	cr_assert_eq(api_token_create(state, "ro", API_ROLE_VIEWER, s2), 0);
	cr_assert_eq(api_token_create(state, "ci", API_ROLE_ADMIN, s3), -EEXIST);
	cr_assert_eq(api_token_create(state, "a/b", API_ROLE_ADMIN, s3), -EINVAL);
	cr_assert_eq(api_token_create(state, "x", API_ROLE_NONE, s3), -EINVAL);
	cr_assert_eq(api_token_check(state, s1, &t), 0);
	cr_assert_str_eq(t.name, "ci");
	cr_assert_eq(t.role, API_ROLE_OPERATOR);
	/* stored hashed: the secret is nowhere in the file */
	snprintf(path, sizeof(path), "%s/tokens", state);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	fclose(f);
	cr_assert_null(strstr(buf, s1 + 4));
	s1[10] ^= 1;
	cr_assert_eq(api_token_check(state, s1, &t), -EACCES);
	s1[10] ^= 1;
	cr_assert_eq(api_token_check(state, "vvt_short", &t), -EACCES);
	cr_assert_eq(api_token_revoke(state, "ci"), 0);
	cr_assert_eq(api_token_revoke(state, "ci"), -ENOENT);
	cr_assert_eq(api_token_check(state, s1, &t), -EACCES);
	cr_assert_eq(api_token_check(state, s2, &t), 0, "the other token still works");
}

/* Typed body fields ("cpus:integer", "full:boolean"): the dispatcher
 * checks each against the table, and the document says the same type. */
Test(api_dispatch, typed_fields, .init = mkstate, .fini = rmstate)
{
	json_object *doc = api_openapi(), *t;
	char err[512];

	cr_assert_eq(code_of("POST", "/api/v1/vms", "{\"name\":\"a\",\"image\":\"i\",\"cpus\":\"2\"}",
			     API_ROLE_OPERATOR, err, sizeof(err)), 400);
	cr_assert(strstr(err, "'cpus' must be an integer"), "%s", err);
	cr_assert_eq(code_of("POST", "/api/v1/vms", "{\"name\":\"a\",\"image\":\"i\",\"cpus\":2.5}",
			     API_ROLE_OPERATOR, err, sizeof(err)), 400);
	cr_assert_eq(code_of("POST", "/api/v1/vms/a/clone", "{\"name\":\"b\",\"full\":1}",
			     API_ROLE_OPERATOR, err, sizeof(err)), 400);
	cr_assert(strstr(err, "'full' must be true or false"), "%s", err);
	cr_assert_eq(code_of("POST", "/api/v1/vms", "{\"name\":\"a\",\"image\":1}",
			     API_ROLE_OPERATOR, err, sizeof(err)), 400);
	cr_assert(strstr(err, "'image' must be a string"), "%s", err);
	/* "cpus" matches no prefix of another field's name, nor a type word */
	cr_assert_eq(code_of("POST", "/api/v1/vms", "{\"integer\":1}", API_ROLE_OPERATOR, err,
			     sizeof(err)), 400);
	cr_assert(strstr(err, "unknown field 'integer'"), "%s", err);
	cr_assert_eq(code_of("POST", "/api/v1/vms", "{\"cpu\":1}", API_ROLE_OPERATOR, err,
			     sizeof(err)), 400);
	/* well typed, out of range: the handler's 400; in range: no image, 404 */
	cr_assert_eq(code_of("POST", "/api/v1/vms", "{\"name\":\"a\",\"image\":\"i\",\"cpus\":65}",
			     API_ROLE_OPERATOR, err, sizeof(err)), 400);
	cr_assert(strstr(err, "'cpus' must be from 1 to 64"), "%s", err);
	/* the catalog does not exist in this state dir: 503 or 404 past the checks */
	cr_assert_neq(code_of("POST", "/api/v1/vms", "{\"name\":\"a\",\"image\":\"i\",\"cpus\":2}",
			      API_ROLE_OPERATOR, NULL, 0), 400);
	cr_assert_eq(code_of("POST", "/api/v1/vms", "{\"name\":\"a\",\"image\":\"i\"}",
			     API_ROLE_VIEWER, NULL, 0), 403);
	cr_assert(json_object_object_get_ex(doc, "paths", &t));
	cr_assert(json_object_object_get_ex(t, "/api/v1/vms", &t));
	cr_assert(json_object_object_get_ex(t, "post", &t));
	cr_assert(json_object_object_get_ex(t, "requestBody", &t));
	cr_assert(json_object_object_get_ex(t, "content", &t));
	cr_assert(json_object_object_get_ex(t, "application/json", &t));
	cr_assert(json_object_object_get_ex(t, "schema", &t));
	cr_assert(json_object_object_get_ex(t, "properties", &t));
	cr_assert(json_object_object_get_ex(t, "cpus", &t));
	cr_assert(json_object_object_get_ex(t, "type", &t));
	cr_assert_str_eq(json_object_get_string(t), "integer");
	json_object_put(doc);
}
