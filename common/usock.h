/* common/usock.h: one request line, one reply line over a Unix stream
 * socket: the client side of the control sockets of vhdvisor's processes
 * (a VM runtime's API socket, a disk export's control socket). */
#ifndef VV_COMMON_USOCK_H
#define VV_COMMON_USOCK_H

#include <stddef.h>

/* Connects to the socket at @path, sends @req followed by a newline and
 * reads one reply line into @reply (@len bytes, NUL-terminated, newline
 * removed). Gives up after @timeout_ms in total. Returns 0, -ENOENT or
 * -ECONNREFUSED when nobody listens there, -ETIMEDOUT, -EMSGSIZE when the
 * reply does not fit, -ECONNRESET when the peer closed before a whole
 * line, -ENAMETOOLONG for a too long path, or another -errno. */
int usock_request(const char *path, const char *req, char *reply, size_t len,
		  int timeout_ms);

#endif
