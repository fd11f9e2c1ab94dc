/* tools/vhdvisord/sse.h: GET /api/v1/events as a server-sent-events
 * stream over libmicrohttpd (appliance/event.h has the queues). */
#ifndef VV_TOOLS_VHDVISORD_SSE_H
#define VV_TOOLS_VHDVISORD_SSE_H

#include <microhttpd.h>

/* Queues the event stream as @conn's reply (a callback response of
 * unknown length; the connection's own thread waits in it for events, so
 * other clients are unaffected). 503 when no more streams are allowed. */
enum MHD_Result sse_send(struct MHD_Connection *conn);

#endif
