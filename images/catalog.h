/* images/catalog.h: the image catalog, a SQLite database in the state
 * directory (ARCHITECTURE.md "Places on disk").
 *
 * Layout of a state directory STATE:
 *   STATE/catalog.db           the database (WAL journal)
 *   STATE/lock                 flock: shared while an operation runs,
 *                              exclusive for `image gc`
 *   STATE/images/<id>.vhd      one standalone VHD per image (content id)
 *   STATE/vms/<name>/<16 hex>.vhd  a VM's layers (differencing VHDs) and
 *                              extra data disks (dynamic VHDs)
 *   STATE/tmp/                 files being built, unpacked bundles;
 *                              gc empties it
 *   STATE/catalog-damaged-TIME/, STATE/lost+found/
 *                              what `catalog recover` kept aside
 *                              (images/cat_recover.h); never swept
 *
 * Rules that keep concurrent commands and kill -9 safe:
 *  - write transactions are short (BEGIN IMMEDIATE, a few statements,
 *    COMMIT) and never span a file copy; busy_timeout is 60 s, so parallel
 *    commands queue instead of failing;
 *  - files are built under STATE/tmp or a temporary name and renamed into
 *    place before the catalog points at them; records of objects still
 *    being built carry state "creating" (VMs) and are finished or removed
 *    by a second short transaction;
 *  - every operation holds a shared flock on STATE/lock, `image gc` an
 *    exclusive one, so gc only ever sees what dead operations left.
 *
 * A struct cat is used by one thread at a time.
 */
#ifndef VV_IMAGES_CATALOG_H
#define VV_IMAGES_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAT_SCHEMA_VERSION 4
#define CAT_ID_LEN 64          /* hex SHA-256 */
#define CAT_NAME_MAX 64        /* image, VM and lab names */

struct cat;

/* ---- open, close, transactions ---- */

/* The state directory: $VHDVISOR_STATE, else /var/lib/vhdvisor. */
const char *cat_default_state_dir(void);

/* Opens (creating when missing) the catalog of state directory @dir:
 * creates the folders, the database and its schema, upgrades an older
 * schema, refuses (-EPROTO) a newer one, and takes the shared operation
 * lock. A state directory whose images/ or vms/ holds anything but whose
 * database is missing, empty, schema-less (e.g. its WAL was damaged) or
 * corrupt is refused with -EUCLEAN and left untouched: see
 * images/cat_recover.h. Returns 0 and *out, or -errno. */
int cat_open(const char *dir, struct cat **out);
/* Releases the lock and closes; accepts NULL. */
void cat_close(struct cat *c);

/* The state directory the catalog was opened on (absolute). */
const char *cat_dir(const struct cat *c);

/* Trades the shared operation lock for an exclusive one (waits for every
 * other running operation to finish). For `image gc`. 0 or -errno. */
int cat_lock_exclusive(struct cat *c);

/* Starts a write transaction (BEGIN IMMEDIATE; waits up to the busy
 * timeout for other writers). Pair with cat_commit() or cat_rollback().
 * Functions below that write and are called outside a transaction run in
 * one of their own. 0 or -errno (-EBUSY after the timeout). */
int cat_begin(struct cat *c);
int cat_commit(struct cat *c);
/* Rolls back the open transaction, if any. Never fails. */
void cat_rollback(struct cat *c);

/* The last SQLite error message of @c, for logs. */
const char *cat_errmsg(const struct cat *c);

/* Path of @rel (relative to the state directory) into @buf; -ENAMETOOLONG
 * when it does not fit. */
int cat_path(const struct cat *c, const char *rel, char *buf, size_t len);

/* ---- images ---- */

struct cat_image {
	char id[CAT_ID_LEN + 1];          /* content id (see images/img_hash.h) */
	char file_sha256[CAT_ID_LEN + 1]; /* SHA-256 of the VHD file's bytes */
	char file[128];                   /* relative to the state dir */
	uint64_t virtual_size;
	uint64_t file_size;
	char os[64];                      /* "" when unknown */
	char arch[16];                    /* "x86_64", ... */
	char boot[16];                    /* "bios", "uefi", "direct", "" */
	uint64_t min_mem;                 /* bytes; 0 = unknown */
	uint64_t min_disk;                /* bytes; 0 = the virtual size */
	char source[256];                 /* where it came from (file, bundle) */
	int64_t created;                  /* Unix time */
	char parent[CAT_ID_LEN + 1];      /* image it was derived from, or "" */
	bool cloud_init;                  /* a cloud-init image: its VMs get a
					   * NoCloud seed unless turned off */
};

/* Inserts @img (id must be new: -EEXIST otherwise). */
int cat_image_add(struct cat *c, const struct cat_image *img);
/* Loads the image with exactly this id; -ENOENT when absent. */
int cat_image_get(struct cat *c, const char *id, struct cat_image *out);
/* Marks image @id as a cloud-init image (@on) or not. -ENOENT. */
int cat_image_set_cloud_init(struct cat *c, const char *id, bool on);
/* Resolves a reference to an image id: "NAME:VERSION", "NAME" (= the
 * latest version: the most recently added one, or the one literally
 * called "latest"), or an id or unique id prefix of at least 8 hex digits.
 * Returns 0, -ENOENT (nothing), or -EEXIST (ambiguous prefix). */
int cat_image_resolve(struct cat *c, const char *ref, char id[CAT_ID_LEN + 1]);
/* Removes the image row, its names and tags (not its file). -ENOENT when
 * absent, -EBUSY while a VM or another image refers to it. */
int cat_image_del(struct cat *c, const char *id);

/* Calls @fn for every image (ordered by creation); stops and returns @fn's
 * value when it is non-zero. */
int cat_image_foreach(struct cat *c,
		      int (*fn)(void *opaque, const struct cat_image *img),
		      void *opaque);

/* ---- names (name:version) and labels ---- */

/* Splits "NAME[:VERSION]" into its parts; version "" when absent. Checks
 * that the name is 1..CAT_NAME_MAX of [A-Za-z0-9._-] starting with an
 * alphanumeric, the version likewise. 0 or -EINVAL. */
int cat_ref_split(const char *ref, char name[CAT_NAME_MAX + 1],
		  char version[CAT_NAME_MAX + 1]);

/* Points NAME:VERSION at image @id, replacing an earlier target of that
 * exact name and version. An empty @version takes the next free number
 * ("1", "2", ...); the chosen version is written to @version_out (may be
 * NULL, else CAT_NAME_MAX + 1 bytes). 0 or -errno. */
int cat_name_set(struct cat *c, const char *name, const char *version,
		 const char *id, char *version_out);
/* Removes NAME:VERSION; -ENOENT when absent. */
int cat_name_del(struct cat *c, const char *name, const char *version);
/* Calls @fn with each "NAME:VERSION" of image @id, oldest first. */
int cat_name_foreach(struct cat *c, const char *id,
		     int (*fn)(void *opaque, const char *name, const char *version),
		     void *opaque);

/* Free-form labels on an image ("golden", "ci"). Adding twice is fine;
 * deleting a missing label is -ENOENT. */
int cat_label_add(struct cat *c, const char *id, const char *label);
int cat_label_del(struct cat *c, const char *id, const char *label);
int cat_label_foreach(struct cat *c, const char *id,
		      int (*fn)(void *opaque, const char *label), void *opaque);

#endif
