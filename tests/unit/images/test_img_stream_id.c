/* Unit tests for images/img_stream_id.c: the content id of a dynamic VHD
 * from its bytes in file order equals img_scan()'s over the opened VHD,
 * however the bytes are cut; files it cannot follow (blocks out of
 * order, fixed, not a VHD) give -ENOTSUP, an incomplete one -EAGAIN. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img_hash.h"
#include "images/img_store.h"
#include "vhd/vhd.h"

/* A VHD at a fresh path, @size bytes, of @type, with 3000 bytes of data
 * at each of @offs (@n of them) written in that order. */
static void make_vhd(char *path, enum vhd_type type, uint64_t size, const uint64_t *offs,
		     unsigned n)
{
	struct vhd_create_opts co = { .type = type, .size = size };
	struct vhd_open_opts oo = { .flags = VHD_OPEN_RDWR };
	uint8_t data[3000];
	struct vhd *v;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	cr_assert_eq(vhd_create(path, &co), 0, "%s", vhd_last_error());
	cr_assert_eq(vhd_open(path, &oo, &v), 0);
	for (unsigned i = 0; i < n; i++) {
		memset(data, 0x40 + (int)i, sizeof(data));
		cr_assert_eq(vhd_pwrite(v, data, sizeof(data), offs[i]), 0);
	}
	vhd_close(v);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	cr_assert(fd >= 0 && !fstat(fd, &st));
	*len = (size_t)st.st_size;
	buf = malloc(*len);
	cr_assert(buf && read(fd, buf, *len) == (ssize_t)*len);
	close(fd);
	return buf;
}

static void scan_id(const char *path, char id[IMG_HEX_LEN + 1])
{
	struct img_src src;

	cr_assert_eq(img_src_vhd_open(path, &src), 0);
	cr_assert_eq(img_scan(&src, NULL, id, NULL), 0);
	img_src_vhd_close(&src);
}

/* Feeds @len bytes in pieces of @piece (0: growing odd sizes); returns
 * what img_stream_id_get() says. */
static int stream_id(const uint8_t *buf, size_t len, size_t piece, char id[IMG_HEX_LEN + 1])
{
	struct img_stream_id *s;
	size_t at = 0, step = 1;
	int r;

	cr_assert_eq(img_stream_id_new(&s), 0);
	while (at < len) {
		size_t n = piece ? piece : step;

		if (n > len - at)
			n = len - at;
		img_stream_id_feed(s, buf + at, n);
		at += n;
		step = step * 3 + 1;
		if (step > 300000)
			step = 7;
	}
	r = img_stream_id_get(s, id);
	img_stream_id_free(s);
	return r;
}

Test(img_stream_id, same_id_as_the_scan_however_cut)
{
	/* the size ends inside a block and inside a chunk; data in the first
	 * block, across a chunk border, and in the last partial chunk */
	const uint64_t size = (5u << 20) + 4096 + 512;
	const uint64_t offs[] = { 100, 65536 - 1000, 3u << 20, size - 3000 };
	char path[] = "/tmp/vvsid.XXXXXX", want[IMG_HEX_LEN + 1], got[IMG_HEX_LEN + 1];
	const size_t pieces[] = { 1, 511, 512, 4096, 65536, 1 << 20, 0 };
	size_t len;
	uint8_t *buf;

	make_vhd(path, VHD_TYPE_DYNAMIC, size, offs, 4);
	scan_id(path, want);
	buf = slurp(path, &len);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		cr_assert_eq(stream_id(buf, len, pieces[i], got), 0, "pieces of %zu", pieces[i]);
		cr_assert_str_eq(got, want, "pieces of %zu", pieces[i]);
	}
	/* every block is in before the trailing footer: the id is known then */
	cr_assert_eq(stream_id(buf, len - 512, 0, got), 0);
	cr_assert_str_eq(got, want);
	/* the last block is whole in the file; cut 4 KiB before the end of
	 * its virtual part: not yet */
	cr_assert_eq(stream_id(buf, len - 512 - ((2u << 20) - size % (2u << 20)) - 4096, 0, got),
		     -EAGAIN);
	free(buf);
	unlink(path);
}

Test(img_stream_id, empty_disk)
{
	char path[] = "/tmp/vvsid.XXXXXX", want[IMG_HEX_LEN + 1], got[IMG_HEX_LEN + 1];
	size_t len;
	uint8_t *buf;

	make_vhd(path, VHD_TYPE_DYNAMIC, 8u << 20, NULL, 0);
	scan_id(path, want);
	buf = slurp(path, &len);
	cr_assert_eq(stream_id(buf, len, 0, got), 0);
	cr_assert_str_eq(got, want);
	free(buf);
	unlink(path);
}

Test(img_stream_id, files_it_cannot_follow)
{
	/* written backwards: the last block is stored first */
	const uint64_t offs[] = { 5u << 20, 1u << 20 };
	char path[] = "/tmp/vvsid.XXXXXX", fixed[] = "/tmp/vvsid.XXXXXX";
	char got[IMG_HEX_LEN + 1];
	size_t len;
	uint8_t *buf;

	make_vhd(path, VHD_TYPE_DYNAMIC, 8u << 20, offs, 2);
	buf = slurp(path, &len);
	cr_assert_eq(stream_id(buf, len, 0, got), -ENOTSUP);
	/* not a VHD at all */
	memset(buf, 0x5a, len);
	cr_assert_eq(stream_id(buf, len, 4096, got), -ENOTSUP);
	free(buf);
	make_vhd(fixed, VHD_TYPE_FIXED, 1u << 20, offs + 1, 0);
	buf = slurp(fixed, &len);
	cr_assert_eq(stream_id(buf, len, 0, got), -ENOTSUP);
	free(buf);
	unlink(path);
	unlink(fixed);
}
