/* tools/vhd/cmd_read.c: `vhd read`: bytes of the virtual disk to stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd.h"

#define READ_CHUNK (4u << 20)

static const char read_usage[] =
	"read [-U] FILE OFFSET LENGTH\n"
	"\n"
	"Writes LENGTH bytes of the virtual disk at byte OFFSET (through the\n"
	"whole chain) to standard output. Sizes take K/M/G/T suffixes.\n"
	"-U, --force-share: read even while another process writes the image\n"
	"(like qemu-img -U; what is read may be inconsistent).";

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int cmd_read(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force-share", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned flags = 0;
	uint64_t off, len;
	struct vhd *v;
	char *buf;
	int c, rc = 0;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "hU", opts)) != -1) {
		switch (c) {
		case 'U': flags |= VHD_OPEN_FORCE_SHARE; break;
		case 'h':
			printf("usage: vhd %s\n", read_usage);
			return CLI_OK;
		default:
			return vt_usage(read_usage);
		}
	}
	argv += optind - 1;
	argc -= optind - 1;
	if (argc != 4)
		return vt_usage(read_usage);
	if (vt_size(argv[2], "offset", &off) || vt_size(argv[3], "length", &len))
		return CLI_USAGE;
	if (vt_open_flags(argv[1], flags, &v))
		return CLI_FAIL;
	if (vt_range_ok(argv[1], v, off, len)) {
		vhd_close(v);
		return CLI_FAIL;
	}
	buf = malloc(READ_CHUNK);
	if (!buf) {
		vhd_close(v);
		return vt_fail(argv[1], -ENOMEM, "read");
	}
	while (len && !rc) {
		size_t n = len < READ_CHUNK ? (size_t)len : READ_CHUNK;

		rc = vhd_pread(v, buf, n, off);
		if (rc) {
			vt_fail(argv[1], rc, "read");
			break;
		}
		rc = write_all(STDOUT_FILENO, buf, n);
		if (rc)
			log_err("standard output: %s", strerror(-rc));
		off += n;
		len -= n;
	}
	free(buf);
	vhd_close(v);
	return rc ? CLI_FAIL : CLI_OK;
}
