/* tools/vhdvisord/http.c: libmicrohttpd glue: request bodies with a size
 * limit, authentication, api_dispatch(), JSON replies. One thread per
 * connection with a timeout, so a slow client holds only its own thread. */
#include "tools/vhdvisord/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "appliance/event.h"
#include "appliance/api_stream.h"
#include "appliance/throttle.h"
#include "appliance/token.h"
#include "common/log.h"
#include "tools/vhdvisord/sse.h"
#include "tools/vhdvisord/console.h"
#include "tools/vhdvisord/web.h"

#define CONN_TIMEOUT_S 30       /* an idle or stalled connection is closed */
#define CONN_LIMIT 512
#define CONN_PER_IP 64          /* on TCP: one address cannot take them all */
#define CONN_MEMORY (64 * 1024) /* request line and headers; larger is refused */
#define THREAD_STACK (512 * 1024)

struct door {
	const struct api_ctx *ctx;
	bool local;
	struct MHD_Daemon *mhd;
	struct throttle *fails;         /* failed token checks per client */
};

/* One request's state, from its headers to its reply. */
struct req_state {
	char *body;
	size_t len, cap;
	size_t discarded;       /* bytes of a too large body thrown away */
	enum api_stream kind;   /* an upload or download route (api_stream.h) */
	struct api_upload *up;  /* the upload receiving this body */
};

/* A body without a Content-Length that grows past API_BODY_MAX is read
 * and dropped up to this much, so that the client gets to read its 413;
 * beyond it the connection is closed. */
#define DISCARD_MAX (16 * (size_t)API_BODY_MAX)

static enum MHD_Result send_json(struct MHD_Connection *conn, int status, json_object *body)
{
	const char *s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	struct MHD_Response *resp;
	enum MHD_Result r;
	size_t n = strlen(s);
	char *copy = malloc(n + 1);

	if (!copy)
		return MHD_NO;
	memcpy(copy, s, n);
	copy[n] = '\n';
	resp = MHD_create_response_from_buffer(n + 1, copy, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	r = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *msg)
{
	struct api_reply rep = { 0 };
	enum MHD_Result r;

	api_fail(&rep, status, "%s", msg);
	r = send_json(conn, status, rep.body);
	api_reply_clear(&rep);
	return r;
}

/* The client's address as text ("local:uid=N" on the Unix socket). */
static void client_name(struct door *d, struct MHD_Connection *conn, const char *who,
			char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, len, "%s", who);
	if (d->local || !sa)
		return;
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in), buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST))
		snprintf(buf, len, "unknown");
}

static enum MHD_Result send_retry(struct MHD_Connection *conn, unsigned retry)
{
	struct api_reply rep = { 0 };
	struct MHD_Response *resp;
	const char *s;
	char secs[16];
	enum MHD_Result r;

	api_fail(&rep, 429, "too many failed logins from here; retry in %u s", retry);
	s = json_object_to_json_string_ext(rep.body, JSON_C_TO_STRING_PLAIN);
	resp = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
	api_reply_clear(&rep);
	if (!resp)
		return MHD_NO;
	snprintf(secs, sizeof(secs), "%u", retry);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	r = MHD_queue_response(conn, 429, resp);
	MHD_destroy_response(resp);
	return r;
}

/* Who is asking: root on the Unix socket, else the bearer token's owner.
 * Sets @role and @who; false with a 401 already queued for a bad token. */
static bool authenticate(struct door *d, struct MHD_Connection *conn, const char *url,
			 enum api_role *role, char *who, size_t wholen, enum MHD_Result *res)
{
	char bearer[TOKEN_SECRET_LEN + 16];
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	struct api_token t;
	char client[128];
	unsigned retry = 0;
	int r;

	*role = API_ROLE_NONE;
	snprintf(who, wholen, "anonymous");
	if (d->local) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct ucred cr;
		socklen_t len = sizeof(cr);

		if (ci && !getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
			snprintf(who, wholen, "local:uid=%u", (unsigned)cr.uid);
			if (cr.uid == 0) {
				*role = API_ROLE_ADMIN;
				return true;
			}
		}
	}
	if (!auth)
		auth = console_bearer(conn, url, bearer, sizeof(bearer));
	if (!auth)
		return true;
	if (strncmp(auth, "Bearer ", 7)) {
		*res = send_error(conn, 401, "Authorization must be 'Bearer TOKEN'");
		return false;
	}
	client_name(d, conn, who, client, sizeof(client));
	if (throttle_blocked(d->fails, client, time(NULL), &retry)) {
		*res = send_retry(conn, retry);
		return false;
	}
	r = api_token_check(d->ctx->state_dir, auth + 7, &t);
	if (r == -EACCES)
		throttle_failed(d->fails, client, time(NULL));
	if (r) {
		*res = send_error(conn, r == -EACCES ? 401 : 500,
				  r == -EACCES ? "unknown or revoked token" : "cannot read the tokens");
		return false;
	}
	*role = t.role;
	snprintf(who, wholen, "token:%s", t.name);
	return true;
}

/* libmicrohttpd splits the query string off the URL; this puts it back,
 * as sent (no_unescape below keeps names and values encoded), for
 * api_dispatch() to parse. */
struct query_buf {
	char *s;
	size_t len;
	bool overflow;
};

static enum MHD_Result query_add(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct query_buf *q = cls;
	size_t room = API_PATH_MAX * 2 - q->len;
	int n = snprintf(q->s + q->len, room, "%c%s%s%s", q->len ? '&' : '?', key,
			 value ? "=" : "", value ? value : "");

	if (n < 0 || (size_t)n >= room) {
		q->overflow = true;
		return MHD_NO;
	}
	q->len += (size_t)n;
	return MHD_YES;
}

/* @url itself when the request has no query string, else @url and the
 * query string in @buf (@len bytes); NULL when they do not fit. */
static const char *with_query(struct MHD_Connection *conn, const char *url, char *buf,
			      size_t len)
{
	char qs[API_PATH_MAX * 2] = "";
	struct query_buf q = { .s = qs };

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_add, &q);
	if (q.overflow || (qs[0] && snprintf(buf, len, "%s%s", url, qs) >= (int)len))
		return NULL;
	return qs[0] ? buf : url;
}

/* ---- the byte-stream routes (appliance/api_stream.h) ---- */

/* The first call of an upload PUT: headers only. Checked now, so a
 * refusal is sent before a byte of the body is read. */
static enum MHD_Result upload_start(struct door *d, struct MHD_Connection *conn,
				    const char *url, struct req_state *rs)
{
	const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_CONTENT_RANGE);
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct api_reply rep = { 0 };
	enum MHD_Result res = MHD_NO;
	enum api_role role;
	char who[TOKEN_NAME_MAX + 16];

	if (!authenticate(d, conn, url, &role, who, sizeof(who), &res))
		return res;
	if (!api_upload_begin(d->ctx, url, range, cl ? (int64_t)strtoll(cl, NULL, 10) : -1,
			      role, who, &rs->up, &rep))
		return MHD_YES;
	res = send_json(conn, rep.status, rep.body);
	api_reply_clear(&rep);
	return res;
}

static enum MHD_Result upload_step(struct MHD_Connection *conn, struct req_state *rs,
				   const char *data, size_t *size)
{
	struct api_reply rep = { 0 };
	enum MHD_Result res;

	if (*size) {
		if (rs->up)
			api_upload_write(rs->up, data, *size);  /* its end says how it went */
		*size = 0;
		return MHD_YES;
	}
	if (!rs->up)
		return MHD_YES;         /* refused: the reply is queued */
	api_upload_end(rs->up, &rep);
	rs->up = NULL;
	res = send_json(conn, rep.status, rep.body);
	api_reply_clear(&rep);
	return res;
}

/* GET /images/{id}/file: the file from its descriptor, whole or a range. */
static enum MHD_Result send_file(struct door *d, struct MHD_Connection *conn, const char *url,
				 enum api_role role, const char *who)
{
	const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_RANGE);
	struct api_reply rep = { 0 };
	struct api_download dl;
	struct MHD_Response *resp;
	enum MHD_Result res;
	const char *s;
	char buf[48];

	if (api_download_open(d->ctx, url, range, role, who, &dl, &rep)) {
		if (rep.status != 416) {
			res = send_json(conn, rep.status, rep.body);
			api_reply_clear(&rep);
			return res;
		}
		/* the JSON error, and the file's size as RFC 9110 wants */
		s = json_object_to_json_string_ext(rep.body, JSON_C_TO_STRING_PLAIN);
		resp = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
		api_reply_clear(&rep);
		if (!resp)
			return MHD_NO;
		snprintf(buf, sizeof(buf), "bytes */%llu", (unsigned long long)dl.total);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, buf);
		res = MHD_queue_response(conn, 416, resp);
		MHD_destroy_response(resp);
		return res;
	}
	resp = MHD_create_response_from_fd_at_offset64(dl.len, dl.fd, dl.off);
	if (!resp) {
		close(dl.fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (dl.status == 206)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, dl.content_range);
	res = MHD_queue_response(conn, (unsigned)dl.status, resp);
	MHD_destroy_response(resp);
	return res;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct door *d = cls;
	struct req_state *rs = *con_cls;
	struct api_reply rep = { 0 };
	enum api_role role;
	enum MHD_Result res = MHD_NO;
	char who[TOKEN_NAME_MAX + 16], full[API_PATH_MAX * 3];

	if (!rs) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return MHD_NO;
		*con_cls = rs;
		rs->kind = api_stream_kind(method, url);
		if (rs->kind == API_STREAM_UPLOAD)
			return upload_start(d, conn, url, rs);
		/* refused before a byte of it is read */
		if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX)
			return send_error(conn, 413, "request body too large");
		return MHD_YES;
	}
	if (rs->kind == API_STREAM_UPLOAD)
		return upload_step(conn, rs, upload_data, upload_data_size);
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		if (rs->discarded || rs->len + n > API_BODY_MAX) {
			rs->discarded += n;
			*upload_data_size = 0;
			return rs->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
		}
		if (rs->len + n > rs->cap) {
			size_t cap = rs->cap ? rs->cap : 4096;
			char *b;

			while (cap < rs->len + n)
				cap *= 2;
			b = realloc(rs->body, cap);
			if (!b)
				return MHD_NO;
			rs->body = b;
			rs->cap = cap;
		}
		memcpy(rs->body + rs->len, upload_data, n);
		rs->len += n;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rs->discarded)
		return send_error(conn, 413, "request body too large");
	if (web_wants(url))                     /* the web console's files: web.c */
		return web_serve(conn, method, url);
	if (!authenticate(d, conn, url, &role, who, sizeof(who), &res))
		return res;
	if (console_wants(method, url))         /* a WebSocket: console.c */
		return console_serve(d->ctx, conn, url, role, who);
	if (rs->kind == API_STREAM_DOWNLOAD && !rs->len)
		return send_file(d, conn, url, role, who);
	url = with_query(conn, url, full, sizeof(full));
	if (!url)
		return send_error(conn, 414, "query string too long");
	api_dispatch(d->ctx, method, url, rs->body ? rs->body : "", rs->len, role, who, &rep);
	if (api_event_is_stream(method, url, rep.status))
		res = sse_send(conn);	/* the handler said yes: stream the events */
	else
		res = send_json(conn, rep.status, rep.body);
	api_reply_clear(&rep);
	return res;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_state *rs = *con_cls;

	if (rs) {
		api_upload_abort(rs->up);       /* broken off: what came is kept */
		free(rs->body);
		free(rs);
		*con_cls = NULL;
	}
}

/* The path exactly as sent (still percent-encoded): api_match() decodes
 * segment by segment, so an encoded '/' stays inside its segment. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/* libmicrohttpd's log callback: its format comes from the library. */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_dbg("http: %s", msg);
}

int door_open(const struct api_ctx *ctx, int fd, bool local, const char *cert,
	      const char *key, struct door **out)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_ALLOW_UPGRADE;
	struct door *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->ctx = ctx;
	d->local = local;
	d->fails = throttle_create();
	if (!d->fails) {
		free(d);
		return -ENOMEM;
	}
	if (!local)
		flags |= MHD_USE_TLS;
	d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, d,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
				  MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, d,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, d,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				  MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
				  local ? MHD_OPTION_END : MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  (unsigned)CONN_PER_IP,
				  MHD_OPTION_HTTPS_MEM_KEY, key,
				  MHD_OPTION_HTTPS_MEM_CERT, cert,
				  MHD_OPTION_END);
	if (!d->mhd) {
		throttle_destroy(d->fails);
		free(d);
		return -EIO;
	}
	*out = d;
	return 0;
}

void door_close(struct door *d)
{
	if (!d)
		return;
	console_stop_all();
	MHD_stop_daemon(d->mhd);
	throttle_destroy(d->fails);
	free(d);
}
