/* images/bundle_int.h: what the bundle files share (folder-private). */
#ifndef VV_IMAGES_BUNDLE_INT_H
#define VV_IMAGES_BUNDLE_INT_H

#include <json-c/json.h>

#include "images/bundle.h"

/* Checks the "vm" object of a manifest against the files extracted under
 * @dir: layers listed as files, parents before children, the top and
 * every snapshot naming a layer, and every layer's chain opening there.
 * 0 or -errno (img_last_error()). */
int bundle_vm_verify(const char *dir, json_object *vmj);

/* Records the verified VM of @vmj as @name (NULL: its own name), moving
 * its layers from @dir into STATE/vms/<name>/. The VM's name is claimed
 * first; on failure nothing of it stays. Writes the name to @out. */
int bundle_vm_adopt(struct cat *c, const char *dir, json_object *vmj, const char *name,
		    char out[CAT_NAME_MAX + 1]);

/* What bundle_set_progress() set for this thread (fn may be NULL). */
struct bundle_progress {
	img_progress_fn fn;
	void *opaque;
};
extern _Thread_local struct bundle_progress bundle_progress;

#endif
