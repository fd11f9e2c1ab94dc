/* images/cat_int.h: what the catalog's files share (folder-private). */
#ifndef VV_IMAGES_CAT_INT_H
#define VV_IMAGES_CAT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "images/catalog.h"

struct cat {
	sqlite3 *db;
	int lock_fd;
	int depth;            /* nesting of cat_begin (0 = none) */
	bool opened;          /* cat_open() succeeded: cat_close() may fold the WAL */
	char dir[4096];
};

#define CAT_DB_EXCLUSIVE 0x1u  /* locking_mode=EXCLUSIVE (WAL index in memory) */
#define CAT_DB_CHECK     0x2u  /* -EUCLEAN when a schema-less database sits in a
				* state directory holding images or VMs */

/* Opens (creating when missing) the database file @file of @c's state
 * directory (relative name) into c->db, in WAL mode, and creates or
 * upgrades its schema. 0 or -errno (-EUCLEAN: damaged, or see
 * CAT_DB_CHECK). */
int cat_db_open(struct cat *c, const char *file, unsigned flags);

/* True when STATE/images or STATE/vms has any entry. */
bool cat_state_has_data(const struct cat *c);

/* Prepares @sql; logs nothing. 0 or -EIO. */
int cat_prepare(struct cat *c, const char *sql, sqlite3_stmt **st);
/* Maps an SQLite result code to -errno (BUSY -> -EBUSY, CONSTRAINT ->
 * -EEXIST, FULL -> -ENOSPC, others -> -EIO). */
int cat_sqlerr(int rc);
/* Runs @sql (no parameters, no rows). 0 or -errno. */
int cat_exec(struct cat *c, const char *sql);

/* Steps @st once as a write, then finalizes it. 0, -ENOENT when
 * @must_change and no row changed, or -errno. */
int cat_step_write(struct cat *c, sqlite3_stmt *st, bool must_change);
/* Steps @st once as a read of one row: 0 with the row ready (the caller
 * finalizes @st), or -ENOENT / -errno with @st finalized. */
int cat_step_row(sqlite3_stmt *st);
/* Binds text @s (not copied: it must outlive the step) to parameter @i. */
void cat_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Copies column @col of @st (text or NULL) into @buf of @len bytes. */
void cat_col_text(sqlite3_stmt *st, int col, char *buf, size_t len);

/* Wraps a writing function: opens a transaction when none is open. Use as
 *   int own = cat_auto_begin(c); if (own < 0) return own;
 *   ... r = ...;
 *   return cat_auto_end(c, own, r);
 * cat_auto_end commits when @own and @r == 0, rolls back when @own and r
 * != 0, and returns @r (or the commit's error). */
int cat_auto_begin(struct cat *c);
int cat_auto_end(struct cat *c, int own, int r);

/* ---- the files of a state directory (cat_files.c) ---- */

/* What a VHD says about itself, read without its parent. */
struct cat_file_ident {
	int type;                 /* enum vhd_type */
	uint64_t size;            /* virtual size, bytes */
	uint32_t timestamp;       /* footer creation time (seconds since 2000) */
	uint32_t allocated;       /* blocks allocated (dynamic/differencing) */
	int64_t mtime_ns;         /* the file's mtime, ns since the Unix epoch */
	uint8_t uuid[16];
	uint8_t parent_uuid[16];  /* differencing only, else zeros */
};

/* Reads the footer (and header) of the regular file @path, without
 * following a symlink, taking no lock and opening no parent. 0 or -errno
 * (-EINVAL: not a regular file). */
int cat_file_ident(const char *path, struct cat_file_ident *out);

/* Opens the VHD @path with its chain (no lock on @path itself) and writes
 * the real path of the parent file the library resolved into @parent
 * (PATH_MAX bytes, @len at least that). 0, -ENOENT when it has none, or
 * -errno. */
int cat_file_parent(const char *path, char *parent, size_t len);

/* For `catalog recover` (cat_salvage.c): copies into the new catalog @c
 * (in its transaction, rows rebuilt from the files) what the old
 * STATE/catalog.db, opened read-only, still says about the images, VMs
 * and layers the files brought back: image metadata, names and labels, VM
 * settings and identity, snapshot tags, labs. Reports a summary line
 * through @note. Never fails: what it cannot read is not salvaged. */
int cat_salvage(struct cat *c, void (*note)(void *opaque, const char *msg), void *opaque);

/* Copies the regular file @from (not followed when a symlink) to the new
 * file @to (0600; -EEXIST when it exists), fsynced. 0 or -errno. */
int cat_copy_file(const char *from, const char *to);

/* True when @name is "<64 lowercase hex>.vhd", an image file's name. */
bool cat_name_is_id_file(const char *name);

#endif
