/* tests/fuzz/fuzz_vhd_open.c: libFuzzer target over the VHD library's
 * handling of untrusted files: open, info, reads, block status, check, and
 * check --repair followed by a second open. The input becomes the content
 * of a memfd opened through /proc/self/fd, so nothing touches the disk.
 * Parents are never opened (VHD_OPEN_NO_PARENT, VHD_CHECK_NO_PARENT). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhd/vhd.h"
#include "vhd/vhd_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_count_extent(void *opaque, const struct vhd_extent *e)
{
	unsigned *n = opaque;

	(void)e;
	return ++*n >= 256;   /* stop after a few hundred extents */
}

static void fuzz_open_and_read(const char *path)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_NO_PARENT | VHD_OPEN_NOLOCK };
	static uint8_t buf[65536];
	struct vhd_info info;
	struct vhd *v;
	unsigned n = 0;

	if (vhd_open(path, &o, &v))
		return;
	vhd_get_info(v, &info);
	uint64_t size = vhd_size(v);
	uint64_t offs[] = { 0, size / 2, size > sizeof(buf) ? size - sizeof(buf) : 0, 512 * 1000 + 7 };

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		size_t len = sizeof(buf);

		if (offs[i] >= size)
			continue;
		if (size - offs[i] < len)
			len = (size_t)(size - offs[i]);
		vhd_pread(v, buf, len, offs[i]);
	}
	vhd_map(v, 0, size, fuzz_count_extent, &n);
	vhd_close(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct vhd_check_result res;
	char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz.vhd", 0);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fuzz_open_and_read(path);
	vhd_check(path, VHD_CHECK_NO_PARENT, NULL, NULL, &res);
	if (!vhd_check(path, VHD_CHECK_NO_PARENT | VHD_CHECK_REPAIR, NULL, NULL, &res))
		fuzz_open_and_read(path);
	return 0;
}
