/* images/bundle.h: bundles, the way images and whole VMs move between
 * hosts (state directories).
 *
 * A bundle is a POSIX tar file whose paths mirror the state directory, so
 * that the relative parent locators inside VHD chains keep working:
 *
 *   manifest.json            what the bundle holds, with hashes
 *   images/<id>.vhd          each image (standalone dynamic VHD)
 *   vms/<name>/<layer>.vhd   a VM's layers (differencing VHDs)
 *
 * manifest.json (format "vhdvisor-bundle", version 1):
 *   { "format": "vhdvisor-bundle", "version": 1, "created": UNIX,
 *     "files": [ { "path": P, "size": N, "sha256": HEX }, ... ],
 *     "images": [ { "id", "virtual_size", "os", "arch", "boot", "min_mem",
 *                   "min_disk", "source", "created", "parent", "names": [] } ],
 *     "vm": { "name", "image", "cpus", "mem", "mac", "uuid", "machine_id",
 *             "top": LAYER, "layers": [ { "id", "file", "parent" } ],
 *             "snapshots": [ { "tag", "layer", "created" } ] } }   (VM bundles)
 *
 * Importing verifies every file's size and SHA-256 and every image's
 * content id before anything enters the catalog; any mismatch, missing or
 * unlisted file refuses the whole bundle and leaves nothing behind.
 */
#ifndef VV_IMAGES_BUNDLE_H
#define VV_IMAGES_BUNDLE_H

#include <stdbool.h>

#include "images/catalog.h"

/* True when the file at @path looks like a tar archive. */
bool bundle_probe(const char *path);

/* Writes image @id (with its names and metadata) as a bundle to @dest;
 * refuses to overwrite (-EEXIST). 0 or -errno (img_last_error()). */
int bundle_export_image(struct cat *c, const char *id, const char *dest);

/* Writes VM @name (stopped), its definition, layers, snapshots and its
 * image, as a bundle to @dest. VMs with extra data disks: -EOPNOTSUPP. */
int bundle_export_vm(struct cat *c, const char *name, const char *dest);

struct bundle_result {
	unsigned images_new;     /* images added to the catalog */
	unsigned images_known;   /* already there (same content id) */
	char first_id[CAT_ID_LEN + 1];
	char vm[CAT_NAME_MAX + 1];  /* the VM created, or "" */
};

/* Imports the bundle at @path: its images, and its VM under its own name
 * or @vm_name when not NULL (-EEXIST when the name is taken). */
int bundle_import(struct cat *c, const char *path, const char *vm_name,
		  struct bundle_result *res);

#endif
