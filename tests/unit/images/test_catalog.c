/* Unit tests for images/catalog.c and images/cat_images.c on a real SQLite
 * database in a temporary state directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "images/catalog.h"

static char dir[256];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vvcat.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void fake_image(struct cat_image *img, char fill)
{
	memset(img, 0, sizeof(*img));
	memset(img->id, fill, CAT_ID_LEN);
	memset(img->file_sha256, 'f', CAT_ID_LEN);
	snprintf(img->file, sizeof(img->file), "images/%s.vhd", img->id);
	img->virtual_size = 1 << 20;
	img->file_size = 4096;
	strcpy(img->os, "debian-12");
	strcpy(img->arch, "x86_64");
	strcpy(img->boot, "direct");
	img->min_mem = 256 << 20;
	strcpy(img->source, "unit");
	img->created = 1700000000;
}

TestSuite(catalog, .init = setup, .fini = teardown);

Test(catalog, creates_schema_and_reopens)
{
	struct cat *c;
	sqlite3 *db;
	sqlite3_stmt *st;
	char path[400];

	cr_assert_eq(cat_open(dir, &c), 0);
	cat_close(c);
	cr_assert_eq(cat_open(dir, &c), 0);
	cat_close(c);

	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), CAT_SCHEMA_VERSION);
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* A catalog from the future is refused, not damaged. */
	cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(cat_open(dir, &c), -EPROTO);
}

Test(catalog, image_roundtrip_and_duplicate)
{
	struct cat_image a, b;
	struct cat *c;

	cr_assert_eq(cat_open(dir, &c), 0);
	fake_image(&a, 'a');
	cr_assert_eq(cat_image_add(c, &a), 0);
	cr_assert_eq(cat_image_add(c, &a), -EEXIST);
	cr_assert_eq(cat_image_get(c, a.id, &b), 0);
	cr_assert_str_eq(b.id, a.id);
	cr_assert_str_eq(b.file, a.file);
	cr_assert_str_eq(b.os, "debian-12");
	cr_assert_eq(b.min_mem, 256u << 20);
	cr_assert_eq(b.created, 1700000000);
	cr_assert_str_eq(b.parent, "");
	cr_assert_eq(cat_image_get(c, "nope", &b), -ENOENT);
	cat_close(c);
}

static int count_names(void *opaque, const char *name, const char *version)
{
	(*(int *)opaque)++;
	return 0;
}

Test(catalog, names_versions_latest_prefix)
{
	struct cat_image a, b, a2;
	char id[CAT_ID_LEN + 1], ver[CAT_NAME_MAX + 1];
	struct cat *c;
	int n = 0;

	cr_assert_eq(cat_open(dir, &c), 0);
	fake_image(&a, 'a');
	fake_image(&b, 'b');
	fake_image(&a2, 'a');
	a2.id[CAT_ID_LEN - 1] = 'c';	/* shares a long prefix with a */
	cr_assert_eq(cat_image_add(c, &a), 0);
	cr_assert_eq(cat_image_add(c, &b), 0);
	cr_assert_eq(cat_image_add(c, &a2), 0);

	cr_assert_eq(cat_name_set(c, "deb", "", a.id, ver), 0);
	cr_assert_str_eq(ver, "1");
	cr_assert_eq(cat_name_set(c, "deb", "", b.id, ver), 0);
	cr_assert_str_eq(ver, "2");
	cr_assert_eq(cat_image_resolve(c, "deb", id), 0);
	cr_assert_str_eq(id, b.id, "NAME alone is the latest version");
	cr_assert_eq(cat_image_resolve(c, "deb:1", id), 0);
	cr_assert_str_eq(id, a.id);
	cr_assert_eq(cat_name_set(c, "deb", "latest", a.id, NULL), 0);
	cr_assert_eq(cat_image_resolve(c, "deb", id), 0);
	cr_assert_str_eq(id, a.id, "an explicit 'latest' wins");
	cr_assert_eq(cat_image_resolve(c, "deb:9", id), -ENOENT);

	cr_assert_eq(cat_image_resolve(c, "bbbbbbbb", id), 0);
	cr_assert_str_eq(id, b.id);
	cr_assert_eq(cat_image_resolve(c, "aaaaaaaa", id), -EEXIST, "ambiguous prefix");
	cr_assert_eq(cat_image_resolve(c, "aaaa", id), -ENOENT, "prefix too short");

	cr_assert_eq(cat_name_set(c, "bad name", "", a.id, NULL), -EINVAL);
	cr_assert_eq(cat_name_set(c, "x", "1:2", a.id, NULL), -EINVAL);
	cr_assert_eq(cat_name_foreach(c, a.id, count_names, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(cat_name_del(c, "deb", "latest"), 0);
	cr_assert_eq(cat_name_del(c, "deb", "latest"), -ENOENT);

	cr_assert_eq(cat_label_add(c, a.id, "golden"), 0);
	cr_assert_eq(cat_label_add(c, a.id, "golden"), 0);
	cr_assert_eq(cat_label_del(c, a.id, "golden"), 0);
	cr_assert_eq(cat_label_del(c, a.id, "golden"), -ENOENT);

	cr_assert_eq(cat_image_del(c, a.id), 0);
	cr_assert_eq(cat_image_resolve(c, "deb:1", id), -ENOENT, "names go with the image");
	cr_assert_eq(cat_image_del(c, a.id), -ENOENT);
	cat_close(c);
}

Test(catalog, transaction_rollback)
{
	struct cat_image a, out;
	struct cat *c;

	cr_assert_eq(cat_open(dir, &c), 0);
	fake_image(&a, 'd');
	cr_assert_eq(cat_begin(c), 0);
	cr_assert_eq(cat_image_add(c, &a), 0);
	cr_assert_eq(cat_name_set(c, "t", "1", a.id, NULL), 0);
	cat_rollback(c);
	cr_assert_eq(cat_image_get(c, a.id, &out), -ENOENT);
	cat_close(c);
}

/* Eight processes add names at once: none may fail on a busy database. */
Test(catalog, concurrent_writers_never_fail)
{
	enum { PROCS = 8, EACH = 40 };
	struct cat_image a;
	struct cat *c;
	int n = 0;

	cr_assert_eq(cat_open(dir, &c), 0);
	fake_image(&a, 'e');
	cr_assert_eq(cat_image_add(c, &a), 0);
	cat_close(c);
	for (int p = 0; p < PROCS; p++) {
		if (fork() == 0) {
			struct cat *cc;
			char name[32];

			if (cat_open(dir, &cc))
				_exit(2);
			for (int i = 0; i < EACH; i++) {
				snprintf(name, sizeof(name), "p%d", p);
				if (cat_name_set(cc, name, "", a.id, NULL))
					_exit(3);
			}
			cat_close(cc);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status;

		cr_assert_gt(wait(&status), 0);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "a writer failed (status %d)", status);
	}
	cr_assert_eq(cat_open(dir, &c), 0);
	cr_assert_eq(cat_name_foreach(c, a.id, count_names, &n), 0);
	cr_assert_eq(n, PROCS * EACH);
	cat_close(c);
}

/* A lost database in a state directory that holds files is refused and
 * not recreated; an empty state directory still starts a catalog. */
Test(catalog, refuses_lost_database_beside_files)
{
	char path[400];
	struct cat *c;
	sqlite3 *db;
	FILE *f;

	cr_assert_eq(cat_open(dir, &c), 0);
	cat_close(c);
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(cat_open(dir, &c), 0, "no files: a fresh catalog");
	cat_close(c);

	snprintf(path, sizeof(path), "%s/vms/v", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(cat_open(dir, &c), -EUCLEAN, "deleted");
	cr_assert_eq(access(path, F_OK), -1, "the refused open created a database");

	f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(cat_open(dir, &c), -EUCLEAN, "emptied");

	/* a database file without the schema (what a dropped WAL leaves) */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(cat_open(dir, &c), -EUCLEAN, "schema-less");

	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("this is not an SQLite database, but long enough to look like one's header....."
	      "................................................................................",
	      f);
	fclose(f);
	cr_assert_eq(cat_open(dir, &c), -EUCLEAN, "garbage");
}

/* Opening the catalog only reads when its schema is current: while
 * another connection holds a long write transaction (a clone of
 * thousands), opens and reads go on at once (WAL) instead of queueing for
 * the write lock up to the busy timeout (60 s). */
Test(catalog, open_does_not_wait_for_a_writer, .timeout = 20)
{
	struct cat *w, *r;
	struct cat_image a, b, got;

	cr_assert_eq(cat_open(dir, &w), 0);
	fake_image(&a, 'a');
	cr_assert_eq(cat_image_add(w, &a), 0);
	cr_assert_eq(cat_begin(w), 0);
	fake_image(&b, 'b');
	cr_assert_eq(cat_image_add(w, &b), 0);
	/* the writer's transaction is open: a reader comes */
	cr_assert_eq(cat_open(dir, &r), 0);
	cr_assert_eq(cat_image_get(r, a.id, &got), 0, "committed row");
	cr_assert_eq(cat_image_get(r, b.id, &got), -ENOENT, "not yet committed");
	cat_close(r);
	cr_assert_eq(cat_commit(w), 0);
	cat_close(w);
}

/* After a big transaction the closing connection folds the WAL into the
 * database and empties it: the next first opener would otherwise read it
 * whole to rebuild SQLite's index (every API request, every command).
 * The rows are all there after. */
Test(catalog, close_empties_a_big_wal, .timeout = 60)
{
	char wal[512];
	struct cat_image img, got;
	struct stat st;
	struct cat *c;
	int i;

	cr_assert_eq(cat_open(dir, &c), 0);
	cr_assert_eq(cat_begin(c), 0);
	for (i = 0; i < 4000; i++) {
		fake_image(&img, 'a');
		snprintf(img.id, sizeof(img.id), "%064d", i);
		snprintf(img.file, sizeof(img.file), "images/%064d.vhd", i);
		cr_assert_eq(cat_image_add(c, &img), 0);
	}
	cr_assert_eq(cat_commit(c), 0);
	snprintf(wal, sizeof(wal), "%s/catalog.db-wal", dir);
	cr_assert_eq(stat(wal, &st), 0);
	cr_assert_gt(st.st_size, 1 << 20, "the test needs a big WAL");
	cat_close(c);
	cr_assert(stat(wal, &st) || st.st_size == 0, "WAL left at %lld bytes",
		  (long long)st.st_size);
	cr_assert_eq(cat_open(dir, &c), 0);
	snprintf(img.id, sizeof(img.id), "%064d", 3999);
	cr_assert_eq(cat_image_get(c, img.id, &got), 0);
	cat_close(c);
}
