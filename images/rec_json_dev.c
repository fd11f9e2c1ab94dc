/* images/rec_json_dev.c: the JSON of a VM's disks and NICs
 * (images/rec_json.h), for `vhdvisor vm disk list --json` and the API. */
#include "images/rec_json.h"

#include <errno.h>
#include <string.h>

#include "images/img_store.h"
#include "images/vmrec.h"
#include "images/vmrun.h"
#include "vhd/vhd.h"

struct disks_ctx {
	struct cat *c;
	json_object *arr;
};

/* Adds disk @idx of VM @name to the array. */
static int disk_one(struct cat *c, const char *name, unsigned idx, json_object *arr)
{
	struct vhd_open_opts oo = { 0 };
	char path[4300];
	json_object *j;
	struct vhd *v;
	uint64_t size;
	int r;

	r = vmrec_disk_file(c, name, idx, path, sizeof(path));
	if (r)
		return r;
	r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(r, "%s: %s", path, vhd_last_error());
	size = vhd_size(v);
	vhd_close(v);
	j = json_object_new_object();
	json_object_object_add(j, "disk", json_object_new_int((int)idx));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(j, "file", json_object_new_string(path));
	json_object_object_add(j, "boot", json_object_new_boolean(idx == 0));
	json_object_array_add(arr, j);
	return 0;
}

static int disk_extra(void *opaque, const struct cat_disk *d)
{
	struct disks_ctx *dc = opaque;

	return disk_one(dc->c, d->vm, d->idx, dc->arr);
}

int vmrec_disks_json(struct cat *c, const char *name, json_object **out)
{
	struct disks_ctx dc = { .c = c, .arr = json_object_new_array() };
	int r = disk_one(c, name, 0, dc.arr);

	if (!r)
		r = cat_disk_foreach(c, name, disk_extra, &dc);
	if (r) {
		json_object_put(dc.arr);
		return r;
	}
	*out = dc.arr;
	return 0;
}

json_object *vmrec_nics_json(const struct cat_vm *vm)
{
	json_object *arr = json_object_new_array(), *j;
	char ip[32];

	if (!vm->net[0])
		return arr;
	j = json_object_new_object();
	json_object_object_add(j, "nic", json_object_new_int(0));
	json_object_object_add(j, "mac", json_object_new_string(vm->mac));
	json_object_object_add(j, "network", json_object_new_string(vm->net));
	json_object_object_add(j, "ip", vmrec_running(vm->name) &&
			       !vmrec_vm_ip(vm, ip, sizeof(ip)) ? json_object_new_string(ip) : NULL);
	json_object_array_add(arr, j);
	return arr;
}
