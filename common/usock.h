/* common/usock.h: Unix stream sockets of vhdvisor's processes: the one way
 * a server claims its socket path (a VM runtime's API socket, a disk
 * export's NBD and control sockets), and one request line, one reply line
 * from the client side. */
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

/* usock_listen flags */
#define USOCK_NONBLOCK 0x1  /* the listening fd is O_NONBLOCK */

/* Listens on a new Unix stream socket at @path with @backlog, mode 0600
 * whatever the umask. The socket appears at @path only once it listens
 * (bound under a temporary name beside it, then moved into place without
 * replacing anything). Never replaces what is at @path except a stale
 * socket nobody listens on any more: -EEXIST when @path is something else
 * (a file, a directory, a symlink), -EADDRINUSE when a server accepts
 * connections there. Also -ENAMETOOLONG or another -errno. Returns the
 * listening fd (close-on-exec). The caller unlinks @path when it stops. */
int usock_listen(const char *path, int backlog, unsigned flags);

/* What a usock_listen() failure @err (-errno) means for the user: says
 * what is in the way for -EEXIST and -EADDRINUSE, else strerror(). */
const char *usock_listen_strerror(int err);

#endif
