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

static const struct cli_action catalog_actions[] = {
	{ "check", "[--json]",
	  "Runs SQLite's integrity check, checks that every file the catalog names\n"
	  "exists, and lists files under images/ and vms/ no row names; exits 1 when\n"
	  "the catalog names missing files or is damaged.\n"
	  "  --json         one JSON document", NULL, 0, 0 },
	{ "recover", "[--dry-run] [--force] [--json]",
	  "Rebuilds a missing or damaged catalog from the files: images by content\n"
	  "id, VMs from their folders and layer chains (parent UUIDs), their extra\n"
	  "disks, and their snapshots as recovered-1, recovered-2, ... Names, labels,\n"
	  "VM settings and snapshot tags are not in the files: they come back only\n"
	  "where SQLite can still read the old catalog. The old catalog is kept in\n"
	  "catalog-damaged-TIME/, files it cannot place go to lost+found/; nothing is\n"
	  "deleted.\n"
	  "  --dry-run      report what it would do and change nothing\n"
	  "  --force        also rebuild a catalog that opens fine\n"
	  "  --json         one JSON document", NULL, 0, 0 },
	{ 0 },
};

static const char catalog_about[] =
	"The catalog (STATE/catalog.db) records names, VM settings and snapshots;\n"
	"a state dir whose catalog is missing or damaged is refused until recovered.";

static const char catalog_common[] =
	"Every action takes --state DIR (default $VHDVISOR_STATE or\n"
	"/var/lib/vhdvisor), -q (only errors) and -v (debug messages).";

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
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
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
	int r;

	r = cli_family_begin("vhdvisor catalog", catalog_actions, catalog_about, catalog_common,
			     argc, argv);
	if (r >= 0)
		return r;
	act = cli_action_find(catalog_actions, argv[1])->name;
	if (catalog_parse(argc - 1, argv + 1, &a)) {
		cli_action_usage(stderr, "vhdvisor catalog", cli_action_find(catalog_actions, act),
				 false, NULL);
		return CLI_USAGE;
	}
	dir = a.state ? a.state : cat_default_state_dir();
	return !strcmp(act, "recover") ? do_recover(dir, &a) : do_check(dir, &a);
}
