/* blkback/nbd_tls.c: TLS-PSK for the NBD server (GnuTLS): the key file,
 * the server side of the handshake after NBD_OPT_STARTTLS, and record
 * I/O for the connection's threads.
 *
 * Threads: after the handshake, the client's reading thread receives and
 * the holder of the send token sends; GnuTLS allows one receiving and one
 * sending thread on a session. */
#define LOG_TAG "nbd"
#include "blkback/nbd_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blkback/nbd_int.h"
#include "common/log.h"
#include "common/util.h"

#define NBD_PSK_MAX_KEY 512             /* bytes */
/* QEMU's priority for PSK credentials: the defaults plus the PSK key
 * exchanges (TLS 1.2) ; TLS 1.3 uses (EC)DHE-PSK. */
#define NBD_TLS_PRIORITY "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK"

struct nbd_psk {
	char *user;
	unsigned char *key;
	unsigned len;
};

struct nbd_tls_creds {
	gnutls_psk_server_credentials_t cred;
	gnutls_priority_t prio;
	struct nbd_psk *keys;
	unsigned nkeys;
};

struct nbd_tls_sess {
	gnutls_session_t s;
	bool up;                        /* the handshake succeeded */
};

void nbd_tls_creds_destroy(struct nbd_tls_creds *cr)
{
	if (!cr)
		return;
	if (cr->cred)
		gnutls_psk_free_server_credentials(cr->cred);
	if (cr->prio)
		gnutls_priority_deinit(cr->prio);
	for (unsigned i = 0; i < cr->nkeys; i++) {
		free(cr->keys[i].user);
		if (cr->keys[i].key) {
			explicit_bzero(cr->keys[i].key, cr->keys[i].len);
			free(cr->keys[i].key);
		}
	}
	free(cr->keys);
	free(cr);
}

/* Parses one "NAME:HEX" line (no newline) into @k. -EINVAL or -ENOMEM. */
static int psk_line_parse(const char *line, struct nbd_psk *k)
{
	const char *colon = strchr(line, ':');
	const char *hex;
	size_t nhex;

	if (!colon || colon == line)
		return -EINVAL;
	hex = colon + 1;
	nhex = strlen(hex);
	if (!nhex || nhex % 2 || nhex / 2 > NBD_PSK_MAX_KEY)
		return -EINVAL;
	k->user = strndup(line, (size_t)(colon - line));
	k->key = malloc(nhex / 2);
	if (!k->user || !k->key)
		return -ENOMEM;
	k->len = (unsigned)(nhex / 2);
	for (size_t i = 0; i < k->len; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		k->key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Reads the key lines of @path into @cr, keeping only @user's when set. */
static int psk_file_read(struct nbd_tls_creds *cr, const char *path, const char *user)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	struct stat st;
	int rc = 0;

	if (!f) {
		rc = -errno;
		log_err("%s: %s", path, strerror(-rc));
		return rc;
	}
	if (!fstat(fileno(f), &st) && (st.st_mode & 0077))
		log_warn("%s: the key file is readable by other users (chmod 600 it)", path);
	while ((n = getline(&line, &cap, f)) >= 0) {
		struct nbd_psk k = { 0 }, *grown;

		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (!n)
			continue;
		rc = psk_line_parse(line, &k);
		if (!rc && user && strcmp(k.user, user))
			rc = 1;                 /* another user's key: skip */
		if (!rc) {
			grown = realloc(cr->keys, (cr->nkeys + 1) * sizeof(*grown));
			if (grown) {
				cr->keys = grown;
				cr->keys[cr->nkeys++] = k;
				continue;
			}
			rc = -ENOMEM;
		}
		free(k.user);
		if (k.key) {
			explicit_bzero(k.key, k.len);
			free(k.key);
		}
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc == -EINVAL)
			log_err("%s:%u: not a NAME:HEXKEY line", path, lineno);
		break;
	}
	if (line) {
		explicit_bzero(line, cap);
		free(line);
	}
	fclose(f);
	if (!rc && !cr->nkeys) {
		if (user)
			log_err("%s: no key for user '%s'", path, user);
		else
			log_err("%s: no keys", path);
		rc = -EINVAL;
	}
	return rc;
}

/* GnuTLS asks for @username's key during a handshake. */
static int psk_lookup(gnutls_session_t s, const char *username, gnutls_datum_t *key)
{
	const struct nbd_tls_creds *cr = gnutls_session_get_ptr(s);

	for (unsigned i = 0; i < cr->nkeys; i++) {
		if (strcmp(cr->keys[i].user, username))
			continue;
		key->data = gnutls_malloc(cr->keys[i].len);
		if (!key->data)
			return -1;
		memcpy(key->data, cr->keys[i].key, cr->keys[i].len);
		key->size = cr->keys[i].len;
		return 0;
	}
	log_warn("TLS: unknown PSK user '%s'", username);
	return -1;
}

int nbd_tls_creds_load_psk(const char *path, const char *user, struct nbd_tls_creds **out)
{
	struct nbd_tls_creds *cr = calloc(1, sizeof(*cr));
	char *dirfile = NULL;
	struct stat st;
	int rc;

	*out = NULL;
	if (!cr)
		return -ENOMEM;
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		if (asprintf(&dirfile, "%s/keys.psk", path) < 0) {
			free(cr);
			return -ENOMEM;
		}
		path = dirfile;
	}
	rc = psk_file_read(cr, path, user);
	free(dirfile);
	if (rc)
		goto fail;
	if (gnutls_psk_allocate_server_credentials(&cr->cred) < 0 ||
	    gnutls_priority_init(&cr->prio, NBD_TLS_PRIORITY, NULL) < 0) {
		log_err("TLS: cannot set up GnuTLS");
		rc = -ENOMEM;
		goto fail;
	}
	gnutls_psk_set_server_credentials_function(cr->cred, psk_lookup);
	gnutls_psk_set_server_known_dh_params(cr->cred, GNUTLS_SEC_PARAM_MEDIUM);
	*out = cr;
	return 0;
fail:
	nbd_tls_creds_destroy(cr);
	return rc;
}

int nbd_tls_start(struct nbd_conn *c)
{
	struct nbd_tls_sess *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	if (gnutls_init(&t->s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0) {
		free(t);
		return -ENOMEM;
	}
	c->tls = t;                     /* freed by nbd_tls_end() */
	gnutls_session_set_ptr(t->s, (void *)c->srv->tls);
	if (gnutls_priority_set(t->s, c->srv->tls->prio) < 0 ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_PSK, c->srv->tls->cred) < 0)
		return -ENOMEM;
	gnutls_transport_set_int(t->s, c->fd);
	do {
		rc = gnutls_handshake(t->s);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0) {
		log_warn("client fd %d: TLS handshake failed: %s", c->fd, gnutls_strerror(rc));
		return -EACCES;
	}
	t->up = true;
	log_dbg("client fd %d: TLS as '%s'", c->fd, gnutls_psk_server_get_username(t->s));
	return 0;
}

void nbd_tls_end(struct nbd_conn *c)
{
	if (!c->tls)
		return;
	/* A close_notify if the socket takes it now; never wait for a
	 * client that does not read. */
	if (c->tls->up && !__atomic_load_n(&c->dead, __ATOMIC_RELAXED) &&
	    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) == 0)
		gnutls_bye(c->tls->s, GNUTLS_SHUT_WR);
	gnutls_deinit(c->tls->s);
	free(c->tls);
	c->tls = NULL;
}

ssize_t nbd_tls_recv(struct nbd_conn *c, void *buf, size_t len)
{
	for (;;) {
		ssize_t r = gnutls_record_recv(c->tls->s, buf, len);

		if (r >= 0)
			return r;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		log_dbg("client fd %d: TLS receive: %s", c->fd, gnutls_strerror((int)r));
		return -EIO;
	}
}

ssize_t nbd_tls_send(struct nbd_conn *c, const void *buf, size_t len)
{
	for (;;) {
		ssize_t r = gnutls_record_send(c->tls->s, buf, len);

		if (r >= 0)
			return r;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		log_dbg("client fd %d: TLS send: %s", c->fd, gnutls_strerror((int)r));
		return -EPIPE;
	}
}
