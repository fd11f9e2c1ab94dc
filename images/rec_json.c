/* images/rec_json.c: catalog records as JSON (see rec_json.h). */
#include "images/rec_json.h"

#include <stdio.h>
#include <string.h>

#include "images/vmrec.h"
#include "images/vmrun.h"

static int add_ref(void *opaque, const char *name, const char *version)
{
	char ref[2 * CAT_NAME_MAX + 2];

	snprintf(ref, sizeof(ref), "%s:%s", name, version);
	json_object_array_add(opaque, json_object_new_string(ref));
	return 0;
}

static int add_label(void *opaque, const char *label)
{
	json_object_array_add(opaque, json_object_new_string(label));
	return 0;
}

static void put_str(json_object *j, const char *key, const char *s)
{
	json_object_object_add(j, key, json_object_new_string(s));
}

static void put_i64(json_object *j, const char *key, int64_t v)
{
	json_object_object_add(j, key, json_object_new_int64(v));
}

json_object *img_image_json(struct cat *c, const struct cat_image *img)
{
	json_object *j = json_object_new_object();
	json_object *names = json_object_new_array(), *labels = json_object_new_array();

	put_str(j, "id", img->id);
	cat_name_foreach(c, img->id, add_ref, names);
	json_object_object_add(j, "names", names);
	cat_label_foreach(c, img->id, add_label, labels);
	json_object_object_add(j, "labels", labels);
	put_str(j, "file", img->file);
	put_str(j, "file_sha256", img->file_sha256);
	put_i64(j, "virtual_size", (int64_t)img->virtual_size);
	put_i64(j, "file_size", (int64_t)img->file_size);
	put_str(j, "os", img->os);
	put_str(j, "arch", img->arch);
	put_str(j, "boot", img->boot);
	put_i64(j, "min_mem", (int64_t)img->min_mem);
	put_i64(j, "min_disk", (int64_t)img->min_disk);
	put_str(j, "source", img->source);
	put_i64(j, "created", img->created);
	json_object_object_add(j, "parent", img->parent[0] ?
			       json_object_new_string(img->parent) : NULL);
	json_object_object_add(j, "cloud_init", json_object_new_boolean(img->cloud_init));
	return j;
}

static int add_snap(void *opaque, const struct cat_snapshot *s)
{
	json_object *o = json_object_new_object();

	put_str(o, "tag", s->tag);
	put_i64(o, "created", s->created);
	json_object_array_add(opaque, o);
	return 0;
}

json_object *vmrec_vm_json(struct cat *c, const struct cat_vm *vm, bool snapshots)
{
	json_object *j = json_object_new_object();
	bool ready = !strcmp(vm->state, CAT_VM_READY);
	pid_t pid = ready ? vmrec_pid(vm->name) : 0;
	char disk[4300], ip[32];	/* as VMREC_PATH_MAX */
	struct cat_layer top;

	put_str(j, "name", vm->name);
	put_str(j, "state", !ready ? vm->state : pid ? "running" : "stopped");
	json_object_object_add(j, "pid", json_object_new_int(pid));
	json_object_object_add(j, "image", vm->image[0] ? json_object_new_string(vm->image) : NULL);
	json_object_object_add(j, "cpus", json_object_new_int((int)vm->cpus));
	put_i64(j, "mem", (int64_t)vm->mem);
	put_str(j, "mac", vm->mac);
	put_str(j, "uuid", vm->uuid);
	put_str(j, "machine_id", vm->machine_id);
	put_str(j, "lab", vm->lab);
	put_str(j, "net", vm->net);
	put_i64(j, "created", vm->created);
	json_object_object_add(j, "cloud_init", json_object_new_boolean(vm->cloud_init));
	json_object_object_add(j, "ip", pid && !vmrec_vm_ip(vm, ip, sizeof(ip)) ?
			       json_object_new_string(ip) : NULL);
	/* vmrec_disk_path() without reading the VM again: lists of
	 * thousands of VMs pay a query per VM for this */
	if (!cat_layer_get(c, vm->top, &top) && !cat_path(c, top.file, disk, sizeof(disk)))
		put_str(j, "disk", disk);
	if (snapshots) {
		json_object *snaps = json_object_new_array();

		cat_snap_foreach(c, vm->name, add_snap, snaps);
		json_object_object_add(j, "snapshots", snaps);
	}
	return j;
}
