/* images/cat_images.c: image records, their names (name:version) and
 * labels. */
#include "images/cat_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_COLS "id, file_sha256, file, virtual_size, file_size, os, arch, boot," \
	" min_mem, min_disk, source, created, parent, cloud_init"

static void image_from_row(sqlite3_stmt *st, struct cat_image *img)
{
	memset(img, 0, sizeof(*img));
	cat_col_text(st, 0, img->id, sizeof(img->id));
	cat_col_text(st, 1, img->file_sha256, sizeof(img->file_sha256));
	cat_col_text(st, 2, img->file, sizeof(img->file));
	img->virtual_size = (uint64_t)sqlite3_column_int64(st, 3);
	img->file_size = (uint64_t)sqlite3_column_int64(st, 4);
	cat_col_text(st, 5, img->os, sizeof(img->os));
	cat_col_text(st, 6, img->arch, sizeof(img->arch));
	cat_col_text(st, 7, img->boot, sizeof(img->boot));
	img->min_mem = (uint64_t)sqlite3_column_int64(st, 8);
	img->min_disk = (uint64_t)sqlite3_column_int64(st, 9);
	cat_col_text(st, 10, img->source, sizeof(img->source));
	img->created = sqlite3_column_int64(st, 11);
	cat_col_text(st, 12, img->parent, sizeof(img->parent));
	img->cloud_init = sqlite3_column_int(st, 13) != 0;
}

int cat_image_add(struct cat *c, const struct cat_image *img)
{
	sqlite3_stmt *st;
	int own, r;

	own = cat_auto_begin(c);
	if (own < 0)
		return own;
	r = cat_prepare(c, "INSERT INTO images(" IMAGE_COLS ")"
			" VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st);
	if (r)
		return cat_auto_end(c, own, r);
	cat_bind_text(st, 1, img->id);
	cat_bind_text(st, 2, img->file_sha256);
	cat_bind_text(st, 3, img->file);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)img->virtual_size);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)img->file_size);
	cat_bind_text(st, 6, img->os);
	cat_bind_text(st, 7, img->arch);
	cat_bind_text(st, 8, img->boot);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)img->min_mem);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)img->min_disk);
	cat_bind_text(st, 11, img->source);
	sqlite3_bind_int64(st, 12, img->created);
	if (img->parent[0])
		cat_bind_text(st, 13, img->parent);
	else
		sqlite3_bind_null(st, 13);
	sqlite3_bind_int(st, 14, img->cloud_init);
	r = cat_sqlerr(sqlite3_step(st));
	sqlite3_finalize(st);
	return cat_auto_end(c, own, r);
}

int cat_image_get(struct cat *c, const char *id, struct cat_image *out)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, "SELECT " IMAGE_COLS " FROM images WHERE id = ?", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, id);
	r = cat_step_row(st);
	if (r)
		return r;
	image_from_row(st, out);
	sqlite3_finalize(st);
	return 0;
}

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > CAT_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

int cat_ref_split(const char *ref, char name[CAT_NAME_MAX + 1],
		  char version[CAT_NAME_MAX + 1])
{
	const char *colon = strchr(ref, ':');
	size_t n = colon ? (size_t)(colon - ref) : strlen(ref);

	if (!name_ok(ref, n))
		return -EINVAL;
	memcpy(name, ref, n);
	name[n] = '\0';
	version[0] = '\0';
	if (colon) {
		size_t vn = strlen(colon + 1);

		if (!name_ok(colon + 1, vn))
			return -EINVAL;
		memcpy(version, colon + 1, vn + 1);
	}
	return 0;
}

/* Runs @sql with text parameters @a, @b (either may be NULL = unbound) and
 * copies the first column of the single row into @id. 0, -ENOENT, or
 * -EEXIST when several rows match. */
static int one_id(struct cat *c, const char *sql, const char *a, const char *b,
		  char id[CAT_ID_LEN + 1])
{
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, sql, &st);
	if (r)
		return r;
	if (a)
		cat_bind_text(st, 1, a);
	if (b)
		cat_bind_text(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cat_col_text(st, 0, id, CAT_ID_LEN + 1);
		rc = sqlite3_step(st);
		r = rc == SQLITE_ROW ? -EEXIST : cat_sqlerr(rc);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : cat_sqlerr(rc);
	}
	sqlite3_finalize(st);
	return r;
}

static bool is_hex_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n < 8 || n > CAT_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

int cat_image_resolve(struct cat *c, const char *ref, char id[CAT_ID_LEN + 1])
{
	char name[CAT_NAME_MAX + 1], version[CAT_NAME_MAX + 1];
	int r = -ENOENT;

	if (!cat_ref_split(ref, name, version)) {
		if (version[0])
			r = one_id(c, "SELECT image FROM names WHERE name = ?1 AND version = ?2",
				   name, version, id);
		else
			r = one_id(c, "SELECT image FROM names WHERE name = ?1"
				   " ORDER BY version = 'latest' DESC, seq DESC LIMIT 1",
				   name, NULL, id);
		if (r != -ENOENT)
			return r;
	}
	if (is_hex_prefix(ref)) {
		char pat[CAT_ID_LEN + 2];

		snprintf(pat, sizeof(pat), "%s*", ref);
		r = one_id(c, "SELECT id FROM images WHERE id GLOB ?1", pat, NULL, id);
	}
	return r;
}

/* Number of rows @sql (one text parameter) counts. */
static int count_rows(struct cat *c, const char *sql, const char *a, int64_t *n)
{
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, sql, &st);
	if (r)
		return r;
	cat_bind_text(st, 1, a);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		r = 0;
	} else {
		r = cat_sqlerr(rc);
	}
	sqlite3_finalize(st);
	return r;
}

static int exec1(struct cat *c, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st;
	int r;

	r = cat_prepare(c, sql, &st);
	if (r)
		return r;
	cat_bind_text(st, 1, a);
	if (b)
		cat_bind_text(st, 2, b);
	return cat_step_write(c, st, true);
}

int cat_image_del(struct cat *c, const char *id)
{
	int64_t users = 0, children = 0;
	int own, r;

	own = cat_auto_begin(c);
	if (own < 0)
		return own;
	r = count_rows(c, "SELECT count(*) FROM vms WHERE image = ?", id, &users);
	if (!r)
		r = count_rows(c, "SELECT count(*) FROM images WHERE parent = ?", id, &children);
	if (!r && (users || children))
		r = -EBUSY;
	if (!r) {
		exec1(c, "DELETE FROM names WHERE image = ?", id, NULL);
		exec1(c, "DELETE FROM labels WHERE image = ?", id, NULL);
		r = exec1(c, "DELETE FROM images WHERE id = ?", id, NULL);
	}
	return cat_auto_end(c, own, r);
}

int cat_image_set_cloud_init(struct cat *c, const char *id, bool on)
{
	sqlite3_stmt *st;
	int own, r;

	own = cat_auto_begin(c);
	if (own < 0)
		return own;
	r = cat_prepare(c, "UPDATE images SET cloud_init = ?2 WHERE id = ?1", &st);
	if (!r) {
		cat_bind_text(st, 1, id);
		sqlite3_bind_int(st, 2, on);
		r = cat_step_write(c, st, true);
	}
	return cat_auto_end(c, own, r);
}

int cat_image_foreach(struct cat *c,
		      int (*fn)(void *opaque, const struct cat_image *img),
		      void *opaque)
{
	struct cat_image img;
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT " IMAGE_COLS " FROM images ORDER BY created, rowid", &st);
	if (r)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		image_from_row(st, &img);
		r = fn(opaque, &img);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	return r;
}

static int next_version(struct cat *c, const char *name, char out[CAT_NAME_MAX + 1])
{
	sqlite3_stmt *st;
	int64_t max = 0;
	int r, rc;

	/* The largest all-digit version, plus one. */
	r = cat_prepare(c, "SELECT max(CAST(version AS INTEGER)) FROM names"
			" WHERE name = ? AND version NOT GLOB '*[^0-9]*'", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		max = sqlite3_column_int64(st, 0);
	else
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	snprintf(out, CAT_NAME_MAX + 1, "%lld", (long long)max + 1);
	return r;
}

int cat_name_set(struct cat *c, const char *name, const char *version,
		 const char *id, char *version_out)
{
	char ver[CAT_NAME_MAX + 1], ref[2 * CAT_NAME_MAX + 2], n[CAT_NAME_MAX + 1];
	sqlite3_stmt *st;
	int own, r;

	if (snprintf(ref, sizeof(ref), "%s%s%s", name, *version ? ":" : "", version) >=
	    (int)sizeof(ref) || cat_ref_split(ref, n, ver))
		return -EINVAL;
	own = cat_auto_begin(c);
	if (own < 0)
		return own;
	r = 0;
	if (!ver[0])
		r = next_version(c, name, ver);
	if (!r)
		r = cat_prepare(c, "INSERT OR REPLACE INTO names(name, version, image, seq)"
				" VALUES(?1, ?2, ?3, (SELECT coalesce(max(seq), 0) + 1 FROM names))",
				&st);
	if (!r) {
		cat_bind_text(st, 1, name);
		cat_bind_text(st, 2, ver);
		cat_bind_text(st, 3, id);
		r = cat_sqlerr(sqlite3_step(st));
		sqlite3_finalize(st);
	}
	if (!r && version_out)
		memcpy(version_out, ver, strlen(ver) + 1);
	return cat_auto_end(c, own, r);
}

int cat_name_del(struct cat *c, const char *name, const char *version)
{
	int own = cat_auto_begin(c), r;

	if (own < 0)
		return own;
	r = exec1(c, "DELETE FROM names WHERE name = ?1 AND version = ?2", name, version);
	return cat_auto_end(c, own, r);
}

int cat_name_foreach(struct cat *c, const char *id,
		     int (*fn)(void *opaque, const char *name, const char *version),
		     void *opaque)
{
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT name, version FROM names WHERE image = ? ORDER BY seq", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(opaque, (const char *)sqlite3_column_text(st, 0),
		       (const char *)sqlite3_column_text(st, 1));
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	return r;
}

int cat_label_add(struct cat *c, const char *id, const char *label)
{
	int own, r;

	if (!name_ok(label, strlen(label)))
		return -EINVAL;
	own = cat_auto_begin(c);
	if (own < 0)
		return own;
	r = exec1(c, "INSERT OR IGNORE INTO labels(image, label) VALUES(?1, ?2)", id, label);
	if (r == -ENOENT)
		r = 0;	/* already there */
	return cat_auto_end(c, own, r);
}

int cat_label_del(struct cat *c, const char *id, const char *label)
{
	int own = cat_auto_begin(c), r;

	if (own < 0)
		return own;
	r = exec1(c, "DELETE FROM labels WHERE image = ?1 AND label = ?2", id, label);
	return cat_auto_end(c, own, r);
}

int cat_label_foreach(struct cat *c, const char *id,
		      int (*fn)(void *opaque, const char *label), void *opaque)
{
	sqlite3_stmt *st;
	int r, rc;

	r = cat_prepare(c, "SELECT label FROM labels WHERE image = ? ORDER BY label", &st);
	if (r)
		return r;
	cat_bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(opaque, (const char *)sqlite3_column_text(st, 0));
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = cat_sqlerr(rc);
	sqlite3_finalize(st);
	return r;
}
