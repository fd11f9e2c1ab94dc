/* appliance/metrics.h: the metrics of the host and its running VMs.
 *
 * A sampler thread (started by vhdvisord) takes one sample a second:
 *  - the host (series "host"): CPU from /proc/stat, memory from
 *    /proc/meminfo, load from /proc/loadavg, space of the state
 *    directory's file system;
 *  - each running VM (series "vm:NAME", found by its pidfile in the run
 *    directory): CPU time and RSS of its runtime and of its engine (QEMU)
 *    from /proc/PID/stat, its configured memory, each disk's I/O counters
 *    and each NIC's tap name from the runtime's {"cmd":"stats"} (hv/vm.c),
 *    the taps' counters from /sys/class/net/TAP/statistics.
 * The last hour of samples stays in memory (one ring per series); one
 * aggregate a minute (counters: the minute's last value, gauges: its
 * mean) goes to STATE/metrics.db (SQLite, 0600) and is kept a week.
 */
#ifndef VV_APPLIANCE_METRICS_H
#define VV_APPLIANCE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define METRICS_RING_SECONDS 3600               /* samples a second kept in memory */
#define METRICS_KEEP_SECONDS (7 * 24 * 3600)    /* minutes kept in metrics.db */
#define METRICS_DB "metrics.db"

struct metrics;

/* Starts the sampler over @state_dir (metrics.db there) and the run
 * directory vmrec_run_dir(). 0 or -errno (@err says why). When metrics.db
 * cannot be opened (damaged, unwritable) the sampler runs all the same,
 * keeping only the last hour in memory: 0 with the reason in @err
 * (otherwise ""). */
int metrics_start(const char *state_dir, struct metrics **out, char *err, size_t errlen);
/* Stops the thread (writing the minute being summed) and frees. NULL ok. */
void metrics_stop(struct metrics *m);

/* Samples a second of series @series ("host", "vm:NAME") taken at or after
 * @since, as an array of {"t": UNIX_TIME, FIELD: VALUE|null, ...} objects,
 * into *@points; what the newest sample knew about the series (a VM's
 * disks, NICs) into *@info (an object). Both NULL when the sampler has no
 * such series. 0 or -ENOMEM. */
int metrics_query(struct metrics *m, const char *series, int64_t since, json_object **points,
		  json_object **info);

/* Minute aggregates of @series at or after @since from STATE/metrics.db,
 * in the same shape, appended to @points; the minute being summed by @m
 * (may be NULL) too. 0 or -errno (@err says why); no file yet is no
 * error. */
int metrics_db_query(const char *state_dir, struct metrics *m, const char *series,
		     int64_t since, json_object *points, char *err, size_t errlen);

/* Appends the minute @m (NULL: none) is summing for @series to @points
 * when it starts at or after @since and is newer than @points' last. 0. */
int metrics_minute_now(struct metrics *m, const char *series, int64_t since,
		       json_object *points);

/* ---- inside the sampler (metrics_db.c) ---- */
struct sqlite3;
/* Opens (creating, 0600) STATE/metrics.db. 0 or -errno. */
int metrics_db_open(const char *state_dir, struct sqlite3 **out, char *err, size_t errlen);
/* Stores one minute aggregate ({"t": T, FIELDS...} in @point) of @series. */
int metrics_db_put(struct sqlite3 *db, const char *series, int64_t t, json_object *point);
/* Removes minutes older than @before. */
int metrics_db_prune(struct sqlite3 *db, int64_t before);

#endif
