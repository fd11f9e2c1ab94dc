/* appliance/client.h: the management API as a client sees it, behind one
 * call whichever of its three doors serves it:
 *
 *   embedded   no daemon serves this host's state: api_dispatch() in this
 *              process, role admin, who "local:uid=N" (every command keeps
 *              working without a daemon);
 *   local      the host's vhdvisord answers on its Unix socket (found by
 *              $VHDVISOR_RUN/vhdvisord.json, else RUN/vhdvisord.sock) and
 *              serves the same state directory: HTTP over AF_UNIX, so one
 *              process owns VM lifecycle and every change goes through it;
 *   remote     a host URL: HTTPS with a bearer token, the server's
 *              certificate pinned by its SHA-256 fingerprint (given, or
 *              from the known-hosts file, recorded there at first use).
 *
 * HTTP is libcurl's. The library never prints: what a user should know
 * (a certificate trusted at first use) is in struct api_client.
 */
#ifndef VV_APPLIANCE_CLIENT_H
#define VV_APPLIANCE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "appliance/tls.h"

enum api_door {
	API_DOOR_EMBEDDED = 0,
	API_DOOR_LOCAL,
	API_DOOR_REMOTE,
};

struct api_client_opts {
	const char *state_dir;  /* embedded and local: NULL = cat_default_state_dir() */
	const char *host;       /* remote: "https://HOST:PORT" (or "HOST:PORT"); NULL = local */
	const char *token;      /* bearer token (remote; on the socket when not root) */
	const char *fingerprint;        /* remote: the pinned SHA-256; NULL = known hosts */
	/* NULL = vhdvisor/known_hosts in $XDG_CONFIG_HOME or ~/.config */
	const char *known_hosts;
};

struct api_client {
	enum api_door door;
	char where[4200];       /* "embedded", the socket's path, or the URL */
	char state_dir[4096];   /* embedded, local: the state directory */
	/* remote: the server's certificate fingerprint; first_use when it
	 * was not known and has just been recorded in known_hosts (its path
	 * in known_hosts) */
	char fingerprint[TLS_FP_LEN + 1];
	bool first_use;
	char known_hosts[4200];
	/* private */
	char token[512];
	char pin[128];          /* "sha256//BASE64" of the server's public key */
	void *curl;
};

/* Picks the door and, for a remote host, checks its certificate (a
 * connection that sends nothing). 0, or -errno with a reason in @err:
 * -EINVAL a bad URL, fingerprint or token; -EKEYREJECTED the host's
 * certificate is not the pinned one; -EHOSTUNREACH it could not be
 * reached. */
int api_client_open(const struct api_client_opts *o, struct api_client **out, char *err,
		    size_t errlen);

/* One request: @method @path (under API_PREFIX, percent-encoded), @body
 * an object or NULL. 0 with the HTTP status in *@status and the reply
 * (a JSON value, the caller's) in *@reply, or -errno when no reply came
 * (reason in @err). */
int api_client_call(struct api_client *cl, const char *method, const char *path,
		    json_object *body, int *status, json_object **reply, char *err, size_t errlen);

void api_client_close(struct api_client *cl);

/* Appends @s percent-encoded (all but A-Z a-z 0-9 - . _ ~ : @) to @buf
 * (@len bytes, NUL-terminated). -ENAMETOOLONG when it does not fit. */
int api_path_append(char *buf, size_t len, const char *s);

/* "ab:CD..." or 64 hex digits to "AB:CD:..."; -EINVAL when it is not 32
 * bytes of hex. */
int api_fp_normalize(const char *in, char out[TLS_FP_LEN + 1]);

#endif
