/* appliance/event.c: the event stream's queues and the pidfile watcher
 * (appliance/event.h). */
#include "appliance/event.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "appliance/api.h"
#include "images/vmrun.h"

struct api_event_sub {
	char *q[EVENT_QUEUE_MAX];       /* whole events, oldest at head */
	unsigned head, n;
	size_t off;                     /* bytes of q[head] already read */
	bool dropped;
	struct api_event_sub *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static struct api_event_sub *subs;
static unsigned nsubs;
static unsigned long long seq;
static bool shut;

/* What the watcher and api_event_vm_state() last said of each VM. */
struct vm_seen {
	char *name;
	pid_t pid;      /* 0: stopped */
};
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vm_seen *seen;
static size_t nseen;

static pthread_t watcher;
static bool watching;
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_wake = PTHREAD_COND_INITIALIZER;
static bool watch_stop;

static void sub_clear(struct api_event_sub *s)
{
	while (s->n) {
		free(s->q[s->head]);
		s->head = (s->head + 1) % EVENT_QUEUE_MAX;
		s->n--;
	}
	s->off = 0;
}

void api_event_emit(const char *type, json_object *data)
{
	json_object *o = data && json_object_is_type(data, json_type_object) ? data :
			 json_object_new_object();
	const char *js;
	char *msg;
	int n;

	if (o != data)
		json_object_put(data);
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE);
	pthread_mutex_lock(&lock);
	if (!subs || shut) {
		seq++;
		pthread_mutex_unlock(&lock);
		json_object_put(o);
		return;
	}
	/* JSON_C_TO_STRING_PLAIN has no newline: one data line */
	n = asprintf(&msg, "id: %llu\nevent: %s\ndata: %s\n\n", ++seq, type, js);
	for (struct api_event_sub *s = subs; n > 0 && s; s = s->next) {
		char *copy;

		if (s->dropped)
			continue;
		copy = s->n < EVENT_QUEUE_MAX ? strdup(msg) : NULL;
		if (!copy) {
			/* a client that does not keep up is dropped, never waited for */
			s->dropped = true;
			sub_clear(s);
			continue;
		}
		s->q[(s->head + s->n) % EVENT_QUEUE_MAX] = copy;
		s->n++;
	}
	pthread_cond_broadcast(&more);
	pthread_mutex_unlock(&lock);
	if (n > 0)
		free(msg);
	json_object_put(o);
}

struct api_event_sub *api_event_subscribe(void)
{
	struct api_event_sub *s;

	pthread_mutex_lock(&lock);
	s = shut || nsubs >= EVENT_SUBS_MAX ? NULL : calloc(1, sizeof(*s));
	if (s) {
		s->next = subs;
		subs = s;
		nsubs++;
	}
	pthread_mutex_unlock(&lock);
	return s;
}

void api_event_unsubscribe(struct api_event_sub *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&lock);
	for (struct api_event_sub **pp = &subs; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			nsubs--;
			break;
		}
	pthread_mutex_unlock(&lock);
	sub_clear(s);
	free(s);
}

ssize_t api_event_read(struct api_event_sub *s, char *buf, size_t len, unsigned timeout_ms)
{
	struct timespec until;
	ssize_t r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lock);
	while (!s->n && !s->dropped && !shut)
		if (pthread_cond_timedwait(&more, &lock, &until))
			break;
	if (s->dropped) {
		r = -EPIPE;
	} else if (s->n) {
		const char *m = s->q[s->head] + s->off;
		size_t left = strlen(m), k = left < len ? left : len;

		memcpy(buf, m, k);
		s->off += k;
		if (k == left) {
			free(s->q[s->head]);
			s->head = (s->head + 1) % EVENT_QUEUE_MAX;
			s->n--;
			s->off = 0;
		}
		r = (ssize_t)k;
	} else if (shut) {
		r = -ESHUTDOWN;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

bool api_event_is_stream(const char *method, const char *url, int status)
{
	return status == 200 && !strcmp(method, "GET") && !strcmp(url, API_PREFIX "/events");
}

/* ---- VM states ---- */

static struct vm_seen *seen_find(const char *name)
{
	for (size_t i = 0; i < nseen; i++)
		if (!strcmp(seen[i].name, name))
			return &seen[i];
	return NULL;
}

/* Records VM @name's state; true when it changed. Under seen_lock. */
static bool seen_set(const char *name, pid_t pid)
{
	struct vm_seen *v = seen_find(name);

	if (!v) {
		struct vm_seen *p;

		if (!pid)
			return false;   /* never seen running: nothing to say */
		p = realloc(seen, (nseen + 1) * sizeof(*seen));
		if (!p)
			return false;
		seen = p;
		v = &seen[nseen];
		v->name = strdup(name);
		if (!v->name)
			return false;
		v->pid = 0;
		nseen++;
	}
	if ((v->pid != 0) == (pid != 0))
		return false;
	v->pid = pid;
	return true;
}

static void vm_event(const char *name, pid_t pid)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "name", json_object_new_string(name));
	json_object_object_add(j, "state", json_object_new_string(pid ? "running" : "stopped"));
	json_object_object_add(j, "pid", json_object_new_int(pid));
	api_event_emit("vm.state", j);
}

void api_event_vm_state(const char *name, bool running, pid_t pid)
{
	bool changed;

	if (running && pid <= 0)
		pid = vmrec_pid(name);
	if (running && pid <= 0)
		return;
	pthread_mutex_lock(&seen_lock);
	changed = seen_set(name, running ? pid : 0);
	/* emitted under seen_lock: the watcher's events cannot overtake */
	if (changed)
		vm_event(name, running ? pid : 0);
	pthread_mutex_unlock(&seen_lock);
}

/* One look at the run directory; @quiet: only learn (the first look). */
static void watch_once(bool quiet)
{
	const char *dir = vmrec_run_dir();
	struct dirent *de;
	DIR *d = opendir(dir);
	static const char suffix[] = ".vm.pid";

	pthread_mutex_lock(&seen_lock);
	/* every known VM that runs: still? */
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].pid && !vmrec_pid(seen[i].name)) {
			seen[i].pid = 0;
			if (!quiet)
				vm_event(seen[i].name, 0);
		}
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char name[256];
		pid_t pid;

		if (n <= sizeof(suffix) - 1 || n - (sizeof(suffix) - 1) >= sizeof(name) ||
		    strcmp(de->d_name + n - (sizeof(suffix) - 1), suffix))
			continue;
		memcpy(name, de->d_name, n - (sizeof(suffix) - 1));
		name[n - (sizeof(suffix) - 1)] = '\0';
		pid = vmrec_pid(name);
		if (pid && seen_set(name, pid) && !quiet)
			vm_event(name, pid);
	}
	pthread_mutex_unlock(&seen_lock);
	if (d)
		closedir(d);
}

static void *watch_thread(void *opaque)
{
	struct timespec until;

	pthread_mutex_lock(&watch_lock);
	while (!watch_stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)EVENT_WATCH_MS * 1000000;
		until.tv_sec += until.tv_nsec / 1000000000;
		until.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&watch_wake, &watch_lock, &until);
		if (watch_stop)
			break;
		pthread_mutex_unlock(&watch_lock);
		watch_once(false);
		pthread_mutex_lock(&watch_lock);
	}
	pthread_mutex_unlock(&watch_lock);
	return NULL;
}

int api_event_init(void)
{
	int r;

	watch_once(true);
	r = -pthread_create(&watcher, NULL, watch_thread, NULL);
	watching = !r;
	return r;
}

void api_event_fini(void)
{
	if (watching) {
		pthread_mutex_lock(&watch_lock);
		watch_stop = true;
		pthread_cond_signal(&watch_wake);
		pthread_mutex_unlock(&watch_lock);
		pthread_join(watcher, NULL);
		watching = false;
	}
	pthread_mutex_lock(&lock);
	shut = true;
	pthread_cond_broadcast(&more);
	pthread_mutex_unlock(&lock);
}
