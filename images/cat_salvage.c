/* images/cat_salvage.c: what `catalog recover` keeps from the old catalog
 * when SQLite can still read some of it (a WAL damaged after a checkpoint
 * leaves the checkpointed state; `--force` on a catalog that opens).
 *
 * The files decide what exists; the old rows only add what the files
 * cannot say, and only for what the files brought back: image metadata,
 * names and labels of recovered images, settings and identity of
 * recovered VMs (matched by name), snapshot tags (matched by layer file),
 * labs whose image was recovered. The old database is opened read-only:
 * nothing in it changes; when catalog.db is empty or gone but its WAL
 * survived, a scratch copy under STATE/tmp reads the WAL alone. */
#include "images/cat_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img_store.h"

struct salvage {
	struct cat *c;          /* the new catalog, in its transaction */
	sqlite3 *old;
	unsigned images, names, vms, tags, labs;
};

/* Runs @sql on the old database; for each row, binds its columns 1..n as
 * parameters ?1..?n of @apply on the new one and steps it. Returns how
 * many rows @apply changed. Errors of single rows (a constraint) are
 * skipped: the row is not salvaged. */
static unsigned copy_rows(struct salvage *s, const char *sql, const char *apply)
{
	sqlite3_stmt *src, *dst;
	unsigned n = 0;

	if (sqlite3_prepare_v2(s->old, sql, -1, &src, NULL) != SQLITE_OK)
		return 0;
	if (cat_prepare(s->c, apply, &dst)) {
		sqlite3_finalize(src);
		return 0;
	}
	while (sqlite3_step(src) == SQLITE_ROW) {
		int cols = sqlite3_column_count(src);

		sqlite3_reset(dst);
		sqlite3_clear_bindings(dst);
		for (int i = 0; i < cols; i++)
			sqlite3_bind_value(dst, i + 1, sqlite3_column_value(src, i));
		if (sqlite3_step(dst) == SQLITE_DONE && sqlite3_changes(s->c->db) > 0)
			n++;
	}
	sqlite3_finalize(dst);
	sqlite3_finalize(src);
	return n;
}

static void salvage_rows(struct salvage *s)
{
	s->images = copy_rows(s,
		"SELECT id, os, arch, boot, min_mem, min_disk, source, created, cloud_init"
		" FROM images",
		"UPDATE images SET os = ?2, arch = ?3, boot = ?4, min_mem = ?5, min_disk = ?6,"
		" source = ?7, created = ?8, cloud_init = ?9 WHERE id = ?1");
	copy_rows(s, "SELECT id, parent FROM images WHERE parent IS NOT NULL",
		  "UPDATE images SET parent = ?2 WHERE id = ?1"
		  " AND EXISTS (SELECT 1 FROM images WHERE id = ?2)");
	s->names = copy_rows(s, "SELECT name, version, image, seq FROM names",
		"INSERT OR IGNORE INTO names(name, version, image, seq)"
		" SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM images WHERE id = ?3)");
	copy_rows(s, "SELECT image, label FROM labels",
		  "INSERT OR IGNORE INTO labels(image, label)"
		  " SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM images WHERE id = ?1)");
	s->vms = copy_rows(s,
		"SELECT name, cpus, mem, mac, uuid, machine_id, lab, net, created, cloud_init"
		" FROM vms WHERE state = 'ready'",
		"UPDATE vms SET cpus = ?2, mem = ?3, mac = ?4, uuid = ?5, machine_id = ?6,"
		" lab = ?7, net = ?8, created = ?9, cloud_init = ?10 WHERE name = ?1");
	/* a recovered-N snapshot on the same layer file takes the old tag */
	s->tags = copy_rows(s,
		"SELECT s.vm, s.tag, l.file, s.created FROM snapshots s"
		" JOIN layers l ON l.id = s.layer ORDER BY s.created",
		"UPDATE snapshots SET tag = ?2, created = ?4 WHERE rowid = ("
		" SELECT s.rowid FROM snapshots s JOIN layers l ON l.id = s.layer"
		" WHERE s.vm = ?1 AND l.file = ?3 AND s.tag LIKE 'recovered-%' LIMIT 1)"
		" AND NOT EXISTS (SELECT 1 FROM snapshots WHERE vm = ?1 AND tag = ?2)");
	s->labs = copy_rows(s, "SELECT name, image, count, net, created FROM labs",
		"INSERT OR IGNORE INTO labs(name, image, count, net, created)"
		" SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM images WHERE id = ?2)"
		" AND EXISTS (SELECT 1 FROM vms WHERE lab = ?1)");
}

/* A scratch database in folder @dir (absolute) that reads the old WAL
 * alone: a fresh WAL-mode database of the WAL's page size, with a copy of
 * the WAL beside it (SQLite takes every page, page 1 included, from the
 * WAL's frames). For a catalog.db that was emptied or deleted while its
 * WAL survived. 0 and *@db open, or -errno. */
static int open_wal_copy(struct cat *c, const char *dir, sqlite3 **db)
{
	char wal[4300], path[4400], sql[64];
	uint8_t h[32];
	uint32_t page;
	int fd, r;

	if (cat_path(c, "catalog.db-wal", wal, sizeof(wal)))
		return -ENAMETOOLONG;
	fd = open(wal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	r = pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) ? 0 : -EINVAL;
	close(fd);
	page = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
	if (r || (memcmp(h, "\x37\x7f\x06\x82", 4) && memcmp(h, "\x37\x7f\x06\x83", 4)) ||
	    page < 512 || page > 65536 || (page & (page - 1)))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return -EIO;
	snprintf(sql, sizeof(sql), "PRAGMA page_size=%u", page);
	if (sqlite3_exec(*db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(*db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
		r = -EIO;
	sqlite3_close_v2(*db);
	*db = NULL;
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/catalog.db-wal", dir);
	unlink(path);
	r = cat_copy_file(wal, path);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	return sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ==
	       SQLITE_OK ? 0 : -EIO;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

int cat_salvage(struct cat *c, void (*note)(void *opaque, const char *msg), void *opaque)
{
	struct salvage s = { .c = c };
	char path[4200], scratch[4300] = "", rel[128], msg[512];
	struct stat stb;

	if (cat_path(c, "catalog.db", path, sizeof(path)))
		return 0;
	if (!stat(path, &stb) && stb.st_size > 0) {
		if (sqlite3_open_v2(path, &s.old, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK) {
			sqlite3_close_v2(s.old);
			return 0;
		}
	} else {
		/* emptied or deleted: the WAL alone may still say it all */
		if (img_tmp_name("salvage", rel, sizeof(rel)) ||
		    cat_path(c, rel, scratch, sizeof(scratch)) || mkdir(scratch, 0700))
			return 0;
		if (open_wal_copy(c, scratch, &s.old)) {
			sqlite3_close_v2(s.old);
			nftw(scratch, rm_one, 8, FTW_DEPTH | FTW_PHYS);
			return 0;
		}
	}
	sqlite3_busy_timeout(s.old, 5000);
	salvage_rows(&s);
	sqlite3_close_v2(s.old);
	if (scratch[0])
		nftw(scratch, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	if (note && (s.images || s.names || s.vms || s.tags || s.labs)) {
		snprintf(msg, sizeof(msg), "from the old catalog: metadata of %u images, %u names,"
			 " settings and identity of %u VMs, %u snapshot tags, %u labs", s.images,
			 s.names, s.vms, s.tags, s.labs);
		note(opaque, msg);
	}
	return 0;
}
