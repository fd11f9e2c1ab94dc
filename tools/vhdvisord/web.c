/* tools/vhdvisord/web.c: the web console's static files. Paths are
 * checked by character before anything is opened: segments of
 * [A-Za-z0-9._-] not starting with '.', at most two deep, so "..",
 * hidden files and encoded bytes never reach the file system; the file is
 * opened with O_NOFOLLOW and must be a regular file. A client that takes
 * gzip gets NAME.gz when the build left one. No token is needed:
 * the files hold no state, the API they call does. */
#include "tools/vhdvisord/web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *web_root;
static char web_default[PATH_MAX];

void web_set_root(const char *dir)
{
	char exe[PATH_MAX];
	ssize_t n;

	web_root = dir;
	if (dir)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	snprintf(web_default, sizeof(web_default), "%s/../share/vhdvisor/web", dirname(exe));
	web_root = web_default;
}

static bool name_ok(const char *s, size_t n)
{
	if (!n || n > 128 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool web_wants(const char *url)
{
	return url[0] == '/' && strncmp(url, "/api/", 5) && strcmp(url, "/api");
}

static const char *mime_of(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".json", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* Errors as the API writes them: {"error": ..., "code": N}. */
static enum MHD_Result fail(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"code\":%u}\n", msg, status);
	struct MHD_Response *r = MHD_create_response_from_buffer((size_t)n, body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result res;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	res = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return res;
}

/* "/" is index.html; else one or two checked segments. */
static bool rel_path(const char *url, char *out, size_t len)
{
	const char *seg = url + 1, *slash;
	int depth = 0;

	if (!strcmp(url, "/")) {
		snprintf(out, len, "index.html");
		return true;
	}
	if (strlen(seg) >= len)
		return false;
	for (;;) {
		slash = strchr(seg, '/');
		if (!name_ok(seg, slash ? (size_t)(slash - seg) : strlen(seg)) || ++depth > 2)
			return false;
		if (!slash)
			break;
		seg = slash + 1;
	}
	snprintf(out, len, "%s", url + 1);
	return true;
}

enum MHD_Result web_serve(struct MHD_Connection *conn, const char *method, const char *url)
{
	char rel[300], path[PATH_MAX + 300];
	struct MHD_Response *r;
	enum MHD_Result res;
	const char *ae;
	bool gz = false;
	struct stat st;
	int fd = -1;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return fail(conn, 405, "only GET and HEAD here");
	if (!web_root || !rel_path(url, rel, sizeof(rel)))
		return fail(conn, 404, "not found");
	/* the build leaves NAME.gz beside each script and style sheet */
	ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (ae && strstr(ae, "gzip")) {
		snprintf(path, sizeof(path), "%s/%s.gz", web_root, rel);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		gz = fd >= 0;
	}
	if (!gz) {
		snprintf(path, sizeof(path), "%s/%s", web_root, rel);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return fail(conn, 404, errno == ENOENT && !strcmp(rel, "index.html") ?
			    "the web console is not installed here" : "not found");
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(conn, 404, "not found");
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);    /* takes fd */
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime_of(rel));
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; connect-src 'self'; img-src 'self' data:; "
				"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
	res = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return res;
}
