/* appliance/client.c: the three doors of the management API (client.h). */
#include "appliance/client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <openssl/evp.h>

#include "appliance/api.h"
#include "common/fsutil.h"
#include "images/catalog.h"
#include "images/vmrun.h"

#define REPLY_MAX (256u << 20)  /* a reply larger than this is refused */
#define CONNECT_TIMEOUT_S 10L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int api_fp_normalize(const char *in, char out[TLS_FP_LEN + 1])
{
	unsigned n = 0;

	if (!strncasecmp(in, "sha256:", 7))
		in += 7;
	for (const char *p = in; *p; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n >= 64)
			return -EINVAL;
		if (n && !(n % 2))
			out[3 * (n / 2) - 1] = ':';
		out[3 * (n / 2) + n % 2] = (char)toupper((unsigned char)*p);
		n++;
	}
	if (n != 64)
		return -EINVAL;
	out[TLS_FP_LEN] = '\0';
	return 0;
}

int api_path_append(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(buf);

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || strchr("-._~:@", ch)) {
			if (n + 1 >= len)
				return -ENAMETOOLONG;
			buf[n++] = (char)ch;
		} else {
			if (n + 3 >= len)
				return -ENAMETOOLONG;
			buf[n++] = '%';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 15];
		}
	}
	buf[n] = '\0';
	return 0;
}

/* ---- replies ---- */

struct buf {
	char *p;
	size_t len, cap;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct buf *b = opaque;
	size_t n = size * nmemb;

	if (b->len + n + 1 > REPLY_MAX) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* ---- remote: the server's certificate ---- */

/* The SHA-256 fingerprint of the PEM certificate @pem and the pin of its
 * public key for CURLOPT_PINNEDPUBLICKEY. */
static int cert_ids(const char *pem, char fp[TLS_FP_LEN + 1], char *pin, size_t pinlen)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) }, spki = { 0 };
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pk = NULL;
	unsigned char md[32], b64[64];
	size_t len = sizeof(md);
	int r;

	if ((r = gnutls_x509_crt_init(&crt)) ||
	    (r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) ||
	    (r = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md, &len)) ||
	    (r = gnutls_pubkey_init(&pk)) ||
	    (r = gnutls_pubkey_import_x509(pk, crt, 0)) ||
	    (r = gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &spki)))
		goto out;
	for (int i = 0; i < 32; i++)
		snprintf(fp + 3 * i, 4, "%02X%s", md[i], i < 31 ? ":" : "");
	r = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, md);
	if (!r) {
		EVP_EncodeBlock(b64, md, 32);
		snprintf(pin, pinlen, "sha256//%s", b64);
	}
out:
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pk);
	gnutls_x509_crt_deinit(crt);
	return r ? -EINVAL : 0;
}

/* Connects to @url without sending a request and without trusting the
 * certificate yet: only to read it. */
static int probe_cert(const char *url, char fp[TLS_FP_LEN + 1], char *pin, size_t pinlen,
		      char *err, size_t errlen)
{
	struct curl_certinfo *ci = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	const char *pem = NULL;
	CURLcode cr;
	CURL *c = curl_easy_init();
	int r = -EHOSTUNREACH;

	if (!c)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	/* read, not trusted: what it shows is checked below, and the
	 * connection that carries the token pins the key it holds */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cr = curl_easy_perform(c);
	if (cr) {
		snprintf(err, errlen, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cr));
		goto out;
	}
	if (!curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) && ci && ci->num_of_certs > 0)
		for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
			if (!strncmp(s->data, "Cert:", 5))
				pem = s->data + 5;
	r = -EPROTO;
	if (!pem)
		snprintf(err, errlen, "%s: the server showed no certificate", url);
	else if ((r = cert_ids(pem, fp, pin, pinlen)))
		snprintf(err, errlen, "%s: the server's certificate cannot be read", url);
out:
	curl_easy_cleanup(c);
	return r;
}

static int known_hosts_path(const char *given, char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (given)
		return snprintf(buf, len, "%s", given) >= (int)len ? -ENAMETOOLONG : 0;
	if (xdg && xdg[0] == '/')
		return snprintf(buf, len, "%s/vhdvisor/known_hosts", xdg) >= (int)len ?
		       -ENAMETOOLONG : 0;
	if (!home || home[0] != '/')
		return -ENOENT;
	return snprintf(buf, len, "%s/.config/vhdvisor/known_hosts", home) >= (int)len ?
	       -ENAMETOOLONG : 0;
}

/* The fingerprint known_hosts records for @key, or -ENOENT. */
static int known_hosts_find(const char *path, const char *key, char fp[TLS_FP_LEN + 1])
{
	char line[1024], k[512], f[256];
	FILE *fh = fopen(path, "re");
	int r = -ENOENT;

	if (!fh)
		return -ENOENT;
	while (fgets(line, sizeof(line), fh))
		if (line[0] != '#' && sscanf(line, "%511s %255s", k, f) == 2 && !strcmp(k, key) &&
		    !api_fp_normalize(f, fp))
			r = 0;
	fclose(fh);
	return r;
}

static int known_hosts_add(const char *path, const char *key, const char *fp)
{
	char dir[4200], *slash;
	int fd, r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if ((r = fs_mkdir_p(dir)))
			return r;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%s %s\n", key, fp) < 0)
		r = -EIO;
	if (close(fd) && !r)
		r = -errno;
	return r;
}

/* "https://HOST:PORT" of @host (a bare HOST:PORT gets https://), and the
 * known-hosts key "HOST:PORT". */
static int parse_host(const char *host, char *url, size_t len, char *key, size_t keylen,
		      char *err, size_t errlen)
{
	const char *rest = host;
	size_t n;

	if (strstr(host, "://")) {
		if (strncasecmp(host, "https://", 8)) {
			snprintf(err, errlen, "--host %s: only https:// (the daemon serves TLS)",
				 host);
			return -EINVAL;
		}
		rest = host + 8;
	}
	n = strcspn(rest, "/?#");
	if (!n || n >= keylen || (rest[n] && strcmp(rest + n, "/"))) {
		snprintf(err, errlen, "bad --host '%s': want https://HOST:PORT", host);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)rest[i]) || iscntrl((unsigned char)rest[i])) {
			snprintf(err, errlen, "bad --host '%s': want https://HOST:PORT", host);
			return -EINVAL;
		}
	snprintf(key, keylen, "%.*s", (int)n, rest);
	for (char *p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (snprintf(url, len, "https://%s", key) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int open_remote(struct api_client *cl, const struct api_client_opts *o, char *err,
		       size_t errlen)
{
	char key[512], want[TLS_FP_LEN + 1];
	bool pinned = o->fingerprint && o->fingerprint[0];
	int r;

	r = parse_host(o->host, cl->where, sizeof(cl->where), key, sizeof(key), err, errlen);
	if (r)
		return r;
	if (!o->token || !o->token[0] || strlen(o->token) >= sizeof(cl->token) ||
	    strpbrk(o->token, "\r\n")) {
		snprintf(err, errlen, "%s needs a token: --token TOKEN or $VHDVISOR_TOKEN "
			 "(vhdvisor token create on that host)", cl->where);
		return -EINVAL;
	}
	snprintf(cl->token, sizeof(cl->token), "%s", o->token);
	if (pinned && api_fp_normalize(o->fingerprint, want)) {
		snprintf(err, errlen, "bad --fingerprint '%s': want the 32-byte SHA-256 in hex "
			 "(AB:CD:...)", o->fingerprint);
		return -EINVAL;
	}
	if (!pinned) {
		r = known_hosts_path(o->known_hosts, cl->known_hosts, sizeof(cl->known_hosts));
		if (r) {
			snprintf(err, errlen, "no known-hosts file (HOME unset): "
				 "give --fingerprint");
			return r;
		}
	}
	r = probe_cert(cl->where, cl->fingerprint, cl->pin, sizeof(cl->pin), err, errlen);
	if (r)
		return r;
	if (!pinned && known_hosts_find(cl->known_hosts, key, want)) {
		/* trust on first use, as ssh's accept-new: recorded, and said */
		r = known_hosts_add(cl->known_hosts, key, cl->fingerprint);
		if (r) {
			snprintf(err, errlen, "%s: cannot record the host: %s", cl->known_hosts,
				 strerror(-r));
			return r;
		}
		cl->first_use = true;
		return 0;
	}
	if (strcmp(want, cl->fingerprint)) {
		snprintf(err, errlen, "%s shows a certificate with SHA-256 fingerprint %s, not "
			 "the %s %s: refused. Someone may be intercepting the connection, or the "
			 "daemon's certificate changed; check it with 'vhdvisor host show' on that "
			 "host%s%s", cl->where, cl->fingerprint,
			 pinned ? "--fingerprint" : "known one", want,
			 pinned ? "" : " and correct ", pinned ? "" : cl->known_hosts);
		return -EKEYREJECTED;
	}
	return 0;
}

/* ---- local: the host's daemon ---- */

/* The socket of the daemon serving @state_dir on this run directory, or
 * -ENOENT when none answers there. */
static int find_daemon(const char *state_dir, char *sock, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[4200];
	json_object *j, *v;
	int fd, r;

	snprintf(path, sizeof(path), "%s/vhdvisord.json", vmrec_run_dir());
	snprintf(sock, len, "%s/vhdvisord.sock", vmrec_run_dir());
	j = json_object_from_file(path);
	if (j) {
		if (json_object_object_get_ex(j, "socket", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(sock, len, "%s", json_object_get_string(v));
		/* a daemon of another state directory is not ours to use */
		r = json_object_object_get_ex(j, "state", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), state_dir);
		json_object_put(j);
		if (r)
			return -ENOENT;
	}
	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENOENT;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -ENOENT : 0;
	close(fd);
	return r;
}

int api_client_open(const struct api_client_opts *o, struct api_client **out, char *err,
		    size_t errlen)
{
	struct api_client *cl = calloc(1, sizeof(*cl));
	const char *state = o->state_dir ? o->state_dir : cat_default_state_dir();
	int r = 0;

	if (!cl)
		return -ENOMEM;
	pthread_once(&curl_once, curl_init_once);
	if (o->host && o->host[0]) {
		cl->door = API_DOOR_REMOTE;
		r = open_remote(cl, o, err, errlen);
	} else {
		/* as the daemon names it: the real path */
		if (!realpath(state, cl->state_dir))
			snprintf(cl->state_dir, sizeof(cl->state_dir), "%s", state);
		if (o->token && o->token[0] && strlen(o->token) < sizeof(cl->token) &&
		    !strpbrk(o->token, "\r\n"))
			snprintf(cl->token, sizeof(cl->token), "%s", o->token);
		if (!find_daemon(cl->state_dir, cl->where, sizeof(cl->where))) {
			cl->door = API_DOOR_LOCAL;
		} else {
			cl->door = API_DOOR_EMBEDDED;
			snprintf(cl->where, sizeof(cl->where), "embedded");
		}
	}
	if (!r && cl->door != API_DOOR_EMBEDDED && !(cl->curl = curl_easy_init()))
		r = -ENOMEM;
	if (r) {
		api_client_close(cl);
		return r;
	}
	*out = cl;
	return 0;
}

void api_client_close(struct api_client *cl)
{
	if (!cl)
		return;
	if (cl->curl)
		curl_easy_cleanup(cl->curl);
	explicit_bzero(cl->token, sizeof(cl->token));
	free(cl);
}

static int call_embedded(struct api_client *cl, const char *method, const char *path,
			 const char *body, int *status, json_object **reply)
{
	struct api_ctx ctx = { .state_dir = cl->state_dir };
	struct api_reply rep = { 0 };
	char who[64];

	snprintf(who, sizeof(who), "local:uid=%u", (unsigned)getuid());
	api_dispatch(&ctx, method, path, body, strlen(body), API_ROLE_ADMIN, who, &rep);
	*status = rep.status;
	*reply = rep.body;
	/* A reply written as text (api_ok_text()) is a tree only once parsed. */
	if (rep.body && json_object_get_userdata(rep.body)) {
		*reply = json_tokener_parse(json_object_to_json_string(rep.body));
		json_object_put(rep.body);
		if (!*reply)
			return -EPROTO;
	}
	return 0;
}

static int call_http(struct api_client *cl, const char *method, const char *path,
		     const char *body, int *status, json_object **reply, char *err,
		     size_t errlen)
{
	CURL *c = cl->curl;
	struct curl_slist *h = NULL;
	char url[4200 + API_PATH_MAX], auth[600], cerr[CURL_ERROR_SIZE] = "";
	struct buf b = { 0 };
	long code = 0;
	CURLcode cr;
	int r = 0;

	curl_easy_reset(c);
	if (cl->door == API_DOOR_LOCAL) {
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, cl->where);
		curl_easy_setopt(c, CURLOPT_PROXY, "");	/* never $http_proxy here */
		snprintf(url, sizeof(url), "http://localhost%s", path);
	} else {
		snprintf(url, sizeof(url), "%s%s", cl->where, path);
		/* the key of the certificate checked in open_remote(): the
		 * connection fails before a byte of the request is sent when
		 * the server cannot prove it holds it */
		curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, cl->pin);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (cl->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cl->token);
		h = curl_slist_append(h, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	if (body[0] || strcmp(method, "GET")) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cr = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	if (cr == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
		snprintf(err, errlen, "%s: the server does not hold the key of the certificate "
			 "%s: refused", cl->where, cl->fingerprint);
		r = -EKEYREJECTED;
	} else if (cr) {
		snprintf(err, errlen, "%s: %s", cl->where,
			 b.too_big ? "reply too large" : cerr[0] ? cerr : curl_easy_strerror(cr));
		r = -EIO;
	} else {
		enum json_tokener_error je;

		*reply = json_tokener_parse_verbose(b.p ? b.p : "", &je);
		*status = (int)code;
		if (!*reply) {
			snprintf(err, errlen, "%s: HTTP %ld with a reply that is not JSON",
				 cl->where, code);
			r = -EPROTO;
		}
	}
	free(b.p);
	return r;
}

int api_client_call(struct api_client *cl, const char *method, const char *path,
		    json_object *body, int *status, json_object **reply, char *err, size_t errlen)
{
	const char *s = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "";

	*reply = NULL;
	*status = 0;
	if (cl->door == API_DOOR_EMBEDDED)
		return call_embedded(cl, method, path, s, status, reply);
	return call_http(cl, method, path, s, status, reply, err, errlen);
}
