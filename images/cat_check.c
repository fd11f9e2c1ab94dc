/* images/cat_check.c: does the catalog agree with the files? */
#include "images/cat_int.h"
#include "images/cat_recover.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct chk {
	struct cat *c;
	void (*note)(void *opaque, const char *msg);
	void *opaque;
	struct cat_check_result *res;
};

__attribute__((format(printf, 2, 3)))
static void say(struct chk *k, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!k->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	k->note(k->opaque, msg);
}

static int integrity(struct chk *k)
{
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(k->c, "PRAGMA integrity_check", &st);
	if (r)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (t && strcmp(t, "ok")) {
			k->res->problems++;
			say(k, "catalog: %s", t);
		}
	}
	sqlite3_finalize(st);
	return cat_sqlerr(rc);
}

/* Every file a row names exists (images: with the recorded size). */
static int rows(struct chk *k)
{
	static const char sql[] = "SELECT file, file_size FROM images"
				  " UNION ALL SELECT file, -1 FROM layers"
				  " UNION ALL SELECT file, -1 FROM disks";
	char path[4400];
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(k->c, sql, &st);
	if (r)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rel = (const char *)sqlite3_column_text(st, 0);
		int64_t want = sqlite3_column_int64(st, 1);
		struct stat stb;

		if (!rel || cat_path(k->c, rel, path, sizeof(path)))
			continue;
		if (lstat(path, &stb) || !S_ISREG(stb.st_mode)) {
			k->res->problems++;
			say(k, "%s: named by the catalog, missing", rel);
		} else if (want >= 0 && stb.st_size != want) {
			k->res->problems++;
			say(k, "%s: %lld bytes, the catalog says %lld", rel,
			    (long long)stb.st_size, (long long)want);
		}
	}
	sqlite3_finalize(st);
	return cat_sqlerr(rc);
}

static bool named(struct cat *c, const char *rel)
{
	static const char sql[] = "SELECT 1 FROM images WHERE file = ?1"
				  " UNION ALL SELECT 1 FROM layers WHERE file = ?1"
				  " UNION ALL SELECT 1 FROM disks WHERE file = ?1";
	sqlite3_stmt *st;
	int rc;

	if (cat_prepare(c, sql, &st))
		return true;
	cat_bind_text(st, 1, rel);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc != SQLITE_DONE;
}

/* Files under @rel_dir (one level of folders below for vms/) no row names. */
static void unnamed(struct chk *k, const char *rel_dir, bool nested)
{
	char dir[4400], rel[4700];
	struct dirent *de;
	DIR *d;

	if (cat_path(k->c, rel_dir, dir, sizeof(dir)) || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", rel_dir, de->d_name);
		if (nested && de->d_type == DT_DIR) {
			unnamed(k, rel, false);
		} else if (!named(k->c, rel)) {
			k->res->unnamed++;
			say(k, "%s: no row names it", rel);
		}
	}
	closedir(d);
}

int cat_check(const char *dir, void (*note)(void *opaque, const char *msg), void *opaque,
	      struct cat_check_result *res)
{
	struct chk k = { .note = note, .opaque = opaque, .res = res };
	int r;

	memset(res, 0, sizeof(*res));
	r = cat_open(dir, &k.c);
	if (r)
		return r;
	r = integrity(&k);
	if (!r)
		r = rows(&k);
	if (!r) {
		unnamed(&k, "images", false);
		unnamed(&k, "vms", true);
	}
	cat_close(k.c);
	return r;
}
