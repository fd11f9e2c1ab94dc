/* images/img_store.h: images in the catalog: import, export, removal and
 * garbage collection.
 *
 * Every image is one standalone dynamic VHD, STATE/images/<id>.vhd, whose
 * name is its content id (images/img_hash.h). Differencing chains are
 * flattened on import: the catalog keeps whole images, and VMs put their
 * own differencing layers on top of them (images/vmrec.h).
 *
 * Functions return 0 or -errno; the reason for the last failure in this
 * thread is in img_last_error(). They never print.
 */
#ifndef VV_IMAGES_IMG_STORE_H
#define VV_IMAGES_IMG_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "images/catalog.h"
#include "images/img_hash.h"

/* This thread's reason for the last failure ("" when none). */
const char *img_last_error(void);
/* Forgets it: a caller starting an operation clears the reason left by an
 * earlier one, so a failure never reports another operation's reason. */
void img_error_clear(void);
/* Sets it (printf-style); returns @err for `return img_fail(-EIO, ...)`. */
int img_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum img_format {
	IMG_FMT_RAW = 0,
	IMG_FMT_VHD,
	IMG_FMT_QCOW2,
	IMG_FMT_VMDK,
	IMG_FMT_VDI,
	IMG_FMT_VHDX,
};

/* Guesses the format of the file at @path from its magic numbers (a VHD
 * footer at the end or its copy at offset 0, qcow2, vmdk, vdi, vhdx);
 * anything else is raw. 0 or -errno. */
int img_probe(const char *path, enum img_format *fmt);
/* "raw", "vhd", "qcow2", ... (qemu-img's names for the foreign ones). */
const char *img_format_name(enum img_format fmt);
/* The reverse of img_format_name(). 0 or -EINVAL. */
int img_format_parse(const char *s, enum img_format *out);

struct img_import_opts {
	const char *ref;         /* "NAME[:VERSION]" to give it, or NULL */
	const char *os, *arch, *boot;   /* metadata, each may be NULL */
	uint64_t min_mem, min_disk;
	const char *source;      /* recorded origin; NULL = the path */
	const char *parent;      /* image id it derives from, or NULL */
	bool format_given;       /* the file is @format, whatever it looks like */
	enum img_format format;
	img_progress_fn progress;
	void *progress_opaque;
};

struct img_import_result {
	struct cat_image img;
	char version[CAT_NAME_MAX + 1];  /* the version given to ref's name */
	bool existed;                    /* same content was already there */
	uint64_t data_bytes;             /* non-zero data copied */
};

/* Imports the image at @path: a VHD (any type; a differencing disk with
 * its whole chain of VHDs, flattened: raw parents are refused), or
 * qcow2/vmdk/vdi/vhdx through qemu-img when it is installed, each as its
 * magic numbers say, or as o->format when given. A raw disk is imported
 * only when o->format says raw (anything unrecognised would otherwise
 * pass as one), and only when it is a whole number of 512-byte sectors;
 * a file named *.vhd that is not a VHD is refused. A VHD is checked first
 * and any damage refuses the import. Only non-zero data is copied, into STATE/tmp, then
 * renamed into STATE/images; the catalog changes in one short transaction
 * at the end, so an interrupted import leaves nothing the catalog sees.
 * Same content imported twice is stored once (res->existed). */
int img_import(struct cat *c, const char *path, const struct img_import_opts *o,
	       struct img_import_result *res);

/* Like img_import, from an open source (e.g. a VM's disk chain). */
int img_import_src(struct cat *c, const struct img_src *src, const struct img_import_opts *o,
		   struct img_import_result *res);

enum img_export_format {
	IMG_EXPORT_VHD = 0,   /* dynamic VHD */
	IMG_EXPORT_VHD_FIXED,
	IMG_EXPORT_RAW,
	IMG_EXPORT_AZURE,     /* fixed VHD, size rounded up to whole MiB */
};

/* Parses "vhd", "vhd-fixed", "raw", "azure". 0 or -EINVAL. */
int img_export_format_parse(const char *s, enum img_export_format *out);

/* Writes the content of a source to @dest in @fmt (sparse: zero chunks are
 * never written), under a temporary name linked into place at the end;
 * refuses to overwrite (-EEXIST). When @want_id is not NULL the content id
 * is verified on the way and a mismatch fails (-EIO) with nothing left at
 * @dest; when it is NULL no hashing is done. */
int img_export_src(const struct img_src *src, const char *dest, enum img_export_format fmt,
		   const char *want_id, img_progress_fn progress, void *opaque);

/* Exports image @id of the catalog (see img_export_src); @verify checks
 * the content id on the way (costs a SHA-256 pass over the data). */
int img_export(struct cat *c, const char *id, const char *dest, enum img_export_format fmt,
	       bool verify, img_progress_fn progress, void *opaque);

/* Opens the VHD (with its chain) at @path read-only as a source. Pair
 * with img_src_vhd_close(). 0 or -errno (reason in img_last_error()). */
int img_src_vhd_open(const char *path, struct img_src *src);
/* Same with VHD_OPEN_* @flags; files of the catalog are opened with
 * VHD_OPEN_NOFOLLOW (no file of their chain through a symbolic link). */
int img_src_vhd_open_flags(const char *path, unsigned flags, struct img_src *src);
void img_src_vhd_close(struct img_src *src);

/* Removes image @id: its row, names and file. -EBUSY while VMs use it
 * (see vmrec_flatten to detach them first). */
int img_remove(struct cat *c, const char *id);

struct img_gc_result {
	unsigned tmp_removed;      /* leftovers in STATE/tmp */
	unsigned files_removed;    /* image and layer files no row refers to */
	unsigned vms_removed;      /* VMs whose creation never finished */
	unsigned kept;             /* files or folders it could not account for */
	unsigned forced_removed;   /* of those, removed because of force */
};

struct img_gc_opts {
	bool force;                /* remove what it cannot account for too */
	/* Called for each file or folder (@rel, relative to the state dir)
	 * kept because gc cannot account for it, with the reason. May be NULL. */
	void (*kept)(void *opaque, const char *rel, const char *why);
	void *opaque;
};

/* Waits for every other operation on the state directory to end, then
 * removes what interrupted operations left: files in STATE/tmp, VMs still
 * "creating", files in the folder of a VM the catalog knows that no row
 * names, and image files no row names that no VM layer on disk chains to
 * (by parent UUID). Whatever else it finds under images/ and vms/ (a VM
 * folder the catalog does not know, an unnamed image some layer needs, a
 * file not named like an image, unnamed layers on a VM's top that hold
 * data: newer than the catalog) it cannot account for: it keeps it and
 * reports it through @o->kept, unless @o->force. @o may be NULL. */
int img_gc(struct cat *c, const struct img_gc_opts *o, struct img_gc_result *res);

/* A fresh random name "tmp/<32 hex>.SUFFIX" for a file under STATE
 * (relative path into @rel, @len bytes). 0 or -errno. */
int img_tmp_name(const char *suffix, char *rel, size_t len);

/* Runs vhd_check (VHD_CHECK_* @check_flags, never a repair) on the VHD at
 * @path: 0, or -errno with "WHAT: reason" / "WHAT is damaged: N problems,
 * first: ..." in img_last_error(). What every VHD entering the catalog
 * passes (image import, bundle images, layers and disks, disk add). */
int img_vhd_verify(const char *path, const char *what, unsigned check_flags);

/* fsyncs the file or folder at @path. 0 or -errno. */
int img_fsync_path(const char *path);

#endif
