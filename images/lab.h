/* images/lab.h: labs: N linked clones of one image, named LAB-1 .. LAB-N,
 * optionally on one lab network (netback's `vhdvisor net`), created,
 * reset and removed together. 0 or -errno (img_last_error()). */
#ifndef VV_IMAGES_LAB_H
#define VV_IMAGES_LAB_H

#include <stdbool.h>
#include <sys/types.h>

#include "images/catalog.h"
#include "images/vmstart.h"

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

/* One VM of a lab_start()/lab_stop() run, before (@before) and after
 * its start or stop. */
struct lab_step {
	const char *vm;
	bool before;            /* about to start/stop it; r, pid not yet set */
	int r;                  /* 0 or -errno; the reason in img_last_error() */
	pid_t pid;              /* the runtime's, after a start */
	unsigned done, total;   /* VMs handled so far (this one included), to handle */
};

/* Called before each VM (a nonzero return ends the run there: cancel)
 * and, when the before call returned 0, after it (its return ignored). */
typedef int (*lab_step_fn)(void *opaque, const struct lab_step *s);

/* Starts (vmrec_start(), with the overrides @b, NULL: none) every VM of
 * lab @lab in catalog @state_dir that does not run yet, or stops
 * (vmrec_stop(), killed after @timeout_ms) every one that runs, one after
 * the other. The catalog is open only while a VM's config is built, never
 * while a runtime starts. The CLI (`vhdvisor lab`) and the API's lab tasks
 * both run labs through these. @fn (may be NULL) hears of each VM.
 * 0 when every VM did; -EIO when some failed (how many in *@failed, their
 * reasons given to @fn); -ECANCELED when @fn ended the run; -ENOENT (no such
 * lab); -EALREADY when every VM already runs (start) or none runs (stop);
 * another -errno (img_last_error()). */
int lab_start(const char *state_dir, const char *lab, const struct vmrec_boot *b,
	      lab_step_fn fn, void *opaque, unsigned *failed);
int lab_stop(const char *state_dir, const char *lab, unsigned timeout_ms, lab_step_fn fn,
	     void *opaque, unsigned *failed);

#endif
