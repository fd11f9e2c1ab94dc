/* images/lab.h: labs: N linked clones of one image, named LAB-1 .. LAB-N,
 * optionally on one lab network (netback's `vhdvisor net`), created,
 * reset and removed together. 0 or -errno (img_last_error()). */
#ifndef VV_IMAGES_LAB_H
#define VV_IMAGES_LAB_H

#include "images/catalog.h"

#define LAB_MAX_COUNT 1000

/* Creates lab @lab of @count linked clones of image @image_id, each with
 * @cpus and @mem (0: defaults) and a NIC on network @net (NULL: none).
 * -EEXIST when the lab or one of the VM names exists (nothing created). */
int lab_create(struct cat *c, const char *lab, const char *image_id, unsigned count,
	       unsigned cpus, uint64_t mem, const char *net);

/* Every VM of the lab back to the image (they must be stopped). */
int lab_reset(struct cat *c, const char *lab);

/* Removes the lab and its VMs (they must be stopped). */
int lab_remove(struct cat *c, const char *lab);

/* Calls @fn with the name of each VM of @lab, in name order. */
int lab_foreach_vm(struct cat *c, const char *lab,
		   int (*fn)(void *opaque, const char *vm), void *opaque);

#endif
