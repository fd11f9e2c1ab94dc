/* images/cat_vm.h: catalog records of VMs, their disk layers and
 * snapshots, and labs.
 *
 * A VM's disk is a chain: its top layer (a differencing VHD it writes),
 * older layers frozen by snapshots, and at the bottom its image's file.
 * Layers form a tree inside one VM (a revert starts a new branch); a layer
 * whose parent is 0 sits on the VM's image, unless it is standalone (a
 * full clone's copy), which has no parent file at all.
 */
#ifndef VV_IMAGES_CAT_VM_H
#define VV_IMAGES_CAT_VM_H

#include <stdint.h>

#include "images/catalog.h"

#define CAT_VM_CREATING "creating"   /* files being made; gc removes it */
#define CAT_VM_READY    "ready"

struct cat_vm {
	char name[CAT_NAME_MAX + 1];
	char state[16];                  /* CAT_VM_* */
	char image[CAT_ID_LEN + 1];      /* template image id; "" once flattened */
	unsigned cpus;
	uint64_t mem;                    /* bytes */
	char mac[18];                    /* "xx:xx:xx:xx:xx:xx" */
	char uuid[37];                   /* SMBIOS system UUID */
	char machine_id[33];             /* systemd machine-id (32 hex) */
	int64_t top;                     /* layer id of the writable top */
	char lab[CAT_NAME_MAX + 1];      /* lab it belongs to, or "" */
	char net[CAT_NAME_MAX + 1];      /* lab network, or "" */
	int64_t created;
	int cloud_init;                  /* 1: started with a NoCloud seed disk */
};

struct cat_layer {
	int64_t id;
	char vm[CAT_NAME_MAX + 1];
	char file[192];                  /* relative to the state dir */
	int64_t parent;                  /* layer id, 0 = the image (or none) */
	int standalone;                  /* 1: no parent file at all */
	int64_t created;
};

struct cat_snapshot {
	char vm[CAT_NAME_MAX + 1];
	char tag[CAT_NAME_MAX + 1];
	int64_t layer;
	int64_t created;
};

/* ---- VMs ---- */

/* Inserts @vm; -EEXIST when the name is taken. */
int cat_vm_add(struct cat *c, const struct cat_vm *vm);
/* Loads VM @name; -ENOENT. */
int cat_vm_get(struct cat *c, const char *name, struct cat_vm *out);
/* Rewrites state, cpus, mem, top, lab, net, image and cloud_init of VM
 * @vm->name. -ENOENT. */
int cat_vm_update(struct cat *c, const struct cat_vm *vm);
/* Deletes the VM with its layers, snapshots and disks (rows only). -ENOENT. */
int cat_vm_del(struct cat *c, const char *name);
/* Calls @fn for each VM, by name; @image and @lab (each may be NULL)
 * restrict the list. Stops at and returns @fn's first non-zero value. */
int cat_vm_foreach(struct cat *c, const char *image, const char *lab,
		   int (*fn)(void *opaque, const struct cat_vm *vm), void *opaque);
/* cat_vm_foreach() of every VM with the file of its top layer (relative to
 * the state dir; "" when it has none), in one query: a list of thousands
 * of VMs costs one statement, not one per VM. */
int cat_vm_foreach_top(struct cat *c,
		       int (*fn)(void *opaque, const struct cat_vm *vm, const char *top_file),
		       void *opaque);

/* ---- layers ---- */

/* Inserts @l (its id is ignored) and returns the new id in *id. */
int cat_layer_add(struct cat *c, const struct cat_layer *l, int64_t *id);
int cat_layer_get(struct cat *c, int64_t id, struct cat_layer *out);
/* Rewrites parent, standalone and file of layer @l->id. -ENOENT. */
int cat_layer_update(struct cat *c, const struct cat_layer *l);
/* Deletes the row of layer @id. -ENOENT; -EBUSY while a snapshot, a VM's
 * top or another layer refers to it. */
int cat_layer_del(struct cat *c, int64_t id);
/* How many layers have @id as parent, and how many snapshots point at it. */
int cat_layer_refs(struct cat *c, int64_t id, int64_t *children, int64_t *snapshots);
/* Calls @fn for each layer of VM @vm (NULL: of all VMs), oldest first. */
int cat_layer_foreach(struct cat *c, const char *vm,
		      int (*fn)(void *opaque, const struct cat_layer *l), void *opaque);

/* ---- snapshots ---- */

int cat_snap_add(struct cat *c, const struct cat_snapshot *s);   /* -EEXIST */
int cat_snap_get(struct cat *c, const char *vm, const char *tag, struct cat_snapshot *out);
int cat_snap_del(struct cat *c, const char *vm, const char *tag);
int cat_snap_foreach(struct cat *c, const char *vm,
		     int (*fn)(void *opaque, const struct cat_snapshot *s), void *opaque);

/* ---- extra data disks (cat_disks.c) ---- */

/* Disk @idx (1, 2, ...) of a VM: a standalone VHD; disk 0 is its layers. */
struct cat_disk {
	char vm[CAT_NAME_MAX + 1];
	unsigned idx;
	char file[192];                  /* relative to the state dir */
	int64_t created;
};

/* Inserts @d; -EEXIST when the VM already has disk @d->idx. */
int cat_disk_add(struct cat *c, const struct cat_disk *d);
/* Loads disk @idx of VM @vm; -ENOENT. */
int cat_disk_get(struct cat *c, const char *vm, unsigned idx, struct cat_disk *out);
/* Deletes the row of disk @idx of VM @vm (not its file). -ENOENT. */
int cat_disk_del(struct cat *c, const char *vm, unsigned idx);
/* Calls @fn for each extra disk of VM @vm, by index. Stops at and returns
 * @fn's first non-zero value. */
int cat_disk_foreach(struct cat *c, const char *vm,
		     int (*fn)(void *opaque, const struct cat_disk *d), void *opaque);

/* ---- labs ---- */

struct cat_lab {
	char name[CAT_NAME_MAX + 1];
	char image[CAT_ID_LEN + 1];
	unsigned count;
	char net[CAT_NAME_MAX + 1];
	int64_t created;
};

int cat_lab_add(struct cat *c, const struct cat_lab *l);          /* -EEXIST */
int cat_lab_get(struct cat *c, const char *name, struct cat_lab *out);
int cat_lab_del(struct cat *c, const char *name);
int cat_lab_foreach(struct cat *c, int (*fn)(void *opaque, const struct cat_lab *l),
		    void *opaque);

#endif
