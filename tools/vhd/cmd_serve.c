/* tools/vhd/cmd_serve.c: `vhd serve`: export images over NBD. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "blkback/bdev.h"
#include "blkback/bimg.h"
#include "blkback/ioq.h"
#include "blkback/nbd_server.h"
#include "blkback/nbd_tls.h"
#include "blkback/vub.h"
#include "common/log.h"
#include "common/usock.h"
#include "tools/common/cli.h"
#include "tools/vhd/cmds.h"
#include "tools/vhd/serve_control.h"
#include "vhd/vhd.h"

static const char serve_usage[] =
	"usage: vhd serve [--socket PATH | --port N [--bind ADDR]] [--read-only [-U] | --writable]\n"
	"                 [--tls-psk FILE [--tls-user NAME] | --insecure-no-auth]\n"
	"                 [--export-name NAME] [--snapshot] [--workers N]\n"
	"                 [--handshake-timeout SECS] [--max-client-buffer MIB]\n"
	"                 [--max-buffer MIB] [--control PATH] FILE...\n"
	"       vhd serve --vhost-user PATH [--read-only] [--snapshot] [--queues N]\n"
	"                 [--workers N] FILE\n"
	"Serves each FILE over NBD as an export named after its basename.\n"
	"--vhost-user PATH: serves FILE as a vhost-user-blk device instead, for\n"
	"  QEMU's -chardev socket,path=PATH -device vhost-user-blk-pci (the guest's\n"
	"  memory must be shared: memory-backend-memfd,share=on); one client at a\n"
	"  time, up to N queues (default 1, at most 16; QEMU's num-queues <= N).\n"
	"--snapshot: writes go to a throwaway child; the files stay untouched\n"
	"(with --read-only, the export is simply read-only).\n"
	"-U, --force-share (with --read-only): serve even while another process\n"
	"writes the files (like qemu-nbd -r -U; reads may be inconsistent).\n"
	"The Unix socket appears at PATH only once the server listens.\n"
	"TCP (--port) exports are read-only unless --writable, and need TLS:\n"
	"--tls-psk FILE: clients must STARTTLS and know a key of FILE, lines of\n"
	"  NAME:HEXKEY as made by `psktool -u NAME -p FILE` (a folder means\n"
	"  FOLDER/keys.psk, QEMU's tls-creds-psk dir=); --tls-user: only NAME's key.\n"
	"--insecure-no-auth: plain TCP; anyone who can connect reads (and with\n"
	"  --writable writes) the images.\n"
	"--handshake-timeout SECS: a client that has not chosen an export this long\n"
	"  after connecting is disconnected (default 10, 0 = never).\n"
	"--max-client-buffer MIB (default 32), --max-buffer MIB (default 256): data\n"
	"  of requests in flight per client and overall; beyond them the server\n"
	"  stops reading requests until replies go out (one request per client\n"
	"  always gets in).\n"
	"SIGTERM or SIGINT: finish requests, flush, exit 0.\n"
	"--control PATH: a Unix socket (0600, ready before the NBD socket) taking\n"
	"one JSON request per line, one JSON reply line each:\n"
	"  {\"cmd\":\"switch\",\"file\":F[,\"export\":NAME]}  moves the export's writes\n"
	"      to F, a differencing child of its current top (same size), with\n"
	"      clients connected: requests pause, the top is flushed and closed\n"
	"      and becomes F's read-only parent. Not for --read-only/--snapshot.\n"
	"  {\"cmd\":\"flush\"}  flushes every export.\n"
	"  {\"cmd\":\"info\"}   {\"ok\":true,\"exports\":[{\"name\",\"file\",\"writable\"}]}\n"
	"  Replies: {\"ok\":true,...} or {\"ok\":false,\"error\":REASON}. When a failed\n"
	"  switch cannot even reopen the old top, the server exits 1.\n";

struct serve_opts {
	const char *socket;
	const char *port;
	const char *bind;
	const char *export_name;
	const char *control;
	const char *tls_psk;
	const char *tls_user;
	const char *vhost_user;
	unsigned queues;
	bool read_only;
	bool writable;
	bool insecure;
	bool snapshot;
	bool force_share;
	unsigned workers;
	struct nbd_limits lim;
};

/* Parses a non-negative decimal number of @unit (e.g. 1000 for seconds
 * into milliseconds, 1 MiB) into *@out, at most @max. */
static bool serve_num(const char *arg, double unit, double max, uint64_t *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !(v >= 0) || v * unit > max)
		return false;
	*out = (uint64_t)(v * unit);
	return true;
}

/* vhd/ warnings (damaged footer copy, parent timestamp) to our log. */
static void serve_vhd_log(enum vhd_log_level level, const char *msg, void *opaque)
{
	log_msg(level == VHD_LOG_ERR ? LOG_LVL_ERR : level == VHD_LOG_WARN ? LOG_LVL_WARN
		: level == VHD_LOG_INFO ? LOG_LVL_INFO : LOG_LVL_DBG, "vhd", "%s", msg);
}

static int serve_parse(int argc, char **argv, struct serve_opts *o)
{
	enum {
		OPT_WRITABLE = 256, OPT_TLS_PSK, OPT_TLS_USER, OPT_INSECURE,
		OPT_HS_TIMEOUT, OPT_CLIENT_BUF, OPT_TOTAL_BUF, OPT_VHOST_USER, OPT_QUEUES,
	};
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "export-name", required_argument, NULL, 'x' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "writable", no_argument, NULL, OPT_WRITABLE },
		{ "snapshot", no_argument, NULL, 'S' },
		{ "workers", required_argument, NULL, 'w' },
		{ "control", required_argument, NULL, 'c' },
		{ "force-share", no_argument, NULL, 'U' },
		{ "tls-psk", required_argument, NULL, OPT_TLS_PSK },
		{ "tls-user", required_argument, NULL, OPT_TLS_USER },
		{ "insecure-no-auth", no_argument, NULL, OPT_INSECURE },
		{ "handshake-timeout", required_argument, NULL, OPT_HS_TIMEOUT },
		{ "max-client-buffer", required_argument, NULL, OPT_CLIENT_BUF },
		{ "max-buffer", required_argument, NULL, OPT_TOTAL_BUF },
		{ "vhost-user", required_argument, NULL, OPT_VHOST_USER },
		{ "queues", required_argument, NULL, OPT_QUEUES },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	o->lim = (struct nbd_limits){ .handshake_ms = NBD_DEFAULT_HANDSHAKE_MS };
	optind = 1;
	while ((c = cli_getopt(argc, argv, "s:p:b:x:rw:U", lopts)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'p': o->port = optarg; break;
		case 'b': o->bind = optarg; break;
		case 'x': o->export_name = optarg; break;
		case 'r': o->read_only = true; break;
		case OPT_WRITABLE: o->writable = true; break;
		case 'S': o->snapshot = true; break;
		case 'w': o->workers = (unsigned)atoi(optarg); break;
		case 'c': o->control = optarg; break;
		case 'U': o->force_share = true; break;
		case OPT_TLS_PSK: o->tls_psk = optarg; break;
		case OPT_TLS_USER: o->tls_user = optarg; break;
		case OPT_INSECURE: o->insecure = true; break;
		case OPT_VHOST_USER: o->vhost_user = optarg; break;
		case OPT_QUEUES:
			if (!serve_num(optarg, 1, VUB_MAX_QUEUES, &v) || !v) {
				log_err("--queues: want 1 to %d, not '%s'", VUB_MAX_QUEUES, optarg);
				return -1;
			}
			o->queues = (unsigned)v;
			break;
		case OPT_HS_TIMEOUT:
			if (!serve_num(optarg, 1000, 86400e3, &v)) {
				log_err("--handshake-timeout: want seconds (0-86400), not '%s'", optarg);
				return -1;
			}
			if (!v && strtod(optarg, NULL) > 0)
				v = 1;          /* under a millisecond is not "never" */
			o->lim.handshake_ms = (unsigned)v;
			break;
		case OPT_CLIENT_BUF:
		case OPT_TOTAL_BUF:
			if (!serve_num(optarg, 1 << 20, 1ull << 40, &v) || v < (1 << 20)) {
				log_err("--%s: want MiB (1 or more), not '%s'",
					c == OPT_CLIENT_BUF ? "max-client-buffer" : "max-buffer", optarg);
				return -1;
			}
			*(c == OPT_CLIENT_BUF ? &o->lim.client_bytes : &o->lim.total_bytes) = v;
			break;
		default: return -1;
		}
	}
	if (o->vhost_user) {
		if (argc - optind != 1 || o->socket || o->port || o->control || o->tls_psk ||
		    o->insecure || o->writable || o->export_name || o->force_share) {
			fputs(serve_usage, stderr);
			return -1;
		}
		return 0;
	}
	if (o->queues) {
		fputs(serve_usage, stderr);
		return -1;
	}
	if (optind >= argc || (!o->socket == !o->port) ||
	    (o->export_name && argc - optind != 1) || (o->bind && !o->port) ||
	    (o->force_share && (!o->read_only || o->snapshot)) ||
	    (o->read_only && o->writable) || (o->tls_user && !o->tls_psk) ||
	    (o->tls_psk && o->insecure)) {
		fputs(serve_usage, stderr);
		return -1;
	}
	if (o->port && !o->tls_psk && !o->insecure) {
		log_err("TCP without authentication: give --tls-psk FILE, or --insecure-no-auth "
			"to let anyone who can connect read%s the images",
			o->writable ? " and write" : "");
		return -1;
	}
	/* Over TCP, writes need asking for. */
	if (o->port && !o->writable)
		o->read_only = true;
	return 0;
}

static int serve_listen(struct nbd_server *srv, const struct serve_opts *o)
{
	int rc;

	if (o->socket)
		rc = nbd_server_listen_unix(srv, o->socket);
	else
		rc = nbd_server_listen_tcp(srv, o->bind, o->port);
	if (rc)
		log_err("cannot listen on %s: %s", o->socket ? o->socket : o->port,
			o->socket ? usock_listen_strerror(rc) : strerror(-rc));
	return rc;
}

/* Starts the control socket for the @n exports of @devs (argv's FILEs). */
static int serve_control(const struct serve_opts *o, char **files, struct bdev **devs, int n,
			 struct serve_ctl **ctl)
{
	struct serve_ctl_export *exps = calloc((size_t)n, sizeof(*exps));
	char **dups = calloc((size_t)n, sizeof(*dups));
	int rc = -ENOMEM;

	if (!exps || !dups)
		goto out;
	for (int i = 0; i < n; i++) {
		dups[i] = strdup(files[i]);
		if (!dups[i])
			goto out;
		exps[i] = (struct serve_ctl_export){
			.name = o->export_name ? o->export_name : basename(dups[i]),
			.path = files[i],
			.dev = devs[i],
			.read_only = o->read_only,
			.snapshot = o->snapshot,
		};
	}
	rc = serve_ctl_start(o->control, exps, (unsigned)n, ctl);
out:
	if (rc == -ENOMEM)
		log_err("out of memory");
	for (int i = 0; dups && i < n; i++)
		free(dups[i]);
	free(dups);
	free(exps);
	return rc;
}

/* --vhost-user: one image as a vhost-user-blk device until @sfd fires. */
static int serve_vhost_user(const struct serve_opts *o, const char *path, int sfd)
{
	struct vub_opts vo = { .num_queues = o->queues, .read_only = o->read_only };
	unsigned flags = o->snapshot ? BIMG_OPEN_SNAPSHOT : o->read_only ? 0 : BIMG_OPEN_RDWR;
	struct vub_server *srv = NULL;
	struct bdev *dev = NULL;
	struct bimg *img = NULL;
	struct ioq *q = NULL;
	char *dup = strdup(path);
	int lfd = -1, rc, ret = CLI_FAIL;

	if (!dup)
		goto out;
	vo.serial = basename(dup);
	rc = bimg_open(path, flags, &img);
	if (rc) {
		const char *why = bimg_last_error();

		if (*why)
			log_err("%s", why);
		else
			log_err("%s: cannot open: %s", path, strerror(-rc));
		goto out;
	}
	rc = ioq_create(o->workers, &q);
	if (!rc)
		rc = bdev_create(img, q, &dev);
	if (!rc)
		rc = vub_server_create(dev, &vo, &srv);
	if (rc) {
		log_err("cannot start: %s", strerror(-rc));
		goto out;
	}
	lfd = usock_listen(o->vhost_user, 4, 0);
	if (lfd < 0) {
		log_err("cannot listen on %s: %s", o->vhost_user, usock_listen_strerror(lfd));
		goto out;
	}
	rc = vub_server_run(srv, lfd, sfd);
	unlink(o->vhost_user);
	ret = rc ? CLI_FAIL : CLI_OK;
	if (rc)
		log_err("%s: %s", o->vhost_user, strerror(-rc));
out:
	if (lfd >= 0)
		close(lfd);
	vub_server_destroy(srv);
	ioq_destroy(q);
	if (dev)
		img = bdev_image(dev);
	bdev_destroy(dev);
	rc = bimg_close(img);
	if (rc) {
		log_err("%s: flush failed: %s", path, strerror(-rc));
		ret = CLI_FAIL;
	}
	free(dup);
	return ret;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_opts o = { 0 };
	struct bimg **imgs = NULL;
	struct bdev **devs = NULL;
	struct serve_ctl *ctl = NULL;
	struct nbd_server *srv = NULL;
	struct nbd_tls_creds *tls = NULL;
	struct ioq *q = NULL;
	int nimg = 0, sfd = -1, rc, ret = CLI_FAIL;
	sigset_t sigs;

	if (cli_wants_help(argc, argv)) {
		fputs(serve_usage, stdout);
		return CLI_OK;
	}
	if (serve_parse(argc, argv, &o))
		return CLI_USAGE;
	if (o.read_only)
		o.snapshot = false;     /* nothing is written: no child needed */
	vhd_set_log(serve_vhd_log, NULL);
	/* Signals are taken through a signalfd; block them before any thread
	 * starts so that every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return CLI_FAIL;
	}
	if (o.vhost_user) {
		ret = serve_vhost_user(&o, argv[optind], sfd);
		close(sfd);
		return ret;
	}
	imgs = calloc((size_t)(argc - optind), sizeof(*imgs));
	devs = calloc((size_t)(argc - optind), sizeof(*devs));
	if (!imgs || !devs)
		goto out;
	rc = ioq_create(o.workers, &q);     /* shared by every export */
	if (!rc)
		rc = nbd_server_create(&srv);
	if (rc) {
		log_err("cannot start: %s", strerror(-rc));
		goto out;
	}
	nbd_server_set_limits(srv, &o.lim);
	if (o.tls_psk) {
		rc = nbd_tls_creds_load_psk(o.tls_psk, o.tls_user, &tls);
		if (rc)
			goto out;               /* the reason is logged */
		nbd_server_set_tls(srv, tls);
	}
	for (int i = optind; i < argc; i++, nimg++) {
		const char *path = argv[i];
		char *dup = strdup(path);
		const char *name = o.export_name ? o.export_name : basename(dup);
		unsigned flags = o.snapshot ? BIMG_OPEN_SNAPSHOT
					    : o.read_only ? 0 : BIMG_OPEN_RDWR;

		if (o.force_share)
			flags |= BIMG_OPEN_FORCE_SHARE;

		rc = bimg_open(path, flags, &imgs[nimg]);
		if (rc) {
			const char *why = bimg_last_error();

			if (*why)
				log_err("%s", why);   /* names the file already */
			else
				log_err("%s: cannot open: %s", path, strerror(-rc));
			free(dup);
			goto out;
		}
		rc = bdev_create(imgs[nimg], q, &devs[nimg]);
		if (rc) {
			log_err("%s: %s", path, strerror(-rc));
			free(dup);
			nimg++;
			goto out;
		}
		rc = nbd_server_add_export(srv, name, devs[nimg]);
		if (rc) {
			log_err("%s: cannot export as '%s': %s", path, name,
				rc == -EEXIST ? "two files with that name" : strerror(-rc));
			free(dup);
			nimg++;
			goto out;
		}
		free(dup);
	}
	/* The control socket first: once the NBD socket accepts, it does too. */
	if (o.control && serve_control(&o, argv + optind, devs, nimg, &ctl))
		goto out;
	if (serve_listen(srv, &o))
		goto out;
	rc = nbd_server_run(srv, sfd);
	ret = rc ? CLI_FAIL : CLI_OK;
out:
	/* Stopped before anything else: a switch changes the devices' tops. */
	if (serve_ctl_stop(ctl))
		ret = CLI_FAIL;
	nbd_server_destroy(srv);
	nbd_tls_creds_destroy(tls);
	ioq_destroy(q);
	for (int i = 0; i < nimg; i++) {
		char *top;

		/* After a switch the top is not the FILE given. */
		if (devs[i]) {
			imgs[i] = bdev_image(devs[i]);
			bdev_destroy(devs[i]);
		}
		top = imgs[i] ? strdup(bimg_path(imgs[i])) : NULL;

		rc = bimg_close(imgs[i]);
		if (rc) {
			log_err("%s: flush failed: %s", top ? top : argv[optind + i], strerror(-rc));
			ret = CLI_FAIL;
		}
		free(top);
	}
	free(imgs);
	free(devs);
	close(sfd);
	return ret;
}
