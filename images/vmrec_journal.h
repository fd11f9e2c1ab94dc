/* images/vmrec_journal.h: the journal of an interrupted snapshot merge
 * (folder-private; vmrec_merge.c uses it).
 *
 * One per VM at most: STATE/vms/<vm>/merge.journal, JSON, replaced
 * atomically (temporary file, fsync, rename, fsync of the folder). It
 * records what the merge read (the VM's layer rows and the identity of
 * every source file), which new files it builds and how far each copy is
 * durable, so that a rerun can tell whether it may continue.
 */
#ifndef VV_IMAGES_VMREC_JOURNAL_H
#define VV_IMAGES_VMREC_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "images/cat_vm.h"

#define VMJ_NAME "merge.journal"

/* What identifies a file's content without reading it. */
struct vmj_ident {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

struct vmj_row {               /* a layer row as the merge saw it */
	int64_t id, parent;
	int standalone;
	char file[192];
};

struct vmj_src {               /* a source file and its identity */
	char file[192];        /* relative to the state dir */
	struct vmj_ident id;
};

struct vmj_file {              /* one layer rebuilt into a new file */
	int64_t layer;         /* its row id */
	char old_file[192], new_file[192];
	int parent;            /* index of the new file it sits on; -1: the base */
	int depth;             /* source layers copied (2 for the child, else 1) */
	uint64_t size;         /* virtual size */
	uint64_t done;         /* durable below this offset; size = complete */
};

struct vmj {
	char vm[CAT_NAME_MAX + 1];
	char tag[CAT_NAME_MAX + 1];
	int64_t snap_layer;    /* the snapshot's layer, merged away */
	int64_t top;           /* the VM's top when the merge started */
	char base[192];        /* parent file of the first new file; "" standalone */
	struct vmj_row *rows;
	unsigned nrows;
	struct vmj_src *src;
	unsigned nsrc;
	struct vmj_file *files;
	unsigned nfiles;
};

/* Relative path of VM @vm's journal into @rel. */
void vmj_rel(const char *vm, char rel[192]);

/* Reads and validates VM @vm's journal into @j (vmj_free it). -ENOENT
 * when there is none, -EINVAL when it is damaged (reason in
 * img_last_error()); every file it names for removal is checked to be a
 * layer file name in the VM's own folder. */
int vmj_load(struct cat *c, const char *vm, struct vmj *j);

/* Writes @j atomically and durably. 0 or -errno. */
int vmj_save(struct cat *c, const struct vmj *j);

/* Removes VM @vm's journal (durably); a missing one is fine. */
void vmj_remove(struct cat *c, const char *vm);

/* Frees what vmj_load allocated (and @j's arrays); accepts a zeroed @j. */
void vmj_free(struct vmj *j);

/* True when @rel is a layer file name of VM @vm: "vms/<vm>/<16 hex>.vhd". */
bool vmj_layer_name(const char *vm, const char *rel);

/* The identity of the file at @path. 0 or -errno. */
int vmj_ident_of(const char *path, struct vmj_ident *id);

#endif
