/* appliance/metrics_db.c: minute aggregates in STATE/metrics.db (SQLite,
 * 0600): one row per series and minute, its fields as a JSON object.
 * The sampler thread writes through its own connection; each stats
 * request reads through one of its own (WAL: readers never block it). */
#include "appliance/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#define DB_BUSY_MS 2000

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS points ("
	" series TEXT NOT NULL, t INTEGER NOT NULL, data TEXT NOT NULL,"
	" PRIMARY KEY (series, t)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS points_t ON points (t);";

static int db_path(const char *state_dir, char *buf, size_t len)
{
	if (snprintf(buf, len, "%s/%s", state_dir, METRICS_DB) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int metrics_db_open(const char *state_dir, sqlite3 **out, char *err, size_t errlen)
{
	char path[4200];
	sqlite3 *db = NULL;
	char *msg = NULL;
	int fd, r;

	*out = NULL;
	if (db_path(state_dir, path, sizeof(path)))
		return snprintf(err, errlen, "state directory path too long"), -ENAMETOOLONG;
	/* made here first so that it is 0600 whatever the umask */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600)) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	close(fd);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK ||
	    (sqlite3_busy_timeout(db, DB_BUSY_MS),
	     sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK)) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : db ? sqlite3_errmsg(db) :
			 "cannot open");
		sqlite3_free(msg);
		sqlite3_close(db);
		return -EIO;
	}
	*out = db;
	return 0;
}

int metrics_db_put(sqlite3 *db, const char *series, int64_t t, json_object *point)
{
	const char *s = json_object_to_json_string_ext(point, JSON_C_TO_STRING_PLAIN);
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO points (series, t, data) "
			       "VALUES (?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, series, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, t);
	sqlite3_bind_text(st, 3, s, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return r;
}

int metrics_db_prune(sqlite3 *db, int64_t before)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(db, "DELETE FROM points WHERE t < ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, before);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return r;
}

int metrics_db_query(const char *state_dir, struct metrics *m, const char *series,
		     int64_t since, json_object *points, char *err, size_t errlen)
{
	char path[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (db_path(state_dir, path, sizeof(path)))
		return snprintf(err, errlen, "state directory path too long"), -ENAMETOOLONG;
	if (access(path, F_OK))
		goto live;      /* no sampler ran here yet */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		r = -EIO;
		goto out;
	}
	sqlite3_busy_timeout(db, DB_BUSY_MS);
	if (sqlite3_prepare_v2(db, "SELECT data FROM points WHERE series = ? AND t >= ? "
			       "ORDER BY t", -1, &st, NULL) != SQLITE_OK) {
		/* a database the sampler has not set up yet has no table */
		if (strstr(sqlite3_errmsg(db), "no such table"))
			goto live;
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		r = -EIO;
		goto out;
	}
	sqlite3_bind_text(st, 1, series, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *p = json_tokener_parse((const char *)sqlite3_column_text(st, 0));

		if (p)
			json_object_array_add(points, p);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		r = -EIO;
		goto out;
	}
live:
	r = metrics_minute_now(m, series, since, points);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}
