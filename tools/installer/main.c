/* tools/installer/main.c: vhdvisor-installer, the turnkey ISO's
 * installer:
 *
 *   vhdvisor-installer report [--json] [--loop]   the hardware report
 *   vhdvisor-installer plan (DISK | --size SIZE) [--json]
 *                                                 the partition plan (dry run)
 *   vhdvisor-installer check-answer FILE          validates an answer file
 *   vhdvisor-installer install --answer FILE [--log PATH]
 *                                                 the install (wipes the disk)
 *
 * Exit codes: 0 done, 1 failed (the disk is too small, a file cannot be
 * read), 2 bad usage or a bad answer file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "appliance/install.h"
#include "common/util.h"
#include "tools/common/cli_json.h"

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vhdvisor-installer COMMAND [OPTIONS]\n"
		"\n"
		"The vhdvisor appliance installer. Nothing below writes to a disk.\n"
		"  report [--json] [--loop]         CPU (and hardware virtualization), memory,\n"
		"                                   disks and what they hold, NICs; --loop\n"
		"                                   also lists loop devices\n"
		"  plan DISK [--json]               how DISK would be partitioned\n"
		"  plan --size SIZE [--json]        the same for a disk of SIZE (e.g. 16G)\n"
		"  check-answer FILE                validates an unattended-install answer file\n"
		"  install --answer FILE [--log PATH]\n"
		"                                   installs per FILE: WIPES its disk (the live ISO)\n"
		"  --help                           this text\n");
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *human(uint64_t bytes, char *buf, size_t len)
{
	size_format(bytes, buf, len);
	return buf;
}

/* A string field, "" when absent or null. */
static const char *jstr(json_object *o, const char *key)
{
	const char *s = cli_jstr(o, key);

	return s ? s : "";
}

static void print_report(json_object *r)
{
	json_object *cpu, *mem, *disks, *nics;
	char sz[32];

	json_object_object_get_ex(r, "cpu", &cpu);
	json_object_object_get_ex(r, "memory", &mem);
	json_object_object_get_ex(r, "disks", &disks);
	json_object_object_get_ex(r, "nics", &nics);
	printf("CPU:     %s, %lld logical CPUs\n", jstr(cpu, "model"), (long long)cli_jint(cpu, "count"));
	if (jstr(cpu, "virt")[0])
		printf("Virt:    hardware virtualization (%s)%s\n", jstr(cpu, "virt"),
		       cli_jbool(cpu, "kvm") ? ", /dev/kvm present" : ", but no /dev/kvm");
	else
		printf("Virt:    NO hardware virtualization (no vmx/svm): VMs run emulated (TCG), "
		       "slowly%s\n", cli_jbool(cpu, "kvm") ? "; /dev/kvm is nested/emulated" : "");
	printf("Memory:  %s\n", human((uint64_t)cli_jint(mem, "total"), sz, sizeof(sz)));
	printf("Disks:\n");
	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i), *c;

		json_object_object_get_ex(d, "contents", &c);
		printf("  %-10s %9s  %-28s %s\n", jstr(d, "path"),
		       human((uint64_t)cli_jint(d, "size"), sz, sizeof(sz)),
		       jstr(d, "model")[0] ? jstr(d, "model") : "-",
		       cli_jbool(d, "removable") ? "removable" : "");
		if (cli_jbool(d, "holds_data")) {
			json_object *m;

			json_object_object_get_ex(d, "mounted", &m);
			printf("             WARNING: holds data:");
			for (size_t k = 0; k < json_object_array_length(c); k++)
				printf(" %s", json_object_get_string(json_object_array_get_idx(c, k)));
			for (size_t k = 0; k < json_object_array_length(m); k++)
				printf(" mounted on %s",
				       json_object_get_string(json_object_array_get_idx(m, k)));
			if (jstr(d, "probe_error")[0])
				printf(" (cannot be read: %s)", jstr(d, "probe_error"));
			printf("\n");
		} else {
			printf("             empty (no partition table, filesystem, LVM or RAID "
			       "signature)\n");
		}
	}
	if (!json_object_array_length(disks))
		printf("  none\n");
	printf("NICs:\n");
	for (size_t i = 0; i < json_object_array_length(nics); i++) {
		json_object *n = json_object_array_get_idx(nics, i);

		printf("  %-15s %-17s %-8s %s%s\n", jstr(n, "name"), jstr(n, "mac"),
		       jstr(n, "state"), cli_jbool(n, "carrier") ? "link" : "no link",
		       cli_jbool(n, "physical") ? "" : " (virtual)");
	}
	if (!json_object_array_length(nics))
		printf("  none\n");
}

static int cmd_report(int argc, char **argv)
{
	json_object *r;
	bool json = false, loops = false;
	int e;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--loop")) {
			loops = true;
		} else {
			fprintf(stderr, "vhdvisor-installer report: unknown argument '%s'\n", argv[i]);
			return EX_USAGE;
		}
	}
	e = inst_hw_report(NULL, NULL, NULL, loops, &r);
	if (e) {
		fprintf(stderr, "vhdvisor-installer: hardware report: %s\n", strerror(-e));
		return EX_FAIL;
	}
	if (json)
		print_json(r);
	else
		print_report(r);
	json_object_put(r);
	return EX_OK;
}

/* The size and logical sector size of a block device or regular file. */
static int disk_size(const char *path, uint64_t *size, unsigned *sector)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ss = 512, r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) || ioctl(fd, BLKSSZGET, &ss))
			r = -errno;
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else {
		r = -ENOTBLK;
	}
	close(fd);
	*sector = (unsigned)ss;
	return r;
}

static void print_plan(const struct inst_plan *p, const char *disk)
{
	char a[32], b[32];

	printf("Plan for %s (%s), GPT:\n", disk, human(p->disk_size, a, sizeof(a)));
	for (unsigned i = 0; i < p->nparts; i++) {
		const struct inst_part *pt = &p->parts[i];

		printf("  %u  %-9s %9s at %-9s %-16s %-11s %s\n", i + 1, pt->name,
		       human(pt->size, a, sizeof(a)), human(pt->start, b, sizeof(b)), pt->type,
		       pt->fs[0] ? pt->fs : "-", pt->mount);
	}
	printf("LVM volume group '%s' on partition %u (%s in %s extents):\n", p->vg, p->nparts,
	       human(p->vg_size, a, sizeof(a)), human(p->extent, b, sizeof(b)));
	for (unsigned i = 0; i < p->nlvs; i++) {
		const struct inst_lv *lv = &p->lvs[i];

		printf("  %-6s %-10s %9s %s\n", lv->name, lv->kind, human(lv->size, a, sizeof(a)),
		       lv->mount);
	}
	printf("  (thin-pool metadata %s, and as much again as LVM's spare)\n",
	       human(p->pool_meta, a, sizeof(a)));
}

static int cmd_plan(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	const char *disk = NULL, *size_arg = NULL;
	struct inst_plan p;
	char why[256];
	uint64_t size = 0;
	unsigned sector = 512;
	bool json = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 's')
			size_arg = optarg;
		else if (c == 'j')
			json = true;
		else
			return EX_USAGE;
	}
	if (optind < argc)
		disk = argv[optind++];
	if (optind < argc || !!disk == !!size_arg) {
		fprintf(stderr, "usage: vhdvisor-installer plan (DISK | --size SIZE) [--json]\n");
		return EX_USAGE;
	}
	if (size_arg) {
		if (size_parse(size_arg, &size)) {
			fprintf(stderr, "vhdvisor-installer: bad size '%s'\n", size_arg);
			return EX_USAGE;
		}
		disk = "a disk";
	} else {
		r = disk_size(disk, &size, &sector);
		if (r) {
			fprintf(stderr, "vhdvisor-installer: %s: %s\n", disk, strerror(-r));
			return EX_FAIL;
		}
	}
	r = inst_plan_make(size, sector, &p, why, sizeof(why));
	if (r) {
		fprintf(stderr, "vhdvisor-installer: cannot install on %s: %s\n", disk, why);
		return EX_FAIL;
	}
	if (json) {
		json_object *o = inst_plan_json(&p);

		print_json(o);
		json_object_put(o);
	} else {
		print_plan(&p, disk);
	}
	return EX_OK;
}

static int cmd_check_answer(int argc, char **argv)
{
	struct inst_answer a;
	char why[256];
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: vhdvisor-installer check-answer FILE\n");
		return EX_USAGE;
	}
	r = inst_answer_load(argv[1], &a, why, sizeof(why));
	if (r) {
		fprintf(stderr, "vhdvisor-installer: %s: %s\n", argv[1], why);
		return r == -EINVAL ? EX_USAGE : EX_FAIL;
	}
	printf("%s: valid: install on %s (wiping it) as %s, network %s%s, admin by %s\n",
	       argv[1], a.disk, a.hostname, a.net == INST_NET_DHCP ? "dhcp" : "static ",
	       a.net == INST_NET_DHCP ? "" : a.address, a.token[0] ? "token" : "password");
	return EX_OK;
}

static int cmd_install(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "answer", required_argument, NULL, 'a' },
		{ "log", required_argument, NULL, 'l' },
		{ "source", required_argument, NULL, 's' },
		{ "target", required_argument, NULL, 't' },
		{ 0 },
	};
	const char *answer = NULL, *logp = "/var/log/vhdvisor-install.log";
	struct inst_run_opts o = { "/run/live/rootfs/filesystem.squashfs", "/target", -1 };
	struct inst_answer a;
	char why[512], step[32];
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'a')
			answer = optarg;
		else if (c == 'l')
			logp = optarg;
		else if (c == 's')
			o.source = optarg;
		else if (c == 't')
			o.target = optarg;
		else
			return EX_USAGE;
	}
	if (!answer || optind < argc) {
		fprintf(stderr, "usage: vhdvisor-installer install --answer FILE [--log PATH] "
			"[--source DIR] [--target DIR]\n");
		return EX_USAGE;
	}
	/* A bad answer file stops here, before anything is written. */
	r = inst_answer_load(answer, &a, why, sizeof(why));
	if (r) {
		fprintf(stderr, "vhdvisor-installer: install stopped at step answer: %s: %s "
			"(nothing was written)\n", answer, why);
		return r == -EINVAL ? EX_USAGE : EX_FAIL;
	}
	o.logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (o.logfd < 0) {
		fprintf(stderr, "vhdvisor-installer: log %s: %s\n", logp, strerror(errno));
		return EX_FAIL;
	}
	r = inst_run(&a, &o, step, sizeof(step), why, sizeof(why));
	close(o.logfd);
	if (r) {
		fprintf(stderr, "vhdvisor-installer: install stopped at step %s: %s (log: %s)\n",
			step, why, logp);
		return EX_FAIL;
	}
	printf("vhdvisor-installer: installed (log: %s)\n", logp);
	return EX_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "plan"))
		return cmd_plan(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check-answer"))
		return cmd_check_answer(argc - 1, argv + 1);
	if (!strcmp(argv[1], "install"))
		return cmd_install(argc - 1, argv + 1);
	fprintf(stderr, "vhdvisor-installer: unknown command '%s' (see --help)\n", argv[1]);
	return EX_USAGE;
}
