/* tools/vhdvisord/console.c: the VM console's WebSocket on libmicrohttpd.
 * The route's handler (appliance/api_console.c) says whether there is a
 * console to join; this file checks the handshake (RFC 6455 4.2.1),
 * answers 101 with the accept key and, once libmicrohttpd hands over the
 * socket, bridges it to RUN/NAME.console.sock on a detached thread (the
 * upgrade callback must return at once on TLS: the library pumps TLS after
 * it). The console socket is connected on that thread, so a request that
 * never gets its 101 holds no console. */
#include "tools/vhdvisord/console.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "appliance/ws.h"
#include "appliance/ws_bridge.h"
#include "common/log.h"

#define SESSION_STACK (256 * 1024)

struct session {
	char name[API_PARAM_MAX];
	struct sockaddr_un sa;
	char *extra;
	size_t nextra;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
};

/* A 101 queued, its upgrade not yet called: libmicrohttpd calls the
 * upgrade handler only once the 101 went out, and says nothing when it
 * never does (the client left), so what it is given must not be memory
 * that only the handler frees. A slot of this table is that, for a
 * while: a slot queued more than PENDING_TTL_S ago is free again (the
 * 101 goes out at once or the connection dies, within CONN_TIMEOUT_S). */
#define PENDING_MAX 64
#define PENDING_TTL_S 120

struct pending {
	bool used;
	time_t queued;
	struct MHD_Connection *conn;
	char name[API_PARAM_MAX];
	struct sockaddr_un sa;
};

static struct pending pending[PENDING_MAX];

/* The sessions running, and how to end them. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static unsigned running;
static int stop_pipe[2] = { -1, -1 };

bool console_wants(const char *method, const char *url)
{
	const struct api_route *routes, *r;
	char params[API_MAX_PARAMS][API_PARAM_MAX], why[64];
	unsigned np;
	size_t n;

	routes = api_routes(&n);
	return api_match(routes, n, method, url, &r, params, &np, why, sizeof(why)) ==
	       API_MATCH_OK && api_route_upgrades(r);
}

#define WS_PROTO "vhdvisor.console"

const char *console_bearer(struct MHD_Connection *conn, const char *url, char *buf, size_t len)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "Sec-WebSocket-Protocol");
	const char *b;
	size_t n;

	if (!h || !console_wants("GET", url))
		return NULL;
	for (b = h; (b = strstr(b, "bearer.")); b++)
		if (b == h || b[-1] == ' ' || b[-1] == ',')
			break;
	if (!b)
		return NULL;
	b += 7;
	n = strcspn(b, " ,");
	if (n + 8 > len)
		return NULL;
	snprintf(buf, len, "Bearer %.*s", (int)n, b);
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, struct api_reply *rep,
			     const char *hname, const char *hval)
{
	const char *s = json_object_to_json_string_ext(rep->body, JSON_C_TO_STRING_PLAIN);
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(s), (void *)s,
								    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (hname)
		MHD_add_response_header(resp, hname, hval);
	r = MHD_queue_response(conn, (unsigned)rep->status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* True when the comma-separated header value @v has @tok (any case). */
static bool has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	while (v && *v) {
		size_t len;

		v += strspn(v, " \t,");
		len = strcspn(v, ",");
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (len == n && !strncasecmp(v, tok, n))
			return true;
		v += strcspn(v, ",");
	}
	return false;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The handshake's checks; 0 with the accept key, or the status to
 * refuse with (and @rep set). */
static int handshake(struct MHD_Connection *conn, char accept[WS_ACCEPT_LEN + 1],
		     struct api_reply *rep)
{
	const char *ver = header(conn, "Sec-WebSocket-Version");

	if (!has_token(header(conn, MHD_HTTP_HEADER_UPGRADE), "websocket") ||
	    !has_token(header(conn, MHD_HTTP_HEADER_CONNECTION), "upgrade")) {
		api_fail(rep, 400, "this route is a WebSocket: send Connection: Upgrade and "
			 "Upgrade: websocket");
		return 400;
	}
	if (!ver || strcmp(ver, "13")) {
		api_fail(rep, 426, "WebSocket version must be 13");
		return 426;
	}
	if (ws_accept_key(header(conn, "Sec-WebSocket-Key"), accept)) {
		api_fail(rep, 400, "Sec-WebSocket-Key must be the base64 of 16 bytes");
		return 400;
	}
	return 0;
}

/* A close frame with @code, for a session that cannot start. */
static void send_close(MHD_socket sock, uint16_t code)
{
	uint8_t f[WS_HEAD_MAX + 2];
	size_t h = ws_frame_head(f, WS_OP_CLOSE, true, 2);

	f[h] = (uint8_t)(code >> 8);
	f[h + 1] = (uint8_t)code;
	if (send(sock, f, h + 2, MSG_NOSIGNAL) < 0)
		log_dbg("console: close frame: %s", strerror(errno));
}

static void *session_main(void *arg)
{
	struct session *s = arg;
	uint16_t sent = 0;
	int con, r;

	con = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (con < 0 || connect(con, (struct sockaddr *)&s->sa, sizeof(s->sa))) {
		log_warn("console of %s: %s: %s", s->name, s->sa.sun_path, strerror(errno));
		send_close(s->sock, WS_CLOSE_INTERNAL);
	} else {
		log_info("console of %s: session open", s->name);
		r = ws_bridge_run(s->sock, con, stop_pipe[0], s->extra, s->nextra, &sent);
		log_info("console of %s: session over (close %u%s%s)", s->name, sent,
			 r ? ", " : "", r ? strerror(-r) : "");
	}
	if (con >= 0)
		close(con);
	MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(s->extra);
	free(s);
	pthread_mutex_lock(&lock);
	if (!--running)
		pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls,
		       const char *extra, size_t nextra, MHD_socket sock,
		       struct MHD_UpgradeResponseHandle *urh)
{
	struct pending *slot = cls;
	struct session *s = calloc(1, sizeof(*s));
	pthread_attr_t attr;
	pthread_t t;
	int r = -ENOMEM;

	pthread_mutex_lock(&lock);
	if (slot->used && slot->conn == conn) {
		if (s) {
			memcpy(s->name, slot->name, sizeof(s->name));
			s->sa = slot->sa;
			r = 0;
		}
		slot->used = false;
	} else {
		r = -ESTALE;    /* the slot was taken back (and maybe reused): never guess */
	}
	if (!r && stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC))
		r = -errno;
	if (!r && nextra) {
		s->extra = malloc(nextra);
		if (s->extra) {
			memcpy(s->extra, extra, nextra);
			s->nextra = nextra;
		} else {
			r = -ENOMEM;
		}
	}
	if (s) {
		s->sock = sock;
		s->urh = urh;
	}
	if (!r && !(r = -pthread_attr_init(&attr))) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, SESSION_STACK);
		r = -pthread_create(&t, &attr, session_main, s);
		pthread_attr_destroy(&attr);
	}
	if (!r)
		running++;
	pthread_mutex_unlock(&lock);
	if (r) {
		log_err("console: no session: %s", strerror(-r));
		send_close(sock, WS_CLOSE_INTERNAL);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		if (s)
			free(s->extra);
		free(s);
	}
}

/* A free slot for @conn's upgrade, or NULL. */
static struct pending *pending_take(struct MHD_Connection *conn, const char *name,
				    const char *path)
{
	time_t now = time(NULL);
	struct pending *slot = NULL;
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < PENDING_MAX && !slot; i++)
		if (!pending[i].used || now - pending[i].queued > PENDING_TTL_S)
			slot = &pending[i];
	if (slot) {
		memset(slot, 0, sizeof(*slot));
		slot->used = true;
		slot->queued = now;
		slot->conn = conn;
		snprintf(slot->name, sizeof(slot->name), "%s", name);
		slot->sa.sun_family = AF_UNIX;
		snprintf(slot->sa.sun_path, sizeof(slot->sa.sun_path), "%s", path);
	}
	pthread_mutex_unlock(&lock);
	return slot;
}

static void pending_drop(struct pending *slot)
{
	pthread_mutex_lock(&lock);
	slot->used = false;
	pthread_mutex_unlock(&lock);
}

/* Queues the 101 (*@status 101), or a refusal (*@status its code). */
static enum MHD_Result upgrade(struct MHD_Connection *conn, struct api_reply *rep,
			       const char *accept, int *status)
{
	struct MHD_Response *resp;
	struct pending *slot;
	enum MHD_Result r;
	const char *name, *path;
	json_object *j;

	name = json_object_get_string(json_object_object_get_ex(rep->body, "name", &j) ? j : NULL);
	path = json_object_get_string(json_object_object_get_ex(rep->body, "socket", &j) ? j : NULL);
	if (!name || !path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		api_fail(rep, 500, "console socket path too long");
		*status = 500;
		return reply(conn, rep, NULL, NULL);
	}
	slot = pending_take(conn, name, path);
	if (!slot) {
		api_fail(rep, 503, "too many console handshakes at once; retry");
		*status = 503;
		return reply(conn, rep, NULL, NULL);
	}
	*status = 101;
	resp = MHD_create_response_for_upgrade(on_upgrade, slot);
	if (!resp) {
		pending_drop(slot);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	if (header(conn, "Sec-WebSocket-Protocol") &&
	    strstr(header(conn, "Sec-WebSocket-Protocol"), WS_PROTO))
		MHD_add_response_header(resp, "Sec-WebSocket-Protocol", WS_PROTO);
	r = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	if (r != MHD_YES)
		pending_drop(slot);
	return r;
}

enum MHD_Result console_serve(const struct api_ctx *ctx, struct MHD_Connection *conn,
			      const char *url, enum api_role role, const char *who)
{
	struct api_reply rep = { 0 };
	char accept[WS_ACCEPT_LEN + 1];
	enum MHD_Result r;
	int status;

	/* the handler first: 401, 403, 404, 409 before the handshake's 400 */
	api_dispatch(ctx, "GET", url, "", 0, role, who, &rep);
	status = rep.status == 200 ? handshake(conn, accept, &rep) : rep.status;
	if (!status) {
		r = upgrade(conn, &rep, accept, &status);
	} else {
		r = reply(conn, &rep, status == 426 ? "Sec-WebSocket-Version" : NULL, "13");
	}
	api_audit(ctx, who, "GET", url, status);
	api_reply_clear(&rep);
	return r;
}

void console_stop_all(void)
{
	pthread_mutex_lock(&lock);
	if (running && stop_pipe[1] >= 0 && write(stop_pipe[1], "x", 1) < 0)
		log_warn("console: %s", strerror(errno));
	while (running)
		pthread_cond_wait(&idle, &lock);
	pthread_mutex_unlock(&lock);
}
