/* images/bundle.h: bundles, the way images and whole VMs move between
 * hosts (state directories).
 *
 * A bundle is a POSIX tar file whose paths mirror the state directory, so
 * that the relative parent locators inside VHD chains keep working:
 *
 *   manifest.json            what the bundle holds, with hashes
 *   images/<id>.vhd          each image (standalone dynamic VHD)
 *   vms/<name>/<layer>.vhd   a VM's layers (differencing VHDs)
 *   vms/<name>/<disk>.vhd    a VM's extra data disks (standalone VHDs)
 *
 * manifest.json (format "vhdvisor-bundle"):
 *   { "format": "vhdvisor-bundle", "version": 1 or 2, "created": UNIX,
 *     "files": [ { "path": P, "size": N, "sha256": HEX }, ... ],
 *     "images": [ { "id", "virtual_size", "os", "arch", "boot", "min_mem",
 *                   "min_disk", "source", "created", "parent", "names": [],
 *                   "cloud_init": BOOL (optional, false when absent) } ],
 *     "vm": { "name", "image", "cpus", "mem", "mac", "uuid", "machine_id",
 *             "cloud_init": BOOL (optional; absent: the image's),
 *             "top": LAYER, "layers": [ { "id", "file", "parent" } ],
 *             "snapshots": [ { "tag", "layer", "created" } ],
 *             "disks": [ { "idx", "file", "size" } ] (optional) } }
 *                                                          (VM bundles)
 *
 * Version 2 is written when the VM has data disks, so that readers which
 * do not know "disks" refuse the bundle instead of dropping them; every
 * other bundle is written as version 1. Both versions are read.
 *
 * Importing verifies every file's size and SHA-256, every image's content
 * id and every layer's and data disk's structure before anything enters
 * the catalog; any mismatch, missing or unlisted file refuses the whole
 * bundle and leaves nothing behind.
 */
#ifndef VV_IMAGES_BUNDLE_H
#define VV_IMAGES_BUNDLE_H

#include <stdbool.h>

#include "images/catalog.h"
#include "images/img_hash.h"

#define BUNDLE_VERSION_PLAIN 1   /* images, VMs without data disks */
#define BUNDLE_VERSION       2   /* the newest: VMs with data disks */

/* Progress of the bundle_export_* and bundle_import calls that follow in
 * the calling thread (@fn NULL: none). Export reports the bytes of files
 * written into the tar of their total (after hashing them); import the
 * bytes of the bundle read during extraction of the bundle's size. */
void bundle_set_progress(img_progress_fn fn, void *opaque);

/* True when the file at @path looks like a tar archive. */
bool bundle_probe(const char *path);

/* Writes image @id (with its names and metadata) as a bundle to @dest;
 * refuses to overwrite (-EEXIST). 0 or -errno (img_last_error()). */
int bundle_export_image(struct cat *c, const char *id, const char *dest);

/* Writes VM @name (stopped), its definition, layers, snapshots, extra
 * data disks and its image, as a bundle to @dest. -EBUSY while it runs. */
int bundle_export_vm(struct cat *c, const char *name, const char *dest);

struct bundle_result {
	unsigned images_new;     /* images added to the catalog */
	unsigned images_known;   /* already there (same content id) */
	char first_id[CAT_ID_LEN + 1];
	char vm[CAT_NAME_MAX + 1];  /* the VM created, or "" */
};

/* Imports the bundle at @path: its images (an image already here keeps
 * its own metadata), and its VM, with its data disks at their indexes,
 * under its own name or @vm_name when not NULL (-EEXIST when the name is
 * taken). */
int bundle_import(struct cat *c, const char *path, const char *vm_name,
		  struct bundle_result *res);

#endif
