/* blkback/nbd_server.h: an NBD server (fixed newstyle, structured replies,
 * base:allocation block status) exporting block images to many clients.
 *
 * Threads: nbd_server_run() accepts on the calling thread; each client gets
 * a thread that reads its requests and submits them to the I/O engine;
 * replies are sent from the engine's workers. A client that breaks the
 * protocol is disconnected; the others keep being served.
 */
#ifndef VV_BLKBACK_NBD_SERVER_H
#define VV_BLKBACK_NBD_SERVER_H

#include <stdbool.h>

struct bimg;
struct ioq;
struct nbd_server;

/* Creates a server that runs I/O on @q (not owned; it must outlive the
 * server). Returns 0 or -errno. */
int nbd_server_create(struct ioq *q, struct nbd_server **out);
/* Closes the listeners (removing a Unix socket it created) and frees the
 * server; accepts NULL. Call after nbd_server_run() returned, or instead of
 * it. Exports' images are not closed: their owner closes them. */
void nbd_server_destroy(struct nbd_server *s);

/* Adds an export named @name (copied; unique) serving @img (not owned;
 * must outlive the server). Writes are refused with EPERM when @img is
 * read-only. Call before nbd_server_run(). 0, -EEXIST or -ENOMEM. */
int nbd_server_add_export(struct nbd_server *s, const char *name, struct bimg *img);

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
