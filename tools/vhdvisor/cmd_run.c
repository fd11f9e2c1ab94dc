/* tools/vhdvisor/cmd_run.c: `vhdvisor run`: one VM in the foreground. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkback/ratelimit.h"
#include "common/log.h"
#include "common/util.h"
#include "hv/vm.h"
#include "netback/netback.h"
#include "netback/shaper.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

/* Exit codes of `vhdvisor run` beyond CLI_OK/CLI_FAIL/CLI_USAGE. */
enum {
	RUN_REBOOT = 3,   /* the guest asked to reboot */
	RUN_PANIC = 4,    /* the guest panicked or its engine crashed */
};

static void run_usage(FILE *f)
{
	fprintf(f,
"usage: vhdvisor run [OPTIONS]\n"
"Runs one VM in the foreground until its guest stops.\n\n"
"  --kernel FILE          boot this kernel directly (bzImage or ELF vmlinux)\n"
"  --initrd FILE          its initramfs\n"
"  --append ARGS          kernel command line (console=ttyS0 is added if absent)\n"
"  --boot MODE            auto (default), direct, image (kernel from the disk's\n"
"                         grub.cfg/extlinux.conf), firmware (the disk's boot loader)\n"
"  --firmware bios|uefi   firmware for --boot firmware (default bios: SeaBIOS);\n"
"                         uefi implies --boot firmware\n"
"  --disk FILE[,ro][,snapshot]  a disk (VHD or raw), repeatable; the first boots\n"
"  --disk-transport vhost-user|nbd  how QEMU reaches the disks, both served by this\n"
"                         process: vhost-user (default; vhost-user-blk, guest RAM\n"
"                         becomes a shared memfd) or nbd (QEMU's NBD client)\n"
"  --disk-limit N:rbps=B,wbps=B,riops=N,wiops=N[,KEY_burst=V]  rate limits for\n"
"                         disk N (0 = the first --disk; sizes take K M G), each\n"
"                         optional, 0 = unlimited; repeatable\n"
"  --cpus N               vCPUs (default 1)\n"
"  --mem SIZE             memory, e.g. 512M (default 256M)\n"
"  --console KIND         stdio (default), file:PATH, pty, none\n"
"  --nic net=NAME[,mac=M] | tap=IFNAME[,mac=M]  a virtio NIC on a lab network\n"
"  --nic-limit N:RATE[:TXRATE]  rate limit of NIC N (0 = the first): RATE for\n"
"                what the guest receives and sends (TXRATE: sends), bit/s with\n"
"                K, M, G = 10^3, 10^6, 10^9 (10M = 10 Mbit/s)\n"
"  --uuid UUID            the SMBIOS system UUID the guest sees\n"
"                         or an existing tap, repeatable (MAC generated if absent)\n"
"  --api PATH             JSON control socket: {\"cmd\":\"status|pause|resume|powerdown|stop\"}\n"
"  --accel auto|kvm|tcg   accelerator (default auto: KVM only with vmx/svm)\n"
"  --name NAME            VM name (run folder $VHDVISOR_RUN/NAME)\n"
"  --reboot               restart the guest when it reboots\n\n"
"exit status: 0 powered off (or stopped through the API), 1 error, 2 bad usage,\n"
"3 the guest rebooted, 4 the guest panicked or crashed, 128+N stopped by signal N\n");
}

static void on_started(struct vm *vm, const struct vm_status *st, void *opaque)
{
	if (st->console[0])
		fprintf(stderr, "vhdvisor: console on %s\n", st->console);
	log_info("engine pid %d, run folder %s", (int)st->engine_pid, vm_run_dir(vm));
}

__attribute__((format(printf, 1, 2)))
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vhdvisor run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return CLI_USAGE;
}

static int copy_opt(char *dst, size_t len, const char *what, const char *v)
{
	if (strlen(v) >= len)
		return usage_err("%s too long", what);
	strcpy(dst, v);
	return 0;
}

enum { O_KERNEL = 256, O_INITRD, O_APPEND, O_BOOT, O_FIRMWARE, O_DISK, O_CPUS, O_MEM,
       O_CONSOLE, O_API, O_ACCEL, O_NAME, O_REBOOT, O_NIC, O_UUID, O_DISK_TRANSPORT,
       O_DISK_LIMIT, O_NIC_LIMIT };

static const struct option run_opts[] = {
	{ "kernel", required_argument, NULL, O_KERNEL },
	{ "initrd", required_argument, NULL, O_INITRD },
	{ "append", required_argument, NULL, O_APPEND },
	{ "boot", required_argument, NULL, O_BOOT },
	{ "firmware", required_argument, NULL, O_FIRMWARE },
	{ "disk", required_argument, NULL, O_DISK },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "mem", required_argument, NULL, O_MEM },
	{ "console", required_argument, NULL, O_CONSOLE },
	{ "api", required_argument, NULL, O_API },
	{ "accel", required_argument, NULL, O_ACCEL },
	{ "name", required_argument, NULL, O_NAME },
	{ "reboot", no_argument, NULL, O_REBOOT },
	{ "nic", required_argument, NULL, O_NIC },
	{ "nic-limit", required_argument, NULL, O_NIC_LIMIT },
	{ "uuid", required_argument, NULL, O_UUID },
	{ "disk-transport", required_argument, NULL, O_DISK_TRANSPORT },
	{ "disk-limit", required_argument, NULL, O_DISK_LIMIT },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* "N:rbps=20M,..." into @limits[N]; @nr: one past the highest N given. */
static int parse_disk_limit(const char *arg, struct rl_limits *limits, unsigned *nr,
			    char *err, size_t errlen)
{
	char *end, e[160];
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (end == arg || *end != ':' || errno || n >= VM_MAX_DISKS || arg[0] == '-')
		return snprintf(err, errlen, "--disk-limit '%s': want N:KEY=VALUE,... "
				"(N < %d)", arg, VM_MAX_DISKS), -EINVAL;
	if (rl_parse(end + 1, &limits[n], e, sizeof(e)))
		return snprintf(err, errlen, "--disk-limit '%s': %s", arg, e), -EINVAL;
	if (n + 1 > *nr)
		*nr = (unsigned)n + 1;
	return 0;
}

static int parse_nic(const char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	char namebuf[NB_NIC_NAME_MAX + 1];
	struct nb_nic_spec spec;
	struct vm_nic *nic;

	if (cfg->nr_nics == VM_MAX_NICS) {
		snprintf(err, errlen, "at most %d NICs", VM_MAX_NICS);
		return -EINVAL;
	}
	if (netback_nic_parse(arg, &spec, namebuf, err, errlen))
		return -EINVAL;
	nic = &cfg->nics[cfg->nr_nics++];
	nic->kind = spec.kind == NB_NIC_TAP ? VM_NIC_TAP : VM_NIC_NET;
	snprintf(nic->name, sizeof(nic->name), "%s", spec.name);
	if (spec.has_mac)
		memcpy(nic->mac, spec.mac, sizeof(nic->mac));
	nic->tap_fd = -1;
	return 0;
}

/* --nic-limit N:RATE[:TXRATE] */
static int parse_nic_limit(const char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	char buf[96], *rx, *tx, *end;
	unsigned long n;

	if (strlen(arg) >= sizeof(buf))
		goto bad;
	strcpy(buf, arg);
	rx = strchr(buf, ':');
	if (!rx)
		goto bad;
	*rx++ = 0;
	tx = strchr(rx, ':');
	if (tx)
		*tx++ = 0;
	errno = 0;
	n = strtoul(buf, &end, 10);
	if (errno || end == buf || *end || n >= VM_MAX_NICS)
		goto bad;
	if (shaper_parse_rate(rx, &cfg->nics[n].rate_rx) ||
	    shaper_parse_rate(tx ? tx : rx, &cfg->nics[n].rate_tx))
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "--nic-limit '%s': want N:RATE[:TXRATE], N a NIC index, "
		 "RATE like 10M (bit/s, K/M/G = 10^3/10^6/10^9, 8K..100G) or none", arg);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct vm_config *cfg)
{
	struct rl_limits limits[VM_MAX_DISKS] = { 0 };
	unsigned nr_limited = 0;
	char err[512];
	uint64_t v;
	int c;

	optind = 1;
	while ((c = cli_getopt(argc, argv, "h", run_opts)) != -1) {
		switch (c) {
		case O_KERNEL:
			if (copy_opt(cfg->kernel, sizeof(cfg->kernel), "--kernel", optarg))
				return CLI_USAGE;
			break;
		case O_INITRD:
			if (copy_opt(cfg->initrd, sizeof(cfg->initrd), "--initrd", optarg))
				return CLI_USAGE;
			break;
		case O_APPEND:
			if (copy_opt(cfg->append, sizeof(cfg->append), "--append", optarg))
				return CLI_USAGE;
			break;
		case O_BOOT:
			if (vm_boot_mode_parse(optarg, &cfg->boot))
				return usage_err("--boot '%s': want auto, direct, image or firmware",
						 optarg);
			break;
		case O_FIRMWARE:
			if (!strcmp(optarg, "bios"))
				cfg->firmware = VM_FW_BIOS;
			else if (!strcmp(optarg, "uefi"))
				cfg->firmware = VM_FW_UEFI;
			else
				return usage_err("--firmware '%s': want bios or uefi", optarg);
			break;
		case O_DISK:
			if (cfg->nr_disks == VM_MAX_DISKS)
				return usage_err("at most %d disks", VM_MAX_DISKS);
			if (vm_disk_parse(optarg, &cfg->disks[cfg->nr_disks], err, sizeof(err)))
				return usage_err("%s", err);
			cfg->nr_disks++;
			break;
		case O_CPUS:
			if (u64_parse(optarg, &v) || v < 1 || v > VM_MAX_CPUS)
				return usage_err("--cpus '%s': want 1..64", optarg);
			cfg->cpus = (unsigned)v;
			break;
		case O_MEM:
			if (size_parse(optarg, &v))
				return usage_err("--mem '%s': not a size", optarg);
			/* A bare number means MiB, as in QEMU's -m. */
			if (strspn(optarg, "0123456789") == strlen(optarg))
				v <<= 20;
			cfg->mem = v;
			break;
		case O_CONSOLE:
			if (vm_console_parse(optarg, cfg, err, sizeof(err)))
				return usage_err("%s", err);
			break;
		case O_API:
			if (copy_opt(cfg->api_path, sizeof(cfg->api_path), "--api", optarg))
				return CLI_USAGE;
			break;
		case O_ACCEL:
			if (vm_accel_parse(optarg, &cfg->accel))
				return usage_err("--accel '%s': want auto, kvm or tcg", optarg);
			break;
		case O_NAME:
			if (copy_opt(cfg->name, sizeof(cfg->name), "--name", optarg))
				return CLI_USAGE;
			break;
		case O_REBOOT:
			cfg->reboot = true;
			break;
		case O_UUID:
			if (copy_opt(cfg->uuid, sizeof(cfg->uuid), "--uuid", optarg))
				return CLI_USAGE;
			break;
		case O_DISK_TRANSPORT:
			if (vm_disk_transport_parse(optarg, &cfg->disk_transport))
				return usage_err("--disk-transport '%s': want nbd or vhost-user",
						 optarg);
			break;
		case O_DISK_LIMIT:
			if (parse_disk_limit(optarg, limits, &nr_limited, err, sizeof(err)))
				return usage_err("%s", err);
			break;
		case O_NIC:
			if (parse_nic(optarg, cfg, err, sizeof(err)))
				return usage_err("%s", err);
			break;
		case O_NIC_LIMIT:
			if (parse_nic_limit(optarg, cfg, err, sizeof(err)))
				return usage_err("%s", err);
			break;
		case 'h':
			run_usage(stdout);
			return -1;
		default:
			run_usage(stderr);
			return CLI_USAGE;
		}
	}
	if (optind < argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	if (nr_limited > cfg->nr_disks)
		return usage_err("--disk-limit %u: there are %u disks", nr_limited - 1,
				 cfg->nr_disks);
	for (unsigned i = 0; i < nr_limited; i++)
		cfg->disks[i].limits = limits[i];
	for (unsigned i = cfg->nr_nics; i < VM_MAX_NICS; i++)
		if (cfg->nics[i].rate_rx || cfg->nics[i].rate_tx)
			return usage_err("--nic-limit %u: there is no NIC %u", i, i);
	/* Asking for UEFI means booting through it. */
	if (cfg->firmware == VM_FW_UEFI) {
		if (cfg->boot == VM_BOOT_AUTO && !cfg->kernel[0])
			cfg->boot = VM_BOOT_FIRMWARE;
		else if (cfg->boot != VM_BOOT_FIRMWARE)
			return usage_err("--firmware uefi is for firmware boot (--boot firmware)");
	}
	return 0;
}

static int exit_code(const struct vm_result *res)
{
	switch (res->reason) {
	case VM_EXIT_POWEROFF:
		return CLI_OK;
	case VM_EXIT_REBOOT:
		return RUN_REBOOT;
	case VM_EXIT_PANIC:
	case VM_EXIT_CRASH:
		if (res->detail[0])
			log_err("%s", res->detail);
		return RUN_PANIC;
	case VM_EXIT_HOST:
		return res->signo ? 128 + res->signo : CLI_OK;
	}
	return CLI_FAIL;
}

int cmd_run(int argc, char **argv)
{
	struct vm_run_opts opts = { .handle_signals = true, .started = on_started };
	struct vm_result res;
	struct vm_config *cfg;
	struct vm *vm = NULL;
	int r, rc;

	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		log_err("out of memory");
		return CLI_FAIL;
	}
	vm_config_init(cfg);
	/* A closed stdout must not kill us before the guest's disks are flushed. */
	signal(SIGPIPE, SIG_IGN);
	rc = parse_args(argc, argv, cfg);
	if (rc) {
		free(cfg);
		return rc < 0 ? CLI_OK : rc;
	}
	if (!cfg->kernel[0] && !cfg->nr_disks) {
		free(cfg);
		fprintf(stderr, "vhdvisor run: nothing to boot: give --kernel or --disk\n");
		run_usage(stderr);
		return CLI_USAGE;
	}
	r = vm_create(cfg, &vm);
	free(cfg);
	if (r) {
		log_err("%s", vm_error(NULL));
		return CLI_FAIL;
	}
	r = vm_run(vm, &opts, &res);
	if (r) {
		log_err("%s", vm_error(vm));
		rc = CLI_FAIL;
	} else {
		rc = exit_code(&res);
	}
	vm_destroy(vm);
	return rc;
}
