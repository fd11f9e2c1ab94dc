/* images/catalog.c: opening the catalog, its schema, locks and
 * transactions. */
#include "images/cat_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/fsutil.h"

#define CAT_BUSY_TIMEOUT_MS 60000

/* Version 1. Ids are hex SHA-256; sizes in bytes; times Unix seconds. */
static const char schema_v1[] =
	"CREATE TABLE images("
	" id TEXT PRIMARY KEY,"
	" file_sha256 TEXT NOT NULL,"
	" file TEXT NOT NULL,"
	" virtual_size INTEGER NOT NULL,"
	" file_size INTEGER NOT NULL,"
	" os TEXT NOT NULL DEFAULT '',"
	" arch TEXT NOT NULL DEFAULT '',"
	" boot TEXT NOT NULL DEFAULT '',"
	" min_mem INTEGER NOT NULL DEFAULT 0,"
	" min_disk INTEGER NOT NULL DEFAULT 0,"
	" source TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL,"
	" parent TEXT REFERENCES images(id));"
	"CREATE TABLE names("
	" name TEXT NOT NULL,"
	" version TEXT NOT NULL,"
	" image TEXT NOT NULL REFERENCES images(id),"
	" seq INTEGER NOT NULL,"
	" PRIMARY KEY(name, version));"
	"CREATE INDEX names_image ON names(image);"
	"CREATE TABLE labels("
	" image TEXT NOT NULL REFERENCES images(id),"
	" label TEXT NOT NULL,"
	" PRIMARY KEY(image, label));"
	"CREATE TABLE vms("
	" name TEXT PRIMARY KEY,"
	" state TEXT NOT NULL,"
	" image TEXT REFERENCES images(id),"
	" cpus INTEGER NOT NULL,"
	" mem INTEGER NOT NULL,"
	" mac TEXT NOT NULL,"
	" uuid TEXT NOT NULL,"
	" machine_id TEXT NOT NULL,"
	" top INTEGER,"
	" lab TEXT NOT NULL DEFAULT '',"
	" net TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL);"
	"CREATE INDEX vms_image ON vms(image);"
	"CREATE TABLE layers("
	" id INTEGER PRIMARY KEY,"
	" vm TEXT NOT NULL,"
	" file TEXT NOT NULL UNIQUE,"
	" parent INTEGER REFERENCES layers(id),"
	" standalone INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX layers_vm ON layers(vm);"
	"CREATE TABLE snapshots("
	" vm TEXT NOT NULL,"
	" tag TEXT NOT NULL,"
	" layer INTEGER NOT NULL REFERENCES layers(id),"
	" created INTEGER NOT NULL,"
	" PRIMARY KEY(vm, tag));"
	"CREATE TABLE labs("
	" name TEXT PRIMARY KEY,"
	" image TEXT NOT NULL REFERENCES images(id),"
	" count INTEGER NOT NULL,"
	" net TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL);";

/* Version 2: a VM's extra data disks (disk 0 is its layer chain). */
static const char schema_v2[] =
	"CREATE TABLE disks("
	" vm TEXT NOT NULL,"
	" idx INTEGER NOT NULL,"
	" file TEXT NOT NULL UNIQUE,"
	" created INTEGER NOT NULL,"
	" PRIMARY KEY(vm, idx));";

/* Version 3: VMs that get a cloud-init NoCloud seed disk. */
static const char schema_v3[] =
	"ALTER TABLE vms ADD COLUMN cloud_init INTEGER NOT NULL DEFAULT 0;";

/* Version 4: images that say they are cloud-init images. */
static const char schema_v4[] =
	"ALTER TABLE images ADD COLUMN cloud_init INTEGER NOT NULL DEFAULT 0;";

const char *cat_default_state_dir(void)
{
	const char *e = getenv("VHDVISOR_STATE");

	return e && *e ? e : "/var/lib/vhdvisor";
}

int cat_step_write(struct cat *c, sqlite3_stmt *st, bool must_change)
{
	int r = cat_sqlerr(sqlite3_step(st));

	if (!r && must_change && sqlite3_changes(c->db) == 0)
		r = -ENOENT;
	sqlite3_finalize(st);
	return r;
}

int cat_step_row(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 0;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? -ENOENT : cat_sqlerr(rc);
}

void cat_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int cat_sqlerr(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

int cat_prepare(struct cat *c, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : cat_sqlerr(rc);
}

int cat_exec(struct cat *c, const char *sql)
{
	return cat_sqlerr(sqlite3_exec(c->db, sql, NULL, NULL, NULL));
}

void cat_col_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;

	/* as snprintf("%s") did, without its cost (lists read 13 per row) */
	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, t ? (const char *)t : "", n);
	buf[n] = '\0';
}

const char *cat_errmsg(const struct cat *c)
{
	return c && c->db ? sqlite3_errmsg(c->db) : "no catalog";
}

const char *cat_dir(const struct cat *c)
{
	return c->dir;
}

int cat_path(const struct cat *c, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", c->dir, rel);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cat_begin(struct cat *c)
{
	int r;

	if (c->depth) {
		c->depth++;
		return 0;
	}
	r = cat_exec(c, "BEGIN IMMEDIATE");
	if (!r)
		c->depth = 1;
	return r;
}

int cat_commit(struct cat *c)
{
	int r;

	if (c->depth > 1) {
		c->depth--;
		return 0;
	}
	r = cat_exec(c, "COMMIT");
	if (r) {
		cat_rollback(c);
		return r;
	}
	c->depth = 0;
	return 0;
}

void cat_rollback(struct cat *c)
{
	if (!c->depth)
		return;
	if (sqlite3_get_autocommit(c->db) == 0)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	c->depth = 0;
}

int cat_auto_begin(struct cat *c)
{
	int r;

	if (c->depth)
		return 0;
	r = cat_begin(c);
	return r ? r : 1;
}

int cat_auto_end(struct cat *c, int own, int r)
{
	if (!own)
		return r;
	if (r) {
		cat_rollback(c);
		return r;
	}
	return cat_commit(c);
}

static int user_version(struct cat *c, int *version)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "PRAGMA user_version", &st);
	if (r)
		return r;
	*version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return *version > CAT_SCHEMA_VERSION ? -EPROTO : 0;
}

static int schema_setup(struct cat *c)
{
	int version, r;

	/* Read first: a current schema needs no write transaction, so opens
	 * (one per API request) do not queue for the write lock. */
	r = user_version(c, &version);
	if (r || version == CAT_SCHEMA_VERSION)
		return r;
	r = cat_begin(c);
	if (r)
		return r;
	/* again inside the transaction: another process may have just done it */
	r = user_version(c, &version);
	if (!r && version == 0)
		r = cat_exec(c, schema_v1);
	if (!r && version < 2)
		r = cat_exec(c, schema_v2);
	if (!r && version < 3)
		r = cat_exec(c, schema_v3);
	if (!r && version < 4)
		r = cat_exec(c, schema_v4);
	if (!r && version < CAT_SCHEMA_VERSION)
		r = cat_exec(c, "PRAGMA user_version = 4");
	if (r) {
		cat_rollback(c);
		return r;
	}
	return cat_commit(c);
}

/* True when the filesystem holding @path has (almost) no space left. */
static bool fs_full(const char *path)
{
	struct statvfs sv;

	return !statvfs(path, &sv) && (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20);
}

/* True when folder @rel of the state directory has any entry. */
static bool subdir_used(const struct cat *c, const char *rel)
{
	char path[4200];
	struct dirent *de;
	bool used = false;
	DIR *d;

	if (cat_path(c, rel, path, sizeof(path)) || !(d = opendir(path)))
		return false;
	while (!used && (de = readdir(d)))
		used = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return used;
}

bool cat_state_has_data(const struct cat *c)
{
	return subdir_used(c, "images") || subdir_used(c, "vms");
}

/* -EUCLEAN when the database just opened has no schema (a new, emptied or
 * lost file, or a WAL whose frames SQLite dropped) while the state
 * directory holds images or VMs: creating a fresh schema would silently
 * forget them. Reads only, so a damaged WAL stays as it was. */
static int schema_present(struct cat *c)
{
	sqlite3_stmt *st;
	int r, n;

	r = cat_prepare(c, "SELECT count(*) FROM sqlite_master", &st);
	if (r)
		return r;
	r = cat_step_row(st);
	if (r)
		return r;
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n == 0 && cat_state_has_data(c) ? -EUCLEAN : 0;
}

int cat_db_open(struct cat *c, const char *file, unsigned flags)
{
	char path[4200];
	int r;

	r = cat_path(c, file, path, sizeof(path));
	if (r)
		return r;
	r = sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL);
	if (r != SQLITE_OK)
		return cat_sqlerr(r);
	sqlite3_busy_timeout(c->db, CAT_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(c->db, 0);
	/* No checkpoint when the last connection closes, so that the -wal and
	 * -shm files usually stay and the next open needs no new space
	 * (writers checkpoint as usual, every 1000 pages). */
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* Exclusive locking keeps the WAL index in memory, without the -shm
	 * file that SQLite may have to grow: the way in on a full disk. */
	r = flags & CAT_DB_EXCLUSIVE ? cat_exec(c, "PRAGMA locking_mode=EXCLUSIVE") : 0;
	if (!r)
		r = cat_exec(c, "PRAGMA journal_mode=WAL");
	if (!r)
		r = cat_exec(c, "PRAGMA synchronous=FULL");
	if (!r)
		r = cat_exec(c, "PRAGMA foreign_keys=ON");
	if (!r && (flags & CAT_DB_CHECK))
		r = schema_present(c);
	if (!r)
		r = schema_setup(c);
	return r;
}

int cat_open(const char *dir, struct cat **out)
{
	static const char *const subdirs[] = { "images", "vms", "tmp" };
	char path[4200];
	struct stat stb;
	struct cat *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->lock_fd = -1;
	r = fs_mkdir_p(dir);
	if (r)
		goto err;
	if (!realpath(dir, c->dir)) {
		r = -errno;
		goto err;
	}
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		r = cat_path(c, subdirs[i], path, sizeof(path));
		if (r)
			goto err;
		if (mkdir(path, 0700) && errno != EEXIST) {
			r = -errno;
			goto err;
		}
	}
	r = cat_path(c, "lock", path, sizeof(path));
	if (r)
		goto err;
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_SH)) {
		r = -errno;
		goto err;
	}
	/* A missing or empty database in a state directory that holds
	 * images or VMs was lost: refuse before SQLite makes a new one (and
	 * before it touches a -wal file that may still hold the data). */
	r = cat_path(c, "catalog.db", path, sizeof(path));
	if (r)
		goto err;
	if (stat(path, &stb)) {
		if (errno != ENOENT) {
			r = -errno;
			goto err;
		}
		stb.st_size = 0;	/* missing */
	}
	if (stb.st_size == 0 && cat_state_has_data(c)) {
		r = -EUCLEAN;
		goto err;
	}
	r = cat_db_open(c, "catalog.db", CAT_DB_CHECK);
	if (r == -EIO && fs_full(c->dir)) {
		/* the -shm file could not grow: read (and fail writes with
		 * -ENOSPC) holding the catalog alone until cat_close() */
		sqlite3_close_v2(c->db);
		c->db = NULL;
		r = cat_db_open(c, "catalog.db", CAT_DB_CHECK | CAT_DB_EXCLUSIVE);
	}
	if (r == -EIO && fs_full(c->dir))
		r = -ENOSPC;
	if (r)
		goto err;
	c->opened = true;
	*out = c;
	return 0;
err:
	cat_close(c);
	return r;
}

int cat_lock_exclusive(struct cat *c)
{
	/* flock converts in place; another process's conversion could
	 * deadlock with ours, so release first and wait for exclusive. */
	if (flock(c->lock_fd, LOCK_UN) || flock(c->lock_fd, LOCK_EX))
		return -errno;
	return 0;
}

/* The first connection to open the catalog (no other one has it open: a
 * CLI command, an idle daemon's request) rebuilds SQLite's WAL index by
 * reading the whole WAL: after a clone of 10,000 VMs, 7 MB in 1,750 reads
 * on every open. So the one closing after a big WAL folds it into the
 * database and empties it, when nobody reads (busy: left for later). A
 * small WAL stays, so the next writes usually need no new space. */
#define CAT_WAL_KEEP (1 << 20)

static void wal_shrink(struct cat *c)
{
	char path[4200];
	struct stat st;

	if (!c->opened || cat_path(c, "catalog.db-wal", path, sizeof(path)) || stat(path, &st) ||
	    st.st_size <= CAT_WAL_KEEP)
		return;
	sqlite3_busy_timeout(c->db, 0);
	sqlite3_exec(c->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

void cat_close(struct cat *c)
{
	if (!c)
		return;
	cat_rollback(c);
	if (c->db) {
		wal_shrink(c);
		sqlite3_close_v2(c->db);
	}
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c);
}
