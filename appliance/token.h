/* appliance/token.h: API tokens. A token is a random secret shown once at
 * creation; the state directory keeps only its SHA-256, in STATE/tokens
 * (mode 0600), one line per token: "NAME ROLE SHA256HEX CREATED".
 * Changes take STATE/tokens.lock and replace the file by rename, so a
 * crash leaves the old or the new list, never half of one. */
#ifndef VV_APPLIANCE_TOKEN_H
#define VV_APPLIANCE_TOKEN_H

#include <stdint.h>

#include "appliance/api.h"

#define TOKEN_NAME_MAX 64
#define TOKEN_SECRET_LEN 68     /* "vvt_" + 64 hex digits */

struct api_token {
	char name[TOKEN_NAME_MAX + 1];
	enum api_role role;
	char hash[65];          /* hex SHA-256 of the secret */
	int64_t created;        /* Unix time */
};

/* Creates token @name (1..TOKEN_NAME_MAX of [A-Za-z0-9._-], starting
 * with an alphanumeric) with @role under @state_dir and writes its secret
 * (TOKEN_SECRET_LEN + 1 bytes) to @secret. 0, -EINVAL (bad name or role),
 * -EEXIST (the name is taken) or -errno. */
int api_token_create(const char *state_dir, const char *name, enum api_role role,
		     char secret[TOKEN_SECRET_LEN + 1]);

/* Removes token @name. 0, -ENOENT or -errno. */
int api_token_revoke(const char *state_dir, const char *name);

/* Calls @fn for each token, in creation order; stops at and returns a
 * non-zero value of @fn. 0 (also when there is no token file) or -errno. */
int api_token_foreach(const char *state_dir,
		      int (*fn)(void *opaque, const struct api_token *t), void *opaque);

/* Finds the token whose secret is @secret: 0 with its name and role in
 * *@out, -EACCES when none matches, or -errno. Compares in constant time. */
int api_token_check(const char *state_dir, const char *secret, struct api_token *out);

/* {name, role, created} of @t, as `vhdvisor token list --json` and GET
 * /api/v1/tokens show it (appliance/api_tokens.c). */
json_object *api_token_json(const struct api_token *t);

#endif
