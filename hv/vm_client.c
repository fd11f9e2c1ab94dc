/* hv/vm_client.c: the client side of the VM API socket. */
#include "hv/vm_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/usock.h"

#define CLIENT_REPLY_MAX 65536
#define SWITCH_TIMEOUT_MS 180000  /* pause, flush the old top, reopen */

int vm_client_request(const char *api_path, struct json_object *req,
		      struct json_object **reply, int timeout_ms, char *err, size_t errlen)
{
	struct json_object *rep, *v;
	char *line = malloc(CLIENT_REPLY_MAX);
	int r;

	if (reply)
		*reply = NULL;
	if (!line)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	r = usock_request(api_path, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
			  line, CLIENT_REPLY_MAX, timeout_ms);
	if (!r)
		rep = json_tokener_parse(line);
	if (r) {
		free(line);
		snprintf(err, errlen, "%s: %s", api_path,
			 r == -ENOENT || r == -ECONNREFUSED ? "the VM's runtime does not answer"
							    : strerror(-r));
		return r;
	}
	if (!rep || !json_object_is_type(rep, json_type_object)) {
		json_object_put(rep);
		snprintf(err, errlen, "%s: not a JSON reply: %.200s", api_path, line);
		free(line);
		return -EPROTO;
	}
	free(line);
	if (!json_object_object_get_ex(rep, "ok", &v) || !json_object_get_boolean(v)) {
		snprintf(err, errlen, "%s",
			 json_object_object_get_ex(rep, "error", &v) ? json_object_get_string(v)
								     : "the VM refused");
		json_object_put(rep);
		return -EIO;
	}
	if (reply)
		*reply = rep;
	else
		json_object_put(rep);
	return 0;
}

int vm_client_switch_disk(const char *api_path, unsigned disk, const char *file,
			  char *err, size_t errlen)
{
	struct json_object *req = json_object_new_object();
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "cmd", json_object_new_string("switch-disk"));
	json_object_object_add(req, "disk", json_object_new_int((int)disk));
	json_object_object_add(req, "file", json_object_new_string(file));
	r = vm_client_request(api_path, req, NULL, SWITCH_TIMEOUT_MS, err, errlen);
	json_object_put(req);
	return r;
}
