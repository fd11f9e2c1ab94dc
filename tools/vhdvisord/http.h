/* tools/vhdvisord/http.h: the daemon's doors: libmicrohttpd serving the
 * appliance/ API on a Unix socket (root by SO_PEERCRED, others by token)
 * and on TCP with TLS (tokens only). */
#ifndef VV_TOOLS_VHDVISORD_HTTP_H
#define VV_TOOLS_VHDVISORD_HTTP_H

#include <stdbool.h>

#include "appliance/api.h"

struct door;

/* Serves the API of @ctx on listening socket @fd (taken over). @local: a
 * Unix socket (peer credentials count); otherwise TLS with the PEM texts
 * @cert and @key. @ctx, @cert and @key must outlive the door. 0 or
 * -errno. */
int door_open(const struct api_ctx *ctx, int fd, bool local, const char *cert,
	      const char *key, struct door **out);
/* Stops serving (waits for running requests) and frees; accepts NULL. */
void door_close(struct door *d);

#endif
