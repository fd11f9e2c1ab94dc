/* blkback/nbd_int.h: what the parts of the NBD server share: the server
 * (nbd_server.c), the option haggling (nbd_handshake.c) and the
 * transmission phase (nbd_conn.c). */
#ifndef VV_BLKBACK_NBD_INT_H
#define VV_BLKBACK_NBD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "blkback/nbd_server.h"

struct bdev;

#define NBD_MAX_EXPORTS      256
#define NBD_MAX_NAME         4096
#define NBD_MAX_OPT_LEN      (64u << 10)      /* longer options: disconnect */
#define NBD_MAX_IO           (32u << 20)      /* largest READ/WRITE */
#define NBD_MAX_CONNS        512              /* clients at once (a thread each) */
#define NBD_MAX_INFLIGHT     64               /* requests per client */
/* Metadata contexts we offer; the context id is the index + 1. */
enum nbd_meta {
	NBD_META_BASE_ALLOC,         /* "base:allocation": holes and zeros */
	NBD_META_ALLOC_DEPTH,        /* "qemu:allocation-depth": chain layer */
	NBD_META_COUNT,
};
extern const char *const nbd_meta_names[NBD_META_COUNT];

struct nbd_export {
	char *name;
	uint64_t size;                  /* fixed for the export's lifetime */
	bool writable;
	struct bdev *dev;               /* the image is reached only through it */
};

struct nbd_io;
struct nbd_tls_sess;

/* One client. Its thread reads requests and submits them. An engine
 * worker that finishes a request sends the reply itself if it can do so
 * without blocking, else queues it on ->replies for the client's sender
 * thread, so that a client that stops reading holds no engine worker. */
struct nbd_conn {
	struct nbd_server *srv;
	int fd;
	struct nbd_conn *next;          /* server's list, under srv->lock */
	uint64_t deadline_ns;           /* CLOCK_MONOTONIC end of the handshake;
					 * 0 once over (under srv->lock) */
	struct nbd_tls_sess *tls;       /* after STARTTLS: all I/O goes through it */

	/* negotiated */
	const struct nbd_export *exp;
	bool structured;
	unsigned meta;                  /* bit (1 << enum nbd_meta) per context set */
	bool no_zeroes;

	bool dead;                      /* a send failed; stop reading (atomic) */

	/* requests admitted and not yet replied to, and their payload
	 * bytes (READ/WRITE data): under srv->budget_lock */
	unsigned inflight;
	uint64_t inflight_bytes;

	pthread_mutex_t lock;           /* reply queue, send token */
	pthread_cond_t cond;
	struct nbd_io *replies;         /* finished, to be sent, in order */
	struct nbd_io **replies_tail;
	bool stopping;                  /* the sender ends once ->replies is empty */
	bool sending;                   /* the send token: one thread writes at a time */
	bool handoff;                   /* token left to the sender (partial reply first) */
};

struct nbd_server {
	struct nbd_export exports[NBD_MAX_EXPORTS];
	unsigned nexports;
	int lfds[8];
	unsigned nlfds;
	char *unix_path;                /* to unlink at destroy */

	const struct nbd_tls_creds *tls;  /* NULL: no TLS (not owned) */
	struct nbd_limits lim;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct nbd_conn *conns;
	unsigned nconns;

	/* Memory of request payloads, from admission to the end of the
	 * reply: every client's inflight_bytes added up. A client waits for
	 * room (nbd_conn.c); budget_cond is broadcast whenever some returns. */
	pthread_mutex_t budget_lock;
	pthread_cond_t budget_cond;
	uint64_t bytes;
};

/* Reads exactly @len bytes. 0, -ECONNRESET at EOF, or -errno. */
int nbd_recv_full(struct nbd_conn *c, void *buf, size_t len);
/* Sends all of @iov, waiting for the connection's send token (whole
 * replies never interleave). On failure marks the connection dead and
 * shuts it down. 0 or -errno. */
int nbd_send_iov(struct nbd_conn *c, struct iovec *iov, int cnt);

/* Option haggling on a new connection. Returns 1 when an export was
 * chosen (c->exp set: go to transmission), 0 when the client left
 * cleanly, -errno on a protocol violation or I/O error. */
int nbd_handshake(struct nbd_conn *c);
/* Serves requests until the client disconnects or breaks the protocol;
 * waits for its in-flight requests before returning. */
void nbd_transmission(struct nbd_conn *c);

/* TLS (nbd_tls.c). nbd_tls_start() runs the server side of the
 * handshake on c->fd with c->srv->tls after the STARTTLS reply was sent:
 * 0, or -EACCES (wrong key, unknown user, not TLS) / -ENOMEM; c->tls is
 * set either way and freed by nbd_tls_end() (any state, also NULL). Then
 * nbd_tls_recv() (the reading thread) returns > 0 bytes, 0 at EOF or
 * -EIO; nbd_tls_send() (the send token's holder) blocks and returns > 0
 * bytes sent or -EPIPE. */
int nbd_tls_start(struct nbd_conn *c);
void nbd_tls_end(struct nbd_conn *c);
ssize_t nbd_tls_recv(struct nbd_conn *c, void *buf, size_t len);
ssize_t nbd_tls_send(struct nbd_conn *c, const void *buf, size_t len);

/* Looks an export up by name ("" = the first export); NULL if none. */
const struct nbd_export *nbd_export_find(const struct nbd_server *s,
					 const char *name, size_t len);

#endif
