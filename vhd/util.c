/* vhd/util.c: whole-buffer file I/O and small formatting helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vhd/vhd_int.h"

int vhd_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vhd_err(-errno, "read of %zu bytes at offset %llu: %s",
				       len, (unsigned long long)off, strerror(errno));
		}
		if (n == 0)
			return vhd_err(-EIO, "unexpected end of file at offset %llu",
				       (unsigned long long)off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int vhd_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vhd_err(-errno, "write of %zu bytes at offset %llu: %s",
				       len, (unsigned long long)off, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int vhd_prwv_full(int fd, const struct iovec *iov, int cnt, uint64_t off, bool write)
{
	struct iovec *v;
	int ret = 0, i = 0;

	if (cnt <= 0)
		return 0;
	v = malloc(sizeof(*v) * (size_t)cnt);
	if (!v)
		return vhd_err(-ENOMEM, "out of memory");
	memcpy(v, iov, sizeof(*v) * (size_t)cnt);
	while (i < cnt) {
		ssize_t n = write ? pwritev(fd, v + i, cnt - i, (off_t)off) :
				    preadv(fd, v + i, cnt - i, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = vhd_err(-errno, "%s at offset %llu: %s", write ? "write" : "read",
				      (unsigned long long)off, strerror(errno));
			break;
		}
		if (n == 0 && !write) {
			ret = vhd_err(-EIO, "unexpected end of file at offset %llu",
				      (unsigned long long)off);
			break;
		}
		off += (uint64_t)n;
		while (i < cnt && (size_t)n >= v[i].iov_len) {
			n -= (ssize_t)v[i].iov_len;
			i++;
		}
		if (i < cnt) {
			v[i].iov_base = (uint8_t *)v[i].iov_base + n;
			v[i].iov_len -= (size_t)n;
		}
	}
	free(v);
	return ret;
}

const char *vhd_type_name(enum vhd_type t)
{
	switch (t) {
	case VHD_TYPE_FIXED:
		return "fixed";
	case VHD_TYPE_DYNAMIC:
		return "dynamic";
	case VHD_TYPE_DIFF:
		return "differencing";
	default:
		return "none";
	}
}

void vhd_uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}
