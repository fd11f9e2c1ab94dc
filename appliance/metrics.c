/* appliance/metrics.c: the sampler thread and the series it keeps (see
 * metrics.h). */
#include "appliance/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "appliance/metrics_int.h"
#include "hv/vm_client.h"
#include "images/vmrun.h"

#define STATS_TIMEOUT_MS 1000   /* a runtime that does not answer gets nulls */
#define PRUNE_EVERY 3600        /* seconds between prunes of metrics.db */

struct mx_series {
	struct mx_series *next;
	char name[160];
	char *schema;           /* the field names, space-separated */
	unsigned nfields;
	char (*fields)[MX_NAME_MAX];
	enum mx_kind *kinds;
	struct mx_ring ring;
	struct mx_agg agg;
	json_object *info;      /* what the newest sample knew (disks, NICs) */
	int64_t last_t;         /* newest sample */
	double prev_cpu;        /* for cpu_percent: the CPU ns and the time of */
	struct timespec prev_at;/* the sample before */
};

/* A finished minute waiting to be written (outside the lock). */
struct mx_minute {
	struct mx_minute *next;
	char series[160];
	int64_t t;
	json_object *point;
};

struct metrics {
	char *state_dir;
	pthread_mutex_t lock;   /* series, stop */
	pthread_cond_t wake;
	bool stop;
	pthread_t thread;
	struct mx_series *series;
	sqlite3 *db;            /* the sampler thread's */
	int64_t last_prune;
};

/* A value as JSON: integers as integers, NAN as null. */
static json_object *num(double v)
{
	if (isnan(v))
		return NULL;
	if (v >= -9e15 && v <= 9e15 && (double)(int64_t)v == v)
		return json_object_new_int64((int64_t)v);
	{
		char buf[32];

		snprintf(buf, sizeof(buf), "%.6g", v);     /* not 6.5599999999999996 */
		return json_object_new_double_s(v, buf);
	}
}

static json_object *point_json(const struct mx_series *s, int64_t t, const double *v)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "t", json_object_new_int64(t));
	for (unsigned i = 0; i < s->nfields; i++)
		json_object_object_add(p, s->fields[i], num(v[i]));
	return p;
}

static void series_free(struct mx_series *s)
{
	if (!s)
		return;
	free(s->schema);
	free(s->fields);
	free(s->kinds);
	mx_ring_free(&s->ring);
	mx_agg_free(&s->agg);
	json_object_put(s->info);
	free(s);
}

static char *schema_of(const struct mx_sample *smp)
{
	size_t len = 1;
	char *s;

	for (unsigned i = 0; i < smp->n; i++)
		len += strlen(smp->names[i]) + 1;
	s = calloc(1, len);
	for (unsigned i = 0; s && i < smp->n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, smp->names[i]);
	}
	return s;
}

static struct mx_series *series_new(const char *name, const struct mx_sample *smp, char *schema)
{
	struct mx_series *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->schema = schema;
	s->nfields = smp->n;
	s->fields = calloc(smp->n, sizeof(*s->fields));
	s->kinds = calloc(smp->n, sizeof(*s->kinds));
	s->prev_cpu = NAN;
	if (!s->fields || !s->kinds || mx_ring_init(&s->ring, smp->n, METRICS_RING_SECONDS) ||
	    mx_agg_init(&s->agg, smp->n)) {
		series_free(s);
		return NULL;
	}
	memcpy(s->fields, smp->names, smp->n * sizeof(*s->fields));
	memcpy(s->kinds, smp->kinds, smp->n * sizeof(*s->kinds));
	return s;
}

static struct mx_series *series_find(struct metrics *m, const char *name)
{
	for (struct mx_series *s = m->series; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/* Queues the minute @s is summing (when any) for the database. */
static void minute_flush(struct mx_series *s, struct mx_minute **q)
{
	double out[MX_MAX_FIELDS];
	struct mx_minute *mm;
	int64_t t;

	if (!mx_agg_peek(&s->agg, s->kinds, &t, out) || !(mm = calloc(1, sizeof(*mm))))
		return;
	snprintf(mm->series, sizeof(mm->series), "%s", s->name);
	mm->t = t;
	mm->point = point_json(s, t, out);
	mm->next = *q;
	*q = mm;
	s->agg.minute = -1;
}

/* Adds @smp taken at @t to series @name (made, or remade when its fields
 * changed: a VM restarted with other disks), with @info; finished minutes
 * go to @q. Called with the lock held. */
static void series_add(struct metrics *m, const char *name, int64_t t, struct mx_sample *smp,
		       json_object *info, struct mx_minute **q)
{
	struct mx_series *s = series_find(m, name), **pp;
	char *schema = schema_of(smp);
	double out[MX_MAX_FIELDS];
	int64_t ot;

	if (!schema) {
		json_object_put(info);
		return;
	}
	if (s && strcmp(s->schema, schema)) {
		minute_flush(s, q);
		for (pp = &m->series; *pp != s; pp = &(*pp)->next)
			;
		*pp = s->next;
		series_free(s);
		s = NULL;
	}
	if (!s) {
		s = series_new(name, smp, schema);
		if (!s) {
			free(schema);
			json_object_put(info);
			return;
		}
		s->next = m->series;
		m->series = s;
	} else {
		free(schema);
	}
	mx_ring_push(&s->ring, t, smp->v);
	if (mx_agg_add(&s->agg, s->kinds, t, smp->v, &ot, out)) {
		struct mx_minute *mm = calloc(1, sizeof(*mm));

		if (mm) {
			snprintf(mm->series, sizeof(mm->series), "%s", s->name);
			mm->t = ot;
			mm->point = point_json(s, ot, out);
			mm->next = *q;
			*q = mm;
		}
	}
	json_object_put(s->info);
	s->info = info;
	s->last_t = t;
}

/* cpu_percent of @s's sample: the CPU ns since the previous sample over
 * the time since (100 = one CPU busy); NAN for the first. */
static double cpu_percent(struct metrics *m, const char *name, double cpu_ns)
{
	struct mx_series *s;
	struct timespec now;
	double pct = NAN, dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&m->lock);
	s = series_find(m, name);
	if (s) {
		dt = (double)(now.tv_sec - s->prev_at.tv_sec) * 1e9 +
		     (double)(now.tv_nsec - s->prev_at.tv_nsec);
		if (!isnan(s->prev_cpu) && !isnan(cpu_ns) && dt > 0 && cpu_ns >= s->prev_cpu)
			pct = (cpu_ns - s->prev_cpu) / dt * 100;
		s->prev_cpu = cpu_ns;
		s->prev_at = now;
	}
	pthread_mutex_unlock(&m->lock);
	return pct;
}

static void sample_host(struct metrics *m, struct mx_sample *smp, json_object **info)
{
	double pct = NAN;

	smp->n = 0;
	mx_host_sample(m->state_dir, smp);
	/* busy share of all CPUs, 0..100 */
	if (!isnan(smp->v[0]) && !isnan(smp->v[1])) {
		struct mx_series *s;
		static const char name[] = "host";

		pthread_mutex_lock(&m->lock);
		s = series_find(m, name);
		if (s && s->ring.count) {
			int64_t t;
			const double *prev = mx_ring_at(&s->ring, s->ring.count - 1, &t);
			double db = smp->v[0] - prev[0], di = smp->v[1] - prev[1];

			if (db >= 0 && di >= 0 && db + di > 0)
				pct = db / (db + di) * 100;
		}
		pthread_mutex_unlock(&m->lock);
	}
	mx_put(smp, MX_GAUGE, pct, "cpu_percent");
	*info = json_object_new_object();
}

static double jnum(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NAN;
	return json_object_get_double(v);
}

/* One VM: its runtime's stats reply and what /proc and /sys say. */
static void sample_vm(struct metrics *m, const char *name, pid_t pid, struct mx_sample *smp,
		      json_object **info)
{
	static const char *const dstat[] = { "rd_ops", "rd_bytes", "wr_ops", "wr_bytes",
					      "flush_ops" };
	static const char *const nstat[] = { "rx_bytes", "rx_packets", "tx_bytes", "tx_packets" };
	json_object *req = json_object_new_object(), *rep = NULL, *disks = NULL, *nics = NULL;
	json_object *idisks = json_object_new_array(), *inics = json_object_new_array();
	char api[4200], err[256] = "", series[160];
	double rcpu, rrss, ecpu = NAN, erss = NAN;
	pid_t epid = 0;

	smp->n = 0;
	*info = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("stats"));
	if (vmrec_run_path(name, "api", api, sizeof(api)) ||
	    vm_client_request(api, req, &rep, STATS_TIMEOUT_MS, err, sizeof(err))) {
		json_object_object_add(*info, "error", json_object_new_string(
			err[0] ? err : "the runtime does not answer"));
		rep = NULL;
	}
	json_object_put(req);
	mx_proc_read(pid, &rcpu, &rrss);
	if (rep)
		epid = (pid_t)jnum(rep, "engine_pid");
	if (epid > 0)
		mx_proc_read(epid, &ecpu, &erss);
	snprintf(series, sizeof(series), "vm:%s", name);
	mx_put(smp, MX_COUNTER, rcpu, "runtime_cpu_ns");
	mx_put(smp, MX_COUNTER, ecpu, "engine_cpu_ns");
	mx_put(smp, MX_GAUGE, cpu_percent(m, series, isnan(ecpu) ? rcpu : rcpu + ecpu),
	       "cpu_percent");
	mx_put(smp, MX_GAUGE, rrss, "runtime_rss");
	mx_put(smp, MX_GAUGE, erss, "engine_rss");
	mx_put(smp, MX_GAUGE, jnum(rep, "memory"), "mem_guest");
	json_object_object_add(*info, "running", json_object_new_boolean(1));
	json_object_object_add(*info, "pid", json_object_new_int((int)pid));
	json_object_object_add(*info, "engine_pid", epid > 0 ? json_object_new_int(epid) : NULL);
	if (rep && json_object_object_get_ex(rep, "disks", &disks) &&
	    json_object_is_type(disks, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(disks) && i < VM_MAX_DISKS; i++) {
			json_object *d = json_object_array_get_idx(disks, i), *o, *v;

			for (size_t k = 0; k < sizeof(dstat) / sizeof(dstat[0]); k++)
				mx_put(smp, MX_COUNTER, jnum(d, dstat[k]), "disk%zu_%s", i,
				       dstat[k]);
			o = json_object_new_object();
			json_object_object_add(o, "index", json_object_new_int((int)i));
			if (json_object_object_get_ex(d, "transport", &v))
				json_object_object_add(o, "transport", json_object_get(v));
			if (json_object_object_get_ex(d, "source", &v))
				json_object_object_add(o, "source", json_object_get(v));
			json_object_array_add(idisks, o);
		}
	}
	if (rep && json_object_object_get_ex(rep, "nics", &nics) &&
	    json_object_is_type(nics, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(nics) && i < VM_MAX_NICS; i++) {
			json_object *n = json_object_array_get_idx(nics, i), *v, *o;
			const char *tap = json_object_object_get_ex(n, "tap", &v) && v &&
					  json_object_is_type(v, json_type_string) ?
					  json_object_get_string(v) : NULL;

			for (size_t k = 0; k < sizeof(nstat) / sizeof(nstat[0]); k++)
				mx_put(smp, MX_COUNTER, tap ? mx_net_counter(tap, nstat[k]) : NAN,
				       "nic%zu_%s", i, nstat[k]);
			o = json_object_new_object();
			json_object_object_add(o, "index", json_object_new_int((int)i));
			json_object_object_add(o, "tap", tap ? json_object_new_string(tap) : NULL);
			json_object_array_add(inics, o);
		}
	}
	if (!rep) {
		/* a runtime that did not answer this once (busy, stopping) keeps
		 * its series: the fields it had, unknown now */
		struct mx_series *s;
		unsigned fixed = smp->n;

		pthread_mutex_lock(&m->lock);
		s = series_find(m, series);
		for (unsigned i = fixed; s && i < s->nfields; i++)
			mx_put(smp, s->kinds[i], NAN, "%s", s->fields[i]);
		pthread_mutex_unlock(&m->lock);
	}
	json_object_object_add(*info, "disks", idisks);
	json_object_object_add(*info, "nics", inics);
	json_object_put(rep);
}

/* Names of the VMs with a live runtime: RUN/NAME.vm.pid. */
static void sample_vms(struct metrics *m, int64_t t, struct mx_sample *smp,
		       struct mx_minute **q)
{
	DIR *d = opendir(vmrec_run_dir());
	struct dirent *e;

	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char name[128], series[160];
		json_object *info;
		pid_t pid;

		if (n <= 7 || n - 7 >= sizeof(name) || strcmp(e->d_name + n - 7, ".vm.pid"))
			continue;
		memcpy(name, e->d_name, n - 7);
		name[n - 7] = '\0';
		pid = vmrec_pid(name);
		if (pid <= 0)
			continue;
		sample_vm(m, name, pid, smp, &info);
		snprintf(series, sizeof(series), "vm:%s", name);
		pthread_mutex_lock(&m->lock);
		series_add(m, series, t, smp, info, q);
		pthread_mutex_unlock(&m->lock);
	}
	if (d)
		closedir(d);
	/* VMs that stopped: their last minute goes to the database now, their
	 * seconds stay for an hour */
	pthread_mutex_lock(&m->lock);
	for (struct mx_series **pp = &m->series; *pp;) {
		struct mx_series *s = *pp;

		if (strncmp(s->name, "vm:", 3) || s->last_t == t) {   /* sampled now */
			pp = &s->next;
			continue;
		}
		minute_flush(s, q);
		json_object_object_add(s->info, "running", json_object_new_boolean(0));
		if (s->last_t < t - METRICS_RING_SECONDS) {
			*pp = s->next;
			series_free(s);
		} else {
			pp = &s->next;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

static void minutes_write(struct metrics *m, struct mx_minute *q, int64_t now)
{
	while (q) {
		struct mx_minute *next = q->next;

		if (m->db)
			metrics_db_put(m->db, q->series, q->t, q->point);
		json_object_put(q->point);
		free(q);
		q = next;
	}
	if (m->db && now - m->last_prune >= PRUNE_EVERY) {
		metrics_db_prune(m->db, now - METRICS_KEEP_SECONDS);
		m->last_prune = now;
	}
}

static void *sampler(void *opaque)
{
	struct metrics *m = opaque;
	struct mx_sample *smp = malloc(sizeof(*smp));
	struct mx_minute *q = NULL;

	if (!smp)
		return NULL;
	for (;;) {
		struct timespec now, next;
		json_object *info;
		bool stop;

		clock_gettime(CLOCK_REALTIME, &now);
		q = NULL;
		sample_host(m, smp, &info);
		pthread_mutex_lock(&m->lock);
		series_add(m, "host", now.tv_sec, smp, info, &q);
		pthread_mutex_unlock(&m->lock);
		sample_vms(m, now.tv_sec, smp, &q);
		minutes_write(m, q, now.tv_sec);
		/* the next whole second */
		next.tv_sec = now.tv_sec + 1;
		next.tv_nsec = 0;
		pthread_mutex_lock(&m->lock);
		while (!m->stop && pthread_cond_timedwait(&m->wake, &m->lock, &next) != ETIMEDOUT)
			;
		stop = m->stop;
		pthread_mutex_unlock(&m->lock);
		if (stop)
			break;
	}
	/* the minutes being summed are not lost on a clean stop */
	q = NULL;
	pthread_mutex_lock(&m->lock);
	for (struct mx_series *s = m->series; s; s = s->next)
		minute_flush(s, &q);
	pthread_mutex_unlock(&m->lock);
	minutes_write(m, q, 0);
	free(smp);
	return NULL;
}

int metrics_start(const char *state_dir, struct metrics **out, char *err, size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int r;

	*out = NULL;
	err[0] = '\0';
	if (!m || !(m->state_dir = strdup(state_dir))) {
		free(m);
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	}
	/* without its file the sampler still keeps the last hour */
	if (metrics_db_open(state_dir, &m->db, err, errlen))
		m->db = NULL;
	m->last_prune = 0;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	r = -pthread_create(&m->thread, NULL, sampler, m);
	if (r) {
		snprintf(err, errlen, "cannot start the sampler: %s", strerror(-r));
		sqlite3_close(m->db);
		free(m->state_dir);
		free(m);
		return r;
	}
	*out = m;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	struct mx_series *s;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	while ((s = m->series)) {
		m->series = s->next;
		series_free(s);
	}
	sqlite3_close(m->db);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->wake);
	free(m->state_dir);
	free(m);
}

int metrics_query(struct metrics *m, const char *series, int64_t since, json_object **points,
		  json_object **info)
{
	struct mx_series *s;

	*points = *info = NULL;
	pthread_mutex_lock(&m->lock);
	s = series_find(m, series);
	if (s) {
		*points = json_object_new_array();
		for (unsigned i = mx_ring_since(&s->ring, since); i < s->ring.count; i++) {
			int64_t t;
			const double *v = mx_ring_at(&s->ring, i, &t);

			json_object_array_add(*points, point_json(s, t, v));
		}
		if (json_object_deep_copy(s->info, info, NULL))
			*info = json_object_new_object();
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int metrics_minute_now(struct metrics *m, const char *series, int64_t since,
		       json_object *points)
{
	double out[MX_MAX_FIELDS];
	struct mx_series *s;
	size_t n = json_object_array_length(points);
	json_object *last = n ? json_object_array_get_idx(points, n - 1) : NULL, *lt;
	int64_t t;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	s = series_find(m, series);
	if (s && mx_agg_peek(&s->agg, s->kinds, &t, out) && t >= since &&
	    !(last && json_object_object_get_ex(last, "t", &lt) && json_object_get_int64(lt) >= t))
		json_object_array_add(points, point_json(s, t, out));
	pthread_mutex_unlock(&m->lock);
	return 0;
}
