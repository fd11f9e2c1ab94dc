/* images/bundle_int.h: what the bundle files share (folder-private). */
#ifndef VV_IMAGES_BUNDLE_INT_H
#define VV_IMAGES_BUNDLE_INT_H

#include <json-c/json.h>

#include "images/bundle.h"

/* Judges every field of manifest @man (images and VM) with the rules the
 * command line applies to the same values: types, ranges (cpus, memory),
 * MAC, UUID and machine-id syntax, names and snapshot tags, strings free
 * of control characters. 0 or -EINVAL (img_last_error()). */
int bundle_manifest_check(json_object *man);

/* True for a content id: 64 lowercase hex digits. */
bool bundle_id_valid(const char *s);

/* Checks the "vm" object of a manifest against the files extracted under
 * @dir: layers listed as files, parents before children, the top and
 * every snapshot naming a layer; every layer a sound VHD (`vhd check`)
 * that records the UUID of the parent the manifest names (its parent layer,
 * or the VM's image: in the bundle, else in catalog @c) and no other; a
 * bottom layer marked standalone is not differencing.
 * 0 or -errno (img_last_error()). */
int bundle_vm_verify(struct cat *c, const char *dir, json_object *vmj);

/* Records the verified VM of @vmj as @name (NULL: its own name), moving
 * its layers from @dir into STATE/vms/<name>/, where each layer is linked
 * anew to the file the manifest names (vhd_set_parent) and its parent
 * lookup must find exactly that file (vhd_parent_verify).
 * Under a new name the VM gets a new MAC, UUID and machine-id unless
 * BUNDLE_KEEP_IDENTITY is in @flags. The VM's name is claimed first; on
 * failure nothing of it stays. Writes the name to @out. */
int bundle_vm_adopt(struct cat *c, const char *dir, json_object *vmj, const char *name,
		    unsigned flags, char out[CAT_NAME_MAX + 1]);

/* What bundle_set_progress() set for this thread (fn may be NULL). */
struct bundle_progress {
	img_progress_fn fn;
	void *opaque;
};
extern _Thread_local struct bundle_progress bundle_progress;

#endif
