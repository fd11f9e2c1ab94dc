/* appliance/task.c: tasks on threads of their own, recorded in
 * STATE/tasks.db (appliance/task.h). */
#include "appliance/task.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "appliance/event.h"

#define ERR_MAX 512

struct task {
	char id[TASK_ID_LEN + 1];
	char *kind, *target, *who;
	char state[12];
	unsigned percent;
	uint64_t bytes;
	atomic_bool cancel;
	bool resumable;
	char error[ERR_MAX];
	json_object *result;
	int64_t created, started, finished;
	struct timespec last_write;
	task_fn fn;
	void *arg;
	void (*arg_free)(void *arg);
	struct task *next;
};

/* lock guards the list of active tasks, every field of theirs but
 * cancel, and the database connection. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended = PTHREAD_COND_INITIALIZER;
static struct task *active;
static unsigned nactive;
static sqlite3 *db;
static bool stopping;

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int exec(const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int task_init(const char *state_dir)
{
	char path[4200], sql[400];
	int fd;

	snprintf(path, sizeof(path), "%s/tasks.db", state_dir);
	/* made 0600 before SQLite opens it, whatever the umask */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	snprintf(sql, sizeof(sql),
		 "UPDATE tasks SET state = 'failed', finished = %lld, error = "
		 "'interrupted: the daemon stopped while the task ran' || "
		 "CASE resumable WHEN 1 THEN ' (resumable)' ELSE '' END "
		 "WHERE state IN ('queued', 'running');", (long long)now_s());
	if (exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;") ||
	    exec("CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
		 "target TEXT NOT NULL, who TEXT NOT NULL, state TEXT NOT NULL, "
		 "percent INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, "
		 "error TEXT, result TEXT, args TEXT, resumable INTEGER NOT NULL DEFAULT 0, "
		 "created INTEGER NOT NULL, started INTEGER, finished INTEGER);") ||
	    exec(sql) ||
	    exec("DELETE FROM tasks WHERE state NOT IN ('queued', 'running') AND rowid NOT IN "
		 "(SELECT rowid FROM tasks ORDER BY created DESC, rowid DESC LIMIT 1000);")) {
		sqlite3_close(db);
		db = NULL;
		return -EIO;
	}
	return 0;
}

/* The task's row from its fields. Under lock. */
static void row_write(struct task *t, bool insert, const json_object *args)
{
	sqlite3_stmt *st;
	const char *sql = insert ?
		"INSERT INTO tasks (kind, target, who, state, percent, bytes, error, result, "
		"resumable, created, started, finished, args, id) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)" :
		"UPDATE tasks SET kind = ?1, target = ?2, who = ?3, state = ?4, percent = ?5, "
		"bytes = ?6, error = ?7, result = ?8, resumable = ?9, created = ?10, "
		"started = ?11, finished = ?12 WHERE id = ?14";

	if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, t->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, (int)t->percent);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)t->bytes);
	if (t->error[0])
		sqlite3_bind_text(st, 7, t->error, -1, SQLITE_STATIC);
	if (t->result)
		sqlite3_bind_text(st, 8, json_object_to_json_string_ext(t->result,
				  JSON_C_TO_STRING_PLAIN), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 9, t->resumable);
	sqlite3_bind_int64(st, 10, t->created);
	if (t->started)
		sqlite3_bind_int64(st, 11, t->started);
	if (t->finished)
		sqlite3_bind_int64(st, 12, t->finished);
	if (args)
		sqlite3_bind_text(st, 13, json_object_to_json_string_ext((json_object *)args,
				  JSON_C_TO_STRING_PLAIN), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 14, t->id, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	clock_gettime(CLOCK_MONOTONIC, &t->last_write);
}

static json_object *str_or_null(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

static json_object *time_or_null(int64_t t)
{
	return t ? json_object_new_int64(t) : NULL;
}

static json_object *copy_of(json_object *o)
{
	json_object *c = NULL;

	if (o && json_object_deep_copy(o, &c, NULL))
		c = NULL;
	return c;
}

/* The task's JSON. Under lock. */
static json_object *task_json(const struct task *t)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "id", json_object_new_string(t->id));
	json_object_object_add(j, "kind", json_object_new_string(t->kind));
	json_object_object_add(j, "target", json_object_new_string(t->target));
	json_object_object_add(j, "who", json_object_new_string(t->who));
	json_object_object_add(j, "state", json_object_new_string(t->state));
	json_object_object_add(j, "percent", json_object_new_int((int)t->percent));
	json_object_object_add(j, "bytes", json_object_new_int64((int64_t)t->bytes));
	json_object_object_add(j, "cancel", json_object_new_boolean(atomic_load(&t->cancel)));
	json_object_object_add(j, "error", str_or_null(t->error));
	/* a copy: the reply is serialized on another thread than the task's */
	json_object_object_add(j, "result", copy_of(t->result));
	json_object_object_add(j, "resumable", json_object_new_boolean(t->resumable));
	json_object_object_add(j, "created", json_object_new_int64(t->created));
	json_object_object_add(j, "started", time_or_null(t->started));
	json_object_object_add(j, "finished", time_or_null(t->finished));
	return j;
}

/* Records the change and tells the event stream. Under lock. */
static void changed(struct task *t, bool insert, const json_object *args)
{
	row_write(t, insert, args);
	api_event_emit("task", task_json(t));
}

static void task_free(struct task *t)
{
	if (t->arg_free)
		t->arg_free(t->arg);
	json_object_put(t->result);
	free(t->kind);
	free(t->target);
	free(t->who);
	free(t);
}

static void *task_thread(void *opaque)
{
	struct task *t = opaque, **pp;
	int r;

	pthread_mutex_lock(&lock);
	if (atomic_load(&t->cancel)) {
		r = -ECANCELED;
	} else {
		snprintf(t->state, sizeof(t->state), "running");
		t->started = now_s();
		changed(t, false, NULL);
		pthread_mutex_unlock(&lock);
		r = t->fn(t, t->arg);
		pthread_mutex_lock(&lock);
	}
	if (r == -ECANCELED) {
		snprintf(t->state, sizeof(t->state), "cancelled");
	} else if (r) {
		snprintf(t->state, sizeof(t->state), "failed");
		if (!t->error[0])
			snprintf(t->error, sizeof(t->error), "%s", strerror(-r));
	} else {
		snprintf(t->state, sizeof(t->state), "done");
		t->percent = 100;
	}
	t->finished = now_s();
	changed(t, false, NULL);
	for (pp = &active; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	nactive--;
	pthread_cond_broadcast(&ended);
	pthread_mutex_unlock(&lock);
	task_free(t);
	return NULL;
}

int task_submit(const char *kind, const char *target, const char *who, bool resumable,
		json_object *args, task_fn fn, void *arg, void (*arg_free)(void *arg),
		char id[TASK_ID_LEN + 1])
{
	struct task *t = calloc(1, sizeof(*t));
	unsigned char rnd[TASK_ID_LEN / 2];
	pthread_attr_t attr;
	pthread_t th;
	int r = 0;

	if (!t) {
		if (arg_free)
			arg_free(arg);
		return -ENOMEM;
	}
	t->fn = fn;
	t->arg = arg;
	t->arg_free = arg_free;
	t->kind = strdup(kind);
	t->target = strdup(target);
	t->who = strdup(who ? who : "-");
	t->resumable = resumable;
	t->created = now_s();
	snprintf(t->state, sizeof(t->state), "queued");
	if (!t->kind || !t->target || !t->who) {
		task_free(t);
		return -ENOMEM;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		task_free(t);
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(t->id + 2 * i, 3, "%02x", rnd[i]);
	pthread_mutex_lock(&lock);
	if (stopping || !db)
		r = -ESHUTDOWN;
	else if (nactive >= TASK_ACTIVE_MAX)
		r = -EAGAIN;
	for (struct task *o = active; !r && o; o = o->next)
		if (!strcmp(o->target, target))
			r = -EBUSY;
	if (!r) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		changed(t, true, args);
		t->next = active;
		active = t;
		nactive++;
		memcpy(id, t->id, TASK_ID_LEN + 1);
		r = -pthread_create(&th, &attr, task_thread, t);
		pthread_attr_destroy(&attr);
		if (r) {
			active = t->next;
			nactive--;
			snprintf(t->state, sizeof(t->state), "failed");
			snprintf(t->error, sizeof(t->error), "cannot start a thread: %s",
				 strerror(-r));
			t->finished = now_s();
			changed(t, false, NULL);
		}
	}
	pthread_mutex_unlock(&lock);
	if (r)
		task_free(t);
	return r;
}

void task_progress(struct task *t, unsigned percent, uint64_t bytes)
{
	struct timespec now;
	bool write;

	if (percent > 100)
		percent = 100;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&lock);
	write = percent != t->percent ||
		(bytes != t->bytes && now.tv_sec > t->last_write.tv_sec);
	t->percent = percent;
	t->bytes = bytes;
	if (write)
		changed(t, false, NULL);
	pthread_mutex_unlock(&lock);
}

bool task_cancelled(const struct task *t)
{
	return atomic_load(&t->cancel);
}

void task_result(struct task *t, json_object *result)
{
	pthread_mutex_lock(&lock);
	json_object_put(t->result);
	t->result = result;
	pthread_mutex_unlock(&lock);
}

void task_error(struct task *t, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&lock);
}

static struct task *find(const char *id)
{
	for (struct task *t = active; t; t = t->next)
		if (!strcmp(t->id, id))
			return t;
	return NULL;
}

/* A row of SELECT COLS as JSON. */
#define COLS "id, kind, target, who, state, percent, bytes, error, result, resumable, " \
	     "created, started, finished"

static json_object *col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL :
	       json_object_new_int64(sqlite3_column_int64(st, i));
}

static json_object *row_json(sqlite3_stmt *st)
{
	json_object *j = json_object_new_object();
	const char *res = (const char *)sqlite3_column_text(st, 8);
	static const char *const names[] = { "id", "kind", "target", "who", "state" };

	for (int i = 0; i < 5; i++)
		json_object_object_add(j, names[i], json_object_new_string(
			(const char *)sqlite3_column_text(st, i) ?: ""));
	json_object_object_add(j, "percent", json_object_new_int(sqlite3_column_int(st, 5)));
	json_object_object_add(j, "bytes", json_object_new_int64(sqlite3_column_int64(st, 6)));
	json_object_object_add(j, "cancel", json_object_new_boolean(false));
	json_object_object_add(j, "error",
			       str_or_null((const char *)sqlite3_column_text(st, 7)));
	json_object_object_add(j, "result", res ? json_tokener_parse(res) : NULL);
	json_object_object_add(j, "resumable",
			       json_object_new_boolean(sqlite3_column_int(st, 9)));
	json_object_object_add(j, "created", col_time(st, 10));
	json_object_object_add(j, "started", col_time(st, 11));
	json_object_object_add(j, "finished", col_time(st, 12));
	return j;
}

int task_get_json(const char *id, json_object **out)
{
	sqlite3_stmt *st;
	struct task *t;
	int r = -ENOENT;

	pthread_mutex_lock(&lock);
	t = find(id);
	if (t) {
		*out = task_json(t);
		r = 0;
	} else if (!db || sqlite3_prepare_v2(db, "SELECT " COLS " FROM tasks WHERE id = ?1", -1,
					     &st, NULL) != SQLITE_OK) {
		r = -EIO;
	} else {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*out = row_json(st);
			r = 0;
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&lock);
	return r;
}

json_object *task_list_json(void)
{
	json_object *arr;
	sqlite3_stmt *st;

	pthread_mutex_lock(&lock);
	if (!db || sqlite3_prepare_v2(db, "SELECT " COLS " FROM tasks ORDER BY created DESC, "
				      "rowid DESC LIMIT ?1", -1, &st, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	sqlite3_bind_int(st, 1, TASK_LIST_MAX);
	arr = json_object_new_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		struct task *t = id ? find(id) : NULL;

		/* a running task's freshest figures are its own */
		json_object_array_add(arr, t ? task_json(t) : row_json(st));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&lock);
	return arr;
}

int task_cancel(const char *id)
{
	json_object *j = NULL;
	struct task *t;
	int r;

	pthread_mutex_lock(&lock);
	t = find(id);
	if (t) {
		atomic_store(&t->cancel, true);
		api_event_emit("task", task_json(t));
	}
	pthread_mutex_unlock(&lock);
	if (t)
		return 0;
	r = task_get_json(id, &j);
	json_object_put(j);
	return r ? r : -EALREADY;
}

void task_fini(unsigned wait_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lock);
	stopping = true;
	for (struct task *t = active; t; t = t->next)
		atomic_store(&t->cancel, true);
	while (nactive && !pthread_cond_timedwait(&ended, &lock, &until))
		;
	/* tasks still running keep the database: their rows stay "running"
	 * and the next start marks them interrupted */
	if (!nactive && db) {
		sqlite3_close(db);
		db = NULL;
	}
	pthread_mutex_unlock(&lock);
}
