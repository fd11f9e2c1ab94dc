/* tools/vhdvisor/cmd_image.c: `vhdvisor image`: the image catalog.
 *
 *   vhdvisor image import FILE [--name NAME[:VERSION]] [--os OS] [--arch A]
 *                              [--boot MODE] [--min-mem SIZE] [--cloud-init]
 *   vhdvisor image build RECIPE [--name NAME[:VERSION]] [--json]
 *   vhdvisor image list [--json]
 *   vhdvisor image show IMAGE [--json]
 *   vhdvisor image set IMAGE --cloud-init on|off
 *   vhdvisor image tag IMAGE NAME[:VERSION]     (another name)
 *   vhdvisor image untag NAME:VERSION
 *   vhdvisor image label IMAGE LABEL [--rm]
 *   vhdvisor image export IMAGE DEST [--format vhd|vhd-fixed|raw|azure] [--verify]
 *   vhdvisor image export IMAGE --bundle FILE
 *   vhdvisor image rm IMAGE [--force]
 *   vhdvisor image gc [--force] [--json]
 *
 * IMAGE is NAME[:VERSION] (NAME alone = latest) or an id prefix (8+ hex).
 * Every form takes --state DIR (default $VHDVISOR_STATE, /var/lib/vhdvisor).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "appliance/api.h"
#include "common/log.h"
#include "common/util.h"
#include "images/bundle.h"
#include "images/cat_vm.h"
#include "images/catalog.h"
#include "images/img_store.h"
#include "images/rec_json.h"
#include "images/recipe.h"
#include "images/vmrec.h"
#include "tools/common/cli.h"
#include "tools/common/cli_json.h"
#include "tools/vhdvisor/cmds.h"

struct image_args {
	const char *state, *name, *format, *os, *arch, *boot, *bundle;
	uint64_t min_mem;
	bool json, force, rm, verify, keep_identity;
	int cloud_init;         /* -1 not given, 0 off, 1 on */
	int first;
};

static const struct cli_action image_actions[] = {
	{ "import", "FILE [--name NAME[:VERSION]] [--os OS] [--arch ARCH]\n"
		    "[--boot bios|uefi|direct] [--min-mem SIZE] [--cloud-init]\n"
		    "[--format raw|vhd|qcow2|vmdk|vdi|vhdx] [--keep-identity] [-p]",
	  "Adds a disk image to the catalog. FILE is a VHD (fixed, dynamic, or a\n"
	  "differencing chain of VHDs: flattened; checked first), qcow2/vmdk/vdi/vhdx\n"
	  "(through qemu-img), a raw disk only with --format raw (a whole number of\n"
	  "512-byte sectors), or a bundle ('image export --bundle', 'vm export'),\n"
	  "verified before anything is accepted. The id is a SHA-256 of the\n"
	  "guest-visible content.\n"
	  "  --format F             what FILE is (required for raw; others are probed)\n"
	  "  --keep-identity        a bundle's VM imported under another --name keeps\n"
	  "                         its MAC, UUID and machine-id\n"
	  "  --name NAME[:VERSION]  a name (VERSION default: the next number)\n"
	  "  --os OS, --arch ARCH   recorded metadata\n"
	  "  --boot MODE            bios, uefi or direct\n"
	  "  --min-mem SIZE         the least memory of VMs made from it\n"
	  "  --cloud-init           VMs made from it get a NoCloud seed at start\n"
	  "  -p, --progress         show progress (default: on a terminal)\n"
	  "  --json                 one JSON document", NULL, 1, 1 },
	{ "build", "RECIPE [--name NAME[:VERSION]] [--json]",
	  "Runs images/recipes/RECIPE/build.sh (or $VHDVISOR_RECIPES/RECIPE) and\n"
	  "imports the VHD it makes, named RECIPE unless --name says.", NULL, 1, 1 },
	{ "list", "[--json]", "Lists the images: id, names, size, file size, created, OS.\n"
	  "  --json         one JSON document", "ls", 0, 0 },
	{ "show", "IMAGE [--json]", "Shows an image's metadata, names, labels and VMs.\n"
	  "  --json         one JSON document", NULL, 1, 1 },
	{ "set", "IMAGE --cloud-init on|off", "Marks or unmarks a cloud-init image.",
	  NULL, 1, 2 },
	{ "tag", "IMAGE NAME[:VERSION]", "Gives the image another name.", NULL, 2, 2 },
	{ "untag", "NAME:VERSION", "Removes a name.", NULL, 1, 1 },
	{ "label", "IMAGE LABEL [--rm]", "Adds (or with --rm removes) a label.", NULL, 2, 2 },
	{ "export", "IMAGE DEST [--format vhd|vhd-fixed|raw|azure] [--verify] [-p]\n"
		    "| IMAGE --bundle FILE [-p]",
	  "Writes the image to DEST in a format, or as a bundle (tar with a manifest\n"
	  "of hashes) to FILE. Neither is overwritten.\n"
	  "  --format F     vhd (default, dynamic), vhd-fixed, raw, azure\n"
	  "  --verify       recheck the content id on the way\n"
	  "  --bundle FILE  write a bundle instead\n"
	  "  -p, --progress show progress (default: on a terminal)", NULL, 1, 2 },
	{ "rm", "IMAGE [--force]", "Removes an image; --force first flattens the VMs that use it.",
	  NULL, 1, 1 },
	{ "gc", "[--force] [--json]",
	  "Removes temporary files, unfinished VMs and the files it can account for\n"
	  "as left by interrupted commands; it keeps (and names) anything else under\n"
	  "images/ or vms/, such as what a lost catalog no longer lists.\n"
	  "  --force        remove those too\n"
	  "  --json         one JSON document", NULL, 0, 0 },
	{ 0 },
};

static const char image_about[] =
	"IMAGE is NAME[:VERSION] (NAME alone: the latest version) or an id prefix.";

static const char image_common[] =
	"Every action takes --state DIR (catalog; default $VHDVISOR_STATE or\n"
	"/var/lib/vhdvisor), -q (only errors) and -v (debug messages).";

static void image_action_usage(const char *act)
{
	cli_action_usage(stderr, "vhdvisor image", cli_action_find(image_actions, act), false,
			 NULL);
}

static int image_parse(int argc, char **argv, struct image_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "os", required_argument, NULL, 'o' },
		{ "arch", required_argument, NULL, 'a' },
		{ "boot", required_argument, NULL, 'b' },
		{ "min-mem", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'F' },
		{ "rm", no_argument, NULL, 'r' },
		{ "bundle", required_argument, NULL, 'B' },
		{ "verify", no_argument, NULL, 'V' },
		{ "cloud-init", optional_argument, NULL, 'C' },
		{ "progress", no_argument, NULL, 'p' },
		{ "keep-identity", no_argument, NULL, 'K' },
		{ 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	a->cloud_init = -1;
	optind = 1;
	opterr = 1;
	while ((ch = cli_getopt(argc, argv, "p", opts)) != -1) {
		switch (ch) {
		case 'p': imgcli_progress_force(); break;
		case 's': a->state = optarg; break;
		case 'n': a->name = optarg; break;
		case 'f': a->format = optarg; break;
		case 'o': a->os = optarg; break;
		case 'a': a->arch = optarg; break;
		case 'b': a->boot = optarg; break;
		case 'm':
			if (size_parse(optarg, &a->min_mem)) {
				log_err("bad size '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case 'j': a->json = true; break;
		case 'F': a->force = true; break;
		case 'r': a->rm = true; break;
		case 'B': a->bundle = optarg; break;
		case 'V': a->verify = true; break;
		case 'K': a->keep_identity = true; break;
		case 'C':
			/* "--cloud-init" alone means on; "on"/"off" may follow */
			if (!optarg && optind < argc && (!strcmp(argv[optind], "on") ||
							 !strcmp(argv[optind], "off")))
				optarg = argv[optind++];
			if (optarg && strcmp(optarg, "on") && strcmp(optarg, "off")) {
				log_err("bad --cloud-init '%s' (on or off)", optarg);
				return CLI_USAGE;
			}
			a->cloud_init = !optarg || !strcmp(optarg, "on");
			break;
		default: return CLI_USAGE;
		}
	}
	a->first = optind;
	return 0;
}

int imgcli_open(const char *state, struct cat **out)
{
	const char *dir = state ? state : cat_default_state_dir();
	int r;

	img_error_clear();	/* one command, one operation: no earlier reason */

	log_dbg("catalog in %s", dir);
	r = cat_open(dir, out);
	if (r == -EUCLEAN)
		log_err("%s: catalog missing or damaged; see `vhdvisor catalog recover`", dir);
	else if (r)
		log_err("cannot open the catalog in %s: %s", dir,
			r == -EPROTO ? "made by a newer vhdvisor" : strerror(-r));
	return r;
}

int imgcli_resolve(struct cat *c, const char *ref, char *id)
{
	int r = cat_image_resolve(c, ref, id);

	if (r == -ENOENT)
		log_err("no image '%s'", ref);
	else if (r == -EEXIST)
		log_err("'%s' matches several images; give more of the id", ref);
	else if (r)
		log_err("catalog: %s", cat_errmsg(c));
	return r;
}

struct progress {
	const char *what;
	time_t last;
};

static bool progress_forced;

void imgcli_progress_force(void)
{
	progress_forced = true;
}

void imgcli_progress(void *opaque, uint64_t done, uint64_t total)
{
	struct progress *p = opaque;
	char a[32], b[32];
	time_t now = time(NULL);

	if ((!isatty(STDERR_FILENO) && !progress_forced) || cli_quiet() ||
	    (now == p->last && done < total))
		return;
	p->last = now;
	fprintf(stderr, "\r%s %3u%% (%s of %s)   ", p->what,
		total ? (unsigned)(done * 100 / total) : 100,
		size_format(done, a, sizeof(a)), size_format(total, b, sizeof(b)));
	if (done >= total)
		fputc('\n', stderr);
}

void *imgcli_progress_new(const char *what)
{
	static struct progress p;

	p.what = what;
	p.last = 0;
	return &p;
}

static int import_bundle(struct cat *c, const char *path, const struct image_args *a)
{
	struct bundle_result res;

	if (a->cloud_init >= 0) {
		log_err("--cloud-init does not apply to bundles: their manifest says");
		return CLI_USAGE;
	}
	bundle_set_progress(imgcli_progress, imgcli_progress_new("importing"));
	if (bundle_import(c, path, a->name, a->keep_identity ? BUNDLE_KEEP_IDENTITY : 0,
			  &res)) {
		log_err("%s; nothing imported", img_last_error());
		return CLI_FAIL;
	}
	if (a->json)
		printf("{ \"id\": \"%s\", \"images_new\": %u, \"images_known\": %u, \"vm\": \"%s\" }\n",
		       res.first_id, res.images_new, res.images_known, res.vm);
	else
		printf("imported bundle: %u new image%s, %u already here%s%s\n", res.images_new,
		       res.images_new == 1 ? "" : "s", res.images_known,
		       res.vm[0] ? ", VM " : "", res.vm);
	return CLI_OK;
}

static int print_imported(const struct image_args *a, const char *ref,
			  const struct img_import_result *res)
{
	char sz[32];

	if (a->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "id", json_object_new_string(res->img.id));
		json_object_object_add(j, "existed", json_object_new_boolean(res->existed));
		json_object_object_add(j, "version", json_object_new_string(res->version));
		json_object_object_add(j, "data_bytes",
				       json_object_new_int64((int64_t)res->data_bytes));
		json_object_object_add(j, "cloud_init",
				       json_object_new_boolean(res->img.cloud_init));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
		json_object_put(j);
		return CLI_OK;
	}
	printf("%s %s", res->existed ? "exists" : "imported", res->img.id);
	if (ref)
		printf(" as %.*s:%s", (int)strcspn(ref, ":"), ref, res->version);
	printf(" (%s virtual, %s of data%s)\n", size_format(res->img.virtual_size, sz, sizeof(sz)),
	       size_format(res->data_bytes, (char[32]){ 0 }, 32),
	       res->img.cloud_init ? ", cloud-init" : "");
	return CLI_OK;
}

/* Applies --cloud-init to the image just imported or built (also when it
 * was there already). */
static int apply_cloud_init(struct cat *c, const struct image_args *a,
			    struct img_import_result *res)
{
	int r;

	if (a->cloud_init < 0)
		return CLI_OK;
	r = cat_image_set_cloud_init(c, res->img.id, a->cloud_init);
	if (r) {
		log_err("image %.12s is in the catalog, but marking it cloud-init failed: %s",
			res->img.id, cat_errmsg(c));
		return CLI_FAIL;
	}
	res->img.cloud_init = a->cloud_init;
	return CLI_OK;
}

static int do_import(struct cat *c, const struct image_args *a, int argc, char **argv)
{
	struct img_import_opts o = {
		.ref = a->name, .os = a->os, .arch = a->arch, .boot = a->boot,
		.min_mem = a->min_mem, .progress = imgcli_progress,
		.progress_opaque = imgcli_progress_new("importing"),
	};
	struct img_import_result res;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (a->format) {
		o.format_given = true;
		if (img_format_parse(a->format, &o.format)) {
			log_err("bad --format '%s' (raw, vhd, qcow2, vmdk, vdi or vhdx)",
				a->format);
			return CLI_USAGE;
		}
	}
	if (bundle_probe(argv[a->first]))
		return import_bundle(c, argv[a->first], a);
	if (img_import(c, argv[a->first], &o, &res)) {
		log_err("%s", img_last_error());
		return CLI_FAIL;
	}
	if (apply_cloud_init(c, a, &res))
		return CLI_FAIL;
	return print_imported(a, a->name, &res);
}

/* Recipes find our vhd tool through $VHD: the one beside this binary. */
static void export_vhd_tool(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (getenv("VHD"))
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || n > (ssize_t)sizeof(exe) - 5)
		return;
	exe[n] = '\0';
	strcpy(strrchr(exe, '/') + 1, "vhd");
	if (access(exe, X_OK) == 0)
		setenv("VHD", exe, 0);
}

static int do_build(struct cat *c, const struct image_args *a, int argc, char **argv)
{
	struct img_import_opts o = {
		.ref = a->name ? a->name : argv[a->first], .os = a->os, .arch = a->arch,
		.boot = a->boot, .min_mem = a->min_mem,
	};
	struct img_import_result res;
	struct recipe rc;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (recipe_find(argv[a->first], &rc)) {
		log_err("%s", img_last_error());
		return CLI_FAIL;
	}
	export_vhd_tool();
	log_info("building recipe %s (%s/build.sh)", rc.name, rc.dir);
	if (img_build(c, &rc, &o, &res)) {
		log_err("%s; nothing imported", img_last_error());
		return CLI_FAIL;
	}
	if (apply_cloud_init(c, a, &res))
		return CLI_FAIL;
	return print_imported(a, o.ref, &res);
}

/* ---- list and show, through the API (appliance/api_images.c) ---- */

static void list_one(json_object *img)
{
	char names[256] = "", vs[32], fs[32], when[32];
	json_object *arr;
	struct tm tm;

	if (json_object_object_get_ex(img, "names", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			const char *str = json_object_get_string(json_object_array_get_idx(arr, i));
			size_t n = strlen(names);

			if (n + strlen(str) + 2 < sizeof(names))
				snprintf(names + n, sizeof(names) - n, "%s%s", n ? "," : "", str);
		}
	localtime_r(&(time_t){ cli_jint(img, "created") }, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	printf("%-12.12s  %-28s %10s %10s  %s  %s\n", cli_jstr(img, "id"), names[0] ? names : "-",
	       size_format((uint64_t)cli_jint(img, "virtual_size"), vs, sizeof(vs)),
	       size_format((uint64_t)cli_jint(img, "file_size"), fs, sizeof(fs)), when,
	       cli_jstr(img, "os") ? cli_jstr(img, "os") : "");
}

static int do_list(const struct image_args *a)
{
	json_object *arr;
	int r;

	r = apicli_get(a->state, "/images", NULL, &arr);
	if (r)
		return r;
	if (!a->json)	/* the header once the rows came */
		printf("%-12s  %-28s %10s %10s  %-16s  %s\n", "ID", "NAMES", "SIZE", "FILE",
		       "CREATED", "OS");
	if (a->json)
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	else
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			list_one(json_object_array_get_idx(arr, i));
	json_object_put(arr);
	return CLI_OK;
}

static int do_show(const struct image_args *a, int argc, char **argv)
{
	json_object *j;
	int r;

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (!api_name_valid(argv[a->first])) {	/* nor can it name an image */
		log_err("no image '%s'", argv[a->first]);
		return CLI_FAIL;
	}
	r = apicli_get(a->state, "/images/", argv[a->first], &j);
	if (r)
		return r;
	if (a->json) {
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
	} else {
		json_object_object_foreach(j, key, val)
			printf("%-13s %s\n", key, val ? json_object_get_string(val) : "-");
	}
	json_object_put(j);
	return CLI_OK;
}

/* ---- properties, names, labels, export, rm, gc ---- */

static int do_set(struct cat *c, const struct image_args *a, int argc, char **argv)
{
	char id[CAT_ID_LEN + 1];

	if (argc - a->first == 2 && a->cloud_init >= 0)	/* "--cloud-init WORD" */
		log_err("bad --cloud-init '%s' (on or off)", argv[a->first + 1]);
	if (argc - a->first != 1 || a->cloud_init < 0)
		return CLI_USAGE;
	if (imgcli_resolve(c, argv[a->first], id))
		return CLI_FAIL;
	if (cat_image_set_cloud_init(c, id, a->cloud_init)) {
		log_err("catalog: %s", cat_errmsg(c));
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int do_tag(struct cat *c, const struct image_args *a, int argc, char **argv)
{
	char id[CAT_ID_LEN + 1], name[CAT_NAME_MAX + 1], ver[CAT_NAME_MAX + 1];
	char got[CAT_NAME_MAX + 1];

	if (argc - a->first != 2)
		return CLI_USAGE;
	if (cat_ref_split(argv[a->first + 1], name, ver)) {
		log_err("bad name '%s' (NAME[:VERSION], [A-Za-z0-9._-])", argv[a->first + 1]);
		return CLI_USAGE;
	}
	if (imgcli_resolve(c, argv[a->first], id))
		return CLI_FAIL;
	if (cat_name_set(c, name, ver, id, got)) {
		log_err("catalog: %s", cat_errmsg(c));
		return CLI_FAIL;
	}
	printf("%s:%s -> %.12s\n", name, got, id);
	return CLI_OK;
}

static int do_untag(struct cat *c, const struct image_args *a, int argc, char **argv)
{
	char name[CAT_NAME_MAX + 1], ver[CAT_NAME_MAX + 1];

	if (argc - a->first != 1 || cat_ref_split(argv[a->first], name, ver) || !ver[0])
		return CLI_USAGE;
	if (cat_name_del(c, name, ver)) {
		log_err("no name %s", argv[a->first]);
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int do_label(struct cat *c, const struct image_args *a, int argc, char **argv)
{
	char id[CAT_ID_LEN + 1];
	int r;

	if (argc - a->first != 2)
		return CLI_USAGE;
	if (imgcli_resolve(c, argv[a->first], id))
		return CLI_FAIL;
	if (a->rm)
		r = cat_label_del(c, id, argv[a->first + 1]);
	else
		r = cat_label_add(c, id, argv[a->first + 1]);
	if (r)
		log_err("label '%s': %s", argv[a->first + 1],
			r == -EINVAL ? "bad label" : r == -ENOENT ? "not set" : cat_errmsg(c));
	return r ? CLI_FAIL : CLI_OK;
}

static int do_export(struct cat *c, const struct image_args *a, int argc, char **argv)
{
	enum img_export_format fmt = IMG_EXPORT_VHD;
	char id[CAT_ID_LEN + 1];

	if (a->bundle && argc - a->first == 1) {
		if (imgcli_resolve(c, argv[a->first], id))
			return CLI_FAIL;
		bundle_set_progress(imgcli_progress, imgcli_progress_new("exporting"));
		if (bundle_export_image(c, id, a->bundle)) {
			log_err("%s", img_last_error());
			return CLI_FAIL;
		}
		return CLI_OK;
	}
	if (argc - a->first != 2)
		return CLI_USAGE;
	if (a->format && img_export_format_parse(a->format, &fmt)) {
		log_err("unknown format '%s' (vhd, vhd-fixed, raw, azure)", a->format);
		return CLI_USAGE;
	}
	if (imgcli_resolve(c, argv[a->first], id))
		return CLI_FAIL;
	if (img_export(c, id, argv[a->first + 1], fmt, a->verify, imgcli_progress,
		       imgcli_progress_new("exporting"))) {
		log_err("%s", img_last_error());
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int flatten_one(void *opaque, const struct cat_vm *vm)
{
	struct cat *c = opaque;

	if (vmrec_flatten(c, vm->name, NULL, NULL)) {
		log_err("cannot flatten VM %s: %s", vm->name, img_last_error());
		return -EIO;
	}
	log_info("VM %s no longer depends on the image", vm->name);
	return 0;
}

static int do_rm(struct cat *c, const struct image_args *a, int argc, char **argv)
{
	char id[CAT_ID_LEN + 1];

	if (argc - a->first != 1)
		return CLI_USAGE;
	if (imgcli_resolve(c, argv[a->first], id))
		return CLI_FAIL;
	if (a->force && cat_vm_foreach(c, id, NULL, flatten_one, c))
		return CLI_FAIL;
	if (img_remove(c, id)) {
		log_err("%s%s", img_last_error(),
			a->force ? "" : "; 'image rm --force' flattens them first");
		return CLI_FAIL;
	}
	printf("removed %.12s\n", id);
	return CLI_OK;
}

static void gc_kept(void *opaque, const char *rel, const char *why)
{
	log_warn("kept %s: %s", rel, why);
}

static int do_gc(struct cat *c, const struct image_args *a)
{
	struct img_gc_opts o = { .force = a->force, .kept = gc_kept };
	struct img_gc_result res;

	if (img_gc(c, &o, &res)) {
		log_err("gc: %s", img_last_error());
		return CLI_FAIL;
	}
	if (res.kept)
		log_warn("kept %u files or folders the catalog does not account for; if the"
			 " catalog lost them, `vhdvisor catalog recover` brings them back,"
			 " else `image gc --force` removes them", res.kept);
	if (a->json)
		printf("{ \"tmp_removed\": %u, \"files_removed\": %u, \"vms_removed\": %u,"
		       " \"kept\": %u, \"forced_removed\": %u }\n",
		       res.tmp_removed, res.files_removed, res.vms_removed, res.kept,
		       res.forced_removed);
	else
		printf("gc: removed %u temporary files, %u unreferenced files, %u unfinished VMs"
		       "%s\n", res.tmp_removed, res.files_removed, res.vms_removed,
		       res.forced_removed ? " and, forced, files it could not account for" : "");
	return CLI_OK;
}

int cmd_image(int argc, char **argv)
{
	struct image_args a;
	const char *act;
	struct cat *c;
	int r;

	r = cli_family_begin("vhdvisor image", image_actions, image_about, image_common, argc,
			     argv);
	if (r >= 0)
		return r;
	act = cli_action_find(image_actions, argv[1])->name;
	argc--;
	argv++;
	if (image_parse(argc, argv, &a) ||
	    !cli_action_arity_ok("vhdvisor image", cli_action_find(image_actions, act),
				 argc - a.first)) {
		image_action_usage(act);
		return CLI_USAGE;
	}
	/* what goes through the API, by whichever door (apicli.c) */
	if (!strcmp(act, "list") || !strcmp(act, "show")) {
		r = !strcmp(act, "list") ? do_list(&a) : do_show(&a, argc, argv);
		if (r == CLI_USAGE)
			image_action_usage(act);
		return r;
	}
	if (apicli_remote())
		return apicli_local_only("image", act);
	if (imgcli_open(a.state, &c))
		return CLI_FAIL;
	if (!strcmp(act, "import"))
		r = do_import(c, &a, argc, argv);
	else if (!strcmp(act, "build"))
		r = do_build(c, &a, argc, argv);
	else if (!strcmp(act, "set"))
		r = do_set(c, &a, argc, argv);
	else if (!strcmp(act, "tag"))
		r = do_tag(c, &a, argc, argv);
	else if (!strcmp(act, "untag"))
		r = do_untag(c, &a, argc, argv);
	else if (!strcmp(act, "label"))
		r = do_label(c, &a, argc, argv);
	else if (!strcmp(act, "export"))
		r = do_export(c, &a, argc, argv);
	else if (!strcmp(act, "rm"))
		r = do_rm(c, &a, argc, argv);
	else if (!strcmp(act, "gc"))
		r = do_gc(c, &a);
	else
		r = CLI_USAGE;
	cat_close(c);
	if (r == CLI_USAGE)
		image_action_usage(act);
	return r;
}
