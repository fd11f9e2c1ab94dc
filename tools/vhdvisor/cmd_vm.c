/* tools/vhdvisor/cmd_vm.c: `vhdvisor vm`: VMs defined by their disks.
 *
 *   vhdvisor vm create NAME --from IMAGE [--cpus N] [--mem SIZE]
 *   vhdvisor vm clone SRC NEW [--count N] [--full]
 *   vhdvisor vm list [--json]            vhdvisor vm show NAME [--json]
 *   vhdvisor vm set NAME [--cpus N] [--mem SIZE] [--cloud-init on|off]
 *                        [--password PW|-] [--ssh-key FILE|none]
 *   vhdvisor vm rm NAME...
 *   vhdvisor vm snapshot NAME [TAG]      vhdvisor vm snapshots NAME [--json]
 *   vhdvisor vm revert NAME TAG          vhdvisor vm snapshot-rm NAME TAG
 *   vhdvisor vm reset NAME               vhdvisor vm flatten NAME
 *   vhdvisor vm start NAME [--kernel K] [--initrd I] [--append ARGS]
 *   vhdvisor vm stop NAME                vhdvisor vm status NAME [--json]
 *   vhdvisor vm shutdown NAME [--timeout S] (cmd_vm_shutdown.c)
 *   vhdvisor vm console NAME [--follow|--dump] (cmd_vm_console.c)
 *   vhdvisor vm export NAME --bundle FILE   vhdvisor vm import FILE [NEWNAME]
 *   vhdvisor vm disk add|resize|rm|list ... (cmd_vm_disk.c)
 *
 * Every form takes --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/log.h"
#include "common/util.h"
#include "images/bundle.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/rec_json.h"
#include "images/vmrec.h"
#include "images/vmrun.h"
#include "images/vmstart.h"
#include "hv/vm.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

#define VM_MAX_COUNT 10000

struct vm_args {
	const char *state, *from, *bundle, *kernel, *initrd, *append, *boot, *accel, *file;
	const char *transport;  /* start: --disk-transport */
	const char *password, *ssh_key;
	const char *name;       /* import: --name NEW */
	bool keep_identity;     /* import: keep MAC, UUID, machine-id under --name */
	unsigned cpus, count, timeout;
	int cloud_init;         /* -1 unchanged, 0 off, 1 on */
	uint64_t mem;
	bool json, full, follow, dump;
	int first;
};

static const struct cli_action vm_actions[] = {
	{ "create", "NAME --from IMAGE [--cpus N] [--mem SIZE]",
	  "Makes VM NAME, a linked clone of IMAGE (a differencing VHD on the image's\n"
	  "file) with its own MAC, SMBIOS UUID and machine-id.\n"
	  "  --from IMAGE   NAME[:VERSION] or an id prefix (required)\n"
	  "  --cpus N       vCPUs, 1-64 (default 1)\n"
	  "  --mem SIZE     memory, 64M to 1T (a plain number means MiB)", NULL, 1, 1 },
	{ "clone", "SRC NEW [--count N] [--full] [--cpus N] [--mem SIZE]",
	  "Makes NEW from VM SRC's current disk (SRC stopped).\n"
	  "  --count N      make NEW-1 .. NEW-N (1-10000)\n"
	  "  --full         copy the disk instead of a linked clone\n"
	  "  --cpus N, --mem SIZE   as in 'create'", NULL, 2, 2 },
	{ "list", "[--json]", "Lists the VMs: name, state, vCPUs, memory, MAC, image, IP.\n"
	  "  --json         one JSON document", "ls", 0, 0 },
	{ "show", "NAME [--json]", "Shows VM NAME's definition and snapshots.\n"
	  "  --json         one JSON document", NULL, 1, 1 },
	{ "set", "NAME [--cpus N] [--mem SIZE] [--cloud-init on|off]\n"
		 "[--password PW|-] [--ssh-key FILE|none]",
	  "Changes VM NAME's definition; a running VM gets it at its next start.\n"
	  "  --cpus N           vCPUs, 1-64\n"
	  "  --mem SIZE         memory, 64M to 1T (a plain number means MiB)\n"
	  "  --cloud-init on|off  attach a NoCloud seed (cidata) at start\n"
	  "  --password PW      root's password in the guest (- reads it from stdin);\n"
	  "                     stored only as a hash (0600), given by the seed\n"
	  "  --ssh-key FILE|none  root's authorized SSH key in the guest", NULL, 1, 1 },
	{ "rm", "NAME...", "Removes the VMs (stopped) and their disks.", NULL, 1, CLI_MANY },
	{ "snapshot", "NAME [TAG]",
	  "Takes snapshot TAG (default: a time stamp) of VM NAME's disks; also\n"
	  "while it runs (the guest pauses while its disk switches to a new layer).", NULL, 1, 2 },
	{ "snapshots", "NAME [--json]", "Lists VM NAME's snapshots.\n"
	  "  --json         one JSON document", NULL, 1, 1 },
	{ "revert", "NAME TAG", "Puts VM NAME (stopped) back to snapshot TAG.", NULL, 2, 2 },
	{ "snapshot-rm", "NAME TAG",
	  "Drops snapshot TAG, merging its layer (VM stopped; resumes after a crash).",
	  NULL, 2, 2 },
	{ "reset", "NAME", "Puts VM NAME (stopped) back to its image: drops every layer.",
	  NULL, 1, 1 },
	{ "flatten", "NAME", "Copies the image's data into VM NAME's disk: it no longer\n"
	  "depends on the image.", NULL, 1, 1 },
	{ "start", "NAME [--kernel FILE] [--initrd FILE] [--append ARGS]\n"
		   "[--boot auto|direct|image|firmware] [--accel auto|kvm|tcg]\n"
		   "[--disk-transport nbd|vhost-user]",
	  "Starts VM NAME detached (the runtime of 'vhdvisor run'). Its console goes\n"
	  "to $VHDVISOR_RUN/NAME.console and its runtime's log to $VHDVISOR_RUN/NAME.log\n"
	  "(default /run/vhdvisor). A running VM is refused.\n"
	  "  --kernel FILE  boot this kernel directly\n"
	  "  --initrd FILE  its initramfs\n"
	  "  --append ARGS  added to the kernel command line\n"
	  "  --boot MODE    auto (default), direct, image (kernel from the disk), firmware\n"
	  "  --accel A      auto (default: KVM when usable), kvm, tcg\n"
	  "  --disk-transport T  nbd (default) or vhost-user (served by the runtime\n"
	  "                 itself; a live snapshot is refused on it for now)", NULL, 1, 1 },
	{ "shutdown", "NAME [--timeout S]",
	  "Shuts VM NAME down gracefully: presses its ACPI power button and waits for\n"
	  "the guest to power off; after the timeout it stops it hard, as 'stop'.\n"
	  "  --timeout S    seconds to wait, 1-3600 (default 60)", NULL, 1, 1 },
	{ "stop", "NAME", "Stops VM NAME at once (a hard stop: the guest gets no shutdown;\n"
	  "its disks are flushed; 'shutdown' is the graceful one). A VM that is not\n"
	  "running is an error.", NULL, 1, 1 },
	{ "status", "NAME [--json]", "Says whether VM NAME runs, its pid and console.\n"
	  "  --json         one JSON document", NULL, 1, 1 },
	{ "console", "NAME [--follow|--dump]",
	  "On a terminal, attaches to VM NAME's serial console (keys go to the guest;\n"
	  "Ctrl-] detaches). Otherwise, or with --dump, prints the console log\n"
	  "$VHDVISOR_RUN/NAME.console.\n"
	  "  --follow       print the log, then new lines until the VM stops\n"
	  "  --dump         print the log so far, even on a terminal", NULL, 1, 1 },
	{ "export", "NAME --bundle FILE [-p]",
	  "Writes VM NAME (stopped), its layers, snapshots, data disks and image as\n"
	  "a bundle (tar) to FILE, which must not exist.\n"
	  "  --bundle FILE  the bundle to write (required)\n"
	  "  -p, --progress show progress (default: on a terminal)", NULL, 1, 1 },
	{ "import", "BUNDLE [--name NEW | NEW] [--keep-identity] [-p]",
	  "Imports a VM bundle, verified before anything enters the catalog, as\n"
	  "NEW or under its own name. Under a new name the VM gets a new MAC,\n"
	  "SMBIOS UUID and machine-id.\n"
	  "  --name NEW       import it as NEW\n"
	  "  --keep-identity  keep the bundle's MAC, UUID and machine-id under NEW\n"
	  "  -p, --progress   show progress (default: on a terminal)", NULL, 1, 2 },
	{ "disk", "add NAME SIZE | add NAME --file VHD\n"
		  "resize NAME DISK SIZE | rm NAME DISK | list NAME [--json]",
	  "A VM's data disks: disk 0 is the boot disk, the others follow (vdb, ...).\n"
	  "  add NAME SIZE      a new empty disk (a plain number means MiB)\n"
	  "  add --file VHD     a copy of a standalone VHD\n"
	  "  resize NAME DISK SIZE, rm NAME DISK (VM stopped), list NAME [--json]", NULL, 2, 4 },
	{ 0 },
};

static const char vm_about[] =
	"A VM is a linked clone of a catalog image: a differencing VHD on the\n"
	"image's file, with its own MAC, SMBIOS UUID and machine-id.";

static const char vm_common[] =
	"Every action takes --state DIR (catalog; default $VHDVISOR_STATE or\n"
	"/var/lib/vhdvisor), -q (only errors) and -v (debug messages).";

static void vm_action_usage(const char *act)
{
	cli_action_usage(stderr, "vhdvisor vm", cli_action_find(vm_actions, act), false, NULL);
}

/* --mem SIZE: what 'vhdvisor run' and the runtime accept (hv/vm_config.h),
 * checked when the VM is defined rather than at its start. */
int vmcli_mem_parse(const char *s, uint64_t *mem)
{
	uint64_t v;

	if (size_parse(s, &v) || v > VM_MAX_MEM) {
		log_err("bad --mem '%s' (64M to 1T)", s);
		return -1;
	}
	if (strspn(s, "0123456789") == strlen(s))
		v = v > VM_MAX_MEM >> 20 ? VM_MAX_MEM + 1 : v << 20;	/* a plain number: MiB */
	if (v < VM_MIN_MEM || v > VM_MAX_MEM || v % (1u << 20)) {
		log_err("bad --mem '%s': memory is a whole number of MiB from 64M to 1T", s);
		return -1;
	}
	*mem = v;
	return 0;
}

/* The actions whose first argument names an existing VM. */
static bool vm_named(const char *act)
{
	static const char *const named[] = {
		"clone", "show", "set", "snapshot", "snapshots", "revert", "snapshot-rm",
		"reset", "flatten", "start", "shutdown", "stop", "status", "console", "export",
	};

	for (size_t i = 0; i < ARRAY_SIZE(named); i++)
		if (!strcmp(act, named[i]))
			return true;
	return false;
}

static int vm_parse(int argc, char **argv, struct vm_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, 'F' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'A' },
		{ "boot", required_argument, NULL, 'b' },
		{ "accel", required_argument, NULL, 'a' },
		{ "bundle", required_argument, NULL, 'B' },
		{ "file", required_argument, NULL, 'D' },
		{ "cloud-init", required_argument, NULL, 'C' },
		{ "progress", no_argument, NULL, 'p' },
		{ "password", required_argument, NULL, 'P' },
		{ "ssh-key", required_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "follow", no_argument, NULL, 'w' },
		{ "dump", no_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'N' },
		{ "keep-identity", no_argument, NULL, 'I' },
		{ "disk-transport", required_argument, NULL, 'X' },
		{ 0 },
	};
	uint64_t v;
	int ch;

	memset(a, 0, sizeof(*a));
	a->cloud_init = -1;
	optind = 1;
	while ((ch = cli_getopt(argc, argv, "p", opts)) != -1) {
		switch (ch) {
		case 'p': imgcli_progress_force(); break;
		case 's': a->state = optarg; break;
		case 'f': a->from = optarg; break;
		case 'c':
			if (u64_parse(optarg, &v) || v == 0 || v > 64) {
				log_err("bad --cpus '%s' (1-64)", optarg);
				return CLI_USAGE;
			}
			a->cpus = (unsigned)v;
			break;
		case 'm':
			if (vmcli_mem_parse(optarg, &a->mem))
				return CLI_USAGE;
			break;
		case 'n':
			if (u64_parse(optarg, &v) || v == 0 || v > VM_MAX_COUNT) {
				log_err("bad --count '%s' (1-%d)", optarg, VM_MAX_COUNT);
				return CLI_USAGE;
			}
			a->count = (unsigned)v;
			break;
		case 'j': a->json = true; break;
		case 'F': a->full = true; break;
		case 'k': a->kernel = optarg; break;
		case 'i': a->initrd = optarg; break;
		case 'A': a->append = optarg; break;
		case 'b': a->boot = optarg; break;
		case 'a': a->accel = optarg; break;
		case 'B': a->bundle = optarg; break;
		case 'D': a->file = optarg; break;
		case 'N': a->name = optarg; break;
		case 'I': a->keep_identity = true; break;
		case 'X': a->transport = optarg; break;
		case 'C':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				log_err("bad --cloud-init '%s' (on or off)", optarg);
				return CLI_USAGE;
			}
			a->cloud_init = !strcmp(optarg, "on");
			break;
		case 'P': a->password = optarg; break;
		case 'K': a->ssh_key = optarg; break;
		case 'T':
			if (u64_parse(optarg, &v) || v == 0 || v > 3600) {
				log_err("bad --timeout '%s' (1-3600 seconds)", optarg);
				return CLI_USAGE;
			}
			a->timeout = (unsigned)v;
			break;
		case 'w': a->follow = true; break;
		case 'd': a->dump = true; break;
		default: return CLI_USAGE;
		}
	}
	a->first = optind;
	return 0;
}

static int fail_img(void)
{
	log_err("%s", img_last_error()[0] ? img_last_error() : "failed (no reason recorded)");
	return CLI_FAIL;
}

static int do_create(struct cat *c, const struct vm_args *a, int argc, char **argv)
{
	struct vmrec_opts o = { .cpus = a->cpus, .mem = a->mem };
	char id[CAT_ID_LEN + 1];
	const char *name;

	if (argc - a->first != 1 || !a->from)
		return CLI_USAGE;
	name = argv[a->first];
	if (imgcli_resolve(c, a->from, id))
		return CLI_FAIL;
	if (vmrec_create(c, id, &name, 1, &o))
		return fail_img();
	printf("created %s from %.12s\n", name, id);
	return CLI_OK;
}

static int do_clone(struct cat *c, const struct vm_args *a, int argc, char **argv)
{
	struct vmrec_opts o = { .cpus = a->cpus, .mem = a->mem };
	unsigned n = a->count ? a->count : 1;
	char (*buf)[CAT_NAME_MAX + 1];
	const char **names;
	int r = CLI_OK;

	if (argc - a->first != 2)
		return CLI_USAGE;
	buf = calloc(n, sizeof(*buf));
	names = calloc(n, sizeof(*names));
	if (!buf || !names) {
		free(buf);
		free(names);
		return CLI_FAIL;
	}
	for (unsigned i = 0; i < n; i++) {
		if (a->count)
			snprintf(buf[i], sizeof(buf[i]), "%s-%u", argv[a->first + 1], i + 1);
		else
			snprintf(buf[i], sizeof(buf[i]), "%s", argv[a->first + 1]);
		names[i] = buf[i];
	}
	if (vmrec_clone(c, argv[a->first], names, n, a->full, &o, imgcli_progress,
			imgcli_progress_new("cloning")))
		r = fail_img();
	else if (n == 1)
		printf("cloned %s into %s\n", argv[a->first], names[0]);
	else
		printf("cloned %s into %s .. %s (%u VMs)\n", argv[a->first], names[0],
		       names[n - 1], n);
	free(buf);
	free(names);
	return r;
}

static int list_vm(void *opaque, const struct cat_vm *vm)
{
	char mem[32], ip[32];

	printf("%-24s %-9s %4u %9s  %-17s  %-12.12s  %s\n", vm->name,
	       strcmp(vm->state, CAT_VM_READY) ? vm->state :
	       vmrec_running(vm->name) ? "running" : "stopped",
	       vm->cpus, size_format(vm->mem, mem, sizeof(mem)), vm->mac,
	       vm->image[0] ? vm->image : "-", vmrec_vm_ip(vm, ip, sizeof(ip)) ? "-" : ip);
	return 0;
}

static int do_list(struct cat *c, const struct vm_args *a)
{
	json_object *arr;
	int r;

	if (a->json) {
		r = vmrec_vms_json(c, &arr);
		if (r) {
			log_err("catalog: %s", cat_errmsg(c));
			return CLI_FAIL;
		}
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(arr);
		return CLI_OK;
	}
	printf("%-24s %-9s %4s %9s  %-17s  %-12s  %s\n", "NAME", "STATE", "CPUS", "MEM",
	       "MAC", "IMAGE", "IP");
	r = cat_vm_foreach(c, NULL, NULL, list_vm, NULL);
	return r ? CLI_FAIL : CLI_OK;
}

static int do_show(struct cat *c, const struct vm_args *a, int argc, char **argv,
		   bool snaps_only)
{
	json_object *j, *all = NULL;
	struct cat_vm vm;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (cat_vm_get(c, argv[a->first], &vm)) {
		log_err("no VM '%s'", argv[a->first]);
		return CLI_FAIL;
	}
	j = vmrec_vm_json(c, &vm, true);
	if (snaps_only) {	/* just the list, which the VM's object keeps */
		all = j;
		json_object_object_get_ex(all, "snapshots", &j);
	}
	if (a->json) {
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
	} else if (snaps_only) {
		for (size_t i = 0; i < json_object_array_length(j); i++) {
			json_object *s = json_object_array_get_idx(j, i), *t, *w;
			char when[32];
			struct tm tm;

			json_object_object_get_ex(s, "tag", &t);
			json_object_object_get_ex(s, "created", &w);
			localtime_r(&(time_t){ json_object_get_int64(w) }, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			printf("%-24s %s\n", json_object_get_string(t), when);
		}
	} else {
		json_object_object_foreach(j, key, val)
			printf("%-11s %s\n", key, val ? json_object_get_string(val) : "-");
	}
	json_object_put(all ? all : j);
	return CLI_OK;
}

static int do_set(struct cat *c, const struct vm_args *a, int argc, char **argv)
{
	struct cat_vm vm;

	if (argc - a->first != 1 ||
	    (!a->cpus && !a->mem && a->cloud_init < 0 && !a->password && !a->ssh_key))
		return CLI_USAGE;
	if (cat_vm_get(c, argv[a->first], &vm)) {
		log_err("no VM '%s'", argv[a->first]);
		return CLI_FAIL;
	}
	if (a->cpus)
		vm.cpus = a->cpus;
	if (a->mem)
		vm.mem = a->mem;
	if (a->cloud_init >= 0)
		vm.cloud_init = a->cloud_init;
	if (cat_vm_update(c, &vm)) {
		log_err("catalog: %s", cat_errmsg(c));
		return CLI_FAIL;
	}
	if ((a->password || a->ssh_key) && cmd_vm_login(c, vm.name, a->password, a->ssh_key))
		return CLI_FAIL;
	if (vmrec_running(vm.name))
		log_warn("%s runs: the change applies at its next start", vm.name);
	return CLI_OK;
}

static int do_rm(struct cat *c, const struct vm_args *a, int argc, char **argv)
{
	int r = CLI_OK;

	if (argc - a->first < 1)
		return CLI_USAGE;
	for (int i = a->first; i < argc; i++)
		if (vmrec_remove(c, argv[i]))
			r = fail_img();
	return r;
}

/* snapshot-rm's progress: a merge that resumes after a crash starts
 * above 0 (images/vmrec_merge.c), which is said once. */
struct merge_note {
	const char *tag;
	void *bar;
	bool started;
};

static void merge_progress(void *opaque, uint64_t done, uint64_t total)
{
	struct merge_note *m = opaque;

	if (!m->started && done && total)
		fprintf(stderr, "resuming merge of %s at %u%%\n", m->tag,
			(unsigned)(done * 100 / total));
	m->started = true;
	imgcli_progress(m->bar, done, total);
}

static int snapshot_rm(struct cat *c, const char *name, const char *tag)
{
	struct merge_note m = { .tag = tag, .bar = imgcli_progress_new("merging") };
	int r = vmrec_snapshot_rm(c, name, tag, merge_progress, &m);

	if (!r && img_last_error()[0])
		log_warn("%s", img_last_error());	/* a finished or discarded journal */
	return r;
}

static int do_disk_op(struct cat *c, const char *act, const struct vm_args *a, int argc,
		      char **argv)
{
	int n = argc - a->first;
	const char *name = argv[a->first];
	char tag[CAT_NAME_MAX + 1];
	int r;

	if (!strcmp(act, "snapshot")) {
		if (n != 1 && n != 2)
			return CLI_USAGE;
		r = vmrec_snapshot(c, name, n == 2 ? argv[a->first + 1] : NULL, tag);
		if (!r)
			printf("snapshot %s of %s\n", tag, name);
	} else if (!strcmp(act, "revert") || !strcmp(act, "snapshot-rm")) {
		if (n != 2)
			return CLI_USAGE;
		if (!strcmp(act, "revert"))
			r = vmrec_revert(c, name, argv[a->first + 1]);
		else
			r = snapshot_rm(c, name, argv[a->first + 1]);
	} else if (!strcmp(act, "reset")) {
		if (n != 1)
			return CLI_USAGE;
		r = vmrec_reset(c, name);
	} else {
		if (n != 1)
			return CLI_USAGE;
		r = vmrec_flatten(c, name, imgcli_progress, imgcli_progress_new("flattening"));
	}
	return r ? fail_img() : CLI_OK;
}

/* ---- bundles ---- */

static int do_export(struct cat *c, const struct vm_args *a, int argc, char **argv)
{
	if (argc - a->first != 1 || !a->bundle)
		return CLI_USAGE;
	bundle_set_progress(imgcli_progress, imgcli_progress_new("exporting"));
	if (bundle_export_vm(c, argv[a->first], a->bundle))
		return fail_img();
	return CLI_OK;
}

static int do_import(struct cat *c, const struct vm_args *a, int argc, char **argv)
{
	struct bundle_result res;
	int n = argc - a->first;
	const char *name = n == 2 ? argv[a->first + 1] : a->name;

	if ((n != 1 && n != 2) || (n == 2 && a->name))
		return CLI_USAGE;
	bundle_set_progress(imgcli_progress, imgcli_progress_new("importing"));
	if (bundle_import(c, argv[a->first], name,
			  a->keep_identity ? BUNDLE_KEEP_IDENTITY : 0, &res)) {
		log_err("%s; nothing imported", img_last_error());
		return CLI_FAIL;
	}
	if (!res.vm[0]) {
		log_err("%s holds no VM (its images were imported)", argv[a->first]);
		return CLI_FAIL;
	}
	printf("imported VM %s (%u new image%s)\n", res.vm, res.images_new,
	       res.images_new == 1 ? "" : "s");
	return CLI_OK;
}

/* ---- the detached runtime (images/vmstart.c) ---- */

static int start_config(struct cat *c, const struct vm_args *a, const char *name,
			struct vm_config *cfg)
{
	struct vmrec_boot b = {
		.kernel = a->kernel, .initrd = a->initrd, .append = a->append,
		.boot = a->boot, .accel = a->accel,
	};

	vm_config_init(cfg);
	if (vmrec_vm_config(c, name, cfg))
		return fail_img();
	if (vmrec_boot_apply(cfg, &b)) {
		log_err("%s", img_last_error());
		return CLI_USAGE;
	}
	if (a->transport && vm_disk_transport_parse(a->transport, &cfg->disk_transport)) {
		log_err("bad --disk-transport '%s' (nbd or vhost-user)", a->transport);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int do_start(struct cat **cp, const struct vm_args *a, int argc, char **argv)
{
	const char *name = argv[a->first];
	struct vm_config *cfg;
	char state[4096];
	pid_t pid;
	int r;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (vmrec_running(name)) {
		log_err("%s is already running", name);
		return CLI_FAIL;
	}
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return CLI_FAIL;
	r = start_config(*cp, a, name, cfg);
	snprintf(state, sizeof(state), "%s", cat_dir(*cp));
	/* the runtime must not hold the catalog (its lock blocks gc) */
	cat_close(*cp);
	*cp = NULL;
	if (!r && vmrec_start(cfg, state, &pid))
		r = fail_img();
	free(cfg);
	if (!r)
		printf("started %s (pid %d)\n", name, (int)pid);
	return r;
}

static int do_stop(const struct vm_args *a, int argc, char **argv)
{
	const char *name = argv[a->first];
	bool killed;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (vmrec_stop(name, 60000, &killed)) {
		log_err("%s is not running", name);
		return CLI_FAIL;
	}
	if (killed)
		log_warn("%s did not stop in 60 s; killed it", name);
	printf("stopped %s\n", name);
	return CLI_OK;
}

static int do_status(const struct vm_args *a, int argc, char **argv)
{
	const char *name = argv[a->first];
	char console[4200];
	pid_t pid;

	if (argc - a->first != 1)
		return CLI_USAGE;
	pid = vmrec_pid(name);
	vmrec_run_path(name, "console", console, sizeof(console));
	if (a->json)
		printf("{ \"name\": \"%s\", \"running\": %s, \"pid\": %d, \"console\": \"%s\" }\n",
		       name, pid ? "true" : "false", (int)pid, console);
	else if (pid)
		printf("%s: running (pid %d), console %s\n", name, (int)pid, console);
	else
		printf("%s: stopped\n", name);
	return CLI_OK;
}

int cmd_vm(int argc, char **argv)
{
	static const char *const disk_ops[] = {
		"snapshot", "revert", "snapshot-rm", "reset", "flatten",
	};
	struct vm_args a;
	const char *act;
	struct cat *c;
	int r;

	r = cli_family_begin("vhdvisor vm", vm_actions, vm_about, vm_common, argc, argv);
	if (r >= 0)
		return r;
	act = cli_action_find(vm_actions, argv[1])->name;
	r = vm_parse(argc - 1, argv + 1, &a);
	if (r) {
		vm_action_usage(act);
		return r;
	}
	argc--;
	argv++;
	if (!cli_action_arity_ok("vhdvisor vm", cli_action_find(vm_actions, act), argc - a.first)) {
		vm_action_usage(act);
		return CLI_USAGE;
	}
	if (imgcli_open(a.state, &c))
		return CLI_FAIL;
	r = CLI_USAGE;
	if (vm_named(act) && cat_vm_get(c, argv[a.first], &(struct cat_vm){ 0 })) {
		log_err("no VM '%s'", argv[a.first]);
		cat_close(c);
		return CLI_FAIL;
	}
	if (!strcmp(act, "create"))
		r = do_create(c, &a, argc, argv);
	else if (!strcmp(act, "clone"))
		r = do_clone(c, &a, argc, argv);
	else if (!strcmp(act, "list"))
		r = do_list(c, &a);
	else if (!strcmp(act, "show"))
		r = do_show(c, &a, argc, argv, false);
	else if (!strcmp(act, "snapshots"))
		r = do_show(c, &a, argc, argv, true);
	else if (!strcmp(act, "set"))
		r = do_set(c, &a, argc, argv);
	else if (!strcmp(act, "rm"))
		r = do_rm(c, &a, argc, argv);
	else if (!strcmp(act, "export"))
		r = do_export(c, &a, argc, argv);
	else if (!strcmp(act, "import"))
		r = do_import(c, &a, argc, argv);
	else if (!strcmp(act, "start"))
		r = do_start(&c, &a, argc, argv);
	else if (!strcmp(act, "stop"))
		r = do_stop(&a, argc, argv);
	else if (!strcmp(act, "status"))
		r = do_status(&a, argc, argv);
	else if (!strcmp(act, "console") && argc - a.first == 1)
		r = cmd_vm_console(argv[a.first], a.follow, a.dump);
	else if (!strcmp(act, "shutdown") && argc - a.first == 1)
		r = cmd_vm_shutdown(argv[a.first], a.timeout ? a.timeout : 60);
	else if (!strcmp(act, "disk"))
		r = cmd_vm_disk(c, argc - a.first, argv + a.first, a.file, a.json);
	for (size_t i = 0; i < ARRAY_SIZE(disk_ops); i++)
		if (!strcmp(act, disk_ops[i]) && argc > a.first)
			r = do_disk_op(c, act, &a, argc, argv);
	cat_close(c);
	if (r == CLI_USAGE)
		vm_action_usage(act);
	return r;
}
