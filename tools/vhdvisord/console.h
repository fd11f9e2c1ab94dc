/* tools/vhdvisord/console.h: GET /api/v1/vms/{name}/console over HTTP:
 * the WebSocket handshake, the 101 and one thread per session running
 * ws_bridge_run() between the client and the VM's console socket. */
#ifndef VV_TOOLS_VHDVISORD_CONSOLE_H
#define VV_TOOLS_VHDVISORD_CONSOLE_H

#include <stdbool.h>

#include <microhttpd.h>

#include "appliance/api.h"

/* True when @method @url is a route that upgrades (api_route_upgrades()):
 * console_serve() answers it instead of api_dispatch(). */
bool console_wants(const char *method, const char *url);

/* Answers the request: the handler's refusal (401, 403, 404, 409) as
 * JSON, 400 for a request that is not a WebSocket handshake (426 for a
 * version other than 13), else 101 and a session on a thread of its own.
 * The request goes to the audit log. */
enum MHD_Result console_serve(const struct api_ctx *ctx, struct MHD_Connection *conn,
			      const char *url, enum api_role role, const char *who);

/* A browser cannot set Authorization on a WebSocket: it offers the
 * subprotocols "vhdvisor.console, bearer.TOKEN". For a console request
 * with such a header, writes "Bearer TOKEN" to @buf and returns it; else
 * NULL. The 101 then names "vhdvisor.console" as the chosen protocol. */
const char *console_bearer(struct MHD_Connection *conn, const char *url, char *buf, size_t len);

/* Ends every session (close 1001) and waits for their threads; before
 * MHD_stop_daemon(), which must not find upgraded connections open. */
void console_stop_all(void);

#endif
