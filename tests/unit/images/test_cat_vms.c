/* Unit tests for images/cat_vms.c: VM, layer, snapshot and lab rows, and
 * the references that protect images and layers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/cat_vm.h"

static char dir[256];
static struct cat *c;
static struct cat_image img;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vvcatvm.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(cat_open(dir, &c), 0);
	memset(&img, 0, sizeof(img));
	memset(img.id, '1', CAT_ID_LEN);
	memset(img.file_sha256, '2', CAT_ID_LEN);
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

TestSuite(cat_vms, .init = setup, .fini = teardown);

static void make_vm(struct cat_vm *vm, const char *name)
{
	memset(vm, 0, sizeof(*vm));
	strcpy(vm->name, name);
	strcpy(vm->state, CAT_VM_READY);
	strcpy(vm->image, img.id);
	vm->cpus = 2;
	vm->mem = 512 << 20;
	strcpy(vm->mac, "02:00:00:00:00:01");
	strcpy(vm->uuid, "00000000-0000-0000-0000-000000000001");
	strcpy(vm->machine_id, "0123456789abcdef0123456789abcdef");
	vm->created = 5;
}

static int count_vm(void *opaque, const struct cat_vm *vm)
{
	(*(int *)opaque)++;
	return 0;
}

Test(cat_vms, vm_layers_snapshots)
{
	struct cat_layer l = { 0 }, got;
	struct cat_snapshot s = { 0 }, sg;
	struct cat_vm vm, v2;
	int64_t l1, l2, ch, sn;
	int n = 0;

	make_vm(&vm, "web1");
	cr_assert_eq(cat_vm_add(c, &vm), 0);
	cr_assert_eq(cat_vm_add(c, &vm), -EEXIST);
	cr_assert_eq(cat_image_del(c, img.id), -EBUSY, "an image with VMs stays");

	strcpy(l.vm, "web1");
	strcpy(l.file, "vms/web1/a.vhd");
	cr_assert_eq(cat_layer_add(c, &l, &l1), 0);
	strcpy(l.file, "vms/web1/b.vhd");
	l.parent = l1;
	cr_assert_eq(cat_layer_add(c, &l, &l2), 0);
	cr_assert_eq(cat_layer_get(c, l2, &got), 0);
	cr_assert_eq(got.parent, l1);
	cr_assert_str_eq(got.file, "vms/web1/b.vhd");
	cr_assert_eq(cat_layer_get(c, l1, &got), 0);
	cr_assert_eq(got.parent, 0, "bottom layer sits on the image");

	vm.top = l2;
	cr_assert_eq(cat_vm_update(c, &vm), 0);
	strcpy(s.vm, "web1");
	strcpy(s.tag, "before");
	s.layer = l1;
	cr_assert_eq(cat_snap_add(c, &s), 0);
	cr_assert_eq(cat_snap_add(c, &s), -EEXIST);
	cr_assert_eq(cat_snap_get(c, "web1", "before", &sg), 0);
	cr_assert_eq(sg.layer, l1);
	cr_assert_eq(cat_layer_refs(c, l1, &ch, &sn), 0);
	cr_assert_eq(ch, 1);
	cr_assert_eq(sn, 1);
	cr_assert_eq(cat_layer_del(c, l1), -EBUSY);
	cr_assert_eq(cat_layer_del(c, l2), -EBUSY, "the VM's top stays");

	cr_assert_eq(cat_vm_get(c, "web1", &v2), 0);
	cr_assert_eq(v2.top, l2);
	cr_assert_eq(v2.mem, 512u << 20);
	cr_assert_str_eq(v2.mac, vm.mac);

	make_vm(&vm, "web2");
	strcpy(vm.lab, "lab");
	cr_assert_eq(cat_vm_add(c, &vm), 0);
	cr_assert_eq(cat_vm_foreach(c, img.id, NULL, count_vm, &n), 0);
	cr_assert_eq(n, 2);
	n = 0;
	cr_assert_eq(cat_vm_foreach(c, NULL, "lab", count_vm, &n), 0);
	cr_assert_eq(n, 1);

	cr_assert_eq(cat_vm_del(c, "web1"), 0);
	cr_assert_eq(cat_layer_get(c, l1, &got), -ENOENT, "layers go with the VM");
	cr_assert_eq(cat_snap_get(c, "web1", "before", &sg), -ENOENT);
	cr_assert_eq(cat_vm_del(c, "web1"), -ENOENT);
	cr_assert_eq(cat_vm_del(c, "web2"), 0);
	cr_assert_eq(cat_image_del(c, img.id), 0);
}

Test(cat_vms, labs)
{
	struct cat_lab lab = { .count = 3 }, lg;

	strcpy(lab.name, "l1");
	strcpy(lab.image, img.id);
	cr_assert_eq(cat_lab_add(c, &lab), 0);
	cr_assert_eq(cat_lab_add(c, &lab), -EEXIST);
	cr_assert_eq(cat_lab_get(c, "l1", &lg), 0);
	cr_assert_eq(lg.count, 3);
	cr_assert_eq(cat_lab_del(c, "l1"), 0);
	cr_assert_eq(cat_lab_get(c, "l1", &lg), -ENOENT);
}
