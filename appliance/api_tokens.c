/* appliance/api_tokens.c: API tokens: GET /tokens, POST /tokens (the
 * secret is in that reply only), DELETE /tokens/{name}, through the calls
 * of `vhdvisor token list/create/revoke` (appliance/token.h). Admin only
 * (the route table says so). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "appliance/api_int.h"
#include "appliance/token.h"

json_object *api_token_json(const struct api_token *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "role", json_object_new_string(api_role_name(t->role)));
	json_object_object_add(o, "created", json_object_new_int64(t->created));
	return o;
}

static int list_one(void *opaque, const struct api_token *t)
{
	json_object_array_add(opaque, api_token_json(t));
	return 0;
}

void api_tokens_list(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	json_object *arr = json_object_new_array();
	int r = api_token_foreach(ctx->state_dir, list_one, arr);

	if (r) {
		json_object_put(arr);
		api_fail(rep, 500, "%s/tokens: %s", ctx->state_dir, strerror(-r));
		return;
	}
	api_ok(rep, arr);
}

/* Finds token @name's record for the reply. */
static int find_one(void *opaque, const struct api_token *t)
{
	struct api_token *want = opaque;

	if (strcmp(t->name, want->name))
		return 0;
	*want = *t;
	return 1;
}

void api_token_new(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	char secret[TOKEN_SECRET_LEN + 1];
	struct api_token t = { 0 };
	const char *name, *role_s;
	enum api_role role;
	json_object *j;
	int r;

	if (!(name = api_body_name(req->body, "name", rep)) ||
	    !api_body_string(req->body, "role", &role_s, rep))
		return;
	if (!role_s || api_role_parse(role_s, &role) || role == API_ROLE_NONE) {
		api_fail(rep, 400, "field 'role' must be admin, operator or viewer");
		return;
	}
	r = api_token_create(ctx->state_dir, name, role, secret);
	if (r == -EINVAL) {
		api_fail(rep, 400, "bad token name '%.64s' (1-%d of A-Z a-z 0-9 . _ -, starting "
			 "with a letter or digit)", name, TOKEN_NAME_MAX);
		return;
	}
	if (r) {
		api_fail_errno(rep, r, r == -EEXIST ? "that token name is taken" : NULL);
		return;
	}
	snprintf(t.name, sizeof(t.name), "%s", name);
	if (api_token_foreach(ctx->state_dir, find_one, &t) != 1) {
		t.role = role;	/* revoked at once by another request */
		t.created = 0;
	}
	j = api_token_json(&t);
	json_object_object_add(j, "secret", json_object_new_string(secret));
	explicit_bzero(secret, sizeof(secret));
	api_ok(rep, j);
}

void api_token_delete(const struct api_ctx *ctx, const struct api_req *req,
		      struct api_reply *rep)
{
	json_object *j;
	int r = api_token_revoke(ctx->state_dir, req->params[0]);

	if (r == -ENOENT) {
		api_fail(rep, 404, "no token '%s'", req->params[0]);
		return;
	}
	if (r) {
		api_fail(rep, 500, "token %s: %s", req->params[0], strerror(-r));
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(req->params[0]));
	json_object_object_add(j, "revoked", json_object_new_boolean(1));
	api_ok(rep, j);
}
