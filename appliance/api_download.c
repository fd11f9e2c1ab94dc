/* appliance/api_download.c: GET /images/{id}/file, an image's VHD as it
 * is stored, whole or one byte range (see api_stream.h). The daemon sends
 * it from the descriptor; nothing is read into memory here. */
#include "appliance/api_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/api_int.h"
#include "images/catalog.h"

void api_image_file(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	api_fail(rep, 400, "this route streams its reply: ask vhdvisord");
}

static bool digits(const char *s, const char *e)
{
	if (s == e)
		return false;
	for (; s < e; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* One range of "bytes=..." against a file of @total bytes: 1 and the
 * range, 0 when the header is to be ignored (malformed, or several
 * ranges: the whole file then), -ERANGE when it cannot be satisfied. */
static int range_parse(const char *s, uint64_t total, uint64_t *off, uint64_t *len)
{
	const char *dash, *end;
	uint64_t a, b;

	if (strncmp(s, "bytes=", 6) || strchr(s, ','))
		return 0;
	s += 6;
	dash = strchr(s, '-');
	end = s + strlen(s);
	if (!dash || !(digits(s, dash) || (s == dash && digits(dash + 1, end))) ||
	    (dash + 1 != end && !digits(dash + 1, end)) || end - s > 41)
		return 0;
	if (s == dash) {                /* the last N bytes */
		b = strtoull(dash + 1, NULL, 10);
		if (!b || !total)
			return -ERANGE;
		*len = b < total ? b : total;
		*off = total - *len;
		return 1;
	}
	a = strtoull(s, NULL, 10);
	b = dash + 1 == end ? UINT64_MAX : strtoull(dash + 1, NULL, 10);
	if (b < a)
		return 0;
	if (a >= total)
		return -ERANGE;
	if (b >= total)
		b = total - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

int api_download_open(const struct api_ctx *ctx, const char *path, const char *range,
		      enum api_role role, const char *who, struct api_download *dl,
		      struct api_reply *rep)
{
	char params[API_MAX_PARAMS][API_PARAM_MAX], file[4300], id[CAT_ID_LEN + 1];
	struct api_req req = { .method = "GET", .role = role, .who = who };
	const struct api_route *route;
	struct cat_image img;
	struct stat st;
	struct cat *c;
	int r;

	memset(dl, 0, sizeof(*dl));
	dl->fd = -1;
	rep->status = 0;
	rep->body = NULL;
	if (!api_resolve("GET", path, role, params, &req, &route, rep))
		return -EINVAL;
	if (api_cat_open(ctx, rep, &c))
		return -EIO;
	if (!api_image_ref(c, req.params[0], id, rep)) {
		cat_close(c);
		return -ENOENT;
	}
	r = cat_image_get(c, id, &img);
	if (!r)
		r = cat_path(c, img.file, file, sizeof(file));
	cat_close(c);
	if (r) {
		api_fail(rep, 500, "catalog: image %.12s: %s", id, strerror(-r));
		return r;
	}
	/* an image removed from now on stays readable through this descriptor */
	dl->fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (dl->fd < 0 || fstat(dl->fd, &st) || !S_ISREG(st.st_mode)) {
		r = -errno;
		api_fail(rep, 500, "image %.12s: cannot open its file: %s", id,
			 dl->fd < 0 ? strerror(errno) : "not a regular file");
		if (dl->fd >= 0)
			close(dl->fd);
		dl->fd = -1;
		return r ? r : -EIO;
	}
	dl->total = (uint64_t)st.st_size;
	dl->status = 200;
	dl->len = dl->total;
	r = range ? range_parse(range, dl->total, &dl->off, &dl->len) : 0;
	if (r < 0) {
		close(dl->fd);
		dl->fd = -1;
		api_fail(rep, 416, "range '%.80s' is outside the file's %" PRIu64 " bytes", range,
			 dl->total);
		return r;
	}
	if (r > 0) {
		dl->status = 206;
		snprintf(dl->content_range, sizeof(dl->content_range),
			 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, dl->off, dl->off + dl->len - 1,
			 dl->total);
	}
	return 0;
}
