/* blkback/nbd_server.c: listeners, accepting clients, one thread per
 * client, and an orderly stop. */
#define LOG_TAG "nbd"
#include "blkback/nbd_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "blkback/bimg.h"
#include "blkback/bdev.h"
#include "common/log.h"
#include "common/usock.h"
#include "common/util.h"

#define NBD_STOP_GRACE_S 5    /* then clients that do not read are cut off */

int nbd_server_create(struct nbd_server **out)
{
	struct nbd_server *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->lim = (struct nbd_limits){
		.handshake_ms = NBD_DEFAULT_HANDSHAKE_MS,
		.client_bytes = NBD_DEFAULT_CLIENT_BYTES,
		.total_bytes = NBD_DEFAULT_TOTAL_BYTES,
	};
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_mutex_init(&s->budget_lock, NULL);
	pthread_cond_init(&s->budget_cond, NULL);
	*out = s;
	return 0;
}

void nbd_server_set_limits(struct nbd_server *s, const struct nbd_limits *lim)
{
	s->lim.handshake_ms = lim->handshake_ms;
	if (lim->client_bytes)
		s->lim.client_bytes = lim->client_bytes;
	if (lim->total_bytes)
		s->lim.total_bytes = lim->total_bytes;
}

void nbd_server_set_tls(struct nbd_server *s, const struct nbd_tls_creds *creds)
{
	s->tls = creds;
}

void nbd_server_destroy(struct nbd_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nlfds; i++)
		close(s->lfds[i]);
	if (s->unix_path) {
		unlink(s->unix_path);
		free(s->unix_path);
	}
	for (unsigned i = 0; i < s->nexports; i++)
		free(s->exports[i].name);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->budget_lock);
	pthread_cond_destroy(&s->budget_cond);
	free(s);
}

const struct nbd_export *nbd_export_find(const struct nbd_server *s,
					 const char *name, size_t len)
{
	if (len == 0)
		return s->nexports ? &s->exports[0] : NULL;
	for (unsigned i = 0; i < s->nexports; i++)
		if (strlen(s->exports[i].name) == len && !memcmp(s->exports[i].name, name, len))
			return &s->exports[i];
	return NULL;
}

int nbd_server_add_export(struct nbd_server *s, const char *name, struct bdev *dev)
{
	struct nbd_export *e;

	if (!*name || strlen(name) > NBD_MAX_NAME)
		return -EINVAL;
	if (nbd_export_find(s, name, strlen(name)))
		return -EEXIST;
	if (s->nexports == NBD_MAX_EXPORTS)
		return -ENOSPC;
	e = &s->exports[s->nexports];
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	e->dev = dev;
	e->size = bdev_size(dev);
	e->writable = bdev_writable(dev);
	s->nexports++;
	return 0;
}

static int nbd_add_lfd(struct nbd_server *s, int fd)
{
	if (s->nlfds == ARRAY_SIZE(s->lfds)) {
		close(fd);
		return -ENOSPC;
	}
	s->lfds[s->nlfds++] = fd;
	return 0;
}

int nbd_server_listen_unix(struct nbd_server *s, const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return -ENOMEM;
	fd = usock_listen(path, 64, 0);
	if (fd < 0) {
		free(copy);
		return fd;
	}
	free(s->unix_path);
	s->unix_path = copy;
	return nbd_add_lfd(s, fd);
}

int nbd_server_listen_tcp(struct nbd_server *s, const char *addr, const char *port)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	int rc, one = 1, n = 0;

	rc = getaddrinfo(addr ? addr : "127.0.0.1", port, &hints, &res);
	if (rc)
		return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	rc = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0) {
			rc = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
			rc = -errno;
			close(fd);
			continue;
		}
		rc = nbd_add_lfd(s, fd);
		if (rc)
			break;
		n++;
	}
	freeaddrinfo(res);
	return n ? 0 : rc;
}

static uint64_t nbd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Disconnects the clients whose handshake outlived its deadline (their
 * threads see EOF and end). Returns the milliseconds until the next
 * deadline, -1 when there is none: poll()'s timeout. */
static int nbd_reap_handshakes(struct nbd_server *s)
{
	uint64_t now = nbd_now_ns(), next = 0;

	pthread_mutex_lock(&s->lock);
	for (struct nbd_conn *c = s->conns; c; c = c->next) {
		if (!c->deadline_ns)
			continue;
		if (c->deadline_ns <= now) {
			log_info("client fd %d: no export chosen within %u ms; disconnected",
				 c->fd, s->lim.handshake_ms);
			shutdown(c->fd, SHUT_RDWR);
			c->deadline_ns = 0;
		} else if (!next || c->deadline_ns < next) {
			next = c->deadline_ns;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (!next)
		return -1;
	return (int)MIN((next - now) / 1000000 + 1, (uint64_t)INT32_MAX);
}

static void nbd_conn_free(struct nbd_conn *c)
{
	struct nbd_server *s = c->srv;
	struct nbd_conn **pp;

	nbd_tls_end(c);                 /* before the server may go away */
	pthread_mutex_lock(&s->lock);
	for (pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->nconns--;
	pthread_cond_broadcast(&s->cond);
	close(c->fd);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

static void *nbd_conn_thread(void *arg)
{
	struct nbd_conn *c = arg;
	int rc = nbd_handshake(c);

	pthread_mutex_lock(&c->srv->lock);
	c->deadline_ns = 0;             /* the reaper leaves it alone now */
	pthread_mutex_unlock(&c->srv->lock);
	if (rc == 1) {
		log_dbg("client fd %d: export '%s'", c->fd, c->exp->name);
		nbd_transmission(c);
	} else if (rc < 0) {
		log_dbg("client fd %d: handshake failed: %s", c->fd, strerror(-rc));
	}
	nbd_conn_free(c);
	return NULL;
}

static void nbd_accept(struct nbd_server *s, int lfd)
{
	struct nbd_conn *c;
	pthread_attr_t attr;
	pthread_t th;
	int fd, one = 1;
	unsigned n;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	n = s->nconns;
	pthread_mutex_unlock(&s->lock);
	if (n >= NBD_MAX_CONNS) {
		log_warn("too many clients (%u); refusing one", n);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->replies_tail = &c->replies;
	if (s->lim.handshake_ms)
		c->deadline_ns = nbd_now_ns() + s->lim.handshake_ms * 1000000ull;
	pthread_mutex_lock(&s->lock);
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	pthread_mutex_unlock(&s->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, nbd_conn_thread, c))
		nbd_conn_free(c);
	pthread_attr_destroy(&attr);
}

/* Shuts every client down (@how: SHUT_RD lets replies out) and waits up
 * to @secs seconds (0 = forever) for their threads to finish. */
static bool nbd_stop_clients(struct nbd_server *s, int how, int secs)
{
	struct timespec ts;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&s->lock);
	for (struct nbd_conn *c = s->conns; c; c = c->next)
		shutdown(c->fd, how);
	while (s->nconns) {
		if (!secs)
			pthread_cond_wait(&s->cond, &s->lock);
		else if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
			break;
	}
	done = !s->nconns;
	pthread_mutex_unlock(&s->lock);
	return done;
}

int nbd_server_run(struct nbd_server *s, int stop_fd)
{
	struct pollfd pfd[ARRAY_SIZE(s->lfds) + 1];
	int rc = 0;

	for (unsigned i = 0; i < s->nlfds; i++)
		pfd[i] = (struct pollfd){ .fd = s->lfds[i], .events = POLLIN };
	pfd[s->nlfds] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, s->nlfds + 1, nbd_reap_handshakes(s)) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (pfd[s->nlfds].revents)
			break;
		for (unsigned i = 0; i < s->nlfds; i++)
			if (pfd[i].revents & POLLIN)
				nbd_accept(s, s->lfds[i]);
	}
	/* Stop: no new clients, finish what is in flight, then hang up. */
	for (unsigned i = 0; i < s->nlfds; i++)
		close(s->lfds[i]);
	s->nlfds = 0;
	if (!nbd_stop_clients(s, SHUT_RD, NBD_STOP_GRACE_S))
		nbd_stop_clients(s, SHUT_RDWR, 0);
	return rc;
}
