/* tools/vhdvisor/apicli.c: the commands that go through the management
 * API (appliance/client.h) pick their door here and turn replies into
 * exit codes and messages; they only format what comes back. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/api.h"
#include "appliance/client.h"
#include "common/log.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

bool apicli_remote(void)
{
	return env("VHDVISOR_HOST");
}

int apicli_local_only(const char *cmd, const char *act)
{
	log_err("vhdvisor %s%s%s does not work with --host (VHDVISOR_HOST) yet; remotely "
		"only those of 'One API, three doors' in vhdvisor(1) do",
		cmd, act ? " " : "", act ? act : "");
	return CLI_USAGE;
}

int apicli_open(const char *state, struct api_client **out)
{
	struct api_client_opts o = {
		.state_dir = state, .host = env("VHDVISOR_HOST"), .token = env("VHDVISOR_TOKEN"),
		.fingerprint = env("VHDVISOR_FINGERPRINT"),
	};
	char err[1024] = "";
	int r = api_client_open(&o, out, err, sizeof(err));

	if (r) {
		log_err("%s", err[0] ? err : "cannot reach the API");
		return r == -EINVAL ? CLI_USAGE : CLI_FAIL;
	}
	if ((*out)->first_use)
		log_warn("%s: first connection; trusting its certificate, SHA-256 fingerprint %s, "
			 "from now on (recorded in %s). Compare it with 'vhdvisor host show' on "
			 "that host.", (*out)->where, (*out)->fingerprint, (*out)->known_hosts);
	log_dbg("API: %s%s", (*out)->door == API_DOOR_LOCAL ? "vhdvisord on " : "",
		(*out)->where);
	if ((*out)->door != API_DOOR_REMOTE)
		log_dbg("catalog in %s", (*out)->state_dir);
	return CLI_OK;
}

const char *apicli_door_name(const struct api_client *cl)
{
	switch (cl->door) {
	case API_DOOR_LOCAL: return "vhdvisord (local socket)";
	case API_DOOR_REMOTE: return "vhdvisord (HTTPS)";
	default: return "embedded (no daemon)";
	}
}

int apicli_call(struct api_client *cl, const char *method, const char *path, json_object *body,
		json_object **reply)
{
	char err[1024] = "";
	json_object *e;
	int status, r;

	r = api_client_call(cl, method, path, body, &status, reply, err, sizeof(err));
	if (r) {
		log_err("%s", err);
		return CLI_FAIL;
	}
	if (status >= 200 && status < 300)
		return CLI_OK;
	if (!json_object_object_get_ex(*reply, "error", &e))
		e = NULL;
	/* who refused matters for these: name the door */
	if (status == 401 || status == 403 || status == 429)
		log_err("%s: %s (HTTP %d)", cl->where, e ? json_object_get_string(e) : "refused",
			status);
	else
		log_err("%s", e ? json_object_get_string(e) : "failed");
	json_object_put(*reply);
	*reply = NULL;
	return status == 400 ? CLI_USAGE : CLI_FAIL;
}

int apicli_get(const char *state, const char *path, const char *param, json_object **reply)
{
	char p[API_PATH_MAX] = API_PREFIX;
	struct api_client *cl;
	int r;

	strcat(p, path);
	if (param && api_path_append(p, sizeof(p), param)) {
		log_err("name too long");
		return CLI_USAGE;
	}
	r = apicli_open(state, &cl);
	if (r)
		return r;
	r = apicli_call(cl, "GET", p, NULL, reply);
	api_client_close(cl);
	return r;
}

int apicli_path(char *buf, size_t len, const char *first, ...)
{
	const char *lit = first, *param;
	va_list ap;
	int r = 0;

	snprintf(buf, len, "%s", API_PREFIX);
	va_start(ap, first);
	while (lit && !r) {
		if (strlen(buf) + strlen(lit) >= len) {
			r = -ENAMETOOLONG;
			break;
		}
		strcat(buf, lit);
		param = va_arg(ap, const char *);
		if (!param)
			break;
		r = api_path_append(buf, len, param);
		lit = va_arg(ap, const char *);
	}
	va_end(ap);
	if (r)
		log_err("name too long");
	return r ? CLI_USAGE : CLI_OK;
}

int apicli_do(const char *state, const char *method, const char *path, json_object *body,
	      json_object **reply)
{
	struct api_client *cl;
	int r;

	*reply = NULL;
	r = apicli_open(state, &cl);
	if (!r) {
		r = apicli_call(cl, method, path, body, reply);
		api_client_close(cl);
	}
	json_object_put(body);
	/* the CLI checked its options itself: what the server refuses is the
	 * library's refusal, exit 1 as before */
	return r == CLI_USAGE ? CLI_FAIL : r;
}

int apicli_req(const char *state, const char *method, const char *path, json_object *body,
	       int *status, json_object **reply)
{
	struct api_client *cl;
	char err[1024] = "";
	int r;

	*reply = NULL;
	r = apicli_open(state, &cl);
	if (!r) {
		if (api_client_call(cl, method, path, body, status, reply, err, sizeof(err))) {
			log_err("%s", err);
			r = CLI_FAIL;
		}
		api_client_close(cl);
	}
	json_object_put(body);
	return r;
}

const char *apicli_error(json_object *reply)
{
	json_object *e;

	return json_object_object_get_ex(reply, "error", &e) && e ? json_object_get_string(e) :
								   "failed";
}
