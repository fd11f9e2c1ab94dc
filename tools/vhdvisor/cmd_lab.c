/* tools/vhdvisor/cmd_lab.c: `vhdvisor lab`: labs of linked clones.
 *
 *   vhdvisor lab create LAB --from IMAGE --count N [--net NET] [--cpus N] [--mem SIZE]
 *   vhdvisor lab start LAB [--kernel K] [--initrd I] [--append ARGS]
 *   vhdvisor lab stop|reset|rm LAB
 *   vhdvisor lab list [--json]
 *
 * Every form takes --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/log.h"
#include "common/util.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/lab.h"
#include "images/vmrun.h"
#include "images/vmstart.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"


struct lab_args {
	const char *state, *from, *net, *kernel, *initrd, *append;
	unsigned count, cpus;
	uint64_t mem;
	bool json;
	int first;
};

static const struct cli_action lab_actions[] = {
	{ "create", "LAB --from IMAGE --count N [--net NET] [--cpus N] [--mem SIZE]",
	  "Makes the lab LAB: N linked clones LAB-1 .. LAB-N of IMAGE, each with its\n"
	  "own identity, optionally on the lab network NET ('vhdvisor net').\n"
	  "  --from IMAGE   NAME[:VERSION] or an id prefix (required)\n"
	  "  --count N      how many VMs (required)\n"
	  "  --net NET      attach each VM's NIC to this lab network\n"
	  "  --cpus N       vCPUs of each VM, 1-64\n"
	  "  --mem SIZE     memory of each VM, 64M to 1T (a plain number means MiB)",
	  NULL, 1, 1 },
	{ "start", "LAB [--kernel FILE] [--initrd FILE] [--append ARGS]",
	  "Starts the lab's stopped VMs ('vm start' each). A lab whose VMs all run\n"
	  "is refused, as 'vm start' of a running VM is.\n"
	  "  --kernel, --initrd, --append   as in 'vm start'", NULL, 1, 1 },
	{ "stop", "LAB", "Stops the lab's running VMs ('vm stop' each). A lab with no VM\n"
	  "running is refused, as 'vm stop' of a stopped VM is.", NULL, 1, 1 },
	{ "reset", "LAB", "Puts every VM of the lab (stopped) back to the image in one step.",
	  NULL, 1, 1 },
	{ "rm", "LAB", "Removes the lab and its VMs (stopped).", NULL, 1, 1 },
	{ "list", "[--json]", "Lists the labs: VMs, how many run, network, image.\n"
	  "  --json         one JSON document", "ls", 0, 0 },
	{ 0 },
};

static const char lab_about[] =
	"A lab is N linked clones LAB-1 .. LAB-N of one image, each with its own\n"
	"identity, optionally on a lab network.";

static const char lab_common[] =
	"Every action takes --state DIR (catalog; default $VHDVISOR_STATE or\n"
	"/var/lib/vhdvisor), -q (only errors) and -v (debug messages).";

static void lab_action_usage(const char *act)
{
	cli_action_usage(stderr, "vhdvisor lab", cli_action_find(lab_actions, act), false, NULL);
}

static int lab_parse(int argc, char **argv, struct lab_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ "net", required_argument, NULL, 'N' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	uint64_t v;
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 's': a->state = optarg; break;
		case 'f': a->from = optarg; break;
		case 'N': a->net = optarg; break;
		case 'k': a->kernel = optarg; break;
		case 'i': a->initrd = optarg; break;
		case 'A': a->append = optarg; break;
		case 'j': a->json = true; break;
		case 'n':
		case 'c':
			if (u64_parse(optarg, &v) || v == 0 || v > (ch == 'n' ? LAB_MAX_COUNT : 64)) {
				log_err("bad number '%s'", optarg);
				return CLI_USAGE;
			}
			*(ch == 'n' ? &a->count : &a->cpus) = (unsigned)v;
			break;
		case 'm':
			if (vmcli_mem_parse(optarg, &a->mem))
				return CLI_USAGE;
			break;
		default: return CLI_USAGE;
		}
	}
	a->first = optind;
	return 0;
}

/* Prints what each VM of `lab start|stop` did, as `vm start|stop` do. */
static int report_step(void *opaque, const struct lab_step *s)
{
	bool start = *(const bool *)opaque;

	if (s->before)
		return 0;
	if (s->r)
		log_err("%s", img_last_error());
	else if (start)
		printf("started %s (pid %d)\n", s->vm, (int)s->pid);
	else
		printf("stopped %s\n", s->vm);
	img_error_clear();	/* reported: not the lab's own reason */
	return 0;
}

static int lab_json(void *opaque, const struct cat_lab *l)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(l->name));
	json_object_object_add(o, "image", json_object_new_string(l->image));
	json_object_object_add(o, "count", json_object_new_int((int)l->count));
	json_object_object_add(o, "net", json_object_new_string(l->net));
	json_object_object_add(o, "created", json_object_new_int64(l->created));
	json_object_array_add(opaque, o);
	return 0;
}

static int count_running(void *opaque, const char *vm)
{
	if (vmrec_running(vm))
		(*(unsigned *)opaque)++;
	return 0;
}

static int do_list(struct cat *c, const struct lab_args *a)
{
	json_object *arr = json_object_new_array();

	cat_lab_foreach(c, lab_json, arr);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *name;
		unsigned running = 0;

		json_object_object_get_ex(o, "name", &name);
		lab_foreach_vm(c, json_object_get_string(name), count_running, &running);
		json_object_object_add(o, "running", json_object_new_int((int)running));
	}
	if (a->json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	} else {
		printf("%-20s %5s %7s  %-16s %s\n", "LAB", "VMS", "RUNNING", "NET", "IMAGE");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i);

			printf("%-20s %5d %7d  %-16s %.12s\n",
			       json_object_get_string(json_object_object_get(o, "name")),
			       json_object_get_int(json_object_object_get(o, "count")),
			       json_object_get_int(json_object_object_get(o, "running")),
			       json_object_get_string(json_object_object_get(o, "net")),
			       json_object_get_string(json_object_object_get(o, "image")));
		}
	}
	json_object_put(arr);
	return CLI_OK;
}

int cmd_lab(int argc, char **argv)
{
	char id[CAT_ID_LEN + 1];
	struct lab_args a;
	const char *act, *lab;
	struct cat *c;
	int r = CLI_USAGE;

	r = cli_family_begin("vhdvisor lab", lab_actions, lab_about, lab_common, argc, argv);
	if (r >= 0)
		return r;
	act = cli_action_find(lab_actions, argv[1])->name;
	argc--;
	argv++;
	if (lab_parse(argc, argv, &a) ||
	    !cli_action_arity_ok("vhdvisor lab", cli_action_find(lab_actions, act),
				 argc - a.first)) {
		lab_action_usage(act);
		return CLI_USAGE;
	}
	lab = argc > a.first ? argv[a.first] : NULL;
	if (imgcli_open(a.state, &c))
		return CLI_FAIL;
	r = CLI_USAGE;
	if (!strcmp(act, "list")) {
		r = do_list(c, &a);
	} else if (!strcmp(act, "create")) {
		if (!a.from || !a.count)
			r = CLI_USAGE;
		else if (imgcli_resolve(c, a.from, id))
			r = CLI_FAIL;
		else if (lab_create(c, lab, id, a.count, a.cpus, a.mem, a.net))
			r = CLI_FAIL;
		else
			r = printf("created lab %s: %s-1 .. %s-%u\n", lab, lab, lab, a.count) < 0;
	} else if (!strcmp(act, "start") || !strcmp(act, "stop")) {
		struct vmrec_boot b = { .kernel = a.kernel, .initrd = a.initrd,
					.append = a.append };
		bool start = !strcmp(act, "start");
		char dir[4096];
		unsigned failed = 0;
		int e;

		/* the runtimes must not inherit the catalog's lock: lab_start()
		 * opens it only to build each VM's config */
		snprintf(dir, sizeof(dir), "%s", cat_dir(c));
		cat_close(c);
		c = NULL;
		img_error_clear();
		e = start ? lab_start(dir, lab, &b, report_step, &start, &failed)
			  : lab_stop(dir, lab, 60000, report_step, &start, &failed);
		r = e ? CLI_FAIL : CLI_OK;
		if (failed) {
			/* each VM's failure was reported as it happened */
			log_err("%u VM%s of lab %s failed to %s", failed, failed == 1 ? "" : "s",
				lab, act);
			img_error_clear();
		}
	} else if (!strcmp(act, "reset")) {
		r = lab_reset(c, lab) ? CLI_FAIL : CLI_OK;
	} else if (!strcmp(act, "rm")) {
		r = lab_remove(c, lab) ? CLI_FAIL : CLI_OK;
	}
	if (r == CLI_FAIL && img_last_error()[0])
		log_err("%s", img_last_error());
	cat_close(c);
	if (r == CLI_USAGE)
		lab_action_usage(act);
	return r;
}
