/* images/img_hash.c: content ids (sparse-aware) and file SHA-256. */
#include "images/img_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char content_magic[] = "vhdvisor-content-v1\n";

static void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static void hex_of(const uint8_t *md, unsigned n, char *hex)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

static int digest_hex(EVP_MD_CTX *ctx, char hex[IMG_HEX_LEN + 1])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n;

	if (!EVP_DigestFinal_ex(ctx, md, &n) || n != IMG_HEX_LEN / 2)
		return -EIO;
	hex_of(md, n, hex);
	return 0;
}

#define IMG_BATCH 16	/* chunks read at once when the source has them */

/* What to do at chunk @i: skip *skip chunks that certainly read as zeros,
 * or (when *skip is 0) read *nread chunks (1..IMG_BATCH). */
static int next_run(const struct img_src *src, uint64_t i, uint64_t nchunks,
		    uint64_t *skip, uint64_t *nread)
{
	uint64_t off = i * IMG_CHUNK, left = src->size - off, pnum = left, n;
	bool alloc = true;
	int r;

	*skip = 0;
	*nread = 1;
	if (src->status) {
		r = src->status(src->opaque, off, left, &pnum, &alloc);
		if (r)
			return r;
		if (pnum == 0 || pnum > left) {
			pnum = left;
			alloc = true;
		}
	}
	if (!alloc) {
		*skip = pnum == left ? nchunks - i : pnum / IMG_CHUNK;
		return 0;	/* less than a chunk of zeros: read that chunk */
	}
	n = (off + pnum + IMG_CHUNK - 1) / IMG_CHUNK - i;
	*nread = n < 1 ? 1 : n > IMG_BATCH ? IMG_BATCH : n;
	return 0;
}

struct scan {
	const struct img_scan_opts *o;
	EVP_MD_CTX *ctx;       /* NULL: no id wanted */
	uint8_t *buf;
	size_t run_start, run_end;  /* pending non-zero bytes of buf for the sink */
	uint64_t buf_off, data;
};

static int flush_run(struct scan *s)
{
	int r = 0;

	if (s->o->sink && s->run_end > s->run_start)
		r = s->o->sink(s->o->sink_opaque, s->buf + s->run_start,
			       s->run_end - s->run_start, s->buf_off + s->run_start);
	s->run_start = s->run_end = 0;
	return r;
}

/* Reads @n chunks from chunk @i; hashes and hands on the non-zero ones. */
static int scan_batch(const struct img_src *src, struct scan *s, uint64_t i, uint64_t n)
{
	uint64_t off = i * IMG_CHUNK;
	size_t len = (size_t)(src->size - off < n * IMG_CHUNK ? src->size - off : n * IMG_CHUNK);
	uint8_t hdr[8];
	int r;

	r = src->pread(src->opaque, s->buf, len, off);
	if (r)
		return r;
	s->buf_off = off;
	for (size_t at = 0; at < len; at += IMG_CHUNK) {
		size_t sub = len - at < IMG_CHUNK ? len - at : IMG_CHUNK;

		if (all_zero(s->buf + at, sub)) {
			r = flush_run(s);
			if (r)
				return r;
			continue;
		}
		if (s->ctx) {
			be64_put(hdr, i + at / IMG_CHUNK);
			EVP_DigestUpdate(s->ctx, hdr, sizeof(hdr));
			EVP_DigestUpdate(s->ctx, s->buf + at, sub);
		}
		s->data += sub;
		if (s->run_end == s->run_start)
			s->run_start = at;
		s->run_end = at + sub;
	}
	return flush_run(s);
}

int img_scan(const struct img_src *src, const struct img_scan_opts *opts,
	     char id[IMG_HEX_LEN + 1], uint64_t *data_bytes)
{
	static const struct img_scan_opts none;
	const uint64_t nchunks = (src->size + IMG_CHUNK - 1) / IMG_CHUNK;
	struct scan s = { .o = opts ? opts : &none };
	uint64_t i = 0, last_progress = 0, skip, n;
	uint8_t hdr[8];
	int r = 0;

	s.buf = malloc(IMG_BATCH * IMG_CHUNK);
	if (!s.o->no_id) {
		s.ctx = EVP_MD_CTX_new();
		if (!s.ctx || !EVP_DigestInit_ex(s.ctx, EVP_sha256(), NULL))
			r = -ENOMEM;
	}
	if (!s.buf || r) {
		r = -ENOMEM;
		goto out;
	}
	if (s.ctx) {
		be64_put(hdr, src->size);
		EVP_DigestUpdate(s.ctx, content_magic, strlen(content_magic));
		EVP_DigestUpdate(s.ctx, hdr, sizeof(hdr));
	}
	while (i < nchunks) {
		r = next_run(src, i, nchunks, &skip, &n);
		if (!r && !skip)
			r = scan_batch(src, &s, i, n);
		if (r)
			goto out;
		i += skip ? skip : n;
		if (s.o->progress && (i * IMG_CHUNK - last_progress >= (64u << 20) || i >= nchunks)) {
			last_progress = i * IMG_CHUNK;
			s.o->progress(s.o->progress_opaque,
				      i >= nchunks ? src->size : i * IMG_CHUNK, src->size);
		}
	}
	if (s.ctx)
		r = digest_hex(s.ctx, id);
	else
		id[0] = '\0';
	if (!r && data_bytes)
		*data_bytes = s.data;
out:
	EVP_MD_CTX_free(s.ctx);
	free(s.buf);
	return r;
}

struct img_id {
	EVP_MD_CTX *ctx;
};

int img_id_begin(uint64_t size, struct img_id **out)
{
	struct img_id *h = calloc(1, sizeof(*h));
	uint8_t hdr[8];

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
		img_id_free(h);
		return -ENOMEM;
	}
	be64_put(hdr, size);
	EVP_DigestUpdate(h->ctx, content_magic, strlen(content_magic));
	EVP_DigestUpdate(h->ctx, hdr, sizeof(hdr));
	*out = h;
	return 0;
}

void img_id_chunk(struct img_id *h, uint64_t i, const void *buf, size_t len)
{
	uint8_t hdr[8];

	if (all_zero(buf, len))
		return;
	be64_put(hdr, i);
	EVP_DigestUpdate(h->ctx, hdr, sizeof(hdr));
	EVP_DigestUpdate(h->ctx, buf, len);
}

int img_id_peek(const struct img_id *h, char id[IMG_HEX_LEN + 1])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	int r = -EIO;

	if (copy && EVP_MD_CTX_copy_ex(copy, h->ctx))
		r = digest_hex(copy, id);
	EVP_MD_CTX_free(copy);
	return r;
}

void img_id_free(struct img_id *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int img_file_sha256(const char *path, char hex[IMG_HEX_LEN + 1])
{
	const size_t bufsz = 1u << 20;
	uint64_t off = 0, size;
	EVP_MD_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	struct stat stb;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &stb)) {
		r = -errno;
		goto out;
	}
	size = (uint64_t)stb.st_size;
	buf = malloc(bufsz);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		r = -ENOMEM;
		goto out;
	}
	while (off < size) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA);
		uint64_t hole_end = data < 0 ? size : (uint64_t)data;

		/* A hole up to @hole_end: hash zeros without reading. */
		memset(buf, 0, bufsz);
		while (off < hole_end) {
			size_t n = hole_end - off < bufsz ? (size_t)(hole_end - off) : bufsz;

			EVP_DigestUpdate(ctx, buf, n);
			off += n;
		}
		if (off >= size)
			break;
		off_t hole = lseek(fd, (off_t)off, SEEK_HOLE);
		uint64_t data_end = hole < 0 ? size : (uint64_t)hole;

		while (off < data_end) {
			size_t want = data_end - off < bufsz ? (size_t)(data_end - off) : bufsz;
			ssize_t n = pread(fd, buf, want, (off_t)off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? -errno : -EIO;
				goto out;
			}
			EVP_DigestUpdate(ctx, buf, (size_t)n);
			off += (uint64_t)n;
		}
	}
	r = digest_hex(ctx, hex);
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return r;
}

/* ---- raw files as sources ---- */

struct raw_src {
	int fd;
};

static int raw_pread(void *opaque, void *buf, size_t len, uint64_t off)
{
	struct raw_src *rs = opaque;
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(rs->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {	/* past the end of a short file: zeros */
			memset(p, 0, len);
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int raw_status(void *opaque, uint64_t off, uint64_t len, uint64_t *pnum,
		      bool *allocated)
{
	struct raw_src *rs = opaque;
	off_t d = lseek(rs->fd, (off_t)off, SEEK_DATA);
	uint64_t end;

	if (d < 0 && errno != ENXIO) {
		/* No SEEK_DATA here: everything may be data. */
		*pnum = len;
		*allocated = true;
		return 0;
	}
	if (d < 0 || (uint64_t)d >= off + len) {
		*pnum = len;
		*allocated = false;
		return 0;
	}
	if ((uint64_t)d > off) {
		*pnum = (uint64_t)d - off;
		*allocated = false;
		return 0;
	}
	d = lseek(rs->fd, (off_t)off, SEEK_HOLE);
	end = d < 0 ? off + len : (uint64_t)d;
	*pnum = (end > off + len ? off + len : end) - off;
	if (*pnum == 0)
		*pnum = len;
	*allocated = true;
	return 0;
}

int img_src_raw_open(const char *path, struct img_src *src)
{
	struct raw_src *rs;
	struct stat stb;
	off_t end;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &stb) || (end = lseek(fd, 0, SEEK_END)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	rs = malloc(sizeof(*rs));
	if (!rs) {
		close(fd);
		return -ENOMEM;
	}
	rs->fd = fd;
	memset(src, 0, sizeof(*src));
	src->size = (uint64_t)end;
	src->pread = raw_pread;
	src->status = S_ISREG(stb.st_mode) ? raw_status : NULL;
	src->opaque = rs;
	return 0;
}

void img_src_raw_close(struct img_src *src)
{
	struct raw_src *rs = src ? src->opaque : NULL;

	if (!rs)
		return;
	close(rs->fd);
	free(rs);
	src->opaque = NULL;
}
