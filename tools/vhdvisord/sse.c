/* tools/vhdvisord/sse.c: the event stream's libmicrohttpd response
 * (tools/vhdvisord/sse.h). The daemon runs a thread per connection, so
 * the content reader may wait for the next event; it sends a comment
 * line when nothing came for EVENT_KEEPALIVE_MS (so a gone client is
 * noticed and the connection's idle timeout never fires), and ends the
 * stream when the client was dropped for not reading or the daemon stops. */
#include "tools/vhdvisord/sse.h"

#include <errno.h>
#include <string.h>

#include "appliance/event.h"

#define SSE_BLOCK 4096

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char keepalive[] = ": keepalive\n\n";
	ssize_t r = api_event_read(cls, buf, max, EVENT_KEEPALIVE_MS);

	(void)pos;
	if (r > 0)
		return r;
	if (r == 0) {
		size_t n = sizeof(keepalive) - 1 < max ? sizeof(keepalive) - 1 : max;

		memcpy(buf, keepalive, n);
		return (ssize_t)n;
	}
	return r == -ESHUTDOWN ? MHD_CONTENT_READER_END_OF_STREAM :
	       MHD_CONTENT_READER_END_WITH_ERROR;
}

static void sse_free(void *cls)
{
	api_event_unsubscribe(cls);
}

enum MHD_Result sse_send(struct MHD_Connection *conn)
{
	static const char busy[] = "{\"error\":\"too many event streams\",\"code\":503}\n";
	struct api_event_sub *s = api_event_subscribe();
	struct MHD_Response *resp;
	enum MHD_Result r;

	if (!s) {
		resp = MHD_create_response_from_buffer(sizeof(busy) - 1, (void *)busy,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		r = MHD_queue_response(conn, 503, resp);
		MHD_destroy_response(resp);
		return r;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, s,
						 sse_free);
	if (!resp) {
		api_event_unsubscribe(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	r = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return r;
}
