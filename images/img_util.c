/* images/img_util.c: the images library's error reporting, temporary
 * names, format probing and VHD sources. */
#include "images/img_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/vhd.h"

static __thread char last_error[512];

const char *img_last_error(void)
{
	return last_error;
}

void img_error_clear(void)
{
	last_error[0] = '\0';
}

int img_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

int img_tmp_name(const char *suffix, char *rel, size_t len)
{
	uint8_t rnd[16];
	char hex[33];
	int n;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	for (int i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02x", rnd[i]);
	n = snprintf(rel, len, "tmp/%s.%s", hex, suffix);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const char *img_format_name(enum img_format fmt)
{
	static const char *const names[] = {
		[IMG_FMT_RAW] = "raw", [IMG_FMT_VHD] = "vhd", [IMG_FMT_QCOW2] = "qcow2",
		[IMG_FMT_VMDK] = "vmdk", [IMG_FMT_VDI] = "vdi", [IMG_FMT_VHDX] = "vhdx",
	};

	return (unsigned)fmt < sizeof(names) / sizeof(names[0]) ? names[fmt] : "?";
}

int img_format_parse(const char *s, enum img_format *out)
{
	for (enum img_format f = IMG_FMT_RAW; f <= IMG_FMT_VHDX; f++) {
		if (!strcmp(s, img_format_name(f))) {
			*out = f;
			return 0;
		}
	}
	return -EINVAL;
}

static bool read_at(int fd, void *buf, size_t len, off_t off)
{
	return off >= 0 && pread(fd, buf, len, off) == (ssize_t)len;
}

int img_probe(const char *path, enum img_format *fmt)
{
	uint8_t head[512], tail[512];
	struct stat stb;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &stb)) {
		close(fd);
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	}
	memset(head, 0, sizeof(head));
	memset(tail, 0, sizeof(tail));
	read_at(fd, head, sizeof(head), 0);
	*fmt = IMG_FMT_RAW;
	if (stb.st_size >= 512 && (read_at(fd, tail, 512, stb.st_size - 512) &&
				   !memcmp(tail, "conectix", 8)))
		*fmt = IMG_FMT_VHD;
	else if (stb.st_size >= 511 && read_at(fd, tail, 8, stb.st_size - 511) &&
		 !memcmp(tail, "conectix", 8))
		*fmt = IMG_FMT_VHD;	/* old Virtual PC's 511-byte footer */
	else if (!memcmp(head, "conectix", 8))
		*fmt = IMG_FMT_VHD;	/* footer copy of a dynamic disk */
	else if (!memcmp(head, "QFI\xfb", 4))
		*fmt = IMG_FMT_QCOW2;
	else if (!memcmp(head, "KDMV", 4) || !memcmp(head, "# Disk DescriptorFile", 21))
		*fmt = IMG_FMT_VMDK;
	else if (head[0x40] == 0x7f && head[0x41] == 0x10 && head[0x42] == 0xda &&
		 head[0x43] == 0xbe)
		*fmt = IMG_FMT_VDI;
	else if (!memcmp(head, "vhdxfile", 8))
		*fmt = IMG_FMT_VHDX;
	close(fd);
	return 0;
}

/* ---- VHD chains as sources ---- */

static int vhdsrc_pread(void *opaque, void *buf, size_t len, uint64_t off)
{
	return vhd_pread(opaque, buf, len, off);
}

static int vhdsrc_status(void *opaque, uint64_t off, uint64_t len, uint64_t *pnum,
			 bool *allocated)
{
	int depth = 0, r;

	r = vhd_block_status(opaque, off, len, pnum, &depth);
	if (!r)
		*allocated = depth != 0;
	return r;
}

int img_src_vhd_open(const char *path, struct img_src *src)
{
	return img_src_vhd_open_flags(path, 0, src);
}

int img_src_vhd_open_flags(const char *path, unsigned flags, struct img_src *src)
{
	struct vhd_open_opts oo = { .flags = flags };
	struct vhd *v;
	int r;

	r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(r, "%s: %s", path, vhd_last_error()[0] ? vhd_last_error() :
				strerror(-r));
	memset(src, 0, sizeof(*src));
	src->size = vhd_size(v);
	src->pread = vhdsrc_pread;
	src->status = vhdsrc_status;
	src->opaque = v;
	return 0;
}

void img_src_vhd_close(struct img_src *src)
{
	if (!src)
		return;
	vhd_close(src->opaque);
	src->opaque = NULL;
}

int img_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		r = -errno;
	close(fd);
	return r;
}
