/* tools/vhd/cmd_convert.c: `vhd convert`: raw <-> VHD, chain -> flat,
 * dynamic <-> fixed, Azure-ready fixed VHDs; other formats via qemu-img. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/spawn.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmd_util.h"
#include "tools/vhd/cmds.h"
#include "vhd/vhd_ops.h"


static const char convert_usage[] =
	"convert [-p] [-U] [-O raw|vhd|vhd-fixed] [--block-size N] [--azure] [--raw-parent]\n"
	"        SRC DST\n"
	"\n"
	"Copies the virtual disk of SRC into a new image DST (never overwritten).\n"
	"SRC is a VHD (a differencing chain becomes one flat image), a raw image,\n"
	"or qcow2/vmdk/vdi/vhdx when qemu-img is installed. -O vhd (default)\n"
	"writes a dynamic VHD, vhd-fixed a fixed VHD, raw a sparse raw file.\n"
	"Zero ranges are neither read (where the source says so) nor allocated.\n"
	"--azure writes a fixed VHD whose size is rounded up to a whole MiB.\n"
	"DST appears only when complete. -p (--progress) shows a percentage on\n"
	"standard error, rewritten in place.\n"
	"-U, --force-share: read SRC even while another process writes it\n"
	"(like qemu-img convert -U; the copy may then be inconsistent).\n"
	"--raw-parent: SRC's chain may read through a raw file (the file its\n"
	"locators name); without it a raw parent is refused.";

/* The qemu-img format name of a foreign image, or NULL (VHD or raw). */
static const char *convert_foreign_format(const char *path)
{
	uint8_t b[0x48] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = pread(fd, b, sizeof(b), 0);
	close(fd);
	if (n < 8)
		return NULL;
	if (!memcmp(b, "QFI\xfb", 4))
		return "qcow2";
	if (!memcmp(b, "KDMV", 4) || !memcmp(b, "# Disk DescriptorFile", 21))
		return "vmdk";
	if (!memcmp(b, "vhdxfile", 8))
		return "vhdx";
	if (n >= 0x44 && b[0x40] == 0x7f && b[0x41] == 0x10 && b[0x42] == 0xda &&
	    b[0x43] == 0xbe)
		return "vdi";
	return NULL;
}

/* Runs `qemu-img convert [-U] -f FMT -O raw SRC OUT`. 0 or -1 (logged). */
static int convert_qemu_img(const char *fmt, const char *src, const char *out,
			    bool force_share)
{
	const char *argv[] = { "qemu-img", "convert", "-f", fmt, "-O", "raw", src, out, NULL, NULL };
	struct spawn_opts so;
	struct spawn_child child;
	int st, r;

	if (force_share) {   /* -U after "convert" */
		memmove(argv + 3, argv + 2, 7 * sizeof(*argv));
		argv[2] = "-U";
	}
	spawn_opts_init(&so, argv);
	so.out = so.err = SPAWN_INHERIT;
	r = spawn_start(&so, &child);
	if (r == -ENOENT) {
		log_err("%s is a %s image: converting it needs qemu-img, which is not "
			"installed (apt install qemu-utils)", src, fmt);
		return -1;
	}
	if (r) {
		log_err("cannot run qemu-img: %s", strerror(-r));
		return -1;
	}
	if (spawn_wait(&child, -1, &st) || !WIFEXITED(st) || WEXITSTATUS(st)) {
		log_err("%s: qemu-img convert from %s failed", src, fmt);
		return -1;
	}
	return 0;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'O' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "azure", no_argument, NULL, 'a' },
		{ "progress", no_argument, NULL, 'p' },
		{ "force-share", no_argument, NULL, 'U' },
		{ "raw-parent", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vhd_convert_opts o = { .format = VHD_CONVERT_DYNAMIC };
	const char *src, *dst, *fmt;
	char tmp[4096] = "";
	struct cli_meter meter;
	bool progress = false;
	uint64_t bs;
	int c, rc, last = 0;

	vt_init();
	optind = 1;
	while ((c = cli_getopt(argc, argv, "O:hpU", opts)) != -1) {
		switch (c) {
		case 'O':
			if (!strcmp(optarg, "raw"))
				o.format = VHD_CONVERT_RAW;
			else if (!strcmp(optarg, "vhd") || !strcmp(optarg, "vpc"))
				o.format = VHD_CONVERT_DYNAMIC;
			else if (!strcmp(optarg, "vhd-fixed"))
				o.format = VHD_CONVERT_FIXED;
			else
				return vt_usage(convert_usage);
			break;
		case 'b':
			if (vt_size(optarg, "block size", &bs))
				return CLI_USAGE;
			if (bs < VHD_MIN_BLOCK_SIZE || bs > VHD_MAX_BLOCK_SIZE || (bs & (bs - 1))) {
				log_err("block size must be a power of two from 512K to 256M");
				return CLI_USAGE;
			}
			o.block_size = (uint32_t)bs;
			break;
		case 'a': o.azure = true; break;
		case 'p': progress = true; break;
		case 'U': o.force_share = true; break;
		case 'R': o.raw_parent = true; break;
		case 'h':
			printf("usage: vhd %s\n", convert_usage);
			return CLI_OK;
		default:
			return vt_usage(convert_usage);
		}
	}
	if (argc - optind != 2)
		return vt_usage(convert_usage);
	if (o.azure)
		o.format = VHD_CONVERT_FIXED;
	src = argv[optind];
	dst = argv[optind + 1];
	if (!access(dst, F_OK)) {
		log_err("%s exists; not overwriting it", dst);
		return CLI_FAIL;
	}
	fmt = convert_foreign_format(src);
	if (fmt) {
		snprintf(tmp, sizeof(tmp), "%s.%s-raw-%ld", dst, fmt, (long)getpid());
		if (convert_qemu_img(fmt, src, tmp, o.force_share)) {
			unlink(tmp);
			return CLI_FAIL;
		}
		if (o.format == VHD_CONVERT_RAW) {
			if (rename(tmp, dst)) {
				log_err("%s: %s", dst, strerror(errno));
				unlink(tmp);
				return CLI_FAIL;
			}
			return CLI_OK;
		}
		src = tmp;
	}
	cli_meter_init(&meter, progress);
	o.progress = progress ? cli_meter_update : vt_progress;
	o.opaque = progress ? (void *)&meter : &last;
	rc = vhd_convert(src, dst, &o);
	if (*tmp)
		unlink(tmp);
	if (rc) {
		if (meter.on)
			fputc('\n', stderr);	/* end the progress line */
		return vt_fail(argv[optind], rc, "cannot convert");
	}
	cli_meter_done(&meter);
	return CLI_OK;
}
