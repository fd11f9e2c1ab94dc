/* appliance/api_upload.c: image uploads (see api_stream.h). An upload is
 * the file STATE/tmp/<32 hex>.upload (0600): its size is the offset the
 * server has, so a broken connection or a kill -9 of the daemon loses
 * nothing already written, and `image gc` removes forgotten ones with
 * the rest of STATE/tmp. One PUT or commit at a time holds the file's
 * flock. The SHA-256 of the bytes is kept running in memory per upload
 * while the body arrives; after a daemon restart (or when the table is
 * full) it is computed again from the file once. */
#include "appliance/api_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "appliance/api_int.h"
#include "appliance/event.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "images/rec_json.h"
#include "vhd/vhd.h"
#include "vhd/vhd_ops.h"

#define UP_ID_LEN 32
#define UP_SLOTS 64             /* running hashes kept */

/* A running SHA-256 of one upload's first @off bytes, and its content id
 * as far as the stream lets it be computed (images/img_hash.h). */
struct up_hash {
	char id[UP_ID_LEN + 1];     /* "" = free slot */
	EVP_MD_CTX *md;
	struct img_stream_id *sid;  /* NULL until the first reset */
	uint64_t off;
	uint64_t used;              /* for eviction: larger = more recent */
	bool busy;                  /* a request (holding the flock) uses it */
};

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct up_hash slots[UP_SLOTS];
static uint64_t slots_clock;

struct api_upload {
	const struct api_ctx *ctx;
	struct cat *c;                  /* held: gc waits for the upload */
	char id[UP_ID_LEN + 1];
	char path[4300];
	char audit_path[API_PATH_MAX + 1];
	char who[160];
	int fd;
	uint64_t start, off, end;       /* end: the last byte allowed + 1 */
	struct up_hash *slot;           /* busy: ours until up_free() */
	int err;                        /* first write error */
};

static bool up_id_valid(const char *id)
{
	if (strlen(id) != UP_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static int up_path(struct cat *c, const char *id, char *buf, size_t len)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "tmp/%s.upload", id);
	return cat_path(c, rel, buf, len);
}

/* The slot of upload @id, taken or made (evicting the least recently used
 * idle one), and marked busy: the caller holds the upload's flock and
 * gives the slot back with slot_put(). NULL when every slot is busy or
 * out of memory. */
static struct up_hash *slot_get(const char *id)
{
	struct up_hash *s = NULL;

	pthread_mutex_lock(&slots_lock);
	for (int i = 0; i < UP_SLOTS && !s; i++)
		if (!strcmp(slots[i].id, id))
			s = &slots[i];
	if (!s) {
		for (int i = 0; i < UP_SLOTS; i++)
			if (!slots[i].busy && (!s || slots[i].used < s->used))
				s = &slots[i];
		if (s) {
			if (!s->md)
				s->md = EVP_MD_CTX_new();
			snprintf(s->id, sizeof(s->id), "%s", id);
			s->off = UINT64_MAX;    /* hashed again from the file */
		}
	}
	if (s && s->md && !s->busy) {
		s->busy = true;
		s->used = ++slots_clock;
	} else {
		s = NULL;
	}
	pthread_mutex_unlock(&slots_lock);
	return s;
}

/* Gives @s back: its hash in step with the first @off bytes, or
 * UINT64_MAX when not (hashed again next time). Accepts NULL. */
static void slot_put(struct up_hash *s, uint64_t off)
{
	if (!s)
		return;
	pthread_mutex_lock(&slots_lock);
	s->off = off;
	s->busy = false;
	pthread_mutex_unlock(&slots_lock);
}

static void slot_drop(const char *id)
{
	pthread_mutex_lock(&slots_lock);
	for (int i = 0; i < UP_SLOTS; i++)
		if (!strcmp(slots[i].id, id)) {
			slots[i].id[0] = '\0';
			slots[i].off = UINT64_MAX;
			slots[i].used = 0;
			slots[i].busy = false;
		}
	pthread_mutex_unlock(&slots_lock);
}

/* The next @len bytes of the upload into its hashes. */
static void hash_feed(struct up_hash *s, const void *buf, size_t len)
{
	EVP_DigestUpdate(s->md, buf, len);
	if (s->sid)
		img_stream_id_feed(s->sid, buf, len);
}

/* Brings the hashes of @s to the first @size bytes of @fd (reading them
 * again unless s->off already says so). 0 or -errno. */
static int hash_sync(struct up_hash *s, int fd, uint64_t size)
{
	static const size_t bufsz = 1 << 20;
	uint64_t pos = 0;
	char *buf;

	if (s->off == size)
		return 0;
	img_stream_id_free(s->sid);
	s->sid = NULL;
	if (!EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) || img_stream_id_new(&s->sid))
		return -ENOMEM;
	buf = malloc(bufsz);
	if (!buf)
		return -ENOMEM;
	while (pos < size) {
		size_t want = size - pos < bufsz ? (size_t)(size - pos) : bufsz;
		ssize_t n = pread(fd, buf, want, (off_t)pos);

		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		hash_feed(s, buf, (size_t)n);
		pos += (uint64_t)n;
	}
	free(buf);
	s->off = size;
	return 0;
}

/* The hex SHA-256 of what @md has seen so far (@md goes on). */
static int hash_peek(EVP_MD_CTX *md, char hex[IMG_HEX_LEN + 1])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned n = 0;
	int r = -EIO;

	if (copy && EVP_MD_CTX_copy_ex(copy, md) && EVP_DigestFinal_ex(copy, d, &n) &&
	    n == sizeof(d)) {
		for (unsigned i = 0; i < n; i++)
			sprintf(hex + 2 * i, "%02x", d[i]);
		r = 0;
	}
	EVP_MD_CTX_free(copy);
	return r;
}

static uint64_t free_bytes(const char *path)
{
	struct statvfs sv;

	return statvfs(path, &sv) ? UINT64_MAX : (uint64_t)sv.f_bavail * sv.f_frsize;
}

static void fail_offset(struct api_reply *rep, uint64_t off)
{
	json_object_object_add(rep->body, "offset", json_object_new_int64((int64_t)off));
}

/* An upload's file, opened for the request: no symbolic link, a regular
 * file of ours, not readable by others. 0 or -errno with @rep filled. */
static int up_open(struct cat *c, const char *id, int flags, char *path, size_t len,
		   struct stat *st, struct api_reply *rep)
{
	int fd;

	if (!up_id_valid(id)) {
		api_fail(rep, 404, "no upload '%s'", id);
		return -ENOENT;
	}
	if (up_path(c, id, path, len)) {
		api_fail(rep, 500, "path too long");
		return -ENAMETOOLONG;
	}
	fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		api_fail(rep, e == ENOENT ? 404 : 500, "upload '%s': %s", id,
			 e == ENOENT ? "none (finished, abandoned or swept by gc)" : strerror(e));
		return -e;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || (st->st_mode & 077) ||
	    st->st_uid != geteuid()) {
		close(fd);
		api_fail(rep, 500, "upload '%s': not a private regular file", id);
		return -EPERM;
	}
	return fd;
}

/* Takes the upload's flock without waiting; 409 while another request
 * writes or commits it. */
static bool up_lock(int fd, const char *id, struct api_reply *rep)
{
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return true;
	api_fail(rep, 409, "upload '%s' is busy (another request writes or commits it)", id);
	return false;
}

static void up_remove(const char *path, const char *id)
{
	unlink(path);
	slot_drop(id);
}

/* An upload's state; @s (may be NULL) in step with it gives "sha256" and,
 * once every block of the VHD is in, "content_id" (null before, or when
 * the file's layout cannot be followed: the commit computes it then). */
static json_object *up_json(const char *id, uint64_t off, const struct up_hash *s)
{
	json_object *o = json_object_new_object();
	char hex[IMG_HEX_LEN + 1];

	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "offset", json_object_new_int64((int64_t)off));
	if (s && !hash_peek(s->md, hex))
		json_object_object_add(o, "sha256", json_object_new_string(hex));
	if (s)
		json_object_object_add(o, "content_id", s->sid && !img_stream_id_get(s->sid, hex) ?
				       json_object_new_string(hex) : NULL);
	return o;
}

/* ---- the JSON routes ---- */

void api_upload_create(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep)
{
	char rel[128], path[4300], *end;
	const char *size;
	uint64_t want = 0, avail;
	struct cat *c;
	int fd;

	if (!api_body_string(req->body, "size", &size, rep))
		return;
	if (size) {
		errno = 0;
		want = strtoull(size, &end, 10);
		if (errno || end == size || *end || *size == '-') {
			api_fail(rep, 400, "size must be a decimal number of bytes");
			return;
		}
	}
	if (api_cat_open(ctx, rep, &c))
		return;
	if (img_tmp_name("upload", rel, sizeof(rel)) || cat_path(c, rel, path, sizeof(path))) {
		api_fail(rep, 500, "cannot name the upload");
		goto out;
	}
	avail = free_bytes(cat_dir(c));
	if (want > avail) {
		api_fail(rep, 507, "%" PRIu64 " bytes do not fit: %" PRIu64 " free in %s", want,
			 avail, cat_dir(c));
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		api_fail(rep, errno == ENOSPC ? 507 : 500, "cannot make the upload: %s",
			 strerror(errno));
		goto out;
	}
	close(fd);
	rel[4 + UP_ID_LEN] = '\0';
	api_ok(rep, up_json(rel + 4, 0, NULL));
out:
	cat_close(c);
}

void api_upload_get(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	char path[4300], hex[IMG_HEX_LEN + 1];
	struct up_hash *s;
	struct stat st;
	struct cat *c;
	int fd;

	if (api_cat_open(ctx, rep, &c))
		return;
	fd = up_open(c, req->params[0], O_RDONLY, path, sizeof(path), &st, rep);
	if (fd < 0)
		goto out;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		/* a PUT runs: the offset grows; its reply will have the hash */
		json_object *o = up_json(req->params[0], (uint64_t)st.st_size, NULL);

		json_object_object_add(o, "busy", json_object_new_boolean(1));
		api_ok(rep, o);
	} else if (!(s = slot_get(req->params[0])) ||
		   hash_sync(s, fd, (uint64_t)st.st_size) || hash_peek(s->md, hex)) {
		api_fail(rep, 500, "cannot hash the upload");
		slot_put(s, UINT64_MAX);
	} else {
		json_object *o = up_json(req->params[0], (uint64_t)st.st_size, s);

		json_object_object_add(o, "busy", json_object_new_boolean(0));
		api_ok(rep, o);
		slot_put(s, s->off);
	}
	close(fd);
out:
	cat_close(c);
}

void api_upload_put(const struct api_ctx *ctx, const struct api_req *req, struct api_reply *rep)
{
	api_fail(rep, 400, "this route streams its body: send it to vhdvisord");
}

void api_upload_delete(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep)
{
	char path[4300];
	struct stat st;
	struct cat *c;
	int fd;

	if (api_cat_open(ctx, rep, &c))
		return;
	fd = up_open(c, req->params[0], O_RDONLY, path, sizeof(path), &st, rep);
	if (fd >= 0) {
		if (up_lock(fd, req->params[0], rep)) {
			up_remove(path, req->params[0]);
			api_ok(rep, up_json(req->params[0], (uint64_t)st.st_size, NULL));
		}
		close(fd);
	}
	cat_close(c);
}

/* The checks of `vhdvisor image import` for a file that must be one
 * standalone VHD: opened alone (no parent is ever looked up: the upload
 * names no file of this host), not differencing, its trailing footer
 * there (an upload cut short has only the copy at offset 0), then
 * vhd_check. 0, or -errno with the reason in img_last_error(). */
static int up_check_vhd(const char *path)
{
	struct vhd_open_opts oo = { .flags = VHD_OPEN_NO_PARENT | VHD_OPEN_NOFOLLOW };
	struct vhd_info info;
	struct vhd *v;
	int r;

	r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(-EINVAL, "not a VHD: %s", vhd_last_error()[0] ?
				vhd_last_error() : strerror(-r));
	r = vhd_get_info(v, &info);
	vhd_close(v);
	if (r)
		return img_fail(r, "cannot read the VHD: %s", strerror(-r));
	if (info.type == VHD_TYPE_DIFF)
		return img_fail(-EINVAL, "a differencing VHD: upload a standalone one "
				"(flatten it first, e.g. qemu-img convert)");
	if (info.footer_damaged)
		return img_fail(-EINVAL, "the VHD has no footer at its end: the upload is "
				"incomplete or the file damaged");
	return img_vhd_verify(path, "the uploaded VHD", VHD_CHECK_NO_PARENT);
}

static bool commit_args(const struct api_req *req, struct img_import_opts *o,
			const char **sha, struct api_reply *rep)
{
	char n[CAT_NAME_MAX + 1], v[CAT_NAME_MAX + 1];

	if (!api_body_string(req->body, "name", &o->ref, rep) ||
	    !api_body_string(req->body, "os", &o->os, rep) ||
	    !api_body_string(req->body, "arch", &o->arch, rep) ||
	    !api_body_string(req->body, "boot", &o->boot, rep) ||
	    !api_body_string(req->body, "sha256", sha, rep))
		return false;
	if (o->ref && cat_ref_split(o->ref, n, v)) {
		api_fail(rep, 400, "bad name '%.80s' (NAME[:VERSION], [A-Za-z0-9._-])", o->ref);
		return false;
	}
	return true;
}

void api_upload_commit(const struct api_ctx *ctx, const struct api_req *req,
		       struct api_reply *rep)
{
	struct img_import_opts o = { 0 };
	struct img_import_result res;
	char path[4300], hex[IMG_HEX_LEN + 1], source[64];
	const char *id = req->params[0], *sha;
	struct img_src src;
	struct up_hash *s;
	struct stat st;
	struct cat *c;
	json_object *j;
	int fd, r;

	if (!commit_args(req, &o, &sha, rep) || api_cat_open(ctx, rep, &c))
		return;
	fd = up_open(c, id, O_RDONLY, path, sizeof(path), &st, rep);
	if (fd < 0)
		goto out;
	if (!up_lock(fd, id, rep))
		goto out_fd;
	if (!st.st_size) {
		api_fail(rep, 400, "upload '%s' is empty", id);
		goto out_fd;
	}
	s = slot_get(id);
	r = !s || hash_sync(s, fd, (uint64_t)st.st_size) || hash_peek(s->md, hex);
	slot_put(s, r ? UINT64_MAX : s->off);
	if (r) {
		api_fail(rep, 500, "cannot hash the upload");
		goto out_fd;
	}
	if (sha && strcasecmp(sha, hex)) {
		api_fail(rep, 400, "the upload's SHA-256 is %s, not %.64s", hex, sha);
		goto out_fd;
	}
	img_error_clear();
	r = up_check_vhd(path);
	if (r) {
		/* it can never become an image: nothing of it is kept */
		api_fail(rep, 400, "not imported (upload removed): %s", img_last_error());
		up_remove(path, id);
		goto out_fd;
	}
	r = img_src_vhd_open_flags(path, VHD_OPEN_NOFOLLOW | VHD_OPEN_NO_PARENT, &src);
	if (r) {
		api_fail(rep, 500, "%s", img_last_error());
		goto out_fd;
	}
	snprintf(source, sizeof(source), "upload:%s", id);
	o.source = source;
	r = img_import_src(c, &src, &o, &res);
	img_src_vhd_close(&src);
	if (r) {
		api_fail(rep, r == -ENOSPC ? 507 : 500, "not imported: %s", img_last_error());
		goto out_fd;
	}
	up_remove(path, id);
	j = img_image_json(c, &res.img);
	json_object_object_add(j, "existed", json_object_new_boolean(res.existed));
	json_object_object_add(j, "upload_sha256", json_object_new_string(hex));
	if (o.ref)
		json_object_object_add(j, "version", json_object_new_string(res.version));
	if (!res.existed) {
		json_object *ev = json_object_new_object();

		json_object_object_add(ev, "id", json_object_new_string(res.img.id));
		json_object_object_add(ev, "source", json_object_new_string(source));
		api_event_emit("image.added", ev);
	}
	api_ok(rep, j);
out_fd:
	close(fd);
out:
	cat_close(c);
}

/* ---- the streamed body ---- */

/* "bytes START-END/TOTAL", or with TOTAL "*" (unknown). 0 or -EINVAL. */
static int range_parse(const char *s, uint64_t *start, uint64_t *end, uint64_t *total)
{
	char *e;

	*total = UINT64_MAX;
	if (strncmp(s, "bytes ", 6))
		return -EINVAL;
	s += 6;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*start = strtoull(s, &e, 10);
	if (errno || *e != '-' || e[1] < '0' || e[1] > '9')
		return -EINVAL;
	*end = strtoull(e + 1, &e, 10);
	if (errno || *e != '/' || *end < *start)
		return -EINVAL;
	if (!strcmp(e + 1, "*"))
		return 0;
	s = e + 1;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	*total = strtoull(s, &e, 10);
	if (errno || *e || *end >= *total)
		return -EINVAL;
	return 0;
}

/* Removes the upload's file and forgets its hash (the slot too). */
static void up_discard(struct api_upload *u)
{
	unlink(u->path);
	slot_drop(u->id);
	u->slot = NULL;
}

static void up_free(struct api_upload *u)
{
	slot_put(u->slot, UINT64_MAX);
	if (u->fd >= 0)
		close(u->fd);
	cat_close(u->c);
	free(u);
}

/* The checks before a byte is read. 0 or -errno with @rep filled. */
static int up_prepare(struct api_upload *u, const char *range, int64_t length,
		      struct api_reply *rep)
{
	uint64_t start = 0, end = UINT64_MAX, total, avail;
	struct stat st;

	if (range && range_parse(range, &start, &end, &total)) {
		api_fail(rep, 400, "bad Content-Range '%.80s' (want bytes START-END/TOTAL or "
			 "bytes START-END/*)", range);
		return -EINVAL;
	}
	if (range && length >= 0 && (uint64_t)length != end - start + 1) {
		api_fail(rep, 400, "Content-Range says %" PRIu64 " bytes, the body has %" PRId64,
			 end - start + 1, length);
		return -EINVAL;
	}
	/* read too: after a restart the hashes are made again from the file */
	u->fd = up_open(u->c, u->id, O_RDWR, u->path, sizeof(u->path), &st, rep);
	if (u->fd < 0)
		return u->fd;
	if (!up_lock(u->fd, u->id, rep))
		return -EBUSY;
	u->start = u->off = (uint64_t)st.st_size;
	if (start != u->start) {
		api_fail(rep, 409, "the upload has %" PRIu64 " bytes: send from there, not from "
			 "%" PRIu64, u->start, start);
		fail_offset(rep, u->start);
		return -ESPIPE;
	}
	u->end = range ? end + 1 : UINT64_MAX;
	avail = free_bytes(u->path);
	if (length >= 0 && (uint64_t)length > avail) {
		api_fail(rep, 507, "%" PRId64 " bytes do not fit: %" PRIu64 " free in %s "
			 "(upload removed)", length, avail, cat_dir(u->c));
		up_discard(u);
		return -ENOSPC;
	}
	if (lseek(u->fd, (off_t)u->start, SEEK_SET) < 0) {
		api_fail(rep, 500, "seek: %s", strerror(errno));
		return -errno;
	}
	u->slot = slot_get(u->id);
	if (!u->slot || hash_sync(u->slot, u->fd, u->start)) {
		api_fail(rep, 500, "cannot hash the upload");
		return -EIO;
	}
	return 0;
}

int api_upload_begin(const struct api_ctx *ctx, const char *path, const char *range,
		     int64_t length, enum api_role role, const char *who,
		     struct api_upload **out, struct api_reply *rep)
{
	char params[API_MAX_PARAMS][API_PARAM_MAX];
	struct api_req req = { .method = "PUT", .role = role, .who = who };
	const struct api_route *route;
	struct api_upload *u;
	int r = -EINVAL;

	*out = NULL;
	rep->status = 0;
	rep->body = NULL;
	if (!api_resolve("PUT", path, role, params, &req, &route, rep))
		goto audit;
	u = calloc(1, sizeof(*u));
	if (!u) {
		api_fail(rep, 500, "out of memory");
		r = -ENOMEM;
		goto audit;
	}
	u->ctx = ctx;
	u->fd = -1;
	snprintf(u->id, sizeof(u->id), "%s", req.params[0]);
	snprintf(u->audit_path, sizeof(u->audit_path), "%s", path);
	snprintf(u->who, sizeof(u->who), "%s", who ? who : "-");
	if (api_cat_open(ctx, rep, &u->c)) {
		free(u);
		r = -EIO;
		goto audit;
	}
	r = up_prepare(u, range, length, rep);
	if (r) {
		up_free(u);
		goto audit;
	}
	*out = u;
	return 0;
audit:
	api_audit(ctx, who ? who : "-", "PUT", path, rep->status);
	return r;
}

int api_upload_write(struct api_upload *u, const void *buf, size_t len)
{
	const char *p = buf;

	if (u->err)
		return u->err;
	if (len > u->end - u->off) {
		u->err = -EMSGSIZE;     /* longer than its Content-Range */
		return u->err;
	}
	while (len) {
		ssize_t n = write(u->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			u->err = n < 0 ? -errno : -EIO;
			if (u->err == -EDQUOT)
				u->err = -ENOSPC;
			if (u->err == -ENOSPC)
				up_discard(u);
			return u->err;
		}
		hash_feed(u->slot, p, (size_t)n);
		u->off += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Gives the running hash back to the upload's slot: in step at u->off, or
 * out of step after a failed write. */
static void up_release(struct api_upload *u, bool in_step)
{
	slot_put(u->slot, in_step ? u->off : UINT64_MAX);
	u->slot = NULL;
}

void api_upload_end(struct api_upload *u, struct api_reply *rep)
{
	char hex[IMG_HEX_LEN + 1];

	rep->status = 0;
	rep->body = NULL;
	if (!u->err && fdatasync(u->fd))
		u->err = errno == ENOSPC || errno == EDQUOT ? -ENOSPC : -errno;
	if (u->err == -ENOSPC) {
		up_discard(u);
		api_fail(rep, 507, "the disk is full (%s): upload removed", cat_dir(u->c));
	} else if (u->err == -EMSGSIZE) {
		up_release(u, true);
		api_fail(rep, 400, "the body is longer than its Content-Range; the upload keeps "
			 "its first %" PRIu64 " bytes", u->off);
		fail_offset(rep, u->off);
	} else if (u->err) {
		up_release(u, false);
		api_fail(rep, 500, "write: %s", strerror(-u->err));
		fail_offset(rep, u->off);
	} else if (hash_peek(u->slot->md, hex)) {
		up_release(u, false);
		api_fail(rep, 500, "cannot hash the upload");
	} else {
		api_ok(rep, up_json(u->id, u->off, u->slot));
		up_release(u, true);
	}
	api_audit(u->ctx, u->who, "PUT", u->audit_path, rep->status);
	up_free(u);
}

void api_upload_abort(struct api_upload *u)
{
	if (!u)
		return;
	if (u->err == -ENOSPC)
		up_discard(u);
	up_release(u, !u->err);
	api_audit(u->ctx, u->who, "PUT", u->audit_path, 499);
	up_free(u);
}

enum api_stream api_route_stream(const struct api_route *route)
{
	if (route->fn == api_upload_put)
		return API_STREAM_UPLOAD;
	if (route->fn == api_image_file)
		return API_STREAM_DOWNLOAD;
	return API_STREAM_NONE;
}

enum api_stream api_stream_kind(const char *method, const char *path)
{
	char params[API_MAX_PARAMS][API_PARAM_MAX], why[64];
	const struct api_route *route;
	unsigned np;
	size_t n;
	const struct api_route *routes = api_routes(&n);

	if (api_match(routes, n, method, path, &route, params, &np, why, sizeof(why)))
		return API_STREAM_NONE;
	return api_route_stream(route);
}
