/* images/cat_recover.h: rebuilding a lost or damaged catalog from the
 * files of its state directory, and checking that the catalog and the
 * files agree.
 *
 * What the files say, and so what a recovery brings back:
 *  - images: every STATE/images/<id>.vhd whose content id, recomputed,
 *    equals its name (file SHA-256, sizes; created = the file's mtime).
 *    Names, versions, labels, os/arch/boot, min-mem, source, the parent
 *    image and the cloud-init mark live only in the catalog: lost.
 *  - VMs: every folder STATE/vms/<name>/ with a valid VM name. Its layers
 *    are linked by parent UUID (the VHD differencing header), to another
 *    file of the folder or to a recovered image; the top is the newest
 *    leaf of the chain tree (footer timestamp, then mtime); every other
 *    layer of that tree gets a snapshot "recovered-<n>" (oldest first),
 *    since each frozen layer once was one (the real tags are lost);
 *    standalone dynamic VHDs no layer sits on are its extra disks, oldest
 *    first. A VM without differencing layers takes its oldest standalone
 *    VHD as its disk (a guess, reported). cpus and memory are the
 *    defaults, the MAC is derived from the name as at creation, the SMBIOS
 *    UUID and machine-id are new, lab and network are empty.
 *  - labs: not in the files; their VMs come back as plain VMs.
 * When SQLite can still read the old catalog (a catalog.db emptied or
 * deleted while its WAL survived, a WAL damaged after a checkpoint, or
 * --force on a catalog that opens), what it says about the
 * recovered images, VMs and layers is kept: image metadata, names and
 * labels, VM settings and identity, snapshot tags, labs (cat_salvage.c).
 * Files it cannot place (a layer whose parent is not found, an image whose
 * content does not match its name, journals, anything else) are moved to
 * STATE/lost+found/ (same relative path), never deleted, so that `image gc`
 * does not take them for leftovers.
 *
 * The new catalog is built beside the old one (catalog.db.recover) and
 * switched in by one rename after the old database and its -wal/-shm files
 * were copied into STATE/catalog-damaged-<UTC time>/ (kept, never
 * deleted) and the old -wal/-shm removed (a catalog that opens has its WAL
 * folded into its database first, so removing it changes nothing it says):
 * a crash leaves either the old catalog (refused as damaged, as before, or
 * the same readable catalog; running the recovery again is safe) or the
 * new one.
 *
 * Functions return 0 or -errno with the reason in img_last_error()
 * (images/img_store.h); they never print.
 */
#ifndef VV_IMAGES_CAT_RECOVER_H
#define VV_IMAGES_CAT_RECOVER_H

#include <stdbool.h>

struct cat_recover_opts {
	bool force;          /* rebuild even a catalog that opens fine */
	bool dry_run;        /* report what would be rebuilt; change nothing */
	/* Called with each line of the report (what was rebuilt, guessed,
	 * lost, moved). May be NULL. */
	void (*note)(void *opaque, const char *msg);
	void *opaque;
};

struct cat_recover_result {
	unsigned images, vms, layers, snapshots, disks;
	unsigned lost;       /* files moved to lost+found (or that would be) */
	char aside[4200];    /* folder holding the old catalog, "" when none */
};

/* Rebuilds the catalog of state directory @dir from its files (see
 * above), holding the state directory's lock exclusively (waits for
 * running operations). Refuses (-EEXIST) when the catalog opens fine,
 * unless @o->force. */
int cat_recover(const char *dir, const struct cat_recover_opts *o,
		struct cat_recover_result *res);

struct cat_check_result {
	unsigned problems;   /* rows whose file is missing, integrity errors */
	unsigned unnamed;    /* files under images/ and vms/ no row names */
};

/* Checks the catalog of @dir: SQLite's integrity check, every image,
 * layer and disk row's file exists (images: with the recorded size), and
 * counts the files no row names. @note gets one line per finding. Opens
 * like cat_open (so a missing or damaged catalog is -EUCLEAN). */
int cat_check(const char *dir, void (*note)(void *opaque, const char *msg), void *opaque,
	      struct cat_check_result *res);

#endif
