/* blkback/nbd_server.h: an NBD server (fixed newstyle, structured replies,
 * base:allocation block status) exporting block images to many clients.
 *
 * Threads: nbd_server_run() accepts on the calling thread; each client gets
 * a thread that reads its requests and submits them to the export's bdev;
 * replies are sent from the engine's workers. A client that breaks the
 * protocol is disconnected; the others keep being served.
 */
#ifndef VV_BLKBACK_NBD_SERVER_H
#define VV_BLKBACK_NBD_SERVER_H

#include <stdbool.h>
#include <stdint.h>

struct bdev;
struct nbd_server;
struct nbd_tls_creds;

/* What one client may take from the server (nbd_server_set_limits()). */
struct nbd_limits {
	/* A client that has not chosen an export this long after it
	 * connected (TLS handshake included) is disconnected; 0 = never. */
	unsigned handshake_ms;
	/* Payload bytes (READ data waiting to be sent, WRITE data waiting
	 * to be written) one client may hold: the server stops reading its
	 * requests until replies go out. A single request is always let in
	 * when the client has nothing else in flight. */
	uint64_t client_bytes;
	/* The same summed over all clients. Beyond it, a client only gets a
	 * request in when it has nothing in flight, so each client keeps
	 * being served one request at a time. Worst case held: total_bytes
	 * plus one request (up to 32 MiB) per client. */
	uint64_t total_bytes;
};

#define NBD_DEFAULT_HANDSHAKE_MS   10000
#define NBD_DEFAULT_CLIENT_BYTES   (32ull << 20)
#define NBD_DEFAULT_TOTAL_BYTES    (256ull << 20)

/* Creates a server with no exports. Returns 0 or -errno. */
int nbd_server_create(struct nbd_server **out);
/* Closes the listeners (removing a Unix socket it created) and frees the
 * server; accepts NULL. Call after nbd_server_run() returned, or instead of
 * it. Exports' devices are not destroyed: their owner does that. */
void nbd_server_destroy(struct nbd_server *s);

/* Adds an export named @name (copied; unique) serving the block device
 * @dev (not owned; must outlive the server). Requests go through
 * bdev_submit(), block status holds the device's gate (bdev_hold()), so
 * the device's quiesce and live top switch (bdev_switch_top()) work on a
 * served export: clients only see a pause. Writes are refused with EPERM
 * when @dev is read-only. Size and writability are read once, here. Call
 * before nbd_server_run(). 0, -EEXIST or -ENOMEM. */
int nbd_server_add_export(struct nbd_server *s, const char *name, struct bdev *dev);

/* Replaces the defaults above (0 bytes = keep the default). Call before
 * nbd_server_run(). */
void nbd_server_set_limits(struct nbd_server *s, const struct nbd_limits *lim);

/* Requires TLS with @creds (not owned; must outlive the server) on every
 * connection: see blkback/nbd_tls.h. Call before nbd_server_run(). */
void nbd_server_set_tls(struct nbd_server *s, const struct nbd_tls_creds *creds);

/* Listens on a Unix socket at @path. The socket is bound and listening
 * under a temporary name in the same folder, then renamed to @path: once
 * @path exists, clients can connect. An existing file at @path is
 * replaced. 0 or -errno. */
int nbd_server_listen_unix(struct nbd_server *s, const char *path);
/* Listens on TCP @addr (NULL = 127.0.0.1) port @port. 0 or -errno. */
int nbd_server_listen_tcp(struct nbd_server *s, const char *addr, const char *port);

/* Accepts and serves clients until @stop_fd becomes readable (e.g. a
 * signalfd for SIGTERM). Then stops accepting, lets every client's
 * in-flight requests finish, disconnects the clients and returns 0 (or
 * -errno when accepting failed for good). The caller flushes the images. */
int nbd_server_run(struct nbd_server *s, int stop_fd);

#endif
