/* tools/vhdvisor/cmd_catalog.c: `vhdvisor catalog`: checking and
 * recovering the catalog of a state directory.
 *
 *   vhdvisor catalog check [--json]
 *   vhdvisor catalog recover [--dry-run] [--force] [--json]
 *
 * Both take --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/log.h"
#include "images/cat_recover.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

struct catalog_args {
	const char *state;
	bool json, force, dry_run;
};

static void catalog_usage(FILE *f)
{
	fprintf(f,
		"usage: vhdvisor catalog check [--json]\n"
		"       vhdvisor catalog recover [--dry-run] [--force] [--json]\n"
		"\n"
		"'check' runs SQLite's integrity check, checks that every file the catalog\n"
		"names exists, and lists files under images/ and vms/ no row names; it exits\n"
		"1 when the catalog names missing files or is damaged.\n"
		"'recover' rebuilds a missing or damaged catalog from the files: images by\n"
		"content id, VMs from their folders and layer chains (parent UUIDs), their\n"
		"extra disks, and their snapshots as recovered-1, recovered-2, ... Names,\n"
		"labels, VM settings and snapshot tags are not in the files and are lost.\n"
		"The old catalog is kept in catalog-damaged-TIME/, files it cannot place go\n"
		"to lost+found/; nothing is deleted. It refuses a catalog that opens fine\n"
		"unless --force; --dry-run reports and changes nothing.\n"
		"  --state DIR   state directory (default $VHDVISOR_STATE or /var/lib/vhdvisor)\n"
		"  --json        one JSON document\n");
}

static int catalog_parse(int argc, char **argv, struct catalog_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'F' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': a->state = optarg; break;
		case 'j': a->json = true; break;
		case 'F': a->force = true; break;
		case 'n': a->dry_run = true; break;
		default: return CLI_USAGE;
		}
	}
	return optind == argc ? 0 : CLI_USAGE;    /* no operands */
}

/* Report lines: on stdout as text, or collected into a JSON array. */
static void on_note(void *opaque, const char *msg)
{
	if (opaque)
		json_object_array_add(opaque, json_object_new_string(msg));
	else
		printf("%s\n", msg);
}

static int do_recover(const char *dir, const struct catalog_args *a)
{
	json_object *notes = a->json ? json_object_new_array() : NULL;
	struct cat_recover_opts o = { .force = a->force, .dry_run = a->dry_run,
				      .note = on_note, .opaque = notes };
	struct cat_recover_result res;
	int r;

	r = cat_recover(dir, &o, &res);
	if (r) {
		log_err("catalog recover: %s", img_last_error()[0] ? img_last_error() :
			strerror(-r));
		json_object_put(notes);
		return CLI_FAIL;
	}
	if (a->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "dry_run", json_object_new_boolean(a->dry_run));
		json_object_object_add(j, "images", json_object_new_int64(res.images));
		json_object_object_add(j, "vms", json_object_new_int64(res.vms));
		json_object_object_add(j, "layers", json_object_new_int64(res.layers));
		json_object_object_add(j, "snapshots", json_object_new_int64(res.snapshots));
		json_object_object_add(j, "disks", json_object_new_int64(res.disks));
		json_object_object_add(j, "lost", json_object_new_int64(res.lost));
		json_object_object_add(j, "aside", json_object_new_string(res.aside));
		json_object_object_add(j, "notes", notes);
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
		json_object_put(j);
		return CLI_OK;
	}
	printf("%s %u images, %u VMs (%u layers, %u snapshots, %u extra disks); %u files %s"
	       " lost+found/\n", a->dry_run ? "would recover" : "recovered", res.images, res.vms,
	       res.layers, res.snapshots, res.disks, res.lost,
	       a->dry_run ? "would go to" : "moved to");
	if (res.aside[0])
		printf("the old catalog is kept in %s\n", res.aside);
	return CLI_OK;
}

static int do_check(const char *dir, const struct catalog_args *a)
{
	json_object *notes = a->json ? json_object_new_array() : NULL;
	struct cat_check_result res;
	int r;

	r = cat_check(dir, on_note, notes, &res);
	if (r) {
		json_object_put(notes);
		if (r == -EUCLEAN)
			log_err("%s: catalog missing or damaged; see `vhdvisor catalog recover`",
				dir);
		else
			log_err("cannot check the catalog in %s: %s", dir, strerror(-r));
		return CLI_FAIL;
	}
	if (a->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "problems", json_object_new_int64(res.problems));
		json_object_object_add(j, "unnamed", json_object_new_int64(res.unnamed));
		json_object_object_add(j, "notes", notes);
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
		json_object_put(j);
	} else {
		printf("catalog: %u problems, %u files no row names%s\n", res.problems,
		       res.unnamed, res.unnamed ? " (see `image gc`)" : "");
	}
	return res.problems ? CLI_FAIL : CLI_OK;
}

int cmd_catalog(int argc, char **argv)
{
	struct catalog_args a;
	const char *dir, *act;

	if (argc < 2 || cli_wants_help(argc, argv)) {
		catalog_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	act = argv[1];
	if (catalog_parse(argc - 1, argv + 1, &a)) {
		catalog_usage(stderr);
		return CLI_USAGE;
	}
	dir = a.state ? a.state : cat_default_state_dir();
	if (!strcmp(act, "recover"))
		return do_recover(dir, &a);
	if (!strcmp(act, "check"))
		return do_check(dir, &a);
	log_err("unknown catalog action '%s'", act);
	catalog_usage(stderr);
	return CLI_USAGE;
}
