/* Unit tests for images/img_hash.c: the content id definition, its
 * independence from allocation, and file hashes of sparse files. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/img_hash.h"

/* An in-memory disk whose allocation map is chosen by the test. */
struct mem_disk {
	uint8_t *data;
	bool *alloc;         /* per 4 KiB unit */
	unsigned reads;
};

#define UNIT 4096u

static int mem_pread(void *opaque, void *buf, size_t len, uint64_t off)
{
	struct mem_disk *m = opaque;

	m->reads++;
	memcpy(buf, m->data + off, len);
	return 0;
}

static int mem_status(void *opaque, uint64_t off, uint64_t len, uint64_t *pnum,
		      bool *allocated)
{
	struct mem_disk *m = opaque;
	uint64_t u = off / UNIT, n = 0;
	bool a = m->alloc[u];

	while (n < len && m->alloc[(off + n) / UNIT] == a)
		n += UNIT - (off + n) % UNIT;
	*pnum = n < len ? n : len;
	*allocated = a;
	return 0;
}

static void mem_src(struct img_src *s, struct mem_disk *m, uint64_t size, bool with_status)
{
	memset(s, 0, sizeof(*s));
	s->size = size;
	s->pread = mem_pread;
	s->status = with_status ? mem_status : NULL;
	s->opaque = m;
}

static void sha_hex(const void *p, size_t n, char hex[65])
{
	uint8_t md[32];
	unsigned len;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, p, n);
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

/* The id of a 200 KiB disk whose only data is "hi" at 70000 equals the
 * definition written out by hand. */
Test(img_hash, known_answer)
{
	enum { size = 200 << 10 };
	uint8_t *d = calloc(1, size), stream[64 + 8 + 8 + IMG_CHUNK];
	bool alloc[size / UNIT];
	struct mem_disk m = { d, alloc, 0 };
	struct img_src s;
	char id[65], want[65];
	size_t n = 0;

	memset(alloc, 1, sizeof(alloc));
	memcpy(d + 70000, "hi", 2);
	mem_src(&s, &m, size, true);
	cr_assert_eq(img_scan(&s, NULL, id, NULL), 0);

	memcpy(stream, "vhdvisor-content-v1\n", 20);
	n = 20;
	for (int i = 7; i >= 0; i--)
		stream[n++] = (uint8_t)((uint64_t)size >> (8 * i));
	for (int i = 0; i < 7; i++)
		stream[n++] = 0;
	stream[n++] = 1;		/* chunk index 1 (65536..131071) */
	memcpy(stream + n, d + IMG_CHUNK, IMG_CHUNK);
	n += IMG_CHUNK;
	sha_hex(stream, n, want);
	cr_assert_str_eq(id, want);
	free(d);
}

Test(img_hash, allocation_does_not_matter)
{
	enum { size = 1 << 20 };	/* 16 chunks */
	uint8_t *d = calloc(1, size);
	bool alloc[size / UNIT];
	struct mem_disk m = { d, alloc, 0 };
	struct img_src s;
	char id_dense[65], id_sparse[65], id_nostatus[65], id_other[65];
	uint64_t data;

	memset(d + 3 * IMG_CHUNK + 5, 0xab, 1000);
	memset(d + 9 * IMG_CHUNK, 0x01, IMG_CHUNK);
	/* Everything allocated (zeros written out) */
	memset(alloc, 1, sizeof(alloc));
	mem_src(&s, &m, size, true);
	cr_assert_eq(img_scan(&s, NULL, id_dense, &data), 0);
	cr_assert_eq(data, 2 * IMG_CHUNK);
	cr_assert_eq(m.reads, 1, "16 allocated chunks are read in one go");
	/* Only the data units allocated: zero chunks are not even read */
	memset(alloc, 0, sizeof(alloc));
	alloc[(3 * IMG_CHUNK) / UNIT] = true;
	for (unsigned u = 0; u < IMG_CHUNK / UNIT; u++)
		alloc[(9 * IMG_CHUNK) / UNIT + u] = true;
	m.reads = 0;
	cr_assert_eq(img_scan(&s, NULL, id_sparse, NULL), 0);
	cr_assert_eq(m.reads, 2);
	/* A source without status */
	mem_src(&s, &m, size, false);
	cr_assert_eq(img_scan(&s, NULL, id_nostatus, NULL), 0);
	cr_assert_str_eq(id_dense, id_sparse);
	cr_assert_str_eq(id_dense, id_nostatus);
	/* One byte more, or one byte of size more, changes the id */
	d[size - 1] = 1;
	cr_assert_eq(img_scan(&s, NULL, id_other, NULL), 0);
	cr_assert_str_neq(id_dense, id_other);
	d[size - 1] = 0;
	mem_src(&s, &m, size - 512, false);
	cr_assert_eq(img_scan(&s, NULL, id_other, NULL), 0);
	cr_assert_str_neq(id_dense, id_other);
	free(d);
}

struct sink_log {
	uint64_t bytes, calls, last_off;
};

static int sink(void *opaque, const void *buf, size_t len, uint64_t off)
{
	struct sink_log *l = opaque;

	cr_assert(l->calls == 0 || off > l->last_off, "ascending order");
	l->bytes += len;
	l->calls++;
	l->last_off = off;
	return l->calls == 4 ? -ENOSPC : 0;
}

Test(img_hash, sink_gets_data_and_can_stop)
{
	enum { size = 10 * IMG_CHUNK + 100 };	/* short last chunk */
	uint8_t *d = calloc(1, size);
	bool alloc[(size + UNIT - 1) / UNIT];
	struct mem_disk m = { d, alloc, 0 };
	struct img_scan_opts o = { .sink = sink };
	struct sink_log l = { 0 };
	struct img_src s;
	char id[65];

	memset(alloc, 1, sizeof(alloc));
	d[0] = d[2 * IMG_CHUNK] = d[size - 1] = 7;
	d[4 * IMG_CHUNK] = d[5 * IMG_CHUNK + 9] = d[7 * IMG_CHUNK - 1] = 7;
	o.sink_opaque = &l;
	mem_src(&s, &m, size, true);
	cr_assert_eq(img_scan(&s, &o, id, NULL), -ENOSPC);
	cr_assert_eq(l.calls, 4, "chunks 4-6 come as one run");
	cr_assert_eq(l.bytes, 5 * IMG_CHUNK + 100, "the short last chunk is 100 bytes");
	free(d);
}

Test(img_hash, raw_files_sparse_and_dense)
{
	char sparse[] = "/tmp/vvhash.XXXXXX", dense[] = "/tmp/vvhash.XXXXXX";
	static uint8_t zeros[1 << 20];
	uint8_t data[5000];
	char a[65], b[65], fa[65], fb[65], want[65];
	struct img_src s;
	int fs = mkstemp(sparse), fd = mkstemp(dense);
	uint8_t *all;

	cr_assert(fs >= 0 && fd >= 0);
	memset(data, 0x5a, sizeof(data));
	/* sparse: 8 MiB with a hole, data at 3 MiB */
	cr_assert_eq(ftruncate(fs, 8 << 20), 0);
	cr_assert_eq(pwrite(fs, data, sizeof(data), 3 << 20), (ssize_t)sizeof(data));
	/* dense: the same bytes, every zero written */
	for (int i = 0; i < 8; i++)
		cr_assert_eq(pwrite(fd, zeros, sizeof(zeros), (off_t)i << 20), (ssize_t)sizeof(zeros));
	cr_assert_eq(pwrite(fd, data, sizeof(data), 3 << 20), (ssize_t)sizeof(data));
	close(fs);
	close(fd);

	cr_assert_eq(img_src_raw_open(sparse, &s), 0);
	cr_assert_eq(s.size, 8u << 20);
	cr_assert_eq(img_scan(&s, NULL, a, NULL), 0);
	img_src_raw_close(&s);
	cr_assert_eq(img_src_raw_open(dense, &s), 0);
	cr_assert_eq(img_scan(&s, NULL, b, NULL), 0);
	img_src_raw_close(&s);
	cr_assert_str_eq(a, b);

	cr_assert_eq(img_file_sha256(sparse, fa), 0);
	cr_assert_eq(img_file_sha256(dense, fb), 0);
	cr_assert_str_eq(fa, fb);
	all = calloc(1, 8 << 20);
	memcpy(all + (3 << 20), data, sizeof(data));
	sha_hex(all, 8 << 20, want);
	cr_assert_str_eq(fa, want, "file hash equals SHA-256 of the bytes");
	cr_assert_eq(img_file_sha256("/nonexistent/x", fa), -ENOENT);
	free(all);
	unlink(sparse);
	unlink(dense);
}
