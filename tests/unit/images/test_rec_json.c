/* Unit tests for images/rec_json.c: the VM list written directly as text
 * (vmrec_vms_text(), what GET /api/v1/vms sends) is the same JSON as the
 * json-c list (vmrec_vms_json()) and as vmrec_vm_json() of each VM: with
 * and without a top layer, a VM being made, one with a live pidfile (it
 * runs), one with a dead one, and strings that need escapes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/cat_vm.h"
#include "images/rec_json.h"

static char dir[256], run[300];
static struct cat *c;
static struct cat_image img;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vvrecjson.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(run, sizeof(run), "%s/run", dir);
	cr_assert_eq(mkdir(run, 0700), 0);
	setenv("VHDVISOR_RUN", run, 1);
	cr_assert_eq(cat_open(dir, &c), 0);
	memset(&img, 0, sizeof(img));
	memset(img.id, 'a', CAT_ID_LEN);
	memset(img.file_sha256, 'b', CAT_ID_LEN);
	strcpy(img.file, "images/x.vhd");
	img.created = 1;
	cr_assert_eq(cat_image_add(c, &img), 0);
}

static void teardown(void)
{
	char cmd[300];

	cat_close(c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(rec_json, .init = setup, .fini = teardown);

static void add_vm(const char *name, const char *state, bool layer, const char *lab)
{
	struct cat_layer l = { 0 };
	struct cat_vm vm = { 0 };

	snprintf(vm.name, sizeof(vm.name), "%s", name);
	strcpy(vm.state, state);
	strcpy(vm.image, img.id);
	vm.cpus = 2;
	vm.mem = 3ULL << 30;
	strcpy(vm.mac, "02:00:00:00:00:01");
	strcpy(vm.uuid, "00000000-0000-0000-0000-000000000001");
	strcpy(vm.machine_id, "0123456789abcdef0123456789abcdef");
	snprintf(vm.lab, sizeof(vm.lab), "%s", lab);
	vm.created = 1700000000;
	vm.cloud_init = !layer;
	cr_assert_eq(cat_vm_add(c, &vm), 0);
	if (layer) {
		snprintf(l.vm, sizeof(l.vm), "%s", name);
		snprintf(l.file, sizeof(l.file), "vms/%s/top.vhd", name);
		cr_assert_eq(cat_layer_add(c, &l, &vm.top), 0);
		cr_assert_eq(cat_vm_update(c, &vm), 0);
	}
}

static void pidfile(const char *name, pid_t pid)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.vm.pid", run, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
}

static int each(void *opaque, const struct cat_vm *vm)
{
	json_object_array_add(opaque, vmrec_vm_json(c, vm, false));
	return 0;
}

Test(rec_json, text_list_equals_json_list)
{
	json_object *tree, *one = json_object_new_array(), *parsed;
	char *text;
	size_t len;

	add_vm("web", CAT_VM_READY, true, "");
	add_vm("alive", CAT_VM_READY, true, "lab1");
	add_vm("dead", CAT_VM_READY, true, "");
	add_vm("new", "creating", false, "");
	add_vm("odd\"na\\me\t\x01/x", CAT_VM_READY, false, "l\"b");
	pidfile("alive", getpid());
	pidfile("dead", 0x7ffffff0);
	cr_assert_eq(vmrec_vms_text(c, &text, &len), 0);
	cr_assert_eq(strlen(text), len);
	parsed = json_tokener_parse(text);
	cr_assert_not_null(parsed, "not JSON: %s", text);
	cr_assert_eq(vmrec_vms_json(c, &tree), 0);
	cr_assert_eq(cat_vm_foreach(c, NULL, NULL, each, one), 0);
	cr_assert_eq(json_object_array_length(parsed), 5);
	cr_assert(json_object_equal(parsed, tree), "text %s\njson %s", text,
		  json_object_to_json_string(tree));
	cr_assert(json_object_equal(parsed, one), "text %s\none by one %s", text,
		  json_object_to_json_string(one));
	/* the key order too: the same text as json-c writes */
	cr_assert_str_eq(text, json_object_to_json_string_ext(one, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	cr_assert_str_eq(json_object_get_string(json_object_object_get(
				 json_object_array_get_idx(parsed, 0), "state")), "running");
	free(text);
	json_object_put(parsed);
	json_object_put(tree);
	json_object_put(one);
}

Test(rec_json, empty_catalog)
{
	char *text;
	size_t len;

	cr_assert_eq(vmrec_vms_text(c, &text, &len), 0);
	cr_assert_str_eq(text, "[]");
	free(text);
}
