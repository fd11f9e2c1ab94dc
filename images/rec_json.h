/* images/rec_json.h: the JSON form of catalog records, one for every door
 * (`vhdvisor ... --json`, the REST API), so they cannot drift apart. */
#ifndef VV_IMAGES_REC_JSON_H
#define VV_IMAGES_REC_JSON_H

#include <stdbool.h>

#include <json-c/json.h>

#include "images/cat_vm.h"
#include "images/catalog.h"

/* An image: id, names ("NAME:VERSION"), labels, file, file_sha256,
 * virtual_size, file_size, os, arch, boot, min_mem, min_disk, source,
 * created, parent (null when none), cloud_init. The caller owns the object
 * (json_object_put). */
json_object *img_image_json(struct cat *c, const struct cat_image *img);

/* A VM: name, state ("running"/"stopped", or the catalog state of a VM
 * being made), pid of its runtime (0 when it does not run), image, cpus,
 * mem, mac, uuid, machine_id, lab, net, created, cloud_init, ip (from its
 * lab network's lease while it runs, else null), disk (its top layer's
 * path) and, with @snapshots, the snapshots [{tag, created}]. The caller
 * owns the object. */
json_object *vmrec_vm_json(struct cat *c, const struct cat_vm *vm, bool snapshots);

/* VM @name's disks, boot disk first: [{disk, size, file, boot}] (disk 0
 * is its writable top layer). 0 with a new array in *@out, or -errno with
 * the reason in img_last_error(). */
int vmrec_disks_json(struct cat *c, const char *name, json_object **out);

/* A VM's NICs: [{nic, mac, network, ip}]: one on its lab network, none
 * when it has no network (ip: its lease while it runs, else null). */
json_object *vmrec_nics_json(const struct cat_vm *vm);
/* Every VM, by name, as vmrec_vm_json() without snapshots, into *@out (an
 * array the caller owns): one catalog query and one look at the run
 * directory for all of them. 0 or -errno (the catalog's error in
 * cat_errmsg()). */
int vmrec_vms_json(struct cat *c, json_object **out);

/* The same list as compact JSON text (no tree built: ten times faster for
 * thousands of VMs), in *@out (malloc'd, NUL-terminated, the caller frees)
 * and its length in *@len. 0 or -errno. */
int vmrec_vms_text(struct cat *c, char **out, size_t *len);

#endif
