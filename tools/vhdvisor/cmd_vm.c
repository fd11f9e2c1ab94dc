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
 *   vhdvisor vm shutdown NAME [--timeout S]
 *   vhdvisor vm console NAME [--follow|--dump] (cmd_vm_console.c)
 *   vhdvisor vm export NAME --bundle FILE   vhdvisor vm import FILE [NEWNAME]
 *   vhdvisor vm disk add|resize|rm|list ... (cmd_vm_disk.c)
 *
 * Every form takes --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 * list, show, snapshots, start, stop and the changes of cmd_vm_write.c go
 * through the management API (apicli.c), by any of its three doors.
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

#include "appliance/api.h"
#include "appliance/client.h"
#include "common/log.h"
#include "common/util.h"
#include "images/bundle.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/rec_json.h"
#include "images/vmctl.h"
#include "images/vmrec.h"
#include "images/vmrun.h"
#include "images/vmstart.h"
#include "hv/vm.h"
#include "tools/common/cli.h"
#include "tools/common/cli_json.h"
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
	const char *mem_str;    /* --mem as typed: the API parses it alike */
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
		   "[--disk-transport vhost-user|nbd]",
	  "Starts VM NAME detached (the runtime of 'vhdvisor run'). Its console goes\n"
	  "to $VHDVISOR_RUN/NAME.console and its runtime's log to $VHDVISOR_RUN/NAME.log\n"
	  "(default /run/vhdvisor). A running VM is refused.\n"
	  "  --kernel FILE  boot this kernel directly\n"
	  "  --initrd FILE  its initramfs\n"
	  "  --append ARGS  added to the kernel command line\n"
	  "  --boot MODE    auto (default), direct, image (kernel from the disk), firmware\n"
	  "  --accel A      auto (default: KVM when usable), kvm, tcg\n"
	  "  --disk-transport T  vhost-user (default) or nbd; the runtime serves the\n"
	  "                 disks itself either way", NULL, 1, 1 },
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
	if (vmrec_mem_parse(s, mem)) {
		log_err("bad --mem '%s': %s", s, img_last_error());
		return -1;
	}
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
			a->mem_str = optarg;
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

static int do_list(const struct vm_args *a)
{
	json_object *arr;
	char mem[32];
	int r;

	r = apicli_get(a->state, "/vms", NULL, &arr);
	if (r)
		return r;
	if (!a->json)	/* the header once the rows came */
		printf("%-24s %-9s %4s %9s  %-17s  %-12s  %s\n", "NAME", "STATE", "CPUS", "MEM",
		       "MAC", "IMAGE", "IP");
	if (a->json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(arr);
		return CLI_OK;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *vm = json_object_array_get_idx(arr, i);
		const char *image = cli_jstr(vm, "image"), *ip = cli_jstr(vm, "ip");

		printf("%-24s %-9s %4u %9s  %-17s  %-12.12s  %s\n", cli_jstr(vm, "name"),
		       cli_jstr(vm, "state"), (unsigned)cli_jint(vm, "cpus"),
		       size_format((uint64_t)cli_jint(vm, "mem"), mem, sizeof(mem)),
		       cli_jstr(vm, "mac") ? cli_jstr(vm, "mac") : "", image && image[0] ? image : "-",
		       ip ? ip : "-");
	}
	json_object_put(arr);
	return CLI_OK;
}

/* Names the API cannot carry name no VM either. */
static bool vm_name_ok(const char *name)
{
	if (api_name_valid(name))
		return true;
	log_err("no VM '%s'", name);
	return false;
}

static int do_show(const struct vm_args *a, int argc, char **argv, bool snaps_only)
{
	json_object *j, *all = NULL;
	int r;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (!vm_name_ok(argv[a->first]))
		return CLI_FAIL;
	r = apicli_get(a->state, "/vms/", argv[a->first], &j);
	if (r)
		return r;
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

/* vm set: what the API carries goes through it; the guest login
 * (--password, --ssh-key) has no route and stays on this host's catalog. */
static int do_set(const struct vm_args *a, int argc, char **argv)
{
	const char *name = argv[a->first];
	bool pending = false, api = a->cpus || a->mem_str || a->cloud_init >= 0;
	struct cat *c;
	int r;

	if (argc - a->first != 1 || (!api && !a->password && !a->ssh_key))
		return CLI_USAGE;
	if ((a->password || a->ssh_key) && apicli_remote())
		return apicli_local_only("vm set", "--password/--ssh-key");
	if (api) {
		r = vmapi_set(a->state, name, a->cpus, a->mem_str, a->cloud_init, &pending);
		if (r)
			return r;
	}
	if (a->password || a->ssh_key) {
		if (imgcli_open(a->state, &c))
			return CLI_FAIL;
		if (!api && cat_vm_get(c, name, &(struct cat_vm){ 0 })) {
			log_err("no VM '%s'", name);
			cat_close(c);
			return CLI_FAIL;
		}
		r = cmd_vm_login(c, name, a->password, a->ssh_key);
		cat_close(c);
		if (r)
			return CLI_FAIL;
		pending = vmrec_running(name);
	}
	if (pending)
		log_warn("%s runs: the change applies at its next start", name);
	return CLI_OK;
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

/* snapshot-rm on the embedded door: the call the API's handler makes
 * (vmrec_snapshot_rm), in this process, so that the merge's progress and
 * its resume note reach the terminal; the daemon's doors have no progress
 * until tasks carry it. */
static int snapshot_rm_here(const struct vm_args *a, const char *name, const char *tag)
{
	struct merge_note m = { .tag = tag, .bar = imgcli_progress_new("merging") };
	struct cat *c;
	int r;

	if (imgcli_open(a->state, &c))
		return CLI_FAIL;
	if (cat_vm_get(c, name, &(struct cat_vm){ 0 })) {
		log_err("no VM '%s'", name);
		cat_close(c);
		return CLI_FAIL;
	}
	r = vmrec_snapshot_rm(c, name, tag, merge_progress, &m);
	cat_close(c);
	if (r)
		return fail_img();
	if (img_last_error()[0])
		log_warn("%s", img_last_error());	/* a finished or discarded journal */
	return CLI_OK;
}

static int do_snapshot_rm(const struct vm_args *a, const char *name, const char *tag)
{
	struct api_client *cl;
	bool here;

	if (apicli_open(a->state, &cl))
		return CLI_FAIL;
	here = cl->door == API_DOOR_EMBEDDED;
	api_client_close(cl);
	return here ? snapshot_rm_here(a, name, tag) : vmapi_snapshot_rm(a->state, name, tag);
}

/* The VM changes that go through the API (cmd_vm_write.c); -1 for the
 * others. */
static int vm_api_write(const char *act, const struct vm_args *a, int argc, char **argv)
{
	int n = argc - a->first, r;
	const char *name = n > 0 ? argv[a->first] : NULL;

	if (!strcmp(act, "create"))
		return n != 1 || !a->from ? CLI_USAGE :
		       vmapi_create(a->state, name, a->from, a->cpus, a->mem_str);
	if (!strcmp(act, "clone"))
		return n != 2 ? CLI_USAGE :
		       vmapi_clone(a->state, name, argv[a->first + 1], a->count, a->full, a->cpus,
				   a->mem_str);
	if (!strcmp(act, "set"))
		return do_set(a, argc, argv);
	if (!strcmp(act, "rm")) {
		if (n < 1)
			return CLI_USAGE;
		r = CLI_OK;
		for (int i = a->first; i < argc; i++)
			if (vmapi_rm(a->state, argv[i]))
				r = CLI_FAIL;
		return r;
	}
	if (!strcmp(act, "shutdown"))
		return n != 1 ? CLI_USAGE :
		       vmapi_shutdown(a->state, name, a->timeout ? a->timeout : 60);
	if (!strcmp(act, "snapshot"))
		return n != 1 && n != 2 ? CLI_USAGE :
		       vmapi_snapshot(a->state, name, n == 2 ? argv[a->first + 1] : NULL);
	if (!strcmp(act, "revert"))
		return n != 2 ? CLI_USAGE : vmapi_revert(a->state, name, argv[a->first + 1]);
	if (!strcmp(act, "snapshot-rm"))
		return n != 2 ? CLI_USAGE : do_snapshot_rm(a, name, argv[a->first + 1]);
	if (!strcmp(act, "disk") && n == 2 && (!strcmp(name, "list") || !strcmp(name, "ls")))
		return vmapi_disk_list(a->state, argv[a->first + 1], a->json);
	return -1;
}

/* reset and flatten: no routes yet, this host's catalog. */
static int do_disk_op(struct cat *c, const char *act, const struct vm_args *a, int argc,
		      char **argv)
{
	const char *name = argv[a->first];
	int r;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (!strcmp(act, "reset"))
		r = vmrec_reset(c, name);
	else
		r = vmrec_flatten(c, name, imgcli_progress, imgcli_progress_new("flattening"));
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

/* ---- the detached runtime, through the API (appliance/api_vms.c) ---- */

/* A boot file named to this host's API: its absolute path, as the daemon
 * resolves none against our directory. A remote host's files are its own. */
static void body_file(json_object *body, const char *key, const char *file, bool local)
{
	char abs[PATH_MAX];

	if (!file)
		return;
	if (local && file[0] != '/' && realpath(file, abs))
		file = abs;
	json_object_object_add(body, key, json_object_new_string(file));
}

static void body_str(json_object *body, const char *key, const char *s)
{
	if (s)
		json_object_object_add(body, key, json_object_new_string(s));
}

/* POST /vms/NAME/ACTION with @body (taken); the reply in *@reply. */
static int vm_post(const struct vm_args *a, const char *name, const char *action,
		   json_object *body, json_object **reply)
{
	char path[API_PATH_MAX] = API_PREFIX "/vms/";
	struct api_client *cl;
	int r;

	if (!vm_name_ok(name)) {
		json_object_put(body);
		return CLI_FAIL;
	}
	api_path_append(path, sizeof(path), name);
	strcat(path, "/");
	strcat(path, action);
	r = apicli_open(a->state, &cl);
	if (!r) {
		if (body) {	/* the boot files, now that the door is known */
			body_file(body, "kernel", a->kernel, cl->door != API_DOOR_REMOTE);
			body_file(body, "initrd", a->initrd, cl->door != API_DOOR_REMOTE);
		}
		r = apicli_call(cl, "POST", path, body, reply);
		api_client_close(cl);
	}
	json_object_put(body);
	return r;
}

static int do_start(const struct vm_args *a, int argc, char **argv)
{
	const char *name = argv[a->first];
	enum vm_disk_transport t;
	json_object *body, *rep;
	int r;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (a->transport && vm_disk_transport_parse(a->transport, &t)) {
		log_err("bad --disk-transport '%s' (nbd or vhost-user)", a->transport);
		return CLI_USAGE;
	}
	body = json_object_new_object();
	body_str(body, "append", a->append);
	body_str(body, "boot", a->boot);
	body_str(body, "accel", a->accel);
	body_str(body, "disk_transport", a->transport);
	r = vm_post(a, name, "start", body, &rep);
	if (r)
		return r;
	printf("started %s (pid %d)\n", name, (int)cli_jint(rep, "pid"));
	json_object_put(rep);
	return CLI_OK;
}

static int do_stop(const struct vm_args *a, int argc, char **argv)
{
	const char *name = argv[a->first];
	json_object *rep, *k;
	int r;

	if (argc - a->first != 1)
		return CLI_USAGE;
	r = vm_post(a, name, "stop", NULL, &rep);
	if (r)
		return r;
	if (json_object_object_get_ex(rep, "killed", &k) && json_object_get_boolean(k))
		log_warn("%s did not stop in 60 s; killed it", name);
	printf("stopped %s\n", name);
	json_object_put(rep);
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
	static const char *const disk_ops[] = { "reset", "flatten" };
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
	/* what goes through the API, by whichever door (apicli.c) */
	r = -1;
	if (!strcmp(act, "list"))
		r = do_list(&a);
	else if (!strcmp(act, "show") || !strcmp(act, "snapshots"))
		r = do_show(&a, argc, argv, !strcmp(act, "snapshots"));
	else if (!strcmp(act, "start"))
		r = do_start(&a, argc, argv);
	else if (!strcmp(act, "stop"))
		r = do_stop(&a, argc, argv);
	else if ((r = vm_api_write(act, &a, argc, argv)) >= 0)
		;
	else if (apicli_remote())
		return apicli_local_only("vm", act);
	if (r >= 0) {
		if (r == CLI_USAGE)
			vm_action_usage(act);
		return r;
	}
	if (imgcli_open(a.state, &c))
		return CLI_FAIL;
	r = CLI_USAGE;
	if (vm_named(act) && cat_vm_get(c, argv[a.first], &(struct cat_vm){ 0 })) {
		log_err("no VM '%s'", argv[a.first]);
		cat_close(c);
		return CLI_FAIL;
	}
	if (!strcmp(act, "export"))
		r = do_export(c, &a, argc, argv);
	else if (!strcmp(act, "import"))
		r = do_import(c, &a, argc, argv);
	else if (!strcmp(act, "status"))
		r = do_status(&a, argc, argv);
	else if (!strcmp(act, "console") && argc - a.first == 1)
		r = cmd_vm_console(argv[a.first], a.follow, a.dump);
	else if (!strcmp(act, "disk"))
		r = cmd_vm_disk(c, argc - a.first, argv + a.first, a.file);
	for (size_t i = 0; i < ARRAY_SIZE(disk_ops); i++)
		if (!strcmp(act, disk_ops[i]) && argc > a.first)
			r = do_disk_op(c, act, &a, argc, argv);
	cat_close(c);
	if (r == CLI_USAGE)
		vm_action_usage(act);
	return r;
}
