/* appliance/api_stream.h: the two routes whose body is bytes, not JSON:
 * an image upload's data (PUT /images/uploads/{upload}) streamed to a file
 * in STATE/tmp as it arrives, and an image's file (GET /images/{id}/file)
 * streamed out with Range. The daemon asks api_stream_kind() before
 * buffering a body; every other route goes through api_dispatch().
 *
 * Uploads (api_upload.c): POST /images/uploads makes an empty
 * STATE/tmp/<upload>.upload (0600); each PUT appends its body at the
 * offset the server has (Content-Range "bytes START-END/TOTAL|*", START
 * must be that offset: 409 with "offset" otherwise), hashing it with
 * SHA-256 on the way; GET /images/uploads/{upload} tells the offset, so a
 * broken upload continues where it stopped; POST .../commit checks the
 * file as `vhdvisor image import` does and brings it into the catalog.
 * A body that does not fit the disk gets 507 and the upload is removed.
 */
#ifndef VV_APPLIANCE_API_STREAM_H
#define VV_APPLIANCE_API_STREAM_H

#include <stdint.h>

#include "appliance/api.h"

enum api_stream {
	API_STREAM_NONE = 0,    /* a JSON route (or no route): api_dispatch() */
	API_STREAM_UPLOAD,      /* the body is data: api_upload_begin() */
	API_STREAM_DOWNLOAD,    /* the reply is data: api_download_open() */
};

/* What kind of route @method @path (raw) is. */
enum api_stream api_stream_kind(const char *method, const char *path);
/* What kind @route of the table is (for the OpenAPI document). */
enum api_stream api_route_stream(const struct api_route *route);

struct api_upload;

/* Starts receiving the body of an upload PUT: matches and checks the role
 * like api_dispatch(), checks @range (the Content-Range header, or NULL:
 * the body starts at 0) against the offset of the upload, and @length
 * (Content-Length, or -1 when unknown) against the free space. 0 and *@out,
 * or -errno with @rep filled (and audited): the body is then discarded. */
int api_upload_begin(const struct api_ctx *ctx, const char *path, const char *range,
		     int64_t length, enum api_role role, const char *who,
		     struct api_upload **out, struct api_reply *rep);
/* Appends @len bytes of the body. 0, or -errno: the reply api_upload_end()
 * gives says why (507 and the upload removed for a full disk). */
int api_upload_write(struct api_upload *u, const void *buf, size_t len);
/* The body has ended: makes the data durable, fills @rep ({"id", "offset",
 * "sha256" of the bytes so far}), audits, frees @u. */
void api_upload_end(struct api_upload *u, struct api_reply *rep);
/* The connection broke before the end: what was written stays (the client
 * resumes at the offset GET tells); audits, frees @u. Accepts NULL. */
void api_upload_abort(struct api_upload *u);

/* An image's file to send: @fd (the caller closes it), @len bytes from
 * @off, of a file of @total bytes; @status 200 (whole file) or 206 with
 * @content_range set. */
struct api_download {
	int fd;
	int status;
	uint64_t off, len, total;
	char content_range[80];
};

/* Opens the file of GET /images/{id}/file: route, role and image as
 * api_dispatch() would, then @range (the Range header or NULL: one range
 * "bytes=A-B", "bytes=A-" or "bytes=-N"; several ranges get the whole file).
 * 0 and @dl, or -errno with @rep filled (416 with @dl->total set when the
 * range is past the end). */
int api_download_open(const struct api_ctx *ctx, const char *path, const char *range,
		      enum api_role role, const char *who, struct api_download *dl,
		      struct api_reply *rep);

#endif
