/* appliance/ws_bridge.h: a WebSocket session that joins a client to a
 * byte stream (a VM's serial console socket). */
#ifndef VV_APPLIANCE_WS_BRIDGE_H
#define VV_APPLIANCE_WS_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#define WS_BRIDGE_SEND_TIMEOUT_S 10     /* a client that stops reading is dropped */

/* Runs the session on @ws, a connected socket past the handshake's 101
 * (@pre: @npre bytes the HTTP server read beyond the handshake, the
 * start of the first frames), until one side ends it: what @con gives
 * goes to the client as binary frames; the payload of the client's text
 * and binary frames goes to @con; a ping gets its pong; a close is
 * answered and ends the session; a frame that breaks RFC 6455 gets a close
 * with its code (1002, 1007, 1009) and ends it; end of @con closes with
 * 1000; @stop_fd readable (the daemon stops) closes with 1001, also
 * while a write waits (the guest takes input at its own pace; a client
 * that reads nothing for WS_BRIDGE_SEND_TIMEOUT_S ends the session). Neither
 * descriptor is closed. The close code we sent goes to *@sent (0 when the
 * client just went away). 0, or -errno of a failed read or write. */
int ws_bridge_run(int ws, int con, int stop_fd, const void *pre, size_t npre, uint16_t *sent);

#endif
