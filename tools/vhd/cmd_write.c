/* tools/vhd/cmd_write.c: `vhd write`: a pattern or a file into the disk. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
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

#define WRITE_CHUNK (4u << 20)

static const char write_usage[] =
	"write FILE OFFSET (--pattern BYTE --length N | --from SRC)\n"
	"\n"
	"Writes N bytes of BYTE (0-255 or 0xNN), or the whole of file SRC ('-' for\n"
	"standard input), into the virtual disk at byte OFFSET, then flushes. A\n"
	"write into a differencing disk stays in that disk.";

static int write_from(const char *path, struct vhd *v, int fd, uint64_t off, char *buf)
{
	for (;;) {
		size_t got = 0;
		int rc;

		while (got < WRITE_CHUNK) {
			ssize_t n = read(fd, buf + got, WRITE_CHUNK - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				log_err("reading the source: %s", strerror(errno));
				return -1;
			}
			if (!n)
				break;
			got += (size_t)n;
		}
		if (!got)
			return 0;
		if (vt_range_ok(path, v, off, got))
			return -1;
		rc = vhd_pwrite(v, buf, got, off);
		if (rc) {
			vt_fail(path, rc, "write");
			return -1;
		}
		off += got;
		if (got < WRITE_CHUNK)
			return 0;
	}
}

static int write_pattern(const char *path, struct vhd *v, int byte, uint64_t off,
			 uint64_t len, char *buf)
{
	if (vt_range_ok(path, v, off, len))
		return -1;
	memset(buf, byte, WRITE_CHUNK);
	while (len) {
		size_t n = len < WRITE_CHUNK ? (size_t)len : WRITE_CHUNK;
		int rc = vhd_pwrite(v, buf, n, off);

		if (rc) {
			vt_fail(path, rc, "write");
			return -1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

int cmd_write(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pattern", required_argument, NULL, 'p' },
		{ "length", required_argument, NULL, 'l' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *from = NULL, *path;
	uint64_t off, len = 0, pat = 0;
	bool have_pat = false, have_len = false;
	struct vhd *v;
	char *buf;
	int c, fd = -1, rc;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'p':
			if (u64_parse(optarg, &pat) || pat > 255) {
				log_err("bad pattern byte '%s' (0-255)", optarg);
				return CLI_USAGE;
			}
			have_pat = true;
			break;
		case 'l':
			if (vt_size(optarg, "length", &len))
				return CLI_USAGE;
			have_len = true;
			break;
		case 'f': from = optarg; break;
		case 'h':
			printf("usage: vhd %s\n", write_usage);
			return CLI_OK;
		default:
			return vt_usage(write_usage);
		}
	}
	if (argc - optind != 2 || (from && (have_pat || have_len)) ||
	    (!from && !(have_pat && have_len)))
		return vt_usage(write_usage);
	path = argv[optind];
	if (vt_size(argv[optind + 1], "offset", &off))
		return CLI_USAGE;
	if (from) {
		fd = strcmp(from, "-") ? open(from, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
		if (fd < 0) {
			log_err("%s: %s", from, strerror(errno));
			return CLI_FAIL;
		}
	}
	buf = malloc(WRITE_CHUNK);
	if (!buf || vt_open(path, 1, &v)) {
		free(buf);
		if (fd > STDIN_FILENO)
			close(fd);
		return CLI_FAIL;
	}
	if (from)
		rc = write_from(path, v, fd, off, buf);
	else
		rc = write_pattern(path, v, (int)pat, off, len, buf);
	if (!rc) {
		rc = vhd_flush(v);
		if (rc)
			vt_fail(path, rc, "flush");
	}
	free(buf);
	if (fd > STDIN_FILENO)
		close(fd);
	vhd_close(v);
	return rc ? CLI_FAIL : CLI_OK;
}
